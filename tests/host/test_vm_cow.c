/*
 * test_vm_cow.c - fork and copy-on-write (kernel/vm/vm_fork.c, vm_fault.c,
 * vm_object.c) over simulated RAM, the real x86-64 table code and the
 * software MMU.
 *
 * User accesses are simulated as the CPU makes them (a translation through
 * the software MMU, on a page fault vm_fault() and one retry), in whichever
 * space the test names; contents are read through the frame the MMU
 * found. Directed tests pin down one rule each (isolation both ways, the
 * last sharer writing in place, shared memory staying shared, nested forks
 * and exits in every order, failure injection); random_tree_* runs fork /
 * exit / map / unmap / protect / write / read / DONTNEED sequences over a
 * tree of up to four spaces against a per-space, per-page model, checks
 * vm_space_check() on every live space after every step, and that
 * vmstat.anon_pages equals the number of distinct frames the objects hold.
 * Every test ends with every counter back at its baseline.
 */
#include "check.h"
#include "vm_fixture.h"
#include "vm_model.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <arch/host/softmmu.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#include <stdlib.h>
#include <string.h>

static struct vm_space *fork_of(struct vm_space *parent)
{
        struct vm_space *child = NULL;

        CHECK_EQ(vm_space_fork(parent, &child), VM_OK);
        CHECK(vm_space_check(parent));
        CHECK(vm_space_check(child));
        CHECK(softmmu_tlb_check());
        return child;
}

/* ---- distinct frames: vmstat.anon_pages must count each exactly once ---- */

struct frames {
        paddr_t  pa[4096];
        unsigned n;
};

static bool collect_frame(void *arg, uint64_t index, struct vm_page *pg)
{
        struct frames *f = arg;

        CHECK(f->n < ARRAY_SIZE(f->pa));
        f->pa[f->n++] = pmm_page_to_pa(pg);
        return true;
}

static int pa_cmp(const void *a, const void *b)
{
        paddr_t x = *(const paddr_t *)a, y = *(const paddr_t *)b;

        return x < y ? -1 : x > y;
}

/* Distinct frames held by the anonymous objects of these spaces. */
static uint64_t distinct_anon_frames(struct vm_space **sp, unsigned n)
{
        static struct frames f;
        uint64_t distinct = 0;

        f.n = 0;
        for (unsigned k = 0; k < n; k++) {
                if (!sp[k])
                        continue;
                for (const struct vm_area *a = sp[k]->areas.first; a;
                     a = a->next) {
                        bool shared = a->flags & VM_AREA_SHARED;

                        /* A shared object keeps pages no area maps. */
                        if (a->object && a->object->type == VM_OBJECT_ANON)
                                vm_object_for_each(a->object,
                                        shared ? 0 : a->pgoff,
                                        shared ? a->object->size
                                               : a->pgoff + vm_area_npages(a),
                                        collect_frame, &f);
                }
        }
        qsort(f.pa, f.n, sizeof f.pa[0], pa_cmp);
        for (unsigned i = 0; i < f.n; i++)
                distinct += i == 0 || f.pa[i] != f.pa[i - 1];
        return distinct;
}

/* ---- directed ------------------------------------------------------------- */

TEST(fork_isolates_writes_both_ways)
{
        vaddr_t va = 0x10000000;
        struct vm_space *p, *c;
        paddr_t orig[8];

        setup(32 * MiB);
        p = new_space();
        activate(p);
        map_at(p, va, 8 * P, RW, PRIV);
        for (unsigned i = 0; i < 8; i++) {
                user_fill(p, va + i * P, 0x10 + i);
                orig[i] = frame(p, va + i * P);
        }
        CHECK_EQ(vmstat.anon_pages, 8);
        c = fork_of(p);
        CHECK_EQ(vmstat.anon_pages, 8);         /* no page copied by fork */
        CHECK(!present(c, va));                 /* the child faults lazily */
        for (unsigned i = 0; i < 8; i++) {
                CHECK(!can(p, va + i * P, W));  /* write-protected */
                CHECK(can(p, va + i * P, R));   /* still mapped */
                CHECK_EQ(user_read(c, va + i * P), 0x10 + i);
                CHECK_EQ(frame(c, va + i * P), orig[i]);        /* shared */
                CHECK(!can(c, va + i * P, W));
        }
        /* Parent writes: it gets a copy, the child keeps the original. */
        user_fill(p, va, 0xaa);
        CHECK(frame(p, va) != orig[0]);
        CHECK_EQ(frame(c, va), orig[0]);
        CHECK_EQ(user_read(c, va), 0x10);
        CHECK_EQ(vmstat.anon_pages, 9);
        CHECK_EQ(p->stats.cow_copies, 1);
        /* Child writes: the same the other way. */
        user_fill(c, va + P, 0xbb);
        CHECK(frame(c, va + P) != orig[1]);
        CHECK_EQ(user_read(p, va + P), 0x11);
        CHECK_EQ(frame(p, va + P), orig[1]);
        CHECK_EQ(c->stats.cow_copies, 1);
        CHECK_EQ(vmstat.anon_pages, 10);
        /* Fresh memory after fork is independent too. */
        CHECK_EQ(user_read(c, va + 7 * P), 0x17);
        CHECK(vm_space_check(p) && vm_space_check(c));
        CHECK(softmmu_tlb_check());
        {
                struct vm_space *both[2] = { p, c };

                CHECK_EQ(distinct_anon_frames(both, 2), vmstat.anon_pages);
        }
        destroy(c);
        CHECK_EQ(vmstat.anon_pages, 8);         /* the child's two copies */
        for (unsigned i = 0; i < 8; i++)
                CHECK_EQ(user_read(p, va + i * P), i == 0 ? 0xaa : 0x10 + i);
        destroy(p);
        check_baseline();
}

TEST(last_sharer_writes_in_place)
{
        vaddr_t va = 0x10000000;
        struct vm_space *p, *c;
        paddr_t f0, f1;
        uint64_t free;

        setup(32 * MiB);
        p = new_space();
        map_at(p, va, 4 * P, RW, PRIV);
        user_fill(p, va, 1);
        user_fill(p, va + P, 2);
        f0 = frame(p, va);
        f1 = frame(p, va + P);

        /* The child exits before anyone writes: the parent owns them again. */
        c = fork_of(p);
        CHECK_EQ(user_read(c, va), 1);
        destroy(c);
        CHECK(!can(p, va, W));
        free = pmm_free_count();
        user_fill(p, va, 3);
        CHECK_EQ(pmm_free_count(), free);       /* no page allocated */
        CHECK_EQ(frame(p, va), f0);             /* written in place */
        CHECK_EQ(p->stats.cow_copies, 0);
        CHECK_EQ(p->stats.cow_reuses, 1);

        /* Parent copies first; then the child is the original's last
         * sharer and writes it in place. */
        c = fork_of(p);
        user_fill(p, va + P, 4);                /* copy */
        CHECK(frame(p, va + P) != f1);
        CHECK_EQ(user_read(c, va + 2 * P), 0);  /* the child's page tables */
        /* That read's fault-around mapped va + P too, writable: the
         * child is its last sharer (a read fault's rule). */
        CHECK(can(c, va + P, W));
        free = pmm_free_count();
        user_fill(c, va + P, 5);                /* last sharer */
        CHECK_EQ(pmm_free_count(), free);
        CHECK_EQ(frame(c, va + P), f1);
        CHECK_EQ(c->stats.cow_copies, 0);
        CHECK_EQ(c->stats.cow_reuses, 0);       /* no write fault at all */
        CHECK_EQ(user_read(p, va + P), 4);
        CHECK_EQ(user_read(c, va + P), 5);
        CHECK_EQ(vmstat.anon_pages, 3);
        /* A read of a page the child no longer shares maps it writable. */
        destroy(p);
        CHECK_EQ(user_read(c, va), 3);
        user_fill(c, va, 6);
        CHECK_EQ(frame(c, va), f0);
        CHECK_EQ(vmstat.anon_pages, 2);
        destroy(c);
        check_baseline();
}

/* ---- reuse-around (vm_fault.c:reuse_around) ------------------------------ */

#define RA      16                      /* pages in its window */
static const vaddr_t ra_va = 0x10000000;       /* window-aligned */

/* The child exits: one write makes the page and the 15 others of its
 * aligned window writable in place; nothing else changes. */
TEST(reuse_around_makes_the_window_writable_after_the_child_exits)
{
        struct vm_space *p, *c;
        paddr_t orig[3 * RA];
        uint64_t free, faults;

        setup(32 * MiB);
        p = new_space();
        map_at(p, ra_va, 3 * RA * P, RW, PRIV);
        for (unsigned i = 0; i < 3 * RA; i++) {
                user_fill(p, ra_va + i * P, (uint8_t)(i + 1));
                orig[i] = frame(p, ra_va + i * P);
        }
        c = fork_of(p);
        CHECK_EQ(user_read(c, ra_va + RA * P + 3), RA + 1);
        destroy(c);
        free = pmm_free_count();
        user_fill(p, ra_va + RA * P + 5 * P, 0x55);     /* the middle window */
        CHECK_EQ(p->stats.cow_reuses, 1);
        CHECK_EQ(p->stats.cow_reuses_around, RA - 1);
        CHECK_EQ(p->stats.cow_copies, 0);
        CHECK_EQ(pmm_free_count(), free);               /* nothing copied */
        for (unsigned i = 0; i < 3 * RA; i++) {
                bool in = i >= RA && i < 2 * RA;

                CHECK_EQ(can(p, ra_va + i * P, W), in);
                CHECK_EQ(frame(p, ra_va + i * P), orig[i]);
        }
        /* The rest of the window is written without a fault. */
        faults = p->stats.faults;
        for (unsigned i = RA; i < 2 * RA; i++)
                user_fill(p, ra_va + i * P, 0x60 + i);
        CHECK_EQ(p->stats.faults, faults);
        CHECK(vm_space_check(p));
        CHECK(softmmu_tlb_check());
        for (unsigned i = 0; i < 3 * RA; i++)
                CHECK_EQ(user_read(p, ra_va + i * P),
                         i >= RA && i < 2 * RA ? 0x60 + i : i + 1);
        destroy(p);
        check_baseline();
}

/*
 * A page a live child still shares is never made writable around a page
 * the parent holds alone again (and the same the other way round): the
 * parent copies pages 0..7 while child 1 lives, child 2 forks and exits,
 * so 0..7 are the parent's alone again and 8..15 still child 1's too.
 */
TEST(reuse_around_leaves_pages_a_live_child_still_shares)
{
        struct vm_space *p, *c1, *c2;
        uint64_t free;

        setup(32 * MiB);
        p = new_space();
        map_at(p, ra_va, RA * P, RW, PRIV);
        for (unsigned i = 0; i < RA; i++)
                user_fill(p, ra_va + i * P, (uint8_t)(i + 1));
        c1 = fork_of(p);
        for (unsigned i = 0; i < RA; i++)               /* mapped read-only */
                CHECK_EQ(user_read(c1, ra_va + i * P), i + 1);
        for (unsigned i = 0; i < RA / 2; i++)
                user_fill(p, ra_va + i * P, (uint8_t)(0x40 + i));      /* copies */
        CHECK_EQ(p->stats.cow_copies, RA / 2);
        c2 = fork_of(p);
        CHECK_EQ(user_read(c2, ra_va + RA * P - P), RA);
        destroy(c2);
        user_fill(p, ra_va, 0x80);                      /* its own again */
        CHECK_EQ(p->stats.cow_reuses, 1);
        CHECK_EQ(p->stats.cow_reuses_around, RA / 2 - 1);
        for (unsigned i = 0; i < RA; i++)
                CHECK_EQ(can(p, ra_va + i * P, W), i < RA / 2);
        CHECK(vm_space_check(p) && vm_space_check(c1));
        /* Writing a page child 1 shares still copies it. */
        free = pmm_free_count();
        user_fill(p, ra_va + RA / 2 * P, 0x81);
        CHECK_EQ(pmm_free_count(), free - 1);
        CHECK_EQ(p->stats.cow_copies, RA / 2 + 1);
        CHECK(!can(p, ra_va + (RA / 2 + 1) * P, W));
        /* Child 1 holds the originals of 0..8 alone now, shares 9..15. */
        user_fill(c1, ra_va + P, 0x91);
        CHECK_EQ(c1->stats.cow_reuses, 1);
        CHECK_EQ(c1->stats.cow_reuses_around, RA / 2);  /* 0, 2..7, and 8 */
        for (unsigned i = 0; i < RA; i++)
                CHECK_EQ(can(c1, ra_va + i * P, W), i <= RA / 2);
        for (unsigned i = 0; i < RA; i++) {
                uint8_t pw = i == 0 ? 0x80 : i < RA / 2 ? 0x40 + i
                           : i == RA / 2 ? 0x81 : i + 1;

                CHECK_EQ(user_read(p, ra_va + i * P), pw);
                CHECK_EQ(user_read(c1, ra_va + i * P), i == 1 ? 0x91 : i + 1);
        }
        CHECK(vm_space_check(p) && vm_space_check(c1));
        CHECK(softmmu_tlb_check());
        destroy(p);
        destroy(c1);
        check_baseline();
}

/* Read-only pages of a private area that are not its own never become
 * writable around a reused page: the zero page (read, never written). */
TEST(reuse_around_leaves_the_zero_page_read_only)
{
        struct vm_space *p;
        uint64_t free;

        setup(32 * MiB);
        p = new_space();
        map_at(p, ra_va, RA * P, RW, PRIV);
        for (unsigned i = 0; i < RA; i++) {
                if (i % 2)
                        CHECK_EQ(user_read(p, ra_va + i * P), 0);
                else
                        user_fill(p, ra_va + i * P, (uint8_t)(i + 1));
        }
        /* mprotect leaves widening to the next write fault of each page. */
        CHECK_EQ(vm_space_protect(p, ra_va, RA * P, R), VM_OK);
        CHECK_EQ(vm_space_protect(p, ra_va, RA * P, RW), VM_OK);
        free = pmm_free_count();
        user_fill(p, ra_va + 2 * P, 0x33);
        CHECK_EQ(p->stats.cow_reuses_around, RA / 2 - 1);
        CHECK_EQ(pmm_free_count(), free);
        for (unsigned i = 0; i < RA; i++) {
                CHECK_EQ(can(p, ra_va + i * P, W), i % 2 == 0);
                CHECK_EQ(user_read(p, ra_va + i * P),
                         i == 2 ? 0x33 : i % 2 ? 0 : i + 1);
        }
        CHECK(vm_is_zero_pa(frame(p, ra_va + P)));
        CHECK(vm_space_check(p));
        destroy(p);
        check_baseline();
}

/* A translation the TLB holds read-only is widened without an
 * invalidation: the next write through it faults once (the fault drops
 * the entry, as x86's does), and lands in the same frame. */
TEST(reuse_around_without_invalidation_costs_one_spurious_fault)
{
        struct vm_space *p, *c;
        paddr_t f3;
        uint64_t faults;

        setup(32 * MiB);
        p = new_space();
        activate(p);
        map_at(p, ra_va, RA * P, RW, PRIV);
        for (unsigned i = 0; i < RA; i++)
                user_fill(p, ra_va + i * P, (uint8_t)(i + 1));
        c = fork_of(p);
        destroy(c);
        activate(p);
        f3 = frame(p, ra_va + 3 * P);
        CHECK_EQ(user_read(p, ra_va + 3 * P), 4);       /* cached read-only */
        CHECK(softmmu_tlb_holds(ra_va + 3 * P));
        user_fill(p, ra_va, 0x11);
        CHECK(can(p, ra_va + 3 * P, W));                /* the tables */
        CHECK(softmmu_tlb_check());                     /* allowed: less */
        faults = p->stats.faults;
        user_fill(p, ra_va + 3 * P, 0x13);
        CHECK_EQ(p->stats.faults, faults + 1);          /* the spurious one */
        CHECK_EQ(frame(p, ra_va + 3 * P), f3);
        CHECK_EQ(p->stats.cow_copies, 0);
        CHECK(softmmu_tlb_check());
        CHECK(vm_space_check(p));
        destroy(p);
        check_baseline();
}

TEST(shared_anonymous_stays_shared_across_fork)
{
        vaddr_t sh = 0x20000000, pr = 0x30000000;
        struct vm_space *p, *c;

        setup(32 * MiB);
        p = new_space();
        map_at(p, sh, 4 * P, RW, SHARED);
        map_at(p, pr, 2 * P, RW, PRIV);
        user_fill(p, sh, 0x41);
        user_fill(p, pr, 0x51);
        c = fork_of(p);
        CHECK(can(p, sh, W));                   /* shared: not protected */
        CHECK_EQ(user_read(c, sh), 0x41);
        CHECK_EQ(frame(c, sh), frame(p, sh));
        user_fill(c, sh, 0x42);                 /* same frame, both see it */
        CHECK_EQ(frame(c, sh), frame(p, sh));
        CHECK_EQ(user_read(p, sh), 0x42);
        user_fill(p, sh + 3 * P, 0x43);         /* a page first made later */
        CHECK_EQ(user_read(c, sh + 3 * P), 0x43);
        user_fill(c, pr, 0x52);                 /* private: not seen */
        CHECK_EQ(user_read(p, pr), 0x51);
        CHECK_EQ(c->stats.cow_copies, 1);
        /* The shared object outlives the parent. */
        destroy(p);
        CHECK_EQ(user_read(c, sh), 0x42);
        CHECK_EQ(user_read(c, sh + 3 * P), 0x43);
        destroy(c);
        check_baseline();
}

TEST(fork_copies_brk_and_stack_bookkeeping)
{
        struct vm_space *p, *c;
        vaddr_t got = 0, top = USER_MAX;

        setup(32 * MiB);
        p = new_space();
        vm_space_set_stack_limit(p, 4 * MiB);
        CHECK_EQ(vm_space_stack_init(p, top, 8 * P), VM_OK);
        CHECK_EQ(vm_space_brk_init(p, 0x600000), VM_OK);
        CHECK_EQ(vm_space_brk(p, 0x600000 + 3 * P + 5, &got), VM_OK);
        user_fill(p, 0x600000, 7);
        user_fill(p, top - P, 8);
        c = fork_of(p);
        CHECK_EQ(c->start_brk, p->start_brk);
        CHECK_EQ(c->brk, p->brk);
        CHECK_EQ(c->stack_top, p->stack_top);
        CHECK_EQ(c->stack_limit, p->stack_limit);
        CHECK_EQ(c->mmap_base, p->mmap_base);
        CHECK_EQ(c->areas.count, p->areas.count);
        CHECK_EQ(c->stats.faults, 0);
        /* The child's heap and stack work on their own. */
        CHECK_EQ(vm_space_brk(c, 0x600000 + 10 * P, &got), VM_OK);
        user_fill(c, 0x600000 + 9 * P, 9);
        user_fill(c, top - 20 * P, 10);         /* stack growth */
        CHECK_EQ(vm_space_lookup(c, top - P)->start, top - 20 * P);
        CHECK_EQ(vm_space_lookup(p, top - P)->start, top - 8 * P);
        CHECK_EQ(user_read(c, 0x600000), 7);
        CHECK_EQ(user_read(c, top - P), 8);
        CHECK_EQ(vm_fault(p, 0x600000 + 9 * P, R), FAULT_SEGV);
        destroy(p);
        destroy(c);
        check_baseline();
}

/* Areas that share one object in the parent share its twin in the child
 * (and the child's areas stay mergeable). */
TEST(fork_keeps_object_sharing_between_areas)
{
        vaddr_t va = 0x10000000;
        struct vm_space *p, *c;
        const struct vm_area *a, *b;

        setup(32 * MiB);
        p = new_space();
        map_at(p, va, 6 * P, RW, PRIV);
        for (unsigned i = 0; i < 6; i++)
                user_fill(p, va + i * P, i + 1);
        CHECK_EQ(vm_space_protect(p, va + 2 * P, 2 * P, R), VM_OK);
        CHECK_EQ(p->areas.count, 3);
        c = fork_of(p);
        a = vm_space_lookup(c, va);
        b = vm_space_lookup(c, va + 4 * P);
        CHECK(a->object && a->object == b->object);
        CHECK(a->object != vm_space_lookup(p, va)->object);
        CHECK_EQ(a->object->refcount, 3);
        CHECK_EQ(vm_space_protect(c, va + 2 * P, 2 * P, RW), VM_OK);
        CHECK_EQ(c->areas.count, 1);            /* merged back */
        for (unsigned i = 0; i < 6; i++)
                CHECK_EQ(user_read(c, va + i * P), i + 1);
        user_fill(c, va + 2 * P, 0x77);         /* was read-only: now RW */
        CHECK_EQ(user_read(p, va + 2 * P), 3);
        destroy(c);
        destroy(p);
        check_baseline();
}

/* parent -> child -> grandchild, exits in all six orders. */
TEST(nested_forks_exit_in_any_order)
{
        static const unsigned orders[6][3] = {
                { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
                { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
        };
        vaddr_t va = 0x10000000;

        setup(32 * MiB);
        for (unsigned o = 0; o < 6; o++) {
                struct vm_space *s[3];
                uint8_t want[3][4];

                s[0] = new_space();
                map_at(s[0], va, 4 * P, RW, PRIV);
                for (unsigned i = 0; i < 4; i++)
                        user_fill(s[0], va + i * P, i + 1);
                s[1] = fork_of(s[0]);
                user_fill(s[1], va + P, 0x21);          /* child copies */
                s[2] = fork_of(s[1]);
                user_fill(s[2], va + 2 * P, 0x32);      /* grandchild */
                user_fill(s[0], va + 3 * P, 0x03);      /* parent */
                for (unsigned k = 0; k < 3; k++)
                        for (unsigned i = 0; i < 4; i++)
                                want[k][i] = i + 1;
                want[1][1] = want[2][1] = 0x21;
                want[2][2] = 0x32;
                want[0][3] = 0x03;
                CHECK_EQ(distinct_anon_frames(s, 3), vmstat.anon_pages);
                for (unsigned step = 0; step < 3; step++) {
                        destroy(s[orders[o][step]]);
                        s[orders[o][step]] = NULL;
                        CHECK_EQ(distinct_anon_frames(s, 3), vmstat.anon_pages);
                        for (unsigned k = 0; k < 3; k++) {
                                if (!s[k])
                                        continue;
                                for (unsigned i = 0; i < 4; i++)
                                        CHECK_EQ(user_read(s[k], va + i * P),
                                                 want[k][i]);
                                CHECK(vm_space_check(s[k]));
                        }
                }
                check_baseline();
        }
}

/* Fork's work follows the pages present, not the address range. */
TEST(fork_cost_follows_resident_pages)
{
        vaddr_t va = 0x100000000, out = 0;
        struct vm_space *p, *c;
        uint64_t free, pt;

        setup(32 * MiB);
        /* Far more than RAM: only "always overcommit" promises it. */
        vm_commit_policy.overcommit_memory = VM_OVERCOMMIT_ALWAYS;
        p = new_space();
        /* 64 GiB of private memory and a huge reservation, 3 pages used. */
        CHECK_EQ(vm_space_map(p, va, 64UL << 30, RW, PRIV | FIXED, &out),
                 VM_OK);
        CHECK_EQ(vm_space_map(p, 0x4000000000, 1UL << 40, VM_PROT_NONE,
                              PRIV | FIXED | VM_MAP_NORESERVE, &out), VM_OK);
        user_fill(p, va, 1);
        user_fill(p, va + (32UL << 30), 2);
        user_fill(p, va + (64UL << 30) - P, 3);
        free = pmm_free_count();
        pt = vmstat.pt_pages;
        c = fork_of(p);
        CHECK_EQ(vmstat.pt_pages, pt + 1);      /* the child's root only */
        CHECK(free - pmm_free_count() < 16);    /* descriptors, radix nodes */
        CHECK_EQ(user_read(c, va + (32UL << 30)), 2);
        CHECK_EQ(user_read(c, va + (64UL << 30) - P), 3);
        destroy(c);
        destroy(p);
        check_baseline();
}

/* ---- failure injection ------------------------------------------------------ */

/* A parent with several kinds of areas and pages over many radix nodes. */
#define FP_PAGES        200
#define FP_CLUSTERS     12              /* far apart: radix nodes each */
static const vaddr_t fp_va = 0x10000000, fp_sh = 0x40000000,
                     fp_far = 0x100000000;

static struct vm_space *failure_parent(void)
{
        struct vm_space *p = new_space();
        vaddr_t got = 0;

        /* GiBs of sparse private memory on 32 MiB: "always overcommit". */
        vm_commit_policy.overcommit_memory = VM_OVERCOMMIT_ALWAYS;
        map_at(p, fp_va, FP_PAGES * P, RW, PRIV);
        for (unsigned i = 0; i < FP_PAGES; i += 1 + i % 3)
                user_fill(p, fp_va + i * P, (uint8_t)(i + 1));
        for (unsigned i = 0; i < 6; i++)        /* areas of one object */
                CHECK_EQ(vm_space_protect(p, fp_va + (20 + 30 * i) * P, P, R),
                         VM_OK);
        map_at(p, fp_sh, 4 * P, RW, SHARED);
        user_fill(p, fp_sh + P, 0x99);
        map_at(p, fp_far, (FP_CLUSTERS + 1) * GiB, RW, PRIV);
        for (unsigned k = 0; k < FP_CLUSTERS; k++)
                for (unsigned j = 0; j < 3; j++)
                        user_fill(p, fp_far + k * GiB + j * 0x200000,
                                  (uint8_t)(0xc0 + k));
        CHECK_EQ(vm_space_brk_init(p, 0x800000), VM_OK);
        CHECK_EQ(vm_space_brk(p, 0x800000 + 2 * P, &got), VM_OK);
        user_fill(p, 0x800000, 0x88);
        return p;
}

/* What the parent's pmap says about the pages the test cares about. */
struct pmap_view {
        bool      present[FP_PAGES];
        paddr_t   pa[FP_PAGES];
        vm_prot_t prot[FP_PAGES];
};

static void pmap_view_take(struct vm_space *p, struct pmap_view *v)
{
        for (unsigned i = 0; i < FP_PAGES; i++)
                v->present[i] = pmap_extract(vm_space_pmap(p), fp_va + i * P,
                                             &v->pa[i], &v->prot[i], NULL);
}

/* Contents of the parent (checked after its translations). */
static void parent_contents(struct vm_space *p)
{
        unsigned next = 0;

        for (unsigned i = 0; i < FP_PAGES; i++) {
                uint8_t want = i == next ? (uint8_t)(i + 1) : 0;

                if (i == next)
                        next += 1 + i % 3;
                CHECK_EQ(user_read(p, fp_va + i * P), want);
        }
        CHECK_EQ(user_read(p, fp_sh + P), 0x99);
        CHECK_EQ(user_read(p, 0x800000), 0x88);
        for (unsigned k = 0; k < FP_CLUSTERS; k++)
                for (unsigned j = 0; j < 3; j++)
                        CHECK_EQ(user_read(p, fp_far + k * GiB + j * 0x200000),
                                 0xc0 + k);
}

/* One fork attempt under some failure; true if it failed. */
static bool fork_attempt(struct vm_space *p)
{
        static struct pmap_view before;
        struct vm_space *c = NULL;
        uint64_t anon = vmstat.anon_pages, areas = p->areas.count;
        vm_status_t st;

        pmap_view_take(p, &before);
        st = vm_space_fork(p, &c);
        CHECK(st == VM_OK || st == VM_ENOMEM);
        if (st == VM_OK) {
                CHECK(vm_space_check(c));
                destroy(c);
                return false;
        }
        /* The parent is exactly as before, translations included. */
        CHECK(c == NULL);
        CHECK(vm_space_check(p));
        CHECK_EQ(vmstat.anon_pages, anon);
        CHECK_EQ(p->areas.count, areas);
        {
                static struct pmap_view now;

                pmap_view_take(p, &now);
                CHECK(memcmp(&now, &before, sizeof now) == 0);
        }
        return true;
}

/* Leave 0, 1, 2, ... free pages: fork fails at every allocation point. */
TEST(fork_failure_sweep_over_free_pages)
{
        unsigned failed = 0, ok = 0;
        struct vm_space *p;

        setup(32 * MiB);
        p = failure_parent();
        for (uint64_t leave = 0; leave < 24; leave++) {
                struct hog h;
                bool f;

                kmalloc_shrink();               /* no cached slab objects */
                hog_take(&h, leave);
                f = fork_attempt(p);
                hog_release(&h);
                failed += f;
                ok += !f;
                parent_contents(p);
        }
        printf("    %u forks failed cleanly, %u succeeded\n", failed, ok);
        CHECK(failed > 5 && ok > 0);
        destroy(p);
        check_baseline();
}

/* The n-th page-table page fails: only the child's root is needed. */
TEST(fork_failure_on_page_tables)
{
        struct vm_space *p;

        setup(32 * MiB);
        p = failure_parent();
        vm_ptpage_fail_after = 1;
        CHECK(fork_attempt(p));
        vm_ptpage_fail_after = 2;               /* fork needs just one */
        CHECK(!fork_attempt(p));
        vm_ptpage_fail_after = 0;
        parent_contents(p);
        destroy(p);
        check_baseline();
}

/* A child's copy-on-write fault when memory runs out: OOM, nothing lost. */
TEST(cow_break_out_of_memory)
{
        vaddr_t va = 0x10000000;
        struct vm_space *p, *c;
        struct hog h;
        paddr_t pa;

        setup(32 * MiB);
        p = new_space();
        map_at(p, va, 2 * P, RW, PRIV);
        user_fill(p, va, 0x5a);
        c = fork_of(p);
        CHECK_EQ(user_read(c, va), 0x5a);
        hog_take(&h, 0);
        CHECK_EQ(user_access(c, va, W, &pa), FAULT_OOM);
        CHECK_EQ(user_access(p, va, W, &pa), FAULT_OOM);
        CHECK(vm_space_check(p) && vm_space_check(c));
        hog_release(&h);
        user_fill(c, va, 0x5b);
        CHECK_EQ(user_read(p, va), 0x5a);
        destroy(p);
        destroy(c);
        check_baseline();
}

/* ---- the random tree ---------------------------------------------------------- */

#define NSP     VMM_SPACES      /* live spaces at most */
#define WIN     24              /* pages in the window */

struct tctx {
        struct vm_model  m;
        struct vm_space *sp[NSP];
        unsigned         span;          /* pages an operation's range has */
        uint64_t         ok[8];
};

static int t_pick(struct tctx *t, bool live)
{
        unsigned start = rng_below(&t->m.r, NSP);

        for (unsigned j = 0; j < NSP; j++) {
                unsigned k = (start + j) % NSP;

                if ((t->sp[k] != NULL) == live)
                        return k;
        }
        return -1;
}

static vm_prot_t t_prot(struct tctx *t)
{
        static const vm_prot_t prots[] = { 0, R, RW, RW, RW };

        return vmm_pick_prot(&t->m, prots, ARRAY_SIZE(prots));
}

static void op_fork(struct tctx *t)
{
        int p = t_pick(t, true), c = t_pick(t, false);

        if (p < 0 || c < 0)
                return;
        t->sp[c] = fork_of(t->sp[p]);
        vmm_fork(&t->m, p, c);
        t->ok[0]++;
}

static void op_exit(struct tctx *t)
{
        int k = t_pick(t, true);

        if (k < 0)
                return;
        destroy(t->sp[k]);
        t->sp[k] = NULL;
        vmm_clear(&t->m, k);
        if (t_pick(t, true) < 0)                /* keep one alive */
                t->sp[k] = new_space();
        t->ok[1]++;
}

/* An exit that leaves another space alive (a child's, or its parent's). */
static void op_exit_one_of_two(struct tctx *t)
{
        unsigned live = 0;

        for (unsigned k = 0; k < NSP; k++)
                live += t->sp[k] != NULL;
        if (live >= 2)
                op_exit(t);
}

static void op_map(struct tctx *t)
{
        int k = t_pick(t, true);
        unsigned first, n;
        vm_prot_t prot = t_prot(t);
        bool shared = rng_below(&t->m.r, 3) == 0 && t->m.nobj < VMM_OBJS;
        vaddr_t va;

        vmm_range(&t->m, t->span, &first, &n);
        va = vmm_va(&t->m, first);
        map_at(t->sp[k], va, n * P, prot, shared ? SHARED : PRIV);
        if (shared)
                vmm_map(&t->m, k, va, n, VMM_SHARED, prot,
                        vmm_new_object(&t->m, n), 0);
        else
                vmm_map(&t->m, k, va, n, VMM_ANON, prot, -1, 0);
        t->ok[2]++;
}

static void op_unmap(struct tctx *t)
{
        int k = t_pick(t, true);
        unsigned first, n;

        vmm_range(&t->m, t->span, &first, &n);
        CHECK_EQ(vm_space_unmap(t->sp[k], vmm_va(&t->m, first), n * P), VM_OK);
        vmm_unmap(&t->m, k, vmm_va(&t->m, first), n);
        t->ok[3]++;
}

static void op_protect(struct tctx *t)
{
        int k = t_pick(t, true);
        unsigned first, n;
        vm_prot_t prot = t_prot(t);
        vm_status_t want;

        vmm_range(&t->m, t->span, &first, &n);
        want = vmm_protect(&t->m, k, first, n, prot);
        CHECK_EQ(vm_space_protect(t->sp[k], vmm_va(&t->m, first), n * P, prot),
                 want);
        t->ok[4]++;
}

/* One user access to page i of space k, checked against the model. */
static void access_one(struct tctx *t, int k, unsigned i, vm_prot_t access)
{
        enum fault_result want = vmm_access(&t->m, k, i, access);
        paddr_t pa = 0;
        enum fault_result fr;
        uint64_t around;

        if (rng_below(&t->m.r, 4) == 0)
                activate(t->sp[k]);             /* a context switch */
        around = t->sp[k]->stats.cow_reuses_around;
        fr = user_access(t->sp[k], vmm_va(&t->m, i), access, &pa);
        t->ok[7] += t->sp[k]->stats.cow_reuses_around - around;
        CHECK_EQ(fr, want);
        if (fr != FAULT_RESOLVED)
                return;
        CHECK(vmm_content_ok(&t->m, k, i, pa));
        if (access == W) {
                uint8_t b = 1 + rng_below(&t->m.r, 255);

                memset(phys_to_virt(page_trunc(pa)), b, P);
                vmm_wrote(&t->m, k, i, b);
        }
        t->ok[5]++;
}

static void op_access(struct tctx *t, vm_prot_t access)
{
        int k = t_pick(t, true);

        access_one(t, k, rng_below(&t->m.r, t->m.win), access);
}

/* A process writing a run of its pages (as a parent does after its child
 * exits or execs). */
static void op_write_run(struct tctx *t)
{
        int k = t_pick(t, true);
        unsigned first, n;

        vmm_range(&t->m, t->span, &first, &n);
        for (unsigned i = first; i < first + n; i++)
                access_one(t, k, i, W);
}

static void op_write(struct tctx *t)
{
        op_access(t, W);
}

static void op_read(struct tctx *t)
{
        op_access(t, R);
}

static void op_dontneed(struct tctx *t)
{
        int k = t_pick(t, true);
        unsigned first, n;
        vm_status_t want;

        vmm_range(&t->m, t->span, &first, &n);
        want = vmm_dontneed(&t->m, k, first, n);
        CHECK_EQ(vm_space_advise(t->sp[k], vmm_va(&t->m, first), n * P,
                                 VM_MADV_DONTNEED), want);
        t->ok[6]++;
}

/* Every live space as the model says, and the anonymous page count. */
static void t_check(struct tctx *t)
{
        CHECK(softmmu_tlb_check());
        CHECK_EQ(distinct_anon_frames(t->sp, NSP), vmstat.anon_pages);
        vmm_check_sharing(&t->m, t->sp);
        for (unsigned k = 0; k < NSP; k++)
                if (t->sp[k])
                        vmm_check(&t->m, k, t->sp[k]);
}

/*
 * steps random operations from seed. reuse: the mix that exercises
 * reuse-around - ranges of up to 16 pages in a 32-page window aligned to
 * reuse_around's, runs of writes, exits that leave a space alive, no
 * munmap; else the first mix (up to 6 pages in 24).
 */
static void run_tree(uint64_t seed, unsigned steps, bool reuse)
{
        static struct tctx ctx;
        struct tctx *t = &ctx;
        void (*const first_mix[])(struct tctx *) = {
                op_fork, op_fork, op_exit, op_map, op_map, op_unmap,
                op_protect, op_write, op_write, op_write, op_read, op_read,
                op_dontneed,
        };
        void (*const reuse_mix[])(struct tctx *) = {
                op_fork, op_fork, op_exit_one_of_two, op_exit_one_of_two,
                op_exit_one_of_two, op_map, op_protect, op_write_run,
                op_write_run, op_write_run, op_write_run, op_read,
                op_dontneed,
        };
        unsigned win = reuse ? 2 * RA : WIN;
        vaddr_t base;

        memset(t, 0, sizeof *t);
        t->span = reuse ? RA : 6;
        setup(64 * MiB);
        t->sp[0] = new_space();
        base = t->sp[0]->mmap_base - win * P;
        if (reuse)
                base &= ~(vaddr_t)(RA * P - 1);
        vmm_init(&t->m, seed, win, base);
        activate(t->sp[0]);
        for (unsigned step = 0; step < steps; step++) {
                if (reuse)
                        reuse_mix[rng_below(&t->m.r, ARRAY_SIZE(reuse_mix))](t);
                else
                        first_mix[rng_below(&t->m.r, ARRAY_SIZE(first_mix))](t);
                t_check(t);
        }
        printf("    %u steps: %lu forks, %lu exits, %lu maps, %lu unmaps, "
               "%lu protects, %lu accesses, %lu dontneeds, %lu pages made "
               "writable around a reused one\n", steps,
               t->ok[0], t->ok[1], t->ok[2], t->ok[3], t->ok[4], t->ok[5],
               t->ok[6], t->ok[7]);
        for (unsigned k = 0; k < 7; k++)
                CHECK(t->ok[k] > steps / 50 || (reuse && k == 3));
        CHECK(!reuse || t->ok[7] > steps / 100);
        for (unsigned k = 0; k < NSP; k++)
                if (t->sp[k])
                        destroy(t->sp[k]);
        check_baseline();
}

TEST(random_tree_seed1)
{
        run_tree(0xc0ffee, 3000, false);
}

TEST(random_tree_seed2)
{
        run_tree(0xf00d, 3000, false);
}

TEST(random_tree_seed3)
{
        run_tree(0x5eed5eed, 3000, false);
}

/* Fork, exit and runs of writes: pages made writable around reused ones
 * while others stay shared with live spaces (vmm_check_sharing). */
TEST(random_reuse_seed1)
{
        run_tree(0x2e05e, 3000, true);
}

TEST(random_reuse_seed2)
{
        run_tree(0xa20d, 3000, true);
}
