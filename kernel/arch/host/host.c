/*
 * host.c - the host build's stand-ins for what the kernel gets from its
 * console and boot code: printk to stderr, panic into the test harness,
 * and an array playing physical RAM.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <machine/intr.h>
#include <machine/pmap.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *host_ram;
uint64_t host_ram_size;
unsigned host_quick_maps;       /* machine/pmap.h: quick mappings held */
int console_loglevel = LOG_WARN;

void host_panic_hook(const char *msg);  /* tests/host/check.c */
void host_ram_setup(uint64_t bytes);
void host_ram_teardown(void);

/* --- CPUs and their interrupts (machine/intr.h) -------------------------- */

_Thread_local unsigned host_cpu;        /* the CPU this thread plays */
static _Thread_local bool host_intr_off;

/* "Interrupts off" is only a per-thread flag: the host has no interrupts
 * to hold off, but intr_save's callers need its answer nested right. */
unsigned long intr_save(void)
{
        if (host_intr_off)
                return 0;
        host_intr_off = true;
        return 1;
}

/* A spinning thread gives its host CPU to the holder (the host may have
 * fewer cores than the test has threads). */
void intr_cpu_relax(void)
{
        sched_yield();
}

void intr_restore(unsigned long s)
{
        if (s)
                host_intr_off = false;
}

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

/*
 * What boot does, for a host test: RAM of `bytes`, a descriptor for each of
 * its pages, every page but frame 0 free in the buddy allocator, and the
 * memory counters at zero.
 */
static struct vm_page *host_pages;

void host_memory_setup(uint64_t bytes)
{
        uint64_t npages = bytes >> PAGE_SHIFT;

        host_ram_setup(bytes);
        host_pages = calloc(npages, sizeof *host_pages);
        if (!host_pages)
                abort();
        memset(&vmstat, 0, sizeof vmstat);
        pmm_init(host_pages, 0, npages, pmm_machine_zones);
        pmm_add_range(PAGE_SIZE, bytes);
        vmstat.managed_pages = pmm_free_count();        /* MemTotal */
}

void host_ram_teardown(void)
{
        free(host_pages);
        host_pages = NULL;
        free(host_ram);
        host_ram = NULL;
        host_ram_size = 0;
        host_quick_maps = 0;
}
