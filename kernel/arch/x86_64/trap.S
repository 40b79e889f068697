/*
 * trap.S - the entry stubs of the IDT and the common save/restore path.
 *
 * Every stub leaves the same frame (struct trap_frame in trap.h): the CPU's
 * five words, an error code (0 where the CPU pushes none), the vector, then
 * the general registers. The CPU aligns %rsp to 16 before pushing, and the
 * frame is 22 words, so C is called with an aligned stack.
 *
 * A trap from user mode first swaps in the kernel's GS base (percpu.h);
 * trap_return (entry.S) swaps it back when the frame returns to user mode.
 */
#include "frame.inc"

        .macro TRAP_NOERR n
        .globl trap_stub_\n
trap_stub_\n:
        pushq $0
        pushq $\n
        jmp trap_common
        .endm

        .macro TRAP_ERR n
        .globl trap_stub_\n
trap_stub_\n:
        pushq $\n
        jmp trap_common
        .endm

        .text
        TRAP_NOERR 0
        TRAP_NOERR 1
        TRAP_NOERR 2
        TRAP_NOERR 3
        TRAP_NOERR 4
        TRAP_NOERR 5
        TRAP_NOERR 6
        TRAP_NOERR 7
        TRAP_ERR   8
        TRAP_NOERR 9
        TRAP_ERR   10
        TRAP_ERR   11
        TRAP_ERR   12
        TRAP_ERR   13
        TRAP_ERR   14
        TRAP_NOERR 15
        TRAP_NOERR 16
        TRAP_ERR   17
        TRAP_NOERR 18
        TRAP_NOERR 19
        TRAP_NOERR 20
        TRAP_ERR   21
        TRAP_NOERR 22
        TRAP_NOERR 23
        TRAP_NOERR 24
        TRAP_NOERR 25
        TRAP_NOERR 26
        TRAP_NOERR 27
        TRAP_NOERR 28
        TRAP_ERR   29
        TRAP_ERR   30
        TRAP_NOERR 31
        /* 32-47: the 8259 PIC's IRQs 0-15 (timer.c). */
        .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        TRAP_NOERR \n
        .endr

        /* 0xf0-0xff: the local APIC's (lapic.c). */
        .irp n, 240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
        TRAP_NOERR \n
        .endr

trap_common:
        testb $3, 24(%rsp)              /* the saved CS: from user mode? */
        jz 1f
        swapgs
1:      PUSH_GPRS
        cld
        movq %rsp, %rdi
        call trap_dispatch
        movq %rsp, %rdi
        jmp trap_return

        .section .rodata
        .balign 8
        .globl trap_stubs
trap_stubs:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        .quad trap_stub_\n
        .endr
        .globl apic_stubs
apic_stubs:
        .irp n, 240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
        .quad trap_stub_\n
        .endr
