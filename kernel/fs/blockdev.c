/*
 * blockdev.c - block device files and the loop driver (fs/blockdev.h).
 *
 * A block device file moves bytes through one bounce page: a transfer is
 * cut at page boundaries of the disk, each piece reads the sectors it
 * covers (a write reads them first only when it covers a sector in
 * part), copies, and writes them back. The disk is the only copy: no
 * buffer cache sits in front of it.
 *
 * A loop device is a struct blkdev whose requests are served at once, in
 * submit, by reading or writing its backing file through the VFS
 * (vnode_read/vnode_write with kernel memory), so any regular file with a
 * page cache can back it.
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/blockdev.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>

#define O_ACCMODE       3
#define O_WRONLY        1
#define O_RDWR          2

/* --- byte transfers --------------------------------------------------- */

/* A kernel page to stage sectors in: => its address and *pg, or NULL. */
static void *bounce_get(struct vm_page **pg)
{
        if (!(*pg = pmm_alloc_pages(0, 0)))
                return NULL;
        return pmap_kmem_va(pmm_page_to_pa(*pg));
}

/*
 * Move len bytes at byte offset off of d between the disk and buf (a
 * user address if user): one page-sized piece of the disk at a time.
 * => bytes moved (short at an error after some were), or -errno.
 */
static long bdev_transfer(struct blkdev *d, bool write, uint64_t off,
                          uint64_t buf, size_t len, bool user)
{
        uint64_t size = d->sectors << BLK_SECTOR_SHIFT;
        struct vm_page *pg;
        uint8_t *kva;
        size_t done = 0;
        long err = 0;

        if (off >= size || len == 0)
                return 0;
        len = (size_t)MIN((uint64_t)len, size - off);
        if (!(kva = bounce_get(&pg)))
                return -ENOMEM;
        paddr_t pa = pmm_page_to_pa(pg);
        while (done < len) {
                uint64_t pos = off + done;
                uint64_t base = pos & ~(uint64_t)PAGE_MASK;
                size_t in = pos & PAGE_MASK;
                size_t n = MIN(PAGE_SIZE - in, len - done);
                size_t s0 = in >> BLK_SECTOR_SHIFT;
                size_t s1 = (in + n + BLK_SECTOR_SIZE - 1) >> BLK_SECTOR_SHIFT;
                uint64_t sector = (base >> BLK_SECTOR_SHIFT) + s0;
                uint32_t bytes = (uint32_t)((s1 - s0) << BLK_SECTOR_SHIFT);
                bool partial = (in & (BLK_SECTOR_SIZE - 1)) ||
                               ((in + n) & (BLK_SECTOR_SIZE - 1));

                if (!write || partial) {
                        err = blkdev_rw(d, false, sector,
                                        pa + (s0 << BLK_SECTOR_SHIFT), bytes);
                        if (err)
                                break;
                }
                if (write) {
                        if (user ? copy_from_user(kva + in, buf + done, n) != 0
                                 : (memcpy(kva + in, (void *)(uintptr_t)(buf + done), n), false)) {
                                err = -EFAULT;
                                break;
                        }
                        err = blkdev_rw(d, true, sector,
                                        pa + (s0 << BLK_SECTOR_SHIFT), bytes);
                        if (err)
                                break;
                } else if (user) {
                        if (copy_to_user(buf + done, kva + in, n)) {
                                err = -EFAULT;
                                break;
                        }
                } else {
                        memcpy((void *)(uintptr_t)(buf + done), kva + in, n);
                }
                done += n;
        }
        pmm_free_pages(pg, 0);
        return done ? (long)done : err;
}

long blockdev_rw_bytes(struct blkdev *d, bool write, uint64_t off,
                       void *buf, size_t len)
{
        uint64_t size = d->sectors << BLK_SECTOR_SHIFT;

        if (off > size || len > size - off)
                return -EINVAL;
        if (len == 0)
                return 0;
        long n = bdev_transfer(d, write, off, (uint64_t)(uintptr_t)buf, len,
                               false);
        if (n < 0)
                return n;
        return (size_t)n == len ? 0 : -EIO;
}

/* --- loop devices ------------------------------------------------------ */

#define LOOP_MAX                256     /* minors of major 7 */
#define LOOP_BOOT_COUNT         8       /* Debian: BLK_DEV_LOOP_MIN_COUNT */
#define LO_NAME_SIZE            64
#define LO_KEY_SIZE             32

#define LO_FLAGS_READ_ONLY      1
#define LO_FLAGS_AUTOCLEAR      4
#define LO_FLAGS_PARTSCAN       8
#define LO_FLAGS_DIRECT_IO      16
#define LO_SETTABLE             (LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN)

struct loopdev {
        struct blkdev   disk;           /* first: disk -> loopdev */
        unsigned        number;
        struct file    *backing;        /* a reference, or NULL: unbound */
        uint64_t        offset;         /* bytes skipped in the file */
        uint64_t        sizelimit;      /* 0: up to the file's end */
        uint32_t        flags;          /* LO_FLAGS_* */
        uint32_t        block_size;     /* logical (BLKSSZGET) */
        unsigned        opens;          /* open files of the device */
        unsigned        holders;        /* mounts */
        char            file_name[LO_NAME_SIZE];
        uint8_t         crypt_name[LO_NAME_SIZE];
};

static struct loopdev *loops[LOOP_MAX];

static const struct blkdev_ops loop_ops;

static bool is_loop(const struct blkdev *d)
{
        return d->ops == &loop_ops;
}

static struct loopdev *loop_of(struct blkdev *d)
{
        return (struct loopdev *)d;
}

/* One request, done now: the backing file's bytes, page by page (the
 * buffer is physically contiguous but may lie above kernel memory). */
static int loop_submit(struct blkdev *d, struct blk_req *r)
{
        struct loopdev *lo = loop_of(d);
        struct vnode *vn = lo->backing ? file_vnode(lo->backing) : NULL;
        uint64_t pos = lo->offset + (r->sector << BLK_SECTOR_SHIFT);
        uint32_t done = 0;
        int status = 0;

        if (!vn) {
                r->status = -EIO;
                d->reads++;
                d->errors++;
                return 0;
        }
        while (done < r->bytes) {
                paddr_t pa = r->pa + done;
                uint32_t in = (uint32_t)(pa & PAGE_MASK);
                uint32_t n = MIN((uint32_t)PAGE_SIZE - in, r->bytes - done);
                uint8_t *va = (uint8_t *)pmap_quick_enter_page(pa - in) + in;
                long got;

                if (r->write) {
                        got = vnode_write(vn, pos + done,
                                          (uint64_t)(uintptr_t)va, n, false);
                } else {
                        got = vnode_read(vn, pos + done,
                                         (uint64_t)(uintptr_t)va, n, false);
                        /* Past the file's end (it shrank): zeroes. */
                        if (got >= 0 && (uint32_t)got < n)
                                memset(va + got, 0, n - (uint32_t)got);
                        if (got >= 0)
                                got = n;
                }
                pmap_quick_remove_page(va - in);
                if (got != (long)n) {
                        status = -EIO;
                        break;
                }
                done += n;
        }
        r->status = status;
        if (r->write)
                d->writes++;
        else
                d->reads++;
        if (status)
                d->errors++;
        return 0;
}

static void loop_wait(struct blkdev *d, struct blk_req *r)
{
        (void)d;
        (void)r;
}

static const struct blkdev_ops loop_ops = {
        .submit = loop_submit, .wait = loop_wait,
};

/* The disk size the binding gives: whole sectors of the file past the
 * offset, at most sizelimit. */
static void loop_size(struct loopdev *lo)
{
        struct vnode *vn = lo->backing ? file_vnode(lo->backing) : NULL;
        uint64_t bytes = 0;

        if (vn && vn->size > lo->offset)
                bytes = vn->size - lo->offset;
        if (lo->sizelimit && bytes > lo->sizelimit)
                bytes = lo->sizelimit;
        lo->disk.sectors = bytes >> BLK_SECTOR_SHIFT;
}

static void loop_detach(struct loopdev *lo)
{
        struct file *f = lo->backing;

        lo->backing = NULL;
        lo->offset = lo->sizelimit = 0;
        lo->flags = 0;
        lo->block_size = BLK_SECTOR_SIZE;
        memset(lo->file_name, 0, sizeof lo->file_name);
        memset(lo->crypt_name, 0, sizeof lo->crypt_name);
        lo->disk.sectors = 0;
        lo->disk.read_only = false;
        if (f)
                file_put(f);
}

/* The /dev node of loop device lo: made or removed (devtmpfs's work). */
static void loop_node(struct loopdev *lo, bool make)
{
        struct vfs_path p;
        struct vnode *vn;
        size_t len = strlen(lo->disk.name);

        if (!vfs_root || vfs_resolve(vfs_root, vfs_root, "/dev", 0, &p))
                return;
        if (make && p.vn->ops->create &&
            p.vn->ops->create(p.vn, lo->disk.name, len, S_IFBLK | 0660,
                              lo->disk.rdev, &vn) == 0)
                vnode_put(vn);
        if (!make && p.vn->ops->lookup &&
            p.vn->ops->lookup(p.vn, lo->disk.name, len, &vn) == 0) {
                if (S_ISBLK(vn->mode) && vn->rdev == lo->disk.rdev &&
                    p.vn->ops->unlink)
                        p.vn->ops->unlink(p.vn, lo->disk.name, len);
                vnode_put(vn);
        }
        vfs_path_put(&p);
}

static long loop_add(unsigned n, bool node)
{
        struct loopdev *lo;

        if (n >= LOOP_MAX)
                return -EINVAL;
        if (loops[n])
                return -EEXIST;
        if (!(lo = kzalloc(sizeof *lo)))
                return -ENOMEM;
        lo->number = n;
        lo->block_size = BLK_SECTOR_SIZE;
        lo->disk.ops = &loop_ops;
        lo->disk.priv = lo;
        memcpy(lo->disk.name, "loop", 4);
        if (n >= 100) {
                lo->disk.name[4] = (char)('0' + n / 100);
                lo->disk.name[5] = (char)('0' + n / 10 % 10);
                lo->disk.name[6] = (char)('0' + n % 10);
        } else if (n >= 10) {
                lo->disk.name[4] = (char)('0' + n / 10);
                lo->disk.name[5] = (char)('0' + n % 10);
        } else {
                lo->disk.name[4] = (char)('0' + n);
        }
        blkdev_register_as(&lo->disk, (LOOP_MAJOR << 8) | n);
        loops[n] = lo;
        if (node)
                loop_node(lo, true);
        return (long)n;
}

long loop_init(void)
{
        vfs_disks_down = loop_shutdown;
        vfs_ext2_new_sb = ext2_new_sb;
        for (unsigned i = 0; i < LOOP_BOOT_COUNT; i++) {
                long err = loop_add(i, false);
                if (err < 0 && err != -EEXIST)
                        return err;
        }
        return 0;
}

/* Power-off: every loop device goes (unbound first). */
void loop_shutdown(void)
{
        for (unsigned i = 0; i < LOOP_MAX; i++) {
                if (!loops[i])
                        continue;
                loop_detach(loops[i]);
                blkdev_unregister(&loops[i]->disk);
                kfree(loops[i]);
                loops[i] = NULL;
        }
}

/* Linux's struct loop_info64 (the same on every architecture). */
struct loop_info64 {
        uint64_t lo_device, lo_inode, lo_rdevice, lo_offset, lo_sizelimit;
        uint32_t lo_number, lo_encrypt_type, lo_encrypt_key_size, lo_flags;
        uint8_t  lo_file_name[LO_NAME_SIZE];
        uint8_t  lo_crypt_name[LO_NAME_SIZE];
        uint8_t  lo_encrypt_key[LO_KEY_SIZE];
        uint64_t lo_init[2];
};

/* Linux's old struct loop_info, whose __kernel_old_dev_t differs. */
#if defined(__x86_64__)
typedef unsigned long lo_old_dev_t;
#elif defined(__i386__)
typedef unsigned short lo_old_dev_t;
#else
typedef unsigned int lo_old_dev_t;
#endif
struct loop_info {
        int           lo_number;
        lo_old_dev_t  lo_device;
        unsigned long lo_inode;
        lo_old_dev_t  lo_rdevice;
        int           lo_offset;
        int           lo_encrypt_type;
        int           lo_encrypt_key_size;
        int           lo_flags;
        char          lo_name[LO_NAME_SIZE];
        unsigned char lo_encrypt_key[LO_KEY_SIZE];
        unsigned long lo_init[2];
        char          reserved[4];
};

struct loop_config {
        uint32_t fd;
        uint32_t block_size;
        struct loop_info64 info;
        uint64_t reserved[8];
};

#define LOOP_SET_FD             0x4C00
#define LOOP_CLR_FD             0x4C01
#define LOOP_SET_STATUS         0x4C02
#define LOOP_GET_STATUS         0x4C03
#define LOOP_SET_STATUS64       0x4C04
#define LOOP_GET_STATUS64       0x4C05
#define LOOP_CHANGE_FD          0x4C06
#define LOOP_SET_CAPACITY       0x4C07
#define LOOP_SET_DIRECT_IO      0x4C08
#define LOOP_SET_BLOCK_SIZE     0x4C09
#define LOOP_CONFIGURE          0x4C0A
#define LOOP_CTL_ADD            0x4C80
#define LOOP_CTL_REMOVE         0x4C81
#define LOOP_CTL_GET_FREE       0x4C82

/* Apply status fields common to both layouts (Linux's loop_set_status). */
static long loop_set_status(struct loopdev *lo, uint64_t offset,
                            uint64_t sizelimit, uint32_t flags,
                            const void *name, size_t namelen)
{
        if (!lo->backing)
                return -ENXIO;
        if (offset != lo->offset || sizelimit != lo->sizelimit) {
                if (lo->holders)
                        return -EBUSY;
                lo->offset = offset;
                lo->sizelimit = sizelimit;
        }
        lo->flags = (lo->flags & ~(uint32_t)LO_SETTABLE) | (flags & LO_SETTABLE);
        memcpy(lo->file_name, name, MIN(namelen, sizeof lo->file_name));
        lo->file_name[LO_NAME_SIZE - 1] = '\0';
        loop_size(lo);
        return 0;
}

static void loop_fill_info64(const struct loopdev *lo, struct loop_info64 *info)
{
        struct vnode *vn = file_vnode(lo->backing);

        memset(info, 0, sizeof *info);
        info->lo_device = vn ? vn->sb->dev : 0;
        info->lo_inode = vn ? vn->ino : 0;
        info->lo_rdevice = vn ? vn->rdev : 0;
        info->lo_offset = lo->offset;
        info->lo_sizelimit = lo->sizelimit;
        info->lo_number = lo->number;
        info->lo_flags = lo->flags;
        memcpy(info->lo_file_name, lo->file_name, LO_NAME_SIZE);
        memcpy(info->lo_crypt_name, lo->crypt_name, LO_NAME_SIZE);
}

/* Bind lo to the file open at fd (LOOP_SET_FD, LOOP_CONFIGURE). */
static long loop_bind(struct loopdev *lo, struct file *devf, int fd,
                      uint32_t block_size)
{
        struct file *f = fd_get(fd);
        struct vnode *vn;

        if (!f)
                return -EBADF;
        if (lo->backing)
                return -EBUSY;
        vn = file_vnode(f);
        if (!vn || !S_ISREG(vn->mode) || !vn->obj)
                return -EINVAL;
        if (block_size && (block_size < BLK_SECTOR_SIZE ||
                           block_size > PAGE_SIZE ||
                           (block_size & (block_size - 1))))
                return -EINVAL;
        lo->backing = file_get(f);
        lo->offset = lo->sizelimit = 0;
        lo->block_size = block_size ? block_size : BLK_SECTOR_SIZE;
        lo->flags = 0;
        if ((f->flags & O_ACCMODE) == 0 || (devf->flags & O_ACCMODE) == 0) {
                lo->flags |= LO_FLAGS_READ_ONLY;
                lo->disk.read_only = true;
        } else {
                lo->disk.read_only = false;
        }
        loop_size(lo);
        return 0;
}

static long loop_ioctl(struct file *f, struct loopdev *lo, unsigned cmd,
                       uint64_t arg)
{
        long err;

        switch (cmd) {
        case LOOP_SET_FD:
                return loop_bind(lo, f, (int)arg, 0);
        case LOOP_CONFIGURE: {
                struct loop_config c;
                if (copy_from_user(&c, arg, sizeof c))
                        return -EFAULT;
                for (unsigned i = 0; i < 8; i++)
                        if (c.reserved[i])
                                return -EINVAL;
                if (c.info.lo_flags & ~(uint32_t)(LO_SETTABLE | LO_FLAGS_READ_ONLY |
                                                  LO_FLAGS_DIRECT_IO))
                        return -EINVAL;
                if ((err = loop_bind(lo, f, (int)c.fd, c.block_size)) != 0)
                        return err;
                err = loop_set_status(lo, c.info.lo_offset, c.info.lo_sizelimit,
                                      c.info.lo_flags, c.info.lo_file_name,
                                      LO_NAME_SIZE);
                if (!err && (c.info.lo_flags & LO_FLAGS_READ_ONLY)) {
                        lo->flags |= LO_FLAGS_READ_ONLY;
                        lo->disk.read_only = true;
                }
                if (err)
                        loop_detach(lo);
                return err;
        }
        case LOOP_CLR_FD:
                if (!lo->backing)
                        return -ENXIO;
                if (lo->opens + lo->holders > 1) {
                        /* Others hold it: it goes at the last release. */
                        lo->flags |= LO_FLAGS_AUTOCLEAR;
                        return 0;
                }
                loop_detach(lo);
                return 0;
        case LOOP_SET_STATUS64: {
                struct loop_info64 info;
                if (copy_from_user(&info, arg, sizeof info))
                        return -EFAULT;
                return loop_set_status(lo, info.lo_offset, info.lo_sizelimit,
                                       info.lo_flags, info.lo_file_name,
                                       LO_NAME_SIZE);
        }
        case LOOP_GET_STATUS64: {
                struct loop_info64 info;
                if (!arg)
                        return -EINVAL;
                if (!lo->backing)
                        return -ENXIO;
                loop_fill_info64(lo, &info);
                return copy_to_user(arg, &info, sizeof info) ? -EFAULT : 0;
        }
        case LOOP_SET_STATUS: {
                struct loop_info info;
                if (copy_from_user(&info, arg, sizeof info))
                        return -EFAULT;
                if (info.lo_offset < 0)
                        return -EINVAL;
                return loop_set_status(lo, (uint64_t)info.lo_offset,
                                       lo->sizelimit, (uint32_t)info.lo_flags,
                                       info.lo_name, LO_NAME_SIZE);
        }
        case LOOP_GET_STATUS: {
                struct loop_info64 i64;
                struct loop_info info;
                if (!arg)
                        return -EINVAL;
                if (!lo->backing)
                        return -ENXIO;
                loop_fill_info64(lo, &i64);
                if (i64.lo_offset > INT32_MAX)
                        return -EOVERFLOW;
                memset(&info, 0, sizeof info);
                info.lo_number = (int)i64.lo_number;
                info.lo_device = (lo_old_dev_t)i64.lo_device;
                info.lo_inode = (unsigned long)i64.lo_inode;
                info.lo_rdevice = (lo_old_dev_t)i64.lo_rdevice;
                info.lo_offset = (int)i64.lo_offset;
                info.lo_flags = (int)i64.lo_flags;
                memcpy(info.lo_name, i64.lo_file_name, LO_NAME_SIZE);
                return copy_to_user(arg, &info, sizeof info) ? -EFAULT : 0;
        }
        case LOOP_SET_CAPACITY:
                if (!lo->backing)
                        return -ENXIO;
                loop_size(lo);
                return 0;
        case LOOP_SET_DIRECT_IO:
                if (!lo->backing)
                        return -ENXIO;
                /* The page cache is the only path to the file. */
                return arg ? -EINVAL : 0;
        case LOOP_SET_BLOCK_SIZE:
                if (!lo->backing)
                        return -ENXIO;
                if (arg < BLK_SECTOR_SIZE || arg > PAGE_SIZE || (arg & (arg - 1)))
                        return -EINVAL;
                lo->block_size = (uint32_t)arg;
                return 0;
        case LOOP_CHANGE_FD:
                return -EINVAL;         /* only for read-only devices */
        }
        return -ENOTTY;
}

/* --- block device files ------------------------------------------------ */

#define BLKROSET        0x125d
#define BLKROGET        0x125e
#define BLKRRPART       0x125f
#define BLKGETSIZE      0x1260
#define BLKFLSBUF       0x1261
#define BLKSSZGET       0x1268
#define BLKDISCARD      0x1277
#define BLKIOMIN        0x1278
#define BLKIOOPT        0x1279
#define BLKALIGNOFF     0x127a
#define BLKPBSZGET      0x127b
#define BLKDISCARDZEROES 0x127c
/* _IOR(0x12, n, size_t): the size field is 8 or 4 by architecture. */
#define IOC_NRTYPE(cmd) ((cmd) & 0xffff)
#define IOC_DIR_READ(cmd) (((cmd) >> 30) == 2)
#define BLKBSZGET_NR    0x1270
#define BLKGETSIZE64_NR 0x1272

static struct blkdev *fdisk(const struct file *f)
{
        return (struct blkdev *)(uintptr_t)f->node;
}

bool file_is_blockdev(const struct file *f);

static long bfile_read(struct file *f, uint64_t ubuf, size_t len)
{
        long n = bdev_transfer(fdisk(f), false, f->offset, ubuf, len, true);

        if (n > 0)
                f->offset += (uint64_t)n;
        return n;
}

static long bfile_write(struct file *f, uint64_t ubuf, size_t len)
{
        struct blkdev *d = fdisk(f);
        uint64_t size = d->sectors << BLK_SECTOR_SHIFT;
        long n;

        if (len == 0)
                return 0;
        if (d->read_only)
                return -EPERM;
        if (f->offset >= size)
                return -ENOSPC;
        n = bdev_transfer(d, true, f->offset, ubuf, len, true);
        if (n > 0)
                f->offset += (uint64_t)n;
        return n;
}

static void bfile_stat(struct file *f, void *st)
{
        vnode_stat(f->vnode, st);
}

static void bfile_release(struct file *f)
{
        struct blkdev *d = fdisk(f);

        if (is_loop(d)) {
                struct loopdev *lo = loop_of(d);
                if (lo->opens)
                        lo->opens--;
                if (!lo->opens && !lo->holders &&
                    (lo->flags & LO_FLAGS_AUTOCLEAR) && lo->backing)
                        loop_detach(lo);
        }
}

static long put_u64(uint64_t arg, uint64_t v, bool wide)
{
        if (wide)
                return copy_to_user(arg, &v, sizeof v) ? -EFAULT : 0;
        uint32_t w = (uint32_t)v;
        return copy_to_user(arg, &w, sizeof w) ? -EFAULT : 0;
}

static long put_int(uint64_t arg, int v)
{
        return copy_to_user(arg, &v, sizeof v) ? -EFAULT : 0;
}

static long bfile_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
        struct blkdev *d = fdisk(f);
        uint32_t lbs = is_loop(d) ? loop_of(d)->block_size : BLK_SECTOR_SIZE;
        bool wide = sizeof(long) == 8;

        if (IOC_DIR_READ(cmd) && IOC_NRTYPE(cmd) == BLKGETSIZE64_NR)
                return put_u64(arg, d->sectors << BLK_SECTOR_SHIFT, true);
        if (IOC_DIR_READ(cmd) && IOC_NRTYPE(cmd) == BLKBSZGET_NR)
                return put_int(arg, (int)MAX(lbs, (uint32_t)PAGE_SIZE));
        switch (cmd) {
        case BLKGETSIZE:
                /* unsigned long: EFBIG when it does not fit, as Linux. */
                if (!wide && d->sectors > UINT32_MAX)
                        return -EFBIG;
                return put_u64(arg, d->sectors, wide);
        case BLKSSZGET:
                return put_int(arg, (int)lbs);
        case BLKPBSZGET:
        case BLKIOMIN:
                return put_int(arg, (int)lbs);
        case BLKIOOPT:
        case BLKALIGNOFF:
        case BLKDISCARDZEROES:
                return put_int(arg, 0);
        case BLKROGET:
                return put_int(arg, d->read_only);
        case BLKFLSBUF:
                /* No buffer cache to flush; Linux asks CAP_SYS_ADMIN. */
                return current_capable(CAP_SYS_ADMIN) ? 0 : -EACCES;
        case BLKDISCARD:
                if ((f->flags & O_ACCMODE) == 0)
                        return -EBADF;
                return -EOPNOTSUPP;
        case BLKRRPART:
                return -EINVAL;         /* no partition tables */
        }
        if (is_loop(d))
                return loop_ioctl(f, loop_of(d), cmd, arg);
        return -ENOTTY;
}

static const struct file_ops bfile_ops = {
        .read = bfile_read, .write = bfile_write, .stat = bfile_stat,
        .release = bfile_release, .ioctl = bfile_ioctl, .seekable = true,
};

bool file_is_blockdev(const struct file *f)
{
        return f->ops == &bfile_ops;
}

uint64_t blockdev_file_size(const struct file *f)
{
        return fdisk(f)->sectors << BLK_SECTOR_SHIFT;
}

long blockdev_open(struct vnode *vn, unsigned flags, struct file **out)
{
        struct blkdev *d = blkdev_by_rdev(vn->rdev);
        struct file *f;

        if (!d)
                return -ENXIO;
        if ((flags & O_ACCMODE) != 0 && d->read_only && !is_loop(d))
                return -EROFS;
        if (!(f = kzalloc(sizeof *f)))
                return -ENOMEM;
        f->ops = &bfile_ops;
        f->refs = 1;
        f->flags = flags;
        f->node = d;
        f->vnode = vnode_get(vn);
        if (is_loop(d))
                loop_of(d)->opens++;
        *out = f;
        return 0;
}

long blockdev_hold(struct blkdev *d)
{
        if (is_loop(d)) {
                if (!loop_of(d)->backing)
                        return -ENXIO;
                loop_of(d)->holders++;
        }
        return 0;
}

void blockdev_release(struct blkdev *d)
{
        if (is_loop(d)) {
                struct loopdev *lo = loop_of(d);
                if (lo->holders)
                        lo->holders--;
                if (!lo->opens && !lo->holders &&
                    (lo->flags & LO_FLAGS_AUTOCLEAR) && lo->backing)
                        loop_detach(lo);
        }
}

/* --- /dev/loop-control ------------------------------------------------- */

static long ctl_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
        (void)f;
        switch (cmd) {
        case LOOP_CTL_GET_FREE:
                for (unsigned i = 0; i < LOOP_MAX; i++)
                        if (loops[i] && !loops[i]->backing)
                                return (long)i;
                for (unsigned i = 0; i < LOOP_MAX; i++)
                        if (!loops[i])
                                return loop_add(i, true);
                return -ENOSPC;
        case LOOP_CTL_ADD:
                if (arg >= LOOP_MAX)
                        return -EINVAL;
                return loop_add((unsigned)arg, true);
        case LOOP_CTL_REMOVE:
                if (arg >= LOOP_MAX || !loops[arg])
                        return -ENODEV;
                if (loops[arg]->backing || loops[arg]->opens || loops[arg]->holders)
                        return -EBUSY;
                loop_node(loops[arg], false);
                blkdev_unregister(&loops[arg]->disk);
                kfree(loops[arg]);
                loops[arg] = NULL;
                return 0;
        }
        return -ENOTTY;
}

static long ctl_rw(struct file *f, uint64_t ubuf, size_t len)
{
        (void)f; (void)ubuf; (void)len;
        return -EINVAL;
}

static void ctl_stat(struct file *f, void *st)
{
        vnode_stat(f->vnode, st);
}

static const struct file_ops ctl_ops = {
        .read = ctl_rw, .write = ctl_rw, .stat = ctl_stat, .ioctl = ctl_ioctl,
};

long loop_control_open(struct vnode *vn, unsigned flags, struct file **out)
{
        struct file *f;

        if (!(f = kzalloc(sizeof *f)))
                return -ENOMEM;
        f->ops = &ctl_ops;
        f->refs = 1;
        f->flags = flags;
        f->vnode = vnode_get(vn);
        *out = f;
        return 0;
}
