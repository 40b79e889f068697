/*
 * signal.h - Linux signals: numbers, sets, actions, the kernel's siginfo,
 * wait-status encoding, and how the rest of the kernel sends signals.
 *
 * Signal numbers, sa_flags and si_code values are the same on x86-64,
 * i386 and riscv64, so they live here; the signal frame and the register
 * context a handler sees are per architecture (proc/machine_hooks.h).
 *
 * A process has one mask (blocked), one set of pending signals, and for
 * each pending signal the siginfo it came with: standard signals (1-31)
 * are pending at most once, real-time signals (32-64) queue, up to
 * SIGQUEUE_MAX of them.
 */
#ifndef PROC_SIGNAL_H
#define PROC_SIGNAL_H

#include <mercator/types.h>

#define SIGHUP          1
#define SIGINT          2
#define SIGQUIT         3
#define SIGILL          4
#define SIGTRAP         5
#define SIGABRT         6
#define SIGBUS          7
#define SIGFPE          8
#define SIGKILL         9
#define SIGUSR1         10
#define SIGSEGV         11
#define SIGUSR2         12
#define SIGPIPE         13
#define SIGALRM         14
#define SIGTERM         15
#define SIGSTKFLT       16
#define SIGCHLD         17
#define SIGCONT         18
#define SIGSTOP         19
#define SIGTSTP         20
#define SIGTTIN         21
#define SIGTTOU         22
#define SIGURG          23
#define SIGXCPU         24
#define SIGXFSZ         25
#define SIGVTALRM       26
#define SIGPROF         27
#define SIGWINCH        28
#define SIGIO           29
#define SIGPWR          30
#define SIGSYS          31
#define SIGRTMIN        32
#define NSIG            64      /* signals are 1..NSIG */

typedef uint64_t ksigset_t;     /* bit sig-1 stands for signal sig */

static inline ksigset_t sigmask_of(int sig) { return 1ULL << (sig - 1); }
static inline bool sig_valid(long sig) { return sig >= 1 && sig <= NSIG; }

/* sa_flags (Linux's values). */
#define SA_NOCLDSTOP    0x00000001
#define SA_NOCLDWAIT    0x00000002
#define SA_SIGINFO      0x00000004
#define SA_RESTORER     0x04000000
#define SA_ONSTACK      0x08000000
#define SA_RESTART      0x10000000
#define SA_NODEFER      0x40000000
#define SA_RESETHAND    0x80000000

#define SIG_DFL         0UL
#define SIG_IGN         1UL

/* An action as rt_sigaction passes it (the kernel's struct sigaction). */
struct k_sigaction {
        uint64_t  handler;      /* SIG_DFL, SIG_IGN or a user address */
        uint64_t  flags;
        uint64_t  restorer;     /* where the handler returns (SA_RESTORER) */
        ksigset_t mask;         /* blocked while the handler runs */
};

/* si_code values. */
#define SI_USER         0       /* kill */
#define SI_KERNEL       0x80
#define SI_QUEUE        (-1)
#define SI_TIMER        (-2)
#define SI_MESGQ        (-3)
#define SI_ASYNCIO      (-4)
#define SI_SIGIO        (-5)
#define SI_TKILL        (-6)
#define SEGV_MAPERR     1
#define SEGV_ACCERR     2
#define BUS_ADRALN      1
#define BUS_ADRERR      2
#define ILL_ILLOPC      1
#define ILL_ILLOPN      2
#define FPE_INTDIV      1
#define FPE_INTOVF      2
#define FPE_FLTDIV      3
#define FPE_FLTOVF      4
#define FPE_FLTUND      5
#define FPE_FLTRES      6
#define FPE_FLTINV      7
#define TRAP_BRKPT      1
#define TRAP_TRACE      2
#define CLD_EXITED      1
#define CLD_KILLED      2
#define CLD_DUMPED      3
#define CLD_STOPPED     5
#define CLD_CONTINUED   6

/*
 * What a signal carries, independent of Linux's siginfo_t layout (which
 * signal.c builds from it). Which fields mean something depends on code:
 * pid/uid for kill and sigqueue, value for sigqueue and timers, addr for
 * faults, status for SIGCHLD, timerid/overrun for POSIX timers.
 */
struct ksiginfo {
        int      signo;
        int      code;          /* SI_USER, SI_KERNEL, SEGV_MAPERR, ... */
        int      errno_;        /* si_errno */
        int      pid;
        uint32_t uid;
        int      status;        /* SIGCHLD: exit code or signal */
        uint64_t addr;          /* faults: the address */
        uint64_t value;         /* sigval (sigqueue, timers) */
        int      timerid, overrun;
        uint64_t utime, stime;  /* SIGCHLD: clock ticks */
};

/* Linux's siginfo_t is 128 bytes on every architecture we build. Its
 * union follows si_signo, si_errno and si_code, aligned as a long (16
 * bytes in on 64-bit machines, 12 on i386); pointers, sigval and clock_t
 * in it are longs. */
#define LINUX_SIGINFO_SIZE 128
#define LINUX_SIGINFO_UNION ((12 + sizeof(long) - 1) & ~(sizeof(long) - 1))

/* Linux's stack_t (sigaltstack, ucontext's uc_stack). */
struct linux_stack {
        unsigned long ss_sp;            /* void * */
        int32_t       ss_flags;
        unsigned long ss_size;          /* size_t */
};
#define SS_ONSTACK      1
#define SS_DISABLE      2
#define SS_AUTODISARM   (1U << 31)
#define MINSIGSTKSZ     2048

#define SIGQUEUE_MAX    32      /* queued real-time signals per process */

/* A set of pending signals with their infos: a thread's own (tkill,
 * faults) or its thread group's shared one (kill and the like). */
struct sigpend {
        ksigset_t          pending;             /* bit per pending signal */
        struct ksiginfo    info[SIGRTMIN];      /* of pending signals < 32 */
        struct ksiginfo    queue[SIGQUEUE_MAX]; /* queued real-time ones */
        int                nqueued;
};

struct proc;

/*
 * Send sig to process p (process-directed: p's thread group, taken by
 * whichever of its threads does not block it), with info; NULL means
 * "from the kernel" (si_code SI_KERNEL). Signal 0 only checks that p
 * exists.
 * => 0; -EINVAL for a bad signal number; -EAGAIN if a real-time signal
 *    cannot be queued (the queue is full).
 * => a signal p ignores is dropped; SIGKILL and SIGCONT resume a stopped
 *    p; an unblocked signal wakes p from an interruptible sleep.
 * => never sleeps; callable from any system call or trap.
 */
int signal_send(struct proc *p, int sig, const struct ksiginfo *info);

/* Send sig to the thread p alone (tkill, tgkill, faults): like
 * signal_send otherwise. */
int signal_send_thread(struct proc *p, int sig, const struct ksiginfo *info);

/* Set p's action for sig, in every thread sharing p's actions. */
void signal_set_action(struct proc *p, int sig, const struct k_sigaction *ka);

/* The signals pending for p: its own and its group's. */
ksigset_t signal_pending_set(struct proc *p);

/* Send sig to every process of group pgid. => 0 if at least one got it,
 * -ESRCH if the group is empty, -EINVAL for a bad signal. */
int signal_send_group(int pgid, int sig, const struct ksiginfo *info);

/*
 * A signal the current process must take now, whatever it is doing: the
 * signal is unblocked and its handler is reset to SIG_DFL if it was
 * blocked or ignored (as Linux's force_sig). For faults and for signal
 * frames that cannot be written.
 */
void signal_force(int sig, const struct ksiginfo *info);

/* Whether signal_force(sig) would end p by sig's default action (no
 * handler, or the signal blocked or ignored). */
bool signal_would_kill(struct proc *p, int sig);

/* Whether the current process has an unblocked pending signal or is being
 * killed: interruptible sleeps stop and their system call returns -EINTR
 * (or an -ERESTART* code). */
bool signal_pending(void);

/*
 * current's signal mask becomes mask, without the big lock if the caller
 * has not got it (rt_sigprocmask): only the thread itself writes its
 * mask. A process-directed signal now blocked that a sender meant for
 * this thread (it looked at the mask before the change) goes to another
 * thread that takes it (under the big lock, taken then), as Linux's
 * retarget_shared_pending; one now unblocked is taken on the way out.
 */
void signal_set_mask(ksigset_t mask);

/*
 * Deliver the current process's pending, unblocked signals before it
 * returns to user mode: default actions (terminate, dump, stop, ignore),
 * or a handler frame per signal; settles an interrupted system call
 * (-ERESTART* into a restart or -EINTR). Called by proc_return_to_user().
 */
void signal_deliver(void);

/* Take the lowest pending signal of set off current's pending signals,
 * faults first, with its info. => the signal, or 0 if none is pending. */
int signal_dequeue(struct proc *p, ksigset_t set, struct ksiginfo *out);

/*
 * sigaltstack's change of p's alternate stack, sp being p's user stack
 * pointer. => 0; -EPERM while running on the alternate stack; -EINVAL
 * for bad flags; -ENOMEM for a size below MINSIGSTKSZ.
 */
int signal_altstack_set(struct proc *p, const struct linux_stack *ss,
                        uint64_t sp);

/* Is sp (a user stack pointer of p) on p's alternate stack? */
bool signal_on_altstack(const struct proc *p, uint64_t sp);

/* Linux's ss_flags for a frame's uc_stack (sas_ss_flags): SS_DISABLE,
 * SS_ONSTACK if sp is on the alternate stack, else 0. */
int32_t signal_altstack_flags(const struct proc *p, uint64_t sp);

/* rt_sigreturn: the uc_stack of the frame is set again, errors ignored
 * (as Linux does). */
void signal_altstack_restore(const struct linux_stack *ss);

/* fork: the child inherits actions, mask and alternate stack (not a
 * thread on the same memory: Linux resets it); nothing is pending in it. exec: handlers become SIG_DFL (ignored stay ignored),
 * the alternate stack goes, the mask and pending signals stay. */
void signal_fork(struct proc *child, const struct proc *parent);
void signal_exec(struct proc *p);

/*
 * The current process's parent learns that it exited, stopped or
 * continued (why: CLD_*; status: exit code or signal): a SIGCHLD (or
 * the clone exit signal) with siginfo, and a wakeup of its wait.
 * => true if the child must reap itself (the parent ignores SIGCHLD or
 *    set SA_NOCLDWAIT), only meaningful for CLD_EXITED/KILLED/DUMPED.
 */
bool signal_notify_parent(struct proc *child, int why, int status);

/*
 * member's process group may have just lost link, its last tie to a
 * parent in another group of the same session (link exits, or was
 * member's parent and exits; ignore: the exiting process, not counted as
 * a member). If the group is now orphaned and has a stopped member, every
 * member gets SIGHUP then SIGCONT (POSIX; Linux's kill_orphaned_pgrp).
 */
void signal_orphan_check(struct proc *member, const struct proc *link,
                         const struct proc *ignore);

/* Fill a Linux siginfo_t (128 bytes) from info. */
void siginfo_to_linux(uint8_t out[LINUX_SIGINFO_SIZE],
                      const struct ksiginfo *info);

/* Default actions. */
enum sig_default { SIGDFL_TERM, SIGDFL_CORE, SIGDFL_IGN, SIGDFL_STOP,
                   SIGDFL_CONT };
enum sig_default signal_default_action(int sig);

/* Linux wait statuses: exited with a code, killed by a signal (0x80: a
 * core was "dumped"), stopped by a signal, continued. */
static inline int wait_status_exited(int code) { return (code & 0xff) << 8; }
static inline int wait_status_signaled(int sig) { return sig & 0x7f; }
static inline int wait_status_stopped(int sig) { return (sig << 8) | 0x7f; }
#define WAIT_STATUS_CORE        0x80
#define WAIT_STATUS_CONTINUED   0xffff

#endif
