/*
 * trap.S (riscv64) - the kernel's trap vector (stvec while in S-mode).
 *
 * Saves every register in a struct trap_frame (trap.h) on the current
 * kernel stack, calls trap_kernel(frame), and returns with the frame's
 * registers and sepc, which the handler may have changed (fault_probe).
 * tp is the running hart's struct cpu (percpu.h): 8(tp) the bottom of the
 * stack it runs on, 16(tp) its overflow stack's top.
 */
#define CPU_KSTACK_LIMIT 8
#define CPU_OVERFLOW_TOP 16
#define FRAME_SIZE      (36 * 8)
#define F_SEPC          (32 * 8)
#define F_SSTATUS       (33 * 8)
#define F_SCAUSE        (34 * 8)
#define F_STVAL         (35 * 8)

        .text
        .balign 4
        .globl  trap_kernel_entry
trap_kernel_entry:
        /* Would the frame reach below the current kernel stack (into its
         * guard page)? Then say so on the overflow stack instead of
         * faulting again and again. t0 is parked in sscratch meanwhile. */
        csrw    sscratch, t0
        addi    sp, sp, -FRAME_SIZE
        ld      t0, CPU_KSTACK_LIMIT(tp)
        bltu    sp, t0, .Loverflow
        csrr    t0, sscratch
        sd      x1, 1*8(sp)
        sd      x3, 3*8(sp)
        sd      x4, 4*8(sp)
        sd      x5, 5*8(sp)
        sd      x6, 6*8(sp)
        sd      x7, 7*8(sp)
        sd      x8, 8*8(sp)
        sd      x9, 9*8(sp)
        sd      x10, 10*8(sp)
        sd      x11, 11*8(sp)
        sd      x12, 12*8(sp)
        sd      x13, 13*8(sp)
        sd      x14, 14*8(sp)
        sd      x15, 15*8(sp)
        sd      x16, 16*8(sp)
        sd      x17, 17*8(sp)
        sd      x18, 18*8(sp)
        sd      x19, 19*8(sp)
        sd      x20, 20*8(sp)
        sd      x21, 21*8(sp)
        sd      x22, 22*8(sp)
        sd      x23, 23*8(sp)
        sd      x24, 24*8(sp)
        sd      x25, 25*8(sp)
        sd      x26, 26*8(sp)
        sd      x27, 27*8(sp)
        sd      x28, 28*8(sp)
        sd      x29, 29*8(sp)
        sd      x30, 30*8(sp)
        sd      x31, 31*8(sp)
        addi    t0, sp, FRAME_SIZE
        sd      t0, 2*8(sp)             /* sp before the trap */
        csrr    t0, sepc
        sd      t0, F_SEPC(sp)
        csrr    t0, sstatus
        sd      t0, F_SSTATUS(sp)
        csrr    t0, scause
        sd      t0, F_SCAUSE(sp)
        csrr    t0, stval
        sd      t0, F_STVAL(sp)

        mv      a0, sp
        call    trap_kernel

        ld      t0, F_SEPC(sp)
        csrw    sepc, t0
        ld      t0, F_SSTATUS(sp)
        csrw    sstatus, t0
        ld      x1, 1*8(sp)
        ld      x3, 3*8(sp)
        /* not x4 (tp): it is the hart's, and a handler that slept (a user
         * copy's fault waiting for memory) may return on another hart */
        ld      x5, 5*8(sp)
        ld      x6, 6*8(sp)
        ld      x7, 7*8(sp)
        ld      x8, 8*8(sp)
        ld      x9, 9*8(sp)
        ld      x10, 10*8(sp)
        ld      x11, 11*8(sp)
        ld      x12, 12*8(sp)
        ld      x13, 13*8(sp)
        ld      x14, 14*8(sp)
        ld      x15, 15*8(sp)
        ld      x16, 16*8(sp)
        ld      x17, 17*8(sp)
        ld      x18, 18*8(sp)
        ld      x19, 19*8(sp)
        ld      x20, 20*8(sp)
        ld      x21, 21*8(sp)
        ld      x22, 22*8(sp)
        ld      x23, 23*8(sp)
        ld      x24, 24*8(sp)
        ld      x25, 25*8(sp)
        ld      x26, 26*8(sp)
        ld      x27, 27*8(sp)
        ld      x28, 28*8(sp)
        ld      x29, 29*8(sp)
        ld      x30, 30*8(sp)
        ld      x31, 31*8(sp)
        addi    sp, sp, FRAME_SIZE
        sret

.Loverflow:
        addi    a0, sp, FRAME_SIZE      /* the stack pointer at the trap */
        csrr    a1, sepc
        csrr    a2, stval
        csrr    a3, scause
        ld      sp, CPU_OVERFLOW_TOP(tp)
        call    trap_stack_overflow     /* does not return */
1:      j       1b

        /* The boot hart's overflow stack (smp.c gives the others theirs). */
        .section .bss.pagealigned, "aw", @nobits
        .balign 4096
overflow_stack:
        .skip   4096
        .globl  overflow_stack_top
overflow_stack_top:
        .text

/*
 * setjmp/longjmp for fault_probe: the callee-saved registers, ra and sp.
 * int rv_setjmp(uint64_t jb[14]); void rv_longjmp(uint64_t jb[14], int v).
 */
        .globl  rv_setjmp
rv_setjmp:
        sd      ra, 0*8(a0)
        sd      sp, 1*8(a0)
        sd      s0, 2*8(a0)
        sd      s1, 3*8(a0)
        sd      s2, 4*8(a0)
        sd      s3, 5*8(a0)
        sd      s4, 6*8(a0)
        sd      s5, 7*8(a0)
        sd      s6, 8*8(a0)
        sd      s7, 9*8(a0)
        sd      s8, 10*8(a0)
        sd      s9, 11*8(a0)
        sd      s10, 12*8(a0)
        sd      s11, 13*8(a0)
        li      a0, 0
        ret

        .globl  rv_longjmp
rv_longjmp:
        ld      ra, 0*8(a0)
        ld      sp, 1*8(a0)
        ld      s0, 2*8(a0)
        ld      s1, 3*8(a0)
        ld      s2, 4*8(a0)
        ld      s3, 5*8(a0)
        ld      s4, 6*8(a0)
        ld      s5, 7*8(a0)
        ld      s6, 8*8(a0)
        ld      s7, 9*8(a0)
        ld      s8, 10*8(a0)
        ld      s9, 11*8(a0)
        ld      s10, 12*8(a0)
        ld      s11, 13*8(a0)
        mv      a0, a1
        bnez    a0, 1f
        li      a0, 1
1:      ret
