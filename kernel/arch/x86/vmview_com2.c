/*
 * vmview_com2.c (x86, shared by x86-64 and i386) - the picture feed's
 * port (vm_view_feed_write, vm/vm_view.h): the second 16550 UART (COM2,
 * I/O port 0x2f8), which QEMU's pc machine has when
 * tools/vmview gives a second -serial option. Probed once through the
 * scratch register: a missing UART reads back 0xff whatever is written.
 * Output is polled, no interrupts.
 */
#include <mercator/types.h>
#include <vm/vm_view.h>
#include "cpu.h"
#include "serial.h"

#define COM2            0x2f8
#define UART_SCRATCH    7

/* 0: not probed yet, 1: present, -1: absent. */
static int com2_state;

static bool com2_present(void)
{
        if (!com2_state) {
                outb(COM2 + UART_SCRATCH, 0x5a);
                bool a = inb(COM2 + UART_SCRATCH) == 0x5a;
                outb(COM2 + UART_SCRATCH, 0xa5);
                bool b = inb(COM2 + UART_SCRATCH) == 0xa5;
                com2_state = a && b ? 1 : -1;
                if (com2_state > 0) {
                        outb(COM2 + UART_IER, 0x00);    /* no interrupts */
                        outb(COM2 + UART_LCR, LCR_DLAB);
                        outb(COM2 + UART_DATA, 1);      /* 115200 baud */
                        outb(COM2 + UART_IER, 0);
                        outb(COM2 + UART_LCR, LCR_8N1);
                }
        }
        return com2_state > 0;
}

bool vm_view_feed_write(const char *s, size_t len)
{
        if (!com2_present())
                return false;
        for (size_t i = 0; i < len; i++) {
                while (!(inb(COM2 + UART_LSR) & LSR_THR_EMPTY))
                        cpu_relax();
                outb(COM2, (uint8_t)s[i]);
        }
        return true;
}
