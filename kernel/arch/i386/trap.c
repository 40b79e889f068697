/*
 * trap.c (i386) - the GDT (Linux's layout, with the TLS entries), the TSS,
 * the IDT, the 8259 PICs, and the dispatch of every trap.
 *
 * A trap from the kernel is the timer, a fault the exception table
 * expects (user copies, probe_read/probe_write), or a kernel bug (panic).
 * From user mode: a system call (int $0x80, arch/i386/thread.c), the
 * timer, or an exception that becomes a signal to the process, as x86
 * Linux reports it (CONCEPTS E27).
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <proc/acct.h>
#include <proc/machine_hooks.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>
#include "cpu.h"
#include "trap.h"

struct gdt_desc { uint16_t limit_lo, base_lo; uint8_t base_mid, access, flags_limit_hi, base_hi; };
struct idt_gate { uint16_t off_lo, sel; uint8_t zero, type; uint16_t off_hi; };
struct tss {
        uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
        uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
        uint32_t es, cs, ss, ds, fs, gs, ldt;
        uint16_t trap, iomap_base;
};

static struct gdt_desc gdt[GDT_ENTRIES] __attribute__((aligned(8)));

/*
 * The sysenter entry's stack (trap.S): its top word is the running
 * thread's kernel stack top, which the entry loads first. The rest takes
 * a single-step trap's frame in the instructions before that (sysenter
 * leaves TF set), and nothing else.
 */
#define MSR_SYSENTER_CS         0x174
#define MSR_SYSENTER_ESP        0x175
#define MSR_SYSENTER_EIP        0x176
#define CPUID_SEP               (1u << 11)
static uint32_t sysenter_stack[256] __attribute__((aligned(16)));
extern const char sysenter_entry[], sysenter_entry_end[];
bool have_sysenter;
static struct idt_gate idt[256] __attribute__((aligned(8)));
static struct tss tss;

/*
 * The double fault runs as its own task (a task gate in the IDT), on its
 * own stack: a kernel stack overflow faults on the guard page, the CPU
 * cannot push the page fault's frame on the same stack and raises #DF,
 * and only a task switch gets a good stack then. The switch saves the
 * faulting state in `tss`, where double_fault_task() finds it.
 */
static struct tss df_tss;
static uint8_t df_stack[8192] __attribute__((aligned(16)));
static void double_fault_task(void);
extern const uint32_t trap_vectors[NR_VECTORS];
extern const uint32_t trap_vector_syscall;
extern const struct extable_entry __extable_start[], __extable_end[];

static void gdt_set(unsigned i, uint32_t base, uint32_t limit, uint8_t access,
                    uint8_t flags)
{
        gdt[i] = (struct gdt_desc){
                .limit_lo = limit & 0xffff, .base_lo = base & 0xffff,
                .base_mid = (base >> 16) & 0xff, .access = access,
                .flags_limit_hi = (uint8_t)((flags << 4) | ((limit >> 16) & 0xf)),
                .base_hi = base >> 24,
        };
}

static void idt_set(unsigned v, uint32_t handler, unsigned dpl)
{
        idt[v] = (struct idt_gate){
                .off_lo = handler & 0xffff, .sel = SEL_KCODE,
                /* 0x8e: present 32-bit interrupt gate (IF cleared) */
                .type = (uint8_t)(0x8e | (dpl << 5)), .off_hi = handler >> 16,
        };
}

/* Remap the two 8259s to vectors 32-47 and mask every line but IRQ 0. */
static void pic_init(void)
{
        outb(0x20, 0x11); outb(0xa0, 0x11);             /* ICW1: init, ICW4 */
        outb(0x21, IRQ_BASE); outb(0xa1, IRQ_BASE + 8); /* ICW2: vectors */
        outb(0x21, 0x04); outb(0xa1, 0x02);             /* ICW3: cascade */
        outb(0x21, 0x01); outb(0xa1, 0x01);             /* ICW4: 8086 */
        outb(0x21, 0xfe); outb(0xa1, 0xff);             /* masks */
}

/*
 * sysenter where the CPU has it (CPUID SEP; the Pentium Pro's family 6,
 * model < 3, stepping < 3 claims it without having it): kernel code and
 * data are SYSENTER_CS and +8, sysexit's user code and data +16 and +24
 * with RPL 3, which Linux's GDT layout (and so Mercator's) provides.
 */
static void sysenter_init(void)
{
        uint32_t a, b, c, d;

        _Static_assert(SEL_KDATA == SEL_KCODE + 8 &&
                       SEL_UCODE == (SEL_KCODE + 16 | 3) &&
                       SEL_UDATA == (SEL_KCODE + 24 | 3),
                       "sysenter/sysexit's selectors follow SYSENTER_CS");
        cpuid(1, 0, &a, &b, &c, &d);
        have_sysenter = (d & CPUID_SEP) &&
                        !(((a >> 8) & 15) == 6 && ((a >> 4) & 15) < 3 && (a & 15) < 3);
        if (!have_sysenter)
                return;
        wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
        wrmsr(MSR_SYSENTER_ESP, (uint32_t)&sysenter_stack[255]);
        wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
}

void cpu_tables_init(void)
{
        struct { uint16_t limit; uint32_t base; } __attribute__((packed)) p;

        /* access 0x9a/0x92: ring-0 code/data; 0xfa/0xf2 ring 3; flags 0xc:
         * 4 KiB granularity, 32-bit. */
        gdt_set(SEL_KCODE >> 3, 0, 0xfffff, 0x9a, 0xc);
        gdt_set(SEL_KDATA >> 3, 0, 0xfffff, 0x92, 0xc);
        gdt_set(SEL_UCODE >> 3, 0, 0xfffff, 0xfa, 0xc);
        gdt_set(SEL_UDATA >> 3, 0, 0xfffff, 0xf2, 0xc);
        tss.ss0 = SEL_KDATA;
        tss.iomap_base = sizeof tss;            /* no I/O bitmap */
        gdt_set(SEL_TSS >> 3, (uint32_t)&tss, sizeof tss - 1, 0x89, 0x0);
        df_tss = (struct tss){
                .eip = (uint32_t)double_fault_task,
                .esp = (uint32_t)(df_stack + sizeof df_stack),
                .ss = SEL_KDATA, .cs = SEL_KCODE, .ds = SEL_KDATA,
                .es = SEL_KDATA, .fs = SEL_KDATA, .gs = SEL_KDATA,
                .eflags = 0x2, .iomap_base = sizeof df_tss,
        };
        gdt_set(SEL_DF_TSS >> 3, (uint32_t)&df_tss, sizeof df_tss - 1, 0x89, 0x0);
        p.limit = sizeof gdt - 1;
        p.base = (uint32_t)gdt;
        __asm__ volatile("lgdt %0\n\t"
                         "ljmp %1, $1f\n1:\n\t"
                         "movl %2, %%eax\n\t"
                         "movl %%eax, %%ds\n\tmovl %%eax, %%es\n\t"
                         "movl %%eax, %%ss\n\tmovl %%eax, %%fs\n\t"
                         "movl %%eax, %%gs"
                         : : "m"(p), "i"(SEL_KCODE), "i"(SEL_KDATA) : "eax", "memory");
        __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));

        sysenter_init();

        for (unsigned v = 0; v < NR_VECTORS; v++)
                idt_set(v, trap_vectors[v], 0);
        /* int $0x80 from ring 3; int3 and into too, as on Linux (their
         * gates have DPL 3, so user code gets SIGTRAP/SIGSEGV, not #GP) */
        idt_set(SYSCALL_VECTOR, trap_vector_syscall, 3);
        idt_set(3, trap_vectors[3], 3);
        idt_set(4, trap_vectors[4], 3);
        /* Vector 8: a task gate (type 5) to the double fault's TSS. */
        idt[8] = (struct idt_gate){ .sel = SEL_DF_TSS, .type = 0x85 };
        p.limit = sizeof idt - 1;
        p.base = (uint32_t)idt;
        __asm__ volatile("lidt %0" : : "m"(p));
        pic_init();
}

/* The kernel page directory to run the double fault on (boot.c). */
void trap_set_df_cr3(uint32_t cr3)
{
        df_tss.cr3 = cr3;
}

/* The double fault's task: the state at the fault is in `tss`. */
static void double_fault_task(void)
{
        uint32_t esp = tss.esp;

        pr_emerg("\ntrap 8 (double fault) in kernel mode: eip %08x esp %08x "
                 "cr2 %08x\n", tss.eip, esp, read_cr2());
        panic_no_backtrace = true;
        if (kstack_guard_hit(esp) || kstack_guard_hit(read_cr2()))
                panic("kernel stack overflow: a kernel stack (guard page %#x "
                      "hit)", read_cr2());
        panic("double fault");
}

/* Where the kernel stack of the running thread ends (for user traps). */
void tss_set_kernel_stack(uint32_t top)
{
        tss.esp0 = top;
        sysenter_stack[255] = top;
}

/* Set when the TLS descriptors change: the sysenter return path must then
 * load fs and gs again even if they hold the frame's selectors (trap.S).
 * One CPU: a plain flag. */
int tls_segs_stale;

/* The three TLS descriptors of the running thread (GDT entries 6-8). */
void gdt_set_tls(const uint64_t tls[GDT_ENTRY_TLS_ENTRIES])
{
        for (unsigned i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++)
                __builtin_memcpy(&gdt[GDT_ENTRY_TLS_MIN + i], &tls[i], 8);
        tls_segs_stale = 1;
}

/* The fault of the last probe that faulted. */
static struct fault_info probe_fault;

static const char *const names[32] = {
        "divide error", "debug", "NMI", "breakpoint", "overflow",
        "bound range", "invalid opcode", "no FPU", "double fault",
        "coprocessor overrun", "invalid TSS", "segment not present",
        "stack fault", "general protection", "page fault", [16] = "x87 error",
        "alignment check", "machine check", "SIMD error",
};

static void trap_frame_dump(const struct trap_frame *tf)
{
        pr_emerg("  eip %08x cs %04x eflags %08x error %#x cr2 %08x cr3 %08x\n",
                 tf->eip, tf->cs, tf->eflags, tf->error, read_cr2(), read_cr3());
        pr_emerg("  eax %08x ebx %08x ecx %08x edx %08x\n",
                 tf->eax, tf->ebx, tf->ecx, tf->edx);
        pr_emerg("  esi %08x edi %08x ebp %08x\n", tf->esi, tf->edi, tf->ebp);
}

static void pf_describe(uint32_t err, char *buf, size_t size)
{
        ksnprintf(buf, size, "%s %s %s%s",
                  err & PF_USER ? "user" : "kernel",
                  err & PF_INSTR ? "instruction fetch from" :
                  err & PF_WRITE ? "write to" : "read from",
                  err & PF_PRESENT ? "a page it may not access" :
                                     "a page that is not present",
                  err & PF_RSVD ? " (reserved bit set in a table entry)" : "");
}

static vm_prot_t pf_access(uint32_t err)
{
        if (err & PF_INSTR)
                return VM_PROT_EXEC;
        return err & PF_WRITE ? VM_PROT_WRITE : VM_PROT_READ;
}

/*
 * A fault the process may catch: the signal goes to it with its siginfo,
 * and a handler that fixes the cause and returns runs the instruction
 * again. If no handler would run, the one-line report is printed and the
 * process ends.
 */
static void user_fault(struct trap_frame *tf, int sig, int code,
                       uint32_t addr, const char *why)
{
        struct ksiginfo info = { .signo = sig, .code = code, .addr = addr };
        char how[100];

        machine_note_fault(current, tf->vector, tf->error,
                           tf->vector == 14 ? addr : 0);
        if (signal_would_kill(current, sig)) {
                if (!why) {
                        pf_describe(tf->error, how, sizeof how);
                        why = how;
                }
                proc_kill_current(sig, why, addr, tf->eip);
        }
        signal_force(sig, &info);
}

static void user_page_fault(struct trap_frame *tf, uint32_t cr2)
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
                proc_kill_current(SIGKILL, "out of memory", cr2, tf->eip);
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

/* Exceptions in user mode other than page faults, as Linux reports them. */
static void user_trap(struct trap_frame *tf)
{
        unsigned v = tf->vector;
        const char *why = v < 32 && names[v] ? names[v] : "exception";

        switch (v) {
        case 0:  user_fault(tf, SIGFPE, FPE_INTDIV, tf->eip, why); break;
        case 1:  user_fault(tf, SIGTRAP, TRAP_TRACE, tf->eip, why); break;
        case 3:  user_fault(tf, SIGTRAP, SI_KERNEL, 0, why); break;
        case 6:  user_fault(tf, SIGILL, ILL_ILLOPN, tf->eip, why); break;
        case 11: case 12:
                 user_fault(tf, SIGBUS, SI_KERNEL, 0, why); break;
        case 16: user_fault(tf, SIGFPE, 0, tf->eip, why); break;
        case 17: user_fault(tf, SIGBUS, BUS_ADRALN, 0, why); break;
        case 19: user_fault(tf, SIGFPE, 0, tf->eip, why); break;
        default: user_fault(tf, SIGSEGV, SI_KERNEL, 0, why); break;
        }
}

__attribute__((noreturn))
static void kernel_trap_panic(struct trap_frame *tf)
{
        unsigned v = tf->vector;

        pr_emerg("\ntrap %u (%s) in %s mode\n", v,
                 v < 32 && names[v] ? names[v] : "?", tf->cs & 3 ? "user" : "kernel");
        trap_frame_dump(tf);
        panic_no_backtrace = true;
        panic("unexpected trap %u", v);
}

static void kernel_page_fault(struct trap_frame *tf)
{
        uint32_t cr2 = read_cr2();
        const struct extable_entry *e;

        probe_fault = (struct fault_info){ cr2, 14, tf->error };
        for (e = __extable_start; e < __extable_end; e++)
                if (e->insn == tf->eip)
                        break;
        if (e < __extable_end) {
                /* A user copy: make the page present if the process may
                 * touch it, else the copy returns -EFAULT. */
                if (current && current->space && cr2 < USER_TOP &&
                    oom_kernel_fault(current->space, cr2, pf_access(tf->error)) ==
                    FAULT_RESOLVED) {
                        acct_fault();
                        return;
                }
                tf->eip = e->fixup;
                return;
        }
        /* A fault on the running stack itself would not get this far: the
         * CPU's push faults again (double fault, its own task). */
        if (kstack_guard_hit(cr2)) {
                trap_frame_dump(tf);
                panic_no_backtrace = true;
                panic("kernel stack overflow: a kernel stack (guard "
                      "page %#x hit)", cr2);
        }
        char how[100];
        pf_describe(tf->error, how, sizeof how);
        pr_emerg("\npage fault at %08x: %s\n", cr2, how);
        kernel_trap_panic(tf);
}

void trap_dispatch(struct trap_frame *tf)
{
        unsigned v = tf->vector;
        bool from_user = tf->cs & 3;

        if (v == IRQ_BASE) {
                outb(0x20, 0x20);               /* end of interrupt */
                timer_tick();
                clock_tick(from_user);
        } else if (v > IRQ_BASE && v < IRQ_BASE + 16) { /* spurious, masked */
                if (v >= IRQ_BASE + 8)
                        outb(0xa0, 0x20);
                outb(0x20, 0x20);
        } else if (v == SYSCALL_VECTOR && from_user) {
                syscall_dispatch(tf);
                return;                 /* with its own return work */
        } else if (!from_user) {
                if (v == 1 && tf->eip >= (uint32_t)sysenter_entry &&
                    tf->eip < (uint32_t)sysenter_entry_end)
                        return;         /* the user's TF, until popfl */
                if (v == 14)
                        kernel_page_fault(tf);
                else
                        kernel_trap_panic(tf);
                return;
        } else if (v == 14) {
                user_page_fault(tf, read_cr2());
        } else {
                user_trap(tf);
        }
        if (from_user)
                trap_user_return(v == IRQ_BASE);
}

int probe_read_asm(vaddr_t va);
int probe_write_asm(vaddr_t va);

bool probe_read(vaddr_t va, struct fault_info *fi)
{
        if (!probe_read_asm(va))
                return false;
        *fi = probe_fault;
        return true;
}

bool probe_write(vaddr_t va, struct fault_info *fi)
{
        if (!probe_write_asm(va))
                return false;
        *fi = probe_fault;
        return true;
}

void machine_backtrace(void)
{
        const uint32_t *fp = __builtin_frame_address(0);

        pr_emerg("backtrace:\n");
        for (int i = 0; i < 16 && fp && (uint32_t)fp >= PAGE_SIZE; i++) {
                pr_emerg("  %08x\n", fp[1]);
                fp = (const uint32_t *)fp[0];
        }
}
