/*
 * platform.c (riscv64) - the wall clock, random numbers and /proc/cpuinfo
 * on QEMU's virt board.
 *
 * The wall clock: the board's Goldfish RTC (nanoseconds since 1970 in two
 * 32-bit registers, TIME_LOW first: reading it latches TIME_HIGH), read
 * once at boot; from then on realtime = that + the monotonic clock, as on
 * x86-64 with the CMOS clock.
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <fs/procfs.h>
#include <machine/vmparam.h>
#include <proc/vdso.h>
#include "boot.h"
#include "percpu.h"

static uint64_t realtime_offset_ns;     /* realtime - monotonic */
static bool realtime_known;

static uint64_t rtc_read_ns(void)
{
        const struct fdt_device *rtc = &boot_info.fdt.rtc;
        volatile uint32_t *r;
        uint64_t lo;

        if (!rtc->found)
                return 0;
        r = phys_to_virt(rtc->base);
        lo = r[0];                      /* TIME_LOW, latches TIME_HIGH */
        return (uint64_t)r[1] << 32 | lo;
}

uint64_t clock_realtime_ns(void)
{
        if (!realtime_known) {
                uint64_t now = rtc_read_ns();

                realtime_offset_ns = now - clock_monotonic_ns();
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

/* QEMU 7.2's virt CPU has no Zkr seed CSR: no hardware randomness. */
bool machine_random_u64(uint64_t *out)
{
        (void)out;
        return false;
}

/* /proc/cpuinfo as Linux's riscv prints it, one entry per online hart:
 * its hart id, the ISA string the device tree gives, and the translation
 * mode in use, which is Sv39 whatever the hart offers (the tree's
 * mmu-type is its maximum). */
void proc_cpuinfo(struct text *t, struct proc *p)
{
        const struct fdt_info *fi = &boot_info.fdt;
        unsigned n = 0;

        (void)p;
        for (unsigned i = 0; i < ncpus; i++) {
                if (!__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
                        continue;
                text_add(t, "processor\t: %u\nhart\t\t: %lu\nisa\t\t: %s\n"
                         "mmu\t\t: sv39\n\n", n++, cpus[i].hartid,
                         fi->isa[0] ? fi->isa : "rv64");
        }
}
