/*
 * smp_spread.c - N spinning processes occupy the machine's N CPUs: each
 * of N children spins in user mode, noting in shared memory every CPU
 * getcpu() reports, until every CPU the affinity mask offers has been
 * seen running one of them together with the others still spinning (or
 * 60 s pass). On one CPU that is CPU 0; on -smp 4, all four.
 */
#define _GNU_SOURCE
#include "utest.h"
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_KIDS 64

struct shared {
        volatile unsigned long seen;            /* bit per CPU seen */
        volatile int stop;
};

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void spin(struct shared *sh, unsigned long want)
{
        double end = now_s() + 60;

        while (!sh->stop && now_s() < end) {
                unsigned cpu = 0, node = 0;
                if (syscall(SYS_getcpu, &cpu, &node, NULL) != 0 || cpu >= 64)
                        _exit(2);
                __atomic_or_fetch(&sh->seen, 1UL << cpu, __ATOMIC_RELAXED);
                if ((sh->seen & want) == want)
                        sh->stop = 1;
                for (volatile int i = 0; i < 100000; i++)
                        ;
        }
        _exit(0);
}

int main(void)
{
        cpu_set_t set;
        unsigned long want = 0;
        int n = 0;

        utest_start("smp_spread");
        CHECK("getaffinity", sched_getaffinity(0, sizeof set, &set) == 0);
        for (int c = 0; c < 64 && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &set)) {
                        want |= 1UL << c;
                        n++;
                }
        CHECK("some_cpu", n >= 1 && n <= MAX_KIDS);
        struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (!CHECK("shared_map", sh != MAP_FAILED))
                return utest_done();
        pid_t kids[MAX_KIDS];
        for (int i = 0; i < n; i++)
                if ((kids[i] = fork()) == 0)
                        spin(sh, want);
        int ok = 1;
        for (int i = 0; i < n; i++) {
                int st = -1;
                ok &= waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) &&
                      WEXITSTATUS(st) == 0;
        }
        CHECK("children_ok", ok);
        CHECK("every_cpu_ran_a_spinner", (sh->seen & want) == want);
        CHECK("no_cpu_outside_the_mask", (sh->seen & ~want) == 0);
        printf("smp_spread: %d CPUs, seen mask %#lx\n", n, sh->seen);
        return utest_done();
}
