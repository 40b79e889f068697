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
 */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

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

static void ids_from_every_thread(void)
{
        pthread_t th[THREADS];
        long wrong = 0;
        int made = 0;

        for (int i = 0; i < THREADS; i++)
                made += pthread_create(&th[i], NULL, ask, NULL) == 0;
        for (int i = 0; i < made; i++) {
                void *r;

                pthread_join(th[i], &r);
                wrong += (long)r;
        }
        CHECK("ids_from_every_thread", made == THREADS && wrong == 0);
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
        return utest_done();
}
