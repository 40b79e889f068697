/*
 * time_clock.c - clocks, sleeping, CPU-time accounting and sysinfo.
 *
 * Sleeps are checked strictly from below (never early) and generously
 * from above (TCG may be slow), so the checks cannot flake.
 */
#include "utest.h"
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL

static int64_t now_ns(clockid_t c)
{
        struct timespec ts;

        clock_gettime(c, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void every_clock(void)
{
        static const clockid_t ids[] = {
                CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,
                CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
        };
        struct timespec ts, res;
        int ok = 1;

        for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++)
                ok &= clock_gettime(ids[i], &ts) == 0 && clock_getres(ids[i], &res) == 0 &&
                      res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10 * MS;
        CHECK("all_clocks_readable", ok);
        CHECK("fine_resolution", clock_getres(CLOCK_MONOTONIC, &res) == 0 &&
                                 res.tv_nsec <= 1000);
        CHECK_ERR("bad_clock", clock_gettime(12345, &ts), EINVAL);
        /* Through the system call: a vDSO would fault in user mode instead. */
        CHECK_ERR("bad_pointer", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8), EFAULT);
        CHECK("getres_null_ok", clock_getres(CLOCK_REALTIME, NULL) == 0);
}

static void monotonic(void)
{
        int64_t prev = now_ns(CLOCK_MONOTONIC), ok = 1;

        for (int i = 0; i < 2000; i++) {
                int64_t t = now_ns(CLOCK_MONOTONIC);
                ok &= t >= prev;
                prev = t;
        }
        CHECK("monotonic_never_goes_back", ok);
        int64_t c = now_ns(CLOCK_MONOTONIC_COARSE), f = now_ns(CLOCK_MONOTONIC);
        CHECK("coarse_not_ahead", c <= f && f - c < 1000 * MS);
        int64_t b = now_ns(CLOCK_BOOTTIME);
        CHECK("boottime_not_behind_monotonic", b >= f);
}

/* The month number of __DATE__'s "Mmm". */
static int month_of(const char *m)
{
        static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

        for (int i = 0; i < 12; i++)
                if (strncmp(names + 3 * i, m, 3) == 0)
                        return i + 1;
        return 0;
}

/* Days since 1970 of a civil date. */
static int64_t days_of(int y, int m, int d)
{
        y -= m <= 2;
        int64_t era = y / 400, yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The wall clock is today's date: not before this program was built (a
 * day's slack for time zones), and less than a year after. */
static void wall_clock(void)
{
        const char *date = __DATE__;            /* "Dec  2 2026" */
        int64_t built = days_of(atoi(date + 7), month_of(date), atoi(date + 4)) * 86400;
        time_t t = time(NULL);
        struct timeval tv;

        CHECK("realtime_is_today", t >= built - 86400 && t < built + 365 * 86400);
        CHECK("gettimeofday_agrees", gettimeofday(&tv, NULL) == 0 &&
                                     tv.tv_sec - t >= 0 && tv.tv_sec - t <= 2 &&
                                     tv.tv_usec >= 0 && tv.tv_usec < 1000000);
        int64_t r = now_ns(CLOCK_REALTIME) / 1000000000, rc = now_ns(CLOCK_REALTIME_COARSE) / 1000000000;
        CHECK("clock_realtime_agrees", r - t >= 0 && r - t <= 2 && rc - t >= -1 && rc - t <= 2);
        CHECK("time_syscall_writes", syscall(SYS_time, &t) > 0 && t >= built - 86400);
}

static int64_t slept(void (*fn)(void *), void *arg)
{
        int64_t t0 = now_ns(CLOCK_MONOTONIC);

        fn(arg);
        return now_ns(CLOCK_MONOTONIC) - t0;
}

static void do_nanosleep(void *ms)
{
        struct timespec ts = { 0, *(long *)ms * MS };

        nanosleep(&ts, NULL);
}

static void do_sleep1(void *unused) { (void)unused; sleep(1); }

static void do_rel(void *arg)
{
        clockid_t c = *(clockid_t *)arg;
        struct timespec ts = { 0, 120 * MS };

        clock_nanosleep(c, 0, &ts, NULL);
}

static void sleeping(void)
{
        long ms = 200;
        int64_t d = slept(do_nanosleep, &ms);

        CHECK("nanosleep_not_early", d >= 200 * MS);
        CHECK("nanosleep_not_forever", d < 5000 * MS);
        d = slept(do_sleep1, NULL);
        CHECK("sleep_1_takes_a_second", d >= 1000 * MS && d < 10000 * MS);
        clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME };
        for (int i = 0; i < 3; i++) {
                d = slept(do_rel, &clocks[i]);
                CHECK("clock_nanosleep_relative", d >= 120 * MS && d < 5000 * MS);
        }

        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += 150 * MS;
        if (dl.tv_nsec >= 1000000000) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000;
        }
        CHECK("abstime_monotonic", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) == 0 &&
                                   now_ns(CLOCK_MONOTONIC) >= dl.tv_sec * 1000000000LL + dl.tv_nsec);
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 1;
        CHECK("abstime_realtime", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &dl, NULL) == 0 &&
                                  now_ns(CLOCK_REALTIME) >= dl.tv_sec * 1000000000LL + dl.tv_nsec);
        dl.tv_sec -= 100;
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        CHECK("abstime_past_returns_at_once", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &dl, NULL) == 0 &&
                                              now_ns(CLOCK_MONOTONIC) - t0 < 1000 * MS);

        struct timespec bad = { 0, 1000000000 };
        CHECK("clock_nanosleep_bad_nsec", clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL);
        CHECK_ERR("nanosleep_bad_nsec", nanosleep(&bad, NULL), EINVAL);
        bad.tv_nsec = 0;
        bad.tv_sec = -1;
        CHECK_ERR("nanosleep_negative", nanosleep(&bad, NULL), EINVAL);
        CHECK_ERR("nanosleep_bad_pointer", nanosleep((void *)8, NULL), EFAULT);
        CHECK("clock_nanosleep_bad_clock", clock_nanosleep(12345, 0, &bad, NULL) == EINVAL);
        CHECK("clock_nanosleep_thread_cputime",
              clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &bad, NULL) == EINVAL);
        struct timespec zero = { 0, 0 };
        /* The C library says EINVAL; the kernel itself says EOPNOTSUPP,
         * and looks at the clock before the time. */
        CHECK("clock_nanosleep_thread_cputime_raw",
              syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &zero, NULL) == -1 &&
              errno == EOPNOTSUPP);
        CHECK("clock_nanosleep_clock_checked_first",
              syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &bad, NULL) == -1 &&
              errno == EOPNOTSUPP);
        CHECK("clock_nanosleep_raw_unsupported",
              syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &zero, NULL) == -1 &&
              errno == EOPNOTSUPP);
}

/* The sleeps of the child of stopped_midway(): each must end at its
 * first deadline, not start over when the stop ends. */
static int sleep_kinds(int kind)
{
        struct timespec one = { 1, 0 }, left = { 9, 9 };
        int64_t t0 = now_ns(CLOCK_MONOTONIC), d;
        int r = 0;

        if (kind == 0)
                r = nanosleep(&one, &left);
        else if (kind == 1)
                r = clock_nanosleep(CLOCK_MONOTONIC, 0, &one, NULL);
        else
                r = poll(NULL, 0, 1000);
        d = now_ns(CLOCK_MONOTONIC) - t0;
        return r == 0 && d >= 1000 * MS && d < 1500 * MS ? 0 : 1;
}

/*
 * A sleeper stopped by SIGSTOP at 0.3 s and continued at 0.9 s: no
 * handler runs, so the call goes on (Linux's restart_syscall) to the
 * deadline it had: it ends near 1 s. Starting over would end near 1.9 s.
 */
static void stopped_midway(void)
{
        static const char *names[] = { "nanosleep_resumes_after_stop",
                "clock_nanosleep_resumes_after_stop", "poll_resumes_after_stop" };

        for (int kind = 0; kind < 3; kind++) {
                pid_t pid = fork();
                int st = -1;

                if (pid == 0)
                        _exit(sleep_kinds(kind));
                usleep(300000);
                kill(pid, SIGSTOP);
                usleep(600000);
                kill(pid, SIGCONT);
                CHECK(names[kind], waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
                                   WEXITSTATUS(st) == 0);
        }
        CHECK_ERR("restart_syscall_with_nothing_to_restart",
                  syscall(SYS_restart_syscall), EINTR);
}

/* Spin in user mode until this process has used ms of CPU (the clock is
 * read between stretches of work, so most of the time is user time). */
static void spin_cpu(int64_t ms)
{
        int64_t t0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        volatile unsigned x = 0;

        while (now_ns(CLOCK_PROCESS_CPUTIME_ID) - t0 < ms * MS)
                for (int i = 0; i < 200000; i++)
                        x += (unsigned)i;
}

static int64_t tv_ns(struct timeval tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; }

static void cpu_time(void)
{
        struct tms t0, t1;
        struct rusage ru;

        times(&t0);
        spin_cpu(300);
        clock_t r = times(&t1);
        long hz = sysconf(_SC_CLK_TCK);
        CHECK("clk_tck_100", hz == 100);
        CHECK("times_counts_cpu", (t1.tms_utime + t1.tms_stime) - (t0.tms_utime + t0.tms_stime) >= 25);
        CHECK("times_returns_ticks", r != (clock_t)-1);
        CHECK("getrusage_self_cpu", getrusage(RUSAGE_SELF, &ru) == 0 &&
                                    tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 290 * MS);
        CHECK("mostly_user_time", tv_ns(ru.ru_utime) >= tv_ns(ru.ru_stime));
        int64_t thread = now_ns(CLOCK_THREAD_CPUTIME_ID), proc = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        CHECK("cputime_clocks", thread >= 300 * MS && proc >= 300 * MS);
        clockid_t cid;
        CHECK("getcpuclockid_self", clock_getcpuclockid(0, &cid) == 0 &&
                                    now_ns(cid) >= 300 * MS);

        pid_t pid = fork();
        if (pid == 0) {
                spin_cpu(200);
                _exit(0);
        }
        struct rusage child;
        int st;
        CHECK("wait4_rusage", wait4(pid, &st, 0, &child) == pid &&
                              tv_ns(child.ru_utime) + tv_ns(child.ru_stime) >= 190 * MS);
        CHECK("getrusage_children", getrusage(RUSAGE_CHILDREN, &ru) == 0 &&
                                    tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 190 * MS);
        CHECK_ERR("getrusage_bad_who", getrusage(5, &ru), EINVAL);
        CHECK_ERR("getrusage_bad_pointer", getrusage(RUSAGE_SELF, (void *)8), EFAULT);
}

/* Minor faults: one per page first touched; maxrss: the high-water mark. */
static void faults(void)
{
        struct rusage a, b;
        size_t n = 512, len = n * PAGE;
        uint8_t *m = anon(len, PROT_READ | PROT_WRITE);

        madvise(m, len, MADV_NOHUGEPAGE);
        getrusage(RUSAGE_SELF, &a);
        for (size_t i = 0; i < len; i += PAGE)
                m[i] = 1;
        getrusage(RUSAGE_SELF, &b);
        CHECK("minflt_counts_first_touches", b.ru_minflt - a.ru_minflt >= (long)n &&
                                             b.ru_minflt - a.ru_minflt < (long)n + 64);
        CHECK("no_major_faults_for_anon", b.ru_majflt == a.ru_majflt);
        CHECK("maxrss_covers_touched", b.ru_maxrss >= (long)(len / 1024));
        munmap(m, len);
        getrusage(RUSAGE_SELF, &a);
        CHECK("maxrss_is_a_high_water_mark", a.ru_maxrss >= b.ru_maxrss);

        pid_t pid = fork();
        if (pid == 0) {
                uint8_t *c = anon(len, PROT_READ | PROT_WRITE);
                madvise(c, len, MADV_NOHUGEPAGE);
                for (size_t i = 0; i < len; i += PAGE)
                        c[i] = 1;
                _exit(0);
        }
        struct rusage child;
        int st;
        CHECK("wait4_rusage_faults", wait4(pid, &st, 0, &child) == pid &&
                                     child.ru_minflt >= (long)n &&
                                     child.ru_maxrss >= (long)(len / 1024));
}

/* The value of a /proc/meminfo line, in kB; -1 if absent. */
static long meminfo(const char *key)
{
        char line[128];
        long v = -1;
        FILE *f = fopen("/proc/meminfo", "r");

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
                        v = atol(line + strlen(key) + 1);
        if (f)
                fclose(f);
        return v;
}

static void sysinfo_plausible(void)
{
        struct sysinfo si;
        long total = meminfo("MemTotal"), free_kb = meminfo("MemFree");

        CHECK("sysinfo", sysinfo(&si) == 0);
        CHECK("mem_unit", si.mem_unit >= 1);
        uint64_t unit = si.mem_unit;
        CHECK("totalram_is_memtotal", si.totalram * unit / 1024 == (uint64_t)total);
        int64_t diff = (int64_t)(si.freeram * unit / 1024) - free_kb;
        CHECK("freeram_near_memfree", diff < 32 * 1024 && diff > -32 * 1024);
        CHECK("freeram_below_total", si.freeram <= si.totalram);
        int64_t up = now_ns(CLOCK_BOOTTIME) / 1000000000;
        CHECK("uptime_is_boottime", (int64_t)si.uptime >= up && (int64_t)si.uptime <= up + 2);
        CHECK("procs_counted", si.procs >= 1);
        CHECK("no_swap", si.totalswap >= si.freeswap);

        size_t len = 256 * PAGE;
        uint8_t *sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        memset(sh, 1, len);
        CHECK("sharedram_counts_shared_memory", sysinfo(&si) == 0 &&
                                                si.sharedram * unit >= len);
        munmap(sh, len);
        CHECK_ERR("sysinfo_bad_pointer", sysinfo((void *)8), EFAULT);
}

static void scheduling(void)
{
        struct sched_param sp = { 0 };
        struct timespec ts;
        cpu_set_t set;
        unsigned cpu = 99, node = 99;

        CHECK("fifo_range", sched_get_priority_max(SCHED_FIFO) == 99 &&
                            sched_get_priority_min(SCHED_FIFO) == 1);
        CHECK("rr_range", sched_get_priority_max(SCHED_RR) == 99 &&
                          sched_get_priority_min(SCHED_RR) == 1);
        CHECK("other_range", sched_get_priority_max(SCHED_OTHER) == 0 &&
                             sched_get_priority_min(SCHED_OTHER) == 0);
        CHECK_ERR("bad_policy_range", sched_get_priority_max(42), EINVAL);
        CHECK("getscheduler_other", syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);
        CHECK("getparam_zero", syscall(SYS_sched_getparam, 0, &sp) == 0 && sp.sched_priority == 0);
        struct sched_param five = { 0 };
        five.sched_priority = 5;
        CHECK_ERR("setscheduler_other_needs_prio_0",
                  syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &five), EINVAL);
        CHECK("setscheduler_batch", syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &sp) == 0 &&
                                    syscall(SYS_sched_getscheduler, 0) == SCHED_BATCH);
        CHECK("setscheduler_back", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp) == 0);
        CHECK_ERR("getscheduler_no_pid", syscall(SYS_sched_getscheduler, 1 << 22), ESRCH);
        CHECK_ERR("getscheduler_negative", syscall(SYS_sched_getscheduler, -1), EINVAL);
        CHECK("rr_interval", sched_rr_get_interval(0, &ts) == 0 && ts.tv_sec == 0);
        CHECK("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && cpu < 4096 && node < 4096);
        CHECK("getaffinity_has_our_cpu", sched_getaffinity(0, sizeof set, &set) == 0 &&
                                         CPU_ISSET(cpu, &set));
        CHECK("setaffinity_same", sched_setaffinity(0, sizeof set, &set) == 0);
        CPU_ZERO(&set);
        CHECK_ERR("setaffinity_empty", sched_setaffinity(0, sizeof set, &set), EINVAL);
        CHECK("nice_value", getpriority(PRIO_PROCESS, 0) == 0);
        CHECK_ERR("priority_bad_which", getpriority(7, 0), EINVAL);
}

int main(void)
{
        utest_start("time_clock");
        every_clock();
        monotonic();
        wall_clock();
        sleeping();
        stopped_midway();
        cpu_time();
        faults();
        sysinfo_plausible();
        scheduling();
        return utest_done();
}
