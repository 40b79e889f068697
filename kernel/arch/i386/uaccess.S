/*
 * uaccess.S (i386) - copying between kernel and user memory (CONCEPTS
 * E26), as on x86-64: the C wrappers (kern/uaccess.c) check that the user
 * range lies below 0xc0000000; these routines only copy. Each instruction
 * that touches user memory has an exception-table entry: if it faults
 * and the page fault handler cannot make the page present, it resumes at
 * the entry's fixup, which returns -EFAULT (14).
 */
#define EFAULT 14
        .macro EXTABLE fault, fixup
        .pushsection .extable, "a"
        .balign 4
        .long \fault, \fixup
        .popsection
        .endm

        .text
/* long raw_copy_user(void *dst, const void *src, size_t n): 0 or -EFAULT */
        .globl raw_copy_user
raw_copy_user:
        pushl %esi
        pushl %edi
        movl 12(%esp), %edi
        movl 16(%esp), %esi
        movl 20(%esp), %edx
        cld
        /* words, then the tail: TCG runs `rep movs` one element a step */
        movl %edx, %ecx
        shrl $2, %ecx
1:      rep movsl
        movl %edx, %ecx
        andl $3, %ecx
2:      rep movsb
        xorl %eax, %eax
        popl %edi
        popl %esi
        ret
3:      movl $-EFAULT, %eax
        popl %edi
        popl %esi
        ret
        EXTABLE 1b, 3b
        EXTABLE 2b, 3b

/* long raw_cmpxchg_user32(uint32_t *uaddr, uint32_t *old, uint32_t new):
 * lock cmpxchg of the user word; *old = the value found; 0 or -EFAULT */
        .globl raw_cmpxchg_user32
raw_cmpxchg_user32:
        pushl %ebx
        movl 8(%esp), %ecx              /* uaddr */
        movl 12(%esp), %ebx             /* old */
        movl 16(%esp), %edx             /* new */
        movl (%ebx), %eax
30:     lock cmpxchgl %edx, (%ecx)
        movl %eax, (%ebx)
        xorl %eax, %eax
        popl %ebx
        ret
31:     movl $-EFAULT, %eax
        popl %ebx
        ret
        EXTABLE 30b, 31b

/* long raw_get_user32(uint32_t *dst, const void *usrc): one aligned or
 * unaligned word, 0 or -EFAULT (the sixth argument of every sysenter
 * system call: raw_copy_user's set-up would cost more than the load) */
        .globl raw_get_user32
raw_get_user32:
        movl 8(%esp), %ecx
20:     movl (%ecx), %eax
        movl 4(%esp), %ecx
        movl %eax, (%ecx)
        xorl %eax, %eax
        ret
21:     movl $-EFAULT, %eax
        ret
        EXTABLE 20b, 21b

/* long raw_strncpy_user(char *dst, const void *usrc, size_t max): the
 * length copied (without the NUL, which is copied if met), or -EFAULT */
        .globl raw_strncpy_user
raw_strncpy_user:
        pushl %esi
        pushl %edi
        pushl %ebx
        movl 16(%esp), %edi
        movl 20(%esp), %esi
        movl 24(%esp), %edx
        xorl %eax, %eax
4:      cmpl %edx, %eax
        je 6f
5:      movb (%esi,%eax), %cl
        movb %cl, (%edi,%eax)
        testb %cl, %cl
        je 6f
        incl %eax
        jmp 4b
6:      popl %ebx
        popl %edi
        popl %esi
        ret
7:      movl $-EFAULT, %eax
        jmp 6b
        EXTABLE 5b, 7b

/* long raw_clear_user(void *udst, size_t n): 0 or -EFAULT */
        .globl raw_clear_user
raw_clear_user:
        pushl %edi
        movl 8(%esp), %edi
        movl 12(%esp), %edx
        cld
        movl %edx, %ecx
        shrl $2, %ecx
        xorl %eax, %eax
8:      rep stosl
        movl %edx, %ecx
        andl $3, %ecx
9:      rep stosb
        popl %edi
        ret
10:     movl $-EFAULT, %eax
        popl %edi
        ret
        EXTABLE 8b, 10b
        EXTABLE 9b, 10b
