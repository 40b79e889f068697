/*
 * pte.h (i386) - directory and table entries of the two 32-bit formats, and
 * the vocabulary of the shared table engine (kernel/arch/pt/pt_engine.h)
 * over them.
 *
 * 2-level (default): 1024 4-byte entries per table; a directory entry maps
 * a page table or, with PS, a 4 MiB page (CR4.PSE).
 *
 * PAE (I386_PAE): 512 8-byte entries per table, three hardware levels:
 * CR3 -> a 4-entry PDPT -> four directories -> tables; a directory entry
 * with PS maps 2 MiB; frames above 4 GiB; bit 63 is NX. Every space gets
 * its four directories as one contiguous 16 KiB block, so that they read
 * as ONE array of 2048 entries indexed by va >> 21, exactly as the 2-level
 * directory is indexed by va >> 22. The PDPT is fixed for the life of a
 * space (its four entries never change: the CPU loads them into registers
 * at each CR3 write, so Linux preallocates the four directories too), and
 * the table code sees PAE as a 2-level format: a 2048-entry top level (the
 * directory array) over 512-entry tables. The software MMU of the host
 * tier (kernel/arch/host/i386-pae/) walks all three hardware levels.
 *
 * The recursive slot: the last NR_SELF directory entries point at the
 * directory pages themselves (1 with 2-level tables, 4 with PAE), so page
 * table n appears at RECURSIVE_BASE + n * 4 KiB and the directory array
 * at RECURSIVE_PT(PD_SELF): 0xfffff000 (2-level), 0xffffc000 (PAE).
 *
 * Touches nothing: no memory but the table page pt_table() names, no
 * registers.
 */
#ifndef ARCH_I386_PTE_H
#define ARCH_I386_PTE_H

#include <mercator/types.h>
#include <machine/vmparam.h>

#ifdef I386_PAE
typedef uint64_t pte_t;
#define PTE_ADDR        0x000ffffffffff000ULL
#define PDE_ADDR_LARGE  0x000fffffffe00000ULL
#define PTE_NX          ((pte_t)1 << 63)
#define PD_SHIFT        21
#define PT_ENTRIES      512u
#define PD_ENTRIES      2048u           /* four directories, one array */
#define NR_SELF         4u
#else
typedef uint32_t pte_t;
#define PTE_ADDR        0xfffff000u
#define PDE_ADDR_LARGE  0xffc00000u
#define PTE_NX          ((pte_t)0)      /* no NX bit in 4-byte entries */
#define PD_SHIFT        22
#define PT_ENTRIES      1024u
#define PD_ENTRIES      1024u
#define NR_SELF         1u
#endif
#define PTE_ADDR_MASK   PTE_ADDR
/* The frames entries can name: 4 GiB; 64 GiB with PAE (Mercator's limit:
 * 36 address bits, as the first PAE CPUs). */
#ifdef I386_PAE
#define PTE_PA_LIMIT    (64ULL << 30)
#else
#define PTE_PA_LIMIT    (4ULL << 30)
#endif

/* Bits 0..12 mean the same in every x86 format. */
#include <arch/x86/pte_bits.h>

#define PD_INDEX(va)    ((uint32_t)(va) >> PD_SHIFT)
#define PT_INDEX(va)    (((uint32_t)(va) >> PAGE_SHIFT) & (PT_ENTRIES - 1))
#define PD_SELF         (PD_ENTRIES - NR_SELF)  /* first recursive entry */
#define KERNEL_PDE_MIN  (PAGE_OFFSET >> PD_SHIFT)       /* 768 / 1536 */
#define PD_BYTES        (PD_ENTRIES * sizeof(pte_t))    /* 4 / 16 KiB */
#define PD_PAGES        (PD_BYTES / PAGE_SIZE)          /* 1 / 4 */

/* Table n of the current space, through the recursive slot, and the
 * current directory array. */
#define RECURSIVE_PT(n) ((pte_t *)(RECURSIVE_BASE + ((vaddr_t)(n) << PAGE_SHIFT)))
#define RECURSIVE_PD    RECURSIVE_PT(PD_SELF)

/* ---- the engine's vocabulary (kernel/arch/pt/pt_engine.h) ------------------
 * Level 2 is the directory array (PD_ENTRIES entries, large leaves with
 * PS), level 1 the page tables (PT_ENTRIES entries). */
#define PT_LEVELS       2

/* 12 for tables, 22 (21 with PAE) for the directory. */
static inline unsigned pt_shift(unsigned level)
{
        return level == 1 ? PAGE_SHIFT : PD_SHIFT;
}

/* 4 KiB; 4 MiB (2 MiB with PAE). */
static inline uint64_t pt_level_size(unsigned level)
{
        return (uint64_t)1 << pt_shift(level);
}

static inline unsigned pt_index(vaddr_t va, unsigned level)
{
        return level == 1 ? PT_INDEX(va) : PD_INDEX(va);
}

static inline bool pte_present(pte_t e)
{
        return (e & PTE_P) != 0;
}

static inline bool pte_is_leaf(pte_t e, unsigned level)
{
        return level == 1 || (e & PTE_PS);
}

static inline paddr_t pte_table_pa(pte_t e)
{
        return e & PTE_ADDR;
}

/* Bit 12 of a large leaf is its PAT bit (and bits 13..20 of a 2-level one
 * PSE-36's high address bits, which Mercator never sets). */
static inline paddr_t pte_leaf_pa(pte_t e, unsigned level)
{
        return e & PTE_ADDR & ~(pt_level_size(level) - 1);
}

/* A virtual address of this format: 32 bits (the host tier keeps vaddr_t
 * 64 bits wide, so the test is not empty there). */
static inline bool va_is_canonical(vaddr_t va)
{
        return (uint64_t)va <= 0xffffffffu;
}

static inline vaddr_t va_canonical(vaddr_t va)
{
        return (vaddr_t)((uint64_t)va & 0xffffffffu);
}

static inline bool va_is_user_half(vaddr_t va)
{
        return va < USER_MAX;
}

/* A directory entry pointing at a page table: rights are decided at the
 * leaf, so it allows everything (user only below PAGE_OFFSET). */
static inline pte_t pte_make_table(paddr_t pa, vaddr_t va)
{
        return (pte_t)pa | PTE_P | PTE_RW | (va_is_user_half(va) ? PTE_US : 0);
}

/* The 4 KiB leaf mapping pa as part of the large leaf `big`: same bits,
 * PS gone and the PAT bit moved to where a 4 KiB leaf keeps it. */
static inline pte_t pte_split_child(pte_t big, unsigned level, paddr_t pa)
{
        pte_t attrs = big & ~(PTE_ADDR | PTE_PS);

        (void)level;
        if (big & PTE_PAT_LARGE)
                attrs |= PTE_PAT_4K;
        return (pte_t)pa | attrs;
}

static inline bool pte_is_global(pte_t e)
{
        return (e & PTE_G) != 0;
}

static inline pte_t pte_ad_bits(pte_t e)
{
        return e & (PTE_A | PTE_D);
}

/* A table page in low memory, where __va() reaches it: the directory
 * array, the PDPT, the kernel's tables. A user page table may be in
 * HIGHMEM (ptmap.h reaches it). */
static inline pte_t *pt_table(paddr_t pa)
{
        return phys_to_virt(pa);
}

#endif
