/*
 * rlimit_cpu.c - RLIMIT_CPU as Linux enforces it: a process that spins
 * with a soft limit of 1 s and a hard limit of 3 s gets SIGXCPU at 1 s
 * and, since each SIGXCPU raises the soft limit by a second, again at
 * 2 s; at 3 s the hard limit kills it with SIGKILL. What the child saw
 * goes to the parent through a shared page.
 */
#include "utest.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

struct seen {
        volatile int xcpu;              /* SIGXCPUs taken */
        volatile long soft_after_first; /* getrlimit's soft limit then */
};

static struct seen *seen;

static void on_xcpu(int sig)
{
        struct rlimit r;

        (void)sig;
        if (seen->xcpu++ == 0 && getrlimit(RLIMIT_CPU, &r) == 0)
                seen->soft_after_first = (long)r.rlim_cur;
}

int main(void)
{
        utest_start("rlimit_cpu");
        seen = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (!CHECK("shared_page", seen != MAP_FAILED))
                return utest_done();
        pid_t pid = fork();
        if (pid == 0) {
                struct rlimit r = { 1, 3 };
                signal(SIGXCPU, on_xcpu);
                if (setrlimit(RLIMIT_CPU, &r) != 0)
                        _exit(2);
                alarm(60);              /* if nothing enforces the limit */
                for (volatile unsigned long i = 0;; i++)
                        ;
        }
        int st = 0;
        struct rusage ru;
        CHECK("waited", pid > 0 && wait4(pid, &st, 0, &ru) == pid);
        CHECK("killed_by_sigkill_at_the_hard_limit",
              WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        CHECK("sigxcpu_at_1s_and_2s", seen->xcpu == 2);
        CHECK("soft_limit_raised_by_a_second", seen->soft_after_first == 2);
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        /* About 3 s; wait4's figure for it came out at 2.4 s once on this
         * machine's Linux at load 9 (its split of the time comes from
         * ticks). At least 2 s - what reaching the second SIGXCPU took -
         * still fails a kernel that does not charge the time it ran. */
        CHECK("ran_2s_of_cpu_or_more", cpu >= 2.0);
        printf("rlimit_cpu: child used %.2f s of CPU, %d SIGXCPU\n", cpu,
               seen->xcpu);
        return utest_done();
}
