/* uart.h - the ns16550a console (uart.c). */
#ifndef ARCH_RISCV64_UART_H
#define ARCH_RISCV64_UART_H

#include <mercator/types.h>

/* Use the UART at physical address pa (reached through the linear map). */
void uart_init(paddr_t pa);

/* Raise the UART's interrupt when a byte arrives. */
void uart_enable_rx_irq(void);

/* Input (as x86-64's serial.c): the receive interrupt hands bytes to the
 * terminal only at a safe point (from user mode, or while idle); else it
 * masks itself until uart_rx_arm() at the next return to user mode. */
void uart_irq(bool safe);
void uart_rx_arm(void);
/* Whether an interrupt held input back (uart_rx_arm has work). */
bool uart_rx_held(void);
extern bool uart_in_idle;

#endif
