/*
 * mmu.h (riscv64) - the privileged MMU operations the Sv39 table code
 * needs: the kernel implements them with sfence.vma and satp (mmu.c); a
 * host build would with a software MMU.
 */
#ifndef ARCH_RISCV64_MMU_H
#define ARCH_RISCV64_MMU_H

#include <mercator/types.h>

void mmu_invlpg(vaddr_t va);            /* sfence.vma va */
void mmu_flush_tlb(bool global);        /* sfence.vma (all) */
void mmu_load_root(paddr_t root);       /* satp = Sv39 | root */
paddr_t mmu_current_root(void);         /* satp's table address */

#endif
