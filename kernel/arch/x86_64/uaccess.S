/*
 * uaccess.S - copying between kernel and user memory (CONCEPTS E26).
 *
 * The C wrappers (uaccess.c) check that the user range lies in the user
 * half; these routines only copy. Each instruction that touches user
 * memory has an entry in the exception table (__extable): if it faults
 * and the fault handler cannot make the page present (vm_fault), the
 * handler resumes at the entry's fixup, which returns -EFAULT (14).
 * With SMAP on, user pages are reachable only between stac and clac.
 */
#define EFAULT 14

        .macro EXTABLE fault, fixup
        .pushsection .extable, "a"
        .balign 8
        .quad \fault, \fixup
        .popsection
        .endm

        .macro USER_ACCESS_BEGIN
        cmpb $0, smap_enabled(%rip)
        je 98f
        stac
98:
        .endm

        .macro USER_ACCESS_END
        cmpb $0, smap_enabled(%rip)
        je 99f
        clac
99:
        .endm

        .text
/* long raw_copy_user(void *dst, const void *src, size_t n): 0 or -EFAULT */
        .globl raw_copy_user
raw_copy_user:
        USER_ACCESS_BEGIN
        /* quadwords, then the tail: TCG runs `rep movs` one element per
         * step, so bytes would cost eight times as many */
        movq %rdx, %rcx
        shrq $3, %rcx
1:      rep movsq
        movq %rdx, %rcx
        andq $7, %rcx
9:      rep movsb
        USER_ACCESS_END
        xorl %eax, %eax
        ret
2:      USER_ACCESS_END
        movq $-EFAULT, %rax
        ret
        EXTABLE 1b, 2b
        EXTABLE 9b, 2b

        .globl raw_strncpy_user
raw_strncpy_user:
        USER_ACCESS_BEGIN
        xorl %eax, %eax
3:      cmpq %rdx, %rax
        je 5f
4:      movb (%rsi,%rax), %cl
        movb %cl, (%rdi,%rax)
        testb %cl, %cl
        je 5f
        incq %rax
        jmp 3b
5:      USER_ACCESS_END
        ret
6:      USER_ACCESS_END
        movq $-EFAULT, %rax
        ret
        EXTABLE 4b, 6b

/* long raw_cmpxchg_user32(uint32_t *uaddr, uint32_t *old, uint32_t new):
 * lock cmpxchg of the user word; *old = the value found; 0 or -EFAULT */
        .globl raw_cmpxchg_user32
raw_cmpxchg_user32:
        USER_ACCESS_BEGIN
        movl (%rsi), %eax
30:     lock cmpxchgl %edx, (%rdi)
        movl %eax, (%rsi)
        USER_ACCESS_END
        xorl %eax, %eax
        ret
31:     USER_ACCESS_END
        movq $-EFAULT, %rax
        ret
        EXTABLE 30b, 31b

/* long raw_clear_user(void *udst, size_t n): 0 or -EFAULT */
        .globl raw_clear_user
raw_clear_user:
        USER_ACCESS_BEGIN
        movq %rsi, %rcx
        shrq $3, %rcx
        xorl %eax, %eax
7:      rep stosq
        movq %rsi, %rcx
        andq $7, %rcx
10:     rep stosb
        USER_ACCESS_END
        xorl %eax, %eax
        ret
8:      USER_ACCESS_END
        movq $-EFAULT, %rax
        ret
        EXTABLE 7b, 8b
        EXTABLE 10b, 8b
