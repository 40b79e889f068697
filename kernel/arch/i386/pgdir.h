/*
 * pgdir.h (i386) - page directories of address spaces (seed 003's
 * pgd_alloc): the kernel's entries copied, the recursive slot set.
 */
#ifndef ARCH_I386_PGDIR_H
#define ARCH_I386_PGDIR_H

#include <mercator/types.h>
#include "pte.h"

/*
 * A new directory in low memory (PD_BYTES: one page, or with PAE four
 * contiguous pages plus a page for the PDPT): user entries empty, kernel
 * entries KERNEL_PDE_MIN..PD_SELF-1 copied from kernel_pd (they never
 * change after boot: every kernel page table was made then), the last
 * NR_SELF entries the directory's own pages (the recursive slot).
 * => the directory array, and in *cr3 what to load into CR3 (the
 *    directory, or its PDPT); NULL if out of memory.
 */
pte_t *pgd_alloc(paddr_t *cr3);

/* Free a directory from pgd_alloc() and the user page tables it points at
 * (not the pages they map). It must not be the one loaded in CR3. */
void pgd_free(pte_t *pd, paddr_t cr3);

/*
 * A software walk of the directory pd for va, reaching its page table
 * through kmap_atomic (so it works for any directory, tables in HIGHMEM
 * included). => the leaf entry (its flags and frame), 0 if not mapped; a
 * large page gives its directory entry.
 */
pte_t pgd_walk(const pte_t *pd, vaddr_t va);

#endif
