/*
 * intr.h (x86-64) - what spinlocks need from the CPU (spinlock.h):
 * interrupts off and back as they were, a spin-wait hint, the CPU's id.
 */
#ifndef MACHINE_INTR_H
#define MACHINE_INTR_H

#define RFLAGS_IF_BIT   0x200UL

/* Interrupts off; => the RFLAGS they were under. */
static inline unsigned long intr_save(void)
{
        unsigned long f;

        __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
        return f;
}

static inline void intr_restore(unsigned long f)
{
        if (f & RFLAGS_IF_BIT)
                __asm__ volatile("sti" ::: "memory");
}

static inline void intr_cpu_relax(void)
{
        __asm__ volatile("pause");
}

/* The running CPU's index (struct cpu's id, 0 = the boot CPU). */
unsigned machine_cpu_id(void);

/* CPUs online: they are numbered 0 .. machine_cpus_online() - 1. */
unsigned machine_cpus_online(void);

#endif
