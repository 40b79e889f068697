/*
 * timer.c (i386) - the 8254 PIT: channel 0 interrupts TIMER_HZ times a
 * second on IRQ 0; the time stamp counter, calibrated against channel 2,
 * gives the monotonic clock, by the formula the vDSO uses too
 * (mercator/vdso_data.h's vdso_counter_ns), so that a time read in user
 * space and one read through the system call never disagree in order.
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include <mercator/vdso_data.h>
#include <proc/vdso.h>
#include "cpu.h"
#include "../x86/tsc.h"
#include "trap.h"

#define PIT_HZ          1193182u
#define CPUID_TSC       (1u << 4)
#define CPUID_SSE2      (1u << 26)

volatile uint64_t timer_ticks;
extern uint64_t boot_tsc;
static uint64_t tsc_per_ms = 1;
static uint64_t tsc_mult = (uint64_t)1 << VDSO_SHIFT;

/* TSC ticks per millisecond, and the vDSO's multiplier for them. */
static void tsc_calibrate(void)
{
        tsc_per_ms = tsc_ticks_per_ms();
        tsc_mult = vdso_mult(tsc_per_ms);
}

void timer_init(void)
{
        unsigned div = PIT_HZ / TIMER_HZ;

        tsc_calibrate();
        outb(0x43, 0x34);                       /* ch 0, lo/hi, rate gen */
        outb(0x40, div & 0xff);
        outb(0x40, div >> 8);
}

void timer_tick(void)
{
        timer_ticks++;
}

uint64_t machine_uptime_us(void)
{
        return (rdtsc() - boot_tsc) * 1000 / tsc_per_ms;
}

uint64_t clock_monotonic_ns(void)
{
        return vdso_counter_ns(boot_tsc, tsc_mult, rdtsc());
}

/* What the vDSO needs to compute the clocks as clock_monotonic_ns() and
 * clock_realtime_ns() do: the TSC where user mode may read it in order
 * (rdtsc after lfence, which SSE2 brings; CR4.TSD stays clear), else
 * nothing, and the vDSO makes the system call. */
void machine_vdso_clock(struct vdso_data *d)
{
        uint32_t a, b, c, dx;

        cpuid(1, 0, &a, &b, &c, &dx);
        d->mode = (dx & CPUID_TSC) && (dx & CPUID_SSE2) ? VDSO_MODE_TSC
                                                        : VDSO_MODE_NONE;
        d->counter_base = boot_tsc;
        d->mult = tsc_mult;
        d->realtime_offset = clock_realtime_offset_ns();
}

uint64_t machine_vdso_counter(void)
{
        return rdtsc();
}

void machine_poweroff(int status)
{
        /* isa-debug-exit at 0xf4: QEMU exits with (status << 1) | 1. */
        outl(0xf4, (uint32_t)status);
        cpu_stop();
}
