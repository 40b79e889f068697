/*
 * cpu.h (i386) - the 32-bit x86 instructions the kernel uses, as small
 * inline functions, with the register bits explained where defined.
 */
#ifndef ARCH_I386_CPU_H
#define ARCH_I386_CPU_H

#include <mercator/types.h>

/* CR0 */
#define CR0_PG          (1u << 31)      /* paging */
#define CR0_WP          (1u << 16)      /* supervisor writes honour R/W */
/* CR4 */
#define CR4_PSE         (1u << 4)       /* 4 MiB pages in 2-level tables */
#define CR4_PAE         (1u << 5)       /* 3-level tables, 64-bit entries */
#define CR4_PGE         (1u << 7)       /* global pages survive CR3 loads */
/* CPUID 1 EDX */
#define CPUID_PSE       (1u << 3)
#define CPUID_PAE       (1u << 6)
#define CPUID_PGE       (1u << 13)

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

static inline void outl(uint16_t port, uint32_t v)
{
        __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdtsc(void)
{
        uint64_t v;
        __asm__ volatile("rdtsc" : "=A"(v));
        return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a,
                         uint32_t *b, uint32_t *c, uint32_t *d)
{
        __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                         : "a"(leaf), "c"(sub));
}

#define DEFINE_CR(n)                                                    \
static inline uint32_t read_cr##n(void)                                 \
{                                                                       \
        uint32_t v;                                                     \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));               \
        return v;                                                       \
}                                                                       \
static inline void write_cr##n(uint32_t v)                              \
{                                                                       \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");      \
}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* Drop one page's translation from this CPU's TLB. */
static inline void invlpg(vaddr_t va)
{
        __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint32_t read_eflags(void)
{
        uint32_t v;
        __asm__ volatile("pushfl; popl %0" : "=r"(v));
        return v;
}

static inline void cpu_halt(void) { __asm__ volatile("hlt"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }

__attribute__((noreturn)) static inline void cpu_stop(void)
{
        for (;;)
                __asm__ volatile("cli; hlt");
}

#endif
