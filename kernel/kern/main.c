/*
 * main.c - the machine-independent start of the kernel, after the
 * architecture's boot code has set up paging and the page allocator.
 */
#include <mercator/console.h>
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

void monitor_run(void);

/* The value of `ktest=NAME` on the command line, copied into buf. */
static const char *ktest_selection(const char *cmdline, char *buf, size_t size)
{
        const char *p = strstr(cmdline, "ktest=");
        size_t n = 0;

        if (!p)
                return NULL;
        for (p += 6; p[n] && p[n] != ' ' && n + 1 < size; n++)
                buf[n] = p[n];
        buf[n] = '\0';
        return buf;
}

void kmain(void)
{
        const char *cmdline = machine_cmdline();
        char name[64];

        machine_print_memory();
        machine_print_layout();
        pr_notice("Mercator ready: %lu us from the first instruction\n",
                  machine_uptime_us());
        if (strstr(cmdline, "ktest"))
                ktest_main(ktest_selection(cmdline, name, sizeof name));
        monitor_run();
}
