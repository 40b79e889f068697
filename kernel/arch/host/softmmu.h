/*
 * softmmu.h - the host build's simulated MMU, as the tests see it: one
 * interface, implemented once per page-table format (kernel/arch/host/
 * <format>/softmmu.c, chosen by `make PMAP=<format>`), so that the same
 * host tests run the core over every format and a new format needs no
 * change to any test.
 *
 * A software MMU walks the format's tables in simulated RAM the way the
 * hardware does, keeps a small TLB, sets accessed/dirty bits where the
 * hardware would, and implements the privileged operations its pmap calls
 * (load a root, invalidate a page, flush), so the real table code of
 * kernel/arch/<arch>/ runs under the sanitizers against a reference it
 * does not share code with.
 *
 * Two ways in:
 *   softmmu_translate()  a fresh walk of a pmap's tables, as the hardware
 *                        does on a TLB miss;
 *   softmmu_access()     an access through the TLB under the current
 *                        pmap (pmap_activate()), which may use an entry the
 *                        tables no longer justify if the table code forgot
 *                        an invalidation: softmmu_tlb_check() finds that.
 * A format's own tests (tests/host/<format>/) may also use what its
 * softmmu_<format>.h adds (entries, CPU features, fault codes); the
 * machine-independent tests use only this file.
 */
#ifndef ARCH_HOST_SOFTMMU_H
#define ARCH_HOST_SOFTMMU_H

#include <mercator/types.h>

struct pmap;

/* What the access is, as the MMU distinguishes it. */
enum softmmu_access { SOFTMMU_READ, SOFTMMU_WRITE, SOFTMMU_EXEC };

/* How a translation ended. */
enum softmmu_result {
        SOFTMMU_OK,
        SOFTMMU_NOT_PRESENT,    /* page fault: nothing mapped there */
        SOFTMMU_PROTECTION,     /* page fault: the rights forbid it */
        SOFTMMU_RESERVED,       /* page fault: a malformed entry */
        SOFTMMU_NONCANONICAL,   /* not an address of this format at all
                                 * (x86-64: non-canonical, a #GP) */
};

#define SOFTMMU_TLB_SIZE 64

/* Counters for tests (reset by softmmu_reset()). */
struct softmmu_stats {
        uint64_t walks;                 /* table walks (translate, misses) */
        uint64_t tlb_hits;              /* softmmu_access() served by TLB */
        uint64_t remote_rounds;         /* mmu_tlb_remote() calls */
        uint64_t remote_calls;          /* mmu_remote_call() calls */
        uint64_t invlpg;                /* single-page invalidations */
        uint64_t flush;                 /* full flushes, global kept */
        uint64_t flush_global;          /* full flushes, global too */
        uint64_t root_loads;            /* address-space switches */
        uint64_t root_loads_kept;       /* of which kept a PCID's entries */
};
extern struct softmmu_stats softmmu_stats;

/* Power-on state: empty TLB, no root, default features, zero counters. */
void softmmu_reset(void);

/*
 * Translate va the way the hardware's page walker does, from pm's tables:
 * every level must be valid and allow the access (user: from user mode);
 * on success it sets the accessed bits, and dirty for a write, where the
 * hardware would.
 * => *pa_out (may be NULL): the physical address, on SOFTMMU_OK.
 * => panics if a table pointer leads outside simulated RAM (a table bug).
 */
enum softmmu_result softmmu_translate(struct pmap *pm, vaddr_t va,
                                      unsigned access, bool user,
                                      paddr_t *pa_out);

/*
 * Perform an access under the current root through the TLB: a hit uses
 * the cached translation and rights without looking at the tables; a miss
 * walks and caches the result. A fault drops va's entry.
 * => results as softmmu_translate().
 */
enum softmmu_result softmmu_access(vaddr_t va, unsigned access, bool user,
                                   paddr_t *pa_out);

/*
 * True if every TLB entry agrees with a fresh walk of the current root:
 * still mapped, same frame and page size, same rights and global bit, and
 * not cached dirty while the entry is clean.
 * => else prints the first stale entry to stderr and returns false.
 */
bool softmmu_tlb_check(void);

/* The CPU the host plays (mmu_cpu_id()), and the last round of remote
 * invalidations mmu_tlb_remote() was asked for (x86-64 format). */
extern unsigned softmmu_cpu;
struct softmmu_remote {
        uint64_t cpus;                  /* the mask asked for */
        unsigned n;                     /* pages listed */
        bool all, global;
        vaddr_t va0;                    /* the first page listed */
        uint64_t free_pages_then;       /* pmm_free_count() at the call */
};
extern struct softmmu_remote softmmu_last_remote;
/* The CPUs the last mmu_remote_call() ran its function on (x86-64). */
extern uint64_t softmmu_last_call_cpus;

/* Valid TLB entries, and whether one of them covers va. */
unsigned softmmu_tlb_entries(void);
bool softmmu_tlb_holds(vaddr_t va);

/* The page size (as a shift: 12 for 4 KiB) of va's mapping in pm, or 0
 * if va is unmapped; no accessed/dirty side effects. */
unsigned softmmu_page_shift(struct pmap *pm, vaddr_t va);

#endif
