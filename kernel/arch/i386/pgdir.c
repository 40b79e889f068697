/*
 * pgdir.c (i386) - page directories: pgd_alloc copies the kernel's
 * entries, as Linux 2.x's pgd_alloc copied swapper_pg_dir's.
 */
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/highmem.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include "boot.h"
#include "pgdir.h"

#define PD_ORDER        (NR_SELF == 4 ? 2 : 0)  /* PAE: four pages */

pte_t *pgd_alloc(paddr_t *cr3)
{
        struct vm_page *pg = pmm_alloc_pages(PD_ORDER, 0);     /* low memory */

        if (!pg)
                return NULL;
        paddr_t pa = pmm_page_to_pa(pg);
        pte_t *pd = phys_to_virt(pa);
        memset(pd, 0, KERNEL_PDE_MIN * sizeof(pte_t));
        memcpy(pd + KERNEL_PDE_MIN, kernel_pd + KERNEL_PDE_MIN,
               (PD_SELF - KERNEL_PDE_MIN) * sizeof(pte_t));
        for (unsigned j = 0; j < NR_SELF; j++)
                pd[PD_SELF + j] = (pte_t)(pa + j * PAGE_SIZE) | PTE_P | PTE_W;
        *cr3 = pa;
#ifdef I386_PAE
        struct vm_page *pp = pmm_alloc_pages(0, PMM_ZERO);
        if (!pp) {
                pmm_free_pages(pg, PD_ORDER);
                return NULL;
        }
        uint64_t *pdpt = phys_to_virt(pmm_page_to_pa(pp));
        for (unsigned j = 0; j < 4; j++)
                pdpt[j] = (pa + j * PAGE_SIZE) | PTE_P;
        *cr3 = pmm_page_to_pa(pp);
        vmstat.pt_pages++;
#endif
        vmstat.pt_pages += 1u << PD_ORDER;
        return pd;
}

void pgd_free(pte_t *pd, paddr_t cr3)
{
        for (unsigned i = 0; i < KERNEL_PDE_MIN; i++) {
                if (!(pd[i] & PTE_P))
                        continue;
                if (pd[i] & PTE_PS)
                        panic("pgd_free: a large user page at entry %u", i);
                pmm_free_pages(pmm_pa_to_page(pd[i] & PTE_ADDR), 0);
                vmstat.pt_pages--;
        }
#ifdef I386_PAE
        pmm_free_pages(pmm_pa_to_page(cr3), 0);
        vmstat.pt_pages--;
#else
        (void)cr3;
#endif
        pmm_free_pages(pmm_pa_to_page(virt_to_phys(pd)), PD_ORDER);
        vmstat.pt_pages -= 1u << PD_ORDER;
}

pte_t pgd_walk(const pte_t *pd, vaddr_t va)
{
        pte_t pde = pd[PD_INDEX(va)];

        if (!(pde & PTE_P))
                return 0;
        if (pde & PTE_PS)
                return pde;
        const pte_t *pt = kmap_atomic(pde & PTE_ADDR);
        pte_t pte = pt[PT_INDEX(va)];
        kunmap_atomic((void *)pt);
        return (pte & PTE_P) ? pte : 0;
}
