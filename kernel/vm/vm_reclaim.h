/*
 * vm_reclaim.h - page replacement (issue 16 step 2): which object pages
 * to take back when free memory runs low, and when to do it.
 *
 * Every page an object holds is on one of four lists of its zone (the
 * pmm keeps the links, pmm.h): inactive and active, for file pages
 * (read-only files and page-cache objects: tmpfs and the initramfs'
 * files, whose clean pages are dropped and read again from their
 * source, rmap_clean_page) and for swap-backed pages (anonymous and
 * shared anonymous memory, and file pages found dirty: scanned when
 * swap has room, after the file lists; private anonymous pages go to
 * swap (vm_swap.h), the others are activated and stay). A page enters an inactive list when its first object takes
 * it and leaves its list when its last object lets it go (vm_rmap.c's
 * owner hooks).
 *
 * The policy is Linux's second chance over the reverse map's accessed
 * bits (rmap_referenced, which clears them in every translation):
 *   - inactive tail: accessed since the last look and already marked
 *     PG_REFERENCED (or mapped by several spaces): activated; accessed
 *     once: marked and rotated to the inactive head; not accessed:
 *     evicted (rmap_evict_clean: unmapped everywhere, dropped); mapped by
 *     an mlocked area: activated, never evicted; dirty page of a disk file
 *     whose pager can write one page (vm_pager_ops.writepage): written
 *     home, then dropped (vm_reclaim_writeback); other dirty file pages
 *     (tmpfs): moved to the swap-backed list;
 *   - when the inactive list is shorter than the active one, the active
 *     tail is aged: accessed pages go back to the active head, the others
 *     to the inactive head.
 * So a working set that is touched between two scans keeps its pages,
 * and pages touched once go first.
 *
 * When: the watermarks (pmm.h, Linux's min/low/high). Below low, reclaim
 * is wanted in the background: vm_reclaim_background() reclaims up to
 * high in bounded batches, called where the kernel is between operations
 * (on the way back to user mode). Below min, a fault reclaims directly
 * before it allocates, and a fault that found no page reclaims and tries
 * again. Reclaim runs only at such points - never from inside the
 * allocator - because the core has no locks: an operation that is
 * half-way (a radix insert that counted its missing nodes, a fault
 * holding the file page it copies) must not see pages vanish under it.
 *
 * Locks: as the objects and spaces; single CPU for now.
 */
#ifndef VM_VM_RECLAIM_H
#define VM_VM_RECLAIM_H

#include <mercator/types.h>
#include <vm/pmm.h>

struct vm_object;

/* Events, for /proc/vmstat (Linux's names). */
struct vm_events {
        uint64_t pgscan;                /* pages looked at on inactive lists */
        uint64_t pgsteal;               /* pages reclaimed */
        uint64_t pgscan_direct;         /* ... of them by direct reclaim (the */
        uint64_t pgsteal_direct;        /* rest: the background, "kswapd") */
        uint64_t pgactivate;            /* inactive -> active */
        uint64_t pgdeactivate;          /* active -> inactive */
        uint64_t pgrotated;             /* second chances */
        uint64_t direct_reclaims;       /* faults that reclaimed first */
        uint64_t background_reclaims;   /* background batches */
        uint64_t pgmajfault;            /* faults that read from swap */
        uint64_t pglazyfree;            /* pages MADV_FREE made lazy */
        uint64_t pglazyfreed;           /* lazy pages reclaim freed */
        uint64_t pgscan_anon;           /* ... of pgscan and pgsteal: the */
        uint64_t pgsteal_anon;          /* swap-backed lists' (the rest:
                                         * the file lists') */
        uint64_t nr_vmscan_write;       /* dirty file pages reclaim wrote
                                         * home (Linux's name) */
        uint64_t vmscan_write_failed;   /* ... whose write failed: they
                                         * stayed dirty (Mercator's) */
        uint64_t pgfault_nolock;        /* faults served without the big
                                         * kernel lock (vm_fault_nolock;
                                         * Mercator's; atomic) */
        uint64_t pgfault_nolock_file;   /* ...of them, of a file's or
                                         * shared memory's pages: reads of
                                         * cached ones, shared writes
                                         * (Mercator's; atomic) */
        uint64_t pgfault_nolock_copy;   /* ...of them, private copies of
                                         * a file's page at a write
                                         * (Mercator's; atomic) */
        uint64_t pgfault_nolock_attach; /* ...of them, first writes that
                                         * attached their area's object
                                         * (Mercator's; atomic) */
};

/* Pages a pager is writing now (Writeback, nr_writeback). */
extern uint64_t vm_writeback_pages;

/*
 * Reclaim's write-back of one dirty page of a disk file (issue 16): pg
 * is PG_DIRTY, on an inactive file list, of an object whose pager has
 * writepage. Its translations go first (rmap_unmap: a write during the
 * I/O faults and sets PG_DIRTY again), PG_DIRTY is cleared, the page is
 * PG_PINNED while writepage runs, then dropped at once if nothing dirtied
 * or mapped it meanwhile (the write is synchronous: when writepage
 * returns the page is clean, so there is nothing to wait for and no
 * reason to keep it for a second pass, as Linux does only because its
 * I/O completes later). A write that fails leaves the page dirty and
 * resident (nothing lost) and records the error in the object
 * (vm_object.wb_error) for the next sync.
 */
enum vm_writeback {
        VM_WB_FREED,            /* written and freed */
        VM_WB_KEPT,             /* written, but dirtied or mapped again
                                 * during the write: it stays */
        VM_WB_FAILED,           /* the write failed: dirty, resident */
        VM_WB_BUSY,             /* an mlocked area maps it, it is pinned,
                                 * or a write-back is under way already
                                 * (never nested, docs/design.md) */
        VM_WB_NONE,             /* not a dirty page of such an object */
};
enum vm_writeback vm_reclaim_writeback(struct vm_page *pg);

/* Dirty pages of disk files (PG_DIRTY pages of objects with pager_ops):
 * Dirty in /proc/meminfo, nr_dirty in /proc/vmstat. As Linux, tmpfs and
 * shared memory pages are not counted (they have no disk to go home to).
 * A walk of every frame: O(RAM), for /proc reads and tests. */
uint64_t vm_dirty_file_pages(void);

extern struct vm_events vm_events;

/* Resident pages of droppable objects (PG_DROPPABLE): reclaim may free
 * them without swap. */
extern uint64_t vm_droppable_pages;

/*
 * Lazily freed pages (MADV_FREE, Linux 4.5): a private anonymous page
 * that only one object holds is marked PG_LAZYFREE and keeps its bytes
 * until reclaim wants memory; then it is freed without a write (with or
 * without swap) and the next read sees zeroes. The mark holds only while
 * the page is not written: every translation of a lazy page is
 * read-only (vm_advise.c removes write when it marks; a read fault maps
 * it read-only), so the first write faults, and the fault
 * (vm_lazyfree_clear) makes it ordinary anonymous memory again. So the
 * mark never depends on a dirty bit the pmap might drop with its
 * translation. vm_lazyfree_pages counts the marked pages.
 */
extern uint64_t vm_lazyfree_pages;

/* Mark pg lazy (its object alone holds it; the caller write-protects its
 * translations) and put it at the head of the inactive list.
 * => false if it was lazy already. */
bool vm_lazyfree_mark(struct vm_page *pg);

/* pg is written, or goes: no longer lazy. */
static inline void vm_lazyfree_clear(struct vm_page *pg)
{
        if (pg->flags & PG_LAZYFREE) {
                pg->flags &= ~PG_LAZYFREE;
                vm_lazyfree_pages--;
        }
}

/* Free lazy page pg from every object that holds it (a fork may have
 * shared it since; none wrote it) after unmapping it everywhere.
 * => true if it is gone; false if it is not lazy, pinned by a kernel
 *    copy, or an mlocked area maps it. */
bool vm_lazyfree_drop(struct vm_page *pg);

/* pg, just taken by its first object obj, goes on its zone's inactive
 * list (file or swap-backed, from obj); it leaves its list when its last
 * object lets go. Called by vm_rmap.c. */
void vm_lru_add(struct vm_page *pg, const struct vm_object *obj);
/* The same from the lock-free fault (pmm_lru_add_nolock). */
void vm_lru_add_nolock(struct vm_page *pg, const struct vm_object *obj);
void vm_lru_del(struct vm_page *pg);

/* pg will not be used soon (MADV_COLD): to the head of its kind's
 * inactive list, its PG_REFERENCED mark gone. */
void vm_lru_deactivate(struct vm_page *pg);

/* Is this a page the file lists hold (dropped, not swapped)? */
bool vm_lru_is_file(const struct vm_object *obj);

/*
 * vm.swappiness (/proc/sys/vm/swappiness, Linux's 0..200, default 60):
 * how reclaim balances anonymous pages against file pages. Linux calls it
 * the relative IO cost of swapping against dropping page cache; reclaim
 * asks each kind for a share of the pages it wants in proportion to its
 * list length times its cost share (swappiness for anonymous, 200 -
 * swappiness for file pages), and a kind that cannot give its share
 * leaves the rest to the other. At 0 anonymous pages go to swap only once
 * the file lists have nothing left to give (Mercator's policy before the
 * knob existed).
 */
#define VM_SWAPPINESS_DEFAULT   60
#define VM_SWAPPINESS_MAX       200
extern unsigned vm_swappiness;

/*
 * Reclaim up to nr pages: file and swap-backed pages as vm_swappiness
 * shares them, each kind scanned over every zone, highest first (the
 * order user pages are allocated in). => pages freed.
 */
uint64_t vm_reclaim(uint64_t nr);

/* As vm_reclaim, but only pages charged to g or its descendants (a
 * group over its memory.max or memory.high). => pages freed. */
struct memcg;
uint64_t vm_reclaim_memcg(struct memcg *g, uint64_t nr);

/* Below the min watermark and not futile: reclaim back to low. Called
 * before a fault allocates, and after one found no page. => pages
 * freed. */
uint64_t vm_reclaim_direct(void);

/*
 * Reclaim is futile: everything it could free (the file lists, and
 * anonymous pages as far as swap has room or the swap cache can give
 * entries back) is less than one background batch (32 pages). Such a
 * handful is the working set of whoever runs now - the text page the
 * faulting program is about to execute - which the retried instruction
 * faults back, forever (measured: millions of resolved faults on one
 * text address, the reclaimer dropping the page before it ran). Then
 * neither the background reclaimer nor a fault reclaims: the fault takes
 * what is free, and when nothing is, the OOM killer (proc/oom.h) frees
 * memory.
 */
bool vm_reclaim_futile(void);

/* Below the low watermark and not futile: reclaim one bounded batch
 * towards high.
 * Cheap when not below low. => pages freed. */
uint64_t vm_reclaim_background(void);

/* Pages of each kind on the lists of every zone: Active(file) etc. */
uint64_t vm_lru_pages(unsigned list);

/* Pages reclaim could make free now, as Linux estimates MemAvailable:
 * free pages above the low watermarks, plus the file lists less what
 * reclaim would leave (half of them, at most the low watermarks). */
uint64_t vm_available_pages(void);

/* Every object page is on exactly the list its kind says, every page on
 * a list is an object page; the lists are sound. For tests. */
bool vm_reclaim_check(void);

#endif
