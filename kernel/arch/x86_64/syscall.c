/*
 * syscall.c (x86-64) - from syscall_entry's frame to the system-call table,
 * and the calls that are about this architecture's registers.
 */
#include <mercator/errno.h>
#include <mercator/uaccess.h>
#include <machine/intr.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include "cpu.h"
#include "serial.h"
#include "trap.h"

/*
 * Linux's ABI: number in %rax, arguments in rdi rsi rdx r10 r8 r9.
 * A call that needs no lock (syscall_lock_of) goes back without it when
 * the way out has nothing to do (a reschedule it does itself:
 * sched_return_nolock), as trap_dispatch's lock-free faults do:
 * the look at the thread's state is made with interrupts off, so a
 * signal or a reschedule asked meanwhile comes with an IPI that stays
 * pending until sysret and is taken in user mode. If a fault of one of
 * its user copies took the lock (oom_kernel_fault), it leaves the locked
 * way.
 */
void syscall_dispatch(struct trap_frame *tf)
{
        enum syscall_lock how = syscall_lock_of(tf->rax);
        long args[6] = { (long)tf->rdi, (long)tf->rsi, (long)tf->rdx,
                         (long)tf->r10, (long)tf->r8, (long)tf->r9 };

        current->md.syscall_nr = tf->rax;
        current->md.in_syscall = true;
        if (how == SYSCALL_NO_LOCK) {
                tf->rax = (uint64_t)syscall_invoke(tf->rax, args);
                unsigned long s = intr_save();

                if (sched_return_nolock()) {
                        current->md.in_syscall = false;
                        return;                 /* interrupts off to sysret */
                }
                intr_restore(s);
                machine_kernel_lock_rest_of_call();
        } else {
                if (how == SYSCALL_ENTERS)
                        machine_kernel_lock();
                else
                        machine_kernel_lock_outside();
                tf->rax = (uint64_t)syscall_invoke(tf->rax, args);
        }
        serial_rx_arm();        /* before: its input may signal or wake */
        proc_return_to_user();
        current->md.in_syscall = false;
        (void)intr_save();      /* off to sysret (machine_kick_running) */
        machine_kernel_unlock();
}

#define ARCH_SET_GS     0x1001
#define ARCH_SET_FS     0x1002
#define ARCH_GET_FS     0x1003
#define ARCH_GET_GS     0x1004

/* arch_prctl: the FS base (musl's thread pointer). GS is not offered. */
long sys_arch_prctl(long code, long addr, long a2, long a3, long a4, long a5)
{
        switch (code) {
        case ARCH_SET_FS:
                if ((uint64_t)addr >= USER_MAX + PAGE_SIZE)
                        return -EPERM;          /* as Linux: not a user address */
                current->md.fs_base = (uint64_t)addr;
                wrmsr(MSR_FS_BASE, (uint64_t)addr);
                return 0;
        case ARCH_GET_FS:
                return copy_to_user((uint64_t)addr, &current->md.fs_base, 8);
        default:
                return -EINVAL;
        }
}
