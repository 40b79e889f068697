/*
 * sys_swap.c - the active swap areas: swapon(2), swapoff(2), /proc/swaps
 * and the totals of /proc/meminfo. An area is a whole disk (a block
 * device node such as /dev/vda) that mkswap prepared; its header is read
 * and checked (swap_header_parse) before anything is kept, and a bad one
 * is refused with EINVAL and a console line saying what is wrong.
 *
 * Linux's order of checks and errors: EINVAL for unknown flags, EPERM
 * without CAP_SYS_ADMIN, EPERM when every area is taken, the path's
 * own errors, EBUSY for an area already on, EINVAL for anything but a
 * block device (Mercator's files are all in memory: tmpfs files cannot
 * be swap on Linux either), ENXIO for a node with no disk behind it,
 * EIO when the header cannot be read, EINVAL for a bad header, ENOMEM.
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/vfs.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/swap.h>

#define SWAP_FLAG_PREFER        0x8000
#define SWAP_FLAG_PRIO_MASK     0x7fff
#define SWAP_FLAGS_VALID        (SWAP_FLAG_PRIO_MASK | SWAP_FLAG_PREFER | \
                                 0x10000 | 0x20000 | 0x40000)   /* discard */

#define AT_FDCWD                (-100)

static struct swap_dev swaps[SWAP_MAX_AREAS];
static int least_prio;          /* the last priority given by default */

static void copy_name(char *dst, const char *src, size_t size)
{
        size_t n = strlen(src);

        if (n >= size)
                n = size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

struct swap_dev *swap_dev_get(unsigned i)
{
        return i < SWAP_MAX_AREAS && swaps[i].on ? &swaps[i] : NULL;
}

void swap_totals(uint64_t *total, uint64_t *free)
{
        *total = *free = 0;
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++)
                if (swaps[i].on) {
                        *total += swaps[i].area.usable;
                        *free += swaps[i].area.free;
                }
}

long swap_on(struct blkdev *d, int prio, const char *name)
{
        struct swap_dev *sd = NULL;
        struct vm_page *pg;
        static struct swap_header_info h;
        const char *why;
        long err;

        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                if (swaps[i].on && swaps[i].dev == d)
                        return -EBUSY;
                if (!swaps[i].on && !sd)
                        sd = &swaps[i];
        }
        if (!sd)
                return -EPERM;
        if (d->read_only)
                return -EROFS;
        if (!(pg = pmm_alloc_pages(0, 0)))
                return -ENOMEM;
        paddr_t pa = pmm_page_to_pa(pg);
        err = blkdev_rw(d, false, 0, pa, PAGE_SIZE);
        if (!err) {
                const uint8_t *page = pmap_quick_enter_page(pa);

                why = swap_header_parse(page, d->sectors >> (PAGE_SHIFT - 9), &h);
                pmap_quick_remove_page((void *)page);
                if (why) {
                        pr_err("swapon: %s: %s\n", name, why);
                        err = -EINVAL;
                }
        }
        pmm_free_pages(pg, 0);
        if (err)
                return err;
        if ((err = swap_area_init(&sd->area, &h)) != 0)
                return err;
        sd->dev = d;
        sd->prio = prio;
        sd->on = true;
        copy_name(sd->name, name, sizeof sd->name);
        pr_info("Adding %luk swap on %s.  Priority:%d extents:1 across:%luk\n",
                (unsigned long)sd->area.usable * (PAGE_SIZE / 1024), sd->name,
                prio, (unsigned long)sd->area.usable * (PAGE_SIZE / 1024));
        return 0;
}

long swap_off(struct blkdev *d)
{
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                struct swap_dev *sd = &swaps[i];

                if (!sd->on || sd->dev != d)
                        continue;
                /* Nothing writes pages out yet; once something does,
                 * swapoff must read every used slot back first (Linux's
                 * try_to_unuse). Until then an area in use stays. */
                if (sd->area.free != sd->area.usable)
                        return -EBUSY;
                swap_area_fini(&sd->area);
                sd->on = false;
                sd->dev = NULL;
                return 0;
        }
        return -EINVAL;
}

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

/* The disk behind a swapon/swapoff path: 0 and *out, or its errno. */
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
        else if (vfs_path_of(current->root, p.vn, name, size) < 0)
                copy_name(name, (*out)->name, size);
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
                return err == -ENXIO ? -EINVAL : err;
        return swap_off(d);
}
