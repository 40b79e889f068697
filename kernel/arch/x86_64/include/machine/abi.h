/*
 * abi.h (x86-64) - facts of the Linux system-call ABI that differ between
 * architectures and are not a layout (those are abi_stat.h, sigaction.h,
 * linux_ipc.h) or the table (syscalls.h).
 */
#ifndef MACHINE_ABI_H
#define MACHINE_ABI_H

/* clone's arguments: (flags, newsp, parent_tid, child_tid, tls) on
 * x86-64; Linux's CONFIG_CLONE_BACKWARDS architectures swap the last two. */
#define ABI_CLONE_BACKWARDS     0

#endif
