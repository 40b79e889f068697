/*
 * signal_frame.c (x86-64) - Linux's signal frame and rt_sigreturn.
 *
 * The frame a handler runs on, from its stack pointer up (as Linux's
 * struct rt_sigframe): the return address (sa_restorer, which calls
 * rt_sigreturn), a ucontext_t (uc_flags, uc_link, uc_stack, the 256-byte
 * sigcontext with every general register, and the 8-byte signal mask),
 * the 128-byte siginfo; above it, 64-byte aligned, the 512-byte fxsave
 * image the sigcontext's fpstate points at. The frame starts below the
 * interrupted stack's 128-byte red zone, or at the top of the alternate
 * stack, and is aligned so that the handler sees %rsp + 8 16-byte
 * aligned, as after a call.
 *
 * rt_sigreturn trusts nothing in the frame: a non-canonical %rip,
 * selectors that are not the user's, an unreadable fpstate or reserved
 * MXCSR bits cost the process a SIGSEGV, and only the arithmetic and
 * control flags of RFLAGS are taken (as Linux does).
 * Must not touch: the signal state itself (proc/signal.c's).
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/machine_hooks.h>
#include <machine/elf.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include "trap.h"

/* Linux's struct sigcontext (x86-64), also glibc's mcontext_t. */
struct sigcontext64 {
        uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
        uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
        uint16_t cs, gs, fs, ss;
        uint64_t err, trapno, oldmask, cr2;
        uint64_t fpstate;               /* user address of the fxsave image */
        uint64_t reserved1[8];
};

struct ucontext64 {
        uint64_t            uc_flags;
        uint64_t            uc_link;
        struct linux_stack  uc_stack;
        struct sigcontext64 uc_mcontext;
        uint64_t            uc_sigmask;
};

struct rt_sigframe {
        uint64_t          pretcode;     /* the handler's return address */
        struct ucontext64 uc;
        uint8_t           info[LINUX_SIGINFO_SIZE];
};

_Static_assert(sizeof(struct sigcontext64) == 256, "Linux's sigcontext");
_Static_assert(offsetof(struct rt_sigframe, uc.uc_mcontext) == 48 &&
               offsetof(struct rt_sigframe, uc.uc_sigmask) == 304 &&
               offsetof(struct rt_sigframe, info) == 312,
               "Linux's rt_sigframe");

#define UC_SIGCONTEXT_SS        0x2
#define UC_STRICT_RESTORE_SS    0x4
#define FPSTATE_SIZE            512
#define REDZONE                 128
#define USER_END                (USER_MAX + PAGE_SIZE)

#define RFLAGS_CF 0x1
#define RFLAGS_PF 0x4
#define RFLAGS_AF 0x10
#define RFLAGS_ZF 0x40
#define RFLAGS_SF 0x80
#define RFLAGS_TF 0x100
#define RFLAGS_DF 0x400
#define RFLAGS_OF 0x800
#define RFLAGS_RF 0x10000
#define RFLAGS_AC 0x40000
/* What a ucontext may change in RFLAGS (Linux's FIX_EFLAGS). */
#define RFLAGS_USER (RFLAGS_AC | RFLAGS_OF | RFLAGS_DF | RFLAGS_TF | \
                     RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | \
                     RFLAGS_CF | RFLAGS_RF)

static struct trap_frame *user_tf(struct proc *p)
{
        return p->md.user_frame;
}

static bool canonical(uint64_t va)
{
        return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

bool machine_syscall_unsettled(struct proc *p, long *ret)
{
        if (!p->md.in_syscall)
                return false;
        p->md.in_syscall = false;
        *ret = (long)user_tf(p)->rax;
        return true;
}

void machine_syscall_set_result(struct proc *p, long ret)
{
        user_tf(p)->rax = (uint64_t)ret;
}

void machine_syscall_restart(struct proc *p)
{
        struct trap_frame *tf = user_tf(p);

        tf->rax = p->md.syscall_nr;
        tf->rip -= 2;                   /* back onto `syscall` (0f 05) */
}

void machine_syscall_restart_block(struct proc *p)
{
        struct trap_frame *tf = user_tf(p);

        tf->rax = SYS_restart_syscall;
        tf->rip -= 2;
}

bool machine_user_context_ok(struct proc *p)
{
        return canonical(user_tf(p)->rip);
}

uint64_t machine_user_sp(struct proc *p)
{
        return user_tf(p)->rsp;
}

void machine_core_gregs(struct proc *p, void *buf)
{
        const struct trap_frame *tf = user_tf(p);
        /* Linux's struct user_regs_struct, in its order. */
        const uint64_t r[MACHINE_CORE_GREGS_SIZE / 8] = {
                tf->r15, tf->r14, tf->r13, tf->r12, tf->rbp, tf->rbx,
                tf->r11, tf->r10, tf->r9, tf->r8, tf->rax, tf->rcx,
                tf->rdx, tf->rsi, tf->rdi,
                p->md.in_syscall ? p->md.syscall_nr : (uint64_t)-1, /* orig_rax */
                tf->rip, tf->cs, tf->rflags, tf->rsp, tf->ss,
                p->md.fs_base, 0,               /* fs_base, gs_base */
                0, 0, 0, 0,                     /* ds, es, fs, gs */
        };

        memcpy(buf, r, sizeof r);
}

void machine_note_fault(struct proc *p, unsigned trapno, uint64_t err,
                        uint64_t addr)
{
        p->md.fault_trapno = trapno;
        p->md.fault_err = err;
        p->md.fault_cr2 = addr;
}

/* Where the frame goes; 0 if it does not fit (alternate stack overflow). */
static uint64_t frame_address(struct proc *p, const struct k_sigaction *ka,
                              uint64_t *fpstate, bool *entering_out)
{
        uint64_t sp = user_tf(p)->rsp - REDZONE;
        bool was_on = signal_on_altstack(p, user_tf(p)->rsp), entering = false;

        if ((ka->flags & SA_ONSTACK) && signal_altstack_flags(p, sp) == 0) {
                sp = p->sig.altstack.ss_sp + p->sig.altstack.ss_size;
                entering = true;
        }
        *entering_out = entering;
        sp = (sp - FPSTATE_SIZE) & ~63UL;
        *fpstate = sp;
        sp -= sizeof(struct rt_sigframe);
        sp = ((sp + 8) & ~15UL) - 8;
        if ((was_on || entering) && !signal_on_altstack(p, sp))
                return 0;
        return sp;
}

static void sigcontext_fill(struct sigcontext64 *sc, const struct proc *p,
                            const struct trap_frame *tf, ksigset_t oldmask,
                            uint64_t fpstate)
{
        *sc = (struct sigcontext64){
                .r8 = tf->r8, .r9 = tf->r9, .r10 = tf->r10, .r11 = tf->r11,
                .r12 = tf->r12, .r13 = tf->r13, .r14 = tf->r14,
                .r15 = tf->r15, .rdi = tf->rdi, .rsi = tf->rsi,
                .rbp = tf->rbp, .rbx = tf->rbx, .rdx = tf->rdx,
                .rax = tf->rax, .rcx = tf->rcx, .rsp = tf->rsp,
                .rip = tf->rip, .eflags = tf->rflags,
                .cs = (uint16_t)tf->cs, .ss = (uint16_t)tf->ss,
                .err = p->md.fault_err, .trapno = p->md.fault_trapno,
                .oldmask = oldmask, .cr2 = p->md.fault_cr2,
                .fpstate = fpstate,
        };
}

int machine_signal_frame_setup(struct proc *p, int sig,
                               const struct ksiginfo *info,
                               const struct k_sigaction *ka, ksigset_t oldmask)
{
        struct trap_frame *tf = user_tf(p);
        _Alignas(16) uint8_t fx[FPSTATE_SIZE];
        struct rt_sigframe f;
        uint64_t fpstate, sp;
        bool entering;

        if (!(ka->flags & SA_RESTORER))
                return -EFAULT;         /* x86-64 has no default return path */
        if (!(sp = frame_address(p, ka, &fpstate, &entering)))
                return -EFAULT;
        memset(&f, 0, sizeof f);
        f.pretcode = ka->restorer;
        f.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
        f.uc.uc_stack = p->sig.altstack;
        f.uc.uc_stack.ss_flags = signal_altstack_flags(p, tf->rsp) |
                (int32_t)((uint32_t)p->sig.altstack.ss_flags & SS_AUTODISARM);
        sigcontext_fill(&f.uc.uc_mcontext, p, tf, oldmask, fpstate);
        f.uc.uc_sigmask = oldmask;
        siginfo_to_linux(f.info, info);
        __asm__ volatile("fxsave %0" : "=m"(fx));
        if (copy_to_user(fpstate, fx, sizeof fx) ||
            copy_to_user(sp, &f, sizeof f))
                return -EFAULT;
        tf->rdi = (uint64_t)sig;
        tf->rsi = sp + offsetof(struct rt_sigframe, info);
        tf->rdx = sp + offsetof(struct rt_sigframe, uc);
        tf->rax = 0;
        tf->rsp = sp;
        tf->rip = ka->handler;
        tf->cs = SEL_UCODE;
        tf->ss = SEL_UDATA;
        tf->rflags &= ~(uint64_t)(RFLAGS_DF | RFLAGS_RF | RFLAGS_TF);
        /* %rcx and %r11 are scratch at a function's entry: giving them
         * the values sysret loads lets the handler be entered by sysret
         * rather than the slower iretq */
        tf->rcx = tf->rip;
        tf->r11 = tf->rflags;
        machine_fpu_load_initial();
        machine_note_fault(p, 0, 0, 0);
        /* SS_AUTODISARM: the handler runs with no alternate stack (so it
         * may switch stacks itself); rt_sigreturn puts it back. */
        if (entering && (p->sig.altstack.ss_flags & SS_AUTODISARM))
                p->sig.altstack = (struct linux_stack){ .ss_flags = SS_DISABLE };
        return 0;
}

/* The registers of sc into tf; false if they cannot be returned to. */
static bool sigcontext_restore(struct trap_frame *tf,
                               const struct sigcontext64 *sc)
{
        if (!canonical(sc->rip) || (sc->cs | 3) != SEL_UCODE ||
            (sc->ss | 3) != SEL_UDATA)
                return false;
        tf->r8 = sc->r8, tf->r9 = sc->r9, tf->r10 = sc->r10;
        tf->r11 = sc->r11, tf->r12 = sc->r12, tf->r13 = sc->r13;
        tf->r14 = sc->r14, tf->r15 = sc->r15, tf->rdi = sc->rdi;
        tf->rsi = sc->rsi, tf->rbp = sc->rbp, tf->rbx = sc->rbx;
        tf->rdx = sc->rdx, tf->rax = sc->rax, tf->rcx = sc->rcx;
        tf->rsp = sc->rsp, tf->rip = sc->rip;
        tf->cs = SEL_UCODE, tf->ss = SEL_UDATA;
        tf->rflags = (tf->rflags & ~(uint64_t)RFLAGS_USER) |
                     (sc->eflags & RFLAGS_USER);
        return true;
}

/* The FPU/SSE image at user address fpstate (0: a fresh state). */
static bool fpstate_restore(uint64_t fpstate)
{
        _Alignas(16) uint8_t fx[FPSTATE_SIZE];

        if (!fpstate) {
                machine_fpu_load_initial();
                return true;
        }
        if (copy_from_user(fx, fpstate, sizeof fx))
                return false;
        if (*(uint32_t *)(fx + 24) & ~machine_mxcsr_mask)
                return false;           /* fxrstor would #GP; Linux: SIGSEGV */
        __asm__ volatile("fxrstor %0" : : "m"(fx));
        return true;
}

long sys_rt_sigreturn(long a0, long a1, long a2, long a3, long a4, long a5)
{
        struct proc *p = current;
        struct trap_frame *tf = user_tf(p);
        struct ucontext64 uc;

        p->md.in_syscall = false;       /* the restored %rax is no result */
        p->restart.fn = NULL;           /* nothing to go on with after it */
        if (copy_from_user(&uc, tf->rsp - 8 + offsetof(struct rt_sigframe, uc),
                           sizeof uc) ||
            !sigcontext_restore(tf, &uc.uc_mcontext) ||
            !fpstate_restore(uc.uc_mcontext.fpstate)) {
                signal_force(SIGSEGV, NULL);
                return (long)tf->rax;
        }
        p->sig.blocked = uc.uc_sigmask &
                         ~(sigmask_of(SIGKILL) | sigmask_of(SIGSTOP));
        signal_altstack_restore(&uc.uc_stack);
        return (long)tf->rax;
}
