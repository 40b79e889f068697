/*
 * pgdir.c (i386) - a software walk of a page directory through
 * kmap_atomic (pgdir.h).
 */
#include <machine/highmem.h>
#include "pgdir.h"

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
