/*
 * vmparam.h (host) - the host build's "physical memory" is one array.
 *
 * Physical address pa is host_ram + pa; the layout constants are the
 * x86-64 ones, because the host build runs the x86-64 table code.
 */
#ifndef MACHINE_VMPARAM_H
#define MACHINE_VMPARAM_H

#include <mercator/types.h>

#define USER_MIN        0x0000000000010000UL
#define USER_MAX        0x00007ffffffff000UL
#define LINEAR_BASE     0xffff800000000000UL
#define LINEAR_SIZE     (64UL << 40)
#define VMALLOC_BASE    0xffffc00000000000UL
#define VMALLOC_END     0xffffc08000000000UL
#define IOREMAP_BASE    0xffffc08000000000UL
#define IOREMAP_END     0xffffc10000000000UL
#define KERNEL_BASE     0xffffffff80000000UL

extern uint8_t *host_ram;       /* simulated RAM, host_ram_size bytes */
extern uint64_t host_ram_size;

static inline void *phys_to_virt(paddr_t pa)
{
        return host_ram + pa;
}

static inline paddr_t virt_to_phys(const void *va)
{
        return (paddr_t)((const uint8_t *)va - host_ram);
}

#endif
