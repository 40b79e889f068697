/*
 * setjmp.S - kernel setjmp/longjmp (struct jmp_state in trap.h).
 *
 * Used to get back from a fault that a caller expected (fault_probe) and
 * to end a failed kernel test. Saves the callee-saved registers, the stack
 * pointer, the return address and RFLAGS (so the interrupt flag comes back
 * as it was; an exception handler runs with it clear).
 */
        .text
        .globl ksetjmp
ksetjmp:
        movq %rbx, 0(%rdi)
        movq %rbp, 8(%rdi)
        movq %r12, 16(%rdi)
        movq %r13, 24(%rdi)
        movq %r14, 32(%rdi)
        movq %r15, 40(%rdi)
        leaq 8(%rsp), %rax
        movq %rax, 48(%rdi)     /* %rsp after our return */
        movq (%rsp), %rax
        movq %rax, 56(%rdi)     /* return address */
        pushfq
        popq 64(%rdi)
        xorl %eax, %eax
        ret

        .globl klongjmp
klongjmp:
        movq 0(%rdi), %rbx
        movq 8(%rdi), %rbp
        movq 16(%rdi), %r12
        movq 24(%rdi), %r13
        movq 32(%rdi), %r14
        movq 40(%rdi), %r15
        movq 48(%rdi), %rsp
        pushq 64(%rdi)
        popfq
        movl %esi, %eax
        testl %eax, %eax
        jnz 1f
        incl %eax
1:      jmpq *56(%rdi)

/*
 * void machine_call_on_stack(void *top, void (*fn)(void *), void *arg)
 * Run fn(arg) with %rsp = top, then come back to the caller's stack.
 */
        .globl machine_call_on_stack
machine_call_on_stack:
        pushq %rbp
        movq %rsp, %rbp
        movq %rdi, %rsp
        movq %rdx, %rdi
        callq *%rsi
        movq %rbp, %rsp
        popq %rbp
        ret
