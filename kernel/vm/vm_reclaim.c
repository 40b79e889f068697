/*
 * vm_reclaim.c - page replacement: the reclaim lists' policy and the
 * watermark triggers (see vm_reclaim.h).
 *
 * Owns: the events. The lists' links are the pmm's (pmm_lru_*), the
 * accessed bits and the unmapping the reverse map's (vm_rmap.h).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <vm/memcg.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_swap.h>

struct vm_events vm_events;
uint64_t vm_droppable_pages;
uint64_t vm_lazyfree_pages;
uint64_t vm_writeback_pages;
unsigned vm_swappiness = VM_SWAPPINESS_DEFAULT;
static bool in_direct;                  /* vm_reclaim_direct() is running */
static bool writing;                    /* a writepage is under way */
static const struct memcg *target;      /* vm_reclaim_memcg(): only its pages */

/* Is pg one this reclaim may take? (A group's reclaim: its pages.) */
static bool in_target(const struct vm_page *pg)
{
        return !target || memcg_page_in(pg, target);
}

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

void vm_lru_add_nolock(struct vm_page *pg, const struct vm_object *obj)
{
        pg->flags &= ~PG_REFERENCED;
        pmm_lru_add_nolock(pg, vm_lru_is_file(obj) ? PMM_LRU_INACTIVE_FILE
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

/* The lists of one kind: file pages, or swap-backed ones. */
struct lru_kind {
        unsigned active, inactive;
};

static const struct lru_kind file_kind = { PMM_LRU_ACTIVE_FILE,
                                           PMM_LRU_INACTIVE_FILE };
static const struct lru_kind anon_kind = { PMM_LRU_ACTIVE_ANON,
                                           PMM_LRU_INACTIVE_ANON };

/* Age up to nr pages from the tail of k's active list. */
static void shrink_active(enum zone_id z, const struct lru_kind *k,
                          uint64_t nr)
{
        struct vm_page *pg = pmm_lru_tail(z, k->active), *next;
        struct pmm_zone_stats st;

        pmm_zone_stats(z, &st);         /* each page once: none rotated */
        nr = MIN(nr, st.lru[k->active]);
        for (; pg && nr > 0; pg = next, nr--) {
                next = pmm_lru_prev(pg);
                if (!in_target(pg))
                        continue;
                if (rmap_referenced(pg, true, NULL) & RMAP_ACCESSED) {
                        lru_move(pg, k->active);
                } else {
                        pg->flags &= ~PG_REFERENCED;
                        lru_move(pg, k->inactive);
                        vm_events.pgdeactivate++;
                }
        }
}

/* Second chance for a page found accessed on an inactive list.
 * => true if it stays (activated or rotated). */
static bool second_chance(struct vm_page *pg, const struct lru_kind *k)
{
        unsigned mapped = 0;
        unsigned ref = rmap_referenced(pg, true, &mapped);

        if (!(ref & RMAP_ACCESSED))
                return false;
        if ((pg->flags & PG_REFERENCED) || mapped > 1) {
                pg->flags &= ~PG_REFERENCED;
                lru_move(pg, k->active);
                vm_events.pgactivate++;
                /* In use: a kept slot waits on swap that is short */
                if ((pg->flags & PG_SWAPCACHE) && vm_swap_full())
                        vm_swap_unkeep(pg);
        } else {
                pg->flags |= PG_REFERENCED;
                lru_move(pg, k->inactive);
                vm_events.pgrotated++;
        }
        return true;
}

static void count_steal(uint64_t n)
{
        vm_events.pgsteal += n;
        vm_events.pgsteal_direct += in_direct ? n : 0;
}

struct owner_at {
        struct vm_object *obj;
        uint64_t          index;
};

static bool owner_at(void *arg, struct vm_object *obj, uint64_t index)
{
        *(struct owner_at *)arg = (struct owner_at){ obj, index };
        return false;
}

/* pg belongs to a droppable object alone (MAP_DROPPABLE; not shared
 * with a fork's child): free it instead of swapping; the next touch
 * reads zeroes. => true if it is gone. */
static bool drop_droppable(struct vm_page *pg)
{
        struct owner_at o = { NULL, 0 };

        if (!(pg->flags & PG_DROPPABLE) || (pg->flags & PG_PINNED) ||
            rmap_owner_count(pg) != 1)
                return false;
        rmap_for_each_owner(pg, owner_at, &o);
        if (!o.obj || !o.obj->droppable || rmap_unmap(pg, NULL) != VM_OK)
                return false;
        (void)vm_object_free_range(o.obj, o.index, o.index + 1);
        return true;
}

bool vm_lazyfree_mark(struct vm_page *pg)
{
        ASSERT((pg->flags & PG_OBJECT) && pg->refcount == 1);
        if (pg->flags & PG_LAZYFREE)
                return false;
        pg->flags |= PG_LAZYFREE;
        vm_lazyfree_pages++;
        vm_events.pglazyfree++;
        vm_lru_deactivate(pg);
        return true;
}

bool vm_lazyfree_drop(struct vm_page *pg)
{
        struct owner_at o;

        if (!(pg->flags & PG_LAZYFREE) || (pg->flags & PG_PINNED))
                return false;
        vm_space_enter_all();           /* its owners' objects change */
        if (rmap_unmap(pg, NULL) != VM_OK) {
                vm_space_leave_all();
                return false;
        }
        vm_events.pglazyfreed++;
        /* Each free lets go of one owner; the last frees pg. */
        for (uint32_t n = pg->refcount; n > 0; n--) {
                o = (struct owner_at){ NULL, 0 };
                rmap_for_each_owner(pg, owner_at, &o);
                ASSERT(o.obj);
                (void)vm_object_free_range(o.obj, o.index, o.index + 1);
        }
        vm_space_leave_all();
        return true;
}

/* Write the batch out; pages that stay go to the active list. */
static uint64_t anon_flush(struct vm_page **batch, unsigned n)
{
        bool failed[SWAP_WRITE_MAX];
        unsigned freed;

        if (n == 0)
                return 0;
        freed = vm_swap_out(batch, n, failed);
        for (unsigned i = 0; i < n; i++)
                if (failed[i])
                        lru_move(batch[i], PMM_LRU_ACTIVE_ANON);
        count_steal(freed);
        vm_events.pgsteal_anon += freed;
        return freed;
}

/* The inactive swap-backed list of zone z, as shrink_inactive(): pages
 * not accessed since the last look go to swap, in batches. */
static uint64_t shrink_inactive_anon(enum zone_id z, uint64_t scan,
                                     uint64_t want)
{
        struct vm_page *pg = pmm_lru_tail(z, PMM_LRU_INACTIVE_ANON), *next;
        struct vm_page *batch[SWAP_WRITE_MAX];
        unsigned nb = 0;
        uint64_t freed = 0;

        for (; pg && scan > 0 && freed + nb < want; pg = next, scan--) {
                next = pmm_lru_prev(pg);
                if (!in_target(pg))
                        continue;
                vm_events.pgscan++;
                vm_events.pgscan_anon++;
                vm_events.pgscan_direct += in_direct;
                if (second_chance(pg, &anon_kind))
                        continue;
                if (drop_droppable(pg) || vm_lazyfree_drop(pg)) {
                        freed++;
                        count_steal(1);
                        vm_events.pgsteal_anon++;
                        continue;
                }
                if (!memcg_swap_room(memcg_page_id(pg)))
                        continue;       /* its group's swap is full */
                if (!vm_swap_candidate(pg)) {   /* shared memory, dirty
                                                 * cache pages: they stay */
                        lru_move(pg, PMM_LRU_ACTIVE_ANON);
                        continue;
                }
                if (rmap_unmap(pg, NULL) != VM_OK) {    /* mlocked */
                        lru_move(pg, PMM_LRU_ACTIVE_ANON);
                        vm_events.pgactivate++;
                        continue;
                }
                batch[nb++] = pg;
                if (nb == SWAP_WRITE_MAX) {
                        freed += anon_flush(batch, nb);
                        nb = 0;
                }
        }
        return freed + anon_flush(batch, nb);
}

/* Is there anywhere to put anonymous pages? */
static bool swap_usable(void)
{
        uint64_t total, free;

        swap_totals(&total, &free);
        return free > 0 || vm_swap_cached_pages() > 0 ||
               vm_droppable_pages > 0 || vm_lazyfree_pages > 0;
}

enum vm_writeback vm_reclaim_writeback(struct vm_page *pg)
{
        struct owner_at o = { NULL, 0 };
        long err;

        if ((pg->flags & (PG_OBJECT | PG_RMAP_CHAIN | PG_RMAP_FAMILY)) !=
            PG_OBJECT || !(pg->flags & PG_DIRTY))
                return VM_WB_NONE;
        rmap_for_each_owner(pg, owner_at, &o);
        if (!o.obj || o.obj->type != VM_OBJECT_FILE || !o.obj->pager_ops ||
            !o.obj->pager_ops->writepage)
                return VM_WB_NONE;
        /* Never nested: a writepage that reached reclaim (it must not,
         * docs/design.md) finds its own file system half-way. */
        if (writing || (pg->flags & PG_PINNED))
                return VM_WB_BUSY;
        /* Clean first, everywhere: the next write through any mapping
         * faults and marks the page dirty again (pager mkwrite). */
        if (rmap_unmap(pg, NULL) != VM_OK)      /* mlocked */
                return VM_WB_BUSY;
        pg->flags &= ~(uint32_t)PG_DIRTY;
        pg->flags |= PG_PINNED;
        writing = true;
        vm_writeback_pages++;
        err = o.obj->pager_ops->writepage(o.obj, o.index, pg);
        vm_writeback_pages--;
        writing = false;
        pg->flags &= ~(uint32_t)PG_PINNED;
        if (err) {
                pg->flags |= PG_DIRTY;          /* nothing lost */
                o.obj->wb_error = err;
                vm_events.vmscan_write_failed++;
                return VM_WB_FAILED;
        }
        vm_events.nr_vmscan_write++;
        /* Written to, or mapped, while the write ran: in use, it stays. */
        if ((pg->flags & PG_DIRTY) || rmap_count(pg) > 0)
                return VM_WB_KEPT;
        return rmap_evict_clean(pg) == VM_OK ? VM_WB_FREED : VM_WB_KEPT;
}

/* Scan the inactive file list of zone z from its tail: at most `scan`
 * pages (at most its length, so that no page moved to the head is seen
 * twice), until `want` are freed. => pages freed. */
static uint64_t shrink_inactive(enum zone_id z, uint64_t scan, uint64_t want)
{
        struct vm_page *pg = pmm_lru_tail(z, PMM_LRU_INACTIVE_FILE), *next;
        uint64_t freed = 0;

        for (; pg && scan > 0 && freed < want; pg = next, scan--) {
                next = pmm_lru_prev(pg);
                if (!in_target(pg))
                        continue;
                vm_events.pgscan++;
                vm_events.pgscan_direct += in_direct;
                if (second_chance(pg, &file_kind))
                        continue;
                switch (rmap_evict_clean(pg)) {
                case VM_OK:                     /* pg is free now */
                        freed++;
                        count_steal(1);
                        break;
                case VM_EBUSY:                  /* mlocked: keep it */
                        lru_move(pg, PMM_LRU_ACTIVE_FILE);
                        vm_events.pgactivate++;
                        break;
                default:                        /* dirty */
                        switch (vm_reclaim_writeback(pg)) {
                        case VM_WB_FREED:
                                freed++;
                                count_steal(1);
                                break;
                        case VM_WB_KEPT:        /* written to again */
                        case VM_WB_BUSY:
                                lru_move(pg, PMM_LRU_ACTIVE_FILE);
                                vm_events.pgactivate++;
                                break;
                        case VM_WB_FAILED:      /* tried again when it
                                                 * comes round */
                                lru_move(pg, PMM_LRU_ACTIVE_FILE);
                                break;
                        case VM_WB_NONE:        /* tmpfs: swap-backed now */
                                lru_move(pg, PMM_LRU_ACTIVE_ANON);
                                break;
                        }
                        break;
                }
        }
        return freed;
}

/* Reclaim up to nr pages of kind k, zone by zone from the highest (the
 * order user pages are taken in). => pages freed. */
static uint64_t reclaim_kind(const struct lru_kind *k, uint64_t nr)
{
        uint64_t freed = 0;

        for (int z = NR_ZONES - 1; z >= 0 && freed < nr; z--) {
                struct pmm_zone_stats st;
                uint64_t left = nr - freed;

                pmm_zone_stats((enum zone_id)z, &st);
                /* Keep the inactive list at least as long as the active
                 * one, so that what is scanned had time to be used. */
                if (st.lru[k->inactive] < st.lru[k->active])
                        shrink_active((enum zone_id)z, k,
                                      st.lru[k->active] - st.lru[k->inactive] +
                                      left);
                pmm_zone_stats((enum zone_id)z, &st);
                freed += k == &file_kind
                        ? shrink_inactive((enum zone_id)z,
                                          st.lru[k->inactive], left)
                        : shrink_inactive_anon((enum zone_id)z,
                                               st.lru[k->inactive], left);
        }
        return freed;
}

/*
 * How many of nr pages to ask of the swap-backed lists, by vm.swappiness
 * as Linux documents it: the relative cost of swapping against dropping
 * file pages, 0..200; at 100 both kinds feel the same pressure. Each
 * kind's weight is its list length times its cost share (swappiness for
 * anonymous pages, 200 - swappiness for file pages), as Linux's
 * get_scan_count without the measured costs. Lazily freed and droppable
 * pages cost no write: they weigh as file pages; with no swap room they
 * are the only anonymous pages that can go.
 */
static uint64_t anon_share(uint64_t nr)
{
        uint64_t file = vm_lru_pages(PMM_LRU_INACTIVE_FILE) +
                        vm_lru_pages(PMM_LRU_ACTIVE_FILE);
        uint64_t anon = vm_lru_pages(PMM_LRU_INACTIVE_ANON) +
                        vm_lru_pages(PMM_LRU_ACTIVE_ANON);
        uint64_t cheap = MIN(anon, vm_lazyfree_pages + vm_droppable_pages);
        uint64_t total, free, aw, fw;

        swap_totals(&total, &free);
        if (free == 0 && vm_swap_cached_pages() == 0)
                anon = cheap;                   /* nowhere to write */
        aw = vm_swappiness * (anon - cheap) + (200 - vm_swappiness) * cheap;
        fw = (200 - vm_swappiness) * file;
        return aw + fw ? nr * aw / (aw + fw) : 0;
}

/* Reclaim changes the objects and tables of whatever spaces own the
 * pages it takes: it enters them all (vm_space_enter_all), which keeps
 * the lock-free faults out meanwhile. */
uint64_t vm_reclaim(uint64_t nr)
{
        uint64_t anon, freed;

        vm_space_enter_all();
        vm_spaces_parked_free();        /* unmapped without the lock */
        anon = swap_usable() ? anon_share(nr) : 0;
        freed = reclaim_kind(&file_kind, nr - anon);
        /* Each kind then gives what the other could not (at swappiness 0
         * anonymous pages go only once the file lists have none left). */
        if (freed < nr && swap_usable())
                freed += reclaim_kind(&anon_kind, nr - freed);
        if (freed < nr && anon)
                freed += reclaim_kind(&file_kind, nr - freed);
        vm_space_leave_all();
        return freed;
}

uint64_t vm_reclaim_memcg(struct memcg *g, uint64_t nr)
{
        uint64_t freed;

        target = g;
        freed = vm_reclaim(nr);
        target = NULL;
        g->pgsteal += freed;
        return freed;
}

bool vm_reclaim_futile(void)
{
        uint64_t total, free;
        uint64_t file = vm_lru_pages(PMM_LRU_INACTIVE_FILE) +
                        vm_lru_pages(PMM_LRU_ACTIVE_FILE);
        uint64_t anon = vm_lru_pages(PMM_LRU_INACTIVE_ANON) +
                        vm_lru_pages(PMM_LRU_ACTIVE_ANON);

        swap_totals(&total, &free);
        /* Anonymous pages can go only as far as swap has room (or the
         * swap cache gives entries back without a write). */
        anon = MIN(anon, free + vm_swap_cached_pages() + vm_droppable_pages +
                         vm_lazyfree_pages);
        return file + anon < RECLAIM_BATCH;
}

uint64_t vm_reclaim_direct(void)
{
        uint64_t freed;

        if (!pmm_free_below(PMM_WMARK_MIN) || vm_reclaim_futile())
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

        if (!pmm_free_below(PMM_WMARK_LOW) || vm_reclaim_futile())
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

uint64_t vm_dirty_file_pages(void)
{
        uint64_t n = pmm_npages(), dirty = 0;

        for (uint64_t pfn = 0; pfn < n; pfn++) {
                struct vm_page *pg =
                        pmm_pa_to_page(pmm_ram_base() + (pfn << PAGE_SHIFT));
                struct vm_object *o = NULL;

                if ((pg->flags & (PG_OBJECT | PG_DIRTY)) !=
                    (PG_OBJECT | PG_DIRTY))
                        continue;
                rmap_for_each_owner(pg, first_owner, &o);
                dirty += o && o->pager_ops;
        }
        return dirty;
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
