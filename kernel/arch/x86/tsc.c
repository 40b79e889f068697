/*
 * tsc.c (x86, shared by x86-64 and i386) - the TSC's rate against the 8254
 * PIT's channel 2 (1.193182 MHz, one-shot mode 0), which both kernels'
 * monotonic clocks and vDSOs are built on.
 *
 * Under emulation the TSC is the host's and the PIT follows the host's
 * clock, but every port access of the guest waits for QEMU's big lock: on
 * a loaded host one inb() took milliseconds, and the end of a window was
 * seen that much late. One 10 ms window (x86-64 until session 8) or the
 * median of five 2 ms ones (i386) then made the TSC look up to twice as
 * fast as it is, and every clock of that boot ran that much slow (a 20 s
 * nanosleep took 34-43 s in three boots of five at load 10).
 *
 * So each window is bracketed: counting starts somewhere between the two
 * rdtsc around the write of the count's high byte, and the edge of OUT2
 * lies between the start of the last read that saw it low and the end of
 * the read that saw it high. That gives a lower and an upper bound on the
 * window's length in TSC ticks. Windows are taken until one's bounds are
 * within 0.1% of each other (on a quiet host the first one); under load
 * the bounds were tens of milliseconds apart for several windows in a row
 * (a port read waiting that long), so up to CAL_TRIES are taken, and if
 * none is that precise, the middle of what all the windows' bounds allow
 * together (the largest lower bound, the smallest upper one) counts.
 */
#include "cpu.h"
#include "tsc.h"

#define PIT_HZ          1193182u
#define CAL_MS          10
#define CAL_TRIES       100

/* One window of `ms` milliseconds of PIT channel 2: bounds on its length
 * in TSC ticks. */
static void tsc_in_pit_window(unsigned ms, uint64_t *lower, uint64_t *upper)
{
        const unsigned count = PIT_HZ * ms / 1000;
        uint8_t gate = inb(0x61);
        uint64_t before, start, low, end;

        outb(0x61, (gate & ~0x02) | 0x01);      /* gate on, speaker off */
        outb(0x43, 0xb0);                       /* ch 2, lo/hi, mode 0 */
        outb(0x42, count & 0xff);
        before = rdtsc();
        outb(0x42, count >> 8);                 /* counting starts */
        start = low = rdtsc();
        for (;;) {
                uint64_t t = rdtsc();
                if (inb(0x61) & 0x20) {         /* OUT2 goes high at 0 */
                        end = rdtsc();
                        break;
                }
                low = t;
        }
        outb(0x61, gate);
        *lower = low - start;
        *upper = end - before;
}

uint64_t tsc_ticks_per_ms(void)
{
        uint64_t lo = 0, hi = ~0ULL, l, u, ticks;

        for (unsigned i = 0; i < CAL_TRIES; i++) {
                tsc_in_pit_window(CAL_MS, &l, &u);
                if (u - l < l / 1000) {
                        lo = l;
                        hi = u;
                        break;
                }
                lo = MAX(lo, l);
                hi = MIN(hi, u);
        }
        ticks = lo <= hi ? lo + (hi - lo) / 2 : lo;
        return ticks / CAL_MS ? ticks / CAL_MS : 1;
}
