/*
 * sbi.h - calls into the SBI firmware (OpenSBI) below the kernel: the
 * timer, system reset, inter-processor interrupts and starting harts
 * (HSM). Each is an `ecall` with the extension id in a7 and the function
 * id in a6, arguments in a0-a2; a0 returns an error code, a1 a value.
 * The firmware keeps every other register.
 */
#ifndef ARCH_RISCV64_SBI_H
#define ARCH_RISCV64_SBI_H

#include <mercator/types.h>

#define SBI_EXT_BASE    0x10
#define SBI_EXT_TIME    0x54494D45      /* "TIME" */
#define SBI_EXT_SRST    0x53525354      /* "SRST" */
#define SBI_EXT_IPI     0x735049        /* "sPI" */
#define SBI_EXT_HSM     0x48534D        /* "HSM" */
#define SBI_EXT_RFENCE  0x52464E43      /* "RFNC" */
#define SBI_BASE_PROBE  3               /* probe_extension(eid) */
#define SBI_HSM_START   0               /* hart_start(hart, addr, opaque) */
#define SBI_HSM_STOP    1               /* hart_stop() */
#define SBI_HSM_STATUS  2               /* hart_get_status(hart) */
#define SBI_HSM_STARTED 0               /* a status: running */

struct sbi_ret { long error, value; };

static inline struct sbi_ret sbi_call3(unsigned long ext, unsigned long fn,
                                       unsigned long a0, unsigned long a1,
                                       unsigned long a2)
{
        register unsigned long r0 __asm__("a0") = a0;
        register unsigned long r1 __asm__("a1") = a1;
        register unsigned long r2 __asm__("a2") = a2;
        register unsigned long r6 __asm__("a6") = fn;
        register unsigned long r7 __asm__("a7") = ext;

        __asm__ volatile("ecall" : "+r"(r0), "+r"(r1)
                         : "r"(r2), "r"(r6), "r"(r7) : "memory");
        return (struct sbi_ret){ (long)r0, (long)r1 };
}

static inline struct sbi_ret sbi_call(unsigned long ext, unsigned long fn,
                                      unsigned long a0, unsigned long a1)
{
        return sbi_call3(ext, fn, a0, a1, 0);
}

/* Ask for a supervisor timer interrupt when `time` reaches `when`. */
static inline void sbi_set_timer(uint64_t when)
{
        sbi_call(SBI_EXT_TIME, 0, when, 0);
}

/* Whether the firmware offers extension ext. */
static inline bool sbi_has(unsigned long ext)
{
        struct sbi_ret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE, ext, 0);

        return r.error == 0 && r.value != 0;
}

/* A supervisor software interrupt (sip.SSIP) to hart `hart`. */
static inline long sbi_send_ipi(unsigned long hart)
{
        return sbi_call(SBI_EXT_IPI, 0, 1, hart).error;
}

/* sfence.vma of [start, start + size) on the harts of hart_mask (bit i:
 * hart hart_mask_base + i), done when it returns; size ~0: everything. */
static inline long sbi_remote_sfence_vma(unsigned long hart_mask,
                                         unsigned long hart_mask_base,
                                         vaddr_t start, unsigned long size)
{
        register unsigned long r0 __asm__("a0") = hart_mask;
        register unsigned long r1 __asm__("a1") = hart_mask_base;
        register unsigned long r2 __asm__("a2") = start;
        register unsigned long r3 __asm__("a3") = size;
        register unsigned long r6 __asm__("a6") = 1;
        register unsigned long r7 __asm__("a7") = SBI_EXT_RFENCE;

        __asm__ volatile("ecall" : "+r"(r0), "+r"(r1)
                         : "r"(r2), "r"(r3), "r"(r6), "r"(r7) : "memory");
        return (long)r0;
}

/* Start a stopped hart in S-mode at physical addr, paging off, with
 * a0 = its id and a1 = opaque. => 0 or an SBI error. */
static inline long sbi_hart_start(unsigned long hart, paddr_t addr,
                                  unsigned long opaque)
{
        return sbi_call3(SBI_EXT_HSM, SBI_HSM_START, hart, addr, opaque).error;
}

/* Stop the calling hart: back to the firmware, STOPPED until a
 * hart_start. Returns only on an error. */
static inline long sbi_hart_stop(void)
{
        return sbi_call(SBI_EXT_HSM, SBI_HSM_STOP, 0, 0).error;
}

/* A hart's HSM status (SBI_HSM_STARTED, 1 stopped, 2 start pending, 3
 * stop pending), or a negative SBI error. */
static inline long sbi_hart_status(unsigned long hart)
{
        struct sbi_ret r = sbi_call(SBI_EXT_HSM, SBI_HSM_STATUS, hart, 0);

        return r.error ? r.error : (long)r.value;
}

/* Power off (SBI's shutdown: QEMU always exits 0 through it). */
static inline void sbi_shutdown(void)
{
        sbi_call(SBI_EXT_SRST, 0, 0, 0);
}

#endif
