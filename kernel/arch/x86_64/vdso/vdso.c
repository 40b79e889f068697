/*
 * vdso.c - the x86-64 vDSO: the clock calls a process answers in user space
 * from the [vvar] page the kernel publishes (mercator/vdso_data.h), without
 * entering the kernel. Built as user code, position independent, into a
 * small shared object (vdso.lds) that the kernel maps into every process as
 * [vdso], with [vvar] the page just below it; C libraries find it through
 * AT_SYSINFO_EHDR and look up the __vdso_* names under version LINUX_2.6,
 * as on Linux.
 *
 * The arithmetic is the kernel's own (vdso_counter_ns), so a time from here
 * and one from the system call are on one scale. Whatever cannot be answered
 * here (the CPU-time clocks, TAI, an unknown id, a kernel without a usable
 * counter) goes to the system call, whose answer (EINVAL included) is final.
 *
 * No relocations: the only data it reads is vvar_data, a hidden symbol the
 * linker script places one page below the image, reached rip-relative.
 */
#define VDSO_BUILD
#include <mercator/clock.h>
#include <mercator/vdso_data.h>
#include <machine/vdso.h>

#define NSEC            1000000000ULL
#define TICK_NS         (NSEC / HZ)     /* the COARSE clocks' step */

#define SYS_gettimeofday        96
#define SYS_time                201
#define SYS_clock_gettime       228
#define SYS_clock_getres        229

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

static long syscall2(long nr, long a, long b)
{
        long ret;

        __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b)
                         : "rcx", "r11", "memory");
        return ret;
}

/* The TSC, not read before the loads ahead of it (lfence), so the sequence
 * check really brackets it. */
static inline uint64_t rdtsc_ordered(void)
{
        uint32_t lo, hi;

        __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
        return (uint64_t)hi << 32 | lo;
}

/* Monotonic ns and the realtime offset, one consistent snapshot; false if
 * the kernel published no usable counter. */
static bool snapshot(uint64_t *mono, uint64_t *offset)
{
        const volatile struct vdso_data *d = &vvar_data;
        uint32_t seq;

        for (;;) {
                seq = d->seq;
                __asm__ volatile("" : : : "memory");
                if (seq & 1)
                        continue;               /* the kernel is writing */
                if (d->mode != VDSO_MODE_TSC)
                        return false;
                *mono = vdso_counter_ns(d->counter_base, d->mult, rdtsc_ordered());
                *offset = d->realtime_offset;
                __asm__ volatile("" : : : "memory");
                if (d->seq == seq)
                        return true;
        }
}

/* The clocks answered here, as the kernel's clock_read() defines them. */
static bool clock_ns(long id, uint64_t *ns)
{
        uint64_t mono, off;

        switch (id) {
        case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
        case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
        case CLOCK_BOOTTIME:
                break;
        default:
                return false;
        }
        if (!snapshot(&mono, &off))
                return false;
        switch (id) {
        case CLOCK_REALTIME:
                *ns = mono + off;
                break;
        case CLOCK_REALTIME_COARSE:
                *ns = mono - mono % TICK_NS + off;
                break;
        case CLOCK_MONOTONIC_COARSE:
                *ns = mono - mono % TICK_NS;
                break;
        default:
                *ns = mono;
        }
        return true;
}

int __vdso_clock_gettime(long id, struct k_timespec *ts)
{
        uint64_t ns;

        if (!clock_ns(id, &ns))
                return (int)syscall2(SYS_clock_gettime, id, (long)ts);
        ts->sec = (long)(ns / NSEC);
        ts->nsec = (long)(ns % NSEC);
        return 0;
}

int __vdso_gettimeofday(struct k_timeval *tv, struct k_timezone *tz)
{
        uint64_t ns;

        if (!clock_ns(CLOCK_REALTIME, &ns))
                return (int)syscall2(SYS_gettimeofday, (long)tv, (long)tz);
        if (tv) {
                tv->sec = (long)(ns / NSEC);
                tv->usec = (long)(ns % NSEC / 1000);
        }
        if (tz) {
                tz->minuteswest = vvar_data.tz_minuteswest;
                tz->dsttime = vvar_data.tz_dsttime;
        }
        return 0;
}

long __vdso_time(long *t)
{
        uint64_t ns;
        long sec;

        if (!clock_ns(CLOCK_REALTIME, &ns))
                return syscall2(SYS_time, (long)t, 0);
        sec = (long)(ns / NSEC);
        if (t)
                *t = sec;
        return sec;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
        unsigned limit;

        (void)unused;
        __asm__("lsl %1, %0" : "=r"(limit) : "r"(VDSO_SEL_CPUNODE));
        if (cpu)
                *cpu = limit & 0xfff;
        if (node)
                *node = limit >> 12;
        return 0;
}

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
                return (int)syscall2(SYS_clock_getres, id, (long)res);
        }
        if (res) {
                res->sec = 0;
                res->nsec = ns;
        }
        return 0;
}

/* The unprefixed names Linux's vDSO exports too. */
int clock_gettime(long, struct k_timespec *)
        __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct k_timeval *, struct k_timezone *)
        __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *)
        __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(long, struct k_timespec *)
        __attribute__((weak, alias("__vdso_clock_getres")));
