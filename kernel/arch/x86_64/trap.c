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
 * them, end only the process. A kernel fault on a user address inside a
 * user-copy routine (listed in the exception table) is resolved the same
 * way, or resumed at the routine's fixup, which returns -EFAULT.
 */
#include <mercator/clock.h>
#include <mercator/ksyms.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/vm_space.h>
#include "cpu.h"
#include "timer.h"
#include "trap.h"

const char *kernel_guard_owner(vaddr_t va);     /* boot.c */

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

static void user_page_fault(struct trap_frame *tf, uint64_t cr2)
{
        enum fault_result r = vm_fault(current->space, cr2, pf_access(tf->error));
        char how[100];

        if (r == FAULT_RESOLVED)
                return;
        if (r == FAULT_OOM)
                proc_kill_current(SIGKILL, "out of memory", cr2, tf->rip);
        if (r == FAULT_BUS)
                proc_kill_current(SIGBUS, "access past the end of a mapped file",
                                  cr2, tf->rip);
        pf_describe(tf->error, how, sizeof how);
        proc_kill_current(SIGSEGV, how, cr2, tf->rip);
}

static void page_fault(struct trap_frame *tf)
{
        uint64_t cr2 = read_cr2();
        uint64_t fixup = extable_fixup(tf->rip);

        if (tf->cs & 3) {
                user_page_fault(tf, cr2);
                return;
        }
        if (fixup && current && cr2 < USER_MAX + PAGE_SIZE) {
                if (vm_fault(current->space, cr2, pf_access(tf->error)) !=
                    FAULT_RESOLVED)
                        tf->rip = fixup;
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

/* Exceptions in user mode other than page faults, and their signals. */
static int user_trap_signal(uint64_t vector)
{
        switch (vector) {
        case 0: case 16: case 19:       return SIGFPE;
        case 1: case 3:                 return SIGTRAP;
        case 6:                         return SIGILL;
        case 17:                        return SIGBUS;
        default:                        return SIGSEGV;
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
                page_fault(tf);
        else if (tf->vector == 8)
                double_fault(tf);
        else {
                ksnprintf(what, sizeof what, "%s (vector %lu, error %#lx)",
                          exception_names[tf->vector & 31], tf->vector,
                          tf->error);
                trap_panic(tf, what);
        }
}

void trap_dispatch(struct trap_frame *tf)
{
        bool from_user = tf->cs & 3;

        if (tf->vector >= IRQ_VECTOR_BASE)
                irq(tf);
        else if (!from_user)
                kernel_trap(tf);
        else if (tf->vector == 14)
                page_fault(tf);
        else
                proc_kill_current(user_trap_signal(tf->vector),
                                  exception_names[tf->vector & 31],
                                  tf->vector == 13 ? tf->error : 0, tf->rip);
        if (from_user)
                proc_return_to_user();
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
