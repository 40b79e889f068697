/*
 * pmap_md.h - the x86-64 pmap: what kernel/vm/pmap.h leaves to each
 * architecture, for code that needs to look inside (arch code, host tests).
 *
 * Owns: struct pmap and its checker. Machine-independent code must not
 * include this file; it sees only the opaque struct pmap of vm/pmap.h.
 *
 * Invariants (pmap_check(), declared in vm/pmap.h):
 *   1. table_pages = pages of the tables reachable from root that belong to
 *      this pmap + pages waiting on the deferred-free list;
 *   2. every non-leaf entry is P|RW, plus US in the user half, and points at
 *      an allocated page of RAM;
 *   3. no table other than the PML4 and the kernel's boot-time PDPTs is
 *      empty (removal frees tables as they empty);
 *   4. the kernel half (PML4 slots 256..511) of every pmap equals the
 *      kernel pmap's, which is fixed after pmap_bootstrap();
 *   5. at most PMAP_TLB_BATCH addresses wait in the TLB batch.
 */
#ifndef ARCH_X86_64_PMAP_MD_H
#define ARCH_X86_64_PMAP_MD_H

#include <mercator/types.h>
#include <vm/pmap.h>

#define PMAP_TLB_BATCH  32      /* more pending pages than this: flush all */

/*
 * TLB work recorded by enter/remove/protect/ad and issued by pmap_update():
 * up to PMAP_TLB_BATCH single-page invalidations, or one flush of all.
 */
struct pmap_tlb_batch {
        vaddr_t  va[PMAP_TLB_BATCH];    /* pages (any size) to invlpg */
        unsigned n;                     /* entries used in va[] */
        bool     flush_all;             /* too many: flush everything */
        bool     global;                /* a changed entry had G set */
};

/*
 * PCIDs (process-context identifiers, CR4.PCIDE; docs/design.md, "TLB
 * shootdown: the protocol", rule 1). With them a CPU tags its TLB entries
 * (and paging-structure caches) with the 12-bit PCID in CR3, and a CR3
 * load with bit 63 set keeps what the new PCID already holds, so a switch
 * back to a space it ran recently needs no refill. The numbers are per
 * CPU, as Linux's: each CPU keeps its own PMAP_PCID_SLOTS most recent
 * spaces under PCIDs 1..PMAP_PCID_SLOTS (0 is the kernel's own tables),
 * so no machine-wide allocator and no limit on spaces, and a CPU that
 * switched away still holds the old space's entries under its PCID. It
 * learns whether they are still good from the space's tlb_gen: every
 * change that needs a flush raises it, a slot records the generation
 * that CPU's entries reflect, and a load keeps the entries only if the
 * two are equal; else it loads without bit 63, dropping that PCID's
 * entries. [o] the CPU's own (written with interrupts off, or in its
 * IPI handler).
 */
#define PMAP_PCID_SLOTS 6

struct pmap_pcid_slot {
        uint64_t ctx_id;                /* the pmap's ctx_id; 0 = none */
        uint64_t gen;                   /* its tlb_gen the entries reflect */
};

struct pmap_pcid_cpu {
        struct pmap_pcid_slot slot[PMAP_PCID_SLOTS];    /* PCID = index + 1 */
        unsigned cur;                   /* the slot in CR3; SLOTS: PCID 0 */
        unsigned next;                  /* the slot a new space takes next */
};

/* The PCID bookkeeping after this CPU's part of a flush round for the
 * pmap with ctx_id (0: the kernel's), which raised its tlb_gen to gen:
 * the slot in CR3, if it is that pmap's, is up to date if it had seen
 * every earlier round (gen is one past its own); if a round between is
 * still to come (two lock-free faults of one space send rounds at once,
 * and a CPU may take the later one first, then switch away before the
 * earlier one arrives), the slot is marked to be flushed at its next
 * load instead. A kernel round makes every other slot be flushed at its
 * next load (invlpg reaches the global entries of every PCID, but the
 * paging-structure caches of the current one only). Called by the
 * round's handler on each CPU (mmu.c) and by pmap_update() for the
 * sending CPU. */
void pmap_pcid_round(uint64_t ctx_id, uint64_t gen);

/* A slot's gen that no tlb_gen reaches: its entries go at the next load. */
#define PMAP_PCID_STALE UINT64_MAX

/*
 * One address space's page tables.
 *
 * Locks: [c] constant after creation; [m] the owner's lock (the vm_space
 * lock for user pmaps; the kernel pmap: one CPU, callers serialize);
 * [a] atomic: each CPU sets its own bit when it loads the pmap and clears
 * it when it loads another (pmap_activate), so a change is sent only to
 * the CPUs whose TLB may hold this pmap's entries in use. A CPU that
 * switched away flushed them with the CR3 load, or, with PCIDs, keeps
 * them under its PCID until its next load of this pmap, which compares
 * tlb_gen (struct pmap_pcid_cpu).
 *
 * Table pages detached by pmap_remove()/pmap_enter_range() are not freed at
 * once but chained on free_list (through their first word) until
 * pmap_update() has flushed the TLB: until then the CPU's paging-structure
 * caches may still point into them, and a page reused as data could feed a
 * speculative walk garbage translations.
 */
struct pmap {
        paddr_t               root;             /* [c] the PML4 (CR3 value) */
        uint64_t              table_pages;      /* [m] invariant 1 */
        bool                  is_kernel;        /* [c] pmap_kernel() */
        struct pmap_tlb_batch tlb;              /* [m] pending invalidations */
        paddr_t               free_list;        /* [m] detached tables, 0 = none */
        uint64_t              free_pages;       /* [m] pages on free_list */
        uint64_t              active_cpus;      /* [a] CPUs with it in CR3 */
        uint64_t              ctx_id;           /* [c] unique, never reused;
                                                 * 0 = the kernel pmap */
        uint64_t              tlb_gen;          /* [a] flush rounds so far
                                                 * (raised under [m]) */
};

#endif
