/*
 * ktimer.h - a process's timers: the three interval timers (setitimer,
 * alarm) and POSIX timers (timer_create and friends), and the arithmetic
 * they share (ktimer_arith.c, which the host tests run).
 *
 * ITIMER_REAL and POSIX timers on wall or monotonic clocks expire at a
 * monotonic deadline; ITIMER_VIRTUAL and ITIMER_PROF at a mark on the
 * process's tick-sampled user (user + system) time; POSIX timers on a
 * CPU-time clock at a mark on its exact run time. The scheduler checks
 * them at every tick of the boot CPU while some process has a CPU-time
 * timer or limit (ktimer_cpu_watch) and, for the monotonic ones, at the
 * first switch after the earliest deadline (ktimer_run), so a timer
 * fires within one tick (10 ms) of its time and never early.
 *
 * Fork gives the child none; execve keeps the interval timers and deletes
 * the POSIX ones, as Linux does.
 */
#ifndef PROC_KTIMER_H
#define PROC_KTIMER_H

#include <mercator/types.h>

struct proc;

#define ITIMER_REAL     0
#define ITIMER_VIRTUAL  1
#define ITIMER_PROF     2

#define KTIMER_POSIX_MAX 32     /* POSIX timers per process */

/* One timer: it expires when its clock reaches `at` (0: disarmed), then
 * again every `interval` ns (0: once). */
struct ktimer {
        uint64_t at, interval;
};

struct posix_timer {
        bool          used;
        int           clock;            /* clockid_t */
        int           clock_tid;        /* CLOCK_THREAD_CPUTIME_ID: whose */
        int           notify;           /* SIGEV_SIGNAL or SIGEV_NONE */
        int           tid;              /* SIGEV_THREAD_ID's thread, or 0 */
        int           signo;
        uint64_t      value;            /* sigev_value */
        struct ktimer t;
        int           overrun_acc;      /* while its signal is pending */
        int           overrun_last;     /* of the last delivered signal */
};

struct proc_timers {
        struct ktimer      itimer[3];   /* ITIMER_* */
        struct posix_timer posix[KTIMER_POSIX_MAX];
};

/*
 * A timer that was due at `at` with period `interval`, seen at `now`
 * (now >= at): the next expiry, and how many expiries were missed
 * between (Linux's overrun). A one-shot timer becomes disarmed (0).
 */
uint64_t ktimer_next(const struct ktimer *t, uint64_t now, uint64_t *missed);

/* Time left until t expires, seen at now: 0 if disarmed, at least 1 if
 * it is due but has not fired yet. */
uint64_t ktimer_remaining(const struct ktimer *t, uint64_t now);

/* Fire every due timer of every process (the scheduler calls this at
 * each pass where ktimer_due says so; it walks the processes only when
 * something may be due). [kernel lock] */
void ktimer_run(void);

/* Whether ktimer_run may have something to do: a monotonic deadline
 * passed, a tick moved the CPU-time clocks while some process watches
 * them, or a timerfd exists. Without any lock (the scheduler loop asks
 * before it takes the big lock for ktimer_run): a stale answer delays a
 * timer to the next pass, at most a tick. */
bool ktimer_due(void);

/* The boot CPU's tick: CPU-time clocks moved (from the interrupt). */
void ktimer_tick(void);

/* A process may now have a timer on a CPU-time clock or a finite
 * RLIMIT_CPU (prlimit calls it): ticks walk the processes again until a
 * walk finds none. [kernel lock] */
void ktimer_cpu_watch(void);

/* Count the expiries of every due timerfd and wake its readers and
 * pollers (proc/sys_timerfd.c; ktimer_run calls it). */
void timerfd_run(void);

/* Whether any timerfd exists (a look without the lock, for ktimer_due). */
bool timerfd_exist(void);

/* execve: POSIX timers go; exit: everything goes. */
void ktimer_exec(struct proc *p);
void ktimer_exit(struct proc *p);

#endif
