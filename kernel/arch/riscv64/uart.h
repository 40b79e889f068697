/* uart.h - the ns16550a console (uart.c). */
#ifndef ARCH_RISCV64_UART_H
#define ARCH_RISCV64_UART_H

#include <mercator/types.h>

/* Use the UART at physical address pa (reached through the linear map). */
void uart_init(paddr_t pa);

/* Raise the UART's interrupt when a byte arrives. */
void uart_enable_rx_irq(void);

#endif
