/*
 * clock_set.c - the clocks while root changes the time (issue 17).
 *
 * HAMMERS processes read CLOCK_MONOTONIC, CLOCK_BOOTTIME and
 * CLOCK_REALTIME through libc (the vDSO where the kernel has one) in a
 * loop, while the first process moves the wall clock back and forth by
 * STEP, alternately with clock_settime and settimeofday. Checked in every
 * reader: MONOTONIC and BOOTTIME never go back; REALTIME - MONOTONIC is
 * always one of the two offsets the setter uses (a read never mixes an old
 * offset with a new counter); and whenever no set was under way around a
 * read, it is the offset of the last set that returned (REALTIME follows
 * each change at once, in every process). The setter's own read after
 * each set agrees too, and at the end the clock is put back.
 *
 * Setting the wall clock is only done where tools/run booted the program
 * (Mercator, or Linux in QEMU as the referee: /.mercator-args exists) and
 * as root; on the host it would move the host's clock, so there it prints
 * a NOTE and checks monotonicity with nobody setting the clock.
 */
#include "utest.h"

#include <sched.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define NSEC    1000000000LL
#define HAMMERS 3
#define SETS    200
#define STEP    (1000 * NSEC)   /* the wall clock jumps by 1000 s */
#define SLACK   (10 * NSEC)     /* set-to-read distance allowed (a loaded
                                 * host may stop the VM that long) */

static int64_t now(clockid_t id)
{
        struct timespec ts;

        if (clock_gettime(id, &ts) != 0)
                return -1;
        return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

/* What the setter publishes in shared memory. */
struct board {
        atomic_uint gen;                /* sets completed */
        atomic_uint busy;               /* a set is under way */
        atomic_uint stop;               /* readers may finish */
        int64_t     off[SETS + 1];      /* REALTIME - MONOTONIC after set g */
};

static int64_t dist(int64_t a, int64_t b)
{
        return a > b ? a - b : b - a;
}

/* One reader: 1 (MONOTONIC back), 2 (BOOTTIME back), 3 (an offset that
 * is neither), 4 (a quiet read whose offset is not the last set's), 5 (no
 * quiet read at all while the clock was being set); else 0. */
static int reader(struct board *b, int64_t base, int setting)
{
        int64_t prev_m = 0, prev_b = 0;
        long quiet = 0;

        for (long i = 0; !atomic_load(&b->stop) || i < 20000; i++) {
                unsigned g1 = atomic_load(&b->gen), busy1 = atomic_load(&b->busy);
                int64_t m = now(CLOCK_MONOTONIC), bt = now(CLOCK_BOOTTIME);
                int64_t r = now(CLOCK_REALTIME), m2 = now(CLOCK_MONOTONIC);
                unsigned busy2 = atomic_load(&b->busy), g2 = atomic_load(&b->gen);
                int64_t off = r - m2;

                if (m < prev_m || m2 < m)
                        return 1;
                if (bt < prev_b)
                        return 2;
                prev_m = m2;
                prev_b = bt;
                if (dist(off, base) > SLACK && dist(off, base + STEP) > SLACK)
                        return 3;
                if (setting && g1 == g2 && !busy1 && !busy2 && g1 > 0) {
                        if (dist(off, b->off[g1]) > SLACK)
                                return 4;
                        quiet++;
                }
                if (i % 64 == 0)
                        sched_yield();
                if (i > 2000000)
                        break;
        }
        return setting && quiet == 0 ? 5 : 0;
}

/* Set REALTIME to MONOTONIC + off, by clock_settime or settimeofday. */
static int set_offset(int64_t off, int how)
{
        int64_t t = now(CLOCK_MONOTONIC) + off;

        if (how == 0) {
                struct timespec ts = { .tv_sec = t / NSEC, .tv_nsec = t % NSEC };

                return clock_settime(CLOCK_REALTIME, &ts);
        }
        struct timeval tv = { .tv_sec = t / NSEC, .tv_usec = t % NSEC / 1000 };

        return settimeofday(&tv, NULL);
}

int main(void)
{
        int setting = access("/.mercator-args", F_OK) == 0 && geteuid() == 0;
        struct board *b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        int64_t base = now(CLOCK_REALTIME) - now(CLOCK_MONOTONIC);
        pid_t kids[HAMMERS];
        int ok = 1, sets = 0, own = 1, status[HAMMERS];

        utest_start("clock_set");
        if (!CHECK("shared_board", b != MAP_FAILED))
                return utest_done();
        if (!setting)
                printf("NOTE clock_set: not booted by tools/run as root, so "
                       "the wall clock is not set under the hammer\n");
        for (int i = 0; i < HAMMERS; i++)
                if ((kids[i] = fork()) == 0)
                        _exit(reader(b, base, setting));
        for (int n = 1; setting && n <= SETS; n++) {
                int64_t off = base + (n % 2 ? STEP : 0);

                atomic_store(&b->busy, 1);
                if (set_offset(off, n % 4 < 2) == 0)
                        sets++;
                b->off[n] = now(CLOCK_REALTIME) - now(CLOCK_MONOTONIC);
                own &= dist(b->off[n], off) <= SLACK;
                atomic_store(&b->gen, (unsigned)n);
                atomic_store(&b->busy, 0);
                for (int y = 0; y < 20; y++)
                        sched_yield();
        }
        atomic_store(&b->stop, 1);
        for (int i = 0; i < HAMMERS; i++) {
                status[i] = -1;
                waitpid(kids[i], &status[i], 0);
                ok &= WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0;
        }
        if (setting) {
                set_offset(base, 0);
                CHECK("every_set_succeeded", sets == SETS);
                CHECK("setter_reads_its_own_set", own);
                CHECK("clock_put_back",
                      dist(now(CLOCK_REALTIME) - now(CLOCK_MONOTONIC), base) <=
                      SLACK);
        }
        for (int i = 0; i < HAMMERS; i++)
                if (!WIFEXITED(status[i]) || WEXITSTATUS(status[i]) != 0)
                        printf("reader %d: status %#x\n", i, status[i]);
        CHECK("monotonic_and_realtime_under_hammer", ok);
        return utest_done();
}
