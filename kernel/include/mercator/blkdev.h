/*
 * blkdev.h - disks, as the machine-independent kernel sees them: a named
 * array of 512-byte sectors read and written by DMA from physically
 * contiguous memory. A driver (x86-64: kernel/arch/x86_64/virtio_blk.c)
 * registers each disk it finds; swap (kernel/vm/swap.c) finds them by
 * name. Requests complete asynchronously: blkdev_submit() queues one,
 * blkdev_wait() returns once the device has answered it.
 */
#ifndef MERCATOR_BLKDEV_H
#define MERCATOR_BLKDEV_H

#include <mercator/types.h>

#define BLK_SECTOR_SHIFT        9
#define BLK_SECTOR_SIZE         512u
#define BLK_PENDING             1       /* blk_req.status while queued */

struct blkdev;

/* One transfer. The caller owns it until blkdev_wait() returned. */
struct blk_req {
        uint64_t sector;        /* first sector */
        paddr_t  pa;            /* physically contiguous buffer */
        uint32_t bytes;         /* a multiple of BLK_SECTOR_SIZE, > 0 */
        bool     write;         /* to the disk (else from it) */
        int      status;        /* BLK_PENDING, then 0 or -EIO */
        unsigned slot;          /* the driver's */
};

struct blkdev_ops {
        /* Queue r (status BLK_PENDING); may wait for room in the queue.
         * => 0, or -errno with nothing queued. */
        int  (*submit)(struct blkdev *d, struct blk_req *r);
        /* Return once r->status is no longer BLK_PENDING. */
        void (*wait)(struct blkdev *d, struct blk_req *r);
};

struct blkdev {
        char     name[8];       /* "vda", "vdb", ... as Linux names them */
        uint64_t sectors;       /* capacity */
        bool     read_only;
        const struct blkdev_ops *ops;
        void    *priv;          /* the driver's */
        uint64_t rdev;          /* its device number (blkdev_register) */
        uint64_t reads, writes; /* requests completed (either outcome) */
        uint64_t errors;        /* of which failed */
        struct blkdev *next;    /* the registry's list */
};

/* Add d to the registry (drivers, at boot). Disk i gets Linux's
 * virtio-blk numbers as Debian's kernel gives them: major 254, minor 16 i
 * (/dev/vda, /dev/vdb, ... in devfs). */
void blkdev_register(struct blkdev *d);
/* Add d with device number rdev (loop devices: 7, n); take it out. */
void blkdev_register_as(struct blkdev *d, uint64_t rdev);
void blkdev_unregister(struct blkdev *d);
/* The disk whose device number is rdev, or NULL. */
struct blkdev *blkdev_by_rdev(uint64_t rdev);
/* The disk called name, or NULL. */
struct blkdev *blkdev_find(const char *name);
/* The first registered disk, and the one after d (NULL at the end). */
struct blkdev *blkdev_first(void);
struct blkdev *blkdev_next(struct blkdev *d);

/* Check r against d (size, alignment, range, read-only), then queue it.
 * => 0; -EINVAL for a request outside the disk or not whole sectors;
 *    -EROFS for a write to a read-only disk. */
int blkdev_submit(struct blkdev *d, struct blk_req *r);
/* Bytes every request blkdev_submit() accepted moved from and to the
 * disks, whoever asked (swap, a file system, a block device file, a loop
 * device): /proc/vmstat's pgpgin and pgpgout, as Linux counts its bios. */
extern uint64_t blkdev_bytes_read, blkdev_bytes_written;
void blkdev_wait(struct blkdev *d, struct blk_req *r);
/* submit + wait: => 0, -EINVAL, -EROFS or -EIO. */
int blkdev_rw(struct blkdev *d, bool write, uint64_t sector, paddr_t pa,
              uint32_t bytes);

#endif
