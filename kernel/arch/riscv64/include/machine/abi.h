/*
 * abi.h (riscv64) - facts of the Linux system-call ABI that differ between
 * architectures and are not a layout (abi_stat.h, sigaction.h,
 * linux_ipc.h) or the table (syscalls.h).
 */
#ifndef MACHINE_ABI_H
#define MACHINE_ABI_H

/* clone's arguments on riscv64: (flags, newsp, parent_tid, tls,
 * child_tid), Linux's CONFIG_CLONE_BACKWARDS order (glibc's riscv clone.S
 * passes them so); x86-64 has child_tid before tls. */
#define ABI_CLONE_BACKWARDS     1

#endif
