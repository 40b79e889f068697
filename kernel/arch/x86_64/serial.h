/* serial.h - the COM1 console: the shared UART (kernel/arch/x86/serial.h)
 * plus x86-64's interrupt-driven input (serial.c). */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

#include <arch/x86/serial.h>

#define IRQ_SERIAL      4       /* COM1 */

/* Start interrupt-driven input (after the PIC is set up). */
void serial_rx_start(void);

/*
 * The receive interrupt. safe: it came from user mode (no kernel work is
 * in progress). Otherwise, unless the CPU was idling, the byte is left
 * in the UART until serial_rx_arm().
 */
void serial_irq(bool safe);

/* A safe point: take held-back input (interrupts follow when enabled). */
void serial_rx_arm(void);
/* Whether an interrupt held input back (serial_rx_arm has work). */
bool serial_rx_held(void);

/* Halt until an interrupt, taking console input while halted. */
void serial_idle(void);

#endif
