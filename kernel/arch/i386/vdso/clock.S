/*
 * clock.S - the i386 vDSO's __vdso_clock_gettime64 for CLOCK_REALTIME and
 * CLOCK_MONOTONIC, the call glibc's and musl's clock_gettime (and glibc's
 * gettimeofday) make on i386, in assembly; every other clock, and every
 * case this cannot answer, goes on to the C version in vdso.c
 * (clock_gettime64_general), which answers the rest or makes the system
 * call.
 *
 * The arithmetic is mercator/vdso_data.h's anchor (vdso_anchor_add): the
 * kernel writes each clock at counter value `anchor` as seconds and
 * nanoseconds every tick, so the time now is that plus
 * ((now - anchor) * anchor_mult + anchor_frac) >> 32, exactly what the
 * kernel's own clock_monotonic_ns() gives, with one 32-bit multiply
 * and no division. The C compiler's version of the same (register
 * pressure with the GOT pointer: a dozen spills) cost 68 ns a call under
 * QEMU's TCG against 53 for this, and the general C path 66: under TCG
 * every load and store is an inline TLB lookup, so what counts here is
 * memory operations, of which this makes 21 (the return included).
 *
 * Falls back (to the C version, with the arguments as the caller left
 * them) when the clock id is not 0 or 1, the page is being written (odd
 * sequence) or changed while read, the page is not the machine's (no
 * counter, or a time namespace's page), the anchor has no 32-bit mult,
 * the counter is 2^31 counts or more past the anchor (or behind it), or
 * the seconds need more than 32 bits (a wall clock set past 2106).
 * Every load of the page comes before the second look at the sequence:
 * a first version read the seconds after it, so a tick landing between
 * could pair the old anchor's nanoseconds with the new one's seconds.
 *
 * No relocation: vvar_data is a hidden symbol at a fixed distance below
 * the image, reached from the address `call` pushes.
 */
#include <mercator/vdso_data.h>

#define NSEC    1000000000

/* vvar_data's field at byte offset f, from the address in %ebx (label
 * 1), and the field f + %eax * s */
#define VV(f)           (vvar_data - 1b + (f))(%ebx)
#define VVX(f, s)       (vvar_data - 1b + (f))(%ebx, %eax, s)

        .section .text.hot, "ax", @progbits
        .globl __vdso_clock_gettime64
        .type __vdso_clock_gettime64, @function
        .balign 32
__vdso_clock_gettime64:                 /* (clockid_t id, struct timespec64 *) */
        cmpl $1, 4(%esp)                /* REALTIME 0, MONOTONIC 1 */
        ja 9f
        pushl %ebx                      /* id at 8(%esp), the timespec at 12 */
        call 1f
1:      popl %ebx
        movl VV(VDSO_OFF_SEQ), %ecx
        testl $1, %ecx
        jnz 8f                          /* the kernel is writing */
        lfence                          /* the TSC after the loads above */
        rdtsc
        subl VV(VDSO_OFF_ANCHOR), %eax
        sbbl VV(VDSO_OFF_ANCHOR + 4), %edx
        jnz 8f                          /* 2^32 counts past it, or behind */
        testl %eax, %eax
        js 8f                           /* 2^31 or more */
        movl VV(VDSO_OFF_ANCHOR_MULT), %edx
        testl %edx, %edx
        jz 8f           /* no 32-bit mult, no counter, a namespace's page */
        mull %edx                       /* t * mult ... */
        addl VV(VDSO_OFF_ANCHOR_FRAC), %eax     /* + frac, >> 32 in %edx */
        movl 8(%esp), %eax              /* (mov keeps the carry) */
        adcl $0, %edx
        xorl $1, %eax                   /* the pair's index: REALTIME 1 */
        addl VVX(VDSO_OFF_MONO_NSEC, 4), %edx   /* + the nanoseconds */
        cmpl $0, VVX(VDSO_OFF_MONO_SEC + 4, 8)
        jne 8f                  /* 2^32 seconds or more: not in a register */
        movl VVX(VDSO_OFF_MONO_SEC, 8), %eax
        cmpl VV(VDSO_OFF_SEQ), %ecx     /* after every load of the page */
        jne 8f                          /* changed while read */
2:      cmpl $NSEC, %edx                /* under 2^31 + 10^9: at most 3 */
        jb 3f
        subl $NSEC, %edx
        addl $1, %eax
        jc 8f                           /* past 2^32 seconds */
        jmp 2b
3:      movl 12(%esp), %ebx
        movl %eax, (%ebx)
        movl $0, 4(%ebx)
        movl %edx, 8(%ebx)
        movl $0, 12(%ebx)
        xorl %eax, %eax
        popl %ebx
        ret
8:      popl %ebx
9:      jmp clock_gettime64_general
        .size __vdso_clock_gettime64, . - __vdso_clock_gettime64

        .section .note.GNU-stack, "", @progbits
