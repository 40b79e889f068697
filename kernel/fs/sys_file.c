/*
 * sys_file.c - file-descriptor system calls over struct file.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define O_ACCMODE       3
#define O_WRONLY        1
#define O_RDWR          2
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

struct linux_iovec { uint64_t base, len; };
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
        current->files[a0] = NULL;
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

#define TCGETS          0x5401
#define TIOCGWINSZ      0x5413

#define FIONCLEX        0x5450
#define FIOCLEX         0x5451
#define FIONREAD        0x541b

/* No terminal control yet: every other request is "not a terminal", which
 * is what musl's stdio asks to choose its buffering. */
SYSCALL_DECL(ioctl)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn = f ? file_vnode(f) : NULL;
        unsigned cmd = (unsigned)a1;

        if (!f)
                return -EBADF;
        switch (cmd) {
        case FIOCLEX:
                current->fd_flags[(int)a0] |= FD_CLOEXEC;
                return 0;
        case FIONCLEX:
                current->fd_flags[(int)a0] &= ~FD_CLOEXEC;
                return 0;
        case FIONREAD:
                if (vn && S_ISREG(vn->mode)) {
                        int n = (int)MIN(vn->size > f->offset ? vn->size - f->offset : 0,
                                         (uint64_t)INT32_MAX);
                        return copy_to_user((uint64_t)a2, &n, sizeof n) ? -EFAULT : 0;
                }
                if (vn && S_ISDIR(vn->mode))
                        return -ENOTTY;
                return -ENOTTY;
        }
        return -ENOTTY;
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
