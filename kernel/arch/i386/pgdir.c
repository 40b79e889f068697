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

pte_t *pgd_alloc(paddr_t *pa)
{
        struct vm_page *pg = pmm_alloc_pages(0, 0);     /* low memory */

        if (!pg)
                return NULL;
        *pa = pmm_page_to_pa(pg);
        pte_t *pd = phys_to_virt(*pa);
        memset(pd, 0, KERNEL_PDE_MIN * sizeof(pte_t));
        memcpy(pd + KERNEL_PDE_MIN, kernel_pd + KERNEL_PDE_MIN,
               (PD_SELF - KERNEL_PDE_MIN) * sizeof(pte_t));
        pd[PD_SELF] = (pte_t)*pa | PTE_P | PTE_W;
        vmstat.pt_pages++;
        return pd;
}

void pgd_free(pte_t *pd)
{
        for (unsigned i = 0; i < KERNEL_PDE_MIN; i++) {
                if (!(pd[i] & PTE_P))
                        continue;
                if (pd[i] & PTE_PS)
                        panic("pgd_free: a 4 MiB user page at entry %u", i);
                pmm_free_pages(pmm_pa_to_page(pd[i] & PTE_ADDR), 0);
                vmstat.pt_pages--;
        }
        pmm_free_pages(pmm_pa_to_page(virt_to_phys(pd)), 0);
        vmstat.pt_pages--;
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
