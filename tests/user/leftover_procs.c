/*
 * leftover_procs.c - a program that ends while processes it started still
 * run, as a shell script ends with a background job or a watcher that
 * `timeout` left behind.
 *
 * Left behind: a child that ignores SIGTERM, runs a second thread and
 * waits in pause(); a grandchild whose parent has exited (so init's own);
 * a child that has exited and was never waited for (a zombie). On
 * Mercator this program is init, and its exit powers the machine off:
 * the kernel must first end what still runs and free the zombies, so that
 * the harness's exit_frees_everything check finds every page back. On
 * Linux the referee's init powers off under them.
 *
 * Every leftover also ends by itself (SIGALRM after 10 s), with its output
 * sent to /dev/null, so that on the host nothing lingers or holds the
 * harness's pipe.
 */
#include "utest.h"
#include <pthread.h>
#include <signal.h>

static void *waiter(void *arg)
{
        (void)arg;
        for (;;)
                pause();
        return NULL;
}

/* In a fresh child: nothing of the harness's pipe, an end of its own. */
static void become_leftover(void)
{
        int null = open("/dev/null", O_RDWR);

        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        if (null > 2)
                close(null);
        alarm(10);
}

int main(void)
{
        int ready[2], st = -1;
        char c;
        pthread_t t;

        utest_start("leftover_procs");
        if (!CHECK("pipe", pipe(ready) == 0))
                return utest_done();

        pid_t stubborn = fork();
        if (stubborn == 0) {
                become_leftover();
                signal(SIGTERM, SIG_IGN);
                if (pthread_create(&t, NULL, waiter, NULL) == 0)
                        (void)!write(ready[1], "t", 1);
                for (;;)
                        pause();
        }

        pid_t middle = fork();
        if (middle == 0) {
                if (fork() == 0) {
                        become_leftover();
                        (void)!write(ready[1], "g", 1);
                        for (;;)
                                pause();
                }
                _exit(0);
        }

        pid_t zombie = fork();
        if (zombie == 0)
                _exit(7);

        close(ready[1]);
        CHECK("stubborn_child_has_its_thread",
              read(ready[0], &c, 1) == 1 && read(ready[0], &c, 1) == 1);
        CHECK("middle_child_exited",
              waitpid(middle, &st, 0) == middle && WIFEXITED(st));
        CHECK("stubborn_child_runs", kill(stubborn, 0) == 0);
        CHECK("sigterm_does_not_end_it",
              kill(stubborn, SIGTERM) == 0 && usleep(50000) == 0 &&
              waitpid(stubborn, &st, WNOHANG) == 0);
        /* the zombie stays: waitid with WNOWAIT sees it and leaves it */
        siginfo_t si = { 0 };
        CHECK("zombie_left_unwaited",
              waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT) == 0 &&
              si.si_pid == zombie && si.si_status == 7);
        return utest_done();
}
