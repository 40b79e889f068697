/*
 * timer.c - the clock: the 8254 PIT ticking at HZ through the 8259 PIC
 * (IRQ 0 -> vector 32), the TSC for fine time, the CMOS RTC for the date.
 *
 * The PIT and PIC are the oldest, simplest timer pair every PC and QEMU
 * machine has; the local APIC timer would need calibrating first.
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include "cpu.h"
#include "timer.h"

#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_CMD        0xa0
#define PIC2_DATA       0xa1
#define PIC_EOI         0x20
#define PIT_CH0         0x40
#define PIT_CMD         0x43
#define PIT_HZ          1193182

static uint64_t epoch_at_boot;  /* seconds since 1970 at uptime 0 */

/* ICW1-4: edge triggered, cascaded, vectors 32-39 and 40-47, 8086 mode;
 * then mask everything but the timer. */
static void pic_init(void)
{
        outb(PIC1_CMD, 0x11);
        outb(PIC2_CMD, 0x11);
        outb(PIC1_DATA, IRQ_VECTOR_BASE);
        outb(PIC2_DATA, IRQ_VECTOR_BASE + 8);
        outb(PIC1_DATA, 0x04);          /* slave on IRQ 2 */
        outb(PIC2_DATA, 0x02);
        outb(PIC1_DATA, 0x01);
        outb(PIC2_DATA, 0x01);
        outb(PIC1_DATA, 0xfe);          /* only IRQ 0 */
        outb(PIC2_DATA, 0xff);
}

void irq_eoi(unsigned irq)
{
        if (irq >= 8)
                outb(PIC2_CMD, PIC_EOI);
        outb(PIC1_CMD, PIC_EOI);
}

static unsigned cmos_read(unsigned reg)
{
        outb(0x70, (uint8_t)reg);
        return inb(0x71);
}

static unsigned bcd(unsigned v, bool is_bcd)
{
        return is_bcd ? (v & 15) + (v >> 4) * 10 : v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_from_epoch(unsigned y, unsigned m, unsigned d)
{
        y -= m <= 2;
        uint64_t era = y / 400, yoe = y - era * 400;
        uint64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void rtc_read(void)
{
        while (cmos_read(0x0a) & 0x80)          /* update in progress */
                cpu_relax();
        bool is_bcd = !(cmos_read(0x0b) & 0x04);
        unsigned s = bcd(cmos_read(0x00), is_bcd);
        unsigned mi = bcd(cmos_read(0x02), is_bcd);
        unsigned h = bcd(cmos_read(0x04) & 0x7f, is_bcd);
        unsigned d = bcd(cmos_read(0x07), is_bcd);
        unsigned mo = bcd(cmos_read(0x08), is_bcd);
        unsigned y = bcd(cmos_read(0x09), is_bcd) + 2000;

        epoch_at_boot = days_from_epoch(y, mo, d) * 86400 + h * 3600 +
                        mi * 60 + s - machine_uptime_us() / 1000000;
}

void timer_init(void)
{
        unsigned divisor = PIT_HZ / HZ;

        rtc_read();
        pic_init();
        outb(PIT_CMD, 0x34);                    /* ch 0, lo/hi, rate gen */
        outb(PIT_CH0, divisor & 0xff);
        outb(PIT_CH0, divisor >> 8);
}

uint64_t clock_realtime_ns(void)
{
        return epoch_at_boot * 1000000000ULL + clock_monotonic_ns();
}

void machine_start_interrupts(void)
{
        timer_init();
}
