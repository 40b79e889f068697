/*
 * timer.c - the clock: the 8254 PIT ticking at HZ through the 8259 PIC
 * (IRQ 0 -> vector 32), the TSC for fine time, the CMOS RTC for the date.
 *
 * The PIT and PIC are the oldest, simplest timer pair every PC and QEMU
 * machine has; the local APIC timer would need calibrating first.
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <proc/vdso.h>
#include "cpu.h"
#include "serial.h"
#include "timer.h"

#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_CMD        0xa0
#define PIC2_DATA       0xa1
#define PIC_EOI         0x20
#define PIT_CH0         0x40
#define PIT_CMD         0x43
#define PIT_HZ          1193182

static uint64_t realtime_offset_ns;     /* realtime - monotonic */
extern uint64_t boot_tsc, tsc_mult;     /* boot.c: monotonic 0, its scale */

static bool pic_ready;
static uint16_t pic_mask = 0xffff;      /* bit n set: line n masked */

/* ICW1-4: cascaded, vectors 32-39 and 40-47, 8086 mode (edge or level
 * per line stays as the firmware set the ELCR: level for PCI lines);
 * every line masked but those pic_enable_line() opened. Once. */
static void pic_init(void)
{
        if (pic_ready)
                return;
        pic_ready = true;
        outb(PIC1_CMD, 0x11);
        outb(PIC2_CMD, 0x11);
        outb(PIC1_DATA, IRQ_VECTOR_BASE);
        outb(PIC2_DATA, IRQ_VECTOR_BASE + 8);
        outb(PIC1_DATA, 0x04);          /* slave on IRQ 2 */
        outb(PIC2_DATA, 0x02);
        outb(PIC1_DATA, 0x01);
        outb(PIC2_DATA, 0x01);
        outb(PIC1_DATA, (uint8_t)pic_mask);
        outb(PIC2_DATA, (uint8_t)(pic_mask >> 8));
}

/* Let line `irq` (0-15) through to the boot CPU: the timer and COM1 at
 * timer_init(), a PCI device's line when its driver starts (pci.c). */
void pic_enable_line(unsigned irq)
{
        pic_init();
        pic_mask &= (uint16_t)~(1u << irq);
        if (irq >= 8)
                pic_mask &= (uint16_t)~(1u << 2);       /* the cascade */
        outb(PIC1_DATA, (uint8_t)pic_mask);
        outb(PIC2_DATA, (uint8_t)(pic_mask >> 8));
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

/* The RTC's date and time fields, in the order read. */
struct rtc_time {
        unsigned sec, min, hour, day, mon, year, century;
};

static void rtc_fields(struct rtc_time *t)
{
        t->sec = cmos_read(0x00);
        t->min = cmos_read(0x02);
        t->hour = cmos_read(0x04);
        t->day = cmos_read(0x07);
        t->mon = cmos_read(0x08);
        t->year = cmos_read(0x09);
        t->century = cmos_read(0x32);   /* the ACPI century register */
}

/*
 * Seconds since 1970 from the CMOS clock (UTC, as QEMU keeps it). The
 * fields are read after the update-in-progress flag clears, and again
 * until two reads agree, so no field comes from either side of a tick.
 * Register B says BCD or binary, and 12- or 24-hour (bit 7 of the hour is
 * PM in 12-hour mode).
 */
static uint64_t rtc_read_seconds(void)
{
        struct rtc_time t, again;

        do {
                while (cmos_read(0x0a) & 0x80)  /* update in progress */
                        cpu_relax();
                rtc_fields(&t);
                while (cmos_read(0x0a) & 0x80)
                        cpu_relax();
                rtc_fields(&again);
        } while (memcmp(&t, &again, sizeof t) != 0);

        unsigned regb = cmos_read(0x0b);
        bool is_bcd = !(regb & 0x04), h24 = regb & 0x02;
        bool pm = !h24 && (t.hour & 0x80);
        unsigned h = bcd(t.hour & 0x7f, is_bcd);
        unsigned c = bcd(t.century, is_bcd);

        if (!h24)
                h = h % 12 + (pm ? 12 : 0);
        unsigned y = bcd(t.year, is_bcd) + (c >= 19 && c <= 30 ? c * 100 : 2000);
        return days_from_epoch(y, bcd(t.mon, is_bcd), bcd(t.day, is_bcd)) * 86400 +
               h * 3600 + bcd(t.min, is_bcd) * 60 + bcd(t.sec, is_bcd);
}

static void rtc_read(void)
{
        uint64_t secs = rtc_read_seconds();

        realtime_offset_ns = secs * 1000000000ULL - clock_monotonic_ns();
        vdso_publish();
}

void timer_init(void)
{
        unsigned divisor = PIT_HZ / HZ;

        rtc_read();
        pic_enable_line(IRQ_TIMER);
        pic_enable_line(IRQ_SERIAL);
        outb(PIT_CMD, 0x34);                    /* ch 0, lo/hi, rate gen */
        outb(PIT_CH0, divisor & 0xff);
        outb(PIT_CH0, divisor >> 8);
}

uint64_t clock_realtime_ns(void)
{
        return realtime_offset_ns + clock_monotonic_ns();
}

uint64_t clock_realtime_offset_ns(void)
{
        return realtime_offset_ns;
}

void clock_realtime_set(uint64_t ns)
{
        realtime_offset_ns = ns - clock_monotonic_ns();
        vdso_publish();
}

/* What the vDSO needs to compute the clocks as clock_monotonic_ns() and
 * clock_realtime_ns() do. */
void machine_vdso_clock(struct vdso_data *d)
{
        d->mode = VDSO_MODE_TSC;
        d->counter_base = boot_tsc;
        d->mult = tsc_mult;
        d->realtime_offset = realtime_offset_ns;
}

void machine_start_interrupts(void)
{
        timer_init();
        serial_rx_start();
}
