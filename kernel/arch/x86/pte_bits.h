/*
 * pte_bits.h (x86) - the entry bits every x86 page-table format shares:
 * 32-bit 2-level, PAE and 4-level entries keep the same meaning in bits
 * 0..12 (SDM vol. 3, 4.3-4.5); they differ in width, address bits and NX
 * (PAE and 4-level only), which each format's pte.h adds. Each value has
 * the includer's pte_t type (typedef it first), so that ~PTE_A clears only
 * A in a 64-bit entry too.
 * See kernel/arch/x86_64/pte.h for what each bit does.
 */
#ifndef ARCH_X86_PTE_BITS_H
#define ARCH_X86_PTE_BITS_H

#define PTE_P           ((pte_t)0x001)  /* present */
#define PTE_RW          ((pte_t)0x002)  /* writable */
#define PTE_US          ((pte_t)0x004)  /* user */
#define PTE_PWT         ((pte_t)0x008)  /* write-through  } with PAT: the memory */
#define PTE_PCD         ((pte_t)0x010)  /* cache disable  }  type (see below) */
#define PTE_A           ((pte_t)0x020)  /* accessed (set by the CPU) */
#define PTE_D           ((pte_t)0x040)  /* dirty (set by the CPU, leaves) */
#define PTE_PS          ((pte_t)0x080)  /* large page (upper levels) */
#define PTE_PAT_4K      ((pte_t)0x080)  /* the PAT bit of a 4 KiB leaf */
#define PTE_G           ((pte_t)0x100)  /* global (leaves, with CR4.PGE) */
#define PTE_PAT_LARGE   ((pte_t)0x1000) /* the PAT bit of a large leaf */

/* Memory types as PWT/PCD combinations, PAT bit clear, with the PAT MSR's
 * entry 1 rewritten to WC at boot: WB, WC (frame buffers), UC (devices). */
#define PTE_CACHE_WB    ((pte_t)0x000)
#define PTE_CACHE_WC    PTE_PWT
#define PTE_CACHE_UC    (PTE_PWT | PTE_PCD)
#define PTE_CACHE_MASK  (PTE_PWT | PTE_PCD)

#endif
