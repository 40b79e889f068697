/*
 * vdso.c - the i386 vDSO's clocks: the calls a process answers in user
 * space from the [vvar] page the kernel publishes (mercator/vdso_data.h),
 * without entering the kernel. Built as user code, position independent,
 * with entry.S (__kernel_vsyscall and the signal returns) into a small
 * shared object (vdso.lds) that the kernel maps into every process as
 * [vdso], with [vvar] the page just below it. The C libraries find it
 * through AT_SYSINFO_EHDR; glibc looks up __vdso_clock_gettime64 first
 * (64-bit time_t), then the 32-bit __vdso_* names, all under LINUX_2.6.
 * The clocks are proc/vdso_clocks.h's (shared with the other ports), but
 * __vdso_clock_gettime64's REALTIME and MONOTONIC are clock.S's; here:
 * the TSC, int $0x80 for what the kernel must answer, 64-by-32 division
 * with divl (no libgcc in a vDSO) and clock_gettime64. (No getcpu: i386
 * Linux's vDSO has none either.)
 *
 * No relocations: vvar_data is hidden, reached GOT-relative (the linker
 * resolves the GOT's address itself).
 */
#define VDSO_BUILD
#include <mercator/vdso_data.h>
#include <machine/vdso.h>

#define SYS_time                13
#define SYS_gettimeofday        78
#define SYS_clock_gettime       265     /* 32-bit struct timespec */
#define SYS_clock_getres        266
#define SYS_clock_gettime64     403

#define VDSO_MODE_MACHINE       VDSO_MODE_TSC

static long vdso_syscall2(long nr, long a, long b)
{
        long ret;

        __asm__ volatile("int $0x80" : "=a"(ret) : "0"(nr), "b"(a), "c"(b)
                         : "memory");
        return ret;
}

/* The TSC, not read before the loads ahead of it (lfence: the kernel
 * publishes VDSO_MODE_TSC only on a CPU with SSE2, which has it). */
static inline uint64_t vdso_read_counter(void)
{
        uint32_t lo, hi;

        __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
        return (uint64_t)hi << 32 | lo;
}

/* n / d and n % d in two divl: the high word first, then its remainder
 * with the low word (below d, so the quotient fits 32 bits). */
#define VDSO_HAVE_DIV32 1
static inline uint64_t vdso_div32(uint64_t n, uint32_t d, uint32_t *rem)
{
        uint32_t hi = (uint32_t)(n >> 32), qh = hi / d, r = hi % d, ql;

        __asm__("divl %4" : "=a"(ql), "=d"(r)
                : "0"((uint32_t)n), "1"(r), "rm"(d));
        *rem = r;
        return (uint64_t)qh << 32 | ql;
}

#include <proc/vdso_clocks.h>

/* Linux's struct __kernel_timespec: 64-bit seconds and nanoseconds. */
struct k_timespec64 { int64_t sec, nsec; };

/* __vdso_clock_gettime64 for what clock.S's does not answer (any clock but
 * REALTIME and MONOTONIC, a time namespace, no anchor, a retry). */
__attribute__((visibility("hidden")))
int clock_gettime64_general(long id, struct k_timespec64 *ts);

int clock_gettime64_general(long id, struct k_timespec64 *ts)
{
        uint64_t ns;
        uint32_t nsec;

        if (!clock_ns(id, &ns))
                return (int)vdso_syscall2(SYS_clock_gettime64, id, (long)ts);
        ts->sec = (int64_t)vdso_div32(ns, (uint32_t)NSEC, &nsec);
        ts->nsec = nsec;
        return 0;
}
