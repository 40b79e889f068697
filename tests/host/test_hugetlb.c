/*
 * test_hugetlb.c - the huge-page pool (kernel/vm/hugetlb.c) over simulated
 * RAM.
 *
 * Directed tests pin Linux's rules one at a time: growing takes buddy
 * blocks as far as there are any, shrinking frees free pages and turns
 * pages in use into surplus, reservations take free pages first and then
 * surplus within nr_overcommit_hugepages (all or nothing), a reserved
 * fault always finds its page, an unreserved one never takes a reserved
 * page. random_ops_against_a_model drives the pool with random sets,
 * overcommit changes, reservations, allocations and frees, with part of
 * RAM taken away at times, against a model of the counters that knows
 * how many huge blocks the buddy allocator can give; after every step the
 * counters agree, the checkers pass, and the free pages of the buddy
 * allocator plus the pool's pages are what they were at the start.
 */
#include "check.h"
#include "vm_fixture.h"

#include <vm/hugetlb.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vmstat.h>

#include <string.h>

static uint64_t base_free;

static void pool_setup(uint64_t bytes)
{
        setup(bytes);
        hugetlb_forget();
        base_free = pmm_free_count();
}

/* Every 4 KiB page is free, in the pool, or held by the test. */
static void check_conserved(uint64_t held)
{
        CHECK(hugetlb_check());
        CHECK(pmm_check());
        CHECK_EQ(pmm_free_count() + (hugetlb_pool.nr << hugetlb_order()),
                 base_free);
        CHECK_EQ(hugetlb_pool.nr - hugetlb_pool.free, held);
}

/* Huge blocks the buddy allocator could hand out now without going
 * under the low watermarks. This CPU's page lists are given back first:
 * a huge allocation does the same before it looks (vm/pmm.c). */
static uint64_t buddy_blocks(void)
{
        struct pmm_zone_stats st;
        uint64_t n = 0, free = 0, low = 0, room;

        pmm_drain_local();

        for (unsigned z = 0; z < NR_ZONES; z++) {
                pmm_zone_stats((enum zone_id)z, &st);
                for (unsigned o = hugetlb_order(); o <= PMM_MAX_ORDER; o++)
                        n += st.nr_free[o] << (o - hugetlb_order());
                free += st.free;
                low += st.wmark[PMM_WMARK_LOW];
        }
        room = free > low ? (free - low) >> hugetlb_order() : 0;
        return n < room ? n : room;
}

static void pool_end(void)
{
        CHECK_EQ(hugetlb_pool.resv, 0);
        CHECK_EQ(hugetlb_set_count(0), 0);
        CHECK_EQ(hugetlb_pool.nr, 0);
        kmalloc_shrink();               /* empty slabs kept by the caches */
        check_conserved(0);
        check_baseline();
}

/* ---- directed ---------------------------------------------------------- */

TEST(grow_and_shrink)
{
        struct vm_page *a, *b;

        pool_setup(64 * MiB);
        CHECK_EQ(hugetlb_set_count(4), 4);
        CHECK_EQ(hugetlb_pool.nr, 4);
        CHECK_EQ(hugetlb_pool.free, 4);
        check_conserved(0);
        a = hugetlb_alloc(false);
        b = hugetlb_alloc(false);
        CHECK(a && b && a != b);
        CHECK_EQ(a->order, hugetlb_order());
        CHECK(!(a->flags & PG_HUGETLB));
        check_conserved(2);
        /* Shrinking to 1: the two free pages go, one page in use is
         * counted surplus. */
        CHECK_EQ(hugetlb_set_count(1), 1);
        CHECK_EQ(hugetlb_pool.nr, 2);
        CHECK_EQ(hugetlb_pool.free, 0);
        CHECK_EQ(hugetlb_pool.surplus, 1);
        check_conserved(2);
        hugetlb_free(a);                /* surplus: to the buddy allocator */
        CHECK_EQ(hugetlb_pool.nr, 1);
        CHECK_EQ(hugetlb_pool.surplus, 0);
        check_conserved(1);
        hugetlb_free(b);                /* persistent: to the free list */
        CHECK_EQ(hugetlb_pool.free, 1);
        check_conserved(0);
        pool_end();
}

TEST(growing_stops_where_memory_does)
{
        struct hog h;

        pool_setup(64 * MiB);
        hog_take(&h, 3 << hugetlb_order());
        CHECK_EQ(hugetlb_set_count(10), hugetlb_pool.nr);
        CHECK(hugetlb_pool.nr <= 3);
        CHECK_EQ(hugetlb_pool.max, hugetlb_pool.nr);
        CHECK_EQ(buddy_blocks(), 0);
        hog_release(&h);
        CHECK_EQ(hugetlb_set_count(10), 10);
        check_conserved(0);
        pool_end();
}

TEST(surplus_turns_persistent_when_the_pool_grows)
{
        struct vm_page *a;

        pool_setup(64 * MiB);
        hugetlb_pool.overcommit = 1;
        a = hugetlb_alloc(false);       /* a surplus page */
        CHECK(a);
        CHECK_EQ(hugetlb_pool.surplus, 1);
        CHECK(!hugetlb_alloc(false));   /* overcommit reached */
        CHECK_EQ(hugetlb_set_count(1), 1);
        CHECK_EQ(hugetlb_pool.nr, 1);   /* the page in use became it */
        CHECK_EQ(hugetlb_pool.surplus, 0);
        hugetlb_free(a);
        CHECK_EQ(hugetlb_pool.free, 1);
        hugetlb_pool.overcommit = 0;
        pool_end();
}

TEST(reservations_are_all_or_nothing)
{
        struct vm_page *a, *b;

        pool_setup(64 * MiB);
        CHECK_EQ(hugetlb_set_count(2), 2);
        hugetlb_pool.overcommit = 1;
        CHECK_EQ(hugetlb_reserve(4), VM_ENOMEM);        /* 2 + 1 < 4 */
        CHECK_EQ(hugetlb_pool.nr, 2);
        CHECK_EQ(hugetlb_pool.resv, 0);
        CHECK_EQ(hugetlb_pool.surplus, 0);
        check_conserved(0);
        CHECK_EQ(hugetlb_reserve(3), VM_OK);
        CHECK_EQ(hugetlb_pool.nr, 3);
        CHECK_EQ(hugetlb_pool.surplus, 1);
        CHECK_EQ(hugetlb_pool.resv, 3);
        /* Nothing left for a fault without a reservation. */
        CHECK(!hugetlb_alloc(false));
        a = hugetlb_alloc(true);
        CHECK(a);
        CHECK_EQ(hugetlb_pool.resv, 2);
        /* Shrinking keeps reserved pages. */
        CHECK_EQ(hugetlb_set_count(0), 0);
        CHECK_EQ(hugetlb_pool.free, 2);
        CHECK_EQ(hugetlb_pool.surplus, 3);
        b = hugetlb_alloc(true);
        CHECK(b);
        hugetlb_unreserve(1);           /* the last one goes back */
        CHECK_EQ(hugetlb_pool.nr, 2);
        CHECK_EQ(hugetlb_pool.free, 0);
        hugetlb_free(a);
        hugetlb_free(b);
        CHECK_EQ(hugetlb_pool.nr, 0);
        hugetlb_pool.overcommit = 0;
        pool_end();
}

/* ---- random, against a model -------------------------------------------- */

struct model { uint64_t nr, free, resv, surplus, max, overcommit; };

static void model_set(struct model *m, uint64_t count, uint64_t avail)
{
        uint64_t p = m->nr - m->surplus, t, min_count;

        t = m->surplus < (count > p ? count - p : 0) ? m->surplus
                                                     : (count > p ? count - p : 0);
        m->surplus -= t;
        p += t;
        t = count > p ? count - p : 0;
        t = t < avail ? t : avail;
        m->nr += t;
        m->free += t;
        p += t;
        min_count = m->resv + m->nr - m->free;
        min_count = min_count > count ? min_count : count;
        t = p > min_count ? p - min_count : 0;
        t = t < m->free ? t : m->free;
        m->nr -= t;
        m->free -= t;
        p -= t;
        t = p > count ? p - count : 0;
        t = t < m->nr - m->surplus ? t : m->nr - m->surplus;
        m->surplus += t;
        m->max = m->nr - m->surplus;
}

static void check_model(const struct model *m)
{
        CHECK_EQ(hugetlb_pool.nr, m->nr);
        CHECK_EQ(hugetlb_pool.free, m->free);
        CHECK_EQ(hugetlb_pool.resv, m->resv);
        CHECK_EQ(hugetlb_pool.surplus, m->surplus);
        CHECK_EQ(hugetlb_pool.max, m->max);
}

#define MAXHELD 64

TEST(random_ops_against_a_model)
{
        struct rng r;
        struct model m = { 0 };
        struct vm_page *held[MAXHELD];
        uint64_t nheld = 0, my_resv = 0;
        struct hog h = { 0 };
        bool hogging = false;

        pool_setup(128 * MiB);
        rng_seed(&r, check_seed(12));
        for (int step = 0; step < 4000; step++) {
                uint64_t avail = buddy_blocks(), n;
                struct vm_page *pg;

                switch (rng_below(&r, 8)) {
                case 0:
                        n = rng_below(&r, 40);
                        model_set(&m, n, avail);
                        CHECK_EQ(hugetlb_set_count(n), m.max);
                        break;
                case 1:
                        m.overcommit = rng_below(&r, 8);
                        hugetlb_pool.overcommit = m.overcommit;
                        break;
                case 2: {
                        uint64_t need, grow;

                        n = rng_below(&r, 6);
                        need = m.resv + n > m.free ? m.resv + n - m.free : 0;
                        grow = m.overcommit > m.surplus ? m.overcommit - m.surplus : 0;
                        grow = grow < avail ? grow : avail;
                        if (need > grow) {
                                CHECK_EQ(hugetlb_reserve(n), VM_ENOMEM);
                        } else {
                                CHECK_EQ(hugetlb_reserve(n), VM_OK);
                                m.nr += need;
                                m.free += need;
                                m.surplus += need;
                                m.resv += n;
                                my_resv += n;
                        }
                        break;
                }
                case 3:
                        if (!my_resv)
                                break;
                        n = 1 + rng_below(&r, my_resv);
                        hugetlb_unreserve(n);
                        my_resv -= n;
                        m.resv -= n;
                        for (uint64_t k = n < m.surplus ? n : m.surplus;
                             k && m.free > m.resv; k--) {
                                m.free--;
                                m.nr--;
                                m.surplus--;
                        }
                        break;
                case 4:
                case 5: {
                        bool resv = my_resv && rng_below(&r, 2);

                        if (nheld == MAXHELD)
                                break;
                        pg = hugetlb_alloc(resv);
                        if (resv) {
                                CHECK(pg);      /* a reservation never fails */
                                my_resv--;
                                m.resv--;
                                m.free--;
                        } else if (m.free > m.resv) {
                                CHECK(pg);
                                m.free--;
                        } else if (m.surplus < m.overcommit && avail) {
                                CHECK(pg);
                                m.nr++;
                                m.surplus++;
                        } else {
                                CHECK(!pg);
                        }
                        if (pg)
                                held[nheld++] = pg;
                        break;
                }
                case 6:
                        if (!nheld)
                                break;
                        n = rng_below(&r, nheld);
                        hugetlb_free(held[n]);
                        held[n] = held[--nheld];
                        if (m.surplus) {
                                m.surplus--;
                                m.nr--;
                        } else {
                                m.free++;
                        }
                        break;
                case 7:
                        /* Take memory away, or give it back. */
                        if (hogging) {
                                hog_release(&h);
                        } else {
                                hog_take(&h, rng_below(&r, 12) << hugetlb_order());
                        }
                        hogging = !hogging;
                        break;
                }
                check_model(&m);
                if (!hogging)
                        check_conserved(nheld);
                else
                        CHECK(hugetlb_check());
        }
        if (hogging)
                hog_release(&h);
        while (nheld)
                hugetlb_free(held[--nheld]);
        if (my_resv)
                hugetlb_unreserve(my_resv);
        hugetlb_pool.overcommit = 0;
        pool_end();
}

/* ---- objects of pool pages through the fault path ------------------------ */

#define VA      0x40000000UL            /* aligned for every huge size */

/* Every 4 KiB page of the huge page at va maps the block's frame plus
 * its offset, under one large translation. */
static bool one_huge_page(struct vm_space *s, vaddr_t va)
{
        uint64_t h = pmap_huge_size();
        paddr_t base = frame(s, va);

        if ((base & (h - 1)) || pmap_page_size(s->pmap, va) != h)
                return false;
        for (uint64_t off = 0; off < h; off += P)
                if (frame(s, va + off) != base + off)
                        return false;
        return true;
}

static struct vm_object *map_hugetlb_at(struct vm_space *s, vaddr_t va,
                                        uint64_t n, bool reserve)
{
        struct vm_object *obj;
        vaddr_t out;

        CHECK_EQ(hugetlb_object_create(n * pmap_huge_size(), reserve, &obj),
                 VM_OK);
        CHECK_EQ(vm_space_map_object(s, va, n * pmap_huge_size(), RW,
                                     SHARED | FIXED, obj, &out), VM_OK);
        vm_object_unref(obj);           /* the area holds it */
        return obj;
}

TEST(faults_take_whole_huge_pages_from_reservations)
{
        uint64_t h;
        struct vm_space *s, *t;
        struct vm_object *obj;

        pool_setup(64 * MiB);
        h = pmap_huge_size();
        CHECK_EQ(hugetlb_set_count(3), 3);
        s = new_space();
        obj = map_hugetlb_at(s, VA, 2, true);
        CHECK_EQ(hugetlb_pool.resv, 2);
        /* A write anywhere in the first huge page maps all of it. */
        user_fill(s, VA + 7 * P, 0x5a);
        CHECK(one_huge_page(s, VA));
        CHECK_EQ(hugetlb_pool.resv, 1);
        CHECK_EQ(hugetlb_pool.free, 2);
        CHECK(user_read(s, VA) == 0 && user_read(s, VA + 7 * P) == 0x5a);
        /* Another space mapping the object finds the same frames. */
        t = new_space();
        vaddr_t out;
        vm_object_ref(obj);
        CHECK_EQ(vm_space_map_object(t, VA + 4 * h, 2 * h, RW, SHARED | FIXED,
                                     obj, &out), VM_OK);
        vm_object_unref(obj);
        CHECK(user_read(t, VA + 4 * h + 7 * P) == 0x5a);
        CHECK_EQ(frame(t, VA + 4 * h), frame(s, VA));
        CHECK(one_huge_page(t, VA + 4 * h));
        CHECK_EQ(hugetlb_pool.free, 2);
        /* The one unreserved free page goes to a fault; then none. */
        user_fill(s, VA + h, 1);
        CHECK_EQ(hugetlb_pool.resv, 0);
        CHECK_EQ(hugetlb_pool.free, 1);
        CHECK(vm_space_check(s) && vm_space_check(t));
        CHECK(vm_object_check(obj));
        destroy(t);
        CHECK_EQ(hugetlb_pool.free, 1); /* s still maps the object */
        destroy(s);
        CHECK_EQ(hugetlb_pool.free, 3); /* every page back to the pool */
        CHECK_EQ(vmstat.hugetlb_pages, 0);
        pool_end();
}

TEST(without_a_reservation_an_empty_pool_is_sigbus)
{
        struct vm_space *s;
        paddr_t pa;

        pool_setup(64 * MiB);
        CHECK_EQ(hugetlb_set_count(1), 1);
        s = new_space();
        (void)map_hugetlb_at(s, VA, 2, false);  /* MAP_NORESERVE */
        CHECK_EQ(hugetlb_pool.resv, 0);
        CHECK_EQ(user_access(s, VA, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(user_access(s, VA + pmap_huge_size(), W, &pa), FAULT_BUS);
        CHECK(vm_space_check(s));
        destroy(s);
        CHECK_EQ(hugetlb_pool.free, 1);
        pool_end();
}

/*
 * Random spaces mapping, touching and dropping objects of pool pages (some
 * reserved, some not), against a model of each object's pages and
 * reservations: a fault succeeds exactly when the model says a page is
 * there to take, the pool's counters follow, and at the end every page is
 * back in the pool.
 */
#define NOBJ    4
#define MAXH    4

struct mobj {
        struct vm_object *obj;          /* NULL: gone */
        uint64_t          n, resv;      /* huge pages, reservations left */
        bool              present[MAXH];
};

TEST(random_faults_against_a_model)
{
        struct rng r;
        struct mobj m[NOBJ] = { 0 };
        struct vm_space *s;
        uint64_t h, total = 6;

        pool_setup(64 * MiB);
        h = pmap_huge_size();
        rng_seed(&r, check_seed(17));
        CHECK_EQ(hugetlb_set_count(total), total);
        s = new_space();
        for (int step = 0; step < 600; step++) {
                unsigned k = (unsigned)rng_below(&r, NOBJ);
                struct mobj *o = &m[k];
                vaddr_t base = VA + (vaddr_t)k * MAXH * h;
                uint64_t free_unreserved = hugetlb_pool.free - hugetlb_pool.resv;

                if (!o->obj) {          /* map one */
                        bool reserve = rng_below(&r, 2);
                        uint64_t n = 1 + rng_below(&r, MAXH);
                        struct vm_object *obj;
                        vaddr_t out;
                        enum vm_status st = hugetlb_object_create(n * h, reserve, &obj);

                        if (reserve && n > free_unreserved) {
                                CHECK_EQ(st, VM_ENOMEM);
                                continue;
                        }
                        CHECK_EQ(st, VM_OK);
                        CHECK_EQ(vm_space_map_object(s, base, n * h, RW,
                                                     SHARED | FIXED, obj, &out),
                                 VM_OK);
                        vm_object_unref(obj);
                        *o = (struct mobj){ .obj = obj, .n = n,
                                            .resv = reserve ? n : 0 };
                } else if (rng_below(&r, 4) == 0) {     /* unmap it */
                        CHECK_EQ(vm_space_unmap(s, base, o->n * h), VM_OK);
                        o->obj = NULL;
                } else {                /* touch a huge page */
                        uint64_t i = rng_below(&r, o->n);
                        paddr_t pa;
                        bool can = o->present[i] || o->resv ||
                                   free_unreserved > 0;
                        enum fault_result fr = user_access(s, base + i * h + P,
                                                           W, &pa);

                        CHECK_EQ(fr, can ? FAULT_RESOLVED : FAULT_BUS);
                        if (can && !o->present[i]) {
                                if (o->resv)
                                        o->resv--;
                                o->present[i] = true;
                                CHECK(one_huge_page(s, base + i * h));
                        }
                }
                uint64_t used = 0, resv = 0;
                for (unsigned j = 0; j < NOBJ; j++) {
                        if (!m[j].obj)
                                continue;
                        resv += m[j].resv;
                        for (uint64_t i = 0; i < m[j].n; i++)
                                used += m[j].present[i];
                }
                CHECK_EQ(hugetlb_pool.resv, resv);
                CHECK_EQ(hugetlb_pool.free, total - used);
                CHECK_EQ(vmstat.hugetlb_pages, used << hugetlb_order());
                CHECK(hugetlb_check());
        }
        CHECK(vm_space_check(s));
        destroy(s);
        CHECK_EQ(hugetlb_pool.free, total);
        pool_end();
}
