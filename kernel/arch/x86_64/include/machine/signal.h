/*
 * signal.h (x86-64) - what the machine-independent signal code
 * (proc/signal.c) needs from an architecture: the signal frame on the
 * user stack, and the registers of a system call that a signal
 * interrupted. rt_sigreturn is the architecture's system call
 * (signal_frame.c).
 */
#ifndef MACHINE_SIGNAL_H
#define MACHINE_SIGNAL_H

#include <mercator/types.h>
#include <proc/signal.h>

struct proc;

/*
 * Whether p is on its way back from a system call whose result has not
 * been settled by the signal code yet; its result in *ret. Settles it:
 * a second call returns false until the next system call.
 */
bool machine_syscall_unsettled(struct proc *p, long *ret);

/* Change the result the interrupted system call returns. */
void machine_syscall_set_result(struct proc *p, long ret);

/* Make p execute the same system call again, with the same arguments,
 * when it returns to user mode. */
void machine_syscall_restart(struct proc *p);

/* Make p enter restart_syscall instead (its restart block says how to go
 * on) when it returns to user mode. */
void machine_syscall_restart_block(struct proc *p);

/*
 * Build Linux's signal frame for sig on p's user stack (or its alternate
 * stack, per ka->flags and p->sig.altstack): the return address
 * (ka->restorer), a ucontext_t with every register, the FPU/SSE state and
 * oldmask, and the siginfo; then point the registers at the handler with
 * (sig, &info, &uc) as arguments and a fresh FPU state.
 * => 0; -EFAULT if the frame cannot be written (no SA_RESTORER, the
 *    stack is bad or the alternate stack overflows): nothing changed.
 */
int machine_signal_frame_setup(struct proc *p, int sig,
                               const struct ksiginfo *info,
                               const struct k_sigaction *ka, ksigset_t oldmask);

/* Whether p's user registers can be returned to (x86-64: a canonical
 * %rip); if not, the caller raises SIGSEGV. */
bool machine_user_context_ok(struct proc *p);

/* p's user stack pointer (sigaltstack's "on the stack" test). */
uint64_t machine_user_sp(struct proc *p);

/* Record the exception a fault signal comes from (for the frame's
 * trapno, err and cr2 fields). */
void machine_note_fault(struct proc *p, unsigned trapno, uint64_t err,
                        uint64_t addr);

#endif
