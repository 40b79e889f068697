/*
 * cpu.h (i386) - the 32-bit x86 instructions the kernel uses: the shared
 * x86 ones (kernel/arch/x86/cpu.h) and what only protected mode has.
 */
#ifndef ARCH_I386_CPU_H
#define ARCH_I386_CPU_H

#include <arch/x86/cpu.h>

static inline uint32_t read_eflags(void)
{
        uint32_t v;
        __asm__ volatile("pushfl; popl %0" : "=r"(v));
        return v;
}

#endif
