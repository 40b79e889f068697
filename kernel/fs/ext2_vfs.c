/*
 * ext2_vfs.c - ext2 as a file system of the VFS (fs/ext2.h has the disk
 * side): vnodes over on-disk inodes, and regular files whose data lives
 * in their page-cache object like tmpfs's (read, write and every mmap
 * see the same pages), filled from the disk when a page is first needed
 * and written back to it.
 *
 * The vnode is the truth for what the VFS changes (mode, owners, link
 * count, size, times); the on-disk inode is brought up to date from it
 * before each write of the inode. A vnode stays in this mount's inode
 * cache (which holds a reference) so that there is one vnode, and one
 * page cache, per inode while any open file or mapping uses it; an entry
 * nobody else holds is written back and dropped when the cache grows,
 * at sync and at unmount. An inode whose last name went is freed on the
 * disk when its vnode is dropped (an unlinked file lives while open or
 * mapped, as on Linux).
 *
 * Writing: write() finds disk blocks for what it writes before copying
 * (ENOSPC there, as Linux's ext2), the page is marked dirty and written
 * back by fsync/fdatasync/syncfs/sync, msync(MS_SYNC), unmount and when
 * the vnode is dropped; pages dirtied through a shared mapping get their
 * blocks at write-back (ENOSPC is then fsync's or msync's answer).
 * Metadata (inodes, directories, bitmaps) is written as it changes.
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <fs/blockdev.h>
#include <fs/ext2.h>
#include <fs/vfs.h>
#include <proc/cred.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>

#define EXT2_LINK_MAX   32000
#define FALLOC_FL_KEEP_SIZE     0x01    /* Linux's ABI */
#define FALLOC_FL_PUNCH_HOLE    0x02
#define CACHE_SOFT_MAX  128             /* idle vnodes kept before dropping */

struct e2node {
        struct ext2_inode in;
        struct vnode     *vn;
        struct e2node    *next;
};

struct e2sb {
        struct ext2_fs  *fs;
        struct blkdev   *disk;
        struct e2node   *nodes;
        unsigned         count;
};

struct mount *vfs_mounts(void);         /* fs/vfs.c: newest first */

static const struct vnode_ops e2_ops;
static const struct vm_pager_ops e2_pager;
static long e2_prepare_write(struct vnode *vn, uint64_t off, uint64_t len);

static struct e2sb *E(const struct vfs_sb *sb)
{
        return sb->priv;
}

static struct e2node *N(const struct vnode *vn)
{
        return vn->priv;
}

static struct ext2_fs *FS(const struct vnode *vn)
{
        return E(vn->sb)->fs;
}

static uint32_t now(void)
{
        return (uint32_t)vfs_now().sec;
}

static long disk_io(void *dev, bool write, uint64_t off, void *buf, size_t len)
{
        return blockdev_rw_bytes(dev, write, off, buf, len);
}

/* The disk inode brought up to date from the vnode. */
static struct ext2_inode *pull(struct vnode *vn)
{
        struct ext2_inode *in = &N(vn)->in;

        in->mode = (uint16_t)vn->mode;
        in->uid = vn->uid;
        in->gid = vn->gid;
        in->links = (uint16_t)vn->nlink;
        in->atime = (uint32_t)vn->atime.sec;
        in->mtime = (uint32_t)vn->mtime.sec;
        in->ctime = (uint32_t)vn->ctime.sec;
        if (!S_ISDIR(vn->mode) && !S_ISLNK(vn->mode))
                in->size = vn->size;
        if (S_ISCHR(vn->mode) || S_ISBLK(vn->mode)) {
                /* Linux's two encodings: old (8+8 bits) in block[0],
                 * else the new one in block[1]. */
                uint32_t ma = (uint32_t)(vn->rdev >> 8) & 0xfff;
                uint32_t mi = (uint32_t)(vn->rdev & 0xff) |
                              (uint32_t)((vn->rdev >> 12) & 0xfff00);
                if (ma < 256 && mi < 256) {
                        in->block[0] = ma << 8 | mi;
                        in->block[1] = 0;
                } else {
                        in->block[0] = 0;
                        in->block[1] = (mi & 0xff) | ma << 8 | (mi & ~0xffu) << 12;
                }
        }
        return in;
}

/* The vnode's size (and links) after the disk side changed them. */
static void push(struct vnode *vn)
{
        struct ext2_inode *in = &N(vn)->in;

        if (S_ISDIR(vn->mode) || S_ISLNK(vn->mode))
                vn->size = in->size;
        vn->nlink = in->links;
}

static long flush_inode(struct vnode *vn)
{
        if (vn->sb->rdonly)
                return 0;
        return ext2_write_inode(FS(vn), pull(vn));
}

/* --- the page cache ----------------------------------------------------- */

static long pager_fill(struct vm_object *obj, uint64_t index, void *kva)
{
        struct vnode *vn = obj->pager;
        struct ext2_fs *fs = FS(vn);
        struct ext2_inode *in = &N(vn)->in;
        uint32_t bs = fs->block_size, per = PAGE_SIZE / bs;
        uint64_t size = vn->size;

        for (uint32_t k = 0; k < per; k++) {
                uint64_t byte = index * PAGE_SIZE + (uint64_t)k * bs;
                uint32_t blk;
                long err;
                if (byte >= size)
                        break;          /* the page came zeroed */
                if ((err = ext2_bmap(fs, in, byte / bs, false, &blk)) != 0)
                        return err;
                if (blk && (err = blockdev_rw_bytes(E(vn->sb)->disk, false,
                                                    (uint64_t)blk * bs,
                                                    (uint8_t *)kva + k * bs,
                                                    bs)) != 0)
                        return err;
        }
        return 0;
}

/* Write page idx of vn (frame pg) to its blocks, allocating blocks for
 * holes; in is vn's disk inode, up to date (pull). => 0, -ENOSPC, -EIO. */
static long write_page(struct vnode *vn, struct ext2_inode *in, uint64_t idx,
                       struct vm_page *pg)
{
        struct ext2_fs *fs = FS(vn);
        uint32_t bs = fs->block_size, per = PAGE_SIZE / bs;
        long err = 0;

        for (uint32_t k = 0; k < per && !err; k++) {
                uint64_t byte = idx * PAGE_SIZE + (uint64_t)k * bs;
                uint32_t blk;
                if (byte >= vn->size)
                        break;
                err = ext2_bmap(fs, in, byte / bs, true, &blk);
                if (err)
                        break;
                uint8_t *kva = pmap_quick_enter_page(pmm_page_to_pa(pg));
                err = blockdev_rw_bytes(E(vn->sb)->disk, true,
                                        (uint64_t)blk * bs, kva + k * bs, bs);
                pmap_quick_remove_page(kva);
        }
        return err;
}

/* Write vn's changed pages (PG_DIRTY: write(), a write fault) to their
 * blocks, allocating blocks for holes; a page a mapping wrote loses its
 * translations, so that the next write through it faults and marks it
 * dirty again (Linux's page_mkclean). An error reclaim met writing a page
 * home (vm_object.wb_error) is reported here once. With `reclaim` (a sync
 * system call: no ext2 operation is half-way) memory is reclaimed between
 * pages when it runs short, since writing may need memory itself (a loop
 * device's backing file); evicting a vnode inside a lookup passes false
 * (docs/design.md, "Writing dirty file pages home").
 * => 0, -ENOSPC, -EIO. */
static long writeback(struct vnode *vn, bool reclaim)
{
        struct vm_object *obj = vn->obj;
        long err = 0;

        if (!obj || vn->sb->rdonly)
                return 0;
        struct ext2_inode *in = pull(vn);
        uint64_t pages = page_round(vn->size) >> PAGE_SHIFT;
        for (uint64_t idx = 0; idx < pages && obj->npages; idx++) {
                struct vm_page *pg = vm_object_lookup(obj, idx);
                if (!pg || !(pg->flags & PG_DIRTY))
                        continue;
                if (reclaim && pmm_free_below(PMM_WMARK_MIN)) {
                        vm_reclaim_direct();
                        if (!(pg = vm_object_lookup(obj, idx)) ||
                            !(pg->flags & PG_DIRTY))
                                continue;       /* reclaim wrote it */
                }
                long perr = write_page(vn, in, idx, pg);
                if (perr) {
                        if (!err)
                                err = perr;
                        continue;       /* stays dirty */
                }
                /* Mapped writable somewhere: clean only once no mapping
                 * can write it unseen (an mlocked one can: stays dirty). */
                if (rmap_count(pg) && rmap_unmap(pg, NULL) != VM_OK)
                        continue;
                pg->flags &= ~(uint32_t)PG_DIRTY;
        }
        long e2 = ext2_write_inode(FS(vn), in);
        if (!err)
                err = obj->wb_error;
        obj->wb_error = 0;
        return err ? err : e2;
}

/* Reclaim's write-back of one page (vm_pager_ops.writepage): the loop
 * body above. Reclaim unmapped the page and cleared PG_DIRTY; blocks a
 * hole needs are allocated here (ext2_bmap writes the inode with them).
 * Reached only where no ext2 code is under way (docs/design.md). */
static long pager_writepage(struct vm_object *obj, uint64_t index,
                            struct vm_page *pg)
{
        struct vnode *vn = obj->pager;

        if (!vn || vn->sb->rdonly)
                return -EROFS;
        if (index >= page_round(vn->size) >> PAGE_SHIFT)
                return 0;               /* past the end: nothing to keep */
        return write_page(vn, pull(vn), index, pg);
}

static long pager_sync(struct vm_object *obj)
{
        struct vnode *vn = obj->pager;
        long err = writeback(vn, true);
        long e2 = ext2_sync(FS(vn));

        return err ? err : e2;
}

/* Blocks for the bytes of page index inside the file, before a write
 * through a shared mapping. */
static long pager_mkwrite(struct vm_object *obj, uint64_t index)
{
        struct vnode *vn = obj->pager;
        uint64_t off = index * PAGE_SIZE;

        if (!vn)
                return 0;               /* the mount went: memory only */
        if (off >= vn->size)
                return 0;
        return e2_prepare_write(vn, off, MIN((uint64_t)PAGE_SIZE, vn->size - off));
}

static const struct vm_pager_ops e2_pager = {
        .fill = pager_fill, .sync = pager_sync, .mkwrite = pager_mkwrite,
        .writepage = pager_writepage,
};

/* --- the inode cache ----------------------------------------------------- */

static uint32_t mode_rdev(const struct ext2_inode *in, uint64_t *rdev)
{
        uint32_t ma, mi;

        if (in->block[0]) {
                ma = (in->block[0] >> 8) & 0xff;
                mi = in->block[0] & 0xff;
        } else {
                ma = (in->block[1] >> 8) & 0xfff;
                mi = (in->block[1] & 0xff) | ((in->block[1] >> 12) & 0xfff00);
        }
        *rdev = (uint64_t)ma << 8 | (mi & 0xff) | (uint64_t)(mi & ~0xffu) << 12;
        return 0;
}

/* Drop one cached vnode: write it back, free it on the disk if it has no
 * name left, then let the vnode go. */
static long evict(struct vfs_sb *sb, struct e2node **link)
{
        struct e2node *n = *link;
        struct vnode *vn = n->vn;
        long err = 0;

        if (!sb->rdonly) {
                if (vn->nlink == 0) {
                        pull(vn);
                        err = ext2_free_inode(E(sb)->fs, &n->in, now());
                } else {
                        err = writeback(vn, false);
                }
        }
        *link = n->next;
        E(sb)->count--;
        vnode_put(vn);          /* release() frees n */
        return err;
}

/* Is a cached vnode used by anyone but the cache? */
static bool node_busy(const struct e2node *n)
{
        return n->vn->refs > 1 || (n->vn->obj && n->vn->obj->refcount > 1);
}

static void trim_cache(struct vfs_sb *sb)
{
        for (struct e2node **l = &E(sb)->nodes; *l && E(sb)->count > CACHE_SOFT_MAX;) {
                if (node_busy(*l) || (*l)->vn == sb->root)
                        l = &(*l)->next;
                else
                        (void)evict(sb, l);
        }
}

/* A file whose last name went is freed on the disk at once when nobody
 * else holds it (Linux's iput of an unlinked inode): called when only the
 * cache's reference is left. vn may be gone afterwards. */
static void drop_if_gone(struct vfs_sb *sb, struct vnode *vn)
{
        if (vn->nlink)
                return;
        for (struct e2node **l = &E(sb)->nodes; *l; l = &(*l)->next)
                if ((*l)->vn == vn) {
                        if (!node_busy(*l))
                                (void)evict(sb, l);
                        return;
                }
}

/* The vnode of inode ino (a new reference); fresh: a new inode that may
 * have no link yet (O_TMPFILE). */
static long iget_as(struct vfs_sb *sb, uint32_t ino, bool fresh,
                    struct vnode **out)
{
        struct e2sb *e = E(sb);
        struct e2node *n;
        struct vnode *vn;
        long err;

        for (n = e->nodes; n; n = n->next)
                if (n->in.ino == ino) {
                        *out = vnode_get(n->vn);
                        return 0;
                }
        if (!(n = kzalloc(sizeof *n)))
                return -ENOMEM;
        if ((err = ext2_read_inode(e->fs, ino, &n->in)) != 0) {
                kfree(n);
                return err;
        }
        if ((n->in.links == 0 && !fresh) || !(n->in.mode & 0170000)) {
                kfree(n);
                return -EIO;            /* a name for a free inode */
        }
        if (!(vn = vnode_alloc(sb, &e2_ops, n->in.mode))) {
                kfree(n);
                return -ENOMEM;
        }
        vn->priv = n;
        n->vn = vn;
        vn->ino = ino;
        vn->nlink = n->in.links;
        vn->uid = n->in.uid;
        vn->gid = n->in.gid;
        vn->size = n->in.size;
        vn->atime = (struct vfs_timespec){ n->in.atime, 0 };
        vn->mtime = (struct vfs_timespec){ n->in.mtime, 0 };
        vn->ctime = (struct vfs_timespec){ n->in.ctime, 0 };
        vn->btime = (struct vfs_timespec){ n->in.crtime, 0 };
        if (S_ISCHR(vn->mode) || S_ISBLK(vn->mode))
                mode_rdev(&n->in, &vn->rdev);
        if (S_ISREG(vn->mode)) {
                struct vm_object *obj = NULL;
                vm_status_t st = vm_object_create_cache(NULL, 0, &obj);
                if (st == VM_OK && (st = vm_object_resize(obj, vn->size)) != VM_OK)
                        vm_object_unref(obj);
                if (st != VM_OK) {
                        vn->priv = NULL;
                        kfree(n);
                        vnode_put(vn);
                        return st == VM_EINVAL ? -EFBIG : -ENOMEM;
                }
                obj->pager_ops = &e2_pager;
                obj->pager = vn;
                vn->obj = obj;
        }
        n->next = e->nodes;
        e->nodes = n;
        e->count++;
        *out = vnode_get(vn);           /* the cache keeps the first */
        trim_cache(sb);
        return 0;
}

static long iget(struct vfs_sb *sb, uint32_t ino, struct vnode **out)
{
        return iget_as(sb, ino, false, out);
}

/* --- directory operations ------------------------------------------------ */

static long e2_lookup(struct vnode *dir, const char *name, size_t len,
                      struct vnode **out)
{
        uint32_t ino;
        long err = ext2_lookup(FS(dir), &N(dir)->in, name, len, &ino, NULL);

        return err ? err : iget(dir->sb, ino, out);
}

static long e2_parent(struct vnode *dir, struct vnode **out)
{
        return e2_lookup(dir, "..", 2, out);
}

static void touch_dir(struct vnode *dir)
{
        dir->mtime = dir->ctime = vfs_now();
}

/* A new inode of mode in dir, its first links, owned by the caller (the
 * group of a set-group-ID directory, as Linux). No name yet. */
static long new_node(struct vnode *dir, uint32_t mode, uint16_t links,
                     struct vnode **out)
{
        struct ext2_fs *fs = FS(dir);
        struct ext2_inode in;
        long err;

        fs->use_reserved = current_capable(CAP_SYS_RESOURCE);
        if ((err = ext2_new_inode(fs, dir->ino, (uint16_t)mode, now(), &in)) != 0)
                return err;
        in.uid = current_fsuid();
        in.gid = vfs_new_inode_group(dir, &mode);
        in.mode = (uint16_t)mode;
        in.links = links;
        if ((err = ext2_write_inode(fs, &in)) != 0 ||
            (err = iget_as(dir->sb, in.ino, true, out)) != 0) {
                in.links = 0;
                (void)ext2_free_inode(fs, &in, now());
                return err;
        }
        (*out)->btime = (*out)->ctime;
        return 0;
}

/* Undo new_node when naming it failed. */
static void drop_new(struct vnode *vn)
{
        vn->nlink = 0;
        vnode_put(vn);          /* freed when the cache drops it */
}

static long e2_create(struct vnode *dir, const char *name, size_t len,
                      uint32_t mode, uint64_t rdev, struct vnode **out)
{
        struct vnode *vn;
        uint32_t ino;
        long err;

        if (ext2_lookup(FS(dir), &N(dir)->in, name, len, &ino, NULL) == 0)
                return -EEXIST;
        if ((err = new_node(dir, mode, 1, &vn)) != 0)
                return err;
        vn->rdev = rdev;
        if ((err = flush_inode(vn)) != 0 ||
            (err = ext2_add_entry(FS(dir), pull(dir), name, len, vn->ino,
                                  ext2_mode_type((uint16_t)mode))) != 0) {
                drop_new(vn);
                return err;
        }
        push(dir);
        touch_dir(dir);
        (void)flush_inode(dir);
        *out = vn;
        return 0;
}

static long e2_mkdir(struct vnode *dir, const char *name, size_t len,
                     uint32_t mode, struct vnode **out)
{
        struct vnode *vn;
        uint32_t ino;
        long err;

        if (ext2_lookup(FS(dir), &N(dir)->in, name, len, &ino, NULL) == 0)
                return -EEXIST;
        if (dir->nlink >= EXT2_LINK_MAX)
                return -EMLINK;
        if ((err = new_node(dir, S_IFDIR | (mode & 07777), 2, &vn)) != 0)
                return err;
        if ((err = ext2_init_dir(FS(dir), pull(vn), dir->ino)) != 0 ||
            (err = ext2_add_entry(FS(dir), pull(dir), name, len, vn->ino,
                                  EXT2_FT_DIR)) != 0) {
                push(vn);
                drop_new(vn);
                return err;
        }
        push(vn);
        push(dir);
        dir->nlink++;
        touch_dir(dir);
        (void)flush_inode(dir);
        *out = vn;
        return 0;
}

static long e2_symlink(struct vnode *dir, const char *name, size_t len,
                       const char *target, struct vnode **out)
{
        struct vnode *vn;
        uint32_t ino;
        size_t tlen = strlen(target);
        long err;

        if (ext2_lookup(FS(dir), &N(dir)->in, name, len, &ino, NULL) == 0)
                return -EEXIST;
        if (tlen >= FS(dir)->block_size)
                return -ENAMETOOLONG;
        if ((err = new_node(dir, S_IFLNK | 0777, 1, &vn)) != 0)
                return err;
        if ((err = ext2_write_symlink(FS(dir), pull(vn), target, tlen)) != 0 ||
            (err = ext2_add_entry(FS(dir), pull(dir), name, len, vn->ino,
                                  EXT2_FT_LNK)) != 0) {
                push(vn);
                drop_new(vn);
                return err;
        }
        push(vn);
        push(dir);
        touch_dir(dir);
        (void)flush_inode(dir);
        *out = vn;
        return 0;
}

static long e2_link(struct vnode *dir, const char *name, size_t len,
                    struct vnode *target)
{
        uint32_t ino;
        long err;

        if (target->sb != dir->sb)
                return -EXDEV;
        if (ext2_lookup(FS(dir), &N(dir)->in, name, len, &ino, NULL) == 0)
                return -EEXIST;
        if (target->nlink >= EXT2_LINK_MAX)
                return -EMLINK;
        if ((err = ext2_add_entry(FS(dir), pull(dir), name, len, target->ino,
                                  ext2_mode_type((uint16_t)target->mode))) != 0)
                return err;
        push(dir);
        target->nlink++;
        target->ctime = vfs_now();
        touch_dir(dir);
        (void)flush_inode(target);
        (void)flush_inode(dir);
        return 0;
}

static long e2_unlink(struct vnode *dir, const char *name, size_t len)
{
        struct vnode *vn;
        long err = e2_lookup(dir, name, len, &vn);

        if (err)
                return err;
        if ((err = ext2_remove_entry(FS(dir), pull(dir), name, len)) == 0) {
                push(dir);
                vn->nlink--;
                vn->ctime = vfs_now();
                touch_dir(dir);
                if (vn->nlink)
                        (void)flush_inode(vn);
                (void)flush_inode(dir);
        }
        vnode_put(vn);          /* with no name and no user: freed (idle) */
        trim_cache(dir->sb);
        return err;
}

static long e2_rmdir(struct vnode *dir, const char *name, size_t len)
{
        struct vnode *vn;
        long err = e2_lookup(dir, name, len, &vn);

        if (err)
                return err;
        if (!S_ISDIR(vn->mode))
                err = -ENOTDIR;
        else if ((err = ext2_dir_empty(FS(dir), &N(vn)->in)) >= 0)
                err = err ? 0 : -ENOTEMPTY;
        if (!err && (err = ext2_remove_entry(FS(dir), pull(dir), name, len)) == 0) {
                push(dir);
                vn->nlink = 0;
                dir->nlink--;
                touch_dir(dir);
                (void)flush_inode(dir);
        }
        vnode_put(vn);
        trim_cache(dir->sb);
        return err;
}

/* A directory moved from odir to ndir: its ".." and the link counts. */
static long reparent(struct vnode *vn, struct vnode *odir, struct vnode *ndir)
{
        long err;

        if (!S_ISDIR(vn->mode) || odir == ndir)
                return 0;
        if ((err = ext2_set_entry(FS(vn), pull(vn), "..", 2, ndir->ino,
                                  EXT2_FT_DIR)) != 0)
                return err;
        odir->nlink--;
        ndir->nlink++;
        return 0;
}

static long e2_rename(struct vnode *odir, const char *oname, size_t olen,
                      struct vnode *ndir, const char *nname, size_t nlen,
                      unsigned flags)
{
        struct ext2_fs *fs = FS(odir);
        struct vnode *o = NULL, *n = NULL;
        long err = e2_lookup(odir, oname, olen, &o);

        if (err)
                return err;
        err = e2_lookup(ndir, nname, nlen, &n);
        if (err && err != -ENOENT)
                goto out;
        err = 0;
        if (n == o)
                goto out;
        if (flags) {                    /* RENAME_EXCHANGE */
                if ((err = ext2_set_entry(fs, pull(odir), oname, olen, n->ino,
                                          ext2_mode_type((uint16_t)n->mode))) != 0 ||
                    (err = ext2_set_entry(fs, pull(ndir), nname, nlen, o->ino,
                                          ext2_mode_type((uint16_t)o->mode))) != 0)
                        goto out;
                if ((err = reparent(o, odir, ndir)) != 0 ||
                    (err = reparent(n, ndir, odir)) != 0)
                        goto out;
                o->ctime = n->ctime = vfs_now();
        } else if (n) {                 /* over an existing name */
                if (S_ISDIR(n->mode) &&
                    (err = ext2_dir_empty(fs, &N(n)->in)) <= 0) {
                        err = err ? err : -ENOTEMPTY;
                        goto out;
                }
                if ((err = ext2_set_entry(fs, pull(ndir), nname, nlen, o->ino,
                                          ext2_mode_type((uint16_t)o->mode))) != 0 ||
                    (err = ext2_remove_entry(fs, pull(odir), oname, olen)) != 0)
                        goto out;
                if (S_ISDIR(n->mode)) {
                        n->nlink = 0;
                        ndir->nlink--;
                } else {
                        n->nlink--;
                }
                n->ctime = vfs_now();
                if (n->nlink)
                        (void)flush_inode(n);
                if ((err = reparent(o, odir, ndir)) != 0)
                        goto out;
                o->ctime = vfs_now();
        } else {
                if (S_ISDIR(o->mode) && odir != ndir && ndir->nlink >= EXT2_LINK_MAX) {
                        err = -EMLINK;
                        goto out;
                }
                if ((err = ext2_add_entry(fs, pull(ndir), nname, nlen, o->ino,
                                          ext2_mode_type((uint16_t)o->mode))) != 0)
                        goto out;
                push(ndir);
                if ((err = ext2_remove_entry(fs, pull(odir), oname, olen)) != 0 ||
                    (err = reparent(o, odir, ndir)) != 0)
                        goto out;
                o->ctime = vfs_now();
        }
        push(odir);
        push(ndir);
        touch_dir(odir);
        touch_dir(ndir);
        (void)flush_inode(o);
        (void)flush_inode(odir);
        if (ndir != odir)
                (void)flush_inode(ndir);
out:
        vnode_put(o);
        vnode_put(n);
        trim_cache(odir->sb);
        return err;
}

static uint8_t dt_of(uint8_t ft)
{
        static const uint8_t dt[] = { 0, 8, 4, 2, 6, 1, 12, 10 };
        return ft < sizeof dt ? dt[ft] : 0;
}

static long e2_readdir(struct vnode *dir, uint64_t *cookie,
                       struct vfs_dirent *out)
{
        uint32_t ino;
        uint8_t type;
        long err = ext2_readdir(FS(dir), &N(dir)->in, cookie, out->name,
                                &out->namelen, &ino, &type);

        if (err)
                return err;
        out->ino = ino;
        out->type = dt_of(type);
        return 0;
}

static long e2_readlink(struct vnode *vn, char *buf, size_t size)
{
        return ext2_readlink(FS(vn), &N(vn)->in, buf, size);
}

static void e2_release(struct vnode *vn)
{
        struct e2node *n = N(vn);

        if (vn->obj) {
                /* A mapping may outlive the mount: it keeps the pages it
                 * has, and reads zeroes where it has none. */
                vn->obj->pager_ops = NULL;
                vn->obj->pager = NULL;
        }
        kfree(n);
        vn->priv = NULL;
}

static long e2_prepare_write(struct vnode *vn, uint64_t off, uint64_t len)
{
        struct ext2_fs *fs = FS(vn);
        uint32_t bs = fs->block_size, blk;
        struct ext2_inode *in = pull(vn);
        long err;

        if (vn->sb->rdonly)
                return -EROFS;
        fs->use_reserved = current_capable(CAP_SYS_RESOURCE);
        /* in->size may be below what this write makes it: the blocks are
         * what matters here. */
        for (uint64_t b = off / bs; b * bs < off + len; b++)
                if ((err = ext2_bmap(fs, in, b, true, &blk)) != 0)
                        return err;
        return 0;
}

/* vn->size is the new size: the blocks past it go, the last block's
 * tail is zeroed on the disk. */
static long e2_setsize(struct vnode *vn, uint64_t size)
{
        if (vn->sb->rdonly)
                return -EROFS;
        return ext2_truncate(FS(vn), pull(vn), size);
}

/* fallocate on ext4's extent-mapped files (fs/ext2.h ext2_fallocate):
 * mode 0 and KEEP_SIZE give the range's holes unwritten blocks, mode 0
 * grows the size; PUNCH_HOLE (KEEP_SIZE) frees the blocks wholly inside
 * the range once the VFS dropped and zeroed its pages. A block-mapped
 * file: EOPNOTSUPP, as Linux's ext4 and ext2. */
static long e2_fallocate(struct vnode *vn, int mode, uint64_t off, uint64_t end)
{
        struct ext2_fs *fs = FS(vn);
        uint32_t bs = fs->block_size;
        struct ext2_inode *in = pull(vn);
        long err;

        if (vn->sb->rdonly)
                return -EROFS;
        if (!(in->flags & EXT4_EXTENTS_FL))
                return -EOPNOTSUPP;
        fs->use_reserved = current_capable(CAP_SYS_RESOURCE);
        if (mode & FALLOC_FL_PUNCH_HOLE)
                return ext2_punch(fs, in, (off + bs - 1) / bs, end / bs);
        if ((err = ext2_fallocate(fs, in, off / bs, (end + bs - 1) / bs)) != 0)
                return err;
        if (!(mode & FALLOC_FL_KEEP_SIZE) && end > vn->size) {
                if (vm_object_resize(vn->obj, end) != VM_OK)
                        return -ENOMEM;
                vn->size = end;
                vn->mtime = vn->ctime = vfs_now();
                err = flush_inode(vn);
        }
        return err;
}

static uint64_t e2_disk_blocks(struct vnode *vn)
{
        return N(vn)->in.blocks;
}

static void e2_idle(struct vnode *vn)
{
        drop_if_gone(vn->sb, vn);
}

static long e2_tmpfile(struct vnode *dir, uint32_t mode, struct vnode **out)
{
        return new_node(dir, mode, 0, out);
}

static const struct vnode_ops e2_ops = {
        .lookup = e2_lookup, .parent = e2_parent, .create = e2_create,
        .mkdir = e2_mkdir, .symlink = e2_symlink, .link = e2_link,
        .unlink = e2_unlink, .rmdir = e2_rmdir, .rename = e2_rename,
        .readdir = e2_readdir, .readlink = e2_readlink,
        .release = e2_release, .prepare_write = e2_prepare_write,
        .setsize = e2_setsize, .tmpfile = e2_tmpfile, .idle = e2_idle,
        .fallocate = e2_fallocate, .disk_blocks = e2_disk_blocks,
};

/* --- the super block ----------------------------------------------------- */

static long e2_sync(struct vfs_sb *sb)
{
        long err = 0;

        if (sb->rdonly)
                return 0;
        for (struct e2node *n = E(sb)->nodes; n; n = n->next) {
                long e = writeback(n->vn, true);
                if (!err)
                        err = e;
        }
        long e = ext2_sync(E(sb)->fs);
        return err ? err : e;
}

static bool e2_busy(struct vfs_sb *sb)
{
        for (struct e2node *n = E(sb)->nodes; n; n = n->next)
                if (n->vn != sb->root && node_busy(n))
                        return true;
        return false;
}

static void e2_destroy(struct vfs_sb *sb)
{
        struct e2sb *e = E(sb);

        vnode_put(sb->root);
        sb->root = NULL;
        /* umount: write everything first, reclaiming as it goes. */
        for (struct e2node *n = e->nodes; n && !sb->rdonly; n = n->next)
                (void)writeback(n->vn, true);
        while (e->nodes)
                (void)evict(sb, &e->nodes);
        (void)ext2_unmount(e->fs);
        blockdev_release(e->disk);
        kfree(e);
        kfree(sb);
}

static void e2_statfs(struct vfs_sb *sb, struct vfs_statfs *st)
{
        struct ext2_fs *fs = E(sb)->fs;

        st->bsize = fs->block_size;
        ext2_statfs(fs, &st->blocks, &st->bfree, &st->bavail, &st->files,
                    &st->ffree);
}

static const struct vfs_sb_ops e2_sb_ops = {
        .sync = e2_sync, .busy = e2_busy, .destroy = e2_destroy,
        .statfs = e2_statfs,
};

long ext2_new_sb(struct vnode *dev, const char *fstype, bool rdonly,
                 struct vfs_sb **out)
{
        enum ext2_kind kind = EXT2_KIND_EXT2;
        struct blkdev *d;
        struct vfs_sb *sb;
        struct e2sb *e;
        long err;

        if (!S_ISBLK(dev->mode))
                return -ENOTBLK;
        if (strcmp(fstype, "ext4") == 0)
                kind = EXT2_KIND_EXT4;
        else if (strcmp(fstype, "ext3") == 0)
                kind = EXT2_KIND_EXT3;
        if (!(d = blkdev_by_rdev(dev->rdev)))
                return -ENXIO;
        for (struct mount *m = vfs_mounts(); m; m = m->next)
                if (m->sb->sops == &e2_sb_ops && E(m->sb)->disk == d)
                        return -EBUSY;
        if ((err = blockdev_hold(d)) != 0)
                return err;
        if (d->read_only)
                rdonly = true;
        sb = kzalloc(sizeof *sb);
        e = kzalloc(sizeof *e);
        if (!sb || !e) {
                err = -ENOMEM;
                goto fail;
        }
        e->disk = d;
        if ((err = ext2_mount_as(disk_io, d, d->sectors << BLK_SECTOR_SHIFT,
                                 rdonly, kind, &e->fs)) != 0)
                goto fail;
        sb->fstype = kind == EXT2_KIND_EXT4 ? "ext4" :
                     kind == EXT2_KIND_EXT3 ? "ext3" : "ext2";
        sb->dev = d->rdev;
        sb->magic = EXT2_SUPER_MAGIC;
        sb->rdonly = rdonly;
        sb->sops = &e2_sb_ops;
        sb->priv = e;
        sb->next_ino = 1;
        if ((err = iget(sb, EXT2_ROOT_INO, &sb->root)) != 0) {
                (void)ext2_unmount(e->fs);
                goto fail;
        }
        if (!S_ISDIR(sb->root->mode)) {
                e2_destroy(sb);
                return -EINVAL;
        }
        *out = sb;
        return 0;
fail:
        blockdev_release(d);
        kfree(e);
        kfree(sb);
        return err;
}
