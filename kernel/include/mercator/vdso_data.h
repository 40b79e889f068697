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

#ifndef __ASSEMBLER__
#include <mercator/types.h>
#endif

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

/* Byte offsets in struct vdso_data, for the vDSO's assembly (checked
 * below). mono_* and real_* are pairs: REALTIME's field follows
 * MONOTONIC's, so clock id 0 or 1 picks one by index. */
#define VDSO_OFF_SEQ            0
#define VDSO_OFF_ANCHOR         56
#define VDSO_OFF_MONO_SEC       64      /* real_sec at + 8 */
#define VDSO_OFF_MONO_NSEC      80      /* real_nsec at + 4 */
#define VDSO_OFF_ANCHOR_FRAC    88
#define VDSO_OFF_ANCHOR_MULT    92

#ifndef __ASSEMBLER__
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
        /* Where machine/vdso.h sets MACHINE_VDSO_ANCHOR (i386), on the
         * machine's clock page only (never a namespace's): the two clocks
         * programs read, at counter value `anchor`, refreshed every tick
         * (vdso_tick), so that a 32-bit vDSO adds a 32-bit product to
         * them instead of multiplying a 64-bit count and dividing by 10^9
         * (vdso_anchor_add; i386's vdso/clock.S). anchor_mult is mult
         * when it fits 32 bits (under 1 ns per count: a counter faster
         * than 1 GHz, as the TSC) and the page is a counter's
         * (VDSO_MODE_TSC, _RDTIME), else 0 (no counter, a time
         * namespace's page) and the anchor is not used: the one field a
         * reader checks. */
        uint64_t anchor;                /* counter value */
        uint64_t mono_sec, real_sec;    /* MONOTONIC, REALTIME at anchor */
        uint32_t mono_nsec, real_nsec;
        uint32_t anchor_frac;           /* (anchor - base) * mult mod 2^32 */
        uint32_t anchor_mult;
};

#define VDSO_OFF_CHECK(f, off) \
        _Static_assert(__builtin_offsetof(struct vdso_data, f) == (off), \
                       "vdso_data." #f " is not at VDSO_OFF_*")
VDSO_OFF_CHECK(seq, VDSO_OFF_SEQ);
VDSO_OFF_CHECK(anchor, VDSO_OFF_ANCHOR);
VDSO_OFF_CHECK(mono_sec, VDSO_OFF_MONO_SEC);
VDSO_OFF_CHECK(real_sec, VDSO_OFF_MONO_SEC + 8);
VDSO_OFF_CHECK(mono_nsec, VDSO_OFF_MONO_NSEC);
VDSO_OFF_CHECK(real_nsec, VDSO_OFF_MONO_NSEC + 4);
VDSO_OFF_CHECK(anchor_frac, VDSO_OFF_ANCHOR_FRAC);
VDSO_OFF_CHECK(anchor_mult, VDSO_OFF_ANCHOR_MULT);

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

/*
 * The anchor (the fields above) for counter value `at`, from base, mult
 * and the realtime offset: MONOTONIC at `at` is vdso_counter_ns(base,
 * mult, at), split into seconds and nanoseconds, and REALTIME that plus
 * the offset. The fraction the shift drops is kept, so that the anchor
 * plus vdso_anchor_add is exactly vdso_counter_ns at any later count:
 * (A + t) * mult >> 32 = (A * mult >> 32) + ((A * mult mod 2^32 + t * mult)
 * >> 32) with A = at - base. Kernel only (divides by 10^9).
 */
static inline void vdso_anchor_set(struct vdso_data *d, uint64_t at)
{
        uint64_t mono = vdso_counter_ns(d->counter_base, d->mult, at);
        uint64_t real = mono + d->realtime_offset;

        d->anchor = at;
        d->anchor_mult = (d->mode == VDSO_MODE_TSC || d->mode == VDSO_MODE_RDTIME) &&
                         !(d->mult >> 32) ? (uint32_t)d->mult : 0;
        d->anchor_frac = (uint32_t)((uint64_t)(uint32_t)(at - d->counter_base) *
                                    (uint32_t)d->mult);
        d->mono_sec = mono / 1000000000u;
        d->mono_nsec = (uint32_t)(mono % 1000000000u);
        d->real_sec = real / 1000000000u;
        d->real_nsec = (uint32_t)(real % 1000000000u);
}

/* Nanoseconds to add to the anchor's clocks t counts after it: one
 * 32-by-32 multiply, exact (as vdso_counter_ns) while t < 2^31; a reader
 * uses it only with a 32-bit mult (anchor_mult not 0) and t below that
 * (else vdso_counter_ns). (A sum under 2^63 + 2^32: no overflow.) The
 * rule i386's vdso/clock.S follows in assembly; host-tested here. */
static inline uint32_t vdso_anchor_add(uint32_t t, uint32_t mult, uint32_t frac)
{
        return (uint32_t)(((uint64_t)t * mult + frac) >> VDSO_SHIFT);
}

/* mult for a counter that ticks `per_ms` times per millisecond. */
static inline uint64_t vdso_mult(uint64_t per_ms)
{
        return ((uint64_t)1000000 << VDSO_SHIFT) / (per_ms ? per_ms : 1);
}

#endif  /* !__ASSEMBLER__ */

#endif
