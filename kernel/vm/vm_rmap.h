/*
 * vm_rmap.h - the reverse map: from a physical page to every (space,
 * address) whose translation maps it (issue 16 step 1; issue 17 made
 * sharing by fork implicit).
 *
 * Mercator's truth is objects and areas; a pmap translation is a cache
 * (vm/pmap.h). So the reverse map is object-based, in two hops, and
 * stores nothing per translation:
 *
 *   page -> owners   the (object, index) pairs that hold the page (the
 *                    page's refcount is their number). The descriptor's
 *                    `private` word and its 48-bit index (`spare`,
 *                    `count16`) hold one record, so the descriptor stays
 *                    32 bytes. A record is either
 *                      - explicit: (object, index), that object alone; or
 *                      - a fork family (PG_RMAP_FAMILY): (family, index),
 *                        meaning every member of the family that holds this
 *                        page at this index.
 *                    A fork family (struct rmap_family) is the set of live
 *                    private anonymous objects descended by fork from one
 *                    object: fork's twin of a member joins its family, and
 *                    fork links each page into the twin at the same index
 *                    (indices are virtual page numbers, and the child has
 *                    the parent's layout). So a private page, however many
 *                    processes share it by fork, needs its one family
 *                    record: fork and exit add and remove owners without
 *                    touching the record or allocating anything (Linux's
 *                    anon_vma: a page points at a structure whose members
 *                    are its candidate mappers). Only an owner the record
 *                    does not cover - mremap moved a shared page to another
 *                    index, or a page is held by objects of different kinds -
 *                    needs the page to keep several records: a chain of
 *                    struct rmap_owner (PG_RMAP_CHAIN), at most one of them
 *                    a family. When a page is back to one record, the chain
 *                    goes; a lone explicit owner with a family is turned
 *                    into its family's record.
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
 * Memory: nothing per translation, and nothing per page whose owners one
 * record covers: every page of a fork tree, whatever its size. A chain
 * costs one struct rmap_owner (32 bytes, a 32-byte kmalloc object; 20 in
 * a 32-byte object on 32-bit machines) per record, only for pages with
 * owners at two indices or of two kinds. Per object: four pointers
 * (space, family and its two list links) and one (mappers); per family one
 * struct rmap_family (16 bytes); per area three pointers (mapper list
 * links and its tree).
 *
 * Cost: fork and exit do O(1) reverse-map work per page and allocate
 * nothing for it. A walk of a family record looks the index up in every
 * member (O(members x radix height)): a page made by a child is also
 * looked for in its parent and siblings, as with Linux's first anon_vma
 * (before 2.6.34's anon_vma chains): walks serve reclaim, fork is hot.
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

/* A fork family: the live private anonymous objects descended by fork
 * from one object (vm_object.family, linked by family_next/prev). */
struct rmap_family {
        struct vm_object *first;        /* [m] members */
        uint32_t          members;      /* [m] */
};

/* One record of a page with several (PG_RMAP_CHAIN): explicit (obj set)
 * or a family's (family set), at index. */
struct rmap_owner {
        struct vm_object   *obj;
        struct rmap_family *family;
        uint64_t            index;
        struct rmap_owner  *next;
};

/* Bytes the map holds in kmalloc now: families and chain records, at
 * their kmalloc sizes (/proc/meminfo's ReverseMap, Mercator's own).
 * Changed atomically (a lock-free fault makes families too). */
extern uint64_t rmap_bytes;

/* ---- families: kept by vm_object.c, vm_fault.c, vm_fork.c, vm_remap.c --- */

/*
 * Make private anonymous object obj (obj->space set, no page yet) a member
 * of parent's family (fork's twin), or of a new family (parent NULL, or
 * without a family). => VM_ENOMEM (a new family only; nothing changed).
 */
vm_status_t rmap_family_join(struct vm_object *obj, struct vm_object *parent);

/* obj is going and holds no page any more: it leaves its family (if any),
 * the last member frees it. */
void rmap_family_leave(struct vm_object *obj);

/* ---- owners: kept by vm_object.c ---------------------------------------- */

/*
 * pg now also belongs to obj at index. The first owner, and any owner its
 * family record covers (fork), costs nothing; another one allocates the
 * chain (two entries) or one entry more.
 * => VM_ENOMEM (nothing changed). Call before the radix insert and before
 *    the refcount counts obj; undo with rmap_owner_del() if that fails.
 */
vm_status_t rmap_owner_add(struct vm_page *pg, struct vm_object *obj,
                           uint64_t index);

/*
 * The first owner of a fresh page in two steps, for the lock-free fault
 * (vm_fault.c:vm_fault_nolock): the record alone (before the page is
 * published in obj: vm_object_nolock_add), then, once it is, the reclaim
 * list and the memory group's charge (rmap_owner_first_lists with nolock:
 * the root's charge counted per CPU, memcg_charge_root_nolock). Nobody
 * who takes a page off a list or uncharges it runs beside a lock-free
 * fault, as every one of them enters the space's door first.
 * rmap_owner_forget_first takes back the record of a page never published
 * (another fault took its slot first).
 */
void rmap_owner_add_first(struct vm_page *pg, struct vm_object *obj,
                          uint64_t index);
void rmap_owner_forget_first(struct vm_page *pg);
void rmap_owner_first_lists(struct vm_page *pg, struct vm_object *obj,
                            bool nolock);

/* obj at index lets go of pg (which has that owner). => pg->refcount
 * still counts obj (the caller drops it after). Back to one record, the
 * chain is freed and the record moves into the descriptor; the last owner
 * leaving clears PG_OBJECT. Never fails, never allocates. */
void rmap_owner_del(struct vm_page *pg, struct vm_object *obj, uint64_t index);
/* The same for the last owner of a page held by one record (refcount 1,
 * no chain) whose caller takes it off its reclaim list itself, in a
 * batch with others (vm_object.c's release batch): PG_LRU stays set. */
void rmap_owner_del_last(struct vm_page *pg, struct vm_object *obj,
                         uint64_t index);

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
 * ever write (vm_object.mapped_writable); or a disk file's page
 * (pager_ops) not PG_DIRTY, mapped writable or not. Held by one object
 * (file pages always are). A quota keeps counting a dropped page (vm_object.evicted).
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
 * Check the reverse map against every live space: every private object
 * of an area is a member of a well-linked family; each page's records
 * are well formed (one inline, or a chain of two or more with at most
 * one family record, no explicit record the family record covers, a
 * family record some member holds, a lone private owner written as its
 * family's record); each owner really holds the page, the owner count
 * is the refcount (so no holder is missing from the records), and the
 * translations rmap_walk() finds for each object page are exactly those
 * found by walking every page of every area of every space with
 * pmap_extract() (the model), with none twice. => false after printing the first
 * difference. Cost: O(mapped pages of all spaces + RAM); for tests.
 */
bool rmap_check(void);

#endif
