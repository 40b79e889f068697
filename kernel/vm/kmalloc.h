/*
 * kmalloc.h - the kernel heap: small objects from slab caches, large ones
 * straight from the buddy allocator.
 *
 * Small requests (1..KMALLOC_MAX_SMALL bytes) are rounded up to a size class
 * (16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048) and
 * come from that class's cache of slabs; a slab is one buddy block of 1-8
 * pages cut into equal slots. Larger requests (up to KMALLOC_MAX_SIZE) are a
 * buddy block of their own, of the smallest order that fits.
 *
 * Alignment: every object is aligned to KMALLOC_MIN_ALIGN (16) bytes; with
 * debugging off, an object of a power-of-two class is also aligned to its
 * class size, and a large allocation to a page.
 *
 * Debug mode (kmalloc_init(true)) adds, for slab objects:
 *   - red zones of 16 bytes before and after each object (and over the
 *     unused tail of its class), checked by kfree: overflow / underflow;
 *   - poison: freed objects are filled with a pattern, checked when handed
 *     out again: a write after free;
 *   - detection of a double kfree and of a kfree of a pointer that is not
 *     the start of an object (the latter is checked with debugging off too).
 * Each detection is a kernel bug and panics naming cache, address and what
 * was found. Debugging costs 32 bytes per object and time on every call.
 *
 * Counters: vmstat.slab_pages (pages held by slabs, empty ones included)
 * and vmstat.kmalloc_large (pages of large allocations).
 * Locks: one spinlock per cache (rank 27), never held across a call to
 * the page allocator: kmalloc and kfree may be called from any CPU, with
 * or without the big kernel lock, with interrupts on or off.
 */
#ifndef VM_KMALLOC_H
#define VM_KMALLOC_H

#include <mercator/types.h>
#include <vm/pmm.h>

#define KMALLOC_MIN_ALIGN       16
#define KMALLOC_MAX_SMALL       2048                    /* largest class */
#define KMALLOC_MAX_SIZE        (PAGE_SIZE << PMM_MAX_ORDER)

/*
 * Set up the caches, forgetting every earlier object (host tests call it
 * again after re-creating simulated RAM).
 * => the buddy allocator is initialized; no slab pages are taken yet.
 * => debug turns on red zones, poisoning and double-free detection.
 */
void kmalloc_init(bool debug);

/*
 * Allocate size bytes of uninitialized kernel memory (an address that
 * pmap_kmem_va() gave: permanently mapped).
 * => NULL if size is 0 or above KMALLOC_MAX_SIZE, or memory ran out; never
 *    panics for lack of memory.
 * => debug mode: panics if the object handed out shows a write after free.
 */
void *kmalloc(size_t size);

/* As kmalloc(), with the size bytes (the usable size) zeroed. */
void *kzalloc(size_t size);

/*
 * Give back an object from kmalloc()/kzalloc(); NULL is ignored.
 * => panics (kernel bug) if p is not the start of a live object: outside
 *    the heap, inside an object, already freed (reliably in debug mode,
 *    best effort otherwise), or, in debug mode, its red zones were written.
 */
void kfree(void *p);

/*
 * Bytes the caller may use at p: the class size (debug mode: the size that
 * was asked for, since the rest is red zone); a large block's full size.
 * => 0 for NULL; panics like kfree() for a pointer that is not an object.
 */
size_t kmalloc_usable_size(const void *p);

/* Return every empty slab to the buddy allocator; => pages released. */
uint64_t kmalloc_shrink(void);

/*
 * Verify the cache invariants (see kmalloc.c): list membership, object
 * counts against free lists, free slots inside their slab, page flags,
 * vmstat.slab_pages; in debug mode also every red zone and every poisoned
 * free object.
 * => on failure prints why and returns false.
 */
bool kmalloc_check(void);

/* Print one line per cache that holds slabs, and the large-block total. */
void kmalloc_dump(void);

/* Is pg one of the heap's pages: a slab's, or a large block's? (For the
 * picture feed; reads the descriptor only.) */
bool kmalloc_page_in_heap(const struct vm_page *pg);

#endif
