/*
 * vdso.h (x86-64) - this architecture has a vDSO (kernel/arch/x86_64/vdso/,
 * linked into the kernel as vdso_image[]); what the kernel and the vDSO
 * agree on besides the [vvar] page (mercator/vdso_data.h).
 */
#ifndef MACHINE_VDSO_H
#define MACHINE_VDSO_H

#define MACHINE_VDSO    1

/*
 * getcpu: the GDT entry whose segment limit is (node << 12) | cpu, read in
 * user mode with LSL through this selector (RPL 3), as Linux's vgetcpu.
 * One entry per CPU's GDT once there are several.
 */
#define VDSO_GDT_CPUNODE        8
#define VDSO_SEL_CPUNODE        (VDSO_GDT_CPUNODE * 8 + 3)

#if !defined(VDSO_BUILD) && !defined(__ASSEMBLER__)
#include <mercator/types.h>
extern const uint8_t vdso_image[], vdso_image_end[];
#endif

#endif
