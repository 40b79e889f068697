/*
 * test_spinlock.c - spinlocks' bookkeeping and the lock-order checker
 * (kernel/lib/spinlock.c) on the host's one "CPU": which orders pass,
 * which panic and with what message, and that a panic leaves the
 * checker's state as it was; the contention counts of /proc/lock_stat
 * (one wait made by a second host thread playing CPU 1).
 */
#define _POSIX_C_SOURCE 200809L        /* nanosleep */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <mercator/spinlock.h>

static struct spinlock outer = SPINLOCK_INIT("test-outer", LOCK_RANK_TEST_OUTER);
static struct spinlock inner = SPINLOCK_INIT("test-inner", LOCK_RANK_TEST_INNER);
static struct spinlock console = SPINLOCK_INIT("test-console", LOCK_RANK_CONSOLE);

TEST(rule_allows_only_rising_ranks)
{
        unsigned held[] = { 5, 30, 40 }, bad = 99;

        CHECK(lock_order_ok(held, 0, 1, &bad));
        CHECK(lock_order_ok(held, 3, 41, &bad));
        CHECK_EQ(bad, 99);
        CHECK(!lock_order_ok(held, 3, 40, &bad));       /* same rank */
        CHECK_EQ(bad, 2);
        CHECK(!lock_order_ok(held, 3, 10, &bad));
        CHECK_EQ(bad, 1);
        CHECK(!lock_order_ok(held, 3, 1, NULL));
        CHECK(lock_order_ok(held, 1, 10, NULL));
}

TEST(in_order_nests_and_releases_in_any_order)
{
        CHECK_EQ(lock_held_count(), 0);
        spin_lock(&outer);
        spin_lock(&inner);
        spin_lock(&console);
        CHECK_EQ(lock_held_count(), 3);
        CHECK(spin_held(&outer) && spin_held(&inner) && spin_held(&console));
        spin_unlock(&inner);                    /* not the last taken */
        CHECK(!spin_held(&inner));
        CHECK_EQ(lock_held_count(), 2);
        EXPECT_PANIC(spin_lock(&inner));        /* under console: no */
        spin_unlock(&console);
        spin_unlock(&outer);
        CHECK_EQ(lock_held_count(), 0);
        CHECK(!spin_held(&outer));
}

TEST(out_of_order_panics_naming_both)
{
        spin_lock(&inner);
        EXPECT_PANIC(spin_lock(&outer));
        CHECK(strstr(check_panic_msg, "lock order: test-outer (rank 5) "
                     "taken while holding test-inner (rank 40)"));
        CHECK_EQ(lock_held_count(), 1);         /* outer never counted */
        CHECK(!outer.locked);
        spin_unlock(&inner);
        CHECK_EQ(lock_held_count(), 0);
}

TEST(same_rank_twice_panics)
{
        struct spinlock a = SPINLOCK_INIT("a", LOCK_RANK_TEST_INNER);
        struct spinlock b = SPINLOCK_INIT("b", LOCK_RANK_TEST_INNER);

        spin_lock(&a);
        EXPECT_PANIC(spin_lock(&b));
        CHECK(strstr(check_panic_msg, "lock order: b (rank 40)"));
        spin_unlock(&a);
}

TEST(retake_and_foreign_unlock_panic)
{
        spin_lock(&inner);
        EXPECT_PANIC(spin_lock(&inner));
        CHECK(strstr(check_panic_msg, "test-inner taken again"));
        spin_unlock(&inner);
        EXPECT_PANIC(spin_unlock(&outer));
        CHECK(strstr(check_panic_msg, "released by a CPU that does not hold"));
        CHECK_EQ(lock_held_count(), 0);
}

/* A trylock never waits: it is not order-checked, fails on a held lock,
 * and what is taken under it is checked against it. */
TEST(trylock)
{
        spin_lock(&inner);
        CHECK(!spin_trylock(&inner));
        CHECK(spin_trylock(&outer));            /* out of order, allowed */
        CHECK_EQ(lock_held_count(), 2);
        spin_unlock(&outer);
        spin_unlock(&inner);
        CHECK(spin_trylock(&inner));
        EXPECT_PANIC(spin_lock(&outer));
        spin_unlock(&inner);
        CHECK_EQ(lock_held_count(), 0);
}

TEST(too_many_held_panics)
{
        struct spinlock l[LOCK_MAX_HELD + 1];

        for (unsigned i = 0; i <= LOCK_MAX_HELD; i++)
                spin_init(&l[i], "deep", 100 + i);
        for (unsigned i = 0; i < LOCK_MAX_HELD; i++)
                spin_lock(&l[i]);
        EXPECT_PANIC(spin_lock(&l[LOCK_MAX_HELD]));
        CHECK(strstr(check_panic_msg, "more than 8 locks"));
        for (unsigned i = 0; i < LOCK_MAX_HELD; i++)
                spin_unlock(&l[i]);
        CHECK_EQ(lock_held_count(), 0);
}

static struct spinlock shared = SPINLOCK_INIT("test-shared", LOCK_RANK_TEST_INNER);
static atomic_int second_started;

static void *second_cpu(void *arg)
{
        (void)arg;
        host_cpu = 1;
        atomic_store(&second_started, 1);
        spin_lock(&shared);             /* most often held: it waits */
        spin_unlock(&shared);
        return NULL;
}

TEST(lock_stat_counts_acquisitions_and_waits)
{
        struct lock_stat a = lock_stat_sum(LOCK_RANK_TEST_INNER), b;
        bool waited = false;

        spin_lock(&shared);
        spin_unlock(&shared);
        CHECK(spin_trylock(&shared));
        spin_unlock(&shared);
        b = lock_stat_sum(LOCK_RANK_TEST_INNER);
        CHECK_EQ(b.acquired - a.acquired, 2);
        CHECK_EQ(b.contended - a.contended, 0);
        /* CPU 1 asks for the lock while CPU 0 holds it: one wait, counted
         * on CPU 1's row and seen in the sum (tries until the thread got
         * there in time). */
        for (int try = 0; try < 50 && !waited; try++) {
                pthread_t t;

                a = lock_stat_sum(LOCK_RANK_TEST_INNER);
                atomic_store(&second_started, 0);
                spin_lock(&shared);
                CHECK_EQ(pthread_create(&t, NULL, second_cpu, NULL), 0);
                while (!atomic_load(&second_started))
                        ;
                nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
                spin_unlock(&shared);
                pthread_join(t, NULL);
                b = lock_stat_sum(LOCK_RANK_TEST_INNER);
                CHECK_EQ(b.acquired - a.acquired, 2);
                waited = b.contended - a.contended == 1;
        }
        CHECK(waited);
        /* Each CPU's row holds its own: the sum is the rows'. */
        b = lock_stat_sum(LOCK_RANK_TEST_INNER);
        CHECK_EQ(lock_stat_cpu(0, LOCK_RANK_TEST_INNER).acquired +
                 lock_stat_cpu(1, LOCK_RANK_TEST_INNER).acquired, b.acquired);
        CHECK(lock_stat_cpu(1, LOCK_RANK_TEST_INNER).contended >= 1);
        CHECK_EQ(lock_stat_cpu(LOCK_MAX_CPUS, LOCK_RANK_TEST_INNER).acquired, 0);
        /* The longest wait is kept, on whichever CPU it was. */
        a = lock_stat_sum(LOCK_RANK_TEST_INNER);
        lock_stat_note(LOCK_RANK_TEST_INNER, true, a.wait_max_ns + 7000);
        lock_stat_note(LOCK_RANK_TEST_INNER, true, 1);
        b = lock_stat_sum(LOCK_RANK_TEST_INNER);
        CHECK_EQ(b.wait_max_ns, a.wait_max_ns + 7000);
        CHECK_EQ(b.wait_ns - a.wait_ns, a.wait_max_ns + 7001);
        /* Ranks beyond the table are not counted, and cannot be asked. */
        a = lock_stat_sum(LOCK_STAT_RANKS);
        CHECK_EQ(a.acquired, 0);
        lock_stat_note(LOCK_STAT_RANKS + 5, true, 1);
        CHECK_EQ(lock_stat_sum(LOCK_STAT_RANKS + 5).acquired, 0);
}

TEST(every_rank_has_a_name)
{
        static const unsigned ranks[] = {
                LOCK_RANK_TEST_OUTER, LOCK_RANK_BIG, LOCK_RANK_SPACE_DOOR,
                LOCK_RANK_SPACE_FAULT, LOCK_RANK_OBJECT_PUTS,
                LOCK_RANK_OBJECT, LOCK_RANK_SPACE_PMAP, LOCK_RANK_KMALLOC,
                LOCK_RANK_PMM_ZONE, LOCK_RANK_MEMCG, LOCK_RANK_SMP_CALL,
                LOCK_RANK_TEST_INNER, LOCK_RANK_BLKDEV, LOCK_RANK_FUTEX,
                LOCK_RANK_SCHED, LOCK_RANK_VVAR, LOCK_RANK_CONSOLE,
        };

        for (unsigned i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
                CHECK(lock_rank_name(ranks[i]) != NULL);
        CHECK(lock_rank_name(11) == NULL);
        CHECK(!strcmp(lock_rank_name(LOCK_RANK_BIG), "big-kernel-lock"));
}
