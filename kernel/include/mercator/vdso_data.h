/*
 * vdso_data.h - the clock data the kernel publishes in the [vvar] page and
 * the one formula that turns a cycle counter into nanoseconds. The kernel's
 * own clock (clock_monotonic_ns) and the vDSO's user-space clocks both use
 * vdso_counter_ns(), so a time read in user space and one read through the
 * system call come from the same arithmetic and never disagree in order.
 *
 * Included by the kernel and by the vDSO (built as user code: only
 * <stdint.h>-like types, no kernel calls).
 *
 * Protocol (a sequence counter, Linux's vdso seqcount): the kernel makes seq
 * odd, writes the fields, makes seq even again; a reader reads seq (retrying
 * while odd), the fields and the counter, then seq again, and retries if it
 * changed. One CPU today; with SMP the writer adds its barriers.
 */
#ifndef MERCATOR_VDSO_DATA_H
#define MERCATOR_VDSO_DATA_H

#include <mercator/types.h>

#define VDSO_SHIFT      32      /* ns = (counter - base) * mult >> 32 */

/* vdso_data.mode */
#define VDSO_MODE_NONE  0       /* no usable counter: the vDSO makes the
                                 * system call for every clock */
#define VDSO_MODE_TSC   1       /* x86: rdtsc */
#define VDSO_MODE_RDTIME 2      /* riscv: the time CSR */
#define VDSO_MODE_TIMENS 3      /* a time namespace's page (Linux's timens
                                 * page): the clock is on the next page,
                                 * and the offsets below are added to it */

/* [vvar]'s pages: the clock, then the slot a time namespace uses (zeroes
 * outside one). A process in a namespace has them the other way round:
 * its namespace's page first, the clock after (proc/vdso.c). */
#define VDSO_VVAR_PAGES 2

struct vdso_data {
        uint32_t seq;                   /* odd while the kernel writes */
        uint32_t mode;                  /* VDSO_MODE_* */
        uint64_t counter_base;          /* counter value at monotonic 0 */
        uint64_t mult;                  /* ns per count << VDSO_SHIFT */
        uint64_t realtime_offset;       /* REALTIME - MONOTONIC, ns (mod 2^64) */
        int32_t  tz_minuteswest;        /* gettimeofday's timezone */
        int32_t  tz_dsttime;
        /* VDSO_MODE_TIMENS pages only: ns added to the MONOTONIC clocks,
         * and to BOOTTIME (mod 2^64: they may be negative). */
        uint64_t mono_offset;
        uint64_t boot_offset;
};

/* Nanoseconds since monotonic 0 at counter value `now`. 128-bit product:
 * no overflow for centuries of uptime at any counter rate over 1 MHz.
 * 32-bit targets (i386) have no __int128: the same value (mod 2^64) from
 * 32-bit halves, d * mult >> 32 = dh * mult + dl * mh + (dl * ml >> 32). */
static inline uint64_t vdso_counter_ns(uint64_t base, uint64_t mult, uint64_t now)
{
        uint64_t d = now - base;
#if defined(__SIZEOF_INT128__)
        return (uint64_t)(((unsigned __int128)d * mult) >> VDSO_SHIFT);
#else
        _Static_assert(VDSO_SHIFT == 32, "the halves assume a 32-bit shift");
        uint64_t dh = d >> 32, dl = d & 0xffffffffu;
        uint64_t mh = mult >> 32, ml = mult & 0xffffffffu;

        return dh * mult + dl * mh + ((dl * ml) >> VDSO_SHIFT);
#endif
}

/* mult for a counter that ticks `per_ms` times per millisecond. */
static inline uint64_t vdso_mult(uint64_t per_ms)
{
        return ((uint64_t)1000000 << VDSO_SHIFT) / (per_ms ? per_ms : 1);
}

#endif
