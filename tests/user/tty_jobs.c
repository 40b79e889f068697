/*
 * tty_jobs.c - the terminal and process groups, fed by tty_jobs.input:
 * ^C, ^\ and ^Z signal the foreground group (and flush the line), ISIG
 * off makes them data; a foreground child dies of ^C; a background reader
 * is stopped by SIGTTIN (or gets EIO when it ignores it), a background
 * writer by SIGTTOU under TOSTOP; TIOCGPGRP/TIOCSPGRP/TIOCGSID/TIOCSCTTY/
 * TIOCNOTTY with their errors; SIGWINCH on a window-size change.
 *
 * The program is its session's leader with the terminal as controlling
 * terminal: Mercator's first process, and on Linux tools/test.py makes it
 * so on a pseudo-terminal. Children report through their exit status.
 */
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static volatile sig_atomic_t got[65];

static void on_signal(int sig)
{
        got[sig]++;
}

static void catch(int sig)
{
        struct sigaction sa = { .sa_handler = on_signal };

        sigaction(sig, &sa, NULL);      /* no SA_RESTART: read gets EINTR */
}

/* The terminal's echo of ^C does not end its line. */
static void nl(void)
{
        write(1, "\n", 1);
}

static void ready(const char *name)
{
        printf("@%s\n", name);
}

/* Give the terminal to group pgrp (from any group: SIGTTOU ignored). */
static int give_terminal(pid_t pgrp)
{
        void (*old)(int) = signal(SIGTTOU, SIG_IGN);
        int r = tcsetpgrp(0, pgrp);

        signal(SIGTTOU, old);
        return r;
}

static void identity(void)
{
        pid_t pg = -1, sid = -1;

        CHECK("tiocgpgrp_is_our_group", ioctl(0, TIOCGPGRP, &pg) == 0 && pg == getpgrp());
        CHECK("tcgetpgrp", tcgetpgrp(0) == getpgrp());
        CHECK("tiocgsid_is_our_session", ioctl(0, TIOCGSID, &sid) == 0 &&
                                         sid == getsid(0) && sid == getpid());
        CHECK("tiocsctty_again_is_fine", ioctl(0, TIOCSCTTY, 0) == 0);
        CHECK_ERR("tiocspgrp_negative", tcsetpgrp(0, -5), EINVAL);
        CHECK_ERR("tiocspgrp_no_such_group", tcsetpgrp(0, 999999), ESRCH);
        CHECK_ERR("tiocgpgrp_efault", ioctl(0, TIOCGPGRP, (void *)8), EFAULT);
}

/* A child that sends us SIGUSR2 after ms milliseconds, so that a wait
 * for a signal that never comes ends (and the check fails, not hangs). */
static pid_t watchdog(int ms)
{
        pid_t parent = getpid(), pid = fork();

        if (pid == 0) {
                /* In our group, it gets what ^C and the others send too. */
                struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
                signal(SIGINT, SIG_IGN);
                signal(SIGQUIT, SIG_IGN);
                signal(SIGTSTP, SIG_IGN);
                while (syscall(SYS_nanosleep, &ts, &ts) != 0 && errno == EINTR)
                        ;
                kill(parent, SIGUSR2);
                _exit(0);
        }
        return pid;
}

static void watchdog_end(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

/* Wait for sig without a race: it is blocked until sigsuspend lets it
 * in, so one that came early is pending, not lost. */
static void await(const char *name, int sig)
{
        sigset_t block, old;
        pid_t dog;

        sigemptyset(&block);
        sigaddset(&block, sig);
        sigprocmask(SIG_BLOCK, &block, &old);
        dog = watchdog(20000);
        ready(name);
        while (!got[sig] && !got[SIGUSR2])
                sigsuspend(&old);
        sigprocmask(SIG_SETMASK, &old, NULL);
        watchdog_end(dog);
        nl();
}

static void signal_chars(void)
{
        struct termios t, saved;
        char buf[64];
        ssize_t n;
        pid_t dog;

        catch(SIGINT);
        catch(SIGQUIT);
        catch(SIGTSTP);
        catch(SIGUSR2);
        /* The script waits before typing ^C, so that read has begun. */
        dog = watchdog(20000);
        ready("intr");
        errno = 0;
        n = read(0, buf, sizeof buf);
        watchdog_end(dog);
        nl();
        CHECK("ctrl_c_interrupts_read", n == -1 && errno == EINTR &&
                                        got[SIGINT] == 1 && !got[SIGUSR2]);
        ready("afterintr");
        n = read(0, buf, sizeof buf);
        CHECK("ctrl_c_flushed_the_line", n == 2 && !memcmp(buf, "x\n", 2));
        await("quit", SIGQUIT);
        CHECK("ctrl_backslash_sends_sigquit", got[SIGQUIT] == 1);
        await("susp", SIGTSTP);
        CHECK("ctrl_z_sends_sigtstp", got[SIGTSTP] == 1);
        tcgetattr(0, &saved);
        t = saved;
        t.c_lflag &= ~(tcflag_t)ISIG;
        tcsetattr(0, TCSANOW, &t);
        ready("noisig");
        n = read(0, buf, sizeof buf);
        CHECK("no_isig_ctrl_c_is_data", n == 2 && !memcmp(buf, "\x03\n", 2) &&
                                        got[SIGINT] == 1);
        tcsetattr(0, TCSANOW, &saved);
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTSTP, SIG_DFL);
        got[SIGUSR2] = 0;
}

/* A child in its own group in the foreground reads; ^C kills it. */
static void foreground_child(void)
{
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                char buf[16];
                setpgid(0, 0);
                give_terminal(getpid());
                ready("childfg");
                read(0, buf, sizeof buf);
                _exit(0);
        }
        waitpid(pid, &status, 0);
        nl();
        CHECK("ctrl_c_kills_foreground_child", WIFSIGNALED(status) &&
                                               WTERMSIG(status) == SIGINT);
        CHECK("take_terminal_back", give_terminal(getpgrp()) == 0 &&
                                    tcgetpgrp(0) == getpgrp());
}

/* What a background process (its own group; parent in ours) meets. */
enum bg_action { BG_READ, BG_READ_IGNORED, BG_WRITE, BG_WRITE_IGNORED,
                 BG_TCSETATTR };

static void background_child(enum bg_action what)
{
        struct termios t;
        char c;

        setpgid(0, 0);
        switch (what) {
        case BG_READ:
                read(0, &c, 1);
                _exit(10);
        case BG_READ_IGNORED:
                signal(SIGTTIN, SIG_IGN);
                _exit(read(0, &c, 1) == -1 && errno == EIO ? 11 : 12);
        case BG_WRITE:
                write(1, "", 0);
                write(1, "bg-wrote\n", 9);
                _exit(13);
        case BG_WRITE_IGNORED:
                signal(SIGTTOU, SIG_IGN);
                _exit(write(1, "bg\n", 3) == 3 ? 14 : 15);
        case BG_TCSETATTR:
                tcgetattr(0, &t);
                tcsetattr(0, TCSANOW, &t);
                _exit(16);
        }
        _exit(99);
}

/*
 * The parent of the background child must not be init (Linux counts a
 * group whose only outside parent is init as orphaned, and orphaned
 * groups are not stopped): a middle process plays the shell. Its exit
 * status: the child's stop signal, or 100 + the child's exit code.
 */
static int background(enum bg_action what)
{
        int status;
        pid_t mid = fork();

        if (mid == 0) {
                pid_t pid = fork();
                if (pid == 0)
                        background_child(what);
                setpgid(pid, pid);
                waitpid(pid, &status, WUNTRACED);
                if (WIFSTOPPED(status)) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        _exit(WSTOPSIG(status));
                }
                _exit(WIFEXITED(status) ? 100 + WEXITSTATUS(status) : 99);
        }
        waitpid(mid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void job_control(void)
{
        struct termios t, saved;

        CHECK("background_read_gets_sigttin", background(BG_READ) == SIGTTIN);
        CHECK("background_read_ignoring_sigttin_gets_eio",
              background(BG_READ_IGNORED) == 111);
        CHECK("background_write_without_tostop", background(BG_WRITE) == 113);
        tcgetattr(0, &saved);
        t = saved;
        t.c_lflag |= TOSTOP;
        tcsetattr(0, TCSANOW, &t);
        CHECK("background_write_tostop_gets_sigttou", background(BG_WRITE) == SIGTTOU);
        CHECK("background_write_tostop_ignoring_sigttou",
              background(BG_WRITE_IGNORED) == 114);
        tcsetattr(0, TCSANOW, &saved);
        CHECK("background_tcsetattr_gets_sigttou", background(BG_TCSETATTR) == SIGTTOU);
}

/* Sessions: a new session has no controlling terminal and may not take
 * ours; a non-leader cannot take one; TIOCNOTTY. */
static void sessions(void)
{
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                pid_t pg;
                int bad = 0;
                bad |= (ioctl(0, TIOCSCTTY, 0) == 0 || errno != EPERM) << 0;
                bad |= (ioctl(0, TIOCNOTTY) != 0) << 1;
                bad |= (ioctl(0, TIOCGPGRP, &pg) == 0 || errno != ENOTTY) << 2;
                bad |= (ioctl(0, TIOCNOTTY) == 0 || errno != ENOTTY) << 3;
                if (setsid() < 0)
                        _exit(100);
                bad |= (ioctl(0, TIOCGPGRP, &pg) == 0 || errno != ENOTTY) << 4;
                bad |= (ioctl(0, TIOCGSID, &pg) == 0 || errno != ENOTTY) << 5;
                bad |= (ioctl(0, TIOCSCTTY, 0) == 0 || errno != EPERM) << 6;
                /* still a terminal, but /dev/tty is nobody's here */
                bad |= (!isatty(0) || open("/dev/tty", O_RDWR) >= 0 ||
                        errno != ENXIO) << 7;
                _exit(bad);
        }
        waitpid(pid, &status, 0);
        CHECK("sessions_and_tiocnotty", WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (WIFEXITED(status) && WEXITSTATUS(status))
                printf("note: sessions child bits %#x\n", WEXITSTATUS(status));
        CHECK("still_our_terminal", tcgetpgrp(0) == getpgrp());

        /* A group of another session may not be put in the foreground. */
        int up[2], down[2];
        char c;
        pipe(up);
        pipe(down);
        pid = fork();
        if (pid == 0) {
                setsid();
                write(up[1], "s", 1);
                read(down[0], &c, 1);   /* until the parent has tried */
                _exit(0);
        }
        read(up[0], &c, 1);
        CHECK_ERR("tiocspgrp_other_session", tcsetpgrp(0, pid), EPERM);
        write(down[1], "g", 1);
        waitpid(pid, &status, 0);
        close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}

/* /dev/tty is the caller's controlling terminal. */
static void dev_tty(void)
{
        int fd = open("/dev/tty", O_RDWR), null = open("/dev/null", O_RDWR);
        pid_t pg = -1;

        CHECK("dev_tty_opens", fd >= 0 && isatty(fd));
        CHECK("dev_tty_is_ours", ioctl(fd, TIOCGPGRP, &pg) == 0 && pg == getpgrp());
        CHECK("dev_tty_writes", write(fd, "via-dev-tty\n", 12) == 12);
        errno = 0;
        CHECK("dev_null_not_a_tty", null >= 0 && !isatty(null) && errno == ENOTTY);
        close(fd);
        close(null);
}

static void window_change(void)
{
        struct winsize ws, old;

        catch(SIGWINCH);
        ioctl(0, TIOCGWINSZ, &old);
        ws = old;
        ws.ws_row = (unsigned short)(old.ws_row + 7);
        ws.ws_col = 91;
        CHECK("sigwinch_on_change", ioctl(0, TIOCSWINSZ, &ws) == 0 && got[SIGWINCH] == 1);
        CHECK("no_sigwinch_same_size", ioctl(0, TIOCSWINSZ, &ws) == 0 && got[SIGWINCH] == 1);
        ioctl(0, TIOCSWINSZ, &old);
        signal(SIGWINCH, SIG_DFL);
}

int main(void)
{
        utest_start("tty_jobs");
        if (tcgetpgrp(0) != getpgrp()) {
                printf("FAIL tty_jobs/setup: not in the terminal's foreground\n");
                return 1;
        }
        identity();
        signal_chars();
        foreground_child();
        job_control();
        sessions();
        dev_tty();
        window_change();
        ready("done");
        return utest_done();
}
