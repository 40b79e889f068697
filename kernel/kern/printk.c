/*
 * printk.c - leveled messages to the console (printk.h).
 *
 * Each message is formatted into a buffer and written whole, so a line is
 * never interleaved with another message's characters.
 */
#include <mercator/console.h>
#include <mercator/printk.h>

int console_loglevel = LOG_INFO;

void vprintk(int level, const char *fmt, va_list ap)
{
        char buf[512];
        int n;

        if (level > console_loglevel)
                return;
        n = kvsnprintf(buf, sizeof buf, fmt, ap);
        if (n >= (int)sizeof buf)
                n = sizeof buf - 1;
        console_write(buf, (size_t)n);
}

void printk(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vprintk(level, fmt, ap);
        va_end(ap);
}
