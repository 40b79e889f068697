/*
 * test_kmalloc.c - host tests of the kernel heap (kernel/vm/kmalloc.c) over
 * simulated RAM: size classes, alignment, a randomized run against a model,
 * large blocks, counters, exhaustion, and every debug-mode detection.
 */
#include "check.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

#include <stdlib.h>
#include <string.h>

/* Fresh RAM of `bytes`, a buddy allocator over it, an empty heap. */
static void setup(uint64_t bytes, bool debug)
{
        host_memory_setup(bytes);
        kmalloc_init(debug);
}

static const size_t class_sizes[] = {
        16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
};

static uint8_t pattern(uint64_t id, size_t i)
{
        return (uint8_t)((id * 131u + i * 7u) ^ (id >> 8));
}

static void fill(void *p, size_t n, uint64_t id)
{
        for (size_t i = 0; i < n; i++)
                ((uint8_t *)p)[i] = pattern(id, i);
}

static bool verify(const void *p, size_t n, uint64_t id)
{
        for (size_t i = 0; i < n; i++)
                if (((const uint8_t *)p)[i] != pattern(id, i))
                        return false;
        return true;
}

/* Every class boundary (and one byte past it) round-trips; usable sizes. */
static void round_trip_all_sizes(bool debug)
{
        setup(4 * MiB, debug);
        for (size_t i = 0; i < ARRAY_SIZE(class_sizes); i++) {
                size_t lo = i ? class_sizes[i - 1] + 1 : 1;
                size_t sizes[] = { lo, (lo + class_sizes[i]) / 2,
                                   class_sizes[i] };

                for (size_t j = 0; j < ARRAY_SIZE(sizes); j++) {
                        uint8_t *p = kmalloc(sizes[j]);

                        CHECK(p != NULL);
                        CHECK_EQ(kmalloc_usable_size(p),
                                 debug ? sizes[j] : class_sizes[i]);
                        fill(p, kmalloc_usable_size(p), sizes[j]);
                        CHECK(kmalloc_check());
                        CHECK(verify(p, kmalloc_usable_size(p), sizes[j]));
                        kfree(p);
                        CHECK(kmalloc_check());
                }
        }
        kmalloc_shrink();
        CHECK_EQ(vmstat.slab_pages, 0);
}

TEST(size_classes_round_trip) { round_trip_all_sizes(false); }
TEST(size_classes_round_trip_debug) { round_trip_all_sizes(true); }

/* 16-byte alignment always; power-of-two classes aligned to their size
 * when debugging is off; large blocks page-aligned. */
TEST(alignment)
{
        void *keep[64];

        for (int debug = 0; debug < 2; debug++) {
                setup(8 * MiB, debug);
                for (size_t i = 0; i < ARRAY_SIZE(class_sizes); i++) {
                        size_t sz = class_sizes[i];
                        bool pow2 = (sz & (sz - 1)) == 0;

                        for (int k = 0; k < 64; k++) {
                                keep[k] = kmalloc(sz);
                                CHECK(keep[k] != NULL);
                                CHECK(is_aligned((uintptr_t)keep[k], 16));
                                if (pow2 && !debug)
                                        CHECK(is_aligned((uintptr_t)keep[k],
                                                         sz));
                        }
                        for (int k = 0; k < 64; k++)
                                kfree(keep[k]);
                }
                void *big = kmalloc(5000);
                CHECK(is_aligned((uintptr_t)big, PAGE_SIZE));
                kfree(big);
                CHECK(kmalloc_check());
        }
}

/* kmalloc(0) and oversized requests give NULL; kfree(NULL) is a no-op. */
TEST(edge_sizes)
{
        setup(2 * MiB, false);
        CHECK(kmalloc(0) == NULL);
        CHECK(kzalloc(0) == NULL);
        CHECK(kmalloc(KMALLOC_MAX_SIZE + 1) == NULL);
        CHECK(kmalloc((size_t)-1) == NULL);
        kfree(NULL);
        CHECK_EQ(kmalloc_usable_size(NULL), 0);
        CHECK_EQ(vmstat.slab_pages, 0);
        CHECK(kmalloc_check());
}

TEST(kzalloc_zeroes)
{
        for (int debug = 0; debug < 2; debug++) {
                setup(2 * MiB, debug);
                uint8_t *p = kmalloc(200);
                memset(p, 0xa5, kmalloc_usable_size(p));
                kfree(p);
                uint8_t *q = kzalloc(200);   /* likely the same slot */
                CHECK(q != NULL);
                for (size_t i = 0; i < kmalloc_usable_size(q); i++)
                        CHECK_EQ(q[i], 0);
                uint8_t *big = kzalloc(3 * PAGE_SIZE);
                for (size_t i = 0; i < 3 * PAGE_SIZE; i++)
                        CHECK_EQ(big[i], 0);
                kfree(q);
                kfree(big);
                CHECK(kmalloc_check());
        }
}

/* Sizes from 1 byte to a few pages, weighted towards small. */
static size_t random_size(struct rng *r)
{
        switch (rng_below(r, 10)) {
        case 0:
                return 2049 + rng_below(r, 3 * PAGE_SIZE);
        case 1: case 2:
                return 1 + rng_below(r, KMALLOC_MAX_SMALL);
        default:
                return 1 + rng_below(r, 256);
        }
}

/*
 * Random kmalloc/kfree against a model: each live object holds a pattern
 * of its own id, verified before it is freed (so no two live objects ever
 * overlap), with kmalloc_check() after every step.
 */
enum { MAX_LIVE = 300 };
struct live_obj { uint8_t *p; size_t n; uint64_t id; };

static void live_alloc(struct rng *r, struct live_obj *o, uint64_t id)
{
        size_t n = random_size(r);

        o->p = kmalloc(n);
        CHECK(o->p != NULL);
        CHECK(kmalloc_usable_size(o->p) >= n);
        CHECK(is_aligned((uintptr_t)o->p, KMALLOC_MIN_ALIGN));
        fill(o->p, n, id);
        o->n = n;
        o->id = id;
}

static void live_free(const struct live_obj *o)
{
        CHECK(verify(o->p, o->n, o->id));
        kfree(o->p);
}

/*
 * Random kmalloc/kfree against a model: each live object holds a pattern
 * of its own id, verified before it is freed (so no two live objects ever
 * overlap), with kmalloc_check() after every step.
 */
static void random_run(bool debug, int steps, uint64_t seed)
{
        struct live_obj live[MAX_LIVE];
        int nlive = 0;
        struct rng r;

        setup(16 * MiB, debug);
        uint64_t free0 = pmm_free_count();
        rng_seed(&r, check_seed(seed));
        for (int step = 0; step < steps; step++) {
                if (nlive == 0 ||
                    (nlive < MAX_LIVE && rng_below(&r, 100) < 55)) {
                        live_alloc(&r, &live[nlive++], (uint64_t)step);
                } else {
                        int k = (int)rng_below(&r, (uint64_t)nlive);

                        live_free(&live[k]);
                        live[k] = live[--nlive];
                }
                CHECK(kmalloc_check());
        }
        while (nlive > 0)
                live_free(&live[--nlive]);
        CHECK(kmalloc_check());
        CHECK(vmstat.slab_pages <= ARRAY_SIZE(class_sizes) * 8);
        kmalloc_shrink();
        CHECK_EQ(vmstat.slab_pages, 0);
        CHECK_EQ(vmstat.kmalloc_large, 0);
        CHECK_EQ(pmm_free_count(), free0);
        CHECK(pmm_check());
}

TEST(random_against_model) { random_run(false, 20000, 0x5eed0001); }
TEST(random_against_model_debug) { random_run(true, 8000, 0x5eed0002); }

/* Large blocks: smallest order that fits, counted, page-aligned, usable. */
TEST(large_allocations)
{
        static const struct { size_t size; unsigned pages; } cases[] = {
                { 2049, 1 }, { PAGE_SIZE, 1 }, { PAGE_SIZE + 1, 2 },
                { 3 * PAGE_SIZE, 4 }, { 100 * KiB, 32 }, { MiB, 256 },
                { KMALLOC_MAX_SIZE, 1u << PMM_MAX_ORDER },
        };

        setup(16 * MiB, false);
        uint64_t free0 = pmm_free_count();
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                uint8_t *p = kmalloc(cases[i].size);

                CHECK(p != NULL);
                CHECK(is_aligned((uintptr_t)p, PAGE_SIZE));
                CHECK_EQ(vmstat.kmalloc_large, cases[i].pages);
                CHECK_EQ(vmstat.slab_pages, 0);
                CHECK_EQ(kmalloc_usable_size(p), cases[i].pages * PAGE_SIZE);
                CHECK_EQ(pmm_free_count(), free0 - cases[i].pages);
                fill(p, cases[i].size, i);
                CHECK(verify(p, cases[i].size, i));
                kfree(p);
                CHECK_EQ(vmstat.kmalloc_large, 0);
                CHECK_EQ(pmm_free_count(), free0);
        }
        CHECK(pmm_check());
}

/* Freeing everything gives every page back; at most one empty slab is
 * kept per cache until kmalloc_shrink(). */
TEST(counters_back_to_baseline)
{
        enum { N = 3000 };
        static void *objs[N];

        setup(16 * MiB, false);
        uint64_t free0 = pmm_free_count();
        for (int i = 0; i < N; i++) {
                objs[i] = kmalloc(class_sizes[i % ARRAY_SIZE(class_sizes)] +
                                  (i % 5 == 0 ? 3000 : 0));
                CHECK(objs[i] != NULL);
        }
        CHECK(vmstat.slab_pages > 0);
        CHECK(vmstat.kmalloc_large > 0);
        CHECK_EQ(pmm_free_count() + vmstat.slab_pages + vmstat.kmalloc_large,
                 free0);
        for (int i = 0; i < N; i += 2)
                kfree(objs[i]);
        CHECK(kmalloc_check());
        for (int i = 1; i < N; i += 2)
                kfree(objs[i]);
        CHECK(kmalloc_check());
        CHECK_EQ(vmstat.kmalloc_large, 0);
        CHECK(vmstat.slab_pages <= ARRAY_SIZE(class_sizes) * 8);
        CHECK_EQ(pmm_free_count() + vmstat.slab_pages, free0);
        uint64_t kept = vmstat.slab_pages;
        CHECK_EQ(kmalloc_shrink(), kept);
        CHECK_EQ(vmstat.slab_pages, 0);
        CHECK_EQ(pmm_free_count(), free0);
        CHECK(pmm_check());
}

/* Emptied slabs go back to the buddy allocator, one per cache is kept. */
TEST(empty_slabs_released)
{
        enum { N = 64 * 5 };            /* kmalloc-64: 64 per page */
        void *objs[N];

        setup(2 * MiB, false);
        for (int i = 0; i < N; i++)
                objs[i] = kmalloc(64);
        CHECK_EQ(vmstat.slab_pages, 5);
        for (int i = 0; i < N; i++)
                kfree(objs[i]);
        CHECK_EQ(vmstat.slab_pages, 1);
        CHECK(kmalloc_check());
        void *p = kmalloc(64);          /* reuses the kept slab */
        CHECK_EQ(vmstat.slab_pages, 1);
        kfree(p);
        CHECK_EQ(kmalloc_shrink(), 1);
        CHECK_EQ(vmstat.slab_pages, 0);
}

/* Running out of memory gives NULL, never a crash, and leaks nothing. */
TEST(exhaustion_returns_null)
{
        enum { MAX = 8192 };
        static void *objs[MAX];
        int n = 0;

        for (int debug = 0; debug < 2; debug++) {
                setup(64 * PAGE_SIZE, debug);
                uint64_t free0 = pmm_free_count();

                CHECK(kmalloc(64 * PAGE_SIZE) == NULL);   /* > RAM */
                n = 0;
                for (;;) {
                        CHECK(n < MAX);
                        objs[n] = kmalloc(n % 3 ? 100 : 5000);
                        if (!objs[n] && !(objs[n] = kmalloc(100)))
                                break;
                        n++;
                }
                CHECK(n > 0);
                CHECK_EQ(pmm_free_count(), 0);
                CHECK(kmalloc(16) == NULL);     /* a class with no slab */
                CHECK(kmalloc(PAGE_SIZE) == NULL);
                CHECK(kmalloc_check());
                for (int i = 0; i < n; i++)
                        kfree(objs[i]);
                kmalloc_shrink();
                CHECK_EQ(pmm_free_count(), free0);
                CHECK(kmalloc_check());
        }
}

/* --- detections --------------------------------------------------------- */

static bool msg_has(const char *needle)
{
        return strstr(check_panic_msg, needle) != NULL;
}

TEST(debug_catches_use_after_free)
{
        setup(2 * MiB, true);
        uint8_t *p = kmalloc(64);
        kfree(p);
        p[10] = 0x42;                   /* write after free */
        CHECK(!kmalloc_check());        /* the checker sees it too */
        EXPECT_PANIC(kmalloc(64));      /* LIFO: the same slot again */
        CHECK(msg_has("write after free"));
        CHECK(msg_has("kmalloc-64"));
        CHECK(msg_has("+10"));
}

TEST(debug_catches_overflow)
{
        setup(2 * MiB, true);
        uint8_t *p = kmalloc(40);       /* kmalloc-48: slack is red too */
        p[40] = 0;
        CHECK(!kmalloc_check());
        EXPECT_PANIC(kfree(p));
        CHECK(msg_has("overflow"));
        CHECK(msg_has("kmalloc-48"));

        setup(2 * MiB, true);
        p = kmalloc(64);                /* exact class: the right red zone */
        p[64 + 15] = 0;
        EXPECT_PANIC(kfree(p));
        CHECK(msg_has("overflow"));
}

TEST(debug_catches_underflow)
{
        setup(2 * MiB, true);
        uint8_t *p = kmalloc(128);
        p[-1] = 0;
        EXPECT_PANIC(kfree(p));
        CHECK(msg_has("underflow"));
        CHECK(msg_has("kmalloc-128"));

        setup(2 * MiB, true);
        p = kmalloc(128);
        memset(p - 16, 0, 16);          /* the tag as well */
        EXPECT_PANIC(kfree(p));
        CHECK(msg_has("underflow"));
}

TEST(debug_catches_double_free)
{
        setup(2 * MiB, true);
        void *p = kmalloc(32), *q = kmalloc(32);
        kfree(p);
        kfree(q);                       /* p is no longer the list head */
        EXPECT_PANIC(kfree(p));
        CHECK(msg_has("double free"));
        CHECK(msg_has("kmalloc-32"));
}

TEST(double_free_head_caught_without_debug)
{
        setup(2 * MiB, false);
        void *p = kmalloc(32);
        kfree(p);
        EXPECT_PANIC(kfree(p));
        CHECK(msg_has("double free"));
}

TEST(bad_pointers_caught)
{
        for (int debug = 0; debug < 2; debug++) {
                int on_stack;

                setup(2 * MiB, debug);
                uint8_t *p = kmalloc(100);
                EXPECT_PANIC(kfree(p + 8));     /* inside an object */
                CHECK(msg_has("not the start of an object"));
                CHECK(msg_has("kmalloc-128"));
                EXPECT_PANIC(kfree(&on_stack)); /* not in the heap at all */
                CHECK(msg_has("not a kernel heap address"));
                struct vm_page *pg = pmm_alloc_pages(0, 0);
                uint8_t *other = phys_to_virt(pmm_page_to_pa(pg));
                EXPECT_PANIC(kfree(other));     /* a page kmalloc never had */
                CHECK(msg_has("not a kmalloc object"));
                pmm_free_pages(pg, 0);
                uint8_t *big = kmalloc(3 * PAGE_SIZE);
                EXPECT_PANIC(kfree(big + PAGE_SIZE));
                CHECK(msg_has("inside a large kmalloc block"));
                EXPECT_PANIC(kmalloc_usable_size(p + 1));
                kfree(big);
                kfree(p);
                CHECK(kmalloc_check());
        }
}

/* Objects in the tail pages of multi-page slabs resolve to their slab. */
TEST(multi_page_slabs)
{
        enum { N = 40 };
        void *objs[N];

        setup(4 * MiB, true);           /* debug kmalloc-2048: 4-page slabs */
        for (int i = 0; i < N; i++) {
                objs[i] = kmalloc(2000);
                fill(objs[i], 2000, (uint64_t)i);
        }
        CHECK(vmstat.slab_pages % 4 == 0);
        CHECK(kmalloc_check());
        for (int i = 0; i < N; i++) {
                CHECK_EQ(kmalloc_usable_size(objs[i]), 2000);
                CHECK(verify(objs[i], 2000, (uint64_t)i));
                kfree(objs[i]);
        }
        CHECK(kmalloc_check());
        kmalloc_shrink();
        CHECK_EQ(vmstat.slab_pages, 0);
}
