/*
 * hugetlb.h - the pool of explicit huge pages (Linux's hugetlb hstate):
 * blocks of pmap_huge_size() bytes (2 MiB on x86-64, Sv39 and i386 PAE;
 * 4 MiB on i386's 2-level tables) taken from the buddy allocator when
 * root grows the pool (/proc/sys/vm/nr_hugepages, hugepages= at boot)
 * and given back when it shrinks.
 *
 * Counters, as Linux's (/proc/meminfo HugePages_*, /sys/kernel/mm/
 * hugepages/hugepages-<size>kB/):
 *   nr       pages the pool holds, free or in use, surplus included
 *            (HugePages_Total);
 *   free     of them on the free list (HugePages_Free);
 *   resv     free pages promised to mappings that have not faulted them
 *            yet (HugePages_Rsvd): a reserved fault always finds one;
 *   surplus  pages above the persistent count, taken from the buddy
 *            allocator on demand up to `overcommit` and given back as soon
 *            as they are free (HugePages_Surp);
 *   max      the persistent count root asked for and got (nr_hugepages
 *            as the sysctl reads it).
 * Persistent pages are nr - surplus.
 *
 * A free block is an allocated order-hugetlb_order() buddy block (PG_HEAD,
 * refcount 1) with PG_HUGETLB on its head, linked through the head's
 * next/prev. A block in use belongs to whoever took it (hugetlb_alloc) and
 * comes back whole through hugetlb_free().
 *
 * Invariants (hugetlb_check()): free <= nr, surplus <= nr, resv <= free,
 * the free list holds exactly `free` blocks, each flagged and aligned.
 * Locks: [kernel lock], as the buddy allocator.
 */
#ifndef VM_HUGETLB_H
#define VM_HUGETLB_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <vm/pmm.h>

struct hugetlb_pool {
        uint64_t nr, free, resv, surplus;
        uint64_t max;                   /* persistent count last set */
        uint64_t overcommit;            /* nr_overcommit_hugepages */
        uint32_t free_head;             /* pfn of the first free block */
};

extern struct hugetlb_pool hugetlb_pool;

/* Buddy order of one huge page (9, or 10 on i386's 2-level tables), and
 * its size in 4 KiB pages. */
unsigned hugetlb_order(void);
static inline uint64_t hugetlb_page_pages(void)
{
        return (uint64_t)1 << hugetlb_order();
}

/*
 * Set the persistent count (a write of nr_hugepages, Linux's
 * set_max_huge_pages): growing turns surplus pages persistent first, then
 * takes fresh blocks until the buddy allocator has none; shrinking frees
 * free pages (never reserved ones), then counts pages still in use as
 * surplus, to go back when they are freed.
 * => the new persistent count (may be short of `count`).
 */
uint64_t hugetlb_set_count(uint64_t count);

/*
 * Take one huge page for a fault. reserved: the mapping holds a
 * reservation for it (resv drops by one). Otherwise only a free page no
 * reservation needs, or a surplus page from the buddy allocator while
 * surplus < overcommit.
 * => the block's head (refcount 1, order hugetlb_order(), not zeroed),
 *    or NULL.
 */
struct vm_page *hugetlb_alloc(bool reserved);

/* Give a block from hugetlb_alloc() back: to the buddy allocator if the
 * pool has surplus pages, else to the free list. */
void hugetlb_free(struct vm_page *head);

/*
 * Reserve npages for a mapping (Linux's hugetlb_acct_memory with a
 * positive delta): free pages beyond the reserved ones first, then
 * surplus pages within overcommit.
 * => VM_OK, or VM_ENOMEM with nothing changed.
 */
enum vm_status hugetlb_reserve(uint64_t npages);

/* Give back npages of reservation not used, and as many free surplus
 * pages to the buddy allocator (Linux's return_unused_surplus_pages). */
void hugetlb_unreserve(uint64_t npages);

/*
 * A page in use is handed to a VM object as 4 KiB pages (the split of
 * transparent huge pages, vm_fault.c): hugetlb_block_split() turns the
 * block from hugetlb_alloc() into 2^order order-0 pages and counts them
 * live; hugetlb_page_put() takes the place of pmm_free_pages() for each
 * of them, and the last one puts the block back together and returns it
 * to the pool. A block the caller could not use at all goes back through
 * hugetlb_block_unsplit() (reserved: as hugetlb_alloc(true) took it, so
 * its reservation is restored).
 */
void hugetlb_block_split(struct vm_page *head);
void hugetlb_page_put(struct vm_page *pg);
void hugetlb_block_unsplit(struct vm_page *head, bool reserved);

/* Huge pages handed out and not yet back (HugePages_Total - Free). */
static inline uint64_t hugetlb_in_use(void)
{
        return hugetlb_pool.nr - hugetlb_pool.free;
}

/* Pages (4 KiB) held by the pool's free list: the leak checks count them
 * as free memory. */
uint64_t hugetlb_free_small_pages(void);

/* Does a flag word's size field (log2 of the size; 0: the default) name
 * the huge size this machine has? MAP_HUGE_*, MFD_HUGE_*, SHM_HUGE_*. */
bool hugetlb_size_log_ok(unsigned log);

struct vm_object;
/*
 * A new anonymous object of `bytes` (a multiple of the huge size) whose
 * pages come from the pool, for MAP_HUGETLB, SHM_HUGETLB and hugetlb
 * files; with `reserve`, the pool reserves a page for each huge page of
 * it first (Linux's hugetlb_reserve_pages: VM_ENOMEM if it cannot).
 */
enum vm_status hugetlb_object_create(uint64_t bytes, bool reserve,
                                     struct vm_object **out);

/*
 * The huge page of hugetlb object obj at page index first (a multiple of
 * hugetlb_page_pages()): the one the object has, or a block from the pool
 * (one of the object's reservations used while it holds any), zeroed and
 * put into the object as 4 KiB pages. For a fault and for fallocate.
 * => VM_OK with *head, the block's first page; VM_ENOSPC when the pool has
 *    no page for it; VM_ENOMEM when the object could not take it (the
 *    block is back in the pool).
 */
enum vm_status hugetlb_object_page(struct vm_object *obj, uint64_t first,
                                   struct vm_page **head);

/* Pages [first, end) of a private hugetlb object leave its last mapping
 * (munmap, MAP_FIXED over it): their huge pages go back to the pool and
 * the reservations of those not yet faulted are given back. */
void hugetlb_object_drop(struct vm_object *obj, uint64_t first, uint64_t end);

/* Verify the invariants; on failure print why and return false. */
bool hugetlb_check(void);

/* Test hook (host tests, fresh simulated RAM): forget the pool without
 * freeing anything, as after a test that failed halfway. */
void hugetlb_forget(void);

/* Boot options hugepages=N (and hugepagesz=, which must name the one size
 * there is): fill the pool. */
void hugetlb_boot_option(const char *cmdline);

#endif
