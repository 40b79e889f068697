/*
 * sys_proc.c - system calls about the process itself, time and the
 * machine: exit, ids, sleeping, clocks, uname, reboot. (The signal calls
 * are in sys_signal.c.)
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <mercator/version.h>
#include <machine/elf.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>

/* The calling thread ends; the process with its last thread. */
SYSCALL_DECL(exit)
{
        proc_exit(wait_status_exited((int)a0));
}

/* Every thread of the process ends. */
SYSCALL_DECL(exit_group)
{
        proc_exit_group(wait_status_exited((int)a0));
}

SYSCALL_DECL(getpid) { return current->pid; }
SYSCALL_DECL(gettid) { return current->tid; }

/* Without the big lock (syscall.c): the word proc_set_parent keeps. */
SYSCALL_DECL(getppid)
{
        return __atomic_load_n(&group_of(current)->ppid, __ATOMIC_RELAXED);
}

/* At the thread's exit, 0 is written at tidptr and a futex waiter there
 * is woken (CLONE_CHILD_CLEARTID's protocol, what pthread_join waits on). */
SYSCALL_DECL(set_tid_address)
{
        current->clear_child_tid = (uint64_t)a0;
        return current->tid;
}

SYSCALL_DECL(sched_yield)
{
        sched_yield();
        return 0;
}

struct linux_utsname { char f[6][65]; };

SYSCALL_DECL(uname)
{
        static const char *const fields[6] = {
                "Linux", "mercator", MERCATOR_RELEASE, "#1 Mercator",
                ELF_PLATFORM, "(none)",         /* machine: as Linux's uname -m */
        };
        struct linux_utsname u;

        /* "Linux" as sysname: programs use it to pick the ABI they speak. */
        memset(&u, 0, sizeof u);
        for (int i = 0; i < 6; i++)
                memcpy(u.f[i], fields[i], strlen(fields[i]));
        return copy_to_user((uint64_t)a0, &u, sizeof u);
}

#define LINUX_REBOOT_MAGIC1     0xfee1deadL
#define LINUX_REBOOT_MAGIC2     672274793L
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcL
#define LINUX_REBOOT_CMD_RESTART   0x01234567L
#define LINUX_REBOOT_CMD_HALT      0xcdef0123L

SYSCALL_DECL(reboot)
{
        if ((uint32_t)a0 != LINUX_REBOOT_MAGIC1 ||
            ((uint32_t)a1 != LINUX_REBOOT_MAGIC2 && (uint32_t)a1 != 85072278 &&
             (uint32_t)a1 != 369367448 && (uint32_t)a1 != 537993216))
                return -EINVAL;
        switch ((uint32_t)a2) {
        case (uint32_t)LINUX_REBOOT_CMD_POWER_OFF:
        case (uint32_t)LINUX_REBOOT_CMD_HALT:
        case (uint32_t)LINUX_REBOOT_CMD_RESTART:
                machine_poweroff(0);
        default:
                return -EINVAL;
        }
}
