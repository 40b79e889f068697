/*
 * tls.c (i386) - set_thread_area and get_thread_area: the three GDT
 * entries (6, 7, 8) a thread may fill with its own data segments. glibc
 * asks for "any free entry" (-1) at start-up, gets 6, and loads %gs with
 * selector 6 << 3 | 3 = 0x33; its thread pointer is that segment's base.
 *
 * Descriptors follow Linux's rules (arch/x86/kernel/tls.c): only 32-bit,
 * present data segments (contents 0 or 1); an all-zero or "empty"
 * user_desc clears the entry. The accessed bit is set from the start, so
 * the CPU never writes the GDT on a load.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include "trap.h"
#include "tls.h"

/* Linux's LDT_empty and LDT_zero: the two ways to ask for a clear entry. */
static bool desc_clear(const struct user_desc *d)
{
        bool zero = !d->base_addr && !d->limit && !d->contents &&
                    !d->read_exec_only && !d->seg_32bit &&
                    !d->limit_in_pages && !d->seg_not_present && !d->useable;
        bool empty = !d->base_addr && !d->limit && !d->contents &&
                     d->read_exec_only && !d->seg_32bit &&
                     !d->limit_in_pages && d->seg_not_present && !d->useable;

        return zero || empty;
}

static uint64_t desc_encode(const struct user_desc *d)
{
        uint32_t base = d->base_addr, limit = d->limit;
        uint32_t access = 0x01 |                        /* accessed */
                          (uint32_t)(d->read_exec_only ^ 1) << 1 |
                          (uint32_t)d->contents << 2 |
                          0x10 |                        /* code/data */
                          3u << 5 |                     /* DPL 3 */
                          (uint32_t)(d->seg_not_present ^ 1) << 7;
        uint32_t flags = (uint32_t)d->useable |         /* AVL */
                         (uint32_t)d->seg_32bit << 2 |  /* D/B */
                         (uint32_t)d->limit_in_pages << 3;
        uint32_t lo = (limit & 0xffff) | (base & 0xffff) << 16;
        uint32_t hi = ((base >> 16) & 0xff) | access << 8 |
                      (limit & 0xf0000) | flags << 20 | (base & 0xff000000);

        return (uint64_t)hi << 32 | lo;
}

void tls_desc_read(const uint64_t tls[3], unsigned n, struct user_desc *d)
{
        uint64_t v = tls[n - GDT_ENTRY_TLS_MIN];
        uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
        uint32_t access = (hi >> 8) & 0xff, flags = (hi >> 20) & 0xf;

        memset(d, 0, sizeof *d);
        d->entry_number = n;
        if (!v) {                       /* Linux reports a clear entry so */
                d->read_exec_only = 1;
                d->seg_not_present = 1;
                return;
        }
        d->base_addr = (lo >> 16) | (hi & 0xff) << 16 | (hi & 0xff000000);
        d->limit = (lo & 0xffff) | (hi & 0xf0000);
        d->read_exec_only = !((access >> 1) & 1);
        d->contents = (access >> 2) & 3;
        d->seg_not_present = !(access >> 7);
        d->useable = flags & 1;
        d->seg_32bit = (flags >> 2) & 1;
        d->limit_in_pages = (flags >> 3) & 1;
}

int tls_desc_install(uint64_t tls[3], struct user_desc *d, bool pick)
{
        unsigned n = d->entry_number;

        if (n == ~0u && pick) {
                for (n = 0; n < GDT_ENTRY_TLS_ENTRIES && tls[n]; n++)
                        ;
                if (n == GDT_ENTRY_TLS_ENTRIES)
                        return -ESRCH;
                n += GDT_ENTRY_TLS_MIN;
                d->entry_number = n;
        }
        if (n < GDT_ENTRY_TLS_MIN ||
            n >= GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES)
                return -EINVAL;
        if (desc_clear(d)) {
                tls[n - GDT_ENTRY_TLS_MIN] = 0;
                return 0;
        }
        if (!d->seg_32bit || d->contents > 1 || d->seg_not_present)
                return -EINVAL;
        tls[n - GDT_ENTRY_TLS_MIN] = desc_encode(d);
        return 0;
}

/* set_thread_area(struct user_desc *u) */
SYSCALL_DECL(i386_set_thread_area)
{
        struct user_desc d;
        int err;

        if (copy_from_user(&d, (uint64_t)(uint32_t)a0, sizeof d))
                return -EFAULT;
        bool pick = d.entry_number == ~0u;
        if ((err = tls_desc_install(current->md.tls, &d, true)) != 0)
                return err;
        /* with -1, the entry chosen goes back to the caller */
        if (pick && copy_to_user((uint64_t)(uint32_t)a0, &d.entry_number,
                                 sizeof d.entry_number))
                return -EFAULT;
        gdt_set_tls(current->md.tls);
        return 0;
}

/* get_thread_area(struct user_desc *u): u->entry_number says which. */
SYSCALL_DECL(i386_get_thread_area)
{
        struct user_desc d;
        uint32_t n;

        if (copy_from_user(&n, (uint64_t)(uint32_t)a0, sizeof n))
                return -EFAULT;
        if (n < GDT_ENTRY_TLS_MIN ||
            n >= GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES)
                return -EINVAL;
        tls_desc_read(current->md.tls, n, &d);
        return copy_to_user((uint64_t)(uint32_t)a0, &d, sizeof d) ? -EFAULT : 0;
}
