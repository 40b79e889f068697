/*
 * pmap_md.h (riscv64) - the Sv39 pmap: what kernel/vm/pmap.h leaves to
 * each architecture, for arch code and the format's own tests.
 *
 * Two roots per user address space, as xv6's layout wants (docs/design.md):
 *   root   the user table: the user half, the trap frame, the trampoline;
 *          nothing of the kernel. satp holds it in user mode.
 *   kroot  the kernel table: root entries 0-255 always equal root's (the
 *          same level-2 tables below them), 256-511 the kernel pmap's,
 *          fixed at pmap_bootstrap(). satp holds it in the kernel.
 * The kernel pmap has one table (kroot == root).
 *
 * Invariants (pmap_check()):
 *   1. table_pages = the pages of the tables reachable from root that
 *      belong to this pmap (+ kroot for a user pmap) + the deferred list;
 *   2. every non-leaf entry is V alone (Sv39 reserves A, D, U there) and
 *      points at an allocated page of RAM;
 *   3. no table other than the roots and the kernel's boot-time level-2
 *      tables is empty;
 *   4. a user pmap's kroot has the kernel pmap's kernel half and its own
 *      root's user half; its root has no kernel-half entry;
 *   5. at most PMAP_TLB_BATCH addresses wait in the TLB batch.
 */
#ifndef ARCH_RISCV64_PMAP_MD_H
#define ARCH_RISCV64_PMAP_MD_H

#include <mercator/types.h>
#include <vm/pmap.h>

#define PMAP_TLB_BATCH  32

struct pmap_tlb_batch {
        vaddr_t  va[PMAP_TLB_BATCH];
        unsigned n;
        bool     flush_all;
        bool     global;
};

struct pmap {
        paddr_t               root;             /* [c] user table (satp in U) */
        paddr_t               kroot;            /* [c] kernel table (satp in S) */
        uint64_t              table_pages;      /* [m] invariant 1 */
        bool                  is_kernel;        /* [c] pmap_kernel() */
        bool                  root_changed;     /* [m] root's user half to copy */
        struct pmap_tlb_batch tlb;              /* [m] */
        paddr_t               free_list;        /* [m] detached tables */
        uint64_t              free_pages;       /* [m] */
        uint64_t              active_cpus;      /* [a] harts with a root in satp */
        bool                  hart_frames;      /* [a] every hart's frame slot
                                                 * mapped (thread.c) */
};

/* Verify the invariants above; false (with the first violation printed)
 * if one does not hold. */
bool pmap_check(struct pmap *pm);

#endif
