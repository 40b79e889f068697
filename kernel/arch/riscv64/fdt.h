/*
 * fdt.h - what the riscv64 kernel reads from the flattened device tree
 * that OpenSBI passes in a1 (the devicetree specification's format).
 */
#ifndef ARCH_RISCV64_FDT_H
#define ARCH_RISCV64_FDT_H

#include <mercator/types.h>
#include <vm/memmap.h>

#define FDT_MAX_RANGES  16
#define FDT_MAX_VIRTIO  8
#define FDT_MAX_HARTS   16      /* MAX_CPUS (percpu.h) */       /* QEMU virt has eight virtio-mmio transports */

struct fdt_device {
        paddr_t  base;
        uint64_t size;
        uint32_t irq;           /* its interrupt number, 0 if none */
        bool     found;
};

struct fdt_info {
        paddr_t  dtb_pa;
        uint32_t dtb_size;
        struct mem_range mem[FDT_MAX_RANGES];   /* /memory reg */
        unsigned nmem;
        struct mem_range resv[FDT_MAX_RANGES];  /* /reserved-memory, mem rsvmap */
        unsigned nresv;
        struct fdt_device uart, plic, clint, test, rtc;
        struct fdt_device virtio[FDT_MAX_VIRTIO];       /* "virtio,mmio" */
        unsigned nvirtio;
        uint64_t timebase_hz;
        unsigned nharts;        /* harts listed, hartid[] holds each id */
        unsigned long hartid[FDT_MAX_HARTS];    /* /cpus/cpu@N's reg */
        char     isa[64];       /* the first hart's riscv,isa */
        char     mmu[16];       /* its mmu-type ("riscv,sv39", ...) */
        char     bootargs[256];
        paddr_t  initrd_start, initrd_end;
};

/*
 * Parse the device tree at dtb (mapped) into *info.
 * => returns 0, or -1 if it is not a device tree (bad magic or version).
 */
int fdt_parse(const void *dtb, struct fdt_info *info);

#endif
