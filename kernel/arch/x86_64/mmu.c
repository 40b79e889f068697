/*
 * mmu.c - the privileged MMU instructions behind mmu.h, for the real CPU.
 */
#include <machine/intr.h>
#include "cpu.h"
#include "mmu.h"
#include "percpu.h"
#include "pmap_md.h"

#define CR3_ADDR_MASK   0x000ffffffffff000ULL
#define CR3_NOFLUSH     (1ULL << 63)    /* with CR4.PCIDE: keep the PCID's */
#define CPUID1_ECX_PCID (1u << 17)

static bool pcid_on;                    /* [c] after mmu_pcid_init() */

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

/* Also noted in struct cpu, for the scheduler (smp.c). */
void mmu_load_root(paddr_t pml4, unsigned pcid, bool keep)
{
        write_cr3(pml4 | pcid | (keep ? CR3_NOFLUSH : 0));
        this_cpu()->loaded_root = pml4;
}

struct pmap_pcid_cpu *mmu_cpu_pcid(void)
{
        return pcid_on ? &this_cpu()->pcid : NULL;
}

/* Turn on PCIDs on the boot CPU if the CPU has them and `wanted` (the
 * other CPUs copy its CR4). CR4.PCIDE may be set only while CR3's PCID is
 * 0, as it is for the kernel's tables. */
void mmu_pcid_init(bool wanted)
{
        uint32_t a, b, c, d;

        cpuid(1, 0, &a, &b, &c, &d);
        if (!wanted || !(c & CPUID1_ECX_PCID) || (read_cr3() & 0xfff))
                return;
        write_cr4(read_cr4() | CR4_PCIDE);
        this_cpu()->pcid.cur = PMAP_PCID_SLOTS;
        pcid_on = true;
}

bool mmu_pcid_enabled(void)
{
        return pcid_on;
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

/* What each other CPU drops (mmu_tlb_remote), and for which pmap. */
struct tlb_remote {
        const vaddr_t *va;
        unsigned n;
        bool all, global;
        uint64_t ctx_id, gen;
};

static void tlb_remote_run(void *arg)
{
        const struct tlb_remote *r = arg;

        if (r->all)
                mmu_flush_tlb(r->global);
        else
                for (unsigned i = 0; i < r->n; i++)
                        invlpg(r->va[i]);
        pmap_pcid_round(r->ctx_id, r->gen);
}

unsigned mmu_cpu_id(void)
{
        return machine_cpu_id();
}

struct pmap **mmu_cpu_pmap(void)
{
        return &this_cpu()->loaded_pmap;
}

/* One call per CPU of the mask (other, online), all posted before any is
 * waited for. */
void mmu_remote_call(uint64_t mask, void (*fn)(void *), void *arg)
{
        unsigned me, posted[MAX_CPUS], np = 0;

        me = machine_cpu_id();
        for (unsigned i = 0; i < ncpus; i++)
                if (i != me && (mask >> i & 1) &&
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE)) {
                        smp_call_start(i, fn, arg);
                        posted[np++] = i;
                }
        for (unsigned i = 0; i < np; i++)
                smp_call_wait(posted[i]);
}

void mmu_tlb_remote(uint64_t mask, const vaddr_t *va, unsigned n, bool all,
                    bool global, uint64_t ctx_id, uint64_t gen)
{
        struct tlb_remote r = { va, n, all, global, ctx_id, gen };

        if (ncpus < 2 || (!all && n == 0))
                return;
        mmu_remote_call(mask, tlb_remote_run, &r);
        /* atomic: lock-free faults send rounds too */
        __atomic_add_fetch(&tlb_shootdowns, 1, __ATOMIC_RELAXED);
}
