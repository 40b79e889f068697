/*
 * file_initramfs.c - files of the initramfs, opened read-only.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/initramfs.h>
#include <fs/file.h>
#include <vm/kmalloc.h>

extern struct initramfs rootfs;

#define O_ACCMODE       3
#define O_CREAT         0100
#define O_DIRECTORY     0200000
#define O_NOFOLLOW      0400000

static long rfile_read(struct file *f, uint64_t ubuf, size_t len)
{
        const struct initramfs_node *n = f->node;

        if (initramfs_is_dir(n))
                return -EISDIR;
        if (f->offset >= n->size)
                return 0;
        len = MIN(len, n->size - f->offset);
        if (copy_to_user(ubuf, n->data + f->offset, len))
                return -EFAULT;
        f->offset += len;
        return (long)len;
}

static void rfile_stat(struct file *f, void *st)
{
        const struct initramfs_node *n = f->node;
        uint64_t *w = st;

        memset(st, 0, 144);
        w[0] = 1;                                       /* st_dev */
        w[1] = n->ino;
        w[2] = n->nlink ? n->nlink : 1;
        ((uint32_t *)st)[6] = n->mode;                  /* st_mode */
        ((uint32_t *)st)[7] = n->uid;
        ((uint32_t *)st)[8] = n->gid;
        w[6] = n->size;                                 /* st_size */
        w[7] = PAGE_SIZE;                               /* st_blksize */
        w[8] = (n->size + 511) / 512;                   /* st_blocks */
        w[9] = w[11] = w[13] = n->mtime;                /* a/m/ctime */
}

static void rfile_release(struct file *f)
{
        kfree((void *)f->node);
}

static const struct file_ops rfile_ops = {
        .read = rfile_read, .stat = rfile_stat, .release = rfile_release,
        .seekable = true,
};

long initramfs_file_open(const char *path, unsigned flags, struct file **out)
{
        struct initramfs_node *node = kmalloc(sizeof *node);
        struct file *f = kzalloc(sizeof *f);
        vm_status_t st;

        if (!node || !f) {
                kfree(node), kfree(f);
                return -ENOMEM;
        }
        st = initramfs_lookup(&rootfs, NULL, path,
                              flags & O_NOFOLLOW ? INITRAMFS_NOFOLLOW : 0, node);
        long err = st != VM_OK ? (st == VM_ENOENT && (flags & O_CREAT) ? -EROFS
                                  : status_to_errno(st))
                 : (flags & O_ACCMODE) != 0 ? -EROFS
                 : (flags & O_DIRECTORY) && !initramfs_is_dir(node) ? -ENOTDIR
                 : 0;
        if (err) {
                kfree(node), kfree(f);
                return err;
        }
        f->ops = &rfile_ops;
        f->refs = 1;
        f->flags = flags;
        f->node = node;
        f->size = node->size;
        f->dir = initramfs_is_dir(node);
        *out = f;
        return 0;
}

/* The initramfs node behind f, or NULL if f is not an initramfs file. */
const struct initramfs_node *initramfs_file_node(const struct file *f)
{
        return f->ops == &rfile_ops ? f->node : NULL;
}
