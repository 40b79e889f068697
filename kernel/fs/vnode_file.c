/*
 * vnode_file.c - open files of the VFS: regular files through the page
 * cache (CONCEPTS E23), directories, symlinks opened O_PATH; and stat.
 *
 * read() and write() copy between the user's buffer and the pages of the
 * file's page-cache object (vn->obj): the same frames every mapping of the
 * file maps, so a write() is seen at once through MAP_SHARED mappings and
 * through private ones that have not copied the page. A page the file
 * never had reads as zeroes without being allocated; a page of a file
 * copied from the initramfs that nobody touched yet is read straight from
 * the archive.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <machine/abi_stat.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <vm/hugetlb.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_space.h>

#define O_ACCMODE       3
#define O_WRONLY        1
#define O_RDWR          2
#define O_CREAT         0100
#define O_EXCL          0200
#define O_NOCTTY        0400
#define O_TRUNC         01000
#define O_LARGEFILE     0100000
#define O_APPEND        02000
#define O_PATH          010000000

#define F_SEAL_SEAL     0x1
#define F_SEAL_SHRINK   0x2
#define F_SEAL_GROW     0x4
#define F_SEAL_WRITE    0x8

/*
 * Page contents are reached through pmap_quick_enter_page(), whose holder
 * may not fault: user memory goes through a bounce buffer, and the copy
 * to or from the page happens with no user access in between. A read of
 * a page with a lasting kernel address (pmm_page_in_kmem: all of RAM on
 * 64-bit machines) copies straight to the user instead, one copy instead
 * of two. A fault on the user's buffer meanwhile may reclaim clean cache
 * pages (vm_reclaim.h): the page being read is PG_PINNED for the copy, so
 * reclaim passes it by (truncate, unlink and exit, the other ways a cache
 * page goes, never run inside a fault). Writes keep the bounce: a fault
 * half-way through the user's buffer must leave the page as it was.
 *
 * A page without a lasting address (i386's HIGHMEM) skips the bounce too
 * when the user's buffer cannot fault: every page of it is mapped in the
 * caller's tables with the access the copy needs (user_copy_cannot_fault).
 * Nothing runs between that look and the copy, so a read or a write of a
 * high page costs one copy, as Linux's copy under kmap_local does.
 */
#define BOUNCE  PAGE_SIZE

/*
 * The bounce buffer: one, static. One CPU and a kernel that is not
 * preempted, and nothing between filling it and draining it sleeps (a
 * fault on the user's buffer may allocate a page but never waits), so one
 * buffer serves every read and write without a kmalloc per call. With
 * more CPUs this becomes per-CPU.
 */
static uint8_t bounce_page[BOUNCE] __attribute__((aligned(64)));

/*
 * Would a user copy of [uaddr, uaddr + n) run without a fault? Only if
 * every page of it is mapped in the caller's tables allowing `prot`
 * (a copy-on-write page mapped read-only, an absent page: no).
 */
static bool user_copy_cannot_fault(uint64_t uaddr, size_t n, vm_prot_t prot)
{
        struct pmap *pm = vm_space_pmap(current->space);
        vaddr_t va = (uintptr_t)uaddr, end;
        vm_prot_t got;

        if (!user_range_ok(va, n))
                return false;
        for (end = va + n, va = page_trunc(va); va < end; va += PAGE_SIZE)
                if (!pmap_extract(pm, va, NULL, &got, NULL) ||
                    (got & prot) != prot)
                        return false;
        return true;
}

static long page_out(struct vm_page *pg, size_t in, uint64_t dst, size_t n,
                     bool user, uint8_t *bounce)
{
        if (user && pmm_page_in_kmem(pg)) {
                const uint8_t *k = pmap_kmem_va(pmm_page_to_pa(pg));
                long err;

                /* The copy may fault, and the fault reclaim (vm_reclaim.h):
                 * the page stays until the copy is done. */
                pg->flags |= PG_PINNED;
                err = copy_to_user(dst, k + in, n) ? -EFAULT : 0;
                pg->flags &= ~PG_PINNED;
                return err;
        }
        uint8_t *p;
        long err = 0;

        if (user && !user_copy_cannot_fault(dst, n, VM_PROT_WRITE)) {
                p = pmap_quick_enter_page(pmm_page_to_pa(pg));
                memcpy(bounce, p + in, n);
                pmap_quick_remove_page(p);
                return copy_to_user(dst, bounce, n) ? -EFAULT : 0;
        }
        p = pmap_quick_enter_page(pmm_page_to_pa(pg));
        if (user)
                err = copy_to_user(dst, p + in, n) ? -EFAULT : 0;
        else
                memcpy((uint8_t *)dst, p + in, n);
        pmap_quick_remove_page(p);
        return err;
}

static long page_in(struct vm_page *pg, size_t in, uint64_t src, size_t n,
                    bool user, uint8_t *bounce)
{
        bool direct = !user || user_copy_cannot_fault(src, n, VM_PROT_READ);
        uint8_t *p;
        long err = 0;

        if (!direct && copy_from_user(bounce, src, n))
                return -EFAULT;
        p = pmap_quick_enter_page(pmm_page_to_pa(pg));
        if (!user)
                memcpy(p + in, (const uint8_t *)src, n);
        else if (direct)
                err = copy_from_user(p + in, src, n) ? -EFAULT : 0;
        else
                memcpy(p + in, bounce, n);
        pmap_quick_remove_page(p);
        return err;
}

static long copy_out(uint64_t dst, const void *src, size_t n, bool user)
{
        if (user)
                return copy_to_user(dst, src, n) ? -EFAULT : 0;
        memcpy((void *)dst, src, n);
        return 0;
}

static long zero_out(uint64_t dst, size_t n, bool user)
{
        if (user)
                return clear_user(dst, n) ? -EFAULT : 0;
        memset((void *)dst, 0, n);
        return 0;
}

/*
 * Below the min watermark, reclaim before taking a frame (a page read
 * back from swap, a new page), as a fault does - only for a call
 * straight from a system call (`user`), which holds no page: a kernel
 * caller (a loop device, swap itself, a disk file system filling a
 * page) may hold one that reclaim must not see go.
 */
static void reclaim_if(bool user)
{
        if (user)
                vm_reclaim_direct();
}

long vnode_read(struct vnode *vn, uint64_t off, uint64_t buf, size_t len,
                bool user)
{
        struct vm_object *obj = vn->obj;
        uint8_t *bounce = NULL;
        size_t done = 0;

        if (!obj)
                return -EINVAL;
        if (off >= vn->size)
                return 0;
        len = MIN(len, vn->size - off);
        if (user)
                bounce = bounce_page;
        while (done < len) {
                uint64_t pos = off + done, idx = pos >> PAGE_SHIFT;
                size_t in = pos & PAGE_MASK, n = MIN(PAGE_SIZE - in, len - done);
                struct vm_page *pg = vm_object_lookup(obj, idx);
                long err;

                if (!pg && obj->pager_ops) {    /* a disk file: read it in */
                        if (vm_object_get_page(obj, idx, &pg) != VM_OK)
                                return done ? (long)done : -EIO;
                }
                if (!pg && vm_object_swap_entry(obj, idx)) {    /* on swap */
                        vm_status_t st;

                        reclaim_if(user);
                        /* A system call may wait for memory: the OOM
                         * killer makes room (proc/oom.h). */
                        while ((st = vm_object_get_page(obj, idx, &pg)) ==
                               VM_ENOMEM && user && oom_alloc_retry())
                                ;
                        if (st != VM_OK)
                                return done ? (long)done
                                     : st == VM_ENOMEM ? -ENOMEM : -EIO;
                }
                if (pg)
                        err = page_out(pg, in, buf + done, n, user, bounce);
                else if (pos < obj->src_bytes)  /* untouched archive bytes */
                        err = copy_out(buf + done, obj->data + pos,
                                       MIN(n, obj->src_bytes - pos), user) ?:
                              (pos + n > obj->src_bytes
                               ? zero_out(buf + done + (obj->src_bytes - pos),
                                          pos + n - obj->src_bytes, user)
                               : 0);
                else
                        err = zero_out(buf + done, n, user);
                if (err)
                        return done ? (long)done : err;
                done += n;
        }
        return (long)done;
}

/* A file of huge pages: sizes in whole huge pages (EINVAL otherwise); every
 * page past the new end goes back to the pool, also when the size grows or
 * stays, as Linux's hugetlb_vmtruncate: fallocate(KEEP_SIZE) leaves pages
 * past the end. */
static long set_size_hugetlb(struct vnode *vn, uint64_t size)
{
        uint64_t huge = pmap_huge_size();

        if (size & (huge - 1))
                return -EINVAL;
        vm_spaces_unmap_object(vn->obj, size >> PAGE_SHIFT, vn->obj->size, true);
        (void)vm_object_free_range(vn->obj, size >> PAGE_SHIFT, vn->obj->size);
        vn->size = size;
        return 0;
}

/* Set vn's size: unmap and free what lies past a smaller end. */
static long set_size(struct vnode *vn, uint64_t size)
{
        struct vm_object *obj = vn->obj;
        uint64_t old = vn->size;

        if (obj->hugetlb)
                return set_size_hugetlb(vn, size);

        if (size < old)
                vm_spaces_unmap_object(obj, page_round(size) >> PAGE_SHIFT,
                                       page_round(old) >> PAGE_SHIFT, true);
        /* A disk file growing past a page the old end cut: that page's
         * translations go, so that a write through a mapping to the bytes
         * now inside faults and finds their blocks first (Linux's
         * pagecache_isize_extended; LTP mmap16: SIGBUS on a full disk,
         * not bytes lost at write-back). */
        if (size > old && (old & (PAGE_SIZE - 1)) && obj->pager_ops)
                vm_spaces_unmap_object(obj, old >> PAGE_SHIFT,
                                       (old >> PAGE_SHIFT) + 1, false);
        if (vm_object_resize(obj, size) != VM_OK)
                return size > VM_FILE_CACHE_MAX_BYTES ? -EFBIG : -ENOMEM;
        vn->size = size;
        /* A disk file system frees the blocks past the end now, so that
         * growing again reads zeroes, not what the disk held. */
        return vn->ops->setsize ? vn->ops->setsize(vn, size) : 0;
}

long vnode_truncate(struct vnode *vn, uint64_t size)
{
        long err;

        if (!vn->obj)
                return -EINVAL;
        if (size > VM_FILE_CACHE_MAX_BYTES)
                return -EFBIG;
        if ((size < vn->size && (vn->seals & F_SEAL_SHRINK)) ||
            (size > vn->size && (vn->seals & F_SEAL_GROW)))
                return -EPERM;
        if (size == vn->size && !vn->obj->hugetlb)
                err = 0;
        else
                err = set_size(vn, size);
        if (!err)
                vn->mtime = vn->ctime = vfs_now();
        return err;
}

long vnode_write(struct vnode *vn, uint64_t off, uint64_t buf, size_t len,
                 bool user)
{
        struct vm_object *obj = vn->obj;
        uint64_t old_size = vn->size;
        uint8_t *bounce = NULL;
        size_t done = 0;
        long err = 0;

        if (!obj || obj->hugetlb)       /* Linux 6.1's hugetlbfs: EINVAL */
                return -EINVAL;
        if (vn->seals & F_SEAL_WRITE)
                return -EPERM;
        if (len == 0)
                return 0;
        if (off >= VM_FILE_CACHE_MAX_BYTES)
                return -EFBIG;
        if (user)
                bounce = bounce_page;
        len = MIN(len, VM_FILE_CACHE_MAX_BYTES - off);
        if (off + len > old_size) {
                if (vn->seals & F_SEAL_GROW)
                        return -EPERM;
                vm_status_t st;

                while ((st = vm_object_resize(obj, off + len)) != VM_OK &&
                       user && oom_alloc_retry())
                        ;
                if (st != VM_OK)
                        return -ENOMEM;
        }
        while (done < len) {
                uint64_t pos = off + done, idx = pos >> PAGE_SHIFT;
                size_t in = pos & PAGE_MASK, n = MIN(PAGE_SIZE - in, len - done);
                struct vm_page *pg = vm_object_lookup(obj, idx);

                if (!pg) {      /* the mount's quota may refuse it */
                        vm_status_t st;

                        reclaim_if(user);
                        /* A system call may wait for memory (the OOM
                         * killer, proc/oom.h); the quota may not. */
                        while ((st = vm_object_get_page(obj, idx, &pg)) ==
                               VM_ENOMEM && user && oom_alloc_retry())
                                ;
                        if (st != VM_OK) {
                                err = st == VM_ENOSPC ? -ENOSPC : -ENOMEM;
                                break;
                        }
                }
                /* A disk file system finds room for these bytes first
                 * (the page is resident: a new block's old contents are
                 * never read into it). */
                if (vn->ops->prepare_write &&
                    (err = vn->ops->prepare_write(vn, pos, n)) != 0)
                        break;
                /* Written now: never dropped as clean (vm_rmap.h), even
                 * by reclaim while copy_from_user faults. */
                pg->flags |= PG_DIRTY;
                /* The copy from the user may fault and reclaim: the page
                 * must not go to swap under it. */
                pg->flags |= PG_PINNED;
                err = page_in(pg, in, buf + done, n, user, bounce);
                pg->flags &= ~PG_PINNED;
                if (err)
                        break;
                done += n;
        }
        uint64_t end = MAX(old_size, off + done);
        if (end != obj->bytes)
                (void)vm_object_resize(obj, end);       /* shrinks: no fail */
        vn->size = end;
        if (done) {
                vn->mtime = vn->ctime = vfs_now();
                /* Linux's file_remove_privs: not for CAP_FSETID. */
                if (!current_capable(CAP_FSETID))
                        vn->mode &= ~(uint32_t)(S_ISUID |
                                                (vn->mode & 010 ? S_ISGID : 0));
        }
        return done ? (long)done : err;
}

/* ---- the open file -------------------------------------------------- */

static struct vnode *fvn(const struct file *f)
{
        return (struct vnode *)f->node;
}

static bool ts_le(struct vfs_timespec a, struct vfs_timespec b)
{
        return a.sec < b.sec || (a.sec == b.sec && a.nsec <= b.nsec);
}

static long vfile_read(struct file *f, uint64_t ubuf, size_t len)
{
        struct vnode *vn = fvn(f);
        long n;

        if (S_ISDIR(vn->mode))
                return -EISDIR;
        n = vnode_read(vn, f->offset, ubuf, len, true);
        if (n > 0) {
                f->offset += (uint64_t)n;
                /* relatime: atime moves when it is not newer than the
                 * last change (Linux's default also moves a day-old one). */
                if (!(f->flags & 01000000) &&           /* O_NOATIME */
                    (ts_le(vn->atime, vn->mtime) || ts_le(vn->atime, vn->ctime)))
                        vn->atime = vfs_now();
        }
        return n;
}

static long vfile_write(struct file *f, uint64_t ubuf, size_t len)
{
        struct vnode *vn = fvn(f);
        long n;

        if (f->flags & O_APPEND)
                f->offset = vn->size;
        n = vnode_write(vn, f->offset, ubuf, len, true);
        if (n > 0)
                f->offset += (uint64_t)n;
        return n;
}

static void vfile_stat(struct file *f, void *st)
{
        vnode_stat(fvn(f), st);
}

static void vfile_release(struct file *f)
{
        struct vnode *vn = fvn(f);

        if ((f->flags & O_ACCMODE) != 0 && !(f->flags & O_PATH) && vn->writers)
                vn->writers--;
        vnode_put(vn);
}

static const struct file_ops vfile_ops = {
        .read = vfile_read, .write = vfile_write, .stat = vfile_stat,
        .release = vfile_release, .seekable = true,
};

static long path_read(struct file *f, uint64_t ubuf, size_t len)
{
        return -EBADF;
}

static const struct file_ops vpath_ops = {
        .read = path_read, .write = path_read, .stat = vfile_stat,
        .release = vfile_release,
};

struct vnode *file_vnode(const struct file *f)
{
        if (f->ops == &vfile_ops || f->ops == &vpath_ops)
                return fvn(f);
        return f->vnode;
}

long device_open(struct vnode *vn, unsigned flags, struct file **out);
long fifo_open(struct vnode *vn, unsigned flags, struct file **out);

long vnode_open(struct vnode *vn, unsigned flags, struct file **out)
{
        struct file *f;
        long err;

        /* What F_GETFL shows: no creation flags, and O_LARGEFILE, which
         * 64-bit Linux forces on. */
        flags = (flags & ~(unsigned)(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) |
                O_LARGEFILE;

        if (!(flags & O_PATH)) {
                if (vn->ops->open && !S_ISDIR(vn->mode)) {
                        err = vn->ops->open(vn, flags, out);
                        if (!err && !(*out)->vnode)
                                (*out)->vnode = vnode_get(vn);
                        return err;
                }
                if (S_ISCHR(vn->mode) || S_ISBLK(vn->mode))
                        return device_open(vn, flags, out);
                if (S_ISFIFO(vn->mode))
                        return fifo_open(vn, flags, out);
                if (S_ISSOCK(vn->mode))
                        return -ENXIO;
                if ((flags & O_ACCMODE) != 0 && vn->running)
                        return -ETXTBSY;
        }
        if (!(f = kzalloc(sizeof *f)))
                return -ENOMEM;
        f->ops = (flags & O_PATH) ? &vpath_ops : &vfile_ops;
        f->refs = 1;
        f->flags = flags;
        f->node = vnode_get(vn);
        f->dir = S_ISDIR(vn->mode);
        if (!(flags & O_PATH) && (flags & O_ACCMODE) != 0)
                vn->writers++;
        *out = f;
        return 0;
}

void vnode_stat(struct vnode *vn, void *out)
{
        struct linux_stat *st = out;

        if (vn->ops->getattr)
                vn->ops->getattr(vn);
        memset(st, 0, sizeof *st);
        st->st_dev = vn->sb->dev;
        st->st_ino = vn->ino;
        st->st_nlink = vn->nlink;
        st->st_mode = vn->mode;
        st->st_uid = vn->uid;
        st->st_gid = vn->gid;
        st->st_rdev = vn->rdev;
        st->st_size = (int64_t)vn->size;
        st->st_blksize = PAGE_SIZE;
        if (vn->ops->disk_blocks)
                st->st_blocks = (int64_t)vn->ops->disk_blocks(vn);
        else if (vn->obj)
                st->st_blocks = (int64_t)MAX(vn->obj->npages +
                                             vn->obj->nswapped,
                        page_round(vn->obj->src_bytes) >> PAGE_SHIFT) *
                        (PAGE_SIZE / 512);
        st->st_atime = vn->atime.sec;
        st->st_atime_nsec = vn->atime.nsec;
        st->st_mtime = vn->mtime.sec;
        st->st_mtime_nsec = vn->mtime.nsec;
        st->st_ctime = vn->ctime.sec;
        st->st_ctime_nsec = vn->ctime.nsec;
}
