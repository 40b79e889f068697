/*
 * ltp_init - the first process for an LTP test on Mercator: runs the test
 * as its child, reaps every orphan as an init does, and exits with the
 * test's status. LTP's library takes a parent pid of 1 to mean "the test
 * harness died", so a test must not be the first process itself. A
 * kernel starts init without PATH; the test gets the usual one, as from
 * a login shell (LTP looks its mkfs.* commands up there).
 *
 *   ltp_init [-u SECONDS] PROGRAM [ARGS...]
 *
 * -u: first wait until CLOCK_BOOTTIME has passed SECONDS, for a test that
 * needs a machine up that long (Linux refuses a time namespace offset
 * that would put a clock below 0: LTP writes -10 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        int status;
        pid_t child, pid;

        if (argc >= 3 && strcmp(argv[1], "-u") == 0) {
                long want = atol(argv[2]);
                struct timespec ts;
                while (clock_gettime(CLOCK_BOOTTIME, &ts) == 0 && ts.tv_sec < want)
                        sleep(1);
                argv += 2, argc -= 2;
        }
        if (argc < 2) {
                fprintf(stderr, "usage: ltp_init [-u SECONDS] PROGRAM [ARGS...]\n");
                return 2;
        }
        setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
               "/sbin:/bin", 0);
        child = fork();
        if (child < 0) {
                perror("ltp_init: fork");
                return 2;
        }
        if (child == 0) {
                execv(argv[1], argv + 1);
                perror("ltp_init: execv");
                _exit(127);
        }
        for (;;) {
                pid = wait(&status);
                if (pid < 0) {
                        perror("ltp_init: wait");
                        return 2;
                }
                if (pid == child)
                        break;
        }
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
