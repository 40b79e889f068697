/*
 * test_vm_guard.c - guard regions (vm_guard.h, MADV_GUARD_INSTALL /
 * REMOVE): the run array against a page-by-page model under random adds,
 * clears and moves; then a space: faults on guard pages, what keeps,
 * clears, moves and copies guards (DONTNEED, mprotect, munmap, MAP_FIXED,
 * mremap, fork), huge pages kept out of a block holding a guard, and a
 * munmap that needs a run it cannot get changing nothing.
 */
#include "check.h"
#include "vm_fixture.h"

#include <string.h>

#include <vm/pmm.h>
#include <vm/vm_object.h>

#define VA      0x40000000UL            /* aligned for every huge size */
#define WINDOW  256                     /* pages the model covers */

static uint64_t rnd_state;

static uint64_t rnd(uint64_t n)
{
        rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
        return (rnd_state >> 33) % n;
}

static void model_matches(const struct vm_guards *g, const bool *m)
{
        CHECK(vm_guards_sound(g));
        for (uint64_t i = 0; i < WINDOW; i++)
                CHECK_EQ(vm_guards_has(g, VA + i * P + 5), m[i]);
        for (int k = 0; k < 20; k++) {
                uint64_t a = rnd(WINDOW), b = a + 1 + rnd(WINDOW - a), n = 0;
                for (uint64_t i = a; i < b; i++)
                        n += m[i];
                CHECK_EQ(vm_guards_pages(g, VA + a * P, VA + b * P), n);
                CHECK_EQ(vm_guards_meet(g, VA + a * P, VA + b * P), n != 0);
        }
}

TEST(runs_match_a_page_model)
{
        static bool m[WINDOW], t[WINDOW];
        struct vm_guards g = { 0 };

        setup(16 * MiB);
        rnd_state = check_seed(12);
        memset(m, 0, sizeof m);
        for (int step = 0; step < 3000; step++) {
                uint64_t a = rnd(WINDOW), len = 1 + rnd(MIN(24, WINDOW - a));
                uint64_t op = rnd(3);

                if (op == 0) {
                        CHECK_EQ(vm_guards_add(&g, VA + a * P, VA + (a + len) * P), VM_OK);
                        for (uint64_t i = a; i < a + len; i++)
                                m[i] = true;
                } else if (op == 1) {
                        CHECK_EQ(vm_guards_reserve(&g, 2), VM_OK);
                        uint32_t cap = g.cap;
                        vm_guards_clear(&g, VA + a * P, VA + (a + len) * P);
                        CHECK_EQ(g.cap, cap);           /* no allocation */
                        for (uint64_t i = a; i < a + len; i++)
                                m[i] = false;
                } else {
                        /* Move [a, a + len) to a free stretch at b. */
                        uint64_t b = rnd(WINDOW - len + 1);
                        if (b < a + len && a < b + len)
                                continue;
                        CHECK_EQ(vm_guards_reserve(&g, 4), VM_OK);
                        vm_guards_clear(&g, VA + b * P, VA + (b + len) * P);
                        for (uint64_t i = b; i < b + len; i++)
                                m[i] = false;
                        uint32_t cap = g.cap;
                        vm_guards_move(&g, VA + a * P, len * P, VA + b * P);
                        CHECK_EQ(g.cap, cap);
                        memcpy(t, m, sizeof t);
                        for (uint64_t i = 0; i < len; i++) {
                                m[b + i] = t[a + i];
                                m[a + i] = false;
                        }
                }
                model_matches(&g, m);
        }
        struct vm_guards c = { 0 };
        CHECK_EQ(vm_guards_copy(&c, &g), VM_OK);
        model_matches(&c, m);
        vm_guards_free(&c);
        vm_guards_free(&g);
        check_baseline();
}

TEST(guard_pages_fault_and_follow_the_space)
{
        struct vm_space *s, *c = NULL;
        vaddr_t out;

        setup(32 * MiB);
        s = new_space();
        map_at(s, VA, 16 * P, RW, PRIV);
        for (int i = 0; i < 16; i++)
                user_fill(s, VA + i * P, (uint8_t)(i + 1));
        uint64_t areas = s->areas.count;
        CHECK_EQ(vm_space_advise(s, VA + 4 * P, 2 * P, VM_MADV_GUARD_INSTALL), VM_OK);
        CHECK_EQ(s->areas.count, areas);                /* no split */
        CHECK(!present(s, VA + 4 * P));
        CHECK_EQ(user_access(s, VA + 5 * P, R, NULL), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_GUARD);
        CHECK_EQ(user_access(s, VA + 3 * P, W, NULL), FAULT_RESOLVED);
        CHECK(vm_space_check(s));

        /* Outside accesses are refused (process_vm_readv, /proc/PID/mem). */
        uint8_t buf[16];
        size_t done;
        CHECK_EQ(vm_space_access(s, VA + 4 * P, buf, sizeof buf, false, true,
                                 &done), VM_EFAULT);

        /* Kept by DONTNEED and mprotect; the protection check comes first. */
        CHECK_EQ(vm_space_advise(s, VA, 16 * P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(vm_space_protect(s, VA, 16 * P, R), VM_OK);
        CHECK_EQ(user_access(s, VA + 4 * P, W, NULL), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        CHECK_EQ(user_access(s, VA + 4 * P, R, NULL), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_GUARD);
        CHECK_EQ(vm_space_protect(s, VA, 16 * P, RW), VM_OK);

        /* fork copies them. */
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        CHECK_EQ(user_access(c, VA + 4 * P, W, NULL), FAULT_SEGV);
        CHECK_EQ(c->last_fault.reason, FAULT_REASON_GUARD);
        CHECK(vm_space_check(c));
        destroy(c);

        /* mremap moves them with the pages; the old place has none. */
        CHECK_EQ(vm_space_remap(s, VA, 16 * P, 16 * P,
                                VM_REMAP_MAYMOVE | VM_REMAP_FIXED, VA + 64 * P,
                                &out), VM_OK);
        CHECK_EQ(out, VA + 64 * P);
        CHECK_EQ(user_access(s, VA + 68 * P, R, NULL), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_GUARD);
        CHECK_EQ(vm_guards_pages(&s->guards, VA, VA + 64 * P), 0);
        CHECK(vm_space_check(s));

        /* munmap inside the run splits it; MAP_FIXED over the rest clears it. */
        CHECK_EQ(vm_space_advise(s, VA + 70 * P, 4 * P, VM_MADV_GUARD_INSTALL), VM_OK);
        CHECK_EQ(vm_space_unmap(s, VA + 71 * P, P), VM_OK);
        CHECK_EQ(vm_guards_pages(&s->guards, VA + 64 * P, VA + 80 * P), 5);
        map_at(s, VA + 72 * P, P, RW, PRIV);
        CHECK_EQ(vm_guards_pages(&s->guards, VA + 64 * P, VA + 80 * P), 4);
        CHECK_EQ(user_access(s, VA + 72 * P, W, NULL), FAULT_RESOLVED);
        CHECK(vm_space_check(s));

        /* Removal: private memory reads zeroes, other pages stay. */
        user_fill(s, VA + 67 * P, 0x99);
        CHECK_EQ(vm_space_advise(s, VA + 64 * P, 16 * P, VM_MADV_GUARD_REMOVE),
                 VM_ENOMEM);                    /* the hole at 71 */
        CHECK_EQ(s->guards.n, 0);
        CHECK_EQ(user_read(s, VA + 68 * P), 0);
        CHECK_EQ(user_read(s, VA + 67 * P), 0x99);
        destroy(s);
        check_baseline();
}

TEST(huge_fault_leaves_a_block_with_a_guard_alone)
{
        struct vm_space *s;
        uint64_t h;

        setup(64 * MiB);
        vm_thp_policy = VM_THP_ALWAYS;
        h = pmap_huge_size();
        s = new_space();
        map_at(s, VA, 2 * h, RW, PRIV);
        CHECK_EQ(vm_space_advise(s, VA + 3 * P, P, VM_MADV_GUARD_INSTALL), VM_OK);
        CHECK_EQ(user_access(s, VA, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(user_access(s, VA + h, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 2 * h), 1);    /* the second */
        CHECK_EQ(pmap_page_size(s->pmap, VA), P);
        /* A guard inside a huge translation splits it. */
        CHECK_EQ(vm_space_advise(s, VA + h + 7 * P, P, VM_MADV_GUARD_INSTALL), VM_OK);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 2 * h), 0);
        CHECK_EQ(user_access(s, VA + h + 7 * P, R, NULL), FAULT_SEGV);
        CHECK_EQ(user_access(s, VA + h + 8 * P, R, NULL), FAULT_RESOLVED);
        CHECK(vm_space_check(s));
        destroy(s);
        vm_thp_policy = VM_THP_MADVISE;
        check_baseline();
}

TEST(unmap_without_room_for_a_run_changes_nothing)
{
        struct vm_space *s;

        setup(32 * MiB);
        s = new_space();
        map_at(s, VA, 512 * P, RW, PRIV);
        CHECK_EQ(vm_space_advise(s, VA, 512 * P, VM_MADV_GUARD_INSTALL), VM_OK);
        /* Punch holes in the run until the array (128 runs: kmalloc's
         * largest class) is one run short of what a split needs; growing
         * it then takes pages, which are refused. */
        vaddr_t va = VA + P;
        while (!(s->guards.cap >= 128 && s->guards.cap - s->guards.n == 1)) {
                CHECK(va < VA + 510 * P);
                CHECK_EQ(vm_space_advise(s, va, P, VM_MADV_GUARD_REMOVE), VM_OK);
                va += 2 * P;
        }
        uint32_t n = s->guards.n;
        uint64_t areas = s->areas.count;
        pmm_fail_after = 1;
        CHECK_EQ(vm_space_unmap(s, VA + 508 * P, P), VM_ENOMEM);
        pmm_fail_after = 0;
        CHECK_EQ(s->guards.n, n);
        CHECK_EQ(s->areas.count, areas);
        CHECK(vm_space_check(s));
        CHECK_EQ(vm_space_unmap(s, VA + 508 * P, P), VM_OK);
        CHECK_EQ(s->guards.n, n + 1);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}
