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
 * One address space's page tables.
 *
 * Locks: [c] constant after creation; [m] the owner's lock (the vm_space
 * lock for user pmaps; the kernel pmap: one CPU, callers serialize);
 * [a] atomic: each CPU sets its own bit when it loads the pmap and clears
 * it when it loads another (pmap_activate), so a change is sent only to
 * the CPUs whose TLB may hold this pmap's entries (a CPU that switched
 * away flushed them with the CR3 load).
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
};

#endif
