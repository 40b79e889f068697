/*
 * trap.S (i386) - the interrupt vectors: each pushes an error code (the
 * CPU's, or 0) and its number, then trap_common saves the registers in a
 * struct trap_frame and calls trap_dispatch(frame). Vector 0x80 is the
 * system call (int $0x80, callable from ring 3). A trap from user mode
 * lands at the top of the process's kernel stack (the TSS's esp0), so its
 * frame is the process's user registers; trap_return leaves through one.
 */
#define SEL_KDATA       0x68
#define SEL_UCODE       0x73
#define SEL_UDATA       0x7b

        .macro VEC_NOERR n
        .globl vector\n
vector\n:
        pushl $0
        pushl $\n
        jmp trap_common
        .endm
        .macro VEC_ERR n
        .globl vector\n
vector\n:
        pushl $\n
        jmp trap_common
        .endm

        .text
        VEC_NOERR 0
        VEC_NOERR 1
        VEC_NOERR 2
        VEC_NOERR 3
        VEC_NOERR 4
        VEC_NOERR 5
        VEC_NOERR 6
        VEC_NOERR 7
        VEC_ERR   8
        VEC_NOERR 9
        VEC_ERR   10
        VEC_ERR   11
        VEC_ERR   12
        VEC_ERR   13
        VEC_ERR   14
        VEC_NOERR 15
        VEC_NOERR 16
        VEC_ERR   17
        VEC_NOERR 18
        VEC_NOERR 19
        VEC_NOERR 20
        VEC_ERR   21
        .irp n, 22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        VEC_NOERR \n
        .endr
        VEC_NOERR 128

trap_common:
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        movl $SEL_KDATA, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %esp, %eax
        pushl %eax
        call trap_dispatch
        addl $4, %esp
trap_exit:
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp                   /* vector and error code */
        iretl

/*
 * The sysenter entry (IA32_SYSENTER_EIP), reached from the vDSO's
 * __kernel_vsyscall with interrupts off, in ring 0 with the flat kernel
 * segments, and nothing else saved: esp is IA32_SYSENTER_ESP, the top of
 * a small per-CPU entry stack whose top word holds this thread's kernel
 * stack top (as the TSS's esp0; so one load switches, with no MSR write
 * per context switch, as Linux's entry stack does); the user's stack
 * pointer is in ebp. It builds the same trap frame int $0x80
 * does (vector 0x80, cs/ss the user's, eip left for sysenter_dispatch to
 * point at the vDSO's landing pad), so signals, restarts, fork and ptrace
 * see no difference. Kernel flags: TF, NT, DF and AC cleared (popfl);
 * sysenter does not clear TF, so a user's single step traps on each of
 * the instructions before that popfl (the first on the entry stack):
 * trap_dispatch ignores those, and the user's TF, in the frame, makes the
 * return go by iret.
 * sysenter_dispatch says whether the frame can still leave by sysexit
 * (eip the landing pad, no TF/RF/VM/NT): then edx = eip and ecx = esp,
 * which the landing pad's pops restore; else through iret, as any trap.
 *
 * Segment registers: a load costs about 30 ns under TCG (the descriptor
 * is read from the GDT and checked), six of them half a getppid. The fast
 * path loads none in the usual case: with the user's ds and es the flat
 * user data segment, the kernel runs on it (as Linux's i386 kernel runs
 * on __USER_DS), and on the way out each segment register is loaded from
 * the frame only if it holds another selector now (another thread's
 * entry may have changed it), or, for fs and gs, if the GDT's TLS
 * entries were rewritten since the last reload (gdt_set_tls sets
 * tls_segs_stale: a context switch or set_thread_area), since a selector
 * keeps the descriptor it was loaded with.
 */
#define EFLAGS_IF       0x200

        .globl sysenter_entry, sysenter_entry_end
sysenter_entry:
        movl (%esp), %esp               /* the thread's kernel stack */
        pushl $SEL_UDATA                /* ss */
        pushl %ebp                      /* esp: __kernel_vsyscall's */
        pushfl
        orl $EFLAGS_IF, (%esp)          /* user mode runs with IF set */
        pushl $SEL_UCODE                /* cs */
        pushl $0                        /* eip: sysenter_dispatch's */
        pushl $0                        /* error code */
        pushl $0x80                     /* vector: a system call */
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        pushl $0x2
        popfl
        movl $SEL_KDATA, %ecx
sysenter_entry_end:
        movw %ds, %dx
        cmpw $SEL_UDATA, %dx
        jne 1f
        movw %es, %dx
        cmpw $SEL_UDATA, %dx
        je 2f
1:      movl %ecx, %ds
        movl %ecx, %es
2:      pushl %esp
        call sysenter_dispatch
        addl $4, %esp
        testl %eax, %eax
        jz trap_exit
        /* the frame: gs, fs, es, ds at 0, 4, 8, 12(%esp) */
        cmpl $0, tls_segs_stale
        jne 3f
        movw %gs, %ax
        cmpw (%esp), %ax
        jne 3f
        movw %fs, %ax
        cmpw 4(%esp), %ax
        je 4f
3:      movl $0, tls_segs_stale
        movw (%esp), %gs
        movw 4(%esp), %fs
4:      movw %es, %ax
        cmpw 8(%esp), %ax
        je 5f
        movw 8(%esp), %es
5:      movw %ds, %ax
        cmpw 12(%esp), %ax
        je 6f
        movw 12(%esp), %ds
6:      addl $16, %esp
        popal
        movl 8(%esp), %edx              /* eip */
        movl 20(%esp), %ecx             /* esp */
        addl $16, %esp                  /* vector, error, eip, cs */
        andl $~EFLAGS_IF, (%esp)
        popfl                           /* the user's flags, IF still off */
        sti                             /* takes effect after sysexit */
        sysexit

/* void trap_return(struct trap_frame *tf): leave through tf (a new
 * process's first entry to user mode). */
        .globl trap_return
trap_return:
        movl 4(%esp), %esp
        jmp trap_exit

/* void swtch(void **save_sp, void *new_sp): save the callee-saved
 * registers on this stack, its pointer in *save_sp, and resume the
 * context whose stack is new_sp. */
        .globl swtch
swtch:
        movl 4(%esp), %eax
        movl 8(%esp), %edx
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        movl %esp, (%eax)
        movl %edx, %esp
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret

        .section .rodata
        .balign 4
        .globl trap_vector_syscall
trap_vector_syscall:
        .long vector128
        .globl trap_vectors
trap_vectors:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
        .long vector\n
        .endr
        .irp n, 24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        .long vector\n
        .endr

/*
 * int probe_read_asm(vaddr_t va), probe_write_asm(vaddr_t va): touch one
 * word; 0 if it worked, 1 if it faulted (the page-fault handler finds the
 * instruction in the exception table and resumes at the fixup).
 */
        .text
        .globl probe_read_asm, probe_write_asm
probe_read_asm:
        movl 4(%esp), %ecx
        xorl %eax, %eax
1:      movl (%ecx), %edx
        ret
probe_write_asm:
        movl 4(%esp), %ecx
        xorl %eax, %eax
2:      lock orl $0, (%ecx)             /* writes the same value back */
        ret
3:      movl $1, %eax
        ret
        .section .extable, "a"
        .long 1b, 3b
        .long 2b, 3b

/* void machine_call_on_stack(void *top, void (*fn)(void *), void *arg):
 * run fn(arg) with %esp at top, then come back to the caller's stack. */
        .text
        .globl machine_call_on_stack
machine_call_on_stack:
        pushl %ebp
        movl %esp, %ebp
        movl 8(%ebp), %eax              /* top */
        movl 12(%ebp), %ecx             /* fn */
        movl 16(%ebp), %edx             /* arg */
        movl %eax, %esp
        pushl %edx
        call *%ecx
        movl %ebp, %esp
        popl %ebp
        ret
