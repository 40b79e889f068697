/*
 * trap.c (riscv64) - traps taken in S-mode: the timer, the PLIC's external
 * interrupts, and exceptions (a panic, unless fault_probe expects one).
 *
 * The timer comes from SBI (sbi_set_timer): one tick every 1/TICK_HZ s
 * on every hart; the boot hart's keeps time (clock_tick). The PLIC routes
 * the UART's interrupt to the boot hart's S-mode context (context
 * 2 * hart + 1 on QEMU's virt board). Inter-processor interrupts arrive
 * as supervisor software interrupts (smp.c).
 */
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <machine/vmparam.h>
#include <mercator/clock.h>
#include <proc/acct.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <vm/vm_space.h>
#include "boot.h"
#include "percpu.h"
#include "riscv.h"
#include "sbi.h"
#include "trap.h"
#include "uart.h"

volatile uint64_t timer_ticks;
volatile uint64_t uart_irqs;

/* --- the PLIC ------------------------------------------------------------- */

#define PLIC_PRIORITY(irq)      (4 * (irq))
#define PLIC_ENABLE(ctx)        (0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx)     (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)         (0x200004 + 0x1000 * (ctx))

static volatile uint32_t *plic_reg(uint64_t off)
{
        return (volatile uint32_t *)((char *)phys_to_virt(boot_info.fdt.plic.base) + off);
}

static unsigned plic_context(void)
{
        return 2 * boot_info.hartid + 1;
}

static void plic_init(void)
{
        uint32_t irq = boot_info.fdt.uart.irq;

        if (!boot_info.fdt.plic.found || irq == 0)
                return;
        *plic_reg(PLIC_PRIORITY(irq)) = 1;
        plic_reg(PLIC_ENABLE(plic_context()))[irq / 32] |= 1u << (irq % 32);
        *plic_reg(PLIC_THRESHOLD(plic_context())) = 0;
        uart_enable_rx_irq();
        csr_set(sie, SIE_SEIE);
}

static void plic_interrupt(bool from_user)
{
        uint32_t irq = *plic_reg(PLIC_CLAIM(plic_context()));

        if (irq == 0)
                return;
        if (irq == boot_info.fdt.uart.irq) {
                uart_irqs++;
                uart_irq(from_user);
        }
        *plic_reg(PLIC_CLAIM(plic_context())) = irq;
}

/* --- the timer ------------------------------------------------------------ */

static void timer_interrupt(bool from_user)
{
        struct cpu *c = this_cpu();

        c->ticks++;
        if (c->id == 0) {
                timer_ticks++;
                clock_tick(from_user);
        } else {
                clock_tick_other_cpu(from_user);        /* its time slice */
        }
        c->next_tick += timebase_hz / TICK_HZ;
        if (c->next_tick <= rdtime())
                c->next_tick = rdtime() + timebase_hz / TICK_HZ;
        sbi_set_timer(c->next_tick);
}

/* Every hart: its first tick, and the timer and software interrupts on
 * (taken whenever sstatus.SIE is). */
void trap_init_hart(void)
{
        struct cpu *c = this_cpu();

        c->next_tick = rdtime() + timebase_hz / TICK_HZ;
        sbi_set_timer(c->next_tick);
        csr_set(sie, SIE_STIE | SIE_SSIE);
}

void trap_init(void)
{
        extern char trap_kernel_entry[];

        csr_write(stvec, (uint64_t)trap_kernel_entry);
        trap_init_hart();
        plic_init();
}

void machine_start_interrupts(void)
{
        intr_on();
}

/* --- fault probes ----------------------------------------------------------- */

static uint64_t probe_jb[14];
static volatile bool probe_active;
static struct fault_info probe_caught;

static __attribute__((noreturn)) void probe_landing(void)
{
        rv_longjmp(probe_jb, 1);
}

bool fault_probe(void (*fn)(void *), void *arg, struct fault_info *fi)
{
        if (rv_setjmp(probe_jb)) {
                probe_active = false;
                *fi = probe_caught;
                return true;
        }
        probe_active = true;
        fn(arg);
        probe_active = false;
        return false;
}

static void read_byte(void *p)
{
        (void)*(volatile uint8_t *)p;
}

static void write_byte(void *p)
{
        volatile uint8_t *b = p;

        *b = *b;
}

bool probe_read(vaddr_t va, struct fault_info *fi)
{
        return fault_probe(read_byte, (void *)va, fi);
}

bool probe_write(vaddr_t va, struct fault_info *fi)
{
        return fault_probe(write_byte, (void *)va, fi);
}

/* --- the handler -------------------------------------------------------------- */

static const char *exception_name(uint64_t cause)
{
        static const char *const names[] = {
                "instruction misaligned", "instruction access fault",
                "illegal instruction", "breakpoint", "load misaligned",
                "load access fault", "store misaligned", "store access fault",
                "ecall from U", "ecall from S", "?", "ecall from M",
                "instruction page fault", "load page fault", "?",
                "store page fault",
        };
        return cause < ARRAY_SIZE(names) ? names[cause] : "?";
}

void trap_interrupt_from(uint64_t cause, bool from_user)
{
        switch (cause & ~SCAUSE_INTR) {
        case IRQ_S_TIMER:
                timer_interrupt(from_user);
                return;
        case IRQ_S_EXT:
                plic_interrupt(from_user);
                return;
        case IRQ_S_SOFT:
                smp_ipi_interrupt();
                return;
        }
        panic("unexpected interrupt %lu", cause & ~SCAUSE_INTR);
}

bool trap_interrupt_lockless(uint64_t cause)
{
        uint64_t irq = cause & ~SCAUSE_INTR;

        return irq == IRQ_S_SOFT || (irq == IRQ_S_TIMER && this_cpu()->id != 0);
}

void trap_interrupt(uint64_t cause)
{
        trap_interrupt_from(cause, true);
}

/* The exception table (uaccess.S): where to resume if `fault` faults. */
struct extable_entry {
        uint64_t fault, fixup;
};
extern const struct extable_entry __extable_start[], __extable_end[];

static uint64_t extable_fixup(uint64_t pc)
{
        for (const struct extable_entry *e = __extable_start;
             e < __extable_end; e++)
                if (e->fault == pc)
                        return e->fixup;
        return 0;
}

/*
 * A page fault of a user copy (uaccess.S) on a user address: fault the
 * page in for the process, or resume at the copy's fixup (-EFAULT).
 * => false if f is not such a fault.
 */
static bool user_copy_fault(struct trap_frame *f, uint64_t cause)
{
        uint64_t fixup = extable_fixup(f->sepc);

        if (!fixup || !current || f->stval >= USER_MAX + PAGE_SIZE ||
            (cause != EXC_LOAD_PAGE_FAULT && cause != EXC_STORE_PAGE_FAULT))
                return false;
        if (oom_kernel_fault(current->space, f->stval,
                     cause == EXC_STORE_PAGE_FAULT ? VM_PROT_WRITE
                                                   : VM_PROT_READ) ==
            FAULT_RESOLVED)
                acct_fault();
        else
                f->sepc = fixup;
        return true;
}

void trap_kernel(struct trap_frame *f)
{
        uint64_t cause = f->scause;

        if (cause & SCAUSE_INTR) {
                trap_interrupt_from(cause, false);
                return;
        }
        if (user_copy_fault(f, cause))
                return;
        if (probe_active) {
                probe_caught = (struct fault_info){ f->stval, (unsigned)cause, 0 };
                f->sepc = (uint64_t)probe_landing;
                return;
        }
        panic("%s in the kernel: address %#lx, pc %#lx, ra %#lx, sp %#lx",
              exception_name(cause), f->stval, f->sepc, f->x[1], f->x[2]);
}

void trap_stack_overflow(uint64_t sp, uint64_t pc, uint64_t addr, uint64_t cause)
{
        panic_no_backtrace = true;
        panic("kernel stack overflow: %s at %#lx, pc %#lx, sp %#lx below the "
              "stack's bottom %#lx (its guard page)",
              exception_name(cause & ~SCAUSE_INTR), addr, pc, sp,
              this_cpu()->kstack_limit);
}

/* Which hart, on which stack and tables; then the frame-pointer chain
 * (fp points above the saved ra and fp), on any kernel stack: the boot
 * hart's is in the image, threads' and the other harts' idle stacks are
 * vmalloc's (below KERNEL_BASE). */
void machine_backtrace(void)
{
        uint64_t fp = (uint64_t)__builtin_frame_address(0);
        struct cpu *c = this_cpu();

        pr_emerg("hart: tp %p (CPU %u, hart id %lu), sp %#lx, stack bottom "
                 "%#lx, satp %#lx, stvec %#lx, sstatus %#lx, current %d\n",
                 (void *)c, c->id, c->hartid, fp, c->kstack_limit,
                 csr_read(satp), csr_read(stvec), csr_read(sstatus),
                 current ? current->tid : -1);
        pr_emerg("Backtrace:\n");
        for (int i = 0; i < 16 && fp >= LINEAR_BASE && (fp & 7) == 0; i++) {
                uint64_t ra = ((uint64_t *)fp)[-1];
                uint64_t next = ((uint64_t *)fp)[-2];
                if (ra < (uint64_t)_text_start || ra >= (uint64_t)_text_end)
                        break;
                pr_emerg("  %#lx\n", ra);
                if (next <= fp)
                        break;
                fp = next;
        }
}

void machine_call_on_stack(void *top, void (*fn)(void *), void *arg)
{
        __asm__ volatile(
                "mv     t0, sp\n"
                "mv     sp, %0\n"
                "addi   sp, sp, -16\n"
                "sd     t0, 0(sp)\n"
                "mv     a0, %2\n"
                "jalr   %1\n"
                "ld     sp, 0(sp)\n"
                :: "r"(top), "r"(fn), "r"(arg)
                : "ra", "t0", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
                  "t1", "t2", "t3", "t4", "t5", "t6", "memory");
}
