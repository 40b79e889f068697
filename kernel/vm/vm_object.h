/*
 * vm_object.h - objects that supply the pages of areas, and the shared
 * zero page (CONCEPTS E22: real pages arrive on first touch).
 *
 * An object is a sparse array of pages indexed by page number, kept in a
 * radix tree of 64-way nodes (6 bits of the index per level) whose height
 * is fixed when the object is made, from its size. A lookup or insert is a
 * walk of `height` nodes; a range is freed by visiting only the nodes that
 * exist under it.
 *
 * Anonymous objects today:
 *   - private anonymous memory: one object may serve several neighbouring
 *     areas of one space (after splits, and when a fault borrows a
 *     neighbour's object). Its page index is the virtual page number
 *     (va >> PAGE_SHIFT, like Linux's anonymous vm_pgoff), so areas that
 *     touch always have consecutive indices and merge, and the pages at an
 *     index belong to whichever area covers that address: unmapping an
 *     address frees its page at once;
 *   - shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS): one object per
 *     mmap, indices 0..size-1; pages live until the last reference goes, as
 *     in Linux's shmem, so a partly unmapped shared area keeps its pages.
 *
 * Page ownership: a resident page has vm_page.refcount = number of objects
 * holding it (1 today). The object owns that reference; a pmap translation
 * is a cache and holds none.
 *
 * The plan for later issues (nothing of it is built yet):
 *   - file objects: `type` VM_OBJECT_FILE with a pager (get a page for an
 *     index from the file cache, write one back); the fault path asks the
 *     pager when the radix tree has no page, and FAULT_BUS covers an index
 *     beyond the file's end;
 *   - copy-on-write: an object gets `backing` (an object reference) and
 *     `backing_offset`. fork gives each side a new empty "shadow" object
 *     over the old one and write-protects the parent; a fault looks the
 *     index up along the chain top-down, a read maps the first page found
 *     read-only, a write copies it into the top object (the vm_fault
 *     phase fault_copy_page). vm_page.refcount then counts objects holding
 *     a frame shared by collapse. Chains are collapsed when a shadow's
 *     backing has refcount 1. The private-memory rule above ("unmapping
 *     frees the page at once") then applies to the top object only.
 * Locks: [m] the map lock of the space(s) using the object; single CPU for
 * now, callers serialize. [c] constant after creation.
 * Invariants (vm_object_check()):
 *   1. npages = resident pages in the radix tree; all indices < size;
 *   2. no radix node is empty (removal frees nodes as they empty);
 *   3. every resident page is allocated (refcount >= 1, not free) and
 *      counted in vmstat.anon_pages;
 *   4. refcount >= 1 for a live object.
 */
#ifndef VM_VM_OBJECT_H
#define VM_VM_OBJECT_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <vm/pmm.h>

enum vm_object_type {
        VM_OBJECT_ANON,                 /* zero-filled on first touch */
};

#define VM_OBJECT_MAX_PAGES     (1UL << 48)     /* radix height <= 8 */

struct vm_object {
        uint32_t            refcount;   /* [m] areas using it */
        enum vm_object_type type;       /* [c] */
        unsigned            height;     /* [c] radix levels, >= 1 */
        uint64_t            size;       /* [c] valid indices: [0, size) */
        uint64_t            npages;     /* [m] resident pages */
        void               *root;       /* [m] top radix node, NULL if empty */
};

/*
 * A new anonymous object of `size` pages, refcount 1, no pages.
 * => 0 < size <= VM_OBJECT_MAX_PAGES.
 * => VM_ENOMEM (heap exhausted) or VM_EINVAL (bad size); *out unchanged.
 */
vm_status_t vm_object_create_anon(uint64_t size, struct vm_object **out);

/* Take one more reference. => obj is live (refcount >= 1). */
void vm_object_ref(struct vm_object *obj);

/*
 * Drop a reference; the last one frees every page, every radix node and
 * the object.
 * => obj may be NULL.
 */
void vm_object_unref(struct vm_object *obj);

/* The page at index, or NULL if not resident. => O(height). */
struct vm_page *vm_object_lookup(const struct vm_object *obj, uint64_t index);

/*
 * Make a zero-filled page resident at index (not there yet) and return it.
 * Counts it in vmstat.anon_pages.
 * => VM_ENOMEM if no page or radix node could be had: nothing changed.
 * => VM_EINVAL if index >= size; VM_EEXIST if a page is there already.
 */
vm_status_t vm_object_page_alloc(struct vm_object *obj, uint64_t index,
                                 struct vm_page **out);

/*
 * Free every resident page with index in [first, end), and the radix nodes
 * that empty. => the pages are mapped nowhere (the TLB is flushed).
 * => returns the number of pages freed.
 */
uint64_t vm_object_free_range(struct vm_object *obj, uint64_t first,
                              uint64_t end);

/*
 * Call fn(arg, index, page) for each resident page with index in
 * [first, end), in index order; stops early, returning false, when fn
 * returns false.
 */
bool vm_object_for_each(const struct vm_object *obj, uint64_t first,
                        uint64_t end,
                        bool (*fn)(void *arg, uint64_t index,
                                   struct vm_page *pg),
                        void *arg);

/* Verify invariants 1-4 above; prints the first violation. => O(pages). */
bool vm_object_check(const struct vm_object *obj);

/* --- the shared zero page ----------------------------------------------- */

/*
 * Forget all module state (the zero page): host tests call this after
 * re-creating simulated RAM, as with kmalloc_init().
 */
void vm_object_init(void);

/*
 * Have the zero page: one frame of zeroes, mapped read-only for reads of
 * private anonymous memory never written. It is never freed (like Linux's
 * empty_zero_page), so leak checks take their baseline after this.
 * => idempotent; VM_ENOMEM if the frame could not be had.
 */
vm_status_t vm_zero_page_init(void);

/* The zero page's frame. => vm_zero_page_init() succeeded. */
paddr_t vm_zero_page_pa(void);

/* True if the zero page exists and still holds only zeroes. */
bool vm_zero_page_check(void);

#endif
