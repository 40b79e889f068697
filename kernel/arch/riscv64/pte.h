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
#include <machine/vmparam.h>        /* phys_to_virt, for pt_table() */

typedef uint64_t pte_t;

#define PTE_V           (1UL << 0)
#define PTE_R           (1UL << 1)
#define PTE_W           (1UL << 2)
#define PTE_X           (1UL << 3)
#define PTE_U           (1UL << 4)
#define PTE_G           (1UL << 5)
#define PTE_A           (1UL << 6)
#define PTE_D           (1UL << 7)
/* Bits 8-9 (RSW) are the supervisor's own: Mercator records there the
 * cache mode the core asked for, which Sv39 without Svpbmt cannot encode
 * (the board's PMAs decide), so that pmap_extract() reports it back. */
#define PTE_SW_NOCACHE  (1UL << 8)
#define PTE_SW_WC       (1UL << 9)
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

/* --- the pmap's vocabulary (pmap.c): levels numbered 1 (4 KiB) to 3 (the
 * root, 1 GiB), as the x86-64 table code numbers its four. */

#define PT_LEVELS       3
#define PT_ENTRIES      512
#define VA_BITS         39
#define USER_HALF_END   (1UL << (VA_BITS - 1))  /* 2^38 = MAXVA */

static inline unsigned pt_shift(unsigned level)
{
        return PAGE_SHIFT + 9 * (level - 1);
}

static inline uint64_t pt_level_size(unsigned level)
{
        return 1UL << pt_shift(level);
}

static inline unsigned pt_index(vaddr_t va, unsigned level)
{
        return (unsigned)(va >> pt_shift(level)) & (PT_ENTRIES - 1);
}

static inline bool pte_present(pte_t e)
{
        return (e & PTE_V) != 0;
}

/* Any level may hold a leaf: V with R, W or X. */
static inline bool pte_is_leaf(pte_t e, unsigned level)
{
        (void)level;
        return (e & (PTE_R | PTE_W | PTE_X)) != 0;
}

static inline paddr_t pte_table_pa(pte_t e)
{
        return pte_pa(e);
}

static inline paddr_t pte_leaf_pa(pte_t e, unsigned level)
{
        return pte_pa(e) & ~(pt_level_size(level) - 1);
}

/* Bits 63..38 all equal to bit 38. */
static inline bool va_is_canonical(vaddr_t va)
{
        int64_t top = (int64_t)va >> (VA_BITS - 1);

        return top == 0 || top == -1;
}

static inline bool va_is_user_half(vaddr_t va)
{
        return va < USER_HALF_END;
}

static inline vaddr_t va_canonical(vaddr_t va)
{
        return (vaddr_t)((int64_t)(va << (64 - VA_BITS)) >> (64 - VA_BITS));
}

/* ---- the rest of the vocabulary of kernel/arch/pt/pt_engine.h ----------- */

/* A non-leaf entry is V alone (Sv39 reserves D, A and U there); va does not
 * matter: unlike x86, a table entry carries no rights. */
static inline pte_t pte_make_table(paddr_t pa, vaddr_t va)
{
        (void)va;
        return pte_make(pa, 0);
}

/* The leaf one level below `level` mapping pa as part of the large leaf
 * `big`: all of big's bits but its frame (Sv39 leaves look the same at
 * every level). */
static inline pte_t pte_split_child(pte_t big, unsigned level, paddr_t pa)
{
        (void)level;
        return pte_make(pa, big & ~PTE_PPN_MASK);
}

static inline bool pte_is_global(pte_t e)
{
        return (e & PTE_G) != 0;
}

static inline pte_t pte_ad_bits(pte_t e)
{
        return e & (PTE_A | PTE_D);
}

/* The kernel's pointer to the table page at pa, through the linear map
 * (all of RAM; docs/design.md). */
static inline pte_t *pt_table(paddr_t pa)
{
        return phys_to_virt(pa);
}

#endif
