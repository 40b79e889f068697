/*
 * test_vm_reclaim.c - page replacement (kernel/vm/vm_reclaim.c, the
 * reclaim lists and watermarks of pmm.c) over simulated RAM, each
 * page-table format's table code and the software MMU.
 *
 * The policy is checked against what second chance must do: pages enter
 * an inactive list with their first object and leave with their last;
 * a working set touched between two scans keeps every page while pages
 * touched once go; mlocked pages, dirty page-cache pages, pages of a file
 * a shared mapping could write, and anonymous memory (no swap yet) are
 * never dropped; a dropped page reads its bytes again. Direct reclaim:
 * a fault below the min watermark frees clean file pages before it
 * allocates, and one that found no memory reclaims and succeeds. The
 * watermarks are Linux's formula. vm_reclaim_check() and rmap_check()
 * after each step; every counter back at its baseline at the end.
 */
#include "check.h"
#include "vm_fixture.h"

#include <mercator/errno.h>
#include <mercator/types.h>
#include <machine/vmparam.h>
#include <arch/host/softmmu.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#include <string.h>

#define FPAGES  64
static uint8_t file_data[FPAGES * 4096];

static uint8_t byte_of(uint64_t page)
{
        return (uint8_t)(0x20 + page);
}

static void fill_file(void)
{
        for (size_t i = 0; i < sizeof file_data; i++)
                file_data[i] = byte_of(i / P);
}

static void map_file_at(struct vm_space *s, vaddr_t va, uint64_t len,
                        vm_prot_t prot, unsigned flags, struct vm_object *f)
{
        vaddr_t out = 0;

        CHECK_EQ(vm_space_map_file(s, va, len, prot, flags | FIXED, f, 0,
                                   &out), VM_OK);
}

static bool sound(void)
{
        return vm_reclaim_check() && rmap_check();
}

static uint64_t list_pages(unsigned l)
{
        return vm_lru_pages(l);
}

/* ---- watermarks and lists ------------------------------------------------ */

static uint64_t isqrt_ref(uint64_t x)
{
        uint64_t r = 0;

        while ((r + 1) * (r + 1) <= x)
                r++;
        return r;
}

TEST(watermarks_as_linux)
{
        struct pmm_zone_stats st;
        uint64_t present = 0, min = 0, want;

        setup(32 * MiB);
        for (unsigned z = 0; z < NR_ZONES; z++) {
                pmm_zone_stats((enum zone_id)z, &st);
                present += st.present;
                min += st.wmark[PMM_WMARK_MIN];
                CHECK(st.wmark[PMM_WMARK_MIN] <= st.wmark[PMM_WMARK_LOW]);
                CHECK(st.wmark[PMM_WMARK_LOW] <= st.wmark[PMM_WMARK_HIGH]);
                CHECK_EQ(st.wmark[PMM_WMARK_LOW], st.wmark[PMM_WMARK_MIN] +
                         st.wmark[PMM_WMARK_MIN] / 4);
                CHECK_EQ(st.wmark[PMM_WMARK_HIGH], st.wmark[PMM_WMARK_MIN] +
                         st.wmark[PMM_WMARK_MIN] / 2);
        }
        /* min_free_kbytes = 4 sqrt(KiB), shared out (rounding down). */
        want = 4 * isqrt_ref(present * 4) / 4;
        CHECK(min <= want && min + NR_ZONES >= want);
        CHECK_EQ(pmm_free_below(PMM_WMARK_MIN), 0);
        check_baseline();
}

TEST(pages_join_and_leave_lists_with_their_objects)
{
        vaddr_t va = 0x10000000;
        struct vm_space *s, *c;
        struct vm_object *f;
        uint64_t anon0;

        setup(32 * MiB);
        fill_file();
        anon0 = list_pages(PMM_LRU_INACTIVE_ANON);
        CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f), VM_OK);
        s = new_space();
        map_at(s, va, 4 * P, RW, PRIV);
        map_file_at(s, 0x20000000, 4 * P, R, SHARED, f);
        for (unsigned i = 0; i < 4; i++) {
                user_fill(s, va + i * P, 7);
                CHECK_EQ(user_read(s, 0x20000000 + i * P), byte_of(i));
        }
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON), anon0 + 4);
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_FILE), f->npages);
        CHECK(sound());
        c = NULL;
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);  /* shared: still one each */
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON), anon0 + 4);
        user_fill(c, va, 9);                    /* a copy: one more */
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON), anon0 + 5);
        CHECK(sound());
        destroy(c);
        destroy(s);
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON), anon0);
        vm_object_unref(f);
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_FILE), 0);
        CHECK(sound());
        check_baseline();
}

/*
 * munmap and exit free an object's pages in batches (vm_object.c's
 * release batch: off the reclaim lists in one lock round, then onto this
 * CPU's page list): more pages than three batches, some held by two
 * objects (fork), some by one (the child's copies, the parent's
 * originals of those); after each step exactly the pages no object
 * holds have left the lists, and the lists hold no page without an
 * owner (vm_reclaim_check).
 */
TEST(unmapped_pages_leave_the_lists_in_batches)
{
        const unsigned n = 3 * 32 + 5, lo = 10, hi = n - 10;
        vaddr_t va = 0x10000000;
        struct vm_space *s, *c = NULL;
        uint64_t anon0, copies = 0, freed = 0;

        setup(32 * MiB);
        anon0 = list_pages(PMM_LRU_INACTIVE_ANON);
        s = new_space();
        map_at(s, va, n * P, RW, PRIV);
        for (unsigned i = 0; i < n; i++)
                user_fill(s, va + i * P, (uint8_t)i);
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);  /* each page held twice */
        for (unsigned i = 0; i < n; i += 3, copies++)
                user_fill(c, va + i * P, 0xee); /* a copy; the original: once */
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON), anon0 + n + copies);
        CHECK(sound());
        /* The parent's middle: the originals only it holds are freed. */
        CHECK_EQ(vm_space_unmap(s, va + lo * P, (hi - lo) * P), VM_OK);
        for (unsigned i = lo; i < hi; i++)
                freed += i % 3 == 0;
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON), anon0 + n + copies - freed);
        CHECK(sound());
        for (unsigned i = 0; i < n; i++)
                CHECK_EQ(user_read(c, va + i * P), i % 3 ? (uint8_t)i : 0xee);
        destroy(c);     /* the child's pages in the middle, its copies */
        CHECK(sound());
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON),
                 anon0 + lo + (n - hi));
        destroy(s);
        CHECK(sound());
        CHECK_EQ(list_pages(PMM_LRU_INACTIVE_ANON), anon0);
        check_baseline();
}

/* ---- the policy ------------------------------------------------------------ */

/* Touch pages [first, first + n) of the mapping at va. */
static void touch(struct vm_space *s, vaddr_t va, unsigned first, unsigned n)
{
        for (unsigned i = first; i < first + n; i++)
                CHECK_EQ(user_read(s, va + i * P), byte_of(i));
}

TEST(working_set_survives_cold_pages_go_first)
{
        vaddr_t va = 0x20000000;
        struct vm_space *s;
        struct vm_object *f;
        uint64_t freed = 0, steal0;

        setup(32 * MiB);
        fill_file();
        CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f), VM_OK);
        s = new_space();
        activate(s);
        map_file_at(s, va, FPAGES * P, R, SHARED, f);
        touch(s, va, 0, FPAGES);                /* everything once */
        CHECK_EQ(f->npages, FPAGES);
        steal0 = vm_events.pgsteal;
        /* Rounds: the working set (pages 0-15) is used between scans. */
        for (unsigned round = 0; round < 12; round++) {
                touch(s, va, 0, 16);
                freed += vm_reclaim(8);
                CHECK(sound());
                for (unsigned i = 0; i < 16; i++)
                        CHECK(vm_object_lookup(f, i) != NULL);
        }
        CHECK_EQ(freed, FPAGES - 16);           /* every cold page went */
        CHECK_EQ(f->npages, 16);
        CHECK_EQ(vm_events.pgsteal - steal0, FPAGES - 16);
        /* Dropped pages read their bytes again. */
        touch(s, va, 16, FPAGES - 16);
        CHECK_EQ(f->npages, FPAGES);
        CHECK(sound());
        activate(NULL);
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

TEST(locked_anon_dirty_and_writable_shared_pages_stay)
{
        vaddr_t va = 0x20000000, anon = 0x30000000, cva = 0x40000000;
        struct vm_space *s;
        struct vm_object *f, *cache, *shared_rw;

        setup(32 * MiB);
        fill_file();
        CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f), VM_OK);
        CHECK_EQ(vm_object_create_cache(file_data, 8 * P + 100, &cache), VM_OK);
        CHECK_EQ(vm_object_create_cache(file_data, 4 * P, &shared_rw), VM_OK);
        s = new_space();
        map_file_at(s, va, 8 * P, R, SHARED, f);
        CHECK_EQ(vm_space_set_lock(s, va, 8 * P, VM_AREA_LOCKED), VM_OK);
        vm_space_populate_locked(s);
        CHECK_EQ(f->npages, 8);
        map_at(s, anon, 8 * P, RW, PRIV);
        for (unsigned i = 0; i < 8; i++)
                user_fill(s, anon + i * P, 0x5a);
        map_file_at(s, cva, 9 * P, R, SHARED, cache);
        touch(s, cva, 0, 8);
        CHECK_EQ(user_read(s, cva + 8 * P), byte_of(8));
        map_file_at(s, 0x50000000, 4 * P, RW, SHARED | VM_MAP_MAYWRITE,
                    shared_rw);
        touch(s, 0x50000000, 0, 4);
        /* A hole in the cache object: zeroes in place under the source. */
        vm_spaces_unmap_object(cache, 2, 3, false);
        CHECK_EQ(vm_object_punch_hole(cache, 2, 3), VM_OK);
        /* Reclaim everything it can (second chance: a few passes). */
        for (unsigned i = 0; i < 4; i++)
                vm_reclaim(1000);
        CHECK(sound());
        CHECK_EQ(f->npages, 8);                 /* locked */
        for (unsigned i = 0; i < 8; i++)
                CHECK(page_is(frame(s, anon + i * P), 0x5a));   /* no swap */
        CHECK_EQ(shared_rw->npages, 4);         /* could have been written */
        CHECK_EQ(cache->npages, 1);             /* only the hole stays */
        CHECK(vm_object_lookup(cache, 2) != NULL);
        CHECK(page_is(pmm_page_to_pa(vm_object_lookup(cache, 2)), 0));
        touch(s, cva, 0, 2);                    /* read again from the source */
        touch(s, cva, 3, 5);
        CHECK_EQ(user_read(s, cva + 8 * P), byte_of(8));
        CHECK_EQ(user_read(s, cva + 8 * P + 99), byte_of(8));
        CHECK_EQ(user_read(s, cva + 2 * P), 0);
        /* Unlocked, the file's pages may go. */
        CHECK_EQ(vm_space_set_lock(s, va, 8 * P, 0), VM_OK);
        for (unsigned i = 0; i < 4; i++)
                vm_reclaim(1000);
        CHECK_EQ(f->npages, 0);
        CHECK(sound());
        destroy(s);
        vm_object_unref(f);
        vm_object_unref(cache);
        vm_object_unref(shared_rw);
        check_baseline();
}

/* A dropped page of a tmpfs file stays charged to its mount's quota: the
 * room cannot be taken by another file, and the page always fits again. */
TEST(dropped_pages_stay_charged_to_the_quota)
{
        vaddr_t va = 0x20000000;
        struct vm_quota q = { .limit = 8 };
        struct vm_space *s;
        struct vm_object *f, *g;
        struct vm_page *pg;

        setup(32 * MiB);
        fill_file();
        CHECK_EQ(vm_object_create_cache(file_data, 8 * P, &f), VM_OK);
        CHECK_EQ(vm_object_create_cache(NULL, 0, &g), VM_OK);
        CHECK_EQ(vm_object_resize(g, 8 * P), VM_OK);
        vm_object_set_quota(f, &q);
        vm_object_set_quota(g, &q);
        s = new_space();
        map_file_at(s, va, 8 * P, R, SHARED, f);
        touch(s, va, 0, 8);
        CHECK_EQ(q.used, 8);
        for (unsigned i = 0; i < 4; i++)
                vm_reclaim(1000);
        CHECK_EQ(f->npages, 0);
        CHECK_EQ(f->evicted, 8);
        CHECK_EQ(q.used, 8);                    /* still charged */
        CHECK_EQ(vm_object_get_page(g, 0, &pg), VM_ENOSPC);
        touch(s, va, 0, 8);                     /* fits again */
        CHECK_EQ(f->evicted, 0);
        CHECK_EQ(q.used, 8);
        for (unsigned i = 0; i < 4; i++)
                vm_reclaim(1000);
        CHECK_EQ(q.used, 8);
        CHECK_EQ(vm_object_resize(f, 4 * P), VM_OK);    /* truncation */
        CHECK_EQ(q.used, f->npages);
        CHECK_EQ(vm_object_get_page(g, 0, &pg), VM_OK);
        CHECK(sound());
        destroy(s);
        vm_object_unref(f);
        CHECK_EQ(q.used, 1);
        vm_object_unref(g);
        CHECK_EQ(q.used, 0);
        check_baseline();
}

/* MADV_COLD moves this space's pages to the inactive lists; MADV_PAGEOUT
 * drops the clean ones only this space maps, keeps the rest. */
TEST(madvise_cold_and_pageout)
{
        vaddr_t va = 0x20000000, anon = 0x30000000;
        struct vm_space *s, *t;
        struct vm_object *f;
        vaddr_t out;

        setup(32 * MiB);
        fill_file();
        CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f), VM_OK);
        s = new_space();
        t = new_space();
        map_file_at(s, va, 16 * P, R, PRIV, f);
        CHECK_EQ(vm_space_map_file(t, va, 8 * P, R, SHARED | FIXED, f,
                                   8 * P, &out), VM_OK); /* pages 8-15 */
        map_at(s, anon, 4 * P, RW, PRIV);
        touch(s, va, 0, 16);
        for (unsigned i = 0; i < 8; i++)        /* pages 8-15 shared with t */
                CHECK_EQ(user_read(t, va + i * P), byte_of(8 + i));
        for (unsigned i = 0; i < 4; i++)
                user_fill(s, anon + i * P, 0x33);
        vm_reclaim(0);                          /* ages nothing: no target */
        /* Activate them all: two scans with accesses in between. */
        for (unsigned r = 0; r < 2; r++) {
                touch(s, va, 0, 16);
                vm_reclaim(1);
        }
        CHECK(list_pages(PMM_LRU_ACTIVE_FILE) > 0);
        CHECK_EQ(vm_space_advise(s, va, 16 * P, VM_MADV_COLD), VM_OK);
        CHECK_EQ(list_pages(PMM_LRU_ACTIVE_FILE), 0);
        CHECK_EQ(f->npages, 16);                /* cold, not dropped */
        CHECK_EQ(vm_space_advise(s, va, 16 * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(f->npages, 8);                 /* t still maps 8-15 */
        for (unsigned i = 0; i < 8; i++)
                CHECK(!present(s, va + i * P) && vm_object_lookup(f, i) == NULL);
        CHECK_EQ(vm_space_advise(s, anon, 4 * P, VM_MADV_PAGEOUT), VM_OK);
        for (unsigned i = 0; i < 4; i++)        /* no swap: kept */
                CHECK(page_is(frame(s, anon + i * P), 0x33));
        CHECK_EQ(vm_space_set_lock(s, anon, P, VM_AREA_LOCKED), VM_OK);
        CHECK_EQ(vm_space_advise(s, anon, 4 * P, VM_MADV_COLD), VM_EINVAL);
        CHECK_EQ(vm_space_advise(s, anon, 8 * P, VM_MADV_PAGEOUT), VM_EINVAL);
        CHECK_EQ(vm_space_set_lock(s, anon, P, 0), VM_OK);
        CHECK_EQ(vm_space_advise(s, anon, 8 * P, VM_MADV_COLD), VM_ENOMEM);
        touch(s, va, 0, 16);
        CHECK(sound());
        destroy(s);
        destroy(t);
        vm_object_unref(f);
        check_baseline();
}

/* ---- direct reclaim --------------------------------------------------------- */

/* Futile reclaim (vm_reclaim.h): when all reclaim could free is fewer
 * pages than a batch, a fault with nothing free does not take the last
 * file pages (the working set a program is running) but fails, for the
 * OOM killer; the background reclaimer leaves them too. */
TEST(futile_reclaim_keeps_the_last_file_pages)
{
        vaddr_t va = 0x20000000, anon = 0x30000000;
        struct vm_space *s;
        struct vm_object *f;
        struct hog h;
        uint64_t direct0;

        setup(32 * MiB);
        fill_file();
        CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f), VM_OK);
        s = new_space();
        map_file_at(s, va, FPAGES * P, R, SHARED, f);
        map_at(s, anon, 2 * P, RW, PRIV);
        touch(s, va, 0, 16);                    /* fewer than a batch (32) */
        user_fill(s, anon, 1);                  /* its tables exist */
        hog_take(&h, 0);                        /* nothing free at all */
        CHECK(vm_reclaim_futile());
        direct0 = vm_events.direct_reclaims;
        CHECK_EQ(vm_fault(s, anon + P, W), FAULT_OOM);
        CHECK_EQ(vm_reclaim_background(), 0);
        CHECK_EQ(vm_events.direct_reclaims, direct0);
        CHECK_EQ(f->npages, 16);                /* every file page kept */
        hog_release(&h);
        CHECK_EQ(pmm_free_below(PMM_WMARK_MIN), 0);
        user_fill(s, anon + P, 2);              /* memory back: it resolves */
        CHECK(page_is(frame(s, anon + P), 2));
        touch(s, va, 0, FPAGES);
        CHECK(sound());
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

#define BIG_FPAGES      512
static uint8_t big_file[BIG_FPAGES * 4096];

TEST(fault_below_min_reclaims_clean_pages)
{
        vaddr_t va = 0x20000000, anon = 0x30000000;
        struct vm_space *s;
        struct vm_object *f;
        struct hog h;
        uint64_t direct0;

        /* A file of 512 pages: reclaim is not futile
         * (vm_reclaim_futile). */
        setup(32 * MiB);
        for (size_t i = 0; i < sizeof big_file; i++)
                big_file[i] = byte_of(i / P);
        CHECK_EQ(vm_object_create_file(big_file, sizeof big_file, &f), VM_OK);
        s = new_space();
        map_file_at(s, va, BIG_FPAGES * P, R, SHARED, f);
        map_at(s, anon, 32 * P, RW, PRIV);
        touch(s, va, 0, BIG_FPAGES);
        user_fill(s, anon, 1);                  /* its tables exist */
        hog_take(&h, 0);                        /* nothing free at all */
        CHECK(!vm_reclaim_futile());
        direct0 = vm_events.direct_reclaims;
        /* Each fault finds no page, reclaims file pages, and succeeds. */
        for (unsigned i = 1; i < 32; i++)
                user_fill(s, anon + i * P, (uint8_t)i);
        CHECK(vm_events.direct_reclaims > direct0);
        CHECK(f->npages < BIG_FPAGES);
        CHECK(sound());
        /* With every clean page gone, memory runs out as before. */
        while (f->npages)
                vm_reclaim(1000);
        hog_release(&h);
        map_at(s, 0x38000000, P, RW, PRIV);
        hog_take(&h, 0);
        CHECK_EQ(vm_fault(s, 0x38000000, W), FAULT_OOM);
        hog_release(&h);
        for (unsigned i = 1; i < 32; i++)
                CHECK(page_is(frame(s, anon + i * P), (uint8_t)i));
        touch(s, va, 0, BIG_FPAGES);            /* the file reads back */
        CHECK(sound());
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

TEST(background_reclaim_stops_at_high)
{
        vaddr_t va = 0x20000000;
        struct vm_space *s;
        struct vm_object *f;
        struct hog h;
        struct pmm_zone_stats st;
        uint64_t low = 0, high = 0;

        setup(32 * MiB);
        fill_file();
        CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f), VM_OK);
        s = new_space();
        map_file_at(s, va, FPAGES * P, R, SHARED, f);
        touch(s, va, 0, FPAGES);
        for (unsigned z = 0; z < NR_ZONES; z++) {
                pmm_zone_stats((enum zone_id)z, &st);
                low += st.wmark[PMM_WMARK_LOW];
                high += st.wmark[PMM_WMARK_HIGH];
        }
        CHECK_EQ(vm_reclaim_background(), 0);   /* plenty free: nothing */
        CHECK_EQ(f->npages, FPAGES);
        hog_take(&h, low - 10);                 /* just below low */
        CHECK(pmm_free_below(PMM_WMARK_LOW) > 0);
        CHECK(pmm_free_below(PMM_WMARK_MIN) == 0);
        /* Batches until free is back at high, then nothing. */
        for (unsigned i = 0; i < 100 && pmm_free_below(PMM_WMARK_LOW); i++)
                vm_reclaim_background();
        CHECK_EQ(pmm_free_below(PMM_WMARK_LOW), 0);
        CHECK(pmm_free_count() <= high + 32);
        CHECK(f->npages < FPAGES);
        CHECK(sound());
        hog_release(&h);
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

/* ---- writing dirty disk-file pages home ------------------------------------ */

/* A disk file of WB_PAGES pages for a page-cache object with a pager (an
 * ext2 file's shape, vm_object.h): the disk is an array; writepage copies
 * a page to it, can be told to fail at one index, or to let a mapping
 * write the page while "the I/O" runs. */
#define WB_PAGES        8
static uint8_t wb_disk[WB_PAGES * 4096];
static unsigned wb_writes;
static long wb_fail_index = -1;
static struct vm_space *wb_writer;      /* writes during the I/O, or NULL */
static vaddr_t wb_va;

static long wb_fill(struct vm_object *obj, uint64_t index, void *kva)
{
        memcpy(kva, wb_disk + index * P, P);
        return 0;
}

static long wb_sync(struct vm_object *obj)
{
        return 0;
}

static long wb_mkwrite(struct vm_object *obj, uint64_t index)
{
        return 0;
}

static long wb_writepage(struct vm_object *obj, uint64_t index,
                         struct vm_page *pg)
{
        void *kva;

        CHECK(pg->flags & PG_PINNED);
        CHECK(!(pg->flags & PG_DIRTY));         /* cleaned before the I/O */
        CHECK_EQ(vm_writeback_pages, 1);
        if ((long)index == wb_fail_index)
                return -EIO;
        kva = pmap_quick_enter_page(pmm_page_to_pa(pg));
        memcpy(wb_disk + index * P, kva, P);
        pmap_quick_remove_page(kva);
        wb_writes++;
        if (wb_writer)          /* a store after the copy went out */
                user_fill(wb_writer, wb_va + index * P, 0x77);
        return 0;
}

static const struct vm_pager_ops wb_pager = {
        .fill = wb_fill, .sync = wb_sync, .mkwrite = wb_mkwrite,
        .writepage = wb_writepage,
};
static const struct vm_pager_ops wb_pager_no_write = {
        .fill = wb_fill, .sync = wb_sync, .mkwrite = wb_mkwrite,
};

static struct vm_object *wb_file(const struct vm_pager_ops *ops)
{
        struct vm_object *o;

        CHECK_EQ(vm_object_create_cache(NULL, 0, &o), VM_OK);
        CHECK_EQ(vm_object_resize(o, WB_PAGES * P), VM_OK);
        o->pager_ops = ops;
        return o;
}

static bool disk_page_is(uint64_t index, uint8_t byte)
{
        for (size_t i = 0; i < P; i++)
                if (wb_disk[index * P + i] != byte)
                        return false;
        return true;
}

/* Dirty pages of a disk file whose pager writes single pages are written
 * home by reclaim and freed; they read back from the disk. Without
 * writepage they stay. A page written during its write-back stays, dirty,
 * with the new bytes. A failed write keeps the page dirty and resident,
 * its bytes intact, and leaves the error for the next sync. */
TEST(reclaim_writes_dirty_disk_file_pages_home)
{
        vaddr_t va = 0x20000000, vb = 0x30000000;
        struct vm_space *s;
        struct vm_object *f, *g;
        uint64_t written0, failed0, pgpg0;
        struct vm_page *pg;

        setup(32 * MiB);
        memset(wb_disk, 0x11, sizeof wb_disk);
        wb_writes = 0;
        wb_fail_index = -1;
        wb_writer = NULL;
        f = wb_file(&wb_pager);
        g = wb_file(&wb_pager_no_write);
        s = new_space();
        map_file_at(s, va, WB_PAGES * P, RW, SHARED | VM_MAP_MAYWRITE, f);
        map_file_at(s, vb, WB_PAGES * P, RW, SHARED | VM_MAP_MAYWRITE, g);
        for (unsigned i = 0; i < WB_PAGES; i++) {
                user_fill(s, va + i * P, (uint8_t)(0x40 + i));
                user_fill(s, vb + i * P, (uint8_t)(0x60 + i));
        }
        CHECK_EQ(vm_dirty_file_pages(), 2 * WB_PAGES);
        CHECK(sound());

        /* One page by hand: unmapped, written, freed. */
        written0 = vm_events.nr_vmscan_write;
        pg = vm_object_lookup(f, 0);
        CHECK_EQ(vm_reclaim_writeback(pg), VM_WB_FREED);
        CHECK(!present(s, va));
        CHECK(vm_object_lookup(f, 0) == NULL);
        CHECK(disk_page_is(0, 0x40));
        CHECK_EQ(vm_events.nr_vmscan_write, written0 + 1);
        CHECK_EQ(vm_writeback_pages, 0);
        /* Without writepage: not such a page, nothing changes. */
        CHECK_EQ(vm_reclaim_writeback(vm_object_lookup(g, 0)), VM_WB_NONE);
        CHECK(present(s, vb));

        /* Written to while the write ran: it stays, dirty, new bytes. */
        wb_writer = s;
        wb_va = va;
        pg = vm_object_lookup(f, 1);
        CHECK_EQ(vm_reclaim_writeback(pg), VM_WB_KEPT);
        wb_writer = NULL;
        CHECK(vm_object_lookup(f, 1) == pg);
        CHECK(pg->flags & PG_DIRTY);
        CHECK(disk_page_is(1, 0x41));           /* what went out */
        CHECK_EQ(user_read(s, va + P), 0x77);   /* what is now */
        CHECK(sound());

        /* A failed write: dirty, resident, unmapped, the error kept. */
        failed0 = vm_events.vmscan_write_failed;
        wb_fail_index = 2;
        pg = vm_object_lookup(f, 2);
        CHECK_EQ(vm_reclaim_writeback(pg), VM_WB_FAILED);
        CHECK(vm_object_lookup(f, 2) == pg);
        CHECK(pg->flags & PG_DIRTY);
        CHECK(!present(s, va + 2 * P));
        CHECK(page_is(pmm_page_to_pa(pg), 0x42));
        CHECK(disk_page_is(2, 0x11));
        CHECK_EQ(f->wb_error, -EIO);
        CHECK_EQ(vm_events.vmscan_write_failed, failed0 + 1);
        CHECK(sound());

        /* Reclaim itself: every page of f it can write goes (the failing
         * one stays), every dirty page of g stays. */
        pgpg0 = vm_events.pgsteal;
        for (unsigned i = 0; i < 4; i++)
                vm_reclaim(1000);
        CHECK(sound());
        CHECK_EQ(f->npages, 1);
        CHECK(vm_object_lookup(f, 2) != NULL);
        CHECK_EQ(g->npages, WB_PAGES);
        CHECK(vm_events.pgsteal - pgpg0 >= WB_PAGES - 2);
        CHECK(disk_page_is(1, 0x77));
        for (unsigned i = 3; i < WB_PAGES; i++)
                CHECK(disk_page_is(i, (uint8_t)(0x40 + i)));
        CHECK_EQ(vm_dirty_file_pages(), WB_PAGES + 1);
        /* The disk works again: the page goes home too. */
        wb_fail_index = -1;
        for (unsigned i = 0; i < 4; i++)
                vm_reclaim(1000);
        CHECK_EQ(f->npages, 0);
        CHECK(disk_page_is(2, 0x42));
        /* Everything reads back from the disk. */
        CHECK_EQ(user_read(s, va), 0x40);
        CHECK_EQ(user_read(s, va + P), 0x77);
        for (unsigned i = 2; i < WB_PAGES; i++)
                CHECK_EQ(user_read(s, va + i * P + 17), (uint8_t)(0x40 + i));
        CHECK_EQ(vm_dirty_file_pages(), WB_PAGES);
        CHECK(sound());
        destroy(s);
        vm_object_unref(f);
        vm_object_unref(g);
        check_baseline();
}
