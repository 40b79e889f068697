/*
 * printk.c - leveled messages to the console (printk.h).
 *
 * Each message is formatted into a buffer and written whole, under the
 * console lock, so a line is never interleaved with another message's
 * characters, from this CPU's interrupts or from another CPU. A panic
 * stops taking the lock (printk_unlocked): the CPU that panics may hold
 * it, and its message matters more than a clean line.
 */
#include <mercator/console.h>
#include <mercator/printk.h>
#include <mercator/spinlock.h>

int console_loglevel = LOG_INFO;
bool printk_unlocked;
static struct spinlock console_lock = SPINLOCK_INIT("console", LOCK_RANK_CONSOLE);

void vprintk(int level, const char *fmt, va_list ap)
{
        char buf[512];
        int n;

        if (level > console_loglevel)
                return;
        n = kvsnprintf(buf, sizeof buf, fmt, ap);
        if (n >= (int)sizeof buf)
                n = sizeof buf - 1;
        if (printk_unlocked) {
                console_write(buf, (size_t)n);
                return;
        }
        spin_lock(&console_lock);
        console_write(buf, (size_t)n);
        spin_unlock(&console_lock);
}

void printk(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vprintk(level, fmt, ap);
        va_end(ap);
}
