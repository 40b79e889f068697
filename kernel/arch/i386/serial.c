/*
 * serial.c (i386) - the 16550 UART on COM1 (port 0x3f8): the console.
 *
 * Polled, no interrupts; '\n' goes out as "\r\n". (The same UART code as
 * x86-64's; both move to kernel/arch/x86/ with the shared x86 code.)
 */
#include <mercator/console.h>
#include "cpu.h"
#include "serial.h"

#define COM1            0x3f8
#define UART_DATA       0
#define UART_IER        1
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20
#define LCR_DLAB        0x80
#define LCR_8N1         0x03

void serial_init(void)
{
        outb(COM1 + UART_IER, 0x00);
        outb(COM1 + UART_LCR, LCR_DLAB);
        outb(COM1 + UART_DATA, 1);              /* 115200 baud */
        outb(COM1 + UART_IER, 0);
        outb(COM1 + UART_LCR, LCR_8N1);
        outb(COM1 + UART_MCR, 0x03);            /* DTR, RTS */
}

static void serial_putc(char c)
{
        while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
                cpu_relax();
        outb(COM1 + UART_DATA, (uint8_t)c);
}

static bool at_line_start = true;

void console_write(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\n')
                        serial_putc('\r');
                serial_putc(s[i]);
        }
        if (len)
                at_line_start = s[len - 1] == '\n';
}

bool console_at_line_start(void)
{
        return at_line_start;
}

int console_getc(void)
{
        if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
                return -1;
        return inb(COM1 + UART_DATA);
}
