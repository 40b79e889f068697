/*
 * mmu.c - the privileged MMU instructions behind mmu.h, for the real CPU.
 */
#include "cpu.h"
#include "mmu.h"

#define CR3_ADDR_MASK   0x000ffffffffff000ULL

void mmu_invlpg(vaddr_t va)
{
        __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* Reloading CR3 drops non-global entries; toggling CR4.PGE drops all. */
void mmu_flush_tlb(bool global)
{
        uint64_t cr4 = read_cr4();

        if (global && (cr4 & CR4_PGE)) {
                write_cr4(cr4 & ~CR4_PGE);
                write_cr4(cr4);
        } else {
                write_cr3(read_cr3());
        }
}

void mmu_load_root(paddr_t pml4)
{
        write_cr3(pml4);
}

paddr_t mmu_current_root(void)
{
        return read_cr3() & CR3_ADDR_MASK;
}

bool mmu_has_1g_pages(void)
{
        uint32_t a, b, c, d;

        cpuid(0x80000000, 0, &a, &b, &c, &d);
        if (a < 0x80000001)
                return false;
        cpuid(0x80000001, 0, &a, &b, &c, &d);
        return d & (1u << 26);
}
