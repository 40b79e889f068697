/*
 * test_rv_smp.c - the other harts (kernel/arch/riscv64/smp.c), as
 * tests/kernel/test_smp.c checks x86-64's CPUs: every hart the device
 * tree lists came up, each runs its idle loop on its own timer, an IPI
 * reaches each one and only it, cross-hart calls run where asked with
 * the hart's own tp and stack, a spinlock excludes across harts, and a
 * change to a pmap reaches every hart that may cache it (TLB shootdown).
 * tools/test.py boots these at -smp 1, 2 and 4 and checks the boot line's
 * count against QEMU's -smp.
 */
#include <mercator/clock.h>
#include <mercator/ktest.h>
#include <mercator/smp_call.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <machine/cpu_local.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include <mercator/printk.h>
#include "arch/riscv64/boot.h"
#include "arch/riscv64/mmu.h"
#include "arch/riscv64/percpu.h"
#include "arch/riscv64/pmap_md.h"
#include "arch/riscv64/riscv.h"
#include "arch/riscv64/sbi.h"
#include "../common/bkl_halt_rounds.h"

/* Busy-wait up to ms milliseconds for *counter to pass old. */
static bool wait_past(const uint64_t *counter, uint64_t old, unsigned ms)
{
        uint64_t end = clock_monotonic_ns() + ms * 1000000ULL;

        while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) <= old)
                if (clock_monotonic_ns() > end)
                        return false;
        return true;
}

/* What a call finds on the hart it runs on. */
struct where {
        unsigned id;
        struct cpu *tp;
        uint64_t sp;
        bool sie;
};

static void record_hart(void *arg)
{
        struct where *w = arg;
        uint64_t sp;

        __asm__ volatile("mv %0, sp" : "=r"(sp));
        w->id = machine_cpu_id();
        w->tp = this_cpu();
        w->sp = sp;
        w->sie = (csr_read(sstatus) & SSTATUS_SIE) != 0;
}

KTEST(smp_every_cpu_online)
{
        KCHECK(ncpus >= 1 && ncpus <= MAX_CPUS);
        KCHECK_EQ(ncpus, boot_info.fdt.nharts);
        KCHECK_EQ(smp_online_count(), ncpus);
        KCHECK_EQ(machine_cpus_online(), ncpus);
        KCHECK_EQ(this_cpu(), &cpus[0]);
        KCHECK_EQ(cpus[0].hartid, boot_info.hartid);
        for (unsigned i = 0; i < ncpus; i++) {
                KCHECK_EQ(cpus[i].id, i);
                KCHECK_EQ(cpus[i].self, &cpus[i]);
                for (unsigned j = 0; j < i; j++)
                        KCHECK(cpus[i].hartid != cpus[j].hartid);
        }
}

/* smp_call runs the function on the hart asked for, with that hart's tp
 * (its struct cpu), on that hart's own stack, interrupts off; the running
 * hart's own call runs in place. 20 rounds. */
KTEST(smp_call_runs_on_each_cpu)
{
        for (int round = 0; round < 20; round++)
                for (unsigned i = 0; i < ncpus; i++) {
                        struct where w = { 99, NULL, 0, true };
                        smp_call(i, record_hart, &w);
                        KCHECK_EQ(w.id, i);
                        KCHECK_EQ(w.tp, &cpus[i]);
                        KCHECK_EQ(w.sie, false);
                        if (i == 0)
                                continue;
                        KCHECK(w.sp > (uint64_t)cpus[i].idle_stack &&
                               w.sp <= kstack_top(cpus[i].idle_stack));
                        KCHECK_EQ(cpus[i].kstack_limit,
                                  (uint64_t)cpus[i].idle_stack);
                }
        KCHECK_EQ(lock_held_count(), 0);
}

/* Each other hart's timer keeps ticking and wakes its idle loop: 20 more
 * ticks (200 ms at TICK_HZ) within 5 s, however slow the emulation. */
KTEST(smp_each_cpu_ticks_and_idles)
{
        for (unsigned i = 1; i < ncpus; i++) {
                struct cpu *c = &cpus[i];
                uint64_t t0 = __atomic_load_n(&c->ticks, __ATOMIC_ACQUIRE);
                uint64_t w0 = __atomic_load_n(&c->idle_wakeups, __ATOMIC_ACQUIRE);

                KCHECK(wait_past(&c->ticks, t0 + 19, 5000));
                KCHECK(wait_past(&c->idle_wakeups, w0 + 19, 5000));
                KCHECK(c->idle_stack != NULL && c->overflow_stack != NULL);
                for (unsigned j = 1; j < i; j++)
                        KCHECK(cpus[j].idle_stack != c->idle_stack);
        }
}

/* An IPI to each other hart, one at a time, is handled there and only
 * there; 100 rounds. */
KTEST(smp_ipi_reaches_each_cpu)
{
        for (int round = 0; round < 100; round++)
                for (unsigned i = 1; i < ncpus; i++) {
                        uint64_t before[MAX_CPUS];
                        for (unsigned j = 0; j < ncpus; j++)
                                before[j] = __atomic_load_n(&cpus[j].ipis,
                                                            __ATOMIC_ACQUIRE);
                        smp_send_ipi(i, IPI_PING);
                        if (!KCHECK(wait_past(&cpus[i].ipis, before[i], 2000)))
                                return;
                        for (unsigned j = 0; j < ncpus; j++)
                                if (j != i)
                                        KCHECK_EQ(cpus[j].ipis, before[j]);
                }
}

#define HAMMER_ROUNDS 20000

static struct spinlock hammer_lock = SPINLOCK_INIT("ktest-hammer",
                                                   LOCK_RANK_TEST_INNER);
static volatile uint64_t hammer_count;
static uint64_t hammer_went_wrong;      /* two harts inside at once */
static uint32_t hammer_inside;
static uint32_t hammer_ready;           /* harts at the starting line */

/* Increment a plain counter in steps that another hart inside the section
 * at the same time would break (read, wait, write). Every hart starts
 * when all are ready: without that the boot hart could finish its rounds
 * before the others took their IPIs, and a lock that does not exclude
 * would pass. */
static void hammer(void *arg)
{
        (void)arg;
        __atomic_add_fetch(&hammer_ready, 1, __ATOMIC_ACQ_REL);
        while (__atomic_load_n(&hammer_ready, __ATOMIC_ACQUIRE) < ncpus)
                intr_cpu_relax();
        for (int i = 0; i < HAMMER_ROUNDS; i++) {
                spin_lock(&hammer_lock);
                if (__atomic_add_fetch(&hammer_inside, 1, __ATOMIC_RELAXED) != 1)
                        __atomic_add_fetch(&hammer_went_wrong, 1, __ATOMIC_RELAXED);
                uint64_t v = hammer_count;
                for (int d = 0; d < 8; d++)
                        intr_cpu_relax();
                hammer_count = v + 1;
                __atomic_sub_fetch(&hammer_inside, 1, __ATOMIC_RELAXED);
                spin_unlock(&hammer_lock);
        }
}

/* Every hart at once increments one counter under one spinlock: none of
 * the increments is lost and no two harts are ever inside together; the
 * interrupt state is back as it was. */
KTEST(smp_spinlock_excludes_across_cpus)
{
        bool sie_was_on = (csr_read(sstatus) & SSTATUS_SIE) != 0;

        hammer_count = 0;
        hammer_went_wrong = 0;
        hammer_ready = 0;
        for (unsigned i = 1; i < ncpus; i++)
                smp_call_start(i, hammer, NULL);
        hammer(NULL);
        for (unsigned i = 1; i < ncpus; i++)
                smp_call_wait(i);
        KCHECK_EQ(hammer_count, (uint64_t)HAMMER_ROUNDS * ncpus);
        KCHECK_EQ(hammer_went_wrong, 0);
        KCHECK_EQ(lock_held_count(), 0);
        KCHECK_EQ((csr_read(sstatus) & SSTATUS_SIE) != 0, sie_was_on);
}

/* ---- smp_call_every_cpu (kern/smp_call.c) ---------------------------- */

static uint64_t every_runs[MAX_CPUS];   /* calls run on each hart */
static uint64_t every_wrong;            /* not on its own tp, or SIE on */
static uint32_t every_arrived;          /* harts in this round's call */
static uint64_t every_apart;            /* rounds a hart waited out alone */

/* Count this run on its hart, then wait (up to 2 s) for every online hart
 * to be inside the same round's call: they are only all inside at once
 * if the calls were all posted before any was waited for. */
static void every_cpu_call(void *arg)
{
        uint32_t round = (uint32_t)(uintptr_t)arg;
        unsigned id = machine_cpu_id();
        uint64_t end = clock_monotonic_ns() + 2000000000ULL;

        if (this_cpu() != &cpus[id] || (csr_read(sstatus) & SSTATUS_SIE))
                __atomic_add_fetch(&every_wrong, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&every_runs[id], 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&every_arrived, 1, __ATOMIC_ACQ_REL);
        while (__atomic_load_n(&every_arrived, __ATOMIC_ACQUIRE) <
               round * ncpus)
                if (clock_monotonic_ns() > end) {
                        __atomic_add_fetch(&every_apart, 1, __ATOMIC_RELAXED);
                        return;
                }
}

/* smp_call_every_cpu runs the function once on each online hart, on
 * its own tp with interrupts off, all harts inside it at once, and is
 * back when every run is done (20 rounds); with interrupts off or a
 * spinlock held it refuses and runs nothing. */
KTEST(smp_call_every_cpu_runs_on_each_once)
{
        static struct spinlock held = SPINLOCK_INIT("ktest-every",
                                                    LOCK_RANK_TEST_INNER);
        unsigned long s;
        bool ok;

        memset(every_runs, 0, sizeof every_runs);
        every_wrong = every_apart = 0;
        every_arrived = 0;
        s = intr_save();
        intr_on();              /* as a caller in a system call has them */
        for (uint32_t round = 1; round <= 20; round++) {
                ok = KCHECK(smp_call_every_cpu(every_cpu_call,
                                               (void *)(uintptr_t)round));
                for (unsigned i = 0; ok && i < ncpus; i++)
                        ok = KCHECK_EQ(__atomic_load_n(&every_runs[i],
                                                       __ATOMIC_ACQUIRE), round);
                if (!ok || every_apart)
                        break;
        }
        intr_off();
        KCHECK_EQ(every_wrong, 0);
        KCHECK_EQ(every_apart, 0);

        ok = smp_call_every_cpu(every_cpu_call, (void *)(uintptr_t)21);
        intr_restore(s);
        KCHECK(!ok);            /* interrupts off */
        spin_lock(&held);       /* (which turns them off: on again) */
        intr_on();
        ok = smp_call_every_cpu(every_cpu_call, (void *)(uintptr_t)21);
        intr_off();
        spin_unlock(&held);
        KCHECK(!ok);            /* a spinlock held */
        for (unsigned i = 0; i < ncpus; i++)
                KCHECK_EQ(every_runs[i], 20);
        KCHECK_EQ(lock_held_count(), 0);
}

/* ---- two senders at once (lock-free faults' rounds) ------------------- */

#define TWO_SENDERS_CALLS 300
static uint64_t two_runs[MAX_CPUS];    /* calls run on each target hart */
static uint32_t two_ready;              /* senders at the starting line */
static uint64_t two_done;               /* senders finished */

/* A call that takes a while (20 us), so that a sender waiting for one
 * target finds the other sender's call in the next target's mailbox. */
static void two_count(void *arg)
{
        uint64_t end = clock_monotonic_ns() + 20000;

        (void)arg;
        __atomic_add_fetch(&two_runs[machine_cpu_id()], 1, __ATOMIC_RELAXED);
        while (clock_monotonic_ns() < end)
                intr_cpu_relax();
}

/* One sender's share, interrupts off (as a lock-free fault's round is
 * sent): TWO_SENDERS_CALLS rounds of a call to each hart from 2 up, all
 * posted before any is waited for (as mmu_remote_call does), so that
 * while a sender waits for one target the other sender's next call
 * reaches the mailboxes it has not looked at yet. */
static void two_send(void *arg)
{
        if (arg)                /* hart 1's, a call: free its mailbox */
                smp_call_release_sender();
        __atomic_add_fetch(&two_ready, 1, __ATOMIC_ACQ_REL);
        while (__atomic_load_n(&two_ready, __ATOMIC_ACQUIRE) < 2)
                intr_cpu_relax();
        for (int n = 0; n < TWO_SENDERS_CALLS; n++) {
                for (unsigned k = 2; k < ncpus; k++)
                        smp_call_start(k, two_count, NULL);
                for (unsigned k = 2; k < ncpus; k++)
                        smp_call_wait(k);
        }
        __atomic_add_fetch(&two_done, 1, __ATOMIC_ACQ_REL);
}

/*
 * Harts 0 and 1 call harts 2.. at the same time, each waiting with
 * interrupts off (in wfi, sie.SSIE alone: only a kick ends it). A sender
 * must wait for its own call: when it looks, the target's mailbox may
 * already hold the other sender's call, whose finish kicks the other
 * sender only. Waiting for the mailbox to be empty instead, a sender
 * halts for good (hart 0 or 1 never gets past its wait: this test fails,
 * or never ends); every call runs once. Needs three harts.
 */
KTEST(smp_call_two_senders_each_wait_for_their_own)
{
        unsigned long s;

        if (ncpus < 3)
                return;
        memset(two_runs, 0, sizeof two_runs);
        two_ready = 0;
        two_done = 0;
        s = intr_save();
        smp_call(1, two_send, &two_done);
        two_send(NULL);
        KCHECK(wait_past(&two_done, 1, 5000));
        intr_restore(s);
        for (unsigned k = 2; k < ncpus; k++)
                KCHECK_EQ(two_runs[k], 2 * TWO_SENDERS_CALLS);
        KCHECK_EQ(lock_held_count(), 0);
}

/* ---- TLB shootdown (docs/design.md, the shootdown protocol) ------------ */

static void read_word(void *arg)
{
        uint64_t **pp = arg;

        pp[1] = (uint64_t *)**(volatile uint64_t **)pp;
}

/*
 * Every hart reads a vmalloc page (so its TLB holds the translation); the
 * page is freed, its frame taken back at once (the allocator hands out
 * the last page freed first) and poisoned, and the same address handed
 * out again over another frame. Each hart must then read the new frame's
 * contents, not the poison: vfree's pmap_update made every hart drop the
 * old translation before the frame went back. 50 rounds.
 */
KTEST(smp_vfree_reaches_every_cpu_tlb)
{
        uint64_t rounds0 = tlb_shootdowns;

        for (int round = 0; round < 50; round++) {
                uint64_t *a = vmalloc(PAGE_SIZE), *b;
                if (!KCHECK(a))
                        return;
                *a = 0xaaaa0000 + round;
                for (unsigned i = 0; i < ncpus; i++) {
                        uint64_t *arg[2] = { a, NULL };
                        smp_call(i, read_word, arg);
                        KCHECK_EQ((uint64_t)arg[1], 0xaaaa0000 + round);
                }
                paddr_t old_pa = 0, new_pa = 0;
                KCHECK(pmap_extract(pmap_kernel(), (vaddr_t)a, &old_pa, NULL, NULL));
                vfree(a);
                struct vm_page *hold = pmm_alloc_pages(0, 0);
                if (!KCHECK(hold))
                        return;
                *(volatile uint64_t *)phys_to_virt(pmm_page_to_pa(hold)) =
                        0xdeadbeef;
                b = vmalloc(PAGE_SIZE);
                if (!KCHECK(b))
                        return;
                KCHECK_EQ((vaddr_t)b, (vaddr_t)a);      /* first fit: reused */
                KCHECK(pmap_extract(pmap_kernel(), (vaddr_t)b, &new_pa, NULL, NULL));
                KCHECK(new_pa != old_pa);
                *b = 0xbbbb0000 + round;
                for (unsigned i = 0; i < ncpus; i++) {
                        uint64_t *arg[2] = { b, NULL };
                        smp_call(i, read_word, arg);
                        KCHECK_EQ((uint64_t)arg[1], 0xbbbb0000 + round);
                }
                vfree(b);
                pmm_free_pages(hold, 0);
        }
        /* one round per vfree when there is anyone to tell */
        if (ncpus > 1)
                KCHECK(tlb_shootdowns - rounds0 >= 100);
}

#define SPACE_VA        0x10000000UL

struct space_probe {
        struct pmap *pm;
        uint64_t val;
        paddr_t satp_root;
};

/* On the target hart: load the space (as a switch to one of its threads
 * does) and read its page, leaving it loaded (as its scheduler loop keeps
 * the tables of the thread it ran last). The page is a supervisor one. */
static void load_and_read(void *arg)
{
        struct space_probe *p = arg;

        pmap_activate(p->pm);
        p->val = *(volatile uint64_t *)SPACE_VA;
}

static void read_only(void *arg)
{
        struct space_probe *p = arg;

        p->val = *(volatile uint64_t *)SPACE_VA;
        p->satp_root = satp_root(csr_read(satp));
}

static void note_satp(void *arg)
{
        ((struct space_probe *)arg)->satp_root = satp_root(csr_read(satp));
}

/*
 * A user space loaded on the other harts: its mask has their bits; the
 * boot hart (which does not have it loaded) moves its page to another
 * frame, and each hart must read the new frame at once (the round went to
 * the mask); destroying the space sends every hart that still has it
 * loaded back to the kernel's table first. 50 rounds.
 */
KTEST(smp_user_space_change_reaches_loaded_harts)
{
        struct vm_page *pa = pmm_alloc_pages(0, 0), *pb = pmm_alloc_pages(0, 0);
        struct pmap *pm;

        if (!KCHECK(pa && pb) || !KCHECK_EQ(pmap_create(&pm), VM_OK))
                return;
        uint64_t *ka = phys_to_virt(pmm_page_to_pa(pa));
        uint64_t *kb = phys_to_virt(pmm_page_to_pa(pb));
        for (int round = 0; round < 50; round++) {
                struct vm_page *from = round & 1 ? pb : pa;
                struct vm_page *to = round & 1 ? pa : pb;
                *ka = 0xa0000 + round;
                *kb = 0xb0000 + round;
                uint64_t want_from = round & 1 ? *kb : *ka;
                uint64_t want_to = round & 1 ? *ka : *kb;
                KCHECK_EQ(pmap_enter(pm, SPACE_VA, pmm_page_to_pa(from),
                                     VM_PROT_RW, 0), VM_OK);
                pmap_update(pm);
                for (unsigned i = 1; i < ncpus; i++) {
                        struct space_probe p = { pm, 0, 0 };
                        smp_call(i, load_and_read, &p);
                        KCHECK_EQ(p.val, want_from);
                        KCHECK(__atomic_load_n(&pm->active_cpus,
                                               __ATOMIC_SEQ_CST) >> i & 1);
                }
                KCHECK_EQ(pmap_remove(pm, SPACE_VA, SPACE_VA + PAGE_SIZE), VM_OK);
                pmap_update(pm);
                KCHECK_EQ(pmap_enter(pm, SPACE_VA, pmm_page_to_pa(to),
                                     VM_PROT_RW, 0), VM_OK);
                pmap_update(pm);
                for (unsigned i = 1; i < ncpus; i++) {
                        struct space_probe p = { pm, 0, 0 };
                        smp_call(i, read_only, &p);
                        KCHECK_EQ(p.satp_root, pm->kroot);
                        KCHECK_EQ(p.val, want_to);
                }
                KCHECK_EQ(pmap_remove(pm, SPACE_VA, SPACE_VA + PAGE_SIZE), VM_OK);
                pmap_update(pm);
        }
        pmap_destroy(pm);
        for (unsigned i = 1; i < ncpus; i++) {
                struct space_probe p = { NULL, 0, 0 };
                smp_call(i, note_satp, &p);
                KCHECK_EQ(p.satp_root, boot_info.kernel_root);
                KCHECK_EQ(cpus[i].loaded_pmap, pmap_kernel());
        }
        pmm_free_pages(pa, 0);
        pmm_free_pages(pb, 0);
}

#define COST_ROUNDS     101

static void sort_u64(uint64_t *t, unsigned n)
{
        for (unsigned i = 1; i < n; i++)
                for (unsigned j = i; j > 0 && t[j - 1] > t[j]; j--) {
                        uint64_t x = t[j];
                        t[j] = t[j - 1];
                        t[j - 1] = x;
                }
}

/* The median time of COST_ROUNDS one-page rounds to every other hart, the
 * way tlb_rfence says, in ns. */
static uint64_t round_median_ns(void)
{
        static uint64_t t[COST_ROUNDS];
        vaddr_t va = (vaddr_t)&t[0];

        for (unsigned i = 0; i < COST_ROUNDS; i++) {
                uint64_t t0 = clock_monotonic_ns();
                mmu_tlb_remote(~1ULL, &va, 1, false);
                t[i] = clock_monotonic_ns() - t0;
        }
        sort_u64(t, COST_ROUNDS);
        return t[COST_ROUNDS / 2];
}

/*
 * What one shootdown round costs with the other harts idle (in wfi), by
 * IPI and sfence.vma in the handler and by SBI remote_sfence_vma: a note
 * for the tier's report (`shootdown round:` line), checked only for
 * sanity (each round returns, and is counted).
 */
KTEST(smp_shootdown_round_cost)
{
        bool was = tlb_rfence;
        uint64_t n0 = tlb_shootdowns, ipi, sbi;

        if (ncpus < 2)
                return;
        tlb_rfence = false;
        ipi = round_median_ns();
        tlb_rfence = sbi_has(SBI_EXT_RFENCE);
        sbi = round_median_ns();
        tlb_rfence = was;
        KCHECK_EQ(tlb_shootdowns - n0, 2 * COST_ROUNDS);
        pr_info("shootdown round: %u harts, median of %u one-page rounds to "
                "the %u idle others: IPI + sfence.vma %lu ns, SBI "
                "remote_sfence_vma %lu ns\n", ncpus, COST_ROUNDS, ncpus - 1,
                ipi, sbi);
}

/* ---- the big kernel lock's halted waiters (biglock.c) ------------------ */

/*
 * On hart 1, in its IPI's handler: the sender goes on (it holds the big
 * lock), and this hart waits for the lock. With interrupts on (arg
 * non-NULL: a system call's wait) its own timer is masked (sie.STIE), so
 * only an IPI can end its wfi; with them off (a trap from user mode's
 * wait) its timer stays on, and a tick that comes stays pending without
 * ending the wait's wfi (smp.c, ipi_halt).
 */
static void bkl_waiter(void *arg)
{
        bool on = arg != NULL;

        smp_call_release_sender();
        if (on)
                csr_clear(sie, SIE_STIE);
        __atomic_store_n(&bkl_waiter_state, 1, __ATOMIC_RELEASE);
        if (on)
                intr_on();
        machine_kernel_lock();
        __atomic_store_n(&bkl_waiter_state, 2, __ATOMIC_RELEASE);
        machine_kernel_unlock();
        intr_off();
        csr_set(sie, SIE_STIE);         /* its tick, pending by now */
        __atomic_store_n(&bkl_waiter_state, 3, __ATOMIC_RELEASE);
}

/*
 * A hart that waits for the big kernel lock halts (wfi) once it has spun
 * for a while, and the release kicks it (biglock.c, MACHINE_LOCK_HALT),
 * as x86-64's CPUs do (tests/kernel/test_smp.c), with its interrupts on
 * and, unlike x86-64's, with them off (MACHINE_LOCK_HALT_INTR_OFF).
 * Hart 1 is held there 30 ms (its ticks come meanwhile), in each of 10
 * rounds (off and on in turn): without the release's kick it never
 * takes the lock (this test then fails after two seconds, and hart 1
 * stays in wfi).
 */
KTEST(smp_bkl_waiter_halts_and_the_release_kicks_it)
{
        bkl_halt_rounds(bkl_waiter, true, 30);      /* past its ticks */
}

/* ---- a hart that comes in at the kernel's boot entry ----------------------- */

static uint64_t bss_canary;             /* .bss: a second boot zeroes it */

/* On the hart to stop: the hart is no longer online, the call is done
 * (its sender stops waiting: woken if it halted, as a sender with
 * interrupts off now does), and SBI hart_stop sends it back to the
 * firmware, which waits for the next hart_start. */
static void stop_this_hart(void *arg)
{
        struct cpu *c = this_cpu();

        (void)arg;
        __atomic_store_n(&c->online, false, __ATOMIC_RELEASE);
        smp_call_release_sender();
        sbi_hart_stop();
        for (;;)
                wfi();
}

/*
 * OpenSBI before 1.3 may send a hart that smp.c starts to the kernel's
 * boot entry (_start, a0 = its id, a1 = the device tree) instead of
 * _ap_start: its hart_start publishes the new state before the address
 * (boot.S has the story). Here the last hart is stopped and started at
 * _start on purpose, as the race would: it must join as that same CPU
 * (online, its own tp, its timer ticking) through boot.S's lottery, and
 * leave the running kernel alone (.bss not zeroed, the boot hart's
 * struct cpu untouched), counted in boot_entry_strays. Without the
 * lottery the hart boots the kernel a second time on the boot stack and
 * zeroes .bss under it.
 */
KTEST(smp_hart_at_boot_entry_joins_as_ap)
{
        unsigned k = ncpus - 1;
        struct cpu *c = &cpus[k];
        uint64_t end, strays, t0;
        struct where w = { 99, NULL, 0, true };

        if (ncpus < 2)
                return;                 /* one hart: nothing to start */
        smp_call(k, stop_this_hart, NULL);
        end = clock_monotonic_ns() + 5000000000ULL;
        while (sbi_hart_status(c->hartid) != 1)         /* STOPPED */
                if (!KCHECK(clock_monotonic_ns() < end))
                        return;
        KCHECK_EQ(smp_online_count(), ncpus - 1);

        bss_canary = 0x5eed0fcafe;
        strays = __atomic_load_n(&boot_entry_strays, __ATOMIC_ACQUIRE);
        t0 = __atomic_load_n(&c->ticks, __ATOMIC_ACQUIRE);
        ap_entry_cpu = c;
        ap_entry_hart = c->hartid;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        KCHECK_EQ(sbi_hart_start(c->hartid, kimg_virt_to_phys(_start),
                                 boot_info.dtb_pa), 0);
        end = clock_monotonic_ns() + 5000000000ULL;
        while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
                if (!KCHECK(clock_monotonic_ns() < end))
                        return;
        KCHECK_EQ(__atomic_load_n(&boot_entry_strays, __ATOMIC_ACQUIRE),
                  strays + 1);
        KCHECK_EQ(bss_canary, 0x5eed0fcafe);
        KCHECK_EQ(smp_online_count(), ncpus);
        KCHECK_EQ(cpus[0].hartid, boot_info.hartid);
        KCHECK_EQ(this_cpu(), &cpus[0]);
        smp_call(k, record_hart, &w);
        KCHECK_EQ(w.id, k);
        KCHECK_EQ(w.tp, c);
        KCHECK(w.sp > (uint64_t)c->idle_stack &&
               w.sp <= kstack_top(c->idle_stack));
        KCHECK(wait_past(&c->ticks, t0 + 5, 5000));
}
