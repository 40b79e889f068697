/*
 * types.h (host) - the widths of the simulated machine's addresses: a
 * pointer-wide vaddr_t and a 64-bit paddr_t, as on the 64-bit formats the
 * host's software MMUs emulate.
 */
#ifndef MACHINE_TYPES_H
#define MACHINE_TYPES_H

#include <stdint.h>

typedef uintptr_t vaddr_t;      /* a virtual address */
typedef uint64_t  paddr_t;      /* a physical address */

#endif
