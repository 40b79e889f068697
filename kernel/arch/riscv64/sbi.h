/*
 * sbi.h - calls into the SBI firmware (OpenSBI) below the kernel: the
 * timer and system reset. Each is an `ecall` with the extension id in a7
 * and the function id in a6; a0 returns an error code, a1 a value.
 */
#ifndef ARCH_RISCV64_SBI_H
#define ARCH_RISCV64_SBI_H

#include <mercator/types.h>

#define SBI_EXT_BASE    0x10
#define SBI_EXT_TIME    0x54494D45      /* "TIME" */
#define SBI_EXT_SRST    0x53525354      /* "SRST" */

struct sbi_ret { long error, value; };

static inline struct sbi_ret sbi_call(unsigned long ext, unsigned long fn,
                                      unsigned long a0, unsigned long a1)
{
        register unsigned long r0 __asm__("a0") = a0;
        register unsigned long r1 __asm__("a1") = a1;
        register unsigned long r6 __asm__("a6") = fn;
        register unsigned long r7 __asm__("a7") = ext;

        __asm__ volatile("ecall" : "+r"(r0), "+r"(r1)
                         : "r"(r6), "r"(r7) : "memory");
        return (struct sbi_ret){ (long)r0, (long)r1 };
}

/* Ask for a supervisor timer interrupt when `time` reaches `when`. */
static inline void sbi_set_timer(uint64_t when)
{
        sbi_call(SBI_EXT_TIME, 0, when, 0);
}

/* Power off (SBI's shutdown: QEMU always exits 0 through it). */
static inline void sbi_shutdown(void)
{
        sbi_call(SBI_EXT_SRST, 0, 0, 0);
}

#endif
