/*
 * percpu.h (riscv64) - what each hart owns: the bottom of the stack it
 * runs on (trap.S's overflow check), its overflow stack, its timer, its
 * IPI mailbox and counters; reached through `tp`.
 *
 * In the kernel `tp` holds the running hart's struct cpu, always: boot.S
 * sets it on the boot hart, ap_start on every other, and compiled code
 * never writes it (the compiler reserves tp). In user mode `tp` is the
 * user's thread pointer (TLS): uservec saves it in the trap frame with
 * every other user register and loads the kernel's from the frame's
 * kernel_tp (usertrapret puts this_cpu() there), and userret restores the
 * user's. sscratch only parks a0 inside uservec. A trap taken in S-mode
 * (trap.S) finds the kernel's tp already in place.
 *
 * Locks: [c] constant once the hart is online  [o] owned by the hart
 * itself (only it writes; others may read, racily, for reports)
 * [a] atomic (written by other harts with __atomic builtins)
 * [s] written by the sender holding smp_call's slot.
 */
#ifndef ARCH_RISCV64_PERCPU_H
#define ARCH_RISCV64_PERCPU_H

#include <mercator/types.h>
#include <machine/cpu_local.h>
#include <machine/intr.h>

#define MAX_CPUS        16

/* The bits of struct cpu's ipi_pending: why a hart was interrupted. */
#define IPI_PING        1u      /* count it (the kernel tests) */
#define IPI_CALL        2u      /* run the posted smp_call */
#define IPI_KICK        4u      /* only wake it (from wfi) */

struct proc;
struct pmap;
struct trapframe;

struct cpu {
        struct cpu *self;               /* [c] 0(tp) */
        uint64_t kstack_limit;          /* [o] 8(tp): running stack's bottom */
        uint64_t overflow_top;          /* [c] 16(tp): trap.S's overflow stack */
        struct proc *cur;               /* [o] 24(tp): `current` */
        bool resched;                   /* [o] 32(tp): `need_resched` */
        unsigned id;                    /* [c] 36(tp): 0 = the boot hart */
        void *loop_sp;                  /* [o] 40(tp): its scheduler loop */
        uint64_t start_sp;              /* [c] 48(tp): boot.S's ap_high */
        uint64_t loop_limit;            /* [c] its scheduler loop's stack bottom */
        unsigned long hartid;           /* [c] the SBI's and the tree's id */
        bool online;                    /* [a] set by the hart when it runs */
        bool idle;                      /* [a] waiting in its idle loop */
        uint64_t next_tick;             /* [o] `time` of its next tick */
        uint64_t ticks;                 /* [o] its timer interrupts */
        uint64_t idle_wakeups;          /* [o] times its idle loop woke */
        uint64_t ipis;                  /* [o] IPI_PING handled */
        uint32_t ipi_pending;           /* [a] IPI_* bits not yet handled */
        /* smp_call()'s mailbox: fn/arg [s], while call_done == call_req */
        void (*call_fn)(void *);
        void *call_arg;
        uint64_t call_req;              /* [a] calls posted */
        uint64_t call_done;             /* [a] calls finished */
        unsigned call_from;             /* [s] the posting hart's id */
        bool call_halted;               /* [a] in wfi in smp_call_wait() */
        /* [o] per target: the call_req of this hart's last call to it,
         * done once that target's call_done reaches it (the mailbox may
         * hold another sender's call by then) */
        uint64_t call_posted[MAX_CPUS];
        struct pmap *loaded_pmap;       /* [o] whose mask has its bit */
        struct trapframe *tf;           /* [c] its frame page (thread.c) */
        paddr_t tf_pa;                  /* [c] at TRAPFRAME_HART(id) */
        void *idle_stack;               /* [c] kstack_alloc()'d (not hart 0) */
        void *overflow_stack;           /* [c] likewise */
};

_Static_assert(offsetof(struct cpu, kstack_limit) == 8 &&
               offsetof(struct cpu, overflow_top) == 16 &&
               offsetof(struct cpu, id) == CPU_LOCAL_ID &&
               offsetof(struct cpu, start_sp) == 48 &&
               offsetof(struct cpu, cur) == CPU_LOCAL_CURRENT &&
               offsetof(struct cpu, resched) == CPU_LOCAL_RESCHED &&
               offsetof(struct cpu, loop_sp) == CPU_LOCAL_SCHED_SP,
               "trap.S's, boot.S's and machine/intr.h's offsets");

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus;                  /* harts found (device tree), >= 1 */
extern uint64_t tlb_shootdowns;         /* mmu_tlb_remote() rounds sent */
extern bool tlb_rfence;                 /* rounds through SBI RFENCE (mmu.c) */

/* The running hart's struct cpu. */
static inline struct cpu *this_cpu(void)
{
        struct cpu *c;

        __asm__ volatile("mv %0, tp" : "=r"(c));
        return c;
}

/* Harts online (the boot hart included). */
unsigned smp_online_count(void);

/* The boot hart's struct cpu, first thing in rv_boot. */
void smp_boot_cpu_init(unsigned long hartid);

/* Start the other harts the device tree lists (boot.c, before kmain);
 * each reaches its idle loop or is reported and left out. */
void smp_init(void);

/* This hart's own timer and interrupt enables (trap.c). */
void trap_init_hart(void);

/* Interrupt hart `cpu` (an index into cpus[]) for the reasons in bits. */
void smp_send_ipi(unsigned cpu, uint32_t bits);

/* A supervisor software interrupt arrived: handle what was posted. */
void smp_ipi_interrupt(void);

/* Whether an interrupt from user mode is handled without the big kernel
 * lock (trap.c): an IPI, or the tick of a hart other than the boot hart. */
bool trap_interrupt_lockless(uint64_t cause);

/*
 * Run fn(arg) on hart `cpu`, in its interrupt handler (interrupts off
 * there), and wait until it has returned; on the running hart, call it
 * directly with interrupts off.
 * => no spinlock held (the target may be spinning on it with interrupts
 *    off, never taking the IPI); panics (LOCK_DEBUG) otherwise.
 * smp_call_start() only posts the call; smp_call_wait() waits for it.
 */
void smp_call(unsigned cpu, void (*fn)(void *), void *arg);
void smp_call_start(unsigned cpu, void (*fn)(void *), void *arg);
void smp_call_wait(unsigned cpu);
void smp_call_release_sender(void);     /* from inside fn: tests */

/* Run this hart's posted call, if any. Interrupts off. */
void smp_call_poll(void);

#endif
