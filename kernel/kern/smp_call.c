/*
 * smp_call.c - a function run on every CPU at once, over the machine's
 * cross-CPU call (mercator/smp_call.h). Machine-independent: what
 * differs between the architectures is how a call reaches another CPU
 * and how its sender waits (machine_call_post and machine_call_wait),
 * not the order of the steps here.
 */
#include <mercator/smp_call.h>
#include <mercator/spinlock.h>
#include <machine/intr.h>

/*
 * The calls to the other CPUs are all posted before any is waited for,
 * so they run at once; this CPU's runs here meanwhile, with interrupts
 * off as theirs do. Refused with interrupts off (an interrupt handler
 * or a call's function must not post calls: two CPUs could wait for
 * each other with interrupts off) or a spinlock held (smp_call's rule).
 * The big kernel lock may be held: a CPU waiting for it still runs the
 * calls posted to it.
 */
bool smp_call_every_cpu(void (*fn)(void *), void *arg)
{
        uint64_t posted = 0;
        unsigned long s = intr_save();

        intr_restore(s);
        if (!intr_were_on(s) || lock_held_count() != 0)
                return false;
        /* kernel code leaves a CPU only by sleeping: this stays this one */
        for (unsigned cpu = 0; cpu < SMP_CALL_CPUS; cpu++)
                if (machine_call_post(cpu, fn, arg))
                        posted |= 1ULL << cpu;
        s = intr_save();
        fn(arg);
        intr_restore(s);
        for (unsigned cpu = 0; cpu < SMP_CALL_CPUS; cpu++)
                if (posted & (1ULL << cpu))
                        machine_call_wait(cpu);
        return true;
}
