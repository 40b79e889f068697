/*
 * boot.h (i386) - what the boot code found and built (boot.c).
 */
#ifndef ARCH_I386_BOOT_H
#define ARCH_I386_BOOT_H

#include <vm/memmap.h>
#include "pmap_md.h"
#include "pte.h"

#define BOOT_MAX_MODULES 4
#define BOOT_REACH      (64u << 20)     /* what boot.S's directory maps */

struct boot_module { paddr_t base; uint64_t len; };

struct boot_info {
        char cmdline[256];
        struct mem_range raw[MEMMAP_MAX];       /* the loader's map */
        unsigned nraw;
        struct mem_range fw[MEMMAP_MAX];        /* sanitized */
        unsigned nfw;
        struct mem_range avail[MEMMAP_MAX];     /* minus our reservations */
        unsigned navail;
        struct boot_module modules[BOOT_MAX_MODULES];
        unsigned nmodules;
        paddr_t ram_end;                        /* end of usable RAM, clipped */
        paddr_t ram_end_fw;                     /* ... before clipping */
        uint64_t page_array_bytes;
        unsigned kernel_tables;                 /* preallocated, shared */
};
extern struct boot_info boot_info;

/* The kernel's page directory array (Linux's swapper_pg_dir, made by
 * pmap_bootstrap): entries from KERNEL_PDE_MIN up to PD_SELF are shared by
 * every address space, the last NR_SELF are the recursive slot (pte.h). */
#define kernel_pd       pmap_kernel_pd()
/* What CR3 holds for it: kernel_pd, or its PDPT with PAE. */
#define kernel_cr3      (pmap_kernel()->cr3)

/* The page tables of the kmap window and of the fixmap (low memory). */
extern pte_t *pkmap_page_table;
extern pte_t *fixmap_page_table;

#endif
