/*
 * pmap_md.h (i386) - the i386 pmap (both formats, pte.h): what
 * kernel/vm/pmap.h leaves to each architecture, for code that looks inside
 * (arch code, host tests).
 *
 * Invariants (pmap_check()):
 *   1. table_pages = the directory pages (PD_PAGES), the PDPT (PAE), and
 *      the page tables reachable from user entries, plus pages waiting on
 *      the deferred-free list; the kernel pmap also counts its own tables;
 *   2. a directory entry that is not a leaf is P|RW, plus US below
 *      PAGE_OFFSET, and points at an allocated page of RAM;
 *   3. no user page table is empty (removal frees tables as they empty);
 *   4. directory entries KERNEL_PDE_MIN..PD_SELF-1 of every pmap equal the
 *      kernel pmap's (fixed once the first user pmap was created), and the
 *      last NR_SELF entries point at the pmap's own directory pages (the
 *      recursive slot); with PAE, the PDPT's four entries are P only and
 *      point at the four directory pages;
 *   5. at most PMAP_TLB_BATCH addresses wait in the TLB batch.
 * Locks: as x86-64's (the owner serializes).
 */
#ifndef ARCH_I386_PMAP_MD_H
#define ARCH_I386_PMAP_MD_H

#include <mercator/types.h>
#include <vm/pmap.h>
#include "pte.h"

#define PMAP_TLB_BATCH  32      /* more pending pages than this: flush all */

struct pmap_tlb_batch {
        vaddr_t  va[PMAP_TLB_BATCH];
        unsigned n;
        bool     flush_all;
        bool     global;
};

/*
 * root is what the table engine walks: the directory array (PD_ENTRIES
 * entries in PD_PAGES contiguous pages). cr3 is what the CPU loads: the
 * same page with 2-level tables, the PDPT with PAE.
 */
struct pmap {
        paddr_t               root;             /* [c] the directory array */
        paddr_t               cr3;              /* [c] CR3's value */
        uint64_t              table_pages;      /* [m] invariant 1 */
        bool                  is_kernel;        /* [c] pmap_kernel() */
        struct pmap_tlb_batch tlb;              /* [m] pending invalidations */
        paddr_t               free_list;        /* [m] detached tables */
        uint64_t              free_pages;       /* [m] pages on free_list */
};

/* The kernel's directory array (Linux's swapper_pg_dir), once
 * pmap_bootstrap() has made it. */
pte_t *pmap_kernel_pd(void);

/* The directory array of pm (a kernel pointer: low memory). */
static inline pte_t *pmap_pd(const struct pmap *pm)
{
        return pt_table(pm->root);
}

/* Whether the PAE pmap may set NX (EFER.NXE is on); always false with
 * 2-level tables, which have no NX bit. Set by boot (or the host MMU). */
extern bool pmap_nx;
/* Whether kernel entries get G (CR4.PGE). */
extern bool pmap_pge;
/* Whether user page tables come from HIGHMEM (Linux's CONFIG_HIGHPTE,
 * which Debian's 686-pae sets; ptmap.h): on unless the command line says
 * userpte=nohigh, Linux's option. Tests may flip it: a table keeps the
 * zone it came from. */
extern bool pmap_highpte;

#endif
