/*
 * test_reclaim.c - page replacement on the real machine (issue 16 step
 * 2): with free memory held just above the high watermark, a space reads
 * three page-cache files of 4 MiB each (12 MiB, far more than is free),
 * twice. Every fault must resolve with the file's bytes: clean pages are
 * dropped by direct reclaim in the fault path and read again from their
 * source. The reverse map and the reclaim lists stay exact, and the
 * runner's leak check finds every page back afterwards.
 */
#include <mercator/ktest.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>

#define FILE_PAGES      1024            /* 4 MiB each */
#define NFILES          3
#define MAP_BASE        ((vaddr_t)0x10000000)

/* Blocks taken from the allocator, chained through their first words. */
struct hold {
        paddr_t  head;
        uint64_t pages;
};

/* Take blocks, largest first, until about `leave` pages are free. */
static void hold_until(struct hold *h, uint64_t leave)
{
        for (unsigned order = PMM_MAX_ORDER + 1; order-- > 0;) {
                while (pmm_free_count() >= leave + (1UL << order)) {
                        struct vm_page *pg = pmm_alloc_pages(order, 0);
                        uint64_t *w;

                        if (!pg)
                                break;
                        w = pmap_kmem_va(pmm_page_to_pa(pg));
                        w[0] = h->head;
                        w[1] = order;
                        h->head = pmm_page_to_pa(pg);
                        h->pages += 1UL << order;
                }
        }
}

static void hold_release(struct hold *h)
{
        while (h->head) {
                uint64_t *w = pmap_kmem_va(h->head);
                paddr_t next = w[0];

                pmm_free_pages(pmm_pa_to_page(h->head), (unsigned)w[1]);
                h->head = next;
        }
        h->pages = 0;
}

static bool page_ok(struct vm_space *s, vaddr_t va, uint64_t page)
{
        paddr_t pa;
        const uint64_t *p;
        bool ok;

        if (!pmap_extract(vm_space_pmap(s), va, &pa, NULL, NULL))
                return false;
        p = pmap_quick_enter_page(page_trunc(pa));
        ok = p[0] == page * 0x9e3779b97f4a7c15ULL && p[511] == ~page;
        pmap_quick_remove_page((void *)p);
        return ok;
}

KTEST(reclaim_drops_clean_cache_pages_under_pressure)
{
        struct vm_object *obj[NFILES] = { 0 };
        struct vm_space *s = NULL;
        struct hold h = { 0 };
        uint64_t *src = vmalloc(FILE_PAGES * PAGE_SIZE);
        uint64_t steal0 = vm_events.pgsteal, direct0 = vm_events.direct_reclaims;
        uint64_t min = 0, low = 0, bad = 0;
        struct pmm_zone_stats st;

        if (!KCHECK(src != NULL))
                return;
        for (uint64_t p = 0; p < FILE_PAGES; p++) {
                src[p * 512] = p * 0x9e3779b97f4a7c15ULL;
                src[p * 512 + 511] = ~p;
        }
        KCHECK_EQ(vm_space_create(&s), VM_OK);
        for (unsigned f = 0; f < NFILES; f++) {
                vaddr_t out = 0;

                KCHECK_EQ(vm_object_create_cache(src, FILE_PAGES * PAGE_SIZE,
                                                 &obj[f]), VM_OK);
                KCHECK_EQ(vm_space_map_file(s, MAP_BASE + f * FILE_PAGES *
                                            PAGE_SIZE, FILE_PAGES * PAGE_SIZE,
                                            VM_PROT_READ, VM_MAP_SHARED |
                                            VM_MAP_FIXED, obj[f], 0, &out),
                          VM_OK);
                vm_object_unref(obj[f]);        /* the area holds it */
        }
        for (unsigned z = 0; z < NR_ZONES; z++) {
                pmm_zone_stats((enum zone_id)z, &st);
                min += st.wmark[PMM_WMARK_MIN];
                low += st.wmark[PMM_WMARK_LOW];
        }
        hold_until(&h, min + 256);
        for (unsigned pass = 0; pass < 2; pass++)
                for (unsigned f = 0; f < NFILES; f++)
                        for (uint64_t p = 0; p < FILE_PAGES; p++) {
                                vaddr_t va = MAP_BASE + (f * FILE_PAGES + p) *
                                             PAGE_SIZE;

                                if (vm_fault(s, va, VM_PROT_READ) !=
                                    FAULT_RESOLVED || !page_ok(s, va, p))
                                        bad++;
                        }
        KCHECK_EQ(bad, 0);
        /* 6144 page reads with 256 pages above min to spare, and direct
         * reclaim freeing up to low (and a batch) each time: at most that
         * many pages of the files stay resident at once, every other read
         * reclaimed one. */
        KCHECK(vm_events.pgsteal - steal0 + 256 + (low - min) + 512 >=
               2 * NFILES * FILE_PAGES);
        KCHECK(vm_events.direct_reclaims > direct0);
        KCHECK(vm_reclaim_check());
        hold_release(&h);
        KCHECK(rmap_check());
        vm_space_destroy(s);
        vfree(src);
        KCHECK(pmm_check());
}
