/*
 * thread.c (i386) - starting and switching processes, and the way in
 * and out of user mode: int $0x80 system calls, TLS descriptors, the
 * x87/SSE state.
 *
 * A process's kernel stack, from the top down (as on x86-64): its user
 * trap frame (what the CPU and trap.S push on a trap from ring 3, at the
 * TSS's esp0), then, while it is switched out, the registers swtch saved.
 * A new process's first swtch "returns" into thread_first_entry, which
 * leaves through trap_return.
 *
 * The user's thread pointer is a segment: %gs selects one of the three
 * GDT TLS entries set_thread_area fills (glibc and musl keep the thread
 * control block behind %gs). The entries are the running thread's: every
 * switch copies that thread's three descriptors into the GDT; the trap
 * frame's %gs is reloaded from them on the way out.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/console.h>
#include <mercator/panic.h>
#include <machine/vdso.h>
#include <proc/vdso.h>
#include <mercator/uaccess.h>
#include <machine/vmparam.h>
#include <proc/machine_hooks.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>
#include "cpu.h"
#include "mmu.h"
#include "pmap_md.h"
#include "trap.h"
#include "tls.h"

#define EFLAGS_TF       0x100
#define EFLAGS_IF       0x200
#define EFLAGS_NT       0x4000
#define EFLAGS_RF       0x10000
#define EFLAGS_VM       0x20000
#define EFLAGS_RESERVED 0x2
#define CPUID_FXSR      (1u << 24)

/* ---- the x87/SSE state -------------------------------------------------- */

static bool have_fxsr;                  /* fxsave/fxrstor, and SSE allowed */
static _Alignas(16) uint8_t fpu_initial[512];

static void fpu_save(uint8_t *buf)
{
        if (have_fxsr)
                __asm__ volatile("fxsave %0" : "=m"(*(uint8_t (*)[512])buf));
        else
                __asm__ volatile("fnsave %0; frstor %0"
                                 : "+m"(*(uint8_t (*)[108])buf));
}

static void fpu_restore(const uint8_t *buf)
{
        if (have_fxsr)
                __asm__ volatile("fxrstor %0" : : "m"(*(const uint8_t (*)[512])buf));
        else
                __asm__ volatile("frstor %0" : : "m"(*(const uint8_t (*)[108])buf));
}

/* Turn the FPU on for user code (and SSE where the CPU has fxsave) and
 * capture the state of a fresh process: FCW 0x37f, MXCSR 0x1f80. */
void machine_fpu_init(void)
{
        uint32_t a, b, c, d;

        cpuid(1, 0, &a, &b, &c, &d);
        have_fxsr = d & CPUID_FXSR;
        write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
        if (have_fxsr)
                write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
        __asm__ volatile("fninit");
        fpu_save(fpu_initial);
        if (have_fxsr)
                memcpy(fpu_initial + 24, &(uint32_t){ 0x1f80 }, 4);
}

bool machine_fpu_fxsr(void)
{
        return have_fxsr;
}

void machine_fpu_load_initial(void)
{
        fpu_restore(fpu_initial);
}

void machine_fpu_save_current(uint8_t buf[512])
{
        fpu_save(buf);
}

void machine_fpu_restore_image(const uint8_t buf[512])
{
        fpu_restore(buf);
}

/* ---- threads ------------------------------------------------------------ */

/* What swtch pops, in its order: edi esi ebx ebp, then ret. */
struct switch_frame {
        uint32_t edi, esi, ebx, ebp, eip;
};

static struct trap_frame *user_tf(const struct proc *p)
{
        return p->md.user_frame;
}

/* Where a new thread's first swtch returns to. */
static void thread_first_entry(void)
{
        sched_first_run();
        trap_user_return(true);
        trap_return(current->md.user_frame);
}

/* A frame that enters user mode at entry with sp, all else zero. */
static void user_frame_init(struct trap_frame *tf, vaddr_t entry, vaddr_t sp)
{
        memset(tf, 0, sizeof *tf);
        tf->eip = entry;
        tf->esp = sp;
        tf->cs = SEL_UCODE;
        tf->ss = tf->ds = tf->es = SEL_UDATA;
        tf->fs = tf->gs = 0;
        tf->eflags = EFLAGS_IF | EFLAGS_RESERVED;
}

static struct switch_frame *first_switch_frame(struct proc *p,
                                               struct trap_frame *tf)
{
        struct switch_frame *sf = (struct switch_frame *)tf - 1;

        memset(sf, 0, sizeof *sf);
        sf->eip = (uint32_t)thread_first_entry;
        p->kernel_sp = sf;
        return sf;
}

void machine_thread_init_user(struct proc *p, vaddr_t entry, vaddr_t sp)
{
        struct trap_frame *tf = (struct trap_frame *)kstack_top(p->kstack) - 1;

        user_frame_init(tf, entry, sp);
        first_switch_frame(p, tf);
        memcpy(p->md.fpu, fpu_initial, sizeof fpu_initial);
        memset(p->md.tls, 0, sizeof p->md.tls);
        p->md.user_frame = tf;
}

/* Make p's address space, kernel stack and TLS descriptors the CPU's. */
static void machine_load(struct proc *p)
{
        tss_set_kernel_stack(kstack_top(p->kstack));
        gdt_set_tls(p->md.tls);
        struct pmap *pm = vm_space_pmap(p->space);
        if (mmu_current_root() != pm->root)
                pmap_activate(pm);
}

void machine_switch_to(void **save_sp, struct proc *p)
{
        machine_load(p);
        fpu_restore(p->md.fpu);
        swtch(save_sp, p->kernel_sp);
}

void machine_switch_away(struct proc *p, void *sched_sp)
{
        fpu_save(p->md.fpu);
        swtch(&p->kernel_sp, sched_sp);
}

/* Console input is polled at safe points: around idling, and on the way
 * back to user mode from the timer's interrupt, so within a tick of its
 * arrival (the UART's interrupt is not used). Not after page faults or
 * other exceptions: a port read is a costly exit under emulation, and a
 * read fault that maps the zero page spent most of its time on it. */
static void console_poll(void)
{
        int c;

        while (console_input_room() && (c = console_getc()) >= 0)
                console_receive((uint8_t)c);
}

void machine_idle(void)
{
        console_poll();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        console_poll();
}

void machine_start_interrupts(void)
{
        /* IRQ 0 is unmasked in the PIC since boot; the kernel runs with
         * interrupts off, user mode and machine_idle with them on. */
}

/* After execve: the same kernel stack, a fresh user frame at the new
 * entry point, no TLS descriptors, x87/SSE as after reset. */
void machine_thread_exec(struct proc *p, vaddr_t entry, vaddr_t sp)
{
        user_frame_init(user_tf(p), entry, sp);
        memset(p->md.tls, 0, sizeof p->md.tls);
        gdt_set_tls(p->md.tls);
        memcpy(p->md.fpu, fpu_initial, sizeof fpu_initial);
        fpu_restore(p->md.fpu);
}

/* The child of fork: the parent's user registers (0 as fork's result in
 * the child), TLS descriptors and live x87/SSE state, on its own stack. */
void machine_thread_fork(struct proc *child, const struct proc *parent)
{
        struct trap_frame *tf = (struct trap_frame *)kstack_top(child->kstack) - 1;

        *tf = *user_tf(parent);
        tf->eax = 0;
        first_switch_frame(child, tf);
        child->md.user_frame = tf;
        memcpy(child->md.tls, parent->md.tls, sizeof child->md.tls);
        fpu_save(child->md.fpu);
}

void machine_thread_set_user_sp(struct proc *p, vaddr_t sp)
{
        user_tf(p)->esp = sp;
}

/* clone's CLONE_SETTLS on i386: tls is the address of a struct user_desc
 * in the caller (the parent, running now), which set_thread_area's rules
 * put into one of the child's TLS entries. A bad one is ignored (Linux
 * fails the clone). */
void machine_thread_set_tls(struct proc *p, uint64_t tls)
{
        struct user_desc d;

        if (copy_from_user(&d, tls, sizeof d) == 0)
                (void)tls_desc_install(p->md.tls, &d, false);
}

/* ---- system calls -------------------------------------------------------- */

void trap_user_return(bool poll)
{
        proc_return_to_user();
        if (poll)
                console_poll();
}

/* Linux's i386 ABI: number in %eax, arguments in ebx ecx edx esi edi ebp,
 * the result in %eax. The console is not polled here: a port read per
 * system call is a costly exit under emulation, and the timer's return
 * to user mode (or idling) polls within a tick. */
static uint32_t vsyscall_off;           /* __kernel_vsyscall in the image */

long raw_get_user32(uint32_t *dst, const void *usrc);   /* uaccess.S */

/* Find __kernel_vsyscall once and check that its bytes are where
 * machine/vdso.h says (a build that moved them is a kernel bug). */
static void vsyscall_init(void)
{
        static const uint8_t want[] = { 0x0f, 0x34, 0xcd, 0x80 };
        uint64_t off = vdso_symbol("__kernel_vsyscall");

        if (!off || off + VDSO_VSYSCALL_LANDING > (uint64_t)(vdso_image_end - vdso_image) ||
            memcmp(vdso_image + off + VDSO_VSYSCALL_SYSENTER, want, sizeof want) != 0)
                panic("vdso: __kernel_vsyscall is not as machine/vdso.h says");
        vsyscall_off = (uint32_t)off;
}

/*
 * A system call through the vDSO's __kernel_vsyscall and sysenter
 * (trap.S built tf as int $0x80 would, but for eip and the sixth
 * argument): the user's esp was in ebp, and points at the ebp the vDSO
 * pushed, which is the sixth argument; the call returns to the landing
 * pad after the vDSO's int $0x80 (Linux's do_fast_syscall_32). A stack
 * that cannot be read makes the call fail with EFAULT, as on Linux.
 * => true if tf may leave by sysexit: still at the landing pad, in the
 *    user's segments, with no TF/RF/VM/NT to restore (else by iret).
 */
bool sysenter_dispatch(struct trap_frame *tf)
{
        vaddr_t landing = current->space->vdso_base ?
                current->space->vdso_base + vsyscall_off + VDSO_VSYSCALL_LANDING : 0;
        uint32_t arg6;

        tf->eip = (uint32_t)landing;
        tf->esp = tf->ebp;
        if (!user_range_ok(tf->ebp, sizeof arg6) ||
            raw_get_user32(&arg6, (const void *)(uintptr_t)tf->ebp) != 0) {
                current->md.syscall_nr = tf->eax;
                tf->eax = (uint32_t)-EFAULT;
                proc_return_to_user();
                return false;
        }
        tf->ebp = arg6;
        syscall_dispatch(tf);
        return tf->eip == landing && tf->cs == SEL_UCODE && tf->ss == SEL_UDATA &&
               !(tf->eflags & (EFLAGS_TF | EFLAGS_RF | EFLAGS_VM | EFLAGS_NT));
}

/* exec's AT_SYSINFO: __kernel_vsyscall where sysenter works. */
vaddr_t machine_vdso_sysinfo(vaddr_t ehdr)
{
        if (!vsyscall_off)
                vsyscall_init();
        return have_sysenter ? ehdr + vsyscall_off : 0;
}

void syscall_dispatch(struct trap_frame *tf)
{
        long args[6] = { (long)tf->ebx, (long)tf->ecx, (long)tf->edx,
                         (long)tf->esi, (long)tf->edi, (long)tf->ebp };

        current->md.syscall_nr = tf->eax;
        current->md.in_syscall = true;
        tf->eax = (uint32_t)syscall_invoke(tf->eax, args);
        proc_return_to_user();
        current->md.in_syscall = false;
}
