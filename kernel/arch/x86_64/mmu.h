/*
 * mmu.h - the few privileged MMU operations the x86-64 table code needs.
 *
 * kernel/arch/x86_64/pmap.c is pure table algebra and calls only these to
 * touch the hardware. The kernel implements them with the real instructions
 * (mmu.c); the host build with a software MMU (kernel/arch/host/softmmu.c),
 * which is how the table code runs under the sanitizers.
 */
#ifndef ARCH_X86_64_MMU_H
#define ARCH_X86_64_MMU_H

#include <mercator/types.h>

void mmu_invlpg(vaddr_t va);            /* drop va's TLB entry (invlpg) */
void mmu_flush_tlb(bool global);        /* drop all (with global ones) */
/* Write CR3: pml4 under PCID pcid (0 when PCIDs are off); keep: with
 * bit 63, keeping the TLB entries tagged pcid. */
void mmu_load_root(paddr_t pml4, unsigned pcid, bool keep);
paddr_t mmu_current_root(void);         /* read CR3's table address */
bool mmu_has_1g_pages(void);            /* CPUID.80000001h:EDX.Page1GB */
/* The CPUs in mask (other than this one, online ones only) drop va[0..n)
 * (or all, with global entries if global) from their TLBs; returns when
 * all have. Each then runs pmap_pcid_round(ctx_id, gen). */
void mmu_tlb_remote(uint64_t cpus, const vaddr_t *va, unsigned n, bool all,
                    bool global, uint64_t ctx_id, uint64_t gen);
/* Run fn(arg) on each CPU in mask (other than this one, online ones
 * only), in its interrupt handler; returns when all have. */
void mmu_remote_call(uint64_t cpus, void (*fn)(void *), void *arg);
struct pmap;
unsigned mmu_cpu_id(void);              /* this CPU's index, < 64 */
struct pmap **mmu_cpu_pmap(void);       /* this CPU's loaded pmap (slot) */
struct pmap_pcid_cpu;
/* This CPU's PCID slots; NULL when PCIDs are off (no CPUID.01H:ECX.PCID,
 * or the boot option nopcid). */
struct pmap_pcid_cpu *mmu_cpu_pcid(void);
void mmu_pcid_init(bool wanted);        /* boot CPU, before smp_init() */
bool mmu_pcid_enabled(void);

#endif
