/*
 * vdso.h - the vDSO and its [vvar] page (kernel/proc/vdso.c).
 *
 * Where the architecture has one (machine/vdso.h MACHINE_VDSO), every
 * program exec starts gets two areas, placed as mmap places (top-down under
 * the stack, as Linux's): [vvar], one read-only page the kernel keeps
 * current (mercator/vdso_data.h), and just above it [vdso], the image, read
 * and execute; AT_SYSINFO_EHDR points at the image. fork copies both as any
 * area (the vvar page is shared, the image read-only).
 */
#ifndef PROC_VDSO_H
#define PROC_VDSO_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <mercator/vdso_data.h>

struct vm_space;

/* At boot, before the first process: the [vvar] page and the image's
 * object, both kept for the kernel's lifetime. Panics without memory. */
void vdso_init(void);

/* Map [vvar] and [vdso] into sp; *ehdr: the image's address (0 if the
 * architecture has no vDSO). => VM_ENOMEM (nothing left mapped by it). */
vm_status_t vdso_map(struct vm_space *sp, vaddr_t *ehdr);

/* The offset in the image of its dynamic symbol `name` (e.g.
 * "__vdso_rt_sigreturn"), found in the image's ELF tables; 0 if there is
 * none (or no vDSO). */
uint64_t vdso_symbol(const char *name);

/* Publish the clock again after it changed (the wall clock was set, the
 * timezone changed). Cheap; a no-op without a vDSO. */
void vdso_publish(void);

/* gettimeofday's timezone, kept here so that the vDSO can answer too. */
void vdso_set_timezone(int32_t minuteswest, int32_t dsttime);

/* The architecture's clock parameters (mode, counter base, mult). */
void machine_vdso_clock(struct vdso_data *d);

#endif
