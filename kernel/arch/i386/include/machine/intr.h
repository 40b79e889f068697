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

/* fn(arg) on every online CPU (i386 runs one), with interrupts off; see
 * x86-64's. => false with interrupts off (the rule the others keep). */
static inline bool machine_call_every_cpu(void (*fn)(void *), void *arg)
{
        unsigned long s = intr_save();

        if (!(s & EFLAGS_IF_BIT)) {
                intr_restore(s);
                return false;
        }
        fn(arg);
        intr_restore(s);
        return true;
}

#endif
