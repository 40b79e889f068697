/*
 * pthreads.c - the C library's threads on the kernel's: pthread_create
 * and join, detached threads, mutexes, condition variables, thread-local
 * storage, the exit wake pthread_join waits for, ids, and a shared
 * descriptor table, working directory and memory. Built with musl and
 * with glibc (GLIBC_TESTS).
 */
#include "utest.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define NTHREADS 8
#define ROUNDS   2000

static __thread int tls_value = 42;
static __thread char tls_buf[64];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready, go;

static pid_t gettid_(void)
{
        return (pid_t)syscall(SYS_gettid);
}

struct result {
        int   index;
        pid_t pid, tid;
        int   tls_start;
        int   tls_after;
        void *tls_addr;
};

static void *worker(void *arg)
{
        struct result *r = arg;

        r->pid = getpid();
        r->tid = gettid_();
        r->tls_start = tls_value;       /* every thread starts from 42 */
        tls_value = 1000 + r->index;
        snprintf(tls_buf, sizeof tls_buf, "thread %d", r->index);
        r->tls_addr = &tls_value;
        for (int i = 0; i < ROUNDS; i++) {
                pthread_mutex_lock(&lock);
                long c = counter;
                if (i % 97 == 0)
                        sched_yield();  /* the lock must hold across this */
                counter = c + 1;
                pthread_mutex_unlock(&lock);
        }
        r->tls_after = tls_value == 1000 + r->index &&
                       strcmp(tls_buf, "thread") > 0;
        return (void *)(long)(r->index * 3);
}

static void test_create_join(void)
{
        pthread_t th[NTHREADS];
        struct result res[NTHREADS];
        int created = 0, joined = 0, ids_ok = 1, tls_ok = 1, values_ok = 1;

        for (int i = 0; i < NTHREADS; i++) {
                res[i] = (struct result){ .index = i };
                created += pthread_create(&th[i], NULL, worker, &res[i]) == 0;
        }
        CHECK("create", created == NTHREADS);
        for (int i = 0; i < created; i++) {
                void *ret;
                if (pthread_join(th[i], &ret) == 0)
                        joined++;
                values_ok &= ret == (void *)(long)(i * 3);
        }
        CHECK("join", joined == created);
        CHECK("join_value", values_ok);
        CHECK("mutex_counts", counter == (long)NTHREADS * ROUNDS);
        for (int i = 0; i < created; i++) {
                ids_ok &= res[i].pid == getpid() && res[i].tid != getpid() &&
                          res[i].tid > 0;
                for (int j = 0; j < i; j++)
                        ids_ok &= res[i].tid != res[j].tid;
                tls_ok &= res[i].tls_start == 42 && res[i].tls_after &&
                          res[i].tls_addr != &tls_value;
        }
        CHECK("getpid_is_group_gettid_is_thread", ids_ok);
        CHECK("gettid_main_is_pid", gettid_() == getpid());
        CHECK("tls_per_thread", tls_ok && tls_value == 42);
}

/* Condition variable: workers wait until main says go, then count. */
static int woke;

static void *waiter(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&lock);
        ready++;
        pthread_cond_broadcast(&cond);  /* main waits on it too */
        while (!go)
                pthread_cond_wait(&cond, &lock);
        woke++;
        pthread_mutex_unlock(&lock);
        return NULL;
}

static void test_condvar(void)
{
        pthread_t th[4];
        int n = 0;

        for (int i = 0; i < 4; i++)
                n += pthread_create(&th[i], NULL, waiter, NULL) == 0;
        pthread_mutex_lock(&lock);
        while (ready < n)
                pthread_cond_wait(&cond, &lock);
        CHECK("condvar_none_early", woke == 0);
        go = 1;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
        for (int i = 0; i < n; i++)
                pthread_join(th[i], NULL);
        CHECK("condvar_broadcast_wakes_all", n == 4 && woke == 4);

        /* a timed wait that nobody signals times out */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000)
                ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_mutex_lock(&lock);
        int r = pthread_cond_timedwait(&cond, &lock, &ts);
        pthread_mutex_unlock(&lock);
        CHECK("condvar_timedwait_times_out", r == ETIMEDOUT);
}

/* Detached threads: they run and vanish; nothing to join. */
static volatile int detached_ran;

static void *detached(void *arg)
{
        (void)arg;
        __atomic_add_fetch(&detached_ran, 1, __ATOMIC_SEQ_CST);
        return NULL;
}

static void test_detach(void)
{
        pthread_attr_t attr;
        pthread_t th;
        int ok = 1;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        for (int i = 0; i < 5; i++)
                ok &= pthread_create(&th, &attr, detached, NULL) == 0;
        pthread_attr_destroy(&attr);
        if (pthread_create(&th, NULL, detached, NULL) == 0)
                ok &= pthread_detach(th) == 0;
        else
                ok = 0;
        for (int i = 0; i < 1000 && detached_ran < 6; i++)
                usleep(1000);
        CHECK("detached_threads_run", ok && detached_ran == 6);
}

/* Many threads one after another: each one's stack and kernel state are
 * given back (a leak would exhaust the kernel's thread slots). */
static void *nothing(void *arg)
{
        return arg;
}

static void test_many(void)
{
        int ok = 0;

        for (int i = 0; i < 300; i++) {
                pthread_t th;
                void *ret;
                if (pthread_create(&th, NULL, nothing, (void *)(long)i) == 0 &&
                    pthread_join(th, &ret) == 0 && ret == (void *)(long)i)
                        ok++;
        }
        CHECK("create_join_300_in_turn", ok == 300);
}

/* Threads share descriptors, the working directory and memory. */
static int shared_fd = -1;
static char cwd_seen[256];

static void *sharer(void *arg)
{
        (void)arg;
        shared_fd = open("/", O_RDONLY | O_DIRECTORY);
        if (chdir("/") == 0 && getcwd(cwd_seen, sizeof cwd_seen))
                return (void *)1;
        return NULL;
}

static void test_sharing(void)
{
        pthread_t th;
        void *ret = NULL;
        char here[256], now[256];
        struct stat st;

        if (!getcwd(here, sizeof here))
                here[0] = 0;
        if (pthread_create(&th, NULL, sharer, NULL) == 0)
                pthread_join(th, &ret);
        CHECK("fd_opened_in_thread_usable", shared_fd >= 0 &&
              fstat(shared_fd, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK("chdir_in_thread_moves_process", ret &&
              getcwd(now, sizeof now) && strcmp(now, "/") == 0 &&
              strcmp(cwd_seen, "/") == 0);
        if (shared_fd >= 0)
                close(shared_fd);
        if (here[0] && chdir(here) != 0)
                printf("note: could not go back to %s\n", here);
}

/* A thread's exit wakes a futex on its CLONE_CHILD_CLEARTID word: join of
 * a thread still sleeping when join starts must return once it ends. */
static void *sleeper(void *arg)
{
        (void)arg;
        usleep(30000);
        return (void *)7;
}

static void test_join_waits(void)
{
        pthread_t th;
        void *ret = NULL;

        if (pthread_create(&th, NULL, sleeper, NULL) == 0)
                pthread_join(th, &ret);
        CHECK("join_waits_for_exit", ret == (void *)7);
}

/* fork in a threaded process: the child has one thread, the caller. */
static void *spin_briefly(void *arg)
{
        (void)arg;
        usleep(50000);
        return NULL;
}

static void test_fork_from_threaded(void)
{
        pthread_t th;
        int status = -1;

        pthread_create(&th, NULL, spin_briefly, NULL);
        pid_t pid = fork();
        if (pid == 0)
                _exit(getpid() == gettid_() ? 5 : 6);
        waitpid(pid, &status, 0);
        pthread_join(th, NULL);
        CHECK("fork_child_single_thread", WIFEXITED(status) &&
              WEXITSTATUS(status) == 5);
}

int main(void)
{
        utest_start("pthreads");
        test_create_join();
        test_condvar();
        test_detach();
        test_many();
        test_sharing();
        test_join_waits();
        test_fork_from_threaded();
        return utest_done();
}
