/*
 * biglock.c - the big kernel lock (docs/design.md, "Locking": rank 10,
 * outside every spinlock): kernel code runs on one CPU at a time while
 * user code runs on all of them, the first step of SMP as in Linux 2.0
 * and FreeBSD's Giant. One implementation for every machine that runs on
 * several CPUs (machine/cpu_local.h says MACHINE_CPU_LOCAL: x86-64,
 * riscv64); the one-CPU ports' cpu_local.h make it a no-op instead. What
 * it asks of the machine: machine_cpu_id() and interrupts off and back
 * (machine/intr.h), and smp_call_poll() (machine/cpu_local.h).
 *
 * Who holds it: a CPU's scheduler loop while it picks, and the thread it
 * runs, until that thread returns to user mode; a thread takes it on every
 * entry from user mode (syscall_dispatch, trap_dispatch) and hands it back
 * to its CPU's loop when it sleeps, yields or exits. Interrupt handlers
 * never wait for it (serial_irq tries it). A thread that takes it enters
 * its address space too, and leaves it with the lock (proc.h,
 * proc_space_enter: the door the lock-free faults of vm_fault_nolock
 * wait at), unless it takes it through machine_kernel_lock_outside: a
 * system call that changes no address space, or an interrupt, enters
 * only if it faults on a user address (proc/oom.c, oom_kernel_fault).
 *
 * It is not a spinlock in the checker's sense: held with interrupts on,
 * across context switches (owned by the CPU, not the thread). A CPU
 * waiting for it keeps running the cross-CPU calls posted to it, so the
 * holder's TLB shootdowns never wait for a CPU that waits for the lock.
 * Taking it with a spinlock held panics (LOCK_DEBUG), as does taking it
 * twice or releasing it from a CPU that does not hold it.
 */
#include <mercator/panic.h>
#include <mercator/spinlock.h>
#include <machine/cpu_local.h>
#include <machine/intr.h>
#include <proc/proc.h>

#ifdef MACHINE_CPU_LOCAL

static uint32_t bkl_word;               /* [a] 1 while held */
static int32_t bkl_cpu = -1;            /* [a] holder's CPU id */

#ifdef MACHINE_LOCK_HALT
/*
 * A waiter that has spun for BKL_SPIN_NS halts until the release kicks
 * it (machine_lock_halt / machine_lock_kick), when it waits with
 * interrupts on (system calls, the scheduler loop, x86-64's traps from
 * user mode: trap_dispatch turns them on for the wait), or with them off
 * too where the machine's halt still ends on the kick
 * (MACHINE_LOCK_HALT_INTR_OFF: riscv64, whose traps from user mode all
 * wait with them off). On a
 * machine with more virtual CPUs than its host has cores, a spinning
 * vCPU takes host time the holder needs: four vCPUs on two cores spent
 * most of a fault storm spinning for the lock while its holder waited
 * for a host core (a round of a copy of make bench's storm under
 * kprof's plugin: 9 waits, 211 ms of waiting in a 97 ms round).
 * smp_call_wait halts for the same reason. Linux does this under a
 * hypervisor that offers it (paravirt spinlocks' wait/kick). The price:
 * where vCPUs have cores of their own, a halted waiter's wake-up is
 * slower than its spin would have been (-smp 2 here: docs/design.md,
 * the lock order's item 1).
 */
#define BKL_SPIN_NS     30000

static uint64_t bkl_halted;             /* [a] bit n: CPU n halted here */
static uint64_t bkl_halts[64];          /* [a] halts while waiting, per
                                         * CPU (each CPU adds to its own) */

/* Whether a waiter under interrupt state s may halt: with interrupts on,
 * or on a machine whose halt ends on a kick with them off (riscv64's
 * wfi; x86-64's hlt would not wake). */
#ifdef MACHINE_LOCK_HALT_INTR_OFF
#define BKL_HALT_MAY(s) ((void)(s), true)
#else
#define BKL_HALT_MAY(s) intr_were_on(s)
#endif

/* Halt this CPU until a release kicks it or an interrupt comes, unless
 * the lock is free by then. Interrupts off: the kick stays pending until
 * the halt, which ends at once. The flag is set before the look at the
 * word, the release clears the word before it looks at the flags: one of
 * the two sees the other. */
static void bkl_halt(unsigned me)
{
        uint64_t bit = 1ull << (me & 63);

        __atomic_or_fetch(&bkl_halted, bit, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&bkl_word, __ATOMIC_SEQ_CST)) {
                machine_lock_halt();
                __atomic_add_fetch(&bkl_halts[me & 63], 1, __ATOMIC_RELAXED);
        }
        __atomic_and_fetch(&bkl_halted, ~bit, __ATOMIC_RELAXED);
}

bool machine_kernel_lock_halted(unsigned cpu)
{
        return __atomic_load_n(&bkl_halted, __ATOMIC_RELAXED) >> (cpu & 63) & 1;
}

uint64_t machine_kernel_lock_halts(unsigned cpu)
{
        return __atomic_load_n(&bkl_halts[cpu & 63], __ATOMIC_RELAXED);
}
#endif

static void kernel_lock(bool enter)
{
        int32_t me = (int32_t)machine_cpu_id();
        uint64_t t0 = 0;
        bool waited = false;
        unsigned long s;

        if (LOCK_DEBUG && lock_held_count() != 0)
                panic("lock order: the big kernel lock (rank 10) taken with "
                      "%u spinlocks held", lock_held_count());
        if (__atomic_load_n(&bkl_cpu, __ATOMIC_RELAXED) == me &&
            __atomic_load_n(&bkl_word, __ATOMIC_RELAXED))
                panic("the big kernel lock taken again by CPU %d", me);
        while (__atomic_exchange_n(&bkl_word, 1, __ATOMIC_ACQUIRE)) {
                if (!waited)
                        t0 = lock_stat_now(), waited = true;
                do {
                        s = intr_save();
                        smp_call_poll();
#ifdef MACHINE_LOCK_HALT
                        if (BKL_HALT_MAY(s) &&
                            lock_stat_now() - t0 > BKL_SPIN_NS)
                                bkl_halt((unsigned)me);
#endif
                        intr_restore(s);
                        intr_cpu_relax();
                } while (__atomic_load_n(&bkl_word, __ATOMIC_RELAXED));
        }
        __atomic_store_n(&bkl_cpu, me, __ATOMIC_RELAXED);
        s = intr_save();                /* the counts are this CPU's */
        lock_stat_note(LOCK_RANK_BIG, waited,
                       waited ? lock_stat_now() - t0 : 0);
        intr_restore(s);
        if (enter && current)           /* a thread from user mode */
                proc_space_enter(current);
}

void machine_kernel_lock(void)
{
        kernel_lock(true);
}

void machine_kernel_lock_outside(void)
{
        kernel_lock(false);
}

void machine_kernel_lock_rest_of_call(void)
{
        if (!machine_kernel_lock_held())
                kernel_lock(false);
}

bool machine_kernel_trylock(void)
{
        unsigned long s;

        if (__atomic_exchange_n(&bkl_word, 1, __ATOMIC_ACQUIRE))
                return false;
        __atomic_store_n(&bkl_cpu, (int32_t)machine_cpu_id(), __ATOMIC_RELAXED);
        s = intr_save();
        lock_stat_note(LOCK_RANK_BIG, false, 0);
        intr_restore(s);
        return true;
}

void machine_kernel_unlock(void)
{
        if (!machine_kernel_lock_held())
                panic("the big kernel lock released by CPU %u, which does "
                      "not hold it", machine_cpu_id());
        if (current)            /* on its way back to user mode (a no-op
                                 * if it has not entered) */
                proc_space_leave(current);
        __atomic_store_n(&bkl_cpu, -1, __ATOMIC_RELAXED);
        __atomic_store_n(&bkl_word, 0, __ATOMIC_RELEASE);
#ifdef MACHINE_LOCK_HALT
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        uint64_t halted = __atomic_load_n(&bkl_halted, __ATOMIC_RELAXED);
        if (halted)
                machine_lock_kick(halted);
#endif
}

bool machine_kernel_lock_held(void)
{
        return __atomic_load_n(&bkl_word, __ATOMIC_RELAXED) &&
               __atomic_load_n(&bkl_cpu, __ATOMIC_RELAXED) ==
               (int32_t)machine_cpu_id();
}

#endif /* MACHINE_CPU_LOCAL */
