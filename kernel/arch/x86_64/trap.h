/*
 * trap.h - x86-64 exceptions: the saved frame, the descriptor tables, and
 * the ways the rest of the kernel hooks into faults.
 */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include <mercator/types.h>

/* What trap.S saves; the order is the reverse of its pushes. */
struct trap_frame {
        uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
        uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
        uint64_t vector, error;
        uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
};

_Static_assert(offsetof(struct trap_frame, r11) == 32 &&
               offsetof(struct trap_frame, rcx) == 96 &&
               offsetof(struct trap_frame, rip) == 136 &&
               offsetof(struct trap_frame, cs) == 144 &&
               offsetof(struct trap_frame, rflags) == 152 &&
               offsetof(struct trap_frame, ss) == 168,
               "entry.S's TF_* offsets");

/* Page-fault error code bits (pushed by the CPU with vector 14). */
#define PF_PRESENT      0x01    /* 0: page not present; 1: protection */
#define PF_WRITE        0x02    /* the access was a write */
#define PF_USER         0x04    /* it came from user mode (CPL 3) */
#define PF_RSVD         0x08    /* a reserved bit was set in an entry */
#define PF_INSTR        0x10    /* it was an instruction fetch */

/* Segment selectors of the kernel's GDT (cpu_tables.c). */
#define SEL_KCODE       0x08
#define SEL_KDATA       0x10
#define SEL_UDATA       0x23    /* 0x20 | RPL 3 */
#define SEL_UCODE       0x2b    /* 0x28 | RPL 3 */
#define SEL_TSS         0x30

/* The IST slots: exceptions that must not use a possibly broken stack. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2

#define NR_VECTORS      256
#define NR_TRAP_STUBS   48      /* exceptions, then the PIC's 16 IRQs */
/* The local APIC's vectors (lapic.c), at the top: highest priority. */
#define APIC_VECTOR_BASE 0xf0
#define VECTOR_TIMER    0xf0    /* each CPU's LAPIC timer */
#define VECTOR_IPI_PING 0xf1    /* an IPI that only counts (tests) */
#define VECTOR_CALL     0xf2    /* smp_call(): run the posted function */
#define VECTOR_RESCHED  0xf3    /* wake an idle CPU: something to run */
#define VECTOR_SPURIOUS 0xff    /* the LAPIC's spurious vector */
#define NR_APIC_VECTORS 16
#define VECTOR_SYSCALL  0x100   /* frames built by syscall_entry */

struct cpu;
/* GDT, TSS (IST stack tops given) and IDT of the running CPU. */
void cpu_tables_init(struct cpu *c, uint64_t df_top, uint64_t nmi_top);
void cpu_features_init(void);   /* syscall MSRs, SMEP, SMAP */
void tss_set_kernel_stack(uint64_t top);
extern bool smap_enabled;

__attribute__((noreturn)) void trap_return(struct trap_frame *tf);
void swtch(void **save_sp, void *new_sp);
void trap_dispatch(struct trap_frame *tf);

/* Registers saved by ksetjmp (setjmp.S). */
struct jmp_state {
        uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};
int ksetjmp(struct jmp_state *js) __attribute__((returns_twice));
__attribute__((noreturn)) void klongjmp(struct jmp_state *js, int v);

/* Print a frame's registers and a symbolized backtrace. */
void trap_frame_dump(const struct trap_frame *tf);
void backtrace_print(uint64_t rip, uint64_t rbp);

#endif
