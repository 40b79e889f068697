/*
 * monitor.c - a tiny command line on the serial console, until there are
 * user programs: look at memory, then power off.
 */
#include <mercator/console.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

static void cmd_help(void)
{
        pr_notice("commands: mem (counters), zones (buddy free lists), "
                  "layout, help, poweroff\n");
}

static void cmd_mem(void)
{
        uint64_t free = pmm_free_count();

        pr_notice("free pages      %10" PRIu64 " (%" PRIu64 " KiB)\n", free, free * 4);
        pr_notice("page tables     %10" PRIu64 "\n", vmstat.pt_pages);
        pr_notice("slab            %10" PRIu64 "\n", vmstat.slab_pages);
        pr_notice("kmalloc large   %10" PRIu64 "\n", vmstat.kmalloc_large);
        pr_notice("vmalloc         %10" PRIu64 "\n", vmstat.vmalloc_pages);
        pr_notice("kernel stacks   %10" PRIu64 "\n", vmstat.kstack_pages);
        pr_notice("boot-time use   %10" PRIu64 "\n", vmstat.boot_pages);
}

static void run_command(const char *line)
{
        if (!strcmp(line, "mem"))
                cmd_mem();
        else if (!strcmp(line, "zones"))
                pmm_dump();
        else if (!strcmp(line, "layout"))
                machine_print_layout();
        else if (!strcmp(line, "poweroff") || !strcmp(line, "exit"))
                machine_poweroff(0);
        else if (!strcmp(line, "help"))
                cmd_help();
        else if (line[0])
                pr_notice("unknown command '%s' (try help)\n", line);
}

/* Read a line with echo and backspace; returns its length. */
static size_t read_line(char *buf, size_t size)
{
        size_t n = 0;

        for (;;) {
                int c = console_getc();
                if (c < 0)
                        continue;
                if (c == '\r' || c == '\n') {
                        console_write("\n", 1);
                        buf[n] = '\0';
                        return n;
                }
                if ((c == 0x7f || c == 0x08) && n > 0) {
                        n--;
                        console_write("\b \b", 3);
                } else if (c >= ' ' && c < 0x7f && n + 1 < size) {
                        buf[n++] = (char)c;
                        console_write((char *)&buf[n - 1], 1);
                }
        }
}

void monitor_run(void)
{
        char line[80];

        pr_notice("No user programs yet: this is the kernel monitor.\n");
        cmd_help();
        for (;;) {
                console_write("mercator> ", 10);
                read_line(line, sizeof line);
                run_command(line);
        }
}
