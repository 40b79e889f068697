/*
 * pmparam.h (riscv64) - physical memory as the page allocator sees it
 * (the contract is in the x86-64 file of the same name and docs/design.md).
 *
 * RAM starts at 0x80000000 on QEMU's virt board (the DT says where). There
 * is no ISA DMA below 16 MiB; Linux's riscv64 has ZONE_DMA32 (below 4 GiB,
 * for 32-bit bus masters) and ZONE_NORMAL, and so does Mercator. A PMM_DMA
 * allocation uses DMA32, the lowest zone there is.
 */
#ifndef MACHINE_PMPARAM_H
#define MACHINE_PMPARAM_H

#include <mercator/types.h>

enum zone_id { ZONE_DMA32, ZONE_NORMAL, NR_ZONES };

#define ZONE_DMA32_END  (4 * GiB)
#define PADDR_LIMIT     (1ULL << 56)    /* Sv39: 44-bit PPN, 56-bit PA */

#define MACHINE_ZONE_TABLE {                                    \
        [ZONE_DMA32]  = { "DMA32",  ZONE_DMA32_END },           \
        [ZONE_NORMAL] = { "Normal", PADDR_LIMIT },              \
}

#define PMM_ZONE_DEFAULT ZONE_NORMAL
#define PMM_ZONE_DMA     ZONE_DMA32
#define PMM_ZONE_DMA32   ZONE_DMA32

#endif
