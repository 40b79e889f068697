/*
 * vmstat.c - the memory counters (see vmstat.h). The status names are in
 * kernel/lib/status.c.
 */
#include <vm/vmstat.h>

struct vmstat vmstat;
