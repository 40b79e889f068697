/*
 * intr.h (riscv64) - what spinlocks need from the hart (spinlock.h):
 * sstatus.SIE off and back, a spin-wait hint, the hart's index.
 */
#ifndef MACHINE_INTR_H
#define MACHINE_INTR_H

#include <stdbool.h>

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

/* Were interrupts on under s, a value intr_save() returned? */
static inline bool intr_were_on(unsigned long s)
{
        return s & SSTATUS_SIE_BIT;
}

/* Zihintpause's pause (fence w,0: a hint, so a no-op on a hart without
 * it), written as its word: -march=rv64imac's assembler has no name for
 * it. */
static inline void intr_cpu_relax(void)
{
        __asm__ volatile(".4byte 0x0100000f");
}

/*
 * The running hart's index (struct cpu's id, 0 = the boot hart; not the
 * SBI's hart id), read at CPU_LOCAL_ID(tp): the kernel's tp is the
 * hart's struct cpu from boot.S's first call on (arch/riscv64/percpu.h
 * checks the offset).
 */
#define CPU_LOCAL_ID    36

static inline unsigned machine_cpu_id(void)
{
        unsigned id;

        __asm__ volatile("lwu %0, %1(tp)" : "=r"(id) : "i"(CPU_LOCAL_ID));
        return id;
}

/* Harts online: they are numbered 0 .. machine_cpus_online() - 1. */
unsigned machine_cpus_online(void);

#endif
