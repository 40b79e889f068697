/*
 * intr.h (i386) - what spinlocks need from the CPU (spinlock.h). The i386
 * kernel runs on one CPU: its id is always 0.
 */
#ifndef MACHINE_INTR_H
#define MACHINE_INTR_H

#include <stdbool.h>

#define EFLAGS_IF_BIT   0x200UL

static inline unsigned long intr_save(void)
{
        unsigned long f;

        __asm__ volatile("pushfl; popl %0; cli" : "=r"(f) : : "memory");
        return f;
}

static inline void intr_restore(unsigned long f)
{
        if (f & EFLAGS_IF_BIT)
                __asm__ volatile("sti" ::: "memory");
}

/* Were interrupts on under s, a value intr_save() returned? */
static inline bool intr_were_on(unsigned long s)
{
        return s & EFLAGS_IF_BIT;
}

static inline void intr_cpu_relax(void)
{
        __asm__ volatile("pause");
}

static inline unsigned machine_cpu_id(void)
{
        return 0;
}

static inline unsigned machine_cpus_online(void)
{
        return 1;
}

#endif
