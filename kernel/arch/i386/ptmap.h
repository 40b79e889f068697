/*
 * ptmap.h (i386) - how the shared table code reaches an i386 page table
 * (the hooks of kernel/arch/pt/pt_map.h), with user page tables in
 * HIGHMEM (Linux's CONFIG_HIGHPTE), where low memory's linear map does
 * not reach:
 *   - a table in low memory: __va, as always (directories, the kernel's
 *     tables, and every table when pmap_highpte is off or RAM ends below
 *     the low-memory limit);
 *   - a high table of the loaded space: through the recursive slot,
 *     RECURSIVE_PT(n) for directory entry n (0xffc00000 | n << 12, PAE
 *     0xff800000 | n << 12): no kmap; the CPU's walk finds the table
 *     through the directory. When a table is linked under entry n of
 *     the loaded space, pt_table_linked() invalidates RECURSIVE_PT(n)
 *     (the TLB may remember the table or large page entry n named
 *     before); the window is read only while entry n names a table, so
 *     one invlpg per new table is all it takes;
 *   - any other high table (another space's, or one not linked in: just
 *     made, just unlinked, on the deferred-free list): kmap_atomic, this
 *     CPU's next fixmap slot, released innermost first.
 * The host tier (HOST_BUILD) has no HIGHMEM: every table is in simulated
 * RAM and reached directly; there the hooks check that the table code
 * releases its mappings innermost first, as kmap_atomic will demand.
 *
 * Included by pmap.c (before the engine) and vmview_md.c (before
 * pt_view.h), after pmap_md.h.
 */
#ifndef ARCH_I386_PTMAP_H
#define ARCH_I386_PTMAP_H

#include <mercator/panic.h>
#include <mercator/types.h>
#include <vm/pmap.h>
#include "pmap_md.h"
#include "pte.h"

#ifdef HOST_BUILD

/* The mappings the table code holds now, innermost last (host check). */
#define PT_MAP_DEPTH    8
extern const void *pt_map_stack[PT_MAP_DEPTH];
extern unsigned pt_map_depth;

static inline pte_t *i386_pt_map_pa(paddr_t pa)
{
        pte_t *t = pt_table(pa);

        if (pt_map_depth >= PT_MAP_DEPTH)
                panic("pt_map: nested deeper than %u", PT_MAP_DEPTH);
        pt_map_stack[pt_map_depth++] = t;
        return t;
}

/* p must point into the innermost mapping: a table page, or the whole
 * directory array (PAE: four pages, one table to the engine). */
static inline void i386_pt_unmap(const void *p)
{
        uintptr_t top = pt_map_depth ?
                        (uintptr_t)pt_map_stack[pt_map_depth - 1] : 0;

        if (pt_map_depth == 0 || (uintptr_t)p - top >= PD_BYTES)
                panic("pt_unmap: %p is not the innermost mapping", p);
        pt_map_depth--;
}

#define pt_map(pm, pa, level, va)  ((void)(pm), (void)(level), (void)(va), \
                                    i386_pt_map_pa(pa))

#else  /* the kernel */

#include <machine/fixmap.h>
#include <machine/highmem.h>
#include "cpu.h"

/* A table page by its frame alone: __va or a kmap_atomic slot. */
static inline pte_t *i386_pt_map_pa(paddr_t pa)
{
        if (pa < lowmem_end)
                return phys_to_virt(pa);
        return kmap_atomic(pa);
}

/* pm's page table at pa, which directory entry PD_INDEX(va) names. */
static inline pte_t *i386_pt_map(const struct pmap *pm, paddr_t pa,
                                 vaddr_t va)
{
        if (pa < lowmem_end)
                return phys_to_virt(pa);
        /* CR3's frame: the directory (2-level) or the PDPT (PAE), both
         * page-aligned here. */
        if ((read_cr3() & ~(uint32_t)PAGE_MASK) == pm->cr3)
                return RECURSIVE_PT(PD_INDEX(va));
        return kmap_atomic(pa);
}

static inline void i386_pt_unmap(const void *p)
{
        vaddr_t va = (vaddr_t)p;

        if (va >= FIXADDR_START && va < FIXADDR_END)
                kunmap_atomic((void *)p);
}

#define pt_map(pm, pa, level, va)  ((void)(level), i386_pt_map(pm, pa, va))

/* A page table was just linked under directory entry PD_INDEX(va) of pm:
 * if pm is loaded, the recursive slot's window onto that entry must be
 * walked afresh (the TLB may remember the table or the large page the
 * entry named before). Any zone: the slot shows the loaded space's
 * current tables, whether or not the engine itself goes through it. */
static inline void i386_pt_table_linked(const struct pmap *pm, vaddr_t va)
{
        if ((read_cr3() & ~(uint32_t)PAGE_MASK) == pm->cr3)
                invlpg((uintptr_t)RECURSIVE_PT(PD_INDEX(va)));
}
#define pt_table_linked(pm, pa, level, va) \
        ((void)(pa), (void)(level), i386_pt_table_linked(pm, va))

#endif

#define pt_map_pa(pa)   i386_pt_map_pa(pa)
#define pt_unmap(p)     i386_pt_unmap(p)
/* User page tables (level 1, below PAGE_OFFSET) from HIGHMEM when on;
 * the directories and the kernel's tables stay in low memory. */
#define pt_alloc_table(pm, level, va, pa)                               \
        ((void)(pm), (level) == 1 && va_is_user_half(va) && pmap_highpte \
                ? vm_ptpage_alloc_high(pa) : vm_ptpage_alloc(pa))

#endif
