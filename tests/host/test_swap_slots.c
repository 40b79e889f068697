/*
 * test_swap_slots.c - swap areas (kernel/vm/swap.c): mkswap's header,
 * checked against a header Debian's mkswap wrote (swap-4m.hdr, made by
 * tests/host/mkfixtures.sh) and against corrupted copies; slot
 * allocation in clusters (sequential in a fresh area, whole free
 * clusters before fragments, bad pages never handed out), a random run
 * against a model of every slot's count, and allocation failure
 * injection at every step of swap_area_init.
 */
#define _DEFAULT_SOURCE                 /* readlink: fixture.h */
#include "check.h"
#include "fixtures/fixture.h"
#include "vm_fixture.h"

#include <mercator/errno.h>

#include <vm/kmalloc.h>
#include <vm/swap.h>

#include <stdlib.h>
#include <string.h>

#define MiB_PAGES(n)    ((uint64_t)(n) * 256)

static void put32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

/* A version-1 header as mkswap lays it out. */
static void make_header(uint8_t *page, uint32_t last_page, const uint32_t *bad,
                        uint32_t nbad)
{
        memset(page, 0, 4096);
        put32(page + SWAP_HEADER_VERSION_OFF, 1);
        put32(page + SWAP_HEADER_LAST_OFF, last_page);
        put32(page + SWAP_HEADER_NBAD_OFF, nbad);
        for (uint32_t i = 0; i < nbad; i++)
                put32(page + SWAP_HEADER_BAD_OFF + 4 * i, bad[i]);
        memcpy(page + SWAP_HEADER_LABEL_OFF, "mercator-test", 13);
        memcpy(page + SWAP_HEADER_MAGIC_OFF, "SWAPSPACE2", 10);
}

static bool read_fixture(const char *name, uint8_t *page)
{
        size_t len;
        uint8_t *data = fixture_load(name, &len);

        if (len != 4096) {
                free(data);
                return false;
        }
        memcpy(page, data, 4096);
        free(data);
        return true;
}

static void area_from(struct swap_area *a, uint32_t last_page,
                      const uint32_t *bad, uint32_t nbad)
{
        static uint8_t page[4096];
        static struct swap_header_info h;

        make_header(page, last_page, bad, nbad);
        CHECK(swap_header_parse(page, last_page + 1, &h) == NULL);
        CHECK_EQ(swap_area_init(a, &h), 0);
        CHECK(swap_area_check(a));
}

/* Debian's mkswap: a 4 MiB area labelled "mercswap" with a known UUID. */
TEST(header_from_debian_mkswap)
{
        static uint8_t page[4096];
        static struct swap_header_info h;

        CHECK(read_fixture("swap-4m.hdr", page));
        CHECK(swap_header_parse(page, MiB_PAGES(4), &h) == NULL);
        CHECK_EQ(h.version, 1);
        CHECK_EQ(h.last_page, MiB_PAGES(4) - 1);
        CHECK_EQ(h.nr_badpages, 0);
        CHECK(strcmp(h.label, "mercswap") == 0);
        CHECK_EQ(h.uuid[0], 0x6d);
        CHECK_EQ(h.uuid[15], 0x01);
        /* The same header on a device one page too small. */
        CHECK(swap_header_parse(page, MiB_PAGES(4) - 1, &h) != NULL);
}

/* Each corruption is refused with its own message. */
TEST(header_corruptions_refused)
{
        static uint8_t good[4096], page[4096];
        static struct swap_header_info h;
        const char *why;

        CHECK(read_fixture("swap-4m.hdr", good));
        uint64_t dev = MiB_PAGES(4);

        memcpy(page, good, 4096);
        memcpy(page + SWAP_HEADER_MAGIC_OFF, "SWAP-SPACE", 10);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "version 0"));

        memcpy(page, good, 4096);
        page[SWAP_HEADER_MAGIC_OFF + 4] = 'X';
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "signature"));

        memset(page, 0, 4096);                  /* a blank disk */
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "signature"));

        memcpy(page, good, 4096);
        put32(page + SWAP_HEADER_VERSION_OFF, 0x01000000);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "byte order"));

        memcpy(page, good, 4096);
        put32(page + SWAP_HEADER_VERSION_OFF, 2);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "version"));

        memcpy(page, good, 4096);
        put32(page + SWAP_HEADER_LAST_OFF, 0);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "no page"));

        memcpy(page, good, 4096);
        put32(page + SWAP_HEADER_LAST_OFF, (uint32_t)dev);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "larger"));

        memcpy(page, good, 4096);
        put32(page + SWAP_HEADER_NBAD_OFF, SWAP_HEADER_MAX_BAD + 1);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "more bad"));

        memcpy(page, good, 4096);
        put32(page + SWAP_HEADER_NBAD_OFF, 1);
        put32(page + SWAP_HEADER_BAD_OFF, (uint32_t)dev);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "outside"));
        put32(page + SWAP_HEADER_BAD_OFF, 0);
        CHECK((why = swap_header_parse(page, dev, &h)) && strstr(why, "outside"));
        put32(page + SWAP_HEADER_BAD_OFF, 5);
        CHECK(swap_header_parse(page, dev, &h) == NULL);
        CHECK_EQ(h.nr_badpages, 1);
        CHECK_EQ(h.badpages[0], 5);
}

/* A fresh area hands out slots 1, 2, 3, ... (slot 0 is the header),
 * stepping over bad pages; all of them, then none. */
TEST(fresh_area_is_sequential)
{
        static struct swap_area a;
        const uint32_t bad[] = { 100, 300, 301 };
        uint32_t last = 10 * SWAP_CLUSTER_PAGES - 1, s, want = 1;

        setup(16 * MiB);
        area_from(&a, last, bad, 3);
        CHECK_EQ(a.usable, last - 3);
        for (uint32_t i = 0; i < a.usable; i++) {
                while (want == 100 || want == 300 || want == 301)
                        want++;
                CHECK(swap_slot_alloc(&a, &s));
                CHECK_EQ(s, want);
                CHECK_EQ(swap_slot_count(&a, s), 1);
                want++;
        }
        CHECK_EQ(a.free, 0);
        CHECK(!swap_slot_alloc(&a, &s));
        CHECK_EQ(swap_slot_count(&a, 0), SWAP_MAP_BAD);
        CHECK_EQ(swap_slot_count(&a, 300), SWAP_MAP_BAD);
        CHECK(swap_area_check(&a));
        for (uint32_t i = 1; i <= last; i++)
                if (swap_slot_count(&a, i) == 1)
                        swap_slot_free(&a, i);
        CHECK_EQ(a.free, a.usable);
        CHECK(swap_area_check(&a));
        swap_area_fini(&a);
        check_baseline();
}

/* With the area full, cluster 5 emptied and every other slot of cluster 2
 * freed, the next allocations fill cluster 5 in order before any hole of
 * cluster 2 is taken; then the holes, then nothing. */
TEST(whole_clusters_before_fragments)
{
        static struct swap_area a;
        uint32_t s, n = 0;

        setup(16 * MiB);
        area_from(&a, 8 * SWAP_CLUSTER_PAGES - 1, NULL, 0);
        while (swap_slot_alloc(&a, &s))
                n++;
        CHECK_EQ(n, a.usable);
        for (s = 5 * SWAP_CLUSTER_PAGES; s < 6 * SWAP_CLUSTER_PAGES; s++)
                swap_slot_free(&a, s);
        for (s = 2 * SWAP_CLUSTER_PAGES; s < 3 * SWAP_CLUSTER_PAGES; s += 2)
                swap_slot_free(&a, s);
        CHECK(swap_area_check(&a));
        for (uint32_t i = 0; i < SWAP_CLUSTER_PAGES; i++) {
                CHECK(swap_slot_alloc(&a, &s));
                CHECK_EQ(s, 5 * SWAP_CLUSTER_PAGES + i);
        }
        for (uint32_t i = 0; i < SWAP_CLUSTER_PAGES / 2; i++) {
                CHECK(swap_slot_alloc(&a, &s));
                CHECK_EQ(s, 2 * SWAP_CLUSTER_PAGES + 2 * i);
        }
        CHECK(!swap_slot_alloc(&a, &s));
        CHECK(swap_area_check(&a));
        swap_area_fini(&a);
        check_baseline();
}

/* Random alloc / dup / free against a model of every slot's count. */
TEST(random_against_model)
{
        static struct swap_area a;
        static uint16_t model[4 * SWAP_CLUSTER_PAGES + 17];
        uint32_t last = 4 * SWAP_CLUSTER_PAGES + 16, s;
        const uint32_t bad[] = { 7, 256, 257, 1000 };
        uint64_t seed = check_seed(0x5a17);
        uint32_t inuse = 0;

        setup(16 * MiB);
        srand((unsigned)seed);
        area_from(&a, last, bad, 4);
        memset(model, 0, sizeof model);
        for (int step = 0; step < 20000; step++) {
                int op = rand() % 10;

                if (op < 5) {
                        bool got = swap_slot_alloc(&a, &s);

                        CHECK_EQ(got, inuse < a.usable);
                        if (got) {
                                CHECK(s > 0 && s <= last);
                                CHECK(s != 7 && s != 256 && s != 257 && s != 1000);
                                CHECK_EQ(model[s], 0);
                                model[s] = 1;
                                inuse++;
                        }
                } else {
                        s = 1 + (uint32_t)rand() % last;
                        if (model[s] == 0)
                                continue;
                        if (op < 7) {
                                CHECK(swap_slot_dup(&a, s));
                                model[s]++;
                        } else {
                                swap_slot_free(&a, s);
                                if (--model[s] == 0)
                                        inuse--;
                        }
                }
                if (step % 97 == 0) {
                        CHECK(swap_area_check(&a));
                        for (s = 1; s <= last; s++)
                                if (swap_slot_count(&a, s) != SWAP_MAP_BAD)
                                        CHECK_EQ(swap_slot_count(&a, s), model[s]);
                }
                CHECK_EQ(a.free, a.usable - inuse);
        }
        for (s = 1; s <= last; s++)
                while (model[s]) {
                        swap_slot_free(&a, s);
                        model[s]--;
                }
        CHECK_EQ(a.free, a.usable);
        CHECK(swap_area_check(&a));
        swap_area_fini(&a);
        check_baseline();
}

/* A slot's count stops at SWAP_MAP_MAX; freeing a free slot is a bug. */
TEST(count_limits)
{
        static struct swap_area a;
        uint32_t s;

        setup(16 * MiB);
        area_from(&a, 15, NULL, 0);
        CHECK(swap_slot_alloc(&a, &s));
        for (unsigned i = 1; i < SWAP_MAP_MAX; i++)
                CHECK(swap_slot_dup(&a, s));
        CHECK(!swap_slot_dup(&a, s));
        CHECK_EQ(swap_slot_count(&a, s), SWAP_MAP_MAX);
        for (unsigned i = 0; i < SWAP_MAP_MAX; i++)
                swap_slot_free(&a, s);
        EXPECT_PANIC(swap_slot_free(&a, s));
        EXPECT_PANIC(swap_slot_dup(&a, 0));
        swap_area_fini(&a);
        check_baseline();
}

/* The N-th allocation of swap_area_init fails, for every N: -ENOMEM with
 * nothing kept, until it succeeds. A 64 MiB area's map is a large
 * kmalloc (32 KiB), its cluster tables small ones. */
TEST(init_allocation_failure)
{
        static uint8_t page[4096];
        static struct swap_header_info h;
        static struct swap_area a;
        unsigned failures = 0;

        setup(16 * MiB);
        make_header(page, MiB_PAGES(64) - 1, NULL, 0);
        CHECK(swap_header_parse(page, MiB_PAGES(64), &h) == NULL);
        for (uint64_t n = 1;; n++) {
                pmm_fail_after = n;
                int err = swap_area_init(&a, &h);
                pmm_fail_after = 0;
                if (err == 0)
                        break;
                CHECK_EQ(err, -ENOMEM);
                CHECK(a.map == NULL && a.pages == 0);
                kmalloc_shrink();
                check_baseline();
                failures++;
                CHECK(n < 100);
        }
        CHECK(failures >= 1);
        CHECK(swap_area_check(&a));
        CHECK_EQ(a.usable, MiB_PAGES(64) - 1);
        swap_area_fini(&a);
        check_baseline();
}

/* ---- the active areas and their I/O, on a RAM disk --------------------- */

#include <mercator/blkdev.h>

#define RAM_PAGES       256             /* 1 MiB */

/* A disk in host memory. Requests complete at wait (so several are in
 * flight at once); a sector can be made to fail its next read or write. */
static struct ramdisk {
        struct blkdev bd;
        uint8_t *data;
        uint64_t fail_read, fail_write;         /* sector + 1, 0: none */
        unsigned inflight;
} ram;

static void ram_copy(struct blk_req *r)
{
        uint8_t *disk = ram.data + r->sector * BLK_SECTOR_SIZE;
        uint64_t first = r->sector, last = r->sector + r->bytes / BLK_SECTOR_SIZE;
        uint64_t *fail = r->write ? &ram.fail_write : &ram.fail_read;

        if (*fail && *fail - 1 >= first && *fail - 1 < last) {
                *fail = 0;
                r->status = -EIO;
                return;
        }
        for (uint32_t done = 0; done < r->bytes; done += PAGE_SIZE) {
                uint8_t *mem = pmap_quick_enter_page(r->pa + done);

                if (r->write)
                        memcpy(disk + done, mem, PAGE_SIZE);
                else
                        memcpy(mem, disk + done, PAGE_SIZE);
                pmap_quick_remove_page(mem);
        }
        r->status = 0;
}

static int ram_submit(struct blkdev *d, struct blk_req *r)
{
        CHECK(r->bytes % PAGE_SIZE == 0 && r->pa % PAGE_SIZE == 0);
        ram.inflight++;
        return 0;
}

static void ram_wait(struct blkdev *d, struct blk_req *r)
{
        CHECK_EQ(r->status, BLK_PENDING);
        ram_copy(r);
        ram.inflight--;
}

static const struct blkdev_ops ram_ops = { ram_submit, ram_wait };

/* The RAM disk (registered once: the registry keeps disks), zeroed; with
 * mkswap's header over its first page if `header`. */
static struct blkdev *ram_disk(bool header)
{
        static bool registered;

        if (!registered) {
                ram.data = malloc(RAM_PAGES * 4096);
                CHECK(ram.data != NULL);
                memcpy(ram.bd.name, "ram0", 5);
                ram.bd.sectors = RAM_PAGES * 8;
                ram.bd.ops = &ram_ops;
                blkdev_register(&ram.bd);
                registered = true;
        }
        memset(ram.data, 0, RAM_PAGES * 4096);
        ram.fail_read = ram.fail_write = 0;
        if (header)
                make_header(ram.data, RAM_PAGES - 1, NULL, 0);
        CHECK(blkdev_find("ram0") == &ram.bd);
        return &ram.bd;
}

static uint64_t swap_free_slots(void)
{
        uint64_t t, f;

        swap_totals(&t, &f);
        return f;
}

/* 100 pages, 16 at a time: slots 1..100 in order, each page at its
 * slot's sectors on the disk; read back; pswpout/pswpin; all freed. */
TEST(io_round_trip_on_a_ram_disk)
{
        static swp_entry_t e[100];
        struct vm_page *pg;
        struct swap_events before = swap_events;
        paddr_t pa[SWAP_WRITE_MAX];

        setup(16 * MiB);
        struct blkdev *d = ram_disk(true);
        CHECK_EQ(swap_on(d, -2, "/dev/ram0"), 0);
        CHECK_EQ(swap_free_slots(), RAM_PAGES - 1);
        CHECK((pg = pmm_alloc_pages(4, 0)) != NULL);
        for (unsigned i = 0; i < SWAP_WRITE_MAX; i++)
                pa[i] = pmm_page_to_pa(pg) + i * PAGE_SIZE;
        for (unsigned done = 0; done < 100; done += SWAP_WRITE_MAX) {
                unsigned n = 100 - done < SWAP_WRITE_MAX ? 100 - done : SWAP_WRITE_MAX;

                for (unsigned i = 0; i < n; i++) {
                        uint8_t *m = pmap_quick_enter_page(pa[i]);
                        memset(m, (int)(done + i + 1), PAGE_SIZE);
                        pmap_quick_remove_page(m);
                }
                CHECK_EQ(swap_write_pages(pa, n, e + done), 0);
                CHECK_EQ(ram.inflight, 0);
        }
        for (unsigned i = 0; i < 100; i++) {
                CHECK_EQ(SWP_SLOT(e[i]), i + 1);
                CHECK_EQ(ram.data[(i + 1) * 4096], i + 1);
                CHECK_EQ(ram.data[(i + 1) * 4096 + 4095], i + 1);
        }
        CHECK_EQ(swap_events.pswpout - before.pswpout, 100);
        CHECK_EQ(swap_free_slots(), RAM_PAGES - 1 - 100);
        CHECK_EQ(swap_off(d), -EBUSY);
        for (unsigned i = 0; i < 100; i++) {
                CHECK_EQ(swap_read_page(e[99 - i], pa[0]), 0);
                uint8_t *m = pmap_quick_enter_page(pa[0]);
                CHECK(m[0] == 100 - i && m[4095] == 100 - i);
                pmap_quick_remove_page(m);
                swap_entry_free(e[99 - i]);
        }
        CHECK_EQ(swap_events.pswpin - before.pswpin, 100);
        CHECK_EQ(swap_off(d), 0);
        pmm_free_pages(pg, 4);
        check_baseline();
}

/* A write that fails fails the batch and keeps no slot; a read that
 * fails is -EIO and the next one reads the page. */
TEST(io_errors_keep_nothing)
{
        struct vm_page *pg;
        struct swap_events before = swap_events;
        swp_entry_t e[4];
        paddr_t pa[4];

        setup(16 * MiB);
        struct blkdev *d = ram_disk(true);
        CHECK_EQ(swap_on(d, -2, "/dev/ram0"), 0);
        CHECK((pg = pmm_alloc_pages(2, PMM_ZERO)) != NULL);
        for (unsigned i = 0; i < 4; i++)
                pa[i] = pmm_page_to_pa(pg) + i * PAGE_SIZE;
        ram.fail_write = 3 * 8 + 1;             /* slot 3: the third page */
        CHECK_EQ(swap_write_pages(pa, 4, e), -EIO);
        CHECK_EQ(swap_events.write_errors - before.write_errors, 1);
        CHECK_EQ(swap_events.pswpout, before.pswpout);
        CHECK_EQ(swap_free_slots(), RAM_PAGES - 1);
        CHECK_EQ(swap_write_pages(pa, 4, e), 0);
        ram.fail_read = SWP_SLOT(e[1]) * 8 + 1;
        CHECK_EQ(swap_read_page(e[1], pa[0]), -EIO);
        CHECK_EQ(swap_events.read_errors - before.read_errors, 1);
        CHECK_EQ(swap_read_page(e[1], pa[0]), 0);
        for (unsigned i = 0; i < 4; i++)
                swap_entry_free(e[i]);
        CHECK_EQ(swap_off(d), 0);
        pmm_free_pages(pg, 2);
        check_baseline();
}

/* swap_on refuses a disk without mkswap's header (-EINVAL), one whose
 * header cannot be read (-EIO), and, with its N-th allocation failing for
 * every N, says -ENOMEM and keeps nothing until it succeeds. */
TEST(swap_on_refusals_and_allocation_failure)
{
        uint64_t t, f;
        unsigned failures = 0;

        setup(16 * MiB);
        struct blkdev *d = ram_disk(false);
        CHECK_EQ(swap_on(d, -2, "/dev/ram0"), -EINVAL);
        d = ram_disk(true);
        ram.fail_read = 1;
        CHECK_EQ(swap_on(d, -2, "/dev/ram0"), -EIO);
        swap_totals(&t, &f);
        CHECK_EQ(t, 0);
        check_baseline();
        for (uint64_t n = 1;; n++) {
                pmm_fail_after = n;
                long err = swap_on(d, -2, "/dev/ram0");
                pmm_fail_after = 0;
                if (err == 0)
                        break;
                CHECK_EQ(err, -ENOMEM);
                CHECK(swap_dev_get(0) == NULL);
                check_baseline();
                failures++;
                CHECK(n < 100);
        }
        CHECK(failures >= 2);
        CHECK_EQ(swap_on(d, -3, "/dev/ram0"), -EBUSY);
        CHECK_EQ(swap_off(d), 0);
        check_baseline();
}
