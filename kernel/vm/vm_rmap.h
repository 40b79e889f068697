/*
 * vm_rmap.h - the reverse map: from a physical page to every (space,
 * address) whose translation maps it (issue 16 step 1).
 *
 * Mercator's truth is objects and areas; a pmap translation is a cache
 * (vm/pmap.h). So the reverse map is object-based, in two hops, and
 * stores nothing per translation:
 *
 *   page -> owners   the (object, index) pairs that hold the page. One
 *                    owner (the usual case) lives in the page descriptor
 *                    itself: its `private` word is the object, `spare` and
 *                    `count16` the 48-bit index, so the descriptor stays 32
 *                    bytes. A page held by several objects (after fork, or
 *                    while mremap moves it) gets PG_RMAP_CHAIN and its
 *                    `private` word points at a chain of struct rmap_owner,
 *                    one per owner. The number of owners is always the
 *                    page's refcount (objects are its only holders).
 *   owner -> (space, va)
 *                    a private anonymous object belongs to one space
 *                    (vm_object.space) and is indexed by virtual page
 *                    number: its page at index i can only be mapped at
 *                    i << PAGE_SHIFT in that space, by the area there if it
 *                    uses the object (one O(log n) lookup). Any other object
 *                    (a shared anonymous object, a SysV segment, a file's
 *                    page cache, a read-only file) keeps the list of areas
 *                    that map it (vm_object.mappers: the shared areas over
 *                    it and the private areas reading it as their backing
 *                    file), kept by vm_area_insert/remove; an area covering
 *                    the index gives va.
 *
 * Each candidate is confirmed with pmap_extract(): the pmap may not have
 * the translation (never faulted, or dropped), and in a private file
 * mapping the area's own copy may have replaced the file's page. So a walk
 * reports exactly the translations that exist, whatever the page-table
 * format: accessed/dirty bits come through pmap_ad(), removal through
 * pmap_remove().
 *
 * Memory: nothing per translation; 0 bytes per page with one owner; one
 * struct rmap_owner (24 bytes, a 32-byte kmalloc object; 16 on 32-bit
 * machines) per owner of a page held by 2 or more objects; three pointers
 * per area (mapper list links and its tree) and one per object (mappers)
 * plus one (space). Fork pays one chain entry per resident private page
 * (two for the page's first sharing); Linux's anon_vma chains pay per
 * area instead, but need page->index to stay valid across mremap, which
 * our per-space indices do not give.
 *
 * Locks: as the objects and spaces ([m]); single CPU for now.
 */
#ifndef VM_VM_RMAP_H
#define VM_VM_RMAP_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <vm/pmm.h>

struct vm_object;
struct vm_space;
struct vm_area;

/* One owner of a page held by several objects (PG_RMAP_CHAIN). */
struct rmap_owner {
        struct vm_object  *obj;
        uint64_t           index;
        struct rmap_owner *next;
};

/* ---- owners: kept by vm_object.c ---------------------------------------- */

/*
 * pg now also belongs to obj at index. The first owner costs nothing; a
 * second one allocates the chain (two entries), later ones one entry each.
 * => VM_ENOMEM (nothing changed). Call before the radix insert; undo with
 *    rmap_owner_del() if that fails.
 */
vm_status_t rmap_owner_add(struct vm_page *pg, struct vm_object *obj,
                           uint64_t index);

/* obj at index lets go of pg (which has that owner). Back to one owner,
 * the chain is freed and the owner moves into the descriptor; the last
 * owner leaving clears PG_OBJECT. Never fails. */
void rmap_owner_del(struct vm_page *pg, struct vm_object *obj, uint64_t index);

/* Is pg held by objects (an object page)? */
static inline bool rmap_is_object_page(const struct vm_page *pg)
{
        return pg->flags & PG_OBJECT;
}

/* Does pg list obj at index among its owners? */
bool rmap_has_owner(const struct vm_page *pg, const struct vm_object *obj,
                    uint64_t index);

/* Objects holding pg (0 for a page no object holds). */
unsigned rmap_owner_count(const struct vm_page *pg);

/* Call fn for each owner of pg; stops early when fn returns false. */
bool rmap_for_each_owner(const struct vm_page *pg,
                         bool (*fn)(void *arg, struct vm_object *obj,
                                    uint64_t index),
                         void *arg);

/* ---- translations ----------------------------------------------------- */

/* One translation that maps a page. */
struct rmap_map {
        struct vm_space  *space;
        struct vm_area   *area;
        vaddr_t           va;
        struct vm_object *obj;          /* the owner it was found through */
        uint64_t          index;
};

/*
 * Call fn for every present translation of pg, in any space; stops early
 * when fn returns false. => the number of translations visited.
 * fn may remove the translation it is given (and only that one).
 */
unsigned rmap_walk(struct vm_page *pg,
                   bool (*fn)(void *arg, const struct rmap_map *m),
                   void *arg);

/* Translations of pg now (a page mapped by N spaces once each: N). */
unsigned rmap_count(struct vm_page *pg);

/*
 * Was pg accessed (RMAP_ACCESSED) or written (RMAP_DIRTY) through any of
 * its translations since the bits were last cleared? With `clear`, clear
 * them in every translation (the TLB invalidations are issued). The
 * pmap's accessed/dirty bits, through pmap_ad(): format-neutral. *mapped
 * (may be NULL) gets the number of translations.
 */
#define RMAP_ACCESSED   0x1
#define RMAP_DIRTY      0x2
unsigned rmap_referenced(struct vm_page *pg, bool clear, unsigned *mapped);

/*
 * Remove every translation of pg (Linux's try_to_unmap), so that its
 * owners may let it go. Refused, changing nothing, if an mlocked area
 * maps it (VM_AREA_LOCKED or LOCKONFAULT): VM_EBUSY. The TLBs are
 * flushed before it returns. => *dirty (may be NULL): whether any
 * translation had written the page (the caller must then keep its
 * contents).
 */
vm_status_t rmap_unmap(struct vm_page *pg, bool *dirty);

/*
 * Is pg a page whose bytes its object can make again, so that dropping it
 * loses nothing? A read-only file's page; or a page-cache page (tmpfs,
 * the initramfs' files) that holds what its immutable source (or zeroes
 * past it) gives: not written by the kernel (PG_DIRTY: write(), a
 * truncated tail, a hole, ptrace), of an object no shared area could
 * ever write (vm_object.mapped_writable). Held by one object (file pages
 * always are). A quota keeps counting a dropped page (vm_object.evicted).
 */
bool rmap_clean_page(const struct vm_page *pg);

/*
 * Evict pg if it is clean (rmap_clean_page) and no locked area maps it:
 * its translations go, then its object drops it; the next access reads
 * it again. => VM_OK (the frame is free), VM_EBUSY (locked, or PG_PINNED
 * by a kernel copy), VM_EINVAL (not clean: anonymous and dirty pages need
 * swap).
 */
vm_status_t rmap_evict_clean(struct vm_page *pg);

/*
 * Check the reverse map against every live space: each owner really
 * holds the page, the owner count is the refcount, and the translations
 * rmap_walk() finds for each object page are exactly those found by
 * walking every page of every area of every space with pmap_extract()
 * (the model), with none twice. => false after printing the first
 * difference. Cost: O(mapped pages of all spaces + RAM); for tests.
 */
bool rmap_check(void);

#endif
