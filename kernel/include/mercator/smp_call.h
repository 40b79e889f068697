/*
 * smp_call.h - a function run on every CPU (kern/smp_call.c), and the
 * cross-CPU call each architecture gives it: post a call to one CPU,
 * wait for it (x86-64 and riscv64 over their IPIs, the host between its
 * threads, i386 - one CPU - none).
 */
#ifndef MERCATOR_SMP_CALL_H
#define MERCATOR_SMP_CALL_H

#include <mercator/types.h>

/* CPUs are numbered below this (bit n of a CPU mask: CPU n). */
#define SMP_CALL_CPUS   64

/*
 * fn(arg) on every online CPU, this one included, each with interrupts
 * off; back when all have run it. The page allocator's drain of every
 * CPU's page lists (vm/pmm.c).
 * => false, nothing run, with interrupts off or a spinlock held.
 * => the big kernel lock may be held.
 */
bool smp_call_every_cpu(void (*fn)(void *), void *arg);

/*
 * The machine's part. machine_call_post: fn(arg) is to run on CPU cpu
 * (< SMP_CALL_CPUS), with interrupts off there, if cpu is online and
 * not this CPU. => true: posted, and machine_call_wait(cpu) must wait
 * for it before cpu is posted to again; false: nothing posted.
 * => interrupts on, no spinlock held (a CPU waiting with interrupts
 * off for another that waits for it would never get its call).
 */
bool machine_call_post(unsigned cpu, void (*fn)(void *), void *arg);
void machine_call_wait(unsigned cpu);

#endif
