/*
 * pte.h (riscv64) - the Sv39 page-table entry.
 *
 * Three levels of 512 eight-byte entries (9 bits of the address each):
 * level 2 (the root, 1 GiB per entry), level 1 (2 MiB), level 0 (4 KiB).
 * An entry with V and any of R/W/X is a leaf at any level (a 1 GiB or
 * 2 MiB "mega/gigapage" above level 0); V without R/W/X points to the
 * next table. W without R is reserved. The PPN sits at bits 10-53.
 * Hardware may set A and D itself or fault when they are clear (the
 * privileged spec allows both; QEMU 7.2 sets them): Mercator presets them.
 */
#ifndef ARCH_RISCV64_PTE_H
#define ARCH_RISCV64_PTE_H

#include <mercator/types.h>

typedef uint64_t pte_t;

#define PTE_V           (1UL << 0)
#define PTE_R           (1UL << 1)
#define PTE_W           (1UL << 2)
#define PTE_X           (1UL << 3)
#define PTE_U           (1UL << 4)
#define PTE_G           (1UL << 5)
#define PTE_A           (1UL << 6)
#define PTE_D           (1UL << 7)
#define PTE_PPN_SHIFT   10
#define PTE_PPN_MASK    (((1UL << 44) - 1) << PTE_PPN_SHIFT)

#define SV39_LEVELS     3
#define SV39_ENTRIES    512

/* Bytes one entry of level `level` maps: 4 KiB, 2 MiB, 1 GiB. */
static inline uint64_t sv39_level_size(int level)
{
        return 1UL << (PAGE_SHIFT + 9 * level);
}

/* The index of va's entry in a table of the given level. */
static inline unsigned sv39_index(vaddr_t va, int level)
{
        return (va >> (PAGE_SHIFT + 9 * level)) & 511;
}

static inline bool pte_valid(pte_t e) { return e & PTE_V; }
static inline bool pte_leaf(pte_t e) { return (e & PTE_V) && (e & (PTE_R | PTE_W | PTE_X)); }

static inline paddr_t pte_pa(pte_t e)
{
        return ((e & PTE_PPN_MASK) >> PTE_PPN_SHIFT) << PAGE_SHIFT;
}

static inline pte_t pte_make(paddr_t pa, uint64_t bits)
{
        return ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | bits | PTE_V;
}

#endif
