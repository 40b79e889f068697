/*
 * bootmem.h - the early boot allocator: one bit per page frame.
 *
 * This is the seeds' bitmap allocator (LunaixOS), used where it fits best:
 * before the page descriptors exist. It lives from the parsing of the memory
 * map until bootmem_handoff() gives every still-free page to the buddy
 * allocator; after that it must not be called.
 */
#ifndef VM_BOOTMEM_H
#define VM_BOOTMEM_H

#include <mercator/types.h>
#include <vm/memmap.h>

/*
 * Start over a sanitized map. The bitmap (one bit per frame up to the end of
 * usable RAM) is carved from usable RAM below `limit`, reached through
 * pmap_kmem_va(). Only USABLE ranges start free.
 * => VM_ENOMEM if no usable range below limit can hold the bitmap.
 */
int bootmem_init(const struct mem_range *map, unsigned n, paddr_t limit);

/* Mark [base, base+len) as used (page-aligned outward): kernel, modules... */
void bootmem_reserve(paddr_t base, uint64_t len);

/*
 * Allocate npages contiguous free frames, aligned to `align` bytes (a power
 * of two, at least PAGE_SIZE), wholly below `limit`. Not zeroed.
 * => the physical address, or 0 if none (frame 0 is never free).
 */
paddr_t bootmem_alloc(uint64_t npages, uint64_t align, paddr_t limit);

/* The same, wholly inside [min, limit): to keep big boot-time tables out
 * of the DMA zones. => 0 if none, or if min > limit. */
paddr_t bootmem_alloc_range(uint64_t npages, uint64_t align, paddr_t min,
                            paddr_t limit);

/* Pages handed out (including the bitmap itself) and still free. */
uint64_t bootmem_used_pages(void);
uint64_t bootmem_free_pages(void);

/* Give every free frame, and the bitmap itself, to pmm_add_range(). */
void bootmem_handoff(void);

/* True between bootmem_init() and bootmem_handoff(). */
bool bootmem_active(void);

#endif
