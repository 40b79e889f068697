/*
 * lapic.h - the local APIC of each CPU (lapic.c): its timer and IPIs.
 */
#ifndef ARCH_X86_64_LAPIC_H
#define ARCH_X86_64_LAPIC_H

#include <mercator/types.h>

void lapic_init(bool boot);             /* the running CPU's APIC on */
void lapic_timer_start(void);           /* periodic, HZ, VECTOR_TIMER */
void lapic_timer_mask(bool masked);     /* this CPU's; tests */
uint32_t lapic_timer_rate(void);        /* timer ticks per ms (div 16) */
void lapic_eoi(void);
unsigned lapic_id(void);                /* the running CPU's APIC id */
bool lapic_irr_pending(unsigned vector); /* requested, not yet taken */
void lapic_send_ipi(unsigned apic_id, unsigned vector);
bool lapic_start_cpu(unsigned apic_id, unsigned page);
void lapic_delay_us(uint64_t us);

#endif
