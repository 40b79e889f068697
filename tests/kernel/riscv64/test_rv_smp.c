/*
 * test_rv_smp.c - the other harts (kernel/arch/riscv64/smp.c), as
 * tests/kernel/test_smp.c checks x86-64's CPUs: every hart the device
 * tree lists came up, each runs its idle loop on its own timer, an IPI
 * reaches each one and only it, cross-hart calls run where asked with
 * the hart's own tp and stack, and a spinlock excludes across harts.
 * tools/test.py boots these at -smp 1, 2 and 4 and checks the boot line's
 * count against QEMU's -smp.
 */
#include <mercator/clock.h>
#include <mercator/ktest.h>
#include <mercator/spinlock.h>
#include <vm/vmalloc.h>
#include "arch/riscv64/boot.h"
#include "arch/riscv64/percpu.h"
#include "arch/riscv64/riscv.h"

/* Busy-wait up to ms milliseconds for *counter to pass old. */
static bool wait_past(const uint64_t *counter, uint64_t old, unsigned ms)
{
        uint64_t end = clock_monotonic_ns() + ms * 1000000ULL;

        while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) <= old)
                if (clock_monotonic_ns() > end)
                        return false;
        return true;
}

/* What a call finds on the hart it runs on. */
struct where {
        unsigned id;
        struct cpu *tp;
        uint64_t sp;
        bool sie;
};

static void record_hart(void *arg)
{
        struct where *w = arg;
        uint64_t sp;

        __asm__ volatile("mv %0, sp" : "=r"(sp));
        w->id = machine_cpu_id();
        w->tp = this_cpu();
        w->sp = sp;
        w->sie = (csr_read(sstatus) & SSTATUS_SIE) != 0;
}

KTEST(smp_every_cpu_online)
{
        KCHECK(ncpus >= 1 && ncpus <= MAX_CPUS);
        KCHECK_EQ(ncpus, boot_info.fdt.nharts);
        KCHECK_EQ(smp_online_count(), ncpus);
        KCHECK_EQ(machine_cpus_online(), ncpus);
        KCHECK_EQ(this_cpu(), &cpus[0]);
        KCHECK_EQ(cpus[0].hartid, boot_info.hartid);
        for (unsigned i = 0; i < ncpus; i++) {
                KCHECK_EQ(cpus[i].id, i);
                KCHECK_EQ(cpus[i].self, &cpus[i]);
                for (unsigned j = 0; j < i; j++)
                        KCHECK(cpus[i].hartid != cpus[j].hartid);
        }
}

/* smp_call runs the function on the hart asked for, with that hart's tp
 * (its struct cpu), on that hart's own stack, interrupts off; the running
 * hart's own call runs in place. 20 rounds. */
KTEST(smp_call_runs_on_each_cpu)
{
        for (int round = 0; round < 20; round++)
                for (unsigned i = 0; i < ncpus; i++) {
                        struct where w = { 99, NULL, 0, true };
                        smp_call(i, record_hart, &w);
                        KCHECK_EQ(w.id, i);
                        KCHECK_EQ(w.tp, &cpus[i]);
                        KCHECK_EQ(w.sie, false);
                        if (i == 0)
                                continue;
                        KCHECK(w.sp > (uint64_t)cpus[i].idle_stack &&
                               w.sp <= kstack_top(cpus[i].idle_stack));
                        KCHECK_EQ(cpus[i].kstack_limit,
                                  (uint64_t)cpus[i].idle_stack);
                }
        KCHECK_EQ(lock_held_count(), 0);
}

/* Each other hart's timer keeps ticking and wakes its idle loop: 20 more
 * ticks (200 ms at TICK_HZ) within 5 s, however slow the emulation. */
KTEST(smp_each_cpu_ticks_and_idles)
{
        for (unsigned i = 1; i < ncpus; i++) {
                struct cpu *c = &cpus[i];
                uint64_t t0 = __atomic_load_n(&c->ticks, __ATOMIC_ACQUIRE);
                uint64_t w0 = __atomic_load_n(&c->idle_wakeups, __ATOMIC_ACQUIRE);

                KCHECK(wait_past(&c->ticks, t0 + 19, 5000));
                KCHECK(wait_past(&c->idle_wakeups, w0 + 19, 5000));
                KCHECK(c->idle_stack != NULL && c->overflow_stack != NULL);
                for (unsigned j = 1; j < i; j++)
                        KCHECK(cpus[j].idle_stack != c->idle_stack);
        }
}

/* An IPI to each other hart, one at a time, is handled there and only
 * there; 100 rounds. */
KTEST(smp_ipi_reaches_each_cpu)
{
        for (int round = 0; round < 100; round++)
                for (unsigned i = 1; i < ncpus; i++) {
                        uint64_t before[MAX_CPUS];
                        for (unsigned j = 0; j < ncpus; j++)
                                before[j] = __atomic_load_n(&cpus[j].ipis,
                                                            __ATOMIC_ACQUIRE);
                        smp_send_ipi(i, IPI_PING);
                        if (!KCHECK(wait_past(&cpus[i].ipis, before[i], 2000)))
                                return;
                        for (unsigned j = 0; j < ncpus; j++)
                                if (j != i)
                                        KCHECK_EQ(cpus[j].ipis, before[j]);
                }
}

#define HAMMER_ROUNDS 20000

static struct spinlock hammer_lock = SPINLOCK_INIT("ktest-hammer",
                                                   LOCK_RANK_TEST_INNER);
static volatile uint64_t hammer_count;
static uint64_t hammer_went_wrong;      /* two harts inside at once */
static uint32_t hammer_inside;
static uint32_t hammer_ready;           /* harts at the starting line */

/* Increment a plain counter in steps that another hart inside the section
 * at the same time would break (read, wait, write). Every hart starts
 * when all are ready: without that the boot hart could finish its rounds
 * before the others took their IPIs, and a lock that does not exclude
 * would pass. */
static void hammer(void *arg)
{
        (void)arg;
        __atomic_add_fetch(&hammer_ready, 1, __ATOMIC_ACQ_REL);
        while (__atomic_load_n(&hammer_ready, __ATOMIC_ACQUIRE) < ncpus)
                intr_cpu_relax();
        for (int i = 0; i < HAMMER_ROUNDS; i++) {
                spin_lock(&hammer_lock);
                if (__atomic_add_fetch(&hammer_inside, 1, __ATOMIC_RELAXED) != 1)
                        __atomic_add_fetch(&hammer_went_wrong, 1, __ATOMIC_RELAXED);
                uint64_t v = hammer_count;
                for (int d = 0; d < 8; d++)
                        intr_cpu_relax();
                hammer_count = v + 1;
                __atomic_sub_fetch(&hammer_inside, 1, __ATOMIC_RELAXED);
                spin_unlock(&hammer_lock);
        }
}

/* Every hart at once increments one counter under one spinlock: none of
 * the increments is lost and no two harts are ever inside together; the
 * interrupt state is back as it was. */
KTEST(smp_spinlock_excludes_across_cpus)
{
        bool sie_was_on = (csr_read(sstatus) & SSTATUS_SIE) != 0;

        hammer_count = 0;
        hammer_went_wrong = 0;
        hammer_ready = 0;
        for (unsigned i = 1; i < ncpus; i++)
                smp_call_start(i, hammer, NULL);
        hammer(NULL);
        for (unsigned i = 1; i < ncpus; i++)
                smp_call_wait(i);
        KCHECK_EQ(hammer_count, (uint64_t)HAMMER_ROUNDS * ncpus);
        KCHECK_EQ(hammer_went_wrong, 0);
        KCHECK_EQ(lock_held_count(), 0);
        KCHECK_EQ((csr_read(sstatus) & SSTATUS_SIE) != 0, sie_was_on);
}
