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
#include "trap.h"

#define PIT_HZ          1193182u
#define CPUID_TSC       (1u << 4)
#define CPUID_SSE2      (1u << 26)

volatile uint64_t timer_ticks;
extern uint64_t boot_tsc;
static uint64_t tsc_per_ms = 1;
static uint64_t tsc_mult = (uint64_t)1 << VDSO_SHIFT;

/* TSC ticks in `ms` milliseconds of PIT channel 2 (one-shot, mode 0). */
static uint64_t tsc_in_pit_window(unsigned ms)
{
        const unsigned count = PIT_HZ * ms / 1000;
        uint8_t gate = inb(0x61);

        outb(0x61, (gate & ~0x02) | 0x01);      /* gate on, speaker off */
        outb(0x43, 0xb0);                       /* ch 2, lo/hi, mode 0 */
        outb(0x42, count & 0xff);
        outb(0x42, count >> 8);
        uint64_t t0 = rdtsc();
        while (!(inb(0x61) & 0x20))             /* OUT2 goes high at 0 */
                cpu_relax();
        uint64_t t1 = rdtsc();
        outb(0x61, gate);
        return t1 - t0;
}

/*
 * TSC ticks per millisecond: the median of five 2 ms windows. Under
 * emulation the TSC is the host's and the PIT follows the host's clock,
 * but the vCPU thread can be descheduled between the PIT's start or end
 * and the rdtsc next to it; one 10 ms window then came out 10 times too
 * long on a loaded host (every clock ran 10 times slow). A stall spoils
 * one window, not the median.
 */
#define CAL_WINDOWS     5
#define CAL_MS          2
static void tsc_calibrate(void)
{
        uint64_t w[CAL_WINDOWS];

        for (unsigned i = 0; i < CAL_WINDOWS; i++) {
                uint64_t t = tsc_in_pit_window(CAL_MS), j = i;
                for (; j > 0 && w[j - 1] > t; j--)      /* insertion sort */
                        w[j] = w[j - 1];
                w[j] = t;
        }
        tsc_per_ms = w[CAL_WINDOWS / 2] / CAL_MS ? w[CAL_WINDOWS / 2] / CAL_MS : 1;
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

void machine_poweroff(int status)
{
        /* isa-debug-exit at 0xf4: QEMU exits with (status << 1) | 1. */
        outl(0xf4, (uint32_t)status);
        cpu_stop();
}
