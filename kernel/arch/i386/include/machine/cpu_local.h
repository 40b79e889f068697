/*
 * cpu_local.h - the scheduler's per-CPU variables and SMP hooks
 * (proc/proc.h, proc/sched.c). This machine runs the kernel on one CPU:
 * current, need_resched and the scheduler's stack are plain globals
 * (proc/sched.c), and the hooks below do nothing.
 */
#ifndef MACHINE_CPU_LOCAL_H
#define MACHINE_CPU_LOCAL_H

#include <mercator/types.h>

struct proc;

static inline void machine_kernel_lock(void) { }
static inline void machine_kernel_lock_outside(void) { }
static inline void machine_kernel_lock_rest_of_call(void) { }
static inline void machine_kernel_unlock(void) { }
/* One CPU: the kernel is always as if under the big lock. */
static inline bool machine_kernel_lock_held(void) { return true; }
static inline void machine_idle_enter(void) { }
static inline bool machine_console_held(void) { return false; }
static inline void machine_console_arm(void) { }
static inline void machine_kick_idle(uint64_t cpus) { (void)cpus; }
static inline void machine_kick_running(struct proc *p) { (void)p; }
static inline void machine_sched_start(void) { }

#endif
