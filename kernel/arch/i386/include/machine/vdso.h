/*
 * vdso.h (i386) - this architecture has a vDSO (kernel/arch/i386/vdso/,
 * linked into the kernel as vdso_image[]): the clocks from the TSC,
 * __kernel_vsyscall (the sysenter way into the kernel, AT_SYSINFO) and the
 * two signal-return trampolines; what the kernel and the vDSO agree on
 * besides the [vvar] page (mercator/vdso_data.h).
 */
#ifndef MACHINE_VDSO_H
#define MACHINE_VDSO_H

#define MACHINE_VDSO    1

/* The kernel moves the clock page's anchor every tick (vdso_data.h,
 * proc/vdso.c vdso_tick), and vdso/clock.S's clock_gettime64 reads the
 * two clocks programs ask for from it with one 32-bit multiply: a 32-bit
 * CPU has no cheap 64-by-64-bit multiply or division by 10^9. */
#define MACHINE_VDSO_ANCHOR 1

/*
 * __kernel_vsyscall, byte by byte (vdso/entry.S checks it as it assembles):
 *   +0 push %ecx  +1 push %edx  +2 push %ebp  +3 mov %esp,%ebp
 *   +5 sysenter   +7 int $0x80  +9 pop %ebp (the landing pad) ... ret
 * sysexit returns to the landing pad; a system call restarted after a
 * signal goes back two bytes, onto the int $0x80, as from any int $0x80.
 */
#define VDSO_VSYSCALL_SYSENTER  5
#define VDSO_VSYSCALL_LANDING   9

#if !defined(VDSO_BUILD) && !defined(__ASSEMBLER__)
#include <mercator/types.h>
#include <machine/highmem.h>
extern const uint8_t vdso_image[], vdso_image_end[];

/* The [vvar] page may come from HIGHMEM: the kernel keeps it in the
 * persistent kmap window (one slot of 1024 for the kernel's lifetime). */
#define vdso_vvar_kva(pa)       kmap(pa)

/* exec's AT_SYSINFO: __kernel_vsyscall in the image at ehdr, or 0 where
 * the CPU has no sysenter (then the C library uses int $0x80 itself). */
#define MACHINE_VDSO_AT_SYSINFO 1
vaddr_t machine_vdso_sysinfo(vaddr_t ehdr);
#endif

#endif
