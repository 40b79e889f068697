/*
 * sigcode.S (riscv64) - the page mapped at SIGCODE (R|X|U) in every
 * process: where a signal handler returns (the frame's ra points here).
 * Linux puts the same two instructions in its vDSO
 * (__vdso_rt_sigreturn); riscv64 has no SA_RESTORER, so the kernel must
 * supply the way back. The page holds nothing else.
 */
#define NR_rt_sigreturn 139

        .section .text.sigcode, "ax"
        .balign 4096
        .globl  sigcode_rt_sigreturn
sigcode_rt_sigreturn:
        li      a7, NR_rt_sigreturn
        ecall
        unimp
