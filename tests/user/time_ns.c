/*
 * time_ns.c - time namespaces (Linux's CONFIG_TIME_NS): unshare(CLONE_NEWTIME)
 * gives the caller's children a new namespace whose MONOTONIC and BOOTTIME
 * offsets /proc/PID/timens_offsets sets until a process enters it; fork,
 * exec, clone3(CLONE_NEWTIME) and setns(/proc/PID/ns/time) move processes
 * in; every reader of those clocks sees the offsets: clock_gettime through
 * the vDSO (the C library's) and through the system call, the COARSE and
 * RAW forms, sysinfo's and /proc/uptime's uptime, clock_nanosleep,
 * timer_settime and timerfd_settime with absolute times.
 *
 * Needs root (CAP_SYS_ADMIN, CAP_SYS_TIME): the referee is this machine's
 * Linux run as root (6.18 here), which has time namespaces.
 */
#include "utest.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME   0x00000080
#endif
#define NSEC            1000000000LL
#define MONO_OFF        1000LL          /* s, what the tests write */
#define BOOT_OFF        2000LL
#define SLACK           30LL            /* s: a loaded machine's pauses */

/* A clock through the C library (the vDSO where it answers). */
static long long now_ns(clockid_t id)
{
        struct timespec ts;

        if (clock_gettime(id, &ts))
                return -1;
        return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* The same through the system call, bypassing the vDSO. */
static long long sys_ns(clockid_t id)
{
        struct { long sec, nsec; } ts;
#if defined(SYS_clock_gettime64) && !defined(__LP64__)
        struct { long long sec, nsec; } t64;
        if (syscall(SYS_clock_gettime64, id, &t64))
                return -1;
        return t64.sec * NSEC + t64.nsec;
#endif
        if (syscall(SYS_clock_gettime, id, &ts))
                return -1;
        return (long long)ts.sec * NSEC + ts.nsec;
}

static void read_link(const char *path, char *buf, size_t size)
{
        ssize_t n = readlink(path, buf, size - 1);

        buf[n > 0 ? n : 0] = '\0';
}

static long long uptime_s(void)
{
        FILE *f = fopen("/proc/uptime", "r");
        double up = -1;

        if (f) {
                if (fscanf(f, "%lf", &up) != 1)
                        up = -1;
                fclose(f);
        }
        return (long long)up;
}

/* Write text to /proc/self/timens_offsets: 0 or errno. */
static int write_offsets(const char *text)
{
        return write_text("/proc/self/timens_offsets", text);
}

/* Is t (ns) within [want, want + SLACK s)? */
static int near(long long t, long long want)
{
        return t >= want && t < want + SLACK * NSEC;
}

/* Run fn in a child; its exit status 0 if all its checks passed. */
static int in_child(int (*fn)(void *), void *arg)
{
        int st;
        pid_t pid = fork();

        if (pid == 0) {
                utest_failures = 0;     /* the child's own checks */
                _exit(fn(arg) ? 0 : 1);
        }
        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
               WEXITSTATUS(st) == 0;
}

/* ---- before any namespace ------------------------------------------------ */

static int as_nobody(void *arg)
{
        struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal,
                 stack, stack_size, tls; } ca = { .flags = CLONE_NEWTIME,
                                                  .exit_signal = SIGCHLD };
        (void)arg;
        if (setgid(65534) || setuid(65534))
                return 0;
        CHECK_ERR("unshare_needs_root", unshare(CLONE_NEWTIME), EPERM);
        CHECK_ERR("clone3_needs_root", syscall(SYS_clone3, &ca, sizeof ca), EPERM);
        return utest_failures == 0;
}

static void initial(void)
{
        char buf[256] = "";
        int fd = open("/proc/self/timens_offsets", O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

        if (fd >= 0)
                close(fd);
        buf[n > 0 ? n : 0] = '\0';
        CHECK("offsets_initial_zero",
              strcmp(buf, "monotonic           0         0\n"
                          "boottime            0         0\n") == 0);
        read_link("/proc/self/ns/time", buf, sizeof buf);
        CHECK("ns_link_initial", strncmp(buf, "time:[", 6) == 0);
        /* The initial namespace is entered: its offsets are final. */
        CHECK("initial_frozen_eacces", write_offsets("monotonic 1 0") == EACCES);
        CHECK("not_root_eperm", in_child(as_nobody, NULL));
        CHECK_ERR("unshare_unknown_flag", unshare(0x00400000), EINVAL);
        CHECK_ERR("timerfd_bad_clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
        CHECK_ERR("timerfd_bad_flags", timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
        struct itimerspec z = { { 0, 0 }, { 1, 0 } };
        CHECK_ERR("timerfd_not_timerfd", timerfd_settime(0, 0, &z, NULL), EINVAL);
}

/* ---- unshare, offsets ----------------------------------------------------- */

struct ref {
        long long mono, boot, real, up;         /* the parent's, just before */
        char ns[64], kids[64];
};

static void *thread_clock(void *arg)
{
        *(long long *)arg = now_ns(CLOCK_MONOTONIC);
        return NULL;
}

static void offsets_written(struct ref *r)
{
        char buf[256] = "";
        int fd;
        ssize_t n;

        CHECK("unshare", unshare(CLONE_NEWTIME) == 0);
        read_link("/proc/self/ns/time", r->ns, sizeof r->ns);
        read_link("/proc/self/ns/time_for_children", r->kids, sizeof r->kids);
        CHECK("unshare_caller_stays", strcmp(r->ns, r->kids) != 0);
        /* Linux's bad lines (LTP timens01's), nothing written. */
        CHECK("bad_garbage", write_offsets("not an offset") == EINVAL);
        CHECK("bad_no_nsec", write_offsets("1 10") == EINVAL);
        CHECK("bad_neg_nsec", write_offsets("1 10 -10") == EINVAL);
        CHECK("bad_big_nsec", write_offsets("1 10 1000000000") == EINVAL);
        CHECK("bad_realtime", write_offsets("0 10 0") == EINVAL);
        CHECK("bad_second_line", write_offsets("1 10 0\na") == EINVAL);
        CHECK("bad_overflow", write_offsets("1 9223372036 0") == ERANGE);
        CHECK("bad_underflow", write_offsets("boottime -9223372036 0") == ERANGE);
        CHECK("bad_before_zero", write_offsets("monotonic -4000000000 0") == ERANGE);
        CHECK("write_numeric", write_offsets("1 5 7\n7 6 8\n") == 0);
        CHECK("write_names", write_offsets("monotonic 1000 0\nboottime 2000 0\n") == 0);
        fd = open("/proc/self/timens_offsets", O_RDONLY);
        n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        buf[n > 0 ? n : 0] = '\0';
        CHECK("offsets_read_back",
              strcmp(buf, "monotonic        1000         0\n"
                          "boottime         2000         0\n") == 0);
        /* A thread shares our memory, so our [vvar], so our namespace:
         * Linux 6.18 (and Mercator) let it be made and keep it in ours;
         * Linux 5.6 to 6.x refused it (EINVAL, copy_process). */
        pthread_t th;
        long long seen = -1;
        r->mono = now_ns(CLOCK_MONOTONIC);
        int e = pthread_create(&th, NULL, thread_clock, &seen);
        CHECK("thread_stays", e == EINVAL ||
              (e == 0 && pthread_join(th, NULL) == 0 && near(seen, r->mono)));
        r->mono = now_ns(CLOCK_MONOTONIC);
        CHECK("caller_clock_unchanged",
              llabs(sys_ns(CLOCK_MONOTONIC) - r->mono) < SLACK * NSEC);
        r->boot = now_ns(CLOCK_BOOTTIME);
        r->real = now_ns(CLOCK_REALTIME);
        r->up = uptime_s();
}

/* ---- a child in the namespace ------------------------------------------- */

static void on_alarm(int sig)
{
        (void)sig;
}

static int child_clocks(void *arg)
{
        struct ref *r = arg;
        char buf[64];
        struct sysinfo si;
        long long m = MONO_OFF * NSEC, b = BOOT_OFF * NSEC;

        read_link("/proc/self/ns/time", buf, sizeof buf);
        CHECK("fork_enters", strcmp(buf, r->kids) == 0);
        CHECK("vdso_monotonic", near(now_ns(CLOCK_MONOTONIC), r->mono + m));
        CHECK("sys_monotonic", near(sys_ns(CLOCK_MONOTONIC), r->mono + m));
        CHECK("vdso_monotonic_raw", near(now_ns(CLOCK_MONOTONIC_RAW), r->mono + m - NSEC));
        CHECK("sys_monotonic_raw", near(sys_ns(CLOCK_MONOTONIC_RAW), r->mono + m - NSEC));
        CHECK("vdso_monotonic_coarse", near(now_ns(CLOCK_MONOTONIC_COARSE), r->mono + m - NSEC));
        CHECK("sys_monotonic_coarse", near(sys_ns(CLOCK_MONOTONIC_COARSE), r->mono + m - NSEC));
        CHECK("vdso_boottime", near(now_ns(CLOCK_BOOTTIME), r->boot + b));
        CHECK("sys_boottime", near(sys_ns(CLOCK_BOOTTIME), r->boot + b));
        CHECK("vdso_realtime_same", near(now_ns(CLOCK_REALTIME), r->real));
        CHECK("sys_realtime_same", near(sys_ns(CLOCK_REALTIME), r->real));
        /* vDSO and system call on one scale: v1 <= s <= v2 */
        long long v1 = now_ns(CLOCK_MONOTONIC), s = sys_ns(CLOCK_MONOTONIC),
                  v2 = now_ns(CLOCK_MONOTONIC);
        CHECK("vdso_sys_order", v1 <= s && s <= v2);
        CHECK("sysinfo_uptime", sysinfo(&si) == 0 &&
              (long long)si.uptime >= r->up + BOOT_OFF &&
              (long long)si.uptime < r->up + BOOT_OFF + SLACK);
        long long up = uptime_s();
        CHECK("proc_uptime", up >= r->up + BOOT_OFF && up < r->up + BOOT_OFF + SLACK);
        CHECK("entered_frozen_eacces", write_offsets("monotonic 1 0") == EACCES);

        /* Absolute sleeps and timers are on the namespace's clock. */
        struct sigaction sa = { .sa_handler = on_alarm };
        sigaction(SIGALRM, &sa, NULL);         /* no SA_RESTART: EINTR */
        alarm(10);
        long long t0 = now_ns(CLOCK_MONOTONIC), want = t0 + 50000000;
        struct timespec at = { (time_t)(want / NSEC), (long)(want % NSEC) };
        int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        long long t1 = now_ns(CLOCK_MONOTONIC);
        CHECK("nanosleep_abs_monotonic", e == 0 && t1 >= want && t1 - t0 < 5 * NSEC);
        alarm(10);
        t0 = now_ns(CLOCK_BOOTTIME), want = t0 + 50000000;
        at = (struct timespec){ (time_t)(want / NSEC), (long)(want % NSEC) };
        e = clock_nanosleep(CLOCK_BOOTTIME, TIMER_ABSTIME, &at, NULL);
        t1 = now_ns(CLOCK_BOOTTIME);
        CHECK("nanosleep_abs_boottime", e == 0 && t1 >= want && t1 - t0 < 5 * NSEC);
        /* timerfd: an absolute time on the namespace's clock */
        alarm(10);
        int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
        uint64_t ticks = 0;
        t0 = now_ns(CLOCK_MONOTONIC), want = t0 + 50000000;
        struct itimerspec tv = { { 0, 0 }, { (time_t)(want / NSEC), (long)(want % NSEC) } };
        CHECK("timerfd_abs_monotonic", tfd >= 0 &&
              timerfd_settime(tfd, TFD_TIMER_ABSTIME, &tv, NULL) == 0 &&
              read(tfd, &ticks, sizeof ticks) == sizeof ticks && ticks == 1 &&
              (t1 = now_ns(CLOCK_MONOTONIC)) >= want && t1 - t0 < 5 * NSEC);
        close(tfd);
        tfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
        want = now_ns(CLOCK_BOOTTIME) + 20 * NSEC;
        tv.it_value = (struct timespec){ (time_t)(want / NSEC), (long)(want % NSEC) };
        struct itimerspec left;
        CHECK("timerfd_abs_boottime", tfd >= 0 &&
              timerfd_settime(tfd, TFD_TIMER_ABSTIME, &tv, NULL) == 0 &&
              timerfd_gettime(tfd, &left) == 0 && left.it_value.tv_sec <= 20 &&
              left.it_value.tv_sec >= 10);
        CHECK_ERR("timerfd_not_due", read(tfd, &ticks, sizeof ticks), EAGAIN);
        close(tfd);
        alarm(0);

        timer_t tid;
        struct sigevent sev = { .sigev_notify = SIGEV_NONE };
        struct itimerspec its = { { 0, 0 }, { 0, 0 } }, cur;
        if (CHECK("timer_create", timer_create(CLOCK_MONOTONIC, &sev, &tid) == 0)) {
                want = now_ns(CLOCK_MONOTONIC) + 20 * NSEC;
                its.it_value = (struct timespec){ (time_t)(want / NSEC), (long)(want % NSEC) };
                CHECK("timer_abs", timer_settime(tid, TIMER_ABSTIME, &its, NULL) == 0 &&
                      timer_gettime(tid, &cur) == 0 && cur.it_value.tv_sec <= 20 &&
                      cur.it_value.tv_sec >= 10);
                timer_delete(tid);
        }
        return utest_failures == 0;
}

/* A grandchild: fork inside the namespace keeps it (the [vvar] copied). */
static int grandchild(void *arg)
{
        struct ref *r = arg;

        return CHECK("fork_in_ns_keeps",
                     near(now_ns(CLOCK_MONOTONIC), r->mono + MONO_OFF * NSEC) &&
                     near(sys_ns(CLOCK_BOOTTIME), r->boot + BOOT_OFF * NSEC));
}

static int child_forks(void *arg)
{
        return in_child(grandchild, arg);
}

/* setns back into the parent's namespace, through its ns/time link. */
static int child_setns(void *arg)
{
        struct ref *r = arg;
        char path[64], buf[64];
        int fd, nul = open("/dev/null", O_RDONLY);

        snprintf(path, sizeof path, "/proc/%d/ns/time", (int)getppid());
        fd = open(path, O_RDONLY);
        CHECK("ns_open", fd >= 0);
        CHECK_ERR("setns_wrong_type", setns(fd, CLONE_NEWNS), EINVAL);
        CHECK_ERR("setns_not_ns", setns(nul, 0), EINVAL);
        CHECK_ERR("setns_bad_fd", setns(999, CLONE_NEWTIME), EBADF);
        CHECK("setns", setns(fd, CLONE_NEWTIME) == 0);
        read_link("/proc/self/ns/time", buf, sizeof buf);
        CHECK("setns_moves_self", strcmp(buf, r->ns) == 0);
        read_link("/proc/self/ns/time_for_children", buf, sizeof buf);
        CHECK("setns_moves_children", strcmp(buf, r->ns) == 0);
        CHECK("setns_vdso_host", near(now_ns(CLOCK_MONOTONIC), r->mono));
        CHECK("setns_sys_host", near(sys_ns(CLOCK_BOOTTIME), r->boot));
        close(fd);
        close(nul);
        return utest_failures == 0;
}

/* clone3(CLONE_NEWTIME) from inside the namespace: a new one, with the
 * offsets of the one its children would have had. */
static void clone3_new(struct ref *r)
{
        struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal,
                 stack, stack_size, tls; } ca = { .flags = CLONE_NEWTIME,
                                                  .exit_signal = SIGCHLD };
        char buf[64];
        int st;
        long pid = syscall(SYS_clone3, &ca, sizeof ca);

        if (pid == 0) {
                read_link("/proc/self/ns/time", buf, sizeof buf);
                int ok = strcmp(buf, r->ns) != 0 && strcmp(buf, r->kids) != 0 &&
                         near(now_ns(CLOCK_MONOTONIC), r->mono + MONO_OFF * NSEC) &&
                         near(sys_ns(CLOCK_BOOTTIME), r->boot + BOOT_OFF * NSEC) &&
                         write_offsets("monotonic 1 0") == EACCES;
                _exit(ok ? 0 : 1);
        }
        CHECK("clone3_newtime", pid > 0 && waitpid((pid_t)pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* clone() cannot ask: its low byte is the exit signal. */
}

/* ---- exec ---------------------------------------------------------------- */

/* The program run again with "exec-probe MONO BOOT": it must read its
 * clocks in the namespace its runner's children get. */
static int exec_probe(char **argv)
{
        long long mono = atoll(argv[2]), boot = atoll(argv[3]);
        char a[64], b[64];

        utest_start("time_ns");
        read_link("/proc/self/ns/time", a, sizeof a);
        read_link("/proc/self/ns/time_for_children", b, sizeof b);
        /* Linux 5.18+'s exec_task_namespaces (6.18 here, and Mercator):
         * the new image is in the namespace; an older Linux (the i386
         * referee's) leaves it in its own until its next fork. */
        if (strcmp(a, b) == 0) {
                CHECK("exec_vdso", near(now_ns(CLOCK_MONOTONIC), mono + 300 * NSEC));
                CHECK("exec_sys", near(sys_ns(CLOCK_BOOTTIME), boot + 400 * NSEC));
        } else {
                CHECK("exec_stays_old_linux", near(now_ns(CLOCK_MONOTONIC), mono) &&
                      near(sys_ns(CLOCK_BOOTTIME), boot));
        }
        return utest_done();
}

static int exec_runner(void *arg)
{
        char m[32], b[32];
        char *argv[] = { "time_ns", "exec-probe", m, b, NULL };

        (void)arg;
        if (unshare(CLONE_NEWTIME) ||
            write_offsets("monotonic 300 0\nboottime 400 0") != 0)
                return 0;
        snprintf(m, sizeof m, "%lld", now_ns(CLOCK_MONOTONIC));
        snprintf(b, sizeof b, "%lld", now_ns(CLOCK_BOOTTIME));
        execv("/proc/self/exe", argv);
        return 0;
}

int main(int argc, char **argv)
{
        struct ref r;

        if (argc >= 4 && strcmp(argv[1], "exec-probe") == 0)
                return exec_probe(argv);
        utest_start("time_ns");
        if (geteuid() != 0) {
                printf("SKIP time_ns: needs root\n");
                return 0;
        }
        initial();
        CHECK("exec_into_ns", in_child(exec_runner, NULL));
        offsets_written(&r);
        CHECK("child_clocks", in_child(child_clocks, &r));
        CHECK("child_forks", in_child(child_forks, &r));
        CHECK("child_setns", in_child(child_setns, &r));
        CHECK("parent_frozen_eacces", write_offsets("monotonic 1 0") == EACCES);
        clone3_new(&r);
        return utest_done();
}
