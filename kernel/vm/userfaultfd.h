/*
 * userfaultfd.h - what the VM core knows of userfaultfd (Linux's
 * userfaultfd(2), MISSING mode): areas registered with a context, whose
 * missing pages the fault path hands to that context, and the step that
 * fills such a page (UFFDIO_COPY, UFFDIO_ZEROPAGE).
 *
 * The context itself (its descriptor, its queue of faults, the sleeping)
 * lives above the core, in kernel/proc/sys_userfaultfd.c; the core sees
 * only struct vm_uffd, the first member of that context, and calls its
 * missing() when a fault finds nothing at an address of a registered
 * area. Only private anonymous areas can be registered (Linux also takes
 * shmem and hugetlbfs; here they are EINVAL).
 *
 * A page is missing where the area has no page of its own (none in its
 * object, none on swap) and no translation: Linux's "pte_none". A fork's
 * child does not inherit registrations, nor does the new place of an
 * area moved by mremap (Linux without UFFD_FEATURE_EVENT_FORK/REMAP);
 * splitting an area keeps it on both halves; areas of different contexts
 * never merge.
 *
 * Locks: as vm_space.h (the space's map lock; today the big lock).
 */
#ifndef VM_USERFAULTFD_H
#define VM_USERFAULTFD_H

#include <vm/vm_space.h>

struct vm_uffd {
        /*
         * A fault at va (unaligned, as the CPU reported it) found a
         * missing page in an area registered with u. user: the access
         * came from user mode (not a copy_*_user in a system call).
         * => called with no VM state held across it; may sleep.
         * => FAULT_RESOLVED: try the access again (the page may still be
         *    missing: it faults again); FAULT_BUS: SIGBUS; FAULT_SEGV:
         *    the kernel's access fails (EFAULT).
         */
        enum fault_result (*missing)(struct vm_uffd *u, struct vm_space *s,
                                     vaddr_t va, vm_prot_t access, bool user);
};

/*
 * Register the areas inside [start, end) with u (splitting the ones that
 * straddle an end). The range may have holes, but must meet an area.
 * => start < end, page-aligned.
 * => VM_EINVAL: no area in the range, or one that is not private
 *    anonymous memory; VM_EBUSY: one is registered with another context;
 *    VM_ENOMEM: no descriptor for a split (or the area limit). Either
 *    way nothing changed.
 */
vm_status_t vm_uffd_register(struct vm_space *s, vaddr_t start, vaddr_t end,
                             struct vm_uffd *u);

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
 * UFFDIO_COPY and UFFDIO_ZEROPAGE require. => VM_OK or VM_ENOENT.
 */
vm_status_t vm_uffd_check_range(struct vm_space *s, vaddr_t start,
                                vaddr_t end, const struct vm_uffd *u);

/*
 * Give the registered area at page va a page of its own holding src's
 * PAGE_SIZE bytes (NULL: zeroes) and map it, writable if the area is
 * (vm_fault.c). => VM_EEXIST if the page is not missing; VM_ENOENT if
 * no area; VM_ENOMEM.
 */
vm_status_t vm_uffd_fill(struct vm_space *s, vaddr_t va, const void *src);

#endif
