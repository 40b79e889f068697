/*
 * poll_select.c - poll, ppoll, select and pselect6 on pipes and regular
 * files: readiness, hang-up and error, timeouts (and the time left that
 * Linux writes back), waking when another process writes, and the errors
 * for bad descriptors, bad pointers and bad arguments.
 */
#include "utest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* nanosleep itself (glibc's usleep is clock_nanosleep). */
static void sleep_ms(int ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        syscall(SYS_nanosleep, &ts, NULL);
}

/* A child that writes one byte into fd after ms milliseconds. */
static pid_t write_later(int fd, int ms)
{
        pid_t pid = fork();

        if (pid == 0) {
                sleep_ms(ms);
                write(fd, "w", 1);
                _exit(0);
        }
        return pid;
}

static void poll_pipe(void)
{
        struct pollfd p[2];
        int fds[2], n = -1;
        double t0;

        if (pipe(fds) != 0)
                return;
        p[0] = (struct pollfd){ .fd = fds[0], .events = POLLIN };
        p[1] = (struct pollfd){ .fd = fds[1], .events = POLLOUT };
        t0 = now();
        CHECK("empty_pipe_times_out", poll(p, 1, 100) == 0 && p[0].revents == 0 &&
                                      now() - t0 >= 0.09);
        CHECK("zero_timeout_returns_at_once", poll(p, 1, 0) == 0);
        CHECK("write_end_writable", poll(p, 2, 0) == 1 && p[1].revents == POLLOUT &&
                                    p[0].revents == 0);
        write(fds[1], "abc", 3);
        CHECK("data_readable", poll(p, 2, 0) == 2 && p[0].revents == POLLIN);
        CHECK("fionread_pipe", ioctl(fds[0], FIONREAD, &n) == 0 && n == 3);
        p[0].events = POLLIN | POLLRDNORM;
        CHECK("rdnorm_too", poll(p, 1, 0) == 1 &&
                            p[0].revents == (POLLIN | POLLRDNORM));
        p[0].events = POLLOUT;
        CHECK("only_asked_events", poll(p, 1, 0) == 0 && p[0].revents == 0);
        p[0].events = POLLIN;
        close(fds[1]);
        CHECK("hup_with_data", poll(p, 1, 0) == 1 &&
                               p[0].revents == (POLLIN | POLLHUP));
        char buf[8];
        read(fds[0], buf, sizeof buf);
        p[0].events = 0;
        CHECK("hup_always_reported", poll(p, 1, 0) == 1 && p[0].revents == POLLHUP);
        close(fds[0]);

        if (pipe(fds) != 0)
                return;
        signal(SIGPIPE, SIG_IGN);
        close(fds[0]);
        p[1] = (struct pollfd){ .fd = fds[1], .events = POLLOUT };
        CHECK("err_without_reader", poll(&p[1], 1, 0) == 1 &&
                                    (p[1].revents & POLLERR));
        close(fds[1]);
        signal(SIGPIPE, SIG_DFL);
}

/* A FIFO's reader is not hung up before a writer came and went. */
static void poll_fifo(void)
{
        char path[64];
        struct pollfd p;

        snprintf(path, sizeof path, "/tmp/poll_fifo.%d", getpid());
        if (mkfifo(path, 0600) != 0) {
                printf("FAIL poll_select/fifo_setup: %s\n", strerror(errno));
                return;
        }
        int r = open(path, O_RDONLY | O_NONBLOCK);
        p = (struct pollfd){ .fd = r, .events = POLLIN };
        CHECK("fifo_reader_alone_not_hung_up", poll(&p, 1, 0) == 0 && p.revents == 0);
        int w = open(path, O_WRONLY | O_NONBLOCK);
        CHECK("fifo_with_writer", w >= 0 && poll(&p, 1, 0) == 0);
        write(w, "f", 1);
        CHECK("fifo_readable", poll(&p, 1, 0) == 1 && p.revents == POLLIN);
        close(w);
        CHECK("fifo_hup_after_writer_left", poll(&p, 1, 0) == 1 &&
                                            p.revents == (POLLIN | POLLHUP));
        close(r);
        unlink(path);
}

static void poll_args(const char *file)
{
        struct pollfd p[3];
        int fd = open(file, O_RDONLY);

        p[0] = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
        p[1] = (struct pollfd){ .fd = -1, .events = POLLIN, .revents = 7 };
        p[2] = (struct pollfd){ .fd = 60, .events = POLLIN };
        CHECK("file_always_ready_nval_negative_ignored",
              poll(p, 3, 0) == 2 && p[0].revents == (POLLIN | POLLOUT) &&
              p[1].revents == 0 && p[2].revents == POLLNVAL);
        close(fd);
        CHECK_ERR("poll_efault", syscall(SYS_poll, 8L, 1, 0), EFAULT);
        CHECK_ERR("poll_too_many", syscall(SYS_poll, p, 1UL << 20, 0), EINVAL);
        CHECK("poll_nothing_sleeps", poll(NULL, 0, 50) == 0);
        struct rlimit old, low = { 4, 4 };
        struct pollfd many[5];
        for (int i = 0; i < 5; i++)
                many[i] = (struct pollfd){ .fd = -1 };
        getrlimit(RLIMIT_NOFILE, &old);
        low.rlim_max = old.rlim_max;
        setrlimit(RLIMIT_NOFILE, &low);
        CHECK_ERR("poll_more_than_rlimit_nofile", poll(many, 5, 0), EINVAL);
        CHECK("poll_up_to_rlimit_nofile", poll(many, 4, 0) == 0);
        setrlimit(RLIMIT_NOFILE, &old);
}

static void poll_wakes(void)
{
        struct pollfd p;
        int fds[2], status;
        double t0;

        if (pipe(fds) != 0)
                return;
        p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
        t0 = now();
        pid_t pid = write_later(fds[1], 150);
        CHECK("poll_wakes_on_write", poll(&p, 1, 10000) == 1 && p.revents == POLLIN &&
                                     now() - t0 >= 0.1 && now() - t0 < 9);
        waitpid(pid, &status, 0);
        char c;
        read(fds[0], &c, 1);
        fd_set rs;
        FD_ZERO(&rs);
        FD_SET(fds[0], &rs);
        t0 = now();
        pid = write_later(fds[1], 150);
        CHECK("select_wakes_on_write", select(fds[0] + 1, &rs, NULL, NULL, NULL) == 1 &&
                                       FD_ISSET(fds[0], &rs) && now() - t0 >= 0.1);
        waitpid(pid, &status, 0);
        read(fds[0], &c, 1);
        /* The writer goes away without writing: the reader sees HUP. */
        pid = fork();
        if (pid == 0) {
                sleep_ms(100);
                _exit(0);
        }
        close(fds[1]);
        p.events = POLLIN;
        CHECK("poll_wakes_on_last_close", poll(&p, 1, 10000) == 1 &&
                                          p.revents == POLLHUP);
        waitpid(pid, &status, 0);
        close(fds[0]);
}

static void select_pipe(const char *file)
{
        int fds[2], fd = open(file, O_RDONLY);
        fd_set rs, ws, es;
        struct timeval tv = { 0, 100000 };
        double t0;

        if (pipe(fds) != 0)
                return;
        FD_ZERO(&rs);
        FD_SET(fds[0], &rs);
        t0 = now();
        /* musl's select() passes a copy of tv: the system call itself. */
        CHECK("select_times_out", syscall(SYS_select, fds[0] + 1, &rs, NULL, NULL,
                                          &tv) == 0 &&
                                  !FD_ISSET(fds[0], &rs) && now() - t0 >= 0.09);
        CHECK("select_timeout_left_zero", tv.tv_sec == 0 && tv.tv_usec == 0);
        FD_ZERO(&rs);
        FD_ZERO(&ws);
        FD_ZERO(&es);
        FD_SET(fds[0], &rs);
        FD_SET(fds[1], &ws);
        FD_SET(fd, &rs);
        FD_SET(fds[0], &es);
        int max = fds[1] > fd ? fds[1] : fd;
        tv = (struct timeval){ 5, 0 };
        CHECK("select_write_end_and_file", syscall(SYS_select, max + 1, &rs, &ws,
                                                   &es, &tv) == 2 &&
                                          FD_ISSET(fds[1], &ws) && FD_ISSET(fd, &rs) &&
                                          !FD_ISSET(fds[0], &rs) && !FD_ISSET(fds[0], &es));
        CHECK("select_timeout_left", tv.tv_sec >= 4 && tv.tv_sec <= 5);
        write(fds[1], "x", 1);
        FD_ZERO(&rs);
        FD_SET(fds[0], &rs);
        tv = (struct timeval){ 0, 0 };
        CHECK("select_readable", select(fds[0] + 1, &rs, NULL, NULL, &tv) == 1 &&
                                 FD_ISSET(fds[0], &rs));
        FD_ZERO(&rs);
        FD_SET(60, &rs);
        CHECK_ERR("select_ebadf", select(61, &rs, NULL, NULL, &tv), EBADF);
        CHECK_ERR("select_negative_nfds", select(-1, NULL, NULL, NULL, &tv), EINVAL);
        tv = (struct timeval){ -1, 0 };
        CHECK_ERR("select_negative_timeout", select(1, NULL, NULL, NULL, &tv), EINVAL);
        CHECK_ERR("select_efault", select(1, (fd_set *)8, NULL, NULL, NULL), EFAULT);
        tv = (struct timeval){ 0, 1500000 };    /* carried into seconds */
        t0 = now();
        CHECK("select_usec_over_a_second", select(0, NULL, NULL, NULL, &tv) == 0 &&
                                           now() - t0 >= 1.4);
        close(fds[0]);
        close(fds[1]);
        close(fd);
}

/* The raw system calls, to see the timespec that Linux writes back. */
static void ppoll_pselect(void)
{
        int fds[2];
        struct timespec ts = { 0, 100000000 };
        struct pollfd p;
        fd_set rs;
        uint64_t mask = 0;
        struct { void *set; size_t size; } sig = { &mask, 8 };
        double t0;

        if (pipe(fds) != 0)
                return;
        p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
        t0 = now();
        CHECK("ppoll_times_out", syscall(SYS_ppoll, &p, 1, &ts, NULL, 8) == 0 &&
                                 now() - t0 >= 0.09);
        CHECK("ppoll_time_left_zero", ts.tv_sec == 0 && ts.tv_nsec == 0);
        ts = (struct timespec){ 0, -1 };
        CHECK_ERR("ppoll_bad_timespec", syscall(SYS_ppoll, &p, 1, &ts, NULL, 8), EINVAL);
        ts = (struct timespec){ 0, 0 };
        CHECK_ERR("ppoll_bad_sigsetsize", syscall(SYS_ppoll, &p, 1, &ts, &mask, 4), EINVAL);
        CHECK("ppoll_null_timeout_with_data", write(fds[1], "y", 1) == 1 &&
              syscall(SYS_ppoll, &p, 1, NULL, NULL, 8) == 1 && p.revents == POLLIN);
        FD_ZERO(&rs);
        FD_SET(fds[0], &rs);
        ts = (struct timespec){ 3, 0 };
        CHECK("pselect6_readable", syscall(SYS_pselect6, fds[0] + 1, &rs, NULL, NULL,
                                           &ts, NULL) == 1 && FD_ISSET(fds[0], &rs) &&
                                   ts.tv_sec >= 2);
        char c;
        read(fds[0], &c, 1);
        FD_ZERO(&rs);
        FD_SET(fds[0], &rs);
        ts = (struct timespec){ 0, 50000000 };
        t0 = now();
        CHECK("pselect6_times_out", syscall(SYS_pselect6, fds[0] + 1, &rs, NULL, NULL,
                                            &ts, NULL) == 0 && now() - t0 >= 0.045 &&
                                    ts.tv_sec == 0 && ts.tv_nsec == 0);
        sig.size = 7;
        CHECK_ERR("pselect6_bad_sigsetsize", syscall(SYS_pselect6, 1, NULL, NULL,
                                                     NULL, &ts, &sig), EINVAL);
        CHECK_ERR("pselect6_sig_efault", syscall(SYS_pselect6, 1, NULL, NULL, NULL,
                                                 &ts, (void *)8), EFAULT);
        close(fds[0]);
        close(fds[1]);
}

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
        (void)sig;
        usr1++;
}

/* A child that sends SIGUSR1 to us after ms milliseconds. */
static pid_t signal_later(int ms)
{
        pid_t parent = getpid(), pid = fork();

        if (pid == 0) {
                sleep_ms(ms);
                kill(parent, SIGUSR1);
                _exit(0);
        }
        return pid;
}

/* A signal ends the wait: EINTR once its handler ran, even with
 * SA_RESTART (poll and select are never restarted after a handler). */
static void interrupted(void)
{
        struct sigaction sa = { .sa_handler = on_usr1 };
        struct pollfd p;
        int fds[2];
        fd_set rs;
        pid_t pid;

        if (pipe(fds) != 0)
                return;
        sigaction(SIGUSR1, &sa, NULL);
        p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
        pid = signal_later(100);
        errno = 0;
        CHECK("poll_eintr", poll(&p, 1, 10000) == -1 && errno == EINTR && usr1 == 1);
        waitpid(pid, NULL, 0);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGUSR1, &sa, NULL);
        pid = signal_later(100);
        FD_ZERO(&rs);
        FD_SET(fds[0], &rs);
        errno = 0;
        CHECK("select_eintr_despite_sa_restart",
              select(fds[0] + 1, &rs, NULL, NULL, NULL) == -1 && errno == EINTR &&
              usr1 == 2);
        waitpid(pid, NULL, 0);

        /* ppoll's mask blocks the signal while it waits; the old mask is
         * back when it returns, and the signal is taken then. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        struct timespec ts = { 0, 400000000 };
        pid = signal_later(100);
        CHECK("ppoll_mask_blocks_during_wait",
              ppoll(&p, 1, &ts, &block) == 0 && usr1 == 3);
        waitpid(pid, NULL, 0);
        /* ... and unblocks: a signal blocked outside ends the wait. */
        sigprocmask(SIG_BLOCK, &block, &old);
        sigset_t none;
        sigemptyset(&none);
        ts = (struct timespec){ 10, 0 };
        pid = signal_later(100);
        errno = 0;
        CHECK("ppoll_mask_unblocks", ppoll(&p, 1, &ts, &none) == -1 && errno == EINTR &&
                                     usr1 == 4);
        waitpid(pid, NULL, 0);
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        CHECK("ppoll_old_mask_back", sigismember(&now, SIGUSR1));
        pid = signal_later(100);
        FD_ZERO(&rs);
        FD_SET(fds[0], &rs);
        errno = 0;
        CHECK("pselect_mask_unblocks", pselect(fds[0] + 1, &rs, NULL, NULL, &ts,
                                               &none) == -1 && errno == EINTR &&
                                       usr1 == 5);
        waitpid(pid, NULL, 0);
        sigprocmask(SIG_SETMASK, &old, NULL);
        signal(SIGUSR1, SIG_DFL);
        close(fds[0]);
        close(fds[1]);
}

int main(int argc, char **argv)
{
        const char *file = argc > 1 ? argv[1] : "/proc/self/maps";

        utest_start("poll_select");
        poll_pipe();
        poll_args(file);
        poll_fifo();
        poll_wakes();
        select_pipe(file);
        ppoll_pselect();
        interrupted();
        return utest_done();
}
