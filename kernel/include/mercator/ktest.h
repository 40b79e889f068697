/*
 * ktest.h - tests that run inside the booted kernel.
 *
 * KTEST(name) { ... } defines one; KCHECK marks it failed and goes on (so
 * guard what follows: `if (!KCHECK(p)) return;`). After every test the
 * runner compares the memory counters with their values before it: any
 * difference is reported as a leak and fails the test.
 *
 * KTEST_DEATH(name, "text") defines a test that must panic with a message
 * containing "text". It runs only when booted with ktest=name; tools/test.py
 * boots once for each (the kernel lists them when booted with `ktest`), with
 * kmalloc's debug checks on (`kmalloc_debug`).
 *
 * Serial protocol, one line each:
 *   ktest: PASS <name> | ktest: FAIL <name>: <why> | ktest: death <name> <text>
 *   ktest: summary <passed> passed, <failed> failed
 */
#ifndef MERCATOR_KTEST_H
#define MERCATOR_KTEST_H

#include <mercator/types.h>

/* Aligned to 8 as each entry in .ktests is, so that the array the linker
 * builds has no gaps on 32-bit machines either. */
struct ktest {
        const char *name;
        void      (*fn)(void);
        const char *death;      /* text the panic must contain, or NULL */
} __attribute__((aligned(8)));

#define KTEST_DEFINE(n, d)                                              \
        static void ktest_fn_##n(void);                                 \
        __attribute__((used, section(".ktests"), aligned(8)))           \
        static const struct ktest ktest_##n = { #n, ktest_fn_##n, d };  \
        static void ktest_fn_##n(void)

#define KTEST(name)             KTEST_DEFINE(name, NULL)
#define KTEST_DEATH(name, text) KTEST_DEFINE(name, text)

/*
 * Record one check of the running kernel test: if !ok, the test fails with
 * "file:line: what" (only the first failure of a test is reported; the
 * test goes on). => ok, so a test can stop on failure itself.
 * Use KCHECK / KCHECK_EQ, which fill in the location and the text.
 */
bool ktest_check(bool ok, const char *file, int line, const char *what);
/* ktest_check(a == b), printing both values on failure. */
bool ktest_check_eq(uint64_t a, uint64_t b, const char *file, int line,
                    const char *what);

#define KCHECK(cond)    ktest_check(!!(cond), __FILE__, __LINE__, #cond)
#define KCHECK_EQ(a, b) ktest_check_eq((uint64_t)(a), (uint64_t)(b),    \
                                       __FILE__, __LINE__, #a " == " #b)

/* Run the tests the command line asks for, then power off. */
__attribute__((noreturn)) void ktest_main(const char *which);

#endif
