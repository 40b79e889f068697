/*
 * platform.c (i386) - what the machine-independent kernel asks of the PC
 * beyond traps and memory: the wall clock from the CMOS RTC, AT_HWCAP,
 * /proc/cpuinfo, randomness (none from the CPU: qemu32 has no RDRAND).
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/smp_call.h>
#include <mercator/string.h>
#include <fs/procfs.h>
#include <proc/vdso.h>
#include "cpu.h"

static uint64_t realtime_offset_ns;     /* realtime - monotonic */
static bool realtime_known;

static unsigned cmos(unsigned reg)
{
        outb(0x70, (uint8_t)reg);
        return inb(0x71);
}

static unsigned from_bcd(unsigned v, bool bcd)
{
        return bcd ? (v >> 4) * 10 + (v & 15) : v;
}

/* Days since 1970-01-01 of a date in the proleptic Gregorian calendar
 * (counting from March, so that the leap day ends a year). */
static uint64_t epoch_days(unsigned y, unsigned m, unsigned d)
{
        if (m <= 2) {
                y--;
                m += 12;
        }
        uint64_t days = 365ull * y + y / 4 - y / 100 + y / 400 +
                        (153 * (m - 3) + 2) / 5 + d - 1;
        return days - 719468;           /* 1970-03-01 counted the same way */
}

/* The RTC's time in seconds since 1970 (UTC, as QEMU keeps it): read
 * twice outside an update until both reads agree. */
static uint64_t rtc_seconds(void)
{
        unsigned r[7], again[7];
        static const unsigned regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08,
                                          0x09, 0x32 };

        do {
                while (cmos(0x0a) & 0x80)
                        cpu_relax();
                for (int i = 0; i < 7; i++)
                        r[i] = cmos(regs[i]);
                while (cmos(0x0a) & 0x80)
                        cpu_relax();
                for (int i = 0; i < 7; i++)
                        again[i] = cmos(regs[i]);
        } while (memcmp(r, again, sizeof r) != 0);

        unsigned b = cmos(0x0b);
        bool bcd = !(b & 0x04), h24 = b & 0x02;
        unsigned hour = from_bcd(r[2] & 0x7f, bcd);
        if (!h24)
                hour = hour % 12 + (r[2] & 0x80 ? 12 : 0);
        unsigned century = from_bcd(r[6], bcd);
        unsigned year = from_bcd(r[5], bcd) +
                        (century >= 19 && century <= 30 ? century * 100 : 2000);
        return epoch_days(year, from_bcd(r[4], bcd), from_bcd(r[3], bcd)) *
               86400 + hour * 3600 + from_bcd(r[1], bcd) * 60 +
               from_bcd(r[0], bcd);
}

uint64_t clock_realtime_ns(void)
{
        if (!realtime_known) {
                realtime_offset_ns = rtc_seconds() * 1000000000ull -
                                     clock_monotonic_ns();
                realtime_known = true;
        }
        return realtime_offset_ns + clock_monotonic_ns();
}

void clock_realtime_set(uint64_t ns)
{
        realtime_offset_ns = ns - clock_monotonic_ns();
        realtime_known = true;
        vdso_publish();
}

uint64_t clock_realtime_offset_ns(void)
{
        if (!realtime_known)
                (void)clock_realtime_ns();
        return realtime_offset_ns;
}

/* mercator/smp_call.h: i386 runs one CPU, so there is no other to post
 * a call to (smp_call_every_cpu runs it here only). */
bool machine_call_post(unsigned cpu, void (*fn)(void *), void *arg)
{
        (void)cpu, (void)fn, (void)arg;
        return false;
}

void machine_call_wait(unsigned cpu)
{
        panic("i386: a wait for a call to CPU %u, never posted", cpu);
}

bool machine_random_u64(uint64_t *out)
{
        (void)out;
        return false;
}

/* AT_HWCAP on x86: CPUID leaf 1's EDX. */
uint64_t machine_hwcap(void)
{
        uint32_t a, b, c, d;

        cpuid(1, 0, &a, &b, &c, &d);
        return d;
}

/* Linux's names of CPUID leaf 1's EDX bits. */
static const char *const edx_flags[32] = {
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic",
        NULL, "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn",
        "clflush", NULL, "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss",
        "ht", "tm", "ia64", "pbe",
};

/* /proc/cpuinfo: the fields programs look at, for the one CPU. */
void proc_cpuinfo(struct text *t, struct proc *p)
{
        uint32_t a, b, c, d, v[3];
        char vendor[13];

        (void)p;
        cpuid(0, 0, &a, &v[0], &v[2], &v[1]);
        memcpy(vendor, v, 12);
        vendor[12] = '\0';
        cpuid(1, 0, &a, &b, &c, &d);
        text_add(t, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\n"
                 "model\t\t: %u\nstepping\t: %u\nflags\t\t:", vendor,
                 (a >> 8) & 15, (a >> 4) & 15, a & 15);
        for (int i = 0; i < 32; i++)
                if ((d >> i) & 1 && edx_flags[i])
                        text_add(t, " %s", edx_flags[i]);
        text_add(t, "\n\n");
}
