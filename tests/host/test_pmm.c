/*
 * test_pmm.c - the buddy allocator (kernel/vm/pmm.c) over simulated RAM.
 *
 * Descriptors live in a static array here, not in host RAM, so a test can
 * give the allocator frames far above the RAM it allocates (up to 4 GiB +
 * 64 MiB) as long as it never touches their contents: only PMM_ZERO does,
 * so it is used on frames below host_ram_size only.
 */
#include "check.h"

#include <mercator/panic.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BIG_NPAGES      ((4 * GiB + 64 * MiB) >> PAGE_SHIFT)
#define PFN(pa)         ((pa) >> PAGE_SHIFT)

static struct vm_page descs[BIG_NPAGES];

/* Simulated RAM of ram_bytes and an empty allocator over npages frames. */
static void setup(uint64_t ram_bytes, uint64_t npages)
{
        CHECK(npages <= BIG_NPAGES);
        host_ram_setup(ram_bytes);
        pmm_init(descs, 0, npages, pmm_machine_zones);
}

static uint64_t pfn_of(const struct vm_page *pg)
{
        return PFN(pmm_page_to_pa(pg));
}

static enum zone_id zone_of_pfn(uint64_t pfn)
{
        if (pfn < PFN(ZONE_DMA_END))
                return ZONE_DMA;
        return pfn < PFN(ZONE_DMA32_END) ? ZONE_DMA32 : ZONE_NORMAL;
}

static uint64_t zone_free(enum zone_id z)
{
        struct pmm_zone_stats st;

        pmm_zone_stats(z, &st);
        return st.free;
}

/* Free blocks of order >= order in zone z. */
static uint64_t zone_blocks_from(enum zone_id z, unsigned order)
{
        struct pmm_zone_stats st;
        uint64_t n = 0;

        pmm_zone_stats(z, &st);
        for (unsigned o = order; o <= PMM_MAX_ORDER; o++)
                n += st.nr_free[o];
        return n;
}

static void check_zone(enum zone_id z, uint64_t present, uint64_t free,
                       uint64_t max_blocks)
{
        struct pmm_zone_stats st;

        pmm_zone_stats(z, &st);
        CHECK_EQ(st.present, present);
        CHECK_EQ(st.free, free);
        CHECK_EQ(st.nr_free[PMM_MAX_ORDER], max_blocks);
}

TEST(init_everything_reserved)
{
        setup(4 * MiB, 1024);
        CHECK_EQ(pmm_npages(), 1024);
        CHECK_EQ(pmm_free_count(), 0);
        CHECK(pmm_alloc_pages(0, 0) == NULL);
        CHECK(pmm_alloc_pages(0, PMM_DMA) == NULL);
        for (uint64_t pfn = 0; pfn < 1024; pfn++)
                CHECK(pmm_pa_to_page(pfn << PAGE_SHIFT)->flags & PG_RESERVED);
        CHECK(pmm_pa_to_page(1024 << PAGE_SHIFT) == NULL);
        CHECK(pmm_check());
}

TEST(add_range_carves_largest_blocks)
{
        setup(32 * MiB, PFN(32 * MiB));
        pmm_add_range(0, 32 * MiB);
        CHECK(pmm_check());
        pmm_drain_local();      /* the buddy whole: this CPU's list back */
        check_zone(ZONE_DMA, PFN(16 * MiB), PFN(16 * MiB), 4);
        check_zone(ZONE_DMA32, PFN(16 * MiB), PFN(16 * MiB), 4);
        check_zone(ZONE_NORMAL, 0, 0, 0);
        CHECK_EQ(pmm_free_count(), PFN(32 * MiB));
}

TEST(add_range_unaligned_and_clipped)
{
        struct pmm_zone_stats st;

        setup(8 * MiB, PFN(8 * MiB));
        /* inward: frames 2..8 (0x1800 rounds up, 0x9fff rounds down) */
        pmm_add_range(0x1800, 0x9fff);
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), 7);
        pmm_zone_stats(ZONE_DMA, &st);
        CHECK_EQ(st.nr_free[0], 1);     /* frames 2-3 */
        CHECK_EQ(st.nr_free[1], 1);
        CHECK_EQ(st.nr_free[2], 1);     /* frames 4-7 */
        CHECK_EQ(st.nr_free[0] + st.nr_free[1] * 2 + st.nr_free[2] * 4, 7);
        CHECK(pmm_pa_to_page(0x1000)->flags & PG_RESERVED);
        CHECK(pmm_pa_to_page(0x9000)->flags & PG_RESERVED);
        /* empty, inverted, sub-page and past-the-array ranges */
        pmm_add_range(0x20000, 0x20000);
        pmm_add_range(0x30000, 0x20000);
        pmm_add_range(0x40001, 0x40fff);
        pmm_add_range(8 * MiB, ~0ULL);
        pmm_add_range(~0ULL - 0x800, ~0ULL);
        CHECK_EQ(pmm_free_count(), 7);
        /* past the end is clipped: 4 MiB + everything after 8 MiB */
        pmm_add_range(4 * MiB, ~0ULL);
        CHECK_EQ(pmm_free_count(), 7 + PFN(4 * MiB));
        CHECK(pmm_check());
}

TEST(add_range_merges_neighbours)
{
        setup(8 * MiB, PFN(8 * MiB));
        pmm_add_range(0x1000, 2 * MiB);
        pmm_add_range(2 * MiB, 4 * MiB);
        pmm_add_range(0, 0x1000);
        CHECK(pmm_check());
        check_zone(ZONE_DMA, PFN(4 * MiB), PFN(4 * MiB), 1);
        EXPECT_PANIC(pmm_add_range(0x3000, 0x5000));
}

/* Allocate order-0 pages until none is left; returns how many. */
static uint64_t drain_order0(struct vm_page **pages, uint64_t max)
{
        uint64_t n = 0;
        struct vm_page *pg;

        while ((pg = pmm_alloc_pages(0, 0)) != NULL) {
                CHECK(n < max);
                CHECK_EQ(pg->refcount, 1);
                CHECK(!(pg->flags & (PG_FREE | PG_RESERVED | PG_HEAD)));
                pages[n++] = pg;
        }
        return n;
}

static void shuffle(struct vm_page **a, uint64_t n, struct rng *r)
{
        for (uint64_t i = n; i > 1; i--) {
                uint64_t j = rng_below(r, i);
                struct vm_page *t = a[i - 1];

                a[i - 1] = a[j];
                a[j] = t;
        }
}

TEST(split_all_then_merge_back)
{
        static struct vm_page *pages[PFN(32 * MiB)];
        struct rng r;
        uint64_t total = PFN(32 * MiB), n;

        rng_seed(&r, check_seed(1));
        setup(32 * MiB, total);
        pmm_add_range(0, 32 * MiB);
        n = drain_order0(pages, total);
        CHECK_EQ(n, total);
        CHECK_EQ(pmm_free_count(), 0);
        CHECK(pmm_check());
        shuffle(pages, n, &r);
        for (uint64_t i = 0; i < n; i++) {
                pmm_free_pages(pages[i], 0);
                CHECK_EQ(pmm_free_count(), i + 1);
                if (i % 509 == 0)
                        CHECK(pmm_check());
        }
        CHECK(pmm_check());
        pmm_drain_local();      /* the buddy whole: this CPU's list back */
        check_zone(ZONE_DMA, PFN(16 * MiB), PFN(16 * MiB), 4);
        check_zone(ZONE_DMA32, PFN(16 * MiB), PFN(16 * MiB), 4);
        for (unsigned o = 0; o < PMM_MAX_ORDER; o++) {
                CHECK_EQ(zone_blocks_from(ZONE_DMA, o), 4);
                CHECK_EQ(zone_blocks_from(ZONE_DMA32, o), 4);
        }
}

TEST(exhaustion_returns_null)
{
        static struct vm_page *held[PFN(8 * MiB)];
        uint64_t n = 0;

        setup(8 * MiB, PFN(8 * MiB));
        pmm_add_range(PAGE_SIZE, 8 * MiB);      /* frame 0 left out */
        CHECK(pmm_alloc_pages(PMM_MAX_ORDER + 1, 0) == NULL);
        CHECK(pmm_alloc_pages(200, 0) == NULL);
        for (int o = PMM_MAX_ORDER; o >= 0; o--) {
                struct vm_page *pg;

                while ((pg = pmm_alloc_pages((unsigned)o, 0)) != NULL)
                        held[n++] = pg;
                CHECK(zone_blocks_from(ZONE_DMA, (unsigned)o) == 0);
                CHECK(pmm_check());
        }
        CHECK_EQ(pmm_free_count(), 0);
        for (unsigned o = 0; o <= PMM_MAX_ORDER; o++) {
                CHECK(pmm_alloc_pages(o, 0) == NULL);
                CHECK(pmm_alloc_pages(o, PMM_DMA) == NULL);
                CHECK(pmm_alloc_pages(o, PMM_DMA32 | PMM_ZERO) == NULL);
        }
        CHECK(pmm_check());
        for (uint64_t i = 0; i < n; i++)
                pmm_free_pages(held[i], held[i]->order);
        CHECK_EQ(pmm_free_count(), PFN(8 * MiB) - 1);
        CHECK(pmm_check());
}

/*
 * A machine with RAM in all three zones: [0, 32 MiB) (DMA and DMA32) and
 * [4 GiB, 4 GiB + 8 MiB) (NORMAL). Only the low 32 MiB exist in host RAM.
 */
static void setup_three_zones(void)
{
        setup(32 * MiB, BIG_NPAGES);
        pmm_add_range(0, 32 * MiB);
        pmm_add_range(4 * GiB, 4 * GiB + 8 * MiB);
        CHECK(pmm_check());
        check_zone(ZONE_NORMAL, PFN(8 * MiB), PFN(8 * MiB), 2);
}

/* Allocate order-10 blocks with flags until NULL; each must be in zone
 * `want` until that zone is empty, then in `then` (if any). */
static void drain_zones(unsigned flags, enum zone_id want, int then)
{
        struct vm_page *pg;

        while ((pg = pmm_alloc_pages(PMM_MAX_ORDER, flags)) != NULL) {
                enum zone_id z = zone_of_pfn(pfn_of(pg));

                if (z != want) {
                        CHECK(then >= 0 && z == (enum zone_id)then);
                        CHECK_EQ(zone_free(want), 0);
                }
        }
        CHECK(pmm_check());
}

TEST(zone_dma_only)
{
        setup_three_zones();
        drain_zones(PMM_DMA, ZONE_DMA, -1);
        CHECK_EQ(zone_free(ZONE_DMA), 0);
        CHECK_EQ(zone_free(ZONE_DMA32), PFN(16 * MiB));
        CHECK_EQ(zone_free(ZONE_NORMAL), PFN(8 * MiB));
        CHECK(pmm_alloc_pages(0, PMM_DMA) == NULL);
        /* PMM_DMA wins when both zone flags are given */
        CHECK(pmm_alloc_pages(0, PMM_DMA | PMM_DMA32) == NULL);
}

TEST(zone_dma32_falls_back_to_dma)
{
        setup_three_zones();
        drain_zones(PMM_DMA32, ZONE_DMA32, ZONE_DMA);
        CHECK_EQ(zone_free(ZONE_DMA), 0);
        CHECK_EQ(zone_free(ZONE_DMA32), 0);
        CHECK_EQ(zone_free(ZONE_NORMAL), PFN(8 * MiB));
}

TEST(zone_normal_falls_back_in_order)
{
        struct vm_page *pg;
        int seen[NR_ZONES] = { 0 };
        int last = ZONE_NORMAL;

        setup_three_zones();
        while ((pg = pmm_alloc_pages(PMM_MAX_ORDER, 0)) != NULL) {
                enum zone_id z = zone_of_pfn(pfn_of(pg));

                CHECK((int)z <= last);          /* NORMAL, DMA32, then DMA */
                if ((int)z < last)
                        CHECK_EQ(zone_free((enum zone_id)last), 0);
                last = (int)z;
                seen[z]++;
        }
        CHECK_EQ(seen[ZONE_NORMAL], 2);
        CHECK_EQ(seen[ZONE_DMA32], 4);
        CHECK_EQ(seen[ZONE_DMA], 4);
        CHECK_EQ(pmm_free_count(), 0);
        CHECK(pmm_check());
}

TEST(zone_of_page_and_block_never_spans)
{
        setup(32 * MiB, BIG_NPAGES);
        /* a range straddling 16 MiB is split at the zone boundary */
        pmm_add_range(12 * MiB + PAGE_SIZE, 20 * MiB);
        pmm_add_range(4 * GiB - 4 * MiB, 4 * GiB + 4 * MiB);
        CHECK(pmm_check());
        CHECK_EQ(pmm_pa_to_page(15 * MiB)->zone, ZONE_DMA);
        CHECK_EQ(pmm_pa_to_page(16 * MiB)->zone, ZONE_DMA32);
        CHECK_EQ(pmm_pa_to_page(4 * GiB)->zone, ZONE_NORMAL);
        CHECK_EQ(zone_free(ZONE_DMA), PFN(4 * MiB) - 1);
        CHECK_EQ(zone_free(ZONE_DMA32), PFN(8 * MiB));
        CHECK_EQ(zone_free(ZONE_NORMAL), PFN(4 * MiB));
}

TEST(double_free_is_caught)
{
        struct vm_page *a, *b, *big;

        setup(4 * MiB, PFN(4 * MiB));
        pmm_add_range(0, 4 * MiB);
        a = pmm_alloc_pages(0, 0);
        b = pmm_alloc_pages(0, 0);
        CHECK(a && b && a != b);
        pmm_free_pages(a, 0);
        EXPECT_PANIC(pmm_free_pages(a, 0));     /* still a free head */
        pmm_free_pages(b, 0);                   /* merges with a */
        EXPECT_PANIC(pmm_free_pages(b, 0));     /* inside a merged block */
        EXPECT_PANIC(pmm_free_pages(a, 0));
        CHECK(pmm_check());
        big = pmm_alloc_pages(3, 0);
        CHECK(big);
        pmm_free_pages(big, 3);
        EXPECT_PANIC(pmm_free_pages(big, 3));
        EXPECT_PANIC(pmm_free_pages(big + 1, 0));
        CHECK(strstr(check_panic_msg, "double free"));
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), PFN(4 * MiB));
}

TEST(bad_frees_are_caught)
{
        struct vm_page *pg, *tmp;

        setup(8 * MiB, PFN(8 * MiB));
        pmm_add_range(4 * MiB, 8 * MiB);
        EXPECT_PANIC(pmm_free_pages(pmm_pa_to_page(0x3000), 0)); /* reserved */
        CHECK(strstr(check_panic_msg, "reserved"));
        EXPECT_PANIC(pmm_free_pages(NULL, 0));
        pg = pmm_alloc_pages(2, 0);
        CHECK(pg && (pg->flags & PG_HEAD) && pg->order == 2);
        EXPECT_PANIC(pmm_free_pages(pg, 0));    /* order mismatch */
        EXPECT_PANIC(pmm_free_pages(pg, 3));
        EXPECT_PANIC(pmm_free_pages(pg, PMM_MAX_ORDER + 1));
        EXPECT_PANIC(pmm_free_pages(pg + 1, 2)); /* misaligned */
        tmp = (struct vm_page *)((char *)pg + 8);
        EXPECT_PANIC(pmm_free_pages(tmp, 2));   /* not a descriptor */
        pg->refcount = 2;
        EXPECT_PANIC(pmm_free_pages(pg, 2));    /* still shared */
        pg->refcount = 0;                       /* caller dropped the last */
        pmm_free_pages(pg, 2);
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), PFN(4 * MiB));
}

TEST(claim_then_free)
{
        struct pmm_zone_stats st;

        setup(8 * MiB, PFN(8 * MiB));
        pmm_add_range(0, 1 * MiB);
        pmm_add_range(2 * MiB, 8 * MiB);
        pmm_claim_range(1 * MiB + 0x10, 2 * MiB - 0x10); /* outward */
        CHECK(pmm_check());
        pmm_zone_stats(ZONE_DMA, &st);
        CHECK_EQ(st.present, PFN(8 * MiB));
        CHECK_EQ(st.free, PFN(7 * MiB));
        EXPECT_PANIC(pmm_claim_range(0, PAGE_SIZE));    /* already free */
        EXPECT_PANIC(pmm_claim_range(MiB, MiB + 1));    /* already claimed */
        for (paddr_t pa = MiB; pa < 2 * MiB; pa += PAGE_SIZE) {
                struct vm_page *pg = pmm_pa_to_page(pa);

                CHECK_EQ(pg->refcount, 1);
                CHECK(!(pg->flags & (PG_RESERVED | PG_FREE)));
                pmm_free_pages(pg, 0);
        }
        CHECK(pmm_check());
        pmm_drain_local();      /* the buddy whole: this CPU's list back */
        check_zone(ZONE_DMA, PFN(8 * MiB), PFN(8 * MiB), 2);
}

TEST(alignment_and_zero_fill)
{
        setup(32 * MiB, PFN(32 * MiB));
        pmm_add_range(PAGE_SIZE * 3, 32 * MiB);
        memset(host_ram, 0xa5, host_ram_size);
        for (unsigned o = 0; o <= PMM_MAX_ORDER; o++) {
                struct vm_page *pg = pmm_alloc_pages(o, PMM_ZERO);
                paddr_t pa;
                const uint8_t *p;

                CHECK(pg);
                pa = pmm_page_to_pa(pg);
                CHECK_EQ(pa & ((PAGE_SIZE << o) - 1), 0);
                CHECK(pa + (PAGE_SIZE << o) <= host_ram_size);
                p = host_ram + pa;
                for (uint64_t i = 0; i < (PAGE_SIZE << o); i++)
                        CHECK(p[i] == 0);
                CHECK_EQ(pg->order, o);
                CHECK_EQ(!!(pg->flags & PG_HEAD), o > 0);
                /* neighbours outside the block are untouched */
                if (pa + (PAGE_SIZE << o) < host_ram_size)
                        CHECK(p[PAGE_SIZE << o] == 0xa5 || p[PAGE_SIZE << o] == 0);
        }
        CHECK(pmm_check());
}

TEST(dump_and_stats)
{
        struct pmm_zone_stats st;

        setup_three_zones();
        pmm_dump();             /* LOG_INFO: shown with HOST_VERBOSE=1 */
        pmm_zone_stats((enum zone_id)7, &st);
        CHECK_EQ(st.present, 0);
        CHECK_EQ(st.free, 0);
        CHECK(strcmp(pmm_zone_name(ZONE_DMA), "DMA") == 0);
        CHECK(strcmp(pmm_zone_name(ZONE_DMA32), "DMA32") == 0);
        CHECK(strcmp(pmm_zone_name(ZONE_NORMAL), "Normal") == 0);
        CHECK(strcmp(pmm_zone_name((enum zone_id)9), "?") == 0);
        CHECK_EQ(pmm_npages(), BIG_NPAGES);
        CHECK(pmm_pa_to_page(BIG_NPAGES << PAGE_SHIFT) == NULL);
        CHECK(pmm_pa_to_page(~0ULL) == NULL);
        CHECK_EQ(pmm_page_to_pa(pmm_pa_to_page(4 * GiB + 0x234)), 4 * GiB);
}

TEST(check_catches_corruption)
{
        struct vm_page *pg;

        setup(4 * MiB, PFN(4 * MiB));
        pmm_add_range(0, 4 * MiB);
        pg = pmm_alloc_pages(0, 0);
        CHECK(pmm_check());
        /* frames 1-15 on this CPU's list: a broken one is caught */
        pmm_pa_to_page(0x3000)->order = 0;
        CHECK(!pmm_check());
        pmm_pa_to_page(0x3000)->order = 0xff;
        CHECK(pmm_check());
        pmm_pa_to_page(0x3000)->flags = 0;      /* listed, not marked */
        CHECK(!pmm_check());
        pmm_pa_to_page(0x3000)->flags = PG_FREE;
        CHECK(pmm_check());
        EXPECT_PANIC(pmm_free_pages(pmm_pa_to_page(0x3000), 0));
        pmm_drain_local();      /* the rest as before: the buddy alone */
        CHECK(pmm_check());
        pmm_pa_to_page(0x5000)->flags |= PG_FREE;       /* inside a block */
        CHECK(!pmm_check());
        pmm_pa_to_page(0x5000)->flags &= ~PG_FREE;
        CHECK(pmm_check());
        pmm_pa_to_page(0x1000)->order = 3;     /* frame 1: an order-0 head */
        CHECK(!pmm_check());
        pmm_pa_to_page(0x1000)->order = 0;
        CHECK(pmm_check());
        pmm_pa_to_page(0x400000 - PAGE_SIZE)->flags |= PG_RESERVED;
        CHECK(!pmm_check());
        pmm_pa_to_page(0x400000 - PAGE_SIZE)->flags &= ~PG_RESERVED;
        CHECK(pmm_check());
        pmm_free_pages(pg, 0);
        CHECK(pmm_check());
}

/* --- randomized sequence against a model ---------------------------- */

struct block { uint64_t pfn; unsigned order; };

struct model {
        struct block blocks[4096];
        unsigned n;
        uint8_t *owned;         /* one byte per frame: allocated? */
        uint64_t total, allocated;
        uint64_t allocs, frees, nulls, fallbacks;       /* for the log */
};

/* Allowed zones for flags, lowest limit first: the block must end below. */
static uint64_t zone_limit_pfn(unsigned flags)
{
        if (flags & PMM_DMA)
                return PFN(ZONE_DMA_END);
        if (flags & PMM_DMA32)
                return PFN(ZONE_DMA32_END);
        return ~0ULL;
}

/* The zone preference list as the header promises it. */
static unsigned preferred(unsigned flags, enum zone_id out[NR_ZONES])
{
        unsigned n = 0;

        if (flags & PMM_DMA) {
                out[n++] = ZONE_DMA;
                return n;
        }
        if (!(flags & PMM_DMA32))
                out[n++] = ZONE_NORMAL;
        out[n++] = ZONE_DMA32;
        out[n++] = ZONE_DMA;
        return n;
}

/* Before an allocation: how many zones ahead of the one used must have
 * been empty for this order, per the model of zone fallback. */
static void model_check_alloc(struct model *m, struct vm_page *pg,
                              unsigned order, unsigned flags,
                              const uint64_t avail[NR_ZONES])
{
        enum zone_id zl[NR_ZONES];
        unsigned nz = preferred(flags, zl);
        uint64_t pfn, n = 1ULL << order;

        if (!pg) {
                for (unsigned i = 0; i < nz; i++)
                        CHECK_EQ(avail[zl[i]], 0);
                m->nulls++;
                return;
        }
        pfn = pfn_of(pg);
        m->allocs++;
        m->fallbacks += zone_of_pfn(pfn) != zl[0];
        CHECK_EQ(pfn & (n - 1), 0);
        CHECK(pfn + n <= zone_limit_pfn(flags));
        CHECK_EQ(zone_of_pfn(pfn), zone_of_pfn(pfn + n - 1));
        for (unsigned i = 0; i < nz && zl[i] != zone_of_pfn(pfn); i++)
                CHECK_EQ(avail[zl[i]], 0);
        for (uint64_t i = 0; i < n; i++) {
                CHECK(!m->owned[pfn + i]);
                m->owned[pfn + i] = 1;
        }
        CHECK_EQ(pg->refcount, 1);
        m->blocks[m->n++] = (struct block){ pfn, order };
        m->allocated += n;
}

static void model_free_one(struct model *m, unsigned i)
{
        struct block b = m->blocks[i];

        pmm_free_pages(pmm_pa_to_page(b.pfn << PAGE_SHIFT), b.order);
        for (uint64_t j = 0; j < (1ULL << b.order); j++)
                m->owned[b.pfn + j] = 0;
        m->allocated -= 1ULL << b.order;
        m->blocks[i] = m->blocks[--m->n];
        m->frees++;
}

static void model_alloc_one(struct model *m, struct rng *r)
{
        static const unsigned zflags[] = { 0, 0, PMM_DMA32, PMM_DMA };
        unsigned order = (unsigned)(rng_below(r, 4) ? rng_below(r, 4)
                                    : rng_below(r, PMM_MAX_ORDER + 2));
        unsigned flags = zflags[rng_below(r, 4)];
        uint64_t avail[NR_ZONES];
        struct vm_page *pg;

        for (unsigned z = 0; z < NR_ZONES; z++)
                avail[z] = zone_blocks_from(z, MIN(order, PMM_MAX_ORDER));
        pg = pmm_alloc_pages(order, flags);
        if (order > PMM_MAX_ORDER) {
                CHECK(pg == NULL);
                return;
        }
        model_check_alloc(m, pg, order, flags, avail);
}

/* Random allocations and frees, each checked against the model; pmm_check()
 * after every check_every-th step and at the end. */
static void run_random(struct model *m, uint64_t seed, unsigned steps,
                       unsigned check_every)
{
        struct rng r;

        rng_seed(&r, check_seed(seed));
        for (unsigned step = 0; step < steps; step++) {
                bool do_alloc = m->n == 0 ||
                        (m->n < ARRAY_SIZE(m->blocks) && rng_below(&r, 100) <
                         (step % 1000 < 600 ? 65 : 35));

                if (do_alloc)
                        model_alloc_one(m, &r);
                else
                        model_free_one(m, (unsigned)rng_below(&r, m->n));
                CHECK_EQ(pmm_free_count(), m->total - m->allocated);
                if (step % check_every == 0)
                        CHECK(pmm_check());
        }
        while (m->n)
                model_free_one(m, m->n - 1);
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), m->total);
        printf("    seed %#lx: %lu allocs, %lu frees, %lu NULL, %lu from a "
               "fallback zone\n", (unsigned long)seed, (unsigned long)m->allocs,
               (unsigned long)m->frees, (unsigned long)m->nulls,
               (unsigned long)m->fallbacks);
        CHECK(m->nulls > 0 && m->fallbacks > 0);
}

TEST(random_against_model_low)
{
        static struct model m;
        static const uint64_t seeds[] = { 1, 42, 0xdecafbad, 7777 };

        for (unsigned s = 0; s < ARRAY_SIZE(seeds); s++) {
                setup(24 * MiB, PFN(24 * MiB));
                /* holes and odd edges so blocks of every size appear */
                pmm_add_range(PAGE_SIZE, 5 * MiB + 3 * PAGE_SIZE);
                pmm_add_range(6 * MiB - PAGE_SIZE, 24 * MiB - 5 * PAGE_SIZE);
                memset(&m, 0, sizeof m);
                m.owned = calloc(PFN(24 * MiB), 1);
                m.total = pmm_free_count();
                run_random(&m, seeds[s], 3000, 1);
                free(m.owned);
        }
}

/* The same over all three zones. pmm_check() walks over a million
 * descriptors here (3 ms under ASan), so it runs every 8th step; the model's
 * own checks still run after every step. */
TEST(random_against_model_three_zones)
{
        static struct model m;
        static const uint64_t seeds[] = { 3, 0x5eed, 99 };

        for (unsigned s = 0; s < ARRAY_SIZE(seeds); s++) {
                setup(32 * MiB, BIG_NPAGES);
                pmm_add_range(PAGE_SIZE, 20 * MiB);
                pmm_add_range(4 * GiB, 4 * GiB + 6 * MiB + PAGE_SIZE);
                memset(&m, 0, sizeof m);
                m.owned = calloc(BIG_NPAGES, 1);
                m.total = pmm_free_count();
                run_random(&m, seeds[s], 2000, 8);
                free(m.owned);
        }
}

TEST(add_16g_is_fast)
{
        uint64_t npages = (16 * GiB) >> PAGE_SHIFT;
        struct vm_page *big = malloc(npages * sizeof *big);
        clock_t t0;
        double secs;

        CHECK(big);
        t0 = clock();
        pmm_init(big, 0, npages, pmm_machine_zones);
        pmm_add_range(PAGE_SIZE, 640 * KiB);
        pmm_add_range(MiB, 3 * GiB);
        pmm_add_range(4 * GiB, 16 * GiB);
        secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        printf("  add_16g: init + add of %lu frames in %.3f s\n",
               (unsigned long)npages, secs);
        CHECK_EQ(pmm_free_count(), npages - PFN(GiB) - PFN(MiB) + 159);
        CHECK(secs < 5.0);
        CHECK(pmm_check());
        pmm_init(descs, 0, 0, pmm_machine_zones);     /* forget `big` before freeing it */
        free(big);
}

/*
 * RAM that starts above 0 (RISC-V's starts at 0x80000000) under a zone
 * table of the test's own: frame numbers count from the base, addresses
 * below it have no descriptor, and zone ends are relative to the base.
 */
TEST(ram_base_above_zero)
{
        static const struct pmm_zone_desc zones[NR_ZONES] = {
                [ZONE_DMA]    = { "low",  0x80000000ULL + 8 * MiB },
                [ZONE_DMA32]  = { "mid",  0x80000000ULL + 8 * MiB },
                [ZONE_NORMAL] = { "high", PADDR_LIMIT },
        };
        const paddr_t base = 0x80000000ULL;
        uint64_t npages = PFN(32 * MiB);
        struct vm_page *pg, *all[8];

        pmm_init(descs, base, npages, zones);
        CHECK_EQ(pmm_ram_base(), base);
        CHECK(pmm_pa_to_page(0) == NULL);
        CHECK(pmm_pa_to_page(base - PAGE_SIZE) == NULL);
        CHECK(pmm_pa_to_page(base) == &descs[0]);
        CHECK(pmm_pa_to_page(base + 32 * MiB) == NULL);
        CHECK_EQ(pmm_page_to_pa(&descs[5]), base + 5 * PAGE_SIZE);
        CHECK(strcmp(pmm_zone_name(ZONE_NORMAL), "high") == 0);

        pmm_add_range(0, base + 32 * MiB);      /* clipped to the RAM */
        CHECK_EQ(pmm_free_count(), npages);
        check_zone(ZONE_DMA, PFN(8 * MiB), PFN(8 * MiB), 2);
        check_zone(ZONE_DMA32, 0, 0, 0);
        check_zone(ZONE_NORMAL, PFN(24 * MiB), PFN(24 * MiB), 6);
        CHECK(pmm_check());

        /* blocks are aligned physically, and the low zone is the fallback */
        pg = pmm_alloc_pages(PMM_MAX_ORDER, 0);
        CHECK(pg && pmm_page_to_pa(pg) >= base + 8 * MiB);
        CHECK(pmm_page_to_pa(pg) % (PAGE_SIZE << PMM_MAX_ORDER) == 0);
        pmm_free_pages(pg, PMM_MAX_ORDER);
        for (unsigned i = 0; i < 8; i++) {
                all[i] = pmm_alloc_pages(PMM_MAX_ORDER, 0);
                CHECK(all[i]);
        }
        CHECK(pmm_alloc_pages(0, 0) == NULL);
        CHECK(pmm_page_to_pa(all[7]) < base + 8 * MiB);
        for (unsigned i = 0; i < 8; i++)
                pmm_free_pages(all[i], PMM_MAX_ORDER);
        CHECK(pmm_check());
        pmm_init(descs, 0, 0, pmm_machine_zones);
}
