/*
 * test_swap.c - swap areas on a real disk: tools/test.py gives the kernel
 * tier a second virtio disk (vdb, 4 MiB) that Debian's mkswap prepared
 * with the label "ktest-swap"; the first (vda) has no swap signature.
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/ktest.h>
#include <mercator/string.h>
#include <vm/swap.h>

#define SWAP_DISK_PAGES 1024            /* 4 MiB */

static uint64_t total(void)
{
        uint64_t t, f;

        swap_totals(&t, &f);
        return t;
}

static uint64_t free_slots(void)
{
        uint64_t t, f;

        swap_totals(&t, &f);
        return f;
}

KTEST(swapon_refuses_a_disk_without_signature)
{
        struct blkdev *vda = blkdev_find("vda");

        KCHECK(vda != NULL);
        if (!vda)
                return;
        KCHECK_EQ(swap_on(vda, -2, "/dev/vda"), -EINVAL);
        KCHECK_EQ(total(), 0);
        KCHECK(swap_dev_get(0) == NULL);
        KCHECK_EQ(swap_off(vda), -EINVAL);
}

KTEST(swapon_and_swapoff_a_mkswap_disk)
{
        struct blkdev *vda = blkdev_find("vda"), *vdb = blkdev_find("vdb");
        struct swap_dev *sd;
        uint32_t s;

        KCHECK(vda && vdb);
        if (!vda || !vdb)
                return;
        KCHECK_EQ(vdb->sectors, SWAP_DISK_PAGES * 8);
        KCHECK_EQ(swap_on(vdb, -2, "/dev/vdb"), 0);
        KCHECK_EQ(total(), SWAP_DISK_PAGES - 1);
        KCHECK_EQ(free_slots(), SWAP_DISK_PAGES - 1);
        KCHECK_EQ(swap_on(vdb, -3, "/dev/vdb"), -EBUSY);
        sd = swap_dev_get(0);
        KCHECK(sd && sd->dev == vdb && sd->prio == -2);
        if (!sd)
                return;
        KCHECK(strcmp(sd->name, "/dev/vdb") == 0);
        /* Sequential slots from 1 (page 0 is the header). */
        for (uint32_t i = 1; i <= 300; i++) {
                KCHECK(swap_slot_alloc(&sd->area, &s));
                KCHECK_EQ(s, i);
        }
        KCHECK_EQ(free_slots(), SWAP_DISK_PAGES - 1 - 300);
        KCHECK_EQ(swap_off(vdb), -EBUSY);       /* slots in use */
        for (uint32_t i = 1; i <= 300; i++)
                swap_slot_free(&sd->area, i);
        KCHECK(swap_area_check(&sd->area));
        KCHECK_EQ(swap_off(vda), -EINVAL);
        KCHECK_EQ(swap_off(vdb), 0);
        KCHECK_EQ(total(), 0);
        KCHECK(swap_dev_get(0) == NULL);
        KCHECK_EQ(swap_off(vdb), -EINVAL);
}
