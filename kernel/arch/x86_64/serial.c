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
 * called under the big kernel lock on every CPU's way back to user mode
 * and before CPU 0 idles, takes that byte (and any that follow it) to
 * the terminal itself, then unmasks. The same mask holds input back
 * while the terminal's buffer is full.
 *
 * Why the arm takes the byte rather than only unmasking: the interrupt
 * reaches CPU 0 alone, and with threads on the other CPUs making system
 * calls, CPU 0 spends most of its time in the kernel waiting for the
 * lock. An unmask alone sent the byte's interrupt straight back to CPU 0,
 * which was most often still in the kernel and masked again; a byte got
 * through only when the interrupt happened to find CPU 0 in user mode or
 * idle. tests/user/tty_rx_storm's rounds of ten typed lines took from
 * 0.1 s to 36 s that way on a loaded host (a few bytes a second),
 * and a round that took longer than a typed session's 30 s wait failed
 * the test: the -smp 4 failures "@round5 never came" of session 15.
 * Now each locked exit on any CPU drains what waits.
 *
 * The mask and the unmask can run at once on two CPUs: the interrupt
 * comes to CPU 0 (through the PIC), which may be waiting for the big
 * kernel lock or idling while another CPU holds it and re-arms on its
 * way to user mode. So each half keeps an order between the UART's
 * register and the flag that says it is masked: rx_mask writes the
 * register, then sets the flag; serial_rx_arm clears the flag, then
 * writes the register. If the flag ends clear, the arm's clear came
 * after the mask's set, so its register write came after the mask's
 * too: the interrupt ends unmasked. If the flag ends set, the next
 * re-arm unmasks. (With the other order, set then write against clear
 * then write, one interleaving left the flag clear and the interrupt
 * masked: no re-arm would ever come, and typed input sat in the UART.
 * That was the -smp 4 `make run` session that stalled about one run in
 * five; tests/user/tty_rx_storm provokes it.)
 */
#include <machine/cpu_local.h>
#include "cpu.h"
#include "serial.h"
#include <mercator/console.h>

static bool rx_enabled;         /* serial_rx_start() was called */
static bool rx_masked;          /* [a] receive interrupt off until a re-arm */
static bool in_idle;            /* the CPU is halted in serial_idle's window */

/* Route the UART's interrupt to the PIC and ask for receive interrupts. */
void serial_rx_start(void)
{
        rx_enabled = true;
        outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
        outb(COM1 + UART_IER, IER_RX);
}

/* The register first, then the flag (out waits for the write to be done;
 * the store is a full barrier after it). */
static void rx_mask(void)
{
        outb(COM1 + UART_IER, 0);
        __atomic_store_n(&rx_masked, true, __ATOMIC_SEQ_CST);
}

/* The bytes waiting in the UART go to the terminal; false if its buffer
 * filled, which masks the receive interrupt until a re-arm finds room. */
static bool serial_take_input(void)
{
        while (inb(COM1 + UART_LSR) & LSR_DATA_READY) {
                if (!console_input_room()) {
                        rx_mask();
                        return false;
                }
                console_receive((uint8_t)inb(COM1 + UART_DATA));
        }
        return true;
}

/* [kernel lock]: one arm at a time; a mask (CPU 0's interrupt) may run
 * at the same time. The flag is cleared (a full barrier) before the
 * register is written. In between, the byte the masked interrupt left
 * in the UART (and any that follow it) goes to the terminal here: this
 * is a safe point, on whichever CPU (see the top of this file). */
bool serial_rx_held(void)
{
        return __atomic_load_n(&rx_masked, __ATOMIC_ACQUIRE);
}

void serial_rx_arm(void)
{
        if (__atomic_load_n(&rx_masked, __ATOMIC_ACQUIRE) &&
            console_input_room()) {
                __atomic_store_n(&rx_masked, false, __ATOMIC_SEQ_CST);
                if (serial_take_input())
                        outb(COM1 + UART_IER, IER_RX);
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

