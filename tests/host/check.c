/*
 * check.c - main() and bookkeeping of the host test harness (see check.h).
 */
#include "check.h"

#include <machine/pmap.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TESTS 256

static struct { const char *name; check_fn fn; } tests[MAX_TESTS];
static int ntests;
static jmp_buf test_jmp;
static char fail_msg[512];
static const char *program;

jmp_buf *check_panic_jmp;
char check_panic_msg[256];

void check_register(const char *name, check_fn fn)
{
        if (ntests == MAX_TESTS) {
                fprintf(stderr, "check: too many tests\n");
                exit(2);
        }
        tests[ntests].name = name;
        tests[ntests].fn = fn;
        ntests++;
}

void check_fail(const char *file, int line, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(fail_msg, sizeof fail_msg, "%s:%d: ", file, line);

        va_start(ap, fmt);
        vsnprintf(fail_msg + n, sizeof fail_msg - (size_t)n, fmt, ap);
        va_end(ap);
        longjmp(test_jmp, 1);
}

/* Called by the host build's panic(): an expected panic jumps back to its
 * EXPECT_PANIC; any other fails the running test. */
void host_panic_hook(const char *msg)
{
        snprintf(check_panic_msg, sizeof check_panic_msg, "%s", msg);
        if (check_panic_jmp) {
                jmp_buf *jb = check_panic_jmp;
                check_panic_jmp = NULL;
                longjmp(*jb, 1);
        }
        snprintf(fail_msg, sizeof fail_msg, "unexpected panic: %s", msg);
        longjmp(test_jmp, 1);
}

uint64_t check_seed(uint64_t fixed)
{
        const char *s = getenv("CHECK_SEED");

        return s ? strtoull(s, NULL, 0) : fixed;
}

static bool wanted(int argc, char **argv, const char *name)
{
        if (argc < 2)
                return true;
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], name) == 0)
                        return true;
        return false;
}

int main(int argc, char **argv)
{
        int failed = 0;

        program = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int i = 0; i < ntests; i++) {
                if (!wanted(argc, argv, tests[i].name))
                        continue;
                check_panic_jmp = NULL;
                if (setjmp(test_jmp) == 0) {
                        tests[i].fn();
                        /* every quick mapping is released (vm/pmap.h) */
                        CHECK_EQ(host_quick_maps, 0);
                        printf("PASS host/%s/%s\n", program, tests[i].name);
                } else {
                        printf("FAIL host/%s/%s: %s\n", program,
                               tests[i].name, fail_msg);
                        failed++;
                }
                host_ram_teardown();
        }
        return failed ? 1 : 0;
}
