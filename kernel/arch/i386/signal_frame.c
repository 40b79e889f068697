/*
 * signal_frame.c (i386) - Linux's two i386 signal frames, sigreturn and
 * rt_sigreturn.
 *
 * A handler with SA_SIGINFO gets the rt frame (Linux's rt_sigframe_ia32),
 * from its stack pointer up: the return address, then its three
 * arguments on the stack (sig, &info, &uc), the 128-byte siginfo, the
 * ucontext (uc_flags, uc_link, the 12-byte stack_t, the 88-byte
 * sigcontext, the 8-byte mask), and 8 bytes of retcode. Any other handler
 * gets the old frame (sigframe_ia32): the return address, sig, the
 * sigcontext, an unused 624-byte FPU area, the mask's high word and the
 * retcode. Above either frame, 64-byte aligned, is the FPU state the
 * sigcontext's fpstate points at: the 112-byte fsave header (control and
 * status words; magic 0 means an fxsave image follows) and the 512-byte
 * fxsave image. The handler is entered with %esp + 4 16-byte aligned, as
 * after a call, and sig, &info, &uc also in eax, edx, ecx (for handlers
 * built with regparm).
 *
 * The return address is sa_restorer with SA_RESTORER (glibc always
 * passes one: __restore_rt calls rt_sigreturn, __restore pops sig and
 * calls sigreturn); else the vDSO's __kernel_rt_sigreturn or
 * __kernel_sigreturn, the same two calls; only a process that unmapped
 * its vDSO returns to the frame's retcode, those calls as bytes again
 * (Linux writes them in every frame, for debuggers; they run only where
 * the stack is executable).
 *
 * sigreturn and rt_sigreturn trust nothing in the frame: selectors that
 * are not the user's, an unreadable fpstate or reserved MXCSR bits cost
 * the process a SIGSEGV; only the arithmetic and control flags of EFLAGS
 * are taken (Linux's FIX_EFLAGS).
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <proc/vdso.h>
#include <vm/vm_space.h>
#include <mercator/uaccess.h>
#include <proc/machine_hooks.h>
#include <machine/elf.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include "trap.h"

bool machine_fpu_fxsr(void);                            /* thread.c */
void machine_fpu_save_current(uint8_t buf[512]);
void machine_fpu_restore_image(const uint8_t buf[512]);

/* Linux's struct sigcontext (32-bit), also glibc's mcontext_t gregs. */
struct sigcontext32 {
        uint16_t gs, gsh, fs, fsh, es, esh, ds, dsh;
        uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
        uint32_t trapno, err, eip;
        uint16_t cs, csh;
        uint32_t eflags, esp_at_signal;
        uint16_t ss, ssh;
        uint32_t fpstate;               /* user address of the FPU state */
        uint32_t oldmask, cr2;
};

struct ucontext32 {
        uint32_t            uc_flags;
        uint32_t            uc_link;
        struct linux_stack  uc_stack;
        struct sigcontext32 uc_mcontext;
        uint32_t            uc_sigmask[2];
};

#define FPSTATE_LEGACY  112             /* struct _fpstate_32 up to _fxsr_env */
#define FPSTATE_FX      512             /* the fxsave image after it */
#define FPSTATE_SIZE    624             /* sizeof(struct _fpstate_32) */

struct rt_sigframe32 {
        uint32_t           pretcode;
        int32_t            sig;
        uint32_t           pinfo, puc;
        uint8_t            info[LINUX_SIGINFO_SIZE];
        struct ucontext32  uc;
        uint8_t            retcode[8];
};

struct sigframe32 {
        uint32_t            pretcode;
        int32_t             sig;
        struct sigcontext32 sc;
        uint8_t             fpstate_unused[FPSTATE_SIZE];
        uint32_t            extramask[1];
        uint8_t             retcode[8];
};

_Static_assert(sizeof(struct sigcontext32) == 88, "Linux's sigcontext_32");
_Static_assert(sizeof(struct linux_stack) == 12, "i386 stack_t");
_Static_assert(offsetof(struct rt_sigframe32, info) == 16 &&
               offsetof(struct rt_sigframe32, uc) == 144 &&
               offsetof(struct rt_sigframe32, uc.uc_mcontext) == 164 &&
               offsetof(struct rt_sigframe32, uc.uc_sigmask) == 252 &&
               sizeof(struct rt_sigframe32) == 268, "Linux's rt_sigframe_ia32");
_Static_assert(offsetof(struct sigframe32, extramask) == 720 &&
               sizeof(struct sigframe32) == 732, "Linux's sigframe_ia32");

#define EFLAGS_CF 0x1
#define EFLAGS_PF 0x4
#define EFLAGS_AF 0x10
#define EFLAGS_ZF 0x40
#define EFLAGS_SF 0x80
#define EFLAGS_TF 0x100
#define EFLAGS_DF 0x400
#define EFLAGS_OF 0x800
#define EFLAGS_RF 0x10000
#define EFLAGS_AC 0x40000
/* What a sigcontext may change in EFLAGS (Linux's FIX_EFLAGS). */
#define EFLAGS_USER (EFLAGS_AC | EFLAGS_OF | EFLAGS_DF | EFLAGS_TF | \
                     EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | \
                     EFLAGS_CF | EFLAGS_RF)

static struct trap_frame *user_tf(struct proc *p)
{
        return p->md.user_frame;
}

bool machine_syscall_unsettled(struct proc *p, long *ret)
{
        if (!p->md.in_syscall)
                return false;
        p->md.in_syscall = false;
        *ret = (long)user_tf(p)->eax;
        return true;
}

void machine_syscall_set_result(struct proc *p, long ret)
{
        user_tf(p)->eax = (uint32_t)ret;
}

void machine_syscall_restart(struct proc *p)
{
        struct trap_frame *tf = user_tf(p);

        tf->eax = p->md.syscall_nr;
        tf->eip -= 2;                   /* back onto `int $0x80` (cd 80) */
}

void machine_syscall_restart_block(struct proc *p)
{
        struct trap_frame *tf = user_tf(p);

        tf->eax = SYS_restart_syscall;
        tf->eip -= 2;
}

bool machine_user_context_ok(struct proc *p)
{
        return user_tf(p)->eip < USER_MAX;
}

uint64_t machine_user_sp(struct proc *p)
{
        return user_tf(p)->esp;
}

void machine_core_gregs(struct proc *p, void *buf)
{
        const struct trap_frame *tf = user_tf(p);
        /* Linux's i386 struct user_regs_struct, in its order. */
        const uint32_t r[MACHINE_CORE_GREGS_SIZE / 4] = {
                tf->ebx, tf->ecx, tf->edx, tf->esi, tf->edi, tf->ebp, tf->eax,
                tf->ds, tf->es, tf->fs, tf->gs,
                p->md.in_syscall ? (uint32_t)p->md.syscall_nr : (uint32_t)-1,
                tf->eip, tf->cs, tf->eflags, tf->esp, tf->ss,
        };

        memcpy(buf, r, sizeof r);
}

void machine_note_fault(struct proc *p, unsigned trapno, uint64_t err,
                        uint64_t addr)
{
        p->md.fault_trapno = trapno;
        p->md.fault_err = (uint32_t)err;
        p->md.fault_cr2 = (uint32_t)addr;
}

/* Where a frame of `size` bytes goes, and its FPU state; 0 if it does not
 * fit (alternate stack overflow). */
static uint32_t frame_address(struct proc *p, const struct k_sigaction *ka,
                              size_t size, uint32_t *fpstate, bool *entering_out)
{
        uint32_t sp = user_tf(p)->esp;
        bool was_on = signal_on_altstack(p, sp), entering = false;

        if ((ka->flags & SA_ONSTACK) && signal_altstack_flags(p, sp) == 0) {
                sp = (uint32_t)(p->sig.altstack.ss_sp + p->sig.altstack.ss_size);
                entering = true;
        }
        *entering_out = entering;
        sp = (sp - FPSTATE_FX) & ~63u;          /* the fxsave image */
        sp -= FPSTATE_LEGACY;
        *fpstate = sp;
        sp -= (uint32_t)size;
        sp = ((sp + 4) & ~15u) - 4;
        if ((was_on || entering) && !signal_on_altstack(p, sp))
                return 0;
        return sp;
}

static void sigcontext_fill(struct sigcontext32 *sc, const struct proc *p,
                            const struct trap_frame *tf, uint32_t oldmask,
                            uint32_t fpstate)
{
        *sc = (struct sigcontext32){
                .gs = (uint16_t)tf->gs, .fs = (uint16_t)tf->fs,
                .es = (uint16_t)tf->es, .ds = (uint16_t)tf->ds,
                .edi = tf->edi, .esi = tf->esi, .ebp = tf->ebp,
                .esp = tf->esp, .ebx = tf->ebx, .edx = tf->edx,
                .ecx = tf->ecx, .eax = tf->eax,
                .trapno = p->md.fault_trapno, .err = p->md.fault_err,
                .eip = tf->eip, .cs = (uint16_t)tf->cs,
                .eflags = tf->eflags, .esp_at_signal = tf->esp,
                .ss = (uint16_t)tf->ss, .fpstate = fpstate,
                .oldmask = oldmask, .cr2 = p->md.fault_cr2,
        };
}

/* The FPU state at fpstate: the fsave header's control and status words
 * and magic, then the fxsave image (or the fnsave image alone). */
static long fpstate_write(uint32_t fpstate)
{
        _Alignas(16) uint8_t fx[512];
        uint8_t legacy[FPSTATE_LEGACY];

        memset(legacy, 0, sizeof legacy);
        machine_fpu_save_current(fx);
        if (!machine_fpu_fxsr()) {
                memcpy(legacy, fx, 108);
                legacy[110] = legacy[111] = 0xff;       /* magic: fsave only */
                return copy_to_user(fpstate, legacy, sizeof legacy);
        }
        uint32_t cw = *(uint16_t *)fx, sw = *(uint16_t *)(fx + 2);
        memcpy(legacy, &cw, 4);
        memcpy(legacy + 4, &sw, 4);
        memcpy(legacy + 108, &sw, 2);                   /* status */
        /* magic (offset 110) 0: an fxsave image follows */
        if (copy_to_user(fpstate, legacy, sizeof legacy) ||
            copy_to_user(fpstate + FPSTATE_LEGACY, fx, sizeof fx))
                return -EFAULT;
        return 0;
}

static void enter_handler(struct proc *p, const struct k_sigaction *ka,
                          uint32_t sp, int sig, uint32_t info, uint32_t uc,
                          bool entering)
{
        struct trap_frame *tf = user_tf(p);

        tf->eax = (uint32_t)sig;
        tf->edx = info;
        tf->ecx = uc;
        tf->esp = sp;
        tf->eip = (uint32_t)ka->handler;
        tf->cs = SEL_UCODE;
        tf->ss = tf->ds = tf->es = SEL_UDATA;
        tf->eflags &= ~(uint32_t)(EFLAGS_DF | EFLAGS_RF | EFLAGS_TF);
        machine_fpu_load_initial();
        machine_note_fault(p, 0, 0, 0);
        /* SS_AUTODISARM: the handler runs with no alternate stack; the
         * return puts it back. */
        if (entering && (p->sig.altstack.ss_flags & SS_AUTODISARM))
                p->sig.altstack = (struct linux_stack){ .ss_flags = SS_DISABLE };
}

static const uint8_t rt_retcode[8] = {
        0xb8, 173, 0, 0, 0,             /* movl $__NR_rt_sigreturn, %eax */
        0xcd, 0x80, 0                   /* int $0x80 */
};
static const uint8_t retcode[8] = {
        0x58,                           /* popl %eax */
        0xb8, 119, 0, 0, 0,             /* movl $__NR_sigreturn, %eax */
        0xcd, 0x80                      /* int $0x80 */
};

/* Where a handler without SA_RESTORER returns: the vDSO's trampoline
 * `name`, or the frame's retcode at `retcode` without a vDSO. */
static uint32_t frame_return(struct proc *p, const char *name, uint32_t retcode)
{
        static uint32_t off[2];                 /* sigreturn, rt_sigreturn */
        bool rt = name[9] == 'r';               /* "__kernel_rt_..." */

        if (!p->space->vdso_base)
                return retcode;
        if (!off[rt])
                off[rt] = (uint32_t)vdso_symbol(name);
        return off[rt] ? (uint32_t)p->space->vdso_base + off[rt] : retcode;
}

int machine_signal_frame_setup(struct proc *p, int sig,
                               const struct ksiginfo *info,
                               const struct k_sigaction *ka, ksigset_t oldmask)
{
        struct trap_frame *tf = user_tf(p);
        uint32_t fpstate, sp;
        bool entering;

        if (ka->flags & SA_SIGINFO) {
                struct rt_sigframe32 f;

                if (!(sp = frame_address(p, ka, sizeof f, &fpstate, &entering)))
                        return -EFAULT;
                memset(&f, 0, sizeof f);
                f.pretcode = ka->flags & SA_RESTORER ? (uint32_t)ka->restorer :
                             frame_return(p, "__kernel_rt_sigreturn",
                                          sp + (uint32_t)offsetof(struct rt_sigframe32, retcode));
                f.sig = sig;
                f.pinfo = sp + (uint32_t)offsetof(struct rt_sigframe32, info);
                f.puc = sp + (uint32_t)offsetof(struct rt_sigframe32, uc);
                siginfo_to_linux(f.info, info);
                f.uc.uc_stack = p->sig.altstack;
                f.uc.uc_stack.ss_flags = signal_altstack_flags(p, tf->esp) |
                        (int32_t)((uint32_t)p->sig.altstack.ss_flags & SS_AUTODISARM);
                sigcontext_fill(&f.uc.uc_mcontext, p, tf, (uint32_t)oldmask,
                                fpstate);
                f.uc.uc_sigmask[0] = (uint32_t)oldmask;
                f.uc.uc_sigmask[1] = (uint32_t)(oldmask >> 32);
                memcpy(f.retcode, rt_retcode, sizeof f.retcode);
                if (fpstate_write(fpstate) || copy_to_user(sp, &f, sizeof f))
                        return -EFAULT;
                enter_handler(p, ka, sp, sig, f.pinfo, f.puc, entering);
        } else {
                struct sigframe32 f;

                const size_t head = offsetof(struct sigframe32, fpstate_unused),
                             tail = offsetof(struct sigframe32, extramask);

                if (!(sp = frame_address(p, ka, sizeof f, &fpstate, &entering)))
                        return -EFAULT;
                /* Every field is written; the 624 reserved bytes in the
                 * middle are neither cleared nor copied (Linux leaves
                 * them as the stack had them too). */
                f.pretcode = ka->flags & SA_RESTORER ? (uint32_t)ka->restorer :
                             frame_return(p, "__kernel_sigreturn",
                                          sp + (uint32_t)offsetof(struct sigframe32, retcode));
                f.sig = sig;
                sigcontext_fill(&f.sc, p, tf, (uint32_t)oldmask, fpstate);
                f.extramask[0] = (uint32_t)(oldmask >> 32);
                memcpy(f.retcode, retcode, sizeof f.retcode);
                if (fpstate_write(fpstate) || copy_to_user(sp, &f, head) ||
                    copy_to_user(sp + tail, (const uint8_t *)&f + tail,
                                 sizeof f - tail))
                        return -EFAULT;
                enter_handler(p, ka, sp, sig, 0, 0, entering);
        }
        return 0;
}

/* A data selector a user context may hold: null, the user data segment,
 * or one of the TLS entries, at RPL 3. */
static bool user_data_sel(uint32_t sel)
{
        unsigned idx = (sel & 0xffff) >> 3;

        if ((sel & 0xffff) == 0)
                return true;
        if ((sel & 7) != 3)
                return false;
        return sel == SEL_UDATA || (idx >= GDT_ENTRY_TLS_MIN &&
                                    idx < GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES);
}

/* The registers of sc into tf; false if they cannot be returned to. */
static bool sigcontext_restore(struct trap_frame *tf,
                               const struct sigcontext32 *sc)
{
        if ((sc->cs | 3) != SEL_UCODE || (sc->ss | 3) != SEL_UDATA ||
            !user_data_sel(sc->gs) || !user_data_sel(sc->fs) ||
            !user_data_sel(sc->es) || !user_data_sel(sc->ds) ||
            sc->eip >= USER_MAX)
                return false;
        tf->gs = sc->gs, tf->fs = sc->fs, tf->es = sc->es, tf->ds = sc->ds;
        tf->edi = sc->edi, tf->esi = sc->esi, tf->ebp = sc->ebp;
        tf->ebx = sc->ebx, tf->edx = sc->edx, tf->ecx = sc->ecx;
        tf->eax = sc->eax, tf->esp = sc->esp, tf->eip = sc->eip;
        tf->cs = SEL_UCODE, tf->ss = SEL_UDATA;
        tf->eflags = (tf->eflags & ~(uint32_t)EFLAGS_USER) |
                     (sc->eflags & EFLAGS_USER);
        return true;
}

/* The FPU state at user address fpstate (0: a fresh state). */
static bool fpstate_restore(uint32_t fpstate)
{
        _Alignas(16) uint8_t fx[512];
        uint8_t legacy[FPSTATE_LEGACY];

        if (!fpstate) {
                machine_fpu_load_initial();
                return true;
        }
        if (copy_from_user(legacy, fpstate, sizeof legacy))
                return false;
        if (!machine_fpu_fxsr()) {
                memcpy(fx, legacy, 108);
        } else {
                if (legacy[110] == 0xff && legacy[111] == 0xff)
                        return false;   /* fsave only: not from this kernel */
                if (copy_from_user(fx, fpstate + FPSTATE_LEGACY, sizeof fx))
                        return false;
                uint32_t mxcsr;
                memcpy(&mxcsr, fx + 24, 4);
                if (mxcsr & ~0xffbfu)
                        return false;   /* fxrstor would #GP; Linux: SIGSEGV */
        }
        machine_fpu_restore_image(fx);
        return true;
}

/* The end of both returns: the registers, FPU state and mask from the
 * frame at uc_addr/sc_addr, or SIGSEGV. */
static long sigreturn_common(const struct sigcontext32 *sc, ksigset_t mask,
                             const struct linux_stack *stack)
{
        struct proc *p = current;
        struct trap_frame *tf = user_tf(p);

        if (!sigcontext_restore(tf, sc) || !fpstate_restore(sc->fpstate)) {
                signal_force(SIGSEGV, NULL);
                return (long)tf->eax;
        }
        p->sig.blocked = mask & ~(sigmask_of(SIGKILL) | sigmask_of(SIGSTOP));
        if (stack)
                signal_altstack_restore(stack);
        return (long)tf->eax;
}

SYSCALL_DECL(rt_sigreturn)
{
        struct proc *p = current;
        struct trap_frame *tf = user_tf(p);
        struct ucontext32 uc;

        p->md.in_syscall = false;       /* the restored %eax is no result */
        p->restart.fn = NULL;           /* nothing to go on with after it */
        /* __restore_rt runs with %esp just above pretcode */
        if (copy_from_user(&uc, tf->esp - 4 + offsetof(struct rt_sigframe32, uc),
                           sizeof uc)) {
                signal_force(SIGSEGV, NULL);
                return (long)tf->eax;
        }
        return sigreturn_common(&uc.uc_mcontext,
                                (ksigset_t)uc.uc_sigmask[1] << 32 | uc.uc_sigmask[0],
                                &uc.uc_stack);
}

SYSCALL_DECL(i386_sigreturn)
{
        struct proc *p = current;
        struct trap_frame *tf = user_tf(p);
        struct sigframe32 f;

        p->md.in_syscall = false;
        p->restart.fn = NULL;
        /* __restore popped sig: %esp is 8 bytes into the frame */
        if (copy_from_user(&f, tf->esp - 8, sizeof f)) {
                signal_force(SIGSEGV, NULL);
                return (long)tf->eax;
        }
        return sigreturn_common(&f.sc,
                                (ksigset_t)f.extramask[0] << 32 | f.sc.oldmask,
                                NULL);
}
