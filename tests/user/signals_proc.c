/*
 * signals_proc.c - signals between processes: default actions (terminate,
 * terminate with the core bit, stop, continue) as wait4 and waitid see
 * them with WUNTRACED/WCONTINUED/WNOWAIT, SIGCHLD with its siginfo,
 * SA_NOCLDSTOP, auto-reaping under SA_NOCLDWAIT and SIG_IGN, process
 * groups and sessions (setpgid, getpgid, getpgrp, setsid, getsid) with
 * Linux's errnos, and kill of a process group.
 * Every check that involves a group runs in a child that made its own
 * session first, so nothing outside the test is ever signalled.
 * Built with musl and with glibc (signals_proc_glibc).
 */
#include "utest.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static volatile int chld_hits, chld_code, chld_pid, chld_status;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
        (void)sig, (void)uc;
        chld_hits++;
        chld_code = si->si_code;
        chld_pid = si->si_pid;
        chld_status = si->si_status;
}

static void set_action(int sig, void (*fn)(int), int flags)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = fn;
        sa.sa_flags = flags;
        sigaction(sig, &sa, NULL);
}

static void set_chld_info(int flags)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_chld;
        sa.sa_flags = SA_SIGINFO | flags;
        sigaction(SIGCHLD, &sa, NULL);
}

/* A child that loops in a process group of its own: the group has a
 * parent outside it (us), so it is not orphaned and stop signals from a
 * terminal stop it (our own group may be orphaned: as init on Mercator). */
static pid_t job(void)
{
        pid_t pid = fork();

        if (pid == 0) {
                setpgid(0, 0);
                for (;;)
                        usleep(1000);
        }
        setpgid(pid, pid);
        return pid;
}

static pid_t spinner(void)
{
        pid_t pid = fork();

        if (pid == 0)
                for (;;)
                        usleep(1000);
        return pid;
}

/* A child killed by sig: its wait status. */
static int die_by(int sig, int allow_core)
{
        int st = 0;
        pid_t pid = fork();

        if (pid == 0) {
                struct rlimit rl = { allow_core ? RLIM_INFINITY : 0,
                                     RLIM_INFINITY };
                if (chdir("/tmp") != 0)         /* where Linux writes "core" */
                        (void)0;
                setrlimit(RLIMIT_CORE, &rl);
                signal(sig, SIG_DFL);
                raise(sig);
                _exit(99);
        }
        waitpid(pid, &st, 0);
        unlink("/tmp/core");
        return st;
}

static void default_actions(void)
{
        int st;

        st = die_by(SIGTERM, 0);
        CHECK("sigterm_terminates", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM &&
              !WCOREDUMP(st));
        st = die_by(SIGUSR1, 0);
        CHECK("sigusr1_terminates", WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
        st = die_by(SIGRTMIN + 2, 0);
        CHECK("realtime_terminates", WIFSIGNALED(st) && WTERMSIG(st) == SIGRTMIN + 2);
        st = die_by(SIGQUIT, 0);
        CHECK("sigquit_without_core_limit_no_core_bit",
              WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT && !WCOREDUMP(st));
        st = die_by(SIGABRT, 1);
        CHECK("sigabrt_with_core_limit_sets_core_bit",
              WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && WCOREDUMP(st));
        st = die_by(SIGCHLD, 0);
        CHECK("sigchld_default_ignored", WIFEXITED(st) && WEXITSTATUS(st) == 99);
        st = die_by(SIGURG, 0);
        CHECK("sigurg_default_ignored", WIFEXITED(st) && WEXITSTATUS(st) == 99);
        st = die_by(SIGCONT, 0);
        CHECK("sigcont_alone_does_nothing", WIFEXITED(st) && WEXITSTATUS(st) == 99);
}

static void stop_continue(void)
{
        int st;
        siginfo_t si;
        pid_t pid = job();

        CHECK("kill_sigstop", kill(pid, SIGSTOP) == 0);
        CHECK("wuntraced_sees_stop", waitpid(pid, &st, WUNTRACED) == pid &&
              WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
        CHECK("stop_reported_once", waitpid(pid, &st, WUNTRACED | WNOHANG) == 0);
        kill(pid, SIGCONT);
        CHECK("wcontinued_sees_continue", waitpid(pid, &st, WCONTINUED) == pid &&
              WIFCONTINUED(st));
        kill(pid, SIGTSTP);
        memset(&si, 0, sizeof si);
        CHECK("waitid_wstopped_sees_sigtstp",
              waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT) == 0 &&
              si.si_pid == pid && si.si_code == CLD_STOPPED &&
              si.si_status == SIGTSTP && si.si_signo == SIGCHLD);
        CHECK("wnowait_leaves_it", waitid(P_PID, pid, &si, WSTOPPED) == 0 &&
              si.si_code == CLD_STOPPED);
        kill(pid, SIGCONT);
        CHECK("waitid_wcontinued", waitid(P_PID, pid, &si, WCONTINUED) == 0 &&
              si.si_code == CLD_CONTINUED && si.si_status == SIGCONT);
        kill(pid, SIGSTOP);
        waitpid(pid, &st, WUNTRACED);
        kill(pid, SIGKILL);                     /* SIGKILL ends a stop too */
        CHECK("sigkill_kills_a_stopped_process", waitpid(pid, &st, 0) == pid &&
              WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

        pid = fork();
        if (pid == 0)
                _exit(17);
        memset(&si, 0, sizeof si);
        usleep(20 * 1000);
        CHECK("waitid_wexited_wnowait", waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) == 0 &&
              si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 17);
        CHECK("waitid_wexited_reaps", waitid(P_PID, pid, &si, WEXITED) == 0 &&
              si.si_pid == pid);
        memset(&si, 0xff, sizeof si);
        pid = spinner();
        CHECK("waitid_wnohang_nothing_zeroes",
              waitid(P_PID, pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0 &&
              si.si_signo == 0);
        kill(pid, SIGKILL);
        CHECK("waitid_killed", waitid(P_PID, pid, &si, WEXITED) == 0 &&
              si.si_code == CLD_KILLED && si.si_status == SIGKILL);
        CHECK_ERR("waitid_no_options_einval", waitid(P_ALL, 0, &si, WNOHANG), EINVAL);
        CHECK_ERR("waitid_bad_idtype_einval", waitid((idtype_t)42, 0, &si, WEXITED),
                  EINVAL);
        CHECK_ERR("waitid_no_children_echild", waitid(P_ALL, 0, &si, WEXITED), ECHILD);
        CHECK_ERR("waitpid_int_min_esrch", waitpid(-2147483647 - 1, &st, 0), ESRCH);
        CHECK_ERR("wait4_bad_options_einval", waitpid(-1, &st, 0x100), EINVAL);
}

static void sigchld(void)
{
        int st;

        chld_hits = 0;
        set_chld_info(0);
        pid_t pid = fork();
        if (pid == 0)
                _exit(7);
        while (!chld_hits)
                usleep(1000);
        CHECK("sigchld_siginfo_on_exit", chld_code == CLD_EXITED && chld_pid == pid &&
              chld_status == 7);
        waitpid(pid, &st, 0);

        chld_hits = 0;
        pid = spinner();
        kill(pid, SIGSTOP);
        while (!chld_hits)
                usleep(1000);
        CHECK("sigchld_on_stop", chld_code == CLD_STOPPED && chld_status == SIGSTOP);
        chld_hits = 0;
        kill(pid, SIGCONT);
        while (!chld_hits)
                usleep(1000);
        CHECK("sigchld_on_continue", chld_code == CLD_CONTINUED);
        chld_hits = 0;
        kill(pid, SIGKILL);
        while (!chld_hits)
                usleep(1000);
        CHECK("sigchld_on_kill", chld_code == CLD_KILLED && chld_status == SIGKILL);
        waitpid(pid, &st, 0);

        chld_hits = 0;
        set_chld_info(SA_NOCLDSTOP);
        pid = spinner();
        kill(pid, SIGSTOP);
        waitpid(pid, &st, WUNTRACED);
        usleep(20 * 1000);
        CHECK("sa_nocldstop_no_sigchld_on_stop", chld_hits == 0);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        CHECK("sa_nocldstop_still_on_exit", chld_hits == 1);

        /* auto-reaping: wait blocks until every child is gone, then ECHILD */
        set_chld_info(SA_NOCLDWAIT);
        pid = fork();
        if (pid == 0)
                _exit(0);
        errno = 0;
        CHECK("sa_nocldwait_autoreaps", wait(&st) == -1 && errno == ECHILD);
        set_action(SIGCHLD, SIG_IGN, 0);
        pid = fork();
        if (pid == 0) {
                usleep(10 * 1000);
                _exit(0);
        }
        errno = 0;
        CHECK("sigchld_ignored_autoreaps", wait(&st) == -1 && errno == ECHILD);
        CHECK_ERR("autoreaped_child_is_gone", kill(pid, 0), ESRCH);
        set_action(SIGCHLD, SIG_DFL, 0);
}

static const char *self;

/* Process groups and sessions, in a child that is its own session. */
static int groups_in_session(void)
{
        int fails = 0, st;
        pid_t me = getpid();

#define EXPECT(c) do { if (!(c)) { printf("  group check failed: line %d: %s " \
                                          "(errno %d)\n", __LINE__, #c, errno); \
                                   fails++; } } while (0)
        EXPECT(setsid() == me);
        EXPECT(getsid(0) == me && getpgrp() == me && getpgid(0) == me);
        EXPECT(setsid() == -1 && errno == EPERM);               /* a leader */
        EXPECT(setpgid(0, 0) == -1 && errno == EPERM);          /* session leader */
        EXPECT(setpgid(0, -1) == -1 && errno == EINVAL);
        EXPECT(getpgid(1 << 22) == -1 && errno == ESRCH);
        EXPECT(getsid(1 << 22) == -1 && errno == ESRCH);

        int go[2];
        pipe(go);
        pid_t a = fork();
        if (a == 0) {
                char c;
                read(go[0], &c, 1);
                _exit(getpgrp() == getpid() ? 0 : 1);
        }
        EXPECT(getpgid(a) == me && getsid(a) == me);
        EXPECT(setpgid(a, a) == 0 && getpgid(a) == a);          /* its own group */
        EXPECT(setpgid(a, me) == 0 && getpgid(a) == me);        /* and back */
        EXPECT(setpgid(a, 1 << 22) == -1 && errno == EPERM);    /* no such group */
        EXPECT(setpgid(a, 0) == 0 && getpgid(a) == a);
        write(go[1], "x", 1);
        EXPECT(waitpid(a, &st, 0) == a && WIFEXITED(st) && WEXITSTATUS(st) == 0);

        int sync[2], hold[2];
        pipe(sync);
        pipe(hold);
        pid_t b = fork();
        if (b == 0) {
                char c;
                setsid();                       /* another session */
                write(sync[1], "x", 1);
                read(hold[0], &c, 1);
                _exit(0);
        }
        char c;
        read(sync[0], &c, 1);
        EXPECT(setpgid(b, me) == -1 && errno == EPERM);         /* other session */
        write(hold[1], "x", 1);
        waitpid(b, &st, 0);
        EXPECT(setpgid(getppid(), 0) == -1 && errno == ESRCH);  /* not a child */
        pid_t e = fork();
        if (e == 0) {                   /* the new program says it runs */
                dup2(sync[1], 50);
                dup2(hold[0], 51);
                execl(self, self, "--hold", (char *)NULL);
                _exit(9);
        }
        read(sync[0], &c, 1);
        EXPECT(setpgid(e, e) == -1 && errno == EACCES);         /* it exec'd */
        write(hold[1], "x", 1);
        waitpid(e, &st, 0);
        /* kill a process group: every member, and only them */
        pid_t g1 = spinner(), g2 = spinner(), other = spinner();
        setpgid(g1, g1);
        setpgid(g2, g1);
        EXPECT(kill(-g1, SIGTERM) == 0);
        EXPECT(waitpid(g1, &st, 0) == g1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        EXPECT(waitpid(g2, &st, 0) == g2 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        EXPECT(waitpid(other, &st, WNOHANG) == 0);
        EXPECT(kill(-g1, SIGTERM) == -1 && errno == ESRCH);     /* group gone */
        /* wait for a group: waitpid(-pgid) and waitpid(0) */
        pid_t cc = fork();
        if (cc == 0) {
                setpgid(0, 0);
                _exit(4);
        }
        setpgid(cc, cc);
        EXPECT(waitpid(-cc, &st, 0) == cc && WEXITSTATUS(st) == 4);
        EXPECT(waitpid(0, &st, WNOHANG) == 0);                  /* other: my group */
        /* kill(0): my own group, me included */
        signal(SIGUSR1, SIG_IGN);
        EXPECT(kill(0, SIGUSR1) == 0);
        EXPECT(waitpid(other, &st, 0) == other && WIFSIGNALED(st) &&
               WTERMSIG(st) == SIGUSR1);
        return fails;
}

/* Only a process with the right uid may signal another. */
static void permissions(void)
{
        int st;
        pid_t parent = getpid(), pid = fork();

        if (pid == 0) {
                int r = 0;
                if (setuid(65534) != 0)
                        _exit(10);
                if (!(kill(parent, 0) == -1 && errno == EPERM))
                        r |= 1;
                if (!(kill(parent, SIGUSR1) == -1 && errno == EPERM))
                        r |= 2;
                if (kill(parent, SIGCONT) != 0)         /* same session */
                        r |= 4;
                if (kill(getpid(), 0) != 0)
                        r |= 8;
                if (!(sigqueue(parent, SIGUSR1, (union sigval){ 0 }) == -1 &&
                      errno == EPERM))
                        r |= 16;
                _exit(r);
        }
        CHECK("kill_needs_matching_uid_eperm_sigcont_in_session_ok",
              waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int hup_pipe[2];

static void on_hup(int sig)
{
        (void)sig;
        write(hup_pipe[1], "H", 1);
}

/* Orphaned process groups: the terminal's stop signals are discarded;
 * a group orphaned while a member is stopped gets SIGHUP and SIGCONT. */
static void orphans(void)
{
        int st;
        pid_t pid = fork();

        if (pid == 0) {
                setsid();               /* its group has no outside parent */
                raise(SIGTSTP);
                _exit(5);
        }
        CHECK("sigtstp_discarded_in_orphaned_group",
              waitpid(pid, &st, WUNTRACED) == pid && WIFEXITED(st) &&
              WEXITSTATUS(st) == 5);

        pipe(hup_pipe);
        pid = fork();
        if (pid == 0) {
                setsid();
                pid_t g = fork();
                if (g == 0) {
                        signal(SIGHUP, on_hup);
                        setpgid(0, 0);  /* tied to its parent's group */
                        raise(SIGSTOP);
                        _exit(0);
                }
                setpgid(g, g);
                waitpid(g, &st, WUNTRACED);
                _exit(WIFSTOPPED(st) ? 0 : 1);  /* orphans g's group */
        }
        waitpid(pid, &st, 0);
        close(hup_pipe[1]);
        char c = 0;
        CHECK("orphaned_stopped_group_gets_sighup_and_sigcont",
              WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
              read(hup_pipe[0], &c, 1) == 1 && c == 'H');
        close(hup_pipe[0]);
        while (wait(NULL) > 0)          /* on Mercator, init adopted it */
                ;
}

static void groups(void)
{
        int st;
        pid_t pid = fork();

        if (pid == 0)
                _exit(groups_in_session() ? 1 : 0);
        CHECK("process_groups_and_sessions", waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* getsid() is 0, not an error, when our session's leader lies
         * outside this PID namespace (a CI container runs us that way). */
        CHECK("fork_inherits_group", getpgid(0) == getpgrp() && getsid(0) >= 0);
        pid = fork();
        if (pid == 0) {
                char *argv[] = { "/bin/true-does-not-exist", NULL };
                execv(argv[0], argv);
                _exit(getpgrp() == getpgid(getppid()) ? 0 : 1);
        }
        CHECK("child_in_parents_group", waitpid(pid, &st, 0) == pid &&
              WEXITSTATUS(st) == 0);
}

static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) { (void)sig; usr1_seen = 1; }

/* A signal sent right after fork, before the child has run once: the
 * child takes it (with its inherited handler, and SSE state saved in the
 * frame) on its very first return to user mode. LTP's kill10 found this
 * path crashing Mercator (a misaligned first kernel stack frame). */
static void signal_before_first_run(void)
{
        int ok = 1;

        set_action(SIGUSR1, on_usr1, 0);
        for (int i = 0; i < 20 && ok; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        for (int spin = 0; !usr1_seen && spin < 2000; spin++)
                                usleep(1000);
                        _exit(usr1_seen ? 0 : 1);
                }
                int st;
                ok = kill(pid, SIGUSR1) == 0 && waitpid(pid, &st, 0) == pid &&
                     WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        CHECK("signal_before_childs_first_run", ok);
        set_action(SIGUSR1, SIG_DFL, 0);
}

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "--hold") == 0) {
                char c;
                write(50, "x", 1);
                return read(51, &c, 1) == 1 ? 0 : 1;
        }
        self = argv[0];
        utest_start("signals_proc");
        default_actions();
        stop_continue();
        sigchld();
        groups();
        permissions();
        orphans();
        signal_before_first_run();
        return utest_done();
}
