/*
 * mmu.h (i386) - the privileged MMU operations the i386 table code needs
 * (the engine's, kernel/arch/pt/pt_engine.h). The kernel implements them
 * with the real instructions (mmu.c); the host tier with a software MMU
 * per format (kernel/arch/host/i386/, kernel/arch/host/i386-pae/).
 */
#ifndef ARCH_I386_MMU_H
#define ARCH_I386_MMU_H

#include <mercator/types.h>

void mmu_invlpg(vaddr_t va);            /* drop va's TLB entry (invlpg) */
void mmu_flush_tlb(bool global);        /* drop all (with global ones) */
void mmu_load_root(paddr_t cr3);        /* write CR3 (directory or PDPT) */
/* The directory array of the loaded space (struct pmap's root): CR3's
 * page with 2-level tables, what the PDPT's first entry points at with
 * PAE. */
paddr_t mmu_current_root(void);

#endif
