/*
 * intr.h (host) - the host build's "CPUs" and their interrupts, for the
 * spinlocks and the lock-order checker (spinlock.h), which run as they
 * are over these.
 *
 * Each host thread plays one CPU: host_cpu is the thread's CPU id (0
 * unless a test gives its threads others). There are no interrupts:
 * "off" is a per-thread flag (host.c).
 */
#ifndef MACHINE_INTR_H
#define MACHINE_INTR_H

#include <stdbool.h>

extern _Thread_local unsigned host_cpu;

unsigned long intr_save(void);          /* => 1 if they were on */
void intr_restore(unsigned long s);
static inline bool intr_were_on(unsigned long s) { return s != 0; }
void intr_cpu_relax(void);            /* yields the host CPU (host.c) */
static inline unsigned machine_cpu_id(void) { return host_cpu; }
static inline unsigned machine_cpus_online(void) { return 1; }
/* Host only: the thread's CPU (host_cpu) takes part in cross-CPU calls
 * from now on, or no longer (it runs any call posted to it first). */
void host_cpu_online(bool online);

#endif
