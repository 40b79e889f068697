/*
 * types.h (i386) - the widths of the machine's addresses.
 *
 * Virtual addresses are 32 bits. Physical addresses are kept in 64 bits
 * even without PAE, so that the same descriptors and memory map serve the
 * PAE build, whose entries reach RAM above 4 GiB.
 */
#ifndef MACHINE_TYPES_H
#define MACHINE_TYPES_H

#include <stdint.h>

typedef uintptr_t vaddr_t;      /* a virtual address (32 bits) */
typedef uint64_t  paddr_t;      /* a physical address */

#endif
