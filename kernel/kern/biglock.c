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
 * wait at).
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

void machine_kernel_lock(void)
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
                        intr_restore(s);
                        intr_cpu_relax();
                } while (__atomic_load_n(&bkl_word, __ATOMIC_RELAXED));
        }
        __atomic_store_n(&bkl_cpu, me, __ATOMIC_RELAXED);
        s = intr_save();                /* the counts are this CPU's */
        lock_stat_note(LOCK_RANK_BIG, waited,
                       waited ? lock_stat_now() - t0 : 0);
        intr_restore(s);
        if (current)                    /* a thread from user mode */
                proc_space_enter(current);
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
        if (current)                    /* on its way back to user mode */
                proc_space_leave(current);
        __atomic_store_n(&bkl_cpu, -1, __ATOMIC_RELAXED);
        __atomic_store_n(&bkl_word, 0, __ATOMIC_RELEASE);
}

bool machine_kernel_lock_held(void)
{
        return __atomic_load_n(&bkl_word, __ATOMIC_RELAXED) &&
               __atomic_load_n(&bkl_cpu, __ATOMIC_RELAXED) ==
               (int32_t)machine_cpu_id();
}

#endif /* MACHINE_CPU_LOCAL */
