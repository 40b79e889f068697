/*
 * thread.c - starting and switching threads on x86-64.
 *
 * A process's kernel stack, from the top down: its user trap frame (what
 * trap_return restores to enter user mode), then, while it is switched
 * out, the registers swtch saved. A new process's first swtch "returns"
 * into thread_first_entry, which goes to user mode through trap_return.
 */
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/intr.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>
#include "cpu.h"
#include "mmu.h"
#include "pmap_md.h"
#include "serial.h"
#include "trap.h"

#define RFLAGS_IF       0x200
#define RFLAGS_RESERVED 0x2

/* Where a new thread's first swtch returns to. */
static void thread_first_entry(void)
{
        sched_first_run();
        serial_rx_arm();
        proc_return_to_user();
        (void)intr_save();      /* off to iretq (machine_kick_running) */
        machine_kernel_unlock();
        trap_return(current->md.user_frame);
}

/* What swtch pops, in its order: r15 r14 r13 r12 rbx rbp, then ret. */
struct switch_frame {
        uint64_t r15, r14, r13, r12, rbx, rbp, rip;
};

/*
 * A new thread's switch frame, below its trap frame tf. swtch's `ret` into
 * thread_first_entry leaves rsp just above the frame, and a C function
 * must start with rsp + 8 a multiple of 16 (as after a call): code that
 * keeps 16-byte-aligned locals on the stack, such as fxsave's image in the
 * signal frame code, relies on it. So a gap of 8 or 16 bytes is left.
 */
static struct switch_frame *first_switch_frame(struct trap_frame *tf)
{
        uintptr_t entry_sp = ((uintptr_t)tf & ~(uintptr_t)15) - 8;

        return (struct switch_frame *)entry_sp - 1;
}

/* The registers of a fresh process: x87 and SSE as after reset (FCW
 * 0x37f, MXCSR 0x1f80, all exceptions masked), captured once at boot. */
static _Alignas(16) uint8_t fpu_initial[512];
uint32_t machine_mxcsr_mask;

void machine_fpu_init(void)
{
        write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
        write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
        __asm__ volatile("fninit; fxsave %0" : "=m"(fpu_initial));
        /* MXCSR_MASK as fxsave reports it; 0 means the default 0xffbf */
        machine_mxcsr_mask = *(uint32_t *)(fpu_initial + 28);
        if (!machine_mxcsr_mask)
                machine_mxcsr_mask = 0xffbf;
        *(uint32_t *)(fpu_initial + 24) = 0x1f80;       /* MXCSR */
}

void machine_fpu_load_initial(void)
{
        __asm__ volatile("fxrstor %0" : : "m"(fpu_initial));
}

/* A frame that enters user mode at entry with sp, all else zero. */
static void user_frame_init(struct trap_frame *tf, vaddr_t entry, vaddr_t sp)
{
        memset(tf, 0, sizeof *tf);
        tf->rip = entry;
        tf->rsp = sp;
        tf->cs = SEL_UCODE;
        tf->ss = SEL_UDATA;
        tf->rflags = RFLAGS_IF | RFLAGS_RESERVED;
}

void machine_thread_init_user(struct proc *p, vaddr_t entry, vaddr_t sp)
{
        uint8_t *top = (uint8_t *)kstack_top(p->kstack);
        struct trap_frame *tf = (struct trap_frame *)top - 1;
        struct switch_frame *sf = first_switch_frame(tf);

        user_frame_init(tf, entry, sp);
        memset(sf, 0, sizeof *sf);
        sf->rip = (uint64_t)thread_first_entry;
        memcpy(p->md.fpu, fpu_initial, sizeof fpu_initial);
        p->md.user_frame = tf;
        p->kernel_sp = sf;
}

/* Make p's address space, kernel stack and TLS base the CPU's. */
static void machine_load(struct proc *p)
{
        uint64_t top = kstack_top(p->kstack);

        tss_set_kernel_stack(top);
        wrmsr(MSR_FS_BASE, p->md.fs_base);
        /* Another thread of the same process: its tables are loaded
         * already, and the TLB is kept right for loaded tables, so no
         * reload (which would flush it). */
        struct pmap *pm = vm_space_pmap(p->space);
        if (mmu_current_root() != pm->root)
                pmap_activate(pm);
}

void machine_switch_to(void **save_sp, struct proc *p)
{
        machine_load(p);
        __asm__ volatile("fxrstor %0" : : "m"(p->md.fpu));
        swtch(save_sp, p->kernel_sp);
}

void machine_switch_away(struct proc *p, void *sched_sp)
{
        __asm__ volatile("fxsave %0" : "=m"(p->md.fpu));
        swtch(&p->kernel_sp, sched_sp);
}


/* After execve: the same kernel stack, a fresh user frame at the new
 * entry point, zeroed registers, no TLS base, x87/SSE as after reset. */
void machine_thread_exec(struct proc *p, vaddr_t entry, vaddr_t sp)
{
        user_frame_init(p->md.user_frame, entry, sp);
        p->md.fs_base = 0;
        wrmsr(MSR_FS_BASE, 0);
        memcpy(p->md.fpu, fpu_initial, sizeof fpu_initial);
        __asm__ volatile("fxrstor %0" : : "m"(p->md.fpu));
}

/* The child of fork: the parent's user registers (with 0 as fork's result
 * in the child), TLS base and live x87/SSE state, on its own stack. */
void machine_thread_fork(struct proc *child, const struct proc *parent)
{
        struct trap_frame *tf = (struct trap_frame *)kstack_top(child->kstack) - 1;
        struct switch_frame *sf = first_switch_frame(tf);

        *tf = *(const struct trap_frame *)parent->md.user_frame;
        tf->rax = 0;
        memset(sf, 0, sizeof *sf);
        sf->rip = (uint64_t)thread_first_entry;
        child->md.user_frame = tf;
        child->md.fs_base = parent->md.fs_base;
        child->kernel_sp = sf;
        __asm__ volatile("fxsave %0" : "=m"(child->md.fpu));
}

void machine_thread_set_user_sp(struct proc *p, vaddr_t sp)
{
        ((struct trap_frame *)p->md.user_frame)->rsp = sp;
}

void machine_thread_set_tls(struct proc *p, uint64_t tls)
{
        p->md.fs_base = tls;
}
