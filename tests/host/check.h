/*
 * check.h - the host test harness.
 *
 * A test file defines TEST(name) bodies; check.c's main() runs them all (or
 * those named on the command line) and prints one line per test:
 *   PASS host/<program>/<name>    or    FAIL host/<program>/<name>: why
 * A failed CHECK ends the current test. Randomized tests take their seed
 * from check_seed() (fixed, or $CHECK_SEED) so failures reproduce.
 */
#ifndef TESTS_HOST_CHECK_H
#define TESTS_HOST_CHECK_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*check_fn)(void);
void check_register(const char *name, check_fn fn);
_Noreturn void check_fail(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define TEST(name)                                                      \
        static void test_##name(void);                                  \
        __attribute__((constructor)) static void register_##name(void)  \
        { check_register(#name, test_##name); }                         \
        static void test_##name(void)

#define CHECK(cond) do {                                                \
        if (!(cond))                                                    \
                check_fail(__FILE__, __LINE__, "%s", #cond);            \
} while (0)

#define CHECK_EQ(a, b) do {                                             \
        unsigned long long check_a_ = (unsigned long long)(a);          \
        unsigned long long check_b_ = (unsigned long long)(b);          \
        if (check_a_ != check_b_)                                       \
                check_fail(__FILE__, __LINE__, "%s == %s (%#llx != %#llx)", \
                           #a, #b, check_a_, check_b_);                 \
} while (0)

/*
 * Run `stmt` expecting it to call panic(); fails the test if it returns.
 * The panic message is kept in check_panic_msg.
 */
extern jmp_buf *check_panic_jmp;
extern char check_panic_msg[256];
#define EXPECT_PANIC(stmt) do {                                         \
        jmp_buf check_jb_;                                              \
        check_panic_jmp = &check_jb_;                                   \
        if (setjmp(check_jb_) == 0) {                                   \
                stmt;                                                   \
                check_panic_jmp = NULL;                                 \
                check_fail(__FILE__, __LINE__, "no panic from %s", #stmt); \
        }                                                               \
        check_panic_jmp = NULL;                                         \
} while (0)

/* The seed of randomized tests: $CHECK_SEED if set, else `fixed`. */
uint64_t check_seed(uint64_t fixed);

/* A small, fast, reproducible PRNG (xorshift64*). */
struct rng { uint64_t s; };
static inline uint64_t rng_next(struct rng *r)
{
        r->s ^= r->s >> 12;
        r->s ^= r->s << 25;
        r->s ^= r->s >> 27;
        return r->s * 0x2545F4914F6CDD1DULL;
}
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
        return n ? rng_next(r) % n : 0;
}
static inline void rng_seed(struct rng *r, uint64_t seed)
{
        r->s = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

/* Simulated physical RAM for the host build (kernel/arch/host). */
void host_ram_setup(uint64_t bytes);
void host_ram_teardown(void);
/* RAM plus page descriptors, all pages but frame 0 free in the buddy
 * allocator, counters zeroed: the state boot leaves. */
void host_memory_setup(uint64_t bytes);

#endif
