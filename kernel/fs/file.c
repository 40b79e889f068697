/*
 * file.c - reference counting, descriptor tables.
 */
#include <mercator/clock.h>
#include <mercator/console.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/pipe.h>
#include <fs/vfs.h>
#include <fs/tty.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>

struct file *file_console(void)
{
        return tty_open(2);                     /* O_RDWR */
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
                vfs_file_locks_release(f);
        if (f->ops->release)
                f->ops->release(f);
        vnode_put(f->vnode);
        kfree(f);
}

int fd_install(struct file *f)
{
        for (int fd = 0; fd < proc_fd_limit(current); fd++) {
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
        if (file_is_tty(f))
                return tty_write_kernel(f, buf, len);
        return pipe_write_kernel(f, buf, len);
}
