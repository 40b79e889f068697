/*
 * vdso.h - the vDSO and its [vvar] page (kernel/proc/vdso.c).
 *
 * Where the architecture has one (machine/vdso.h MACHINE_VDSO), every
 * program exec starts gets two areas, placed as mmap places (top-down under
 * the stack, as Linux's): [vvar], two read-only pages the kernel keeps
 * current (mercator/vdso_data.h: the clock page, then the time-namespace
 * slot), and just above it [vdso], the image, read and execute;
 * AT_SYSINFO_EHDR points at the image. fork copies both as any area (the
 * vvar pages are shared, the image read-only), except that a child
 * entering a time namespace gets that namespace's [vvar] object instead.
 */
#ifndef PROC_VDSO_H
#define PROC_VDSO_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <mercator/vdso_data.h>

struct vm_object;
struct vm_space;

/* At boot, before the first process: the [vvar] page and the image's
 * object, both kept for the kernel's lifetime. Panics without memory. */
void vdso_init(void);

/* Map [vvar] and [vdso] into sp; *ehdr: the image's address (0 if the
 * architecture has no vDSO). vvar_ns: a time namespace's [vvar] object
 * (vdso_ns_create), or NULL for the initial namespace's.
 * => VM_ENOMEM (nothing left mapped by it). */
vm_status_t vdso_map(struct vm_space *sp, struct vm_object *vvar_ns,
                     vaddr_t *ehdr);

/*
 * A time namespace's [vvar] object (Linux's timens page): page 0 says
 * VDSO_MODE_TIMENS with the namespace's offsets, page 1 is a copy of the
 * clock page that vdso_publish keeps current. *out: the object (the
 * caller's reference), NULL without a vDSO. => VM_ENOMEM.
 */
vm_status_t vdso_ns_create(int64_t mono_ns, int64_t boot_ns,
                           struct vm_object **out);
/* The namespace is gone: publish no more into it, drop the reference. */
void vdso_ns_destroy(struct vm_object *obj);

/* Map vvar_ns (NULL: the initial [vvar]) in place of sp's [vvar], if that
 * is still where exec put it (fork into a namespace, setns).
 * => VM_ENOMEM (sp unchanged). */
vm_status_t vdso_vvar_switch(struct vm_space *sp, struct vm_object *vvar_ns);

/* The offset in the image of its dynamic symbol `name` (e.g.
 * "__vdso_rt_sigreturn"), found in the image's ELF tables; 0 if there is
 * none (or no vDSO). */
uint64_t vdso_symbol(const char *name);

/* Publish the clock again after it changed (the wall clock was set, the
 * timezone changed). Cheap; a no-op without a vDSO. */
void vdso_publish(void);

/* Each tick of the CPU that keeps time: the clock page's anchor moves to
 * now (mercator/vdso_data.h), where the architecture's vDSO reads it
 * (MACHINE_VDSO_ANCHOR); else nothing. Interrupt context; never waits. */
void vdso_tick(void);

/* gettimeofday's timezone, kept here so that the vDSO can answer too. */
void vdso_set_timezone(int32_t minuteswest, int32_t dsttime);

/* The architecture's clock parameters (mode, counter base, mult). */
void machine_vdso_clock(struct vdso_data *d);

/* Where machine/vdso.h sets MACHINE_VDSO_ANCHOR: the counter
 * machine_vdso_clock's mode names, read now. */
uint64_t machine_vdso_counter(void);

#endif
