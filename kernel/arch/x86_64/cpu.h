/*
 * cpu.h - x86-64 instructions the kernel uses, as small inline functions,
 * with the register bits explained where they are defined.
 */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <mercator/types.h>

/* CR0 */
#define CR0_MP          (1UL << 1)      /* wait/fwait honour TS */
#define CR0_EM          (1UL << 2)      /* no x87: must be clear for SSE */
#define CR0_WP          (1UL << 16)     /* supervisor writes honour R/W */
/* CR4 */
#define CR4_PGE         (1UL << 7)      /* global pages survive CR3 loads */
#define CR4_OSFXSR      (1UL << 9)      /* fxsave/fxrstor and SSE allowed */
#define CR4_OSXMMEXCPT  (1UL << 10)     /* SIMD exceptions raise #XM */
#define CR4_SMEP        (1UL << 20)     /* no kernel execution of user pages */
#define CR4_SMAP        (1UL << 21)     /* no kernel data access to user pages */
/* MSRs */
#define MSR_EFER        0xc0000080u
#define EFER_NXE        (1UL << 11)     /* the NX bit (63) of PTEs is valid */
#define MSR_PAT         0x277u
#define MSR_FS_BASE     0xc0000100u
#define MSR_GS_BASE     0xc0000101u

static inline void outb(uint16_t port, uint8_t v)
{
        __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
        uint8_t v;
        __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
        __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
        __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdtsc(void)
{
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
        uint32_t lo, hi;
        __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
        return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
        __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
                         "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a,
                         uint32_t *b, uint32_t *c, uint32_t *d)
{
        __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                         : "a"(leaf), "c"(sub));
}

#define DEFINE_CR(n)                                                    \
static inline uint64_t read_cr##n(void)                                 \
{                                                                       \
        uint64_t v;                                                     \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));               \
        return v;                                                       \
}                                                                       \
static inline void write_cr##n(uint64_t v)                              \
{                                                                       \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");      \
}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t read_rflags(void)
{
        uint64_t v;
        __asm__ volatile("pushfq; popq %0" : "=r"(v));
        return v;
}

static inline void cpu_halt(void) { __asm__ volatile("hlt"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }

/* Stop this CPU for good. */
__attribute__((noreturn)) static inline void cpu_stop(void)
{
        for (;;)
                __asm__ volatile("cli; hlt");
}

#endif
