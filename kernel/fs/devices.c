/*
 * devices.c - character devices (/dev/null, zero, full, random, urandom,
 * tty, console), FIFOs opened by name, and the contents of /dev.
 *
 * /dev is a tmpfs directory: its devices are tmpfs vnodes of type S_IFCHR
 * whose rdev (Linux's major/minor) picks the driver here when opened, so
 * `mknod` makes working device files anywhere, as on Linux. Each disk
 * (mercator/blkdev.h) has a block node, /dev/vda and so on, and so has
 * each loop device: opening one gives a block device file (fs/blockdev.c).
 */
#include <mercator/blkdev.h>
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/blockdev.h>
#include <fs/file.h>
#include <fs/pipe.h>
#include <fs/tty.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>

#define MKDEV(ma, mi)   (((uint64_t)(ma) << 8) | (mi))
#define DEV_NULL        MKDEV(1, 3)
#define DEV_ZERO        MKDEV(1, 5)
#define DEV_FULL        MKDEV(1, 7)
#define DEV_RANDOM      MKDEV(1, 8)
#define DEV_URANDOM     MKDEV(1, 9)
#define DEV_TTY         MKDEV(5, 0)
#define DEV_CONSOLE     MKDEV(5, 1)
/* misc 10:257 as on Linux hosts; a minor above 255 is encoded as Linux's
 * new_encode_dev (its upper bits from bit 20) */
#define DEV_USERFAULTFD (MKDEV(10, 257 & 0xff) | ((uint64_t)(257 & ~0xff) << 12))

static long null_read(struct file *f, uint64_t ubuf, size_t len)
{
        return 0;
}

static long null_write(struct file *f, uint64_t ubuf, size_t len)
{
        return (long)len;
}

static long zero_read(struct file *f, uint64_t ubuf, size_t len)
{
        return clear_user(ubuf, len) ? -EFAULT : (long)len;
}

static long full_write(struct file *f, uint64_t ubuf, size_t len)
{
        return len ? -ENOSPC : 0;
}

/* A xorshift generator stirred with the clock: not cryptographic (the
 * timeid helper's getrandom pool is the place for that). */
static uint64_t rng_state;

static long random_read(struct file *f, uint64_t ubuf, size_t len)
{
        uint8_t chunk[256];
        size_t done = 0;

        rng_state ^= clock_monotonic_ns() * 0x9e3779b97f4a7c15ULL;
        while (done < len) {
                size_t n = MIN(len - done, sizeof chunk);
                for (size_t i = 0; i < n; i++) {
                        rng_state ^= rng_state << 13;
                        rng_state ^= rng_state >> 7;
                        rng_state ^= rng_state << 17;
                        chunk[i] = (uint8_t)(rng_state >> 32);
                }
                if (copy_to_user(ubuf + done, chunk, n))
                        return done ? (long)done : -EFAULT;
                done += n;
        }
        return (long)done;
}

static void dev_stat(struct file *f, void *st)
{
        vnode_stat(f->vnode, st);
}

static const struct file_ops null_ops = {
        .read = null_read, .write = null_write, .stat = dev_stat, .seekable = true,
};
static const struct file_ops zero_ops = {
        .read = zero_read, .write = null_write, .stat = dev_stat, .seekable = true,
};
static const struct file_ops full_ops = {
        .read = zero_read, .write = full_write, .stat = dev_stat, .seekable = true,
};
static const struct file_ops random_ops = {
        .read = random_read, .write = null_write, .stat = dev_stat, .seekable = true,
};

bool file_is_dev_zero(const struct file *f)
{
        return f->ops == &zero_ops;
}

long device_open(struct vnode *vn, unsigned flags, struct file **out)
{
        const struct file_ops *ops;
        struct file *f;

        if (S_ISBLK(vn->mode))
                return blockdev_open(vn, flags, out);
        switch (vn->rdev) {
        case DEV_LOOP_CONTROL:
                return loop_control_open(vn, flags, out);
        case DEV_USERFAULTFD: {
                long err = userfaultfd_dev_open(flags, &f);
                if (err)
                        return err;
                f->vnode = vnode_get(vn);
                *out = f;
                return 0;
        }
        case DEV_NULL:    ops = &null_ops; break;
        case DEV_ZERO:    ops = &zero_ops; break;
        case DEV_FULL:    ops = &full_ops; break;
        case DEV_RANDOM:
        case DEV_URANDOM: ops = &random_ops; break;
        case DEV_TTY:
        case DEV_CONSOLE: {
                /* /dev/tty: the caller's controlling terminal (ENXIO if
                 * none); /dev/console: the console terminal. */
                long err = 0;
                if (vn->rdev == DEV_TTY)
                        err = tty_open_controlling(flags, &f);
                else if (!(f = tty_open(flags)))
                        err = -ENOMEM;
                if (err)
                        return err;
                f->vnode = vnode_get(vn);
                *out = f;
                return 0;
        }
        default:
                return -ENXIO;
        }
        if (!(f = kzalloc(sizeof *f)))
                return -ENOMEM;
        f->ops = ops;
        f->refs = 1;
        f->flags = flags;
        f->vnode = vnode_get(vn);
        *out = f;
        return 0;
}


long fifo_open(struct vnode *vn, unsigned flags, struct file **out)
{
        long err = pipe_open_fifo(&vn->fifo, flags, out);

        if (!err)
                (*out)->vnode = vnode_get(vn);
        return err;
}

static const struct { const char *name; uint32_t mode; uint64_t rdev; } devs[] = {
        { "null",    S_IFCHR | 0666, DEV_NULL },
        { "zero",    S_IFCHR | 0666, DEV_ZERO },
        { "full",    S_IFCHR | 0666, DEV_FULL },
        { "random",  S_IFCHR | 0666, DEV_RANDOM },
        { "urandom", S_IFCHR | 0666, DEV_URANDOM },
        { "tty",     S_IFCHR | 0666, DEV_TTY },
        { "console", S_IFCHR | 0600, DEV_CONSOLE },
        { "loop-control", S_IFCHR | 0660, DEV_LOOP_CONTROL },
        { "userfaultfd", S_IFCHR | 0600, DEV_USERFAULTFD },
};

static const struct { const char *name, *target; } links[] = {
        { "fd", "/proc/self/fd" },
        { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" },
};

long devfs_populate(struct vnode *dev)
{
        struct vnode *vn;
        long err = loop_init();

        if (err)
                return err;
        for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
                err = dev->ops->create(dev, devs[i].name, strlen(devs[i].name),
                                       devs[i].mode, devs[i].rdev, &vn);
                if (err == -EEXIST)
                        continue;
                if (err)
                        return err;
                vnode_put(vn);
        }
        for (struct blkdev *d = blkdev_first(); d; d = blkdev_next(d)) {
                err = dev->ops->create(dev, d->name, strlen(d->name),
                                       S_IFBLK | 0660, d->rdev, &vn);
                if (err == -EEXIST)
                        continue;
                if (err)
                        return err;
                vnode_put(vn);
        }
        for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
                err = dev->ops->symlink(dev, links[i].name, strlen(links[i].name),
                                        links[i].target, &vn);
                if (err == -EEXIST)
                        continue;
                if (err)
                        return err;
                vnode_put(vn);
        }
        return 0;
}
