/*
 * softmmu_x86_64.h - what the x86-64 software MMU offers beyond the
 * neutral softmmu.h, for the x86-64 format's own tests
 * (tests/host/x86_64/): walks from a raw CR3 value with the page-fault
 * error code the CPU would push, the entries on a walk's path, and the
 * CPU features the table code asks about.
 *
 * The model: CR0.WP = 1 (the kernel's writes honour RW), EFER.NXE = 1
 * (bit 63 is NX), CR4.PGE = 1 (global pages), PCIDs only if softmmu_pcid
 * (their bookkeeping recorded, the TLB untagged), and optionally
 * CR4.SMEP / CR4.SMAP. Paging-structure caches are not modelled (the TLB
 * caches whole translations only). A CPU may also set A in the upper
 * entries of a walk that then faults; this model does not, and no test
 * relies on either.
 */
#ifndef ARCH_HOST_SOFTMMU_X86_64_H
#define ARCH_HOST_SOFTMMU_X86_64_H

#include <arch/host/softmmu.h>
#include <arch/x86_64/trap.h>   /* PF_* error code bits */

/* The simulated CPU's features; softmmu_reset() restores these defaults. */
extern bool softmmu_1g_pages;   /* CPUID Page1GB (true) */
extern bool softmmu_pcid;       /* CR4.PCIDE (false): mmu_cpu_pcid() */

/* The last CR3 load (mmu_load_root), for the PCID tests. */
struct softmmu_load {
        unsigned cpu;           /* softmmu_cpu then */
        paddr_t root;
        unsigned pcid;
        bool keep;              /* bit 63: the PCID's entries kept */
};
extern struct softmmu_load softmmu_last_load;

/* CPU cpu's PCID slots (whether or not softmmu_pcid). */
struct pmap_pcid_cpu *softmmu_cpu_pcid(unsigned cpu);
extern bool softmmu_smep;       /* CR4.SMEP (false) */
extern bool softmmu_smap;       /* CR4.SMAP (false) */

/*
 * softmmu_translate() and softmmu_access() with x86's details: the walk
 * starts at the PML4 at root (a CR3 value), 1 GiB pages only if
 * softmmu_1g_pages, SMEP/SMAP if on.
 * => *pf_err (may be NULL): the page-fault error code (PF_*) the CPU would
 *    push; 0 on success and for SOFTMMU_NONCANONICAL (a #GP).
 */
enum softmmu_result softmmu_x86_translate(paddr_t root, vaddr_t va,
                                          unsigned access, bool user,
                                          paddr_t *pa_out, unsigned *pf_err);
enum softmmu_result softmmu_x86_access(vaddr_t va, unsigned access, bool user,
                                       paddr_t *pa_out, unsigned *pf_err);

/* softmmu_page_shift() from a raw root. */
unsigned softmmu_x86_page_shift(paddr_t root, vaddr_t va);

/* The entry at `level` (4 = PML4 .. 1 = PT) on va's path under root, or
 * NULL if the walk ends above that level (absent entry or large page). */
uint64_t *softmmu_entry(paddr_t root, vaddr_t va, unsigned level);

#endif
