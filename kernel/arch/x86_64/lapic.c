/*
 * lapic.c - each CPU's local APIC: turning it on, its timer, and
 * inter-processor interrupts (IPIs), in xAPIC mode through its registers
 * at MSR_APIC_BASE's physical address (0xfee00000 on every PC), mapped
 * once uncached with ioremap(); every CPU's APIC answers at that same
 * address, each CPU seeing its own.
 *
 * The boot CPU keeps the 8259 PIC's lines (the PIT's clock, COM1): the
 * firmware leaves its LINT0 as ExtINT ("virtual wire"), which stays so
 * when the APIC is software-enabled here, and those interrupts need no
 * APIC EOI. The other CPUs get a periodic LAPIC timer at HZ, whose rate
 * is measured once against the TSC (lapic_timer_calibrate()).
 *
 * Owns: the APIC mapping, the timer's rate. Locks: [c] after
 * lapic_init() on the boot CPU; the registers are per CPU.
 */
#include <mercator/clock.h>
#include <mercator/panic.h>
#include <vm/pmap.h>
#include <vm/vmalloc.h>
#include "cpu.h"
#include "lapic.h"
#include "trap.h"

#define MSR_APIC_BASE   0x1bu
#define APIC_BASE_EN    (1ULL << 11)
#define APIC_BASE_MASK  0x000ffffffffff000ULL

/* Register offsets. */
#define LAPIC_ID        0x020
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_IRR       0x200
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

#define SVR_ENABLE      (1u << 8)
#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define LVT_NMI         (4u << 8)
#define TIMER_DIV_16    0x3
#define ICR_PENDING     (1u << 12)      /* delivery status: not yet sent */
#define ICR_ASSERT      (1u << 14)
#define ICR_INIT        (5u << 8)
#define ICR_STARTUP     (6u << 8)

static volatile uint32_t *lapic;
static uint32_t timer_ticks_per_ms;     /* at divide-by-16 */

static uint32_t lapic_read(unsigned reg)
{
        return lapic[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
        lapic[reg / 4] = v;
        (void)lapic[LAPIC_ID / 4];      /* wait for the write to land */
}

void lapic_eoi(void)
{
        lapic_write(LAPIC_EOI, 0);
}

/* The Interrupt Request Register: 256 bits in eight 32-bit registers
 * 0x10 apart from 0x200; a bit is a vector accepted, not yet taken. */
bool lapic_irr_pending(unsigned vector)
{
        return lapic_read(LAPIC_IRR + 0x10 * (vector / 32)) >> (vector % 32) & 1;
}

unsigned lapic_id(void)
{
        return lapic_read(LAPIC_ID) >> 24;
}

/* Busy-wait us microseconds on the TSC (no timer interrupt needed). */
void lapic_delay_us(uint64_t us)
{
        uint64_t end = clock_monotonic_ns() + us * 1000;

        while (clock_monotonic_ns() < end)
                cpu_relax();
}

/* The timer's rate: count down for 10 ms of TSC time at divide-by-16. */
static void lapic_timer_calibrate(void)
{
        lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
        lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
        lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
        lapic_delay_us(10000);
        uint32_t left = lapic_read(LAPIC_TIMER_CUR);
        lapic_write(LAPIC_TIMER_INIT, 0);
        timer_ticks_per_ms = (0xffffffffu - left) / 10;
        if (timer_ticks_per_ms == 0)
                timer_ticks_per_ms = 1;
}

/*
 * Map the APIC (first call, boot CPU) and turn on the running CPU's:
 * software-enabled with the spurious vector, all priorities accepted,
 * errors cleared. => boot: keep LINT0/LINT1 as the firmware set them.
 */
void lapic_init(bool boot)
{
        if (!lapic) {
                uint64_t base = rdmsr(MSR_APIC_BASE);
                wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
                lapic = ioremap(base & APIC_BASE_MASK, PAGE_SIZE,
                                PMAP_NOCACHE);
                if (!lapic)
                        panic("lapic: cannot map the local APIC");
        }
        lapic_write(LAPIC_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
        lapic_write(LAPIC_TPR, 0);
        lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
        lapic_write(LAPIC_ESR, 0);
        lapic_write(LAPIC_ESR, 0);
        if (!boot) {
                lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
                lapic_write(LAPIC_LVT_LINT1, LVT_NMI);
        }
        if (boot)
                lapic_timer_calibrate();
}

/* A periodic timer interrupt at HZ on the running CPU. */
void lapic_timer_start(void)
{
        lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
        lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VECTOR_TIMER);
        lapic_write(LAPIC_TIMER_INIT, timer_ticks_per_ms * (1000 / HZ));
}

/* The running CPU's timer interrupt off (masked; the count goes on) or
 * back on (tests: a halted CPU that only a kick may wake). */
void lapic_timer_mask(bool masked)
{
        lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VECTOR_TIMER |
                                     (masked ? LVT_MASKED : 0));
}

uint32_t lapic_timer_rate(void)
{
        return timer_ticks_per_ms;
}

/* Wait until the APIC has sent the last IPI (delivery status idle). */
static bool lapic_icr_wait(void)
{
        for (unsigned i = 0; i < 1000000; i++) {
                if (!(lapic_read(LAPIC_ICR_LO) & ICR_PENDING))
                        return true;
                cpu_relax();
        }
        return false;
}

/*
 * Send one IPI: icr_lo to the CPU whose APIC id is apic_id. Interrupts
 * stay off from writing the destination to writing the command, so an
 * interrupt handler's own IPI cannot come in between.
 */
static bool lapic_send(unsigned apic_id, uint32_t icr_lo)
{
        uint64_t flags = read_rflags();
        bool sent;

        irq_disable();
        lapic_write(LAPIC_ICR_HI, apic_id << 24);
        lapic_write(LAPIC_ICR_LO, icr_lo);
        sent = lapic_icr_wait();
        if (flags & 0x200)
                irq_enable();
        return sent;
}

void lapic_send_ipi(unsigned apic_id, unsigned vector)
{
        if (!lapic_send(apic_id, vector))
                panic("lapic: IPI %#x to APIC %u not delivered", vector,
                      apic_id);
}

/*
 * Wake a CPU the firmware left waiting (Intel's MP start-up: INIT, 10 ms,
 * then STARTUP twice, 200 us apart); it starts in real mode at
 * page * 4096, which must be below 1 MiB. => false if an IPI hung.
 */
bool lapic_start_cpu(unsigned apic_id, unsigned page)
{
        if (!lapic_send(apic_id, ICR_INIT | ICR_ASSERT))
                return false;
        lapic_delay_us(10000);
        for (int i = 0; i < 2; i++) {
                if (!lapic_send(apic_id, ICR_STARTUP | (page & 0xff)))
                        return false;
                lapic_delay_us(200);
        }
        return true;
}
