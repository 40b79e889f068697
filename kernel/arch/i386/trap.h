/*
 * trap.h (i386) - exceptions and interrupts: the saved frame, the
 * descriptor tables, and the exception-table fixups.
 */
#ifndef ARCH_I386_TRAP_H
#define ARCH_I386_TRAP_H

#include <mercator/types.h>

/* What trap.S saves, lowest address first. esp and ss are pushed by the
 * CPU only when the trap came from user mode. */
struct trap_frame {
        uint32_t gs, fs, es, ds;
        uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
        uint32_t vector, error;
        uint32_t eip, cs, eflags;       /* pushed by the CPU */
        uint32_t esp, ss;               /* ... from user mode only */
};

/* Page-fault error code bits. */
#define PF_PRESENT      0x01
#define PF_WRITE        0x02
#define PF_USER         0x04
#define PF_RSVD         0x08
#define PF_INSTR        0x10

/* Linux's i386 GDT layout (arch/x86/include/asm/segment.h, the numbers):
 * entries 6-8 are the three TLS descriptors of set_thread_area. */
#define GDT_ENTRY_TLS_MIN       6
#define GDT_ENTRY_TLS_ENTRIES   3
#define GDT_ENTRIES             32
#define SEL_KCODE       (12 << 3)               /* 0x60 */
#define SEL_KDATA       (13 << 3)               /* 0x68 */
#define SEL_UCODE       ((14 << 3) | 3)         /* 0x73 */
#define SEL_UDATA       ((15 << 3) | 3)         /* 0x7b */
#define SEL_TSS         (16 << 3)               /* 0x80 */
#define SEL_DF_TSS      (31 << 3)               /* the double fault's task */

#define IRQ_BASE        32              /* the PIC's IRQ 0 */
#define NR_VECTORS      48
#define SYSCALL_VECTOR  0x80            /* int $0x80 */
#define USER_TOP        0xc0000000u     /* TASK_SIZE: the user's 3 GiB */

void cpu_tables_init(void);             /* GDT, TSS, IDT, PIC */
void trap_set_df_cr3(uint32_t cr3);     /* the double fault task's CR3 */
void trap_dispatch(struct trap_frame *tf);
void tss_set_kernel_stack(uint32_t top);
void gdt_set_tls(const uint64_t tls[GDT_ENTRY_TLS_ENTRIES]);
extern int tls_segs_stale;      /* trap.c: fs/gs to reload (trap.S) */

/* thread.c: a system call from tf, and the work due before any return
 * to user mode (signals, rescheduling; console input when poll: after the
 * timer's interrupt and a thread's first entry). */
void syscall_dispatch(struct trap_frame *tf);
bool sysenter_dispatch(struct trap_frame *tf);  /* true: leave by sysexit */
extern bool have_sysenter;              /* trap.c: the MSRs are set */
void trap_user_return(bool poll);
__attribute__((noreturn)) void trap_return(struct trap_frame *tf);
void swtch(void **save_sp, void *new_sp);

/* One exception-table entry: a faulting instruction and where to go. */
struct extable_entry { uint32_t insn, fixup; };

/* The timer (timer.c). */
void timer_init(void);
void timer_tick(void);
extern volatile uint64_t timer_ticks;
#define TIMER_HZ        100

#endif
