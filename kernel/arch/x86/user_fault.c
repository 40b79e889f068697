/*
 * user_fault.c (x86, shared by x86-64 and i386) - a user-mode page fault
 * as x86 Linux handles it.
 *
 * x86 Linux does not check exec permission before it handles a fault on a
 * page that is not present: a fetch from an accessible page without exec
 * faults the page in as a read, and only the retried fetch fails (now on a
 * present page, with the protection bit). So a fetch past the end of a
 * mapped file is SIGBUS, as the read would be, and any other denied fetch
 * SIGSEGV. vm_fault() checks an access as it is asked; this ordering is
 * x86's, so it lives here, below the interface.
 */
#include <vm/vm_space.h>

enum fault_result machine_user_fault(struct vm_space *space, vaddr_t va,
                                     vm_prot_t access)
{
        enum fault_result r = vm_fault_user(space, va, access);
        struct vm_fault_info denied;

        if (access != VM_PROT_EXEC || r != FAULT_SEGV ||
            space->last_fault.reason != FAULT_REASON_PROT)
                return r;
        denied = space->last_fault;
        r = vm_fault_user(space, va, VM_PROT_READ);
        if (r == FAULT_RESOLVED || r == FAULT_SEGV) {
                space->last_fault = denied;     /* the fetch is what failed */
                return FAULT_SEGV;
        }
        return r;                               /* FAULT_BUS or FAULT_OOM */
}
