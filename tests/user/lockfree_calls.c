/*
 * lockfree_calls.c - the system calls Mercator runs without the big
 * kernel lock (getpid, gettid, getppid, getuid, geteuid, getgid, getegid:
 * kernel/proc/syscall.c, call_lock_free) answer as Linux does, from every
 * thread at once, while the answers change underneath (a parent's exit),
 * and the way back to user mode still delivers what waits for the thread.
 *
 *   ids_from_every_thread     four threads ask 20 000 times each; every
 *                             answer is the process's, the thread's own
 *   getppid_follows_the_exit  three threads of a child ask for their
 *                             parent's pid in a loop while the parent
 *                             exits: each sees the parent's pid, then one
 *                             other (the reaper's), never anything else,
 *                             ten times over
 *   signal_ends_the_loop      a thread that only asks for its parent's pid
 *                             (no other way into the kernel) runs its
 *                             handler for a signal another thread sends
 *   kill_ends_the_loop        a process whose threads only ask is killed
 *   no_big_lock (Mercator only: /proc/lock_stat's big-kernel-lock
 *                             acquisitions) 200 000 getppid calls take the
 *                             lock far fewer times than that (the ticks);
 *                             a kernel that locked for them took it 200 000
 *                             times
 *
 * And the calls that only give the CPU up (sched_yield, nanosleep,
 * clock_nanosleep), which Mercator also runs without it:
 *   yields_from_every_thread  four threads yield 5 000 times each; every
 *                             yield returns 0 and every thread ends
 *   exit_ends_sleeping_threads  a process whose threads sleep 10 s in
 *                             nanosleep and clock_nanosleep, or are just
 *                             going to, exits (exit_group from its main
 *                             thread at a random moment) within 2 s, 30
 *                             times over
 *   signal_ends_a_sleep       a handled signal from another thread ends a
 *                             10 s clock_nanosleep with EINTR and the time
 *                             left, 20 times over
 *   sleep_restarts_after_a_stop  a 300 ms nanosleep stopped (SIGSTOP) and
 *                             continued goes on to its deadline, neither
 *                             EINTR nor early
 *   sleep_arguments_anywhere  the sleeps' arguments in memory not touched
 *                             yet (anonymous, a shared file's) are read
 *                             and written; a pointer to nothing or to a
 *                             PROT_NONE page is EFAULT (on Mercator the
 *                             first two fault without the big lock, the
 *                             last two take it in the middle of the call)
 *   no_big_lock_to_yield_or_sleep (Mercator only) 20 000 yields and 50
 *                             sleeps of 1 ms take the lock far fewer times
 *                             than that (10-16 times here; a kernel that
 *                             locked for them took it about 40 000 times:
 *                             twice per yield, the call's and the
 *                             scheduler loop's)
 *
 * And futex, whose private waits and wakes Mercator runs without it too
 * (the word read under the futex table's own lock by a copy whose faults
 * are not served there: kernel/proc/futex.c):
 *   futex_words_anywhere      FUTEX_WAIT and FUTEX_CMP_REQUEUE compare
 *                             words in memory not touched yet (anonymous,
 *                             a shared file's), private and shared; a
 *                             pointer to nothing or to PROT_NONE is
 *                             EFAULT, a misaligned one EINVAL
 *   futex_hand_over_loses_no_wake  two threads pass a baton 20 000 times
 *                             with private FUTEX_WAIT and FUTEX_WAKE (each
 *                             wait bounded by 5 s): every pass arrives,
 *                             no wait times out
 *   condvar_rounds            four threads wait on a condition variable
 *                             (the library's futex waits, wakes and
 *                             requeues) for 2 000 broadcasts, each seeing
 *                             every round's number in turn
 *   no_big_lock_for_futexes (Mercator only) 20 000 private waits and
 *                             wakes take the big lock far fewer times than
 *                             that (a kernel that locked for them took it
 *                             at least once per call)
 *
 * And rt_sigprocmask, which Mercator runs without it too (only the thread
 * writes its own mask; kernel/proc/signal.c, signal_set_mask):
 *   mask_calls_as_linux       SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK, the old
 *                             mask into memory not touched yet, SIGKILL
 *                             and SIGSTOP never blocked; EINVAL for a bad
 *                             how or size, EFAULT for either pointer
 *   unblocked_signal_taken_at_once  a pending signal (to the process, to
 *                             the thread) runs its handler before the
 *                             rt_sigprocmask that unblocks it returns, 100
 *                             times
 *   blocked_signal_passes_on  a signal sent to the process while the
 *                             thread it would pick blocks it goes to a
 *                             thread that takes it (in pause) within 1 s,
 *                             1 000 times at spread moments
 *   no_big_lock_for_masks (Mercator only) 20 000 mask changes take the
 *                             big lock far fewer times than that
 *
 * And mprotect, which Mercator runs without it when the call only
 * rewrites whole mappings' protection (the space's door held as its
 * writer: kernel/vm/vm_space.c, vm_space_protect_nolock), and under it
 * otherwise (a split, a merge, a commit charge to move):
 *   mprotect_flips_as_linux   a mapping between two PROT_NONE ones made
 *                             read-only (reads see its bytes, a write is
 *                             SIGSEGV), PROT_NONE (a read is SIGSEGV),
 *                             read+write again (its bytes kept), part of
 *                             it (a split) and whole again (a merge);
 *                             ENOMEM over a hole, EINVAL misaligned, 0
 *                             for length 0
 *   flips_from_every_thread   four threads flip their own mappings
 *                             between read-only and read+write 2 000
 *                             times each, writing and reading back each
 *                             time; every call returns 0
 *   writer_faults_after_flip  a thread writes a page of a mapping of its
 *                             own in a loop while another makes the
 *                             mapping read-only: the writer gets SIGSEGV
 *                             within 5 s, 100 rounds
 *   no_big_lock_for_mprotect (Mercator only) 10 000 flips of 1 MiB of
 *                             written pages between read-only and
 *                             read+exec take the big lock far fewer times
 *                             than that (a kernel that locked for them
 *                             took it at least once per call)
 *   munmap_as_linux           a mapping between two PROT_NONE ones
 *                             unmapped whole (reads and writes there are
 *                             SIGSEGV), unmapped again (0: nothing
 *                             there); part of another (a split: the rest
 *                             keeps its bytes, the part mapped anew reads
 *                             zeroes); EINVAL misaligned or for length 0
 *   unmaps_from_every_thread  four threads map, write, read back and
 *                             unmap 64 KiB 2 000 times each; MemFree
 *                             afterwards within 16 MiB of before (500
 *                             MiB went through)
 *   mmap_as_linux             private anonymous maps: zeroes, page
 *                             aligned, the hint taken where free, apart
 *                             from each other, writable where asked and
 *                             only there; one in the hole between two
 *                             halves of a written mapping joins them
 *   no_big_lock_for_mmap_munmap (Mercator only) 5 000 maps and unmaps
 *                             of 64 KiB take the big lock fewer than 2 500
 *                             times (a kernel that locked for both took
 *                             it 10 000 times, one for the maps 5 000)
 */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <sys/wait.h>
#include <sched.h>
#include <errno.h>

/* Linux's futex operations (musl ships no linux/futex.h). */
#define FUTEX_WAIT              0
#define FUTEX_WAKE              1
#define FUTEX_CMP_REQUEUE       4
#define FUTEX_PRIVATE_FLAG      128
#define FUTEX_WAIT_PRIVATE      (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE      (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)

#define THREADS         4
#define ROUNDS          20000

static pid_t me, parent;
static uid_t uid, euid;
static gid_t gid, egid;

static long long now_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void *ask(void *arg)
{
        long wrong = 0;
        pid_t tid = (pid_t)syscall(SYS_gettid);

        (void)arg;
        for (int i = 0; i < ROUNDS; i++)
                wrong += getpid() != me || (pid_t)syscall(SYS_gettid) != tid ||
                         getppid() != parent || getuid() != uid ||
                         geteuid() != euid || getgid() != gid ||
                         getegid() != egid;
        return (void *)wrong;
}

/* fn on THREADS threads at once: the sum of what they returned, or -1 if
 * not all could be made. */
static long on_every_thread(void *(*fn)(void *))
{
        pthread_t th[THREADS];
        long sum = 0;
        int made = 0;

        for (int i = 0; i < THREADS; i++)
                made += pthread_create(&th[i], NULL, fn, NULL) == 0;
        for (int i = 0; i < made; i++) {
                void *r;

                pthread_join(th[i], &r);
                sum += (long)r;
        }
        return made == THREADS ? sum : -1;
}

static void ids_from_every_thread(void)
{
        CHECK("ids_from_every_thread", on_every_thread(ask) == 0);
}

/* A child's spinner: the getppid answers it saw, in order, deduplicated. */
struct watch {
        pthread_t th;
        pid_t seen[4];
        int n;                          /* > 3: too many changes */
        atomic_int started;
};

static atomic_int watch_stop;

static void *watch_parent(void *arg)
{
        struct watch *w = arg;

        while (!atomic_load_explicit(&watch_stop, memory_order_relaxed)) {
                pid_t p = getppid();

                if (w->n == 0 || w->seen[w->n - 1] != p) {
                        if (w->n < 4)
                                w->seen[w->n] = p;
                        w->n++;
                }
                atomic_store_explicit(&w->started, 1, memory_order_release);
        }
        return NULL;
}

/* In the grandchild: watch until every watcher saw a change (or 10 s);
 * => 0 if each saw exactly old, then one other positive pid. */
static int grandchild(pid_t old, int ready_fd)
{
        struct watch w[3] = { 0 };
        long long end = now_ms() + 10000;
        int bad = 0;

        for (int i = 0; i < 3; i++)
                if (pthread_create(&w[i].th, NULL, watch_parent, &w[i]))
                        return 2;
        for (int i = 0; i < 3; i++)     /* each has asked once */
                while (!atomic_load(&w[i].started) && now_ms() < end)
                        usleep(1000);
        (void)!write(ready_fd, "r", 1);
        while (getppid() == old && now_ms() < end)
                usleep(1000);
        usleep(20000);                  /* the watchers look a while more */
        atomic_store(&watch_stop, 1);
        for (int i = 0; i < 3; i++) {
                pthread_join(w[i].th, NULL);
                bad |= w[i].n != 2 || w[i].seen[0] != old ||
                       w[i].seen[1] == old || w[i].seen[1] <= 0;
        }
        return bad ? 1 : 0;
}

static void getppid_follows_the_exit(void)
{
        int bad = 0, runs = 0;

        for (int run = 0; run < 10; run++) {
                int res[2], ready[2];
                char c = 9;

                if (pipe(res) || pipe(ready))
                        break;
                pid_t mid = fork();

                if (mid == 0) {
                        pid_t self = getpid();
                        pid_t g = fork();

                        if (g == 0) {
                                char r = (char)grandchild(self, ready[1]);

                                (void)!write(res[1], &r, 1);
                                _exit(0);
                        }
                        char x;         /* exit once its watchers run */
                        (void)!read(ready[0], &x, 1);
                        usleep(2000);
                        _exit(0);
                }
                close(res[1]);
                close(ready[0]);
                close(ready[1]);
                waitpid(mid, NULL, 0);
                if (read(res[0], &c, 1) == 1)
                        runs++;
                close(res[0]);
                bad += c != 0;
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;               /* Mercator: we may be the reaper */
        }
        if (!CHECK("getppid_follows_the_exit", runs == 10 && bad == 0))
                printf("# %d runs reported, %d wrong\n", runs, bad);
}

static atomic_int got_signal;

static void on_usr1(int sig)
{
        (void)sig;
        atomic_store(&got_signal, 1);
}

static void *spin_until_signalled(void *arg)
{
        long long end = now_ms() + 10000;
        long calls = 0;

        (void)arg;
        while (!atomic_load_explicit(&got_signal, memory_order_relaxed)) {
                (void)getppid();
                if (++calls % 4096 == 0 && now_ms() > end)
                        break;
        }
        return NULL;
}

static void signal_ends_the_loop(void)
{
        pthread_t th;

        signal(SIGUSR1, on_usr1);
        if (pthread_create(&th, NULL, spin_until_signalled, NULL)) {
                CHECK("signal_ends_the_loop", 0);
                return;
        }
        usleep(50000);
        pthread_kill(th, SIGUSR1);
        pthread_join(th, NULL);
        CHECK("signal_ends_the_loop", atomic_load(&got_signal) == 1);
}

static void *spin_forever(void *arg)
{
        (void)arg;
        for (;;)
                (void)getppid();
        return NULL;
}

static void kill_ends_the_loop(void)
{
        int st = 0;
        pid_t pid = fork();

        if (pid == 0) {
                pthread_t th[2];

                for (int i = 0; i < 2; i++)
                        pthread_create(&th[i], NULL, spin_forever, NULL);
                spin_forever(NULL);
        }
        usleep(100000);
        kill(pid, SIGKILL);
        CHECK("kill_ends_the_loop", waitpid(pid, &st, 0) == pid &&
              WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void no_big_lock(void)
{
        long long before = lock_stat_acquired("big-kernel-lock");

        if (before < 0)
                return;                 /* Linux: no such count */
        for (int i = 0; i < 200000; i++)
                (void)getppid();
        long long taken = lock_stat_acquired("big-kernel-lock") - before;

        if (!CHECK("no_big_lock", taken < 20000))
                printf("# the big kernel lock taken %lld times\n", taken);
}

#define YIELDS          5000

static void *yield_loop(void *arg)
{
        long bad = 0;

        (void)arg;
        for (int i = 0; i < YIELDS; i++)
                bad += sched_yield() != 0;
        return (void *)bad;
}

static void yields_from_every_thread(void)
{
        CHECK("yields_from_every_thread", on_every_thread(yield_loop) == 0);
}

static atomic_int sleeping;             /* sleeps begun, by the sleepers */

static void *sleep_long(void *arg)
{
        struct timespec t = { 10, 0 };

        for (;;) {
                atomic_fetch_add(&sleeping, 1);
                if (arg)
                        clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
                else
                        nanosleep(&t, NULL);
        }
        return NULL;
}

/* Spin for about us microseconds. */
static void spin_us(long us)
{
        struct timespec a, b;

        clock_gettime(CLOCK_MONOTONIC, &a);
        do
                clock_gettime(CLOCK_MONOTONIC, &b);
        while ((b.tv_sec - a.tv_sec) * 1000000L +
               (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static void exit_ends_sleeping_threads(void)
{
        int late = 0, wrong = 0;
        long long worst = 0;

        for (int round = 0; round < 30; round++) {
                long long t0 = now_ms();
                int st = 0;
                pid_t pid = fork();

                if (pid == 0) {
                        pthread_t th[3];

                        for (int i = 0; i < 3; i++)
                                pthread_create(&th[i], NULL, sleep_long,
                                               i & 1 ? (void *)1 : NULL);
                        while (atomic_load(&sleeping) < 3)
                                ;
                        /* anywhere from before the sleeps to well in */
                        spin_us((round * 37) % 400);
                        exit(7);        /* exit_group */
                }
                if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
                    WEXITSTATUS(st) != 7)
                        wrong++;
                long long took = now_ms() - t0;

                late += took > 2000;
                worst = took > worst ? took : worst;
        }
        if (!CHECK("exit_ends_sleeping_threads", late == 0 && wrong == 0))
                printf("# %d late, %d wrong; the slowest took %lld ms\n",
                       late, wrong, worst);
}

static atomic_int usr2_seen;

static void on_usr2(int sig)
{
        (void)sig;
        atomic_fetch_add(&usr2_seen, 1);
}

struct sleep_result {
        int ret;                        /* clock_nanosleep's (an errno) */
        struct timespec left;
        atomic_int done;
};

static void *sleep_once(void *arg)
{
        struct sleep_result *r = arg;
        struct timespec t = { 10, 0 };

        atomic_fetch_add(&sleeping, 1);
        r->ret = clock_nanosleep(CLOCK_MONOTONIC, 0, &t, &r->left);
        atomic_store(&r->done, 1);
        return NULL;
}

static void signal_ends_a_sleep(void)
{
        struct sigaction sa = { .sa_handler = on_usr2 };   /* no SA_RESTART */
        int bad = 0;

        sigaction(SIGUSR2, &sa, NULL);
        for (int round = 0; round < 20; round++) {
                struct sleep_result r = { .ret = -1 };
                long long t0 = now_ms();
                pthread_t th;

                atomic_store(&sleeping, 0);
                if (pthread_create(&th, NULL, sleep_once, &r)) {
                        bad++;
                        continue;
                }
                while (atomic_load(&sleeping) == 0)
                        ;
                spin_us((round * 53) % 300);
                /* again until it ends: one sent before the call began is
                 * handled in user mode and the sleep starts after it */
                while (!atomic_load(&r.done) && now_ms() - t0 < 5000) {
                        pthread_kill(th, SIGUSR2);
                        usleep(20000);
                }
                pthread_join(th, NULL);
                if (r.ret != EINTR || now_ms() - t0 > 3000 ||
                    r.left.tv_sec > 10 || r.left.tv_sec < 6)
                        bad++;
        }
        signal(SIGUSR2, SIG_DFL);
        if (!CHECK("signal_ends_a_sleep", bad == 0))
                printf("# %d of 20 rounds wrong\n", bad);
}

static void sleep_restarts_after_a_stop(void)
{
        int st = 0;
        pid_t pid = fork();

        if (pid == 0) {
                struct timespec t = { 0, 300000000 };
                long long t0 = now_ms();
                int r = nanosleep(&t, NULL);
                long long took = now_ms() - t0;

                _exit(r == 0 && took >= 300 ? 0 : 1);
        }
        usleep(100000);
        kill(pid, SIGSTOP);
        usleep(50000);
        kill(pid, SIGCONT);
        CHECK("sleep_restarts_after_a_stop", waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* One page of a new file mapped shared, not read yet; the file's
 * descriptor in *fd (-1 if none) for the caller to close. */
static void *shared_file_page(int *fd)
{
        char path[] = "/tmp/lockfree_calls.XXXXXX";
        void *page = MAP_FAILED;

        *fd = mkstemp(path);
        if (*fd < 0)
                return MAP_FAILED;
        unlink(path);
        if (ftruncate(*fd, PAGE) == 0)
                page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
                            *fd, 0);
        return page;
}

static void sleep_arguments_anywhere(void)
{
        int fd;
        struct timespec *fresh = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        struct timespec *none = mmap(NULL, PAGE, PROT_NONE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        struct timespec *shared = shared_file_page(&fd), now;
        int ok = shared != MAP_FAILED && fresh != MAP_FAILED &&
                 none != MAP_FAILED;

        if (ok) {
                /* zeroes: no time to sleep */
                ok &= nanosleep(fresh, NULL) == 0;
                ok &= clock_nanosleep(CLOCK_MONOTONIC, 0,
                                      (struct timespec *)(shared), NULL) == 0;
                /* an absolute deadline already past, read from a page
                 * written first by the kernel's fault */
                clock_gettime(CLOCK_MONOTONIC, &now);
                fresh[PAGE / sizeof *fresh] = now;
                ok &= clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
                                      &fresh[PAGE / sizeof *fresh],
                                      NULL) == 0;
                errno = 0;
                ok &= nanosleep((struct timespec *)16, NULL) == -1 &&
                      errno == EFAULT;
                errno = 0;
                ok &= nanosleep(none, NULL) == -1 && errno == EFAULT;
                ok &= clock_nanosleep(CLOCK_MONOTONIC, 0, none, NULL) ==
                      EFAULT;
        }
        CHECK("sleep_arguments_anywhere", ok);
        if (fd >= 0)
                close(fd);
}

static void no_big_lock_to_yield_or_sleep(void)
{
        long long before = lock_stat_acquired("big-kernel-lock");
        struct timespec ms = { 0, 1000000 };

        if (before < 0)
                return;                 /* Linux: no such count */
        for (int i = 0; i < 20000; i++)
                (void)sched_yield();
        for (int i = 0; i < 50; i++)
                (void)nanosleep(&ms, NULL);
        long long taken = lock_stat_acquired("big-kernel-lock") - before;

        if (!CHECK("no_big_lock_to_yield_or_sleep", taken < 5000))
                printf("# the big kernel lock taken %lld times\n", taken);
}

static long futex(atomic_int *word, int op, int val, const struct timespec *t,
                  atomic_int *word2, int val3)
{
        return syscall(SYS_futex, word, op, val, t, word2, val3);
}

/* -1 with errno, or what the call returned. */
static int futex_errno(atomic_int *word, int op, int val,
                       const struct timespec *t, atomic_int *word2, int val3)
{
        errno = 0;
        return futex(word, op, val, t, word2, val3) == -1 ? errno : 0;
}

static void futex_words_anywhere(void)
{
        int fd;
        atomic_int *fresh = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        atomic_int *none = mmap(NULL, PAGE, PROT_NONE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        atomic_int *shared = shared_file_page(&fd);
        struct timespec ms = { 0, 1000000 };
        int ok = shared != MAP_FAILED && fresh != MAP_FAILED &&
                 none != MAP_FAILED;
        int w = PAGE / sizeof *fresh;           /* a page's words */

        if (ok) {
                /* untouched words read 0: another value is EAGAIN, 0
                 * waits until the timeout */
                ok &= futex_errno(&fresh[0], FUTEX_WAIT_PRIVATE, 1, NULL,
                                  NULL, 0) == EAGAIN;
                ok &= futex_errno(&fresh[w], FUTEX_WAIT_PRIVATE, 0, &ms,
                                  NULL, 0) == ETIMEDOUT;
                ok &= futex_errno(&shared[1], FUTEX_WAIT_PRIVATE, 0, &ms,
                                  NULL, 0) == ETIMEDOUT;
                ok &= futex_errno(&fresh[2 * w], FUTEX_WAIT, 0, &ms,
                                  NULL, 0) == ETIMEDOUT;
                ok &= futex_errno(&shared[2], FUTEX_WAIT, 7, &ms,
                                  NULL, 0) == EAGAIN;
                ok &= futex(&fresh[3 * w], FUTEX_CMP_REQUEUE_PRIVATE, 1,
                            (struct timespec *)1, &fresh[0], 0) == 0;
                ok &= futex_errno(&fresh[3 * w + 1],
                                  FUTEX_CMP_REQUEUE_PRIVATE, 1,
                                  (struct timespec *)1, &fresh[0], 5) ==
                      EAGAIN;
                ok &= futex_errno(none, FUTEX_WAIT_PRIVATE, 0, &ms, NULL,
                                  0) == EFAULT;
                ok &= futex_errno(none, FUTEX_WAIT, 0, &ms, NULL, 0) ==
                      EFAULT;
                ok &= futex_errno((atomic_int *)16, FUTEX_WAIT_PRIVATE, 0,
                                  &ms, NULL, 0) == EFAULT;
                ok &= futex_errno(none, FUTEX_CMP_REQUEUE_PRIVATE, 1,
                                  (struct timespec *)1, &fresh[0], 0) ==
                      EFAULT;
                ok &= futex_errno((atomic_int *)((char *)fresh + 2),
                                  FUTEX_WAIT_PRIVATE, 0, &ms, NULL, 0) ==
                      EINVAL;
                /* a wake of memory not there wakes nobody (private) */
                ok &= futex(none, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0;
        }
        CHECK("futex_words_anywhere", ok);
        if (fd >= 0)
                close(fd);
}

#define PASSES          20000

/* The baton: the number of the pass under way; thread k makes the
 * passes with k's parity and waits for the others'. */
static atomic_int baton;
static atomic_int timeouts;

static void *pass_baton(void *arg)
{
        int mine = (int)(long)arg;
        struct timespec limit = { 5, 0 };

        for (int pass = mine; pass < PASSES; pass += 2) {
                int seen;

                while ((seen = atomic_load(&baton)) != pass)
                        if (futex(&baton, FUTEX_WAIT_PRIVATE, seen, &limit,
                                  NULL, 0) == -1 && errno == ETIMEDOUT)
                                atomic_fetch_add(&timeouts, 1);
                atomic_store(&baton, pass + 1);
                futex(&baton, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
        return NULL;
}

static long long hand_over_pair(void)
{
        pthread_t a, b;

        atomic_store(&baton, 0);
        if (pthread_create(&a, NULL, pass_baton, (void *)0L))
                return -1;
        if (pthread_create(&b, NULL, pass_baton, (void *)1L)) {
                pthread_join(a, NULL);
                return -1;
        }
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        return atomic_load(&baton);
}

static void futex_hand_over_loses_no_wake(void)
{
        long long end = hand_over_pair();

        if (!CHECK("futex_hand_over_loses_no_wake",
                   end == PASSES && atomic_load(&timeouts) == 0))
                printf("# baton at %lld of %d, %d waits timed out\n", end,
                       PASSES, atomic_load(&timeouts));
}

#define CV_ROUNDS       2000

static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_round, cv_arrived;

/* Waits for each round in turn; => how many rounds it missed. */
static void *cv_waiter(void *arg)
{
        long missed = 0;

        (void)arg;
        pthread_mutex_lock(&cv_lock);
        for (int r = 1; r <= CV_ROUNDS; r++) {
                cv_arrived++;
                pthread_cond_broadcast(&cv);    /* to the main thread */
                while (cv_round < r)
                        pthread_cond_wait(&cv, &cv_lock);
                missed += cv_round != r;
        }
        pthread_mutex_unlock(&cv_lock);
        return (void *)missed;
}

static void condvar_rounds(void)
{
        pthread_t th[THREADS];
        long missed = 0;
        int made = 0;

        for (int i = 0; i < THREADS; i++)
                made += pthread_create(&th[i], NULL, cv_waiter, NULL) == 0;
        pthread_mutex_lock(&cv_lock);
        for (int r = 1; made == THREADS && r <= CV_ROUNDS; r++) {
                while (cv_arrived < THREADS * r)        /* all wait for r */
                        pthread_cond_wait(&cv, &cv_lock);
                cv_round = r;
                pthread_cond_broadcast(&cv);
        }
        pthread_mutex_unlock(&cv_lock);
        for (int i = 0; i < made; i++) {
                void *m;

                pthread_join(th[i], &m);
                missed += (long)m;
        }
        CHECK("condvar_rounds", made == THREADS && missed == 0 &&
              cv_round == CV_ROUNDS);
}

static void no_big_lock_for_futexes(void)
{
        long long before = lock_stat_acquired("big-kernel-lock");

        if (before < 0)
                return;                 /* Linux: no such count */
        long long end = hand_over_pair();
        long long taken = lock_stat_acquired("big-kernel-lock") - before;

        if (!CHECK("no_big_lock_for_futexes", end == PASSES && taken < 5000))
                printf("# the big kernel lock taken %lld times\n", taken);
}

static long sigmask_call(int how, const void *set, void *old, size_t size)
{
        errno = 0;
        return syscall(SYS_rt_sigprocmask, how, set, old, size) == -1 ? -errno
                                                                      : 0;
}

static uint64_t bit_of(int sig)
{
        return 1ULL << (sig - 1);
}

static atomic_int mask_hits;            /* handlers run, any thread */

static void on_mask_signal(int sig)
{
        (void)sig;
        atomic_fetch_add(&mask_hits, 1);
}

static void mask_calls_as_linux(void)
{
        uint64_t *fresh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        void *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                          -1, 0);
        uint64_t start, set = bit_of(SIGUSR1) | bit_of(SIGKILL) |
                              bit_of(SIGSTOP), old = 0;
        int ok = fresh != MAP_FAILED && none != MAP_FAILED;

        ok &= sigmask_call(SIG_SETMASK, NULL, &start, 8) == 0;
        if (ok) {
                ok &= sigmask_call(SIG_BLOCK, &set, fresh, 8) == 0 &&
                      *fresh == start;
                ok &= sigmask_call(SIG_SETMASK, NULL, &old, 8) == 0 &&
                      old == (start | bit_of(SIGUSR1));
                set = bit_of(SIGUSR2);
                ok &= sigmask_call(SIG_SETMASK, &set, NULL, 8) == 0;
                ok &= sigmask_call(SIG_UNBLOCK, &set, &old, 8) == 0 &&
                      old == bit_of(SIGUSR2);
                ok &= sigmask_call(SIG_BLOCK, NULL, &old, 8) == 0 &&
                      old == 0;
                ok &= sigmask_call(7, &set, NULL, 8) == -EINVAL;
                ok &= sigmask_call(SIG_BLOCK, &set, NULL, 4) == -EINVAL;
                ok &= sigmask_call(SIG_BLOCK, none, NULL, 8) == -EFAULT;
                ok &= sigmask_call(SIG_BLOCK, &set, none, 8) == -EFAULT;
                ok &= sigmask_call(SIG_BLOCK, NULL, (void *)16, 8) ==
                      -EFAULT;
                ok &= sigmask_call(SIG_SETMASK, &start, NULL, 8) == 0;
        }
        CHECK("mask_calls_as_linux", ok);
}

static void unblocked_signal_taken_at_once(void)
{
        struct sigaction sa = { .sa_handler = on_mask_signal };
        uint64_t usr1 = bit_of(SIGUSR1);
        int ok = sigaction(SIGUSR1, &sa, NULL) == 0;

        for (int i = 0; ok && i < 100; i++) {
                int before;

                ok &= sigmask_call(SIG_BLOCK, &usr1, NULL, 8) == 0;
                before = atomic_load(&mask_hits);
                if (i & 1)
                        syscall(SYS_tgkill, getpid(), syscall(SYS_gettid),
                                SIGUSR1);
                else
                        kill(getpid(), SIGUSR1);
                ok &= atomic_load(&mask_hits) == before;
                ok &= sigmask_call(SIG_UNBLOCK, &usr1, NULL, 8) == 0;
                ok &= atomic_load(&mask_hits) == before + 1;
        }
        CHECK("unblocked_signal_taken_at_once", ok);
}

#define PASS_ROUNDS     1000

static atomic_int pass_go, pass_done, pass_blocker_round, pass_stop;

/* Spins with SIGUSR2 open until its round starts, then blocks it and
 * spins on until the round is over. */
static void *pass_blocker(void *arg)
{
        uint64_t usr2 = bit_of(SIGUSR2);

        (void)arg;
        for (int r = 1; r <= PASS_ROUNDS; r++) {
                sigmask_call(SIG_UNBLOCK, &usr2, NULL, 8);
                atomic_store(&pass_blocker_round, r);
                while (atomic_load(&pass_go) != r)
                        ;
                sigmask_call(SIG_BLOCK, &usr2, NULL, 8);
                while (atomic_load(&pass_done) != r)
                        ;
        }
        sigmask_call(SIG_UNBLOCK, &usr2, NULL, 8);
        return NULL;
}

/* Takes SIGUSR2 in pause() until told to stop. */
static void *pass_taker(void *arg)
{
        uint64_t usr2 = bit_of(SIGUSR2);

        (void)arg;
        sigmask_call(SIG_UNBLOCK, &usr2, NULL, 8);
        while (!atomic_load(&pass_stop))
                pause();
        return NULL;
}

static void blocked_signal_passes_on(void)
{
        struct sigaction sa = { .sa_handler = on_mask_signal };
        uint64_t usr2 = bit_of(SIGUSR2), saved;
        pthread_t blocker, taker;
        int lost = 0, made = 0;

        /* the main thread never takes it; the threads start with it
         * blocked (the mask is inherited) */
        sigaction(SIGUSR2, &sa, NULL);
        sigmask_call(SIG_BLOCK, &usr2, &saved, 8);
        made += pthread_create(&blocker, NULL, pass_blocker, NULL) == 0;
        made += pthread_create(&taker, NULL, pass_taker, NULL) == 0;
        srand(4242);
        for (int r = 1; made == 2 && r <= PASS_ROUNDS; r++) {
                int before = atomic_load(&mask_hits), spin = rand() % 2000;
                long long end;

                while (atomic_load(&pass_blocker_round) != r)
                        ;
                atomic_store(&pass_go, r);
                for (volatile int i = 0; i < spin; i++)
                        ;
                kill(getpid(), SIGUSR2);
                end = now_ms() + 1000;
                while (atomic_load(&mask_hits) == before && now_ms() < end)
                        usleep(100);
                lost += atomic_load(&mask_hits) == before;
                atomic_store(&pass_done, r);
                /* a signal left to the blocker is taken as it opens */
                end = now_ms() + 2000;
                while (atomic_load(&mask_hits) == before && now_ms() < end)
                        usleep(100);
        }
        atomic_store(&pass_stop, 1);
        if (made == 2) {
                pthread_kill(taker, SIGUSR2);
                pthread_join(blocker, NULL);
                pthread_join(taker, NULL);
        }
        sigmask_call(SIG_SETMASK, &saved, NULL, 8);
        if (!CHECK("blocked_signal_passes_on", made == 2 && lost == 0))
                printf("# %d of %d signals waited for the blocker\n", lost,
                       PASS_ROUNDS);
}

static void no_big_lock_for_masks(void)
{
        long long before = lock_stat_acquired("big-kernel-lock");
        uint64_t usr1 = bit_of(SIGUSR1);

        if (before < 0)
                return;                 /* Linux: no such count */
        for (int i = 0; i < 10000; i++) {
                sigmask_call(SIG_BLOCK, &usr1, NULL, 8);
                sigmask_call(SIG_UNBLOCK, &usr1, NULL, 8);
        }
        long long taken = lock_stat_acquired("big-kernel-lock") - before;

        if (!CHECK("no_big_lock_for_masks", taken < 5000))
                printf("# the big kernel lock taken %lld times\n", taken);
}

#define PG      4096

/* n pages read+write between two PROT_NONE pages (no neighbour it could
 * merge with as its protection flips), each page's first byte its index
 * plus `mark`; NULL if mmap failed. */
static char *guarded(size_t n, char mark)
{
        char *g = mmap(NULL, (n + 2) * PG, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (g == MAP_FAILED ||
            mprotect(g + PG, n * PG, PROT_READ | PROT_WRITE) != 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                g[PG + i * PG] = (char)(mark + i);
        return g + PG;
}

static void unguard(char *p, size_t n)
{
        munmap(p - PG, (n + 2) * PG);
}

static __thread sigjmp_buf flip_escape;
static __thread volatile int flip_armed;

static void on_flip_segv(int sig)
{
        (void)sig;
        if (flip_armed)
                siglongjmp(flip_escape, 1);
        _exit(98);
}

/* Whether a read (write: a write) of *p faults. */
static bool faults(volatile char *p, bool write)
{
        bool hit = false;

        flip_armed = 1;
        if (sigsetjmp(flip_escape, 1) == 0) {
                if (write)
                        *p = 7;
                else
                        (void)*p;
        } else {
                hit = true;
        }
        flip_armed = 0;
        return hit;
}

/* A check made of numbered steps (STEP below): step is the first that
 * failed, 0 if none. */
static void steps_passed(const char *name, int step)
{
        if (!CHECK(name, step == 0))
                printf("# check %d failed\n", step);
}

static void mprotect_flips_as_linux(void)
{
        char *p = guarded(16, 1);
        int step = 0;                   /* the first check that failed */

#define STEP(cond) do { step++; if (!(cond)) goto out; } while (0)
        STEP(p != NULL);
        STEP(mprotect(p, 16 * PG, PROT_READ) == 0);
        STEP(p[3 * PG] == 4 && faults(p + 5 * PG, true));
        STEP(mprotect(p, 16 * PG, PROT_NONE) == 0);
        STEP(faults(p, false) && faults(p + 15 * PG, false));
        STEP(mprotect(p, 16 * PG, PROT_READ | PROT_WRITE) == 0);
        STEP(p[15 * PG] == 16 && !faults(p + 8 * PG, true));
        STEP(mprotect(p, 8 * PG, PROT_READ) == 0);              /* split */
        STEP(faults(p + 2 * PG, true) && !faults(p + 9 * PG, true));
        STEP(mprotect(p, 16 * PG, PROT_READ | PROT_EXEC) == 0); /* merge */
        STEP(faults(p + 9 * PG, true) && p[PG] == 2);
        errno = 0;
        STEP(mprotect(p - 2 * PG, 4 * PG, PROT_READ) == -1 && errno == ENOMEM);
        errno = 0;
        /* The call itself: musl's mprotect rounds the address down. */
        STEP(syscall(SYS_mprotect, p + 1, PG, PROT_READ) == -1 &&
             errno == EINVAL);
        STEP(mprotect(p, 0, PROT_NONE) == 0 && p[0] == 1);
        step = 0;
#undef STEP
out:
        if (p)
                unguard(p, 16);
        steps_passed("mprotect_flips_as_linux", step);
}

#define FLIPS   2000

static void *flip_own(void *arg)
{
        char mark = (char)(syscall(SYS_gettid) * 32);

        (void)arg;
        char *p = guarded(4, mark);
        long bad = p ? 0 : 1;

        for (int i = 0; p && i < FLIPS; i++) {
                if (mprotect(p, 4 * PG, PROT_READ) != 0 ||
                    p[2 * PG] != (char)(mark + 2 + i))
                        bad++;
                if (mprotect(p, 4 * PG, PROT_READ | PROT_WRITE) != 0)
                        bad++;
                else
                        p[2 * PG]++;
        }
        if (p)
                unguard(p, 4);
        return (void *)bad;
}

static void flips_from_every_thread(void)
{
        CHECK("flips_from_every_thread", on_every_thread(flip_own) == 0);
}

#define WRITER_ROUNDS   100

static struct {
        atomic_int go, writing, faulted;        /* round numbers */
        char *volatile page;
} flip_race;

static void *write_until_fault(void *arg)
{
        (void)arg;
        for (volatile int round = 1; round <= WRITER_ROUNDS; round++) {
                while (atomic_load(&flip_race.go) != round)
                        ;
                volatile char *p = flip_race.page;

                flip_armed = 1;
                if (sigsetjmp(flip_escape, 1) == 0) {
                        for (;;) {
                                *p = (char)round;
                                atomic_store(&flip_race.writing, round);
                        }
                }
                flip_armed = 0;
                atomic_store(&flip_race.faulted, round);
        }
        return NULL;
}

static void writer_faults_after_flip(void)
{
        pthread_t t;
        int late = 0;

        if (pthread_create(&t, NULL, write_until_fault, NULL) != 0) {
                CHECK("writer_faults_after_flip", false);
                return;
        }
        for (int round = 1; round <= WRITER_ROUNDS; round++) {
                char *p = guarded(2, 0);

                flip_race.page = p + PG;
                atomic_store(&flip_race.go, round);
                while (atomic_load(&flip_race.writing) != round)
                        ;
                long long t0 = now_ms();

                if (mprotect(p, 2 * PG, PROT_READ) != 0)
                        late++;
                while (atomic_load(&flip_race.faulted) != round &&
                       now_ms() - t0 < 5000)
                        ;
                if (atomic_load(&flip_race.faulted) != round)
                        late++;
                unguard(p, 2);
        }
        if (late == 0)
                pthread_join(t, NULL);
        CHECK("writer_faults_after_flip", late == 0);
}

static void no_big_lock_for_mprotect(void)
{
        long long before = lock_stat_acquired("big-kernel-lock");

        if (before < 0)
                return;                 /* Linux: no such count */
        char *p = guarded(256, 0);
        int bad = p ? 0 : 1;

        before = lock_stat_acquired("big-kernel-lock");
        for (int i = 0; p && i < 5000; i++)
                bad += mprotect(p, 256 * PG, PROT_READ) != 0 ||
                       mprotect(p, 256 * PG, PROT_READ | PROT_EXEC) != 0;
        long long taken = lock_stat_acquired("big-kernel-lock") - before;

        if (p)
                unguard(p, 256);
        if (!CHECK("no_big_lock_for_mprotect", bad == 0 && taken < 5000))
                printf("# the big kernel lock taken %lld times\n", taken);
}

static void munmap_as_linux(void)
{
        char *p = guarded(16, 1), *q = MAP_FAILED;
        int step = 0;                   /* the first check that failed */

#define STEP(cond) do { step++; if (!(cond)) goto out; } while (0)
        STEP(p != NULL);
        STEP(munmap(p, 16 * PG) == 0);
        STEP(faults(p, false) && faults(p + 15 * PG, true));
        STEP(munmap(p, 16 * PG) == 0);                  /* nothing there */
        q = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        STEP(q != MAP_FAILED);
        for (int i = 0; i < 16; i++)
                q[i * PG] = (char)(i + 1);
        STEP(munmap(q + 4 * PG, 4 * PG) == 0);          /* split */
        STEP(faults(q + 5 * PG, false) && q[3 * PG] == 4 && q[8 * PG] == 9);
        STEP(mmap(q + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
             q + 4 * PG && q[4 * PG] == 0 && q[7 * PG] == 0);
        errno = 0;
        STEP(syscall(SYS_munmap, q + 1, PG) == -1 && errno == EINVAL);
        errno = 0;
        STEP(syscall(SYS_munmap, q, 0) == -1 && errno == EINVAL);
        STEP(q[15 * PG] == 16);
        step = 0;
#undef STEP
out:
        if (q != MAP_FAILED)
                munmap(q, 16 * PG);
        if (p)
                munmap(p - PG, 18 * PG);
        steps_passed("munmap_as_linux", step);
}

#define UNMAPS  2000

static void *map_write_unmap(void *arg)
{
        char mark = (char)(syscall(SYS_gettid) * 16);
        long bad = 0;

        (void)arg;
        for (int i = 0; i < UNMAPS; i++) {
                char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                if (p == MAP_FAILED) {
                        bad++;
                        continue;
                }
                for (int j = 0; j < 16; j++)
                        p[j * PG] = (char)(mark + i + j);
                for (int j = 0; j < 16; j++)
                        bad += p[j * PG] != (char)(mark + i + j);
                bad += munmap(p, 16 * PG) != 0;
        }
        return (void *)bad;
}

/* MemFree in /proc/meminfo, in KiB (-1: none). */
static long mem_free_kb(void)
{
        char buf[4096];
        long kb = -1;
        FILE *f = fopen("/proc/meminfo", "r");

        while (f && fgets(buf, sizeof buf, f))
                if (sscanf(buf, "MemFree: %ld kB", &kb) == 1)
                        break;
        if (f)
                fclose(f);
        return kb;
}

static void unmaps_from_every_thread(void)
{
        long before = mem_free_kb();
        bool ok = on_every_thread(map_write_unmap) == 0;
        long after = mem_free_kb();

        if (!CHECK("unmaps_from_every_thread", ok && before > 0 &&
                   after > before - 16 * 1024))
                printf("# MemFree %ld kB before, %ld kB after\n", before,
                       after);
}

static void mmap_as_linux(void)
{
        const int rw = PROT_READ | PROT_WRITE;
        const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
        char *p = mmap(NULL, 16 * PG, rw, anon, -1, 0), *q = MAP_FAILED;
        char *r = MAP_FAILED;
        int step = 0;                   /* the first check that failed */

#define STEP(cond) do { step++; if (!(cond)) goto out; } while (0)
        STEP(p != MAP_FAILED && ((uintptr_t)p & (PG - 1)) == 0);
        STEP(p[0] == 0 && p[15 * PG] == 0);
        for (int i = 0; i < 16; i++)
                p[i * PG] = (char)(i + 1);
        /* A hint where nothing is: taken. */
        STEP(munmap(p + 8 * PG, 8 * PG) == 0);
        q = mmap(p + 8 * PG, 8 * PG, rw, anon, -1, 0);
        STEP(q == p + 8 * PG && q[0] == 0 && p[7 * PG] == 8);
        /* Read-only: a write there is SIGSEGV. */
        r = mmap(NULL, 4 * PG, PROT_READ, anon | MAP_NORESERVE, -1, 0);
        STEP(r != MAP_FAILED && r[PG] == 0 && faults(r, true));
        STEP(munmap(r, 4 * PG) == 0);
        r = MAP_FAILED;
        /* In the hole between two written halves: all of it works. */
        q[7 * PG] = 9;
        STEP(munmap(p + 4 * PG, 8 * PG) == 0);
        STEP(mmap(p + 4 * PG, 8 * PG, rw, anon, -1, 0) == p + 4 * PG);
        STEP(p[3 * PG] == 4 && p[4 * PG] == 0 && p[11 * PG] == 0 &&
             q[7 * PG] == 9);
        p[6 * PG] = 1;
        STEP(p[6 * PG] == 1);
        step = 0;
#undef STEP
out:
        if (r != MAP_FAILED)
                munmap(r, 4 * PG);
        if (p != MAP_FAILED)
                munmap(p, 16 * PG);
        steps_passed("mmap_as_linux", step);
}

static void no_big_lock_for_mmap_munmap(void)
{
        long long before = lock_stat_acquired("big-kernel-lock");
        int bad = 0;

        if (before < 0)
                return;                 /* Linux: no such count */
        for (int i = 0; i < 5000; i++) {
                char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                bad += p == MAP_FAILED || munmap(p, 16 * PG) != 0;
        }
        long long taken = lock_stat_acquired("big-kernel-lock") - before;

        if (!CHECK("no_big_lock_for_mmap_munmap", bad == 0 && taken < 2500))
                printf("# the big kernel lock taken %lld times\n", taken);
}

int main(void)
{
        utest_start("lockfree_calls");
        me = getpid();
        parent = getppid();
        uid = getuid(), euid = geteuid(), gid = getgid(), egid = getegid();
        ids_from_every_thread();
        getppid_follows_the_exit();
        signal_ends_the_loop();
        kill_ends_the_loop();
        no_big_lock();
        yields_from_every_thread();
        exit_ends_sleeping_threads();
        signal_ends_a_sleep();
        sleep_restarts_after_a_stop();
        sleep_arguments_anywhere();
        no_big_lock_to_yield_or_sleep();
        futex_words_anywhere();
        futex_hand_over_loses_no_wake();
        condvar_rounds();
        no_big_lock_for_futexes();
        mask_calls_as_linux();
        unblocked_signal_taken_at_once();
        blocked_signal_passes_on();
        no_big_lock_for_masks();
        struct sigaction sa = { .sa_handler = on_flip_segv,
                                .sa_flags = SA_NODEFER };
        sigaction(SIGSEGV, &sa, NULL);
        mprotect_flips_as_linux();
        flips_from_every_thread();
        writer_faults_after_flip();
        no_big_lock_for_mprotect();
        munmap_as_linux();
        unmaps_from_every_thread();
        mmap_as_linux();
        no_big_lock_for_mmap_munmap();
        return utest_done();
}
