/*
 * types.h (riscv64) - the widths of the machine's addresses.
 *
 * vaddr_t is as wide as a pointer; paddr_t as wide as the largest physical
 * address the MMU can map. On riscv64 (and x86-64) both are 64 bits; on i386 with PAE
 * vaddr_t is 32 bits and paddr_t 64, which is why they are two types.
 */
#ifndef MACHINE_TYPES_H
#define MACHINE_TYPES_H

#include <stdint.h>

typedef uintptr_t vaddr_t;      /* a virtual address */
typedef uint64_t  paddr_t;      /* a physical address (Sv39: up to 56 bits) */

#endif
