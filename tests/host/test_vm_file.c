/*
 * test_vm_file.c - file objects and file mappings (kernel/vm/vm_object.c,
 * vm_space.c, vm_fault.c), mremap (vm_remap.c) and madvise (vm_advise.c)
 * over simulated RAM, the real x86-64 table code and the software MMU.
 *
 * The "files" are byte arrays of the test, as the initramfs hands the
 * kernel its members' bytes. Directed tests pin down one rule each:
 * contents and tail zeroing, one object and one set of frames per file,
 * copy-on-write of private mappings, SIGBUS past the end, refusal of
 * writable shared mappings, every mremap mode and error, madvise's
 * advice, and the /proc/PID/maps listing. random_remap_* runs map / map
 * file / unmap / protect / mremap / madvise / fault sequences over a
 * window of pages against a per-page model of where each page's contents
 * come from. Every test ends with every counter back at its baseline.
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

#define MAYMOVE         VM_REMAP_MAYMOVE
#define RFIXED          (VM_REMAP_FIXED | VM_REMAP_MAYMOVE)

/* The first `valid` bytes of pa's page are byte, the rest zero. */
static bool page_matches(paddr_t pa, uint8_t byte, size_t valid)
{
        const uint8_t *p = phys_to_virt(page_trunc(pa));

        for (size_t i = 0; i < PAGE_SIZE; i++)
                if (p[i] != (i < valid ? byte : 0))
                        return false;
        return true;
}

static void map_file_at(struct vm_space *s, vaddr_t va, uint64_t len,
                        vm_prot_t prot, unsigned flags, struct vm_object *f,
                        uint64_t off)
{
        vaddr_t out = 0;

        CHECK_EQ(vm_space_map_file(s, va, len, prot, flags | FIXED, f, off,
                                   &out), VM_OK);
        CHECK_EQ(out, va);
        CHECK(vm_space_check(s));
}

/* ---- test files ---------------------------------------------------------- */

/* A file whose page i holds byte file_byte(i) up to its end. */
#define FILE_MAX        (8 * PAGE_SIZE)
static uint8_t file_a[FILE_MAX], file_b[FILE_MAX];

static uint8_t file_byte(const uint8_t *data, uint64_t page)
{
        return (uint8_t)((data == file_a ? 0x30 : 0x70) + page);
}

static struct vm_object *make_file(uint8_t *data, uint64_t bytes)
{
        struct vm_object *f = NULL;

        for (uint64_t i = 0; i < FILE_MAX; i++)
                data[i] = file_byte(data, i / PAGE_SIZE);
        CHECK_EQ(vm_object_create_file(data, bytes, &f), VM_OK);
        CHECK(vm_object_check(f));
        return f;
}

/* Page `page` of file f as a mapping shows it. */
static bool file_page_is(paddr_t pa, const struct vm_object *f, uint64_t page)
{
        uint64_t off = page * PAGE_SIZE;

        return page_matches(pa, file_byte(f->data, page),
                            MIN(PAGE_SIZE, f->bytes - off));
}

/* ---- file objects ---------------------------------------------------------- */

TEST(one_object_per_file)
{
        struct vm_object *a1, *a2, *b, *empty, *bad;

        setup(16 * MiB);
        a1 = make_file(file_a, 2 * P + 100);
        CHECK_EQ(vm_object_create_file(file_a, 2 * P + 100, &a2), VM_OK);
        CHECK(a1 == a2);
        CHECK_EQ(a1->refcount, 2);
        CHECK_EQ(a1->type, VM_OBJECT_FILE);
        CHECK_EQ(a1->size, 3);
        b = make_file(file_b, 4 * P);
        CHECK(b != a1 && b->size == 4 && b->id != a1->id);
        CHECK_EQ(vm_object_file_count(), 2);
        CHECK_EQ(vm_object_create_file(file_a, 0, &empty), VM_OK);
        CHECK(empty != a1 && empty->size == 0);
        CHECK(vm_object_check(empty));
        CHECK_EQ(vm_object_create_file(NULL, 5, &bad), VM_EINVAL);
        CHECK_EQ(vm_object_set_name(a1, "/bin/sh"), VM_OK);
        CHECK(strcmp(vm_object_name(a2), "/bin/sh") == 0);
        CHECK_EQ(vm_object_set_name(a1, "/bin/ash"), VM_OK);
        CHECK(strcmp(vm_object_name(a1), "/bin/ash") == 0);
        vm_object_unref(a2);
        CHECK_EQ(vm_object_file_count(), 3);
        vm_object_unref(a1);
        vm_object_unref(b);
        vm_object_unref(empty);
        check_baseline();
}

TEST(file_contents_tail_zeroed_and_bus_past_end)
{
        struct vm_object *f;
        struct vm_space *s;
        vaddr_t va = 0x10000000;
        paddr_t pa;

        setup(16 * MiB);
        f = make_file(file_a, 2 * P + 100);
        s = new_space();
        map_file_at(s, va, 5 * P, R, PRIV, f, 0);
        CHECK_EQ(user_read(s, va), file_byte(file_a, 0));
        CHECK(file_page_is(frame(s, va), f, 0));
        CHECK_EQ(user_read(s, va + 2 * P + 99), file_byte(file_a, 2));
        CHECK_EQ(user_read(s, va + 2 * P + 100), 0);    /* the tail */
        CHECK(file_page_is(frame(s, va + 2 * P), f, 2));
        CHECK_EQ(vmstat.file_pages, 2);
        CHECK_EQ(vmstat.anon_pages, 0);
        /* Wholly past the end: SIGBUS, not SIGSEGV, for reads and writes. */
        CHECK_EQ(user_access(s, va + 3 * P, R, &pa), FAULT_BUS);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_BEYOND_OBJECT);
        CHECK_EQ(s->last_fault.result, FAULT_BUS);
        CHECK_EQ(user_access(s, va + 4 * P + 8, R, &pa), FAULT_BUS);
        CHECK(vm_fault_reason_name(FAULT_REASON_BEYOND_OBJECT)[0] != '?');
        /* At an offset: page 1 of the file, the same frame. */
        CHECK_EQ(user_read(s, va + P), file_byte(file_a, 1));
        map_file_at(s, va + 16 * P, 2 * P, R | X, PRIV, f, P);
        CHECK_EQ(user_read(s, va + 16 * P), file_byte(file_a, 1));
        CHECK_EQ(frame(s, va + 16 * P), frame(s, va + P));
        CHECK_EQ(user_access(s, va + 16 * P, X, &pa), FAULT_RESOLVED);
        CHECK_EQ(user_access(s, va + 16 * P, W, &pa), FAULT_SEGV);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_PROT);
        /* An offset wholly past the end maps, and every access is BUS. */
        map_file_at(s, va + 32 * P, P, R, SHARED, f, 7 * P);
        CHECK_EQ(user_access(s, va + 32 * P, R, &pa), FAULT_BUS);
        CHECK(vm_object_check(f));
        vm_object_unref(f);                     /* the areas keep it */
        CHECK_EQ(vm_object_file_count(), 1);
        CHECK_EQ(user_read(s, va + P), file_byte(file_a, 1));
        destroy(s);
        check_baseline();
}

TEST(two_spaces_share_a_files_frames)
{
        struct vm_object *f;
        struct vm_space *s1, *s2;
        vaddr_t va = 0x10000000, vb = 0x20000000;

        setup(16 * MiB);
        f = make_file(file_b, 4 * P);
        s1 = new_space();
        s2 = new_space();
        map_file_at(s1, va, 4 * P, R, PRIV, f, 0);
        map_file_at(s2, vb, 4 * P, R, SHARED, f, 0);
        for (unsigned i = 0; i < 4; i++) {
                CHECK_EQ(user_read(s1, va + i * P), file_byte(file_b, i));
                CHECK_EQ(user_read(s2, vb + i * P), file_byte(file_b, i));
                CHECK_EQ(frame(s1, va + i * P), frame(s2, vb + i * P));
        }
        CHECK_EQ(vmstat.file_pages, 4);         /* one frame per page */
        destroy(s1);
        CHECK_EQ(vmstat.file_pages, 4);         /* s2 and we hold it */
        destroy(s2);
        CHECK_EQ(vm_object_file_count(), 1);
        vm_object_unref(f);
        check_baseline();
}

/* A read fault maps the neighbours the file object already holds (fault-
 * around), inside the area and its 16-page window; in private memory
 * read-only and never over a page of the area's own; a write fault maps
 * only its own page. */
TEST(fault_around_maps_cached_neighbours)
{
        struct vm_object *f;
        struct vm_space *s;
        struct vm_page *pg;
        vaddr_t va = 0x10000000, vb = 0x20000000 + 2 * P;

        setup(16 * MiB);
        f = make_file(file_b, 8 * P);
        for (uint64_t i = 0; i < 8; i++)
                if (i != 5)
                        CHECK_EQ(vm_object_get_page(f, i, &pg), VM_OK);
        s = new_space();
        map_file_at(s, va, 8 * P, R, SHARED, f, 0);
        CHECK_EQ(user_read(s, va + 3 * P), file_byte(file_b, 3));
        for (uint64_t i = 0; i < 8; i++)
                CHECK_EQ(present(s, va + i * P), i != 5);
        CHECK(file_page_is(frame(s, va + 7 * P), f, 7));

        map_file_at(s, vb, 6 * P, RW, PRIV, f, 2 * P);  /* file pages 2..7 */
        user_fill(s, vb, 0xee);                 /* a write: its page only */
        CHECK(!present(s, vb + P));
        CHECK_EQ(user_read(s, vb + 2 * P), file_byte(file_b, 4));
        CHECK(present(s, vb + P) && !can(s, vb + P, W));
        CHECK_EQ(frame(s, vb + P), frame(s, va + 3 * P));       /* the file's */
        CHECK(page_is(frame(s, vb), 0xee));     /* its own page stays */
        CHECK(!present(s, vb + 3 * P));         /* file page 5: not held */
        CHECK(present(s, vb + 4 * P) && present(s, vb + 5 * P));
        CHECK(!present(s, vb - P));             /* outside the area */
        CHECK(vm_space_check(s));
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

TEST(private_file_write_copies)
{
        struct vm_object *f;
        struct vm_space *s1, *s2;
        vaddr_t va = 0x10000000;
        paddr_t fpa;

        setup(16 * MiB);
        f = make_file(file_a, 3 * P - 1);
        s1 = new_space();
        s2 = new_space();
        map_file_at(s1, va, 3 * P, RW, PRIV, f, 0);
        map_file_at(s2, va, 3 * P, R, PRIV, f, 0);
        CHECK_EQ(user_read(s1, va + P), file_byte(file_a, 1));
        fpa = frame(s1, va + P);
        CHECK(!can(s1, va + P, W));             /* the file's page: read-only */
        CHECK_EQ(user_read(s2, va + P), file_byte(file_a, 1));
        user_fill(s1, va + P, 0xee);            /* a private copy */
        CHECK(frame(s1, va + P) != fpa);
        CHECK_EQ(vmstat.anon_pages, 1);
        CHECK_EQ(s1->stats.anon_allocs, 1);
        CHECK_EQ(user_read(s2, va + P), file_byte(file_a, 1));  /* unchanged */
        CHECK(file_page_is(fpa, f, 1));
        /* A write without a read first copies the file's bytes too. */
        {
                paddr_t pa = 0;

                CHECK_EQ(user_access(s1, va + 2 * P, W, &pa), FAULT_RESOLVED);
                CHECK(file_page_is(pa, f, 2));  /* tail still zeroes */
                CHECK(!present(s2, va + 2 * P));
        }
        CHECK(vm_object_check(f));
        CHECK(vm_space_check(s1));
        /* fork: the child shares the parent's copy copy-on-write, and the
         * file's pages as they are. */
        {
                struct vm_space *c = NULL;

                CHECK_EQ(vm_space_fork(s1, &c), VM_OK);
                CHECK_EQ(user_read(c, va + P), 0xee);
                CHECK_EQ(frame(c, va + P), frame(s1, va + P));
                CHECK_EQ(user_read(c, va), file_byte(file_a, 0));
                CHECK_EQ(user_read(s1, va), file_byte(file_a, 0));
                CHECK_EQ(frame(c, va), frame(s1, va));  /* the file's */
                user_fill(c, va + P, 0xef);
                CHECK_EQ(user_read(s1, va + P), 0xee);
                destroy(c);
        }
        /* Widening to write needs no copy until a write. */
        CHECK_EQ(vm_space_protect(s2, va, 3 * P, RW), VM_OK);
        CHECK_EQ(frame(s2, va + P), fpa);
        CHECK(!can(s2, va + P, W));
        destroy(s1);
        destroy(s2);
        vm_object_unref(f);
        check_baseline();
}

/* A write that makes an own page of a private file mapping writable again
 * (its fork's child gone) makes its own neighbours writable with it
 * (vm_fault.c:reuse_around), never the file's pages between them. */
TEST(reuse_around_never_makes_a_files_page_writable)
{
        struct vm_object *f;
        struct vm_space *s, *c;
        vaddr_t va = 0x10000000;        /* aligned to reuse_around's window */
        paddr_t fpa[8];

        setup(16 * MiB);
        f = make_file(file_a, 8 * P);
        s = new_space();
        map_file_at(s, va, 8 * P, RW, PRIV, f, 0);
        for (unsigned i = 0; i < 8; i++) {
                CHECK_EQ(user_read(s, va + i * P), file_byte(file_a, i));
                fpa[i] = frame(s, va + i * P);
        }
        for (unsigned i = 0; i < 8; i += 2)
                user_fill(s, va + i * P, (uint8_t)(0xa0 + i));  /* own copies */
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        destroy(c);
        user_fill(s, va + 2 * P, 0xb2);
        CHECK_EQ(s->stats.cow_reuses, 1);
        CHECK_EQ(s->stats.cow_reuses_around, 3);       /* 0, 4 and 6 */
        for (unsigned i = 0; i < 8; i++) {
                CHECK_EQ(can(s, va + i * P, W), i % 2 == 0);
                if (i % 2)
                        CHECK_EQ(frame(s, va + i * P), fpa[i]);
        }
        user_fill(s, va + 3 * P, 0xb3);                 /* copies the file's */
        CHECK(frame(s, va + 3 * P) != fpa[3]);
        for (unsigned i = 0; i < 8; i++)
                CHECK(file_page_is(fpa[i], f, i));      /* the file unchanged */
        CHECK(vm_space_check(s));
        CHECK(vm_object_check(f));
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

TEST(writable_shared_file_mapping_refused)
{
        struct vm_object *f;
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0;

        setup(16 * MiB);
        f = make_file(file_a, 2 * P);
        s = new_space();
        CHECK_EQ(vm_space_map_file(s, va, 2 * P, RW, SHARED | FIXED, f, 0,
                                   &out), VM_EACCES);
        CHECK_EQ(vm_space_map_file(s, 0, 2 * P, W, SHARED, f, 0, &out),
                 VM_EACCES);
        CHECK_EQ(s->areas.count, 0);
        map_file_at(s, va, 2 * P, R, SHARED, f, 0);
        CHECK_EQ(vm_space_protect(s, va, P, RW), VM_EACCES);
        CHECK_EQ(vm_space_protect(s, va, 2 * P, R | X), VM_OK);
        CHECK_EQ(s->areas.count, 1);
        /* A hole before the refusing area: ENOMEM first (address order). */
        CHECK_EQ(vm_space_protect(s, va - P, 3 * P, RW), VM_ENOMEM);
        /* Private writable is fine. */
        map_file_at(s, va + 4 * P, 2 * P, RW, PRIV, f, 0);
        /* Argument errors. */
        CHECK_EQ(vm_space_map_file(s, 0, P, R, PRIV, f, 100, &out), VM_EINVAL);
        CHECK_EQ(vm_space_map_file(s, 0, P, R, PRIV, NULL, 0, &out),
                 VM_EINVAL);
        {
                struct vm_object *anon;

                CHECK_EQ(vm_object_create_anon(4, &anon), VM_OK);
                CHECK_EQ(vm_space_map_file(s, 0, P, R, PRIV, anon, 0, &out),
                         VM_EINVAL);
                vm_object_unref(anon);
        }
        CHECK_EQ(vm_space_map_file(s, 0, 4 * P, R, PRIV, f, ~0UL << 12, &out),
                 VM_EINVAL);                    /* offset + len wraps */
        CHECK_EQ(vm_space_map_file(s, 0, 0, R, PRIV, f, 0, &out), VM_EINVAL);
        CHECK(vm_space_check(s));
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

/* Neighbouring mappings of consecutive file pages become one area. */
TEST(file_areas_merge_when_consecutive)
{
        struct vm_object *f, *g;
        struct vm_space *s;
        vaddr_t va = 0x10000000;

        setup(16 * MiB);
        f = make_file(file_a, 6 * P);
        g = make_file(file_b, 6 * P);
        s = new_space();
        map_file_at(s, va, 2 * P, R, PRIV, f, 0);
        map_file_at(s, va + 2 * P, 2 * P, R, PRIV, f, 2 * P);
        CHECK_EQ(s->areas.count, 1);
        map_file_at(s, va + 4 * P, P, R, PRIV, f, 5 * P);       /* a gap */
        CHECK_EQ(s->areas.count, 2);
        map_file_at(s, va + 5 * P, P, R, PRIV, g, 0);           /* other file */
        map_file_at(s, va + 6 * P, P, R, PRIV, f, P);           /* f, back */
        CHECK_EQ(s->areas.count, 4);
        map_file_at(s, va + 16 * P, 2 * P, R, SHARED, f, 0);
        map_file_at(s, va + 18 * P, 2 * P, R, SHARED, f, 2 * P);
        CHECK_EQ(s->areas.count, 5);
        map_at(s, va + 20 * P, P, R, PRIV);     /* anonymous: no merge */
        CHECK_EQ(s->areas.count, 6);
        /* Splitting keeps the file offsets right. */
        CHECK_EQ(vm_space_protect(s, va + P, P, R | X), VM_OK);
        CHECK_EQ(user_read(s, va + P), file_byte(file_a, 1));
        CHECK_EQ(user_read(s, va + 3 * P), file_byte(file_a, 3));
        CHECK_EQ(user_read(s, va + 19 * P), file_byte(file_a, 3));
        destroy(s);
        vm_object_unref(f);
        vm_object_unref(g);
        check_baseline();
}

/* ---- mremap ----------------------------------------------------------------- */

TEST(mremap_grow_in_place_and_shrink)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0;
        paddr_t f0;

        setup(16 * MiB);
        s = new_space();
        map_at(s, va, 4 * P, RW, PRIV);
        for (unsigned i = 0; i < 4; i++)
                user_fill(s, va + i * P, i + 1);
        f0 = frame(s, va);
        CHECK_EQ(vm_space_remap(s, va, 4 * P, 6 * P, 0, 0, &out), VM_OK);
        CHECK_EQ(out, va);
        CHECK_EQ(vm_space_lookup(s, va)->end, va + 6 * P);
        CHECK_EQ(frame(s, va), f0);             /* nothing moved */
        CHECK_EQ(user_read(s, va + 5 * P), 0);  /* new: zeroes */
        CHECK_EQ(user_read(s, va + 3 * P), 4);
        /* Same size: nothing at all, even across areas. */
        CHECK_EQ(vm_space_remap(s, va, 6 * P, 6 * P, 0, 0, &out), VM_OK);
        CHECK_EQ(vm_space_remap(s, va + P, 3 * P - 5, 2 * P + 1, 0, 0, &out),
                 VM_OK);
        CHECK_EQ(out, va + P);
        /* Shrink: the tail goes, pages freed. */
        CHECK_EQ(vm_space_remap(s, va, 6 * P, 2 * P, 0, 0, &out), VM_OK);
        CHECK_EQ(out, va);
        CHECK_EQ(vm_space_lookup(s, va)->end, va + 2 * P);
        CHECK_EQ(vmstat.anon_pages, 2);
        CHECK(!present(s, va + 3 * P));
        /* Grow in place up to a neighbour: merges with it (one whose pages
         * live in another object cannot merge, as in Linux). */
        map_at(s, va + 4 * P, 2 * P, RW, PRIV);
        CHECK_EQ(s->areas.count, 2);
        CHECK_EQ(vm_space_remap(s, va, 2 * P, 4 * P, 0, 0, &out), VM_OK);
        CHECK_EQ(s->areas.count, 1);
        user_fill(s, va + 4 * P, 9);
        CHECK_EQ(user_read(s, va + 4 * P), 9);
        /* No room and no MAYMOVE: ENOMEM, nothing changed. */
        CHECK_EQ(vm_space_remap(s, va, 6 * P, 8 * P, 0, 0, &out), VM_OK);
        map_at(s, va + 8 * P, P, R, PRIV);
        CHECK_EQ(vm_space_remap(s, va, 8 * P, 9 * P, 0, 0, &out), VM_ENOMEM);
        CHECK_EQ(vm_space_remap(s, va, 2 * P, 3 * P, 0, 0, &out), VM_ENOMEM);
        CHECK_EQ(vm_space_lookup(s, va)->end, va + 8 * P);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(mremap_move_keeps_contents_without_copying)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0, to;
        paddr_t fr[4];

        setup(16 * MiB);
        s = new_space();
        activate(s);
        map_at(s, va, 4 * P, RW, PRIV);
        map_at(s, va + 4 * P, P, R, PRIV);      /* blocks growth */
        for (unsigned i = 0; i < 4; i++) {
                user_fill(s, va + i * P, 0x60 + i);
                fr[i] = frame(s, va + i * P);
        }
        CHECK_EQ(vm_space_remap(s, va, 4 * P, 8 * P, MAYMOVE, 0, &out), VM_OK);
        to = out;
        CHECK(to != va);
        CHECK_EQ(to, s->mmap_base - 8 * P);     /* where mmap(NULL) puts it */
        CHECK(!vm_space_lookup(s, va));
        CHECK(!present(s, va));
        CHECK_EQ(vmstat.anon_pages, 4);         /* no page copied */
        for (unsigned i = 0; i < 4; i++) {
                CHECK_EQ(user_read(s, to + i * P), 0x60 + i);
                CHECK_EQ(frame(s, to + i * P), fr[i]);  /* same frames */
        }
        CHECK_EQ(user_read(s, to + 6 * P), 0);
        CHECK_EQ(vmstat.anon_pages, 4);
        user_fill(s, to, 0x70);                 /* writable: not shared */
        CHECK_EQ(frame(s, to), fr[0]);
        CHECK(softmmu_tlb_check());
        /* FIXED: a middle piece moves onto other memory, which goes. */
        map_at(s, va, 4 * P, RW, PRIV);
        user_fill(s, va, 0x11);
        CHECK_EQ(vm_space_remap(s, to + P, 2 * P, 2 * P, RFIXED, va, &out),
                 VM_OK);
        CHECK_EQ(out, va);
        CHECK_EQ(user_read(s, va), 0x61);
        CHECK_EQ(user_read(s, va + P), 0x62);
        CHECK_EQ(user_read(s, va + 2 * P), 0);  /* the rest of the old */
        CHECK(!vm_space_lookup(s, to + P));
        CHECK_EQ(user_read(s, to), 0x70);
        CHECK_EQ(user_read(s, to + 3 * P), 0x63);
        CHECK_EQ(vmstat.anon_pages, 4);         /* 0x11's page freed */
        /* FIXED and shrinking: the rest of the old range is unmapped. */
        CHECK_EQ(vm_space_remap(s, to + 3 * P, 4 * P, P, RFIXED, va + 8 * P,
                                &out), VM_OK);
        CHECK_EQ(user_read(s, va + 8 * P), 0x63);
        CHECK(!vm_space_lookup(s, to + 3 * P) && !vm_space_lookup(s, to + 6 * P));
        CHECK(softmmu_tlb_check());
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(mremap_errors_as_linux)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0;

        setup(16 * MiB);
        s = new_space();
        map_at(s, va, 4 * P, RW, PRIV);
        map_at(s, va + 4 * P, 2 * P, R, PRIV);
        CHECK_EQ(vm_space_remap(s, va, P, 2 * P, 0x4, 0, &out), VM_EINVAL);
        CHECK_EQ(vm_space_remap(s, va + 1, P, 2 * P, 0, 0, &out), VM_EINVAL);
        CHECK_EQ(vm_space_remap(s, va, P, 0, 0, 0, &out), VM_EINVAL);
        CHECK_EQ(vm_space_remap(s, va, P, ~0UL, MAYMOVE, 0, &out), VM_EINVAL);
        CHECK_EQ(vm_space_remap(s, va, P, P, VM_REMAP_FIXED, va + 8 * P, &out),
                 VM_EINVAL);                    /* FIXED without MAYMOVE */
        CHECK_EQ(vm_space_remap(s, va, P, P, RFIXED, va + 8 * P + 1, &out),
                 VM_EINVAL);
        CHECK_EQ(vm_space_remap(s, va, 2 * P, 2 * P, RFIXED, va + P, &out),
                 VM_EINVAL);                    /* overlapping */
        CHECK_EQ(vm_space_remap(s, va + P, 2 * P, 2 * P, RFIXED, va, &out),
                 VM_EINVAL);
        CHECK_EQ(vm_space_remap(s, va, P, 2 * P, RFIXED, USER_MAX - P, &out),
                 VM_EINVAL);                    /* beyond the top */
        CHECK_EQ(vm_space_remap(s, va, P, P, RFIXED, 0, &out), VM_EACCES);
        CHECK_EQ(vm_space_remap(s, va + 16 * P, P, 2 * P, MAYMOVE, 0, &out),
                 VM_EFAULT);                    /* nothing there */
        CHECK_EQ(vm_space_remap(s, va + 2 * P, 4 * P, 8 * P, MAYMOVE, 0, &out),
                 VM_EFAULT);                    /* crosses into the next */
        CHECK_EQ(vm_space_remap(s, va + 2 * P, 4 * P, 4 * P, RFIXED,
                                va + 32 * P, &out), VM_EFAULT);
        CHECK_EQ(vm_space_remap(s, va, 0, 2 * P, MAYMOVE, 0, &out),
                 VM_EINVAL);                    /* duplicate a private one */
        CHECK_EQ(vm_space_remap(s, va, 4 * P, 5 * P, 0, 0, &out), VM_ENOMEM);
        /* A shrink is munmap: any range from old on, holes and all. */
        CHECK_EQ(vm_space_remap(s, va + 2 * P, 8 * P, P, 0, 0, &out), VM_OK);
        CHECK_EQ(s->areas.count, 1);
        CHECK_EQ(vm_space_lookup(s, va)->end, va + 3 * P);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(mremap_shared_and_duplicate)
{
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0, dup;
        paddr_t pa;

        setup(16 * MiB);
        s = new_space();
        map_at(s, va, 4 * P, RW, SHARED);
        map_at(s, va + 4 * P, P, R, PRIV);
        user_fill(s, va + P, 0x21);
        /* Duplicate: old_len 0 maps the same pages again. */
        CHECK_EQ(vm_space_remap(s, va, 0, 4 * P, MAYMOVE, 0, &out), VM_OK);
        dup = out;
        CHECK(dup != va && vm_space_lookup(s, va));
        CHECK_EQ(user_read(s, dup + P), 0x21);
        CHECK_EQ(frame(s, dup + P), frame(s, va + P));
        user_fill(s, dup + 2 * P, 0x22);
        CHECK_EQ(user_read(s, va + 2 * P), 0x22);
        CHECK_EQ(vm_space_remap(s, va + P, 0, P, RFIXED, dup + 16 * P, &out),
                 VM_OK);
        CHECK_EQ(user_read(s, dup + 16 * P), 0x21);
        /* Growing a shared mapping past its object: SIGBUS there. */
        CHECK_EQ(vm_space_remap(s, va, 4 * P, 6 * P, MAYMOVE, 0, &out), VM_OK);
        CHECK_EQ(user_read(s, out + P), 0x21);
        CHECK_EQ(user_access(s, out + 4 * P, R, &pa), FAULT_BUS);
        CHECK_EQ(user_read(s, dup + P), 0x21);  /* still the same object */
        CHECK_EQ(frame(s, dup + P), frame(s, out + P));
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(mremap_file_mappings)
{
        struct vm_object *f;
        struct vm_space *s;
        vaddr_t va = 0x10000000, out = 0;
        paddr_t pa;

        setup(16 * MiB);
        f = make_file(file_a, 5 * P + 10);
        s = new_space();
        map_file_at(s, va, 2 * P, RW, PRIV, f, P);
        user_fill(s, va, 0xdd);                 /* private copy of page 1 */
        CHECK_EQ(user_read(s, va + P), file_byte(file_a, 2));
        /* Grow in place: the file continues. */
        CHECK_EQ(vm_space_remap(s, va, 2 * P, 5 * P, 0, 0, &out), VM_OK);
        CHECK_EQ(user_read(s, va + 4 * P + 9), file_byte(file_a, 5));
        CHECK_EQ(user_read(s, va + 4 * P + 10), 0);
        /* Move: the copy and the file pages come along. */
        CHECK_EQ(vm_space_remap(s, va, 5 * P, 6 * P, RFIXED, va + 32 * P,
                                &out), VM_OK);
        CHECK_EQ(user_read(s, va + 32 * P), 0xdd);
        CHECK_EQ(user_read(s, va + 33 * P), file_byte(file_a, 2));
        CHECK_EQ(user_access(s, va + 37 * P, R, &pa), FAULT_BUS);
        CHECK_EQ(vmstat.anon_pages, 1);
        /* A shared file mapping moves too. */
        map_file_at(s, va, 2 * P, R, SHARED, f, 3 * P);
        CHECK_EQ(vm_space_remap(s, va, 2 * P, 2 * P, RFIXED, va + 64 * P,
                                &out), VM_OK);
        CHECK_EQ(user_read(s, va + 65 * P), file_byte(file_a, 4));
        CHECK(vm_space_check(s));
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

/* Pages taken from the allocator to make it (nearly) empty. */
/* Every allocation of a move may fail: the space stays as it was. */
TEST(mremap_move_out_of_memory)
{
        unsigned failed = 0, moved = 0;

        setup(16 * MiB);
        for (uint64_t leave = 0; leave < 12; leave++) {
                struct vm_space *s = new_space();
                vaddr_t va = 0x10000000, far = 0x4000000000, out = 0, at;
                struct hog h;
                vm_status_t st;

                map_at(s, va, 200 * P, RW, PRIV);
                map_at(s, va + 200 * P, P, R, PRIV);    /* no growth */
                for (unsigned i = 0; i < 200; i += 3)
                        user_fill(s, va + i * P, (uint8_t)(i + 1));
                map_at(s, far, P, R, PRIV);     /* the page tables there */
                CHECK_EQ(user_read(s, far), 0);
                kmalloc_shrink();
                hog_take(&h, leave);
                st = vm_space_remap(s, va, 200 * P, 300 * P, RFIXED, far - P,
                                    &out);
                CHECK(st == VM_OK || st == VM_ENOMEM);
                hog_release(&h);
                failed += st != VM_OK;
                moved += st == VM_OK;
                CHECK(vm_space_check(s));
                at = st == VM_OK ? far - P : va;
                CHECK_EQ(vm_space_lookup(s, at)->end, at + (st == VM_OK ? 300
                                                            : 200) * P);
                for (unsigned i = 0; i < 200; i++)
                        CHECK_EQ(user_read(s, at + i * P),
                                 i % 3 ? 0 : (uint8_t)(i + 1));
                CHECK_EQ(vm_space_lookup(s, far)->prot,
                         st == VM_OK ? RW : R);
                destroy(s);
                check_baseline();
        }
        printf("    %u moves failed cleanly, %u succeeded\n", failed, moved);
        CHECK(failed > 0 && moved > 0);
}

/* ---- madvise ------------------------------------------------------------------- */

TEST(madvise_dontneed)
{
        struct vm_object *f;
        struct vm_space *s, *t;
        vaddr_t va = 0x10000000, vf = 0x20000000, vs = 0x30000000;

        setup(16 * MiB);
        f = make_file(file_b, 3 * P);
        s = new_space();
        /* Private anonymous: freed; the next touch reads zeroes. */
        map_at(s, va, 4 * P, RW, PRIV);
        for (unsigned i = 0; i < 4; i++)
                user_fill(s, va + i * P, 0x40 + i);
        CHECK_EQ(vm_space_advise(s, va + P, 2 * P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(vmstat.anon_pages, 2);
        CHECK(!present(s, va + P));
        CHECK_EQ(user_read(s, va + P), 0);
        CHECK_EQ(user_read(s, va + 3 * P), 0x43);
        CHECK_EQ(s->areas.count, 1);            /* no split */
        /* Private file: back to the file's contents. */
        map_file_at(s, vf, 3 * P, RW, PRIV, f, 0);
        user_fill(s, vf + P, 0x99);
        CHECK_EQ(vm_space_advise(s, vf, 3 * P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(user_read(s, vf + P), file_byte(file_b, 1));
        CHECK_EQ(vmstat.anon_pages, 2);
        /* Shared: only unmapped here; the pages stay for the others. */
        map_at(s, vs, 2 * P, RW, SHARED);
        user_fill(s, vs, 0x55);
        CHECK_EQ(vm_space_fork(s, &t), VM_OK);
        CHECK_EQ(user_read(t, vs), 0x55);
        CHECK_EQ(vm_space_advise(s, vs, 2 * P, VM_MADV_DONTNEED), VM_OK);
        CHECK(!present(s, vs));
        CHECK(present(t, vs));
        CHECK_EQ(user_read(s, vs), 0x55);
        /* FREE: private anonymous only (else EINVAL, nothing done). */
        CHECK_EQ(vm_space_advise(s, vs, P, VM_MADV_FREE), VM_EINVAL);
        CHECK_EQ(vm_space_advise(s, vf, P, VM_MADV_FREE), VM_EINVAL);
        CHECK_EQ(vm_space_advise(s, va + 3 * P, P, VM_MADV_FREE), VM_OK);
        CHECK_EQ(user_read(s, va + 3 * P), 0x43);       /* lazy: kept */
        CHECK_EQ(vm_space_advise(s, va + 3 * P, P, VM_MADV_DONTNEED), VM_OK);
        /* After fork a DONTNEED drops only this space's references. */
        user_fill(s, va, 0x4a);
        destroy(t);
        CHECK_EQ(vm_space_fork(s, &t), VM_OK);
        CHECK_EQ(vm_space_advise(t, va, P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(user_read(t, va), 0);
        CHECK_EQ(user_read(s, va), 0x4a);
        /* Holes: the mapped parts get it, the result is ENOMEM. */
        user_fill(s, va, 0x4b);
        CHECK_EQ(vm_space_advise(s, va - 2 * P, 4 * P, VM_MADV_DONTNEED),
                 VM_ENOMEM);
        CHECK_EQ(user_read(s, va), 0);
        CHECK(vm_space_check(s) && vm_space_check(t));
        destroy(t);
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

TEST(madvise_hints_and_errors)
{
        struct vm_object *f;
        struct vm_space *s;
        vaddr_t va = 0x10000000, vf = 0x20000000;

        setup(16 * MiB);
        f = make_file(file_a, 4 * P);
        s = new_space();
        map_at(s, va, 6 * P, RW, PRIV);
        CHECK_EQ(vm_space_advise(s, va + 2 * P, 2 * P, VM_MADV_RANDOM), VM_OK);
        CHECK_EQ(s->areas.count, 3);            /* split as Linux */
        CHECK(vm_space_lookup(s, va + 2 * P)->flags & VM_AREA_RANDOM);
        CHECK_EQ(vm_space_advise(s, va + 3 * P, P, VM_MADV_SEQUENTIAL), VM_OK);
        CHECK_EQ(s->areas.count, 4);
        CHECK(vm_space_lookup(s, va + 3 * P)->flags & VM_AREA_SEQUENTIAL);
        CHECK(!(vm_space_lookup(s, va + 3 * P)->flags & VM_AREA_RANDOM));
        CHECK_EQ(vm_space_advise(s, va, 6 * P, VM_MADV_NORMAL), VM_OK);
        CHECK_EQ(s->areas.count, 1);            /* merged back */
        /* WILLNEED reads a file in, maps nothing; anonymous: nothing. */
        map_file_at(s, vf, 6 * P, R, PRIV, f, 0);
        CHECK_EQ(vm_space_advise(s, vf, 6 * P, VM_MADV_WILLNEED), VM_OK);
        CHECK_EQ(vmstat.file_pages, 4);
        CHECK(!present(s, vf));
        CHECK_EQ(vm_space_advise(s, va, 6 * P, VM_MADV_WILLNEED), VM_OK);
        CHECK_EQ(vmstat.anon_pages, 0);
        /* Errors, in Linux's order. */
        CHECK_EQ(vm_space_advise(s, va, P, 5), VM_EINVAL);      /* unknown */
        CHECK_EQ(vm_space_advise(s, va, P, -1), VM_EINVAL);
        CHECK_EQ(vm_space_advise(s, va, P, 100), VM_EINVAL);
        CHECK(!vm_advice_supported(12));        /* MADV_MERGEABLE: no KSM */
        CHECK(vm_advice_supported(VM_MADV_DONTFORK));
        CHECK(vm_advice_supported(VM_MADV_DONTNEED));
        CHECK_EQ(vm_space_advise(s, va + 1, P, VM_MADV_DONTNEED), VM_EINVAL);
        CHECK_EQ(vm_space_advise(s, va, ~0UL, VM_MADV_DONTNEED), VM_EINVAL);
        CHECK_EQ(vm_space_advise(s, va, 0, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(vm_space_advise(s, 0x50000000, P, VM_MADV_DONTNEED),
                 VM_ENOMEM);                    /* nothing mapped */
        CHECK_EQ(vm_space_advise(s, va - P, 2 * P, VM_MADV_RANDOM), VM_ENOMEM);
        CHECK(vm_space_lookup(s, va)->flags & VM_AREA_RANDOM);  /* applied */
        CHECK(vm_space_check(s));
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

/* ---- /proc/PID/maps ----------------------------------------------------------- */

struct listing {
        struct vm_area_info info[16];
        unsigned            n;
};

static bool list_one(void *arg, const struct vm_area_info *info)
{
        struct listing *l = arg;

        CHECK(l->n < ARRAY_SIZE(l->info));
        l->info[l->n++] = *info;
        return true;
}

static bool stop_after_one(void *arg, const struct vm_area_info *info)
{
        (*(unsigned *)arg)++;
        return false;
}

TEST(areas_listed_for_proc_maps)
{
        struct vm_object *f;
        struct vm_space *s;
        struct listing l = { .n = 0 };
        vaddr_t got = 0, out = 0;

        setup(16 * MiB);
        f = make_file(file_a, 3 * P);
        CHECK_EQ(vm_object_set_name(f, "/bin/prog"), VM_OK);
        s = new_space();
        map_file_at(s, 0x400000, P, R | X, PRIV, f, 0);
        map_file_at(s, 0x401000, P, RW, PRIV, f, 2 * P);
        CHECK_EQ(vm_space_brk_init(s, 0x403000), VM_OK);
        CHECK_EQ(vm_space_brk(s, 0x403000 + 2 * P, &got), VM_OK);
        CHECK_EQ(vm_space_map(s, 0, P, RW, SHARED, &out), VM_OK);
        CHECK_EQ(vm_space_stack_init(s, USER_MAX, 4 * P), VM_OK);
        CHECK(vm_space_for_each_area(s, list_one, &l));
        CHECK_EQ(l.n, 5);
        CHECK(l.info[0].is_file && l.info[0].object == f);
        CHECK_EQ(l.info[0].offset, 0);
        CHECK_EQ(l.info[0].prot, R | X);
        CHECK(!l.info[0].shared);
        CHECK(strcmp(l.info[0].name, "/bin/prog") == 0);
        CHECK_EQ(l.info[0].object_id, f->id);
        CHECK_EQ(l.info[1].offset, 2 * P);
        CHECK(!l.info[1].is_heap);
        CHECK(l.info[2].is_heap && !l.info[2].object && !l.info[2].is_stack);
        CHECK_EQ(l.info[2].start, 0x403000);
        CHECK(l.info[3].shared && !l.info[3].is_file && l.info[3].object);
        CHECK(l.info[3].name == NULL);
        CHECK(l.info[4].is_stack && l.info[4].end == USER_MAX);
        CHECK(l.info[4].flags & VM_AREA_GROWSDOWN);
        /* fn returning false stops the walk. */
        {
                unsigned calls = 0;

                CHECK(!vm_space_for_each_area(s, stop_after_one, &calls));
                CHECK_EQ(calls, 1);
        }
        destroy(s);
        vm_object_unref(f);
        check_baseline();
}

/* ---- the random remap model ------------------------------------------------------ */

#define WIN     40

struct rctx {
        struct vm_model   m;            /* one space: the model's space 0 */
        struct vm_space  *s;
        struct vm_object *file[2];
        uint64_t          ok[8];
};

static struct rctx *rc;                 /* for the model's file callbacks */

static uint64_t r_file_pages(int f)
{
        return rc->file[f]->size;
}

static bool r_file_page_ok(int f, uint64_t idx, paddr_t pa)
{
        return file_page_is(pa, rc->file[f], idx);
}

static struct vmm_page *r_at(struct rctx *c, vaddr_t va)
{
        return vmm_at(&c->m, 0, va);
}

static vm_prot_t r_prot(struct rctx *c)
{
        static const vm_prot_t prots[] = { R, RW, RW, RW, 0, R | X };

        return vmm_pick_prot(&c->m, prots, ARRAY_SIZE(prots));
}

static void op_map(struct rctx *c)
{
        unsigned first, n, what = rng_below(&c->m.r, 4);
        vm_prot_t prot = r_prot(c);
        vaddr_t va;
        int fi = rng_below(&c->m.r, 2);
        uint64_t fpg = rng_below(&c->m.r, 5);

        vmm_range(&c->m, 6, &first, &n);
        va = vmm_va(&c->m, first);
        if (what == 1 && c->m.nobj >= VMM_OBJS)
                what = 0;
        if (what == 3)
                prot &= ~W;                     /* shared file: read-only */
        switch (what) {
        case 0:
                map_at(c->s, va, n * P, prot, PRIV);
                vmm_map(&c->m, 0, va, n, VMM_ANON, prot, -1, 0);
                break;
        case 1:
                map_at(c->s, va, n * P, prot, SHARED);
                vmm_map(&c->m, 0, va, n, VMM_SHARED, prot,
                        vmm_new_object(&c->m, n), 0);
                break;
        case 2:
                map_file_at(c->s, va, n * P, prot, PRIV, c->file[fi], fpg * P);
                vmm_map(&c->m, 0, va, n, VMM_FILE, prot, fi, fpg);
                break;
        case 3:
                map_file_at(c->s, va, n * P, prot, SHARED, c->file[fi], fpg * P);
                vmm_map(&c->m, 0, va, n, VMM_FILE_SHARED, prot, fi, fpg);
                break;
        }
        c->ok[0]++;
}

static void op_unmap(struct rctx *c)
{
        unsigned first, n;

        vmm_range(&c->m, 6, &first, &n);
        CHECK_EQ(vm_space_unmap(c->s, vmm_va(&c->m, first), n * P), VM_OK);
        vmm_unmap(&c->m, 0, vmm_va(&c->m, first), n);
        c->ok[1]++;
}

static void op_protect(struct rctx *c)
{
        unsigned first, n;
        vm_prot_t prot = r_prot(c);
        vm_status_t want;

        vmm_range(&c->m, 6, &first, &n);
        want = vmm_protect(&c->m, 0, first, n, prot);
        CHECK_EQ(vm_space_protect(c->s, vmm_va(&c->m, first), n * P, prot), want);
        c->ok[2]++;
}

/* The page at offset k of a mapping continuing page p's source. */
static struct vmm_page r_continue(const struct vmm_page *p, uint64_t k)
{
        struct vmm_page n = *p;

        n.idx = p->idx + k;
        n.own = false;
        n.byte = 0;
        return n;
}

/* The model's mremap; returns the expected status and sets *to. */
static vm_status_t r_remap_model(struct rctx *c, vaddr_t old, uint64_t n,
                                 uint64_t m, unsigned flags, vaddr_t new_addr,
                                 vaddr_t *to)
{
        const struct vm_area *a = vm_space_lookup(c->s, old);
        struct vmm_page src[WIN + 8], first;
        uint64_t tail = 0, area_left;
        bool shared, fixed = flags & VM_REMAP_FIXED;

        if (!a)
                return VM_EFAULT;
        first = *r_at(c, old);
        shared = first.kind == VMM_SHARED || first.kind == VMM_FILE_SHARED;
        area_left = (a->end - old) >> PAGE_SHIFT;
        if (fixed) {
                if (old + n * P > new_addr && new_addr + m * P > old)
                        return VM_EINVAL;
                if (n == 0 && old >= new_addr && old < new_addr + m * P)
                        return VM_EFAULT;       /* Linux unmaps old first */
                if (n > m) {
                        tail = n - m;
                        n = m;
                }
        } else if (m == n) {
                *to = old;
                return VM_OK;
        } else if (m < n) {
                vmm_unmap(&c->m, 0, old + m * P, n - m);
                *to = old;
                return VM_OK;
        }
        if (n == 0 && !shared)
                return VM_EINVAL;
        if (n > area_left)
                return VM_EFAULT;
        if (!fixed && n == area_left && vmm_free(&c->m, 0, a->end, m - n)) {
                for (uint64_t k = n; k < m; k++)
                        *r_at(c, old + k * P) = r_continue(&first, k);
                *to = old;
                return VM_OK;
        }
        if (!fixed && !(flags & MAYMOVE))
                return VM_ENOMEM;
        for (uint64_t k = 0; k < m; k++)
                src[k] = k < n ? *r_at(c, old + k * P)
                               : r_continue(&first, k);
        *to = fixed ? new_addr : vmm_place(&c->m, 0, c->s->mmap_base, m);
        vmm_unmap(&c->m, 0, old + n * P, tail);
        vmm_unmap(&c->m, 0, old, n);
        for (uint64_t k = 0; k < m; k++)
                *r_at(c, *to + k * P) = src[k];
        return VM_OK;
}

static void op_remap(struct rctx *c)
{
        static const unsigned flag_set[] = { 0, MAYMOVE, MAYMOVE, RFIXED,
                                             RFIXED };
        unsigned i = rng_below(&c->m.r, WIN);
        uint64_t n = rng_below(&c->m.r, 7), m = 1 + rng_below(&c->m.r, 7);
        unsigned flags = flag_set[rng_below(&c->m.r, ARRAY_SIZE(flag_set))];
        vaddr_t new_addr = vmm_va(&c->m, rng_below(&c->m.r, WIN - m + 1));
        vaddr_t old = vmm_va(&c->m, i), to = 0, out = 0;
        vm_status_t want;

        if (n > WIN - i)
                n = WIN - i;
        want = r_remap_model(c, old, n, m, flags, new_addr, &to);
        CHECK_EQ(vm_space_remap(c->s, old, n * P, m * P, flags, new_addr, &out),
                 want);
        if (want != VM_OK)
                return;
        CHECK_EQ(out, to);
        CHECK(vm_space_check(c->s));
        /* Keep the outside of the window free (a growth in place may
         * cross its top, a move land below it). */
        CHECK_EQ(vm_space_unmap(c->s, vmm_va(&c->m, WIN), 8 * P), VM_OK);
        if (out < c->m.base)
                CHECK_EQ(vm_space_unmap(c->s, out,
                                        MIN(m * P, c->m.base - out)), VM_OK);
        c->ok[3]++;
}

static void op_dontneed(struct rctx *c)
{
        unsigned first, n;
        vm_status_t want;

        vmm_range(&c->m, 6, &first, &n);
        want = vmm_dontneed(&c->m, 0, first, n);
        CHECK_EQ(vm_space_advise(c->s, vmm_va(&c->m, first), n * P,
                                 VM_MADV_DONTNEED), want);
        c->ok[4]++;
}

static void op_fault(struct rctx *c)
{
        static const vm_prot_t acc[] = { R, R, W, W, X };
        vm_prot_t access = acc[rng_below(&c->m.r, ARRAY_SIZE(acc))];
        unsigned i = rng_below(&c->m.r, WIN);
        enum fault_result want = vmm_access(&c->m, 0, i, access);
        paddr_t pa = 0;

        CHECK_EQ(user_access(c->s, vmm_va(&c->m, i), access, &pa), want);
        if (want != FAULT_RESOLVED)
                return;
        CHECK(vmm_content_ok(&c->m, 0, i, pa));
        if (access == W) {
                uint8_t b = 1 + rng_below(&c->m.r, 255);

                memset(phys_to_virt(page_trunc(pa)), b, P);
                vmm_wrote(&c->m, 0, i, b);
        }
        c->ok[5]++;
}

static void r_check(struct rctx *c)
{
        vmm_check(&c->m, 0, c->s);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(vmstat.file_pages, c->file[0]->npages + c->file[1]->npages);
}

static void run_remap(uint64_t seed, unsigned steps)
{
        static struct rctx ctx;
        struct rctx *c = &ctx;
        void (*const ops[])(struct rctx *) = {
                op_map, op_map, op_unmap, op_protect, op_remap, op_remap,
                op_remap, op_dontneed, op_fault, op_fault, op_fault, op_fault,
        };

        memset(c, 0, sizeof *c);
        rc = c;
        setup(32 * MiB);
        c->file[0] = make_file(file_a, 5 * P + 123);
        c->file[1] = make_file(file_b, 3 * P);
        c->s = new_space();
        activate(c->s);
        vmm_init(&c->m, seed, WIN, c->s->mmap_base - WIN * P);
        c->m.file_pages = r_file_pages;
        c->m.file_page_ok = r_file_page_ok;
        for (unsigned step = 0; step < steps; step++) {
                ops[rng_below(&c->m.r, ARRAY_SIZE(ops))](c);
                r_check(c);
        }
        printf("    %u steps: %lu maps, %lu unmaps, %lu protects, %lu remaps, "
               "%lu dontneeds, %lu faults resolved; %lu areas\n", steps,
               c->ok[0], c->ok[1], c->ok[2], c->ok[3], c->ok[4], c->ok[5],
               (unsigned long)c->s->areas.count);
        for (unsigned k = 0; k < 6; k++)
                CHECK(c->ok[k] > steps / 100);
        destroy(c->s);
        vm_object_unref(c->file[0]);
        vm_object_unref(c->file[1]);
        check_baseline();
}

TEST(random_remap_seed1)
{
        run_remap(0xabcdef, 5000);
}

TEST(random_remap_seed2)
{
        run_remap(0x1badb002, 5000);
}

TEST(random_remap_seed3)
{
        run_remap(0x31337, 5000);
}
