/*
 * timer.c (i386) - the 8254 PIT: channel 0 interrupts TIMER_HZ times a
 * second on IRQ 0; the time stamp counter, calibrated against channel 2,
 * gives microseconds.
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include "cpu.h"
#include "trap.h"

#define PIT_HZ          1193182u

volatile uint64_t timer_ticks;
extern uint64_t boot_tsc;
static uint64_t tsc_per_ms = 1;

/* TSC ticks per millisecond, measured over 10 ms of PIT channel 2. */
static void tsc_calibrate(void)
{
        const unsigned ms = 10, count = PIT_HZ * ms / 1000;
        uint8_t gate = inb(0x61);

        outb(0x61, (gate & ~0x02) | 0x01);      /* gate on, speaker off */
        outb(0x43, 0xb0);                       /* ch 2, lo/hi, mode 0 */
        outb(0x42, count & 0xff);
        outb(0x42, count >> 8);
        uint64_t t0 = rdtsc();
        while (!(inb(0x61) & 0x20))
                cpu_relax();
        uint64_t t1 = rdtsc();
        outb(0x61, gate);
        tsc_per_ms = (t1 - t0) / ms ? (t1 - t0) / ms : 1;
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
        uint64_t ticks = rdtsc() - boot_tsc;

        return ticks / tsc_per_ms * 1000000 +
               ticks % tsc_per_ms * 1000000 / tsc_per_ms;
}

void machine_poweroff(int status)
{
        /* isa-debug-exit at 0xf4: QEMU exits with (status << 1) | 1. */
        outl(0xf4, (uint32_t)status);
        cpu_stop();
}
