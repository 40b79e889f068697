/*
 * sys_file.c - file-descriptor system calls over struct file.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define O_ACCMODE       3
#define O_WRONLY        1
#define O_RDWR          2
#define AT_FDCWD        -100
#define PATH_MAX        4096

/* initramfs files (file_initramfs.c) */
long initramfs_file_open(const char *path, unsigned flags, struct file **out);
long procfs_open(const char *path, unsigned flags, struct file **out);

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

SYSCALL_DECL(openat)
{
        char path[PATH_MAX], abs[PATH_MAX];
        struct file *f;
        long n, fd;

        n = strncpy_from_user(path, (uint64_t)a1, sizeof path);
        if (n < 0)
                return n;
        if (n == 0)
                return -ENOENT;
        /* Relative to a directory descriptor: not yet, only to the cwd. */
        if (path[0] != '/' && a0 != AT_FDCWD)
                return fd_get((int)a0) ? -ENOSYS : -EBADF;
        if ((n = proc_path(path, abs, sizeof abs)) < 0)
                return n;
        if (strncmp(abs, "/proc/", 6) == 0)
                n = procfs_open(abs, (unsigned)a2, &f);
        else
                n = initramfs_file_open(abs, (unsigned)a2, &f);
        if (n < 0)
                return n;
        fd = fd_install(f);
        if (fd < 0)
                file_put(f);
        return fd;
}

SYSCALL_DECL(open)
{
        return sys_openat(AT_FDCWD, a0, a1, a2, 0, 0);
}

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
        case SEEK_END: base = (int64_t)f->size; break;
        default: return -EINVAL;
        }
        if ((a1 < 0 && base + a1 < 0) || (a1 > 0 && base > INT64_MAX - a1))
                return a1 < 0 ? -EINVAL : -EOVERFLOW;
        f->offset = (uint64_t)(base + a1);
        return (long)f->offset;
}

SYSCALL_DECL(fstat)
{
        struct file *f = fd_get((int)a0);
        uint8_t st[144];

        if (!f)
                return -EBADF;
        f->ops->stat(f, st);
        return copy_to_user((uint64_t)a1, st, sizeof st);
}

#define TCGETS          0x5401
#define TIOCGWINSZ      0x5413

/* No terminal control yet: every request is "not a terminal", which is
 * what musl's stdio asks to choose its buffering. */
SYSCALL_DECL(ioctl)
{
        if (!fd_get((int)a0))
                return -EBADF;
        return -ENOTTY;
}
