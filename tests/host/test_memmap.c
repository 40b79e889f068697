/*
 * test_memmap.c - memmap_sanitize() (kernel/vm/memmap.c) fed malformed maps,
 * and checked against a byte-by-byte model over small address windows.
 */
#include "check.h"

#include <vm/memmap.h>

#include <stdlib.h>
#include <string.h>

#define R(b, l, t)      ((struct mem_range){ (b), (l), (t) })
#define U               MEM_USABLE
#define RES             MEM_RESERVED
#define TOP             UINT64_MAX

/* Sanitize in[] and compare with want[] exactly. */
static void expect_map(const struct mem_range *in, unsigned nin,
                       const struct mem_range *want, unsigned nwant)
{
        struct mem_range out[MEMMAP_MAX];
        unsigned n = memmap_sanitize(in, nin, out, MEMMAP_MAX);

        for (unsigned i = 0; i < n && i < nwant; i++) {
                if (out[i].base != want[i].base || out[i].len != want[i].len ||
                    out[i].type != want[i].type)
                        check_fail(__FILE__, __LINE__, "range %u: got "
                                   "[%#llx +%#llx %u], want [%#llx +%#llx %u]",
                                   i, (unsigned long long)out[i].base,
                                   (unsigned long long)out[i].len, out[i].type,
                                   (unsigned long long)want[i].base,
                                   (unsigned long long)want[i].len, want[i].type);
        }
        CHECK_EQ(n, nwant);
}

#define EXPECT_MAP(in, ...) do {                                        \
        const struct mem_range want_[] = { __VA_ARGS__ };               \
        expect_map(in, ARRAY_SIZE(in), want_, ARRAY_SIZE(want_));       \
} while (0)

/* The invariants of memmap.c's header that need no model. */
static void check_shape(const struct mem_range *m, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                CHECK(m[i].len > 0);
                CHECK(m[i].len <= TOP - m[i].base);
                CHECK(m[i].type >= MEM_USABLE && m[i].type <= MEM_BAD);
                if (m[i].type == MEM_USABLE)
                        CHECK(is_aligned(m[i].base, PAGE_SIZE) &&
                              is_aligned(m[i].len, PAGE_SIZE));
                if (i == 0)
                        continue;
                CHECK(m[i - 1].base + m[i - 1].len <= m[i].base);
                if (m[i - 1].base + m[i - 1].len == m[i].base)
                        CHECK(m[i - 1].type != m[i].type);
        }
}

TEST(empty_and_zero_length)
{
        struct mem_range out[4];
        const struct mem_range zeros[] = {
                R(0x1000, 0, U), R(0, 0, RES), R(TOP, 0, MEM_BAD),
                R(TOP, 1, U),   /* ends at 2^64: clipped to nothing */
        };

        CHECK_EQ(memmap_sanitize(NULL, 0, out, 4), 0);
        CHECK_EQ(memmap_sanitize(zeros, ARRAY_SIZE(zeros), out, 4), 0);
        CHECK_EQ(memmap_sanitize(zeros, ARRAY_SIZE(zeros), out, 0), 0);
        CHECK_EQ(memmap_usable_bytes(out, 0), 0);
        CHECK_EQ(memmap_usable_end(out, 0), 0);
}

TEST(typical_pc_map)
{
        const struct mem_range in[] = {
                R(0, 0x9fc00, U), R(0x9fc00, 0x400, RES),
                R(0xf0000, 0x10000, RES), R(0x100000, 0x7ee0000, U),
                R(0x7fe0000, 0x20000, RES), R(0xfffc0000, 0x40000, RES),
        };

        EXPECT_MAP(in, R(0, 0x9f000, U), R(0x9fc00, 0x400, RES),
                   R(0xf0000, 0x10000, RES), R(0x100000, 0x7ee0000, U),
                   R(0x7fe0000, 0x20000, RES), R(0xfffc0000, 0x40000, RES));
}

TEST(unsorted_and_adjacent_merge)
{
        const struct mem_range in[] = {
                R(0x300000, 0x100000, U), R(0x100000, 0x100000, U),
                R(0x200000, 0x100000, U), R(0x500000, 0x1000, RES),
                R(0x501000, 0x1000, 77),        /* unknown: reserved, merges */
        };

        EXPECT_MAP(in, R(0x100000, 0x300000, U), R(0x500000, 0x2000, RES));
}

TEST(reserved_overlapping_usable_wins)
{
        const struct mem_range in[] = {
                R(0, 16 * MiB, U),
                R(MiB + 0x800, MiB - 0x800, RES),       /* unaligned */
                R(8 * MiB, 0x10, MEM_ACPI_NVS),
        };

        EXPECT_MAP(in, R(0, MiB, U), R(MiB + 0x800, MiB - 0x800, RES),
                   R(2 * MiB, 6 * MiB, U), R(8 * MiB, 0x10, MEM_ACPI_NVS),
                   R(8 * MiB + PAGE_SIZE, 8 * MiB - PAGE_SIZE, U));
}

TEST(restrictiveness_order)
{
        static const uint32_t order[] = {
                MEM_USABLE, MEM_ACPI_RECLAIM, MEM_ACPI_NVS, MEM_RESERVED,
                MEM_BAD,
        };

        for (unsigned lo = 0; lo < ARRAY_SIZE(order); lo++) {
                for (unsigned hi = lo + 1; hi < ARRAY_SIZE(order); hi++) {
                        const struct mem_range in[] = {
                                R(0x10000, 0x4000, order[hi]),
                                R(0x10000, 0x4000, order[lo]),
                        };
                        const struct mem_range in2[] = {
                                R(0x10000, 0x4000, order[lo]),
                                R(0x10000, 0x4000, order[hi]),
                        };

                        EXPECT_MAP(in, R(0x10000, 0x4000, order[hi]));
                        EXPECT_MAP(in2, R(0x10000, 0x4000, order[hi]));
                }
        }
}

TEST(unknown_types_are_reserved)
{
        const struct mem_range in[] = {
                R(0, 0x10000, U), R(0x4000, 0x1000, 0),
                R(0x8000, 0x1000, 6), R(0x9000, 0x1000, 0xffffffffu),
                R(0xa000, 0x1000, MEM_BAD),
        };

        EXPECT_MAP(in, R(0, 0x4000, U), R(0x4000, 0x1000, RES),
                   R(0x5000, 0x3000, U), R(0x8000, 0x2000, RES),
                   R(0xa000, 0x1000, MEM_BAD), R(0xb000, 0x5000, U));
}

TEST(unaligned_usable_shrinks_inward)
{
        const struct mem_range in[] = {
                R(0x1001, 0x2ffe, U),           /* -> [0x2000, 0x3000) */
                R(0x10800, 0x800, U),           /* no whole page: dropped */
                R(0x20fff, 0x1002, U),          /* [0x20fff, 0x22001) */
                R(0x30000, 0x800, RES),         /* non-usable kept exact */
        };

        EXPECT_MAP(in, R(0x2000, 0x1000, U), R(0x21000, 0x1000, U),
                   R(0x30000, 0x800, RES));
}

TEST(wrapping_entries_are_clipped)
{
        const struct mem_range in[] = {
                R(TOP - 0x2fff, 0x10000, U),     /* wraps past 2^64 */
                R(TOP - 0xfff, TOP, RES),         /* len near 2^64 */
                R(0, 0x2000, U),
        };
        const struct mem_range in2[] = {
                R(0x5000, TOP, MEM_ACPI_RECLAIM), /* wraps, covers the rest */
                R(0x7000, 0x1000, U),
                R(TOP, TOP, MEM_BAD),             /* nothing left to cover */
        };

        EXPECT_MAP(in, R(0, 0x2000, U), R(TOP - 0x2fff, 0x2000, U),
                   R(TOP - 0xfff, 0xfff, RES));
        EXPECT_MAP(in2, R(0x5000, TOP - 0x5000, MEM_ACPI_RECLAIM));
}

TEST(output_overflow_drops_highest)
{
        struct mem_range in[40], full[MEMMAP_MAX], part[8];
        unsigned nfull, npart;

        for (unsigned i = 0; i < ARRAY_SIZE(in); i++)
                in[i] = R((ARRAY_SIZE(in) - i) * 0x10000, 0x8000,
                          i % 2 ? U : RES);
        nfull = memmap_sanitize(in, ARRAY_SIZE(in), full, MEMMAP_MAX);
        CHECK_EQ(nfull, 40);
        check_shape(full, nfull);
        npart = memmap_sanitize(in, ARRAY_SIZE(in), part, ARRAY_SIZE(part));
        CHECK_EQ(npart, ARRAY_SIZE(part));
        for (unsigned i = 0; i < npart; i++)
                CHECK(part[i].base == full[i].base && part[i].len == full[i].len &&
                      part[i].type == full[i].type);
        CHECK_EQ(memmap_sanitize(in, ARRAY_SIZE(in), part, 1), 1);
        CHECK_EQ(part[0].base, 0x10000);
}

TEST(long_input_is_read_to_the_end)
{
        static struct mem_range in[1000], big[1100];
        struct mem_range out[MEMMAP_MAX];
        const paddr_t bad = 3 * 0x3000 + 0x1000;
        unsigned n;

        for (unsigned i = 0; i < ARRAY_SIZE(in) - 1; i++)
                in[i] = R(i * 0x3000ULL, 0x2000, U);
        /* the very last entry, far past MEMMAP_MAX, marks bytes bad */
        in[ARRAY_SIZE(in) - 1] = R(bad, 0x10, MEM_BAD);
        n = memmap_sanitize(in, ARRAY_SIZE(in), out, MEMMAP_MAX);
        CHECK_EQ(n, MEMMAP_MAX);
        check_shape(out, n);
        CHECK_EQ(out[3].base, 0x9000);
        CHECK_EQ(out[3].len, 0x1000);
        CHECK_EQ(out[4].base, bad);
        CHECK_EQ(out[4].type, MEM_BAD);
        CHECK_EQ(out[5].base, 4 * 0x3000);
        /* with room for all: 998 whole entries, a page and the bad bytes */
        n = memmap_sanitize(in, ARRAY_SIZE(in), big, ARRAY_SIZE(big));
        check_shape(big, n);
        CHECK_EQ(n, 1000);
        CHECK_EQ(memmap_usable_bytes(big, n), 998 * 0x2000ULL + 0x1000);
        CHECK_EQ(memmap_usable_end(big, n), 998 * 0x3000ULL + 0x2000);
}

TEST(usable_bytes_and_end)
{
        const struct mem_range in[] = {
                R(0x1000, 0x9e000, U), R(0x100000, 0x3ff00000, U),
                R(0x40000000, 0x1000, RES),
        };
        struct mem_range out[8];
        unsigned n = memmap_sanitize(in, ARRAY_SIZE(in), out, 8);

        CHECK_EQ(memmap_usable_bytes(out, n), 0x9e000 + 0x3ff00000);
        CHECK_EQ(memmap_usable_end(out, n), 0x40000000);
}

TEST(type_names)
{
        CHECK(strcmp(memmap_type_name(MEM_USABLE), "usable") == 0);
        CHECK(strcmp(memmap_type_name(MEM_RESERVED), "reserved") == 0);
        CHECK(strcmp(memmap_type_name(MEM_ACPI_RECLAIM), "ACPI reclaimable") == 0);
        CHECK(strcmp(memmap_type_name(MEM_ACPI_NVS), "ACPI NVS") == 0);
        CHECK(strcmp(memmap_type_name(MEM_BAD), "bad") == 0);
        CHECK(strcmp(memmap_type_name(0), "unknown") == 0);
        CHECK(strcmp(memmap_type_name(1234), "unknown") == 0);
}

/* --- randomized: a byte-by-byte model over a 64 KiB window ----------- */

#define WIN     (64 * KiB)

static unsigned rank_of(uint32_t type)
{
        static const unsigned rank[] = { 0, 1, 4, 2, 3, 5 };

        return type >= MEM_USABLE && type <= MEM_BAD ? rank[type] : 4;
}

static uint32_t type_of_rank(unsigned rank)
{
        static const uint32_t type[] = { 0, MEM_USABLE, MEM_ACPI_RECLAIM,
                                         MEM_ACPI_NVS, MEM_RESERVED, MEM_BAD };
        return type[rank];
}

/* The winning type (0: none) of every byte of [w, w + WIN). */
static void model_bytes(const struct mem_range *in, unsigned nin, uint64_t w,
                        uint8_t *want)
{
        uint8_t rank[WIN] = { 0 };

        for (unsigned i = 0; i < nin; i++) {
                uint64_t end = in[i].len > TOP - in[i].base ? TOP
                                : in[i].base + in[i].len;

                for (uint64_t a = MAX(in[i].base, w); a < end && a - w < WIN; a++)
                        rank[a - w] = (uint8_t)MAX(rank[a - w], rank_of(in[i].type));
        }
        for (unsigned b = 0; b < WIN; b++)
                want[b] = (uint8_t)type_of_rank(rank[b]);
        /* USABLE survives only on pages wholly usable in the model */
        for (unsigned p = 0; p < WIN; p += PAGE_SIZE) {
                bool whole = true;

                for (unsigned b = p; b < p + PAGE_SIZE; b++)
                        whole &= want[b] == MEM_USABLE;
                for (unsigned b = p; b < p + PAGE_SIZE && !whole; b++)
                        if (want[b] == MEM_USABLE)
                                want[b] = 0;
        }
}

/* The type the output gives each byte of the window (0: none). */
static void output_bytes(const struct mem_range *m, unsigned n, uint64_t w,
                         uint8_t *got)
{
        memset(got, 0, WIN);
        for (unsigned i = 0; i < n; i++) {
                CHECK(m[i].base >= w && m[i].base - w + m[i].len <= WIN);
                memset(got + (m[i].base - w), (int)m[i].type, m[i].len);
        }
}

/* An entry inside the window: odd sizes and edges, some wrapping past
 * 2^64 when the window is at the top. */
static struct mem_range random_entry(struct rng *r, uint64_t w)
{
        static const uint32_t types[] = { U, U, U, RES, MEM_ACPI_RECLAIM,
                                          MEM_ACPI_NVS, MEM_BAD, 0, 9 };
        uint64_t gran = rng_below(r, 2) ? PAGE_SIZE : (rng_below(r, 2) ? 0x100 : 1);
        uint64_t off = rng_below(r, WIN / gran) * gran;
        uint64_t len = rng_below(r, 4) ? rng_below(r, WIN / 4 / gran + 1) * gran
                                       : rng_below(r, 2 * WIN);

        if (rng_below(r, 20) == 0)
                len = TOP - rng_below(r, 3);    /* wraps whatever the base */
        if (w + WIN != 0 && len > WIN - off)
                len = WIN - off;        /* only the top window lets entries out */
        return R(w + off, len, types[rng_below(r, ARRAY_SIZE(types))]);
}

static void random_round(struct rng *r, uint64_t w)
{
        static uint8_t want[WIN], got[WIN];
        struct mem_range in[24], out[MEMMAP_MAX];
        unsigned nin = (unsigned)rng_below(r, ARRAY_SIZE(in) + 1), n;

        for (unsigned i = 0; i < nin; i++)
                in[i] = random_entry(r, w);
        n = memmap_sanitize(in, nin, out, MEMMAP_MAX);
        check_shape(out, n);
        model_bytes(in, nin, w, want);
        output_bytes(out, n, w, got);
        for (unsigned b = 0; b < WIN; b++)
                if (want[b] != got[b])
                        check_fail(__FILE__, __LINE__, "byte %#llx: type %u, "
                                   "model %u", (unsigned long long)(w + b),
                                   got[b], want[b]);
}

TEST(random_against_byte_model)
{
        static const uint64_t seeds[] = { 1, 2, 0xfeedface, 31337 };
        struct rng r;

        for (unsigned s = 0; s < ARRAY_SIZE(seeds); s++) {
                rng_seed(&r, check_seed(seeds[s]));
                for (unsigned round = 0; round < 250; round++) {
                        random_round(&r, 0);
                        random_round(&r, 0 - (uint64_t)WIN);    /* top */
                        random_round(&r, 64 * GiB);
                }
        }
}
