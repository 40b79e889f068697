/*
 * mmu.c (riscv64) - mmu.h with the real instructions. Every table uses
 * ASID 0 for now, so a flush is a flush of everything.
 */
#include "mmu.h"
#include "riscv.h"

void mmu_invlpg(vaddr_t va)
{
        sfence_vma_addr(va);
}

void mmu_flush_tlb(bool global)
{
        (void)global;
        sfence_vma_all();
}

void mmu_load_root(paddr_t root)
{
        csr_write(satp, satp_make(root, 0));
        sfence_vma_all();
}

paddr_t mmu_current_root(void)
{
        return satp_root(csr_read(satp));
}
