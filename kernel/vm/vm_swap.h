/*
 * vm_swap.h - anonymous memory on swap (issue 16 step 3d): evicting
 * private anonymous pages to swap slots, reading them back on a fault,
 * the swap cache, and swapoff's reading of everything back
 * (kernel/vm/vm_swap.c). The areas and their I/O are swap.h's.
 *
 * Where a swapped page is recorded: in the radix slot of each object
 * that held it, as a swap entry (vm_object.h), one user of the swap
 * slot per object - as FreeBSD's swap pager keeps its blocks per object.
 * Not in the page table: Mercator's pmap is a cache that may drop any
 * translation (munmap, a split huge page, fork), so a not-present PTE
 * could not be the only record; and a fault already looks the object up
 * to find a resident page, so the radix slot costs the fault nothing
 * more. Memory: no byte more per swapped page than its resident page had
 * (the same 8-byte radix slot), plus the area's 2-byte count per slot.
 *
 * The swap cache: an anonymous object indexed by swap entry, holding the
 * page read from a slot that other objects (fork's relatives) still
 * name. It is one more owner of the page (the reverse map and the
 * refcount count it) and holds one user of the slot. So forked children
 * that fault the same slot read it once and share one frame (then copy
 * on write as usual); when the slot's only user left is the cache, the
 * cache lets the page go (vm_swap_entry_release). A cached page's bytes
 * equal its slot's (a page shared by two holders is never written in
 * place), so evicting it again writes nothing: its owners get the entry
 * back.
 *
 * Which pages: those held only by private anonymous objects (and the
 * cache); and those of shared memory (vm_object_swap_shared: shared
 * anonymous mappings, /dev/zero shared, SysV segments, tmpfs and memfd
 * files), held by their one object alone, as Linux's shmem swaps.
 * Unevictable: a SysV segment after SHM_LOCK, pages an mlocked area
 * maps (rmap_unmap refuses), pages a kernel copy pins (PG_PINNED), and
 * a disk file's page cache (its pager writes it home instead).
 *
 * Shared memory (issue 16): the same radix-slot entry, in the shared
 * object's own slot (a tmpfs file's index is its page offset), so
 * read(), write(), faults of every mapping, truncation and holes meet
 * the entry where the page was, and bring it back or free its slot. How
 * reclaim finds such a page: it is on the swap-backed lists like any
 * (a tmpfs page starts on the file lists, and moves to the swap-backed
 * ones when reclaim finds it dirty); the reverse map's object->areas hop
 * (vm_object.mappers) unmaps it from every space, then its object takes
 * the entry. A shared object holding entries is on one list
 * (vm_object_for_each_swapped_shared), since it may be mapped nowhere:
 * swapoff reads those back and vm_swap_check counts them.
 * A private anonymous page read back keeps its slot through the cache
 * while swap is at most half full (kept slots, below).
 * Dirty pages: every eviction of a shared page writes it. A shared
 * page read back lets its slot go at once (it has one holder; there is
 * no swap cache for it), so no stale copy on swap can be taken for its
 * bytes; the cost is a second write when a page read back but never
 * changed goes out again. (Keeping the slot would need the written bit
 * of every translation the pmap drops - munmap, a split - carried to
 * the page; Mercator's pmap does not do that today.)
 * Memory cost: nothing per swapped page beyond the radix slot it had
 * resident; two pointers per object (the list).
 *
 * Locks: as the objects and spaces ([m]); single CPU for now (the big
 * kernel lock is held across disk waits, so nothing changes under a
 * batch between its unmapping and its write).
 */
#ifndef VM_VM_SWAP_H
#define VM_VM_SWAP_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <vm/pmm.h>
#include <vm/swap.h>

struct vm_object;

/*
 * Bring obj's page at index (which holds a swap entry) back: the swap
 * cache's page if it has one (shared, no read), else a new frame read
 * from the slot (*major set, may be NULL), kept in the cache while other
 * holders of the slot remain. obj's user of the slot goes.
 * => VM_OK with *out; VM_ENOMEM (no frame or record: nothing changed);
 *    VM_EIO (the read failed: the entry stays, the frame is freed).
 */
vm_status_t vm_swap_in(struct vm_object *obj, uint64_t index,
                       struct vm_page **out, bool *major);

/* After a fault read index from swap: read obj's other swapped pages of
 * the aligned 8-page window around it (Linux's page-cluster 3), without
 * mapping them, while free memory is above the low watermark. */
void vm_swap_read_around(struct vm_object *obj, uint64_t index);

/* An object lets go of its entry e (free_range): one user fewer; a page
 * the cache holds for e goes when the cache is its last user. */
void vm_swap_entry_release(swp_entry_t e);

/*
 * Kept slots (Linux's swap cache after a read, freed by vm_swap_full or a
 * write): a private anonymous page read back from a slot nobody else
 * names stays in the cache too, the cache holding the slot's one user,
 * while swap is at most half full. Its object holds the page resident;
 * since the cache is a second owner, every translation of it is
 * read-only (as for any shared page), so it equals its slot until a
 * write faults - and the write fault lets the cache go first
 * (vm_swap_unkeep), freeing the slot, so the page is the object's alone
 * and is written in place. Evicted again unwritten, it costs no write:
 * its object just gets the entry back (vm_swap_out). When the object
 * lets go of the page (munmap, exit, a copy), the cache lets go too
 * (vm_swap_page_orphaned, from vm_object.c); swapoff drops the kept
 * copies of its area first; reclaim drops the copy of a page it
 * activates once swap is over half full.
 */
/* More than half of the swap slots are in use (Linux's vm_swap_full). */
bool vm_swap_full(void);

/* pg (PG_SWAPCACHE, refcount 2) is about to be written, freed lazily or
 * moved by its one object: if the cache's copy is kept only for it, the
 * cache lets go (the slot is freed) and pg is the object's alone. */
void vm_swap_unkeep(struct vm_page *pg);

/* The swap cache is pg's last owner: let it go if no object names its
 * slot either. Called by vm_object.c when an object lets go of a
 * PG_SWAPCACHE page. */
void vm_swap_page_orphaned(struct vm_page *pg);

/* Is e an entry of an area that is on, naming a slot in use? */
bool vm_swap_entry_valid(swp_entry_t e);

/* Does the swap cache hold e's page? (mincore counts it resident.) */
bool vm_swap_entry_cached(swp_entry_t e);

/* Pages in the swap cache (SwapCached). */
uint64_t vm_swap_cached_pages(void);

/* Could pg go to swap: held only by private anonymous objects (and the
 * cache), or by one shared object that is not unevictable; not pinned;
 * and some area has a free slot? */
bool vm_swap_candidate(struct vm_page *pg);

/*
 * Evict the n (<= SWAP_WRITE_MAX) candidates pg[], which the caller
 * unmapped everywhere (rmap_unmap): cached pages give their owners their
 * entry back; the others are written to consecutive slots in one batch
 * and each owner gets the entry. => pages freed; those not freed (the
 * write failed or no slot: swap_write_pages' error) stay resident, and
 * failed[] (may be NULL) marks them.
 */
unsigned vm_swap_out(struct vm_page **pg, unsigned n, bool *failed);

/* madvise(MADV_PAGEOUT) of one anonymous page: a candidate is unmapped
 * and evicted now. => true if it went to swap. */
bool vm_swap_out_one(struct vm_page *pg);

/*
 * swapoff: read every page of area `area` back into the objects that
 * name it (Linux's try_to_unuse): private objects through the spaces,
 * shared ones through their list. => 0; -ENOMEM (memory ran out and
 * reclaim freed nothing); -EIO (a slot could not be read; its holders
 * keep the entry). The caller keeps the area out of new writes.
 */
long vm_swap_unuse(unsigned area);

/* Every object entry and cached page accounted: the users of each slot
 * in use equal the entries held by the private objects of every space,
 * the shared objects on the swapped list and the cache; a cached page's
 * slot has another user. For tests. */
bool vm_swap_check(void);

#endif
