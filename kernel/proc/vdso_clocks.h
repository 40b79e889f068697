/*
 * vdso_clocks.h - the clock calls every vDSO answers in user space from
 * the [vvar] page (mercator/vdso_data.h), compiled into each
 * architecture's vdso.c (user code: no kernel calls).
 *
 * The arithmetic is the kernel's own (vdso_counter_ns), so a time from here
 * and one from the system call are on one scale. Whatever cannot be
 * answered here (the CPU-time clocks, TAI, an unknown id, a kernel without
 * a usable counter) goes to the system call, whose answer (EINVAL
 * included) is final.
 *
 * The includer defines, before including this:
 *   VDSO_MODE_MACHINE            the vdso_data.mode its counter needs;
 *   vdso_read_counter()          that counter, read after the loads before
 *                                it (so the sequence check brackets it);
 *   vdso_syscall2(nr, a, b)      a system call with two arguments;
 *   SYS_clock_gettime, SYS_clock_getres, SYS_gettimeofday, and SYS_time
 *                                where the architecture has time(2).
 * and, optionally, vdso_div32(n, d, &rem) (n / d and n % d for a 32-bit d)
 * where the compiler would call a library for 64-bit division (i386).
 * The only data read is [vvar]: vvar_data and vvar_timens, hidden symbols
 * the linker script places two pages and one page below the image
 * (reached pc-relative, or GOT-relative on i386: no relocation either
 * way). In a time namespace vvar_data is the namespace's page
 * (VDSO_MODE_TIMENS, constant) and the clock is in vvar_timens, as
 * Linux's timens page and vvar page trade places.
 */
#ifndef PROC_VDSO_CLOCKS_H
#define PROC_VDSO_CLOCKS_H

#include <mercator/clock.h>
#include <mercator/vdso_data.h>

#define NSEC            1000000000ULL
#define TICK_NS         (NSEC / HZ)     /* the COARSE clocks' step */

/* Linux's clock ids. */
#define CLOCK_REALTIME          0
#define CLOCK_MONOTONIC         1
#define CLOCK_MONOTONIC_RAW     4
#define CLOCK_REALTIME_COARSE   5
#define CLOCK_MONOTONIC_COARSE  6
#define CLOCK_BOOTTIME          7

struct k_timespec { long sec, nsec; };
struct k_timeval { long sec, usec; };
struct k_timezone { int minuteswest, dsttime; };

extern const volatile struct vdso_data vvar_data
        __attribute__((visibility("hidden")));
extern const volatile struct vdso_data vvar_timens
        __attribute__((visibility("hidden")));

#ifndef VDSO_HAVE_DIV32
static inline uint64_t vdso_div32(uint64_t n, uint32_t d, uint32_t *rem)
{
        *rem = (uint32_t)(n % d);
        return n / d;
}
#endif

/* What one reading gives: host monotonic ns, the realtime offset, and the
 * time namespace's offsets (0 outside one). */
struct vdso_snap {
        uint64_t mono, realtime_off, mono_off, boot_off;
};

/* The page the clock is on: vvar_data, or in a time namespace the next. */
static inline const volatile struct vdso_data *clock_page(void)
{
        return vvar_data.mode == VDSO_MODE_TIMENS ? &vvar_timens : &vvar_data;
}

/* One consistent snapshot; false if the kernel published no usable
 * counter. */
static bool snapshot(struct vdso_snap *s)
{
        const volatile struct vdso_data *d = &vvar_data;
        uint32_t seq;

        s->mono_off = s->boot_off = 0;
        if (d->mode == VDSO_MODE_TIMENS) {
                /* a namespace's page: written once before it was mapped */
                s->mono_off = d->mono_offset;
                s->boot_off = d->boot_offset;
                d = &vvar_timens;
        }
        for (;;) {
                seq = d->seq;
                __asm__ volatile("" : : : "memory");
                if (seq & 1)
                        continue;               /* the kernel is writing */
                if (d->mode != VDSO_MODE_MACHINE)
                        return false;
                s->mono = vdso_counter_ns(d->counter_base, d->mult,
                                          vdso_read_counter());
                s->realtime_off = d->realtime_offset;
                __asm__ volatile("" : : : "memory");
                if (d->seq == seq)
                        return true;
        }
}

/* CLOCK_MONOTONIC and CLOCK_REALTIME outside a time namespace, the calls
 * programs make, in one straight line: no offsets to gather, no second
 * switch, fewer registers to spill (i386: 115 guest instructions per
 * clock_gettime through the general path). false: the general path. */
static inline __attribute__((always_inline)) bool clock_fast(long id, uint64_t *ns)
{
        const volatile struct vdso_data *d = &vvar_data;
        uint64_t t, off;
        uint32_t seq;

        do {
                seq = d->seq;
                __asm__ volatile("" : : : "memory");
                if (d->mode != VDSO_MODE_MACHINE)
                        return false;   /* no counter, a namespace, or a write */
                off = id == CLOCK_REALTIME ? d->realtime_offset : 0;
                t = vdso_counter_ns(d->counter_base, d->mult, vdso_read_counter());
                __asm__ volatile("" : : : "memory");
        } while ((seq & 1) || d->seq != seq);
        *ns = t + off;
        return true;
}

/* The clocks answered here, as the kernel's clock_read() defines them.
 * Inlined into each entry, and the vDSOs are built without jump tables:
 * under QEMU's TCG every indirect branch (a return, a switch through a
 * table) is a lookup of the next translated block, and x86-64's
 * clock_gettime had two more of them than Linux's; on i386 the call, its
 * PIC prologue and the spills around it were a sixth of glibc's
 * clock_gettime. */
static inline __attribute__((always_inline)) bool clock_ns(long id, uint64_t *ns)
{
        struct vdso_snap sn;
        uint32_t part;

        if ((id == CLOCK_MONOTONIC || id == CLOCK_REALTIME) && clock_fast(id, ns))
                return true;
        switch (id) {
        case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
        case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
        case CLOCK_BOOTTIME:
                break;
        default:
                return false;
        }
        if (!snapshot(&sn))
                return false;
        switch (id) {
        case CLOCK_REALTIME:
                *ns = sn.mono + sn.realtime_off;
                break;
        case CLOCK_REALTIME_COARSE:
                (void)vdso_div32(sn.mono, (uint32_t)TICK_NS, &part);
                *ns = sn.mono - part + sn.realtime_off;
                break;
        case CLOCK_MONOTONIC_COARSE:
                (void)vdso_div32(sn.mono, (uint32_t)TICK_NS, &part);
                *ns = sn.mono - part + sn.mono_off;
                break;
        case CLOCK_BOOTTIME:
                *ns = sn.mono + sn.boot_off;
                break;
        default:                        /* MONOTONIC, MONOTONIC_RAW */
                *ns = sn.mono + sn.mono_off;
        }
        return true;
}

int __vdso_clock_gettime(long id, struct k_timespec *ts)
{
        uint64_t ns;
        uint32_t nsec;

        if (!clock_ns(id, &ns))
                return (int)vdso_syscall2(SYS_clock_gettime, id, (long)ts);
        ts->sec = (long)vdso_div32(ns, (uint32_t)NSEC, &nsec);
        ts->nsec = (long)nsec;
        return 0;
}

int __vdso_gettimeofday(struct k_timeval *tv, struct k_timezone *tz)
{
        uint64_t ns;
        uint32_t nsec;

        if (!clock_ns(CLOCK_REALTIME, &ns))
                return (int)vdso_syscall2(SYS_gettimeofday, (long)tv, (long)tz);
        if (tv) {
                tv->sec = (long)vdso_div32(ns, (uint32_t)NSEC, &nsec);
                tv->usec = (long)(nsec / 1000);
        }
        if (tz) {
                tz->minuteswest = clock_page()->tz_minuteswest;
                tz->dsttime = clock_page()->tz_dsttime;
        }
        return 0;
}

#ifdef SYS_time
long __vdso_time(long *t)
{
        uint64_t ns;
        uint32_t nsec;
        long sec;

        if (!clock_ns(CLOCK_REALTIME, &ns))
                return vdso_syscall2(SYS_time, (long)t, 0);
        sec = (long)vdso_div32(ns, (uint32_t)NSEC, &nsec);
        if (t)
                *t = sec;
        return sec;
}
#endif

int __vdso_clock_getres(long id, struct k_timespec *res)
{
        long ns;

        switch (id) {
        case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
        case CLOCK_BOOTTIME:
                ns = 1;
                break;
        case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
                ns = (long)TICK_NS;
                break;
        default:
                return (int)vdso_syscall2(SYS_clock_getres, id, (long)res);
        }
        if (res) {
                res->sec = 0;
                res->nsec = ns;
        }
        return 0;
}

#endif
