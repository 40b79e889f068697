/*
 * pmparam.h (x86-64) - physical memory as the page allocator sees it: the
 * zones, which zone each allocation class may use, and the highest physical
 * address the MMU can map.
 *
 * What an architecture supplies here (see docs/design.md, "The contract
 * between the core and an architecture"):
 *   enum zone_id ... NR_ZONES     the zones, lowest addresses first
 *   MACHINE_ZONE_TABLE            an initializer for
 *                                 struct pmm_zone_desc[NR_ZONES]: each zone's
 *                                 name and end address, ascending; the last
 *                                 ends at PADDR_LIMIT
 *   PMM_ZONE_DEFAULT/_DMA/_DMA32  the highest zone a plain, a PMM_DMA and a
 *                                 PMM_DMA32 allocation may use (the allocator
 *                                 tries that zone, then each lower one)
 *   PADDR_LIMIT                   one past the highest mappable physical
 *                                 address (ioremap refuses anything above)
 * Zone ends must be multiples of the largest buddy block (4 MiB) above the
 * RAM base.
 */
#ifndef MACHINE_PMPARAM_H
#define MACHINE_PMPARAM_H

#include <mercator/types.h>

/* Linux's x86-64 zones: ISA DMA below 16 MiB, 32-bit devices below 4 GiB,
 * and the rest; no HIGHMEM, since the linear map covers all RAM. */
enum zone_id { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, NR_ZONES };

#define ZONE_DMA_END    (16 * MiB)
#define ZONE_DMA32_END  (4 * GiB)
#define PADDR_LIMIT     (1ULL << 52)    /* x86-64 MAXPHYADDR */

#define MACHINE_ZONE_TABLE {                                    \
        [ZONE_DMA]    = { "DMA",    ZONE_DMA_END },             \
        [ZONE_DMA32]  = { "DMA32",  ZONE_DMA32_END },           \
        [ZONE_NORMAL] = { "Normal", PADDR_LIMIT },              \
}

#define PMM_ZONE_DEFAULT ZONE_NORMAL
#define PMM_ZONE_DMA     ZONE_DMA
#define PMM_ZONE_DMA32   ZONE_DMA32

#endif
