/*
 * ktest.c - the in-kernel test runner (see ktest.h).
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

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
                ksnprintf(why, sizeof why, "%s (%#lx != %#lx)", what, a, b);
                return ktest_check(false, file, line, why);
        }
        return true;
}

/* The counters that must come back after every test. */
struct mem_snapshot {
        uint64_t free_pages;
        struct vmstat vm;
};

/* Empty slabs a cache keeps for reuse are not leaks: drop them first. */
static void snapshot(struct mem_snapshot *s)
{
        kmalloc_shrink();
        s->free_pages = pmm_free_count();
        s->vm = vmstat;
}

static void check_leaks(const struct mem_snapshot *a)
{
        struct mem_snapshot b;

        snapshot(&b);
#define LEAK(field, label)                                              \
        if (a->field != b.field)                                        \
                pr_emerg("ktest: FAIL %s: leak: %s %lu -> %lu\n",       \
                         current->name, label, a->field, b.field),      \
                current_failed = true;
        LEAK(free_pages, "free pages");
        LEAK(vm.pt_pages, "page-table pages");
        LEAK(vm.slab_pages, "slab pages");
        LEAK(vm.kmalloc_large, "large kmalloc pages");
        LEAK(vm.vmalloc_pages, "vmalloc pages");
        LEAK(vm.kstack_pages, "kernel stack pages");
        LEAK(vm.anon_pages, "anonymous pages");
#undef LEAK
}

static bool run_one(const struct ktest *t)
{
        struct mem_snapshot before;

        current = t;
        current_failed = false;
        snapshot(&before);
        t->fn();
        if (!t->death)
                check_leaks(&before);
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
