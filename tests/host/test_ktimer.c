/*
 * test_ktimer.c - the arithmetic of periodic timers (kernel/proc/
 * ktimer_arith.c): the next expiry, overruns, time left.
 */
#include "check.h"

#include <proc/ktimer.h>

TEST(one_shot_disarms)
{
        struct ktimer t = { 1000, 0 };
        uint64_t missed = 99;

        CHECK_EQ(ktimer_next(&t, 1000, &missed), 0);
        CHECK_EQ(missed, 0);
        CHECK_EQ(ktimer_next(&t, 5000, &missed), 0);
}

TEST(periodic_on_time)
{
        struct ktimer t = { 1000, 100 };
        uint64_t missed;

        CHECK_EQ(ktimer_next(&t, 1000, &missed), 1100);
        CHECK_EQ(missed, 0);
        CHECK_EQ(ktimer_next(&t, 1099, &missed), 1100);
        CHECK_EQ(missed, 0);
}

TEST(periodic_late_counts_overruns)
{
        struct ktimer t = { 1000, 100 };
        uint64_t missed;

        /* Due at 1000, 1100, 1200, 1300 by 1350: one fires, three missed. */
        CHECK_EQ(ktimer_next(&t, 1350, &missed), 1400);
        CHECK_EQ(missed, 3);
        CHECK_EQ(ktimer_next(&t, 1400, &missed), 1500);
        CHECK_EQ(missed, 4);
}

TEST(never_early_and_stays_on_grid)
{
        struct ktimer t = { 7, 13 };
        uint64_t missed;

        for (uint64_t now = 7; now < 5000; now += 37) {
                uint64_t next = ktimer_next(&t, now, &missed);
                CHECK(next > now);
                CHECK_EQ((next - 7) % 13, 0);
                CHECK(next - now <= 13);
                CHECK_EQ(missed, (now - 7) / 13);
        }
}

TEST(remaining)
{
        struct ktimer off = { 0, 0 }, t = { 500, 0 };

        CHECK_EQ(ktimer_remaining(&off, 100), 0);
        CHECK_EQ(ktimer_remaining(&t, 100), 400);
        CHECK_EQ(ktimer_remaining(&t, 500), 1);        /* due, not fired */
        CHECK_EQ(ktimer_remaining(&t, 900), 1);
}
