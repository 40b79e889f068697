/*
 * swtch.S (riscv64) - switching kernel threads.
 *
 * swtch(&old_sp, new_sp, new_limit): push ra and s0-s11 on the current
 * kernel stack (struct switch_frame in thread.c, 112 bytes to keep sp
 * 16-aligned), store sp in *old_sp, load new_sp and make new_limit the
 * hart's kstack_limit (8(tp), percpu.h: the bottom of the stack it runs
 * on, trap.S's overflow check), pop the same from there and return into
 * the other thread. The caller-saved registers are the C caller's.
 * Interrupts are off across the switch (and back as they were): a trap
 * between the new stack and the new limit would take the one for the
 * other and report an overflow that is none (a scheduler loop entered
 * with interrupts on, as a thread that slept in a system call leaves it,
 * hit that under -smp 4).
 */
        .text
        .globl  swtch
swtch:
        csrrci  t0, sstatus, 2          /* SIE off; t0 has what it was */
        addi    sp, sp, -112
        sd      ra, 0(sp)
        sd      s0, 8(sp)
        sd      s1, 16(sp)
        sd      s2, 24(sp)
        sd      s3, 32(sp)
        sd      s4, 40(sp)
        sd      s5, 48(sp)
        sd      s6, 56(sp)
        sd      s7, 64(sp)
        sd      s8, 72(sp)
        sd      s9, 80(sp)
        sd      s10, 88(sp)
        sd      s11, 96(sp)
        sd      sp, 0(a0)
        mv      sp, a1
        sd      a2, 8(tp)
        ld      ra, 0(sp)
        ld      s0, 8(sp)
        ld      s1, 16(sp)
        ld      s2, 24(sp)
        ld      s3, 32(sp)
        ld      s4, 40(sp)
        ld      s5, 48(sp)
        ld      s6, 56(sp)
        ld      s7, 64(sp)
        ld      s8, 72(sp)
        ld      s9, 80(sp)
        ld      s10, 88(sp)
        ld      s11, 96(sp)
        addi    sp, sp, 112
        andi    t0, t0, 2
        csrs    sstatus, t0             /* SIE as it was */
        ret
