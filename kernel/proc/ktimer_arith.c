/*
 * ktimer_arith.c - the arithmetic of periodic timers, apart from any
 * process or clock so that the host tests run it (tests/host/test_ktimer.c).
 */
#include <proc/ktimer.h>

uint64_t ktimer_next(const struct ktimer *t, uint64_t now, uint64_t *missed)
{
        *missed = 0;
        if (!t->interval)
                return 0;
        /* Expiries at at, at + iv, at + 2 iv, ...: all those <= now are
         * due; one fires, the rest are overruns. */
        uint64_t periods = (now - t->at) / t->interval;
        *missed = periods;
        return t->at + (periods + 1) * t->interval;
}

uint64_t ktimer_remaining(const struct ktimer *t, uint64_t now)
{
        if (!t->at)
                return 0;
        return t->at > now ? t->at - now : 1;
}
