/*
 * intr.h (host) - the host build has no interrupts and one "CPU": the
 * spinlocks' code and the lock-order checker run as they are, over these.
 */
#ifndef MACHINE_INTR_H
#define MACHINE_INTR_H

static inline unsigned long intr_save(void) { return 0; }
static inline void intr_restore(unsigned long s) { (void)s; }
static inline void intr_cpu_relax(void) { }
static inline unsigned machine_cpu_id(void) { return 0; }
static inline unsigned machine_cpus_online(void) { return 1; }

#endif
