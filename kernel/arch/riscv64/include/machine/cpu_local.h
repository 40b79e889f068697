/*
 * cpu_local.h (riscv64) - the scheduler's per-hart variables and its
 * hooks for more than one hart (proc/proc.h and proc/sched.c use them).
 *
 * current, need_resched and the scheduler loop's saved stack live in the
 * running hart's struct cpu (arch/riscv64/percpu.h), reached through tp,
 * which the kernel keeps pointing at it. Each access reads tp afresh
 * (volatile asm): a thread that slept may wake on another hart.
 *
 * The big kernel lock (kern/biglock.c; docs/design.md, "Locking")
 * serialises kernel code: taken on every entry from user mode and by each
 * hart's scheduler loop, released on the way back to user mode and before
 * a hart idles.
 */
#ifndef MACHINE_CPU_LOCAL_H
#define MACHINE_CPU_LOCAL_H

#include <mercator/types.h>

#define MACHINE_CPU_LOCAL       1

/* Offsets in struct cpu (percpu.h checks them). */
#define CPU_LOCAL_CURRENT       24
#define CPU_LOCAL_RESCHED       32
#define CPU_LOCAL_SCHED_SP      40

struct proc;

static inline char *cpu_local_base(void)
{
        char *c;

        __asm__ volatile("mv %0, tp" : "=r"(c));
        return c;
}

#define current         (*(struct proc **)(cpu_local_base() + CPU_LOCAL_CURRENT))
#define need_resched    (*(volatile bool *)(cpu_local_base() + CPU_LOCAL_RESCHED))
#define cpu_sched_sp    (*(void **)(cpu_local_base() + CPU_LOCAL_SCHED_SP))

/* The big kernel lock (kern/biglock.c). Not recursive. */
void machine_kernel_lock(void);
/* The same without entering current's address space (proc.h,
 * proc_space_enter): for a system call that changes none and for
 * interrupts (syscall_enters_space). */
void machine_kernel_lock_outside(void);
/* A call that runs without the lock (syscall.h, SYSCALL_NO_LOCK) and
 * finds it needs it: taken as machine_kernel_lock_outside unless held,
 * and kept to the call's way out, which leaves the locked way. */
void machine_kernel_lock_rest_of_call(void);
void machine_kernel_unlock(void);
bool machine_kernel_lock_held(void);    /* by this hart */
bool machine_kernel_trylock(void);      /* interrupt handlers */

/* Run the cross-hart call posted to this hart, if any (smp.c). */
void smp_call_poll(void);
/* A waiter for the big kernel lock that has spun long halts (wfi,
 * interrupts off) until the release kicks it: bit n of `cpus` wakes
 * hart n (smp.c). With interrupts off too: wfi ends on an enabled
 * interrupt's arrival whatever sstatus.SIE says. */
#define MACHINE_LOCK_HALT       1
#define MACHINE_LOCK_HALT_INTR_OFF 1
void machine_lock_halt(void);
void machine_lock_kick(uint64_t cpus);
bool machine_kernel_lock_halted(unsigned cpu);  /* halted waiting: tests */
uint64_t machine_kernel_lock_halts(unsigned cpu); /* halts waiting */

/* The hart is about to idle: leave any user address space. [kernel lock] */
void machine_idle_enter(void);
/* The console's input held back by an interrupt (the boot CPU's): the
 * scheduler loop takes the big lock and calls machine_console_arm. */
bool machine_console_held(void);
void machine_console_arm(void);

/* A thread became runnable: wake one hart waiting in its idle loop among
 * `allowed` (bit n: hart n; the thread's sched_setaffinity mask). */
void machine_kick_idle(uint64_t allowed);

/* p runs on another hart: interrupt it so p sees what was just made
 * pending for it on its way back to user mode now. [kernel lock] */
void machine_kick_running(struct proc *p);

/* sched_run() began: the other harts leave their idle loops for their
 * scheduler loops. */
void machine_sched_start(void);

#endif
