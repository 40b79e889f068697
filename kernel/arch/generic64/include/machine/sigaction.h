/*
 * sigaction.h (generic64) - struct sigaction as rt_sigaction copies it on
 * an architecture without SA_RESTORER (asm-generic/signal.h: riscv64's):
 * handler, flags, mask. The handler returns through a kernel-supplied
 * path instead (riscv64: SIGCODE). x86-64's has sa_restorer before the
 * mask (its own machine/sigaction.h, found first).
 */
#ifndef MACHINE_SIGACTION_H
#define MACHINE_SIGACTION_H

#include <proc/signal.h>

struct linux_sigaction {
        uint64_t  handler;
        uint64_t  flags;
        ksigset_t mask;
};

static inline void sigaction_from_linux(struct k_sigaction *k,
                                        const struct linux_sigaction *l)
{
        *k = (struct k_sigaction){ .handler = l->handler, .flags = l->flags,
                                   .mask = l->mask };
}

static inline void sigaction_to_linux(struct linux_sigaction *l,
                                      const struct k_sigaction *k)
{
        *l = (struct linux_sigaction){ .handler = k->handler,
                                       .flags = k->flags, .mask = k->mask };
}

#endif
