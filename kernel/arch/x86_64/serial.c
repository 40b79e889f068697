/*
 * serial.c - COM1's input by interrupt: the machine half of the terminal
 * (kernel/fs/tty.c is the other). The UART itself, the console output and
 * polled input are shared with i386 (kernel/arch/x86/serial.c).
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
#include <machine/cpu_local.h>
#include "cpu.h"
#include "serial.h"
#include <mercator/console.h>

static bool rx_enabled;         /* serial_rx_start() was called */
static bool rx_masked;          /* receive interrupt off until a safe point */
static bool in_idle;            /* the CPU is halted in serial_idle's window */

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

/* The bytes waiting in the UART go to the terminal, or the receive
 * interrupt is masked until the next safe point. */
static void serial_take_input(void)
{
        while (inb(COM1 + UART_LSR) & LSR_DATA_READY) {
                if (!console_input_room()) {
                        rx_mask();
                        return;
                }
                console_receive((uint8_t)inb(COM1 + UART_DATA));
        }
}

/* safe: the interrupted code was user code, and this CPU holds the big
 * kernel lock for it (trap_dispatch). In the idle window the terminal is
 * only touched if the lock is free. */
void serial_irq(bool safe)
{
        if (!rx_enabled)
                return;
        if (safe) {
                serial_take_input();
        } else if (in_idle && machine_kernel_trylock()) {
                serial_take_input();
                machine_kernel_unlock();
        } else {
                rx_mask();
        }
}

/* => serial_rx_arm() called under the big kernel lock just before. */
void serial_idle(void)
{
        in_idle = true;
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        in_idle = false;
}

