/*
 * entry.S - crossing between user and kernel mode, and between threads.
 *
 * syscall_entry: the target of the `syscall` instruction (MSR_LSTAR). The
 * CPU leaves the user %rsp in place, the user %rip in %rcx and RFLAGS in
 * %r11. We swap in the kernel's GS base (percpu.h), switch to the current
 * thread's kernel stack (this CPU's %gs:CPU_KSTACK_TOP, the user %rsp
 * kept meanwhile in %gs:CPU_USER_RSP) and build the same struct trap_frame
 * that exceptions build, so every path out of the kernel is trap_return.
 *
 * trap_return(tf): restore a frame and iretq; used by exceptions,
 * interrupts, system calls and a new thread's first entry to user mode.
 * Interrupts are off from its first instruction, so none can arrive
 * between the swapgs back to the user's GS base and the iretq.
 *
 * swtch(&old_ctx, new_ctx): save the callee-saved registers on the current
 * kernel stack, store that stack pointer in *old_ctx, and resume new_ctx.
 */
#include "frame.inc"

#define SEL_UDATA       0x23
#define SEL_UCODE       0x2b
#define VECTOR_SYSCALL  0x100
/* Offsets in struct trap_frame (trap.h). */
#define TF_R11          32
#define TF_RCX          96
#define TF_RIP          136
#define TF_CS           144
#define TF_RFLAGS       152
#define TF_SS           168
#define RFLAGS_TF       0x100
#define RFLAGS_RF       0x10000
/* struct cpu (percpu.h) */
#define CPU_KSTACK_TOP  8
#define CPU_USER_RSP    16

        .text
        .globl syscall_entry
syscall_entry:
        swapgs
        movq %rsp, %gs:CPU_USER_RSP
        movq %gs:CPU_KSTACK_TOP, %rsp
        pushq $SEL_UDATA                /* ss */
        pushq %gs:CPU_USER_RSP          /* rsp */
        pushq %r11                      /* rflags */
        pushq $SEL_UCODE                /* cs */
        pushq %rcx                      /* rip */
        pushq $0                        /* error */
        pushq $VECTOR_SYSCALL           /* vector */
        PUSH_GPRS
        xorl %ebp, %ebp                 /* backtraces stop here */
        movq %rsp, %rdi
        sti
        call syscall_dispatch
        cli

        /*
         * Back with sysret when the frame allows it: user code and stack
         * segments, no single-step or resume flag, a canonical user %rip
         * (sysret with a non-canonical one faults in kernel mode on Intel
         * CPUs, on the user's stack), and %rcx and %r11 equal to %rip and
         * RFLAGS, which sysret overwrites (a signal frame or rt_sigreturn
         * may have changed them). Anything else takes iretq.
         */
        movq TF_RIP(%rsp), %rcx
        cmpq %rcx, TF_RCX(%rsp)
        jne 1f
        movq TF_RFLAGS(%rsp), %r11
        cmpq %r11, TF_R11(%rsp)
        jne 1f
        movq %rcx, %r11
        sarq $47, %r11
        jnz 1f
        cmpq $SEL_UCODE, TF_CS(%rsp)
        jne 1f
        cmpq $SEL_UDATA, TF_SS(%rsp)
        jne 1f
        movq TF_RFLAGS(%rsp), %r11
        testq $(RFLAGS_TF | RFLAGS_RF), %r11
        jnz 1f
        POP_GPRS
        movq 16(%rsp), %rcx             /* sysret's %rip */
        movq 32(%rsp), %r11             /* sysret's RFLAGS */
        movq 40(%rsp), %rsp             /* the user stack */
        swapgs
        sysretq
1:      movq %rsp, %rdi
        jmp trap_return

        .globl trap_return
trap_return:
        cli
        movq %rdi, %rsp
        POP_GPRS
        addq $16, %rsp
        testb $3, 8(%rsp)               /* back to user mode? */
        jz 1f
        swapgs
1:      iretq

        .globl swtch
swtch:
        pushq %rbp
        pushq %rbx
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        movq %rsp, (%rdi)
        movq %rsi, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbx
        popq %rbp
        ret
