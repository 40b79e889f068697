/*
 * pte.h - the x86-64 page-table entry, bit by bit, as small accessors.
 *
 * Owns: the layout of an entry at each of the four levels, the split of a
 * virtual address into table indices, and the canonical-address rule.
 * Touches nothing: no memory, no registers. pmap.c and the shared engine
 * (kernel/arch/pt/pt_engine.h, whose vocabulary this file supplies) build
 * and read entries only through this file.
 *
 * 4-level paging turns a 48-bit virtual address into a physical one:
 *
 *   47      39 38      30 29      21 20      12 11         0
 *   | PML4 idx | PDPT idx |  PD idx  |  PT idx  |   offset   |
 *     level 4    level 3    level 2    level 1
 *
 * CR3 holds the physical address of the PML4; each level's 9-bit index picks
 * one of 512 8-byte entries, which holds the physical address of the next
 * table, or (PS set at level 3 or 2; always at level 1) of the page itself:
 * a 1 GiB page at level 3, a 2 MiB page at level 2, a 4 KiB page at level 1.
 * Bits 63..48 of the virtual address must copy bit 47 ("canonical"): the
 * low half is user space, the high half the kernel.
 */
#ifndef ARCH_X86_64_PTE_H
#define ARCH_X86_64_PTE_H

#include <mercator/types.h>
#include <machine/vmparam.h>        /* phys_to_virt, for pt_table() */

typedef uint64_t pte_t;

#include <arch/x86/pte_bits.h>

#define PT_LEVELS       4               /* PML4, PDPT, PD, PT */
#define PT_ENTRIES      512             /* 8-byte entries per 4 KiB table */

/*
 * An entry (SDM vol. 3, 4.5). The same bits mean the same thing at every
 * level, except where noted:
 *
 *   bit  0  P    present; if clear, the CPU ignores every other bit and an
 *                access faults (page fault, error code bit P = 0)
 *   bit  1  RW   writable; with CR0.WP set this binds the kernel as well
 *   bit  2  US   user: CPL 3 may use it. Checked at every level: a page is
 *                user-accessible only if all four entries on its path say so
 *   bit  3  PWT  page-level write-through  } with PAT, pick one of eight
 *   bit  4  PCD  page-level cache disable  } memory types (see below)
 *   bit  5  A    accessed: set by the CPU whenever it uses the entry
 *   bit  6  D    dirty: set by the CPU on a write (leaf entries only)
 *   bit  7  PS   page size, levels 3 and 2: this entry maps a 1 GiB / 2 MiB
 *                page instead of pointing at a table. Reserved at level 4.
 *           PAT  at level 1 the same bit is the PAT bit of a 4 KiB page
 *   bit  8  G    global: the TLB keeps it across CR3 loads (leaves only,
 *                and only with CR4.PGE)
 *   bit 12  PAT  the PAT bit of a large page (its bit 7 is PS)
 *   bits 12..51  physical address of the table or page (a large page uses
 *                only bits 21..51 or 30..51; the bits below must be zero)
 *   bit 63  NX   no execute (with EFER.NXE): any NX on the path forbids
 *                instruction fetches
 *
 * Memory type = PAT[PAT:PCD:PWT], the 3-bit index into the PAT MSR. The
 * power-on PAT is WB, WT, UC-, UC, WB, WT, UC-, UC; the kernel rewrites
 * entry 1 (PWT alone) to WC at boot, so: index 0 WB (normal memory),
 * index 1 WC (frame buffers), index 3 UC (device registers). The PAT bit
 * itself stays clear, so a 4 KiB and a large page mean the same thing.
 */
/* Bits 0..12 are every x86 format's (kernel/arch/x86/pte_bits.h). */
#define PTE_NX          (1UL << 63)
#define PTE_ADDR_MASK   0x000ffffffffff000UL    /* bits 12..51 */

#define VA_BITS         48
#define USER_HALF_END   (1UL << (VA_BITS - 1))  /* first non-canonical va */

/* Bit position of the address bits a level's index covers: 12, 21, 30, 39. */
static inline unsigned pt_shift(unsigned level)
{
        return PAGE_SHIFT + 9 * (level - 1);
}

/* Bytes mapped by one entry at `level`: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static inline uint64_t pt_level_size(unsigned level)
{
        return 1UL << pt_shift(level);
}

/* Which of the 512 entries of a level-`level` table translates va. */
static inline unsigned pt_index(vaddr_t va, unsigned level)
{
        return (unsigned)(va >> pt_shift(level)) & (PT_ENTRIES - 1);
}

static inline bool pte_present(pte_t e)
{
        return (e & PTE_P) != 0;
}

/* A leaf maps a page: always at level 1, with PS at levels 3 and 2. */
static inline bool pte_is_leaf(pte_t e, unsigned level)
{
        return level == 1 || (level <= 3 && (e & PTE_PS));
}

/* The next table's physical address (non-leaf entries). */
static inline paddr_t pte_table_pa(pte_t e)
{
        return e & PTE_ADDR_MASK;
}

/* The physical address of the page a leaf at `level` maps: bit 12 of a
 * large leaf is its PAT bit, not an address bit. */
static inline paddr_t pte_leaf_pa(pte_t e, unsigned level)
{
        return e & PTE_ADDR_MASK & ~(pt_level_size(level) - 1);
}

/* The PAT bit of a leaf at `level`. */
static inline pte_t pte_pat_bit(unsigned level)
{
        return level == 1 ? PTE_PAT_4K : PTE_PAT_LARGE;
}

/* Bits 48..63 all equal to bit 47. */
static inline bool va_is_canonical(vaddr_t va)
{
        int64_t top = (int64_t)va >> (VA_BITS - 1);

        return top == 0 || top == -1;
}

/* In the low (user) half; false for the kernel half and non-canonical. */
static inline bool va_is_user_half(vaddr_t va)
{
        return va < USER_HALF_END;
}

/* Sign-extend bit 47: the canonical form of a 48-bit address. */
static inline vaddr_t va_canonical(vaddr_t va)
{
        return (vaddr_t)((int64_t)(va << (64 - VA_BITS)) >> (64 - VA_BITS));
}

/* ---- the rest of the vocabulary of kernel/arch/pt/pt_engine.h ----------- */

/* An upper-level entry pointing at the table at pa, on the way to va: the
 * rights are decided at the leaf, so every level above allows everything
 * (user only in the user half). */
static inline pte_t pte_make_table(paddr_t pa, vaddr_t va)
{
        return pa | PTE_P | PTE_RW | (va_is_user_half(va) ? PTE_US : 0);
}

/* The leaf at level - 1 that maps pa as part of the large leaf `big` at
 * `level`: same bits (A and D included, so no write is forgotten), PS only
 * if still a large page, and the PAT bit moved to where that level keeps
 * it. */
static inline pte_t pte_split_child(pte_t big, unsigned level, paddr_t pa)
{
        pte_t attrs = big & ~(PTE_ADDR_MASK | PTE_PS);

        if (big & PTE_PAT_LARGE)
                attrs |= pte_pat_bit(level - 1);
        if (level - 1 > 1)
                attrs |= PTE_PS;
        return pa | attrs;
}

static inline bool pte_is_global(pte_t e)
{
        return (e & PTE_G) != 0;
}

/* The accessed and dirty bits of e. */
static inline pte_t pte_ad_bits(pte_t e)
{
        return e & (PTE_A | PTE_D);
}

/* The kernel's pointer to the table page at pa: through the linear map,
 * which covers every frame on x86-64. */
static inline pte_t *pt_table(paddr_t pa)
{
        return phys_to_virt(pa);
}

#endif
