/*
 * host.c - the host build's stand-ins for what the kernel gets from its
 * console and boot code: printk to stderr, panic into the test harness,
 * and an array playing physical RAM.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/smp_call.h>
#include <mercator/spinlock.h>
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

/*
 * Cross-CPU calls between host threads (mercator/smp_call.h): each CPU
 * has a mailbox; a sender takes it (busy), posts fn and arg, and waits
 * for the target to run them, which it does where a CPU takes an
 * interrupt: when its "interrupts" come back on (intr_restore) and while
 * it waits for calls of its own. A CPU other than 0 is online only while
 * a test's thread plays it (host_cpu_online). Senders and a CPU going
 * offline each make their move (taking the box; clearing the bit) before
 * looking at the other's, so one of them always sees the other.
 */
#define HOST_CPUS       16

static struct host_mailbox {
        void (*fn)(void *);
        void *arg;
        bool busy;              /* [a] a sender holds the box */
        bool posted;            /* [a] fn/arg wait to be run */
} host_mail[HOST_CPUS];
static uint32_t host_online;            /* [a] bit n: CPU n */

/* Run the call posted to this CPU, if any, as an interrupt would. */
static void host_call_poll(void)
{
        struct host_mailbox *m = &host_mail[host_cpu];

        if (!__atomic_load_n(&m->posted, __ATOMIC_ACQUIRE))
                return;
        host_intr_off = true;
        m->fn(m->arg);
        host_intr_off = false;
        __atomic_store_n(&m->posted, false, __ATOMIC_RELEASE);
}

void intr_restore(unsigned long s)
{
        if (s) {
                host_intr_off = false;
                host_call_poll();
        }
}

void host_cpu_online(bool online)
{
        if (online) {
                __atomic_fetch_or(&host_online, 1u << host_cpu,
                                  __ATOMIC_SEQ_CST);
                return;
        }
        __atomic_fetch_and(&host_online, ~(1u << host_cpu), __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&host_mail[host_cpu].busy, __ATOMIC_SEQ_CST)) {
                host_call_poll();
                sched_yield();
        }
}

/* mercator/smp_call.h: the box stays taken from the post to the end of
 * the wait. */
bool machine_call_post(unsigned c, void (*fn)(void *), void *arg)
{
        struct host_mailbox *m;

        if (c >= HOST_CPUS || c == host_cpu)
                return false;
        m = &host_mail[c];
        while (__atomic_exchange_n(&m->busy, true, __ATOMIC_SEQ_CST)) {
                host_call_poll();
                sched_yield();
        }
        if (!(__atomic_load_n(&host_online, __ATOMIC_SEQ_CST) & (1u << c))) {
                __atomic_store_n(&m->busy, false, __ATOMIC_RELEASE);
                return false;
        }
        m->fn = fn;
        m->arg = arg;
        __atomic_store_n(&m->posted, true, __ATOMIC_RELEASE);
        return true;
}

void machine_call_wait(unsigned c)
{
        struct host_mailbox *m = &host_mail[c];

        while (__atomic_load_n(&m->posted, __ATOMIC_ACQUIRE)) {
                host_call_poll();
                sched_yield();
        }
        __atomic_store_n(&m->busy, false, __ATOMIC_RELEASE);
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
