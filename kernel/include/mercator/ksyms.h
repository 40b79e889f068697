/*
 * ksyms.h - the kernel's own function names, for backtraces.
 *
 * tools/ksyms.py writes the table from a first link of the kernel; the
 * final link adds it after all code, so no function moves (the build
 * checks that).
 */
#ifndef MERCATOR_KSYMS_H
#define MERCATOR_KSYMS_H

#include <mercator/types.h>

/* The function containing addr and addr's offset in it, or "?". */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#endif
