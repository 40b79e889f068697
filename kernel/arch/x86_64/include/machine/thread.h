/*
 * thread.h (x86-64) - the machine-dependent part of a process (p->md);
 * the hooks that use it are proc/machine_hooks.h's.
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

/* Load the x87/SSE state of a fresh process into the CPU (a signal
 * handler starts with it). */
void machine_fpu_load_initial(void);

/* The MXCSR bits fxrstor accepts (the rest would fault). */
extern uint32_t machine_mxcsr_mask;

#endif
