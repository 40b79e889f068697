/*
 * vdso.h (riscv64) - this architecture has a vDSO (kernel/arch/riscv64/vdso/,
 * linked into the kernel as vdso_image[]): the clocks from the time CSR and
 * __vdso_rt_sigreturn, where signal handlers return.
 */
#ifndef MACHINE_VDSO_H
#define MACHINE_VDSO_H

#define MACHINE_VDSO    1

#if !defined(VDSO_BUILD) && !defined(__ASSEMBLER__)
#include <mercator/types.h>
extern const uint8_t vdso_image[], vdso_image_end[];
#endif

#endif
