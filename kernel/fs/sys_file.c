/*
 * sys_file.c - file-descriptor system calls over struct file.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/blockdev.h>
#include <fs/file.h>
#include <fs/pipe.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/kmalloc.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>

#define O_ACCMODE       3
#define O_WRONLY        1
#define O_RDWR          2
#define O_PATH          010000000
#define AT_FDCWD        -100
#define PATH_MAX        4096


SYSCALL_DECL(read)
{
        struct file *f = fd_get((int)a0);

        if (!f || (f->flags & O_ACCMODE) == O_WRONLY)
                return -EBADF;
        if (!user_range_ok((uint64_t)a1, (uint64_t)a2))
                return -EFAULT;
        return f->ops->read ? f->ops->read(f, (uint64_t)a1, (size_t)a2) : -EINVAL;
}

SYSCALL_DECL(write)
{
        struct file *f = fd_get((int)a0);

        if (!f || (f->flags & O_ACCMODE) == 0)
                return -EBADF;
        if (!user_range_ok((uint64_t)a1, (uint64_t)a2))
                return -EFAULT;
        return f->ops->write ? f->ops->write(f, (uint64_t)a1, (size_t)a2) : -EINVAL;
}

/* pread64: read at an offset, leaving the file's own offset alone. */
SYSCALL_DECL(pread64)
{
        struct file *f = fd_get((int)a0);

        if (!f || (f->flags & O_ACCMODE) == O_WRONLY)
                return -EBADF;
        if (!f->ops->seekable)
                return -ESPIPE;
        if (a3 < 0)
                return -EINVAL;
        uint64_t saved = f->offset;
        f->offset = (uint64_t)a3;
        long n = sys_read(a0, a1, a2, 0, 0, 0);
        f->offset = saved;
        return n;
}

struct linux_iovec { unsigned long base, len; };   /* pointer, size_t */
#define IOV_MAX 1024

/* readv/writev: one call per vector entry, stopping at a short transfer. */
static long vector_io(long fd, uint64_t uiov, long cnt, bool write)
{
        long total = 0;

        if (cnt < 0 || cnt > IOV_MAX)
                return -EINVAL;
        for (long i = 0; i < cnt; i++) {
                struct linux_iovec v;
                if (copy_from_user(&v, uiov + (uint64_t)i * sizeof v, sizeof v))
                        return total ? total : -EFAULT;
                if ((int64_t)v.len < 0)
                        return -EINVAL;
                if (v.len == 0)
                        continue;
                long n = write ? sys_write(fd, (long)v.base, (long)v.len, 0, 0, 0)
                               : sys_read(fd, (long)v.base, (long)v.len, 0, 0, 0);
                if (n < 0)
                        return total ? total : n;
                total += n;
                if ((uint64_t)n < v.len)
                        break;
        }
        return total;
}

SYSCALL_DECL(readv) { return vector_io(a0, (uint64_t)a1, a2, false); }
SYSCALL_DECL(writev) { return vector_io(a0, (uint64_t)a1, a2, true); }

SYSCALL_DECL(close)
{
        struct file *f = fd_get((int)a0);

        if (!f)
                return -EBADF;
        current->fdt->files[(int)a0] = NULL;
        vfs_locks_on_close(f, current->pid);
        file_put(f);
        return 0;
}

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4

static uint64_t file_size(const struct file *f)
{
        struct vnode *vn = file_vnode(f);

        if (file_is_blockdev(f))
                return blockdev_file_size(f);
        return vn && S_ISREG(vn->mode) ? vn->size : f->size;
}

SYSCALL_DECL(lseek)
{
        struct file *f = fd_get((int)a0);
        int64_t base;

        if (!f)
                return -EBADF;
        if (!f->ops->seekable)
                return -ESPIPE;
        switch (a2) {
        case SEEK_SET: base = 0; break;
        case SEEK_CUR: base = (int64_t)f->offset; break;
        case SEEK_END: base = (int64_t)file_size(f); break;
        case SEEK_DATA:
        case SEEK_HOLE: {
                /* A tmpfs file is all data (holes read as zeroes, as
                 * Linux's tmpfs before 4.x reported): data anywhere below
                 * the end, the only hole at the end. */
                uint64_t size = file_size(f);
                if (a1 < 0 || (uint64_t)a1 >= size)
                        return -ENXIO;
                f->offset = a2 == SEEK_DATA ? (uint64_t)a1 : size;
                return (long)f->offset;
        }
        default: return -EINVAL;
        }
        if ((a1 < 0 && base + a1 < 0) || (a1 > 0 && base > INT64_MAX - a1))
                return a1 < 0 ? -EINVAL : -EOVERFLOW;
        f->offset = (uint64_t)(base + a1);
        return (long)f->offset;
}

#define FIONBIO         0x5421
#define FIONCLEX        0x5450
#define FIOCLEX         0x5451
#define FIONREAD        0x541b
#define O_NONBLOCK      04000

/*
 * ioctl: the requests every file answers (FIOCLEX, FIONCLEX, FIONBIO,
 * FIONREAD on a regular file), then the file's own (the terminal's
 * termios requests, FIONREAD on a pipe). Anything else is -ENOTTY, which
 * is how isatty() learns that a pipe or a file is not a terminal.
 */
SYSCALL_DECL(ioctl)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn = f ? file_vnode(f) : NULL;
        unsigned cmd = (unsigned)a1;
        int v;

        if (!f || (f->flags & 010000000))       /* O_PATH: EBADF too */
                return -EBADF;
        switch (cmd) {
        case FIOCLEX:
                current->fdt->fd_flags[(int)a0] |= FD_CLOEXEC;
                return 0;
        case FIONCLEX:
                current->fdt->fd_flags[(int)a0] &= ~FD_CLOEXEC;
                return 0;
        case FIONBIO:
                if (copy_from_user(&v, (uint64_t)a2, sizeof v))
                        return -EFAULT;
                f->flags = v ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
                return 0;
        case FIONREAD:
                if (vn && S_ISREG(vn->mode)) {
                        int n = (int)MIN(vn->size > f->offset ? vn->size - f->offset : 0,
                                         (uint64_t)INT32_MAX);
                        return copy_to_user((uint64_t)a2, &n, sizeof n) ? -EFAULT : 0;
                }
                break;
        }
        return f->ops->ioctl ? f->ops->ioctl(f, cmd, (uint64_t)a2) : -ENOTTY;
}

/* pwrite64: write at an offset, leaving the file's own offset alone
 * (with O_APPEND it appends, a long-standing Linux quirk kept). */
SYSCALL_DECL(pwrite64)
{
        struct file *f = fd_get((int)a0);

        if (!f || (f->flags & O_ACCMODE) == 0)
                return -EBADF;
        if (!f->ops->seekable)
                return -ESPIPE;
        if (a3 < 0)
                return -EINVAL;
        uint64_t saved = f->offset;
        f->offset = (uint64_t)a3;
        long n = sys_write(a0, a1, a2, 0, 0, 0);
        f->offset = saved;
        return n;
}

/*
 * preadv/pwritev(2): readv/writev at an offset (x86-64 passes the whole
 * offset in pos_l), the file's own offset untouched; for the "2" forms an
 * offset of -1 means the file's offset, as readv/writev. RWF_HIPRI, DSYNC
 * and SYNC change nothing in memory; RWF_APPEND writes at the end;
 * RWF_NOWAIT is refused (EOPNOTSUPP), as for files that cannot promise it.
 */
#define RWF_HIPRI       0x1
#define RWF_DSYNC       0x2
#define RWF_SYNC        0x4
#define RWF_NOWAIT      0x8
#define RWF_APPEND      0x10

static long vector_at(long fd, uint64_t uiov, long cnt, int64_t pos,
                      int flags, bool write)
{
        struct file *f = fd_get((int)fd);

        if (!f)
                return -EBADF;
        if (write ? (f->flags & O_ACCMODE) == 0 : (f->flags & O_ACCMODE) == O_WRONLY)
                return -EBADF;
        if (flags & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND))
                return -EOPNOTSUPP;
        if (flags & RWF_NOWAIT)
                return -EOPNOTSUPP;
        if (pos == -1)
                return vector_io(fd, uiov, cnt, write);
        if (!f->ops->seekable)
                return -ESPIPE;
        if (pos < 0)
                return -EINVAL;
        uint64_t saved = f->offset;
        unsigned saved_flags = f->flags;
        f->offset = (uint64_t)pos;
        if (write && (flags & RWF_APPEND))
                f->flags |= 02000;
        long n = vector_io(fd, uiov, cnt, write);
        f->offset = saved;
        f->flags = saved_flags;
        return n;
}

SYSCALL_DECL(preadv)
{
        if (a3 < 0)
                return -EINVAL;
        return vector_at(a0, (uint64_t)a1, a2, a3, 0, false);
}

SYSCALL_DECL(pwritev)
{
        if (a3 < 0)
                return -EINVAL;
        return vector_at(a0, (uint64_t)a1, a2, a3, 0, true);
}

SYSCALL_DECL(preadv2)
{
        return vector_at(a0, (uint64_t)a1, a2, a3 < -1 ? -2 : a3, (int)a5, false);
}

SYSCALL_DECL(pwritev2)
{
        return vector_at(a0, (uint64_t)a1, a2, a3 < -1 ? -2 : a3, (int)a5, true);
}

/* Where the copy loop puts what it read: a kernel write of n bytes from
 * buf, returning bytes written or -errno. */
struct copy_sink {
        long (*put)(struct copy_sink *sink, const uint8_t *buf, size_t n);
        struct vnode *vn;       /* copy_file_range: the file, at *off */
        uint64_t     *off;
        struct file  *file;     /* sendfile: any file taking kernel writes */
};

static long put_vnode(struct copy_sink *sink, const uint8_t *buf, size_t n)
{
        long w = vnode_write(sink->vn, *sink->off, (uint64_t)buf, n, false);

        if (w > 0)
                *sink->off += (uint64_t)w;
        return w;
}

static long put_file(struct copy_sink *sink, const uint8_t *buf, size_t n)
{
        return file_write_kernel(sink->file, buf, n);
}

/*
 * Copy up to len bytes from regular file `in` at *in_off into sink, a
 * page at a time through a kernel buffer (sendfile, copy_file_range).
 * => bytes copied, or -errno if nothing was.
 */
static long copy_loop(struct vnode *in, uint64_t *in_off,
                      struct copy_sink *sink, uint64_t len)
{
        uint8_t *buf = kmalloc(PAGE_SIZE);
        uint64_t done = 0;
        long err = 0;

        if (!buf)
                return -ENOMEM;
        len = MIN(len, (uint64_t)0x7ffff000);
        while (done < len) {
                /* Only the buffer is held here: reclaim if memory is low
                 * (the pages read may come from swap). */
                vm_reclaim_direct();
                long n = vnode_read(in, *in_off, (uint64_t)buf,
                                    (size_t)MIN(len - done, PAGE_SIZE), false);
                if (n <= 0) {
                        err = n;
                        break;
                }
                long w = sink->put(sink, buf, (size_t)n);
                if (w <= 0) {
                        err = w;
                        break;
                }
                *in_off += (uint64_t)w;
                done += (uint64_t)w;
                if (w < n)
                        break;
        }
        kfree(buf);
        return done ? (long)done : err;
}

static bool regular(struct vnode *vn)
{
        return vn && S_ISREG(vn->mode) && vn->obj;
}

/* sendfile(out_fd, in_fd, offset*, count): in_fd a regular file; out_fd a
 * regular file, a pipe or the terminal (Linux: any file). */
SYSCALL_DECL(sendfile)
{
        struct file *out = fd_get((int)a0), *in = fd_get((int)a1);
        struct vnode *ivn = in ? file_vnode(in) : NULL;
        uint64_t ioff;
        long n;

        if (!out || !in || (in->flags & O_ACCMODE) == O_WRONLY ||
            (out->flags & O_ACCMODE) == 0)
                return -EBADF;
        if (!regular(ivn) || (out->flags & 02000))
                return -EINVAL;
        if (a2) {
                int64_t off;
                if (copy_from_user(&off, (uint64_t)a2, 8))
                        return -EFAULT;
                if (off < 0)
                        return -EINVAL;
                ioff = (uint64_t)off;
        } else {
                ioff = in->offset;
        }
        struct copy_sink sink = { .put = put_file, .file = out };
        n = copy_loop(ivn, &ioff, &sink, (uint64_t)a3);
        if (n < 0)
                return n;
        if (a2) {
                int64_t off = (int64_t)ioff;
                if (copy_to_user((uint64_t)a2, &off, 8))
                        return -EFAULT;
        } else {
                in->offset = ioff;
        }
        return n;
}

/* copy_file_range(fd_in, off_in*, fd_out, off_out*, len, flags). */
SYSCALL_DECL(copy_file_range)
{
        struct file *in = fd_get((int)a0), *out = fd_get((int)a2);
        struct vnode *ivn = in ? file_vnode(in) : NULL;
        struct vnode *ovn = out ? file_vnode(out) : NULL;
        int64_t ioff, ooff;
        long n;

        if (a5)
                return -EINVAL;
        if (!in || !out || (in->flags & O_ACCMODE) == O_WRONLY ||
            (out->flags & O_ACCMODE) == 0)
                return -EBADF;
        if (out->flags & 02000)
                return -EBADF;          /* Linux: O_APPEND destination */
        if ((ivn && S_ISDIR(ivn->mode)) || (ovn && S_ISDIR(ovn->mode)))
                return -EISDIR;
        if (!regular(ivn) || !regular(ovn))
                return -EINVAL;
        if (a1 && copy_from_user(&ioff, (uint64_t)a1, 8))
                return -EFAULT;
        if (a3 && copy_from_user(&ooff, (uint64_t)a3, 8))
                return -EFAULT;
        if (!a1)
                ioff = (int64_t)in->offset;
        if (!a3)
                ooff = (int64_t)out->offset;
        if (ioff < 0 || ooff < 0)
                return -EINVAL;
        /* The same file, overlapping ranges: Linux's EINVAL. */
        if (ivn == ovn && (uint64_t)a4 &&
            (uint64_t)ioff < (uint64_t)ooff + (uint64_t)a4 &&
            (uint64_t)ooff < (uint64_t)ioff + (uint64_t)a4)
                return -EINVAL;
        uint64_t ui = (uint64_t)ioff, uo = (uint64_t)ooff;
        struct copy_sink sink = { .put = put_vnode, .vn = ovn, .off = &uo };
        n = copy_loop(ivn, &ui, &sink, (uint64_t)a4);
        if (n < 0)
                return n;
        if (a1) {
                int64_t v = (int64_t)ui;
                if (copy_to_user((uint64_t)a1, &v, 8))
                        return -EFAULT;
        } else {
                in->offset = ui;
        }
        if (a3) {
                int64_t v = (int64_t)uo;
                if (copy_to_user((uint64_t)a3, &v, 8))
                        return -EFAULT;
        } else {
                out->offset = uo;
        }
        return n;
}

/* ---- advice about a file's page cache ------------------------------------ */

#define POSIX_FADV_NORMAL       0
#define POSIX_FADV_WILLNEED     3
#define POSIX_FADV_NOREUSE      5

/*
 * Read [off, off + len) of f's page cache in (len 0: to the end), as
 * Linux's force_page_cache_readahead: only for a file a disk is behind
 * (a pager); tmpfs and the initramfs's files are their pages already
 * (Linux: a noop_backing_dev_info file, nothing to read). Stops at the
 * end of the file and at the first page it cannot have (no memory, an
 * I/O error): advice, not a promise.
 */
static void cache_read_in(struct file *f, int64_t off, int64_t len)
{
        struct vnode *vn = file_vnode(f);
        struct vm_object *obj = vn ? vn->obj : NULL;
        struct vm_page *pg;
        uint64_t first, end;

        if (!obj || !obj->pager_ops || off < 0 || (uint64_t)off >= vn->size)
                return;
        first = (uint64_t)off >> PAGE_SHIFT;
        end = page_round(vn->size) >> PAGE_SHIFT;
        if (len > 0 && (uint64_t)len < vn->size - (uint64_t)off)
                end = page_round((uint64_t)off + (uint64_t)len) >> PAGE_SHIFT;
        for (uint64_t i = first; i < end; i++)
                if (vm_object_get_page(obj, i, &pg) != VM_OK)
                        break;
}

/*
 * posix_fadvise (Linux's fadvise64). Linux's errors: EBADF (an O_PATH
 * descriptor too), ESPIPE for a
 * pipe or FIFO, EINVAL for an unknown advice or a negative length.
 * WILLNEED reads the range in (cache_read_in); DONTNEED is accepted and
 * drops nothing (Linux drops the clean unmapped pages of a disk file;
 * Mercator's reclaim takes them when memory is short); NORMAL,
 * SEQUENTIAL, RANDOM and NOREUSE are accepted (no read-ahead window to
 * tune).
 */
SYSCALL_DECL(fadvise64)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn;
        int advice = (int)a3;

        if (!f || (f->flags & O_PATH))          /* Linux's fdget() */
                return -EBADF;
        vn = file_vnode(f);
        if ((vn && S_ISFIFO(vn->mode)) || pipe_size(f, false, 0) != -EBADF)
                return -ESPIPE;
        if (advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE ||
            (int64_t)a2 < 0)
                return -EINVAL;
        if (advice == POSIX_FADV_WILLNEED)
                cache_read_in(f, (int64_t)a1, (int64_t)a2);
        return 0;
}

/*
 * readahead(fd, offset, count): WILLNEED for a regular file open for
 * reading (Linux: EBADF otherwise, O_PATH included; EINVAL for anything
 * but a regular file).
 */
SYSCALL_DECL(readahead)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn;

        if (!f || (f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
                return -EBADF;
        vn = file_vnode(f);
        if (!vn || !S_ISREG(vn->mode))
                return -EINVAL;
        cache_read_in(f, (int64_t)a1, (int64_t)a2);
        return 0;
}
