/*
 * host_pmap.h - the page-content operations of vm/pmap.h and the
 * kernel-memory window over simulated RAM, for every format's host
 * machine/pmap.h (which adds its protection rule, pmap_prot_implied):
 * physical address pa is the byte host_ram + pa, so every frame has a
 * host address, as on a linear map.
 *
 * Quick mappings are counted, so that a host test notices a core path that
 * forgets to release one or nests more than vm/pmap.h allows.
 */
#ifndef ARCH_HOST_HOST_PMAP_H
#define ARCH_HOST_HOST_PMAP_H

#include <mercator/panic.h>
#include <mercator/string.h>
#include <mercator/types.h>
#include <machine/vmparam.h>

extern unsigned host_quick_maps;        /* quick mappings held now */

static inline void *pmap_kmem_va(paddr_t pa)
{
        return phys_to_virt(pa);
}

static inline paddr_t pmap_kmem_pa(const void *va)
{
        return virt_to_phys(va);
}

static inline void host_ram_range_check(paddr_t pa)
{
        if (pa >= host_ram_size || host_ram_size - pa < PAGE_SIZE)
                panic("host: frame %#lx outside simulated RAM", (uint64_t)pa);
}

static inline void pmap_zero_page(paddr_t pa)
{
        host_ram_range_check(pa);
        memset(phys_to_virt(pa), 0, PAGE_SIZE);
}

static inline void pmap_copy_page(paddr_t src, paddr_t dst)
{
        host_ram_range_check(src);
        host_ram_range_check(dst);
        memcpy(phys_to_virt(dst), phys_to_virt(src), PAGE_SIZE);
}

static inline void *pmap_quick_enter_page(paddr_t pa)
{
        host_ram_range_check(pa);
        if (++host_quick_maps > 2)
                panic("host: more than two quick mappings at once");
        return phys_to_virt(pa);
}

static inline void pmap_quick_remove_page(void *va)
{
        (void)va;
        if (host_quick_maps-- == 0)
                panic("host: quick mapping released twice");
}

#endif
