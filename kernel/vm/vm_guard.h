/*
 * vm_guard.h - guard regions (madvise MADV_GUARD_INSTALL / REMOVE, Linux
 * 6.13): pages of an area that fault with SIGSEGV on any access, without
 * an area of their own (so /proc/PID/maps and the area count do not
 * change, which is the point of the feature).
 *
 * Linux keeps a guard as a marker in the page-table entry. Mercator's
 * pmap is a cache that may lose any translation, so the truth lives with
 * the space instead: a sorted array of disjoint, non-touching page runs,
 * vm_space.guards. The rules that follow Linux (vm_space.h says which
 * operation does what):
 *   - a guarded page has no translation and no private page (installing
 *     drops both, as MADV_DONTNEED); faults there are SIGSEGV (MAPERR)
 *     after the area's protection check; fault-around, huge pages and
 *     accesses from outside (process_vm_readv, /proc/PID/mem) skip it;
 *   - MADV_DONTNEED, FREE, REMOVE, mprotect and truncation keep guards;
 *     munmap and every other removal of areas clears them; mremap moves
 *     them with the pages; fork copies them.
 *
 * Changes that must not fail (inside munmap, mremap) call
 * vm_guards_reserve() in their allocation step first: a clear or a move
 * splits at most two runs. With no guard in a space, nothing is
 * ever allocated.
 * Invariant (vm_space_check): every run lies inside areas, page-aligned,
 * and no guarded page has a translation.
 * Locks: the owning space's map lock.
 */
#ifndef VM_VM_GUARD_H
#define VM_VM_GUARD_H

#include <mercator/status.h>
#include <mercator/types.h>

struct vm_guard_run {
        vaddr_t start, end;             /* page-aligned, start < end */
};

struct vm_guards {
        struct vm_guard_run *run;       /* [m] sorted by start; disjoint and
                                         *     never touching */
        uint32_t             n, cap;    /* [m] runs used, runs allocated */
};

/* Is va (any address in the page) guarded? => O(log n). */
bool vm_guards_has(const struct vm_guards *g, vaddr_t va);

/* Is any page of [start, end) guarded? => O(log n). */
bool vm_guards_meet(const struct vm_guards *g, vaddr_t start, vaddr_t end);

/* Guarded pages in [start, end). => O(log n + runs there). */
uint64_t vm_guards_pages(const struct vm_guards *g, vaddr_t start,
                         vaddr_t end);

/*
 * Room for `more` runs beyond those in use, so that the next changes
 * cannot fail. Nothing to do while g is empty (a clear or move of an empty
 * set needs no room).
 * => VM_ENOMEM, g unchanged.
 */
vm_status_t vm_guards_reserve(struct vm_guards *g, uint32_t more);

/* Guard [start, end) (merged with touching runs).
 * => VM_ENOMEM (no room for a run), g unchanged. */
vm_status_t vm_guards_add(struct vm_guards *g, vaddr_t start, vaddr_t end);

/* Unguard [start, end). => room for 2 runs reserved (or g empty): one
 * run around the range is split twice before the middle goes. */
void vm_guards_clear(struct vm_guards *g, vaddr_t start, vaddr_t end);

/*
 * The guards of [from, from + len) move to [to, to + len) (mremap), which
 * holds none. => room for 2 runs reserved (or g empty).
 */
void vm_guards_move(struct vm_guards *g, vaddr_t from, uint64_t len,
                    vaddr_t to);

/* dst (empty) becomes a copy of src. => VM_ENOMEM, dst still empty. */
vm_status_t vm_guards_copy(struct vm_guards *dst, const struct vm_guards *src);

/* Free the array; g is empty afterwards. */
void vm_guards_free(struct vm_guards *g);

/* Sorted, disjoint, not touching, page-aligned? (vm_space_check) */
bool vm_guards_sound(const struct vm_guards *g);

#endif
