/*
 * tick_alone.c - what the timer's ticks do to threads that spin (reading
 * the clock through the vDSO: no system calls).
 *
 * A thread alone on its CPU keeps it through the ticks: one spinner is
 * pinned to each CPU for WINDOW_MS; each must be on its CPU at its start
 * and end, and make progress. On Mercator, /proc/lock_stat counts the big
 * kernel lock's acquisitions: while only the spinners run, a kernel that
 * sent every CPU's thread to the scheduler at every tick took the lock
 * once per tick per CPU (about N x the ticks of one CPU); now only the
 * boot CPU's tick does (it runs the timers), so over the window the count
 * must stay near the boot CPU's ticks (each CPU's from /proc/stat), not
 * their sum.
 *
 * The boot CPU's tick takes the lock once (it runs the timers); its
 * thread stays on the CPU unless the scheduler loop has something to do
 * (a kernel that sent it there at every tick took the lock twice a
 * tick): the boot CPU's own count of takes (below) must stay near its
 * ticks.
 *
 * Two threads on one CPU share it: two spinners pinned to the last CPU
 * the test may use (not the boot CPU, with two or more) for WINDOW_MS
 * must each get at least a quarter of what the other got. On Mercator
 * that CPU's own count of big-lock takes (/proc/lock_stat's "takes by
 * cpu" line) must stay below a quarter of its ticks: a time slice's end
 * gives the CPU up without the lock (a kernel that took it there, as
 * session 29's did, takes it at about every tick).
 *
 * Linux has no such file in that format (it exists only with
 * CONFIG_LOCK_STAT): the spinners' checks still run.
 */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#define MAXC            64
#define WINDOW_MS       600

static atomic_int stop, started;

struct spinner {
        pthread_t th;
        int cpu;
        int wrong_cpu;                  /* seen elsewhere, first or last */
        bool made;                      /* its thread was created */
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

/* Each CPU's big-lock takes so far (/proc/lock_stat's "big-kernel-lock
 * takes by cpu:" line, Mercator's); => how many CPUs were read. */
static int lock_takes(long long *takes)
{
        char line[1024];
        int n = 0;
        FILE *f = fopen("/proc/lock_stat", "r");
        const char *key = "big-kernel-lock takes by cpu:";

        if (!f)
                return 0;
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, key, strlen(key)))
                        continue;
                char *p = line + strlen(key), *end;

                for (long long v; n < MAXC; p = end, n++) {
                        v = strtoll(p, &end, 10);
                        if (end == p)
                                break;
                        takes[n] = v;
                }
        }
        fclose(f);
        return n;
}

/* What a window saw: each CPU's ticks and big-lock takes at its start
 * and end, the takes of all CPUs (-1 without the count), the CPUs
 * /proc/stat lists, its length. */
struct window {
        long long tick0[MAXC], tick1[MAXC], take0[MAXC], take1[MAXC];
        long long all0, all1;
        int ncpu, ntake;                /* CPUs in /proc/stat, in takes */
        long long ms;
};

/* Run the spinners sp[0..n) (their cpu fields set) for WINDOW_MS. */
static void spin_window(struct spinner *sp, int n, struct window *w)
{
        int made = 0;

        atomic_store(&stop, 0);
        atomic_store(&started, 0);
        for (int i = 0; i < n; i++) {
                sp[i].made = pthread_create(&sp[i].th, NULL, spin, &sp[i]) == 0;
                made += sp[i].made;
                if (!sp[i].made)
                        sp[i].wrong_cpu = -1;
        }
        while (atomic_load(&started) < made)
                sched_yield();
        usleep(50000);                  /* every spinner on its CPU */

        cpu_ticks(w->tick0);
        lock_takes(w->take0);
        w->all0 = lock_stat_acquired("big-kernel-lock");
        long long t0 = now_ns();
        struct timespec len = { WINDOW_MS / 1000, WINDOW_MS % 1000 * 1000000L };
        nanosleep(&len, NULL);
        long long t1 = now_ns();
        w->all1 = lock_stat_acquired("big-kernel-lock");
        w->ntake = lock_takes(w->take1);
        w->ncpu = cpu_ticks(w->tick1);
        w->ms = (t1 - t0) / 1000000;

        atomic_store(&stop, 1);
        for (int i = 0; i < n; i++)
                if (sp[i].made)
                        pthread_join(sp[i].th, NULL);
}

static long long fewest_loops(const struct spinner *sp, int n)
{
        long long least = -1;

        for (int i = 0; i < n; i++)
                if (least < 0 || sp[i].loops < least)
                        least = sp[i].loops;
        return least;
}

static int wrong_cpus(const struct spinner *sp, int n)
{
        int wrong = 0;

        for (int i = 0; i < n; i++)
                wrong += sp[i].wrong_cpu != 0;
        return wrong;
}

static void alone_on_each_cpu(const cpu_set_t *mine)
{
        static struct spinner sp[MAXC];
        static struct window w;
        int n = 0;

        for (int c = 0; c < MAXC && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, mine))
                        sp[n++].cpu = c;
        spin_window(sp, n, &w);
        long long least = fewest_loops(sp, n);

        printf("# %d spinners, %lld ms; fewest loops %lld\n", n, w.ms, least);
        CHECK("spinners_started", n >= 1);
        CHECK("each_on_its_cpu", wrong_cpus(sp, n) == 0);
        CHECK("each_ran", least > 0);
        if (w.all0 < 0 || w.all1 < 0) {
                printf("# no big-kernel-lock line in /proc/lock_stat "
                       "(not Mercator): nothing more to check\n");
                return;
        }
        /* A tick that sends its thread to the scheduler takes the lock
         * twice (the trap's way in, then the scheduler loop's pick). The
         * boot CPU's ticks all do; the others' should not (half a lock
         * per tick allowed, against the two of a kernel that sends them
         * too), plus 20 for this thread's own calls. */
        long long boot = w.tick1[0] - w.tick0[0], others = 0;
        for (int c = 1; c < w.ncpu; c++)
                others += w.tick1[c] - w.tick0[c];
        long long taken = w.all1 - w.all0,
                  allowed = 2 * boot + others / 2 + 20;
        printf("# kernel lock taken %lld times; ticks: boot CPU %lld, "
               "the others %lld (allowed %lld)\n", taken, boot, others,
               allowed);
        CHECK("ticks_counted", w.ncpu >= n && boot > 0);
        CHECK("ticks_leave_a_lone_thread_be", taken <= allowed);
        /* The boot CPU's own tick takes the lock (it runs the timers),
         * once; its thread goes to the scheduler loop only when the loop
         * has something to do (a kernel that sent it there at every tick
         * took the lock twice a tick), plus 20 for this thread's calls. */
        if (w.ntake < 1 || !CPU_ISSET(0, mine))
                return;
        long long boot_taken = w.take1[0] - w.take0[0];
        printf("# the boot CPU took it %lld times in %lld ticks\n",
               boot_taken, boot);
        CHECK("boot_tick_keeps_its_thread",
              boot_taken <= boot + boot / 4 + 20);
}

static void two_on_one_cpu(const cpu_set_t *mine)
{
        static struct spinner sp[2];
        static struct window w;
        int cpu = -1, first = -1, allowed = 0;
        cpu_set_t set;

        for (int c = 0; c < MAXC && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, mine)) {
                        cpu = c, allowed++;
                        first = first < 0 ? c : first;
                }
        sp[0].cpu = sp[1].cpu = cpu;
        /* This thread's own calls on another CPU than theirs. */
        CPU_ZERO(&set);
        CPU_SET(first, &set);
        if (allowed >= 2)
                sched_setaffinity(0, sizeof set, &set);
        spin_window(sp, 2, &w);
        sched_setaffinity(0, sizeof *mine, mine);
        long long least = fewest_loops(sp, 2),
                  most = sp[0].loops + sp[1].loops - least;

        printf("# two spinners on CPU %d, %lld ms: loops %lld and %lld\n",
               cpu, w.ms, sp[0].loops, sp[1].loops);
        CHECK("two_on_their_cpu", wrong_cpus(sp, 2) == 0);
        CHECK("two_share_a_cpu", least > 0 && least * 4 >= most);
        if (allowed < 2 || w.ncpu <= cpu || w.ntake <= cpu) {
                printf("# %s: no count of the CPU's big-lock takes to check\n",
                       allowed < 2 ? "one CPU" : "no takes line");
                return;
        }
        long long ticks = w.tick1[cpu] - w.tick0[cpu],
                  taken = w.take1[cpu] - w.take0[cpu];

        printf("# CPU %d: %lld ticks, the big lock taken %lld times there\n",
               cpu, ticks, taken);
        CHECK("slices_end_without_the_lock",
              ticks > 0 && taken * 4 <= ticks + 8);
}

int main(void)
{
        cpu_set_t mine;

        utest_start("tick_alone");
        CHECK("affinity", sched_getaffinity(0, sizeof mine, &mine) == 0);
        alone_on_each_cpu(&mine);
        two_on_one_cpu(&mine);
        return utest_done();
}
