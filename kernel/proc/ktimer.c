/*
 * ktimer.c - interval timers (setitimer, getitimer, alarm), POSIX timers
 * (timer_create, timer_settime, timer_gettime, timer_getoverrun,
 * timer_delete), pause, and firing them (ktimer_run), which also enforces
 * RLIMIT_CPU. See ktimer.h.
 *
 * A process gets its struct proc_timers on first use; a process that
 * never asks for a timer costs the scheduler one NULL test.
 *
 * Overruns of POSIX timers: when a timer expires while the signal of its
 * previous expiry is still pending, no second signal is queued; the
 * pending one's si_overrun counts the expiry instead (as Linux).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/acct.h>
#include <proc/ktimer.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <proc/time.h>
#include <vm/kmalloc.h>

#define NSEC    1000000000ULL

#define SIGEV_SIGNAL    0
#define SIGEV_NONE      1
#define SIGEV_THREAD_ID 4
#define TIMER_ABSTIME   1


/*
 * When the walk of every process in ktimer_run is due: at the earliest
 * deadline of a timer on the monotonic clock (ITIMER_REAL, POSIX timers
 * on wall or monotonic clocks), or after a tick of the boot CPU, whose
 * accounting moves the CPU-time clocks (ITIMER_VIRTUAL and ITIMER_PROF,
 * CPU-time POSIX timers, RLIMIT_CPU), while some process has one of
 * those (cpu_watch: set when one is armed, recomputed by every walk).
 * The scheduler calls ktimer_run at every pass; a walk there cost each
 * switch a step per process (a pipe round trip beside 1000 sleeping
 * processes: 2 ms), and a walk at every tick cost the boot CPU two steps
 * per process a hundred times a second, under the big lock, with nothing
 * on a CPU-time clock to fire.
 */
static uint64_t real_next_ns;           /* [k] 0: walk at the next call */
static bool tick_passed;                /* [a] set by the tick */
static bool cpu_watch;                  /* [k] a tick must walk */

bool ktimer_due(void)
{
        return timerfd_exist() ||
               (__atomic_load_n(&tick_passed, __ATOMIC_RELAXED) &&
                *(volatile bool *)&cpu_watch) ||
               clock_monotonic_ns() >= *(volatile uint64_t *)&real_next_ns;
}

void ktimer_tick(void)
{
        __atomic_store_n(&tick_passed, true, __ATOMIC_RELAXED);
}

void ktimer_cpu_watch(void)
{
        cpu_watch = true;
}

/* A timer on the monotonic clock was armed to expire at at. */
static void real_armed(uint64_t at)
{
        if (at && at < real_next_ns)
                real_next_ns = at;
}

static bool cpu_clock(int clock)
{
        return clock == CLOCK_PROCESS_CPUTIME_ID ||
               clock == CLOCK_THREAD_CPUTIME_ID;
}

/* The process's timers, allocated on first use: NULL if out of memory. */
static struct proc_timers *timers_of(struct proc *p)
{
        p = group_of(p);                /* the process's, in its leader */
        if (!p->timers)
                p->timers = kzalloc(sizeof *p->timers);
        return p->timers;
}

/* The clock an interval timer runs on, for p. */
static uint64_t itimer_clock(const struct proc *p, int which)
{
        switch (which) {
        case ITIMER_REAL:       return clock_monotonic_ns();
        case ITIMER_VIRTUAL:    return p->usage.utick_ns;
        default:                return p->usage.utick_ns + p->usage.stick_ns;
        }
}

/*
 * The clock a POSIX timer of p's runs on, in *now: wall and monotonic
 * timers are kept on the monotonic clock, CPU-time ones on the exact run
 * time: the process's (every thread's), or that of the thread the timer
 * was made on (Linux binds it at timer_create, whoever reads or arms it
 * later). False once that thread has exited: the timer never fires again
 * (as Linux's on a dead task).
 */
static bool posix_clock(const struct proc *p, const struct posix_timer *pt,
                        uint64_t *now)
{
        const struct proc *t;

        switch (pt->clock) {
        case CLOCK_PROCESS_CPUTIME_ID:
                *now = proc_group_runtime_ns(p);
                return true;
        case CLOCK_THREAD_CPUTIME_ID:
                t = proc_find_tid(pt->clock_tid);
                if (!t || t->pid != p->pid || t->state == PROC_ZOMBIE)
                        return false;
                *now = proc_runtime_ns(t);
                return true;
        default:
                *now = clock_monotonic_ns();
                return true;
        }
}

/* ---- firing ------------------------------------------------------------- */

static const int itimer_signal[3] = { SIGALRM, SIGVTALRM, SIGPROF };

/* The pending signal of a POSIX timer id in sp, if it is still queued. */
static struct ksiginfo *pending_timer_signal(struct sigpend *sp, int id, int sig)
{
        if (!(sp->pending & sigmask_of(sig)))
                return NULL;
        if (sig < SIGRTMIN) {
                struct ksiginfo *ki = &sp->info[sig];
                return ki->code == SI_TIMER && ki->timerid == id ? ki : NULL;
        }
        for (int i = 0; i < sp->nqueued; i++) {
                struct ksiginfo *ki = &sp->queue[i];
                if (ki->signo == sig && ki->code == SI_TIMER && ki->timerid == id)
                        return ki;
        }
        return NULL;
}

/* The thread a SIGEV_THREAD_ID timer of p's signals, while it lives. */
static struct proc *timer_thread(struct proc *p, const struct posix_timer *pt)
{
        struct proc *t = pt->tid ? proc_find_tid(pt->tid) : NULL;

        return t && t->pid == p->pid && t->state != PROC_ZOMBIE ? t : NULL;
}

/* Where the timer's signal is pending: its thread's own set, or the
 * process's. */
static struct sigpend *timer_pend(struct proc *p, const struct posix_timer *pt)
{
        struct proc *t = timer_thread(p, pt);

        return t ? &t->sig.own : &group_of(p)->group.shared;
}

static void posix_fire(struct proc *p, int id, struct posix_timer *pt,
                       int missed)
{
        struct ksiginfo *queued;
        struct proc *t = timer_thread(p, pt);

        if (pt->notify == SIGEV_NONE)
                return;
        queued = pending_timer_signal(timer_pend(p, pt), id, pt->signo);
        if (queued) {                   /* not taken yet: an overrun */
                pt->overrun_acc += 1 + missed;
                queued->overrun = pt->overrun_acc;
                return;
        }
        pt->overrun_last = pt->overrun_acc;
        pt->overrun_acc = missed;
        struct ksiginfo ki = { .code = SI_TIMER, .timerid = id,
                               .overrun = missed, .value = pt->value };
        if (t)
                signal_send_thread(t, pt->signo, &ki);
        else
                signal_send(p, pt->signo, &ki);
}

/* Fire t if due on a clock reading now; whether it fired, and the
 * expiries it missed. */
static bool timer_due(struct ktimer *t, uint64_t now, uint64_t *missed)
{
        if (!t->at || now < t->at)
                return false;
        t->at = ktimer_next(t, now, missed);
        return true;
}

/* Fire p's due timers; its earliest monotonic deadline left (or
 * UINT64_MAX), and in *cpu whether one on a CPU-time clock is left. */
static uint64_t timers_run(struct proc *p, struct proc_timers *ts,
                           bool *cpu)
{
        uint64_t missed, next = UINT64_MAX;

        for (int w = 0; w < 3; w++)
                if (timer_due(&ts->itimer[w], itimer_clock(p, w), &missed))
                        signal_send(p, itimer_signal[w], NULL);
        if (ts->itimer[ITIMER_REAL].at)
                next = ts->itimer[ITIMER_REAL].at;
        for (int id = 0; id < KTIMER_POSIX_MAX; id++) {
                struct posix_timer *pt = &ts->posix[id];
                uint64_t now;
                if (pt->used && !posix_clock(p, pt, &now))
                        pt->t.at = 0;           /* its thread has gone */
                else if (pt->used && timer_due(&pt->t, now, &missed))
                        posix_fire(p, id, pt, missed > 0x7fffffff ? 0x7fffffff : (int)missed);
                if (pt->used && pt->t.at && !cpu_clock(pt->clock))
                        next = MIN(next, pt->t.at);
                *cpu |= pt->used && pt->t.at && cpu_clock(pt->clock);
        }
        *cpu |= ts->itimer[ITIMER_VIRTUAL].at || ts->itimer[ITIMER_PROF].at;
        return next;
}

/* Has p a CPU-time limit to enforce? */
static bool cpu_limited(const struct proc *p)
{
        uint64_t soft = p->rlim.lim[RLIMIT_CPU].cur;

        return soft != RLIM_INFINITY && soft <= UINT64_MAX / NSEC;
}

/*
 * RLIMIT_CPU, as Linux's check_process_timers: when the process's CPU
 * time (all its threads') reaches the hard limit, SIGKILL; when it
 * reaches the soft limit, SIGXCPU, and the soft limit grows by a second
 * (getrlimit shows it), so a process that handles SIGXCPU gets another
 * one each second until the hard limit ends it.
 */
static void rlimit_cpu_run(struct proc *p)
{
        const struct rlimit64 *l = &p->rlim.lim[RLIMIT_CPU];
        uint64_t soft = l->cur, hard = l->max, ns;

        if (!cpu_limited(p))
                return;
        ns = proc_group_runtime_ns(p);
        if (hard <= UINT64_MAX / NSEC && ns >= hard * NSEC) {
                signal_send(p, SIGKILL, NULL);
                return;
        }
        if (ns < soft * NSEC)
                return;
        signal_send(p, SIGXCPU, NULL);
        for (int i = 0; i < proc_slots; i++)    /* each thread's copy */
                if (proc_table[i]->state != PROC_FREE &&
                    proc_table[i]->pid == p->pid)
                        proc_table[i]->rlim.lim[RLIMIT_CPU].cur = soft + 1;
}

/*
 * Run every process's timers and CPU limit: the scheduler calls this on
 * each pass, so it is one walk of the table to find the processes with a
 * live thread (a leader that exited first keeps its process's timers),
 * then one over their leaders. Asking proc_group_others for each zombie
 * leader instead was a walk per zombie: with fork_wait's 300 unreaped
 * children, 90 000 steps under the big lock at every switch, and at -smp
 * 4 under load the children's exits took minutes.
 */
void ktimer_run(void)
{
        static uint64_t pass;
        uint64_t next = UINT64_MAX;
        bool watch = false;

        timerfd_run();
        if (!(__atomic_exchange_n(&tick_passed, false, __ATOMIC_RELAXED) &&
              cpu_watch) &&
            clock_monotonic_ns() < real_next_ns)
                return;
        pass++;
        for (int i = 0; i < proc_slots; i++)
                if (proc_alive(proc_table[i]))
                        group_of(proc_table[i])->timers_pass = pass;
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (!proc_is_leader(p) || p->timers_pass != pass)
                        continue;
                if (p->timers)
                        next = MIN(next, timers_run(p, p->timers, &watch));
                rlimit_cpu_run(p);
                watch |= cpu_limited(p);
        }
        real_next_ns = next;
        cpu_watch = watch;
}

void ktimer_exec(struct proc *p)
{
        if (p->timers)
                memset(p->timers->posix, 0, sizeof p->timers->posix);
}

void ktimer_exit(struct proc *p)
{
        kfree(p->timers);
        p->timers = NULL;
}

/* ---- interval timers ---------------------------------------------------- */

struct linux_timeval { long sec, usec; };       /* time_t, suseconds_t */
struct linux_itimerval { struct linux_timeval interval, value; };

static uint64_t tv_ns(const struct linux_timeval *tv)
{
        return (uint64_t)tv->sec * NSEC + (uint64_t)tv->usec * 1000;
}

static struct linux_timeval ns_tv(uint64_t ns)
{
        return (struct linux_timeval){ (int64_t)(ns / NSEC),
                                       (int64_t)(ns % NSEC / 1000) };
}

/* The current setting of interval timer which, as an itimerval; a due
 * but unfired timer shows 1 us left, as Linux. */
static struct linux_itimerval itimer_get(struct proc *p, int which)
{
        struct linux_itimerval v = { { 0, 0 }, { 0, 0 } };
        const struct ktimer *t;

        p = group_of(p);
        if (!p->timers)
                return v;
        t = &p->timers->itimer[which];
        uint64_t left = ktimer_remaining(t, itimer_clock(p, which));
        if (left && left < 1000)
                left = 1000;
        v.value = ns_tv(left);
        v.interval = ns_tv(t->interval);
        return v;
}

/* Arm interval timer which with value (0: disarm) and interval, ns. */
static long itimer_set(struct proc *p, int which, uint64_t value, uint64_t interval)
{
        struct proc_timers *ts = timers_of(p = group_of(p));

        if (!ts)
                return -ENOMEM;
        ts->itimer[which].at = value ? itimer_clock(p, which) + value : 0;
        ts->itimer[which].interval = value ? interval : 0;
        if (which == ITIMER_REAL)
                real_armed(ts->itimer[which].at);
        else if (value)
                ktimer_cpu_watch();
        return 0;
}

SYSCALL_DECL(getitimer)
{
        int which = (int)a0;

        if (which < ITIMER_REAL || which > ITIMER_PROF)
                return -EINVAL;
        struct linux_itimerval v = itimer_get(current, which);
        return copy_to_user((uint64_t)a1, &v, sizeof v) ? -EFAULT : 0;
}

/* setitimer(which, new, old): a NULL new disarms (Linux's old habit). */
SYSCALL_DECL(setitimer)
{
        int which = (int)a0;
        struct linux_itimerval nv = { { 0, 0 }, { 0, 0 } }, ov;

        if (which < ITIMER_REAL || which > ITIMER_PROF)
                return -EINVAL;
        if (a1 && copy_from_user(&nv, (uint64_t)a1, sizeof nv))
                return -EFAULT;
        if (nv.value.sec < 0 || nv.value.usec < 0 || nv.value.usec >= 1000000 ||
            nv.interval.sec < 0 || nv.interval.usec < 0 || nv.interval.usec >= 1000000)
                return -EINVAL;
        ov = itimer_get(current, which);
        long err = itimer_set(current, which, tv_ns(&nv.value), tv_ns(&nv.interval));
        if (err)
                return err;
        if (a2 && copy_to_user((uint64_t)a2, &ov, sizeof ov))
                return -EFAULT;
        return 0;
}

/* alarm(seconds): ITIMER_REAL once; the old one's seconds left, rounded
 * to the nearest second but never to 0 (Linux's rule). */
SYSCALL_DECL(alarm)
{
        uint64_t secs = (uint32_t)a0;
        struct linux_itimerval ov = itimer_get(current, ITIMER_REAL);
        long err = itimer_set(current, ITIMER_REAL, secs * NSEC, 0);

        if (err)
                return err;
        int64_t left = ov.value.sec;
        if (ov.value.usec >= 500000 || (left == 0 && ov.value.usec))
                left++;
        return left;
}

/* pause: sleep until a signal is delivered. */
SYSCALL_DECL(pause)
{
        while (!sched_sleep_on_intr(&current->timers))
                ;                       /* nothing wakes this channel */
        return -ERESTARTNOHAND;
}

/* ---- POSIX timers ------------------------------------------------------- */

/* Linux's struct sigevent (64 bytes): sigval is a long (a union of int
 * and pointer). */
struct linux_sigevent {
        unsigned long value;
        int32_t  signo, notify;
        int32_t  tid;
        int32_t  pad[(64 - sizeof(long)) / 4 - 3];
};
_Static_assert(sizeof(struct linux_sigevent) == 64, "struct sigevent");

struct linux_itimerspec { struct linux_timespec interval, value; };

/* Linux's encoding of a CPU-time clock (sys_time.c: ~pid << 3 | which,
 * bit 2 for a thread), which glibc's timer_create passes for
 * CLOCK_PROCESS_CPUTIME_ID (pid 0, SCHED: -6), CLOCK_THREAD_CPUTIME_ID
 * (-2) and pthread_getcpuclockid's clocks: the process's own run-time
 * clock and any of its threads' become the plain ids, *tid the thread
 * whose clock it is; another process's, and the PROF and VIRT kinds, are
 * not timed here (EINVAL; Linux times them). */
static clockid_t timer_clock_of(clockid_t c, int *tid)
{
        int pid = ~(c >> 3);
        bool thread = c & 4;
        const struct proc *t;

        *tid = current->tid;
        if (c >= 0 || (c & 3) != 2)
                return c;
        if (thread && pid == 0)
                return CLOCK_THREAD_CPUTIME_ID;
        t = thread ? proc_find_tid(pid) : NULL;
        if (t && t->pid == current->pid && t->state != PROC_ZOMBIE) {
                *tid = pid;
                return CLOCK_THREAD_CPUTIME_ID;
        }
        if (!thread && (pid == 0 || pid == current->pid))
                return CLOCK_PROCESS_CPUTIME_ID;
        return c;
}

static bool timer_clock_ok(clockid_t c)
{
        return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_BOOTTIME ||
               c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID;
}

/* timer_create(clock, sevp, timerid): sevp NULL means SIGALRM with the
 * timer's id as value. */
SYSCALL_DECL(timer_create)
{
        int clock_tid;
        clockid_t clock = timer_clock_of((clockid_t)a0, &clock_tid);
        struct linux_sigevent ev = { 0, SIGALRM, SIGEV_SIGNAL, 0, { 0 } };
        struct proc_timers *ts;
        int id;

        if (!timer_clock_ok(clock))
                return clock >= 0 && clock <= 11 ? syscall_unsupported(-EINVAL) : -EINVAL;
        if (a1 && copy_from_user(&ev, (uint64_t)a1, sizeof ev))
                return -EFAULT;
        switch (ev.notify) {
        case SIGEV_THREAD_ID | SIGEV_SIGNAL:
                if (!proc_find_tid(ev.tid) ||
                    proc_find_tid(ev.tid)->pid != current->pid)
                        return -EINVAL;         /* not a thread of ours */
                /* fall through */
        case SIGEV_SIGNAL:
                if (!sig_valid(ev.signo))
                        return -EINVAL;
                break;
        case SIGEV_NONE:
                break;
        default:
                return -EINVAL;                 /* SIGEV_THREAD is the C library's */
        }
        if (!(ts = timers_of(current)))
                return -ENOMEM;
        for (id = 0; id < KTIMER_POSIX_MAX && ts->posix[id].used; id++)
                ;
        if (id == KTIMER_POSIX_MAX)
                return -EAGAIN;
        if (!a1)
                ev.value = (uint64_t)id;
        if (copy_to_user((uint64_t)a2, &id, sizeof id))
                return -EFAULT;
        ts->posix[id] = (struct posix_timer){
                .used = true, .clock = clock, .clock_tid = clock_tid,
                .notify = ev.notify & ~SIGEV_THREAD_ID,
                .signo = ev.signo, .value = ev.value,
                .tid = (ev.notify & SIGEV_THREAD_ID) ? ev.tid : 0,
        };
        return 0;
}

static struct posix_timer *timer_arg(long id)
{
        struct proc_timers *ts = group_of(current)->timers;
        int i = (int)id;

        if (!ts || i < 0 || i >= KTIMER_POSIX_MAX || !ts->posix[i].used)
                return NULL;
        return &ts->posix[i];
}

static struct linux_itimerspec timer_get(struct posix_timer *pt)
{
        uint64_t now, left = 0;

        if (posix_clock(current, pt, &now))
                left = ktimer_remaining(&pt->t, now);
        struct linux_itimerspec v = {
                { (int64_t)(pt->t.interval / NSEC), (int64_t)(pt->t.interval % NSEC) },
                { (int64_t)(left / NSEC), (int64_t)(left % NSEC) },
        };
        return v;
}

static bool timespec_ok(const struct linux_timespec *ts)
{
        return ts->sec >= 0 && ts->nsec >= 0 && ts->nsec < (int64_t)NSEC;
}

/* timer_settime(id, flags, new, old): a zero value disarms; with
 * TIMER_ABSTIME the value is a time on the timer's clock. */
SYSCALL_DECL(timer_settime)
{
        struct posix_timer *pt = timer_arg(a0);
        struct linux_itimerspec nv, ov;

        if (!pt)
                return -EINVAL;
        if (timespec_read((uint64_t)a2, &nv.interval) ||
            timespec_read((uint64_t)a2 + timespec_user_size(), &nv.value))
                return -EFAULT;
        if (!timespec_ok(&nv.value) || !timespec_ok(&nv.interval))
                return -EINVAL;
        uint64_t now;
        if (!posix_clock(current, pt, &now))
                return -ESRCH;          /* its thread has exited */
        ov = timer_get(pt);
        uint64_t value = (uint64_t)nv.value.sec * NSEC + (uint64_t)nv.value.nsec;
        uint64_t interval = (uint64_t)nv.interval.sec * NSEC + (uint64_t)nv.interval.nsec;
        if (value && ((int)a1 & TIMER_ABSTIME)) {
                uint64_t clock_now;
                clock_read(pt->clock, &clock_now);
                /* Realtime is kept as monotonic: convert the mark now. */
                value = value > clock_now ? value - clock_now : 1;
        }
        pt->t.at = value ? now + value : 0;
        pt->t.interval = value ? interval : 0;
        if (!cpu_clock(pt->clock))
                real_armed(pt->t.at);
        else if (value)
                ktimer_cpu_watch();
        pt->overrun_acc = pt->overrun_last = 0;
        if (a3 && (timespec_write((uint64_t)a3, &ov.interval) ||
                   timespec_write((uint64_t)a3 + timespec_user_size(), &ov.value)))
                return -EFAULT;
        return 0;
}

SYSCALL_DECL(timer_gettime)
{
        struct posix_timer *pt = timer_arg(a0);

        if (!pt)
                return -EINVAL;
        struct linux_itimerspec v = timer_get(pt);
        return timespec_write((uint64_t)a1, &v.interval) ||
               timespec_write((uint64_t)a1 + timespec_user_size(), &v.value) ?
               -EFAULT : 0;
}

/* The overrun count of the last expiry whose signal was delivered. */
SYSCALL_DECL(timer_getoverrun)
{
        struct posix_timer *pt = timer_arg(a0);

        if (!pt)
                return -EINVAL;
        if (pt->notify != SIGEV_NONE &&
            pending_timer_signal(timer_pend(current, pt), (int)a0, pt->signo))
                return pt->overrun_last;
        return pt->overrun_acc;
}

SYSCALL_DECL(timer_delete)
{
        struct posix_timer *pt = timer_arg(a0);

        if (!pt)
                return -EINVAL;
        memset(pt, 0, sizeof *pt);
        return 0;
}
