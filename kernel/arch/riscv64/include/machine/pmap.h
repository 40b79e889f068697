/*
 * pmap.h (riscv64) - the page-content operations of vm/pmap.h and the
 * kernel-memory window, over the linear map.
 *
 * riscv64 maps all RAM at LINEAR_BASE + pa, so every frame already has a kernel
 * address: zeroing and copying are a memset/memcpy there, and a "quick"
 * mapping costs nothing and needs no undoing. They are inline because the
 * fault, COW and fork paths call them once per page. A port without a map
 * of all RAM (i386 with high memory) implements the same functions with
 * per-CPU mapping slots instead; vm/pmap.h states the contract.
 */
#ifndef MACHINE_PMAP_H
#define MACHINE_PMAP_H

#include <mercator/string.h>
#include <mercator/types.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>            /* vm_prot_t; includes this file back */

/* Sv39 reserves W without R, so write implies read; exec-only pages exist
 * (a fetch is allowed, a load is not: MXR stays clear). */
static inline vm_prot_t pmap_prot_implied(vm_prot_t prot)
{
        return (prot & VM_PROT_WRITE) ? prot | VM_PROT_READ : prot;
}

static inline void *pmap_kmem_va(paddr_t pa)
{
        return phys_to_virt(pa);
}

static inline paddr_t pmap_kmem_pa(const void *va)
{
        return virt_to_phys(va);
}

static inline void pmap_zero_page(paddr_t pa)
{
        memset(phys_to_virt(pa), 0, PAGE_SIZE);
}

static inline void pmap_copy_page(paddr_t src, paddr_t dst)
{
        memcpy(phys_to_virt(dst), phys_to_virt(src), PAGE_SIZE);
}

static inline void *pmap_quick_enter_page(paddr_t pa)
{
        return phys_to_virt(pa);
}

static inline void pmap_quick_remove_page(void *va)
{
        (void)va;
}

#endif
