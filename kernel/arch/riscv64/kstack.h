/* kstack.h (riscv64) - guarded kernel stacks for user contexts (kstack.c). */
#ifndef ARCH_RISCV64_KSTACK_H
#define ARCH_RISCV64_KSTACK_H

#include <mercator/types.h>

/*
 * A KSTACK_SIZE stack with an unmapped page below it.
 * => its lowest address (the top is that + KSTACK_SIZE), or NULL when
 *    memory or the 64 slots ran out (nothing left allocated).
 */
void *rv_kstack_alloc(void);

/* Free a stack from rv_kstack_alloc(); NULL is ignored. */
void rv_kstack_free(void *bottom);

#endif
