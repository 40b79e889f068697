/*
 * pmparam.h (i386) - physical memory as the page allocator sees it.
 *
 * Linux's three 32-bit zones: ISA DMA below 16 MiB, NORMAL up to the end
 * of low memory (the part of RAM the kernel maps linearly at PAGE_OFFSET),
 * and HIGHMEM, the rest, which the kernel reaches only through temporary
 * mappings (kmap, kmap_atomic). The end of NORMAL is LOWMEM_LIMIT
 * (machine/vmparam.h explains how it is derived); HIGHMEM ends where the
 * page tables stop reaching: 4 GiB with 2-level tables, 64 GiB with PAE.
 *
 * Kernel objects (kmalloc, page descriptors) must come from DMA or NORMAL:
 * they are used through __va(). User pages, file-cache pages and page-table
 * pages may come from HIGHMEM.
 */
#ifndef MACHINE_PMPARAM_H
#define MACHINE_PMPARAM_H

#include <mercator/types.h>

enum zone_id { ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM, NR_ZONES };

#define ZONE_DMA_END    (16ULL << 20)
#define ZONE_NORMAL_END ((paddr_t)LOWMEM_LIMIT)
#ifdef I386_PAE
#define PADDR_LIMIT     (64ULL << 30)   /* 36-bit physical addresses */
#else
#define PADDR_LIMIT     (4ULL << 30)    /* 32-bit entries */
#endif

#define MACHINE_ZONE_TABLE {                                    \
        [ZONE_DMA]     = { "DMA",     ZONE_DMA_END },           \
        [ZONE_NORMAL]  = { "Normal",  ZONE_NORMAL_END },        \
        [ZONE_HIGHMEM] = { "HighMem", PADDR_LIMIT },            \
}

/* Plain kernel allocations stay in low memory (they are used through
 * __va()); there is no 32-bit-DMA zone, so PMM_DMA32 means NORMAL. */
#define PMM_ZONE_DEFAULT ZONE_NORMAL
#define PMM_ZONE_DMA     ZONE_DMA
#define PMM_ZONE_DMA32   ZONE_NORMAL
/* The zone of high memory (/proc/meminfo's HighTotal and HighFree). */
#define PMM_ZONE_HIGHMEM ZONE_HIGHMEM

#include <machine/vmparam.h>

#endif
