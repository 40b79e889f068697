/*
 * clock.h - time for the kernel and for clock_gettime/nanosleep.
 */
#ifndef MERCATOR_CLOCK_H
#define MERCATOR_CLOCK_H

#include <mercator/types.h>

#define HZ 100                          /* timer interrupts per second */

uint64_t clock_monotonic_ns(void);      /* since the first instruction */
uint64_t clock_realtime_ns(void);       /* since 1970, from the RTC */
uint64_t clock_realtime_offset_ns(void); /* realtime - monotonic (mod 2^64) */

/* Set the wall clock (clock_settime, settimeofday): realtime reads ns now,
 * and goes on from there at the monotonic clock's pace. */
void clock_realtime_set(uint64_t ns);

/* Called by the architecture on every timer interrupt. */
void clock_tick(bool from_user);
/* The timer tick of a CPU other than the one clock_tick() counts time on,
 * idle or not: its own CPU time (/proc/stat), its time slice and its
 * thread's CPU time only. */
void clock_tick_other_cpu(bool from_user);

#endif
