/*
 * test_bootmem.c - the boot allocator (kernel/vm/bootmem.c) over messy maps,
 * and its handoff to the buddy allocator, checked frame by frame against a
 * model.
 */
#include "check.h"

#include <mercator/status.h>
#include <machine/vmparam.h>
#include <vm/bootmem.h>
#include <vm/memmap.h>
#include <vm/pmm.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define R(b, l, t)      ((struct mem_range){ (b), (l), (t) })
#define U               MEM_USABLE
#define RES             MEM_RESERVED
#define PFN(pa)         ((pa) >> PAGE_SHIFT)
#define WIN             (8 * MiB)       /* host RAM of the model tests */
#define NFR             PFN(WIN)

/* What the model says of each frame. */
enum frame_state { F_HOLE, F_FREE, F_GIVEN, F_RESERVED, F_BITMAP };

struct model {
        struct mem_range map[MEMMAP_MAX];
        unsigned n;
        uint8_t st[NFR];
        uint64_t nframes;
};

static struct vm_page descs[NFR];

/* Sanitize raw into m->map and derive each frame's starting state. */
static void model_from_raw(struct model *m, const struct mem_range *raw,
                           unsigned nraw)
{
        memset(m, 0, sizeof *m);
        m->n = memmap_sanitize(raw, nraw, m->map, MEMMAP_MAX);
        m->nframes = PFN(memmap_usable_end(m->map, m->n));
        CHECK(m->nframes <= NFR);
        for (unsigned i = 0; i < m->n; i++)
                if (m->map[i].type == U)
                        for (uint64_t f = PFN(m->map[i].base);
                             f < PFN(m->map[i].base + m->map[i].len); f++)
                                m->st[f] = F_FREE;
        if (m->st[0] == F_FREE)
                m->st[0] = F_RESERVED;
}

/* The bitmaps' place as bootmem.c documents it: the first usable range
 * below limit with room, never frame 0. */
static bool model_place_bitmap(struct model *m, paddr_t limit)
{
        uint64_t pages = PFN(page_round((m->nframes + 63) / 64 * 16));

        for (unsigned i = 0; i < m->n; i++) {
                const struct mem_range *r = &m->map[i];
                uint64_t s = MAX(PFN(r->base), 1);
                uint64_t e = MIN(PFN(r->base + r->len), PFN(limit));

                if (r->type != U || e <= s || e - s < pages)
                        continue;
                for (uint64_t f = s; f < s + pages; f++)
                        m->st[f] = F_BITMAP;
                return true;
        }
        return false;
}

static uint64_t model_count(const struct model *m, enum frame_state s)
{
        uint64_t n = 0;

        for (uint64_t f = 0; f < NFR; f++)
                n += m->st[f] == s;
        return n;
}

/* bootmem's counters must match the model's. */
static void model_check_counts(const struct model *m)
{
        CHECK_EQ(bootmem_free_pages(), model_count(m, F_FREE));
        CHECK_EQ(bootmem_used_pages(), model_count(m, F_GIVEN) +
                 model_count(m, F_BITMAP) + model_count(m, F_RESERVED));
}

/* First fit in the model; 0 if none. */
static uint64_t model_alloc(struct model *m, uint64_t n, uint64_t align,
                            paddr_t limit)
{
        uint64_t end = MIN(m->nframes, PFN(limit)), step = PFN(align);

        for (uint64_t f = 0; f + n <= end; f += step) {
                uint64_t i = 0;

                while (i < n && m->st[f + i] == F_FREE)
                        i++;
                if (i < n)
                        continue;
                for (i = 0; i < n; i++)
                        m->st[f + i] = F_GIVEN;
                return f << PAGE_SHIFT;
        }
        return 0;
}

static void model_reserve(struct model *m, paddr_t base, uint64_t len)
{
        uint64_t end = len > UINT64_MAX - base ? UINT64_MAX : base + len;

        if (len == 0)
                return;
        for (uint64_t f = PFN(base);
             f < PFN(end) + ((end & PAGE_MASK) != 0) && f < NFR; f++)
                if (m->st[f] == F_FREE)
                        m->st[f] = F_RESERVED;
}

/* Which frames lie inside free buddy blocks, from the descriptors. */
static void pmm_free_frames(uint8_t *isfree, uint64_t npages)
{
        memset(isfree, 0, npages);
        for (uint64_t f = 0; f < npages; f++)
                if (descs[f].flags & PG_FREE)
                        memset(isfree + f, 1, 1ULL << descs[f].order);
}

/* After handoff: every frame as the model says, then give back the
 * frames bootmem handed out and check it all merges. */
static void model_check_handoff(const struct model *m)
{
        static uint8_t isfree[NFR];
        uint64_t want_free = model_count(m, F_FREE) + model_count(m, F_BITMAP);

        CHECK(!bootmem_active());
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), want_free);
        pmm_free_frames(isfree, NFR);
        for (uint64_t f = 0; f < NFR; f++) {
                bool free = m->st[f] == F_FREE || m->st[f] == F_BITMAP;

                CHECK_EQ(isfree[f], free);
                if (m->st[f] == F_GIVEN)
                        CHECK(descs[f].refcount == 1 &&
                              !(descs[f].flags & PG_RESERVED));
                if (m->st[f] == F_HOLE || m->st[f] == F_RESERVED)
                        CHECK(descs[f].flags & PG_RESERVED);
        }
        for (uint64_t f = 0; f < NFR; f++)
                if (m->st[f] == F_GIVEN)
                        pmm_free_pages(&descs[f], 0);
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), want_free + model_count(m, F_GIVEN));
}

/* bootmem_init() over raw, sanitized; false if the model says it must
 * fail (no usable RAM, no room for the bitmap) and it did. */
static bool start_maybe(struct model *m, const struct mem_range *raw,
                        unsigned n, paddr_t limit)
{
        bool fits;

        model_from_raw(m, raw, n);
        host_ram_setup(WIN);
        fits = m->nframes && model_place_bitmap(m, limit);
        CHECK_EQ(bootmem_init(m->map, m->n, limit), fits ? VM_OK : VM_ENOMEM);
        CHECK_EQ(bootmem_active(), fits);
        if (fits)
                model_check_counts(m);
        return fits;
}

static void start(struct model *m, const struct mem_range *raw, unsigned n,
                  paddr_t limit)
{
        CHECK(start_maybe(m, raw, n, limit));
}

static void handoff(struct model *m)
{
        pmm_init(descs, 0, NFR, pmm_machine_zones);
        bootmem_handoff();
        model_check_handoff(m);
}

/* A map as firmware gets it wrong: unsorted, overlapping, unaligned, a
 * zero-length and an unknown entry, a wrapping reserved one at the top. */
static const struct mem_range messy[] = {
        R(0x100000, 0x300000, U), R(0, 0x9fc00, U),
        R(0x9fc00, 0x60400, RES), R(0x380000, 0x80000, U),
        R(0x200800, 0x1000, MEM_ACPI_NVS), R(0x500123, 0x2ffedd, U),
        R(0x600000, 0, RES), R(0x700000, 0x2000, 42),
        R(0x7ff000, 0x1000, MEM_BAD), R(UINT64_MAX - 0xfff, 0x5000, RES),
};

TEST(init_over_messy_map)
{
        static struct model m;

        start(&m, messy, ARRAY_SIZE(messy), UINT64_MAX);
        CHECK_EQ(m.nframes, PFN(0x7ff000));
        CHECK_EQ(m.st[0], F_RESERVED);          /* frame 0 never free */
        CHECK_EQ(m.st[1], F_BITMAP);            /* first usable page */
        CHECK_EQ(m.st[PFN(0x200000)], F_HOLE);  /* NVS, outward */
        CHECK_EQ(m.st[PFN(0x500000)], F_HOLE);  /* unaligned start */
        CHECK_EQ(m.st[PFN(0x501000)], F_FREE);
        CHECK_EQ(m.st[PFN(0x700000)], F_HOLE);  /* unknown type */
        model_check_counts(&m);
        handoff(&m);
}

TEST(init_fails_cleanly)
{
        const struct mem_range none[] = { R(0, 0x100000, RES) };
        const struct mem_range high[] = { R(0, 0x1000, U),
                                          R(0x400000, 0x100000, U) };
        struct mem_range out[8];
        unsigned n;

        host_ram_setup(WIN);
        CHECK_EQ(bootmem_init(NULL, 0, UINT64_MAX), VM_ENOMEM);
        CHECK(!bootmem_active());
        n = memmap_sanitize(none, 1, out, 8);
        CHECK_EQ(bootmem_init(out, n, UINT64_MAX), VM_ENOMEM);
        n = memmap_sanitize(high, 2, out, 8);
        /* frame 0 is the only usable page below the limit: no room */
        CHECK_EQ(bootmem_init(out, n, 0x400000), VM_ENOMEM);
        CHECK(!bootmem_active());
        CHECK_EQ(bootmem_init(out, n, 0x401000), VM_OK);
        CHECK(bootmem_active());
        CHECK_EQ(bootmem_free_pages(), 0xff);   /* 0x100 minus the bitmap */
        CHECK_EQ(bootmem_alloc(1, PAGE_SIZE, UINT64_MAX), 0x401000);
        pmm_init(descs, 0, NFR, pmm_machine_zones);
        bootmem_handoff();
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), 0xff);       /* bitmap back, page taken */
}

TEST(alloc_first_fit_alignment_limit)
{
        static struct model m;
        paddr_t pa;

        start(&m, messy, ARRAY_SIZE(messy), UINT64_MAX);
        pa = bootmem_alloc(1, PAGE_SIZE, UINT64_MAX);
        CHECK_EQ(pa, model_alloc(&m, 1, PAGE_SIZE, UINT64_MAX));
        CHECK_EQ(pa, 0x2000);                   /* after the bitmap */
        pa = bootmem_alloc(16, 2 * MiB, UINT64_MAX);
        CHECK_EQ(pa, model_alloc(&m, 16, 2 * MiB, UINT64_MAX));
        CHECK(is_aligned(pa, 2 * MiB));
        CHECK_EQ(pa, 0x600000);         /* 2 MiB: NVS there; 4 MiB: a hole */
        pa = bootmem_alloc(0x9d, PAGE_SIZE, 0x9f000);
        CHECK_EQ(pa, 0);                /* frames 3..0x9e: 0x9c pages */
        CHECK_EQ(model_alloc(&m, 0x9d, PAGE_SIZE, 0x9f000), 0);
        pa = bootmem_alloc(0x9c, PAGE_SIZE, 0x9f000);
        CHECK_EQ(pa, model_alloc(&m, 0x9c, PAGE_SIZE, 0x9f000));
        CHECK_EQ(pa, 0x3000);
        pa = bootmem_alloc(4, 16 * KiB, 0x9f000);
        CHECK_EQ(pa, 0);
        model_check_counts(&m);
        handoff(&m);
}

TEST(alloc_bad_arguments_and_exhaustion)
{
        static struct model m;
        paddr_t pa;

        start(&m, messy, ARRAY_SIZE(messy), UINT64_MAX);
        CHECK_EQ(bootmem_alloc(0, PAGE_SIZE, UINT64_MAX), 0);
        CHECK_EQ(bootmem_alloc(1, 0, UINT64_MAX), 0);
        CHECK_EQ(bootmem_alloc(1, 512, UINT64_MAX), 0);
        CHECK_EQ(bootmem_alloc(1, 3 * PAGE_SIZE, UINT64_MAX), 0);
        CHECK_EQ(bootmem_alloc(1, PAGE_SIZE, PAGE_SIZE), 0);
        CHECK_EQ(bootmem_alloc(UINT64_MAX, PAGE_SIZE, UINT64_MAX), 0);
        CHECK_EQ(bootmem_alloc(1, 1ULL << 63, UINT64_MAX), 0);
        model_check_counts(&m);
        while ((pa = bootmem_alloc(1, PAGE_SIZE, UINT64_MAX)) != 0)
                CHECK_EQ(pa, model_alloc(&m, 1, PAGE_SIZE, UINT64_MAX));
        CHECK_EQ(bootmem_free_pages(), 0);
        CHECK_EQ(bootmem_alloc(1, PAGE_SIZE, UINT64_MAX), 0);
        model_check_counts(&m);
        handoff(&m);
        CHECK_EQ(pmm_free_count(), model_count(&m, F_BITMAP) +
                 model_count(&m, F_GIVEN));
}

TEST(reserve_outward_and_counted)
{
        static struct model m;
        uint64_t free0;

        start(&m, messy, ARRAY_SIZE(messy), UINT64_MAX);
        free0 = bootmem_free_pages();
        bootmem_reserve(0x10800, 0x1000);       /* frames 0x10, 0x11 */
        model_reserve(&m, 0x10800, 0x1000);
        CHECK_EQ(bootmem_free_pages(), free0 - 2);
        bootmem_reserve(0x9f000, 0x61000);      /* a hole: no change */
        bootmem_reserve(0x10000, 0x2000);       /* already reserved */
        bootmem_reserve(0x20000, 0);
        CHECK_EQ(bootmem_free_pages(), free0 - 2);
        bootmem_reserve(0x7f0000, UINT64_MAX);  /* past the end, wrapping */
        model_reserve(&m, 0x7f0000, UINT64_MAX);
        model_check_counts(&m);
        for (paddr_t pa; (pa = bootmem_alloc(1, PAGE_SIZE, UINT64_MAX)) != 0; ) {
                CHECK(PFN(pa) != 0x10 && PFN(pa) != 0x11 && pa < 0x7f0000);
                CHECK_EQ(pa, model_alloc(&m, 1, PAGE_SIZE, UINT64_MAX));
        }
        handoff(&m);
}

TEST(use_after_handoff_panics)
{
        static struct model m;

        start(&m, messy, ARRAY_SIZE(messy), UINT64_MAX);
        handoff(&m);
        EXPECT_PANIC(bootmem_alloc(1, PAGE_SIZE, UINT64_MAX));
        EXPECT_PANIC(bootmem_reserve(0x1000, 0x1000));
        EXPECT_PANIC(bootmem_handoff());
}

TEST(claimed_pages_free_and_merge)
{
        static struct model m;
        struct pmm_zone_stats st;
        paddr_t pa;

        start(&m, messy, ARRAY_SIZE(messy), UINT64_MAX);
        pa = bootmem_alloc(1024, 4 * MiB, UINT64_MAX);
        CHECK_EQ(pa, model_alloc(&m, 1024, 4 * MiB, UINT64_MAX));
        CHECK_EQ(pa, 0);        /* 0 has frame 0, 4 MiB a hole */
        pa = bootmem_alloc(256, MiB, UINT64_MAX);
        CHECK_EQ(pa, model_alloc(&m, 256, MiB, UINT64_MAX));
        CHECK_EQ(pa, 0x100000);
        pmm_init(descs, 0, NFR, pmm_machine_zones);
        bootmem_handoff();
        pmm_zone_stats(ZONE_DMA, &st);
        CHECK_EQ(st.free, model_count(&m, F_FREE) + model_count(&m, F_BITMAP));
        for (uint64_t i = 0; i < 256; i++)
                pmm_free_pages(pmm_pa_to_page(pa + i * PAGE_SIZE), 0);
        CHECK(pmm_check());
        pmm_drain_local();      /* the last pages freed back from the list */
        /* the freed MiB merged with its free neighbours */
        CHECK(descs[PFN(0x100000)].flags & PG_FREE);
        CHECK(descs[PFN(0x100000)].order >= 8);
}

/* --- randomized ------------------------------------------------------- */

static struct mem_range random_entry(struct rng *r)
{
        static const uint32_t types[] = { U, U, U, U, RES, MEM_ACPI_NVS,
                                          MEM_BAD, 0 };
        uint64_t base = rng_below(r, WIN) & ~(rng_below(r, 2) ? 0xfffULL : 0);
        uint64_t len = rng_below(r, WIN / 4);

        if (rng_below(r, 10) == 0)
                len = UINT64_MAX - rng_below(r, 4);
        uint32_t type = types[rng_below(r, ARRAY_SIZE(types))];

        if (len > WIN - base && type == U)
                len = WIN - base;       /* usable RAM stays in host RAM */
        return R(base, len, type);
}

static void random_op(struct model *m, struct rng *r)
{
        paddr_t limit = rng_below(r, 3) ? UINT64_MAX : rng_below(r, WIN + MiB);

        if (rng_below(r, 4) == 0) {
                paddr_t base = rng_below(r, WIN);
                uint64_t len = rng_below(r, 64 * KiB);

                bootmem_reserve(base, len);
                model_reserve(m, base, len);
        } else {
                uint64_t n = 1 + (rng_below(r, 4) ? rng_below(r, 4)
                                                  : rng_below(r, 300));
                uint64_t align = PAGE_SIZE << rng_below(r, 10);

                CHECK_EQ(bootmem_alloc(n, align, limit),
                         model_alloc(m, n, align, limit));
        }
        model_check_counts(m);
}

TEST(random_maps_and_operations)
{
        static const uint64_t seeds[] = { 1, 77, 0xb007, 123456789 };
        static struct model m;
        struct mem_range raw[20];
        struct rng r;

        for (unsigned s = 0; s < ARRAY_SIZE(seeds); s++) {
                rng_seed(&r, check_seed(seeds[s]));
                for (unsigned round = 0; round < 40; round++) {
                        unsigned nraw = 1 + (unsigned)rng_below(&r, ARRAY_SIZE(raw));

                        for (unsigned i = 0; i < nraw; i++)
                                raw[i] = random_entry(&r);
                        raw[0] = R(rng_below(&r, 4) * MiB, MiB, U);
                        if (!start_maybe(&m, raw, nraw, rng_below(&r, 2) ?
                                         UINT64_MAX : rng_below(&r, WIN)))
                                continue;
                        for (unsigned op = 0; op < 60; op++)
                                random_op(&m, &r);
                        handoff(&m);
                }
        }
}

/* --- a 17 GiB machine (16 GiB of RAM): only the bitmaps are touched ---- */

TEST(handoff_16g_is_fast)
{
        const struct mem_range raw[] = {
                R(0, 0x9fc00, U), R(0xf0000, 0x10000, RES),
                R(MiB, 3 * GiB - MiB, U), R(3 * GiB, GiB, RES),
                R(4 * GiB, 13 * GiB, U),
        };
        struct mem_range map[8];
        unsigned n = memmap_sanitize(raw, ARRAY_SIZE(raw), map, 8);
        uint64_t npages = PFN(17 * GiB), free_before, bitmap_pages;
        struct vm_page *big = malloc(npages * sizeof *big);
        paddr_t desc_pa;
        clock_t t0 = clock();
        double secs;

        CHECK(big);
        host_ram_setup(4 * MiB);
        CHECK_EQ(bootmem_init(map, n, GiB), VM_OK);
        bitmap_pages = PFN(page_round(npages / 64 * 16));
        bootmem_reserve(MiB + bitmap_pages * PAGE_SIZE, 2 * MiB); /* "kernel" */
        desc_pa = bootmem_alloc(PFN(page_round(npages * sizeof *big)),
                                PAGE_SIZE, UINT64_MAX);
        CHECK(desc_pa >= 3 * MiB);
        free_before = bootmem_free_pages();
        pmm_init(big, 0, npages, pmm_machine_zones);
        bootmem_handoff();
        secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        printf("  handoff_16g: %lu frames in %.3f s\n",
               (unsigned long)npages, secs);
        CHECK_EQ(pmm_free_count(), free_before + bitmap_pages);
        CHECK_EQ(free_before + bootmem_used_pages(),
                 memmap_usable_bytes(map, n) >> PAGE_SHIFT);
        CHECK(secs < 5.0);
        CHECK(pmm_check());
        CHECK_EQ(pmm_pa_to_page(desc_pa)->refcount, 1);
        CHECK(pmm_pa_to_page(MiB + bitmap_pages * PAGE_SIZE)->flags &
              PG_RESERVED);
        pmm_init(descs, 0, 0, pmm_machine_zones);
        free(big);
}

/* bootmem_alloc_range keeps inside [min, limit) and leaves lower frames
 * for later first-fit allocations. */
TEST(alloc_range_respects_min)
{
        struct mem_range map[] = { { 0, 64 * MiB, MEM_USABLE } };

        host_ram_setup(64 * MiB);
        CHECK_EQ(bootmem_init(map, 1, 64 * MiB), 0);
        paddr_t hi = bootmem_alloc_range(16, PAGE_SIZE, 32 * MiB, 64 * MiB);
        CHECK(hi >= 32 * MiB && hi + 16 * PAGE_SIZE <= 64 * MiB);
        paddr_t lo = bootmem_alloc(1, PAGE_SIZE, 64 * MiB);
        CHECK(lo != 0 && lo < 32 * MiB);
        CHECK_EQ(bootmem_alloc_range(1, PAGE_SIZE, 64 * MiB, 64 * MiB), 0);
        CHECK_EQ(bootmem_alloc_range(1, PAGE_SIZE, 40 * MiB, 32 * MiB), 0);
        paddr_t all = bootmem_alloc_range(4096, PAGE_SIZE, 48 * MiB, 64 * MiB);
        CHECK_EQ(all, 48 * MiB);
}
