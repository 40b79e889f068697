/*
 * panic.c - stop the kernel on a bug: say why, show where, power off.
 *
 * QEMU then exits with status PANIC_EXIT_STATUS (see machine_poweroff), so
 * a test runner can tell a panic from a normal end.
 */
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>

#define PANIC_EXIT_STATUS 0x7e

static bool in_panic;
extern bool printk_unlocked;    /* printk.c */

/* Set by a caller that has already shown where things went wrong. */
bool panic_no_backtrace;

void panic(const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        kvsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        console_loglevel = LOG_DEBUG;
        printk_unlocked = true;
        pr_emerg("\nPANIC: %s\n", msg);
        if (!in_panic && !panic_no_backtrace) {
                in_panic = true;        /* a fault while dumping: just stop */
                machine_backtrace();
        }
        machine_poweroff(PANIC_EXIT_STATUS);
}
