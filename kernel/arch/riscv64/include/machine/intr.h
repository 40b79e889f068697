/*
 * intr.h (riscv64) - what spinlocks need from the hart (spinlock.h):
 * sstatus.SIE off and back, a spin-wait hint, the hart's index. The
 * riscv64 kernel runs on one hart so far: its index is always 0.
 */
#ifndef MACHINE_INTR_H
#define MACHINE_INTR_H

#define SSTATUS_SIE_BIT (1UL << 1)

/* Clear SIE; => the sstatus it was under. */
static inline unsigned long intr_save(void)
{
        unsigned long s;

        __asm__ volatile("csrrc %0, sstatus, %1"
                         : "=r"(s) : "r"(SSTATUS_SIE_BIT) : "memory");
        return s;
}

static inline void intr_restore(unsigned long s)
{
        if (s & SSTATUS_SIE_BIT)
                __asm__ volatile("csrs sstatus, %0"
                                 : : "r"(SSTATUS_SIE_BIT) : "memory");
}

static inline void intr_cpu_relax(void)
{
        __asm__ volatile("nop");
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
