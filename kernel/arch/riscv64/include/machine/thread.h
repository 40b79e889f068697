/*
 * thread.h (riscv64) - the machine-dependent part of a process (p->md);
 * the hooks that use it are proc/machine_hooks.h's (arch/riscv64/
 * thread.c, signal_frame.c).
 *
 * As in xv6, the user registers live in the process's trap frame page,
 * mapped at TRAPFRAME in its user table (trampoline.S saves and restores
 * them there) and reached by the kernel through the linear map. The
 * thread pointer (TLS) is just register tp (x4) in it.
 */
#ifndef MACHINE_THREAD_H
#define MACHINE_THREAD_H

#include <mercator/types.h>

struct trapframe;

struct machine_thread {
        struct trapframe *tf;   /* the trap frame page (linear map) */
        paddr_t  tf_pa;         /* its frame, mapped at TRAPFRAME */
        bool     in_syscall;    /* returning from a system call whose
                                 * result signals may still change */
        uint64_t syscall_nr;    /* its number (a7), for a restart */
        uint64_t orig_a0;       /* its first argument, for a restart */
        uint64_t fault_cause, fault_addr;       /* for diagnostics */
        /* f0-f31 and fcsr. The kernel is built without F/D and keeps
         * sstatus.FS Off in S-mode, so only user code changes them:
         * saved and restored on every switch between processes. */
        uint64_t fregs[32];
        uint32_t fcsr;
};

#endif
