/*
 * pgdir.h (i386) - a software walk of any directory (seed 003's page
 * directories are pmaps now: pmap_create copies the kernel's entries, as
 * pgd_alloc did; pmap.c).
 */
#ifndef ARCH_I386_PGDIR_H
#define ARCH_I386_PGDIR_H

#include <mercator/types.h>
#include "pte.h"

/*
 * A software walk of the directory array pd for va, reaching its page
 * table through kmap_atomic (so it works for any directory, tables in
 * HIGHMEM included). => the leaf entry (its flags and frame), 0 if not
 * mapped; a large page gives its directory entry.
 */
pte_t pgd_walk(const pte_t *pd, vaddr_t va);

#endif
