/*
 * sigaction.h (x86-64) - struct sigaction as rt_sigaction copies it on
 * x86-64: handler, flags, sa_restorer (where the handler returns, with
 * SA_RESTORER; C libraries always give one), mask.
 */
#ifndef MACHINE_SIGACTION_H
#define MACHINE_SIGACTION_H

#include <proc/signal.h>

struct linux_sigaction {
        uint64_t  handler;
        uint64_t  flags;
        uint64_t  restorer;
        ksigset_t mask;
};

static inline void sigaction_from_linux(struct k_sigaction *k,
                                        const struct linux_sigaction *l)
{
        *k = (struct k_sigaction){ .handler = l->handler, .flags = l->flags,
                                   .restorer = l->restorer, .mask = l->mask };
}

static inline void sigaction_to_linux(struct linux_sigaction *l,
                                      const struct k_sigaction *k)
{
        *l = (struct linux_sigaction){ .handler = k->handler,
                                       .flags = k->flags,
                                       .restorer = k->restorer,
                                       .mask = k->mask };
}

#endif
