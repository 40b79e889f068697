/*
 * pmap.h (host, PMAP=i386 and i386-pae) - the page-content operations over
 * simulated RAM (kernel/arch/host/host_pmap.h) and i386's protection rule.
 */
#ifndef MACHINE_PMAP_H
#define MACHINE_PMAP_H

#include <mercator/types.h>
#include <vm/pmap.h>            /* vm_prot_t; includes this file back */

extern bool pmap_nx;            /* kernel/arch/i386/pmap.c */

/* A present page is readable; without NX (2-level entries have none) it
 * is executable too. */
static inline vm_prot_t pmap_prot_implied(vm_prot_t prot)
{
        if (prot == VM_PROT_NONE)
                return VM_PROT_NONE;
        return prot | VM_PROT_READ | (pmap_nx ? 0 : VM_PROT_EXEC);
}

#include <arch/host/host_pmap.h>

#endif
