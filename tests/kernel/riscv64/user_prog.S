/*
 * user_prog.S - a position-independent riscv64 user program for the
 * riscv64 kernel tests (test_rv_user.c), copied into a user page. What it
 * does depends on a0 at entry:
 *   1  write(1, "hello from U-mode\n", 18), then exit(0)
 *   2  load from TRAPFRAME (mapped without U: a load page fault)
 *   3  jump to TRAMPOLINE (mapped without U: an instruction page fault)
 *   4  spin until the kernel has taken timer interrupts, then exit(4)
 *   5  write(1, TRAPFRAME, 8): the kernel must refuse (-EFAULT), exit(-ret)
 *   n  exit(2n + 1)
 * Linux's riscv64 numbers: write 64, exit 93.
 */
#define TRAPFRAME       0x3fffffe000
#define TRAMPOLINE      0x3ffffff000

        .section .rodata
        .balign 8
        .globl  user_prog_start, user_prog_end
user_prog_start:
        li      t0, 1
        beq     a0, t0, 1f
        li      t0, 2
        beq     a0, t0, 2f
        li      t0, 3
        beq     a0, t0, 3f
        li      t0, 4
        beq     a0, t0, 4f
        li      t0, 5
        beq     a0, t0, 5f
        slli    a0, a0, 1
        addi    a0, a0, 1
        li      a7, 93
        ecall
1:      li      a7, 64
        li      a0, 1
        lla     a1, msg
        lla     a2, msg_end
        sub     a2, a2, a1
        ecall
        li      a7, 93
        li      a0, 0
        ecall
2:      li      t0, TRAPFRAME
        ld      t1, 0(t0)
        li      a7, 93
        li      a0, 99
        ecall
3:      li      t0, TRAMPOLINE
        jr      t0
4:      li      t0, 40000000
6:      addi    t0, t0, -1
        bnez    t0, 6b
        li      a7, 93
        li      a0, 4
        ecall
5:      li      a7, 64
        li      a0, 1
        li      a1, TRAPFRAME
        li      a2, 8
        ecall
        neg     a0, a0
        li      a7, 93
        ecall
msg:    .ascii  "hello from U-mode\n"
msg_end:
        .balign 4
user_prog_end:
