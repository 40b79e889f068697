/*
 * test_printf.c - kvsnprintf (kernel/lib/printf.c) against the host libc.
 */
#include "check.h"

#include <mercator/printk.h>
#include <string.h>

/* Format with both, compare. Only formats both agree on are used. */
#define SAME(...) do {                                                  \
        char want_[128], got_[128];                                     \
        int nw_ = snprintf(want_, sizeof want_, __VA_ARGS__);           \
        int ng_ = ksnprintf(got_, sizeof got_, __VA_ARGS__);            \
        if (nw_ != ng_ || strcmp(want_, got_) != 0)                     \
                check_fail(__FILE__, __LINE__, "'%s' vs libc '%s'",     \
                           got_, want_);                                \
} while (0)

TEST(integers)
{
        SAME("%d %i %u", -42, 7, 4000000000u);
        SAME("%ld %lu %llx", -1L, 18446744073709551615UL, 0xdeadbeefULL);
        SAME("%5d|%-5d|%05d|%-6d|%05d", 42, 42, 42, -42, -42);
        SAME("%x %X %#x %#lx %08lx", 255, 255, 255, 0xabcUL, 0x1234UL);
        SAME("%zu %zx", (size_t)12345, (size_t)0xfff);
        SAME("%o %4o %04o %lo", 0640u, 01640u, 022u, 01777777777777777777777UL);
        SAME("%d", -2147483647 - 1);
        SAME("%lld", (long long)(-9223372036854775807LL - 1));
        SAME("%#018lx", 0xffffffff80000000UL);
}

TEST(strings_and_chars)
{
        SAME("[%s] [%10s] [%-10s] [%.3s] [%c] [%%]", "abc", "right", "left",
             "truncate", 'z');
        SAME("%*d|%-*d|%.*s", 6, 1, 6, 2, 2, "xyz");
}

TEST(truncation)
{
        char buf[8];
        int n = ksnprintf(buf, sizeof buf, "%s", "0123456789");

        CHECK_EQ(n, 10);
        CHECK(strcmp(buf, "0123456") == 0);
        CHECK_EQ(ksnprintf(NULL, 0, "%d", 12345), 5);
}

TEST(pointers)
{
        char buf[64];

        ksnprintf(buf, sizeof buf, "%p", (void *)0xffff800000001000UL);
        CHECK(strcmp(buf, "0xffff800000001000") == 0);
}
