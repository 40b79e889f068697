/*
 * vdso.h (riscv64) - no vDSO yet (issue 17 leaves __vdso_rt_sigreturn and
 * the clocks for the port): exec puts no AT_SYSINFO_EHDR in the auxv.
 */
#ifndef MACHINE_VDSO_H
#define MACHINE_VDSO_H

#define MACHINE_VDSO    0

#endif
