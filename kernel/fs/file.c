/*
 * file.c - reference counting, descriptor tables.
 */
#include <mercator/clock.h>
#include <mercator/console.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/abi_stat.h>
#include <fs/file.h>
#include <fs/pipe.h>
#include <fs/vfs.h>
#include <fs/tty.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>
#include <vm/vmalloc.h>

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

/* ---- descriptor tables ------------------------------------------------ */

/* The bytes behind a table of n slots: the file pointers, then the flags,
 * in one block - from the heap, or from vmalloc when larger than the heap
 * gives (a table of more than about 460 000 slots; Linux's kvmalloc). */
static size_t fdt_bytes(int n)
{
        return (size_t)n * (sizeof(struct file *) + 1);
}

static void *fdt_block_alloc(int n)
{
        size_t bytes = fdt_bytes(n);
        void *b;

        if (bytes <= KMALLOC_MAX_SIZE)
                return kzalloc(bytes);
        if ((b = vmalloc(bytes)))
                memset(b, 0, bytes);
        return b;
}

static void fdt_block_free(void *b, int n)
{
        if (fdt_bytes(n) <= KMALLOC_MAX_SIZE)
                kfree(b);
        else
                vfree(b);
}

/* Point t at block b of n slots. */
static void fdt_set(struct fdtable *t, void *b, int n)
{
        t->files = b;
        t->fd_flags = (uint8_t *)b + (size_t)n * sizeof(struct file *);
        t->size = n;
}

long fdt_init(struct fdtable *t, int fd)
{
        int n = FDT_FIRST;
        void *b;

        while (n <= fd)
                n *= 2;
        if (!(b = fdt_block_alloc(n)))
                return -ENOMEM;
        fdt_set(t, b, n);
        return 0;
}

long fdt_expand(struct fdtable *t, int fd)
{
        struct fdtable bigger;

        if (fd < t->size)
                return 0;
        if (fdt_init(&bigger, fd))
                return -ENOMEM;
        memcpy(bigger.files, t->files, (size_t)t->size * sizeof(struct file *));
        memcpy(bigger.fd_flags, t->fd_flags, (size_t)t->size);
        fdt_block_free(t->files, t->size);
        fdt_set(t, bigger.files, bigger.size);
        return 0;
}

void fdt_release(struct fdtable *t)
{
        fdt_block_free(t->files, t->size);
        t->files = NULL;
        t->fd_flags = NULL;
        t->size = 0;
}

int fdt_last_open(const struct fdtable *t)
{
        int fd = t->size - 1;

        while (fd >= 0 && !t->files[fd])
                fd--;
        return fd;
}

long fd_install_at_least(struct file *f, int min, bool cloexec)
{
        struct fdtable *t = current->fdt;
        int limit = proc_fd_limit(current), fd = min;

        for (; fd < t->size && fd < limit; fd++)
                if (!t->files[fd])
                        break;
        if (fd >= limit)
                return -EMFILE;
        if (fdt_expand(t, fd))
                return -ENOMEM;
        t->files[fd] = f;
        t->fd_flags[fd] = cloexec ? FD_CLOEXEC : 0;
        return fd;
}

int fd_install(struct file *f)
{
        return (int)fd_install_at_least(f, 0, f->flags & 02000000);
}

struct file *fd_get(int fd)
{
        struct fdtable *t = current->fdt;

        if (!t || fd < 0 || fd >= t->size)
                return NULL;
        return t->files[fd];
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

void file_anon_stat(struct file *f, void *st)
{
        struct linux_stat *s = st;

        memset(s, 0, sizeof *s);
        s->st_ino = (uint64_t)(uintptr_t)f->node >> 4;
        s->st_nlink = 1;
        s->st_mode = 0600;
        s->st_blksize = PAGE_SIZE;
}
