/*
 * memstat.h - a snapshot of every memory counter, to tell whether some
 * piece of work gave back all it took (kernel tests, process exit).
 */
#ifndef MERCATOR_MEMSTAT_H
#define MERCATOR_MEMSTAT_H

#include <vm/vmstat.h>

struct mem_snapshot {
        uint64_t      free_pages;
        uint64_t      huge_in_use;      /* huge pages of the pool in use */
        struct vmstat vm;
};

/* Take a snapshot (after dropping the empty slabs caches keep). */
void mem_snapshot(struct mem_snapshot *s);

/* Print "<who>: leak: <counter> A -> B" for each counter that differs
 * from `before`; the number of such counters. */
unsigned mem_snapshot_compare(const struct mem_snapshot *before,
                              const char *who);

#endif
