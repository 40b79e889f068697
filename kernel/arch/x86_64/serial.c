/*
 * serial.c - the 16550 UART on COM1 (I/O port 0x3f8): the kernel console.
 *
 * Polled, no interrupts. Output turns '\n' into "\r\n" for terminals.
 */
#include "cpu.h"
#include "serial.h"
#include <mercator/console.h>

#define COM1            0x3f8
#define UART_DATA       0       /* with DLAB: divisor low byte */
#define UART_IER        1       /* with DLAB: divisor high byte */
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20
#define LCR_DLAB        0x80
#define LCR_8N1         0x03

void serial_init(void)
{
        outb(COM1 + UART_IER, 0x00);            /* no interrupts */
        outb(COM1 + UART_LCR, LCR_DLAB);
        outb(COM1 + UART_DATA, 1);              /* 115200 baud */
        outb(COM1 + UART_IER, 0);
        outb(COM1 + UART_LCR, LCR_8N1);
        /* FIFOs stay off: turning them on clears the receive buffer (and
         * input typed before boot with it). Without them the UART holds
         * one byte and QEMU holds the rest back until it is taken. */
        outb(COM1 + UART_MCR, 0x03);            /* DTR, RTS */
}

static void serial_putc_raw(char c)
{
        while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
                cpu_relax();
        outb(COM1 + UART_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\n')
                        serial_putc_raw('\r');
                serial_putc_raw(s[i]);
        }
}

int serial_getc(void)
{
        if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
                return -1;
        return inb(COM1 + UART_DATA);
}

static bool at_line_start = true;

/* The console is COM1 (console.h). */
void console_write(const char *s, size_t len)
{
        serial_write(s, len);
        if (len)
                at_line_start = s[len - 1] == '\n';
}

bool console_at_line_start(void)
{
        return at_line_start;
}

int console_getc(void)
{
        return serial_getc();
}
