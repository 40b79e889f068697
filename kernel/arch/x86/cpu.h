/*
 * cpu.h (x86, shared by x86-64 and i386) - the x86 instructions both
 * kernels use, as small inline functions, with the register bits they
 * share explained where defined. Control registers are as wide as the
 * mode's registers (uintptr_t: 64 bits on x86-64, 32 on i386). Each
 * port's own cpu.h includes this file and adds what only it has.
 */
#ifndef ARCH_X86_CPU_H
#define ARCH_X86_CPU_H

#include <mercator/types.h>

/* CR0 */
#define CR0_MP          (1UL << 1)      /* wait/fwait honour TS */
#define CR0_EM          (1UL << 2)      /* no x87: must be clear for SSE */
#define CR0_WP          (1UL << 16)     /* supervisor writes honour R/W */
#define CR0_PG          (1UL << 31)     /* paging */
/* CR4 */
#define CR4_PSE         (1UL << 4)      /* 4 MiB pages in 2-level tables */
#define CR4_PAE         (1UL << 5)      /* 64-bit entries (PAE, long mode) */
#define CR4_PGE         (1UL << 7)      /* global pages survive CR3 loads */
#define CR4_OSFXSR      (1UL << 9)      /* fxsave/fxrstor and SSE allowed */
#define CR4_OSXMMEXCPT  (1UL << 10)     /* SIMD exceptions raise #XM */
#define CR4_PCIDE       (1UL << 17)     /* CR3[11:0] is a PCID (x86-64) */
#define CR4_SMEP        (1UL << 20)     /* no kernel execution of user pages */
#define CR4_SMAP        (1UL << 21)     /* no kernel data access to user pages */
/* MSRs */
#define MSR_EFER        0xc0000080u
#define EFER_NXE        (1ULL << 11)    /* the NX bit (63) of PTEs is valid */
#define MSR_PAT         0x277u
/* CPUID leaf 1, EDX */
#define CPUID_PSE       (1u << 3)
#define CPUID_MSR       (1u << 5)
#define CPUID_PAE       (1u << 6)
#define CPUID_PGE       (1u << 13)
#define CPUID_PAT       (1u << 16)
/* CPUID leaf 0x80000001, EDX */
#define CPUID_EXT_NX    (1u << 20)

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

static inline uint16_t inw(uint16_t port)
{
        uint16_t v;
        __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}

static inline uint32_t inl(uint16_t port)
{
        uint32_t v;
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
        return v;
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

/* Whether CPUID leaf 0x80000001 EDX has `bit` (false if there is no such
 * leaf). */
static inline bool cpuid_ext_edx(uint32_t bit)
{
        uint32_t a, b, c, d;

        cpuid(0x80000000, 0, &a, &b, &c, &d);
        if (a < 0x80000001)
                return false;
        cpuid(0x80000001, 0, &a, &b, &c, &d);
        return (d & bit) != 0;
}

#define DEFINE_CR(n)                                                    \
static inline uintptr_t read_cr##n(void)                                \
{                                                                       \
        uintptr_t v;                                                    \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));               \
        return v;                                                       \
}                                                                       \
static inline void write_cr##n(uintptr_t v)                             \
{                                                                       \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");      \
}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* Drop one page's translation from this CPU's TLB. */
static inline void invlpg(uintptr_t va)
{
        __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
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
