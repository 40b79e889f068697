/*
 * test_vdso_anchor.c - the vDSO's anchor arithmetic (mercator/vdso_data.h):
 * the clocks written at the anchor plus vdso_anchor_add's 32-bit product
 * must be exactly what vdso_counter_ns gives at the same counter value,
 * for any base, counter rate over 1 GHz, realtime offset and distance
 * from the anchor under 2^31 counts; so a time read through i386's
 * vdso/clock.S (which does this sum in assembly) and one read through
 * the system call can never disagree in order.
 */
#include "check.h"

#include <mercator/vdso_data.h>

#define NSEC 1000000000ull

/* What a reader of the anchor computes, in C: seconds and nanoseconds of
 * MONOTONIC (real false) or REALTIME at counter value now. */
static void anchored(const struct vdso_data *d, bool real, uint64_t now,
                     uint64_t *sec, uint64_t *nsec)
{
        uint64_t s = real ? d->real_sec : d->mono_sec;
        uint64_t ns = (real ? d->real_nsec : d->mono_nsec) +
                      (uint64_t)vdso_anchor_add((uint32_t)(now - d->anchor),
                                                d->anchor_mult, d->anchor_frac);

        *sec = s + ns / NSEC;
        *nsec = ns % NSEC;
}

static void check_at(struct vdso_data *d, uint64_t at, uint64_t t)
{
        uint64_t mono, sec, nsec;

        vdso_anchor_set(d, at);
        CHECK(d->anchor_mult != 0);
        mono = vdso_counter_ns(d->counter_base, d->mult, at + t);
        anchored(d, false, at + t, &sec, &nsec);
        CHECK_EQ(sec * NSEC + nsec, mono);
        CHECK(nsec < NSEC);
        anchored(d, true, at + t, &sec, &nsec);
        CHECK_EQ(sec * NSEC + nsec, mono + d->realtime_offset);
}

TEST(anchor_plus_product_is_the_counter_formula)
{
        struct rng r;
        struct vdso_data d = { .mode = VDSO_MODE_TSC };

        rng_seed(&r, check_seed(20261205));
        for (int i = 0; i < 200000; i++) {
                /* 1 to 5 GHz: mult = 10^6 << 32 / counts per ms */
                d.mult = vdso_mult(1000001 + rng_below(&r, 4000000));
                d.counter_base = rng_next(&r);
                /* up to ~30 years of uptime, and a wall clock up to 2200 */
                uint64_t at = d.counter_base + rng_below(&r, 1ull << 62);
                d.realtime_offset = rng_below(&r, 7000000000ull * NSEC);
                uint64_t t = i % 4 == 0 ? (1u << 31) - 1 - rng_below(&r, 4)
                                        : rng_below(&r, 1u << 31);
                check_at(&d, at, t);
        }
}

TEST(edges)
{
        struct vdso_data d = { .mode = VDSO_MODE_TSC,
                               .mult = vdso_mult(1000001) };  /* the largest */

        CHECK_EQ(d.mult, 0xffffef39ull);        /* 32-bit mult: just under 2^32 */
        check_at(&d, 0, 0);
        check_at(&d, 0, (1u << 31) - 1);
        check_at(&d, 1ull << 62, 1);          /* 50 years at 3 GHz */
        d.counter_base = 5;
        check_at(&d, 5, 7);                     /* the anchor at the base */
        d.realtime_offset = NSEC - 1;
        check_at(&d, 1ull << 40, 12345);
}

TEST(no_anchor_without_a_fast_counter_or_on_a_namespace_page)
{
        struct vdso_data d = { .mode = VDSO_MODE_TSC, .mult = vdso_mult(1000000) };

        vdso_anchor_set(&d, 1000);              /* 1 GHz: mult is 2^32 */
        CHECK_EQ(d.anchor_mult, 0);
        d.mult = vdso_mult(3000000);
        vdso_anchor_set(&d, 1000);
        CHECK(d.anchor_mult != 0);
        d.mode = VDSO_MODE_NONE;
        vdso_anchor_set(&d, 1000);
        CHECK_EQ(d.anchor_mult, 0);
        d.mode = VDSO_MODE_TIMENS;
        vdso_anchor_set(&d, 1000);
        CHECK_EQ(d.anchor_mult, 0);
}
