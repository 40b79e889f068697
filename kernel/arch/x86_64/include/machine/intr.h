/*
 * intr.h (x86-64) - what spinlocks need from the CPU (spinlock.h):
 * interrupts off and back as they were, a spin-wait hint, the CPU's id.
 */
#ifndef MACHINE_INTR_H
#define MACHINE_INTR_H

#include <mercator/types.h>

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

/* Whether intr_save's flags f had interrupts on. */
static inline bool intr_were_on(unsigned long f)
{
        return f & RFLAGS_IF_BIT;
}

static inline void intr_cpu_relax(void)
{
        __asm__ volatile("pause");
}

/*
 * The running CPU's index (struct cpu's id, 0 = the boot CPU), read at
 * %gs:CPU_LOCAL_ID (percpu.h checks the offset); 0 until the boot CPU has
 * its per-CPU data, so that a panic that early still prints. Inline: the
 * big kernel lock and every spinlock ask it, several times per system
 * call and page fault.
 */
#define CPU_LOCAL_ID    36
extern bool machine_percpu_loaded;

static inline unsigned machine_cpu_id(void)
{
        unsigned id;

        if (!machine_percpu_loaded)
                return 0;
        __asm__ volatile("movl %%gs:%c1, %0" : "=r"(id) : "i"(CPU_LOCAL_ID));
        return id;
}

/* CPUs online: they are numbered 0 .. machine_cpus_online() - 1. */
unsigned machine_cpus_online(void);

#endif
