/*
 * thread.h (i386) - the machine-dependent part of a process (p->md); the
 * hooks that use it are proc/machine_hooks.h's (arch/i386/thread.c,
 * signal_frame.c).
 */
#ifndef MACHINE_THREAD_H
#define MACHINE_THREAD_H

#include <mercator/types.h>

#define I386_TLS_SLOTS  3               /* GDT entries 6, 7, 8 */

struct machine_thread {
        void    *user_frame;    /* struct trap_frame at the stack top */
        bool     in_syscall;    /* returning from a system call whose
                                 * result signals may still change */
        uint32_t syscall_nr;    /* its number (%eax), for a restart */
        uint32_t fault_trapno, fault_err, fault_cr2; /* for the frame */
        /* set_thread_area's descriptors, loaded into GDT entries 6-8 on
         * every switch (glibc and musl keep the thread pointer behind
         * %gs, which selects one of them). */
        uint64_t tls[I386_TLS_SLOTS];
        /* x87/SSE registers (fxsave image, or fnsave's on a CPU without
         * FXSR). The kernel is built without x87 and SSE, so only user
         * code changes them: saved and restored on every switch. */
        _Alignas(16) uint8_t fpu[512];
};

/* Load the x87/SSE state of a fresh process into the CPU (a signal
 * handler starts with it). */
void machine_fpu_load_initial(void);

#endif
