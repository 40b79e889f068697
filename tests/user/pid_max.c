/*
 * pid_max.c - kernel.pid_max (/proc/sys/kernel/pid_max): root may set it
 * within Linux's bounds (EINVAL below 301 or above the limit: 4194304 on
 * 64-bit, 32768 on 32-bit); ids then stay below it, wrap without handing
 * out the id just reaped (LTP fork13's rule), and when every id is held
 * fork fails with EAGAIN, and works again once one is free.
 *
 * Setting it is only done where tools/run booted the program (Mercator,
 * or Linux in QEMU as the referee: /.mercator-args exists) and as root;
 * on the host, whose pid_max every process shares, it only reads it.
 */
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#define SMALL   400
#define HOLD    (SMALL + 10)

static long read_pid_max(void)
{
        char buf[32] = "";
        int fd = open("/proc/sys/kernel/pid_max", O_RDONLY);
        long n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

        if (fd >= 0)
                close(fd);
        return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* Write v; 0 or -1 with errno. */
static int write_pid_max(long v)
{
        char buf[32];
        int fd = open("/proc/sys/kernel/pid_max", O_WRONLY);
        int n = snprintf(buf, sizeof buf, "%ld\n", v);
        int ok;

        if (fd < 0)
                return -1;
        ok = write(fd, buf, (size_t)n) == n;
        int e = errno;
        close(fd);
        errno = e;
        return ok ? 0 : -1;
}

int main(void)
{
        long old = read_pid_max();
        long limit = sizeof(long) > 4 ? 4L * 1024 * 1024 : 32768;

        utest_start("pid_max");
        CHECK("readable", old >= 301 && old <= limit);
        if (access("/.mercator-args", F_OK) != 0 || geteuid() != 0) {
                printf("NOTE pid_max: not booted by tools/run as root, so "
                       "pid_max is only read\n");
                return utest_done();
        }
        CHECK_ERR("below_301_einval", write_pid_max(300), EINVAL);
        CHECK_ERR("above_limit_einval", write_pid_max(limit + 1), EINVAL);
        CHECK("unchanged_by_refusals", read_pid_max() == old);
        CHECK("set_small", write_pid_max(SMALL) == 0 && read_pid_max() == SMALL);

        /* one child at a time: ids below SMALL, never the one just reaped */
        pid_t prev = 0;
        int below = 1, fresh = 1, wrapped = 0;
        for (int i = 0; i < 2 * SMALL; i++) {
                pid_t pid = fork();
                if (pid == 0)
                        _exit(0);
                if (pid < 0) {
                        below = 0;
                        break;
                }
                below &= pid < SMALL;
                fresh &= pid != prev;
                wrapped |= prev && pid < prev;
                prev = pid;
                waitpid(pid, NULL, 0);
        }
        CHECK("ids_below_pid_max", below);
        CHECK("reaped_id_not_reused_next", fresh);
        CHECK("ids_wrapped", wrapped);

        /* hold every id: fork runs out with EAGAIN */
        static pid_t kids[HOLD];
        int n = 0, err = 0;
        while (n < HOLD) {
                pid_t pid = fork();
                if (pid == 0) {
                        pause();
                        _exit(0);
                }
                if (pid < 0) {
                        err = errno;
                        break;
                }
                kids[n++] = pid;
        }
        printf("NOTE pid_max: %d children held when fork failed\n", n);
        CHECK("exhausted_eagain", n < SMALL && err == EAGAIN);
        kill(kids[0], SIGKILL);
        waitpid(kids[0], NULL, 0);
        pid_t again = fork();
        if (again == 0)
                _exit(0);
        CHECK("fork_works_once_an_id_is_free", again > 0);
        if (again > 0)
                waitpid(again, NULL, 0);
        for (int i = 1; i < n; i++)
                kill(kids[i], SIGKILL);
        for (int i = 1; i < n; i++)
                waitpid(kids[i], NULL, 0);
        CHECK("restored", write_pid_max(old) == 0 && read_pid_max() == old);
        return utest_done();
}
