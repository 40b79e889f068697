/*
 * softmmu.h - the host build's MMU: x86-64 4-level translation done in
 * software over simulated RAM, with a small TLB, so that the real table
 * code (kernel/arch/x86_64/pmap.c) can be checked against "hardware".
 *
 * Owns: the simulated CR3, the TLB, and the CPU features the table code
 * asks about. It implements kernel/arch/x86_64/mmu.h for the host build.
 * It models a CPU with CR0.WP = 1 (the kernel's writes honour RW),
 * EFER.NXE = 1 (bit 63 is NX), CR4.PGE = 1 (global pages), no PCIDs, and
 * optionally CR4.SMEP / CR4.SMAP. Paging-structure caches are not modelled
 * (the TLB caches whole translations only).
 *
 * Two ways in:
 *   softmmu_translate()  a fresh walk of the tables from a given root, as
 *                        the CPU does on a TLB miss;
 *   softmmu_access()     an access through the TLB under the current root,
 *                        which may use an entry the tables no longer
 *                        justify if the table code forgot an invalidation:
 *                        softmmu_tlb_check() finds exactly that.
 */
#ifndef ARCH_HOST_SOFTMMU_H
#define ARCH_HOST_SOFTMMU_H

#include <mercator/types.h>
#include <arch/x86_64/trap.h>   /* PF_* error code bits */

/* What the access is, as the CPU distinguishes it. */
enum softmmu_access { SOFTMMU_READ, SOFTMMU_WRITE, SOFTMMU_EXEC };

/* How a translation ended. */
enum softmmu_result {
        SOFTMMU_OK,
        SOFTMMU_NOT_PRESENT,    /* #PF, error code P = 0 */
        SOFTMMU_PROTECTION,     /* #PF, error code P = 1: rights forbid it */
        SOFTMMU_RESERVED,       /* #PF, error code P = 1, RSVD = 1 */
        SOFTMMU_NONCANONICAL,   /* #GP, not a page fault: bad address */
};

#define SOFTMMU_TLB_SIZE 64

/* The simulated CPU's features; softmmu_reset() restores these defaults. */
extern bool softmmu_1g_pages;   /* CPUID Page1GB (true) */
extern bool softmmu_smep;       /* CR4.SMEP (false) */
extern bool softmmu_smap;       /* CR4.SMAP (false) */

/* Counters for tests (reset by softmmu_reset()). */
struct softmmu_stats {
        uint64_t walks;                 /* table walks (translate, misses) */
        uint64_t tlb_hits;              /* softmmu_access() served by TLB */
        uint64_t invlpg;                /* mmu_invlpg() calls */
        uint64_t flush;                 /* mmu_flush_tlb(false) calls */
        uint64_t flush_global;          /* mmu_flush_tlb(true) calls */
        uint64_t root_loads;            /* mmu_load_root() calls */
};
extern struct softmmu_stats softmmu_stats;

/* Power-on state: empty TLB, CR3 = 0, default features, zero counters. */
void softmmu_reset(void);

/*
 * Translate va the way the CPU's page walker does, from the PML4 at root:
 * every level must be present; the access is allowed only if every level
 * allows it (US for user mode; RW for writes, by the kernel too; no NX
 * anywhere for fetches; SMEP/SMAP if on); 1 GiB pages only if
 * softmmu_1g_pages. On success it sets A in every entry walked and D in
 * the leaf for a write. (A CPU may also set A in the upper entries of a
 * walk that then faults; this model does not, and no test relies on
 * either.)
 * => access is an enum softmmu_access; user: the access comes from CPL 3.
 * => *pa_out (may be NULL): the physical address, on SOFTMMU_OK.
 * => *pf_err (may be NULL): the page-fault error code (PF_*) the CPU would
 *    push; 0 on success and for SOFTMMU_NONCANONICAL (a #GP).
 * => panics if a table pointer leads outside simulated RAM (a table bug).
 */
enum softmmu_result softmmu_translate(paddr_t root, vaddr_t va,
                                      unsigned access, bool user,
                                      paddr_t *pa_out, unsigned *pf_err);

/*
 * Perform an access under the current root (mmu_load_root()) through the
 * TLB: a hit uses the cached translation and rights without looking at the
 * tables (a write to an entry cached clean re-walks to set D, as the CPU
 * does); a miss walks and caches the result. A fault drops va's entry.
 * => results as softmmu_translate().
 */
enum softmmu_result softmmu_access(vaddr_t va, unsigned access, bool user,
                                   paddr_t *pa_out, unsigned *pf_err);

/*
 * True if every TLB entry agrees with a fresh walk of the current root:
 * still mapped, same frame and page size, same rights and G bit, and not
 * cached dirty while the leaf's D is clear.
 * => else prints the first stale entry to stderr and returns false.
 */
bool softmmu_tlb_check(void);

/* Valid TLB entries, and whether one of them covers va. */
unsigned softmmu_tlb_entries(void);
bool softmmu_tlb_holds(vaddr_t va);

/* The page size (as a shift: 12, 21, 30) of va's mapping under root, or 0
 * if va is unmapped; no A/D side effects. */
unsigned softmmu_page_shift(paddr_t root, vaddr_t va);

/* The entry at `level` (4 = PML4 .. 1 = PT) on va's path under root, or
 * NULL if the walk ends above that level (absent entry or large page). */
uint64_t *softmmu_entry(paddr_t root, vaddr_t va, unsigned level);

#endif
