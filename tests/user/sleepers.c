/*
 * sleepers.c - many processes asleep at once: a wake-up reaches the one
 * it is for, timed sleeps end at their time and never
 * early, and none is lost, whether the sleepers wait on a pipe of their
 * own, on one shared pipe, or on the clock (nanosleep, poll with a
 * timeout), or on both and woken before their time. Mercator keeps
 * sleepers in buckets by what they wait on and timed ones in a heap by
 * deadline (proc/sched.c); the checks hold on any kernel.
 */
#include "utest.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define OWN     150             /* children each on a pipe of their own */
#define TIMED   40              /* children asleep on the clock */

static uint64_t now_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* How many of the n children exited with status 0 (each waited for). */
static int reaped_clean(const pid_t *pids, int n)
{
        int ok = 0;

        for (int i = 0; i < n; i++) {
                int st;
                ok += waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) &&
                      WEXITSTATUS(st) == 0;
        }
        return ok;
}

/* Each child reads its own pipe; a byte written to pipe k wakes child k,
 * which answers with k on the shared answer pipe. The pipes are written
 * in an order unlike the children's, so a wake-up that missed child k
 * leaves it asleep and the test hangs (no other child has a byte to
 * answer with). */
static void own_pipes(void)
{
        static int in[OWN][2];
        pid_t pids[OWN];
        int ans[2], made = 0, right = 0;

        if (pipe(ans))
                return;
        for (; made < OWN; made++) {
                if (pipe(in[made]))
                        break;
                pid_t pid = fork();
                if (pid < 0)
                        break;
                if (pid == 0) {
                        unsigned char c;
                        close(in[made][1]);
                        if (read(in[made][0], &c, 1) != 1)
                                _exit(1);
                        c = (unsigned char)made;
                        _exit(write(ans[1], &c, 1) == 1 ? 0 : 2);
                }
                pids[made] = pid;
                close(in[made][0]);
        }
        CHECK("children_asleep_on_their_own_pipes", made == OWN);
        usleep(100 * 1000);             /* let every child reach its read */
        for (int n = 0; n < made; n++) {
                int k = (n * 37 + 11) % made;   /* 37 is prime to OWN */
                unsigned char c = 0;

                if (write(in[k][1], &c, 1) != 1 || read(ans[0], &c, 1) != 1)
                        break;
                right += c == k;
        }
        CHECK("each_write_woke_its_reader", right == made);
        for (int i = 0; i < made; i++)
                close(in[i][1]);
        CHECK("every_reader_exited_cleanly", reaped_clean(pids, made) == made);
        close(ans[0]);
        close(ans[1]);
}

/* Children asleep on the clock, each its own length (some in nanosleep,
 * some in poll with a timeout on a pipe nobody writes), while others
 * sleep on a pipe: each reports how long it slept; none may wake early,
 * all must wake. */
static void timed(void)
{
        pid_t pids[TIMED];
        int hold[2], made = 0;

        if (pipe(hold))
                return;
        for (; made < TIMED; made++) {
                pid_t pid = fork();
                if (pid < 0)
                        break;
                if (pid == 0) {
                        /* 10..400 ms, in no order */
                        uint64_t want = 10 + (uint64_t)(made * 73 % TIMED) * 10;
                        uint64_t t0 = now_ms();
                        close(hold[1]);
                        if (made % 2) {
                                struct timespec ts = { 0, (long)want * 1000000 };
                                while (nanosleep(&ts, &ts) && errno == EINTR)
                                        ;
                        } else {
                                struct pollfd pf = { .fd = hold[0],
                                                     .events = POLLIN };
                                if (poll(&pf, 1, (int)want) != 0)
                                        _exit(3);
                        }
                        uint64_t slept = now_ms() - t0;
                        _exit(slept + 1 >= want ? 0 : 4); /* ms rounding */
                }
                pids[made] = pid;
        }
        CHECK("children_asleep_on_the_clock", made == TIMED);
        CHECK("every_timed_sleeper_woke_never_early",
              reaped_clean(pids, made) == made);
        close(hold[0]);
        close(hold[1]);
}

/* Children in poll with a long timeout (3-6 s, in no order) on a pipe of
 * their own, each woken early by a byte written in yet another order:
 * each must see its byte before its time. A kernel that keeps timed
 * sleepers in order of deadline (Mercator's heap) takes each out of the
 * middle of that order; the timed sleepers after it must still wake
 * right. */
static void woken_before_their_time(void)
{
        enum { N = 60 };
        static int in[N][2];
        pid_t pids[N];
        int made = 0;

        for (; made < N; made++) {
                if (pipe(in[made]))
                        break;
                pid_t pid = fork();
                if (pid < 0)
                        break;
                if (pid == 0) {
                        int ms = 3000 + (made * 7 % N) * 50;
                        struct pollfd pf = { .fd = in[made][0],
                                             .events = POLLIN };
                        uint64_t t0 = now_ms();

                        close(in[made][1]);
                        if (poll(&pf, 1, ms) != 1)
                                _exit(1);
                        _exit(now_ms() - t0 < (uint64_t)ms ? 0 : 2);
                }
                pids[made] = pid;
                close(in[made][0]);
        }
        usleep(100 * 1000);             /* let every child reach its poll */
        for (int n = 0; n < made; n++) {
                unsigned char c = 0;

                if (write(in[(n * 13 + 5) % made][1], &c, 1) != 1)
                        break;
        }
        CHECK("timed_sleepers_woken_early_by_their_pipes",
              made == N && reaped_clean(pids, made) == N);
        for (int i = 0; i < made; i++)
                close(in[i][1]);
}

/* One pipe, many readers: closing the writer wakes every one. */
static void shared_pipe(void)
{
        enum { N = 100 };
        pid_t pids[N];
        int p[2], made = 0;

        if (pipe(p))
                return;
        for (; made < N; made++) {
                pid_t pid = fork();
                if (pid < 0)
                        break;
                if (pid == 0) {
                        char c;
                        close(p[1]);
                        _exit(read(p[0], &c, 1) == 0 ? 0 : 1);
                }
                pids[made] = pid;
        }
        usleep(50 * 1000);
        close(p[1]);
        CHECK("one_close_wakes_every_reader",
              made == N && reaped_clean(pids, made) == N);
        close(p[0]);
}

int main(void)
{
        utest_start("sleepers");
        own_pipes();
        woken_before_their_time();
        timed();
        shared_pipe();
        return utest_done();
}
