/*
 * entry.S - the i386 vDSO's ways into the kernel (Linux's LINUX_2.5 names):
 *
 * __kernel_vsyscall: AT_SYSINFO, where glibc and musl make every system
 * call (number in eax, arguments in ebx ecx edx esi edi ebp, as for
 * int $0x80). It keeps ecx, edx and ebp on the user stack and enters with
 * sysenter: the CPU saves no user state, so the kernel finds the stack in
 * ebp (which then points at the saved ebp: the sixth argument), and
 * sysexit returns to the landing pad with esp in ecx and eip in edx, both
 * clobbered by that; the pops restore them. A system call the kernel
 * restarts after a signal runs again through the int $0x80 just before
 * the landing pad (with ebp the sixth argument again, as int $0x80 wants).
 * machine/vdso.h states the offsets the kernel relies on.
 *
 * __kernel_sigreturn / __kernel_rt_sigreturn: where a signal handler
 * returns when sigaction gave no SA_RESTORER (the old frame's return
 * first pops the signal number). Each is preceded by a nop, as Linux's,
 * so that an unwinder looking at return address - 1 stays inside.
 */
#include <machine/vdso.h>

#define NR_sigreturn            119
#define NR_rt_sigreturn         173

        .text
        .globl __kernel_vsyscall
        .type __kernel_vsyscall, @function
        .balign 32
__kernel_vsyscall:
        pushl %ecx
        pushl %edx
        pushl %ebp
        movl %esp, %ebp
vsyscall_sysenter:
        sysenter
        int $0x80
vsyscall_landing:
        popl %ebp
        popl %edx
        popl %ecx
        ret
        .size __kernel_vsyscall, . - __kernel_vsyscall

        .if vsyscall_sysenter - __kernel_vsyscall - VDSO_VSYSCALL_SYSENTER
        .error "__kernel_vsyscall: sysenter is not where machine/vdso.h says"
        .endif
        .if vsyscall_landing - __kernel_vsyscall - VDSO_VSYSCALL_LANDING
        .error "__kernel_vsyscall: the landing pad is not where machine/vdso.h says"
        .endif

        .balign 32
        nop
        .globl __kernel_sigreturn
        .type __kernel_sigreturn, @function
__kernel_sigreturn:
        popl %eax                       /* the handler's argument */
        movl $NR_sigreturn, %eax
        int $0x80
        .size __kernel_sigreturn, . - __kernel_sigreturn

        .balign 32
        nop
        .globl __kernel_rt_sigreturn
        .type __kernel_rt_sigreturn, @function
__kernel_rt_sigreturn:
        movl $NR_rt_sigreturn, %eax
        int $0x80
        .size __kernel_rt_sigreturn, . - __kernel_rt_sigreturn

        .section .note.GNU-stack, "", @progbits
