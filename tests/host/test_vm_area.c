/*
 * test_vm_area.c - the area tree (kernel/vm/vm_area.c) against a sorted
 * array: randomized insert / remove / split / merge / move / lookup /
 * gap-search sequences with vm_area_tree_check() after every step, and a
 * 60 000-area tree showing that lookups and gap searches visit O(log n)
 * nodes (counted through tree->visits, not timed).
 *
 * The areas carry no object here, except in split_and_merge_keep_backing;
 * vm_space tests cover objects.
 */
#include "check.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_area.h>
#include <vm/vm_object.h>
#include <vm/vmstat.h>

#include <stdlib.h>
#include <string.h>

#define RAM_BYTES       (96 * MiB)
#define P               PAGE_SIZE

static uint64_t base_slab, base_large, base_free;

static void setup(void)
{
        host_memory_setup(RAM_BYTES);
        kmalloc_init(false);
        base_slab = vmstat.slab_pages;
        base_large = vmstat.kmalloc_large;
        base_free = pmm_free_count();
}

static void check_baseline(void)
{
        kmalloc_shrink();
        CHECK_EQ(vmstat.slab_pages, base_slab);
        CHECK_EQ(vmstat.kmalloc_large, base_large);
        CHECK_EQ(pmm_free_count(), base_free);
        CHECK(kmalloc_check());
        CHECK(pmm_check());
}

static struct vm_area *new_area(vaddr_t start, vaddr_t end, unsigned flags,
                                vm_prot_t prot)
{
        struct vm_area *a = vm_area_alloc();

        CHECK(a != NULL);
        a->start = start;
        a->end = end;
        a->flags = flags;
        a->prot = prot;
        a->pgoff = start >> PAGE_SHIFT;
        return a;
}

static void free_all(struct vm_area_tree *t)
{
        while (t->first) {
                struct vm_area *a = t->first;

                vm_area_remove(t, a);
                vm_area_free(a);
        }
        CHECK(vm_area_tree_check(t));
        CHECK_EQ(t->count, 0);
        CHECK(t->root == NULL && t->last == NULL);
}

/* ---- the model: a sorted array of areas -------------------------------- */

struct marea {
        vaddr_t   start, end;
        unsigned  flags;
        vm_prot_t prot;
        struct vm_area *node;
};

struct model {
        struct marea a[4096];
        unsigned     n;
        vaddr_t      min, max;
        uint64_t     guard;
};

/* Index of the first model area ending above va (n if none). */
static unsigned m_next(const struct model *m, vaddr_t va)
{
        unsigned i = 0;

        while (i < m->n && m->a[i].end <= va)
                i++;
        return i;
}

static bool m_overlaps(const struct model *m, vaddr_t s, vaddr_t e)
{
        unsigned i = m_next(m, s);

        return i < m->n && m->a[i].start < e;
}

static void m_insert(struct model *m, struct marea x)
{
        unsigned i = m_next(m, x.start);

        CHECK(m->n < ARRAY_SIZE(m->a));
        memmove(&m->a[i + 1], &m->a[i], (m->n - i) * sizeof x);
        m->a[i] = x;
        m->n++;
}

static void m_remove(struct model *m, unsigned i)
{
        memmove(&m->a[i], &m->a[i + 1], (m->n - i - 1) * sizeof m->a[0]);
        m->n--;
}

static vaddr_t m_start_gap(const struct model *m, const struct marea *x)
{
        if (!(x->flags & VM_AREA_GROWSDOWN))
                return x->start;
        return x->start > m->guard ? x->start - m->guard : 0;
}

/* Brute-force gap search over the model. */
static bool m_gap(const struct model *m, uint64_t len, vaddr_t low,
                  vaddr_t high, bool top, vaddr_t *out)
{
        bool found = false;

        low = MAX(low, m->min);
        high = MIN(high, m->max);
        for (unsigned i = 0; i <= m->n; i++) {
                vaddr_t lo = i ? m->a[i - 1].end : m->min;
                vaddr_t hi = i < m->n ? m_start_gap(m, &m->a[i]) : m->max;

                lo = MAX(lo, low);
                hi = MIN(hi, high);
                if (hi <= lo || hi - lo < len)
                        continue;
                *out = top ? hi - len : lo;
                found = true;
                if (!top)
                        return true;
        }
        return found;
}

/* The tree equals the model, area by area, in order. */
static void m_compare(const struct model *m, const struct vm_area_tree *t)
{
        const struct vm_area *a = vm_area_first(t);

        CHECK(vm_area_tree_check(t));
        CHECK_EQ(t->count, m->n);
        for (unsigned i = 0; i < m->n; i++, a = vm_area_next(a)) {
                CHECK(a == m->a[i].node);
                CHECK_EQ(a->start, m->a[i].start);
                CHECK_EQ(a->end, m->a[i].end);
                CHECK_EQ(a->flags, m->a[i].flags);
                CHECK_EQ(a->prot, m->a[i].prot);
        }
        CHECK(a == NULL);
}

/* ---- randomized operations -------------------------------------------------- */

struct rctx {
        struct rng          r;
        struct model       *m;
        struct vm_area_tree t;
        uint64_t            window;     /* pages in [min, max) */
        uint64_t            splits, merges, gaps_found, max_n;
};

static void op_insert(struct rctx *c)
{
        vaddr_t s = c->m->min + rng_below(&c->r, c->window) * P;
        vaddr_t e = s + (1 + rng_below(&c->r, 16)) * P;
        unsigned flags = rng_below(&c->r, 4) == 0 ? VM_AREA_GROWSDOWN : 0;
        vm_prot_t prot = rng_below(&c->r, 2) ? VM_PROT_RW : VM_PROT_READ;
        struct vm_area *a = new_area(s, e, flags, prot);
        vm_status_t want = e > c->m->max ? VM_EINVAL
                         : m_overlaps(c->m, s, e) ? VM_EEXIST : VM_OK;

        CHECK_EQ(vm_area_insert(&c->t, a), want);
        if (want != VM_OK) {
                vm_area_free(a);
                return;
        }
        m_insert(c->m, (struct marea){ s, e, flags, prot, a });
}

static void op_remove(struct rctx *c)
{
        unsigned i;

        if (c->m->n == 0)
                return;
        i = rng_below(&c->r, c->m->n);
        vm_area_remove(&c->t, c->m->a[i].node);
        vm_area_free(c->m->a[i].node);
        m_remove(c->m, i);
}

static void op_split(struct rctx *c)
{
        unsigned i;
        struct marea *x;
        vaddr_t va;
        struct vm_area *b;

        if (c->m->n == 0)
                return;
        i = rng_below(&c->r, c->m->n);
        x = &c->m->a[i];
        if (x->end - x->start < 2 * P)
                return;
        va = x->start + (1 + rng_below(&c->r, (x->end - x->start) / P - 1)) * P;
        b = vm_area_split(&c->t, x->node, va, new_area(0, 0, 0, 0));
        CHECK_EQ(b->start, va);
        CHECK_EQ(b->pgoff, va >> PAGE_SHIFT);
        CHECK(vm_area_prev(b) == x->node);
        struct marea hi = { va, x->end, x->flags, x->prot, b };

        x->end = va;
        m_insert(c->m, hi);
        c->splits++;
}

static void op_merge(struct rctx *c)
{
        unsigned i;
        struct marea *x, *y;
        bool can;

        if (c->m->n < 2)
                return;
        i = rng_below(&c->r, c->m->n - 1);
        x = &c->m->a[i];
        y = &c->m->a[i + 1];
        can = x->end == y->start && x->flags == y->flags && x->prot == y->prot;
        CHECK_EQ(vm_area_can_merge(x->node, y->node), can);
        if (!can)
                return;
        CHECK(vm_area_merge(&c->t, x->node) == x->node);
        x->end = y->end;
        m_remove(c->m, i + 1);
        c->merges++;
}

/* Move an area's ends within the free room around it. */
static void op_move(struct rctx *c)
{
        unsigned i;
        struct marea *x;
        vaddr_t lo, hi, s, e;

        if (c->m->n == 0)
                return;
        i = rng_below(&c->r, c->m->n);
        x = &c->m->a[i];
        lo = i ? c->m->a[i - 1].end : c->m->min;
        hi = i + 1 < c->m->n ? c->m->a[i + 1].start : c->m->max;
        s = lo + rng_below(&c->r, (x->start - lo) / P + 1) * P;
        e = x->end + rng_below(&c->r, (hi - x->end) / P + 1) * P;
        if (rng_below(&c->r, 2) && x->end - x->start > P) {
                s = x->start + P;               /* shrink from below */
                e = x->end;
        }
        vm_area_set_range(&c->t, x->node, s, e);
        x->node->pgoff = s >> PAGE_SHIFT;       /* the caller's business */
        x->start = s;
        x->end = e;
}

static void op_lookup(struct rctx *c)
{
        vaddr_t va = c->m->min - 4 * P + rng_below(&c->r, (c->window + 8) * P);
        unsigned i = m_next(c->m, va);
        struct vm_area *want_next = i < c->m->n ? c->m->a[i].node : NULL;
        struct vm_area *want = want_next && c->m->a[i].start <= va
                               ? want_next : NULL;

        CHECK(vm_area_lookup(&c->t, va) == want);
        CHECK(vm_area_lookup_next(&c->t, va) == want_next);
}

static void op_gap(struct rctx *c)
{
        uint64_t len = (1 + rng_below(&c->r, 24)) * P;
        vaddr_t low = c->m->min - 2 * P + rng_below(&c->r, c->window + 4) * P;
        vaddr_t high = low + rng_below(&c->r, c->window + 4) * P;
        bool top = rng_below(&c->r, 2);
        vaddr_t want = 0, got = 0;
        bool found = m_gap(c->m, len, low, high, top, &want);
        vm_status_t st = top ? vm_area_gap_highest(&c->t, len, low, high, &got)
                             : vm_area_gap_lowest(&c->t, len, low, high, &got);

        CHECK_EQ(st, found ? VM_OK : VM_ENOMEM);
        if (found)
                CHECK_EQ(got, want);
        c->gaps_found += found;
}

static void run_random(uint64_t seed, unsigned steps, uint64_t window,
                       uint64_t guard)
{
        static struct model m;
        struct rctx c = { .m = &m, .window = window };
        void (*const ops[])(struct rctx *) = {
                op_insert, op_insert, op_insert, op_remove, op_split,
                op_merge, op_merge, op_move, op_lookup, op_gap, op_gap,
        };

        setup();
        memset(&m, 0, sizeof m);
        m.min = 0x40000000;
        m.max = m.min + window * P;
        m.guard = guard;
        rng_seed(&c.r, check_seed(seed));
        vm_area_tree_init(&c.t, m.min, m.max, guard);
        for (unsigned step = 0; step < steps; step++) {
                ops[rng_below(&c.r, ARRAY_SIZE(ops))](&c);
                m_compare(&m, &c.t);
                c.max_n = MAX(c.max_n, m.n);
        }
        /* The sequence exercised what it claims to. */
        CHECK(c.splits > steps / 100 && c.merges > steps / 200);
        CHECK(c.gaps_found > steps / 100);
        printf("    %u steps: %lu splits, %lu merges, %lu gaps found, "
               "up to %lu areas\n", steps, (unsigned long)c.splits,
               (unsigned long)c.merges, (unsigned long)c.gaps_found,
               (unsigned long)c.max_n);
        free_all(&c.t);
        check_baseline();
}

TEST(random_small_window)
{
        run_random(0x5eed0001, 20000, 64, 2 * P);
}

TEST(random_wide_window)
{
        run_random(0x5eed0002, 20000, 1024, 8 * P);
}

TEST(random_large_window)
{
        run_random(0x5eed0004, 20000, 16384, 16 * P);
}

TEST(random_no_guard)
{
        run_random(0x5eed0003, 10000, 256, 0);
}

/* ---- directed ---------------------------------------------------------------- */

TEST(insert_rejects_bad_ranges)
{
        struct vm_area_tree t;
        struct vm_area *a, *b;

        setup();
        vm_area_tree_init(&t, 0x10000, 0x100000, 0);
        a = new_area(0x20000, 0x30000, 0, VM_PROT_READ);
        CHECK_EQ(vm_area_insert(&t, a), VM_OK);
        b = new_area(0x2f000, 0x31000, 0, VM_PROT_READ);
        CHECK_EQ(vm_area_insert(&t, b), VM_EEXIST);
        b->start = 0x1f000;
        b->end = 0x21000;
        CHECK_EQ(vm_area_insert(&t, b), VM_EEXIST);
        b->start = 0x20000;
        CHECK_EQ(vm_area_insert(&t, b), VM_EEXIST);
        b->start = 0x8000;              /* below min */
        b->end = 0x12000;
        CHECK_EQ(vm_area_insert(&t, b), VM_EINVAL);
        b->start = 0x40800;             /* misaligned */
        b->end = 0x41000;
        CHECK_EQ(vm_area_insert(&t, b), VM_EINVAL);
        b->start = 0x41000;             /* empty */
        CHECK_EQ(vm_area_insert(&t, b), VM_EINVAL);
        b->end = 0x101000;              /* beyond max */
        CHECK_EQ(vm_area_insert(&t, b), VM_EINVAL);
        b->start = 0x30000;             /* touching is fine */
        b->end = 0x31000;
        b->pgoff = 0x30;
        CHECK_EQ(vm_area_insert(&t, b), VM_OK);
        CHECK(vm_area_tree_check(&t));
        CHECK(vm_area_can_merge(a, b));
        vm_area_merge(&t, a);
        CHECK_EQ(t.count, 1);
        CHECK_EQ(a->end, 0x31000);
        CHECK_EQ(t.pages, 0x11);
        free_all(&t);
        check_baseline();
}

/* A private file mapping's backing: split gives both halves a reference
 * and the right file offset; merging needs the same file, consecutive. */
TEST(split_and_merge_keep_backing)
{
        static uint8_t data[8 * 4096];
        struct vm_area_tree t;
        struct vm_object *f, *g;
        struct vm_area *a, *b, *c;

        setup();
        vm_object_init();
        CHECK_EQ(vm_object_create_file(data, sizeof data, &f), VM_OK);
        CHECK_EQ(vm_object_create_file(data, 4096, &g), VM_OK);
        vm_area_tree_init(&t, 0x10000, 0x100000, 0);
        a = new_area(0x20000, 0x26000, 0, VM_PROT_READ);
        a->backing = f;
        a->backing_pgoff = 1;
        vm_object_ref(f);
        CHECK_EQ(vm_area_insert(&t, a), VM_OK);
        b = vm_area_split(&t, a, 0x23000, vm_area_alloc());
        CHECK(b->backing == f && b->backing_pgoff == 4);
        CHECK_EQ(f->refcount, 3);
        CHECK(vm_area_can_merge(a, b));
        b->backing_pgoff = 5;                   /* not consecutive */
        CHECK(!vm_area_can_merge(a, b));
        b->backing_pgoff = 4;
        c = new_area(0x26000, 0x27000, 0, VM_PROT_READ);
        c->backing = g;                         /* another file */
        c->backing_pgoff = 7;
        vm_object_ref(g);
        CHECK_EQ(vm_area_insert(&t, c), VM_OK);
        CHECK(!vm_area_can_merge(b, c));
        c->backing = NULL;                      /* anonymous */
        CHECK(!vm_area_can_merge(b, c));
        c->backing = g;
        vm_area_merge(&t, a);
        CHECK_EQ(a->end, 0x26000);
        CHECK_EQ(f->refcount, 2);               /* b's reference dropped */
        CHECK(vm_area_tree_check(&t));
        free_all(&t);
        CHECK_EQ(f->refcount, 1);
        vm_object_unref(f);
        vm_object_unref(g);
        CHECK_EQ(vm_object_file_count(), 0);
        check_baseline();
}

TEST(guard_gap_below_growsdown)
{
        struct vm_area_tree t;
        vaddr_t va;

        setup();
        vm_area_tree_init(&t, 0x100000, 0x200000, 16 * P);
        CHECK_EQ(vm_area_insert(&t, new_area(0x180000, 0x190000,
                                             VM_AREA_GROWSDOWN, VM_PROT_RW)),
                 VM_OK);
        /* The highest fit below the stack ends at its start less the guard. */
        CHECK_EQ(vm_area_gap_highest(&t, 4 * P, 0, 0x190000, &va), VM_OK);
        CHECK_EQ(va, 0x180000 - 16 * P - 4 * P);
        /* Only the tail is above the stack. */
        CHECK_EQ(vm_area_gap_highest(&t, 4 * P, 0, ~0UL, &va), VM_OK);
        CHECK_EQ(va, 0x200000 - 4 * P);
        CHECK_EQ(vm_area_gap_lowest(&t, 0x80000 - 16 * P, 0, ~0UL, &va), VM_OK);
        CHECK_EQ(va, 0x100000);
        CHECK_EQ(vm_area_gap_lowest(&t, 0x80000 - 15 * P, 0, 0x180000, &va),
                 VM_ENOMEM);
        CHECK_EQ(vm_area_gap_lowest(&t, 0, 0, ~0UL, &va), VM_ENOMEM);
        free_all(&t);
        check_baseline();
}

/* ---- 60 000 areas: logarithmic work ------------------------------------ */

#define BIG_N   60000

/* The AVL height bound 1.4405 log2(n + 2), with log2 rounded up. */
static uint64_t avl_height_bound(uint64_t n)
{
        unsigned lg = 0;

        while ((1UL << lg) < n + 2)
                lg++;
        return 14405 * lg / 10000;
}

/* Insert BIG_N one-page areas with one-page gaps, in shuffled order. */
static struct vm_area **big_tree(struct vm_area_tree *t, struct rng *r,
                                 vaddr_t base)
{
        struct vm_area **nodes = calloc(BIG_N, sizeof *nodes);
        unsigned *order = calloc(BIG_N, sizeof *order);

        CHECK(nodes && order);
        for (unsigned i = 0; i < BIG_N; i++)
                order[i] = i;
        for (unsigned i = BIG_N - 1; i > 0; i--) {
                unsigned j = rng_below(r, i + 1), x = order[i];

                order[i] = order[j];
                order[j] = x;
        }
        for (unsigned k = 0; k < BIG_N; k++) {
                unsigned i = order[k];
                vaddr_t s = base + 2 * i * P;

                nodes[i] = new_area(s, s + P, 0, VM_PROT_READ);
                CHECK_EQ(vm_area_insert(t, nodes[i]), VM_OK);
        }
        free(order);
        return nodes;
}

TEST(big_tree_lookups_are_logarithmic)
{
        struct vm_area_tree t;
        struct vm_area **nodes;
        struct rng r;
        vaddr_t base = 0x10000000, va;
        uint64_t worst = 0, before, bound = avl_height_bound(BIG_N);

        setup();
        rng_seed(&r, check_seed(0xb16b16));
        vm_area_tree_init(&t, base - 64 * P, base + 4 * BIG_N * P, 0);
        nodes = big_tree(&t, &r, base);
        CHECK(vm_area_tree_check(&t));
        CHECK_EQ(t.count, BIG_N);
        CHECK((uint64_t)t.root->height <= bound);
        for (unsigned k = 0; k < 20000; k++) {
                unsigned i = rng_below(&r, BIG_N);
                bool in_gap = rng_below(&r, 2);
                struct vm_area *next = !in_gap ? nodes[i]
                                     : i + 1 < BIG_N ? nodes[i + 1] : NULL;

                va = base + (2 * i + in_gap) * P + rng_below(&r, P);
                before = t.visits;
                CHECK(vm_area_lookup(&t, va) == (in_gap ? NULL : nodes[i]));
                worst = MAX(worst, t.visits - before);
                before = t.visits;
                CHECK(vm_area_lookup_next(&t, va) == next);
                worst = MAX(worst, t.visits - before);
        }
        CHECK(worst <= bound);
        printf("    60000 areas: height %d (bound %lu), worst lookup %lu "
               "nodes\n", t.root->height, (unsigned long)bound,
               (unsigned long)worst);

        /* Open one 3-page gap in the middle: gap searches must find it,
         * touching O(log n) nodes although 59999 one-page gaps exist. */
        vm_area_remove(&t, nodes[BIG_N / 2]);
        vm_area_free(nodes[BIG_N / 2]);
        before = t.visits;
        CHECK_EQ(vm_area_gap_lowest(&t, 3 * P, base, base + 2 * BIG_N * P,
                                    &va), VM_OK);
        CHECK_EQ(va, base + (2 * (BIG_N / 2) - 1) * P);
        CHECK_EQ(vm_area_gap_highest(&t, 3 * P, 0, base + 2 * BIG_N * P - P,
                                     &va), VM_OK);
        CHECK_EQ(va, base + (2 * (BIG_N / 2) - 1) * P);
        CHECK(t.visits - before <= 4 * bound);
        /* Bounds that cut the gap: none fits; still logarithmic. */
        before = t.visits;
        CHECK_EQ(vm_area_gap_lowest(&t, 3 * P, base + 2 * (BIG_N / 2) * P,
                                    base + 2 * BIG_N * P - P, &va), VM_ENOMEM);
        CHECK(t.visits - before <= 4 * bound);
        printf("    gap searches: %lu nodes for both misses and hits\n",
               (unsigned long)(t.visits - before));
        nodes[BIG_N / 2] = NULL;
        free(nodes);
        free_all(&t);
        check_baseline();
}

/* Removal in random order keeps the tree balanced and the gaps right. */
TEST(big_tree_random_removal)
{
        struct vm_area_tree t;
        struct vm_area **nodes;
        struct rng r;
        vaddr_t base = 0x10000000;

        setup();
        rng_seed(&r, check_seed(0xdead01));
        vm_area_tree_init(&t, base, base + 2 * BIG_N * P, 0);
        nodes = big_tree(&t, &r, base);
        for (unsigned k = 0; k < BIG_N - 10; k++) {
                unsigned i = rng_below(&r, BIG_N);

                while (!nodes[i])
                        i = (i + 1) % BIG_N;
                vm_area_remove(&t, nodes[i]);
                vm_area_free(nodes[i]);
                nodes[i] = NULL;
                if (k % 5000 == 0)
                        CHECK(vm_area_tree_check(&t));
        }
        CHECK(vm_area_tree_check(&t));
        CHECK_EQ(t.count, 10);
        free(nodes);
        free_all(&t);
        check_baseline();
}
