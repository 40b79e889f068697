/*
 * host.c - the host build's stand-ins for what the kernel gets from its
 * console and boot code: printk to stderr, panic into the test harness,
 * and an array playing physical RAM.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <machine/vmparam.h>

#include <stdio.h>
#include <stdlib.h>

uint8_t *host_ram;
uint64_t host_ram_size;
int console_loglevel = LOG_WARN;

void host_panic_hook(const char *msg);  /* tests/host/check.c */
void host_ram_setup(uint64_t bytes);
void host_ram_teardown(void);

void vprintk(int level, const char *fmt, va_list ap)
{
        if (level <= console_loglevel || getenv("HOST_VERBOSE"))
                vfprintf(stderr, fmt, ap);
}

void printk(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vprintk(level, fmt, ap);
        va_end(ap);
}

void panic(const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        host_panic_hook(msg);
        abort();        /* the hook never returns */
}

/* Simulated RAM, page-aligned so page-granular checks behave as on metal. */
void host_ram_setup(uint64_t bytes)
{
        host_ram_teardown();
        host_ram = aligned_alloc(PAGE_SIZE, bytes);
        if (!host_ram) {
                fprintf(stderr, "host: cannot allocate %llu bytes of RAM\n",
                        (unsigned long long)bytes);
                abort();
        }
        host_ram_size = bytes;
}

void host_ram_teardown(void)
{
        free(host_ram);
        host_ram = NULL;
        host_ram_size = 0;
}
