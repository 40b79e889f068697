/*
 * init_signals.c - init is protected from signals it has not asked for
 * (Linux's SIGNAL_UNKILLABLE): from another process, a signal whose action
 * is the default, SIGKILL and SIGSTOP too, is dropped and the send still
 * succeeds; a signal with a handler is delivered.
 *
 * On Mercator this program is init. On Linux it makes itself init of a new
 * PID namespace (root only; where even that is refused, as in some
 * containers, the referee says so and checks nothing).
 */
#include "utest.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t got_usr2;
static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }

/* A child of init sends init each signal of sigs; 0 if every send said 0. */
static int child_sends(const int *sigs, int n)
{
        int st = -1;
        pid_t c = fork();

        if (c == 0) {
                for (int i = 0; i < n; i++)
                        if (kill(1, sigs[i]) != 0)
                                _exit(1);
                _exit(0);
        }
        waitpid(c, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

static void as_init(void)
{
        static const int deadly[] = { SIGTERM, SIGUSR1, SIGHUP, SIGKILL, SIGSTOP };
        static const int usr2[] = { SIGUSR2 };

        CHECK("we_are_init", getpid() == 1);
        CHECK("default_signals_sent", child_sends(deadly, 5) == 0);
        /* Had one been taken, init would be dead or stopped by now and
         * the checks below would never print. */
        signal(SIGUSR2, on_usr2);
        CHECK("handled_signal_sent", child_sends(usr2, 1) == 0);
        for (int i = 0; i < 100 && !got_usr2; i++)
                usleep(10000);
        CHECK("handled_signal_delivered", got_usr2);
}

int main(void)
{
        int st = -1;

        utest_start("init_signals");
        if (getpid() == 1) {
                as_init();
                return utest_done();
        }
        if (unshare(CLONE_NEWPID) != 0) {
                printf("NOTE init_signals: cannot make a PID namespace here "
                       "(%s); not checked\n", strerror(errno));
                return 0;
        }
        pid_t pid = fork();
        if (pid == 0) {
                as_init();
                _exit(utest_done());
        }
        CHECK("init_of_namespace_ok", waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        return utest_done();
}
