/*
 * smp.c - starting the other CPUs (application processors, APs).
 *
 * The boot CPU reads the CPUs' APIC ids from ACPI's MADT, then starts the
 * others one at a time: it copies ap_tramp.S to AP_TRAMP_PA, gives it a
 * stack, the CPU's struct cpu and start-up page tables (ap_pml4: the
 * trampoline's first 2 MiB identity-mapped, the kernel half shared with
 * the kernel's own tables), sends INIT-STARTUP-STARTUP and waits until
 * the CPU says it is online. The new CPU loads the kernel's tables and
 * the boot CPU's control-register settings, its own GDT/TSS (with its
 * own double-fault and NMI stacks) and the shared IDT, turns on its
 * local APIC with a periodic timer, and enters its idle loop.
 *
 * What the other CPUs do for now: they idle (hlt), count their timer
 * ticks and IPIs, and never leave the kernel's own tables, touching only
 * their stacks, their struct cpu and the kernel image; processes run on
 * the boot CPU alone. So no other CPU can hold a translation a process's
 * pmap change would make stale, and none needs a shootdown yet. Their
 * stacks and tables live as long as the machine (not counted as leaks:
 * smp_init() runs before any test's snapshot).
 */
#include <mercator/kstat.h>
#include <mercator/machine.h>
#include <mercator/clock.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/smp_call.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <proc/machine_hooks.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>
#include "acpi.h"
#include "cpu.h"
#include "lapic.h"
#include "mmu.h"
#include "percpu.h"
#include "pmap_md.h"
#include "serial.h"
#include "trap.h"

#define AP_TRAMP_PA     0x8000          /* as ap_tramp.S */
#define AP_START_WAIT_US 5000000        /* TCG on a loaded host is slow */
#define PTE_P           0x1ULL
#define PTE_W           0x2ULL
#define PTE_PS          0x80ULL

extern char ap_tramp_start[], ap_tramp_end[];
extern uint64_t ap_param_cr3, ap_param_stack, ap_param_cpu, ap_param_entry;

struct cpu cpus[MAX_CPUS];
_Static_assert(MAX_CPUS <= KSTAT_MAX_CPUS, "/proc/stat keeps time for every CPU");
unsigned ncpus = 1;
uint64_t tlb_shootdowns;

/* One sender at a time posts into a CPU's mailbox. */
static struct spinlock call_slot = SPINLOCK_INIT("smp_call", LOCK_RANK_SMP_CALL);

/* The boot CPU's settings every CPU copies (set by smp_init). */
static struct {
        uint64_t cr0, cr4, efer, pat;
        paddr_t kernel_root;
} boot_regs;

static uint64_t ap_pml4[512] __attribute__((aligned(4096)));
static uint64_t ap_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ap_pd[512] __attribute__((aligned(4096)));

static paddr_t kimg_pa(const void *va)
{
        return (paddr_t)((vaddr_t)va - KERNEL_BASE);
}

unsigned machine_cpus_online(void)
{
        return smp_online_count();
}

unsigned smp_online_count(void)
{
        unsigned n = 0;

        for (unsigned i = 0; i < ncpus; i++)
                n += __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE);
        return n;
}

/* Call req posted to c is done: if its sender halted waiting for it
 * (smp_call_wait), wake the sender. The sender is read before done is
 * stored (the slot's next sender may write it after); done is stored
 * before the sender's flag is read, and the sender sets the flag before
 * it looks at done: one of the two sees the other. */
static void call_finish(struct cpu *c, uint64_t req)
{
        struct cpu *from = &cpus[c->call_from];

        __atomic_store_n(&c->call_done, req, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&from->call_halted, __ATOMIC_RELAXED))
                lapic_send_ipi(from->apic_id, VECTOR_RESCHED);
}

/* Run the call posted here, if any, and finish it. */
void smp_call_poll(void)
{
        struct cpu *c = this_cpu();
        uint64_t req = __atomic_load_n(&c->call_req, __ATOMIC_ACQUIRE);

        if (c->call_done == req)
                return;
        c->call_fn(c->call_arg);
        call_finish(c, req);
}

/*
 * CPUs in hlt, for idle_poll_room: a CPU counts from just before its hlt
 * (interrupts off) to the first interrupt it takes (trap_dispatch calls
 * smp_halt_ended) or its return from the hlt, so one that runs an
 * interrupt's handler (a cross-CPU call, a shootdown) counts as working.
 */
static unsigned cpus_halted;            /* [a] */

static void halt_begin(struct cpu *c)
{
        c->in_hlt = true;
        __atomic_add_fetch(&cpus_halted, 1, __ATOMIC_RELAXED);
}

void smp_halt_ended(void)
{
        struct cpu *c = this_cpu();

        if (c->in_hlt) {
                c->in_hlt = false;
                __atomic_sub_fetch(&cpus_halted, 1, __ATOMIC_RELAXED);
        }
}

/* Interrupts off; on for the hlt alone. */
static void halt(struct cpu *c)
{
        halt_begin(c);
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        smp_halt_ended();
}

void machine_lock_halt(void)
{
        halt(this_cpu());
}

void machine_lock_kick(uint64_t mask)
{
        for (unsigned i = 0; i < ncpus && i < 64; i++)
                if (mask >> i & 1)
                        lapic_send_ipi(cpus[i].apic_id, VECTOR_RESCHED);
}

/* From inside a posted call's function: its sender's smp_call_wait
 * returns now, the function goes on (a test's function that waits for
 * the big kernel lock its sender holds). A call posted meanwhile runs
 * from this function's smp_call_poll: keep to what a test controls. */
void smp_call_release_sender(void)
{
        struct cpu *c = this_cpu();

        call_finish(c, __atomic_load_n(&c->call_req, __ATOMIC_ACQUIRE));
}

/* Take the sender slot without blocking calls posted to this CPU: a
 * CPU waiting here with interrupts off still runs them. */
static void call_slot_take(void)
{
        if (LOCK_DEBUG && lock_held_count() != 0)
                panic("smp_call with %u spinlocks held", lock_held_count());
        while (!spin_trylock(&call_slot)) {
                unsigned long s = intr_save();
                smp_call_poll();
                intr_restore(s);
                cpu_relax();
        }
}

void smp_call_start(unsigned cpu, void (*fn)(void *), void *arg)
{
        struct cpu *c = &cpus[cpu];

        if (cpu >= ncpus || !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
                panic("smp_call to CPU %u, which is not online", cpu);
        if (c == this_cpu()) {
                unsigned long s = intr_save();
                fn(arg);
                intr_restore(s);
                return;
        }
        call_slot_take();
        /* the previous call to c must be finished before its mailbox is
         * reused; meanwhile run any posted here */
        while (__atomic_load_n(&c->call_done, __ATOMIC_ACQUIRE) != c->call_req)
                smp_call_poll(), cpu_relax();
        c->call_fn = fn;
        c->call_arg = arg;
        c->call_from = this_cpu()->id;
        this_cpu()->call_posted[cpu] = c->call_req + 1;
        __atomic_store_n(&c->call_req, c->call_req + 1, __ATOMIC_RELEASE);
        lapic_send_ipi(c->apic_id, VECTOR_CALL);
        spin_unlock(&call_slot);
}

/* Is this CPU's last call to cpu done? Not "is cpu's mailbox empty":
 * once the call is done another sender may post the next one there (two
 * lock-free faults send rounds at once), and a sender that waited for
 * that one would wait for a finish that kicks the other sender only. */
static bool call_finished(const struct cpu *me, unsigned cpu)
{
        return __atomic_load_n(&cpus[cpu].call_done, __ATOMIC_ACQUIRE) >=
               me->call_posted[cpu];
}

/*
 * Wait for the call posted to cpu. With interrupts on, halted: the target
 * wakes this CPU when it is done (smp_call_poll), as does a call posted
 * here or a tick. A sender that spun instead kept a host core busy that
 * the targets' virtual CPUs needed: a TLB shootdown round with the other
 * CPUs running user threads (the bench's munmap figure) cost, median of
 * 3 x 64 munmaps, loaded 2-core host, spinning -> halted: -smp 2 2.2 and
 * 22.9 ms -> 0.46 and 0.057 ms, -smp 3 31 and 14 ms -> 3.2 and 6.6 ms,
 * -smp 4 27 and 24 ms -> 15 and 14 ms. On real hardware a round is a few
 * microseconds and halting adds an IPI back to each; virtual CPUs that
 * share host cores are what this kernel runs on.
 */
void smp_call_wait(unsigned cpu)
{
        struct cpu *me = this_cpu();

        while (!call_finished(me, cpu)) {
                unsigned long s = intr_save();
                smp_call_poll();
                if (s & RFLAGS_IF_BIT) {
                        /* xchg: a full barrier before the look at done */
                        __atomic_store_n(&me->call_halted, true,
                                         __ATOMIC_SEQ_CST);
                        if (!call_finished(me, cpu))
                                __asm__ volatile("sti; hlt; cli" ::: "memory");
                        __atomic_store_n(&me->call_halted, false,
                                         __ATOMIC_RELAXED);
                }
                intr_restore(s);
        }
}

void smp_call(unsigned cpu, void (*fn)(void *), void *arg)
{
        smp_call_start(cpu, fn, arg);
        smp_call_wait(cpu);
}

/* mercator/smp_call.h: the cross-CPU call smp_call_every_cpu posts. */
bool machine_call_post(unsigned cpu, void (*fn)(void *), void *arg)
{
        if (cpu >= ncpus || cpu == this_cpu()->id ||
            !__atomic_load_n(&cpus[cpu].online, __ATOMIC_ACQUIRE))
                return false;
        smp_call_start(cpu, fn, arg);
        return true;
}

void machine_call_wait(unsigned cpu)
{
        smp_call_wait(cpu);
}

static bool sched_started;       /* [a] sched_run() began on the boot CPU */

/* An AP's life after start-up: wait for interrupts, counting the
 * wake-ups, until there are processes; then its scheduler loop (which
 * idles the same way when it finds nothing to run). */
__attribute__((noreturn)) static void ap_idle(struct cpu *c)
{
        for (;;) {
                if (__atomic_load_n(&sched_started, __ATOMIC_ACQUIRE))
                        sched_run();
                halt(c);
                c->idle_wakeups++;
        }
}

void machine_sched_start(void)
{
        if (__atomic_exchange_n(&sched_started, true, __ATOMIC_ACQ_REL))
                return;                 /* an AP's own sched_run() */
        for (unsigned i = 1; i < ncpus; i++)
                if (__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
                        lapic_send_ipi(cpus[i].apic_id, VECTOR_RESCHED);
}


/* The console's input an interrupt held back, for CPU 0's scheduler
 * loop to take in under the big lock before it idles (sched.c). */
bool machine_console_held(void)
{
        return this_cpu()->id == 0 && serial_rx_held();
}

void machine_console_arm(void)
{
        serial_rx_arm();
}

/* Leave the user space this CPU may have loaded, so its tables can go
 * and its threads run elsewhere; then say this CPU idles. [sched_lock]
 * Interrupts stay off from here to machine_idle()'s hlt: a kick sent once
 * `idle` shows stays pending until the `sti; hlt` (hlt sits in sti's
 * one-instruction shadow) and ends it, where with interrupts on it could
 * be taken before the hlt, which would then wait for the next 10 ms tick. */
void machine_idle_enter(void)
{
        struct cpu *c = this_cpu();

        __asm__ volatile("cli" ::: "memory");
        if (c->loaded_root != boot_regs.kernel_root)
                pmap_activate(pmap_kernel());
        c->idle = true;
}

/* Wake one CPU that idles, for one thread that became runnable (a kick
 * that finds its scheduler loop not yet halted is taken right after its
 * sti). Its `idle` is cleared here, so the next thread's kick goes to
 * another CPU. One, not all: every CPU woken for one thread spins for
 * the big kernel lock only to find nothing, and with more virtual CPUs
 * than the host has cores the spinners take the time the lock's holder
 * needs. Only a CPU in `allowed` (the thread's affinity): another would
 * find nothing it may run. [sched_lock, or the kernel lock: sched_setaffinity] */
void machine_kick_idle(uint64_t allowed)
{
        struct cpu *me = this_cpu();

        for (unsigned i = 0; i < ncpus && i < 64; i++)
                if (&cpus[i] != me && (allowed >> i & 1) && cpus[i].idle &&
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE)) {
                        __atomic_store_n(&cpus[i].idle, false,
                                         __ATOMIC_RELEASE);
                        lapic_send_ipi(cpus[i].apic_id, VECTOR_RESCHED);
                        return;
                }
}

/* An interrupt for the CPU that runs p (cur == p). It lands in user mode,
 * where trap_dispatch sees the signal and takes the kernel lock to deliver
 * it, or in a thread that waits for the lock on its way in, which looks at
 * its signals before going back anyway: no other state is possible while
 * the sender holds the lock (every path back to user mode drops the lock
 * with interrupts off, so the IPI cannot be spent in the kernel after the
 * thread's last look at its signals). The fence orders the sender's stores
 * to the pending set before the ICR write (an x2APIC's wrmsr is not
 * serialising). [kernel lock] */
void machine_kick_running(struct proc *p)
{
        struct cpu *me = this_cpu();

        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (unsigned i = 0; i < ncpus; i++)
                if (&cpus[i] != me && cpus[i].cur == p &&
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE)) {
                        lapic_send_ipi(cpus[i].apic_id, VECTOR_RESCHED);
                        return;
                }
}

/*
 * Polling before halting, as Linux's haltpoll does for a guest: under a
 * hypervisor or an emulator, waking a halted virtual CPU costs its host
 * a thread wake-up (tens of microseconds under TCG), which a thread
 * woken on another CPU pays at every hand-over. An idle CPU first
 * watches its `idle` word (a kick clears it) for up to its window,
 * answering cross-CPU calls, then halts. The window adapts to what
 * the CPU sees (Linux's rules): an idle spell that ended within
 * IDLE_POLL_MAX_NS but after the window grows it (doubling, from
 * IDLE_POLL_START_NS), a longer one shrinks it (halving, to 0 below
 * the start), so a CPU idle for long stretches soon halts at once and
 * does not take host time from the CPUs that work. Boot option
 * idlepoll=0: no polling.
 */
#define IDLE_POLL_MAX_NS        200000
#define IDLE_POLL_START_NS      10000

static bool idle_poll_on = true;      /* boot option idlepoll=0: off */

/* Whether at most half the CPUs are out of hlt (this one included): a
 * machine given more virtual CPUs than its host has cores (4 on 2 here)
 * would have a polling CPU take host time from a working one. */
static bool idle_poll_room(void)
{
        return (ncpus - __atomic_load_n(&cpus_halted, __ATOMIC_RELAXED)) * 2
               <= ncpus;
}

/* => true if a kick came while polling (interrupts stay off). Whether
 * there is room is asked once: a poll is short (its window), and another
 * CPU's tick would otherwise end it. No `pause` in the loop: under TCG
 * each one leaves the vCPU's execution loop. */
static bool idle_poll(struct cpu *c, uint64_t t0)
{
        uint64_t end = t0 + c->idle_poll_ns;
        bool kicked = true;

        if (!c->idle_poll_ns || !idle_poll_room())
                return false;
        __atomic_store_n(&c->polling, true, __ATOMIC_RELAXED);
        while (__atomic_load_n(&c->idle, __ATOMIC_ACQUIRE)) {
                if (clock_monotonic_ns() >= end) {
                        kicked = false;
                        break;
                }
                smp_call_poll();
        }
        __atomic_store_n(&c->polling, false, __ATOMIC_RELAXED);
        return kicked;
}

static void idle_poll_adapt(struct cpu *c, uint64_t spell_ns)
{
        if (!idle_poll_on)
                c->idle_poll_ns = 0;
        else if (spell_ns > IDLE_POLL_MAX_NS)
                c->idle_poll_ns = c->idle_poll_ns / 2 < IDLE_POLL_START_NS ?
                                  0 : c->idle_poll_ns / 2;
        else if (spell_ns > c->idle_poll_ns)
                c->idle_poll_ns = MIN(MAX(c->idle_poll_ns * 2,
                                          IDLE_POLL_START_NS),
                                      IDLE_POLL_MAX_NS);
}

/* The idle loop of a scheduler with nothing to run. The boot CPU's waits
 * for one interrupt through the console's (serial_idle), which takes input
 * that arrives meanwhile, and then looks again: its PIT tick runs the
 * timers and wakes sleepers whose time has come. Another CPU halts until
 * it is kicked (machine_kick_idle clears its `idle`): its own ticks and
 * the cross-CPU calls it serves wake it only to halt again. When each
 * tick sent it back to the scheduler loop, the idle CPUs of a -smp 4
 * machine spun for the big kernel lock while one thread held it through
 * long operations (swapping: the swap_pressure test took over 10 minutes
 * at -smp 4, 47 s at -smp 1): under TCG each `pause` of that spin leaves
 * QEMU's execution loop for QEMU's own global lock, which the I/O thread
 * and the holder's CPU need, and the spinning vCPUs take the 2-core
 * host's time. => interrupts off
 * (machine_idle_enter); on again when it returns, as the scheduler loop
 * runs otherwise. */
void machine_idle(void)
{
        struct cpu *c = this_cpu();
        uint64_t t0 = clock_monotonic_ns();

        if (idle_poll(c, t0)) {
                c->idle_polls++;
                __asm__ volatile("sti" ::: "memory");
                return;
        }
        if (c->id == 0) {
                halt_begin(c);
                serial_idle();
                smp_halt_ended();
                c->idle_wakeups++;
        } else {
                do {
                        halt(c);
                        c->idle_wakeups++;
                } while (__atomic_load_n(&c->idle, __ATOMIC_ACQUIRE));
        }
        idle_poll_adapt(c, clock_monotonic_ns() - t0);
        c->idle = false;
        __asm__ volatile("sti" ::: "memory");
}

/* Where ap_tramp.S jumps, on c's idle stack, at the kernel's addresses. */
__attribute__((noreturn)) static void ap_main(struct cpu *c)
{
        cpu_tables_init(c, kstack_top(c->ist_stacks[0]),
                        kstack_top(c->ist_stacks[1]));
        pmap_activate(pmap_kernel());           /* notes loaded_root */
        write_cr0(boot_regs.cr0);
        write_cr4(boot_regs.cr4);
        wrmsr(MSR_EFER, boot_regs.efer);
        wrmsr(MSR_PAT, boot_regs.pat);
        cpu_features_init();
        __asm__ volatile("fninit");
        tss_set_kernel_stack(kstack_top(c->idle_stack));
        lapic_init(false);
        lapic_timer_start();
        __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
        ap_idle(c);
}

/* The start-up tables: the trampoline's 2 MiB identity-mapped (one large
 * page), the kernel half as in the kernel's root. */
static void ap_tables_build(void)
{
        const uint64_t *kroot = phys_to_virt(boot_regs.kernel_root);

        ap_pd[0] = 0 | PTE_P | PTE_W | PTE_PS;
        ap_pdpt[0] = kimg_pa(ap_pd) | PTE_P | PTE_W;
        ap_pml4[0] = kimg_pa(ap_pdpt) | PTE_P | PTE_W;
        for (unsigned i = 256; i < 512; i++)
                ap_pml4[i] = kroot[i];
}

/* The trampoline's copy at AP_TRAMP_PA, with its parameters for c. */
static void ap_tramp_install(struct cpu *c)
{
        uint8_t *copy = phys_to_virt(AP_TRAMP_PA);
        size_t len = (size_t)(ap_tramp_end - ap_tramp_start);

#define PARAM(p) (*(uint64_t *)(copy + ((char *)&(p) - ap_tramp_start)))
        memcpy(copy, ap_tramp_start, len);
        PARAM(ap_param_cr3) = kimg_pa(ap_pml4);
        /* as after a call: the entry's rsp + 8 is 16-byte aligned */
        PARAM(ap_param_stack) = kstack_top(c->idle_stack) - 8;
        PARAM(ap_param_cpu) = (uint64_t)c;
        PARAM(ap_param_entry) = (uint64_t)ap_main;
#undef PARAM
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Start one AP and wait for it. => false if it did not come up. */
static bool ap_start(struct cpu *c)
{
        c->idle_stack = kstack_alloc();
        c->ist_stacks[0] = kstack_alloc();
        c->ist_stacks[1] = kstack_alloc();
        if (!c->idle_stack || !c->ist_stacks[0] || !c->ist_stacks[1]) {
                pr_warn("smp: no memory for CPU %u's stacks\n", c->id);
                return false;
        }
        ap_tramp_install(c);
        if (!lapic_start_cpu(c->apic_id, AP_TRAMP_PA >> 12))
                return false;
        uint64_t end = clock_monotonic_ns() + AP_START_WAIT_US * 1000ULL;
        while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
                if (clock_monotonic_ns() > end)
                        return false;
                cpu_relax();
        }
        return true;
}

static void boot_regs_save(void)
{
        boot_regs.cr0 = read_cr0();
        boot_regs.cr4 = read_cr4();
        boot_regs.efer = rdmsr(MSR_EFER);
        boot_regs.pat = rdmsr(MSR_PAT);
        boot_regs.kernel_root = pmap_kernel()->root;
}

void smp_init(void)
{
        unsigned ids[MAX_CPUS], found, me;

        if (strstr(machine_cmdline(), "idlepoll=0"))
                idle_poll_on = false;

        lapic_init(true);
        me = lapic_id();
        cpus[0].apic_id = me;
        cpus[0].online = true;
        found = acpi_find_cpus(ids, MAX_CPUS);
        boot_regs_save();
        cpus[0].loaded_root = boot_regs.kernel_root;
        ap_tables_build();
        for (unsigned i = 0; i < found; i++) {
                if (ids[i] == me)
                        continue;
                struct cpu *c = &cpus[ncpus];
                c->id = ncpus;
                c->apic_id = ids[i];
                ncpus++;
                if (!ap_start(c)) {
                        /* it might still wake later on this stack and
                         * trampoline: start no other CPU after it */
                        pr_warn("smp: CPU %u (APIC %u) did not start\n",
                                c->id, c->apic_id);
                        break;
                }
        }
        pr_info("smp: %u of %u CPUs online (MADT lists %u; LAPIC timer "
                "%u ticks/ms)\n", smp_online_count(), ncpus,
                found ? found : 1, lapic_timer_rate());
}
