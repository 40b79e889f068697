/*
 * sigaction.h (i386) - struct sigaction as rt_sigaction copies it on i386:
 * handler, flags, sa_restorer (the handler's return address with
 * SA_RESTORER, which glibc always gives), then the 64-bit mask at offset
 * 12 (four-byte aligned, as every 64-bit field of the i386 ABI).
 */
#ifndef MACHINE_SIGACTION_H
#define MACHINE_SIGACTION_H

#include <proc/signal.h>

struct linux_sigaction {
        uint32_t  handler;
        uint32_t  flags;
        uint32_t  restorer;
        ksigset_t mask;
} __attribute__((packed, aligned(4)));
_Static_assert(sizeof(struct linux_sigaction) == 20, "i386 struct sigaction");

static inline void sigaction_from_linux(struct k_sigaction *k,
                                        const struct linux_sigaction *l)
{
        *k = (struct k_sigaction){ .handler = l->handler, .flags = l->flags,
                                   .restorer = l->restorer, .mask = l->mask };
}

static inline void sigaction_to_linux(struct linux_sigaction *l,
                                      const struct k_sigaction *k)
{
        *l = (struct linux_sigaction){ .handler = (uint32_t)k->handler,
                                       .flags = (uint32_t)k->flags,
                                       .restorer = (uint32_t)k->restorer,
                                       .mask = k->mask };
}

#endif
