/*
 * percpu.h - what each x86-64 CPU owns: its descriptor tables, its TSS and
 * IST stacks, the stack pointers the entry code switches between, and its
 * counters; reached through the GS base (this_cpu()).
 *
 * In kernel mode MSR_GS_BASE holds the running CPU's struct cpu; in user
 * mode it holds the user's GS base (always 0: arch_prctl offers no GS) and
 * the kernel's pointer waits in MSR_KERNEL_GS_BASE. Every entry from user
 * mode (syscall_entry, trap_common) swaps them with `swapgs` before
 * touching per-CPU data and every return to user mode swaps them back, so
 * %gs:0 is this CPU's struct cpu anywhere in the kernel except the one
 * instruction windows at the edges (an NMI there would be misread; NMIs
 * only panic today).
 *
 * Locks: [c] constant once the CPU is online  [o] owned by the CPU
 * itself (only it writes; others may read, racily, for reports)
 * [a] atomic (written by other CPUs with __atomic builtins)
 * [k] the big kernel lock.
 */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <mercator/types.h>
#include <machine/vdso.h>
#include <machine/cpu_local.h>
#include <machine/intr.h>
#include "pmap_md.h"

#define MAX_CPUS        16

struct tss {
        uint32_t reserved0;
        uint64_t rsp[3];
        uint64_t reserved1;
        uint64_t ist[7];        /* IST1..IST7: ist[n - 1] is slot n */
        uint64_t reserved2;
        uint16_t reserved3;
        uint16_t iomap_base;
} __attribute__((packed));

struct proc;

struct cpu {
        struct cpu *self;               /* [c] %gs:0, for this_cpu() */
        uint64_t kstack_top;            /* [o] %gs:8: entry stack (entry.S) */
        uint64_t user_rsp;              /* [o] %gs:16: syscall scratch */
        struct proc *cur;               /* [o] %gs:24: `current` */
        bool resched;                   /* [o] %gs:32: `need_resched` */
        unsigned id;                    /* [c] %gs:36: 0 = the boot CPU */
        void *loop_sp;                  /* [o] %gs:40: its scheduler loop */
        paddr_t loaded_root;            /* [k] the PML4 in its CR3 */
        struct pmap *loaded_pmap;       /* [k] whose mask has its bit */
        struct pmap_pcid_cpu pcid;      /* [o] its PCIDs (pmap_md.h) */
        bool idle;                      /* [a] halted in its idle loop */
        unsigned apic_id;               /* [c] its local APIC's id */
        bool online;                    /* [a] set by the CPU when it runs */
        uint64_t ticks;                 /* [o] its LAPIC timer's interrupts */
        uint64_t idle_wakeups;          /* [o] times its idle loop woke */
        uint64_t idle_polls;            /* [o] idle ends its poll caught */
        uint64_t idle_poll_ns;          /* [o] its poll window (machine_idle) */
        bool in_hlt;                    /* [o] counted in smp.c's cpus_halted */
        bool polling;                   /* [o] in idle_poll's loop (tests read) */
        uint64_t ipis;                  /* [o] IPI_PING handled */
        /* smp_call()'s mailbox: fn/arg [s] written by the sender holding
         * smp_call's slot, while call_done == call_req */
        void (*call_fn)(void *);
        void *call_arg;
        uint64_t call_req;              /* [a] calls posted */
        uint64_t call_done;             /* [a] calls finished */
        unsigned call_from;             /* [s] the posting CPU's id */
        bool call_halted;               /* [a] halted in smp_call_wait() */
        /* [o] per target: the call_req of this CPU's last call to it,
         * done once that target's call_done reaches it (the mailbox may
         * hold another sender's call by then) */
        uint64_t call_posted[MAX_CPUS];
        void *idle_stack;               /* [c] kstack_alloc()'d (APs) */
        void *ist_stacks[2];            /* [c] double fault, NMI (APs) */
        uint64_t gdt[VDSO_GDT_CPUNODE + 1] __attribute__((aligned(16)));   /* [c] */
        struct tss tss __attribute__((aligned(16)));    /* rsp0 [o] */
};

_Static_assert(offsetof(struct cpu, kstack_top) == 8 &&
               offsetof(struct cpu, user_rsp) == 16,
               "entry.S's %gs offsets");
_Static_assert(offsetof(struct cpu, cur) == CPU_LOCAL_CURRENT &&
               offsetof(struct cpu, resched) == CPU_LOCAL_RESCHED &&
               offsetof(struct cpu, loop_sp) == CPU_LOCAL_SCHED_SP &&
               offsetof(struct cpu, id) == CPU_LOCAL_ID,
               "machine/cpu_local.h's and machine/intr.h's offsets");

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus;                  /* CPUs found (MADT), >= 1 */
extern uint64_t tlb_shootdowns;         /* mmu_tlb_remote() rounds sent */

/* The running CPU's struct cpu. */
static inline struct cpu *this_cpu(void)
{
        struct cpu *c;

        __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
        return c;
}

/* Make c the CPU's per-CPU data (MSR_GS_BASE; the user's is 0). */
void percpu_load(struct cpu *c);

/* Count of CPUs online (the boot CPU included). */
unsigned smp_online_count(void);

/* Start the other CPUs found in ACPI's MADT (boot.c calls it before
 * kmain); each reaches its idle loop or is reported and left out. */
void smp_init(void);

/*
 * Run fn(arg) on CPU `cpu` (an index into cpus[]), in its interrupt
 * handler (interrupts off there), and wait until it has returned; on the
 * running CPU, call it directly with interrupts off.
 * => no spinlock held (the target may be spinning on it with interrupts
 *    off, never taking the IPI); panics (LOCK_DEBUG) otherwise.
 * smp_call_start() only posts the call; smp_call_wait() waits for it.
 */
void smp_call(unsigned cpu, void (*fn)(void *), void *arg);
void smp_call_start(unsigned cpu, void (*fn)(void *), void *arg);
void smp_call_wait(unsigned cpu);
void smp_call_release_sender(void);     /* from inside fn: tests */
/* This CPU took an interrupt: if it was halted, it now works (trap.c). */
void smp_halt_ended(void);

/* Run this CPU's posted call, if any (the IPI handler; and any wait that
 * must not block other CPUs' calls). Interrupts off. */
void smp_call_poll(void);

#endif
