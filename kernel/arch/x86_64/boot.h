/*
 * boot.h - what the boot code learned, kept for the rest of the kernel.
 */
#ifndef ARCH_X86_64_BOOT_H
#define ARCH_X86_64_BOOT_H

#include <vm/memmap.h>

#define BOOT_MAX_MODULES 4

struct boot_module {
        paddr_t  base;
        uint64_t len;
};

struct boot_info {
        char               cmdline[256];
        struct mem_range   raw[MEMMAP_MAX];     /* as the firmware gave it */
        unsigned           nraw;
        struct mem_range   fw[MEMMAP_MAX];      /* sanitized firmware map */
        unsigned           nfw;
        struct mem_range   avail[MEMMAP_MAX];   /* ... minus kernel, modules */
        unsigned           navail;
        struct boot_module modules[BOOT_MAX_MODULES];
        unsigned           nmodules;
        paddr_t            ram_end;             /* end of the highest RAM */
        uint64_t           page_array_bytes;    /* struct vm_page array */
        paddr_t            rsdp;                /* ACPI's RSDP, 0 if not given */
};

extern struct boot_info boot_info;

void boot_map_kernel(void);     /* boot_tables.c: build and load the kernel tables */
void boot_init_pmm(void);       /* boot.c: page descriptors + buddy */

#endif
