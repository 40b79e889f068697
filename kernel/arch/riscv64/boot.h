/*
 * boot.h (riscv64) - what boot.c found and built, for the rest of the port.
 */
#ifndef ARCH_RISCV64_BOOT_H
#define ARCH_RISCV64_BOOT_H

#include <mercator/types.h>
#include <vm/memmap.h>
#include "fdt.h"
#include "pte.h"

struct boot_info {
        struct fdt_info fdt;
        unsigned long hartid;
        struct mem_range fw[MEMMAP_MAX];        /* RAM and firmware holes */
        unsigned nfw;
        struct mem_range avail[MEMMAP_MAX];     /* minus kernel, DTB, initrd */
        unsigned navail;
        paddr_t ram_base, ram_end;
        uint64_t page_array_bytes;
        paddr_t kernel_root;                    /* the kernel's Sv39 root */
        paddr_t dtb_pa;                         /* the device tree we got */
};

extern struct boot_info boot_info;

/* Kernel-image layout symbols (kernel.ld, boot.S). */
extern char _kernel_start[], _kernel_end[], _text_start[], _text_end[];
extern char _rodata_start[], _rodata_end[], _data_start[], _data_end[];
extern char _trampoline_start[], _trampoline_end[];
extern char boot_stack_guard[], boot_stack[], boot_stack_top[];
extern char boot_pgtbl[], _start[];

/* boot.S: the hart smp.c is starting and its struct cpu, for a hart that
 * comes in at _start instead of _ap_start (see boot.S); how many did. */
struct cpu;
extern uint64_t ap_entry_hart;
extern struct cpu *ap_entry_cpu;
extern uint64_t boot_entry_strays;

#endif
