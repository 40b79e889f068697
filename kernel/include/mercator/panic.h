/*
 * panic.h - stopping on a kernel bug.
 *
 * panic() is for kernel bugs only: never for anything a user program or a
 * boot-time memory map can cause. In the host build it calls a hook that a
 * test may set to catch an expected panic (see tests/host/check.h).
 */
#ifndef MERCATOR_PANIC_H
#define MERCATOR_PANIC_H

#include <mercator/types.h>

/*
 * Print "PANIC: " and the formatted message (cut at 255 bytes) whatever
 * the console level, a backtrace (unless panic_no_backtrace, or a fault
 * while printing one), and power the machine off with a failure status;
 * the host build calls the test hook, else aborts. Never returns.
 */
__attribute__((noreturn, format(printf, 1, 2)))
void panic(const char *fmt, ...);

/* Set before panic() when the caller has printed a backtrace already. */
extern bool panic_no_backtrace;

#define ASSERT(cond) do {                                               \
        if (unlikely(!(cond)))                                          \
                panic("assertion failed: %s at %s:%d", #cond,           \
                      __FILE__, __LINE__);                              \
} while (0)

#endif
