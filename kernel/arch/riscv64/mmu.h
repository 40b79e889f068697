/*
 * mmu.h (riscv64) - the privileged MMU operations the Sv39 table code
 * needs: the kernel implements them with sfence.vma and satp (mmu.c); the
 * host build with a software MMU (kernel/arch/host/riscv64/softmmu.c).
 */
#ifndef ARCH_RISCV64_MMU_H
#define ARCH_RISCV64_MMU_H

#include <mercator/types.h>

void mmu_invlpg(vaddr_t va);            /* sfence.vma va */
void mmu_flush_tlb(bool global);        /* sfence.vma (all) */
void mmu_load_root(paddr_t root);       /* satp = Sv39 | root */
paddr_t mmu_current_root(void);         /* satp's table address */

struct pmap;

/* The other harts (docs/design.md, the shootdown protocol): this hart's
 * index (< 64) and the slot naming the pmap whose bit it has set; one
 * round of invalidations (va[0..n-1], or everything) on the harts of a
 * mask, waited for; fn(arg) on each hart of a mask but this one, all
 * posted before any is waited for. */
unsigned mmu_cpu_id(void);
struct pmap **mmu_cpu_pmap(void);
void mmu_tlb_remote(uint64_t mask, const vaddr_t *va, unsigned n, bool all);
void mmu_remote_call(uint64_t mask, void (*fn)(void *), void *arg);

#endif
