/*
 * blockdev.h - disks as files, and the loop driver (fs/blockdev.c).
 *
 * Opening a block device node (S_IFBLK: /dev/vda, /dev/loop0, or any
 * mknod'ed node with the same numbers) gives a file that reads and writes
 * the disk at byte offsets, as Linux's block device files do: the size is
 * the disk's (lseek SEEK_END), reads stop at the end, writes past it are
 * ENOSPC, and the BLK* ioctls answer its geometry. There is no buffer
 * cache in front of the disk: every read and write goes to the driver
 * (through a bounce page), so a file system mounted on the disk and a
 * program writing the node see the disk itself.
 *
 * A loop device (Linux's major 7) is a disk whose sectors are the bytes
 * of a regular file (tmpfs or any other file system): LOOP_SET_FD /
 * LOOP_CONFIGURE bind it to an open file, LOOP_SET_STATUS(64) sets the
 * offset, size limit, name and flags, LOOP_CLR_FD unbinds it (at the last
 * close when others still hold it, as Linux's autoclear). /dev/loop-control
 * (10:237) finds a free one (LOOP_CTL_GET_FREE, making a new device and
 * its /dev node when all are bound) and adds one (LOOP_CTL_ADD).
 */
#ifndef FS_BLOCKDEV_H
#define FS_BLOCKDEV_H

#include <mercator/blkdev.h>
#include <mercator/types.h>

struct vnode;
struct file;

#define LOOP_MAJOR      7u
#define DEV_LOOP_CONTROL ((10u << 8) | 237u)

/* Open block device node vn (S_IFBLK): the file, or -ENXIO when no disk
 * has its numbers. */
long blockdev_open(struct vnode *vn, unsigned flags, struct file **out);
/* Open /dev/loop-control. */
long loop_control_open(struct vnode *vn, unsigned flags, struct file **out);
/* Make the boot-time loop devices (loop0..loop7, as Debian's kernel),
 * before /dev is populated. => 0 or -ENOMEM. */
long loop_init(void);
/* Power-off (vfs_shutdown, after the disk file systems): unbind and free every loop device. */
void loop_shutdown(void);

/* The size in bytes of the disk behind block device file f (lseek). */
uint64_t blockdev_file_size(const struct file *f);
/* Is f a block device file? */
bool file_is_blockdev(const struct file *f);

/*
 * Holders: a mounted file system holds its disk so that a loop device
 * is not unbound under it (LOOP_CLR_FD then only marks it to go at the
 * last release). blockdev_hold() => 0, -ENXIO (no disk or an unbound
 * loop device).
 */
long blockdev_hold(struct blkdev *d);
void blockdev_release(struct blkdev *d);

/* Byte-granular transfer to or from kernel memory buf (any alignment):
 * => 0, -EINVAL (past the end), -EIO, -EROFS, -ENOMEM. */
long blockdev_rw_bytes(struct blkdev *d, bool write, uint64_t off,
                       void *buf, size_t len);

#endif
