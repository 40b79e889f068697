/*
 * uaccess.S (riscv64) - copying between kernel and user memory (CONCEPTS
 * E26), under kern/uaccess.c's range checks.
 *
 * The kernel runs on the process's kernel table, whose user half is the
 * process's, so user addresses are reached directly - but only with
 * sstatus.SUM set, which these routines set on entry and clear on every
 * way out (SUM is never on anywhere else). Each instruction that touches
 * user memory has an exception-table entry: a page fault there that
 * vm_fault() cannot resolve resumes at the fixup, which returns -EFAULT.
 *
 * long raw_copy_user(void *dst, const void *src, size_t n)   0 / -EFAULT
 * long raw_clear_user(void *udst, size_t n)                   0 / -EFAULT
 * long raw_strncpy_user(char *dst, const void *usrc, size_t max)
 *      bytes copied before a NUL (at most max), or -EFAULT
 * long raw_cmpxchg_user32(uint32_t *uaddr, uint32_t *old, uint32_t new)
 *      0 / -EFAULT; *old = the value found
 */
#define EFAULT          14
#define SSTATUS_SUM     (1 << 18)

        .macro EXTABLE fault, fixup
        .pushsection .extable, "a"
        .balign 8
        .dword \fault, \fixup
        .popsection
        .endm

        .macro SUM_ON
        li      t6, SSTATUS_SUM
        csrs    sstatus, t6
        .endm

        .macro SUM_OFF
        li      t6, SSTATUS_SUM
        csrc    sstatus, t6
        .endm

        .text
        .globl  raw_copy_user
raw_copy_user:
        SUM_ON
        /* doublewords while both ends are 8-aligned, then bytes */
        or      t0, a0, a1
        andi    t0, t0, 7
        bnez    t0, 2f
1:      li      t1, 8
        bltu    a2, t1, 2f
10:     ld      t2, 0(a1)
11:     sd      t2, 0(a0)
        addi    a0, a0, 8
        addi    a1, a1, 8
        addi    a2, a2, -8
        j       1b
2:      beqz    a2, 3f
12:     lbu     t2, 0(a1)
13:     sb      t2, 0(a0)
        addi    a0, a0, 1
        addi    a1, a1, 1
        addi    a2, a2, -1
        j       2b
3:      SUM_OFF
        li      a0, 0
        ret
        EXTABLE 10b, uaccess_efault
        EXTABLE 11b, uaccess_efault
        EXTABLE 12b, uaccess_efault
        EXTABLE 13b, uaccess_efault

        .globl  raw_clear_user
raw_clear_user:
        SUM_ON
1:      beqz    a1, 2f
20:     sb      zero, 0(a0)
        addi    a0, a0, 1
        addi    a1, a1, -1
        j       1b
2:      SUM_OFF
        li      a0, 0
        ret
        EXTABLE 20b, uaccess_efault

        .globl  raw_strncpy_user
raw_strncpy_user:
        SUM_ON
        li      t0, 0                   /* bytes copied */
1:      beq     t0, a2, 2f
        add     t1, a1, t0
30:     lbu     t2, 0(t1)
        add     t1, a0, t0
        sb      t2, 0(t1)
        beqz    t2, 2f
        addi    t0, t0, 1
        j       1b
2:      SUM_OFF
        mv      a0, t0
        ret
        EXTABLE 30b, uaccess_efault

uaccess_efault:
        SUM_OFF
        li      a0, -EFAULT
        ret

/* An atomic OR of nothing first: a write fault (copy-on-write, a page
 * not there yet) is taken there, where the fixup can tell it, rather
 * than inside the lr/sc pair, which goes round again after any trap. */
        .globl  raw_cmpxchg_user32
raw_cmpxchg_user32:
        SUM_ON
        lw      t1, 0(a1)
40:     amoor.w zero, zero, (a0)
41:     lr.w    t0, (a0)
        bne     t0, t1, 43f
42:     sc.w    t2, a2, (a0)
        bnez    t2, 40b
43:     sw      t0, 0(a1)
        SUM_OFF
        li      a0, 0
        ret
44:     SUM_OFF
        li      a0, -EFAULT
        ret
        EXTABLE 40b, 44b
        EXTABLE 41b, 44b
        EXTABLE 42b, 44b
