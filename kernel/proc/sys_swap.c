/*
 * sys_swap.c - swapon(2), swapoff(2) and the swap= boot option: from a
 * path (a block device node such as /dev/vda) or a disk name to
 * swap_on()/swap_off() (kernel/vm/swap.c), which read and check mkswap's
 * header and refuse a bad one with EINVAL and a console line saying
 * what is wrong.
 *
 * Linux's order of checks and errors: EINVAL for unknown flags, EPERM
 * without CAP_SYS_ADMIN, EPERM when every area is taken, the path's
 * own errors, EBUSY for an area already on, EINVAL for anything but a
 * block device (Mercator's files are all in memory: tmpfs files cannot
 * be swap on Linux either), ENXIO for a node with no disk behind it,
 * EIO when the header cannot be read, EINVAL for a bad header, ENOMEM.
 * swapoff: EPERM, the path's errors, EINVAL for a disk that is not on,
 * ENOMEM when the commit policy (vm_commit.h) would not let what is
 * committed stay without the area's pages (mode 2 only), then what
 * reading every slot back gives.
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/vfs.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/swap.h>
#include <vm/vm_commit.h>

#define SWAP_FLAG_PREFER        0x8000
#define SWAP_FLAG_PRIO_MASK     0x7fff
#define SWAP_FLAGS_VALID        (SWAP_FLAG_PRIO_MASK | SWAP_FLAG_PREFER | \
                                 0x10000 | 0x20000 | 0x40000)   /* discard */

#define AT_FDCWD                (-100)

static int least_prio;          /* the last priority given by default */

static int default_prio(void)
{
        return --least_prio - 1;
}

void swap_boot_option(const char *cmdline)
{
        for (const char *p = strstr(cmdline, "swap="); p; p = strstr(p + 1, "swap=")) {
                if (p != cmdline && p[-1] != ' ')
                        continue;
                for (p += 5; *p && *p != ' ';) {
                        char name[8], path[16] = "/dev/";
                        size_t n = 0;
                        struct blkdev *d;
                        long err;

                        while (p[n] && p[n] != ' ' && p[n] != ',')
                                n++;
                        if (n == 0 || n >= sizeof name) {
                                pr_err("swap=: bad disk name\n");
                                break;
                        }
                        memcpy(name, p, n);
                        name[n] = '\0';
                        memcpy(path + 5, name, n + 1);
                        p += n + (p[n] == ',');
                        if (!(d = blkdev_find(name))) {
                                pr_err("swap=%s: no such disk\n", name);
                                continue;
                        }
                        if ((err = swap_on(d, default_prio(), path)) != 0) {
                                least_prio++;
                                pr_err("swap=%s: not turned on (error %ld)\n",
                                       name, -err);
                        }
                }
                if (!*p)
                        break;
        }
}

static void copy_name(char *dst, const char *src, size_t size)
{
        size_t n = strlen(src);

        if (n >= size)
                n = size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* The disk behind a swapon/swapoff path: 0 and *out, or its errno.
 * name gets "/dev/" and the disk's name (what /proc/swaps shows: the
 * node may be anywhere, but the disk has one name). */
static long path_disk(sysarg_t upath, struct blkdev **out, char *name,
                      size_t size)
{
        struct vfs_path p;
        long err = vfs_resolve_user_at(AT_FDCWD, (uint64_t)upath, 0, &p);

        if (err)
                return err;
        if (!S_ISBLK(p.vn->mode))
                err = -EINVAL;
        else if (!(*out = blkdev_by_rdev(p.vn->rdev)))
                err = -ENXIO;
        else {
                copy_name(name, "/dev/", size);
                copy_name(name + 5, (*out)->name, size - 5);
        }
        vfs_path_put(&p);
        return err;
}

SYSCALL_DECL(swapon)
{
        int flags = (int)a1, prio;
        struct blkdev *d;
        char name[64] = "";
        long err;

        if (flags & ~SWAP_FLAGS_VALID)
                return -EINVAL;
        if (!current_capable(CAP_SYS_ADMIN))
                return -EPERM;
        if ((err = path_disk(a0, &d, name, sizeof name)) != 0)
                return err;
        prio = flags & SWAP_FLAG_PREFER ? flags & SWAP_FLAG_PRIO_MASK
                                        : default_prio();
        err = swap_on(d, prio, name);
        if (err && !(flags & SWAP_FLAG_PREFER))
                least_prio++;
        return err;
}

SYSCALL_DECL(swapoff)
{
        struct blkdev *d;
        char name[64] = "";
        long err;

        if (!current_capable(CAP_SYS_ADMIN))
                return -EPERM;
        if ((err = path_disk(a0, &d, name, sizeof name)) != 0)
                return err;
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                struct swap_dev *sd = swap_dev_get(i);

                if (sd && sd->dev == d) {
                        int prio = sd->prio;

                        /* What is committed must still fit without the
                         * area (Linux's security_vm_enough_memory_mm for
                         * its pages: only mode 2 can refuse). */
                        if (vm_commit_check(current->space,
                                            sd->area.usable) != VM_OK)
                                return -ENOMEM;
                        if ((err = swap_off(d)) == 0 && prio < 0)
                                least_prio++;   /* as Linux gives it back */
                        return err;
                }
        }
        return -EINVAL;
}
