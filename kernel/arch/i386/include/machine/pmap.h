/*
 * pmap.h (i386) - the page-content operations of vm/pmap.h and the
 * kernel-memory window, over low memory and kmap_atomic.
 *
 * Only low memory (below lowmem_end, at most 880 MiB) has a permanent
 * kernel address. A frame there is zeroed, copied and "quick-mapped"
 * through it, as on x86-64; a HIGHMEM frame through this CPU's kmap_atomic
 * slots in the fixmap (two at most, innermost released first, as vm/pmap.h
 * requires of quick mappings).
 */
#ifndef MACHINE_PMAP_H
#define MACHINE_PMAP_H

#include <mercator/types.h>
#include <machine/highmem.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>            /* vm_prot_t; includes this file back */

extern bool pmap_nx;            /* EFER.NXE on, with PAE (pmap.c) */

/* A present page is readable; without NX (2-level entries have none, and
 * qemu32 has no NX) it is executable too. */
static inline vm_prot_t pmap_prot_implied(vm_prot_t prot)
{
        if (prot == VM_PROT_NONE)
                return VM_PROT_NONE;
        return prot | VM_PROT_READ | (pmap_nx ? 0 : VM_PROT_EXEC);
}

/* Kernel memory: plain pmm allocations stay in low memory (PMM_ZONE_DEFAULT
 * is NORMAL), and bootmem's frames lie below BOOT_REACH. */
static inline void *pmap_kmem_va(paddr_t pa)
{
        return phys_to_virt(pa);
}

static inline paddr_t pmap_kmem_pa(const void *va)
{
        return virt_to_phys(va);
}

void pmap_zero_page(paddr_t pa);
void pmap_copy_page(paddr_t src, paddr_t dst);

static inline void *pmap_quick_enter_page(paddr_t pa)
{
        return kmap_atomic(pa);
}

static inline void pmap_quick_remove_page(void *va)
{
        kunmap_atomic(va);
}

#endif
