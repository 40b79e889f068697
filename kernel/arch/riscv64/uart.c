/*
 * uart.c - the ns16550a UART of QEMU's virt board: the kernel console.
 *
 * Memory-mapped, one byte per register (reg-shift 0). Until boot.c reads
 * the device tree, the console uses the board's usual address 0x10000000
 * through the boot table's linear map; uart_init() then takes the address
 * the tree gives. Output is polled; input is polled too (console_getc),
 * and the receive interrupt goes through the PLIC (plic_init in trap.c).
 */
#include <mercator/console.h>
#include <machine/cpu_local.h>
#include <machine/vmparam.h>
#include "uart.h"

#define UART_RBR        0       /* receive buffer (read) */
#define UART_THR        0       /* transmit holding (write) */
#define UART_IER        1
#define UART_FCR        2
#define UART_LCR        3
#define UART_LSR        5
#define LSR_DATA_READY  0x01
#define LCR_BREAK       0x40
#define LSR_THR_EMPTY   0x20
#define LCR_8N1         0x03
#define IER_RX          0x01

static volatile uint8_t *uart = (volatile uint8_t *)(LINEAR_BASE + 0x10000000UL);

void uart_init(paddr_t pa)
{
        uart = phys_to_virt(pa);
        uart[UART_IER] = 0;
        uart[UART_LCR] = LCR_8N1;
        uart[UART_FCR] = 0x07;          /* FIFOs on and cleared */
}

void uart_enable_rx_irq(void)
{
        uart[UART_IER] = IER_RX;
}

static void uart_putc(char c)
{
        while (!(uart[UART_LSR] & LSR_THR_EMPTY))
                ;
        uart[UART_THR] = (uint8_t)c;
}

static bool at_line_start = true;

void console_write(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\n')
                        uart_putc('\r');
                uart_putc(s[i]);
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
        if (!(uart[UART_LSR] & LSR_DATA_READY))
                return -1;
        return uart[UART_RBR];
}

void console_write_raw(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                uart_putc(s[i]);
        if (len)
                at_line_start = s[len - 1] == '\n';
}

/* A break: the line held at 0 while `on`. */
void console_set_break(bool on)
{
        uint8_t lcr = uart[UART_LCR];

        uart[UART_LCR] = on ? lcr | LCR_BREAK : lcr & ~LCR_BREAK;
}

/* ---- input to the terminal (uart.h) ---- */

bool uart_in_idle;
static bool rx_masked;          /* [a] receive interrupt off until a re-arm */

static void rx_mask(void)
{
        uart[UART_IER] = 0;
        __asm__ volatile("fence iorw, iorw" ::: "memory");
        __atomic_store_n(&rx_masked, true, __ATOMIC_RELAXED);
}

/* The bytes waiting in the UART go to the terminal; false if its buffer
 * filled, which masks the receive interrupt until a re-arm finds room. */
static bool rx_take_input(void)
{
        while (uart[UART_LSR] & LSR_DATA_READY) {
                if (!console_input_room()) {
                        rx_mask();
                        return false;
                }
                console_receive(uart[UART_RBR]);
        }
        return true;
}

/* A mask (the boot hart's interrupt, maybe without the big kernel lock)
 * and an arm (under it, on any hart) may run at once: each keeps an
 * order between the UART's register and the flag, as x86-64's serial.c
 * explains (the mask writes the register, then sets the flag; the arm
 * clears the flag, then writes the register), so the flag never ends
 * clear with the interrupt masked. The fences order the device's
 * register against memory (a plain fence rw,rw does not). Between the
 * two, the arm takes what the masked interrupt left in the UART: the
 * interrupt reaches the boot hart only, and an unmask alone sends it
 * back there, most often still busy in the kernel (serial.c again). */
bool uart_rx_held(void)
{
        return __atomic_load_n(&rx_masked, __ATOMIC_ACQUIRE);
}

void uart_rx_arm(void)
{
        if (__atomic_load_n(&rx_masked, __ATOMIC_ACQUIRE) &&
            console_input_room()) {
                __atomic_store_n(&rx_masked, false, __ATOMIC_RELAXED);
                __asm__ volatile("fence iorw, iorw" ::: "memory");
                if (rx_take_input())
                        uart[UART_IER] = IER_RX;   /* a new byte interrupts */
        }
}

/* safe: the interrupted code was user code, and this hart holds the big
 * kernel lock for it (proc_usertrap). In the idle window the terminal is
 * only touched if the lock is free. */
void uart_irq(bool safe)
{
        if (safe) {
                rx_take_input();
        } else if (uart_in_idle && machine_kernel_trylock()) {
                rx_take_input();
                machine_kernel_unlock();
        } else {
                rx_mask();
        }
}
