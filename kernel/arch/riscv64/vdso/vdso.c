/*
 * vdso.c - the riscv64 vDSO: where a signal handler returns
 * (__vdso_rt_sigreturn: riscv64 has no SA_RESTORER, the kernel points the
 * handler's ra here) and the clock calls answered in user space from the
 * [vvar] page (proc/vdso_clocks.h, shared with x86-64), reading the time
 * CSR, which the kernel lets user mode read (scounteren.TM). Built as user
 * code, position independent, into a small shared object (vdso.lds) that
 * the kernel maps into every process as [vdso] with [vvar] the page just
 * below; C libraries find it through AT_SYSINFO_EHDR and look the names up
 * under version LINUX_4.15, as on Linux's riscv64.
 *
 * No relocations: the only data it reads is vvar_data, a hidden symbol the
 * linker script places one page below the image, reached pc-relative.
 */
#define VDSO_BUILD
#include <mercator/vdso_data.h>

/* Linux's generic system-call numbers (riscv64 has no time(2)). */
#define SYS_rt_sigreturn        139
#define SYS_getcpu              168
#define SYS_gettimeofday        169
#define SYS_clock_gettime       113
#define SYS_clock_getres        114

#define VDSO_MODE_MACHINE       VDSO_MODE_RDTIME

#define STR_(x)                 #x
#define STR(x)                  STR_(x)

static long vdso_syscall3(long nr, long a, long b, long c)
{
        register long a0 __asm__("a0") = a;
        register long a1 __asm__("a1") = b;
        register long a2 __asm__("a2") = c;
        register long a7 __asm__("a7") = nr;

        __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7)
                         : "memory");
        return a0;
}

static long vdso_syscall2(long nr, long a, long b)
{
        return vdso_syscall3(nr, a, b, 0);
}

/* The time CSR (the platform's timebase, 10 MHz on QEMU's virt). */
static inline uint64_t vdso_read_counter(void)
{
        uint64_t t;

        __asm__ volatile("rdtime %0" : "=r"(t) : : "memory");
        return t;
}

#include <proc/vdso_clocks.h>

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
        return (int)vdso_syscall3(SYS_getcpu, (long)cpu, (long)node,
                                  (long)unused);
}

/* The signal return: the kernel sets a handler's ra to this address. */
__asm__(".text\n"
        ".globl __vdso_rt_sigreturn\n"
        ".type __vdso_rt_sigreturn, @function\n"
        ".balign 4\n"
        "__vdso_rt_sigreturn:\n"
        "        li a7, " STR(SYS_rt_sigreturn) "\n"
        "        ecall\n"
        ".size __vdso_rt_sigreturn, . - __vdso_rt_sigreturn\n");
