/*
 * threads.c - the kernel's side of threads, as Linux does it: clone's and
 * clone3's flag rules and errors, CLONE_PARENT_SETTID and the
 * CLONE_CHILD_CLEARTID futex wake, exit against exit_group and the wait
 * status a process with threads leaves, execve from a thread that is not
 * the leader, signals to one thread (tgkill) and to the process (taken by
 * a thread that does not block it), fatal signals and stops for the whole
 * group, a robust mutex whose owner thread dies, private futexes between
 * threads, FUTEX_WAKE_OP's change of a word atomic against other threads'
 * atomics, and /proc/PID/task.
 */
#include "utest.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif
#define FUTEX_WAIT_PRIVATE      128
#define FUTEX_WAKE_PRIVATE      129
#define FUTEX_WAIT_BITSET_PRIVATE (9 | 128)
#define FUTEX_CLOCK_REALTIME    256

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* The state letter of thread tid of process pid (/proc/PID/task/TID/stat;
 * tid 0: the process's own stat), or 0. */
static char task_state(pid_t pid, pid_t tid)
{
        char path[64], buf[256];
        int fd;
        ssize_t n;

        if (tid)
                snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
        else
                snprintf(path, sizeof path, "/proc/%d/stat", pid);
        if ((fd = open(path, O_RDONLY)) < 0)
                return 0;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        return p && p[1] && p[2] ? p[2] : 0;
}

static char proc_state(pid_t pid)
{
        return task_state(pid, 0);
}

/* Wait (up to 2 s) until thread tid of ours sleeps: in a futex wait, once
 * it has said it is about to. */
static void until_asleep(pid_t tid)
{
        for (int i = 0; i < 1000 && task_state(getpid(), tid) != 'S'; i++)
                usleep(2000);
}

static long futex(volatile uint32_t *uaddr, int op, uint32_t val,
                  const struct timespec *ts, uint32_t val3)
{
        return syscall(SYS_futex, uaddr, op, val, ts, NULL, val3);
}

/* ---- clone and clone3: the rules ---------------------------------------- */

struct clone_args_ {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
        uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static long clone3_(struct clone_args_ *a, size_t size)
{
        return syscall(435, a, size);
}

static void test_clone_rules(void)
{
        CHECK_ERR("clone_thread_needs_sighand",
                  syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0), EINVAL);
        CHECK_ERR("clone_sighand_needs_vm",
                  syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0), EINVAL);
        CHECK_ERR("clone_fs_with_newns",
                  syscall(SYS_clone, CLONE_FS | CLONE_NEWNS, 0, 0, 0, 0), EINVAL);

        struct clone_args_ a = { .flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM };
        CHECK_ERR("clone3_size_too_small", clone3_(&a, 63), EINVAL);
        CHECK_ERR("clone3_size_over_page", clone3_(&a, 4097), E2BIG);
        a.exit_signal = SIGCHLD;
        CHECK_ERR("clone3_thread_with_exit_signal", clone3_(&a, 64), EINVAL);
        a = (struct clone_args_){ .flags = CLONE_THREAD | CLONE_VM };
        CHECK_ERR("clone3_thread_needs_sighand", clone3_(&a, 64), EINVAL);
        a = (struct clone_args_){ .flags = SIGCHLD };
        CHECK_ERR("clone3_signal_in_flags", clone3_(&a, 64), EINVAL);
        a = (struct clone_args_){ .exit_signal = SIGCHLD, .stack = 4096 };
        CHECK_ERR("clone3_stack_without_size", clone3_(&a, 64), EINVAL);
        a = (struct clone_args_){ .exit_signal = 65 };
        CHECK_ERR("clone3_bad_exit_signal", clone3_(&a, 64), EINVAL);
        CHECK_ERR("clone3_bad_pointer", clone3_((void *)16, 64), EFAULT);
        struct { struct clone_args_ a; uint64_t extra; } big = {
                .a = { .exit_signal = SIGCHLD }, .extra = 1 };
        CHECK_ERR("clone3_unknown_nonzero_tail", clone3_(&big.a, sizeof big), E2BIG);

        /* clone3 as fork: with a zero tail larger than ours, too */
        big.extra = 0;
        long pid = clone3_(&big.a, sizeof big);
        if (pid == 0)
                _exit(33);
        int status = 0;
        CHECK("clone3_fork", pid > 0 && waitpid((pid_t)pid, &status, 0) == pid &&
              WIFEXITED(status) && WEXITSTATUS(status) == 33);
}

/* ---- a raw thread: PARENT_SETTID, CHILD_CLEARTID's wake ----------------- */

static volatile uint32_t child_tid_word, parent_tid_word;
static volatile int raw_ran;

static int raw_thread(void *arg)
{
        (void)arg;
        raw_ran = (int)syscall(SYS_gettid);
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);           /* let the parent wait first */
        syscall(SYS_exit, 0);
        return 0;
}

static void test_raw_thread(void)
{
        size_t size = 64 * 1024;
        char *stack = (char *)anon(size, PROT_READ | PROT_WRITE);
        int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                    CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
                    CLONE_CHILD_CLEARTID;

        child_tid_word = 0xffffffffu;
        int tid = clone(raw_thread, stack + size, flags, NULL,
                        &parent_tid_word, NULL, &child_tid_word);
        CHECK("clone_thread_returns_tid", tid > 0 && tid != getpid());
        CHECK("parent_settid_written", parent_tid_word == (uint32_t)tid);
        /* wait as pthread_join does: while the word holds the tid */
        uint32_t w;
        int rounds = 0;
        while ((w = child_tid_word) != 0 && rounds++ < 1000)
                futex(&child_tid_word, 0 /* FUTEX_WAIT, shared */, w, NULL, 0);
        CHECK("child_cleartid_zeroed_and_woken", child_tid_word == 0 &&
              rounds < 5 && raw_ran == tid);
        munmap(stack, size);
}

/* ---- exit, exit_group, and what wait sees ------------------------------- */

static int pipefd[2];

static void *write_later(void *arg)
{
        long code = (long)arg;

        /* on once the leader has exited (its task shows Z) */
        for (int i = 0; i < 1000 && task_state(getpid(), getpid()) != 'Z'; i++)
                usleep(2000);
        if (write(pipefd[1], "x", 1) != 1)
                syscall(SYS_exit_group, 99);
        if (code >= 100)
                syscall(SYS_exit, code - 100);  /* this thread only */
        syscall(SYS_exit_group, code);
        return NULL;
}

/* A child whose leader exits first (code leader_code); its other thread
 * then writes to the pipe and exits with thread_code (>= 100: exit, not
 * exit_group). => the wait status. */
static int leader_exits_first(int leader_code, long thread_code, int *got_byte)
{
        int status = -1;
        char c;

        if (pipe(pipefd))
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                pthread_t th;
                close(pipefd[0]);
                if (pthread_create(&th, NULL, write_later, (void *)thread_code))
                        _exit(98);
                syscall(SYS_exit, leader_code);         /* leader only */
        }
        close(pipefd[1]);
        *got_byte = read(pipefd[0], &c, 1) == 1;
        waitpid(pid, &status, 0);
        close(pipefd[0]);
        return status;
}

static void *read_then_exit(void *arg)
{
        char c;

        (void)arg;
        if (read(pipefd[0], &c, 1) != 1)
                syscall(SYS_exit, 6);
        syscall(SYS_exit, 5);
        return NULL;
}

static void *block_forever(void *arg)
{
        char c;

        (void)arg;
        if (read(pipefd[0], &c, 1) < 0)
                return NULL;
        return NULL;
}

static void test_exit_semantics(void)
{
        int got, status;

        status = leader_exits_first(3, 100 + 9, &got);
        CHECK("leader_exit_leaves_thread_running", got);
        /* Linux (6.18, the referee here) reports the code of the last
         * thread to exit */
        CHECK("status_is_last_threads_exit_code", WIFEXITED(status) &&
              WEXITSTATUS(status) == 9);
        /* while a thread lives, the process is not reported: the thread
         * waits for a byte on a pipe, after the leader has exited */
        if (pipe(pipefd))
                return;
        pid_t pid0 = fork();
        if (pid0 == 0) {
                pthread_t th;
                close(pipefd[1]);
                if (pthread_create(&th, NULL, read_then_exit, NULL))
                        _exit(98);
                syscall(SYS_exit, 0);           /* the leader only */
        }
        close(pipefd[0]);
        usleep(30000);
        status = -1;
        pid_t early = waitpid(pid0, &status, WNOHANG);
        if (write(pipefd[1], "x", 1) != 1)
                early = -2;
        pid_t late = waitpid(pid0, &status, 0);
        close(pipefd[1]);
        CHECK("wait_waits_for_last_thread", early == 0 && late == pid0 &&
              WIFEXITED(status) && WEXITSTATUS(status) == 5);

        status = leader_exits_first(3, 7, &got);
        CHECK("exit_group_after_leader_exit", got && WIFEXITED(status) &&
              WEXITSTATUS(status) == 7);

        /* exit_group ends a thread blocked in read */
        if (pipe(pipefd))
                return;
        pid_t pid = fork();
        if (pid == 0) {
                pthread_t th;
                pthread_create(&th, NULL, block_forever, NULL);
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
                syscall(SYS_exit_group, 4);
        }
        status = -1;
        waitpid(pid, &status, 0);
        CHECK("exit_group_ends_blocked_thread", WIFEXITED(status) &&
              WEXITSTATUS(status) == 4);
        close(pipefd[0]);
        close(pipefd[1]);
}

/* ---- execve from a thread that is not the leader ------------------------ */

static const char *self_path;

static void *exec_thread(void *arg)
{
        char pid[16];

        (void)arg;
        snprintf(pid, sizeof pid, "%d", getpid());
        char *argv[] = { (char *)self_path, "exec-child", pid, NULL };
        execve(self_path, argv, (char *[]){ NULL });
        _exit(97);
}

static void *sleep_long(void *arg)
{
        (void)arg;
        for (;;)
                pause();
        return NULL;
}

/* The program again after the exec: one thread, the old pid. */
static int exec_child(const char *old_pid)
{
        int n = 0;
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;

        while (d && (e = readdir(d)))
                n += e->d_name[0] != '.';
        if (d)
                closedir(d);
        if (getpid() != atoi(old_pid))
                return 10;
        if (gettid_() != getpid())
                return 11;
        return n == 1 ? 0 : 12;
}

static void test_exec_from_thread(void)
{
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                pthread_t a, b;
                pthread_create(&a, NULL, sleep_long, NULL);
                pthread_create(&b, NULL, exec_thread, NULL);
                for (;;)
                        pause();
        }
        waitpid(pid, &status, 0);
        CHECK("exec_from_thread_takes_pid_ends_others",
              WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
                printf("note: status %#x\n", status);
}

/* ---- signals to threads -------------------------------------------------- */

static _Atomic int handled_by;
static _Atomic int thread_tid;
static _Atomic int stop_thread;

static void on_usr(int sig)
{
        (void)sig;
        handled_by = gettid_();
}

static void *spin_unblocked(void *arg)
{
        (void)arg;
        thread_tid = gettid_();
        while (!stop_thread)
                sched_yield();
        return NULL;
}

/* Up to 5 s for the other thread to run the handler: on several CPUs it
 * runs elsewhere, and a count of sched_yield() calls here is no bound on
 * its progress (on a loaded host its virtual CPU may not run meanwhile). */
static void wait_handled(void)
{
        for (int i = 0; i < 2500 && !handled_by; i++)
                usleep(2000);
}

static void test_signals(void)
{
        struct sigaction sa = { .sa_handler = on_usr };
        sigset_t set, old;
        pthread_t th;

        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
        stop_thread = 0;
        thread_tid = 0;
        pthread_create(&th, NULL, spin_unblocked, NULL);
        while (!thread_tid)
                sched_yield();

        /* tgkill: that thread and no other */
        handled_by = 0;
        syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR1);
        wait_handled();
        CHECK("tgkill_reaches_that_thread", handled_by == thread_tid);
        CHECK_ERR("tgkill_wrong_group", syscall(SYS_tgkill, getpid() + 100000,
                                                thread_tid, SIGUSR1), ESRCH);
        CHECK_ERR("tgkill_bad_ids", syscall(SYS_tgkill, 0, thread_tid, 0), EINVAL);
        CHECK("tgkill_probe", syscall(SYS_tgkill, getpid(), thread_tid, 0) == 0);

        /* kill(): the main thread blocks SIGUSR1, so the other one runs
         * the handler; the signal shows as pending for nobody after */
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &set, &old);
        handled_by = 0;
        kill(getpid(), SIGUSR1);
        wait_handled();
        CHECK("kill_taken_by_unblocking_thread", handled_by == thread_tid);

        /* a signal sent to the blocked main thread stays its own */
        handled_by = 0;
        syscall(SYS_tgkill, getpid(), gettid_(), SIGUSR1);
        sigset_t pend;
        sigpending(&pend);
        for (int i = 0; i < 100; i++)
                sched_yield();
        CHECK("thread_directed_waits_for_its_thread",
              handled_by == 0 && sigismember(&pend, SIGUSR1));
        pthread_sigmask(SIG_SETMASK, &old, NULL);   /* now it runs here */
        CHECK("thread_directed_runs_on_unblock", handled_by == gettid_());
        stop_thread = 1;
        pthread_join(th, NULL);
        signal(SIGUSR1, SIG_DFL);
}

/* A fatal signal taken by one thread ends the whole process; a stop
 * stops it. */
static void *spin_forever(void *arg)
{
        (void)arg;
        for (;;)
                sched_yield();
        return NULL;
}

static int proc_task_count(pid_t pid, char *states, size_t nstates)
{
        char path[300], buf[512];
        int n = 0;

        snprintf(path, sizeof path, "/proc/%d/task", pid);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "/proc/%d/task/%s/stat", pid, e->d_name);
                int fd = open(path, O_RDONLY);
                ssize_t len = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
                if (fd >= 0)
                        close(fd);
                char *p = len > 0 ? strrchr((buf[len] = 0, buf), ')') : NULL;
                if (p && (size_t)n < nstates)
                        states[n] = p[2];
                if (p && atoi(buf) == atoi(e->d_name))
                        n++;
        }
        if (d)
                closedir(d);
        return n;
}

static void test_group_signals(void)
{
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                pthread_t th;
                pthread_create(&th, NULL, spin_forever, NULL);
                pthread_create(&th, NULL, spin_forever, NULL);
                for (;;)
                        sched_yield();
        }
        /* three threads, listed under task/ with their own stat */
        char states[8] = { 0 };
        int n = 0;
        for (int i = 0; i < 200 && n < 3; i++) {
                usleep(2000);
                n = proc_task_count(pid, states, sizeof states);
        }
        CHECK("proc_task_lists_threads", n == 3);
        char path[64], buf[2048];
        snprintf(path, sizeof path, "/proc/%d/status", pid);
        int fd = open(path, O_RDONLY);
        ssize_t len = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        buf[len > 0 ? len : 0] = 0;
        CHECK("proc_status_threads", strstr(buf, "\nThreads:\t3\n") != NULL);

        kill(pid, SIGSTOP);
        CHECK("stop_reported", waitpid(pid, &status, WUNTRACED) == pid &&
              WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
        memset(states, 0, sizeof states);
        n = 0;
        for (int i = 0; i < 200; i++) {
                n = proc_task_count(pid, states, sizeof states);
                if (n == 3 && !strcmp(states, "ttt"))
                        break;
                if (n == 3 && !strcmp(states, "TTT"))
                        break;
                usleep(2000);
        }
        CHECK("stop_stops_every_thread", n == 3 &&
              (!strcmp(states, "TTT") || !strcmp(states, "ttt")));
        kill(pid, SIGCONT);
        CHECK("continue_reported", waitpid(pid, &status, WCONTINUED) == pid &&
              WIFCONTINUED(status));

        /* SIGTERM's default action, taken by whichever thread: all end */
        kill(pid, SIGTERM);
        CHECK("fatal_signal_ends_group", waitpid(pid, &status, 0) == pid &&
              WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

        /* a fault in a thread kills the process with SIGSEGV */
        pid = fork();
        if (pid == 0) {
                pthread_t th;
                pthread_create(&th, NULL, spin_forever, NULL);
                static volatile uintptr_t bad = 8;
                volatile int *null = (volatile int *)bad;
                syscall(SYS_exit, *null);   /* the main thread faults */
        }
        status = -1;
        CHECK("fault_in_thread_ends_group", waitpid(pid, &status, 0) == pid &&
              WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

/* ---- futexes between threads, a robust mutex ----------------------------- */

static volatile uint32_t fword;
static _Atomic pid_t waiter_tid;
static _Atomic int waiting;

static void *futex_waiter(void *arg)
{
        (void)arg;
        waiter_tid = gettid_();
        waiting = 1;
        long r = futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
        return (void *)r;
}

static void *robust_owner(void *arg)
{
        pthread_mutex_lock(arg);
        return NULL;                    /* exits holding it */
}

/* FUTEX_WAKE_OP's operation on the second word is atomic against user
 * code's atomics on other CPUs: two threads add to a word with atomics
 * while a third adds 1 to it 20 000 times through FUTEX_WAKE_OP; no add
 * is lost (a kernel that reads the word and writes it back lost some at
 * -smp 4). */
static _Atomic uint32_t op_word;
static atomic_int op_done;

static void *atomic_adder(void *arg)
{
        long n = 0;

        (void)arg;
        while (!atomic_load_explicit(&op_done, memory_order_relaxed)) {
                atomic_fetch_add_explicit(&op_word, 1, memory_order_relaxed);
                n++;
        }
        return (void *)n;
}

static void test_wake_op_atomic(void)
{
        /* FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0) */
        const uint32_t add_one = (1u << 28) | (0u << 24) | (1u << 12) | 0u;
        uint32_t other = 0;
        pthread_t th[2];
        long added = 0, bad = 0;
        int made = 0;

        atomic_store(&op_word, 0);
        atomic_store(&op_done, 0);
        for (int i = 0; i < 2; i++)
                made += pthread_create(&th[i], NULL, atomic_adder, NULL) == 0;
        for (int i = 0; i < 20000; i++)
                bad += syscall(SYS_futex, &other, 5 | 128, 1, 0,
                               (uint32_t *)&op_word, add_one) != 0;
        atomic_store(&op_done, 1);
        for (int i = 0; i < made; i++) {
                void *r;

                pthread_join(th[i], &r);
                added += (long)r;
        }
        if (!CHECK("wake_op_atomic_against_user_atomics",
                   made == 2 && bad == 0 &&
                   atomic_load(&op_word) == (uint32_t)(added + 20000)))
                printf("# word %u, adds %ld + 20000, %ld calls failed\n",
                       atomic_load(&op_word), added, bad);
}

static void test_futex_threads(void)
{
        pthread_t th;
        void *ret = (void *)-5;

        fword = 0;
        waiting = 0;
        pthread_create(&th, NULL, futex_waiter, NULL);
        while (!waiting)
                sched_yield();
        until_asleep(waiter_tid);       /* it sleeps in the kernel now */
        long woke = futex(&fword, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
        pthread_join(th, &ret);
        CHECK("private_futex_between_threads", woke == 1 && ret == 0);

        /* an absolute CLOCK_REALTIME deadline in the past times out */
        struct timespec past = { 1, 0 };
        errno = 0;
        CHECK("wait_bitset_realtime_past_deadline",
              futex(&fword, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
                    0, &past, 0xffffffff) == -1 && errno == ETIMEDOUT);

        pthread_mutexattr_t ma;
        pthread_mutex_t m;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
        pthread_mutex_init(&m, &ma);
        pthread_create(&th, NULL, robust_owner, &m);
        pthread_join(th, NULL);
        int r = pthread_mutex_lock(&m);
        CHECK("robust_mutex_owner_died", r == EOWNERDEAD);
        if (r == EOWNERDEAD) {
                pthread_mutex_consistent(&m);
                pthread_mutex_unlock(&m);
        }
}

/* ---- futex keys and counts, Linux's rules --------------------------------- */

static volatile uint32_t kword;
static _Atomic long kresult;

static void *private_waiter(void *arg)
{
        (void)arg;
        waiter_tid = gettid_();
        waiting = 1;
        kresult = futex(&kword, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
        waiting = 2;
        return NULL;
}

static void on_alarm(int sig)
{
        (void)sig;
}

/* A child waits 150 ms on a futex with a timeout; the parent stops and
 * continues it meanwhile (or, with a handler, signals it during a wait
 * of 3 s). => the child's
 * exit code: 0 if the wait timed out after the whole time, 1 for EINTR,
 * 2 otherwise. */
static int timed_wait_child(int with_handler)
{
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                if (with_handler) {
                        struct sigaction sa = { .sa_handler = on_alarm };
                        sigaction(SIGUSR2, &sa, NULL);
                }
                /* with a handler the signal ends it early: a long
                 * timeout leaves a loaded host time to send it */
                struct timespec t0, t1, ts = { with_handler ? 3 : 0,
                                               with_handler ? 0 : 150 * 1000 * 1000 };
                static volatile uint32_t w;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                long r = futex(&w, FUTEX_WAIT_PRIVATE, 0, &ts, 0);
                int e = errno;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
                          (t1.tv_nsec - t0.tv_nsec) / 1000000;
                if (r == -1 && e == ETIMEDOUT && ms >= 140)
                        _exit(0);
                _exit(r == -1 && e == EINTR ? 1 : 2);
        }
        /* act once the child sleeps (in the futex wait, or on its way:
         * /proc says S), else a loaded host may signal it too early */
        for (int i = 0; i < 500 && proc_state(pid) != 'S'; i++)
                usleep(2000);
        usleep(10000);
        if (with_handler) {
                kill(pid, SIGUSR2);
        } else {
                kill(pid, SIGSTOP);
                waitpid(pid, &status, WUNTRACED);
                kill(pid, SIGCONT);
        }
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_futex_keys(void)
{
        pthread_t th;
        static volatile uint32_t word;

        /* a private operation does not look at the memory; a shared one
         * must find a mapping */
        uint32_t *gone = (uint32_t *)anon(PAGE, PROT_READ | PROT_WRITE);
        munmap(gone, PAGE);
        CHECK("private_wake_unmapped_is_0",
              futex(gone, FUTEX_WAKE_PRIVATE, 1, NULL, 0) == 0);
        CHECK_ERR("shared_wake_unmapped_efault", futex(gone, 1, 1, NULL, 0), EFAULT);
        CHECK_ERR("private_wait_unmapped_efault",
                  futex(gone, FUTEX_WAIT_PRIVATE, 0, NULL, 0), EFAULT);
        CHECK_ERR("wait_misaligned_einval",
                  futex((uint32_t *)((char *)&word + 1), FUTEX_WAIT_PRIVATE, 0, NULL, 0),
                  EINVAL);
        CHECK_ERR("wait_value_differs_eagain",
                  futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, 0), EAGAIN);
        struct timespec bad = { 0, 1000000000 };
        CHECK_ERR("wait_bad_timeout_einval",
                  futex(&word, FUTEX_WAIT_PRIVATE, 0, &bad, 0), EINVAL);
        CHECK_ERR("wake_bitset_zero_einval",
                  futex(&word, 10 | 128, 1, NULL, 0), EINVAL);
        CHECK_ERR("realtime_flag_on_wake_enosys",
                  futex(&word, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, 0),
                  ENOSYS);

        /* a private waiter is not woken by a shared wake; a wake of 0
         * still wakes one */
        kword = 0;
        waiting = 0;
        kresult = -7;
        pthread_create(&th, NULL, private_waiter, NULL);
        while (!waiting)
                sched_yield();
        until_asleep(waiter_tid);
        long shared_woke = futex(&kword, 1, 1, NULL, 0);
        usleep(20000);
        CHECK("shared_wake_misses_private_waiter", shared_woke == 0 && waiting == 1);
        long woke = futex(&kword, FUTEX_WAKE_PRIVATE, 0, NULL, 0);
        pthread_join(th, NULL);
        CHECK("wake_of_zero_wakes_one", woke == 1 && kresult == 0);

        CHECK("timed_wait_goes_on_after_stop", timed_wait_child(0) == 0);
        CHECK("timed_wait_eintr_with_handler", timed_wait_child(1) == 1);
}

/* ---- what belongs to the process: CPU time, limits; timers to a thread --- */

static uint64_t clock_ns(clockid_t c)
{
        struct timespec ts;

        clock_gettime(c, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *burn_cpu(void *arg)
{
        (void)arg;
        while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < 100 * 1000 * 1000ull)
                ;
        return NULL;
}

static uint64_t rusage_us(const struct rusage *r)
{
        return (uint64_t)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1000000 +
               (uint64_t)(r->ru_utime.tv_usec + r->ru_stime.tv_usec);
}

static void *lower_nofile(void *arg)
{
        struct rlimit rl;

        (void)arg;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = 33;
        return (void *)(long)setrlimit(RLIMIT_NOFILE, &rl);
}

/* The kernel's struct sigevent, for SIGEV_THREAD_ID (not in every libc). */
struct ksigevent {
        union sigval value;
        int signo, notify, tid, pad[11];
};
#define SIGEV_THREAD_ID_ 4

static _Atomic int timer_hit_tid;

static void on_timer(int sig)
{
        (void)sig;
        timer_hit_tid = gettid_();
}

static void *wait_for_timer(void *arg)
{
        (void)arg;
        thread_tid = gettid_();
        while (!timer_hit_tid && !stop_thread)
                sched_yield();
        return NULL;
}

static void test_process_wide(void)
{
        pthread_t th;
        struct rlimit old, now;

        struct rusage self0, thread0, self1, thread1;
        getrusage(RUSAGE_SELF, &self0);
        getrusage(RUSAGE_THREAD, &thread0);
        uint64_t before = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        uint64_t mine0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        pthread_create(&th, NULL, burn_cpu, NULL);
        pthread_join(th, NULL);
        uint64_t process = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - before;
        uint64_t mine = clock_ns(CLOCK_THREAD_CPUTIME_ID) - mine0;
        getrusage(RUSAGE_SELF, &self1);
        getrusage(RUSAGE_THREAD, &thread1);
        CHECK("process_cpu_clock_counts_exited_thread",
              process >= 100 * 1000 * 1000ull && mine + 50 * 1000 * 1000ull < process);
        CHECK("rusage_self_counts_threads_rusage_thread_not",
              rusage_us(&self1) - rusage_us(&self0) >= 90000 &&
              rusage_us(&thread1) - rusage_us(&thread0) + 50000 <
              rusage_us(&self1) - rusage_us(&self0));

        getrlimit(RLIMIT_NOFILE, &old);
        void *ret = (void *)-1;
        pthread_create(&th, NULL, lower_nofile, NULL);
        pthread_join(th, &ret);
        getrlimit(RLIMIT_NOFILE, &now);
        CHECK("rlimit_set_in_thread_is_the_processes", ret == 0 && now.rlim_cur == 33);
        setrlimit(RLIMIT_NOFILE, &old);

        /* a POSIX timer aimed at one thread signals that thread */
        struct sigaction sa = { .sa_handler = on_timer };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR2, &sa, NULL);
        thread_tid = 0;
        timer_hit_tid = 0;
        stop_thread = 0;
        pthread_create(&th, NULL, wait_for_timer, NULL);
        while (!thread_tid)
                sched_yield();
        struct ksigevent ev = { .signo = SIGUSR2, .notify = SIGEV_THREAD_ID_ | SIGEV_SIGNAL,
                                .tid = thread_tid };
        int id = -1;
        long r = syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id);
        struct itimerspec its = { .it_value = { 0, 10 * 1000 * 1000 } };
        if (r == 0)
                syscall(SYS_timer_settime, id, 0, &its, NULL);
        for (int i = 0; i < 500 && !timer_hit_tid; i++)
                usleep(2000);
        stop_thread = 1;
        pthread_join(th, NULL);
        CHECK("sigev_thread_id_signals_that_thread", r == 0 && timer_hit_tid == thread_tid);
        if (r == 0)
                syscall(SYS_timer_delete, id);
        struct ksigevent bad = { .signo = SIGUSR2, .notify = SIGEV_THREAD_ID_ | SIGEV_SIGNAL,
                                 .tid = 999999 };
        CHECK_ERR("sigev_thread_id_not_ours", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id),
                  EINVAL);
        signal(SIGUSR2, SIG_DFL);
}

int main(int argc, char **argv)
{
        if (argc >= 3 && !strcmp(argv[1], "exec-child"))
                return exec_child(argv[2]);
        self_path = argv[0];
        utest_start("threads");
        test_clone_rules();
        test_raw_thread();
        test_exit_semantics();
        test_exec_from_thread();
        test_signals();
        test_group_signals();
        test_futex_threads();
        test_wake_op_atomic();
        test_futex_keys();
        test_process_wide();
        return utest_done();
}
