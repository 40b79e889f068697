/*
 * kstat.h - system-wide CPU time, context switches and forks, kept by the
 * timer tick and the scheduler (kern/kstat.c), shown by /proc/stat.
 */
#ifndef MERCATOR_KSTAT_H
#define MERCATOR_KSTAT_H

#include <mercator/clock.h>
#include <mercator/types.h>

struct kstat {
        uint64_t user, system, idle;    /* ticks (HZ = USER_HZ = 100) */
        uint64_t ctxt;                  /* context switches */
        uint64_t forks;                 /* processes created since boot */
};

extern struct kstat kstat;

/* Charge one tick to user or system time (a process was running), or to
 * idle. */
void kstat_tick(bool from_user);

/* Processes running or waiting for the CPU now. */
unsigned kstat_nr_running(void);

#endif
