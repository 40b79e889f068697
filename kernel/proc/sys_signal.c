/*
 * sys_signal.c - the signal system calls: rt_sigaction, rt_sigprocmask,
 * rt_sigpending, rt_sigsuspend, rt_sigtimedwait, rt_sigqueueinfo,
 * rt_tgsigqueueinfo, sigaltstack, kill, tkill, tgkill.
 *
 * Arguments are checked in Linux's order with Linux's errnos: a signal
 * set whose size is not 8 bytes is EINVAL, bad signal numbers EINVAL,
 * unreadable or unwritable user memory EFAULT. `int` arguments use only
 * their low 32 bits. rt_sigreturn is the architecture's
 * (arch/x86_64/signal_frame.c).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/machine_hooks.h>
#include <machine/sigaction.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <proc/time.h>


#define UNCATCHABLE     (sigmask_of(SIGKILL) | sigmask_of(SIGSTOP))
#define SIG_BLOCK       0
#define SIG_UNBLOCK     1
#define SIG_SETMASK     2
#define INT_MIN_        (-2147483647 - 1)


static long kill_one(struct proc *p, int sig, const struct ksiginfo *info);
static long kill_thread(struct proc *p, int sig, const struct ksiginfo *info);

/* What kill and friends tell the receiver about the sender. */
static struct ksiginfo sender_info(int code)
{
        return (struct ksiginfo){ .code = code, .pid = current->pid,
                                  .uid = current->cred.uid };
}

SYSCALL_DECL(rt_sigaction)
{
        int sig = (int)a0;
        struct k_sigaction act, old;
        struct linux_sigaction uact;    /* the architecture's layout */

        if (a3 != sizeof(ksigset_t))
                return -EINVAL;
        if (a1) {
                if (copy_from_user(&uact, (uint64_t)a1, sizeof uact))
                        return -EFAULT;
                sigaction_from_linux(&act, &uact);
        }
        if (!sig_valid(sig) || (a1 && (sig == SIGKILL || sig == SIGSTOP)))
                return -EINVAL;
        old = current->sig.action[sig - 1];
        if (a1) {
                act.mask &= ~UNCATCHABLE;
                signal_set_action(current, sig, &act);
                /* A signal that is now ignored stops being pending, in
                 * every thread of the process. */
                if (act.handler == SIG_IGN ||
                    (act.handler == SIG_DFL &&
                     signal_default_action(sig) == SIGDFL_IGN)) {
                        struct ksiginfo drop;
                        for (int i = 0; i < proc_slots; i++) {
                                struct proc *t = proc_table[i];
                                if (t->state == PROC_FREE || t->pid != current->pid)
                                        continue;
                                while (signal_dequeue(t, sigmask_of(sig), &drop))
                                        ;
                        }
                }
        }
        sigaction_to_linux(&uact, &old);
        if (a2 && copy_to_user((uint64_t)a2, &uact, sizeof uact))
                return -EFAULT;
        return 0;
}

SYSCALL_DECL(rt_sigprocmask)
{
        int how = (int)a0;
        ksigset_t old = current->sig.blocked, set;

        if (a3 != sizeof(ksigset_t))
                return -EINVAL;
        if (a1) {
                if (copy_from_user(&set, (uint64_t)a1, sizeof set))
                        return -EFAULT;
                set &= ~UNCATCHABLE;
                switch (how) {
                case SIG_BLOCK:   set |= old; break;
                case SIG_UNBLOCK: set = old & ~set; break;
                case SIG_SETMASK: break;
                default:          return -EINVAL;
                }
                signal_set_mask(set);   /* without the big lock (syscall.c) */
        }
        if (a2 && copy_to_user((uint64_t)a2, &old, sizeof old))
                return -EFAULT;
        return 0;
}

/* Pending signals that are blocked (the others are being delivered). */
SYSCALL_DECL(rt_sigpending)
{
        ksigset_t set = signal_pending_set(current) & current->sig.blocked;

        if ((uint64_t)a1 > sizeof(ksigset_t))
                return -EINVAL;
        return copy_to_user((uint64_t)a0, &set, (size_t)a1) ? -EFAULT : 0;
}

/* Sleep with a temporary mask until a signal is delivered; the old mask
 * comes back after its handler (signal_deliver does it). */
SYSCALL_DECL(rt_sigsuspend)
{
        struct proc *p = current;
        ksigset_t set;

        if (a1 != sizeof(ksigset_t))
                return -EINVAL;
        if (copy_from_user(&set, (uint64_t)a0, sizeof set))
                return -EFAULT;
        p->sig.saved_mask = p->sig.blocked;
        p->sig.restore_mask = true;
        p->sig.blocked = set & ~UNCATCHABLE;
        while (sched_sleep_on_intr(&p->sig) == 0)
                ;
        return -ERESTARTNOHAND;
}

/* Read a timeout; 0, -EFAULT or -EINVAL. */
static long timeout_from_user(uint64_t uts, uint64_t *ns)
{
        struct linux_timespec ts;

        if (timespec_read(uts, &ts))
                return -EFAULT;
        if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000)
                return -EINVAL;
        *ns = (uint64_t)ts.sec * 1000000000 + (uint64_t)ts.nsec;
        return 0;
}

/* Sleep until one of set is pending or the time (if any) is up, with
 * set unblocked meanwhile. => 0 if the time ran out, -EINTR otherwise. */
static int wait_for_set(ksigset_t set, bool timed, uint64_t deadline)
{
        struct proc *p = current;
        ksigset_t saved = p->sig.blocked;
        int r;

        p->sig.real_blocked = saved;    /* still blocked, for init_ignores */
        p->sig.blocked &= ~set;
        do {
                r = timed ? sched_sleep_until_intr(deadline)
                          : sched_sleep_on_intr(&p->sig);
        } while (r == 0 && (!timed || clock_monotonic_ns() < deadline));
        p->sig.blocked = saved;
        p->sig.real_blocked = 0;
        return r;
}

SYSCALL_DECL(rt_sigtimedwait)
{
        ksigset_t set;
        struct ksiginfo info;
        uint64_t ns = 0;
        uint8_t linux_info[LINUX_SIGINFO_SIZE];
        long err;
        int sig;

        if (a3 != sizeof(ksigset_t))
                return -EINVAL;
        if (copy_from_user(&set, (uint64_t)a0, sizeof set))
                return -EFAULT;
        if (a2 && (err = timeout_from_user((uint64_t)a2, &ns)))
                return err;
        set &= ~UNCATCHABLE;
        sig = signal_dequeue(current, set, &info);
        if (!sig) {
                if (a2 && ns == 0)
                        return -EAGAIN;
                int r = wait_for_set(set, a2 != 0, clock_monotonic_ns() + ns);
                sig = signal_dequeue(current, set, &info);
                if (!sig)
                        return r ? -EINTR : -EAGAIN;
        }
        if (a1) {
                siginfo_to_linux(linux_info, &info);
                if (copy_to_user((uint64_t)a1, linux_info, sizeof linux_info))
                        return -EFAULT;
        }
        return sig;
}

/* A siginfo from rt_[tg]sigqueueinfo: the caller chooses code and value;
 * a code of the kernel's (>= 0) or SI_TKILL may only be sent to oneself. */
static long queued_info(uint64_t uinfo, int target, int sig,
                        struct ksiginfo *out)
{
        uint8_t raw[LINUX_SIGINFO_SIZE];
        int32_t code, pid;
        uint32_t uid;
        unsigned long value;            /* sigval: the user's long */

        if (copy_from_user(raw, uinfo, sizeof raw))
                return -EFAULT;
        memcpy(&code, raw + 8, 4);
        memcpy(&pid, raw + LINUX_SIGINFO_UNION, 4);
        memcpy(&uid, raw + LINUX_SIGINFO_UNION + 4, 4);
        memcpy(&value, raw + LINUX_SIGINFO_UNION + 8, sizeof value);
        if ((code >= 0 || code == SI_TKILL) && target != current->pid)
                return -EPERM;
        *out = (struct ksiginfo){ .signo = sig, .code = code, .pid = pid,
                                  .uid = uid };
        memcpy(&out->errno_, raw + 4, 4);
        out->value = value;
        return 0;
}

SYSCALL_DECL(rt_sigqueueinfo)
{
        int pid = (int)a0, sig = (int)a1;
        struct ksiginfo info;
        long err = queued_info((uint64_t)a2, pid, sig, &info);
        struct proc *p;

        if (err)
                return err;
        if (sig < 0 || sig > NSIG)
                return -EINVAL;
        if (pid <= 0 || !(p = proc_find(pid)))
                return -ESRCH;
        return kill_one(p, sig, &info);
}

SYSCALL_DECL(rt_tgsigqueueinfo)
{
        int tgid = (int)a0, tid = (int)a1, sig = (int)a2;
        struct ksiginfo info;
        struct proc *p;
        long err;

        if (tgid <= 0 || tid <= 0)
                return -EINVAL;
        if ((err = queued_info((uint64_t)a3, tgid, sig, &info)))
                return err;
        if (sig < 0 || sig > NSIG)
                return -EINVAL;
        if (!(p = proc_find(tid)) || p->pid != tgid)
                return -ESRCH;
        return kill_thread(p, sig, &info);
}

/*
 * Whether the caller may signal p (Linux's check_kill_permission): itself,
 * a process whose real or saved uid is the caller's real or effective
 * uid, anything with CAP_KILL; and SIGCONT within the caller's session.
 */
static bool kill_permitted(const struct proc *p, int sig)
{
        const struct cred *c = &current->cred, *t = &p->cred;

        if (p->pid == current->pid || cred_capable(c, CAP_KILL))
                return true;
        if (c->euid == t->suid || c->euid == t->uid ||
            c->uid == t->suid || c->uid == t->uid)
                return true;
        return sig == SIGCONT && p->sid == current->sid;
}

/* A signal from the calling process to p's process: permission, then
 * sending. */
/*
 * Linux's SIGNAL_UNKILLABLE: init takes from processes (itself included)
 * only the signals it has a handler for; one with the default action,
 * SIGKILL and SIGSTOP included, is dropped and the send succeeds. A
 * blocked one (or one sigtimedwait waits for) is queued, as Linux's (the
 * handler may change before it is unblocked; if it is still the default
 * then, signal_deliver drops it, as Linux). Signals the kernel makes (a
 * fault) still reach init.
 */
static bool init_ignores(const struct proc *p, int sig)
{
        return p->pid == 1 && sig > 0 &&
               p->sig.action[sig - 1].handler == SIG_DFL &&
               !((p->sig.blocked | p->sig.real_blocked) & sigmask_of(sig));
}

static long kill_one(struct proc *p, int sig, const struct ksiginfo *info)
{
        if (!kill_permitted(p, sig))
                return -EPERM;
        if (init_ignores(p, sig))
                return 0;
        return signal_send(p, sig, info);
}

/* ... to the thread p alone (tkill, tgkill, rt_tgsigqueueinfo). */
static long kill_thread(struct proc *p, int sig, const struct ksiginfo *info)
{
        if (!kill_permitted(p, sig))
                return -EPERM;
        if (init_ignores(p, sig))
                return 0;
        return signal_send_thread(p, sig, info);
}

/* kill(-pgid) and kill(0): success if any member got it, else the last
 * error (EPERM), or ESRCH for an empty group. */
static long kill_group(int pgid, int sig, const struct ksiginfo *info)
{
        long err = -ESRCH;
        bool sent = false;

        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (!proc_is_leader(p) || p->pgid != pgid)
                        continue;
                long e = kill_one(p, sig, info);
                if (e == 0)
                        sent = true;
                else
                        err = e;
        }
        return sent ? 0 : err;
}

/* kill(-1): every process but init and the caller; refusals are not
 * errors (as Linux), only finding nobody is. */
static long kill_all(int sig, const struct ksiginfo *info)
{
        long err = 0;
        int found = 0;

        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (!proc_is_leader(p) || p->pid == 1 || p->pid == current->pid)
                        continue;
                found++;
                long e = kill_one(p, sig, info);
                if (e && e != -EPERM)
                        err = e;
        }
        return found ? err : -ESRCH;
}

SYSCALL_DECL(kill)
{
        int pid = (int)a0, sig = (int)a1;
        struct ksiginfo info = sender_info(SI_USER);
        struct proc *p;

        if (sig < 0 || sig > NSIG)
                return -EINVAL;
        if (pid > 0) {
                if (!(p = proc_find(pid)))
                        return -ESRCH;
                return kill_one(p, sig, &info);
        }
        if (pid == INT_MIN_)
                return -ESRCH;
        if (pid == -1)
                return kill_all(sig, &info);
        return kill_group(pid ? -pid : current->pgid, sig, &info);
}

SYSCALL_DECL(tkill)
{
        int tid = (int)a0, sig = (int)a1;
        struct ksiginfo info = sender_info(SI_TKILL);
        struct proc *p;

        if (tid <= 0 || sig < 0 || sig > NSIG)
                return -EINVAL;
        if (!(p = proc_find(tid)))
                return -ESRCH;
        return kill_thread(p, sig, &info);
}

SYSCALL_DECL(tgkill)
{
        int tgid = (int)a0, tid = (int)a1, sig = (int)a2;
        struct ksiginfo info = sender_info(SI_TKILL);
        struct proc *p;

        if (tgid <= 0 || tid <= 0 || sig < 0 || sig > NSIG)
                return -EINVAL;
        if (!(p = proc_find(tid)) || p->pid != tgid)
                return -ESRCH;
        return kill_thread(p, sig, &info);
}

bool signal_on_altstack(const struct proc *p, uint64_t sp)
{
        const struct linux_stack *ss = &p->sig.altstack;

        return !(ss->ss_flags & SS_DISABLE) && sp > ss->ss_sp &&
               sp - ss->ss_sp <= ss->ss_size;
}

int32_t signal_altstack_flags(const struct proc *p, uint64_t sp)
{
        if (p->sig.altstack.ss_flags & SS_DISABLE)
                return SS_DISABLE;
        return signal_on_altstack(p, sp) ? SS_ONSTACK : 0;
}

int signal_altstack_set(struct proc *p, const struct linux_stack *ss,
                        uint64_t sp)
{
        uint32_t mode = (uint32_t)ss->ss_flags & ~SS_AUTODISARM;

        if (signal_on_altstack(p, sp))
                return -EPERM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
                return -EINVAL;
        if (mode == SS_DISABLE) {
                p->sig.altstack = (struct linux_stack){ .ss_flags = SS_DISABLE };
                return 0;
        }
        if (ss->ss_size < MINSIGSTKSZ)
                return -ENOMEM;
        p->sig.altstack = (struct linux_stack){
                .ss_sp = ss->ss_sp, .ss_size = ss->ss_size,
                .ss_flags = (int32_t)((uint32_t)ss->ss_flags & SS_AUTODISARM),
        };
        return 0;
}

void signal_altstack_restore(const struct linux_stack *ss)
{
        (void)signal_altstack_set(current, ss, machine_user_sp(current));
}

SYSCALL_DECL(sigaltstack)
{
        struct proc *p = current;
        uint64_t sp = machine_user_sp(p);
        struct linux_stack old = p->sig.altstack, ss;
        long err = 0;

        old.ss_flags = (p->sig.altstack.ss_flags & SS_DISABLE) ? SS_DISABLE :
                       (signal_on_altstack(p, sp) ? SS_ONSTACK : 0) |
                       (int32_t)((uint32_t)p->sig.altstack.ss_flags & SS_AUTODISARM);
        if (old.ss_flags == SS_DISABLE)
                old.ss_sp = old.ss_size = 0;
        if (a0) {
                if (copy_from_user(&ss, (uint64_t)a0, sizeof ss))
                        return -EFAULT;
                err = signal_altstack_set(p, &ss, sp);
        }
        if (!err && a1 && copy_to_user((uint64_t)a1, &old, sizeof old))
                return -EFAULT;
        return err;
}
