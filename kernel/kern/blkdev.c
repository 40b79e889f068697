/*
 * blkdev.c - the registry of disks and the checks every request passes
 * before it reaches a driver (blkdev.h).
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/string.h>

#define BLKDEV_MAJOR    254u

static struct blkdev *disks;            /* in registration order */
uint64_t blkdev_bytes_read, blkdev_bytes_written;

void blkdev_register(struct blkdev *d)
{
        struct blkdev **pp = &disks;
        unsigned i = 0;

        while (*pp) {
                if ((*pp)->rdev >> 8 == BLKDEV_MAJOR)
                        i++;
                pp = &(*pp)->next;
        }
        d->rdev = BLKDEV_MAJOR << 8 | 16 * i;
        d->next = NULL;
        *pp = d;
}

void blkdev_register_as(struct blkdev *d, uint64_t rdev)
{
        struct blkdev **pp = &disks;

        while (*pp)
                pp = &(*pp)->next;
        d->rdev = rdev;
        d->next = NULL;
        *pp = d;
}

void blkdev_unregister(struct blkdev *d)
{
        for (struct blkdev **pp = &disks; *pp; pp = &(*pp)->next)
                if (*pp == d) {
                        *pp = d->next;
                        return;
                }
}

struct blkdev *blkdev_find(const char *name)
{
        for (struct blkdev *d = disks; d; d = d->next)
                if (strcmp(d->name, name) == 0)
                        return d;
        return NULL;
}

struct blkdev *blkdev_by_rdev(uint64_t rdev)
{
        for (struct blkdev *d = disks; d; d = d->next)
                if (d->rdev == rdev)
                        return d;
        return NULL;
}

struct blkdev *blkdev_first(void)
{
        return disks;
}

struct blkdev *blkdev_next(struct blkdev *d)
{
        return d->next;
}

int blkdev_submit(struct blkdev *d, struct blk_req *r)
{
        uint64_t n = r->bytes >> BLK_SECTOR_SHIFT;

        if (r->bytes == 0 || r->bytes % BLK_SECTOR_SIZE ||
            r->sector >= d->sectors || n > d->sectors - r->sector)
                return -EINVAL;
        if (r->write && d->read_only)
                return -EROFS;
        r->status = BLK_PENDING;
        if (r->write)
                blkdev_bytes_written += r->bytes;
        else
                blkdev_bytes_read += r->bytes;
        return d->ops->submit(d, r);
}

void blkdev_wait(struct blkdev *d, struct blk_req *r)
{
        d->ops->wait(d, r);
}

int blkdev_rw(struct blkdev *d, bool write, uint64_t sector, paddr_t pa,
              uint32_t bytes)
{
        struct blk_req r = { .sector = sector, .pa = pa, .bytes = bytes,
                             .write = write };
        int err = blkdev_submit(d, &r);

        if (err)
                return err;
        blkdev_wait(d, &r);
        return r.status;
}
