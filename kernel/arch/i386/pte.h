/*
 * pte.h (i386) - directory and table entries of the two 32-bit formats.
 *
 * 2-level (default): 1024 4-byte entries per table; a directory entry maps
 * a page table or, with PS, a 4 MiB page.
 * PAE (I386_PAE): 512 8-byte entries per table, three levels: CR3 -> a
 * 4-entry PDPT -> four directories -> tables; a directory entry with PS
 * maps 2 MiB; frames above 4 GiB; bit 63 is NX. Mercator allocates a
 * space's four directories as one contiguous 16 KiB block, so that they
 * read as ONE array of 2048 entries indexed by va >> 21, exactly as the
 * 2-level directory is indexed by va >> 22: the code that walks, copies
 * kernel entries and builds the recursive slot is the same for both.
 *
 * The recursive slot: the last NR_SELF directory entries point at the
 * directory pages themselves (1 with 2-level tables, 4 with PAE), so page
 * table n appears at RECURSIVE_BASE + n * 4 KiB and the directory array
 * at RECURSIVE_PT(PD_SELF): 0xfffff000 (2-level), 0xffffc000 (PAE).
 */
#ifndef ARCH_I386_PTE_H
#define ARCH_I386_PTE_H

#include <mercator/types.h>
#include <machine/vmparam.h>

#ifdef I386_PAE
typedef uint64_t pte_t;
#define PTE_ADDR        0x000ffffffffff000ULL
#define PDE_ADDR_LARGE  0x000fffffffe00000ULL
#define PTE_NX          (1ULL << 63)
#define PD_SHIFT        21
#define PT_ENTRIES      512u
#define PD_ENTRIES      2048u           /* four directories, one array */
#define NR_SELF         4u
#else
typedef uint32_t pte_t;
#define PTE_ADDR        0xfffff000u
#define PDE_ADDR_LARGE  0xffc00000u
#define PD_SHIFT        22
#define PT_ENTRIES      1024u
#define PD_ENTRIES      1024u
#define NR_SELF         1u
#endif

#define PTE_P           0x001u  /* present */
#define PTE_W           0x002u  /* writable */
#define PTE_U           0x004u  /* user */
#define PTE_PWT         0x008u
#define PTE_PCD         0x010u  /* cache disabled (device pages) */
#define PTE_A           0x020u  /* accessed */
#define PTE_D           0x040u  /* dirty (leaf) */
#define PTE_PS          0x080u  /* large page (directory entry) */
#define PTE_G           0x100u  /* global: kept across CR3 loads */

#define PD_INDEX(va)    ((uint32_t)(va) >> PD_SHIFT)
#define PT_INDEX(va)    (((uint32_t)(va) >> PAGE_SHIFT) & (PT_ENTRIES - 1))
#define PD_SELF         (PD_ENTRIES - NR_SELF)  /* first recursive entry */
#define KERNEL_PDE_MIN  (PAGE_OFFSET >> PD_SHIFT)       /* 768 / 1536 */
#define PD_BYTES        (PD_ENTRIES * sizeof(pte_t))    /* 4 / 16 KiB */

/* Table n of the current space, through the recursive slot, and the
 * current directory array. */
#define RECURSIVE_PT(n) ((pte_t *)(RECURSIVE_BASE + ((vaddr_t)(n) << PAGE_SHIFT)))
#define RECURSIVE_PD    RECURSIVE_PT(PD_SELF)

#endif
