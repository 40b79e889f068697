/*
 * file.c - the console as a file, reference counting, descriptor tables.
 */
#include <mercator/clock.h>
#include <mercator/console.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>

/* Console output goes out in chunks through a bounce buffer. */
static long console_write_user(struct file *f, uint64_t ubuf, size_t len)
{
        char chunk[256];
        size_t done = 0;

        while (done < len) {
                size_t n = MIN(len - done, sizeof chunk);
                if (copy_from_user(chunk, ubuf + done, n))
                        return done ? (long)done : -EFAULT;
                console_write(chunk, n);
                done += n;
        }
        return (long)done;
}

/* Block until at least one byte arrives, then take what is there. The
 * UART is polled: between polls the reader sleeps for a tick, so an idle
 * shell leaves the CPU halted rather than spinning. */
static long console_read_user(struct file *f, uint64_t ubuf, size_t len)
{
        char chunk[64];
        size_t n = 0;
        int c;

        if (len == 0)
                return 0;
        while ((c = console_getc()) < 0) {
                if (sched_sleep_until_intr(clock_monotonic_ns() + 10 * 1000 * 1000))
                        return -ERESTARTSYS;
        }
        do {
                chunk[n++] = c == '\r' ? '\n' : (char)c;
        } while (n < MIN(len, sizeof chunk) && chunk[n - 1] != '\n' &&
                 (c = console_getc()) >= 0);
        return copy_to_user(ubuf, chunk, n) ? -EFAULT : (long)n;
}

#define S_IFCHR 0020000

static void console_stat(struct file *f, void *st)
{
        uint64_t *w = st;               /* Linux x86-64 struct stat */

        memset(st, 0, 144);
        w[0] = 5;                               /* st_dev */
        w[1] = 1;                               /* st_ino */
        w[2] = 1;                               /* st_nlink */
        ((uint32_t *)st)[6] = S_IFCHR | 0620;   /* st_mode */
        w[5] = (5 << 8) | 1;                    /* st_rdev: /dev/console */
        w[7] = 1024;                            /* st_blksize */
}

static const struct file_ops console_ops = {
        .read = console_read_user,
        .write = console_write_user,
        .stat = console_stat,
};

struct file *file_console(void)
{
        struct file *f = kzalloc(sizeof *f);

        if (f) {
                f->ops = &console_ops;
                f->refs = 1;
                f->flags = 2;                   /* O_RDWR */
        }
        return f;
}

struct file *file_get(struct file *f)
{
        f->refs++;
        return f;
}

void file_put(struct file *f)
{
        if (--f->refs)
                return;
        if (file_vnode(f))
                vfs_flock_release(f);
        if (f->ops->release)
                f->ops->release(f);
        vnode_put(f->vnode);
        kfree(f);
}

int fd_install(struct file *f)
{
        for (int fd = 0; fd < NOFILE; fd++) {
                if (!current->files[fd]) {
                        current->files[fd] = f;
                        current->fd_flags[fd] = (f->flags & 02000000) ? FD_CLOEXEC : 0;
                        return fd;
                }
        }
        return -EMFILE;
}

struct file *fd_get(int fd)
{
        if (fd < 0 || fd >= NOFILE)
                return NULL;
        return current->files[fd];
}

long pipe_write_kernel(struct file *f, const void *buf, size_t len);

/* Write kernel bytes to f (sendfile's destination): a regular file of the
 * VFS at its offset (or end, O_APPEND), a pipe, or the console. => bytes
 * written or -errno; -EINVAL for any other file. */
long file_write_kernel(struct file *f, const void *buf, size_t len)
{
        struct vnode *vn = file_vnode(f);
        long n;

        if (vn && S_ISREG(vn->mode) && vn->obj) {
                if (f->flags & 02000)
                        f->offset = vn->size;
                n = vnode_write(vn, f->offset, (uint64_t)(uintptr_t)buf, len, false);
                if (n > 0)
                        f->offset += (uint64_t)n;
                return n;
        }
        if (f->ops == &console_ops) {
                console_write(buf, len);
                return (long)len;
        }
        return pipe_write_kernel(f, buf, len);
}
