/*
 * timers.c - alarm, interval timers, POSIX timers (on a CPU-time clock
 * too), pause, and sleeps
 * interrupted by signals. Times are checked strictly from below (a timer
 * never fires early) and generously from above (TCG is slow).
 */
#include "utest.h"
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL

static int64_t mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t cpu(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile sig_atomic_t hits[65];
static volatile int last_code, last_value, last_overrun;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
        (void)uc;
        hits[sig]++;
        last_code = si->si_code;
        last_value = si->si_value.sival_int;
        last_overrun = si->si_overrun;
}

static void catch(int sig, int flags)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_signal;
        sa.sa_flags = SA_SIGINFO | flags;
        sigaction(sig, &sa, NULL);
        hits[sig] = 0;
}

static void alarm_and_pause(void)
{
        catch(SIGALRM, 0);
        int64_t t0 = mono();
        CHECK("alarm_first_returns_0", alarm(1) == 0);
        CHECK_ERR("pause_returns_eintr", pause(), EINTR);
        int64_t d = mono() - t0;
        CHECK("alarm_fired_once", hits[SIGALRM] == 1);
        CHECK("alarm_not_early", d >= 1000 * MS && d < 10000 * MS);
        CHECK("alarm_si_code_kernel", last_code == SI_KERNEL);
        alarm(5);
        CHECK("alarm_returns_seconds_left", alarm(0) == 5);
        CHECK("alarm_cancelled", alarm(0) == 0);
}

static void itimer_real(void)
{
        struct itimerval v = { { 0, 50000 }, { 0, 50000 } }, g;

        catch(SIGALRM, 0);
        int64_t t0 = mono();
        CHECK("setitimer_real", setitimer(ITIMER_REAL, &v, NULL) == 0);
        CHECK("getitimer_real", getitimer(ITIMER_REAL, &g) == 0 &&
                                g.it_interval.tv_usec == 50000 && g.it_value.tv_sec == 0 &&
                                g.it_value.tv_usec > 0 && g.it_value.tv_usec <= 50000);
        while (hits[SIGALRM] < 5 && mono() - t0 < 10000 * MS)
                pause();
        int64_t d = mono() - t0;
        struct itimerval off = { { 0, 0 }, { 0, 0 } }, old;
        CHECK("setitimer_returns_old", setitimer(ITIMER_REAL, &off, &old) == 0 &&
                                       old.it_interval.tv_usec == 50000);
        CHECK("periodic_five_times", hits[SIGALRM] >= 5);
        CHECK("periodic_not_early", d >= 250 * MS);
        CHECK("disarmed", getitimer(ITIMER_REAL, &g) == 0 && g.it_value.tv_sec == 0 &&
                          g.it_value.tv_usec == 0);
        v.it_value.tv_usec = 1000000;
        CHECK_ERR("bad_usec", setitimer(ITIMER_REAL, &v, NULL), EINVAL);
        CHECK_ERR("bad_which", setitimer(7, &off, NULL), EINVAL);
        CHECK_ERR("getitimer_bad_pointer", getitimer(ITIMER_REAL, (void *)8), EFAULT);
}

/* ITIMER_VIRTUAL and ITIMER_PROF count CPU time, not wall time. */
static void itimer_cpu(int which, int sig, const char *name)
{
        struct itimerval v = { { 0, 0 }, { 0, 100000 } };
        char check[64];
        volatile unsigned x = 0;

        catch(sig, 0);
        int64_t c0 = cpu(), t0 = mono();
        setitimer(which, &v, NULL);
        while (!hits[sig] && mono() - t0 < 20000 * MS)
                for (int i = 0; i < 100000; i++)
                        x += (unsigned)i;
        int64_t used = cpu() - c0;
        snprintf(check, sizeof check, "%s_fires_after_cpu_time", name);
        CHECK(check, hits[sig] == 1 && used >= 50 * MS);
        /* Asleep, no CPU time passes: the timer does not fire. */
        setitimer(which, &v, NULL);
        hits[sig] = 0;
        usleep(300 * 1000);
        snprintf(check, sizeof check, "%s_still_while_asleep", name);
        CHECK(check, hits[sig] == 0);
        struct itimerval off = { { 0, 0 }, { 0, 0 } };
        setitimer(which, &off, NULL);
}

/* A POSIX timer on the process's CPU-time clock: it fires once that much
 * CPU time has run (Mercator: the tick looks for it only while some
 * process has such a timer or a CPU limit), and not while asleep. */
static void posix_cpu_timer(void)
{
        struct sigevent ev;
        timer_t t;
        struct itimerspec its = { { 0, 0 }, { 0, 100 * MS } };
        volatile unsigned x = 0;

        catch(SIGUSR2, 0);
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = SIGUSR2;
        if (!CHECK("cpu_timer_create",
                   timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &t) == 0))
                return;
        /* Asleep first: no CPU time passes, nothing fires. */
        timer_settime(t, 0, &its, NULL);
        usleep(300 * 1000);
        CHECK("cpu_timer_still_while_asleep", hits[SIGUSR2] == 0);
        int64_t c0 = cpu(), t0 = mono();
        while (!hits[SIGUSR2] && mono() - t0 < 20000 * MS)
                for (int i = 0; i < 100000; i++)
                        x += (unsigned)i;
        CHECK("cpu_timer_fires_after_cpu_time",
              hits[SIGUSR2] == 1 && cpu() - c0 >= 50 * MS);
        timer_delete(t);
}

static int64_t thread_cpu(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Run on this thread's CPU for ns of its own time. */
static void burn_own(int64_t ns)
{
        volatile unsigned x = 0;
        int64_t c0 = thread_cpu(), t0 = mono();

        while (thread_cpu() - c0 < ns && mono() - t0 < 20000 * MS)
                for (int i = 0; i < 10000; i++)
                        x += (unsigned)i;
}

static timer_t own_timer;
static volatile int stage;
static int go[2];

/* Makes a timer on its own CPU-time clock, sleeps while the main thread
 * runs, then runs its own 200 ms and waits to be told to end. It sleeps
 * in one read of a pipe, not in naps: each wake-up costs CPU time, and
 * 300 of them cost emulated riscv64 Linux over 50 ms on a loaded host. */
static void *timer_owner(void *arg)
{
        struct sigevent ev;
        struct itimerspec its = { { 0, 0 }, { 0, 100 * MS } };

        (void)arg;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_NONE;
        stage = timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &own_timer) == 0 &&
                timer_settime(own_timer, 0, &its, NULL) == 0 ? 1 : -1;
        char c;
        if (stage != 1 || read(go[0], &c, 1) != 1 || stage != 2)
                return NULL;
        burn_own(200 * MS);
        stage = 3;
        while (stage == 3)
                usleep(1000);
        return NULL;
}

/* Is timer t armed with more than 50 ms left (want 1), or expired
 * (want 0)? */
static int timer_left(timer_t t, int want)
{
        struct itimerspec cur;

        if (timer_gettime(t, &cur) != 0 || cur.it_value.tv_sec != 0)
                return 0;
        return want ? cur.it_value.tv_nsec > 50 * MS : cur.it_value.tv_nsec == 0;
}

/* A timer on a thread's CPU-time clock counts that thread's time alone,
 * whichever thread reads it (Linux binds it to the thread that made it,
 * or whose clock pthread_getcpuclockid named): another thread's running
 * leaves it alone, its own expires it. */
static void thread_cpu_timer(void)
{
        struct itimerspec its = { { 0, 0 }, { 0, 100 * MS } };
        struct sigevent ev;
        pthread_t th;
        clockid_t clock;
        timer_t other;

        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_NONE;
        stage = 0;
        if (!CHECK("thread_timer_thread", pipe(go) == 0 &&
                                         pthread_create(&th, NULL, timer_owner, NULL) == 0))
                return;
        while (stage == 0)
                usleep(1000);
        if (CHECK("thread_cpu_timer_create", stage == 1) &&
            CHECK("timer_on_another_threads_clock",
                  pthread_getcpuclockid(th, &clock) == 0 &&
                  timer_create(clock, &ev, &other) == 0 &&
                  timer_settime(other, 0, &its, NULL) == 0)) {
                burn_own(300 * MS);
                CHECK("thread_cpu_timer_still_while_others_run",
                      timer_left(own_timer, 1) && timer_left(other, 1));
                stage = 2;
                if (write(go[1], "g", 1) != 1)
                        stage = 4;
                while (stage == 2)
                        usleep(1000);
                CHECK("thread_cpu_timer_expires_on_its_time",
                      timer_left(own_timer, 0) && timer_left(other, 0));
                timer_delete(own_timer);
                timer_delete(other);
        }
        stage = 4;
        if (write(go[1], "g", 1) != 1)
                perror("timers: pipe");
        pthread_join(th, NULL);
        close(go[0]);
        close(go[1]);
}

static void posix_timers(void)
{
        struct sigevent ev;
        timer_t t;
        struct itimerspec its = { { 0, 0 }, { 0, 100 * MS } }, cur;

        catch(SIGUSR1, 0);
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = SIGUSR1;
        ev.sigev_value.sival_int = 42;
        CHECK("timer_create", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
        int64_t t0 = mono();
        CHECK("timer_settime", timer_settime(t, 0, &its, NULL) == 0);
        CHECK("timer_gettime_running", timer_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 &&
                                       cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 100 * MS);
        while (!hits[SIGUSR1] && mono() - t0 < 10000 * MS)
                pause();
        CHECK("timer_fired_not_early", hits[SIGUSR1] == 1 && mono() - t0 >= 100 * MS);
        CHECK("timer_siginfo", last_code == SI_TIMER && last_value == 42);
        CHECK("timer_one_shot_done", timer_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 &&
                                     cur.it_value.tv_nsec == 0);

        /* Periodic with the signal blocked: one signal, the rest overruns,
         * taken with sigtimedwait so no later expiry can interfere. */
        sigset_t set, old;
        siginfo_t si;
        struct timespec zero = { 0, 0 };
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, &old);
        its.it_interval.tv_nsec = its.it_value.tv_nsec = 20 * MS;
        timer_settime(t, 0, &its, NULL);
        usleep(300 * 1000);
        CHECK("blocked_timer_signal_pending", sigtimedwait(&set, &si, &zero) == SIGUSR1);
        CHECK("overrun_counted", si.si_code == SI_TIMER && si.si_overrun >= 5);
        CHECK("timer_getoverrun", timer_getoverrun(t) == si.si_overrun);
        struct itimerspec off = { { 0, 0 }, { 0, 0 } };
        timer_settime(t, 0, &off, NULL);
        while (sigtimedwait(&set, &si, &zero) > 0)
                ;
        sigprocmask(SIG_SETMASK, &old, NULL);
        CHECK("timer_delete", timer_delete(t) == 0);
        CHECK_ERR("deleted_timer_gone", timer_gettime(t, &cur), EINVAL);

        /* SIGEV_NONE: no signal, but the time runs down. */
        ev.sigev_notify = SIGEV_NONE;
        CHECK("timer_create_none", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
        its.it_interval.tv_nsec = 0;
        its.it_value.tv_nsec = 0;
        its.it_value.tv_sec = 100;
        timer_settime(t, 0, &its, NULL);
        usleep(50 * 1000);
        CHECK("sigev_none_counts_down", timer_gettime(t, &cur) == 0 && cur.it_value.tv_sec < 100 &&
                                        cur.it_value.tv_sec >= 98);
        timer_delete(t);

        /* REALTIME, absolute. */
        ev.sigev_notify = SIGEV_SIGNAL;
        catch(SIGUSR2, 0);
        ev.sigev_signo = SIGUSR2;
        CHECK("timer_create_realtime", timer_create(CLOCK_REALTIME, &ev, &t) == 0);
        clock_gettime(CLOCK_REALTIME, &its.it_value);
        its.it_value.tv_nsec += 150 * MS;
        if (its.it_value.tv_nsec >= 1000000000) {
                its.it_value.tv_sec++;
                its.it_value.tv_nsec -= 1000000000;
        }
        t0 = mono();
        CHECK("timer_settime_abstime", timer_settime(t, TIMER_ABSTIME, &its, NULL) == 0);
        while (!hits[SIGUSR2] && mono() - t0 < 10000 * MS)
                pause();
        CHECK("abstime_timer_not_early", hits[SIGUSR2] == 1 && mono() - t0 >= 140 * MS);
        timer_delete(t);

        CHECK_ERR("timer_bad_clock", timer_create(12345, &ev, &t), EINVAL);
        ev.sigev_signo = 0;
        CHECK_ERR("timer_bad_signal", timer_create(CLOCK_MONOTONIC, &ev, &t), EINVAL);
        ev.sigev_signo = SIGUSR1;
        ev.sigev_notify = 77;
        CHECK_ERR("timer_bad_notify", timer_create(CLOCK_MONOTONIC, &ev, &t), EINVAL);
        CHECK_ERR("timer_bad_id", syscall(SYS_timer_gettime, 9999, &cur), EINVAL);
        CHECK_ERR("timer_delete_bad_id", syscall(SYS_timer_delete, 9999), EINVAL);
}

/* A signal ends a sleep with EINTR (even under SA_RESTART) and the time
 * left. */
static void interrupted_sleeps(void)
{
        struct itimerval v = { { 0, 0 }, { 0, 100000 } };
        struct timespec req = { 2, 0 }, rem = { 0, 0 };

        catch(SIGALRM, SA_RESTART);
        setitimer(ITIMER_REAL, &v, NULL);
        int64_t t0 = mono();
        CHECK_ERR("nanosleep_eintr", nanosleep(&req, &rem), EINTR);
        int64_t d = mono() - t0;
        CHECK("nanosleep_cut_short", d >= 100 * MS && d < 1900 * MS);
        int64_t left = rem.tv_sec * 1000000000LL + rem.tv_nsec;
        CHECK("nanosleep_remaining", left > 0 && left < 2000 * MS && left + d >= 1900 * MS);
        setitimer(ITIMER_REAL, &v, NULL);
        rem.tv_sec = rem.tv_nsec = 0;
        CHECK("clock_nanosleep_eintr", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem) == EINTR &&
                                       rem.tv_sec * 1000000000LL + rem.tv_nsec > 0);
        setitimer(ITIMER_REAL, &v, NULL);
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += 2;
        CHECK("clock_nanosleep_abs_eintr", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) == EINTR);
}

static void fork_drops_timers(void)
{
        struct itimerval v = { { 0, 0 }, { 5, 0 } }, g;
        int st;

        setitimer(ITIMER_REAL, &v, NULL);
        pid_t pid = fork();
        if (pid == 0) {
                getitimer(ITIMER_REAL, &g);
                _exit(g.it_value.tv_sec == 0 && g.it_value.tv_usec == 0 ? 0 : 1);
        }
        waitpid(pid, &st, 0);
        CHECK("child_has_no_itimer", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK("parent_keeps_itimer", getitimer(ITIMER_REAL, &g) == 0 && g.it_value.tv_sec >= 3);
        struct itimerval off = { { 0, 0 }, { 0, 0 } };
        setitimer(ITIMER_REAL, &off, NULL);
}

int main(void)
{
        utest_start("timers");
        alarm_and_pause();
        itimer_real();
        itimer_cpu(ITIMER_VIRTUAL, SIGVTALRM, "itimer_virtual");
        itimer_cpu(ITIMER_PROF, SIGPROF, "itimer_prof");
        posix_timers();
        posix_cpu_timer();
        thread_cpu_timer();
        interrupted_sleeps();
        fork_drops_timers();
        return utest_done();
}
