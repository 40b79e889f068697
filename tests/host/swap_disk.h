/*
 * swap_disk.h - the host tests' swap device (test_vm_swap.c,
 * test_vm_swap_shared.c): a RAM disk of DISK_PAGES pages (the includer
 * defines it) registered as /dev/ramswap, whose requests complete at wait
 * (it counts how many were in flight at once) and where one marked
 * sector may fail its next read or write; mkswap'd
 * and swapped on by swap_setup, checked empty and swapped off by
 * swap_teardown. Included once per test program (static functions).
 */
#ifndef HOST_SWAP_DISK_H
#define HOST_SWAP_DISK_H

#include "check.h"
#include "vm_fixture.h"

#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <vm/swap.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_swap.h>

#include <stdlib.h>
#include <string.h>

static struct ramdisk {
        struct blkdev bd;
        uint8_t *data;
        uint64_t fail_read, fail_write;         /* sector + 1, 0: none */
        unsigned in_flight, max_in_flight;      /* submitted, not waited */
} ram;

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static int ram_submit(struct blkdev *d, struct blk_req *r)
{
        if (++ram.in_flight > ram.max_in_flight)
                ram.max_in_flight = ram.in_flight;
        return 0;
}

/* Requests complete at wait; one marked sector fails its next access. */
static void ram_wait(struct blkdev *d, struct blk_req *r)
{
        uint64_t *fail = r->write ? &ram.fail_write : &ram.fail_read;
        uint64_t first = r->sector, last = first + r->bytes / BLK_SECTOR_SIZE;
        uint8_t *disk = ram.data + r->sector * BLK_SECTOR_SIZE;

        ram.in_flight--;
        if (*fail && *fail - 1 >= first && *fail - 1 < last) {
                *fail = 0;
                r->status = -EIO;
                return;
        }
        for (uint32_t done = 0; done < r->bytes; done += PAGE_SIZE) {
                uint8_t *mem = pmap_quick_enter_page(r->pa + done);

                if (r->write)
                        memcpy(disk + done, mem, PAGE_SIZE);
                else
                        memcpy(mem, disk + done, PAGE_SIZE);
                pmap_quick_remove_page(mem);
        }
        r->status = 0;
}

static const struct blkdev_ops ram_ops = { ram_submit, ram_wait };

/* A fresh swap area on the disk (mkswap's v1 header), swapped on, no
 * failure marked. => swap_on's result. */
static long mkswap_on(void)
{
        memset(ram.data, 0x5a, DISK_PAGES * 4096);
        memset(ram.data, 0, 4096);
        put32(ram.data + SWAP_HEADER_VERSION_OFF, 1);
        put32(ram.data + SWAP_HEADER_LAST_OFF, DISK_PAGES - 1);
        memcpy(ram.data + SWAP_HEADER_MAGIC_OFF, "SWAPSPACE2", 10);
        ram.fail_read = ram.fail_write = 0;
        return swap_on(&ram.bd, -2, "/dev/ramswap");
}

/* Fresh RAM, the disk registered once, swap on. */
static void swap_setup(uint64_t ram_bytes)
{
        static bool registered;

        setup(ram_bytes);
        if (!registered) {
                ram.data = malloc(DISK_PAGES * 4096);
                CHECK(ram.data != NULL);
                memcpy(ram.bd.name, "ramswap", 8);
                ram.bd.sectors = DISK_PAGES * 8;
                ram.bd.ops = &ram_ops;
                blkdev_register(&ram.bd);
                registered = true;
        }
        CHECK_EQ(mkswap_on(), 0);
}

static uint64_t slots_free(void)
{
        uint64_t t, f;

        swap_totals(&t, &f);
        return f;
}

/* Every slot free, nothing cached, swap off, the fixture's baseline. */
static void swap_teardown(void)
{
        CHECK_EQ(slots_free(), DISK_PAGES - 1);
        CHECK_EQ(vm_swap_cached_pages(), 0);
        CHECK_EQ(swap_off(&ram.bd), 0);
        check_baseline();
}

static bool sound(void)
{
        return vm_reclaim_check() && rmap_check() && vm_swap_check();
}

#endif
