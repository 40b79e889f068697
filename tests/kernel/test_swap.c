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

/* ---- swap I/O: pages through slots of the mkswap disk ---------------- */

#include <mercator/machine.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include "../../kernel/arch/x86_64/virtio_blk.h"

#define IO_PAGES        600

static void fill(paddr_t pa, uint64_t tag)
{
        uint64_t *w = pmap_quick_enter_page(pa);

        for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
                w[i] = tag * 0x9e3779b97f4a7c15ULL ^ i;
        pmap_quick_remove_page(w);
}

static bool holds(paddr_t pa, uint64_t tag)
{
        uint64_t *w = pmap_quick_enter_page(pa);
        bool ok = true;

        for (unsigned i = 0; i < PAGE_SIZE / 8 && ok; i++)
                ok = w[i] == (tag * 0x9e3779b97f4a7c15ULL ^ i);
        pmap_quick_remove_page(w);
        return ok;
}

/* 600 pages written 16 at a time land in slots 1..600 of a fresh area (so
 * in consecutive sectors); read back in a scattered order, each has its
 * bytes; pswpout/pswpin count them; every slot is free again after. */
KTEST(swap_io_pages_round_trip)
{
        struct blkdev *vdb = blkdev_find("vdb");
        struct vm_page *buf = pmm_alloc_pages(4, 0);
        static swp_entry_t e[IO_PAGES];
        struct swap_events before = swap_events;
        paddr_t pa[SWAP_WRITE_MAX];

        KCHECK(vdb && buf);
        if (!vdb || !buf || swap_on(vdb, -2, "/dev/vdb") != 0) {
                KCHECK(!"swap on vdb");
                goto out;
        }
        for (unsigned i = 0; i < SWAP_WRITE_MAX; i++)
                pa[i] = pmm_page_to_pa(buf) + i * PAGE_SIZE;
        for (unsigned done = 0; done < IO_PAGES; done += SWAP_WRITE_MAX) {
                unsigned n = IO_PAGES - done < SWAP_WRITE_MAX ?
                             IO_PAGES - done : SWAP_WRITE_MAX;
                for (unsigned i = 0; i < n; i++)
                        fill(pa[i], done + i);
                KCHECK_EQ(swap_write_pages(pa, n, e + done), 0);
        }
        for (unsigned i = 0; i < IO_PAGES; i++)
                KCHECK_EQ(e[i], SWP_ENTRY(0, i + 1));
        KCHECK_EQ(swap_events.pswpout - before.pswpout, IO_PAGES);
        KCHECK_EQ(free_slots(), SWAP_DISK_PAGES - 1 - IO_PAGES);
        for (unsigned k = 0; k < IO_PAGES; k++) {
                unsigned i = (k * 7919) % IO_PAGES;     /* 7919 is prime */

                fill(pa[0], ~0ULL);
                KCHECK_EQ(swap_read_page(e[i], pa[0]), 0);
                if (!holds(pa[0], i)) {
                        KCHECK(!"page read back has its bytes");
                        break;
                }
        }
        KCHECK_EQ(swap_events.pswpin - before.pswpin, IO_PAGES);
        for (unsigned i = 0; i < IO_PAGES; i++)
                swap_entry_free(e[i]);
        KCHECK_EQ(free_slots(), SWAP_DISK_PAGES - 1);
        KCHECK_EQ(swap_off(vdb), 0);
out:
        if (buf)
                pmm_free_pages(buf, 4);
}

/* A failed read (the driver's test mode) is -EIO and changes nothing: the
 * next read of the slot has the page. A full area refuses with -ENOSPC,
 * keeping no slot. */
KTEST(swap_io_read_error_and_full_area)
{
        struct blkdev *vdb = blkdev_find("vdb");
        struct vm_page *pg = pmm_alloc_pages(0, 0);
        static swp_entry_t e[SWAP_DISK_PAGES];
        struct swap_events before = swap_events;
        unsigned n = 0;

        KCHECK(vdb && pg);
        if (!vdb || !pg || swap_on(vdb, -2, "/dev/vdb") != 0) {
                KCHECK(!"swap on vdb");
                goto out;
        }
        paddr_t pa = pmm_page_to_pa(pg);
        fill(pa, 42);
        KCHECK_EQ(swap_write_pages(&pa, 1, &e[0]), 0);
        virtio_blk_fail_read(vdb, (uint64_t)SWP_SLOT(e[0]) * 8 + 3);
        fill(pa, 0);
        KCHECK_EQ(swap_read_page(e[0], pa), -EIO);
        KCHECK_EQ(swap_events.read_errors - before.read_errors, 1);
        KCHECK_EQ(swap_read_page(e[0], pa), 0);
        KCHECK(holds(pa, 42));
        swap_entry_free(e[0]);

        while (n < SWAP_DISK_PAGES && swap_write_pages(&pa, 1, &e[n]) == 0)
                n++;
        KCHECK_EQ(n, SWAP_DISK_PAGES - 1);
        KCHECK_EQ(free_slots(), 0);
        KCHECK_EQ(swap_write_pages(&pa, 1, &e[n]), -ENOSPC);
        swap_entry_free(e[0]);
        swap_entry_free(e[1]);
        paddr_t two[2] = { pa, pa };
        swp_entry_t got[2];
        KCHECK_EQ(swap_write_pages(two, 2, got), 0);    /* the two freed */
        KCHECK(swap_write_pages(two, 1, got) == -ENOSPC);
        e[0] = got[0];
        e[1] = got[1];
        for (unsigned i = 0; i < n; i++)
                swap_entry_free(e[i]);
        KCHECK_EQ(free_slots(), SWAP_DISK_PAGES - 1);
        KCHECK_EQ(swap_off(vdb), 0);
out:
        if (pg)
                pmm_free_pages(pg, 0);
}

/* ---- anonymous memory to swap and back (issue 16 step 3d) ------------- */

#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_swap.h>

#define ANON_PAGES      384
#define ANON_BASE       ((vaddr_t)0x20000000)

/* The page va maps in s holds tag's pattern. */
static bool maps_tag(struct vm_space *s, vaddr_t va, uint64_t tag)
{
        paddr_t pa;

        return pmap_extract(vm_space_pmap(s), va, &pa, NULL, NULL) &&
               holds(page_trunc(pa), tag);
}

static paddr_t frame_of(struct vm_space *s, vaddr_t va)
{
        paddr_t pa = 0;

        pmap_extract(vm_space_pmap(s), va, &pa, NULL, NULL);
        return page_trunc(pa);
}

static uint64_t swapped(struct vm_space *s)
{
        const struct vm_area *a = vm_space_lookup(s, ANON_BASE);

        return a && a->object ? a->object->nswapped : 0;
}

/* Reclaim until nothing more goes (second chance needs two looks). */
static void evict_all(void)
{
        for (int i = 0; i < 6; i++)
                vm_reclaim(1 << 20);
}

/* Fault every page of s in for `access`; => pages whose bytes differ. */
static unsigned touch_all(struct vm_space *s, vm_prot_t access)
{
        unsigned bad = 0;

        for (uint64_t p = 0; p < ANON_PAGES; p++) {
                vaddr_t va = ANON_BASE + p * PAGE_SIZE;

                if (vm_fault(s, va, access) != FAULT_RESOLVED ||
                    !maps_tag(s, va, p))
                        bad++;
        }
        return bad;
}

/*
 * Private anonymous pages through the virtio disk: written, forked,
 * evicted by reclaim (each shared page in one slot, named by both
 * objects), read back by the child through major faults with
 * read-around, found in the swap cache by the parent (the same frame,
 * no second read), copied on write; a slot that fails its read is
 * SIGBUS and keeps its entry; swapoff with slots in use reads them all
 * back; every slot and page is back at the end.
 */
KTEST(anonymous_pages_to_swap_and_back)
{
        struct blkdev *vdb = blkdev_find("vdb");
        struct vm_space *s = NULL, *c = NULL;
        struct swap_events before = swap_events;
        uint64_t maj = vm_events.pgmajfault;
        vaddr_t out = 0;

        KCHECK(vdb != NULL);
        if (!vdb || swap_on(vdb, -2, "/dev/vdb") != 0) {
                KCHECK(!"swap on vdb");
                return;
        }
        KCHECK_EQ(vm_space_create(&s), VM_OK);
        KCHECK_EQ(vm_space_map(s, ANON_BASE, ANON_PAGES * PAGE_SIZE,
                               VM_PROT_RW, VM_MAP_PRIVATE | VM_MAP_FIXED,
                               &out), VM_OK);
        for (uint64_t p = 0; p < ANON_PAGES; p++) {
                vaddr_t va = ANON_BASE + p * PAGE_SIZE;

                KCHECK_EQ(vm_fault(s, va, VM_PROT_WRITE), FAULT_RESOLVED);
                fill(frame_of(s, va), p);
        }
        KCHECK_EQ(vm_space_fork(s, &c), VM_OK);
        evict_all();
        KCHECK_EQ(swapped(s), ANON_PAGES);
        KCHECK_EQ(swapped(c), ANON_PAGES);
        KCHECK_EQ(free_slots(), SWAP_DISK_PAGES - 1 - ANON_PAGES);
        KCHECK(vm_swap_check() && rmap_check() && vm_reclaim_check());

        KCHECK_EQ(touch_all(c, VM_PROT_READ), 0);
        KCHECK_EQ(swap_events.pswpin - before.pswpin, ANON_PAGES);
        KCHECK_EQ(vm_events.pgmajfault - maj, ANON_PAGES / 8);
        KCHECK_EQ(vm_swap_cached_pages(), ANON_PAGES);  /* s names them */
        KCHECK_EQ(touch_all(s, VM_PROT_READ), 0);
        KCHECK_EQ(swap_events.pswpin - before.pswpin, ANON_PAGES);
        KCHECK_EQ(vm_swap_cached_pages(), 0);
        KCHECK_EQ(free_slots(), SWAP_DISK_PAGES - 1);
        KCHECK_EQ(frame_of(s, ANON_BASE + 5 * PAGE_SIZE),
                  frame_of(c, ANON_BASE + 5 * PAGE_SIZE));
        KCHECK_EQ(vm_fault(c, ANON_BASE, VM_PROT_WRITE), FAULT_RESOLVED);
        KCHECK(frame_of(s, ANON_BASE) != frame_of(c, ANON_BASE));
        fill(frame_of(c, ANON_BASE), 999);
        KCHECK(maps_tag(s, ANON_BASE, 0));
        KCHECK(vm_swap_check() && rmap_check());

        /* A read error: SIGBUS, the entry stays, the next read works. */
        vm_space_destroy(c);
        c = NULL;
        evict_all();
        KCHECK_EQ(swapped(s), ANON_PAGES);
        swp_entry_t e = vm_object_swap_entry(vm_space_lookup(s, ANON_BASE)->object,
                                             ANON_BASE >> PAGE_SHIFT);
        virtio_blk_fail_read(vdb, (uint64_t)SWP_SLOT(e) * 8);
        KCHECK_EQ(vm_fault(s, ANON_BASE, VM_PROT_READ), FAULT_BUS);
        KCHECK_EQ(swapped(s), ANON_PAGES);
        KCHECK(maps_tag(s, ANON_BASE, 0) == false);
        KCHECK_EQ(vm_fault(s, ANON_BASE, VM_PROT_READ), FAULT_RESOLVED);
        KCHECK(maps_tag(s, ANON_BASE, 0));

        /* swapoff with slots in use reads every page back. */
        KCHECK(swapped(s) > 0);
        KCHECK_EQ(swap_off(vdb), 0);
        KCHECK_EQ(swapped(s), 0);
        KCHECK_EQ(touch_all(s, VM_PROT_READ), 0);
        KCHECK(rmap_check() && vm_reclaim_check());
        vm_space_destroy(s);
        KCHECK_EQ(total(), 0);
        KCHECK(pmm_check());
}
