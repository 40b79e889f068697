/*
 * trinity_init.c - the first process of a trinity run on Mercator
 * (tools/test.py run_trinity): trinity fuzzes system calls as the
 * unprivileged user nobody for a fixed time, then everything it left
 * running is killed and reaped, and this init exits, so the kernel's own
 * check at init's exit counts every page back.
 *
 *   trinity_init SECONDS TRINITY [ARGS...]
 *
 * Prints "trinity_init: ran S s, trinity status X, N processes reaped"
 * and exits 0 when trinity started; the verdict is the kernel's: no
 * panic, no hang, no "leak:" line at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOBODY 65534

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        int status = -1, st, reaped = 0;
        double start = now(), seconds;
        pid_t trinity, pid;

        if (argc < 3 || (seconds = atof(argv[1])) <= 0) {
                fprintf(stderr, "usage: trinity_init SECONDS TRINITY [ARGS...]\n");
                return 2;
        }
        trinity = fork();
        if (trinity == 0) {
                if (chdir("/tmp") || setgroups(0, NULL) || setgid(NOBODY) ||
                    setuid(NOBODY)) {
                        perror("trinity_init: dropping to nobody");
                        _exit(126);
                }
                execv(argv[2], argv + 2);
                perror("trinity_init: exec");
                _exit(127);
        }
        if (trinity < 0) {
                perror("trinity_init: fork");
                return 1;
        }
        /* Reap whatever ends (trinity's children are re-parented here when
         * its main process dies) until the time is up or trinity is done. */
        while (now() - start < seconds) {
                pid = waitpid(-1, &st, WNOHANG);
                if (pid == trinity)
                        status = st;
                if (pid > 0) {
                        reaped++;
                        continue;
                }
                if (pid < 0 && errno == ECHILD)
                        break;
                usleep(200 * 1000);
        }
        kill(-1, SIGKILL);              /* every process but this one */
        while ((pid = wait(&st)) > 0 || (pid < 0 && errno == EINTR)) {
                if (pid == trinity)
                        status = st;
                if (pid > 0)
                        reaped++;
        }
        printf("trinity_init: ran %.0f s, trinity status %#x, %d processes reaped\n",
               now() - start, status, reaped);
        return WIFEXITED(status) && WEXITSTATUS(status) >= 126 ? 1 : 0;
}
