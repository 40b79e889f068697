/*
 * vm_space_impl.h - what the files of the address-space code share and
 * nobody else may use: vm_space.c (map, unmap, protect, brk, stack),
 * vm_fork.c, vm_remap.c, vm_advise.c, vm_space_check.c.
 *
 * Every operation of theirs has one shape, so that failure needs no
 * rollback (see vm_space.c): validate, plan (vm_range_plan), allocate
 * (vm_spares_get and the like: the only step that may fail), apply
 * (vm_range_carve, vm_range_drop, vm_space_merge_around).
 * Locks: as vm_space.h; every function here expects the map lock held.
 */
#ifndef VM_VM_SPACE_IMPL_H
#define VM_VM_SPACE_IMPL_H

#include <vm/vm_area.h>
#include <vm/vm_space.h>

/* Descriptors allocated before a change, so the change cannot fail. */
struct vm_spares {
        struct vm_area *a[8];
        unsigned        n;
};

/* What a range [start, end) overlaps. */
struct vm_range_plan {
        vaddr_t         start, end;
        struct vm_area *first;          /* first area overlapping, or NULL */
        uint64_t        overlap;        /* areas overlapping */
        bool            split_lo;       /* an area straddles start */
        bool            split_hi;       /* an area straddles end */
        bool            covered;        /* no hole in the range */
};

/* The door (vm_space.h, vm_space_enter): vm_space.door's two counts and
 * its writer's bit, and the entries into every space at once
 * (vm_space_enter_all). */
#define VM_DOOR_FAULTS  0xffffu         /* lock-free faults inside */
#define VM_DOOR_ENTERED 0x10000u        /* one entry by the big lock's holder */
#define VM_DOOR_ENTRIES 0x7fff0000u     /* ...all of them */
#define VM_DOOR_WRITER  0x80000000u     /* a writer without the big lock
                                         * (vm_space_write_enter) */
extern uint32_t vm_doors_shut;          /* [a] vm_space_enter_all's count */

static inline bool vm_area_private(const struct vm_area *a)
{
        return !(a->flags & VM_AREA_SHARED);
}

/* Page offset of va inside area a. */
static inline uint64_t vm_area_off(const struct vm_area *a, vaddr_t va)
{
        return (va - a->start) >> PAGE_SHIFT;
}

/* n descriptors into sp (n <= 8). => VM_ENOMEM, sp empty. */
vm_status_t vm_spares_get(struct vm_spares *sp, unsigned n);
/* One of them. => one is left. */
struct vm_area *vm_spares_take(struct vm_spares *sp);
/* Free those not taken. */
void vm_spares_put(struct vm_spares *sp);

/* Fill p for [start, end) (page-aligned, start < end). O(log n + overlap). */
void vm_range_plan(struct vm_space *s, vaddr_t start, vaddr_t end,
                   struct vm_range_plan *p);

/* Areas after p's range is cut out (before anything new is added). */
uint64_t vm_range_count_after_cut(const struct vm_space *s,
                                  const struct vm_range_plan *p);

/* Pages of [start, end) (page-aligned) that charged areas cover
 * (VM_AREA_ACCOUNT): what unmapping the range gives back. O(log n +
 * overlap). */
uint64_t vm_range_committed(const struct vm_space *s, vaddr_t start,
                            vaddr_t end);

/*
 * Split the areas straddling the ends of p's range (lo: at start, hi: at
 * end) with descriptors from sp; returns the first area overlapping the
 * range (starting at p->start if lo), or NULL.
 */
struct vm_area *vm_range_carve(struct vm_space *s, struct vm_range_plan *p,
                               struct vm_spares *sp, bool lo, bool hi);

/* Remove every area of the carved range [first..., end), its translations
 * and its private pages. */
void vm_range_drop(struct vm_space *s, struct vm_area *first, vaddr_t start,
                   vaddr_t end);

/* Unmap [start, end) (plan, carve, drop) with descriptors from sp, which
 * holds enough (2). Cannot fail. */
void vm_range_cut(struct vm_space *s, vaddr_t start, vaddr_t end,
                  struct vm_spares *sp);

/* Merge what can be merged among the areas from first's predecessor up
 * to the one containing end - 1 (after a change to [first, end)). */
void vm_range_merge(struct vm_space *s, struct vm_area *first, vaddr_t end);

/* Merge a with its neighbours where possible; returns the merged area. */
struct vm_area *vm_space_merge_around(struct vm_space *s, struct vm_area *a);

/* munmap of the valid range [start, end). => VM_ENOMEM (area limit, no
 * descriptor); then nothing changed. */
vm_status_t vm_space_unmap_range(struct vm_space *s, vaddr_t start,
                                 vaddr_t end);

/* Where mmap without FIXED puts len bytes: the hint if free, else
 * top-down below mmap_base, else bottom-up. => VM_ENOMEM: no room. */
vm_status_t vm_space_place(struct vm_space *s, vaddr_t hint, uint64_t len,
                           vaddr_t *va);

/* What translations of area a may allow under prot (private memory may
 * map pages it must not write: widening to write waits for a fault). */
vm_prot_t vm_area_pmap_prot(const struct vm_area *a, vm_prot_t prot);

/* Drop a's private pages with index in [first, end) of its object. */
void vm_area_free_pages(struct vm_area *a, vaddr_t start, vaddr_t end);

/*
 * pmap_remove()/pmap_protect() of a user range that never fail: where a
 * huge translation straddles an edge and splitting it finds no table page,
 * the whole huge translation(s) at the edges go instead (translations are
 * a cache of the objects' pages: dropping more costs only faults).
 */
/* Does an area of p's range carry mseal's VM_AREA_SEALED? */
bool vm_range_sealed(const struct vm_range_plan *p);

void vm_pmap_remove(struct vm_space *s, vaddr_t start, vaddr_t end);
void vm_pmap_protect(struct vm_space *s, vaddr_t start, vaddr_t end,
                     vm_prot_t prot);

#endif
