/*
 * pmap.c (i386) - the kernel half of vm/pmap.h for 2-level tables: what
 * vmalloc, kernel stacks and ioremap need.
 *
 * Every kernel page table above low memory was made at boot (boot.c) and
 * lives in low memory, so a kernel mapping is one entry write and kernel
 * tables are never freed. User address spaces (pgd_alloc, pgdir.c) are not
 * behind this interface yet: they come with the shared table engine of
 * issue 10, which this file then joins as the i386 format.
 *
 * TLB: kernel entries are global, so a full flush toggles CR4.PGE;
 * pmap_update() issues the batched invlpgs, or that flush past
 * PMAP_BATCH pages.
 */
#include <mercator/panic.h>
#include <machine/pmparam.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include "boot.h"
#include "cpu.h"

#define PMAP_BATCH      32

struct pmap {
        pte_t   *pd;
        unsigned npending;
        bool     flush_all;
        vaddr_t  pending[PMAP_BATCH];
};

static struct pmap kernel_pmap = { .pd = kernel_pd };

struct pmap *pmap_kernel(void)
{
        return &kernel_pmap;
}

/* The kernel table entry for va, or NULL where there is none (user half,
 * low memory's 4 MiB pages, the recursive slot). */
static pte_t *kernel_pte(struct pmap *pm, vaddr_t va)
{
        if (pm != &kernel_pmap || va < PAGE_OFFSET || va >= RECURSIVE_BASE)
                return NULL;
        pte_t pde = pm->pd[PD_INDEX(va)];
        if (!(pde & PTE_P) || (pde & PTE_PS))
                return NULL;
        return (pte_t *)phys_to_virt(pde & PTE_ADDR) + PT_INDEX(va);
}

static void pmap_invalidate(struct pmap *pm, vaddr_t va)
{
        if (pm->npending < PMAP_BATCH)
                pm->pending[pm->npending++] = va;
        else
                pm->flush_all = true;
}

vm_status_t pmap_enter(struct pmap *pm, vaddr_t va, paddr_t pa,
                       vm_prot_t prot, unsigned flags)
{
        pte_t *pte = kernel_pte(pm, va);

        if (!pte || (flags & PMAP_USER) || pa >= PADDR_LIMIT || (pa & PAGE_MASK))
                return VM_EINVAL;
        if (*pte & PTE_P)
                pmap_invalidate(pm, va);
        /* No PAT here: write-combining is mapped uncached, which is safe. */
        *pte = (pte_t)pa | PTE_P | ((prot & VM_PROT_WRITE) ? PTE_W : 0) |
               ((flags & PMAP_GLOBAL) ? PTE_G : 0) |
               ((flags & (PMAP_NOCACHE | PMAP_WC)) ? PTE_PCD | PTE_PWT : 0);
        return VM_OK;
}

vm_status_t pmap_enter_range(struct pmap *pm, vaddr_t va, paddr_t pa,
                             uint64_t len, vm_prot_t prot, unsigned flags)
{
        for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
                vm_status_t st = pmap_enter(pm, va + (vaddr_t)off, pa + off,
                                            prot, flags);
                if (st != VM_OK)
                        return st;
        }
        return VM_OK;
}

/* Kernel tables stay (they are shared by every directory); low memory's
 * 4 MiB pages cannot be removed: VM_EINVAL, nothing changed. */
vm_status_t pmap_remove(struct pmap *pm, vaddr_t start, vaddr_t end)
{
        for (vaddr_t va = start; va < end; va += PAGE_SIZE)
                if (pm != &kernel_pmap || (pm->pd[PD_INDEX(va)] & PTE_PS))
                        return VM_EINVAL;
        for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
                pte_t *pte = kernel_pte(pm, va);
                if (pte && (*pte & PTE_P)) {
                        *pte = 0;
                        pmap_invalidate(pm, va);
                }
        }
        return VM_OK;
}

bool pmap_extract(struct pmap *pm, vaddr_t va, paddr_t *pa, vm_prot_t *prot,
                  unsigned *flags)
{
        pte_t pde = pm->pd[PD_INDEX(va)], e;
        paddr_t base;

        if (!(pde & PTE_P) || PD_INDEX(va) == PD_SELF)
                return false;
        if (pde & PTE_PS) {
                e = pde;
                base = (pde & PDE_ADDR_LARGE) | (va & (LARGE_PAGE_SIZE - 1) & ~PAGE_MASK);
        } else {
                const pte_t *pt = (pm == &kernel_pmap && va >= PAGE_OFFSET)
                        ? phys_to_virt(pde & PTE_ADDR) : NULL;
                if (!pt)
                        return false;   /* user tables: not through here yet */
                e = pt[PT_INDEX(va)];
                if (!(e & PTE_P))
                        return false;
                base = e & PTE_ADDR;
        }
        if (pa)
                *pa = base;
        if (prot)
                *prot = VM_PROT_READ | VM_PROT_EXEC |
                        ((e & PTE_W) ? VM_PROT_WRITE : 0);
        if (flags)
                *flags = ((e & PTE_U) ? PMAP_USER : 0) |
                         ((e & PTE_G) ? PMAP_GLOBAL : 0) |
                         ((e & PTE_PCD) ? PMAP_NOCACHE : 0);
        return true;
}

void pmap_update(struct pmap *pm)
{
        if (pm->flush_all) {
                uint32_t cr4 = read_cr4();
                if (cr4 & CR4_PGE) {
                        write_cr4(cr4 & ~CR4_PGE);      /* drops global entries */
                        write_cr4(cr4);
                } else {
                        write_cr3(read_cr3());
                }
        } else {
                for (unsigned i = 0; i < pm->npending; i++)
                        invlpg(pm->pending[i]);
        }
        pm->npending = 0;
        pm->flush_all = false;
}
