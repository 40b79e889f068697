/*
 * cpu.h - x86-64 instructions the kernel uses: the shared x86 ones
 * (kernel/arch/x86/cpu.h) and what only long mode has.
 */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <arch/x86/cpu.h>

#define MSR_FS_BASE     0xc0000100u
#define MSR_GS_BASE     0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u /* swapgs exchanges it with GS_BASE */

static inline uint64_t read_rflags(void)
{
        uint64_t v;
        __asm__ volatile("pushfq; popq %0" : "=r"(v));
        return v;
}

#endif
