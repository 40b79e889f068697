/*
 * tls.h (i386) - set_thread_area's descriptors (arch/i386/tls.c).
 */
#ifndef ARCH_I386_TLS_H
#define ARCH_I386_TLS_H

#include <mercator/types.h>

/* Linux's struct user_desc (asm/ldt.h): 16 bytes. */
struct user_desc {
        uint32_t entry_number;
        uint32_t base_addr;
        uint32_t limit;
        uint32_t seg_32bit:1;
        uint32_t contents:2;
        uint32_t read_exec_only:1;
        uint32_t limit_in_pages:1;
        uint32_t seg_not_present:1;
        uint32_t useable:1;
        uint32_t pad:25;
};
_Static_assert(sizeof(struct user_desc) == 16, "struct user_desc");

/*
 * Put d into tls (a thread's three descriptors, GDT entries 6-8): entry
 * d->entry_number, or with -1 the first free one if pick is true (its
 * number written back into d). An "empty" d clears the entry.
 * => 0; -EINVAL for an entry outside 6-8, a descriptor Linux refuses
 *    (not 32-bit, code or not present), or -ESRCH when no entry is free.
 */
int tls_desc_install(uint64_t tls[3], struct user_desc *d, bool pick);

/* The user_desc of GDT entry n (6-8) of tls, for get_thread_area. */
void tls_desc_read(const uint64_t tls[3], unsigned n, struct user_desc *d);

#endif
