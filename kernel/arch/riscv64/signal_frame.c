/*
 * signal_frame.c (riscv64) - Linux riscv64's signal frame, rt_sigreturn,
 * and the registers of an interrupted system call.
 *
 * The frame a handler runs on, from its stack pointer up (Linux's struct
 * rt_sigframe in arch/riscv/kernel/signal.c): the 128-byte siginfo, then
 * a ucontext_t: uc_flags, uc_link, uc_stack, the 8-byte signal mask, 120
 * bytes kept for a larger mask, and, 16-byte aligned, the sigcontext: pc
 * and x1-x31 (struct user_regs_struct) and the floating-point state (the D
 * extension's f0-f31 and fcsr at the start of a 528-byte union whose
 * reserved words are zero). The frame is 16-byte aligned below the
 * interrupted sp, or at the top of the alternate stack; there is no red
 * zone in the riscv64 ABI.
 *
 * The handler gets (sig, &info, &uc) in a0-a2 and returns through ra,
 * which points at the vDSO's __vdso_rt_sigreturn (li a7, 139; ecall), as
 * Linux's: riscv64 has no SA_RESTORER. (A process without a vDSO - none
 * today, exec always maps one - would return through the SIGCODE page,
 * sigcode.S, the same two instructions.)
 *
 * rt_sigreturn trusts nothing: a pc outside the user half or a nonzero
 * reserved word of the FP state costs the process a SIGSEGV.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/elf.h>
#include <machine/vmparam.h>
#include <proc/machine_hooks.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <proc/vdso.h>
#include <vm/vm_space.h>
#include "thread.h"
#include "usermode.h"

struct sigcontext_rv {
        uint64_t regs[32];              /* pc, then x1-x31 */
        uint64_t fregs[32];             /* the D extension's state ... */
        uint32_t fcsr;
        uint32_t fp_reserved0;
        uint64_t fp_q_rest[31];         /* ... in the Q-sized union */
        uint32_t fp_reserved[4];        /* fcsr's Q slot + reserved[3] */
};

struct ucontext_rv {
        uint64_t           uc_flags;
        uint64_t           uc_link;
        struct linux_stack uc_stack;
        uint64_t           uc_sigmask;
        uint8_t            unused[120];
        _Alignas(16) struct sigcontext_rv uc_mcontext;
};

struct rt_sigframe {
        uint8_t            info[LINUX_SIGINFO_SIZE];
        struct ucontext_rv uc;
};

_Static_assert(sizeof(struct sigcontext_rv) == 256 + 528, "Linux's sigcontext");
_Static_assert(offsetof(struct ucontext_rv, uc_sigmask) == 40 &&
               offsetof(struct ucontext_rv, uc_mcontext) == 176,
               "Linux's riscv ucontext");
_Static_assert(offsetof(struct rt_sigframe, uc) == 128 &&
               sizeof(struct rt_sigframe) == 1088, "Linux's rt_sigframe");

static struct trapframe *user_tf(struct proc *p)
{
        return p->md.tf;
}

/* ---- the interrupted system call ------------------------------------------- */

bool machine_syscall_unsettled(struct proc *p, long *ret)
{
        if (!p->md.in_syscall)
                return false;
        p->md.in_syscall = false;
        *ret = (long)TF_REG(user_tf(p), REG_A0);
        return true;
}

void machine_syscall_set_result(struct proc *p, long ret)
{
        TF_REG(user_tf(p), REG_A0) = (uint64_t)ret;
}

/* Back onto the ecall with the first argument it had (a0 now holds the
 * result); a7 still holds the number. */
void machine_syscall_restart(struct proc *p)
{
        struct trapframe *tf = user_tf(p);

        TF_REG(tf, REG_A0) = p->md.orig_a0;
        TF_REG(tf, REG_A7) = p->md.syscall_nr;
        tf->epc -= 4;
}

/* Into restart_syscall instead (the restart block says how to go on). */
void machine_syscall_restart_block(struct proc *p)
{
        struct trapframe *tf = user_tf(p);

        TF_REG(tf, REG_A7) = SYS_restart_syscall;
        tf->epc -= 4;
}

bool machine_user_context_ok(struct proc *p)
{
        return user_tf(p)->epc < USER_MAX + PAGE_SIZE;
}

uint64_t machine_user_sp(struct proc *p)
{
        return TF_REG(user_tf(p), REG_SP);
}

void machine_core_gregs(struct proc *p, void *buf)
{
        const struct trapframe *tf = user_tf(p);
        uint64_t r[MACHINE_CORE_GREGS_SIZE / 8];

        r[0] = tf->epc;                 /* then x1..x31, as user_regs_struct */
        memcpy(&r[1], tf->x, sizeof tf->x);
        memcpy(buf, r, sizeof r);
}

/* Linux's riscv frame has no trap number or address: kept for reports. */
void machine_note_fault(struct proc *p, unsigned trapno, uint64_t err,
                        uint64_t addr)
{
        (void)err;
        p->md.fault_cause = trapno;
        p->md.fault_addr = addr;
}

/* ---- the frame -------------------------------------------------------------- */

/* Where the frame goes; 0 if it does not fit (alternate stack overflow). */
/* Where p's handlers return: the vDSO's __vdso_rt_sigreturn. */
static uint64_t sigreturn_address(struct proc *p)
{
        static uint64_t off;

        if (!off)
                off = vdso_symbol("__vdso_rt_sigreturn");
        return off && p->space->vdso_base ? p->space->vdso_base + off
                                          : SIGCODE;
}

static uint64_t frame_address(struct proc *p, const struct k_sigaction *ka,
                              bool *entering_out)
{
        uint64_t usp = TF_REG(user_tf(p), REG_SP), sp = usp;
        bool was_on = signal_on_altstack(p, usp), entering = false;

        if ((ka->flags & SA_ONSTACK) && signal_altstack_flags(p, sp) == 0) {
                sp = p->sig.altstack.ss_sp + p->sig.altstack.ss_size;
                entering = true;
        }
        *entering_out = entering;
        sp = (sp - sizeof(struct rt_sigframe)) & ~15UL;
        if ((was_on || entering) && !signal_on_altstack(p, sp))
                return 0;
        return sp;
}

int machine_signal_frame_setup(struct proc *p, int sig,
                               const struct ksiginfo *info,
                               const struct k_sigaction *ka, ksigset_t oldmask)
{
        struct trapframe *tf = user_tf(p);
        struct rt_sigframe f;
        uint64_t sp;
        bool entering;

        if (!(sp = frame_address(p, ka, &entering)))
                return -EFAULT;
        memset(&f, 0, sizeof f);
        siginfo_to_linux(f.info, info);
        f.uc.uc_stack = p->sig.altstack;
        f.uc.uc_stack.ss_flags = signal_altstack_flags(p, TF_REG(tf, REG_SP)) |
                (int32_t)((uint32_t)p->sig.altstack.ss_flags & SS_AUTODISARM);
        f.uc.uc_sigmask = oldmask;
        f.uc.uc_mcontext.regs[0] = tf->epc;
        memcpy(&f.uc.uc_mcontext.regs[1], tf->x, sizeof tf->x);
        machine_fpu_save(p);
        memcpy(f.uc.uc_mcontext.fregs, p->md.fregs, sizeof p->md.fregs);
        f.uc.uc_mcontext.fcsr = p->md.fcsr;
        if (copy_to_user(sp, &f, sizeof f))
                return -EFAULT;
        TF_REG(tf, REG_A0) = (uint64_t)sig;
        TF_REG(tf, REG_A0 + 1) = sp + offsetof(struct rt_sigframe, info);
        TF_REG(tf, REG_A0 + 2) = sp + offsetof(struct rt_sigframe, uc);
        TF_REG(tf, REG_RA) = sigreturn_address(p);
        TF_REG(tf, REG_SP) = sp;
        tf->epc = ka->handler;
        machine_note_fault(p, 0, 0, 0);
        /* SS_AUTODISARM: the handler runs with no alternate stack (so it
         * may switch stacks itself); rt_sigreturn puts it back. */
        if (entering && (p->sig.altstack.ss_flags & SS_AUTODISARM))
                p->sig.altstack = (struct linux_stack){ .ss_flags = SS_DISABLE };
        return 0;
}

long sys_rt_sigreturn(long a0, long a1, long a2, long a3, long a4, long a5)
{
        struct proc *p = current;
        struct trapframe *tf = user_tf(p);
        struct ucontext_rv uc;
        const struct sigcontext_rv *sc = &uc.uc_mcontext;
        bool bad;

        p->md.in_syscall = false;       /* the restored a0 is no result */
        p->restart.fn = NULL;           /* nothing to go on with after it */
        bad = copy_from_user(&uc, TF_REG(tf, REG_SP) +
                             offsetof(struct rt_sigframe, uc), sizeof uc) != 0;
        /* reserved[0..2] of the Q state must be zero (Linux: -EINVAL) */
        for (unsigned i = 1; !bad && i < ARRAY_SIZE(sc->fp_reserved); i++)
                bad = sc->fp_reserved[i] != 0;
        if (bad || sc->regs[0] >= USER_MAX + PAGE_SIZE) {
                signal_force(SIGSEGV, NULL);
                return (long)TF_REG(tf, REG_A0);
        }
        tf->epc = sc->regs[0];
        memcpy(tf->x, &sc->regs[1], sizeof tf->x);
        memcpy(p->md.fregs, sc->fregs, sizeof p->md.fregs);
        p->md.fcsr = sc->fcsr;
        machine_fpu_restore(p);
        p->sig.blocked = uc.uc_sigmask &
                         ~(sigmask_of(SIGKILL) | sigmask_of(SIGSTOP));
        signal_altstack_restore(&uc.uc_stack);
        return (long)TF_REG(tf, REG_A0);
}
