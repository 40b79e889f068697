/*
 * sv39.h - a read-only walk of any Sv39 table, by its root's physical
 * address (the pmap's own walks are in pmap.c): for tests and diagnostics
 * that look at a table as the hardware would, the trampoline's two roots
 * included.
 */
#ifndef ARCH_RISCV64_SV39_H
#define ARCH_RISCV64_SV39_H

#include <mercator/types.h>
#include "pte.h"

/*
 * The leaf entry for va in the table rooted at root, or 0 if none; its
 * level (2: 1 GiB, 1: 2 MiB, 0: 4 KiB) goes to *level.
 */
pte_t sv39_walk(paddr_t root, vaddr_t va, int *level);

#endif
