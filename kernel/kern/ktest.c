/*
 * ktest.c - the in-kernel test runner (see ktest.h).
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/memstat.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>

extern const struct ktest _ktests_start[], _ktests_end[];

static const struct ktest *current;
static bool current_failed;

bool ktest_check(bool ok, const char *file, int line, const char *what)
{
        if (!ok) {
                pr_emerg("ktest: FAIL %s: %s:%d: %s\n", current->name, file,
                         line, what);
                current_failed = true;
        }
        return ok;
}

bool ktest_check_eq(uint64_t a, uint64_t b, const char *file, int line,
                    const char *what)
{
        if (a != b) {
                char why[200];
                ksnprintf(why, sizeof why, "%s (%#" PRIx64 " != %#" PRIx64 ")", what, a, b);
                return ktest_check(false, file, line, why);
        }
        return true;
}

static bool run_one(const struct ktest *t)
{
        struct mem_snapshot before;
        char who[80];

        current = t;
        current_failed = false;
        mem_snapshot(&before);
        t->fn();
        ksnprintf(who, sizeof who, "ktest: FAIL %s", t->name);
        if (!t->death && mem_snapshot_compare(&before, who))
                current_failed = true;
        if (!current_failed)
                pr_emerg("ktest: PASS %s\n", t->name);
        return !current_failed;
}

void ktest_main(const char *which)
{
        unsigned passed = 0, failed = 0;

        for (const struct ktest *t = _ktests_start; t < _ktests_end; t++) {
                if (which) {
                        if (strcmp(which, t->name) != 0)
                                continue;
                } else if (t->death) {
                        pr_emerg("ktest: death %s %s\n", t->name, t->death);
                        continue;
                }
                if (run_one(t))
                        passed++;
                else
                        failed++;
        }
        if (which && passed + failed == 0)
                pr_emerg("ktest: FAIL %s: no such test\n", which), failed++;
        pr_emerg("ktest: summary %u passed, %u failed\n", passed, failed);
        machine_poweroff(failed ? 1 : 0);
}
