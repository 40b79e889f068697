/*
 * fd_table.c - a descriptor table that grows: descriptors past the first
 * table's 64 slots and past FD_SETSIZE, up to RLIMIT_NOFILE's hard limit
 * and, as root, to fs.nr_open; growth seen by every thread sharing the
 * table (CLONE_FILES), copied by fork, kept by exec (close-on-exec
 * honoured at any height), listed by /proc/self/fd; select() on a
 * descriptor above 1024; EMFILE, EBADF and EINVAL at the limits.
 */
#include "utest.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>

#define MANY    3000            /* more than 1024, the default soft limit */

static long status_field(const char *name)
{
        return (long)proc_field("/proc/self/status", name);
}

/* Raise the soft limit to n (n <= hard). */
static int soft_limit(rlim_t n)
{
        struct rlimit rl;

        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = n;
        return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Does fd exist (F_GETFD works)? */
static int open_fd(int fd)
{
        return fcntl(fd, F_GETFD) >= 0;
}

static int count_proc_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n - 1;                   /* opendir's own */
}

static void *thread_dups(void *arg)
{
        int *last = arg;

        for (int i = 0; i < 2000; i++)
                *last = dup(0);
        return NULL;
}

/* Threads share one table: what one grows, the other uses. */
static void shared_growth(void)
{
        pthread_t t;
        int last = -1;

        pthread_create(&t, NULL, thread_dups, &last);
        pthread_join(t, NULL);
        CHECK("thread_grew_the_table", last >= 2000);
        CHECK("growth_seen_by_the_other_thread",
              last >= 0 && open_fd(last) && close(last) == 0);
        for (int fd = 3; fd < last; fd++)
                close(fd);
}

/* select() with descriptors above FD_SETSIZE (own bitmaps, as glibc's
 * fd_set stops at 1024). */
static void select_high(void)
{
        unsigned long rd[(MANY + 64) / (8 * sizeof(long)) + 1] = { 0 };
        const int bits = 8 * sizeof(long);
        int p[2], hi = MANY - 1;

        if (pipe(p) || dup2(p[0], hi) != hi) {
                CHECK("select_setup", 0);
                return;
        }
        rd[hi / bits] |= 1UL << (hi % bits);
        struct timeval tv = { 0, 0 };
        CHECK("select_high_fd_empty",
              select(hi + 1, (fd_set *)rd, NULL, NULL, &tv) == 0 &&
              !(rd[hi / bits] & (1UL << (hi % bits))));
        CHECK("select_high_write", write(p[1], "x", 1) == 1);
        rd[hi / bits] |= 1UL << (hi % bits);
        tv.tv_sec = 1;
        CHECK("select_high_fd_ready",
              select(hi + 1, (fd_set *)rd, NULL, NULL, &tv) == 1 &&
              (rd[hi / bits] & (1UL << (hi % bits))));
        close(hi);
        close(p[0]);
        close(p[1]);
}

/* Has this process CAP_SYS_RESOURCE (bit 24 of CapEff)? Root in a
 * container may lack it. */
static int cap_sys_resource(void)
{
        char line[128];
        unsigned long long eff = 0;
        FILE *f = fopen("/proc/self/status", "r");

        while (f && fgets(line, sizeof line, f))
                if (!strncmp(line, "CapEff:", 7))
                        eff = strtoull(line + 7, NULL, 16);
        if (f)
                fclose(f);
        return eff >> 24 & 1;
}

static void exec_child(void)
{
        /* run by exec: 2500 open, 2600 was close-on-exec */
        CHECK("exec_kept_high_fd", open_fd(2500));
        CHECK("exec_closed_cloexec_high_fd", !open_fd(2600) && errno == EBADF);
        exit(utest_done());
}

int main(int argc, char **argv)
{
        struct rlimit rl;
        int status, fd;

        utest_start("fd_table");
        if (argc > 1 && !strcmp(argv[1], "exec-child"))
                exec_child();
        getrlimit(RLIMIT_NOFILE, &rl);
        for (rlim_t i = 3; i < rl.rlim_cur && i < 65536; i++)
                close((int)i);          /* whatever the runner left open */
        printf("NOTE RLIMIT_NOFILE %lu/%lu, FDSize %ld\n",
               (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max,
               status_field("FDSize"));
        if (rl.rlim_max < MANY + 1000) {
                rl.rlim_max = MANY + 1000;      /* root may raise it */
                if (setrlimit(RLIMIT_NOFILE, &rl))
                        printf("NOTE hard limit %lu: some checks skipped\n",
                               (unsigned long)rl.rlim_max);
        }
        getrlimit(RLIMIT_NOFILE, &rl);
        CHECK("raise_soft_limit", soft_limit(MANY + 500) == 0);

        /* grow one by one */
        int last = -1, ok = 1;
        for (int i = 3; i < MANY; i++) {
                fd = dup(0);
                ok &= fd == i;
                last = fd;
        }
        CHECK("dup_fills_past_1024", ok && last == MANY - 1);
        CHECK("fdsize_grew", status_field("FDSize") >= MANY);
        CHECK("proc_fd_lists_all", count_proc_fds() == MANY);
        char link[64], target[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", MANY - 1);
        CHECK("proc_fd_link_high", readlink(link, target, sizeof target) > 0);

        /* fork copies the big table */
        pid_t pid = fork();
        if (pid == 0) {
                int good = open_fd(MANY - 1) && open_fd(1500);
                for (int i = 3; i < MANY; i++)
                        close(i);
                _exit(good ? 0 : 1);
        }
        waitpid(pid, &status, 0);
        CHECK("fork_child_has_high_fds", WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK("child_close_left_parent_alone", open_fd(MANY - 1) && open_fd(1500));

        /* exec keeps the table, close-on-exec at any height */
        for (int i = 3; i < MANY; i++)
                close(i);
        pid = fork();
        if (pid == 0) {
                dup2(0, 2500);
                dup3(0, 2600, O_CLOEXEC);
                execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
                _exit(127);
        }
        waitpid(pid, &status, 0);
        CHECK("exec_child_passed", WIFEXITED(status) && WEXITSTATUS(status) == 0);

        /* the limits */
        CHECK("dup2_to_below_limit", dup2(0, MANY + 499) == MANY + 499);
        close(MANY + 499);
        CHECK_ERR("dup2_at_limit_ebadf", dup2(0, MANY + 500), EBADF);
        CHECK_ERR("f_dupfd_at_limit_einval", fcntl(0, F_DUPFD, MANY + 500), EINVAL);
        CHECK("f_dupfd_high", fcntl(0, F_DUPFD, MANY + 100) == MANY + 100);
        close(MANY + 100);
        CHECK("lower_soft_limit", soft_limit(200) == 0);
        int n = 0;
        while (dup(0) >= 0)
                n++;
        CHECK("emfile_at_soft_limit", errno == EMFILE && n == 200 - 3);
        for (int i = 3; i < 200; i++)
                close(i);
        soft_limit(MANY + 500);

        shared_growth();
        select_high();

        /* fs.nr_open bounds the hard limit */
        FILE *f = fopen("/proc/sys/fs/nr_open", "r");
        unsigned long nr_open = 0;
        CHECK("nr_open_readable", f && fscanf(f, "%lu", &nr_open) == 1);
        if (f)
                fclose(f);
        CHECK("nr_open_at_least_hard_limit", nr_open >= rl.rlim_max);
        struct rlimit over = { nr_open + 1, nr_open + 1 };
        CHECK_ERR("hard_limit_above_nr_open_eperm",
                  setrlimit(RLIMIT_NOFILE, &over), EPERM);
        if (cap_sys_resource() && nr_open <= (1UL << 20)) {
                /* as root: the whole range up to nr_open (a table of about
                 * 9 MiB on 64-bit) */
                struct rlimit all = { nr_open, nr_open };
                CHECK("root_raises_to_nr_open", setrlimit(RLIMIT_NOFILE, &all) == 0);
                CHECK("dup2_to_nr_open_minus_1",
                      dup2(0, (int)nr_open - 1) == (int)nr_open - 1);
                CHECK("fdsize_is_nr_open", status_field("FDSize") == (long)nr_open);
                close((int)nr_open - 1);
                CHECK_ERR("dup2_to_nr_open_ebadf", dup2(0, (int)nr_open), EBADF);
        } else {
                printf("NOTE no CAP_SYS_RESOURCE or nr_open above 2^20: "
                       "nr_open range not tried\n");
        }
        return utest_done();
}
