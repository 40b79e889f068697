/*
 * pgdir.h (i386) - page directories of address spaces (seed 003's
 * pgd_alloc): the kernel's entries copied, the recursive slot set.
 */
#ifndef ARCH_I386_PGDIR_H
#define ARCH_I386_PGDIR_H

#include <mercator/types.h>
#include "pte.h"

/*
 * A new directory (a low-memory page): user entries 0-767 empty, kernel
 * entries 768-1022 copied from kernel_pd (they never change after boot:
 * every kernel page table was made then), entry 1023 the directory itself.
 * => its kernel address, and its physical address in *pa; NULL if out of
 *    memory.
 */
pte_t *pgd_alloc(paddr_t *pa);

/* Free a directory from pgd_alloc() and the user page tables it points at
 * (not the pages they map). It must not be the one loaded in CR3. */
void pgd_free(pte_t *pd);

/*
 * A software walk of the directory pd for va, reaching its page table
 * through kmap_atomic (so it works for any directory, tables in HIGHMEM
 * included). => the leaf entry (its flags and frame), 0 if not mapped; a
 * 4 MiB page gives its directory entry.
 */
pte_t pgd_walk(const pte_t *pd, vaddr_t va);

#endif
