/*
 * sched.c - round-robin scheduling of threads on every CPU, one queue.
 *
 * Each CPU's boot or idle thread becomes its scheduler loop (as in xv6):
 * it picks the next runnable thread, switches to it, and gets the CPU
 * back when that thread yields, sleeps or exits. Timer interrupts only
 * set the CPU's need_resched; a thread gives up the CPU on its way back
 * to user mode, so kernel code never loses the CPU in the middle of an
 * operation.
 *
 * More than one CPU (machine/cpu_local.h's MACHINE_CPU_LOCAL): one run
 * queue under its own spinlock, sched_lock (see "The run queue" below),
 * not the big kernel lock: a CPU's scheduler loop picks without the big
 * lock, and takes it only when timers are due (ktimer_due). A thread
 * that sleeps or yields takes sched_lock, sets its state and switches to
 * its CPU's loop with it held; the loop releases it once it is off the
 * thread's stack, so no other CPU can run a thread still on its way out.
 * A thread that held the big lock passes it to the loop too, which
 * releases it (after freeing the thread if it was a finished one), and
 * takes it back itself when it runs again (sched_switch_locked); a new
 * thread takes it on its first way out (sched_first_run). Sleep and
 * wake-up both change states under sched_lock, and wakers and the
 * sleepers' condition checks under the big lock (as before), or for a
 * sleeper without it, its condition looked at again under sched_lock
 * (a signal: intr_sleep_lock; a futex waiter's `woken`:
 * sched_sleep_on_until_intr_unless), so no wake-up is lost; a wake-up
 * kicks idle CPUs out of hlt. A thread may
 * run on any CPU its affinity mask allows (sched_setaffinity; all at
 * first), those of one address space at the same time (the pmap sends
 * its changes to every CPU that has it loaded). A thread whose mask no
 * longer has its CPU gives the CPU up on its way back to user mode.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/kstat.h>
#include <mercator/spinlock.h>
#include <proc/acct.h>
#include <proc/ktimer.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <vm/vm_space.h>
#include <proc/vdso.h>
#include <vm/vm_reclaim.h>

#ifndef MACHINE_CPU_LOCAL
struct proc *current;
volatile bool need_resched;
static void *cpu_sched_sp;                  /* the scheduler's saved stack */
#endif

/*
 * The run queue: every RUNNABLE thread, in the order it became so (a
 * thread that yields goes to the back: round robin), and the earliest
 * time a timed sleeper wakes. A pass of the scheduler then costs steps
 * per runnable thread, not per process: it used to walk the process
 * table three times (timers, sleepers, pick), and a pipe round trip
 * beside 1000 sleeping processes took 2 ms against 30 us beside none
 * (Linux: 70 us either way). Why one queue and not one per CPU: a pass
 * holds sched_lock for a few hundred instructions, and the threads that
 * wait on it are the few that switch at that moment; per-CPU queues
 * would pay once that lock shows in /proc/lock_stat.
 *
 * sched_lock [q] guards the queue, the wait-channel buckets, the timed
 * heap, every thread's `state` between RUNNABLE, RUNNING and SLEEPING
 * (the big lock's holder sets FREE and ZOMBIE on a thread no queue
 * holds), its queue links and wake-up fields. Rank LOCK_RANK_SCHED:
 * taken with the big lock or nothing held; inside it only the kicks of
 * other CPUs (machine_kick_idle) and the idle entry.
 */
static struct spinlock sched_lock = SPINLOCK_INIT("sched", LOCK_RANK_SCHED);
static struct proc *rq_head, *rq_tail;

/* Take sched_lock with interrupts off; => the interrupt state to give
 * back (sched_unlock), kept apart from the lock's own, which the loop
 * and the thread that switch with it held would otherwise swap. */
static unsigned long sched_lock_take(void)
{
        unsigned long s = intr_save();

        spin_lock(&sched_lock);
        return s;
}

static void sched_unlock(unsigned long s)
{
        spin_unlock(&sched_lock);
        intr_restore(s);
}

/* p became RUNNABLE: to the back of the queue. */
static void rq_add(struct proc *p)
{
        ASSERT(p->state == PROC_RUNNABLE);
        p->rq_next = NULL;
        if (rq_tail)
                rq_tail->rq_next = p;
        else
                rq_head = p;
        rq_tail = p;
}

/*
 * Sleepers on a wait channel, in buckets by the channel's address, so a
 * wake-up looks at the sleepers that may be on its channel instead of
 * at every process (it was half a pipe round trip's instructions beside
 * 1000 sleeping processes).
 */
#define WQ_BUCKETS      64
static struct proc *wq_bucket[WQ_BUCKETS];

static struct proc **wq_head(const void *channel)
{
        uint64_t h = (uint64_t)(uintptr_t)channel * 0x9e3779b97f4a7c15ULL;

        return &wq_bucket[h >> 58];
}

static void wq_add(struct proc *p, const void *channel)
{
        struct proc **head = wq_head(channel);

        p->wait_channel = channel;
        p->wq_next = *head;
        if (*head)
                (*head)->wq_pprev = &p->wq_next;
        p->wq_pprev = head;
        *head = p;
}

static void wq_del(struct proc *p)
{
        if (!p->wq_pprev)
                return;
        *p->wq_pprev = p->wq_next;
        if (p->wq_next)
                p->wq_next->wq_pprev = p->wq_pprev;
        p->wq_next = NULL;
        p->wq_pprev = NULL;
}

/*
 * The timed sleepers, in a binary heap by deadline (wake_ns): the pass
 * looks at the earliest, a sleep or a wake costs steps per log2 of their
 * number. It replaced a walk of the process table each time a deadline
 * came (1000 processes in poll with a one-second timeout: a thousand
 * walks of a thousand a second, under the big lock). p->timed_slot is
 * p's place plus 1, 0 out of it; a thread leaves it when it wakes
 * (sched_make_runnable, the only way out of SLEEPING), by its deadline
 * or before.
 */
static struct proc *timed[NPROC];
static int timed_n;
static uint64_t timed_first_ns = UINT64_MAX;    /* [q] timed[0]'s; read
                                                 * without the lock */

static void timed_put(int i, struct proc *p)
{
        timed[i] = p;
        p->timed_slot = i + 1;
}

/* The entry at i moves up or down to where its deadline belongs. */
static void timed_fix(int i)
{
        struct proc *p = timed[i];

        while (i > 0 && timed[(i - 1) / 2]->wake_ns > p->wake_ns) {
                timed_put(i, timed[(i - 1) / 2]);
                i = (i - 1) / 2;
        }
        for (;;) {
                int c = 2 * i + 1;

                if (c >= timed_n)
                        break;
                if (c + 1 < timed_n && timed[c + 1]->wake_ns < timed[c]->wake_ns)
                        c++;
                if (timed[c]->wake_ns >= p->wake_ns)
                        break;
                timed_put(i, timed[c]);
                i = c;
        }
        timed_put(i, p);
        __atomic_store_n(&timed_first_ns, timed[0]->wake_ns, __ATOMIC_RELAXED);
}

static void timed_del(struct proc *p)
{
        int i = p->timed_slot - 1;

        if (i < 0)
                return;
        p->timed_slot = 0;
        if (--timed_n > i) {
                timed[i] = timed[timed_n];
                timed_fix(i);
        } else if (!timed_n) {
                __atomic_store_n(&timed_first_ns, UINT64_MAX,
                                 __ATOMIC_RELAXED);
        }
}

/* current sleeps until ns at the latest. */
static void sleep_timed(uint64_t ns)
{
        ASSERT(!current->timed_slot && timed_n < NPROC);
        current->wake_ns = ns;
        timed[timed_n++] = current;
        timed_fix(timed_n - 1);
}

/*
 * Whether a runnable thread may be waiting for a CPU: set with every
 * thread made runnable, recomputed by each pick (both under sched_lock);
 * read without a lock by every CPU's tick, which asks
 * their thread to give up its CPU only when someone waits for one. A
 * thread alone on its CPU then runs on through its ticks instead of
 * taking the kernel lock 100 times a second to pick itself again (with
 * four CPUs busy, one of them was always in that lock's queue). A stale
 * value costs one tick of delay at most: the next pick sets it right.
 * The boot CPU's tick also sends its thread to the loop when timers or
 * sleepers are due (loop_has_work below).
 */
static bool runnable_waiting;

static void note_runnable(void)
{
        __atomic_store_n(&runnable_waiting, true, __ATOMIC_RELAXED);
}

/*
 * The boot CPU's tick keeps the clock and the timers. Its thread gives
 * the CPU up at the tick only when its scheduler loop has something to
 * do: a thread waits for a CPU (its time slice ends, as on the other
 * CPUs), a timer may be due, a timed sleeper's time has come, or the
 * console's input waits to be taken in. Until session 30 it gave it up
 * at every tick, through the big lock: two takes of it a tick, and a
 * switch to the loop and back, with nothing to do most of the time.
 * (The other CPUs' ticks never send a thread to the loop for these: an
 * idle one halts again, a busy one's thread runs on unless another
 * waits. So the sleepers and timers are the boot CPU's to look for; an
 * idle boot CPU's loop runs at each of its ticks.)
 */
static bool loop_has_work(void)
{
        return __atomic_load_n(&runnable_waiting, __ATOMIC_RELAXED) ||
               ktimer_due() || machine_console_held() ||
               clock_monotonic_ns() >=
               __atomic_load_n(&timed_first_ns, __ATOMIC_RELAXED);
}

void clock_tick(bool from_user)
{
        ktimer_tick();
        acct_tick(from_user);
        kstat_tick(from_user);
        vdso_tick();
        if (loop_has_work())
                need_resched = true;    /* a 10 ms time slice */
}

void clock_tick_other_cpu(bool from_user)
{
        kstat_tick(from_user);
        if (!current)                   /* its scheduler loop idles */
                return;
        if (__atomic_load_n(&runnable_waiting, __ATOMIC_RELAXED))
                need_resched = true;
        acct_tick_other_cpu(from_user);
}

static void make_runnable_locked(struct proc *p);

/* Sleepers whose time has come become runnable, earliest first, each
 * with a kick for an idle CPU (which otherwise halts until kicked). [q] */
static void wake_sleepers(uint64_t now)
{
        while (timed_n > 0 && timed[0]->wake_ns <= now) {
                ASSERT(timed[0]->state == PROC_SLEEPING);
                make_runnable_locked(timed[0]); /* leaves the heap */
        }
}

/* A real-time process's priority (SCHED_FIFO and SCHED_RR, 1-99); 0
 * for every other policy. */
static int rt_priority(const struct proc *p)
{
        int policy = p->usage.sched_policy;

        return policy == 1 || policy == 2 ? p->usage.sched_priority : 0;
}

/* Can this CPU run p now? */
static bool runnable_here(const struct proc *p)
{
        return p->state == PROC_RUNNABLE && sched_cpu_allowed(p);
}

/* Round robin among the runnable processes of the highest real-time
 * priority present (0 for the ordinary ones) that this CPU may run. */
static struct proc *pick_next(void)
{
        struct proc *p, *prev = NULL, *best_prev = NULL, *best = NULL;
        int runnable = 0;

        for (p = rq_head; p; prev = p, p = p->rq_next) {
                ASSERT(p->state == PROC_RUNNABLE);
                runnable++;
                if (runnable_here(p) &&
                    (!best || rt_priority(p) > rt_priority(best))) {
                        best = p;
                        best_prev = prev;
                }
        }
        /* The one picked below no longer waits; any other does. */
        __atomic_store_n(&runnable_waiting, runnable > (best != NULL),
                         __ATOMIC_RELAXED);
        if (!best)
                return NULL;
        if (best_prev)
                best_prev->rq_next = best->rq_next;
        else
                rq_head = best->rq_next;
        if (rq_tail == best)
                rq_tail = best_prev;
        best->rq_next = NULL;
        return best;
}

/* Run one process until it gives the CPU back, or idle if none can run.
 * The big lock only for the timers, when some may be due, and the
 * console's input an interrupt held back (it was taken in right before
 * the idle, under the lock the loop held; input that comes between the
 * two now waits for the boot CPU's next tick at most); the thread it
 * runs takes what it needs itself (sched_switch_locked,
 * sched_first_run). */
static void sched_once(void)
{
        bool console = machine_console_held();
        unsigned long s;
        struct proc *p;
        bool reap;

        if (console || ktimer_due()) {
                machine_kernel_lock();
                ktimer_run();           /* may send signals, waking sleepers */
                if (console)            /* the terminal's, before an idle */
                        machine_console_arm();
                machine_kernel_unlock();
        }
        s = sched_lock_take();
        wake_sleepers(clock_monotonic_ns());
        p = pick_next();
        if (!p) {
                /* interrupts stay off from here to the halt */
                machine_idle_enter();
                spin_unlock(&sched_lock);
                machine_idle();
                return;
        }
        p->state = PROC_RUNNING;
        current = p;
        kstat.ctxt++;
        need_resched = false;
        p->usage.on_cpu_since = clock_monotonic_ns();
        sched_unlock(s);
        machine_switch_to(&cpu_sched_sp, p);
        /* p holds sched_lock (sched_switch_locked): nobody runs it until
         * it is released, now that this CPU is off its stack */
        p->usage.run_ns += clock_monotonic_ns() - p->usage.on_cpu_since;
        current = NULL;
        reap = p->state == PROC_ZOMBIE && p->autoreap;
        sched_unlock(s);
        if (machine_kernel_lock_held()) {       /* passed on by p */
                if (reap)
                        proc_free(p);           /* off its kernel stack now */
                machine_kernel_unlock();
        } else if (reap) {
                panic("thread %d finished without the big kernel lock",
                      p->tid);
        }
}

void sched_run(void)
{
        machine_sched_start();
        for (;;)
                sched_once();
}

void sched_run_until(bool (*done)(void *), void *arg)
{
        while (!done(arg))
                sched_once();
}

/*
 * Give the CPU back to its scheduler loop with sched_lock held (taken by
 * sched_lock_take, which returned s); current's state says what next.
 * The big lock, if held, goes to the loop with it, which releases both;
 * when the thread runs again it takes the big lock back (and enters its
 * space again if it had), and returns with interrupts as s says.
 */
static void sched_switch_locked(unsigned long s)
{
        struct proc *p = current;
        bool entered = p->entered != NULL;
        bool big = machine_kernel_lock_held();

        if (LOCK_DEBUG && lock_held_count() != 1)
                panic("sched_switch: sleeping with %u spinlocks held "
                      "beside the run queue's", lock_held_count() - 1);
        if (entered && !big)
                panic("thread %d entered its space without the big lock",
                      p->tid);
        proc_space_leave(p);    /* its other threads may fault meanwhile */
        machine_switch_away(p, cpu_sched_sp);
        if (big) {
                machine_kernel_lock_outside();
                if (entered)
                        proc_space_enter(p);
        }
        intr_restore(s);
}

void sched_switch(void)
{
        sched_switch_locked(sched_lock_take());
}

void sched_first_run(void)
{
        machine_kernel_lock_outside();
}

/* current to the back of the queue, and off the CPU. [q] */
static void yield_locked(unsigned long s)
{
        current->state = PROC_RUNNABLE;
        rq_add(current);
        note_runnable();
        sched_switch_locked(s);
}

void sched_yield(void)
{
        yield_locked(sched_lock_take());
}

void sched_sleep_until(uint64_t ns)
{
        unsigned long s = sched_lock_take();

        sleep_timed(ns);
        current->wait_channel = NULL;
        current->state = PROC_SLEEPING;
        sched_switch_locked(s);
}

void sched_sleep_on(const void *channel)
{
        unsigned long s = sched_lock_take();

        current->wake_ns = 0;
        wq_add(current, channel);
        current->state = PROC_SLEEPING;
        sched_switch_locked(s);
        current->wait_channel = NULL;
}

/*
 * The interruptible sleeps: the check of signal_pending() is made again
 * under sched_lock, after sleep_intr is set, for callers without the big
 * lock (nanosleep, syscall.c): a sender sets what signal_pending() reads
 * before it looks at the sleeper under sched_lock (sched_wake_sleeper),
 * so either the sleeper sees the signal here or the sender sees it
 * sleeping. => with the lock held and 0, or -EINTR without it.
 */
static int intr_sleep_lock(unsigned long *s)
{
        if (signal_pending())
                return -EINTR;
        current->sleep_intr = true;
        *s = sched_lock_take();
        if (signal_pending()) {
                sched_unlock(*s);
                current->sleep_intr = false;
                return -EINTR;
        }
        return 0;
}

static int intr_sleep_done(void)
{
        current->wait_channel = NULL;
        current->wake_ns = 0;
        current->sleep_intr = false;
        return signal_pending() ? -EINTR : 0;
}

int sched_sleep_on_intr(const void *channel)
{
        return sched_sleep_on_until_intr(channel, 0);
}

int sched_sleep_until_intr(uint64_t ns)
{
        return sched_sleep_on_until_intr(NULL, ns);
}

int sched_sleep_on_until_intr(const void *channel, uint64_t deadline_ns)
{
        return sched_sleep_on_until_intr_unless(channel, deadline_ns, NULL);
}

/* *done is read under sched_lock: a waker that sets it (release) and then
 * wakes the channel (sched_wakeup, under the lock) either set it before
 * this look or finds the sleeper after it. */
int sched_sleep_on_until_intr_unless(const void *channel,
                                     uint64_t deadline_ns, const bool *done)
{
        unsigned long s;

        if (intr_sleep_lock(&s))
                return -EINTR;
        if (done && __atomic_load_n(done, __ATOMIC_ACQUIRE)) {
                sched_unlock(s);
                current->sleep_intr = false;
                return 0;
        }
        current->wait_channel = NULL;
        if (channel)
                wq_add(current, channel);
        if (deadline_ns || !channel)
                sleep_timed(deadline_ns);
        else
                current->wake_ns = 0;
        current->state = PROC_SLEEPING;
        sched_switch_locked(s);
        return intr_sleep_done();
}

/* A sleeping p becomes runnable: to the queue, with a kick for an idle
 * CPU that may run it; a thread in any other state is left as it is (a
 * timed sleeper the loop has woken already, a thread that runs). [q] */
static void make_runnable_locked(struct proc *p)
{
        if (p->state != PROC_SLEEPING)
                return;
        wq_del(p);
        timed_del(p);
        p->state = PROC_RUNNABLE;
        rq_add(p);
        note_runnable();
        sched_kick_for(p);
}

void sched_wakeup(const void *channel)
{
        unsigned long s = sched_lock_take();
        struct proc *p = *wq_head(channel), *next;

        for (; p; p = next) {
                next = p->wq_next;
                if (p->wait_channel == channel) {
                        ASSERT(p->state == PROC_SLEEPING);
                        make_runnable_locked(p); /* one idle CPU for each */
                }
        }
        sched_unlock(s);
}

void sched_wake_sleeper(struct proc *t, bool intr_only)
{
        unsigned long s = sched_lock_take();

        if (!intr_only || t->sleep_intr)
                make_runnable_locked(t);
        sched_unlock(s);
}

void sched_make_runnable(struct proc *p)
{
        unsigned long s = sched_lock_take();

        make_runnable_locked(p);
        sched_unlock(s);
}

void sched_kick_for(const struct proc *p)
{
        machine_kick_idle(p->usage.cpus_allowed);
}

/* As Linux's find_task_by_vpid: any thread by its id, so a process's
 * pid finds its leader. */
struct proc *proc_find(int pid)
{
        return proc_find_tid(pid);
}

void proc_space_enter(struct proc *p)
{
        ASSERT(!p->entered);
        p->entered = p->space;
        vm_space_enter(p->entered);
        /* What its threads unmapped without the lock goes now, before
         * this thread changes or maps anything (vm_space.h). */
        vm_space_parked_free(p->entered);
}

void proc_space_leave(struct proc *p)
{
        vm_space_leave(p->entered);
        p->entered = NULL;
}

void proc_kernel_lock_entered(void)
{
        machine_kernel_lock_rest_of_call();
#ifdef MACHINE_CPU_LOCAL
        if (current && !current->entered)
                proc_space_enter(current);
#endif
}

/*
 * A time slice's end without the big lock: the thread goes to the back of
 * the queue as sched_yield puts it (a lock-free call, syscall.c), and when
 * it runs again, on this CPU or another, looks once more. What the locked
 * way does besides (a kill, a signal, a move for the affinity mask) is
 * left to it. Before (session 29), every preemption of a thread that
 * shared its CPU took the big lock on the way out: a tick's worth of
 * takes a second on each such CPU.
 */
bool sched_return_nolock(void)
{
        /* Held here only if taken since the entry (a user copy's fault,
         * serial_irq's try); a yield below neither takes nor drops it. */
        if (machine_kernel_lock_held())
                return false;
        for (;;) {
                if (signal_pending() || !sched_cpu_allowed(current))
                        return false;
                if (!need_resched)
                        return true;
                sched_yield();
        }
}

/* Whether or not current has entered its space (a system call that
 * changes none, an interrupt, a new thread's first way out have not):
 * what follows changes it only through faults of its user copies (a
 * signal's frame), which enter (oom_kernel_fault), or by exit, which
 * leaves it first. */
void proc_return_to_user(void)
{
        vm_reclaim_background();        /* below the low watermark */
        oom_memcg_enforce_current();    /* its group over memory.max */
        if (current->pending_kill)
                proc_exit(current->pending_kill);
        if (!sched_cpu_allowed(current)) {      /* sched_setaffinity */
                unsigned long s = sched_lock_take();

                sched_kick_for(current);
                yield_locked(s);
        } else if (need_resched) {
                sched_yield();
        }
        signal_deliver();
}
