/*
 * vmparam.h (host, PMAP=riscv64) - the host build's "physical memory" is
 * one array: physical address pa is host_ram + pa. The layout constants
 * are riscv64's (kernel/arch/riscv64/include/machine/vmparam.h), because
 * this build runs the Sv39 table code.
 */
#ifndef MACHINE_VMPARAM_H
#define MACHINE_VMPARAM_H

#include <mercator/types.h>

#define MAXVA           (1UL << 38)
#define TRAMPOLINE      (MAXVA - PAGE_SIZE)
#define TRAPFRAME       (TRAMPOLINE - PAGE_SIZE)
#define USER_MIN        0x0000000000010000UL
#define USER_MAX        (MAXVA - 2 * MiB)
#define LINEAR_BASE     0xffffffc000000000UL
#define LINEAR_SIZE     (128UL << 30)
#define VMALLOC_BASE    0xffffffe000000000UL
#define VMALLOC_END     0xffffffe200000000UL
#define IOREMAP_BASE    0xffffffe800000000UL
#define IOREMAP_END     0xffffffea00000000UL
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
