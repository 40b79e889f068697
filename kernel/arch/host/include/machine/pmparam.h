/*
 * pmparam.h (host) - the simulated machine's physical zones. The host
 * platform keeps x86-64's three zones (DMA below 16 MiB, DMA32 below 4 GiB,
 * Normal) so that the allocator's fallback between zones is exercised by
 * the host tests; see the x86-64 file for what each name means.
 */
#ifndef MACHINE_PMPARAM_H
#define MACHINE_PMPARAM_H

#include <mercator/types.h>

enum zone_id { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, NR_ZONES };

#define ZONE_DMA_END    (16 * MiB)
#define ZONE_DMA32_END  (4 * GiB)
#define PADDR_LIMIT     (1ULL << 52)

#define MACHINE_ZONE_TABLE {                                    \
        [ZONE_DMA]    = { "DMA",    ZONE_DMA_END },             \
        [ZONE_DMA32]  = { "DMA32",  ZONE_DMA32_END },           \
        [ZONE_NORMAL] = { "Normal", PADDR_LIMIT },              \
}

#define PMM_ZONE_DEFAULT ZONE_NORMAL
#define PMM_ZONE_DMA     ZONE_DMA
#define PMM_ZONE_DMA32   ZONE_DMA32

#endif
