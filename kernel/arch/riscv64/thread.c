/*
 * thread.c (riscv64) - processes on the xv6 layout: starting, switching,
 * and every trap from user mode (system calls, faults, interrupts).
 *
 * A process's kernel stack (KSTACK_SIZE, a guard page under it) gives its
 * top page to its trap frame (p->md.tf): its user registers while it is
 * in the kernel. Below it grows the kernel stack proper (12 KiB). No
 * allocation of its own, so nothing can fail at fork and nothing is left
 * to free.
 *
 * trampoline.S saves and restores the user registers in the running
 * hart's own frame page (percpu.h's tf), mapped at TRAPFRAME_HART(hart)
 * (R|W, not U) in every user table the hart returns to: threads of one
 * address space may be in user mode on several harts at once, so one
 * TRAPFRAME per address space (xv6's, one thread per process) cannot
 * serve them. proc_usertrap copies the registers into the thread's frame
 * and usertrapret copies them back (31 words each way).
 *
 * Every locked return to user mode (usertrapret) checks that this hart's
 * slot in the running address space maps this hart's frame page, and if
 * not maps every online hart's, the trampoline and the signal-return page:
 * a new address space (exec, fork) is covered by that check, and so a
 * thread's first return is always the locked one. Since session 30 the
 * slots are mapped all at once (they were one hart at a time), so a
 * return without the lock may come from any hart: a lock-free call that
 * slept, or a time slice's end that gave the CPU up without the lock
 * (sched_return_nolock), may wake on another one.
 *
 * The big kernel lock (kern/biglock.c): taken on every entry from user
 * mode (proc_usertrap) but for an interrupt that leaves nothing to do
 * (an IPI, another hart's tick: no signal, the thread's affinity still
 * allows this hart; a reschedule is done without it) and a load or store page fault that
 * vm_fault_nolock serves (vm_space.h: a first touch of private anonymous
 * memory, a write to an own page a fork left read-only; the same way
 * back), released with
 * interrupts off on the way back (usertrapret), so an IPI sent meanwhile
 * is taken in user mode, not spent in the kernel.
 *
 * While switched out, a process's callee-saved registers are on its
 * kernel stack (swtch.S); p->kernel_sp points at them. A new process's
 * first swtch returns into thread_first_entry.
 */
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <proc/acct.h>
#include <proc/machine_hooks.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>
#include "boot.h"
#include "percpu.h"
#include "pmap_md.h"
#include "riscv.h"
#include "thread.h"
#include "trap.h"
#include "uart.h"
#include "usermode.h"

extern char uservec[], userret[], trap_kernel_entry[];
extern char _sigcode_start[];

#define TRAMPOLINE_VA(sym) (TRAMPOLINE + (vaddr_t)((sym) - _trampoline_start))

void swtch(void **save_sp, void *new_sp, void *new_limit);

/* What swtch pops, in its order: ra, s0-s11 (and a pad to 16 bytes). */
struct switch_frame {
        uint64_t ra, s[12], pad;
};


/* The trap frame page: the top page of p's kernel stack. */
static vaddr_t tf_va(const struct proc *p)
{
        return kstack_top(p->kstack) - PAGE_SIZE;
}

static void tf_attach(struct proc *p)
{
        paddr_t pa;

        if (!pmap_extract(pmap_kernel(), tf_va(p), &pa, NULL, NULL))
                panic("riscv64: kernel stack %p has no top page", p->kstack);
        p->md.tf = (struct trapframe *)tf_va(p);
        p->md.tf_pa = pa;
}

/* ---- the FPU ------------------------------------------------------------ */

void fpu_save(uint64_t fregs[32], uint32_t *fcsr);              /* fpu.S */
void fpu_restore(const uint64_t fregs[32], const uint32_t *fcsr);

void machine_fpu_save(struct proc *p)
{
        fpu_save(p->md.fregs, &p->md.fcsr);
}

void machine_fpu_restore(struct proc *p)
{
        fpu_restore(p->md.fregs, &p->md.fcsr);
}

/* ---- the way to user mode ---------------------------------------------- */

/* Every online hart's frame slot, TRAMPOLINE and SIGCODE in p's user
 * table, if this hart's slot is not there yet (see the top): once they
 * are, a thread may come back from any hart without the lock (the
 * lock-free way out below yields and may wake on another hart).
 * [kernel lock] */
static void user_pages_ensure(struct proc *p, struct pmap *pm, struct cpu *c)
{
        vaddr_t slot = TRAPFRAME_HART(c->id);
        paddr_t pa;
        vm_status_t st = VM_OK;

        if (pmap_extract(pm, slot, &pa, NULL, NULL) && pa == c->tf_pa)
                return;
        for (unsigned i = 0; i < ncpus && st == VM_OK; i++)
                if (i == c->id ||
                    __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
                        st = pmap_enter(pm, TRAPFRAME_HART(i), cpus[i].tf_pa,
                                        VM_PROT_RW, 0);
        if (st == VM_OK)
                st = pmap_enter(pm, TRAMPOLINE,
                                kimg_virt_to_phys(_trampoline_start),
                                VM_PROT_READ | VM_PROT_EXEC, 0);
        if (st == VM_OK)
                st = pmap_enter(pm, SIGCODE, kimg_virt_to_phys(_sigcode_start),
                                VM_PROT_READ | VM_PROT_EXEC, PMAP_USER);
        pmap_update(pm);
        if (st != VM_OK)        /* a table page: nothing to run on */
                proc_kill_current(SIGKILL, "out of memory for the trap frame",
                                  TRAPFRAME, p->md.tf->epc);
        __atomic_store_n(&pm->hart_frames, true, __ATOMIC_RELEASE);
}

/* The lock-free way back (proc.h, sched_return_nolock) from a trap that
 * took no lock: on whichever hart the thread is when it is done, whose
 * frame slot its space has once any hart's is (user_pages_ensure). */
static bool return_nolock(struct proc *p)
{
        return __atomic_load_n(&vm_space_pmap(p->space)->hart_frames,
                               __ATOMIC_ACQUIRE) && sched_return_nolock();
}

__attribute__((noreturn)) void proc_usertrap(void);

/* The locked way back to user mode, before usertrapret(p, true): the
 * console input an interrupt held back first (uart.c; its bytes may
 * signal or wake a thread, which proc_return_to_user then sees). */
static void return_to_user(void)
{
        uart_rx_arm();
        proc_return_to_user();
}

/* Back to user mode: with the big kernel lock held (locked), make sure
 * the frame slots are mapped and release the lock, interrupts off;
 * without it (return_nolock), they are. Then this hart's frame gets the
 * thread's registers and the kernel's fields. */
__attribute__((noreturn)) static void usertrapret(struct proc *p, bool locked)
{
        struct trapframe *tf = p->md.tf, *htf;
        struct pmap *pm = vm_space_pmap(p->space);
        struct cpu *c;
        uint64_t st;

        intr_off();
        c = this_cpu();
        htf = c->tf;
        if (locked) {
                user_pages_ensure(p, pm, c);
                machine_kernel_unlock();
        }
        csr_write(stvec, TRAMPOLINE_VA(uservec));
        memcpy(htf->x, tf->x, sizeof htf->x);
        htf->kernel_satp = satp_make(pm->kroot, 0);
        htf->kernel_sp = tf_va(p);
        htf->kernel_trap = (uint64_t)proc_usertrap;
        htf->kernel_tp = (uint64_t)c;
        st = csr_read(sstatus);
        st &= ~(SSTATUS_SPP | SSTATUS_SUM);
        st |= SSTATUS_SPIE;             /* interrupts on in user mode */
        csr_write(sstatus, st);
        csr_write(sepc, tf->epc);
        ((void (*)(uint64_t, uint64_t))TRAMPOLINE_VA(userret))(
                satp_make(pm->root, 0), TRAPFRAME_HART(c->id));
        __builtin_unreachable();
}

/* Where a new thread's first swtch returns to. */
static void thread_first_entry(void)
{
        sched_first_run();
        return_to_user();
        usertrapret(current, true);
}

/* ---- traps from user mode ------------------------------------------------ */

/* Linux's riscv64 ABI: number in a7, arguments in a0-a5, result in a0.
 * The call runs with interrupts on; they are off when this returns. */
static void syscall_call(struct proc *p, struct trapframe *tf)
{
        long args[6];

        for (int i = 0; i < 6; i++)
                args[i] = (long)TF_REG(tf, REG_A0 + i);
        p->md.syscall_nr = TF_REG(tf, REG_A7);
        p->md.orig_a0 = TF_REG(tf, REG_A0);
        p->md.in_syscall = true;
        tf->epc += 4;                   /* past the ecall */
        intr_on();
        TF_REG(tf, REG_A0) = (uint64_t)syscall_invoke(p->md.syscall_nr, args);
        intr_off();
}

/* A call under the big lock, and the locked way out. */
static void syscall(struct proc *p, struct trapframe *tf)
{
        syscall_call(p, tf);
        intr_on();
        return_to_user();
        p->md.in_syscall = false;
        intr_off();
}

static const char *const fault_names[] = {
        [EXC_INSN_MISALIGNED] = "instruction address misaligned",
        [EXC_INSN_ACCESS] = "instruction access fault",
        [EXC_ILLEGAL] = "illegal instruction",
        [EXC_BREAKPOINT] = "breakpoint",
        [EXC_LOAD_MISALIGNED] = "load address misaligned",
        [EXC_LOAD_ACCESS] = "load access fault",
        [EXC_STORE_MISALIGNED] = "store address misaligned",
        [EXC_STORE_ACCESS] = "store access fault",
        [EXC_INSN_PAGE_FAULT] = "instruction page fault",
        [EXC_LOAD_PAGE_FAULT] = "load page fault",
        [EXC_STORE_PAGE_FAULT] = "store page fault",
};

/* A fault the process may catch (CONCEPTS E27), as Linux's riscv traps.c
 * reports it: the signal with its siginfo, or the one-line report and the
 * end of the process if no handler would run. */
static void user_signal(struct proc *p, uint64_t cause, int sig, int code,
                        uint64_t addr)
{
        struct ksiginfo info = { .signo = sig, .code = code, .addr = addr };
        const char *why = cause < ARRAY_SIZE(fault_names) && fault_names[cause]
                          ? fault_names[cause] : "exception";

        machine_note_fault(p, (unsigned)cause, 0, addr);
        if (signal_would_kill(p, sig))
                proc_kill_current(sig, why, addr, p->md.tf->epc);
        signal_force(sig, &info);
}

static void user_page_fault(struct proc *p, uint64_t cause, uint64_t addr)
{
        vm_prot_t access = cause == EXC_INSN_PAGE_FAULT ? VM_PROT_EXEC :
                           cause == EXC_STORE_PAGE_FAULT ? VM_PROT_WRITE
                                                         : VM_PROT_READ;
        enum fault_result r = machine_user_fault(p->space, addr, access);

        if (r == FAULT_RESOLVED) {
                acct_fault();
                return;
        }
        if (r == FAULT_OOM) {
                if (oom_fault())        /* another process died for it */
                        return;
                proc_kill_current(SIGKILL, "out of memory", addr, p->md.tf->epc);
        }
        if (r == FAULT_BUS) {
                user_signal(p, cause, SIGBUS, BUS_ADRERR, addr);
                return;
        }
        user_signal(p, cause, SIGSEGV,
                    p->space->last_fault.reason == FAULT_REASON_PROT ?
                    SEGV_ACCERR : SEGV_MAPERR, addr);
}

static void user_exception(struct proc *p, uint64_t cause, uint64_t tval)
{
        uint64_t pc = p->md.tf->epc;

        switch (cause) {
        case EXC_INSN_PAGE_FAULT:
        case EXC_LOAD_PAGE_FAULT:
        case EXC_STORE_PAGE_FAULT:
                user_page_fault(p, cause, tval);
                break;
        case EXC_ILLEGAL:
                user_signal(p, cause, SIGILL, ILL_ILLOPC, pc);
                break;
        case EXC_BREAKPOINT:
                user_signal(p, cause, SIGTRAP, TRAP_BRKPT, pc);
                break;
        case EXC_INSN_MISALIGNED:
        case EXC_LOAD_MISALIGNED:
        case EXC_STORE_MISALIGNED:
                user_signal(p, cause, SIGBUS, BUS_ADRALN, tval);
                break;
        default:                /* access faults: PMP, no such memory */
                user_signal(p, cause, SIGSEGV, SEGV_ACCERR, tval);
                break;
        }
}

/* Where uservec jumps for a process: on its kernel stack (below the trap
 * frame) and its kernel table, interrupts off. The registers go from the
 * hart's frame to the thread's first (see the top). */
__attribute__((noreturn)) void proc_usertrap(void)
{
        struct proc *p = current;
        struct trapframe *tf = p->md.tf;
        uint64_t cause = csr_read(scause);

        csr_write(stvec, (uint64_t)trap_kernel_entry);
        /* Two checks, cheap, for a rare panic at -smp 4 not yet found
         * (docs/design.md): uservec serves only traps from user mode, and
         * the frame it used is this hart's slot (the frame gave tp). */
        if (csr_read(sstatus) & SSTATUS_SPP)
                panic("a trap from S-mode came through uservec: scause "
                      "%#lx, sepc %#lx, stval %#lx", cause, csr_read(sepc),
                      csr_read(stval));
        if (this_cpu()->tf->frame_va != TRAPFRAME_HART(this_cpu()->id))
                panic("uservec used the frame at %#lx, CPU %u's is at %#lx "
                      "(scause %#lx, sepc %#lx)", this_cpu()->tf->frame_va,
                      this_cpu()->id, TRAPFRAME_HART(this_cpu()->id), cause,
                      csr_read(sepc));
        memcpy(tf->x, this_cpu()->tf->x, sizeof tf->x);
        tf->epc = csr_read(sepc);
        if (cause & SCAUSE_INTR) {
                if (trap_interrupt_lockless(cause)) {
                        trap_interrupt_from(cause, true);
                        if (return_nolock(p))   /* a time slice's end too */
                                usertrapret(p, false);
                        machine_kernel_lock_outside();
                } else {
                        /* No address space changes: siblings' faults
                         * go on (syscall_enters_space). */
                        machine_kernel_lock_outside();
                        trap_interrupt_from(cause, true);
                }
                return_to_user();
        } else if (cause == EXC_ECALL_U &&
                   syscall_lock_of(TF_REG(tf, REG_A7)) == SYSCALL_NO_LOCK) {
                /* Needs no lock (syscall.h): back at once, from whichever
                 * hart it woke on, unless the way out has something to
                 * do or a user copy's fault took the lock. */
                syscall_call(p, tf);
                if (return_nolock(p)) {
                        p->md.in_syscall = false;
                        usertrapret(p, false);
                }
                machine_kernel_lock_rest_of_call();
                intr_on();
                return_to_user();
                p->md.in_syscall = false;
                intr_off();
        } else if (cause == EXC_ECALL_U) {
                if (syscall_enters_space(TF_REG(tf, REG_A7)))
                        machine_kernel_lock();
                else
                        machine_kernel_lock_outside();
                syscall(p, tf);
        } else if ((cause == EXC_STORE_PAGE_FAULT ||
                    cause == EXC_LOAD_PAGE_FAULT ||
                    cause == EXC_INSN_PAGE_FAULT) && p->space &&
                   vm_fault_nolock(p->space, csr_read(stval),
                                   cause == EXC_STORE_PAGE_FAULT ? VM_PROT_WRITE :
                                   cause == EXC_LOAD_PAGE_FAULT ? VM_PROT_READ :
                                                                  VM_PROT_EXEC)) {
                /* Served without the lock (vm_space.h): back at once
                 * unless the way out has something to do. */
                p->usage.minflt++;
                if (return_nolock(p))
                        usertrapret(p, false);
                machine_kernel_lock_outside();
                return_to_user();
        } else {
                machine_kernel_lock();
                user_exception(p, cause, csr_read(stval));
                return_to_user();
        }
        usertrapret(p, true);
}

/* ---- the hooks of proc/machine_hooks.h ----------------------------------- */

/* A switch frame under p's trap frame whose ra is thread_first_entry. */
static void first_switch(struct proc *p)
{
        struct switch_frame *sf = (struct switch_frame *)tf_va(p) - 1;

        memset(sf, 0, sizeof *sf);
        sf->ra = (uint64_t)thread_first_entry;
        p->kernel_sp = sf;
}

/* The user registers of a fresh program: all zero but pc and sp. */
static void user_regs_init(struct trapframe *tf, vaddr_t entry, vaddr_t sp)
{
        memset(tf->x, 0, sizeof tf->x);
        tf->epc = entry;
        TF_REG(tf, REG_SP) = sp;
}

void machine_thread_init_user(struct proc *p, vaddr_t entry, vaddr_t sp)
{
        tf_attach(p);
        user_regs_init(p->md.tf, entry, sp);
        memset(p->md.fregs, 0, sizeof p->md.fregs);
        p->md.fcsr = 0;
        first_switch(p);
}

void machine_thread_fork(struct proc *child, const struct proc *parent)
{
        tf_attach(child);
        memcpy(child->md.tf->x, parent->md.tf->x, sizeof child->md.tf->x);
        child->md.tf->epc = parent->md.tf->epc;
        TF_REG(child->md.tf, REG_A0) = 0;       /* fork's result */
        fpu_save(child->md.fregs, &child->md.fcsr);     /* parent's, live */
        first_switch(child);
}

void machine_thread_set_user_sp(struct proc *p, vaddr_t sp)
{
        TF_REG(p->md.tf, REG_SP) = sp;
}

void machine_thread_set_tls(struct proc *p, uint64_t tls)
{
        TF_REG(p->md.tf, REG_TP) = tls;
}

/* After execve (p is current): fresh registers and FPU state. */
void machine_thread_exec(struct proc *p, vaddr_t entry, vaddr_t sp)
{
        user_regs_init(p->md.tf, entry, sp);
        memset(p->md.fregs, 0, sizeof p->md.fregs);
        p->md.fcsr = 0;
        fpu_restore(p->md.fregs, &p->md.fcsr);
}

void machine_switch_to(void **save_sp, struct proc *p)
{
        pmap_activate(vm_space_pmap(p->space));
        fpu_restore(p->md.fregs, &p->md.fcsr);
        swtch(save_sp, p->kernel_sp, p->kstack);
}

void machine_switch_away(struct proc *p, void *sched_sp)
{
        fpu_save(p->md.fregs, &p->md.fcsr);
        swtch(&p->kernel_sp, sched_sp, (void *)this_cpu()->loop_limit);
}
