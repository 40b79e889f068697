/*
 * kstat.h - CPU time per CPU, context switches and forks, kept by the
 * timer ticks and the scheduler (kern/kstat.c), shown by /proc/stat.
 */
#ifndef MERCATOR_KSTAT_H
#define MERCATOR_KSTAT_H

#include <mercator/clock.h>
#include <mercator/types.h>

/* CPUs whose time is kept: every port's MAX_CPUS is at most this (each
 * SMP port's smp.c asserts it). */
#define KSTAT_MAX_CPUS  16

/* One CPU's ticks (HZ = USER_HZ = 100), each written only by that CPU's
 * own timer interrupt; readers on other CPUs read whole words. */
struct kstat_cpu {
        uint64_t user, system, idle;
};

struct kstat {
        struct kstat_cpu cpu[KSTAT_MAX_CPUS];
        uint64_t ctxt;                  /* context switches [kernel lock] */
        uint64_t forks;                 /* processes created since boot */
};

extern struct kstat kstat;

/* Charge this CPU's tick to user or system time (a thread was running on
 * it), or to idle. Every CPU's timer interrupt calls it. */
void kstat_tick(bool from_user);

/* The machine's CPUs' ticks added up (/proc/stat's "cpu" line). */
struct kstat_cpu kstat_total(void);

/* Processes running or waiting for the CPU now. */
unsigned kstat_nr_running(void);

#endif
