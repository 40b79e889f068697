/*
 * oom_kill.c - the out-of-memory killer and /proc/PID/oom_score(_adj)
 * (issue 16).
 *
 * Everywhere (the host too): oom_score_adj takes -1000..1000 in Linux's
 * number forms, refuses other text and numbers with EINVAL, refuses a
 * value below the floor to a writer without CAP_SYS_RESOURCE with EACCES,
 * is inherited by fork; oom_score is on Linux's 0..2000 scale (1000 adds
 * two thirds of 2000's way up).
 *
 * Only where tools/run booted the program (/.mercator-args: Mercator at
 * -m 128M with a 64 MiB swap disk, and Debian's Linux in QEMU, which
 * test.py runs it on first) - never on the host, whose memory the whole
 * team shares - memory is exhausted three times, by a "hog" that touches
 * more than half of RAM and swap while a "holder" keeps a share:
 *   1. both at oom_score_adj 0: the hog, the larger, is killed (SIGKILL),
 *      the holder lives;
 *   2. the holder at 1000: the holder is killed though smaller, and the
 *      hog then finishes;
 *   3. the holder at -1000 and larger: it is never chosen, the hog is;
 * then a new process gets half of memory and runs, and /proc/vmstat's
 * oom_kill counted the three kills.
 */
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

static long read_num(const char *path)
{
        char buf[32];

        return read_text(path, buf, sizeof buf) > 0 ? strtol(buf, NULL, 10) : -99999;
}

/* Write text to /proc/self/oom_score_adj: 0 or the errno. */
static int set_adj(const char *text)
{
        return write_text("/proc/self/oom_score_adj", text);
}

static long adj(void)
{
        return read_num("/proc/self/oom_score_adj");
}

static void adj_checks(void)
{
        long start = adj();
        char buf[16];
        int st;

        CHECK("adj_readable", start >= -1000 && start <= 1000);
        CHECK("score_readable", read_num("/proc/self/oom_score") >= 0);
        CHECK("set_500", set_adj("500") == 0 && adj() == 500);
        CHECK("set_hex_with_spaces", set_adj(" 0x10\n") == 0 && adj() == 16);
        CHECK("set_plus_sign", set_adj("+7") == 0 && adj() == 7);
        CHECK("set_1000", set_adj("1000\n") == 0 && adj() == 1000);
        /* (1000 + (rss + 1000 * (total / 1000)) * 1000 / total) * 2 / 3
         * with total = RAM + swap in pages: at least what rss 0 gives. In
         * a child: init (pid 1, as this program is on Mercator) is never
         * chosen and scores 0. */
        long long total = (proc_field("/proc/meminfo", "MemTotal") +
                           proc_field("/proc/meminfo", "SwapTotal")) / 4;
        long least = total > 0 ? (long)((1000 + total / 1000 * 1000 * 1000 /
                                         total) * 2 / 3) : 99999;
        pid_t c = fork();
        if (c == 0) {
                long s = read_num("/proc/self/oom_score");
                if (s < least || s > 2000)
                        printf("NOTE oom_kill: oom_score %ld at 1000, "
                               "expected %ld..2000\n", s, least);
                _exit(s >= least && s <= 2000 ? 0 : 1);
        }
        CHECK("score_at_1000", c > 0 && waitpid(c, &st, 0) == c &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK("init_scores_0", getpid() != 1 ||
              read_num("/proc/self/oom_score") == 0);
        CHECK("too_big_einval", set_adj("1001") == EINVAL && adj() == 1000);
        CHECK("too_small_einval", set_adj("-1001") == EINVAL);
        CHECK("text_einval", set_adj("abc") == EINVAL);
        CHECK("two_numbers_einval", set_adj("0 1") == EINVAL);
        CHECK("bare_prefix_einval", set_adj("0x") == EINVAL);
        CHECK("sign_alone_einval", set_adj("-") == EINVAL);
        CHECK("still_1000", adj() == 1000);
        c = fork();
        if (c == 0)
                _exit(adj() == 1000 ? 0 : 1);
        CHECK("fork_inherits", c > 0 && waitpid(c, &st, 0) == c &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        snprintf(buf, sizeof buf, "%ld", start);
        CHECK("back_to_start", set_adj(buf) == 0 && adj() == start);
        if (geteuid() != 0 || start != 0)
                return;
        /* Below the floor (0): needs CAP_SYS_RESOURCE, which this host's
         * root lacks and a booted root has. */
        c = fork();
        if (c == 0) {
                int e = set_adj("-1");
                _exit(e == 0 ? 10 + (adj() == -1 &&
                                     read_num("/proc/self/oom_score") >= 0)
                     : e == EACCES ? 20 + (adj() == 0) : 1);
        }
        CHECK("below_floor_eacces_or_privileged",
              c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) &&
              (WEXITSTATUS(st) == 11 || WEXITSTATUS(st) == 21));
        c = fork();
        if (c == 0)
                _exit(set_adj("-1000") == 0
                      ? (read_num("/proc/self/oom_score") == 0 ? 0 : 1) : 0);
        CHECK("minus_1000_scores_0", c > 0 && waitpid(c, &st, 0) == c &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Touch len bytes of fresh memory, a page at a time. */
static char *touch(size_t len, int fill)
{
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

        if (p == MAP_FAILED)
                _exit(3);
        for (size_t i = 0; i < len; i += PAGE)
                p[i] = (char)(fill + i / PAGE);
        return p;
}

/* A holder: oom_score_adj `a`, len bytes touched, then it says so on
 * `ready` and waits to be killed. */
static pid_t holder(size_t len, const char *a, int *ready)
{
        int fds[2];
        char c = 0;
        pid_t pid;

        if (pipe(fds))
                return -1;
        pid = fork();
        if (pid == 0) {
                close(fds[0]);
                if (set_adj(a))
                        _exit(4);
                touch(len, 1);
                (void)!write(fds[1], "r", 1);
                for (;;)
                        pause();
        }
        close(fds[1]);
        *ready = pid > 0 && read(fds[0], &c, 1) == 1 && c == 'r';
        close(fds[0]);
        return pid;
}

/* A hog: touches len bytes, checks them, exits 0. */
static pid_t hog(size_t len)
{
        pid_t pid = fork();

        if (pid == 0) {
                char *p = touch(len, 7);

                for (size_t i = 0; i < len; i += PAGE)
                        if (p[i] != (char)(7 + i / PAGE))
                                _exit(5);
                _exit(0);
        }
        return pid;
}

static int exited_0(pid_t pid)
{
        int st;

        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
               WEXITSTATUS(st) == 0;
}

/* Still alive: it dies by our SIGTERM. */
static int alive(pid_t pid)
{
        return pid > 0 && kill(pid, SIGTERM) == 0 && killed_by(pid, SIGTERM);
}

static void exhaust(void)
{
        long long avail = proc_field("/proc/meminfo", "MemAvailable");
        long long swap = proc_field("/proc/meminfo", "SwapFree");
        long long kills = proc_field("/proc/vmstat", "oom_kill");
        size_t room, big;
        pid_t h, g;
        int ready;

        if (!CHECK("meminfo", avail > 0 && swap >= 0 && kills >= 0))
                return;
        room = (size_t)(avail + swap) * 1024;
        big = room / 100 * 85 / PAGE * PAGE;
        printf("NOTE oom_kill: %lld KiB available, %lld KiB swap, "
               "hog %zu KiB\n", avail, swap, big / 1024);

        /* 1: the larger is killed */
        h = holder(room / 100 * 30 / PAGE * PAGE, "0", &ready);
        CHECK("holder_1_ready", ready);
        g = hog(big);
        CHECK("larger_process_killed", killed_by(g, SIGKILL));
        CHECK("smaller_process_lives", alive(h));

        /* 2: oom_score_adj 1000 makes the smaller one the victim */
        h = holder(room / 100 * 30 / PAGE * PAGE, "1000", &ready);
        CHECK("holder_2_ready", ready);
        g = hog(big);
        CHECK("adj_1000_killed_though_smaller", killed_by(h, SIGKILL));
        CHECK("larger_then_runs_to_the_end", exited_0(g));

        /* 3: oom_score_adj -1000 is never chosen, even when larger */
        h = holder(room / 100 * 55 / PAGE * PAGE, "-1000", &ready);
        CHECK("holder_3_ready", ready);
        g = hog(big);
        CHECK("hog_killed_not_the_exempt", killed_by(g, SIGKILL));
        CHECK("adj_minus_1000_lives", alive(h));

        /* the system goes on: a new process gets half of it */
        g = hog(room / 2 / PAGE * PAGE);
        CHECK("next_process_runs", exited_0(g));
        CHECK("vmstat_oom_kill_counted",
              proc_field("/proc/vmstat", "oom_kill") - kills == 3);
}

int main(void)
{
        utest_start("oom_kill");
        adj_checks();
        if (access("/.mercator-args", F_OK) != 0 || geteuid() != 0) {
                printf("NOTE oom_kill: not booted by tools/run as root: memory "
                       "is not exhausted here (the host's memory is shared)\n");
                return utest_done();
        }
        exhaust();
        return utest_done();
}
