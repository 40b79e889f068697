/*
 * user_fault.c (riscv64) - a user-mode page fault as riscv64 Linux handles
 * it: the access is checked as it is asked (an instruction page fault needs
 * exec permission, a load read, a store write; Linux's access_error()), so
 * unlike x86 there is no read-then-fetch retry: vm_fault() decides.
 */
#include <vm/vm_space.h>

enum fault_result machine_user_fault(struct vm_space *space, vaddr_t va,
                                     vm_prot_t access)
{
        return vm_fault_user(space, va, access);
}
