/*
 * signal.c - sending and delivering signals, with Linux's semantics.
 *
 * Sending (signal_send) only records: the signal becomes pending with its
 * siginfo, a stopped process is resumed by SIGCONT or SIGKILL, and an
 * unblocked signal ends an interruptible sleep.
 *
 * Threads: a signal sent to a process (kill) is pending in its group's
 * shared set (the leader's group.shared) and taken by the first thread
 * that does not block it, the one it was sent to if it can (that thread
 * is woken); a signal sent to a thread (tkill, a fault) is pending in the
 * thread's own set, taken only by it, before shared ones. Actions are the
 * same in every thread sharing them (signal_set_action writes them all);
 * masks are per thread. A default action that ends the process ends
 * every thread (proc_exit_group); a stop stops the group: the first thread
 * marks the leader stopped, the others stop on their way to user mode. Everything else happens
 * in the receiving process itself on its way back to user mode
 * (signal_deliver): default actions, or a handler frame built by the
 * architecture (proc/machine_hooks.h), and the settling of a system call that
 * was interrupted (-ERESTART* into a restart or -EINTR).
 *
 * Must not touch: registers and frame layouts (the architecture's);
 * the scheduler's queues (only state changes through sched_*).
 * Invariants: SIGKILL and SIGSTOP are never blocked, ignored or caught;
 * a bit in pending is set iff that signal has an info (standard) or at
 * least one queue entry (real-time) - except real-time signals sent by
 * the kernel when the queue is full, which stay pending without info.
 */
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <proc/coredump.h>
#include <proc/machine_hooks.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>


#define UNCATCHABLE     (sigmask_of(SIGKILL) | sigmask_of(SIGSTOP))
#define STOP_SIGNALS    (sigmask_of(SIGSTOP) | sigmask_of(SIGTSTP) | \
                         sigmask_of(SIGTTIN) | sigmask_of(SIGTTOU))
/* Signals a fault raises: delivered before any other pending one. */
#define SYNC_SIGNALS    (sigmask_of(SIGSEGV) | sigmask_of(SIGBUS) | \
                         sigmask_of(SIGILL) | sigmask_of(SIGTRAP) | \
                         sigmask_of(SIGFPE) | sigmask_of(SIGSYS))

enum sig_default signal_default_action(int sig)
{
        switch (sig) {
        case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
        case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
                return SIGDFL_CORE;
        case SIGCHLD: case SIGURG: case SIGWINCH:
                return SIGDFL_IGN;
        case SIGCONT:
                return SIGDFL_CONT;
        case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
                return SIGDFL_STOP;
        default:
                return SIGDFL_TERM;
        }
}

static struct k_sigaction *action_of(struct proc *p, int sig)
{
        return &p->sig.action[sig - 1];
}

static struct sigpend *shared_of(struct proc *p)
{
        return &group_of(p)->group.shared;
}

void signal_set_action(struct proc *p, int sig, const struct k_sigaction *ka)
{
        uint64_t id = p->sighand_id;

        for (int i = 0; i < proc_slots; i++) {
                struct proc *q = proc_table[i];
                if (q == p || (q->state != PROC_FREE && q->sighand_id == id))
                        q->sig.action[sig - 1] = *ka;
        }
}

ksigset_t signal_pending_set(struct proc *p)
{
        return p->sig.own.pending | shared_of(p)->pending;
}

/* Whether p throws sig away on arrival (when it is not blocked). */
static bool sig_ignored(struct proc *p, int sig)
{
        uint64_t h = action_of(p, sig)->handler;

        if (sig == SIGKILL || sig == SIGSTOP)
                return false;
        if (h == SIG_IGN)
                return true;
        return h == SIG_DFL && (signal_default_action(sig) == SIGDFL_IGN ||
                                signal_default_action(sig) == SIGDFL_CONT);
}

/* Forget pending signals in set (their infos and queue entries too). */
static void flush_pend(struct sigpend *sp, ksigset_t set)
{
        int n = 0;

        for (int i = 0; i < sp->nqueued; i++)
                if (!(sigmask_of(sp->queue[i].signo) & set))
                        sp->queue[n++] = sp->queue[i];
        sp->nqueued = n;
        sp->pending &= ~set;
}

/* ... in p's whole group: the shared set and every thread's own. */
static void flush_pending(struct proc *p, ksigset_t set)
{
        flush_pend(shared_of(p), set);
        for (int i = 0; i < proc_slots; i++) {
                struct proc *t = proc_table[i];
                if (t->state != PROC_FREE && t->pid == p->pid)
                        flush_pend(&t->sig.own, set);
        }
}

bool signal_pending(void)
{
        struct proc *p = current;

        return p && (p->pending_kill || group_of(p)->sig.stopped ||
                     (signal_pending_set(p) & ~p->sig.blocked));
}

/* p takes sig soon: a sleep the signal can end ends, and a thread running
 * on another CPU is interrupted there (machine_kick_running), so that it
 * does not run on in user mode until that CPU's next tick. */
static void wake_for_signal(struct proc *p, int sig)
{
        bool takes = sig == SIGKILL || !(p->sig.blocked & sigmask_of(sig));

        if (p->state == PROC_RUNNING && p != current && takes)
                machine_kick_running(p);
        if (sig == SIGKILL)
                sched_wake_sleeper(p, false);
        else if (!group_of(p)->sig.stopped && takes)
                sched_wake_sleeper(p, true);
}

/* SIGCONT (or SIGKILL) ends a stop of p's group. */
static void resume_stopped(struct proc *p, bool report)
{
        struct proc *g = group_of(p);

        if (!g->sig.stopped)
                return;
        g->sig.stopped = false;
        g->sig.report_stop = false;
        if (report) {
                g->sig.report_cont = true;
                signal_notify_parent(g, CLD_CONTINUED, SIGCONT);
        }
        sched_wakeup(&g->sig.stopped);
}

/* Stop and continue signals cancel each other when sent (Linux's
 * prepare_signal); SIGKILL ends everything. */
static void prepare_signal(struct proc *p, int sig)
{
        if (sigmask_of(sig) & STOP_SIGNALS)
                flush_pending(p, sigmask_of(SIGCONT));
        if (sig == SIGCONT) {
                flush_pending(p, STOP_SIGNALS);
                resume_stopped(p, true);
        }
        if (sig == SIGKILL) {
                proc_group_kill(p, NULL, wait_status_signaled(SIGKILL));
                resume_stopped(p, false);
        }
}

/* Whether thread t would take sig now (Linux's wants_signal). */
static bool wants_signal(struct proc *t, int sig)
{
        return proc_alive(t) && !t->pending_kill &&
               (sig == SIGKILL || !(t->sig.blocked & sigmask_of(sig)));
}

/* The thread of p's group to wake for a process-directed sig: p if it
 * takes it, else the first that does; NULL if every thread blocks it. */
static struct proc *pick_thread(struct proc *p, int sig)
{
        if (wants_signal(p, sig))
                return p;
        for (int i = 0; i < proc_slots; i++) {
                struct proc *t = proc_table[i];
                if (t->state != PROC_FREE && t->pid == p->pid &&
                    wants_signal(t, sig))
                        return t;
        }
        return NULL;
}

/*
 * The mask's store and the look at the shared set after it are ordered
 * by a full fence, as a sender's queueing of a signal and its look at the
 * masks are (send_common): of a sender and a thread that changes its mask
 * at the same time, one sees what the other did. A signal the thread now
 * blocks that a sender picked it for is passed on; one it now unblocks
 * is seen by its way out (signal_pending).
 */
void signal_set_mask(ksigset_t mask)
{
        struct proc *p = current;
        ksigset_t more = mask & ~p->sig.blocked, hit;

        p->sig.blocked = mask;          /* one aligned store: read whole */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        hit = *(volatile ksigset_t *)&shared_of(p)->pending & more;
        if (!hit)
                return;
        machine_kernel_lock_rest_of_call();
        hit = shared_of(p)->pending & more;
        for (int sig = 1; sig <= NSIG; sig++) {
                struct proc *t;

                if ((hit & sigmask_of(sig)) && (t = pick_thread(p, sig)))
                        wake_for_signal(t, sig);
        }
}

/* A thread of p's group that has not exited (p if it has not), or NULL. */
static struct proc *live_thread(struct proc *p)
{
        if (proc_alive(p))
                return p;
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->pid == p->pid && proc_alive(proc_table[i]))
                        return proc_table[i];
        return NULL;
}

static int queue_signal(struct sigpend *sp, const struct ksiginfo *ki)
{
        int sig = ki->signo;

        if (sig < SIGRTMIN) {
                if (!(sp->pending & sigmask_of(sig)))
                        sp->info[sig] = *ki;
        } else if (sp->nqueued < SIGQUEUE_MAX) {
                sp->queue[sp->nqueued++] = *ki;
        } else if (ki->code < 0 || ki->code == SI_USER) {
                return -EAGAIN;         /* sigqueue and friends: refused */
        }
        sp->pending |= sigmask_of(sig);
        return 0;
}

static int send_common(struct proc *p, int sig, const struct ksiginfo *info,
                       bool to_thread)
{
        struct ksiginfo ki;
        int err;

        if (sig == 0)
                return 0;
        if (!sig_valid(sig))
                return -EINVAL;
        if (!p || p->state == PROC_FREE)
                return 0;
        /* a leader that exited first still names its process */
        if (!(p = to_thread ? (proc_alive(p) ? p : NULL) : live_thread(p)))
                return 0;
        prepare_signal(p, sig);
        /* thrown away unless blocked, or blocked until a sigtimedwait
         * for it began (real_blocked, as Linux's sig_ignored) */
        if (sig_ignored(p, sig) &&
            !((p->sig.blocked | p->sig.real_blocked) & sigmask_of(sig)))
                return 0;
        if (info)
                ki = *info;
        else
                ki = (struct ksiginfo){ .code = SI_KERNEL };
        ki.signo = sig;
        err = queue_signal(to_thread ? &p->sig.own : shared_of(p), &ki);
        if (err)
                return err;
        /* before the masks are looked at: signal_set_mask's other half */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!to_thread)
                p = pick_thread(p, sig);
        if (p)
                wake_for_signal(p, sig);
        return 0;
}

int signal_send(struct proc *p, int sig, const struct ksiginfo *info)
{
        return send_common(p, sig, info, false);
}

int signal_send_thread(struct proc *p, int sig, const struct ksiginfo *info)
{
        return send_common(p, sig, info, true);
}

int signal_send_group(int pgid, int sig, const struct ksiginfo *info)
{
        int found = 0, err = 0;

        if (!sig_valid(sig) && sig != 0)
                return -EINVAL;
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (!proc_is_leader(p) || p->pgid != pgid)
                        continue;
                found++;
                int e = signal_send(p, sig, info);
                if (e)
                        err = e;
        }
        return found ? (err && found == 1 ? err : 0) : -ESRCH;
}

void signal_force(int sig, const struct ksiginfo *info)
{
        struct proc *p = current;
        struct k_sigaction *ka = action_of(p, sig);

        if (ka->handler == SIG_IGN || (p->sig.blocked & sigmask_of(sig))) {
                struct k_sigaction dfl = *ka;
                dfl.handler = SIG_DFL;
                signal_set_action(p, sig, &dfl);
                p->sig.blocked &= ~sigmask_of(sig);
        }
        signal_send_thread(p, sig, info);
}

bool signal_would_kill(struct proc *p, int sig)
{
        uint64_t h = action_of(p, sig)->handler;

        return h == SIG_DFL || h == SIG_IGN || (p->sig.blocked & sigmask_of(sig));
}

/* The lowest pending signal in allowed, faults first; 0 if none. */
static int next_signal(struct sigpend *sp, ksigset_t allowed)
{
        ksigset_t ready = sp->pending & allowed;

        if (!ready)
                return 0;
        if (ready & SYNC_SIGNALS)
                ready &= SYNC_SIGNALS;
        return __builtin_ctzll(ready) + 1;
}

/* Take sig off the pending set, with its info. */
static void dequeue(struct sigpend *sp, int sig, struct ksiginfo *out)
{
        if (sig < SIGRTMIN) {
                *out = sp->info[sig];
                sp->pending &= ~sigmask_of(sig);
                return;
        }
        *out = (struct ksiginfo){ .signo = sig, .code = SI_KERNEL };
        bool taken = false, more = false;
        int n = 0;
        for (int i = 0; i < sp->nqueued; i++) {
                struct ksiginfo *q = &sp->queue[i];
                if (q->signo == sig && !taken) {
                        *out = *q;
                        taken = true;
                        continue;
                }
                more |= q->signo == sig;
                sp->queue[n++] = *q;
        }
        sp->nqueued = n;
        if (!more)
                sp->pending &= ~sigmask_of(sig);
}

/* The thread's own signals first, then its group's (as Linux). */
int signal_dequeue(struct proc *p, ksigset_t set, struct ksiginfo *out)
{
        struct sigpend *sp = &p->sig.own;
        int sig = next_signal(sp, set);

        if (!sig)
                sig = next_signal(sp = shared_of(p), set);
        if (sig)
                dequeue(sp, sig, out);
        return sig;
}

/* A thread of a stopped group sleeps until SIGCONT or SIGKILL. */
static void group_stop_wait(struct proc *p)
{
        struct proc *g = group_of(p);

        while (g->sig.stopped && !p->pending_kill)
                sched_sleep_on(&g->sig.stopped);
}

/* Default action "stop": the group stops, its parent is told, the other
 * threads are woken from interruptible sleeps to stop too. */
static void stop_current(int sig)
{
        struct proc *p = current, *g = group_of(p);

        if (!g->sig.stopped) {
                g->sig.stopped = true;
                g->sig.stop_sig = sig;
                g->sig.report_stop = true;
                g->sig.report_cont = false;
                signal_notify_parent(g, CLD_STOPPED, sig);
                for (int i = 0; i < proc_slots; i++) {
                        struct proc *t = proc_table[i];
                        if (t == p || t->pid != p->pid)
                                continue;
                        sched_wake_sleeper(t, true);
                        if (t->state == PROC_RUNNING)
                                machine_kick_running(t);
                }
        }
        group_stop_wait(p);
}


/*
 * Whether process group pgid is orphaned (POSIX): no member (but ignore,
 * which is exiting) has its parent in another group of the same session,
 * so no shell is left to continue it. (Linux also discounts init as a
 * parent; Mercator does not, so that a shell running as init, as in
 * `make run`, keeps job control.)
 */
static bool pgrp_orphaned(int pgid, const struct proc *ignore)
{
        for (int i = 0; i < proc_slots; i++) {
                const struct proc *p = proc_table[i], *par = p->parent;
                if (!proc_is_leader(p) || p->state == PROC_ZOMBIE ||
                    p == ignore || p->pgid != pgid)
                        continue;
                if (par && par->pgid != pgid && par->sid == p->sid)
                        return false;
        }
        return true;
}

static bool pgrp_has_stopped(int pgid)
{
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE &&
                    proc_table[i]->pgid == pgid && proc_table[i]->sig.stopped)
                        return true;
        return false;
}

void signal_orphan_check(struct proc *member, const struct proc *link,
                         const struct proc *ignore)
{
        int pgid = member->pgid;

        if (!link || link->pgid == pgid || link->sid != member->sid ||
            !pgrp_orphaned(pgid, ignore) || !pgrp_has_stopped(pgid))
                return;
        signal_send_group(pgid, SIGHUP, NULL);
        signal_send_group(pgid, SIGCONT, NULL);
}

static void default_action(int sig, const struct ksiginfo *info)
{
        switch (signal_default_action(sig)) {
        case SIGDFL_IGN:
        case SIGDFL_CONT:
                return;
        case SIGDFL_STOP:
                /* a terminal's stop signals do not stop an orphaned
                 * group: nobody could continue it */
                if (sig == SIGSTOP || !pgrp_orphaned(current->pgid, NULL))
                        stop_current(sig);
                return;
        case SIGDFL_CORE:
                proc_exit_group(wait_status_signaled(sig) |
                                (coredump_write(sig, info) ?
                                 WAIT_STATUS_CORE : 0));
        case SIGDFL_TERM:
                proc_exit_group(wait_status_signaled(sig));
        }
}

long proc_restart_with(long (*fn)(struct restart_block *), uint64_t deadline,
                       uint64_t arg0, uint64_t arg1)
{
        current->restart = (struct restart_block){
                .fn = fn, .deadline = deadline, .arg = { arg0, arg1 } };
        return -ERESTART_RESTARTBLOCK;
}

/* restart_syscall: go on with the call the restart block describes. Called
 * with nothing to go on with (by a program, or after a handler ran), it
 * fails with EINTR, as Linux's. The block is used once: fn re-arms it if
 * it is interrupted again. */
SYSCALL_DECL(restart_syscall)
{
        struct restart_block rb = current->restart;

        (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5;
        current->restart.fn = NULL;
        return rb.fn ? rb.fn(&rb) : -EINTR;
}

/* An interrupted system call, with or without a handler (ka) to run. */
static void settle_syscall(struct proc *p, const struct k_sigaction *ka)
{
        long ret;

        if (!machine_syscall_unsettled(p, &ret))
                return;
        switch (ret) {
        case -ERESTARTNOHAND:
                if (ka)
                        machine_syscall_set_result(p, -EINTR);
                else
                        machine_syscall_restart(p);
                break;
        case -ERESTART_RESTARTBLOCK:
                if (ka) {
                        machine_syscall_set_result(p, -EINTR);
                        p->restart.fn = NULL;
                } else {
                        machine_syscall_restart_block(p);
                }
                break;
        case -ERESTARTSYS:
                if (ka && !(ka->flags & SA_RESTART))
                        machine_syscall_set_result(p, -EINTR);
                else
                        machine_syscall_restart(p);
                break;
        case -ERESTARTNOINTR:
                machine_syscall_restart(p);
                break;
        default:
                break;
        }
}

/* Run the handler of sig: a frame on the user stack, then the mask.
 * A frame that cannot be written costs a SIGSEGV. */
static void run_handler(struct proc *p, int sig, const struct ksiginfo *info)
{
        struct k_sigaction *ka = action_of(p, sig);
        ksigset_t old = p->sig.restore_mask ? p->sig.saved_mask : p->sig.blocked;

        settle_syscall(p, ka);
        p->sig.restore_mask = false;
        if (machine_signal_frame_setup(p, sig, info, ka, old) != 0) {
                if (sig == SIGSEGV) {
                        struct k_sigaction dfl = *ka;
                        dfl.handler = SIG_DFL;
                        signal_set_action(p, sig, &dfl);
                }
                signal_force(SIGSEGV, NULL);
                return;
        }
        p->sig.blocked |= ka->mask;
        if (!(ka->flags & SA_NODEFER))
                p->sig.blocked |= sigmask_of(sig);
        p->sig.blocked &= ~UNCATCHABLE;
        if (ka->flags & SA_RESETHAND) {
                struct k_sigaction dfl = *ka;
                dfl.handler = SIG_DFL;
                signal_set_action(p, sig, &dfl);
        }
}

static __attribute__((noinline)) void deliver_pending(void)
{
        struct proc *p = current;
        struct ksiginfo info;
        int sig;

        for (;;) {
                if (p->pending_kill)
                        proc_exit(p->pending_kill);
                if (group_of(p)->sig.stopped) {
                        group_stop_wait(p);
                        continue;
                }
                if (!(sig = signal_dequeue(p, ~p->sig.blocked, &info)))
                        break;
                uint64_t h = action_of(p, sig)->handler;
                if (h == SIG_IGN)
                        continue;
                /* init (Linux's SIGNAL_UNKILLABLE) drops at delivery a
                 * signal some process sent while init had it blocked,
                 * if its action is still the default: e.g. one sent by
                 * a child musl's fork has just made, before fork
                 * restored init's mask. The kernel's own (faults,
                 * signal_force: code > 0) still take their action. */
                if (h == SIG_DFL && p->pid == 1 && info.code <= 0)
                        continue;
                if (h == SIG_DFL)
                        default_action(sig, &info);
                else
                        run_handler(p, sig, &info);
                /* a bad handler address faults as the handler's first
                 * instruction would: SIGSEGV */
                if (!machine_user_context_ok(p))
                        signal_force(SIGSEGV, NULL);
        }
        settle_syscall(p, NULL);
        if (p->sig.restore_mask) {
                p->sig.blocked = p->sig.saved_mask;
                p->sig.restore_mask = false;
        }
}

/* Every return to user mode asks. With nothing pending and no mask to
 * restore, what the loop would do comes down to settling an interrupted
 * system call: done here, without the loop's frame. */
void signal_deliver(void)
{
        struct proc *p = current;

        if (signal_pending() || p->sig.restore_mask)
                deliver_pending();
        else
                settle_syscall(p, NULL);
}

void signal_fork(struct proc *child, const struct proc *parent)
{
        memcpy(child->sig.action, parent->sig.action, sizeof child->sig.action);
        child->sig.blocked = parent->sig.blocked;
        child->sig.altstack = parent->sig.altstack;
        child->sig.own.pending = 0;
        child->sig.own.nqueued = 0;
        child->group.shared.pending = 0;
        child->group.shared.nqueued = 0;
}

void signal_exec(struct proc *p)
{
        /* the actions change: another process sharing them keeps its */
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i] != p && proc_table[i]->state != PROC_FREE &&
                    proc_table[i]->sighand_id == p->sighand_id) {
                        p->sighand_id = proc_share_id();
                        break;
                }
        for (int sig = 1; sig <= NSIG; sig++) {
                struct k_sigaction *ka = action_of(p, sig);
                if (ka->handler != SIG_IGN)
                        *ka = (struct k_sigaction){ 0 };
                else
                        ka->flags = 0;
        }
        p->sig.altstack = (struct linux_stack){ .ss_flags = SS_DISABLE };
}

bool signal_notify_parent(struct proc *child, int why, int status)
{
        struct proc *parent = child->parent;
        bool exiting = why != CLD_STOPPED && why != CLD_CONTINUED;
        int sig = exiting ? child->exit_signal : SIGCHLD;

        if (!parent)
                return false;
        struct k_sigaction *ka = action_of(parent, SIGCHLD);
        bool reap = exiting && sig == SIGCHLD &&
                    (ka->handler == SIG_IGN || (ka->flags & SA_NOCLDWAIT));
        struct ksiginfo info = {
                .code = why, .pid = child->pid, .status = status,
        };

        sched_wakeup(parent);           /* its wait4/waitid looks again */
        if (!exiting && (ka->flags & SA_NOCLDSTOP))
                return false;
        if (sig && !(reap && ka->handler == SIG_IGN))
                signal_send(parent, sig, &info);
        return reap;
}

/* Linux's siginfo_t: signo, errno, code, then a union at offset 16. */
void siginfo_to_linux(uint8_t out[LINUX_SIGINFO_SIZE],
                      const struct ksiginfo *in)
{
        int32_t head[4] = { in->signo, in->errno_, in->code, 0 };
        uint8_t *u = out + LINUX_SIGINFO_UNION;
        /* pointers, sigval and clock_t are the user's longs */
        unsigned long addr = (unsigned long)in->addr;
        unsigned long value = (unsigned long)in->value;
        long utime = (long)in->utime, stime = (long)in->stime;
        const size_t w = sizeof(long);
        const size_t clock_off = (12 + w - 1) & ~(w - 1);

        memset(out, 0, LINUX_SIGINFO_SIZE);
        memcpy(out, head, 12);
        switch (in->signo) {
        case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP:
                if (in->code > 0 && in->code != SI_KERNEL) {
                        memcpy(u, &addr, w);            /* si_addr */
                        return;
                }
                break;
        case SIGCHLD:
                if (in->code > 0 && in->code != SI_KERNEL) {
                        memcpy(u, &in->pid, 4);
                        memcpy(u + 4, &in->uid, 4);
                        memcpy(u + 8, &in->status, 4);
                        memcpy(u + clock_off, &utime, w);
                        memcpy(u + clock_off + w, &stime, w);
                        return;
                }
                break;
        }
        if (in->code == SI_TIMER) {
                memcpy(u, &in->timerid, 4);
                memcpy(u + 4, &in->overrun, 4);
                memcpy(u + 8, &value, w);
                return;
        }
        /* kill, tkill, sigqueue, the kernel: si_pid, si_uid, si_value */
        memcpy(u, &in->pid, 4);
        memcpy(u + 4, &in->uid, 4);
        memcpy(u + 8, &value, w);
}
