/*
 * smp.c (riscv64) - starting the other harts, inter-processor interrupts
 * and cross-hart calls (docs/design.md, "Multiprocessor": the riscv64
 * part).
 *
 * The boot hart reads the harts from the device tree (/cpus, fdt.c), then
 * starts the others one at a time with SBI's HSM hart_start (OpenSBI
 * keeps every hart but the one it booted stopped until asked): each
 * begins at boot.S's _ap_start in S-mode with paging off, a1 = its struct
 * cpu (or at boot.S's _start, where the firmware's hart_start race may
 * send it: boot.S's lottery then takes it to _ap_start with the struct
 * cpu ap_start left in ap_entry_cpu), turns on boot.S's table, then the
 * kernel's own (ap_satp), and
 * runs ap_main on an idle stack of its own (kstack_alloc: guard page
 * below), with its own overflow stack for trap.S. There it sets up its
 * timer (SBI set_timer, TICK_HZ) and says it is online.
 *
 * IPIs are SBI send_ipi: a supervisor software interrupt (sip.SSIP) on
 * the target, one kind of interrupt for every reason, so the reasons go
 * in the target's ipi_pending bits (set before the send, taken with an
 * atomic exchange after sip.SSIP is cleared: a bit set after the clear
 * comes with an interrupt of its own).
 *
 * Until there are processes the other harts idle (wfi), count their
 * timer ticks and IPIs and run the calls posted to them; sched_run()
 * then sends each into its own scheduler loop (proc/sched.c, the same on
 * every hart, under the big kernel lock), which waits in wfi when it has
 * nothing to run until a wake-up kicks it. Their stacks and frame pages
 * live as long as the machine (not counted as leaks: smp_init() runs
 * before any test's snapshot).
 */
#include <mercator/kstat.h>
#include <mercator/clock.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/smp_call.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <vm/pmap.h>
#include <vm/vmalloc.h>
#include "boot.h"
#include "percpu.h"
#include "riscv.h"
#include "sbi.h"
#include "trap.h"
#include "uart.h"

#define AP_START_WAIT_NS 5000000000ULL  /* TCG on a loaded host is slow */

extern char _ap_start[], overflow_stack_top[];

struct cpu cpus[MAX_CPUS];
_Static_assert(MAX_CPUS <= KSTAT_MAX_CPUS, "/proc/stat keeps time for every CPU");
unsigned ncpus = 1;
uint64_t ap_satp;                       /* [c] boot.S's ap_high loads it */

/* One sender at a time posts into a hart's mailbox. */
static struct spinlock call_slot = SPINLOCK_INIT("smp_call", LOCK_RANK_SMP_CALL);

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

/* ---- IPIs ----------------------------------------------------------------- */

/* The bits go in before the interrupt is sent (the release orders them and
 * everything the sender wrote before). */
void smp_send_ipi(unsigned cpu, uint32_t bits)
{
        __atomic_fetch_or(&cpus[cpu].ipi_pending, bits, __ATOMIC_SEQ_CST);
        sbi_send_ipi(cpus[cpu].hartid);
}

/* sip.SSIP is cleared first: a sender that sets its bit after the
 * exchange below also sends an interrupt that finds SSIP clear, so it is
 * taken again. Interrupts off. => the reasons handled. */
static uint32_t ipi_take(void)
{
        struct cpu *c = this_cpu();
        uint32_t bits;

        csr_clear(sip, SIE_SSIE);
        bits = __atomic_exchange_n(&c->ipi_pending, 0, __ATOMIC_ACQ_REL);
        if (bits & IPI_PING)
                c->ipis++;
        if (bits & IPI_CALL)
                smp_call_poll();
        /* IPI_KICK: the interrupt itself ended a wfi */
        return bits;
}

/* A trap (interrupts off). */
void smp_ipi_interrupt(void)
{
        (void)ipi_take();
}

/*
 * Wait in wfi for an IPI, interrupts off, after the caller said it waits
 * (a flag its waker reads after its own store) and looked once more.
 * wfi ends on an interrupt pending and enabled in sie whether
 * sstatus.SIE is set or not, so this works with the caller's interrupts
 * off too. Only an IPI ends it (sie is SSIE alone meanwhile): a tick or
 * the console's interrupt stays pending until the caller turns
 * interrupts on, as it would have while it spun with them off; with
 * them off a pending one would end every wfi at once. An IPI that came
 * earlier but was not taken (SIE off) would too: the pending ones are
 * handled first (ipi_take), and if there were any (the waker's kick
 * among them) the caller looks again instead. A waker sets its kick's
 * bit before it sends the IPI: the bit is seen here, or the IPI comes
 * after the clear of sip.SSIP and ends the wfi.
 */
static void ipi_halt(void)
{
        unsigned long enabled;

        if (ipi_take())
                return;
        enabled = csr_read(sie);
        csr_write(sie, SIE_SSIE);
        wfi();
        csr_write(sie, enabled);
        (void)ipi_take();
}

/* ---- cross-hart calls ------------------------------------------------------ */

/* Call req posted to c is done: if its sender waits in wfi for it
 * (smp_call_wait), wake the sender. The sender is read before done is
 * stored (the slot's next sender may write it after); done is stored
 * before the sender's flag is read, and the sender sets the flag before
 * it looks at done: one of the two sees the other. */
static void call_finish(struct cpu *c, uint64_t req)
{
        unsigned from = c->call_from;

        __atomic_store_n(&c->call_done, req, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&cpus[from].call_halted, __ATOMIC_RELAXED))
                smp_send_ipi(from, IPI_KICK);
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

/* From inside a posted call's function: its sender's smp_call_wait
 * returns now, the function goes on (a test's function that waits for
 * the big kernel lock its sender holds). */
void smp_call_release_sender(void)
{
        struct cpu *c = this_cpu();

        call_finish(c, __atomic_load_n(&c->call_req, __ATOMIC_ACQUIRE));
}

/* ---- the big kernel lock's halted waiters (biglock.c) ------------------ */

/* Interrupts off (on or off in the waiter: MACHINE_LOCK_HALT_INTR_OFF),
 * with this hart's bit in biglock.c's halted set and the lock seen
 * held: a trap from user mode waits with them off. */
void machine_lock_halt(void)
{
        ipi_halt();
}

/* Bit n of mask: hart n halted in machine_lock_halt (an IPI that only
 * wakes it). */
void machine_lock_kick(uint64_t mask)
{
        for (unsigned i = 0; i < ncpus && i < 64; i++)
                if (mask >> i & 1)
                        smp_send_ipi(i, IPI_KICK);
}

/* Take the sender slot without blocking calls posted to this hart: a hart
 * waiting here with interrupts off still runs them. */
static void call_slot_take(void)
{
        if (LOCK_DEBUG && lock_held_count() != 0)
                panic("smp_call with %u spinlocks held", lock_held_count());
        while (!spin_trylock(&call_slot)) {
                unsigned long s = intr_save();
                smp_call_poll();
                intr_restore(s);
                intr_cpu_relax();
        }
}

void smp_call_start(unsigned cpu, void (*fn)(void *), void *arg)
{
        struct cpu *c = &cpus[cpu];

        if (cpu >= ncpus || !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
                panic("smp_call to hart %u, which is not online", cpu);
        if (c == this_cpu()) {
                unsigned long s = intr_save();
                fn(arg);
                intr_restore(s);
                return;
        }
        call_slot_take();
        /* the previous call to c must be finished before its mailbox is
         * reused; meanwhile run any posted here */
        while (__atomic_load_n(&c->call_done, __ATOMIC_ACQUIRE) != c->call_req) {
                unsigned long s = intr_save();
                smp_call_poll();
                intr_restore(s);
        }
        c->call_fn = fn;
        c->call_arg = arg;
        c->call_from = this_cpu()->id;
        this_cpu()->call_posted[cpu] = c->call_req + 1;
        __atomic_store_n(&c->call_req, c->call_req + 1, __ATOMIC_RELEASE);
        smp_send_ipi(cpu, IPI_CALL);
        spin_unlock(&call_slot);
}

/* Is this hart's last call to cpu done? Not "is cpu's mailbox empty":
 * once the call is done another sender may post the next one there (two
 * lock-free faults send rounds at once), and a sender that waited for
 * that one would wait for a finish that kicks the other sender only. */
static bool call_finished(const struct cpu *me, unsigned cpu)
{
        return __atomic_load_n(&cpus[cpu].call_done, __ATOMIC_ACQUIRE) >=
               me->call_posted[cpu];
}

/*
 * Wait for the call posted to cpu: in wfi when interrupts are on (the
 * target kicks this hart when it is done, as does a call posted here or
 * a tick), spinning otherwise. wfi ends on a pending interrupt even with
 * sstatus.SIE clear; intr_restore then takes it. Waiting in wfi gives the
 * host core back to the targets' virtual CPUs (x86-64's smp.c measured
 * what spinning cost there).
 */
void smp_call_wait(unsigned cpu)
{
        struct cpu *me = this_cpu();

        while (!call_finished(me, cpu)) {
                unsigned long s = intr_save();
                smp_call_poll();
                __atomic_store_n(&me->call_halted, true, __ATOMIC_SEQ_CST);
                __atomic_thread_fence(__ATOMIC_SEQ_CST);
                if (!call_finished(me, cpu)) {
                        if (s & SSTATUS_SIE)
                                wfi();
                        else
                                ipi_halt();
                }
                __atomic_store_n(&me->call_halted, false, __ATOMIC_RELAXED);
                intr_restore(s);
        }
}

void smp_call(unsigned cpu, void (*fn)(void *), void *arg)
{
        smp_call_start(cpu, fn, arg);
        smp_call_wait(cpu);
}

/* mercator/smp_call.h: the cross-hart call smp_call_every_cpu posts. */
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

/* ---- scheduling on every hart (machine/cpu_local.h's hooks) ---------- */

static bool sched_started;       /* [a] sched_run() began on the boot hart */

void machine_sched_start(void)
{
        if (__atomic_exchange_n(&sched_started, true, __ATOMIC_ACQ_REL))
                return;                 /* another hart's own sched_run() */
        for (unsigned i = 1; i < ncpus; i++)
                if (__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
                        smp_send_ipi(i, IPI_KICK);
}

/* The console's input an interrupt held back, for hart 0's scheduler
 * loop to take in under the big lock before it idles (sched.c). */
bool machine_console_held(void)
{
        return this_cpu()->id == 0 && uart_rx_held();
}

void machine_console_arm(void)
{
        uart_rx_arm();
}

/* Leave the user space this hart may have loaded, so its tables can go
 * and its threads run elsewhere; then say this hart idles. Interrupts
 * stay off to machine_idle()'s wfi: a kick sent once `idle` shows stays
 * pending and ends the wfi. [sched_lock] */
void machine_idle_enter(void)
{
        struct cpu *c = this_cpu();

        intr_off();
        if (c->loaded_pmap != pmap_kernel())
                pmap_activate(pmap_kernel());
        __atomic_store_n(&c->idle, true, __ATOMIC_RELEASE);
}

/* Wake one hart that idles, for one thread that became runnable; its
 * `idle` is cleared here, so the next thread's kick goes to another.
 * One, not all: x86-64's smp.c says why. Only a hart in `allowed` (the
 * thread's affinity): another would find nothing it may run.
 * [sched_lock, or the kernel lock: sched_setaffinity] */
void machine_kick_idle(uint64_t allowed)
{
        struct cpu *me = this_cpu();

        for (unsigned i = 0; i < ncpus && i < 64; i++)
                if (&cpus[i] != me && (allowed >> i & 1) &&
                    __atomic_load_n(&cpus[i].idle, __ATOMIC_ACQUIRE) &&
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE)) {
                        __atomic_store_n(&cpus[i].idle, false,
                                         __ATOMIC_RELEASE);
                        smp_send_ipi(i, IPI_KICK);
                        return;
                }
}

/* An interrupt for the hart that runs p: it lands in user mode, where
 * proc_usertrap sees the signal and takes the lock to deliver it, or in a
 * thread waiting for the lock on its way in, which looks at its signals
 * anyway (x86-64's smp.c has the argument). [kernel lock] */
void machine_kick_running(struct proc *p)
{
        struct cpu *me = this_cpu();

        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (unsigned i = 0; i < ncpus; i++)
                if (&cpus[i] != me && cpus[i].cur == p &&
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE)) {
                        smp_send_ipi(i, IPI_KICK);
                        return;
                }
}

/* The idle loop of a scheduler with nothing to run (interrupts off, from
 * machine_idle_enter). The boot hart waits for one interrupt, with the
 * console's input allowed in (uart_in_idle), and looks again: its tick
 * runs the timers and wakes sleepers. Another hart waits until it is
 * kicked: its ticks and the calls it serves send it back to wfi, not to
 * its scheduler loop (which would spin for the big lock; x86-64's
 * machine_idle says what that cost). wfi ends on a pending interrupt
 * with SIE clear; intr_on() then takes it. Returns with interrupts off,
 * as the scheduler loop runs on this port. */
void machine_idle(void)
{
        struct cpu *c = this_cpu();

        if (c->id == 0) {
                uart_in_idle = true;
                wfi();
                intr_on();
                intr_off();
                uart_in_idle = false;
                c->idle_wakeups++;
        } else {
                do {
                        wfi();
                        intr_on();
                        intr_off();
                        c->idle_wakeups++;
                } while (__atomic_load_n(&c->idle, __ATOMIC_ACQUIRE));
        }
        __atomic_store_n(&c->idle, false, __ATOMIC_RELEASE);
}

/* ---- starting the harts ------------------------------------------------------ */

/* A hart's life after start-up: wait for interrupts, counting the
 * wake-ups, until there are processes; then its scheduler loop. */
__attribute__((noreturn)) static void ap_idle(struct cpu *c)
{
        for (;;) {
                if (__atomic_load_n(&sched_started, __ATOMIC_ACQUIRE))
                        sched_run();
                wfi();
                intr_on();
                intr_off();
                c->idle_wakeups++;
        }
}

/* Where boot.S's ap_high calls, on c's idle stack and the kernel's table,
 * interrupts off. */
__attribute__((noreturn)) void ap_main(struct cpu *c);
void ap_main(struct cpu *c)
{
        /* user mode may read the time CSR (the vDSO's clocks); the FPU is
         * the user's: never Off (boot.c does the same on the boot hart) */
        csr_write(scounteren, SCOUNTEREN_TM);
        csr_set(sstatus, SSTATUS_FS_INITIAL);
        trap_init_hart();
        __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
        ap_idle(c);
}

/* Each hart's trap frame page (thread.c: TRAPFRAME_HART). */
static char hart_frames[MAX_CPUS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void frame_give(struct cpu *c)
{
        c->tf = (struct trapframe *)hart_frames[c->id];
        c->tf_pa = kimg_virt_to_phys(hart_frames[c->id]);
}

/* Start one hart and wait for it. => false if it did not come up. */
static bool ap_start(struct cpu *c)
{
        uint64_t strays;
        long err;

        c->idle_stack = kstack_alloc();
        c->overflow_stack = kstack_alloc();
        if (!c->idle_stack || !c->overflow_stack) {
                pr_warn("smp: no memory for hart %lu's stacks\n", c->hartid);
                return false;
        }
        c->self = c;
        frame_give(c);
        c->kstack_limit = (uint64_t)c->idle_stack;
        c->loop_limit = (uint64_t)c->idle_stack;
        c->start_sp = kstack_top(c->idle_stack);
        c->overflow_top = kstack_top(c->overflow_stack);
        /* for a hart the firmware sends to _start instead (boot.S) */
        ap_entry_cpu = c;
        ap_entry_hart = c->hartid;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        strays = __atomic_load_n(&boot_entry_strays, __ATOMIC_RELAXED);
        err = sbi_hart_start(c->hartid, kimg_virt_to_phys(_ap_start),
                             (unsigned long)c);
        if (err) {
                pr_warn("smp: SBI hart_start(%lu) failed: error %ld\n",
                        c->hartid, err);
                return false;
        }
        uint64_t end = clock_monotonic_ns() + AP_START_WAIT_NS;
        while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
                if (clock_monotonic_ns() > end)
                        return false;
                intr_cpu_relax();
        }
        if (__atomic_load_n(&boot_entry_strays, __ATOMIC_RELAXED) != strays)
                pr_warn("smp: hart %lu came in at the kernel's boot entry "
                        "(the firmware's hart_start race), joined as CPU %u\n",
                        c->hartid, c->id);
        return true;
}

/* The boot hart's struct cpu (boot.S already points tp at it). */
void smp_boot_cpu_init(unsigned long hartid)
{
        struct cpu *c = &cpus[0];

        frame_give(c);
        c->self = c;
        c->hartid = hartid;
        c->kstack_limit = (uint64_t)boot_stack;
        c->loop_limit = (uint64_t)boot_stack;
        c->overflow_top = (uint64_t)overflow_stack_top;
        c->online = true;
}

void smp_init(void)
{
        const struct fdt_info *fi = &boot_info.fdt;
        bool hsm = sbi_has(SBI_EXT_HSM) && sbi_has(SBI_EXT_IPI);

        ap_satp = csr_read(satp);       /* the kernel's own table */
        for (unsigned i = 0; hsm && i < fi->nharts && ncpus < MAX_CPUS; i++) {
                if (fi->hartid[i] == cpus[0].hartid)
                        continue;
                struct cpu *c = &cpus[ncpus];
                c->id = ncpus;
                c->hartid = fi->hartid[i];
                ncpus++;
                if (!ap_start(c)) {
                        /* it might still start later on this stack: start
                         * no other hart after it */
                        pr_warn("smp: hart %lu (CPU %u) did not start\n",
                                c->hartid, c->id);
                        break;
                }
        }
        tlb_rfence = strstr(fi->bootargs, "rfence") && sbi_has(SBI_EXT_RFENCE);
        pr_info("smp: %u of %u CPUs online (device tree lists %u harts%s; "
                "TLB shootdown by %s)\n", smp_online_count(), ncpus,
                fi->nharts, hsm ? "" : ", no SBI HSM or IPI extension",
                tlb_rfence ? "SBI remote_sfence_vma" : "IPI and sfence.vma");
}
