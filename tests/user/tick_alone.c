/*
 * tick_alone.c - a thread alone on its CPU keeps it through the timer's
 * ticks. One spinner is pinned to each CPU (reading the clock through
 * the vDSO: no system calls) for WINDOW_MS; each must be on its CPU at its
 * start and end, and make progress. On Mercator, /proc/lock_stat counts the big kernel lock's
 * acquisitions: while only the spinners run, a kernel that sent every
 * CPU's thread to the scheduler at every tick took the lock once per
 * tick per CPU (about N x the ticks of one CPU); now only the boot CPU's
 * tick does (it runs the timers), so over the window the count must stay
 * near the boot CPU's ticks (each CPU's from /proc/stat), not their sum. Linux has no such file in that format (it
 * exists only with CONFIG_LOCK_STAT): the spinners' checks still run.
 */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define MAXC            64
#define WINDOW_MS       600

static atomic_int stop, started;

struct spinner {
        pthread_t th;
        int cpu;
        int wrong_cpu;                  /* seen elsewhere, first or last */
        long long loops;
};

static long long now_ns(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *spin(void *arg)
{
        struct spinner *s = arg;
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(s->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
                s->wrong_cpu = -1;
        if (sched_getcpu() != s->cpu)
                s->wrong_cpu++;
        atomic_fetch_add(&started, 1);
        /* No system call in the loop (getcpu is one on Mercator). */
        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                long long t = now_ns();

                while (now_ns() - t < 1000000)
                        ;
                s->loops++;
        }
        if (sched_getcpu() != s->cpu)
                s->wrong_cpu++;
        return NULL;
}

/* Each CPU's ticks so far (/proc/stat's cpuN lines, in USER_HZ = the
 * tick on Mercator); => how many CPUs were read. */
static int cpu_ticks(long long *ticks)
{
        char line[512];
        int n = 0;
        FILE *f = fopen("/proc/stat", "r");

        if (!f)
                return 0;
        while (fgets(line, sizeof line, f)) {
                long long v[8] = { 0 };
                int cpu;

                if (sscanf(line, "cpu%d %lld %lld %lld %lld %lld %lld %lld %lld",
                           &cpu, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                           &v[6], &v[7]) >= 5 && cpu >= 0 && cpu < MAXC) {
                        ticks[cpu] = 0;
                        for (int i = 0; i < 8; i++)
                                ticks[cpu] += v[i];
                        n = cpu + 1 > n ? cpu + 1 : n;
                }
        }
        fclose(f);
        return n;
}

int main(void)
{
        static struct spinner sp[MAXC];
        cpu_set_t mine;
        int n = 0;

        utest_start("tick_alone");
        CHECK("affinity", sched_getaffinity(0, sizeof mine, &mine) == 0);
        for (int c = 0; c < MAXC && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &mine))
                        sp[n++].cpu = c;
        for (int i = 0; i < n; i++)
                if (pthread_create(&sp[i].th, NULL, spin, &sp[i]) != 0)
                        n = i;
        while (atomic_load(&started) < n)
                sched_yield();
        usleep(50000);                  /* every spinner on its CPU */

        static long long tick0[MAXC], tick1[MAXC];
        int ncpu = cpu_ticks(tick0);
        long long before = lock_stat_acquired("big-kernel-lock"), t0 = now_ns();
        struct timespec w = { WINDOW_MS / 1000, WINDOW_MS % 1000 * 1000000L };
        nanosleep(&w, NULL);
        long long after = lock_stat_acquired("big-kernel-lock"), t1 = now_ns();
        cpu_ticks(tick1);

        atomic_store(&stop, 1);
        int wrong = 0;
        long long least = -1;
        for (int i = 0; i < n; i++) {
                pthread_join(sp[i].th, NULL);
                wrong += sp[i].wrong_cpu != 0;
                if (least < 0 || sp[i].loops < least)
                        least = sp[i].loops;
        }
        printf("# %d spinners, %lld ms; fewest loops %lld\n", n,
               (t1 - t0) / 1000000, least);
        CHECK("spinners_started", n >= 1);
        CHECK("each_on_its_cpu", wrong == 0);
        CHECK("each_ran", least > 0);
        if (before < 0 || after < 0) {
                printf("# no big-kernel-lock line in /proc/lock_stat "
                       "(not Mercator): nothing more to check\n");
                return utest_done();
        }
        /* A tick that sends its thread to the scheduler takes the lock
         * twice (the trap's way in, then the scheduler loop's pick). The
         * boot CPU's ticks all do; the others' should not (half a lock
         * per tick allowed, against the two of a kernel that sends them
         * too), plus 20 for this thread's own calls. */
        long long boot = tick1[0] - tick0[0], others = 0;
        for (int c = 1; c < ncpu; c++)
                others += tick1[c] - tick0[c];
        long long taken = after - before,
                  allowed = 2 * boot + others / 2 + 20;
        printf("# kernel lock taken %lld times; ticks: boot CPU %lld, "
               "the others %lld (allowed %lld)\n", taken, boot, others,
               allowed);
        CHECK("ticks_counted", ncpu >= n && boot > 0);
        CHECK("ticks_leave_a_lone_thread_be", taken <= allowed);
        return utest_done();
}
