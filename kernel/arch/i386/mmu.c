/*
 * mmu.c (i386) - the privileged MMU instructions behind mmu.h, for the
 * real CPU.
 */
#include "cpu.h"
#include "mmu.h"
#include "pte.h"

void mmu_invlpg(vaddr_t va)
{
        __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* Reloading CR3 drops non-global entries; toggling CR4.PGE drops all. */
void mmu_flush_tlb(bool global)
{
        uint32_t cr4 = read_cr4();

        if (global && (cr4 & CR4_PGE)) {
                write_cr4(cr4 & ~CR4_PGE);
                write_cr4(cr4);
        } else {
                write_cr3(read_cr3());
        }
}

void mmu_load_root(paddr_t cr3)
{
        write_cr3((uint32_t)cr3);
}

paddr_t mmu_current_root(void)
{
#ifdef I386_PAE
        /* The PDPT is 32-byte aligned in low memory; entry 0 points at
         * the first of the four contiguous directories. */
        return ((const pte_t *)phys_to_virt(read_cr3() & ~0x1fu))[0] & PTE_ADDR;
#else
        return read_cr3() & PTE_ADDR;
#endif
}
