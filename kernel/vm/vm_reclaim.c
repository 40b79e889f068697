/*
 * vm_reclaim.c - page replacement: the reclaim lists' policy and the
 * watermark triggers (see vm_reclaim.h).
 *
 * Owns: the events. The lists' links are the pmm's (pmm_lru_*), the
 * accessed bits and the unmapping the reverse map's (vm_rmap.h).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>

struct vm_events vm_events;
static bool in_direct;                  /* vm_reclaim_direct() is running */

#define RECLAIM_BATCH   32      /* pages a background batch aims for */
#define SCAN_FACTOR     4       /* pages scanned per page wanted, at most */

bool vm_lru_is_file(const struct vm_object *obj)
{
        return obj->type == VM_OBJECT_FILE;
}

void vm_lru_add(struct vm_page *pg, const struct vm_object *obj)
{
        pg->flags &= ~PG_REFERENCED;
        pmm_lru_add(pg, vm_lru_is_file(obj) ? PMM_LRU_INACTIVE_FILE
                                            : PMM_LRU_INACTIVE_ANON);
}

void vm_lru_del(struct vm_page *pg)
{
        pmm_lru_del(pg);
        pg->flags &= ~PG_REFERENCED;
}

static void lru_move(struct vm_page *pg, unsigned list)
{
        pmm_lru_del(pg);
        pmm_lru_add(pg, list);
}

void vm_lru_deactivate(struct vm_page *pg)
{
        unsigned l = pmm_lru_list(pg);

        pg->flags &= ~PG_REFERENCED;
        if (l == PMM_LRU_ACTIVE_FILE || l == PMM_LRU_ACTIVE_ANON) {
                lru_move(pg, l == PMM_LRU_ACTIVE_FILE ? PMM_LRU_INACTIVE_FILE
                                                      : PMM_LRU_INACTIVE_ANON);
                vm_events.pgdeactivate++;
        }
}

uint64_t vm_lru_pages(unsigned list)
{
        struct pmm_zone_stats st;
        uint64_t n = 0;

        for (unsigned z = 0; z < NR_ZONES; z++) {
                pmm_zone_stats((enum zone_id)z, &st);
                n += st.lru[list];
        }
        return n;
}

/* Age up to nr pages from the active file list's tail. */
static void shrink_active(enum zone_id z, uint64_t nr)
{
        struct vm_page *pg = pmm_lru_tail(z, PMM_LRU_ACTIVE_FILE), *next;
        struct pmm_zone_stats st;

        pmm_zone_stats(z, &st);         /* each page once: none rotated */
        nr = MIN(nr, st.lru[PMM_LRU_ACTIVE_FILE]);
        for (; pg && nr > 0; pg = next, nr--) {
                next = pmm_lru_prev(pg);
                if (rmap_referenced(pg, true, NULL) & RMAP_ACCESSED) {
                        lru_move(pg, PMM_LRU_ACTIVE_FILE);
                } else {
                        pg->flags &= ~PG_REFERENCED;
                        lru_move(pg, PMM_LRU_INACTIVE_FILE);
                        vm_events.pgdeactivate++;
                }
        }
}

/* Scan the inactive file list of zone z from its tail: at most `scan`
 * pages (at most its length, so that no page moved to the head is seen
 * twice), until `want` are freed. => pages freed. */
static uint64_t shrink_inactive(enum zone_id z, uint64_t scan, uint64_t want)
{
        struct vm_page *pg = pmm_lru_tail(z, PMM_LRU_INACTIVE_FILE), *next;
        uint64_t freed = 0;

        for (; pg && scan > 0 && freed < want; pg = next, scan--) {
                unsigned mapped = 0, ref;

                next = pmm_lru_prev(pg);
                vm_events.pgscan++;
                vm_events.pgscan_direct += in_direct;
                ref = rmap_referenced(pg, true, &mapped);
                if (ref & RMAP_ACCESSED) {
                        if ((pg->flags & PG_REFERENCED) || mapped > 1) {
                                pg->flags &= ~PG_REFERENCED;
                                lru_move(pg, PMM_LRU_ACTIVE_FILE);
                                vm_events.pgactivate++;
                        } else {
                                pg->flags |= PG_REFERENCED;
                                lru_move(pg, PMM_LRU_INACTIVE_FILE);
                                vm_events.pgrotated++;
                        }
                        continue;
                }
                switch (rmap_evict_clean(pg)) {
                case VM_OK:                     /* pg is free now */
                        freed++;
                        vm_events.pgsteal++;
                        vm_events.pgsteal_direct += in_direct;
                        break;
                case VM_EBUSY:                  /* mlocked: keep it */
                        lru_move(pg, PMM_LRU_ACTIVE_FILE);
                        vm_events.pgactivate++;
                        break;
                default:                        /* dirty: swap-backed now */
                        lru_move(pg, PMM_LRU_ACTIVE_ANON);
                        break;
                }
        }
        return freed;
}

uint64_t vm_reclaim(uint64_t nr)
{
        uint64_t freed = 0;

        for (int z = NR_ZONES - 1; z >= 0 && freed < nr; z--) {
                struct pmm_zone_stats st;
                uint64_t left = nr - freed;

                pmm_zone_stats((enum zone_id)z, &st);
                /* Keep the inactive list at least as long as the active
                 * one, so that what is scanned had time to be used. */
                if (st.lru[PMM_LRU_INACTIVE_FILE] < st.lru[PMM_LRU_ACTIVE_FILE])
                        shrink_active((enum zone_id)z,
                                      st.lru[PMM_LRU_ACTIVE_FILE] -
                                      st.lru[PMM_LRU_INACTIVE_FILE] + left);
                pmm_zone_stats((enum zone_id)z, &st);
                freed += shrink_inactive((enum zone_id)z,
                                         st.lru[PMM_LRU_INACTIVE_FILE],
                                         left);
        }
        return freed;
}

uint64_t vm_reclaim_direct(void)
{
        uint64_t freed;

        if (!pmm_free_below(PMM_WMARK_MIN))
                return 0;
        vm_events.direct_reclaims++;
        in_direct = true;
        freed = vm_reclaim(pmm_free_below(PMM_WMARK_LOW) + RECLAIM_BATCH);
        in_direct = false;
        return freed;
}

uint64_t vm_available_pages(void)
{
        uint64_t free = pmm_free_count(), low = 0, file, avail;
        struct pmm_zone_stats st;

        for (unsigned z = 0; z < NR_ZONES; z++) {
                pmm_zone_stats((enum zone_id)z, &st);
                low += st.wmark[PMM_WMARK_LOW];
        }
        file = vm_lru_pages(PMM_LRU_INACTIVE_FILE) +
               vm_lru_pages(PMM_LRU_ACTIVE_FILE);
        avail = free > low ? free - low : 0;
        return avail + file - MIN(file / 2, low);
}

uint64_t vm_reclaim_background(void)
{
        uint64_t want;

        if (!pmm_free_below(PMM_WMARK_LOW))
                return 0;
        want = pmm_free_below(PMM_WMARK_HIGH);
        vm_events.background_reclaims++;
        return vm_reclaim(MIN(want, RECLAIM_BATCH));
}

static bool first_owner(void *arg, struct vm_object *obj, uint64_t index)
{
        *(struct vm_object **)arg = obj;
        return false;
}

bool vm_reclaim_check(void)
{
        uint64_t n = pmm_npages();

        if (!pmm_lru_check())
                return false;
        for (uint64_t pfn = 0; pfn < n; pfn++) {
                const struct vm_page *pg =
                        pmm_pa_to_page(pmm_ram_base() + (pfn << PAGE_SHIFT));
                bool obj = pg->flags & PG_OBJECT, lru = pg->flags & PG_LRU;

                if (obj != lru) {
                        pr_err("vm_reclaim_check: frame %#" PRIx64 " %s\n",
                               (uint64_t)pmm_page_to_pa(pg),
                               obj ? "held by an object, on no list"
                                   : "on a list, held by no object");
                        return false;
                }
                if (obj) {
                        struct vm_object *o = NULL;
                        unsigned l = pmm_lru_list(pg);

                        rmap_for_each_owner(pg, first_owner, &o);
                        if (!vm_lru_is_file(o) && (l == PMM_LRU_INACTIVE_FILE ||
                                                   l == PMM_LRU_ACTIVE_FILE)) {
                                pr_err("vm_reclaim_check: frame %#" PRIx64
                                       " on the wrong kind of list\n",
                                       (uint64_t)pmm_page_to_pa(pg));
                                return false;
                        }
                }
        }
        return true;
}
