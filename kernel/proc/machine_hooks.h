/*
 * machine_hooks.h - what the process layer (kernel/proc) asks of an
 * architecture: starting and switching threads, and the pieces of
 * signal delivery that are about registers and the signal frame. Each
 * architecture that runs processes implements every function here
 * (x86-64: arch/x86_64/thread.c, signal_frame.c; riscv64:
 * arch/riscv64/thread.c, signal_frame.c); the per-thread state they keep
 * is struct machine_thread (machine/thread.h), p->md.
 */
#ifndef PROC_MACHINE_HOOKS_H
#define PROC_MACHINE_HOOKS_H

#include <mercator/types.h>
#include <proc/signal.h>

struct proc;

/* ---- threads ---- */

/* Prepare p's kernel stack so that switching to it enters user mode at
 * entry with the given stack pointer. */
void machine_thread_init_user(struct proc *p, vaddr_t entry, vaddr_t sp);

/* A forked child: parent's user registers, returning 0 from fork. */
void machine_thread_fork(struct proc *child, const struct proc *parent);

/* clone with a new stack: the child starts with this user stack pointer. */
void machine_thread_set_user_sp(struct proc *p, vaddr_t sp);

/* clone with CLONE_SETTLS: the child's thread pointer (x86-64: the FS
 * base; riscv64: tp). */
void machine_thread_set_tls(struct proc *p, uint64_t tls);

/* After execve: enter user mode at entry with sp, with fresh registers. */
void machine_thread_exec(struct proc *p, vaddr_t entry, vaddr_t sp);

/* Switch from the running context (whose saved sp goes to *save_sp) to p. */
void machine_switch_to(void **save_sp, struct proc *p);

/* Switch back to the scheduler's context saved in sched_sp. */
void machine_switch_away(struct proc *p, void *sched_sp);

/* Wait for an interrupt with interrupts enabled, then disable them. */
void machine_idle(void);

/* ---- signals ---- */

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
 * Build the architecture's Linux signal frame for sig on p's user stack
 * (or its alternate stack, per ka->flags and p->sig.altstack): a
 * ucontext_t with every register, the FPU state and oldmask, and the
 * siginfo, plus the way back (x86-64: ka->restorer as return address;
 * riscv64: ra); then point the registers at the handler with
 * (sig, &info, &uc) as arguments.
 * => 0; -EFAULT if the frame cannot be written (no way back, the stack is
 *    bad or the alternate stack overflows): nothing changed.
 */
int machine_signal_frame_setup(struct proc *p, int sig,
                               const struct ksiginfo *info,
                               const struct k_sigaction *ka, ksigset_t oldmask);

/* Whether p's user registers can be returned to (x86-64: a canonical
 * %rip); if not, the caller raises SIGSEGV. */
bool machine_user_context_ok(struct proc *p);

/* p's user stack pointer (sigaltstack's "on the stack" test). */
uint64_t machine_user_sp(struct proc *p);

/* p's user registers as this architecture's core files hold them (the
 * elf_gregset_t of NT_PRSTATUS: x86-64's user_regs_struct, riscv64's pc
 * and x1-x31, i386's 17 words) into buf (MACHINE_CORE_GREGS_SIZE bytes,
 * see machine/elf.h). */
void machine_core_gregs(struct proc *p, void *buf);

/* Record the exception a fault signal comes from (x86-64: for the frame's
 * trapno, err and cr2 fields). */
void machine_note_fault(struct proc *p, unsigned trapno, uint64_t err,
                        uint64_t addr);

#endif
