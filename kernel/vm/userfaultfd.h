/*
 * userfaultfd.h - what the VM core knows of userfaultfd (Linux's
 * userfaultfd(2)): areas registered with a context in some modes, whose
 * faults of the registered kinds the fault path hands to that context,
 * and the steps that resolve them (UFFDIO_COPY, ZEROPAGE, CONTINUE).
 *
 * The context itself (its descriptor, its queue of faults, the sleeping)
 * lives above the core, in kernel/proc/sys_userfaultfd.c; the core sees
 * only struct vm_uffd, the first member of that context, and calls its
 * fault() when a fault of a kind the area is registered for happens at
 * an address of it.
 *
 * What can be registered (Linux's vma_can_userfault, as far as Mercator
 * goes): private anonymous memory (MISSING and WP modes) and shmem -
 * shared anonymous memory, tmpfs and memfd files mapped MAP_SHARED, SysV
 * segments (MISSING and MINOR modes). Not: other file mappings, private
 * mappings of tmpfs files, hugetlbfs, WP on shmem (all EINVAL).
 *
 * The kinds of fault, at a page with no translation in this space:
 *   MISSING  private memory: the area has no page of its own (none in
 *            its object, none on swap): Linux's "pte_none". Shmem: the
 *            object does not have the page (not resident, not on swap,
 *            not in the source a tmpfs file was made from) at an index
 *            inside it (past the end the fault is SIGBUS first);
 *   MINOR    shmem only: the object has the page, this mapping does not
 *            map it (after MADV_DONTNEED, or mapped elsewhere).
 * and, at a page that has one:
 *   WP       a write to a page of the area's own that UFFDIO_WRITEPROTECT
 *            marked (vm_uffd_writeprotect), in an area registered WP.
 * A fill (COPY, ZEROPAGE) puts the page in the object - the area's own
 * for private memory, the shared object (the page cache) for shmem, so
 * every mapping of the object sees it - and maps it here. CONTINUE maps
 * the page the shmem object already has. POISON marks a page whose
 * every access is SIGBUS (Linux 6.6's poison PTE marker); a later fill or
 * continue there replaces the mark, as Linux's replaces its marker. MOVE
 * (private memory only) takes a page from one address to a missing one.
 *
 * A fork's child does not inherit registrations, nor does the new place
 * of an area moved by mremap (Linux without UFFD_FEATURE_EVENT_FORK/
 * REMAP); splitting an area keeps them on both halves; areas of
 * different contexts or modes never merge. Fault-around skips areas
 * registered MINOR (their every unmapped page must reach the handler,
 * as Linux's uffd_disable_fault_around).
 *
 * Locks: as vm_space.h (the space's map lock; today the big lock).
 */
#ifndef VM_USERFAULTFD_H
#define VM_USERFAULTFD_H

#include <vm/vm_space.h>

/* Registration modes and fault kinds (the values of Linux's
 * UFFDIO_REGISTER_MODE_*). */
#define VM_UFFD_MISSING         1u
#define VM_UFFD_WP              2u
#define VM_UFFD_MINOR           4u

struct vm_uffd {
        /*
         * A fault at va (unaligned, as the CPU reported it) of kind
         * (VM_UFFD_MISSING or VM_UFFD_MINOR) in an area registered with
         * u for that kind. user: the access came from user mode (not a
         * copy_*_user in a system call).
         * => called with no VM state held across it; may sleep.
         * => FAULT_RESOLVED: try the access again (the page may still be
         *    missing: it faults again); FAULT_BUS: SIGBUS; FAULT_SEGV:
         *    the kernel's access fails (EFAULT).
         */
        enum fault_result (*fault)(struct vm_uffd *u, struct vm_space *s,
                                   vaddr_t va, vm_prot_t access,
                                   unsigned kind, bool user);
};

/* Is a shmem: shared anonymous memory, or a shared mapping of a tmpfs or
 * memfd file or a SysV segment (Linux's vma_is_shmem)? */
bool vm_uffd_area_shmem(const struct vm_area *a);

/*
 * Register the areas inside [start, end) with u in mode (VM_UFFD_MISSING
 * and/or VM_UFFD_MINOR), splitting the ones that straddle an end; an
 * area registered with u before takes the new mode. The range may have
 * holes, but must meet an area.
 * => start < end, page-aligned; mode not 0.
 * Registering WP clears the write-protection marks a former registration
 * left in the range.
 * => VM_EINVAL: no area in the range, or one that cannot be registered
 *    in this mode (WP on shmem; MINOR on private memory); VM_EBUSY: one is
 *    registered with another context; VM_ENOMEM: no descriptor for a
 *    split (or the area limit). Either way nothing changed.
 */
vm_status_t vm_uffd_register(struct vm_space *s, vaddr_t start, vaddr_t end,
                             struct vm_uffd *u, unsigned mode);

/*
 * Unregister the areas inside [start, end), whoever registered them.
 * => VM_EINVAL: no area in the range, or one that could not have been
 *    registered; VM_ENOMEM as above.
 */
vm_status_t vm_uffd_unregister(struct vm_space *s, vaddr_t start,
                               vaddr_t end);

/* Unregister every area of s registered with u (its descriptor closed). */
void vm_uffd_forget(struct vm_space *s, struct vm_uffd *u);

/*
 * Whether [start, end) lies inside one area registered with u, as
 * UFFDIO_COPY, ZEROPAGE and CONTINUE require. => VM_OK or VM_ENOENT.
 */
vm_status_t vm_uffd_check_range(struct vm_space *s, vaddr_t start,
                                vaddr_t end, const struct vm_uffd *u);

/*
 * Resolve a MISSING page at page va of a registered area: put a page
 * holding src's PAGE_SIZE bytes (NULL: zeroes) in the area's object
 * (private memory: its own; shmem: the shared object, Linux's page
 * cache) and map it, writable if the area is (vm_fault.c).
 * => VM_EEXIST if the page is not missing (a translation, or a page the
 *    object has); VM_ENOENT if no registered area; VM_EFAULT past the
 *    end of a shmem object; VM_ENOMEM; VM_ENOSPC (a full tmpfs).
 */
vm_status_t vm_uffd_fill(struct vm_space *s, vaddr_t va, const void *src);

/*
 * UFFDIO_CONTINUE at page va of a registered shmem area: map the page
 * the object has (reading it back from swap if need be), writable if the
 * area is. => VM_EINVAL: not a shmem area; VM_EEXIST: a translation is
 * there; VM_EFAULT: the object has no page there (or va is past its
 * end); VM_ENOENT: no registered area; VM_ENOMEM, VM_EIO.
 */
vm_status_t vm_uffd_continue(struct vm_space *s, vaddr_t va);

/*
 * UFFDIO_POISON at page va of a registered area: from now on every access
 * there is SIGBUS (FAULT_REASON_POISON), until MADV_DONTNEED/FREE or
 * munmap clear it; fork copies it, mremap moves it, mprotect keeps it
 * (Linux's poison marker). Where Linux keeps a marker in the page-table
 * entry, Mercator keeps the run set vm_space.poison, as its guards
 * (vm_guard.h): a pmap is a cache that may drop any entry.
 * => VM_EEXIST: a translation there, or (private memory) a page of the
 *    area's own; VM_ENOENT: no registered area; VM_ENOMEM.
 */
vm_status_t vm_uffd_poison(struct vm_space *s, vaddr_t va);

/*
 * UFFDIO_WRITEPROTECT of [start, end), inside one area registered with u
 * in WP mode (private anonymous memory). wp: each page the area has
 * there (resident or on swap; Linux 6.1 marks only populated entries)
 * is marked, and the range's translations dropped, so that its next
 * write is the context's (a WP fault) and no path maps it writable
 * meanwhile; !wp: the marks go, the pages stay read-only until written.
 * Where Linux keeps a bit in the page-table entry, Mercator keeps the run
 * set vm_space.uffd_wp (the pmap is a cache that may drop any entry).
 * => VM_ENOENT: no such area; VM_ENOMEM (wp: some pages may be marked).
 */
vm_status_t vm_uffd_writeprotect(struct vm_space *s, vaddr_t start,
                                 vaddr_t end, const struct vm_uffd *u,
                                 bool wp);

/* Is page va write-protected for the context of the WP area a? */
bool vm_uffd_wp_marked(const struct vm_space *s, const struct vm_area *a,
                       vaddr_t va);

/*
 * UFFDIO_MOVE's checks of [dst, dst + len) and [src, src + len) (Linux
 * 6.8's validate_move_areas), before any page moves: each range inside
 * one area; dst's registered with u; both private anonymous memory with
 * the same protection and lock state; src writable.
 * => VM_ENOENT: no area at dst or src; VM_EINVAL otherwise.
 */
vm_status_t vm_uffd_move_check(struct vm_space *s, vaddr_t dst, vaddr_t src,
                               uint64_t len, const struct vm_uffd *u);

/*
 * UFFDIO_MOVE of one page of checked ranges: the private page at src
 * (read back from swap first if need be) becomes the page at dst, no data
 * copied; src is left empty (missing). A zero-page translation at src
 * moves as one.
 * => VM_EEXIST: dst has a translation, a page, poison or a guard;
 *    VM_ENOENT: nothing at src (VM_OK and *hole if holes_ok);
 *    VM_EBUSY: the page is shared (by fork, or the swap cache);
 *    VM_ENOMEM, VM_EIO. On failure nothing moved.
 */
vm_status_t vm_uffd_move(struct vm_space *s, vaddr_t dst, vaddr_t src,
                         bool holes_ok);

#endif
