/*
 * pmap.h (host) - the page-content operations of vm/pmap.h and the
 * kernel-memory window over simulated RAM: physical address pa is the byte
 * host_ram + pa, so every frame has a host address, as on x86-64.
 *
 * The operations are every format's (kernel/arch/host/host_pmap.h); this
 * file adds the format's protection rule.
 */
#ifndef MACHINE_PMAP_H
#define MACHINE_PMAP_H

#include <mercator/types.h>
#include <vm/pmap.h>            /* vm_prot_t; includes this file back */

/* x86 cannot map a page present but unreadable: write and exec imply read. */
static inline vm_prot_t pmap_prot_implied(vm_prot_t prot)
{
        return prot ? prot | VM_PROT_READ : VM_PROT_NONE;
}

#include <arch/host/host_pmap.h>

#endif
