/*
 * thread.h (x86-64) - the machine-dependent part of a process, and how the
 * scheduler starts and switches threads.
 */
#ifndef MACHINE_THREAD_H
#define MACHINE_THREAD_H

#include <mercator/types.h>

struct machine_thread {
        uint64_t fs_base;       /* TLS base (arch_prctl ARCH_SET_FS) */
        void    *user_frame;    /* struct trap_frame at the stack top */
        bool     in_syscall;    /* returning from a system call whose
                                 * result signals may still change */
        uint64_t syscall_nr;    /* its number, for a restart */
        uint64_t fault_trapno, fault_err, fault_cr2; /* for the signal frame */
        /* x87/SSE registers (fxsave image). The kernel is built without
         * SSE, so only user code changes them: saved and restored on
         * every switch between processes. */
        _Alignas(16) uint8_t fpu[512];
};

struct proc;

/* Prepare p's kernel stack so that switching to it enters user mode at
 * entry with the given stack pointer. */
void machine_thread_init_user(struct proc *p, vaddr_t entry, vaddr_t sp);

/* A forked child: parent's user registers, returning 0 from fork. */
void machine_thread_fork(struct proc *child, const struct proc *parent);

/* clone with a new stack: the child starts with this %rsp. */
void machine_thread_set_user_sp(struct proc *p, vaddr_t sp);

/* After execve: enter user mode at entry with sp, with fresh registers. */
void machine_thread_exec(struct proc *p, vaddr_t entry, vaddr_t sp);

/* Switch from the running context (whose saved sp goes to *save_sp) to p. */
void machine_switch_to(void **save_sp, struct proc *p);

/* Switch back to the scheduler's context saved in sched_sp. */
void machine_switch_away(struct proc *p, void *sched_sp);

/* Load the x87/SSE state of a fresh process into the CPU (a signal
 * handler starts with it). */
void machine_fpu_load_initial(void);

/* The MXCSR bits fxrstor accepts (the rest would fault). */
extern uint32_t machine_mxcsr_mask;

/* Wait for an interrupt with interrupts enabled, then disable them. */
void machine_idle(void);

#endif
