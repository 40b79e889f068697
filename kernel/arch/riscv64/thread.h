/*
 * thread.h (riscv64) - what thread.c offers the port's other files.
 */
#ifndef ARCH_RISCV64_THREAD_H
#define ARCH_RISCV64_THREAD_H

#include <mercator/types.h>

struct proc;

/* Save the live f0-f31 and fcsr into p->md, or load them from it. */
void machine_fpu_save(struct proc *p);
void machine_fpu_restore(struct proc *p);

#endif
