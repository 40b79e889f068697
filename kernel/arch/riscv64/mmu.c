/*
 * mmu.c (riscv64) - mmu.h with the real instructions. Every table uses
 * ASID 0 for now, so a flush is a flush of everything.
 *
 * A round of remote invalidations (pmap.c's tlb_round) goes one of two
 * ways, chosen at boot: an IPI to each hart of the mask whose handler
 * runs sfence.vma (smp_call, the default), or SBI's RFENCE
 * remote_sfence_vma (boot option `rfence`), which has the firmware
 * interrupt the harts in M-mode and fence there, whatever their S-mode
 * interrupt state. docs/design.md says which costs what.
 */
#include <mercator/machine.h>
#include <vm/pmap.h>
#include "mmu.h"
#include "percpu.h"
#include "riscv.h"
#include "sbi.h"

uint64_t tlb_shootdowns;
bool tlb_rfence;                        /* [c] rounds through SBI RFENCE */

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

unsigned mmu_cpu_id(void)
{
        return machine_cpu_id();
}

struct pmap **mmu_cpu_pmap(void)
{
        return &this_cpu()->loaded_pmap;
}

/* What each other hart drops (mmu_tlb_remote). */
struct tlb_remote {
        const vaddr_t *va;
        unsigned n;
        bool all;
};

static void tlb_remote_run(void *arg)
{
        const struct tlb_remote *r = arg;

        if (r->all)
                sfence_vma_all();
        else
                for (unsigned i = 0; i < r->n; i++)
                        sfence_vma_addr(r->va[i]);
}

/* One call per hart of the mask (other, online), all posted before any
 * is waited for. */
void mmu_remote_call(uint64_t mask, void (*fn)(void *), void *arg)
{
        unsigned me = machine_cpu_id(), posted[MAX_CPUS], np = 0;

        for (unsigned i = 0; i < ncpus; i++)
                if (i != me && (mask >> i & 1) &&
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE)) {
                        smp_call_start(i, fn, arg);
                        posted[np++] = i;
                }
        for (unsigned i = 0; i < np; i++)
                smp_call_wait(posted[i]);
}

/* The same round through the firmware: one remote_sfence_vma of the page,
 * or of everything for a batch of more (one call per page would be one
 * round of M-mode IPIs each). The call returns when every hart of the
 * mask has fenced. */
static void tlb_remote_sbi(uint64_t mask, const vaddr_t *va, unsigned n,
                           bool all)
{
        unsigned long harts = 0, me = machine_cpu_id();

        for (unsigned i = 0; i < ncpus; i++)
                if (i != me && (mask >> i & 1) &&
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
                        harts |= 1UL << cpus[i].hartid;
        if (!harts)
                return;
        if (all || n > 1)
                sbi_remote_sfence_vma(harts, 0, 0, ~0UL);
        else
                sbi_remote_sfence_vma(harts, 0, va[0], PAGE_SIZE);
}

void mmu_tlb_remote(uint64_t mask, const vaddr_t *va, unsigned n, bool all)
{
        if (ncpus < 2 || (!all && n == 0))
                return;
        if (tlb_rfence) {
                tlb_remote_sbi(mask, va, n, all);
        } else {
                struct tlb_remote r = { va, n, all };
                mmu_remote_call(mask, tlb_remote_run, &r);
        }
        /* atomic: lock-free faults send rounds too */
        __atomic_add_fetch(&tlb_shootdowns, 1, __ATOMIC_RELAXED);
}
