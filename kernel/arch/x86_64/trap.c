/*
 * trap.c - what happens on an exception.
 *
 * Kernel-mode faults are kernel bugs unless a caller said it expected one
 * (fault_probe, for tests). A bug panics with the registers, the decoded
 * fault and a symbolized backtrace. A double fault runs on its own IST
 * stack; if it came from a push into a stack's guard page it is reported
 * as a kernel stack overflow.
 *
 * User-mode faults go to the VM layer (vm_fault) and, if it cannot resolve
 * them, become a signal to the process (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 * SIGTRAP with Linux's si_code and si_addr): caught by a handler, or the
 * end of only that process. A kernel fault on a user address inside a
 * user-copy routine (listed in the exception table) is resolved the same
 * way, or resumed at the routine's fixup, which returns -EFAULT.
 */
#include <mercator/clock.h>
#include <mercator/ksyms.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <machine/vmparam.h>
#include <proc/acct.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/machine_hooks.h>
#include <vm/vm_space.h>
#include "cpu.h"
#include "lapic.h"
#include "pci.h"
#include "percpu.h"
#include "serial.h"
#include "timer.h"
#include "trap.h"

const char *kernel_guard_owner(vaddr_t va);     /* boot.c */
extern bool printk_unlocked;                    /* printk.c */

static const char *const exception_names[32] = {
        "divide error", "debug", "NMI", "breakpoint", "overflow",
        "bound range", "invalid opcode", "device not available",
        "double fault", "coprocessor overrun", "invalid TSS",
        "segment not present", "stack fault", "general protection",
        "page fault", "reserved", "x87 error", "alignment check",
        "machine check", "SIMD error", "virtualization", "control protection",
};

/* The fault a fault_probe() caller is waiting for, if any. */
static struct {
        bool              armed;
        struct jmp_state  jmp;
        struct fault_info info;
} probe;

void backtrace_print(uint64_t rip, uint64_t rbp)
{
        uint64_t off;
        const char *name = ksym_lookup(rip, &off);

        pr_emerg("  backtrace:\n    %016lx %s+%#lx\n", rip, name, off);
        for (int depth = 0; depth < 32 && rbp; depth++) {
                /* Only follow frame pointers into kernel memory. */
                if (rbp < LINEAR_BASE || (rbp & 7))
                        break;
                uint64_t ret = ((uint64_t *)rbp)[1];
                if (ret < KERNEL_BASE)
                        break;
                name = ksym_lookup(ret, &off);
                pr_emerg("    %016lx %s+%#lx\n", ret, name, off);
                rbp = ((uint64_t *)rbp)[0];
        }
}

void trap_frame_dump(const struct trap_frame *tf)
{
        pr_emerg("  rip %016lx  rsp %016lx  rflags %08lx  cs %lx ss %lx\n",
                 tf->rip, tf->rsp, tf->rflags, tf->cs, tf->ss);
        pr_emerg("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n",
                 tf->rax, tf->rbx, tf->rcx, tf->rdx);
        pr_emerg("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n",
                 tf->rsi, tf->rdi, tf->rbp, tf->r8);
        pr_emerg("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n",
                 tf->r9, tf->r10, tf->r11, tf->r12);
        pr_emerg("  r13 %016lx  r14 %016lx  r15 %016lx\n",
                 tf->r13, tf->r14, tf->r15);
        pr_emerg("  cr2 %016lx  cr3 %016lx  cr0 %08lx  cr4 %08lx\n",
                 read_cr2(), read_cr3(), read_cr0(), read_cr4());
        backtrace_print(tf->rip, tf->rbp);
}

/* Describe a page fault's error code in words. */
static void pf_describe(uint64_t err, char *buf, size_t size)
{
        ksnprintf(buf, size, "%s %s %s%s",
                  err & PF_USER ? "user" : "kernel",
                  err & PF_INSTR ? "instruction fetch from" :
                  err & PF_WRITE ? "write to" : "read from",
                  err & PF_PRESENT ? "a page it may not access" :
                                     "a page that is not present",
                  err & PF_RSVD ? " (reserved bit set in a table entry)" : "");
}

__attribute__((noreturn))
static void trap_panic(struct trap_frame *tf, const char *what)
{
        printk_unlocked = true;         /* this CPU may hold the console */
        pr_emerg("\nKERNEL FAULT: %s\n", what);
        trap_frame_dump(tf);
        panic_no_backtrace = true;
        panic("unexpected %s at %#lx", exception_names[tf->vector & 31],
              tf->rip);
}

/* The access a page-fault error code describes. */
static vm_prot_t pf_access(uint64_t err)
{
        if (err & PF_INSTR)
                return VM_PROT_EXEC;
        return err & PF_WRITE ? VM_PROT_WRITE : VM_PROT_READ;
}

/* The exception table (uaccess.S): where to resume if `fault` faults. */
struct extable_entry {
        uint64_t fault, fixup;
};
extern const struct extable_entry __extable_start[], __extable_end[];

static uint64_t extable_fixup(uint64_t rip)
{
        for (const struct extable_entry *e = __extable_start;
             e < __extable_end; e++)
                if (e->fault == rip)
                        return e->fixup;
        return 0;
}

/*
 * A fault the process may catch (CONCEPTS E27): the signal goes to it
 * with its siginfo, and a handler that fixes the cause and returns runs
 * the instruction again. If no handler would run, the one-line report is
 * printed and the process ends.
 */
static void user_fault(struct trap_frame *tf, int sig, int code,
                       uint64_t addr, const char *why)
{
        struct ksiginfo info = { .signo = sig, .code = code, .addr = addr };
        char how[100];

        machine_note_fault(current, (unsigned)tf->vector, tf->error,
                      tf->vector == 14 ? addr : 0);
        if (signal_would_kill(current, sig)) {
                if (!why) {             /* a page fault, in words */
                        pf_describe(tf->error, how, sizeof how);
                        why = how;
                }
                proc_kill_current(sig, why, addr, tf->rip);
        }
        signal_force(sig, &info);
}

static void user_page_fault(struct trap_frame *tf, uint64_t cr2)
{
        enum fault_result r = machine_user_fault(current->space, cr2,
                                                 pf_access(tf->error));

        if (r == FAULT_RESOLVED) {
                acct_fault();
                return;
        }
        if (r == FAULT_OOM) {
                if (oom_fault())        /* another process died for it */
                        return;
                proc_kill_current(SIGKILL, "out of memory", cr2, tf->rip);
        }
        if (r == FAULT_BUS) {
                user_fault(tf, SIGBUS, BUS_ADRERR, cr2,
                           "access past the end of a mapped file");
                return;
        }
        user_fault(tf, SIGSEGV,
                   current->space->last_fault.reason == FAULT_REASON_PROT ?
                   SEGV_ACCERR : SEGV_MAPERR, cr2, NULL);
}

/* cr2: read before anything could fault again (or interrupts come). */
static void page_fault(struct trap_frame *tf, uint64_t cr2)
{
        uint64_t fixup;

        if (tf->cs & 3) {
                user_page_fault(tf, cr2);
                return;
        }
        fixup = extable_fixup(tf->rip);  /* a kernel fault: a user copy's? */
        if (fixup && current && cr2 < USER_MAX + PAGE_SIZE) {
                if (oom_kernel_fault(current->space, cr2,
                                     pf_access(tf->error)) !=
                    FAULT_RESOLVED)
                        tf->rip = fixup;
                else
                        acct_fault();
                return;
        }
        const char *guard = kernel_guard_owner(cr2);
        char what[160], how[100];

        pf_describe(tf->error, how, sizeof how);
        ksnprintf(what, sizeof what, "page fault at %#lx: %s%s%s", cr2, how,
                  guard ? "; it is the guard page of " : "",
                  guard ? guard : "");
        trap_panic(tf, what);
}

/* si_code of a floating-point exception: the first unmasked one set in
 * the x87 status word or MXCSR (exceptions bits 0-5, masks above them). */
static int fpe_code(unsigned flags, unsigned masks)
{
        unsigned e = flags & ~masks & 0x3f;

        if (e & 0x01) return FPE_FLTINV;
        if (e & 0x04) return FPE_FLTDIV;
        if (e & 0x08) return FPE_FLTOVF;
        if (e & 0x12) return FPE_FLTUND;
        if (e & 0x20) return FPE_FLTRES;
        return 0;
}

static int x87_code(void)
{
        uint16_t sw, cw;

        __asm__ volatile("fnstsw %0; fnstcw %1" : "=m"(sw), "=m"(cw));
        return fpe_code(sw, cw);
}

static int simd_code(void)
{
        uint32_t mxcsr;

        __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
        return fpe_code(mxcsr, mxcsr >> 7);
}

/* Exceptions in user mode other than page faults, as Linux reports them:
 * the signal, si_code and si_addr. */
static void user_trap(struct trap_frame *tf)
{
        const char *why = exception_names[tf->vector & 31];

        switch (tf->vector) {
        case 0:  user_fault(tf, SIGFPE, FPE_INTDIV, tf->rip, why); break;
        case 1:  user_fault(tf, SIGTRAP, TRAP_TRACE, tf->rip, why); break;
        case 3:  user_fault(tf, SIGTRAP, SI_KERNEL, 0, why); break;
        case 6:  user_fault(tf, SIGILL, ILL_ILLOPN, tf->rip, why); break;
        case 11: case 12:
                 user_fault(tf, SIGBUS, SI_KERNEL, 0, why); break;
        case 16: user_fault(tf, SIGFPE, x87_code(), tf->rip, why); break;
        case 17: user_fault(tf, SIGBUS, BUS_ADRALN, 0, why); break;
        case 19: user_fault(tf, SIGFPE, simd_code(), tf->rip, why); break;
        default: user_fault(tf, SIGSEGV, SI_KERNEL, 0, why); break;
        }
}

static void double_fault(struct trap_frame *tf)
{
        uint64_t cr2 = read_cr2();
        const char *guard = kernel_guard_owner(cr2);
        char what[160];

        if (guard)
                ksnprintf(what, sizeof what,
                          "kernel stack overflow: %s (guard page %#lx hit, "
                          "rsp %#lx)", guard, page_trunc(cr2), tf->rsp);
        else
                ksnprintf(what, sizeof what, "double fault (cr2 %#lx)", cr2);
        trap_panic(tf, what);
}

static void irq(struct trap_frame *tf)
{
        unsigned line = (unsigned)tf->vector - IRQ_VECTOR_BASE;

        irq_eoi(line);
        if (line == IRQ_TIMER)
                clock_tick(tf->cs & 3);
        else if (line == IRQ_SERIAL)
                serial_irq(tf->cs & 3);
        else
                pci_irq(line);
}

/* The local APIC's vectors: each needs an EOI but the spurious one. */
static void apic_irq(struct trap_frame *tf)
{
        struct cpu *c = this_cpu();

        switch (tf->vector) {
        case VECTOR_TIMER:
                c->ticks++;
                clock_tick_other_cpu(tf->cs & 3);
                break;
        case VECTOR_RESCHED:
                break;
        case VECTOR_IPI_PING:
                __atomic_add_fetch(&c->ipis, 1, __ATOMIC_RELEASE);
                break;
        case VECTOR_CALL:
                lapic_eoi();            /* before: fn may take long */
                smp_call_poll();
                return;
        case VECTOR_SPURIOUS:
                return;
        }
        lapic_eoi();
}

static void kernel_trap(struct trap_frame *tf)
{
        char what[80];

        if (probe.armed && tf->vector != 8 && tf->vector != 2) {
                probe.armed = false;
                probe.info.vector = (unsigned)tf->vector;
                probe.info.error = tf->error;
                probe.info.addr = tf->vector == 14 ? read_cr2() : 0;
                klongjmp(&probe.jmp, 1);
        }
        if (tf->vector == 14)
                page_fault(tf, read_cr2());
        else if (tf->vector == 8)
                double_fault(tf);
        else {
                ksnprintf(what, sizeof what, "%s (vector %lu, error %#lx)",
                          exception_names[tf->vector & 31], tf->vector,
                          tf->error);
                trap_panic(tf, what);
        }
}

/*
 * Traps from user mode take the big kernel lock (after the APIC's own
 * vectors, which need no lock) and drop it on the way back; traps from
 * kernel mode run under whatever the interrupted code held.
 *
 * An APIC vector that interrupted user mode goes straight back when the
 * thread has nothing to do on the way (no signal pending; a reschedule
 * asked, as at the end of a time slice, gives the CPU up without the
 * lock first: sched_return_nolock): a shootdown's IPI to a CPU running the sender's other thread
 * then costs that CPU no wait for the lock the sender holds (else every
 * munmap of a process with threads on the other CPUs sets them all
 * spinning for the lock right after). A thread whose affinity no longer
 * allows this CPU (sched_setaffinity from another CPU kicks it here)
 * goes on to proc_return_to_user, which moves it.
 * The check reads signal state without the lock: a signal sent meanwhile
 * comes with its own IPI (machine_kick_running), which stays pending
 * until iretq, since interrupts are off here, and is taken in user mode.
 * A user page fault the lock-free part serves (vm_space.h,
 * vm_fault_nolock: a first touch of private anonymous memory, a write to
 * an own page a fork left read-only) goes back
 * the same way, without the lock.
 */
void trap_dispatch(struct trap_frame *tf)
{
        bool from_user = tf->cs & 3;
        bool done = false;              /* handled without the lock */
        uint64_t cr2 = from_user && tf->vector == 14 ? read_cr2() : 0;

        if (!from_user && machine_percpu_loaded)
                smp_halt_ended();       /* a halted CPU works again */
        if (tf->vector >= APIC_VECTOR_BASE) {
                apic_irq(tf);
                done = true;
        } else if (from_user && tf->vector == 14 && current->space &&
                   vm_fault_nolock(current->space, cr2,
                                   pf_access(tf->error))) {
                current->usage.minflt++;
                done = true;
        }
        if (done && from_user && sched_return_nolock())
                return;                 /* a time slice's end too */
        /*
         * From user mode the lock is waited for with interrupts on, as a
         * system call waits: a long wait then halts (biglock.c) instead
         * of spinning on a vCPU whose host core the holder's may need
         * (four vCPUs on two cores: a storm's slow faults spun 2-5 ms at
         * a time), and what comes meanwhile is handled as from kernel
         * mode (a tick, a cross-CPU call). An interrupt not yet
         * acknowledged (irq() sends the EOI) holds back only its own
         * line and those below it. The handlers below run with them off
         * again. An interrupt changes no address space: its thread's
         * siblings may go on faulting without the lock
         * (syscall_enters_space).
         */
        if (from_user) {
                __asm__ volatile("sti" ::: "memory");
                if (done || tf->vector >= IRQ_VECTOR_BASE)
                        machine_kernel_lock_outside();
                else
                        machine_kernel_lock();
                __asm__ volatile("cli" ::: "memory");
        }
        if (done)
                ;
        else if (tf->vector >= IRQ_VECTOR_BASE)
                irq(tf);
        else if (!from_user)
                kernel_trap(tf);
        else if (tf->vector == 14)
                page_fault(tf, cr2);
        else
                user_trap(tf);
        if (from_user) {
                serial_rx_arm();        /* before: its input may signal */
                proc_return_to_user();
                (void)intr_save();      /* off to iretq (machine_kick_running) */
                machine_kernel_unlock();
        }
}

bool fault_probe(void (*fn)(void *), void *arg, struct fault_info *fi)
{
        if (ksetjmp(&probe.jmp) != 0) {
                *fi = probe.info;
                return true;
        }
        probe.armed = true;
        fn(arg);
        probe.armed = false;
        return false;
}

static void do_read(void *va) { (void)*(volatile uint8_t *)va; }
static void do_write(void *va)
{
        volatile uint8_t *p = va;
        *p = *p;
}

bool probe_read(vaddr_t va, struct fault_info *fi)
{
        return fault_probe(do_read, (void *)va, fi);
}

bool probe_write(vaddr_t va, struct fault_info *fi)
{
        return fault_probe(do_write, (void *)va, fi);
}

void machine_backtrace(void)
{
        backtrace_print((uint64_t)machine_backtrace,
                        (uint64_t)__builtin_frame_address(0));
}
