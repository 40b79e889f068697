/*
 * pmm.h - physical pages: one descriptor per page frame, and the buddy
 * allocator that hands them out by zone.
 *
 * Owns: the vm_page array and the per-zone free lists.
 * Invariants (pmm_check()):
 *   1. every free block is 2^order pages, aligned to its size, inside one
 *      zone, with PG_FREE set on its head page and on no page inside it;
 *   2. the buddy of a free block of order o < PMM_MAX_ORDER is never a free
 *      block of order o as well (it would have been merged);
 *   3. per-zone and per-order counters equal what the free lists hold;
 *   4. each CPU's page lists hold only order-0 free pages of their zone
 *      (PG_FREE with order 0xff: no buddy walk takes or merges them), at
 *      most PMM_PCP_HIGH each, and they count as free: the zones' free
 *      pages plus the lists' are pmm_free_count().
 * Locks: each zone's spinlock (rank 28): pmm_alloc_pages and
 * pmm_free_pages may be called from any CPU, with or without the big
 * kernel lock, with interrupts on or off. pmm_lru_add and pmm_lru_del
 * take it too (a fault without the big lock adds pages, without it:
 * pmm_lru_add_nolock); the reclaim lists' walkers (pmm_lru_tail,
 * pmm_lru_prev) run under the big lock.
 * A CPU's page lists: that CPU only, with interrupts off; other CPUs'
 * lists are drained by a cross-CPU call (pmm_drain_all).
 */
#ifndef VM_PMM_H
#define VM_PMM_H

#include <mercator/types.h>
#include <machine/pmparam.h>

/*
 * The page descriptor: 32 bytes for each 4 KiB frame (0.78% of RAM; Linux's
 * struct page is 64). List links are page-frame numbers, not pointers, which
 * halves them; 32-bit frame numbers reach 16 TiB of RAM.
 */
struct vm_page {
        uint32_t next, prev;    /* list links (pfn); PFN_NONE at the ends */
        union {
                struct {
                        uint32_t flags;   /* PG_* */
                        uint8_t  order;   /* buddy order while PG_FREE */
                        uint8_t  zone;    /* enum zone_id, constant after
                                           * boot */
                        uint16_t count16; /* user's small counter (slab:
                                           * objects in use; object page:
                                           * its owner's index, bits
                                           * 32..47); a free page: 0 */
                };
                /* The four as one word: pmm.c writes and reads a free
                 * page's state at once where another CPU may look
                 * without its zone's lock (the double-free check). */
                uint64_t state;
        };
        uint32_t refcount;      /* references to an allocated page */
        uint32_t spare;         /* object page: its owner's index, bits
                                 * 0..31 */
        uint64_t private;       /* owner's word (slab: its cache; object
                                 * page: its owner object, its fork family
                                 * (PG_RMAP_FAMILY) or its owner chain
                                 * (PG_RMAP_CHAIN): vm_rmap.h) */
};

#define PFN_NONE        0xffffffffu

/* vm_page.flags */
#define PG_RESERVED     0x0001  /* never handed out: firmware, hole, kernel */
#define PG_FREE         0x0002  /* head of a free buddy block */
#define PG_SLAB         0x0004  /* owned by the slab allocator */
#define PG_VMALLOC      0x0008  /* backs a vmalloc area */
#define PG_PTABLE       0x0010  /* a page-table page */
#define PG_HEAD         0x0020  /* head of an allocated block of order > 0 */
#define PG_OBJECT       0x0040  /* held by VM objects (vm_rmap.h) */
#define PG_RMAP_CHAIN   0x0080  /* ...recorded in a chain: private points
                                 * at its struct rmap_owner entries */
#define PG_LRU          0x0100  /* on a reclaim list (next/prev link it) */
#define PG_REFERENCED   0x0200  /* reclaim saw it accessed once already */
#define PG_DIRTY        0x0400  /* a page-cache page written by the kernel
                                 * (write(), truncation, a hole): no longer
                                 * what its source would give again */
#define PG_PINNED       0x0800  /* the kernel copies to or from it across a
                                 * user access that may fault (and so
                                 * reclaim): never evicted meanwhile */
#define PG_RMAP_FAMILY  0x4000  /* object page whose one record is a fork
                                 * family (vm_rmap.h): private is the
                                 * struct rmap_family */
#define PG_HUGETLB      0x8000  /* head of a free block in the huge-page
                                 * pool (vm/hugetlb.h) */
#define PG_DROPPABLE    0x10000 /* object page first taken by a droppable
                                 * object (VM_MAP_DROPPABLE): counted in
                                 * vm_droppable_pages. Bits 17..28: the
                                 * page's control group (vm/memcg.h) */
#define PG_LAZYFREE     0x20000000u /* private anonymous page MADV_FREE'd
                                 * and not written since: reclaim frees it
                                 * without swap (vm_reclaim.h); its
                                 * translations are read-only, so a write
                                 * faults and clears it */
#define PG_SWAPCACHE    0x40000000u /* object page the swap cache holds
                                 * too (vm_swap.h) */
#define PG_SHMEM_HUGE   0x80000000u /* one of the 512 (1024) pages of a
                                 * huge block a shared object took whole
                                 * and still holds whole at consecutive
                                 * indices (vm_object.h) */
#define PG_LRU_LIST_SHIFT 12
#define PG_LRU_LIST     (0x3u << PG_LRU_LIST_SHIFT)     /* which list */

/* The reclaim lists of each zone (vm_reclaim.c): anonymous and shared
 * memory (needs swap to be evicted) and file pages, each split into
 * inactive and active. */
#define PMM_LRU_INACTIVE_ANON   0
#define PMM_LRU_ACTIVE_ANON     1
#define PMM_LRU_INACTIVE_FILE   2
#define PMM_LRU_ACTIVE_FILE     3
#define PMM_NR_LRU              4

static inline unsigned pmm_lru_list(const struct vm_page *pg)
{
        return (pg->flags & PG_LRU_LIST) >> PG_LRU_LIST_SHIFT;
}

/* Free-page watermarks of a zone (Linux's min/low/high). */
enum pmm_wmark { PMM_WMARK_MIN, PMM_WMARK_LOW, PMM_WMARK_HIGH,
                 PMM_NR_WMARKS };

/*
 * Zones come from the architecture (machine/pmparam.h: enum zone_id,
 * NR_ZONES, MACHINE_ZONE_TABLE, PMM_ZONE_*): a zone is the frames of RAM
 * below its end address and above the previous zone's end.
 */
struct pmm_zone_desc {
        const char *name;       /* for logs and /proc/meminfo-like dumps */
        paddr_t     end;        /* one past its last byte; ascending */
};

/* The architecture's table (MACHINE_ZONE_TABLE), for pmm_init(). */
extern const struct pmm_zone_desc pmm_machine_zones[NR_ZONES];

#define PMM_MAX_ORDER   10      /* largest block: 2^10 pages = 4 MiB */

/* pmm_alloc_pages() flags */
#define PMM_DMA         0x01    /* zones up to PMM_ZONE_DMA only */
#define PMM_DMA32       0x02    /* zones up to PMM_ZONE_DMA32 only */
#define PMM_ZERO        0x04    /* fill the block with zeroes */
#define PMM_HIGHMEM     0x08    /* any zone, the highest first: for pages the
                                 * kernel reaches only through the page-content
                                 * operations of vm/pmap.h (user and file pages,
                                 * page tables), never through pmap_kmem_va().
                                 * Where every zone is mapped (x86-64) it is
                                 * the same as no flag. */

struct pmm_zone_stats {
        uint64_t present;                       /* pages of RAM in the zone */
        uint64_t free;                          /* free pages (the
                                                 * buddy's and pcp) */
        uint64_t pcp;                           /* ...of which on CPUs'
                                                 * lists (a hint) */
        uint64_t nr_free[PMM_MAX_ORDER + 1];    /* free blocks per order */
        uint64_t wmark[PMM_NR_WMARKS];          /* min, low, high */
        uint64_t lru[PMM_NR_LRU];               /* pages on each list */
};

/*
 * Set up an empty allocator over the npages frames from physical address
 * base (RAM need not start at 0: RISC-V's starts at 0x80000000), split into
 * zones by `zones` (normally pmm_machine_zones). `pages` must hold npages
 * descriptors; every page starts PG_RESERVED until freed in.
 * => base must be aligned to the largest block (2^PMM_MAX_ORDER pages), and
 *    each zone end that falls inside the range as well (panics otherwise:
 *    a boot-code bug).
 */
void pmm_init(struct vm_page *pages, paddr_t base, uint64_t npages,
              const struct pmm_zone_desc zones[NR_ZONES]);

/* Hand the frames of [start, end) to the allocator (page-aligned inward). */
void pmm_add_range(paddr_t start, paddr_t end);

/*
 * Mark the frames of [start, end) as allocated (refcount 1, not reserved)
 * without taking them from a free list: for memory the kernel got from
 * bootmem, so that pmm_free_pages() can take it back later.
 */
void pmm_claim_range(paddr_t start, paddr_t end);

/*
 * Allocate 2^order contiguous pages. Without a zone flag, NORMAL is tried
 * first, then DMA32, then DMA.
 * => returns the head descriptor with refcount 1, or NULL if no zone
 *    allowed by flags has a free block that large.
 */
struct vm_page *pmm_alloc_pages(unsigned order, unsigned flags);

/*
 * Return a block from pmm_alloc_pages() with the same order.
 * => panics on a double free or a page that was never allocatable
 *    (a kernel bug, never user input).
 */
void pmm_free_pages(struct vm_page *pg, unsigned order);

/*
 * Turn an allocated block of 2^order pages (pmm_alloc_pages()'s head) into
 * 2^order separate order-0 allocations, each with refcount 1, each freed on
 * its own later (Linux's split_page). A transparent huge page is such a
 * block: physically contiguous for the MMU, 4 KiB pages to the VM objects.
 */
void pmm_split_pages(struct vm_page *pg, unsigned order);

/* Descriptor <-> physical address; valid for the frames pmm_init() covers. */
struct vm_page *pmm_pa_to_page(paddr_t pa);
paddr_t pmm_page_to_pa(const struct vm_page *pg);

/* Has pg a lasting kernel address, pmap_kmem_va(pmm_page_to_pa(pg))? Every
 * frame of the zones up to PMM_ZONE_DEFAULT has (all of RAM on x86-64 and
 * riscv64; i386's low memory, not HIGHMEM). */
static inline bool pmm_page_in_kmem(const struct vm_page *pg)
{
        return pg->zone <= PMM_ZONE_DEFAULT;
}

/* Frames the allocator manages (the array's length), and the physical
 * address of the first. */
uint64_t pmm_npages(void);
paddr_t pmm_ram_base(void);
uint64_t pmm_free_count(void);          /* free pages over all zones */
void pmm_zone_stats(enum zone_id z, struct pmm_zone_stats *out);
const char *pmm_zone_name(enum zone_id z);

/*
 * Give the pages on every CPU's lists back to the buddy lists, where
 * they merge: each CPU drains its own in a cross-CPU call.
 * => false, nothing done, with interrupts off or a spinlock held (a
 *    cross-CPU call's rule); the allocator calls it itself when an
 *    allocation fails while pages sit on lists.
 * => pages freed on other CPUs meanwhile may be listed again at once.
 */
bool pmm_drain_all(void);
/* The same for this CPU's lists only; any context. */
void pmm_drain_local(void);

/* Events of the per-CPU lists and the buddy (/proc/vmstat's pcp_* and
 * pmm_split_huge lines, Mercator's own). Atomic counters. */
struct pmm_events {
        uint64_t pcp_refill;    /* a batch taken from a zone to a list */
        uint64_t pcp_spill;     /* a batch (or a drain) given back */
        uint64_t drain_all;     /* pmm_drain_all() rounds */
        uint64_t drain_retry;   /* allocations retried after a drain */
        uint64_t split_huge;    /* a block of order >= 9 split to serve an
                                 * allocation below order 9 */
};
extern struct pmm_events pmm_events;

/* Verify the invariants above; on failure, print why and return false. */
bool pmm_check(void);

/*
 * How far the free pages of all zones are below the sum of their
 * watermark w (0: at or above it). Zones fall back to one another for
 * user pages, so reclaim looks at them together.
 */
uint64_t pmm_free_below(enum pmm_wmark w);

/* --- reclaim lists (the pmm keeps the links; vm_reclaim.c the policy) --- */

/* Put pg (allocated, on no list) at the head (most recent end) of list
 * `list` of its zone; take it off its list. */
void pmm_lru_add(struct vm_page *pg, unsigned list);
void pmm_lru_del(struct vm_page *pg);
/* pmm_lru_add() without the zone's lock, for the lock-free fault
 * (vm_fault_nolock): the page waits on the zone's incoming stack until the
 * lock's next holder links it (pmm.c, lru_splice). */
void pmm_lru_add_nolock(struct vm_page *pg, unsigned list);
/*
 * Take each of n order-0 pages off its reclaim list and free it, in one
 * lock round per run of one zone's pages and one round for the frees
 * (Linux's release_pages): a munmap's pages leave in batches.
 * => each page as pmm_free_pages(pg, 0) wants it, but on a reclaim list.
 */
void pmm_lru_release(struct vm_page *const *pgs, unsigned n);
/* The least recent page of a list, or NULL; pmm_lru_prev(pg): the page
 * just more recent than pg (NULL at the head), the next one to scan. */
struct vm_page *pmm_lru_tail(enum zone_id z, unsigned list);
struct vm_page *pmm_lru_prev(const struct vm_page *pg);
/* Lists sound: links, flags, zones and counts agree. */
bool pmm_lru_check(void);

/* Print one line per zone (present, free, free blocks per order). */
void pmm_dump(void);

/* --- test hooks (host tests) ------------------------------------------- */

/*
 * Failure injection: when non-zero, every pmm_alloc_pages() call counts it
 * down, and the call that brings it to zero returns NULL (so 1 fails the
 * next allocation). Slabs, radix nodes, user pages and page-table pages
 * all come from here. As vm_ptpage_fail_after (ptpage.c) for tables only.
 */
extern uint64_t pmm_fail_after;

/* Pages on CPU cpu's list of zone z (a hint unless that CPU is idle), and
 * the lists' marks: high (a free above it gives a batch back) and batch. */
unsigned pmm_pcp_count(unsigned cpu, enum zone_id z);
#define PMM_PCP_HIGH    64
#define PMM_PCP_BATCH   16

#endif
