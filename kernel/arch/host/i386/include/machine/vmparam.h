/*
 * vmparam.h (host, PMAP=i386 and i386-pae) - the i386 layout
 * (kernel/arch/i386/layout.h: 3G/1G split, vmalloc, kmap window, fixmap,
 * recursive slot), over the host build's "physical memory", one array:
 * physical address pa is host_ram + pa. vaddr_t stays 64 bits wide here;
 * the i386 table code keeps every address below 4 GiB itself.
 */
#ifndef MACHINE_VMPARAM_H
#define MACHINE_VMPARAM_H

#include <arch/i386/layout.h>

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
