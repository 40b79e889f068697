/*
 * test_pmm_pcp.c - the page allocator's per-CPU lists (kernel/vm/pmm.c)
 * against a reference model, on one host thread that plays four CPUs in
 * turn (it sets host_cpu between calls, as a thread that moves between
 * CPUs would, never inside one).
 *
 * The model knows which frames are allocated (a frame handed out twice
 * is caught at once), how many pages are free (pmm_free_count counts
 * the lists' pages as free), and what each CPU freed last: an order-0
 * page freed on a CPU is the next one that CPU hands out for the same
 * zone (the lists are LIFO: hot pages first). After a drain of every
 * CPU no page is on a list, and once everything is freed and drained
 * the buddy lists are exactly what they were before the run (every
 * block merged back). pmm_check (which walks the lists too) runs every
 * few steps.
 */
#include "check.h"

#include <machine/intr.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>

#include <stdlib.h>
#include <string.h>

#define PFN(pa)         ((pa) >> PAGE_SHIFT)
#define CPUS            4
#define RAM             (24 * MiB)
#define HELD_MAX        2048

static struct vm_page descs[PFN(RAM)];

struct held { uint64_t pfn; unsigned order; };

static struct pcp_model {
        struct held held[HELD_MAX];
        unsigned n;
        uint8_t owned[PFN(RAM)];
        uint64_t total, allocated;
        uint64_t lifo_checked, drains, huge;    /* for the log */
} m;

static uint64_t pfn_of(const struct vm_page *pg)
{
        return PFN(pmm_page_to_pa(pg));
}

static unsigned listed_on(unsigned cpu)
{
        unsigned n = 0;

        for (unsigned z = 0; z < NR_ZONES; z++)
                n += pmm_pcp_count(cpu, (enum zone_id)z);
        return n;
}

static void snapshot(uint64_t nr_free[NR_ZONES][PMM_MAX_ORDER + 1])
{
        for (unsigned z = 0; z < NR_ZONES; z++) {
                struct pmm_zone_stats st;

                pmm_zone_stats((enum zone_id)z, &st);
                memcpy(nr_free[z], st.nr_free, sizeof st.nr_free);
        }
}

static void take(struct vm_page *pg, unsigned order)
{
        uint64_t pfn = pfn_of(pg);

        CHECK_EQ(pfn & ((1ULL << order) - 1), 0);
        CHECK_EQ(pg->refcount, 1);
        for (uint64_t i = 0; i < 1ULL << order; i++) {
                CHECK(!m.owned[pfn + i]);       /* handed out twice */
                m.owned[pfn + i] = 1;
        }
        CHECK(m.n < HELD_MAX);
        m.held[m.n++] = (struct held){ pfn, order };
        m.allocated += 1ULL << order;
}

static void give_back(unsigned i)
{
        struct held h = m.held[i];

        pmm_free_pages(pmm_pa_to_page(h.pfn << PAGE_SHIFT), h.order);
        for (uint64_t j = 0; j < 1ULL << h.order; j++)
                m.owned[h.pfn + j] = 0;
        m.allocated -= 1ULL << h.order;
        m.held[i] = m.held[--m.n];
}

/* The zone flag that makes pg's zone the first one tried. */
static unsigned flags_for_zone(const struct vm_page *pg)
{
        return pg->zone == ZONE_DMA ? PMM_DMA : PMM_DMA32;
}

/* Free an order-0 page on this CPU and allocate again for its zone: the
 * same frame must come back (the head of this CPU's list). */
static void free_then_realloc(struct rng *r)
{
        for (unsigned tries = 0; tries < 8 && m.n; tries++) {
                unsigned i = (unsigned)rng_below(r, m.n);
                struct vm_page *pg, *again;
                uint64_t pfn = m.held[i].pfn;

                if (m.held[i].order != 0)
                        continue;
                pg = pmm_pa_to_page(pfn << PAGE_SHIFT);
                give_back(i);
                again = pmm_alloc_pages(0, flags_for_zone(pg));
                CHECK(again == pg);
                take(again, 0);
                m.lifo_checked++;
                return;
        }
}

static void alloc_one(struct rng *r)
{
        static const unsigned zflags[] = { 0, 0, PMM_DMA32, PMM_DMA };
        unsigned kind = (unsigned)rng_below(r, 100);
        unsigned order = kind < 80 ? 0 : kind < 98 ? 1 + (unsigned)rng_below(r, 3)
                                                   : 9;
        struct vm_page *pg = pmm_alloc_pages(order, zflags[rng_below(r, 4)]);

        if (pg) {
                take(pg, order);
                m.huge += order == 9;
        }
}

/* Every CPU drains its own lists (what pmm_drain_all's cross-CPU call
 * does on each); none may hold a page afterwards. */
static void drain_every_cpu(void)
{
        unsigned me = host_cpu;

        for (unsigned c = 0; c < CPUS; c++) {
                host_cpu = c;
                pmm_drain_local();
        }
        host_cpu = me;
        for (unsigned c = 0; c < CPUS; c++)
                CHECK_EQ(listed_on(c), 0);
        m.drains++;
}

static void run(uint64_t seed, unsigned steps)
{
        uint64_t before[NR_ZONES][PMM_MAX_ORDER + 1];
        uint64_t after[NR_ZONES][PMM_MAX_ORDER + 1];
        struct rng r;

        rng_seed(&r, check_seed(seed));
        host_ram_setup(RAM);
        pmm_init(descs, 0, PFN(RAM), pmm_machine_zones);
        /* holes and odd edges so blocks of every size appear */
        pmm_add_range(PAGE_SIZE, 5 * MiB + 3 * PAGE_SIZE);
        pmm_add_range(6 * MiB - PAGE_SIZE, RAM - 5 * PAGE_SIZE);
        memset(&m, 0, sizeof m);
        m.total = pmm_free_count();
        snapshot(before);
        for (unsigned step = 0; step < steps; step++) {
                unsigned op = (unsigned)rng_below(&r, 100);

                host_cpu = (unsigned)rng_below(&r, CPUS);
                if (op < 45 && m.n < HELD_MAX)
                        alloc_one(&r);
                else if (op < 88 && m.n)
                        give_back((unsigned)rng_below(&r, m.n));
                else if (op < 95)
                        free_then_realloc(&r);
                else if (op < 99) {
                        pmm_drain_local();
                        CHECK_EQ(listed_on(host_cpu), 0);
                } else {
                        drain_every_cpu();
                }
                CHECK_EQ(pmm_free_count(), m.total - m.allocated);
                for (unsigned c = 0; c < CPUS; c++)
                        CHECK(listed_on(c) <= NR_ZONES * PMM_PCP_HIGH);
                if (step % 16 == 0)
                        CHECK(pmm_check());
        }
        while (m.n) {
                host_cpu = (unsigned)rng_below(&r, CPUS);
                give_back(m.n - 1);
        }
        CHECK(pmm_check());
        drain_every_cpu();
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), m.total);
        snapshot(after);
        CHECK(memcmp(before, after, sizeof before) == 0);  /* buddy whole */
        printf("    seed %#lx: %lu LIFO checks, %lu drains of all, %lu "
               "order-9 blocks\n", (unsigned long)seed,
               (unsigned long)m.lifo_checked, (unsigned long)m.drains,
               (unsigned long)m.huge);
        CHECK(m.lifo_checked > 0 && m.drains > 0 && m.huge > 0);
        host_cpu = 0;
}

TEST(random_against_model)
{
        static const uint64_t seeds[] = { 1, 0x9c9, 0xfeed, 31337 };

        for (unsigned s = 0; s < ARRAY_SIZE(seeds); s++)
                run(seeds[s], 20000);
}

/* A huge block that only exists once the lists give their pages back:
 * all of RAM is one 4 MiB block, every page of it on one CPU's list or
 * another's (order 0 taken and freed), and an order-9 allocation must
 * still succeed (drain, then retry). */
TEST(huge_allocation_drains_the_lists)
{
        static struct vm_page *pages[PFN(4 * MiB)];
        unsigned n = 0;
        struct vm_page *pg;

        host_ram_setup(4 * MiB);
        pmm_init(descs, 0, PFN(4 * MiB), pmm_machine_zones);
        pmm_add_range(0, 4 * MiB);
        while ((pg = pmm_alloc_pages(0, 0)) != NULL)
                pages[n++] = pg;
        CHECK_EQ(n, PFN(4 * MiB));
        /* the last few freed stay on CPU 0's list, the rest merge back
         * in the buddy: the 4 MiB block is not whole */
        for (unsigned i = 0; i < n; i++)
                pmm_free_pages(pages[i], 0);
        CHECK(listed_on(0) > 0);
        CHECK(pmm_check());
        pg = pmm_alloc_pages(PMM_MAX_ORDER, 0);
        CHECK(pg != NULL);
        CHECK_EQ(listed_on(0), 0);
        pmm_free_pages(pg, PMM_MAX_ORDER);
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count(), PFN(4 * MiB));
}
