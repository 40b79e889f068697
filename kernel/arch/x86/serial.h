/*
 * serial.h (x86, shared by x86-64 and i386) - the 16550 UART on COM1
 * (I/O port 0x3f8) as the kernel console: output polled, input polled
 * here (x86-64 adds interrupt-driven input in its own serial.c).
 */
#ifndef ARCH_X86_SERIAL_H
#define ARCH_X86_SERIAL_H

#include <mercator/types.h>

#define COM1            0x3f8
#define UART_DATA       0       /* with DLAB: divisor low byte */
#define UART_IER        1       /* with DLAB: divisor high byte */
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define IER_RX          0x01    /* interrupt when a byte has arrived */
#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20
#define LCR_DLAB        0x80
#define LCR_BREAK       0x40
#define LCR_8N1         0x03
#define MCR_DTR_RTS     0x03
#define MCR_OUT2        0x08    /* on a PC, gates the UART's IRQ line */

/* 115200 baud, 8N1, no interrupts, FIFOs off. */
void serial_init(void);
/* Kernel messages: '\n' goes out as "\r\n". */
void serial_write(const char *s, size_t len);
int serial_getc(void);          /* a received byte, or -1 if none waits */

#endif
