/*
 * abi.h (i386) - facts of the i386 Linux system-call ABI that differ
 * between architectures and are not a layout (abi_stat.h, sigaction.h,
 * linux_ipc.h) or the table (syscalls.h).
 */
#ifndef MACHINE_ABI_H
#define MACHINE_ABI_H

/* clone's arguments on i386: (flags, newsp, parent_tid, tls, child_tid),
 * Linux's CONFIG_CLONE_BACKWARDS order; tls is the address of a struct
 * user_desc (set_thread_area's), not a base. */
#define ABI_CLONE_BACKWARDS     1

/* The kernel's long is 32 bits: handlers get their arguments in 64
 * (proc/syscall.h's sysarg_t), zero-extended unless narrowed as int. */
#define ABI_SYSARG_64           1

#endif
