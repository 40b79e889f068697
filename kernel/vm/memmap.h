/*
 * memmap.h - the physical memory map handed over at boot, made safe to use.
 *
 * Firmware maps may be unsorted, overlapping, zero-length, unaligned or
 * even wrap around the address space. memmap_sanitize() turns any such list
 * into sorted, disjoint ranges; where entries overlap, the more restrictive
 * type wins, so RAM claimed by anything else is never handed out.
 */
#ifndef VM_MEMMAP_H
#define VM_MEMMAP_H

#include <mercator/types.h>

/* Range types, numbered as in the E820 / PVH memory map. */
enum mem_type {
        MEM_USABLE = 1,
        MEM_RESERVED = 2,
        MEM_ACPI_RECLAIM = 3,
        MEM_ACPI_NVS = 4,
        MEM_BAD = 5,
};

struct mem_range {
        paddr_t  base;
        uint64_t len;
        uint32_t type;          /* enum mem_type; unknown values are reserved */
};

#define MEMMAP_MAX      128

/*
 * Sanitize in[0..nin) into out[0..max_out): sorted by base, no overlaps,
 * adjacent ranges of the same type merged, zero-length entries dropped,
 * entries running past 2^64 clipped, unknown types treated as reserved,
 * USABLE ranges shrunk inward to page boundaries.
 * => returns the number of ranges written; if they do not fit, the highest
 *    ranges are dropped (memory lost, never memory invented).
 */
unsigned memmap_sanitize(const struct mem_range *in, unsigned nin,
                         struct mem_range *out, unsigned max_out);

/* Total bytes of USABLE in a sanitized map, and the end of the highest one. */
uint64_t memmap_usable_bytes(const struct mem_range *m, unsigned n);
paddr_t memmap_usable_end(const struct mem_range *m, unsigned n);

const char *memmap_type_name(uint32_t type);

#endif
