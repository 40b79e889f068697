/*
 * test_vm_space.c - address spaces (kernel/vm/vm_space.c, vm_fault.c,
 * vm_object.c) over simulated RAM, the real x86-64 table code and the
 * software MMU.
 *
 * User accesses are simulated as the CPU does them: a translation through
 * the software MMU (user mode, through its TLB while the space is active),
 * and on a page fault vm_fault() and one retry. Contents are checked
 * through pmap_extract() + phys_to_virt(), permissions through
 * softmmu_translate() with user = true.
 *
 * random_* tests run thousands of map / unmap / protect / brk / fault
 * steps over a window of pages against a model (per page: mapped?, prot,
 * shared?, the byte the test wrote), checking after every step
 * vm_space_check(), the TLB against the tables, and every page of the
 * window against the model. Directed tests pin down one rule each. Every
 * test ends by destroying its spaces and checking that free pages, page
 * tables, anonymous pages and the heap are back to their baseline.
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
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#include <stdlib.h>
#include <string.h>

/* ---- the random test: a window of pages against the model -------------- */

#define WIN     48                      /* pages in the window */
#define LOCKS   (VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)

struct vctx {
        struct vm_model  m;             /* one space: the model's space 0 */
        struct vm_space *s;
        vaddr_t          start_brk, brk;
        uint64_t         ok[8];         /* successful steps by kind */
};

static vm_prot_t rand_prot(struct vctx *c)
{
        static const vm_prot_t prots[] = { 0, R, R, RW, RW, RW, R | X,
                                           RW | X, W, X };

        return vmm_pick_prot(&c->m, prots, ARRAY_SIZE(prots));
}

static unsigned rand_map_flags(struct vctx *c, bool *shared)
{
        unsigned flags;

        *shared = rng_below(&c->m.r, 4) == 0;
        flags = *shared ? SHARED : PRIV;
        if (rng_below(&c->m.r, 5) == 0)
                flags |= VM_MAP_POPULATE;
        if (rng_below(&c->m.r, 10) == 0)
                flags |= VM_MAP_NORESERVE;
        return flags;
}

/* The model's side of a new anonymous mapping of n pages at va. */
static void m_map(struct vctx *c, vaddr_t va, uint64_t n, vm_prot_t prot,
                  bool shared)
{
        if (shared)
                vmm_map(&c->m, 0, va, n, VMM_SHARED, prot,
                        vmm_new_object(&c->m, n), 0);
        else
                vmm_map(&c->m, 0, va, n, VMM_ANON, prot, -1, 0);
}

static void op_map_fixed(struct vctx *c)
{
        unsigned first, n, flags;
        vm_prot_t prot = rand_prot(c);
        bool shared, noreplace = rng_below(&c->m.r, 3) == 0;
        vaddr_t out = 0, va;
        vm_status_t want;

        vmm_range(&c->m, 10, &first, &n);
        va = vmm_va(&c->m, first);
        flags = rand_map_flags(c, &shared) |
                (noreplace ? VM_MAP_FIXED_NOREPLACE : FIXED);
        want = noreplace && !vmm_free(&c->m, 0, va, n) ? VM_EEXIST : VM_OK;
        CHECK_EQ(vm_space_map(c->s, va, n * P, prot, flags, &out), want);
        if (want != VM_OK)
                return;
        CHECK_EQ(out, va);
        m_map(c, va, n, prot, shared);
        c->ok[0]++;
}

static void op_map_hint(struct vctx *c)
{
        unsigned first, n, flags;
        vm_prot_t prot = rand_prot(c);
        bool shared;
        vaddr_t hint = 0, out = 0, want, top = vmm_va(&c->m, WIN);

        vmm_range(&c->m, 10, &first, &n);
        if (rng_below(&c->m.r, 2))
                hint = vmm_va(&c->m, first) + rng_below(&c->m.r, P);  /* unaligned */
        flags = rand_map_flags(c, &shared);
        want = hint && vmm_free(&c->m, 0, page_trunc(hint), n)
               ? page_trunc(hint) : vmm_place(&c->m, 0, c->s->mmap_base, n);
        CHECK_EQ(vm_space_map(c->s, hint, n * P - rng_below(&c->m.r, P), prot,
                              flags, &out), VM_OK);
        CHECK_EQ(out, want);
        CHECK(vm_space_check(c->s));
        /* Keep the outside of the window free. */
        if (out < c->m.base)
                CHECK_EQ(vm_space_unmap(c->s, out, MIN(n * P, c->m.base - out)),
                         VM_OK);
        if (out + n * P > top)
                CHECK_EQ(vm_space_unmap(c->s, MAX(out, top),
                                        out + n * P - MAX(out, top)), VM_OK);
        m_map(c, out, n, prot, shared);
        c->ok[1]++;
}

static void op_unmap(struct vctx *c)
{
        unsigned first, n;

        vmm_range(&c->m, 10, &first, &n);
        CHECK_EQ(vm_space_unmap(c->s, vmm_va(&c->m, first), n * P), VM_OK);
        vmm_unmap(&c->m, 0, vmm_va(&c->m, first), n);
        c->ok[2]++;
}

static void op_protect(struct vctx *c)
{
        unsigned first, n;
        vm_prot_t prot = rand_prot(c);
        vm_status_t want;

        vmm_range(&c->m, 10, &first, &n);
        want = vmm_protect(&c->m, 0, first, n, prot);
        CHECK_EQ(vm_space_protect(c->s, vmm_va(&c->m, first), n * P, prot), want);
        c->ok[3] += want == VM_OK;
}

/* mlock / munlock of a range: all of it mapped, or nothing changes. */
static void op_lock(struct vctx *c)
{
        static const unsigned kinds[] = { 0, VM_AREA_LOCKED, LOCKS };
        unsigned first, n, lock = kinds[rng_below(&c->m.r, 3)];
        vm_status_t want;

        vmm_range(&c->m, 10, &first, &n);
        want = vmm_lock(&c->m, 0, first, n, lock);
        CHECK_EQ(vm_space_set_lock(c->s, vmm_va(&c->m, first), n * P, lock), want);
        c->ok[6] += want == VM_OK;
}

/* mlockall(MCL_CURRENT) / munlockall, now and then. */
static void op_lock_all(struct vctx *c)
{
        unsigned lock = rng_below(&c->m.r, 2) ? VM_AREA_LOCKED : 0;

        if (rng_below(&c->m.r, 8))
                return;
        vm_space_set_lock_all(c->s, lock);
        vmm_lock_all(&c->m, 0, lock);
}

/* Linux's brk rules, on the model. */
static vm_status_t m_brk(struct vctx *c, vaddr_t want)
{
        vaddr_t newbrk = page_round(want), oldbrk = page_round(c->brk);

        if (want < c->start_brk)
                return VM_EINVAL;
        if (newbrk < oldbrk) {
                if (vmm_free(&c->m, 0, newbrk, (oldbrk - newbrk) / P))
                        return VM_ENOENT;
                vmm_unmap(&c->m, 0, newbrk, (oldbrk - newbrk) / P);
        } else if (newbrk > oldbrk) {
                if (!vmm_free(&c->m, 0, oldbrk, (newbrk - oldbrk) / P + 1))
                        return VM_ENOMEM;
                m_map(c, oldbrk, (newbrk - oldbrk) / P, RW, false);
        }
        c->brk = want;
        return VM_OK;
}

static void op_brk(struct vctx *c)
{
        vaddr_t top = vmm_va(&c->m, WIN);
        vaddr_t want = c->start_brk - 2 * P +
                       rng_below(&c->m.r, top - c->start_brk);
        vaddr_t got = 0;
        vm_status_t st;

        if (rng_below(&c->m.r, 4) == 0) /* often just around the current brk */
                want = MIN(c->brk - 3 * P + rng_below(&c->m.r, 6 * P),
                           top);        /* the heap stays inside */
        st = m_brk(c, want);
        CHECK_EQ(vm_space_brk(c->s, want, &got), st);
        CHECK_EQ(got, c->brk);
        c->ok[4] += st == VM_OK;
}

/* A user access anywhere in the window or just outside it. */
static void op_fault(struct vctx *c)
{
        static const vm_prot_t acc[] = { R, R, W, W, X };
        vm_prot_t access = acc[rng_below(&c->m.r, ARRAY_SIZE(acc))];
        vaddr_t va = c->m.base - P + rng_below(&c->m.r, (WIN + 2) * P);
        bool inside = va >= c->m.base && va < vmm_va(&c->m, WIN);
        unsigned i = inside ? (unsigned)((va - c->m.base) >> PAGE_SHIFT) : 0;
        bool mapped = inside && c->m.pg[0][i].kind != VMM_NONE;
        enum fault_result want = inside ? vmm_access(&c->m, 0, i, access)
                                        : FAULT_SEGV;
        paddr_t pa = 0;
        enum fault_result fr = user_access(c->s, va, access, &pa);

        CHECK_EQ(fr, want);
        if (fr != FAULT_RESOLVED) {
                CHECK_EQ(c->s->last_fault.reason, mapped
                         ? FAULT_REASON_PROT : FAULT_REASON_NO_AREA);
                return;
        }
        CHECK(vmm_content_ok(&c->m, 0, i, pa));
        if (access == W) {
                uint8_t b = 1 + rng_below(&c->m.r, 255);

                memset(phys_to_virt(page_trunc(pa)), b, PAGE_SIZE);
                vmm_wrote(&c->m, 0, i, b);
        }
        c->ok[5]++;
}

/* pmap_mapped_pages() over [lo, hi) is what pmap_extract() page by page
 * finds there. */
static void check_mapped_count(struct vm_space *s, vaddr_t lo, vaddr_t hi)
{
        uint64_t n = 0;

        for (vaddr_t va = lo; va < hi; va += P)
                n += pmap_extract(vm_space_pmap(s), va, NULL, NULL, NULL);
        CHECK_EQ(pmap_mapped_pages(vm_space_pmap(s), lo, hi), n);
}

static void run_random(uint64_t seed, unsigned steps)
{
        static struct vctx ctx;
        struct vctx *c = &ctx;
        void (*const ops[])(struct vctx *) = {
                op_map_fixed, op_map_fixed, op_map_hint, op_unmap,
                op_protect, op_protect, op_brk, op_fault, op_fault,
                op_fault, op_fault, op_lock, op_lock_all,
        };

        memset(c, 0, sizeof *c);
        setup(64 * MiB);
        c->s = new_space();
        activate(c->s);
        vmm_init(&c->m, seed, WIN, c->s->mmap_base - WIN * P);
        c->start_brk = c->brk = vmm_va(&c->m, 8);
        CHECK_EQ(vm_space_brk_init(c->s, c->start_brk), VM_OK);
        for (unsigned step = 0; step < steps; step++) {
                ops[rng_below(&c->m.r, ARRAY_SIZE(ops))](c);
                vmm_check(&c->m, 0, c->s);
                CHECK(softmmu_tlb_check());
                CHECK_EQ(c->s->brk, c->brk);
                /* ranges that start and end anywhere in and around the
                 * window (no draw from the generator: the op sequence
                 * stays the seed's), and now and then 32 MiB around it */
                vaddr_t lo = c->m.base - 8 * P + (step % (WIN + 8)) * P;
                check_mapped_count(c->s, lo, lo + (step * 7 % (WIN + 16)) * P);
                if (step % 256 == 0)
                        check_mapped_count(c->s, c->m.base - 16 * MiB,
                                           vmm_va(&c->m, WIN) + 16 * MiB);
        }
        printf("    %u steps: %lu fixed maps, %lu placed maps, %lu unmaps, "
               "%lu protects, %lu brks, %lu faults resolved, %lu locks; "
               "%lu areas\n",
               steps, c->ok[0], c->ok[1], c->ok[2], c->ok[3], c->ok[4],
               c->ok[5], c->ok[6], (unsigned long)c->s->areas.count);
        for (unsigned k = 0; k < 7; k++)      /* brk succeeds less often */
                CHECK(c->ok[k] > steps / (k == 4 ? 200 : 100));
        destroy(c->s);
        check_baseline();
}

TEST(random_ops_seed1)
{
        run_random(0x600d5eed, 6000);
}

TEST(random_ops_seed2)
{
        run_random(0xfeedface, 6000);
}

TEST(random_ops_seed3)
{
        run_random(0x1234567, 6000);
}

/* ---- directed: faults and the zero page ------------------------------------- */

TEST(zero_page_shared_by_reads_then_copied_on_write)
{
        struct vm_space *s;
        vaddr_t va = 0, vs = 0, vr = 0;
        paddr_t zp = vm_zero_page_pa(), pa;

        setup(32 * MiB);
        zp = vm_zero_page_pa();
        s = new_space();
        CHECK_EQ(vm_space_map(s, 0, 4 * P, RW, PRIV, &va), VM_OK);
        CHECK_EQ(va, s->mmap_base - 4 * P);     /* top-down */
        for (unsigned i = 0; i < 4; i++) {
                CHECK(!present(s, va + i * P)); /* nothing before a touch */
                CHECK_EQ(user_read(s, va + i * P + 17), 0);
                CHECK_EQ(frame(s, va + i * P), zp);
                CHECK(can(s, va + i * P, R) && !can(s, va + i * P, W));
        }
        CHECK_EQ(vmstat.anon_pages, 0);
        CHECK_EQ(s->stats.zero_maps, 4);
        CHECK(vm_space_check(s));

        user_fill(s, va + P, 0xab);             /* write: its own page */
        pa = frame(s, va + P);
        CHECK(pa != zp);
        CHECK(can(s, va + P, W));
        CHECK_EQ(vmstat.anon_pages, 1);
        CHECK_EQ(user_read(s, va + P), 0xab);
        CHECK_EQ(frame(s, va), zp);             /* the others still share */
        CHECK_EQ(frame(s, va + 2 * P), zp);
        CHECK(vm_zero_page_check());
        user_fill(s, va + 3 * P, 0xcd);         /* write without read first */
        CHECK_EQ(vmstat.anon_pages, 2);
        CHECK(vm_space_check(s));

        /* Shared memory never uses the zero page, even for a read. */
        CHECK_EQ(vm_space_map(s, 0, 2 * P, RW, SHARED, &vs), VM_OK);
        CHECK_EQ(user_read(s, vs), 0);
        CHECK(frame(s, vs) != zp);
        CHECK_EQ(vmstat.anon_pages, 3);

        /* Read-only private memory: the zero page, and writes refused. */
        CHECK_EQ(vm_space_map(s, 0, P, R, PRIV, &vr), VM_OK);
        CHECK_EQ(user_read(s, vr), 0);
        CHECK_EQ(frame(s, vr), zp);
        CHECK_EQ(user_access(s, vr, W, &pa), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        CHECK(vm_zero_page_check());
        destroy(s);
        check_baseline();
}

TEST(exec_needs_an_exec_area)
{
        struct vm_space *s;
        vaddr_t va = 0x400000, vx = 0x500000, vn = 0x600000, vw = 0x700000;
        paddr_t pa;

        setup(32 * MiB);
        s = new_space();
        map_at(s, va, P, RW, PRIV);
        user_fill(s, va, 0x90);
        CHECK_EQ(user_access(s, va, X, &pa), FAULT_SEGV);      /* NX */
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        CHECK(!can(s, va, X));

        map_at(s, vx, P, R | X, PRIV);
        CHECK_EQ(user_access(s, vx, X, &pa), FAULT_RESOLVED);
        CHECK(can(s, vx, X) && !can(s, vx, W));
        CHECK_EQ(vm_space_protect(s, vx, P, R), VM_OK);
        CHECK(!can(s, vx, X));                  /* narrowed at once */
        CHECK_EQ(user_access(s, vx, X, &pa), FAULT_SEGV);

        map_at(s, vn, P, VM_PROT_NONE, PRIV);   /* PROT_NONE: nothing */
        CHECK_EQ(user_access(s, vn, R, &pa), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        CHECK_EQ(user_access(s, vn, W, &pa), FAULT_SEGV);
        CHECK(!present(s, vn));

        map_at(s, vw, P, W, PRIV);              /* x86: write implies read */
        CHECK_EQ(user_access(s, vw, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(user_access(s, vw, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(user_access(s, vw, X, &pa), FAULT_SEGV);

        /* Outside the user range there is never an area. */
        CHECK_EQ(vm_fault(s, 0, R), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_NO_AREA);
        CHECK_EQ(vm_fault(s, USER_MIN - 1, R), FAULT_SEGV);
        CHECK_EQ(vm_fault(s, USER_MAX, W), FAULT_SEGV);
        CHECK_EQ(vm_fault(s, KERNEL_BASE, R), FAULT_SEGV);
        CHECK_EQ(s->last_fault.result, FAULT_SEGV);
        CHECK(vm_fault_reason_name(FAULT_REASON_PROT)[0] != '?');
        destroy(s);
        check_baseline();
}

/* ---- directed: mmap placement and replacement ------------------------------- */

TEST(map_fixed_replaces)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000;

        setup(32 * MiB);
        s = new_space();
        map_at(s, va, 8 * P, RW, PRIV);
        for (unsigned i = 0; i < 8; i++)
                user_fill(s, va + i * P, i + 1);
        CHECK_EQ(vmstat.anon_pages, 8);

        map_at(s, va + 3 * P, 2 * P, R, PRIV);  /* the middle, read-only */
        CHECK_EQ(vmstat.anon_pages, 6);         /* old pages freed at once */
        CHECK_EQ(s->areas.count, 3);
        CHECK_EQ(user_read(s, va + 3 * P), 0);
        CHECK_EQ(frame(s, va + 3 * P), vm_zero_page_pa());
        CHECK_EQ(vm_fault(s, va + 4 * P, W), FAULT_SEGV);
        CHECK_EQ(user_read(s, va + 2 * P), 3);
        CHECK_EQ(user_read(s, va + 5 * P), 6);

        /* Over the end of an area and a hole: merges with what is left. */
        map_at(s, va + 7 * P, 4 * P, RW, PRIV);
        CHECK_EQ(s->areas.count, 3);
        CHECK_EQ(vm_space_lookup(s, va + 5 * P)->end, va + 11 * P);
        CHECK_EQ(user_read(s, va + 7 * P), 0);
        CHECK_EQ(user_read(s, va + 6 * P), 7);
        CHECK_EQ(vmstat.anon_pages, 5);

        /* Shared over private: a new object, zeroes. */
        map_at(s, va, 2 * P, RW, SHARED);
        CHECK_EQ(user_read(s, va + P), 0);
        CHECK_EQ(user_read(s, va + 2 * P), 3);
        CHECK(vm_space_lookup(s, va)->flags & VM_AREA_SHARED);
        /* Everything at once. */
        map_at(s, va, 16 * P, R, PRIV);
        CHECK_EQ(s->areas.count, 1);
        CHECK_EQ(vmstat.anon_pages, 0);
        destroy(s);
        check_baseline();
}

TEST(fixed_noreplace_refuses)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0;

        setup(32 * MiB);
        s = new_space();
        map_at(s, va, 4 * P, RW, PRIV);
        user_fill(s, va + 3 * P, 0x11);
        CHECK_EQ(vm_space_map(s, va + 3 * P, 2 * P, RW,
                              PRIV | VM_MAP_FIXED_NOREPLACE, &out), VM_EEXIST);
        CHECK_EQ(vm_space_map(s, va - P, 2 * P, R,
                              PRIV | VM_MAP_FIXED_NOREPLACE, &out), VM_EEXIST);
        CHECK_EQ(user_read(s, va + 3 * P), 0x11);
        CHECK_EQ(s->areas.count, 1);
        CHECK_EQ(vm_space_map(s, va + 4 * P + 8, P, R,
                              PRIV | VM_MAP_FIXED_NOREPLACE, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map(s, va + 4 * P, 2 * P, R,
                              PRIV | VM_MAP_FIXED_NOREPLACE, &out), VM_OK);
        CHECK_EQ(out, va + 4 * P);
        CHECK_EQ(vm_space_map(s, va - P, P, RW,
                              PRIV | VM_MAP_FIXED_NOREPLACE, &out), VM_OK);
        CHECK_EQ(out, va - P);
        CHECK_EQ(s->areas.count, 2);            /* the RW one merged */
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(hints_honoured_when_free_ignored_when_not)
{
        struct vm_space *s;
        vaddr_t top, out = 0, h = 0x20000000;

        setup(32 * MiB);
        s = new_space();
        top = s->mmap_base;
        CHECK_EQ(top, USER_MAX - VM_MMAP_GAP_MIN);      /* Linux, no ASLR */
        CHECK_EQ(vm_space_map(s, 0, 2 * P, RW, PRIV, &out), VM_OK);
        CHECK_EQ(out, top - 2 * P);
        CHECK_EQ(vm_space_map(s, 0, 3 * P, RW, PRIV, &out), VM_OK);
        CHECK_EQ(out, top - 5 * P);
        CHECK_EQ(s->areas.count, 1);                    /* merged */
        CHECK_EQ(vm_space_map(s, h + 123, P, R, PRIV, &out), VM_OK);
        CHECK_EQ(out, h);                               /* rounded down */
        CHECK_EQ(vm_space_map(s, h - P, 4 * P, R, PRIV, &out), VM_OK);
        CHECK_EQ(out, top - 9 * P);                     /* taken: ignored */
        CHECK_EQ(vm_space_map(s, 0x1000, P, R, PRIV, &out), VM_OK);
        CHECK_EQ(out, USER_MIN);                        /* raised to min */
        CHECK_EQ(vm_space_map(s, USER_MAX - P, 2 * P, RW, PRIV, &out), VM_OK);
        CHECK_EQ(out, top - 11 * P);                    /* beyond max */

        /* A stack keeps its guard gap free of placed mappings. */
        CHECK_EQ(vm_space_stack_init(s, USER_MAX, 32 * P), VM_OK);
        h = USER_MAX - 32 * P - VM_STACK_GUARD_GAP;
        CHECK_EQ(vm_space_map(s, h + P, P, R, PRIV, &out), VM_OK);
        CHECK(out != h + P);
        CHECK_EQ(vm_space_map(s, h - P, P, R, PRIV, &out), VM_OK);
        CHECK_EQ(out, h - P);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(placement_falls_back_bottom_up)
{
        struct vm_space *s;
        vaddr_t out = 0, legacy = VM_MMAP_LEGACY_BASE;

        setup(32 * MiB);
        s = new_space();
        /* Fill everything below mmap_base (areas only: no pages). */
        CHECK_EQ(vm_space_map(s, USER_MIN, s->mmap_base - USER_MIN,
                              VM_PROT_NONE, PRIV | FIXED | VM_MAP_NORESERVE,
                              &out), VM_OK);
        CHECK_EQ(vm_space_map(s, 0, 2 * P, RW, PRIV, &out), VM_OK);
        CHECK_EQ(out, s->mmap_base);            /* lowest above legacy base */
        CHECK(out >= legacy);
        /* Nothing left anywhere that large. */
        CHECK_EQ(vm_space_map(s, 0, USER_MAX - s->mmap_base, RW, PRIV, &out),
                 VM_ENOMEM);
        CHECK_EQ(vm_space_unmap(s, USER_MIN, s->mmap_base - USER_MIN), VM_OK);
        CHECK_EQ(s->areas.count, 1);
        destroy(s);
        check_baseline();
}

/* ---- directed: split, merge, protect, unmap ----------------------------- */

TEST(partial_unmap_and_protect_split_then_merge)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000;

        setup(32 * MiB);
        s = new_space();
        map_at(s, va, 10 * P, RW, PRIV);
        for (unsigned i = 0; i < 10; i++)
                user_fill(s, va + i * P, 0x10 + i);
        CHECK_EQ(vm_space_protect(s, va + 3 * P, 2 * P, R), VM_OK);
        CHECK_EQ(s->areas.count, 3);
        CHECK(!can(s, va + 3 * P, W) && can(s, va + 3 * P, R));
        CHECK(can(s, va + 2 * P, W));
        CHECK_EQ(user_read(s, va + 4 * P), 0x14);
        CHECK(vm_space_check(s));
        CHECK_EQ(vm_space_protect(s, va + 3 * P, 2 * P, RW), VM_OK);
        CHECK_EQ(s->areas.count, 1);            /* merged back */
        user_fill(s, va + 3 * P, 0x44);         /* write re-enabled by fault */
        CHECK_EQ(user_read(s, va + 4 * P), 0x14);

        CHECK_EQ(vm_space_unmap(s, va + 4 * P, P), VM_OK);
        CHECK_EQ(s->areas.count, 2);
        CHECK_EQ(vmstat.anon_pages, 9);
        CHECK(!present(s, va + 4 * P));
        CHECK_EQ(vm_fault(s, va + 4 * P, R), FAULT_SEGV);
        map_at(s, va + 4 * P, P, RW, PRIV);
        CHECK_EQ(s->areas.count, 1);            /* the hole refilled */
        CHECK_EQ(user_read(s, va + 4 * P), 0);

        /* Same prot over part of an area: no split at all. */
        CHECK_EQ(vm_space_protect(s, va + P, P, RW), VM_OK);
        CHECK_EQ(s->areas.count, 1);
        /* Two areas given one prot become one. */
        CHECK_EQ(vm_space_protect(s, va, 5 * P, R), VM_OK);
        CHECK_EQ(s->areas.count, 2);
        CHECK_EQ(vm_space_protect(s, va + 2 * P, 8 * P, R), VM_OK);
        CHECK_EQ(s->areas.count, 1);
        /* A hole in the range: ENOMEM, and (unlike Linux) no change. */
        CHECK_EQ(vm_space_unmap(s, va + 8 * P, P), VM_OK);
        CHECK_EQ(vm_space_protect(s, va + 6 * P, 4 * P, RW), VM_ENOMEM);
        CHECK_EQ(vm_space_lookup(s, va + 6 * P)->prot, R);
        CHECK_EQ(vm_space_protect(s, va + 20 * P, P, RW), VM_ENOMEM);
        /* Unmapping across areas and holes. */
        CHECK_EQ(vm_space_unmap(s, va + 7 * P, 100 * P), VM_OK);
        CHECK_EQ(vm_space_unmap(s, va - 100 * P, 101 * P), VM_OK);
        CHECK_EQ(s->areas.count, 1);
        CHECK_EQ(vm_space_lookup(s, va + P)->start, va + P);
        CHECK_EQ(vm_space_lookup(s, va + P)->end, va + 7 * P);
        CHECK_EQ(user_read(s, va + 2 * P), 0x12);
        CHECK_EQ(vmstat.anon_pages, 5);         /* pages 1, 2, 3, 5, 6 */
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(protect_narrows_translations_at_once)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000;
        paddr_t pa;

        setup(32 * MiB);
        s = new_space();
        activate(s);
        map_at(s, va, 2 * P, RW, PRIV);
        user_fill(s, va, 0x77);
        CHECK_EQ(user_access(s, va, W, &pa), FAULT_RESOLVED);   /* TLB */
        CHECK_EQ(vm_space_protect(s, va, 2 * P, R), VM_OK);
        CHECK(softmmu_tlb_check());             /* the TLB was flushed */
        CHECK_EQ(user_access(s, va, W, &pa), FAULT_SEGV);
        CHECK_EQ(vm_space_protect(s, va, 2 * P, VM_PROT_NONE), VM_OK);
        CHECK(!present(s, va));
        CHECK_EQ(vmstat.anon_pages, 1);         /* the page stays */
        CHECK_EQ(vm_space_protect(s, va, 2 * P, RW), VM_OK);
        CHECK_EQ(user_read(s, va), 0x77);
        CHECK_EQ(vm_space_unmap(s, va, 2 * P), VM_OK);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(vmstat.anon_pages, 0);
        destroy(s);
        check_baseline();
}

TEST(shared_anonymous_memory)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000;

        setup(32 * MiB);
        s = new_space();
        map_at(s, va, 4 * P, RW, SHARED);
        user_fill(s, va, 0x01);
        user_fill(s, va + P, 0x5a);
        CHECK_EQ(vm_space_protect(s, va + 2 * P, P, R), VM_OK);
        CHECK_EQ(s->areas.count, 3);
        CHECK(vm_space_lookup(s, va)->object ==
              vm_space_lookup(s, va + 3 * P)->object);
        CHECK_EQ(user_read(s, va + P), 0x5a);
        CHECK_EQ(vm_space_protect(s, va + 2 * P, P, RW), VM_OK);
        CHECK_EQ(s->areas.count, 1);            /* same object: merges */
        /* Like shmem, the object keeps its pages while it is mapped. */
        CHECK_EQ(vm_space_unmap(s, va, P), VM_OK);
        CHECK_EQ(vmstat.anon_pages, 2);
        CHECK_EQ(user_read(s, va + P), 0x5a);
        /* Two shared mappings never merge (different objects). */
        map_at(s, va, P, RW, SHARED);
        CHECK_EQ(s->areas.count, 2);
        CHECK_EQ(user_read(s, va), 0);
        CHECK_EQ(vm_space_unmap(s, va, 4 * P), VM_OK);
        CHECK_EQ(vmstat.anon_pages, 0);         /* last reference gone */
        destroy(s);
        check_baseline();
}

TEST(populate_prefaults)
{
        struct vm_space *s;
        vaddr_t out = 0;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_map(s, 0, 8 * P, RW, PRIV | VM_MAP_POPULATE, &out),
                 VM_OK);
        for (unsigned i = 0; i < 8; i++)
                CHECK(can(s, out + i * P, W));
        CHECK_EQ(vmstat.anon_pages, 8);
        CHECK_EQ(vm_space_map(s, 0, 4 * P, R, PRIV | VM_MAP_POPULATE, &out),
                 VM_OK);
        for (unsigned i = 0; i < 4; i++)
                CHECK_EQ(frame(s, out + i * P), vm_zero_page_pa());
        CHECK_EQ(vmstat.anon_pages, 8);
        CHECK_EQ(vm_space_map(s, 0, 2 * P, R, SHARED | VM_MAP_POPULATE, &out),
                 VM_OK);
        CHECK_EQ(vmstat.anon_pages, 10);
        CHECK_EQ(vm_space_map(s, 0, 2 * P, VM_PROT_NONE,
                              PRIV | VM_MAP_POPULATE, &out), VM_OK);
        CHECK(!present(s, out));
        /* A populate that runs out of memory does not fail the mmap. */
        vm_ptpage_fail_after = 1;
        CHECK_EQ(vm_space_map(s, 0x30000000, 2 * P, RW,
                              PRIV | VM_MAP_POPULATE | FIXED, &out), VM_OK);
        vm_ptpage_fail_after = 0;
        CHECK(!present(s, out));
        CHECK_EQ(s->last_fault.result, FAULT_OOM);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

/* ---- directed: brk -------------------------------------------------------- */

TEST(brk_edges)
{
        struct vm_space *s;
        vaddr_t start = 0x600000, got = 0;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_brk(s, start, &got), VM_EINVAL);      /* no heap */
        CHECK_EQ(vm_space_brk_init(s, 0x1000), VM_EINVAL);
        CHECK_EQ(vm_space_brk_init(s, start), VM_OK);
        CHECK_EQ(vm_space_brk(s, 0, &got), VM_EINVAL);          /* query */
        CHECK_EQ(got, start);
        CHECK_EQ(vm_space_brk(s, start - 1, &got), VM_EINVAL);
        CHECK_EQ(got, start);
        CHECK_EQ(vm_space_brk(s, start, &got), VM_OK);
        CHECK_EQ(s->areas.count, 0);
        CHECK_EQ(vm_space_brk(s, start + 1, &got), VM_OK);
        CHECK_EQ(got, start + 1);
        CHECK_EQ(vm_space_lookup(s, start)->end, start + P);
        CHECK_EQ(vm_space_brk(s, start + 100, &got), VM_OK);    /* same page */
        CHECK_EQ(got, start + 100);
        CHECK_EQ(vm_space_brk(s, start + 3 * P + 5, &got), VM_OK);
        CHECK_EQ(vm_space_lookup(s, start)->end, start + 4 * P);
        CHECK_EQ(s->areas.count, 1);
        for (unsigned i = 0; i < 4; i++)
                user_fill(s, start + i * P, 0x30 + i);
        CHECK_EQ(vm_space_brk(s, start + P, &got), VM_OK);      /* shrink */
        CHECK_EQ(vmstat.anon_pages, 1);
        CHECK(!vm_space_lookup(s, start + P));
        CHECK_EQ(user_read(s, start), 0x30);

        /* Growth stops a page short of the next mapping. */
        map_at(s, start + 10 * P, P, R, PRIV);
        CHECK_EQ(vm_space_brk(s, start + 9 * P, &got), VM_OK);
        CHECK_EQ(vm_space_brk(s, start + 9 * P + 1, &got), VM_ENOMEM);
        CHECK_EQ(got, start + 9 * P);
        CHECK_EQ(user_read(s, start + 8 * P), 0);
        /* Shrinking a heap someone unmapped: Linux refuses. */
        CHECK_EQ(vm_space_unmap(s, start, 9 * P), VM_OK);
        CHECK_EQ(vm_space_brk(s, start + P, &got), VM_ENOENT);
        CHECK_EQ(got, start + 9 * P);
        CHECK_EQ(vm_space_brk(s, USER_MAX + P, &got), VM_ENOMEM);
        CHECK_EQ(vm_space_brk(s, start + 9 * P + 1, &got), VM_ENOMEM);
        CHECK_EQ(vm_space_unmap(s, start + 10 * P, P), VM_OK);
        CHECK_EQ(vm_space_brk(s, start + 12 * P, &got), VM_OK);  /* grows */
        CHECK_EQ(vm_space_lookup(s, start + 9 * P)->end, start + 12 * P);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

/* ---- directed: the stack ------------------------------------------------------ */

TEST(stack_grows_within_limit)
{
        struct vm_space *s;
        vaddr_t top = USER_MAX;
        paddr_t pa;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_stack_init(s, top, 32 * P), VM_OK);
        CHECK_EQ(vm_space_stack_init(s, top, 32 * P), VM_EEXIST);
        CHECK(vm_space_lookup(s, top - P)->flags & VM_AREA_GROWSDOWN);
        CHECK_EQ(s->stack_top, top);
        user_fill(s, top - P, 1);
        user_fill(s, top - 40 * P + 8, 2);      /* below: grows */
        CHECK_EQ(vm_space_lookup(s, top - P)->start, top - 40 * P);
        CHECK_EQ(s->stats.stack_growths, 1);
        CHECK_EQ(s->areas.count, 1);
        CHECK_EQ(user_read(s, top - P), 1);
        /* Exec below the stack: vm_fault() refuses it before growing... */
        CHECK_EQ(vm_fault(s, top - 50 * P, X), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        CHECK_EQ(vm_space_lookup(s, top - P)->start, top - 40 * P);
        /* ...but x86 faults a fetch in as a read first (as x86 Linux,
         * which grows the stack before it checks the access): the stack
         * grows, and the fetch is still refused. */
        CHECK_EQ(user_access(s, top - 50 * P, X, &pa), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        CHECK_EQ(s->last_fault.access, X);
        CHECK_EQ(vm_space_lookup(s, top - P)->start, top - 50 * P);
        /* Exactly the limit, then one page more. */
        CHECK_EQ(user_access(s, top - VM_STACK_LIMIT_DEFAULT, R, &pa),
                 FAULT_RESOLVED);
        CHECK_EQ(user_access(s, top - VM_STACK_LIMIT_DEFAULT - 1, W, &pa),
                 FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_STACK_LIMIT);
        CHECK_EQ(vm_space_lookup(s, top - P)->start,
                 top - VM_STACK_LIMIT_DEFAULT);
        vm_space_set_stack_limit(s, 16 * MiB);
        CHECK_EQ(user_access(s, top - VM_STACK_LIMIT_DEFAULT - 1, W, &pa),
                 FAULT_RESOLVED);
        CHECK_EQ(vm_space_stack_init(s, top - 32 * MiB, 32 * MiB), VM_EINVAL);
        CHECK_EQ(vm_space_stack_init(s, 0x1000, P), VM_EINVAL);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(stack_keeps_guard_gap)
{
        struct vm_space *s;
        vaddr_t top = 0x7f0000000000, below, out = 0;
        paddr_t pa;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_stack_init(s, top, 16 * P), VM_OK);
        below = top - 16 * P - 2 * MiB;         /* end of the area below */
        map_at(s, below - 4 * P, 4 * P, RW, PRIV);
        /* A placed mapping may not go into the guard gap either. */
        CHECK_EQ(vm_space_map(s, top - 16 * P - P, P, R, PRIV, &out), VM_OK);
        CHECK(out != top - 17 * P);
        CHECK_EQ(vm_space_unmap(s, out, P), VM_OK);

        CHECK_EQ(user_access(s, below + VM_STACK_GUARD_GAP - P, W, &pa),
                 FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_STACK_GUARD);
        CHECK_EQ(vm_space_lookup(s, top - P)->start, top - 16 * P);
        CHECK_EQ(user_access(s, below + VM_STACK_GUARD_GAP, W, &pa),
                 FAULT_RESOLVED);
        CHECK_EQ(vm_space_lookup(s, top - P)->start,
                 below + VM_STACK_GUARD_GAP);
        /* An inaccessible area below does not count (Linux). */
        CHECK_EQ(vm_space_protect(s, below - 4 * P, 4 * P, VM_PROT_NONE),
                 VM_OK);
        CHECK_EQ(user_access(s, below + P, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(vm_space_lookup(s, top - P)->start, below + P);
        /* Nothing below it: only the limit applies; into it: no area. */
        CHECK_EQ(user_access(s, below - P, R, &pa), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

/* ---- directed: arguments ------------------------------------------------------ */

TEST(argument_errors)
{
        struct vm_space *s;
        vaddr_t out = 0, va = 0x10000000;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_map(s, 0, 0, R, PRIV, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map(s, 0, P, 0x10, PRIV, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map(s, 0, P, R, PRIV | SHARED, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map(s, 0, P, R, 0, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map(s, 0, P, R, PRIV | 0x1000, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map(s, va + 1, P, R, PRIV | FIXED, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map(s, USER_MAX - P, 2 * P, R, PRIV | FIXED, &out),
                 VM_ENOMEM);
        CHECK_EQ(vm_space_map(s, 0, P, R, PRIV | FIXED, &out), VM_EACCES);
        CHECK_EQ(vm_space_map(s, 0, ~0UL, R, PRIV, &out), VM_ENOMEM);
        CHECK_EQ(vm_space_map(s, 0, USER_MAX, R, PRIV, &out), VM_ENOMEM);
        CHECK_EQ(vm_space_unmap(s, va + 1, P), VM_EINVAL);
        CHECK_EQ(vm_space_unmap(s, va, 0), VM_EINVAL);
        CHECK_EQ(vm_space_unmap(s, USER_MAX - P, 2 * P), VM_EINVAL);
        CHECK_EQ(vm_space_unmap(s, va, ~0UL), VM_EINVAL);
        CHECK_EQ(vm_space_unmap(s, va, P), VM_OK);      /* a hole: fine */
        CHECK_EQ(vm_space_unmap(s, 0, P), VM_OK);
        CHECK_EQ(vm_space_protect(s, va + 1, P, R), VM_EINVAL);
        CHECK_EQ(vm_space_protect(s, va, P, 0x8), VM_EINVAL);
        CHECK_EQ(vm_space_protect(s, va, 0, R), VM_OK);
        CHECK_EQ(vm_space_protect(s, va, P, R), VM_ENOMEM);
        CHECK_EQ(vm_space_stack_init(s, USER_MAX - 1, P), VM_EINVAL);
        CHECK_EQ(vm_space_stack_init(s, USER_MAX, 0), VM_EINVAL);
        CHECK_EQ(vm_space_stack_init(s, USER_MAX, 9 * MiB), VM_EINVAL);
        CHECK_EQ(vm_space_brk_init(s, USER_MAX), VM_EINVAL);
        CHECK_EQ(s->areas.count, 0);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

/* ---- directed: running out of memory ------------------------------------------ */

/* Pages taken from the allocator to make it (nearly) empty. */
TEST(oom_when_pages_run_out)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0;
        struct hog h;
        paddr_t pa;
        uint64_t anon;

        setup(32 * MiB);
        s = new_space();
        map_at(s, va, 4 * P, RW, PRIV);
        user_fill(s, va, 1);                    /* tables exist now */
        anon = vmstat.anon_pages;
        hog_take(&h, 0);
        CHECK_EQ(user_access(s, va + P, W, &pa), FAULT_OOM);
        CHECK_EQ(s->last_fault.result, FAULT_OOM);
        CHECK_EQ(vmstat.anon_pages, anon);
        CHECK_EQ(user_access(s, va + P, R, &pa), FAULT_RESOLVED); /* zeroes */
        CHECK_EQ(user_read(s, va), 1);
        /* Far away, a read needs new page tables: OOM too. */
        if (vm_space_map(s, 0x300000000, P, R, PRIV | FIXED, &out) == VM_OK)
                CHECK_EQ(vm_fault(s, 0x300000000, R), FAULT_OOM);
        CHECK(vm_space_check(s));
        hog_release(&h);
        user_fill(s, va + P, 2);
        CHECK_EQ(user_read(s, va + P), 2);
        destroy(s);
        check_baseline();
}

TEST(create_fails_cleanly)
{
        struct vm_space *s = NULL;
        struct hog h;

        setup(32 * MiB);
        vm_ptpage_fail_after = 1;               /* the pmap's root table */
        CHECK_EQ(vm_space_create(&s), VM_ENOMEM);
        vm_ptpage_fail_after = 0;
        check_baseline();
        hog_take(&h, 0);
        CHECK_EQ(vm_space_create(&s), VM_ENOMEM);
        hog_release(&h);
        check_baseline();
}

/*
 * A workload where any allocation may fail; every step either succeeds
 * or fails with ENOMEM / OOM, and the space stays sound.
 */
static void oom_workload(struct vm_space *s, unsigned *failures)
{
        static const vaddr_t va = 0x10000000, far = 0x5000000000;
        vaddr_t out = 0, got = 0;
        vm_status_t st;
        enum fault_result fr;

#define STEP(expr) do {                                                 \
        st = (expr);                                                    \
        CHECK(st == VM_OK || st == VM_ENOMEM);                          \
        *failures += st != VM_OK;                                       \
        CHECK(vm_space_check(s));                                       \
} while (0)
#define TOUCH(addr, acc) do {                                           \
        fr = vm_fault(s, (addr), (acc));                                \
        CHECK(fr == FAULT_RESOLVED || fr == FAULT_OOM);                 \
        *failures += fr != FAULT_RESOLVED;                              \
        CHECK(vm_space_check(s));                                       \
} while (0)
        STEP(vm_space_map(s, va, 6 * P, RW, PRIV | FIXED, &out));
        for (unsigned i = 0; st == VM_OK && i < 6; i++)
                TOUCH(va + i * P, i % 2 ? W : R);
        STEP(vm_space_protect(s, va + 2 * P, 2 * P, R));
        STEP(vm_space_map(s, far, 3 * P, RW, SHARED | FIXED | VM_MAP_POPULATE,
                          &out));
        STEP(vm_space_unmap(s, va + P, P));
        STEP(vm_space_map(s, va + 4 * P, P, R | X, PRIV | FIXED, &out));
        if (st == VM_OK)
                TOUCH(va + 4 * P, X);
        STEP(vm_space_brk_init(s, 0x600000));
        STEP(vm_space_brk(s, 0x600000 + 5 * P, &got));
        if (st == VM_OK)
                TOUCH(0x600000 + 4 * P, W);
        STEP(vm_space_stack_init(s, USER_MAX, 4 * P));
        if (st == VM_OK)
                TOUCH(USER_MAX - 9 * P, W);     /* grows, needs a page */
        STEP(vm_space_unmap(s, va, 6 * P));
#undef STEP
#undef TOUCH
}

/* Leave 0, 1, 2, ... free pages: every allocation point fails once. */
TEST(oom_sweep_over_free_pages)
{
        unsigned failures = 0, created = 0, clean = 0;

        setup(32 * MiB);
        for (uint64_t leave = 0; leave < 48; leave++) {
                struct vm_space *s = NULL;
                unsigned f = 0;
                struct hog h;

                hog_take(&h, leave);
                if (vm_space_create(&s) == VM_OK) {
                        created++;
                        oom_workload(s, &f);
                        failures += f;
                        clean += f == 0;
                        destroy(s);
                }
                hog_release(&h);
                check_baseline();
        }
        printf("    %u spaces created, %u failures handled, %u runs clean\n",
               created, failures, clean);
        CHECK(failures > 20 && clean > 0 && created > 40);
}

/* The n-th page-table allocation fails, for every n the workload has. */
TEST(oom_sweep_over_page_tables)
{
        unsigned failures = 0;

        setup(32 * MiB);
        for (uint64_t n = 2; n < 16; n++) {
                struct vm_space *s = new_space();
                unsigned f = 0;

                vm_ptpage_fail_after = n;
                oom_workload(s, &f);
                vm_ptpage_fail_after = 0;
                failures += f;
                destroy(s);
                check_baseline();
        }
        printf("    %u page-table failures handled\n", failures);
        CHECK(failures > 5);
}

/* ---- directed: the area limit --------------------------------------------- */

TEST(area_limit_is_max_map_count)
{
        struct vm_space *s;
        vaddr_t out = 0, low = 0;
        vm_prot_t last = R;

        setup(64 * MiB);
        s = new_space();
        CHECK_EQ(s->max_areas, 65530);
        /* Alternating prot so that neighbours do not merge. */
        for (unsigned i = 0; i < VM_MAX_AREAS; i++) {
                last = i % 2 ? R : RW;
                CHECK_EQ(vm_space_map(s, 0, P, last, PRIV, &out), VM_OK);
                low = out;
        }
        CHECK_EQ(s->areas.count, VM_MAX_AREAS);
        CHECK_EQ(low, s->mmap_base - VM_MAX_AREAS * P);
        /* Linux's do_mmap refuses only above the limit: one more fits,
         * then none, not even one that would merge */
        CHECK_EQ(vm_space_map(s, 0, P, last ^ W, PRIV, &out), VM_OK);
        CHECK_EQ(s->areas.count, VM_MAX_AREAS + 1);
        CHECK_EQ(vm_space_map(s, 0, P, last, PRIV, &out), VM_ENOMEM);
        CHECK_EQ(vm_space_map(s, 0, P, last ^ W, PRIV, &out), VM_ENOMEM);
        CHECK_EQ(vm_space_unmap(s, low - P, P), VM_OK);
        CHECK_EQ(s->areas.count, VM_MAX_AREAS);
        CHECK_EQ(vm_space_map(s, 0, P, last, PRIV, &out), VM_OK); /* merges */
        CHECK_EQ(out, low - P);
        CHECK_EQ(vm_space_map(s, 0, P, last, PRIV, &out), VM_OK);
        CHECK_EQ(s->areas.count, VM_MAX_AREAS);
        low = out;                              /* a 3-page area at low */
        CHECK_EQ(vm_space_unmap(s, low + P, P), VM_ENOMEM);     /* a split */
        CHECK_EQ(vm_space_protect(s, low + P, P, last ^ W), VM_ENOMEM);
        CHECK_EQ(vm_space_map(s, low + P, P, last ^ W, PRIV | FIXED, &out),
                 VM_ENOMEM);
        CHECK_EQ(vm_space_unmap(s, low, P), VM_OK);     /* an end: no split */
        CHECK_EQ(user_read(s, low + P), 0);
        CHECK_EQ(vm_space_unmap(s, low + P, 2 * P), VM_OK);
        CHECK_EQ(s->areas.count, VM_MAX_AREAS - 1);
        /* Placed just below the lowest area (prot last ^ W): no merge. */
        CHECK_EQ(vm_space_map(s, 0, P, last, PRIV, &out), VM_OK);
        CHECK_EQ(out, low + 2 * P);
        CHECK_EQ(s->areas.count, VM_MAX_AREAS);
        CHECK_EQ(vm_space_map(s, 0, P, last ^ W, PRIV, &out), VM_OK);
        CHECK_EQ(vm_space_map(s, 0, P, last, PRIV, &out), VM_ENOMEM);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

/* ---- directed: teardown ---------------------------------------------------- */

TEST(destroy_returns_every_page)
{
        struct vm_space *s[3];
        vaddr_t out = 0, got = 0;

        setup(64 * MiB);
        for (unsigned k = 0; k < 3; k++) {
                s[k] = new_space();
                CHECK_EQ(vm_space_stack_init(s[k], USER_MAX, 8 * P), VM_OK);
                CHECK_EQ(vm_space_brk_init(s[k], 0x800000), VM_OK);
                CHECK_EQ(vm_space_brk(s[k], 0x800000 + 20 * P, &got), VM_OK);
                for (unsigned i = 0; i < 20; i++)
                        user_fill(s[k], 0x800000 + i * P, i);
                /* Pages spread over many page tables (64 MiB apart: below
                 * 3 GiB, so every format has room). */
                for (unsigned i = 0; i < 40; i++) {
                        vaddr_t va = 0x4000000UL * (i + 1) + i * 0x200000;

                        map_at(s[k], va, 2 * P, RW, i % 3 ? PRIV : SHARED);
                        user_fill(s[k], va + P, i);
                        CHECK_EQ(user_read(s[k], va), 0);
                }
                CHECK_EQ(vm_space_map(s[k], 0, 64 * P, RW,
                                      PRIV | VM_MAP_POPULATE, &out), VM_OK);
                user_fill(s[k], USER_MAX - 100 * P, 1); /* stack growth */
                CHECK(vm_space_check(s[k]));
        }
        CHECK(vmstat.anon_pages > 3 * (20 + 40 + 64));
        CHECK(vmstat.pt_pages > baseline_pt_pages() + 3 * 40);
        for (unsigned k = 0; k < 3; k++)
                destroy(s[k]);
        check_baseline();
}
