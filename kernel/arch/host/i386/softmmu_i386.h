/*
 * softmmu_i386.h - what the i386 software MMU (both formats: PMAP=i386 and
 * PMAP=i386-pae) offers beyond the neutral softmmu.h, for the format's own
 * tests (tests/host/i386/): walks from a raw CR3 value with the page-fault
 * error code the CPU would push, and the entries on a walk's path.
 */
#ifndef ARCH_HOST_SOFTMMU_I386_H
#define ARCH_HOST_SOFTMMU_I386_H

#include <arch/host/softmmu.h>

/* EFER.NXE (PAE only; softmmu_reset() turns it on with PAE and tells the
 * pmap, as boot does on a CPU with NX). */
extern bool softmmu_nx;

/* The page-fault error code's bits (SDM 4.7). */
#define SOFTMMU_PF_PRESENT      0x01u
#define SOFTMMU_PF_WRITE        0x02u
#define SOFTMMU_PF_USER         0x04u
#define SOFTMMU_PF_RSVD         0x08u
#define SOFTMMU_PF_INSTR        0x10u

/* softmmu_translate() and softmmu_access() from a raw CR3 (the directory,
 * or with PAE the PDPT). => *pf_err (may be NULL): the error code, 0 on
 * success and for SOFTMMU_NONCANONICAL (not a 32-bit address). */
enum softmmu_result softmmu_i386_translate(paddr_t cr3, vaddr_t va,
                                           unsigned access, bool user,
                                           paddr_t *pa_out, unsigned *pf_err);
enum softmmu_result softmmu_i386_access(vaddr_t va, unsigned access,
                                        bool user, paddr_t *pa_out,
                                        unsigned *pf_err);
unsigned softmmu_i386_page_shift(paddr_t cr3, vaddr_t va);

/* The entry at `level` on va's path under cr3 (2-level: 2 directory,
 * 1 table; PAE: 3 PDPT, 2 directory, 1 table), as a uint32_t * (2-level)
 * or uint64_t * (PAE); NULL if the walk ends above that level. */
void *softmmu_i386_entry(paddr_t cr3, vaddr_t va, unsigned level);

#endif
