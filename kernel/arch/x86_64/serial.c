/*
 * serial.c - the 16550 UART on COM1 (I/O port 0x3f8): the kernel console,
 * and the machine half of the terminal (kernel/fs/tty.c is the other).
 *
 * Output is polled. Kernel messages (console_write) turn '\n' into "\r\n";
 * the terminal's own output (console_write_raw) has had its output
 * processing done by the line discipline and goes out as it is.
 *
 * Input arrives by interrupt (IRQ 4 through the 8259 PIC, vector 36), one
 * byte per interrupt: the FIFOs stay off, so the UART holds one byte and
 * QEMU holds the rest back until it is taken. Each byte goes to the line
 * discipline (console_receive), which may echo, wake readers and signal
 * process groups. That must not happen in the middle of a system call (the
 * kernel is not preemptible, and its data has no locks), so the receive
 * interrupt is taken only at a safe point: from user mode, or while the
 * CPU idles. One that arrives during a system call masks the UART's
 * receive interrupt and leaves the byte in the UART; serial_rx_arm(),
 * called on the way back to user mode and before idling, unmasks it.
 * The same mask holds input back while the terminal's buffer is full.
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
#define IER_RX          0x01    /* interrupt when a byte has arrived */
#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20
#define LCR_DLAB        0x80
#define LCR_BREAK       0x40
#define LCR_8N1         0x03
#define MCR_DTR_RTS     0x03
#define MCR_OUT2        0x08    /* on a PC, gates the UART's IRQ line */

static bool rx_enabled;         /* serial_rx_start() was called */
static bool rx_masked;          /* receive interrupt off until a safe point */
static bool in_idle;            /* the CPU is halted in serial_idle's window */

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

/* Route the UART's interrupt to the PIC and ask for receive interrupts. */
void serial_rx_start(void)
{
        rx_enabled = true;
        outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
        outb(COM1 + UART_IER, IER_RX);
}

void serial_rx_arm(void)
{
        if (rx_masked && console_input_room()) {
                rx_masked = false;
                outb(COM1 + UART_IER, IER_RX);  /* a waiting byte interrupts */
        }
}

static void rx_mask(void)
{
        rx_masked = true;
        outb(COM1 + UART_IER, 0);
}

void serial_irq(bool safe)
{
        if (!rx_enabled)
                return;
        if (!safe && !in_idle) {
                rx_mask();
                return;
        }
        while (inb(COM1 + UART_LSR) & LSR_DATA_READY) {
                if (!console_input_room()) {
                        rx_mask();
                        return;
                }
                console_receive((uint8_t)inb(COM1 + UART_DATA));
        }
}

void serial_idle(void)
{
        serial_rx_arm();
        in_idle = true;
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        in_idle = false;
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
