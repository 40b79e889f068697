/*
 * vmalloc.h - kernel virtual memory outside the linear map: vmalloc areas
 * (virtually contiguous, physically scattered), kernel stacks with guard
 * pages, and device memory (ioremap).
 *
 * Two regions of kernel VA, each handed out by one area allocator:
 *   [VMALLOC_BASE, VMALLOC_END)  vmalloc() and kstack_alloc()
 *   [IOREMAP_BASE, IOREMAP_END)  ioremap()
 * Guard pages: every area is followed by one unmapped page, and the first
 * area of a region starts one page above the region's base, so every area
 * also has an unmapped page directly below it. An access running off
 * either end of an area faults instead of reaching a neighbour: past the
 * end for buffers, below the start for kernel stacks (which grow down).
 *
 * Counters: vmstat.vmalloc_pages counts the pages behind vmalloc() areas,
 * vmstat.kstack_pages those behind kernel stacks; each page is in exactly
 * one of the two. Both kinds carry PG_VMALLOC. ioremap() takes no pages.
 * Page-table pages that back these regions come and go with the mappings
 * (pmap_remove() frees tables that become empty), counted by the pmap in
 * vmstat.pt_pages.
 * Locks: none yet (one CPU, no allocation from interrupt context).
 */
#ifndef VM_VMALLOC_H
#define VM_VMALLOC_H

#include <mercator/types.h>

#define KSTACK_SIZE     (16 * KiB)
#define KSTACK_PAGES    (KSTACK_SIZE / PAGE_SIZE)

/*
 * Set the regions' bounds from machine/vmparam.h and forget every area
 * (host tests call it again with fresh RAM).
 * => kmalloc_init() done (area descriptors come from kmalloc), and the
 *    kernel pmap exists (pmap_bootstrap()).
 */
void vmalloc_init(void);

/*
 * Allocate size bytes (rounded up to pages) of zeroed kernel memory,
 * virtually contiguous, each page a separate order-0 frame; mapped
 * read-write, no-execute, global.
 * => page-aligned address, or NULL if size is 0, or pages, page-table pages,
 *    VA or descriptors ran out (then nothing is left allocated).
 */
void *vmalloc(size_t size);

/*
 * Unmap and free a vmalloc() area and its pages; NULL is ignored.
 * => panics (kernel bug) unless p is the start of a live vmalloc() area.
 */
void vfree(void *p);

/*
 * Allocate a zeroed kernel stack of KSTACK_SIZE bytes, with an unmapped
 * guard page directly below it (an overflow faults there).
 * => its lowest address (base); the initial stack pointer is
 *    kstack_top(base). NULL if memory ran out (nothing left allocated).
 */
void *kstack_alloc(void);

/*
 * Free a stack from kstack_alloc(); NULL is ignored.
 * => panics unless base is the base of a live kernel stack.
 */
void kstack_free(void *base);

/* The first address above a stack: its initial stack pointer. */
static inline vaddr_t kstack_top(void *base)
{
        return (vaddr_t)base + KSTACK_SIZE;
}

/* True if fault_va lies in the guard page directly below a kernel stack:
 * a kernel stack overflow (for the page-fault / double-fault handlers). */
bool kstack_guard_hit(vaddr_t fault_va);

/*
 * True if va lies in an unmapped guard page next to an area of either
 * region: the page after it, or the page below it. *area_start (may be
 * NULL) gets the start of the area guarded. A page that is both (after A,
 * below B) is reported as B's if B is a kernel stack, else as A's.
 */
bool vmalloc_is_guard(vaddr_t va, vaddr_t *area_start);

/*
 * Map device memory [page_trunc(pa), page_round(pa + len)) into the
 * ioremap region, read-write, no-execute, global.
 * => pmap_flags: 0 or PMAP_NOCACHE (uncached, the default) or PMAP_WC
 *    (write-combining); nothing else.
 * => the address of pa itself (same offset in its page), or NULL if len
 *    is 0, the range wraps or passes 2^52, the flags are not allowed, or
 *    VA, descriptors or page-table pages ran out.
 * => no RAM is allocated: device frames are not RAM.
 */
void *ioremap(paddr_t pa, size_t len, unsigned pmap_flags);

/*
 * Remove a mapping made by ioremap(); va may be any address in its first
 * page (what ioremap() returned). NULL is ignored.
 * => panics unless va is in the first page of a live ioremap() area.
 */
void iounmap(void *va);

/*
 * Verify the invariants of vmalloc.c: areas sorted, inside their region,
 * separated by guards; every area page mapped as it should be and every
 * guard unmapped; pages and counters agree.
 * => on failure prints why and returns false.
 */
bool vmalloc_check(void);

/* Print each region's areas (start, size, kind). */
void vmalloc_dump(void);

/*
 * Call fn(arg, start, npages, kstack) for each live area of the vmalloc
 * region (vmalloc() buffers and kernel stacks), in address order; stops
 * when fn returns false. Changes nothing (for the picture feed).
 */
void vmalloc_for_each_area(bool (*fn)(void *arg, vaddr_t start,
                                      uint64_t npages, bool kstack),
                           void *arg);

#endif
