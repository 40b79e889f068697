/*
 * pmm.c - the buddy allocator: physical page frames by zone, in blocks of
 * 2^order contiguous pages.
 *
 * Owns: the vm_page array handed to pmm_init() and the per-zone free lists.
 * Must not touch: page contents, except to zero a block for PMM_ZERO
 * (through pmap_zero_page()).
 * Invariants (checked by pmm_check(), listed in pmm.h):
 *   1. a free block is 2^order pages, aligned to its size, inside one zone;
 *      its head has PG_FREE and its order, no page inside it has PG_FREE or
 *      PG_RESERVED, and the head is on its zone's list for that order;
 *   2. a free block's buddy is never a free block of the same order;
 *   3. the counters equal what the lists hold; `present` counts the pages
 *      of the zone that are not PG_RESERVED (free or handed out).
 * Page states: PG_RESERVED (never added); free (head: PG_FREE, its order,
 * refcount 0; pages inside: flags and order meaningless); allocated (head:
 * refcount >= 1, its order, PG_HEAD when order > 0, owner flags; pages
 * inside belong to the owner, who must clear its flags before freeing).
 *
 * Locks (docs/design.md, "Locking", rank 28): each zone's free lists and
 * counters under its spinlock (interrupts off while held, so an interrupt
 * handler may allocate and free); the machine's free count is atomic. So
 * allocation and freeing are correct from any CPU with no big kernel lock
 * held.
 *
 * What other CPUs may see. The double-free check of pmm_free_pages looks
 * at other frames' descriptors with no lock, while another CPU, under its
 * zone's lock, may be making one of them a free block head or taking it
 * off a list. So a free page's flags, order and zone (vm_page.state, one
 * word with count16) are written at once (page_state_set) wherever a page
 * becomes or stops being free, and read at once (page_state_get) where no
 * lock is held: a reader sees a free block head of one order or no free
 * head, never the flag of one with the order of another.
 *
 * Why a buddy allocator rather than the seeds' designs. LunaixOS keeps one
 * bit per page and searches the bitmap linearly: cheap in memory, but an
 * allocation costs O(pages) in the worst case and finding n contiguous
 * pages means scanning for a run. xv6 keeps a singly linked list of free
 * 4 KiB pages: O(1), but it knows nothing of contiguity, so it cannot hand
 * out the multi-page blocks that DMA buffers, kernel stacks and slabs need.
 * A buddy allocator gives contiguous blocks of any power-of-two size with
 * O(log n) split and merge (a block's buddy is found by flipping one bit of
 * its frame number), keeps fragmentation in check by merging eagerly, and
 * keeps one set of lists per zone so DMA memory is only used when asked for
 * or when nothing else is left. The bitmap idea lives on in bootmem.c,
 * where it fits: before the page descriptors exist.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/smp_call.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

_Static_assert(sizeof(struct vm_page) == 32,
               "struct vm_page must stay 32 bytes (0.78% of RAM)");

/*
 * One zone: its frame range and its free lists.
 * Locks: [c] constant after pmm_init()  [z] the zone's lock
 * [w] set while the boot adds memory, on one CPU; constant after.
 */
struct pmm_zone {
        struct spinlock lock;                   /* LOCK_RANK_PMM_ZONE */
        uint64_t start_pfn, end_pfn;            /* [c] [start, end) */
        uint32_t head[PMM_MAX_ORDER + 1];       /* [z] first block or PFN_NONE */
        uint64_t nr_free[PMM_MAX_ORDER + 1];    /* [z] blocks per order */
        unsigned long free;                     /* [z] pages in free blocks;
                                                 * [a] read as a hint */
        uint64_t present;                       /* [w] pages not reserved */
        uint64_t wmark[PMM_NR_WMARKS];          /* [w] min, low, high */
        /* The reclaim lists (vm_reclaim.c's policy), linked through
         * vm_page.next/prev like the free lists: head = most recent. */
        uint32_t lru_head[PMM_NR_LRU], lru_tail[PMM_NR_LRU];    /* [z] */
        uint64_t lru_count[PMM_NR_LRU];                         /* [z] */
        /* Pages added without the lock (pmm_lru_add_nolock), not yet
         * linked: a stack through vm_page.next, and its length (a word,
         * so that every machine adds to it atomically). */
        uint32_t lru_incoming[PMM_NR_LRU];                      /* [a] */
        unsigned long lru_incoming_count[PMM_NR_LRU];           /* [a] */
};

/*
 * Frame numbers in this file ("pfn") count from the first frame of RAM
 * (pmm_base), not from physical address 0: pfn i is physical address
 * pmm_base + i pages, and pmm_pages[i] its descriptor. pmm_base is aligned
 * to the largest block, so a block aligned in pfn is aligned physically.
 */
static struct vm_page *pmm_pages;       /* [c] the descriptor array */
static uint64_t pmm_nr_pages;           /* [c] its length */
static paddr_t pmm_base;                /* [c] physical address of pfn 0 */
static struct pmm_zone pmm_zones[NR_ZONES];
static const char *pmm_zone_names[NR_ZONES];    /* [c] */
/* The free pages of all zones and the watermarks summed, for the
 * question every return to user mode asks (pmm_free_below): two loads,
 * not a loop. The count is a word, so that every machine adds to it
 * atomically in one instruction. */
static unsigned long pmm_free_total;            /* [a] */
static uint64_t pmm_wmark_total[PMM_NR_WMARKS]; /* [w] */

/*
 * Per-CPU page lists (Linux's pcp): order-0 free pages each CPU keeps in
 * front of each zone, so that most single-page allocations and frees
 * take no zone lock. A list is touched only by its own CPU with
 * interrupts off ([i]): no lock, since nothing else runs there then; a
 * drain of another CPU's lists is a cross-CPU call that runs on it
 * (pmm_drain_all). A page on a list is free for every count (the zones'
 * free + their lists = pmm_free_total) but not in the buddy's lists: its
 * state is PG_FREE with order PMM_PCP_ORDER, which no buddy walk matches
 * (never merged with, never taken by a split) while the double-free
 * check still sees it free. Refill takes PMM_PCP_BATCH pages under one
 * lock round; a free that brings a list above PMM_PCP_HIGH gives back its
 * PMM_PCP_BATCH oldest under one round (the marks: pmm.h), a batch of
 * frees (pmm_lru_release) its oldest down to PMM_PCP_HIGH - PMM_PCP_BATCH.
 */
#define PMM_PCP_ORDER   0xffu
#define PMM_PCP_CPUS    LOCK_MAX_CPUS
/*
 * A huge allocation (order 9 and up: x86-64's and riscv64's transparent
 * huge pages, i386's are 10) first gives this CPU's listed pages back.
 * A huge page of user memory is split into single pages at once, so a
 * munmap frees it page by page through this CPU's list, and the last
 * pages freed stay there: the block they belong to, the buddy's most
 * recently freed, cannot be whole for the next huge fault, which takes
 * an older block, or splits a fresh one. Measured (a 64 MiB huge fill
 * and munmap, 8 rounds, which 2 MiB frames each round got, from
 * pagemap): without the drain 31 of each round's 32 blocks were the
 * previous round's, and the 32nd a new one every round, walking up
 * through RAM 4 MiB a round; with it all 32, as without the lists. A
 * drain is one lock round per zone, next to zeroing 2 MiB.
 * pmm_events.split_huge counts blocks of this order or more split to
 * serve a smaller allocation.
 */
#define PMM_SPLIT_HUGE_ORDER 9

/*
 * A list: a ring of frame numbers. Slots bottom .. top - 1 (free-running
 * indices, taken modulo PMM_PCP_SLOTS) hold the listed frames, oldest
 * first; frees push and allocations pop at the top (LIFO), spills take
 * from the bottom, a refill of an empty list appends below the bottom.
 * Between calls a list holds at most PMM_PCP_HIGH pages; within one
 * (pcp_put_many) at most PMM_PCP_SLOTS.
 */
#define PMM_PCP_SLOTS   128u
_Static_assert(PMM_PCP_HIGH < PMM_PCP_SLOTS &&
               (PMM_PCP_SLOTS & (PMM_PCP_SLOTS - 1)) == 0,
               "a list's ring holds the high mark; its size a power of 2");

struct pmm_pcp {
        uint32_t bottom, top;           /* [i] oldest slot, past newest */
        uint32_t count;                 /* [i] top - bottom; [a] a hint */
        uint32_t pfn[PMM_PCP_SLOTS];    /* [i] */
};

/* One CPU's lists, in cache lines of their own (no false sharing). */
struct pmm_pcp_cpu {
        struct pmm_pcp zone[NR_ZONES];
} __attribute__((aligned(64)));

static struct pmm_pcp_cpu pmm_pcp[PMM_PCP_CPUS];
struct pmm_events pmm_events;

static void pmm_event_add(uint64_t *counter)
{
        vmstat_add(counter, 1);         /* atomic where 64 bits are a word */
}

static void free_total_add(unsigned long n)
{
        __atomic_fetch_add(&pmm_free_total, n, __ATOMIC_RELAXED);
}

static void free_total_sub(unsigned long n)
{
        __atomic_fetch_sub(&pmm_free_total, n, __ATOMIC_RELAXED);
}

/* A page's flags, order, zone and count16 as the one word they share. */
static uint64_t page_state(uint32_t flags, unsigned order, unsigned zone,
                           uint16_t count16)
{
        struct vm_page t;

        t.flags = flags;
        t.order = (uint8_t)order;
        t.zone = (uint8_t)zone;
        t.count16 = count16;
        return t.state;
}

/* Write or read the word at once: atomically where it is a machine word
 * (a 32-bit machine, i386, runs its kernel on one CPU). */
static void page_state_set(struct vm_page *pg, uint64_t state)
{
#if UINTPTR_MAX > 0xffffffffu
        __atomic_store_n(&pg->state, state, __ATOMIC_RELAXED);
#else
        pg->state = state;
#endif
}

static struct vm_page page_state_get(const struct vm_page *pg)
{
        struct vm_page t;

#if UINTPTR_MAX > 0xffffffffu
        t.state = __atomic_load_n(&pg->state, __ATOMIC_RELAXED);
#else
        t.state = pg->state;
#endif
        return t;
}

const struct pmm_zone_desc pmm_machine_zones[NR_ZONES] = MACHINE_ZONE_TABLE;

/* Test hook: when non-zero, the n-th next allocation fails (host tests). */
uint64_t pmm_fail_after;

static enum zone_id pmm_pfn_zone(uint64_t pfn)
{
        unsigned z = 0;

        while (z + 1 < NR_ZONES && pfn >= pmm_zones[z].end_pfn)
                z++;
        return (enum zone_id)z;
}

static uint64_t pmm_pfn(const struct vm_page *pg)
{
        return (uint64_t)(pg - pmm_pages);
}

/* --- free lists: doubly linked through vm_page.next/prev as frame numbers */

/* Make [pfn, pfn + 2^order) a free block at the head of its list. */
static void pmm_list_insert(struct pmm_zone *z, uint64_t pfn, unsigned order)
{
        struct vm_page *pg = &pmm_pages[pfn];
        uint32_t old = z->head[order];

        page_state_set(pg, page_state(PG_FREE, order, pg->zone, 0));
        pg->refcount = 0;
        pg->prev = PFN_NONE;
        pg->next = old;
        if (old != PFN_NONE)
                pmm_pages[old].prev = (uint32_t)pfn;
        z->head[order] = (uint32_t)pfn;
        z->nr_free[order]++;
        __atomic_store_n(&z->free, z->free + (1UL << order), __ATOMIC_RELAXED);
}

/* Take the free block headed by pfn off its list; it is no longer free. */
static void pmm_list_remove(struct pmm_zone *z, uint64_t pfn)
{
        struct vm_page *pg = &pmm_pages[pfn];
        unsigned order = pg->order;

        if (pg->prev != PFN_NONE)
                pmm_pages[pg->prev].next = pg->next;
        else
                z->head[order] = pg->next;
        if (pg->next != PFN_NONE)
                pmm_pages[pg->next].prev = pg->prev;
        pg->next = pg->prev = PFN_NONE;
        page_state_set(pg, page_state(pg->flags & ~PG_FREE, order, pg->zone,
                                      pg->count16));
        z->nr_free[order]--;
        __atomic_store_n(&z->free, z->free - (1UL << order), __ATOMIC_RELAXED);
}

/* Is pfn the head of a free block of exactly this order in zone zid?
 * => the zone's lock held. */
static bool pmm_is_free_head(uint64_t pfn, unsigned order, unsigned zid)
{
        struct vm_page st;

        if (pfn >= pmm_nr_pages)
                return false;
        st = page_state_get(&pmm_pages[pfn]);
        return (st.flags & PG_FREE) && st.order == order && st.zone == zid;
}

/* Is frame pfn inside some free block? Free blocks are aligned, so only
 * the aligned frame below pfn at each order o can be the head of one, of
 * order o or more. That frame changes only at the orders where pfn has a
 * bit set, so each distinct one is looked at once, at the lowest order it
 * heads: pfn itself at order 0, then one per set bit of pfn below
 * PMM_MAX_ORDER. No lock: each state is read as one word. */
static bool pmm_pfn_in_free_block(uint64_t pfn)
{
        uint64_t bits = pfn & ((1ULL << PMM_MAX_ORDER) - 1);
        struct vm_page st = page_state_get(&pmm_pages[pfn]);

        if (st.flags & PG_FREE)
                return true;
        for (; bits; bits &= bits - 1) {
                unsigned o = (unsigned)__builtin_ctzll(bits) + 1;

                st = page_state_get(&pmm_pages[pfn & ~((1ULL << o) - 1)]);
                if ((st.flags & PG_FREE) && st.order >= o &&
                    st.order <= PMM_MAX_ORDER)  /* not a CPU's list's */
                        return true;
        }
        return false;
}

/* Put the block [pfn, pfn + 2^order) on the free lists, merging it with its
 * buddy for as long as the buddy is a free block of the same order.
 * => the zone's lock held. */
static void pmm_block_free(uint64_t pfn, unsigned order)
{
        unsigned zid = pmm_pages[pfn].zone;
        struct pmm_zone *z = &pmm_zones[zid];

        while (order < PMM_MAX_ORDER) {
                uint64_t buddy = pfn ^ (1ULL << order);

                if (!pmm_is_free_head(buddy, order, zid))
                        break;
                pmm_list_remove(z, buddy);      /* now inside a block */
                pfn &= ~(1ULL << order);
                order++;
        }
        pmm_list_insert(z, pfn, order);
}

/* --- setting up ------------------------------------------------------- */

/* The pfn (from base) at which a zone ending at `end` ends, clipped to
 * [0, npages]. */
static uint64_t pmm_zone_end_pfn(paddr_t end, paddr_t base, uint64_t npages)
{
        if (end <= base)
                return 0;
        return MIN((end - base) >> PAGE_SHIFT, npages);
}

/*
 * Set up an empty allocator over npages frames from base; see pmm.h.
 * => every descriptor is rewritten: PG_RESERVED, its zone, no links.
 * => npages is clipped below PFN_NONE (32-bit frame numbers: 16 TiB).
 */
void pmm_init(struct vm_page *pages, paddr_t base, uint64_t npages,
              const struct pmm_zone_desc zones[NR_ZONES])
{
        const paddr_t block = (paddr_t)PAGE_SIZE << PMM_MAX_ORDER;

        if (npages >= PFN_NONE) {
                pr_warn("pmm: %" PRIu64 " frames, managing only %u\n",
                        npages, PFN_NONE - 1);
                npages = PFN_NONE - 1;
        }
        if (base & (block - 1))
                panic("pmm_init: RAM base %#" PRIx64 " not aligned to %#" PRIx64,
                      (uint64_t)base, (uint64_t)block);
        pmm_pages = pages;
        pmm_nr_pages = npages;
        pmm_base = base;
        memset(pmm_zones, 0, sizeof pmm_zones);
        pmm_free_total = 0;
        memset(pmm_wmark_total, 0, sizeof pmm_wmark_total);
        memset(&pmm_events, 0, sizeof pmm_events);
        for (unsigned c = 0; c < PMM_PCP_CPUS; c++)
                for (unsigned z = 0; z < NR_ZONES; z++)
                        pmm_pcp[c].zone[z] = (struct pmm_pcp){ .count = 0 };
        for (unsigned z = 0; z < NR_ZONES; z++) {
                uint64_t end = z + 1 < NR_ZONES
                        ? pmm_zone_end_pfn(zones[z].end, base, npages) : npages;

                if (end < npages && zones[z].end > base &&
                    (zones[z].end - base) & (block - 1))
                        panic("pmm_init: zone %s ends at %#" PRIx64 ", not on a block",
                              zones[z].name, (uint64_t)zones[z].end);
                pmm_zone_names[z] = zones[z].name;
                spin_init(&pmm_zones[z].lock, "pmm zone", LOCK_RANK_PMM_ZONE);
                pmm_zones[z].start_pfn = z ? pmm_zones[z - 1].end_pfn : 0;
                pmm_zones[z].end_pfn = MAX(end, pmm_zones[z].start_pfn);
                for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
                        pmm_zones[z].head[o] = PFN_NONE;
                for (unsigned l = 0; l < PMM_NR_LRU; l++)
                        pmm_zones[z].lru_head[l] = pmm_zones[z].lru_tail[l] =
                                pmm_zones[z].lru_incoming[l] = PFN_NONE;
        }
        for (uint64_t pfn = 0; pfn < npages; pfn++) {
                struct vm_page *pg = &pages[pfn];

                memset(pg, 0, sizeof *pg);
                pg->next = pg->prev = PFN_NONE;
                pg->flags = PG_RESERVED;
                pg->zone = (uint8_t)pmm_pfn_zone(pfn);
        }
}

/* The frames of [start, end): inward if `inward`, else outward, clipped to
 * the array. Returns false if that leaves nothing. */
static bool pmm_frames(paddr_t start, paddr_t end, bool inward,
                       uint64_t *first, uint64_t *last)
{
        uint64_t s, e;

        if (end <= start || end <= pmm_base)
                return false;
        start = MAX(start, pmm_base) - pmm_base;
        end -= pmm_base;
        s = start >> PAGE_SHIFT;
        e = end >> PAGE_SHIFT;
        if (inward)
                s += (start & PAGE_MASK) != 0;  /* no overflow: shifted */
        else
                e += (end & PAGE_MASK) != 0;
        *first = s;
        *last = MIN(e, pmm_nr_pages);
        return *first < *last;
}

/* Largest order of an aligned block at pfn that ends at or before end
 * (pfn is relative to pmm_base, which is aligned to the largest block). */
static unsigned pmm_carve_order(uint64_t pfn, uint64_t end)
{
        unsigned fit = 63 - (unsigned)__builtin_clzll(end - pfn);
        unsigned align = pfn ? (unsigned)__builtin_ctzll(pfn) : 63;

        return MIN(MIN(fit, align), PMM_MAX_ORDER);
}

/* Panic unless every frame of [s, e) is still PG_RESERVED. */
static void pmm_frames_check_reserved(uint64_t s, uint64_t e, const char *who)
{
        for (uint64_t pfn = s; pfn < e; pfn++)
                if (!(pmm_pages[pfn].flags & PG_RESERVED))
                        panic("%s: frame %#" PRIx64 " is already managed", who, pfn);
}

static uint64_t isqrt(uint64_t x)
{
        uint64_t r = 0;

        for (uint64_t bit = (uint64_t)1 << 62; bit; bit >>= 2) {
                if (x >= r + bit) {
                        x -= r + bit;
                        r = (r >> 1) + bit;
                } else {
                        r >>= 1;
                }
        }
        return r;
}

/*
 * The watermarks, as Linux sets them: min_free_kbytes = 4 * sqrt(KiB of
 * RAM), kept within [128 KiB, 64 MiB], shared by the zones in proportion
 * to their pages; low = min + min / 4, high = min + min / 2.
 */
static void pmm_set_watermarks(void)
{
        uint64_t total = 0, min_pages;

        for (unsigned zid = 0; zid < NR_ZONES; zid++)
                total += pmm_zones[zid].present;
        min_pages = MIN(MAX(4 * isqrt(total * (PAGE_SIZE / 1024)), 128),
                        65536) / (PAGE_SIZE / 1024);
        for (unsigned zid = 0; zid < NR_ZONES; zid++) {
                struct pmm_zone *z = &pmm_zones[zid];
                uint64_t min = total ? min_pages * z->present / total : 0;

                z->wmark[PMM_WMARK_MIN] = min;
                z->wmark[PMM_WMARK_LOW] = min + min / 4;
                z->wmark[PMM_WMARK_HIGH] = min + min / 2;
        }
        for (unsigned w = 0; w < PMM_NR_WMARKS; w++) {
                pmm_wmark_total[w] = 0;
                for (unsigned zid = 0; zid < NR_ZONES; zid++)
                        pmm_wmark_total[w] += pmm_zones[zid].wmark[w];
        }
}

/* Count frames [s, e) as present in the zones they fall in. */
static void pmm_frames_count_present(uint64_t s, uint64_t e)
{
        for (unsigned zid = 0; zid < NR_ZONES; zid++) {
                struct pmm_zone *z = &pmm_zones[zid];
                uint64_t a = MAX(s, z->start_pfn), b = MIN(e, z->end_pfn);

                if (a < b)
                        z->present += b - a;
        }
        pmm_set_watermarks();
}

/*
 * Free the frames of [start, end) into the allocator as the largest aligned
 * blocks that fit (zone boundaries are multiples of the largest block, so no
 * block spans two), merging with free neighbours.
 * => panics if a frame was already added or claimed (a boot-code bug).
 */
void pmm_add_range(paddr_t start, paddr_t end)
{
        uint64_t s, e;

        if (!pmm_frames(start, end, true, &s, &e))
                return;
        pmm_frames_check_reserved(s, e, "pmm_add_range");
        for (uint64_t pfn = s; pfn < e; pfn++) {
                pmm_pages[pfn].flags = 0;
                pmm_pages[pfn].refcount = 0;
        }
        pmm_frames_count_present(s, e);
        for (uint64_t pfn = s; pfn < e; ) {
                unsigned order = pmm_carve_order(pfn, e);
                struct pmm_zone *z = &pmm_zones[pmm_pages[pfn].zone];

                spin_lock(&z->lock);
                pmm_block_free(pfn, order);
                spin_unlock(&z->lock);
                free_total_add(1UL << order);
                pfn += 1ULL << order;
        }
}

/*
 * Mark the frames of [start, end) (page-aligned outward) as allocated
 * order-0 pages with refcount 1; see pmm.h.
 * => panics if a frame was already added or claimed (a boot-code bug).
 */
void pmm_claim_range(paddr_t start, paddr_t end)
{
        uint64_t s, e;

        if (!pmm_frames(start, end, false, &s, &e))
                return;
        pmm_frames_check_reserved(s, e, "pmm_claim_range");
        for (uint64_t pfn = s; pfn < e; pfn++) {
                struct vm_page *pg = &pmm_pages[pfn];

                pg->flags = 0;
                pg->order = 0;
                pg->refcount = 1;
        }
        pmm_frames_count_present(s, e);
}

/* --- allocation ------------------------------------------------------- */

/* May zone z have a block of 2^order pages? A hint read without its lock,
 * so that an empty zone (x86-64's NORMAL in a machine with less than
 * 4 GiB) is passed over without taking it. */
static bool pmm_zone_may_have(const struct pmm_zone *z, unsigned order)
{
        return __atomic_load_n(&z->free, __ATOMIC_RELAXED) >= (1UL << order);
}

/* The zones flags allow, in the order to try them: the highest zone the
 * class may use (machine/pmparam.h), then each lower one. Returns how many. */
static unsigned pmm_zones_for(unsigned flags, enum zone_id out[NR_ZONES])
{
        int top = (flags & PMM_DMA) ? PMM_ZONE_DMA
                : (flags & PMM_DMA32) ? PMM_ZONE_DMA32
                : (flags & PMM_HIGHMEM) ? NR_ZONES - 1 : PMM_ZONE_DEFAULT;
        unsigned n = 0;

        for (int z = top; z >= 0; z--)
                out[n++] = (enum zone_id)z;
        return n;
}

/* Take a block of 2^order pages from z, splitting a larger one if needed;
 * the unused upper halves go back on the lists. PFN_NONE if none.
 * => the zone's lock held. */
static uint64_t pmm_zone_take(struct pmm_zone *z, unsigned order)
{
        for (unsigned o = order; o <= PMM_MAX_ORDER; o++) {
                uint64_t pfn = z->head[o];

                if (z->nr_free[o] == 0)         /* also before pmm_init() */
                        continue;
                pmm_list_remove(z, pfn);
                if (o >= PMM_SPLIT_HUGE_ORDER && order < PMM_SPLIT_HUGE_ORDER)
                        pmm_event_add(&pmm_events.split_huge);
                while (o > order) {
                        o--;
                        pmm_list_insert(z, pfn + (1ULL << o), o);
                }
                return pfn;
        }
        return PFN_NONE;
}

/* --- the per-CPU lists ------------------------------------------------ */

static void pcp_count_set(struct pmm_pcp *p, uint32_t n)
{
        __atomic_store_n(&p->count, n, __ATOMIC_RELAXED);
}

/* This CPU's list for zone zid. => interrupts off (the CPU cannot change
 * under the caller, nor its list). */
static struct pmm_pcp *pcp_mine(unsigned zid)
{
        unsigned cpu = machine_cpu_id();

        ASSERT(cpu < PMM_PCP_CPUS);
        return &pmm_pcp[cpu].zone[zid];
}

/* The frame in slot i (counted from the oldest, free-running) of p. */
static uint32_t *pcp_slot(struct pmm_pcp *p, uint32_t i)
{
        return &p->pfn[i & (PMM_PCP_SLOTS - 1)];
}

/* Mark free frame pfn (in no list) as listed. */
static void pcp_mark(uint64_t pfn)
{
        struct vm_page *pg = &pmm_pages[pfn];

        page_state_set(pg, page_state(PG_FREE, PMM_PCP_ORDER, pg->zone, 0));
        pg->refcount = 0;
}

/* Put free frame pfn (in no list) at the newest end of p. => p not full. */
static void pcp_push(struct pmm_pcp *p, uint64_t pfn)
{
        pcp_mark(pfn);
        *pcp_slot(p, p->top++) = (uint32_t)pfn;
        pcp_count_set(p, p->count + 1);
}

/* Put free frame pfn (in no list) at the oldest end of p (a refill: the
 * first page put is the first handed out). => p not full. */
static void pcp_append(struct pmm_pcp *p, uint64_t pfn)
{
        pcp_mark(pfn);
        *pcp_slot(p, --p->bottom) = (uint32_t)pfn;
        pcp_count_set(p, p->count + 1);
}

/* Take the newest frame off p (LIFO: the hottest); it is no longer free
 * (state: no flags). => p not empty. */
static uint64_t pcp_pop(struct pmm_pcp *p)
{
        uint32_t pfn = *pcp_slot(p, --p->top);
        struct vm_page *pg = &pmm_pages[pfn];

        page_state_set(pg, page_state(0, 0, pg->zone, 0));
        pcp_count_set(p, p->count - 1);
        return pfn;
}

/*
 * Give the n oldest pages of p back to zone z, merging them, in one lock
 * round. A list is a ring of frame numbers, not links through the pages'
 * descriptors (session 15's): putting a page on it or taking one off
 * writes one slot and the page's state, never a neighbour's links, and
 * a spill only moves the oldest index.
 * => interrupts off; p is this CPU's.
 */
static void pcp_spill(struct pmm_zone *z, struct pmm_pcp *p, unsigned n)
{
        n = MIN(n, p->count);
        spin_lock(&z->lock);
        for (unsigned i = 0; i < n; i++) {
                uint32_t pfn = *pcp_slot(p, p->bottom + i);
                struct vm_page *pg = &pmm_pages[pfn];

                /* Not free until the buddy has it: were pfn merged into
                 * a block below it, no stale mark may stay on it. */
                page_state_set(pg, page_state(0, 0, pg->zone, 0));
                pmm_block_free(pfn, 0);
        }
        spin_unlock(&z->lock);
        p->bottom += n;
        pcp_count_set(p, p->count - n);
        pmm_event_add(&pmm_events.pcp_spill);
}

/* The lowest order with a free block in z, or PMM_MAX_ORDER + 1.
 * => the zone's lock held. */
static unsigned pmm_zone_lowest_order(const struct pmm_zone *z)
{
        unsigned o = 0;

        while (o <= PMM_MAX_ORDER && z->nr_free[o] == 0)
                o++;
        return o;
}

/* Fill the empty list p with up to PMM_PCP_BATCH pages of z in one lock
 * round. The smallest free blocks go first, as single pages would (the
 * large ones stay whole for large allocations), but whole: a block of
 * 2^k pages is taken with one list operation (split from a larger one
 * if none smaller is free, k at most what the batch still needs) and
 * listed in address order, the order it is then handed out in.
 * => interrupts off. */
static void pcp_refill(struct pmm_zone *z, struct pmm_pcp *p)
{
        unsigned n = 0;

        if (!pmm_zone_may_have(z, 0))
                return;
        spin_lock(&z->lock);
        while (n < PMM_PCP_BATCH) {
                unsigned k = 31 - (unsigned)__builtin_clz(PMM_PCP_BATCH - n);
                unsigned low = pmm_zone_lowest_order(z);
                uint64_t pfn;

                if (low > PMM_MAX_ORDER)
                        break;
                pfn = pmm_zone_take(z, MIN(k, low));
                for (uint64_t i = 0; i < 1ULL << MIN(k, low); i++)
                        pcp_append(p, pfn + i);
                n += 1u << MIN(k, low);
        }
        spin_unlock(&z->lock);
        pmm_event_add(&pmm_events.pcp_refill);
}

/* An order-0 page of zone zid from this CPU's list, refilled from the
 * zone if empty; PFN_NONE if both are. */
static uint64_t pcp_take(enum zone_id zid)
{
        unsigned long s = intr_save();
        struct pmm_pcp *p = pcp_mine(zid);
        uint64_t pfn = PFN_NONE;

        if (p->count == 0)
                pcp_refill(&pmm_zones[zid], p);
        if (p->count != 0)
                pfn = pcp_pop(p);
        intr_restore(s);
        return pfn;
}

/* Free the order-0 page pg onto this CPU's list of its zone; above the
 * high mark, give a batch of the oldest back. */
static void pcp_put(struct vm_page *pg)
{
        unsigned long s = intr_save();
        struct pmm_pcp *p = pcp_mine(pg->zone);

        pcp_push(p, pmm_pfn(pg));
        if (p->count > PMM_PCP_HIGH)
                pcp_spill(&pmm_zones[pg->zone], p, PMM_PCP_BATCH);
        intr_restore(s);
}

/* Free n order-0 pages (in no list) onto this CPU's lists in one
 * interrupts-off round; a list then above the high mark (or full on the
 * way) gives its oldest back down to PMM_PCP_HIGH - PMM_PCP_BATCH, in
 * one lock round. */
static void pcp_put_many(struct vm_page *const *pgs, unsigned n)
{
        unsigned long s = intr_save();
        struct pmm_pcp_cpu *mine = &pmm_pcp[machine_cpu_id()];
        const unsigned low = PMM_PCP_HIGH - PMM_PCP_BATCH;

        for (unsigned i = 0; i < n; i++) {
                unsigned zid = pgs[i]->zone;
                struct pmm_pcp *p = &mine->zone[zid];

                if (p->count == PMM_PCP_SLOTS)
                        pcp_spill(&pmm_zones[zid], p, p->count - low);
                pcp_push(p, pmm_pfn(pgs[i]));
        }
        for (unsigned zid = 0; zid < NR_ZONES; zid++) {
                struct pmm_pcp *p = &mine->zone[zid];

                if (p->count > PMM_PCP_HIGH)
                        pcp_spill(&pmm_zones[zid], p, p->count - low);
        }
        intr_restore(s);
}

/* Give every page on this CPU's lists back to the zones. */
static void pcp_drain_here(void *unused)
{
        unsigned long s = intr_save();

        for (unsigned zid = 0; zid < NR_ZONES; zid++) {
                struct pmm_pcp *p = pcp_mine(zid);

                if (p->count)
                        pcp_spill(&pmm_zones[zid], p, p->count);
        }
        intr_restore(s);
}

/* Pages on some CPU's list (a hint: read without those CPUs). */
static bool pcp_any_listed(void)
{
        for (unsigned c = 0; c < PMM_PCP_CPUS; c++)
                for (unsigned zid = 0; zid < NR_ZONES; zid++)
                        if (__atomic_load_n(&pmm_pcp[c].zone[zid].count,
                                            __ATOMIC_RELAXED))
                                return true;
        return false;
}

/* Pages on the lists of zone zid, over every CPU (a hint, as above). */
static uint64_t pcp_zone_count(unsigned zid)
{
        uint64_t n = 0;

        for (unsigned c = 0; c < PMM_PCP_CPUS; c++)
                n += __atomic_load_n(&pmm_pcp[c].zone[zid].count,
                                     __ATOMIC_RELAXED);
        return n;
}

/*
 * Give every CPU's listed pages back to the zones, each CPU its own (a
 * cross-CPU call runs the drain on each); see pmm.h.
 */
bool pmm_drain_all(void)
{
        if (!smp_call_every_cpu(pcp_drain_here, NULL))
                return false;
        pmm_event_add(&pmm_events.drain_all);
        return true;
}

unsigned pmm_pcp_count(unsigned cpu, enum zone_id zid)
{
        if (cpu >= PMM_PCP_CPUS || (unsigned)zid >= NR_ZONES)
                return 0;
        return __atomic_load_n(&pmm_pcp[cpu].zone[zid].count,
                               __ATOMIC_RELAXED);
}

/* Drain this CPU's own lists (any context). */
void pmm_drain_local(void)
{
        pcp_drain_here(NULL);
}

/* A block of 2^order pages from the first of the zones that has one;
 * PFN_NONE if none has. */
static uint64_t pmm_take(unsigned order, const enum zone_id *zones,
                         unsigned nz)
{
        for (unsigned i = 0; i < nz; i++) {
                struct pmm_zone *z = &pmm_zones[zones[i]];
                uint64_t pfn;

                if (order == 0) {
                        if (z->present == 0)    /* no RAM: no list */
                                continue;
                        pfn = pcp_take(zones[i]);
                        if (pfn != PFN_NONE) {
                                free_total_sub(1);
                                return pfn;
                        }
                        continue;
                }
                if (!pmm_zone_may_have(z, order))
                        continue;
                spin_lock(&z->lock);
                pfn = pmm_zone_take(z, order);
                spin_unlock(&z->lock);
                if (pfn != PFN_NONE) {
                        free_total_sub(1UL << order);
                        return pfn;
                }
        }
        return PFN_NONE;
}

/*
 * Allocate 2^order contiguous pages; see pmm.h for the zone order.
 * => PMM_DMA wins over PMM_DMA32 if both are given.
 * => NULL if order > PMM_MAX_ORDER or no allowed zone has such a block.
 * => any CPU, any context (interrupts off or on); no lock needed.
 */
struct vm_page *pmm_alloc_pages(unsigned order, unsigned flags)
{
        enum zone_id zones[NR_ZONES];
        unsigned nz = pmm_zones_for(flags, zones);
        uint64_t pfn;
        struct vm_page *pg;

        if (pmm_fail_after && --pmm_fail_after == 0)
                return NULL;            /* an injected failure */
        if (order > PMM_MAX_ORDER)
                return NULL;
        if (order >= PMM_SPLIT_HUGE_ORDER)
                pcp_drain_here(NULL);   /* see PMM_SPLIT_HUGE_ORDER */
        pfn = pmm_take(order, zones, nz);
        if (pfn == PFN_NONE && pcp_any_listed() && pmm_drain_all()) {
                pmm_event_add(&pmm_events.drain_retry);
                pfn = pmm_take(order, zones, nz);
        }
        if (pfn == PFN_NONE)
                return NULL;
        pg = &pmm_pages[pfn];
        pg->flags = order ? PG_HEAD : 0;
        pg->order = (uint8_t)order;
        pg->refcount = 1;
        pg->count16 = 0;
        pg->private = 0;
        if (flags & PMM_ZERO)
                for (uint64_t i = 0; i < 1ULL << order; i++)
                        pmap_zero_page(pmm_base + ((pfn + i) << PAGE_SHIFT));
        return pg;
}

/* Panic unless pg is the head of an allocated block of this order. */
static void pmm_free_validate(const struct vm_page *pg, unsigned order)
{
        uintptr_t off = (uintptr_t)pg - (uintptr_t)pmm_pages;
        uint64_t pfn = off / sizeof *pg;

        if (off % sizeof *pg || pfn >= pmm_nr_pages)
                panic("pmm_free_pages: %p is not a page descriptor", pg);
        if (order > PMM_MAX_ORDER || (pfn & ((1ULL << order) - 1)) ||
            pfn + (1ULL << order) > pmm_nr_pages)
                panic("pmm_free_pages: bad order %u for frame %#" PRIx64, order, pfn);
        if (pg->flags & PG_RESERVED)
                panic("pmm_free_pages: frame %#" PRIx64 " is reserved", pfn);
        if (pmm_pfn_in_free_block(pfn))
                panic("pmm_free_pages: double free of frame %#" PRIx64, pfn);
        if (pg->order != order || !!(pg->flags & PG_HEAD) != (order > 0))
                panic("pmm_free_pages: frame %#" PRIx64 " freed as order %u, "
                      "allocated as order %u", pfn, order, pg->order);
        if (pg->refcount > 1)
                panic("pmm_free_pages: frame %#" PRIx64 " still has %u references",
                      pfn, pg->refcount);
}

/*
 * Return a block to the allocator, merging it with free buddies.
 * => pg is the head that pmm_alloc_pages() returned (or a claimed page,
 *    order 0); its refcount is 1 (the allocation's reference) or 0 (the
 *    caller dropped the last reference itself).
 * => panics on a double free, a reserved frame, an order other than the
 *    allocated one, or a page still referenced by someone else.
 */
void pmm_free_pages(struct vm_page *pg, unsigned order)
{
        struct pmm_zone *z;

        if (!pg)
                panic("pmm_free_pages: NULL page");
        pmm_free_validate(pg, order);
        if (pg->flags & PG_LRU)
                panic("pmm_free_pages: frame %#" PRIx64 " still on a reclaim "
                      "list", (uint64_t)pmm_page_to_pa(pg));
        pg->flags = 0;          /* owner flags (PG_SLAB...) end here */
        pg->refcount = 0;
        if (order == 0) {
                pcp_put(pg);
                free_total_add(1);
                return;
        }
        z = &pmm_zones[pg->zone];
        spin_lock(&z->lock);
        pmm_block_free(pmm_pfn(pg), order);
        spin_unlock(&z->lock);
        free_total_add(1UL << order);
}

/*
 * Take each of n order-0 pages off its reclaim list and free it: one lock
 * round per run of pages of one zone for the lists, one interrupts-off
 * round for the frees (this CPU's lists; see pcp_put_many).
 * => each page as pmm_free_pages(pg, 0) wants it, except that it is on
 *    a reclaim list (PG_LRU), which nothing may walk meanwhile.
 */
static void pmm_lru_unlink(struct pmm_zone *z, struct vm_page *pg);
static void lru_splice(struct pmm_zone *z);

void pmm_lru_release(struct vm_page *const *pgs, unsigned n)
{
        struct pmm_zone *z = NULL;

        for (unsigned i = 0; i < n; i++) {
                pmm_free_validate(pgs[i], 0);
                if (!(pgs[i]->flags & PG_LRU))
                        panic("pmm_lru_release: frame %#" PRIx64 " is on no "
                              "reclaim list", (uint64_t)pmm_page_to_pa(pgs[i]));
        }
        for (unsigned i = 0; i < n; i++) {
                struct vm_page *pg = pgs[i];

                if (z != &pmm_zones[pg->zone]) {
                        if (z)
                                spin_unlock(&z->lock);
                        z = &pmm_zones[pg->zone];
                        spin_lock(&z->lock);
                        lru_splice(z);
                }
                pmm_lru_unlink(z, pg);
                pg->flags = 0;
                pg->refcount = 0;
        }
        if (z)
                spin_unlock(&z->lock);
        pcp_put_many(pgs, n);
        free_total_add(n);
}

void pmm_split_pages(struct vm_page *pg, unsigned order)
{
        pmm_free_validate(pg, order);
        for (uint64_t i = 0; i < 1ULL << order; i++) {
                pg[i].flags = 0;
                pg[i].order = 0;
                pg[i].refcount = 1;
                pg[i].count16 = 0;
                pg[i].spare = 0;
                pg[i].private = 0;
        }
}

/* --- lookups and counters --------------------------------------------- */

/*
 * The descriptor of the frame holding pa.
 * => NULL beyond the array (device memory, holes above the last RAM).
 */
struct vm_page *pmm_pa_to_page(paddr_t pa)
{
        uint64_t pfn;

        if (pa < pmm_base)
                return NULL;
        pfn = (pa - pmm_base) >> PAGE_SHIFT;
        return pfn < pmm_nr_pages ? &pmm_pages[pfn] : NULL;
}

/*
 * The physical address of the frame pg describes.
 * => pg points into the array (panics otherwise: a kernel bug).
 */
paddr_t pmm_page_to_pa(const struct vm_page *pg)
{
        ASSERT(pg >= pmm_pages && pmm_pfn(pg) < pmm_nr_pages);
        return pmm_base + (pmm_pfn(pg) << PAGE_SHIFT);
}

/* Frames the allocator covers: the length of the descriptor array. */
uint64_t pmm_npages(void)
{
        return pmm_nr_pages;
}

/* Physical address of the first frame the allocator covers. */
paddr_t pmm_ram_base(void)
{
        return pmm_base;
}

/* Free pages over all zones (a running sum). */
uint64_t pmm_free_count(void)
{
        return __atomic_load_n(&pmm_free_total, __ATOMIC_RELAXED);
}

/*
 * Copy a zone's counters into *out.
 * => all zero for an invalid zone id.
 */
void pmm_zone_stats(enum zone_id zid, struct pmm_zone_stats *out)
{
        struct pmm_zone *z;

        memset(out, 0, sizeof *out);
        if ((unsigned)zid >= NR_ZONES)
                return;
        z = &pmm_zones[zid];
        out->present = z->present;
        for (unsigned w = 0; w < PMM_NR_WMARKS; w++)
                out->wmark[w] = z->wmark[w];
        for (unsigned l = 0; l < PMM_NR_LRU; l++)
                out->lru[l] = z->lru_count[l] +
                              __atomic_load_n(&z->lru_incoming_count[l],
                                              __ATOMIC_RELAXED);
        out->pcp = pcp_zone_count(zid);
        spin_lock(&z->lock);
        out->free = z->free + out->pcp;
        for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
                out->nr_free[o] = z->nr_free[o];
        spin_unlock(&z->lock);
}

/* Free pages and watermark w summed over every zone. */
uint64_t pmm_free_below(enum pmm_wmark w)
{
        uint64_t mark = pmm_wmark_total[w], free = pmm_free_count();

        return free < mark ? mark - free : 0;
}

/* --- the reclaim lists ------------------------------------------------- */

/*
 * Adding and deleting take the zone's lock, but for the lock-free fault's
 * adds (pmm_lru_add_nolock): those push the page on the zone's incoming
 * stack for its list with a compare-and-swap, and whoever takes the lock
 * for the lists next links them in first (lru_splice). Only pushes run
 * without the lock and the stack is emptied whole by an exchange, so
 * nothing is ever popped beside a push (no ABA). Every page a holder of
 * the lock is handed is linked by then: one that a lock-free fault
 * pushed reaches other code only after that fault has left its space's
 * door, which the code enters first.
 * The walkers (pmm_lru_tail, pmm_lru_prev) read without the lock: they
 * run under the big lock, so the only change that can run beside them is
 * an insertion at the head (an add or a splice), which moves neither the
 * tail nor any link a walk from the tail has yet to read except the old
 * head's prev (a walk that reads it sees the end of the list or the new
 * page, both whole). pmm_lru_tail links the incoming pages in first.
 * Why the stack: the zone's lock is one for every CPU; a four-thread
 * fault storm at -smp 4 (four vCPUs on two host cores) found it held in
 * 2-3% of its takes, 1-21 ms of waiting in 12 rounds, a holder's vCPU
 * having lost its host core (Linux batches such adds per CPU: its
 * lru_add folio batches).
 */

/* Link pg at the head of list l. => its zone's lock held. */
static void lru_link_head(struct pmm_zone *z, struct vm_page *pg, unsigned l)
{
        uint32_t pfn = (uint32_t)pmm_pfn(pg), old = z->lru_head[l];

        pg->prev = PFN_NONE;
        pg->next = old;
        /* published after pg's own links and flags (a walker reads) */
        if (old != PFN_NONE)
                __atomic_store_n(&pmm_pages[old].prev, pfn, __ATOMIC_RELEASE);
        else
                __atomic_store_n(&z->lru_tail[l], pfn, __ATOMIC_RELEASE);
        z->lru_head[l] = pfn;
        z->lru_count[l]++;
}

/* Link every page pushed without the lock. => z's lock held. */
static void lru_splice(struct pmm_zone *z)
{
        for (unsigned l = 0; l < PMM_NR_LRU; l++) {
                uint32_t pfn;

                if (__atomic_load_n(&z->lru_incoming[l], __ATOMIC_RELAXED) ==
                    PFN_NONE)
                        continue;
                pfn = __atomic_exchange_n(&z->lru_incoming[l], PFN_NONE,
                                          __ATOMIC_ACQUIRE);
                while (pfn != PFN_NONE) {
                        struct vm_page *pg = &pmm_pages[pfn];

                        pfn = pg->next;
                        lru_link_head(z, pg, l);
                        __atomic_sub_fetch(&z->lru_incoming_count[l], 1,
                                           __ATOMIC_RELAXED);
                }
        }
}

struct vm_page *pmm_lru_tail(enum zone_id zid, unsigned list)
{
        struct pmm_zone *z = &pmm_zones[zid];
        uint32_t pfn;

        if (__atomic_load_n(&z->lru_incoming[list], __ATOMIC_RELAXED) !=
            PFN_NONE) {
                spin_lock(&z->lock);
                lru_splice(z);
                spin_unlock(&z->lock);
        }
        pfn = __atomic_load_n(&z->lru_tail[list], __ATOMIC_ACQUIRE);
        return pfn == PFN_NONE ? NULL : &pmm_pages[pfn];
}

struct vm_page *pmm_lru_prev(const struct vm_page *pg)
{
        return pg->prev == PFN_NONE ? NULL : &pmm_pages[pg->prev];
}

void pmm_lru_add(struct vm_page *pg, unsigned list)
{
        struct pmm_zone *z = &pmm_zones[pg->zone];

        ASSERT(!(pg->flags & PG_LRU) && list < PMM_NR_LRU);
        spin_lock(&z->lock);
        lru_splice(z);
        pg->flags = (pg->flags & ~PG_LRU_LIST) | PG_LRU |
                    (list << PG_LRU_LIST_SHIFT);
        lru_link_head(z, pg, list);
        spin_unlock(&z->lock);
}

void pmm_lru_add_nolock(struct vm_page *pg, unsigned list)
{
        struct pmm_zone *z = &pmm_zones[pg->zone];
        uint32_t pfn = (uint32_t)pmm_pfn(pg);
        uint32_t old = __atomic_load_n(&z->lru_incoming[list],
                                       __ATOMIC_RELAXED);

        ASSERT(!(pg->flags & PG_LRU) && list < PMM_NR_LRU);
        pg->flags = (pg->flags & ~PG_LRU_LIST) | PG_LRU |
                    (list << PG_LRU_LIST_SHIFT);
        pg->prev = PFN_NONE;
        __atomic_add_fetch(&z->lru_incoming_count[list], 1, __ATOMIC_RELAXED);
        do
                pg->next = old;
        while (!__atomic_compare_exchange_n(&z->lru_incoming[list], &old, pfn,
                                            true, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED));
}

/* Take pg off its reclaim list. => z is pg's zone, its lock held. */
static void pmm_lru_unlink(struct pmm_zone *z, struct vm_page *pg)
{
        unsigned list = pmm_lru_list(pg);

        if (pg->prev != PFN_NONE)
                pmm_pages[pg->prev].next = pg->next;
        else
                z->lru_head[list] = pg->next;
        if (pg->next != PFN_NONE)
                pmm_pages[pg->next].prev = pg->prev;
        else
                z->lru_tail[list] = pg->prev;
        pg->next = pg->prev = PFN_NONE;
        pg->flags &= ~(PG_LRU | PG_LRU_LIST);
        z->lru_count[list]--;
}

void pmm_lru_del(struct vm_page *pg)
{
        struct pmm_zone *z = &pmm_zones[pg->zone];

        ASSERT(pg->flags & PG_LRU);
        spin_lock(&z->lock);
        lru_splice(z);
        pmm_lru_unlink(z, pg);
        spin_unlock(&z->lock);
}


/* A zone's name for logs, from the zone table ("?" if invalid). */
const char *pmm_zone_name(enum zone_id zid)
{
        if ((unsigned)zid >= NR_ZONES)
                return "?";
        return pmm_zone_names[zid] ? pmm_zone_names[zid]
                                   : pmm_machine_zones[zid].name;
}

/*
 * Print one line per zone at LOG_INFO: present and free pages, then the
 * free blocks of each order from 0 to PMM_MAX_ORDER.
 */
void pmm_dump(void)
{
        for (unsigned zid = 0; zid < NR_ZONES; zid++) {
                const struct pmm_zone *z = &pmm_zones[zid];
                const uint64_t *nf = z->nr_free;

                printk(LOG_INFO, "pmm: %-6s present %" PRIu64 " free %" PRIu64 " pcp %" PRIu64 " blocks "
                       "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                       pmm_zone_name(zid), z->present,
                       (uint64_t)z->free, pcp_zone_count(zid), nf[0], nf[1],
                       nf[2], nf[3], nf[4], nf[5], nf[6], nf[7], nf[8], nf[9],
                       nf[10]);
        }
}

/* --- the checker ------------------------------------------------------ */

_Static_assert(PMM_MAX_ORDER == 10, "pmm_dump prints 11 orders");

#define PMM_CHECK(cond, ...) do {                                       \
        if (!(cond)) {                                                  \
                pr_err("pmm_check: " __VA_ARGS__);                      \
                return false;                                           \
        }                                                               \
} while (0)

/* Check one listed block: shape, zone, flags, and that it was merged. */
static bool pmm_check_block(unsigned zid, unsigned o, uint64_t pfn,
                            uint64_t prev)
{
        const struct pmm_zone *z = &pmm_zones[zid];
        const struct vm_page *pg;

        PMM_CHECK(pfn < pmm_nr_pages, "%s order %u: link %#" PRIx64 " out of range\n",
                  pmm_zone_name(zid), o, pfn);
        pg = &pmm_pages[pfn];
        PMM_CHECK(pg->prev == prev, "frame %#" PRIx64 ": prev %#x, expected %#" PRIx64 "\n",
                  pfn, pg->prev, prev);
        PMM_CHECK((pg->flags & (PG_FREE | PG_RESERVED)) == PG_FREE,
                  "frame %#" PRIx64 " on a free list with flags %#x\n", pfn, pg->flags);
        PMM_CHECK(pg->order == o, "frame %#" PRIx64 " on order %u list has order %u\n",
                  pfn, o, pg->order);
        PMM_CHECK(pg->zone == zid && (pfn & ((1ULL << o) - 1)) == 0 &&
                  pfn >= z->start_pfn && pfn + (1ULL << o) <= z->end_pfn,
                  "block %#" PRIx64 " order %u misplaced in zone %s\n", pfn, o,
                  pmm_zone_name(zid));
        PMM_CHECK(o == PMM_MAX_ORDER ||
                  !pmm_is_free_head(pfn ^ (1ULL << o), o, zid),
                  "block %#" PRIx64 " order %u and its buddy are both free\n", pfn, o);
        return true;
}

/* Walk one zone's lists; the counters must equal what they hold. */
static bool pmm_check_lists(unsigned zid)
{
        const struct pmm_zone *z = &pmm_zones[zid];
        uint64_t pages = 0;

        for (unsigned o = 0; o <= PMM_MAX_ORDER; o++) {
                uint64_t n = 0, prev = PFN_NONE;

                for (uint64_t pfn = z->head[o]; pfn != PFN_NONE;
                     prev = pfn, pfn = pmm_pages[pfn].next) {
                        PMM_CHECK(n++ < pmm_nr_pages, "%s order %u: list "
                                  "loops\n", pmm_zone_name(zid), o);
                        if (!pmm_check_block(zid, o, pfn, prev))
                                return false;
                }
                PMM_CHECK(n == z->nr_free[o], "%s order %u: %" PRIu64 " blocks listed, "
                          "%" PRIu64 " counted\n", pmm_zone_name(zid), o, n,
                          z->nr_free[o]);
                pages += n << o;
        }
        PMM_CHECK(pages == z->free, "%s: %" PRIu64 " pages listed, %" PRIu64 " counted\n",
                  pmm_zone_name(zid), pages, (uint64_t)z->free);
        return true;
}

/* Walk CPU cpu's list of zone zid: slots, states, count, high mark.
 * Adds the pages to *listed. */
static bool pmm_check_pcp(unsigned cpu, unsigned zid, uint64_t *listed)
{
        struct pmm_pcp *p = &pmm_pcp[cpu].zone[zid];
        uint32_t n = p->top - p->bottom;

        PMM_CHECK(n == p->count && n <= PMM_PCP_HIGH,
                  "CPU %u %s list: %u slots used, counted %u\n", cpu,
                  pmm_zone_name(zid), n, p->count);
        for (uint32_t i = p->bottom; i != p->top; i++) {
                uint32_t pfn = *pcp_slot(p, i);
                const struct vm_page *pg;

                PMM_CHECK(pfn < pmm_nr_pages, "CPU %u %s list: frame %#x "
                          "beyond RAM\n", cpu, pmm_zone_name(zid), pfn);
                pg = &pmm_pages[pfn];
                PMM_CHECK(pg->flags == PG_FREE &&
                          pg->order == PMM_PCP_ORDER && pg->zone == zid &&
                          pg->refcount == 0, "CPU %u %s list: frame %#x "
                          "flags %#x order %u zone %u\n", cpu,
                          pmm_zone_name(zid), pfn, pg->flags, pg->order,
                          pg->zone);
        }
        /* A frame listed twice: more slots than frames marked (below). */
        *listed += n;
        return true;
}

/* What a walk of the page array finds, to compare with the counters. */
struct pmm_tally {
        uint64_t present[NR_ZONES];
        uint64_t pcp[NR_ZONES];         /* pages marked as on a list */
        uint64_t nr_free[NR_ZONES][PMM_MAX_ORDER + 1];
};

/* Check the pages inside the free block at pfn and tally it. */
static bool pmm_check_free_block(uint64_t pfn, struct pmm_tally *t)
{
        const struct vm_page *pg = &pmm_pages[pfn];
        uint64_t n = 1ULL << MIN(pg->order, 63);

        PMM_CHECK(pg->order <= PMM_MAX_ORDER && pfn + n <= pmm_nr_pages &&
                  pg->refcount == 0, "free frame %#" PRIx64 ": order %u refcount %u\n",
                  pfn, pg->order, pg->refcount);
        for (uint64_t i = 1; i < n; i++)
                PMM_CHECK(!(pmm_pages[pfn + i].flags & (PG_FREE | PG_RESERVED)),
                          "frame %#" PRIx64 " inside free block %#" PRIx64 " has flags %#x\n",
                          pfn + i, pfn, pmm_pages[pfn + i].flags);
        t->present[pg->zone] += n;
        t->nr_free[pg->zone][pg->order]++;
        return true;
}

/* Walk one zone's part of the page array: zone ids, free blocks, and
 * present pages. Reserved frames, the common case, are checked first. */
static bool pmm_check_zone_pages(unsigned zid, struct pmm_tally *t)
{
        const struct pmm_zone *z = &pmm_zones[zid];
        uint64_t pfn = z->start_pfn;

        while (pfn < z->end_pfn) {
                const struct vm_page *pg = &pmm_pages[pfn];

                PMM_CHECK(pg->zone == zid, "frame %#" PRIx64 ": zone %u in zone %s\n",
                          pfn, pg->zone, pmm_zone_name(zid));
                if (likely(pg->flags == PG_RESERVED)) {
                        pfn++;
                        continue;
                }
                PMM_CHECK(!(pg->flags & PG_RESERVED) || !(pg->flags & PG_FREE),
                          "frame %#" PRIx64 " is free and reserved\n", pfn);
                if (!(pg->flags & PG_FREE) || pg->order == PMM_PCP_ORDER) {
                        t->present[zid] += !(pg->flags & PG_RESERVED);
                        t->pcp[zid] += !!(pg->flags & PG_FREE);
                        pfn++;
                        continue;
                }
                if (!pmm_check_free_block(pfn, t))
                        return false;
                pfn += 1ULL << pg->order;
        }
        return true;
}

/*
 * Verify the invariants of pmm.h and this file's header.
 * => false, after printing the first violation found, if one does not hold.
 * => nothing allocates or frees meanwhile on any CPU (host tests, the
 *    kernel tests' runner): the zones are read without their locks.
 */
bool pmm_check(void)
{
        struct pmm_tally t;

        memset(&t, 0, sizeof t);
        for (unsigned zid = 0; zid < NR_ZONES; zid++)
                if (!pmm_check_lists(zid))
                        return false;
        for (unsigned zid = 0; zid < NR_ZONES; zid++)
                if (!pmm_check_zone_pages(zid, &t))
                        return false;
        uint64_t free = 0, mark[PMM_NR_WMARKS] = { 0 };

        for (unsigned zid = 0; zid < NR_ZONES; zid++) {
                uint64_t listed = 0;

                for (unsigned c = 0; c < PMM_PCP_CPUS; c++)
                        if (!pmm_check_pcp(c, zid, &listed))
                                return false;
                PMM_CHECK(listed == t.pcp[zid], "%s: %" PRIu64 " pages on "
                          "CPUs' lists, %" PRIu64 " marked so\n",
                          pmm_zone_name(zid), listed, t.pcp[zid]);
                free += pmm_zones[zid].free + listed;
                for (unsigned w = 0; w < PMM_NR_WMARKS; w++)
                        mark[w] += pmm_zones[zid].wmark[w];
        }
        PMM_CHECK(free == pmm_free_count(), "%" PRIu64 " pages free in the zones, "
                  "%" PRIu64 " in the total\n", free, pmm_free_count());
        for (unsigned w = 0; w < PMM_NR_WMARKS; w++)
                PMM_CHECK(mark[w] == pmm_wmark_total[w], "watermark %u: zones "
                          "%" PRIu64 ", total %" PRIu64 "\n", w, mark[w],
                          pmm_wmark_total[w]);
        for (unsigned zid = 0; zid < NR_ZONES; zid++) {
                const struct pmm_zone *z = &pmm_zones[zid];

                PMM_CHECK(t.present[zid] == z->present, "%s: %" PRIu64 " pages present, "
                          "%" PRIu64 " counted\n", pmm_zone_name(zid), t.present[zid],
                          z->present);
                for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
                        PMM_CHECK(t.nr_free[zid][o] == z->nr_free[o], "%s order "
                                  "%u: %" PRIu64 " free heads, %" PRIu64 " listed\n",
                                  pmm_zone_name(zid), o, t.nr_free[zid][o],
                                  z->nr_free[o]);
        }
        return true;
}

/* The reclaim lists are sound: links, flags, zones and counts agree. */
/* One list of one zone. => the zone's lock held. */
static bool pmm_lru_check_list(unsigned zid, unsigned l)
{
        const struct pmm_zone *z = &pmm_zones[zid];
        uint64_t n = 0;
        uint32_t prev = PFN_NONE;

        for (uint32_t pfn = z->lru_head[l]; pfn != PFN_NONE;
             pfn = pmm_pages[pfn].next) {
                const struct vm_page *pg = &pmm_pages[pfn];

                PMM_CHECK(n < pmm_nr_pages && pg->prev == prev &&
                          (pg->flags & PG_LRU) && pmm_lru_list(pg) == l &&
                          pg->zone == zid,
                          "lru list %u of zone %u broken at frame %#x\n",
                          l, zid, pfn);
                prev = pfn;
                n++;
        }
        PMM_CHECK(n == z->lru_count[l] && prev == z->lru_tail[l],
                  "lru list %u of zone %u: %" PRIu64 " pages, counted %"
                  PRIu64 "\n", l, zid, n, z->lru_count[l]);
        return true;
}

bool pmm_lru_check(void)
{
        for (unsigned zid = 0; zid < NR_ZONES; zid++)
                for (unsigned l = 0; l < PMM_NR_LRU; l++) {
                        struct pmm_zone *z = &pmm_zones[zid];
                        bool ok;

                        spin_lock(&z->lock);
                        lru_splice(z);
                        ok = pmm_lru_check_list(zid, l);
                        spin_unlock(&z->lock);
                        if (!ok)
                                return false;
                }
        return true;
}
