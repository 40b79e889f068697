/*
 * highmem.h (i386) - reaching frames that low memory does not map (seed
 * 003: ZONE_HIGHMEM): the persistent kmap window and the per-CPU atomic
 * slots of the fixmap.
 *
 * Both give a low-memory frame its __va() address and map nothing for it.
 */
#ifndef MACHINE_HIGHMEM_H
#define MACHINE_HIGHMEM_H

#include <mercator/types.h>

/*
 * kmap: map the frame at pa in the window of LAST_PKMAP pages at PKMAP_BASE
 * (Linux's pkmap) until the matching kunmap(pa). A frame mapped twice gets
 * the same address and a second use count. Freed slots are not flushed
 * one by one: when the search for a free slot wraps around the window, all
 * slots no longer used are cleared and the TLB is flushed once (lazy
 * flushing). May be held across anything the caller likes (no sleeping
 * exists yet).
 * => the kernel address, or NULL if all LAST_PKMAP slots are in use. Linux
 *    sleeps until a kunmap there; without sleeping, the caller gets NULL and
 *    must give up (kmap_window_full counts it).
 */
void *kmap(paddr_t pa);
void kunmap(paddr_t pa);

/*
 * kmap_atomic: map pa in this CPU's next fixmap slot; never fails. The
 * holder must not sleep or fault; mappings nest up to KM_MAX_IDX deep and
 * are released innermost first. kunmap_atomic clears the slot's entry and
 * invalidates it, so a stale use faults.
 */
void *kmap_atomic(paddr_t pa);
void kunmap_atomic(void *va);

/* Whether pa has a permanent __va() address (below lowmem_end). */
bool pa_is_lowmem(paddr_t pa);

/* The window's counters, for tests and the layout's costs. */
struct kmap_stats {
        uint64_t flushes;               /* wrap-around TLB flushes */
        uint64_t window_full;           /* kmap() refused: no free slot */
        uint64_t atomic_maps;           /* kmap_atomic() of a HIGHMEM frame */
        unsigned in_use;                /* slots with users now */
        unsigned atomic_depth;          /* this CPU's nested kmap_atomic */
};
void kmap_get_stats(struct kmap_stats *st);

/* The kmap window's slot of va (PKMAP_NR), and back. */
unsigned pkmap_nr(vaddr_t va);
vaddr_t pkmap_addr(unsigned nr);

#endif
