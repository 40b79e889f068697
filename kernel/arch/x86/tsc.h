/*
 * tsc.h (x86, shared by x86-64 and i386) - the time stamp counter's rate,
 * measured at boot against the 8254 PIT (tsc.c).
 */
#ifndef ARCH_X86_TSC_H
#define ARCH_X86_TSC_H

#include <mercator/types.h>

/* TSC ticks per millisecond (at least 1), from 10 ms windows of PIT
 * channel 2 whose length is known to 0.1% (tsc.c). Leaves channel 2's
 * gate as it found it. */
uint64_t tsc_ticks_per_ms(void);

#endif
