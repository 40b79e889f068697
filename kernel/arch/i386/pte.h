/*
 * pte.h (i386) - the bits of a 2-level (non-PAE) directory or table entry.
 *
 * A directory entry either points at a page table (PS clear) or maps a
 * 4 MiB page (PS set, with CR4.PSE). The address field of both is the top
 * 20 bits (a 4 MiB page's top 10).
 */
#ifndef ARCH_I386_PTE_H
#define ARCH_I386_PTE_H

#include <mercator/types.h>

typedef uint32_t pte_t;

#define PTE_P           0x001u  /* present */
#define PTE_W           0x002u  /* writable */
#define PTE_U           0x004u  /* user */
#define PTE_PWT         0x008u
#define PTE_PCD         0x010u  /* cache disabled (device pages) */
#define PTE_A           0x020u  /* accessed */
#define PTE_D           0x040u  /* dirty (leaf) */
#define PTE_PS          0x080u  /* 4 MiB page (directory entry) */
#define PTE_G           0x100u  /* global: kept across CR3 loads */
#define PTE_ADDR        0xfffff000u
#define PDE_ADDR_4M     0xffc00000u

#define PD_SHIFT        22
#define PT_ENTRIES      1024u
#define PD_INDEX(va)    ((uint32_t)(va) >> PD_SHIFT)
#define PT_INDEX(va)    (((uint32_t)(va) >> PAGE_SHIFT) & (PT_ENTRIES - 1))
#define PD_SELF         1023u   /* the recursive slot */
#define KERNEL_PDE_MIN  (PAGE_OFFSET >> PD_SHIFT)       /* 768 */

/* The recursive mapping of the current directory (boot.c sets its slot):
 * page table n at RECURSIVE_BASE + n * 4 KiB, the directory itself at the
 * last of them. */
#define RECURSIVE_PT(n) ((pte_t *)(RECURSIVE_BASE + ((vaddr_t)(n) << PAGE_SHIFT)))
#define RECURSIVE_PD    RECURSIVE_PT(PD_SELF)

#endif
