/*
 * bkl_halt_rounds.h - the driver of each SMP port's kernel test
 * smp_bkl_waiter_halts_and_the_release_kicks_it (tests/kernel/test_smp.c,
 * tests/kernel/riscv64/test_rv_smp.c): a CPU that waits for the big
 * kernel lock halts once it has spun a while, and the release kicks it
 * (kern/biglock.c, MACHINE_LOCK_HALT). The port gives the waiter, a
 * function CPU 1 runs through smp_call while this CPU holds the lock:
 * it releases its sender, sees to it that nothing but the kick can end
 * its halt, sets bkl_waiter_state to 1, takes and drops the lock (2), and
 * sets 3 when it is back as it was. Included by the port's test file
 * after its own headers (ncpus and smp_call come from its percpu.h).
 */
#ifndef TESTS_KERNEL_BKL_HALT_ROUNDS_H
#define TESTS_KERNEL_BKL_HALT_ROUNDS_H

#include <mercator/clock.h>
#include <mercator/ktest.h>
#include <mercator/spinlock.h>
#include <machine/cpu_local.h>
#include <machine/intr.h>

static uint32_t bkl_waiter_state;       /* 1 waiting, 2 took it, 3 done */

/* Up to ms milliseconds for CPU 1 to halt waiting (halted) or for the
 * waiter to reach state 3 (!halted); ms of waiting alone with neither. */
static bool bkl_halt_wait(bool halted, bool done, unsigned ms)
{
        uint64_t end = clock_monotonic_ns() + ms * 1000000ULL;

        for (;;) {
                if (halted && machine_kernel_lock_halted(1))
                        return true;
                if (done && __atomic_load_n(&bkl_waiter_state,
                                            __ATOMIC_ACQUIRE) == 3)
                        return true;
                if (clock_monotonic_ns() >= end)
                        return false;
                intr_cpu_relax();
        }
}

/* Ten rounds: CPU 1 runs waiter (its argument non-NULL in odd rounds if
 * alternate), must halt within two seconds, is held there hold_ms more,
 * and must take the lock within two seconds of its release. Without the
 * release's kick it never does (the test fails, CPU 1 stays halted). */
static void bkl_halt_rounds(void (*waiter)(void *), bool alternate,
                            unsigned hold_ms)
{
        bool took = true, halted = true;

        if (ncpus < 2)
                return;
        machine_kernel_lock();
        for (int round = 0; round < 10 && took && halted; round++) {
                __atomic_store_n(&bkl_waiter_state, 0, __ATOMIC_RELEASE);
                smp_call(1, waiter,
                         alternate && (round & 1) ? (void *)1 : NULL);
                halted = bkl_halt_wait(true, false, 2000);
                KCHECK(halted);
                (void)bkl_halt_wait(false, false, hold_ms);
                KCHECK_EQ(__atomic_load_n(&bkl_waiter_state,
                                          __ATOMIC_ACQUIRE), 1);
                machine_kernel_unlock();
                took = bkl_halt_wait(false, true, 2000);
                KCHECK(took);
                machine_kernel_lock();
        }
        machine_kernel_unlock();
        KCHECK_EQ(lock_held_count(), 0);
}

#endif
