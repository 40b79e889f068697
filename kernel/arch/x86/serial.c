/*
 * serial.c (x86, shared by x86-64 and i386) - the 16550 UART on COM1: the
 * kernel console's output (console.h) and polled input.
 *
 * Kernel messages (console_write) turn '\n' into "\r\n"; the terminal's
 * own output (console_write_raw) has had its output processing done by
 * the line discipline and goes out as it is.
 */
#include <mercator/console.h>
#include "cpu.h"
#include "serial.h"

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
        outb(COM1 + UART_MCR, MCR_DTR_RTS);
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

void console_write_raw(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                serial_putc_raw(s[i]);
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

/* A break: the line held at 0 while `on`. */
void console_set_break(bool on)
{
        uint8_t lcr = inb(COM1 + UART_LCR);

        outb(COM1 + UART_LCR, on ? lcr | LCR_BREAK : lcr & ~LCR_BREAK);
}
