/*
 * vdso.c - the x86-64 vDSO: the clock calls a process answers in user space
 * from the [vvar] page the kernel publishes (mercator/vdso_data.h), without
 * entering the kernel. Built as user code, position independent, into a
 * small shared object (vdso.lds) that the kernel maps into every process as
 * [vdso], with [vvar] the page just below it; C libraries find it through
 * AT_SYSINFO_EHDR and look up the __vdso_* names under version LINUX_2.6,
 * as on Linux. The clocks are proc/vdso_clocks.h's (shared with the other
 * ports); here: the TSC, the system call, and getcpu.
 *
 * No relocations: the only data it reads is vvar_data, a hidden symbol the
 * linker script places one page below the image, reached rip-relative.
 */
#define VDSO_BUILD
#include <mercator/vdso_data.h>
#include <machine/vdso.h>

#define SYS_gettimeofday        96
#define SYS_time                201
#define SYS_clock_gettime       228
#define SYS_clock_getres        229

#define VDSO_MODE_MACHINE       VDSO_MODE_TSC

static long vdso_syscall2(long nr, long a, long b)
{
        long ret;

        __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b)
                         : "rcx", "r11", "memory");
        return ret;
}

/* The TSC, not read before the loads ahead of it (lfence), so the sequence
 * check really brackets it. */
static inline uint64_t vdso_read_counter(void)
{
        uint32_t lo, hi;

        __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
        return (uint64_t)hi << 32 | lo;
}

#include <proc/vdso_clocks.h>

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
