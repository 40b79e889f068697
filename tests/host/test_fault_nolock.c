/*
 * test_fault_nolock.c - the fault path's lock-free part (vm_fault.c:
 * vm_fault_nolock) and the door it steps through (vm_space.c:
 * vm_space_enter), with host threads as CPUs (machine/intr.h: host_cpu).
 *
 * Three threads fault pages of one space in without the big lock, as
 * the trap code does (writes and reads), while the main thread plays
 * the big lock's holder: it enters the space, changes it (munmap, mmap
 * MAP_FIXED over a chunk, MADV_DONTNEED, mprotect, a fork whose child
 * lives until the next such step, leaving every page read-only and
 * shared, so that writes copy; and one small area mapped anew, so that
 * first writes race to attach its object), runs the space's checker (every
 * translation matches its area and object: invariant 4; every 64th step
 * the reverse map's too) and leaves, over and over. A fault let in while the space is entered
 * shows as a checker failure, a page counted twice or lost (the
 * baseline at the end), or, under ASan, a read of a freed area or node.
 *
 *   door_*: the handshake itself (entries nest; enter_all shuts every
 *     space; a fault steps in only when nobody has entered; the writer
 *     without the lock gets in only alone, and keeps faults out).
 *   writer_changes_whole_areas_only: vm_space_protect_nolock rewrites
 *     whole areas' protection and translations, and declines (nothing
 *     changed) a split, a merge, a commit charge to move, a hole, a bad
 *     argument, an entered space.
 *   writer_unmaps_whole_private_areas: vm_space_unmap_nolock takes
 *     whole private areas out of the tree and their translations,
 *     parking their pages for the lock's holder (vm_space_parked_free),
 *     and declines a split, a shared area, a guard run, a bad argument,
 *     an entered space.
 *   writer_maps_private_areas: vm_space_map_nolock places a private
 *     anonymous area as the lock's path would and merges it with a
 *     neighbour, and declines a merge of two objects' areas, shared,
 *     fixed or populated memory, a bad length, MCL_FUTURE, commit mode
 *     2 for charged memory, an entered space.
 *   writer_beside_faults_and_entries: the storm below with a writer
 *     thread flipping four areas' protection, unmapping them and mapping
 *     them back without the lock as the faulters fault there and the
 *     lock's holder enters to map what is still missing, change the
 *     space (splitting a flip area now and then) and check it.
 *   faults_beside_changes: the storm above; every step's check passes
 *     and everything comes back (x86-64's and riscv64's table formats;
 *     with the door ignoring entries it failed 6 of 6 runs).
 *   what_it_serves: first writes (the area's first too, attaching its
 *     object), reads of nothing (the zero page, before the area has an
 *     object and after), writes over the zero page (with the round to
 *     another CPU that has the space loaded); not shared memory's reads
 *     of nothing, or an entered space.
 *   first_writes_attach: the area's first write attaches a new object
 *     (after a read mapped the zero page too), unless a touching
 *     neighbour's could be borrowed (the lock's path borrows it).
 *   new_objects_are_as_tall_as_their_areas: an area's new object's
 *     radix tree starts as tall as the area needs (one level for 8 pages,
 *     two for 100); a write past it declines lock-free and the lock's
 *     path raises the tree, the pages there keeping their places.
 *   first_writes_race_to_attach: threads let go together write the
 *     pages of a fresh area: one object wins, every page is in it, the
 *     losers' objects are freed (rounds until a race was lost).
 *   copies_after_a_fork: writes to pages a live child shares copy them
 *     (over the parent's read-only translation, and where the child has
 *     none), the old page's reference let go at the next entry;
 *   after_a_fork: the child's reads of the pages it shares (read-only,
 *     with their neighbours);
 *     the parent's writes to pages the fork left read-only once the
 *     child has gone (with reuse-around's window), not before.
 *   file_reads: reads and instruction fetches of a file's cached pages
 *     (read-only in a private area, as the area allows in a shared one,
 *     with their window); not pages to read in, or writes; in a private
 *     area with pages of its own, the file's page and window where the
 *     area's object has nothing, its own page where it has one.
 *   a_bss_beside_its_data_attaches_its_own: anonymous memory touching a
 *     private file area attaches its own object lock-free (it borrowed
 *     the file area's under the lock); two mappings of one file that
 *     follow on still lend theirs.
 *   shared_first_writes: first writes to shared memory from two spaces
 *     make one page, which the big lock's holder then finds.
 *   private_copies: writes to a private mapping of a cached file copy
 *     the file's page into the area's own object, where no translation
 *     was and in place of the file page's read-only one (with the
 *     round of one address to another CPU that has the space loaded).
 *   file_faults_beside_changes: the storm again over a file that two
 *     spaces map (shared in one, written and read there; private in the
 *     other, read and fetched), the lock's holder truncating, growing,
 *     punching holes, filling pages in and mapping anew; a page that left the file must have no translation
 *     left (with the second unmap of vm_object.c:doors_shut_for left
 *     out, it failed 3 of 3 runs).
 */
#define _GNU_SOURCE     /* pthread barriers, sched_getaffinity */
#include "check.h"
#include "vm_fixture.h"

#include <arch/host/softmmu.h>

#include <mercator/types.h>
#include <machine/intr.h>
#include <machine/vmparam.h>
#include <vm/memcg.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#define FAULTERS        3
#define WINDOW          256             /* pages */
#define CHUNK           8
#define STEPS           10000

static struct vm_space *space;
static vaddr_t base;

TEST(door_entries_nest_and_shut)
{
        setup(4 * MiB);
        struct vm_space *s = new_space();

        CHECK(!vm_space_entered(s));
        vm_space_enter(s);
        vm_space_enter(s);
        CHECK(vm_space_entered(s));
        vm_space_leave(s);
        CHECK(vm_space_entered(s));
        vm_space_leave(s);
        CHECK(!vm_space_entered(s));
        destroy(s);
        check_baseline();
}

/* The writer without the lock: in alone (no entry, no other writer, no
 * door shut for all), not an entry itself, and it keeps faults out. */
TEST(door_writer_alone)
{
        setup(4 * MiB);
        struct vm_space *s = new_space();
        vaddr_t a = map_at(s, 0x400000, 4 * P, RW, PRIV);

        user_fill(s, a, 1);
        CHECK(vm_space_write_enter(s));
        CHECK(!vm_space_entered(s));
        CHECK(!vm_space_write_enter(s));        /* a second writer waits,
                                                 * then declines */
        CHECK(!vm_fault_nolock(s, a + P, W));   /* faults stay out */
        vm_space_write_leave(s);
        CHECK(vm_fault_nolock(s, a + P, W));
        vm_space_enter(s);
        CHECK(!vm_space_write_enter(s));        /* an entry: declines */
        vm_space_leave(s);
        vm_space_enter_all();
        CHECK(!vm_space_write_enter(s));        /* every door shut */
        vm_space_leave_all();
        CHECK(vm_space_write_enter(s));
        vm_space_write_leave(s);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(what_it_serves)
{
        setup(8 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, 32 * P, RW, PRIV);
        vaddr_t sh = map_at(space, 0x800000, 4 * P, RW, SHARED);

        /* No object yet: a read maps the zero page, read-only (its table
         * made under the pmap's lock, pmap_make_table); the area's first
         * write attaches the object (since session 25 without the lock:
         * nolock_attach). */
        CHECK(vm_fault_nolock(space, base + 4 * P, R));
        CHECK(present(space, base + 4 * P) &&
              vm_is_zero_pa(frame(space, base + 4 * P)) &&
              can(space, base + 4 * P, R) && !can(space, base + 4 * P, W));
        uint64_t attaches = vm_events.pgfault_nolock_attach;
        CHECK(vm_fault_nolock(space, base, W));
        struct vm_object *obj = vm_area_find(&space->areas, base)->object;
        CHECK(obj && obj->space == space && obj->family &&
              vm_object_lookup(obj, 0x400) != NULL &&
              can(space, base, W) && page_is(frame(space, base), 0));
        CHECK_EQ(vm_events.pgfault_nolock_attach, attaches + 1);
        user_fill(space, base, 7);
        /* With an object (since session 24): a read of nothing maps the
         * zero page too, and a write over the zero page puts its own page
         * in its place (alone: no remote round); a read then finds the
         * page. */
        uint64_t rounds = softmmu_stats.remote_rounds;
        CHECK(vm_fault_nolock(space, base + P, R));
        CHECK(vm_is_zero_pa(frame(space, base + P)) &&
              !can(space, base + P, W));
        CHECK(vm_fault_nolock(space, base + 4 * P, W));
        CHECK(!vm_is_zero_pa(frame(space, base + 4 * P)) &&
              can(space, base + 4 * P, W) &&
              page_is(frame(space, base + 4 * P), 0) &&
              vm_object_lookup(vm_area_find(&space->areas, base)->object,
                               0x404) != NULL);
        CHECK_EQ(softmmu_stats.remote_rounds, rounds);
#ifndef ARCH_I386_LAYOUT_H
        /* Another CPU has the space loaded: the zero page's replacement
         * sends it the round of that address. (i386 runs one CPU.) */
        softmmu_cpu = 1;
        activate(space);
        softmmu_cpu = 0;
        CHECK(vm_fault_nolock(space, base + P, W));
        CHECK_EQ(softmmu_stats.remote_rounds, rounds + 1);
        CHECK(softmmu_last_remote.cpus == 2 &&
              softmmu_last_remote.va0 == base + P);
        softmmu_cpu = 1;
        activate(NULL);
        softmmu_cpu = 0;
#else
        CHECK(vm_fault_nolock(space, base + P, W));
#endif
        CHECK(can(space, base + P, W) && !vm_is_zero_pa(frame(space, base + P)) &&
              page_is(frame(space, base + P), 0));
        /* Mapped writable (another thread was first): done, as it is,
         * but for a fence of this CPU's TLB on an MMU that caches
         * absence. */
        paddr_t first = frame(space, base);
        uint64_t faults = space->stats.faults;
        CHECK(vm_fault_nolock(space, base, W));
        CHECK(vm_fault_nolock(space, base, R));
        CHECK(frame(space, base) == first && page_is(first, 7) &&
              space->stats.faults == faults);
        /* Shared memory: a first write makes the page (under the
         * object's lock); a read of nothing is the lock's (it inserts
         * nothing: the zero page is private memory's). */
        CHECK(!vm_fault_nolock(space, sh, R));
        CHECK(vm_fault_nolock(space, sh, W));
        CHECK(can(space, sh, W) && page_is(frame(space, sh), 0));
        CHECK(vm_fault_nolock(space, base + 2 * P, W));
        CHECK(present(space, base + 2 * P) &&
              page_is(frame(space, base + 2 * P), 0));
        /* An entered space, or every door shut: declined. */
        vm_space_enter(space);
        CHECK(!vm_fault_nolock(space, base + 3 * P, W));
        vm_space_leave(space);
        vm_space_enter_all();
        CHECK(!vm_fault_nolock(space, base + 3 * P, W));
        vm_space_leave_all();
        CHECK(vm_space_check(space));
        destroy(space);
        check_baseline();
}

TEST(first_writes_attach)
{
        setup(8 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, 8 * P, RW, PRIV);
        uint64_t attaches = vm_events.pgfault_nolock_attach;

        /* A read, then the area's first write over the zero page: the
         * write attaches the object and its page replaces the zero
         * page. */
        CHECK(vm_fault_nolock(space, base + 2 * P, R));
        CHECK(vm_is_zero_pa(frame(space, base + 2 * P)));
        CHECK(vm_fault_nolock(space, base + 2 * P, W));
        struct vm_area *a = vm_area_find(&space->areas, base);
        CHECK(a->object && a->object->refcount == 1 &&
              !vm_is_zero_pa(frame(space, base + 2 * P)) &&
              can(space, base + 2 * P, W) &&
              vm_object_lookup(a->object, 0x402) != NULL);
        CHECK_EQ(vm_events.pgfault_nolock_attach, attaches + 1);
        /* A touching area that cannot merge with it (another protection,
         * the same flags) would borrow its object: that is the lock's
         * path (fault_attach_object), which the two areas need to merge
         * again later. */
        vaddr_t next = map_at(space, base + 8 * P, 8 * P, RW | X, PRIV);
        struct vm_area *b = vm_area_find(&space->areas, next);
        CHECK(b != a && !b->object);
        CHECK(!vm_fault_nolock(space, next, W));
        CHECK(!b->object);
        user_fill(space, next, 3);
        CHECK(b->object == a->object && a->object->refcount == 2);
        /* A neighbour with no object lends none: the write attaches. */
        vaddr_t far = map_at(space, 0x600000, 4 * P, RW, PRIV);
        map_at(space, far + 4 * P, 4 * P, RW | X, PRIV);
        CHECK(vm_fault_nolock(space, far + 3 * P, W));
        struct vm_area *c = vm_area_find(&space->areas, far);
        CHECK(c->object && c->object != a->object &&
              !vm_area_find(&space->areas, far + 4 * P)->object);
        CHECK_EQ(vm_events.pgfault_nolock_attach, attaches + 2);
        /* Not in an entered space, nor in an area the lock's path must
         * serve (a droppable one: its object is marked so). */
        vaddr_t d = map_at(space, 0x800000, 4 * P, RW, PRIV);
        vaddr_t drop = map_at(space, 0xa00000, 4 * P, RW,
                              PRIV | VM_MAP_DROPPABLE);
        vm_space_enter(space);
        CHECK(!vm_fault_nolock(space, d, W));
        vm_space_leave(space);
        CHECK(!vm_fault_nolock(space, drop, W));
        CHECK(!vm_area_find(&space->areas, d)->object &&
              !vm_area_find(&space->areas, drop)->object);
        CHECK_EQ(vm_events.pgfault_nolock_attach, attaches + 2);
        CHECK(vm_space_check(space));
        CHECK(rmap_check());
        destroy(space);
        check_baseline();
}

/* The radix levels obj's tree has and the indices it covers. */
static unsigned tree_of(const struct vm_object *obj, uint64_t *first,
                        uint64_t *end)
{
        vm_object_covered(obj, first, end);
        return obj->height;
}

/* An area's new object starts with a tree as tall as the area needs (one
 * node for a small area's first page, where an address space's page
 * numbers need six); a write beyond it is the big lock's, which raises
 * the tree, the pages already there staying where they were. */
TEST(new_objects_are_as_tall_as_their_areas)
{
        uint64_t first, end;

        setup(8 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, 8 * P, RW, PRIV);  /* pages 0x400.. */
        CHECK(vm_fault_nolock(space, base + 3 * P, W));
        struct vm_object *obj = vm_area_find(&space->areas, base)->object;
        CHECK(obj && tree_of(obj, &first, &end) == 1);
        CHECK(first == 0x400 && end == 0x440);
        /* 100 pages from page 0x1000: two levels (one 4096-page block). */
        vaddr_t mid = map_at(space, 0x1000000, 100 * P, RW, PRIV);
        CHECK(vm_fault_nolock(space, mid + 99 * P, W));
        CHECK(tree_of(vm_area_find(&space->areas, mid)->object, &first,
                      &end) == 2 && first == 0x1000 && end == 0x2000);
        /* 64 pages across a 64-page boundary: two as well. */
        vaddr_t odd = map_at(space, 0x2020000, 64 * P, RW, PRIV);
        CHECK(vm_fault_nolock(space, odd, W));
        CHECK(tree_of(vm_area_find(&space->areas, odd)->object, &first,
                      &end) == 2 && first == 0x2000);
        /* The first area grown in place to 128 pages: its object covers
         * 64. A write past them declines lock-free (the tree is raised
         * only with the door shut); the lock's path raises it. */
        user_fill(space, base + 7 * P, 9);
        vaddr_t at;
        CHECK_EQ(vm_space_remap(space, base, 8 * P, 128 * P, 0, 0, &at),
                 VM_OK);
        CHECK(at == base && vm_area_find(&space->areas, base)->object == obj);
        CHECK(!vm_fault_nolock(space, base + 100 * P, W));
        CHECK(obj->height == 1 && vm_object_lookup(obj, 0x464) == NULL);
        vm_space_enter(space);                  /* as the kernel's path */
        user_fill(space, base + 100 * P, 5);
        vm_space_leave(space);
        CHECK(tree_of(obj, &first, &end) == 2 && first == 0 && end == 0x1000);
        CHECK(vm_fault_nolock(space, base + 101 * P, W));
        CHECK(user_read(space, base + 7 * P) == 9 &&
              user_read(space, base + 100 * P) == 5 &&
              page_is(frame(space, base + 101 * P), 0));
        CHECK(vm_space_check(space));
        CHECK(rmap_check());
        destroy(space);
        check_baseline();
}

/* A space with 32 pages of private memory at base, the first eight
 * written (page i with byte i + 1), for a fork. */
static void eight_pages(void)
{
        setup(8 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, 32 * P, RW, PRIV);
        for (unsigned i = 0; i < 8; i++)
                user_fill(space, base + i * P, (uint8_t)(i + 1));
}

/* After a fork. The child's tables start empty: a read maps the page it
 * shares read-only (a write copies it: copies_after_a_fork). The
 * parent's write to a page the fork left read-only, once the child has
 * gone: made writable in place, with the pages of its 16-page window
 * that are the object's alone; the zero page's replaced by a first write (since session 24). */
TEST(after_a_fork)
{
        eight_pages();
        CHECK(user_read(space, base + 9 * P) == 0);     /* the zero page */
        struct vm_space *child = NULL;

        CHECK_EQ(vm_space_fork(space, &child), VM_OK);
        CHECK(!can(space, base, W));
        CHECK(!present(child, base + 3 * P));
        CHECK(vm_fault_nolock(child, base + 3 * P, R));
        CHECK(frame(child, base + 3 * P) == frame(space, base + 3 * P) &&
              can(child, base + 3 * P, R) && !can(child, base + 3 * P, W));
        /* Its neighbours with it (fault-around), read-only too. */
        CHECK(frame(child, base + 7 * P) == frame(space, base + 7 * P) &&
              !can(child, base + 7 * P, W) && !present(child, base + 8 * P));
        CHECK(vm_space_check(child));
        destroy(child);
        paddr_t f0 = frame(space, base);
        uint64_t reuses = space->stats.cow_reuses;
        uint64_t around = space->stats.cow_reuses_around;

        CHECK(vm_fault_nolock(space, base, W));
        CHECK(frame(space, base) == f0 && can(space, base, W) &&
              page_is(f0, 1));
        CHECK(space->stats.cow_reuses == reuses + 1 &&
              space->stats.cow_reuses_around == around + 7);
        for (unsigned i = 1; i < 8; i++)
                CHECK(can(space, base + i * P, W) &&
                      page_is(frame(space, base + i * P), (uint8_t)(i + 1)));
        /* Page 9 was read before the fork (the zero page): its first
         * write takes the zero page's place. */
        CHECK(!can(space, base + 9 * P, W));
        CHECK(vm_is_zero_pa(frame(space, base + 9 * P)));
        CHECK(vm_fault_nolock(space, base + 9 * P, W));
        CHECK(can(space, base + 9 * P, W) &&
              !vm_is_zero_pa(frame(space, base + 9 * P)));
        CHECK(vm_space_check(space));
        destroy(space);
        check_baseline();
}

/* Writes to pages a live child shares: copies, made without the lock
 * where the parent's translation is read-only and where the child has
 * none; the shared page's reference let go when the space is next
 * entered; over a translation while another CPU has the space loaded,
 * with the round that CPU must answer. */
TEST(copies_after_a_fork)
{
        eight_pages();
        struct vm_space *child = NULL;
        struct vm_object *own = vm_area_find(&space->areas, base)->object;
        uint64_t copies = vm_events.pgfault_nolock_copy;

        CHECK_EQ(vm_space_fork(space, &child), VM_OK);
        struct vm_object *cown = vm_area_find(&child->areas, base)->object;
        paddr_t f0 = frame(space, base);
        struct vm_page *p0 = vm_object_lookup(own, 0x400);

        /* The parent's read-only translation: replaced by a copy. */
        CHECK(vm_fault_nolock(space, base, W));
        CHECK(frame(space, base) != f0 && can(space, base, W) &&
              page_is(frame(space, base), 1));
        CHECK(vm_object_lookup(own, 0x400) != p0 &&
              vm_object_lookup(cown, 0x400) == p0);
        /* The parent's reference waits for the next entry: the count
         * still says two. */
        CHECK_EQ(p0->refcount, 2u);
        CHECK_EQ(vm_object_puts_of(p0), 1u);
        vm_space_enter(space);
        vm_space_leave(space);
        CHECK_EQ(p0->refcount, 1u);
        /* The child's first touch of a page is a write: a copy, with no
         * translation to replace (the parent's page 1 is still shared),
         * its table made first (the child's tables start empty). */
        paddr_t f1 = frame(space, base + 1 * P);
        CHECK(!present(child, base + 30 * P));
        CHECK(vm_fault_nolock(child, base + 1 * P, W));
        CHECK(frame(child, base + 1 * P) != f1 &&
              page_is(frame(child, base + 1 * P), 2) &&
              can(child, base + 1 * P, W) && frame(space, base + 1 * P) == f1);
        paddr_t f2 = frame(space, base + 2 * P);
#ifndef ARCH_I386_LAYOUT_H
        /* Another CPU has the parent loaded: the copy replaces the
         * translation all the same, and that CPU is sent the round of this
         * one address before the fault returns (before, this CPU's fault
         * left it to the lock's path). (i386 runs one CPU.) */
        softmmu_cpu = 1;
        activate(space);
        softmmu_cpu = 0;
        uint64_t rounds = softmmu_stats.remote_rounds;
        CHECK(vm_fault_nolock(space, base + 2 * P, W));
        CHECK_EQ(softmmu_stats.remote_rounds, rounds + 1);
        CHECK(softmmu_last_remote.cpus == 2 && softmmu_last_remote.n == 1 &&
              !softmmu_last_remote.all &&
              softmmu_last_remote.va0 == base + 2 * P);
        softmmu_cpu = 1;
        activate(NULL);
        softmmu_cpu = 0;
#else
        CHECK(vm_fault_nolock(space, base + 2 * P, W));
#endif
        CHECK(frame(space, base + 2 * P) != f2 && can(space, base + 2 * P, W) &&
              page_is(frame(space, base + 2 * P), 3) &&
              pmm_page_to_pa(vm_object_lookup(cown, 0x402)) == f2);
        /* The child's page 0 is its own now (the parent let go): reused,
         * not copied. */
        CHECK(vm_fault_nolock(child, base, W) && frame(child, base) == f0 &&
              can(child, base, W));
        CHECK_EQ(vm_events.pgfault_nolock_copy, copies + 3);
        vm_space_enter_all();
        CHECK(vm_space_check(space) && vm_space_check(child) && rmap_check());
        vm_space_leave_all();
        destroy(child);
        destroy(space);
        check_baseline();
}

/* A page cache (a tmpfs file's object) of `pages` pages, page i
 * filled with byte i + 1 where it is resident. */
static vaddr_t map_file_at(struct vm_space *s, vaddr_t va, uint64_t len,
                           vm_prot_t prot, unsigned flags,
                           struct vm_object *f)
{
        vaddr_t out = 0;

        if (flags & SHARED)
                flags |= VM_MAP_MAYWRITE;       /* opened for writing */
        CHECK_EQ(vm_space_map_file(s, va, len, prot, flags | FIXED, f, 0,
                                   &out), VM_OK);
        return out;
}

TEST(file_reads)
{
        setup(8 * MiB);
        struct vm_object *f = cache_file(64);
        struct vm_space *a = new_space(), *b = new_space();
        vaddr_t text = map_file_at(a, 0x400000, 64 * P, R | X, PRIV, f);
        vaddr_t sh = map_file_at(b, 0x800000, 64 * P, RW, SHARED, f);
        uint64_t nolock = vm_events.pgfault_nolock_file;

        /* Not in the page cache yet: read in under the lock. */
        CHECK(!vm_fault_nolock(a, text + 3 * P, R));
        cache_fill(f, 0, 20);
        /* Cached: a read maps the file's page read-only, with its
         * window; an instruction fetch likewise. */
        CHECK(vm_fault_nolock(a, text + 3 * P, R));
        CHECK(frame(a, text + 3 * P) ==
              pmm_page_to_pa(vm_object_lookup(f, 3)) &&
              page_is(frame(a, text + 3 * P), 4) &&
              can(a, text + 3 * P, R) && !can(a, text + 3 * P, W));
        CHECK(present(a, text + 15 * P) && !present(a, text + 16 * P) &&
              !can(a, text + 15 * P, W));
        CHECK(vm_fault_nolock(a, text + 17 * P, X));
        CHECK(page_is(frame(a, text + 17 * P), 18));
        CHECK(!vm_fault_nolock(a, text + 21 * P, R));   /* not cached */
        CHECK(!vm_fault_nolock(a, text + 2 * P, W));    /* a copy to make */
        /* The shared area's translation as writable as the area. */
        CHECK(vm_fault_nolock(b, sh + 5 * P, R));
        CHECK(frame(b, sh + 5 * P) == frame(a, text + 5 * P) &&
              can(b, sh + 5 * P, W) && can(b, sh + 9 * P, W));
        CHECK_EQ(vm_events.pgfault_nolock_file, nolock + 3);
        CHECK(!vm_fault_nolock(a, text + 17 * P, W));
        /* A private area with pages of its own (since session 27): a
         * read where its object has nothing maps the file's page
         * read-only, with the window (the object's pages and, where it
         * has nothing, the file's); a read of a page it has maps its
         * own; a swap entry is the lock's (test_vm_swap). */
        vaddr_t data = map_file_at(a, 0x600000, 64 * P, RW, PRIV, f);
        CHECK(vm_fault_nolock(a, data + 19 * P, R));
        user_fill(a, data + 40 * P, 9);
        user_fill(a, data + 6 * P, 6);
        CHECK(vm_fault_nolock(a, data + 2 * P, R));
        CHECK(frame(a, data + 2 * P) == pmm_page_to_pa(vm_object_lookup(f, 2)) &&
              !can(a, data + 2 * P, W) &&
              frame(a, data + 3 * P) == pmm_page_to_pa(vm_object_lookup(f, 3)) &&
              !can(a, data + 3 * P, W) && page_is(frame(a, data + 6 * P), 6) &&
              can(a, data + 6 * P, W));
        vm_space_enter(a);
        CHECK_EQ(pmap_remove(a->pmap, data + 6 * P, data + 7 * P), VM_OK);
        pmap_update(a->pmap);
        vm_space_leave(a);
        CHECK(vm_fault_nolock(a, data + 6 * P, R));
        CHECK(page_is(frame(a, data + 6 * P), 6) && can(a, data + 6 * P, W) &&
              frame(a, data + 6 * P) != pmm_page_to_pa(vm_object_lookup(f, 6)));
        CHECK_EQ(vm_events.pgfault_nolock_file, nolock + 5);
        /* A truncation takes the pages and their translations. */
        vm_spaces_unmap_object(f, 8, 64, true);
        CHECK_EQ(vm_object_resize(f, 8 * P), VM_OK);
        CHECK(!present(b, sh + 9 * P) && present(b, sh + 5 * P));
        CHECK(!vm_fault_nolock(b, sh + 9 * P, R));      /* past the end */
        CHECK(vm_space_check(a) && vm_space_check(b));
        destroy(a);
        destroy(b);
        vm_object_unref(f);
        check_baseline();
}

/* A program's bss beside its data (anonymous memory touching a private
 * file area that has an object): the bss's first write attaches an
 * object of its own without the lock, since the two can never be one
 * area (a file behind one only); until session 27 it borrowed the
 * data's, under the lock. Two mappings of one file at offsets that
 * follow on still lend (the lock's path), as anonymous neighbours do. */
TEST(a_bss_beside_its_data_attaches_its_own)
{
        setup(8 * MiB);
        struct vm_object *f = cache_file(16);
        struct vm_space *a = new_space();
        vaddr_t out = 0;

        cache_fill(f, 0, 16);
        vaddr_t data = map_file_at(a, 0x600000, 4 * P, RW, PRIV, f);
        vaddr_t bss = map_at(a, data + 4 * P, 4 * P, RW, PRIV);
        CHECK(vm_fault_nolock(a, data + P, W));
        struct vm_object *own = vm_area_find(&a->areas, data)->object;
        uint64_t attaches = vm_events.pgfault_nolock_attach;

        CHECK(vm_fault_nolock(a, bss + P, W));
        struct vm_object *b = vm_area_find(&a->areas, bss)->object;
        CHECK(own && b && b != own && own->refcount == 1 &&
              b->refcount == 1 && page_is(frame(a, bss + P), 0));
        CHECK_EQ(vm_events.pgfault_nolock_attach, attaches + 1);
        /* The file again at 0x700000 and, with another protection (no
         * merge at mmap), its next pages right after. */
        CHECK_EQ(vm_space_map_file(a, 0x700000, 4 * P, RW, PRIV | FIXED, f,
                                   0, &out), VM_OK);
        CHECK_EQ(vm_space_map_file(a, 0x704000, 4 * P, RW | X, PRIV | FIXED,
                                   f, 4 * P, &out), VM_OK);
        CHECK(vm_fault_nolock(a, 0x700000, W));
        CHECK(!vm_fault_nolock(a, 0x705000, W));
        user_fill(a, 0x705000, 9);
        CHECK(vm_area_find(&a->areas, 0x705000)->object ==
              vm_area_find(&a->areas, 0x700000)->object);
        CHECK(vm_space_check(a));
        destroy(a);
        vm_object_unref(f);
        check_baseline();
}

/* First writes to shared memory from two spaces: one page, made by
 * the first, found by the second; the big lock's holder's own insertion
 * beside them (vm_object_get_page) finds theirs. */
TEST(shared_first_writes)
{
        setup(8 * MiB);
        struct vm_object *f = cache_file(64);
        struct vm_space *a = new_space(), *b = new_space();
        vaddr_t x = map_file_at(a, 0x400000, 64 * P, RW, SHARED, f);
        vaddr_t y = map_file_at(b, 0x800000, 64 * P, RW, SHARED, f);
        struct vm_page *pg;

        CHECK(vm_fault_nolock(a, x + 3 * P, W));
        CHECK(vm_object_lookup(f, 3) && f->npages == 1 &&
              frame(a, x + 3 * P) == pmm_page_to_pa(vm_object_lookup(f, 3)) &&
              can(a, x + 3 * P, W) && page_is(frame(a, x + 3 * P), 0));
        CHECK(vm_fault_nolock(b, y + 3 * P, W));
        CHECK(frame(b, y + 3 * P) == frame(a, x + 3 * P) && f->npages == 1);
        CHECK(!vm_fault_nolock(b, y + 4 * P, R));       /* nothing there */
        CHECK_EQ(vm_object_get_page(f, 3, &pg), VM_OK); /* finds theirs */
        CHECK(pmm_page_to_pa(pg) == frame(a, x + 3 * P));
        CHECK_EQ(vm_object_get_page(f, 9, &pg), VM_OK);
        CHECK(vm_fault_nolock(a, x + 9 * P, W));
        CHECK(frame(a, x + 9 * P) == pmm_page_to_pa(pg) && f->npages == 2);
        CHECK(!vm_fault_nolock(a, x + 64 * P, W));      /* past the end */
        /* A budget to keep (tmpfs size=): the lock's. */
        struct vm_quota q = { .limit = 100 };
        vm_object_set_quota(f, &q);
        CHECK(!vm_fault_nolock(a, x + 10 * P, W));
        vm_object_set_quota(f, NULL);
        CHECK(vm_object_check(f) && vm_space_check(a) && vm_space_check(b));
        destroy(a);
        destroy(b);
        vm_object_unref(f);
        check_baseline();
}

/* Writes to a private mapping of a file where the area's own object has
 * nothing: a copy of the file's cached page, made where no translation
 * was and in place of the file page's read-only one, with a round to
 * another CPU that has the space loaded and none without; nothing before
 * the area has its object, nor for a page not cached. */
TEST(private_copies)
{
        setup(8 * MiB);
        struct vm_object *f = cache_file(64);
        struct vm_space *a = new_space();
        vaddr_t data = map_file_at(a, 0x600000, 64 * P, RW, PRIV, f);
        uint64_t copies = vm_events.pgfault_nolock_copy;

        cache_fill(f, 0, 32);
        /* The area's first write (a program's data's) attaches its own
         * object and copies (since session 25 without the lock). */
        uint64_t attaches = vm_events.pgfault_nolock_attach;
        CHECK(vm_fault_nolock(a, data + 3 * P, W));
        struct vm_object *own = vm_area_find(&a->areas, data)->object;

        CHECK(own != NULL && own->space == a && own->refcount == 1);
        CHECK_EQ(vm_events.pgfault_nolock_attach, attaches + 1);
        CHECK(page_is(frame(a, data + 3 * P), 4) &&
              vm_object_lookup(own, 0x603) != NULL);
        /* No translation: the copy, writable; the file keeps its page. */
        CHECK(vm_fault_nolock(a, data + 5 * P, W));
        paddr_t c = frame(a, data + 5 * P);
        CHECK(c != pmm_page_to_pa(vm_object_lookup(f, 5)) && page_is(c, 6) &&
              can(a, data + 5 * P, W) && vm_object_lookup(own, 0x605) &&
              pmm_page_to_pa(vm_object_lookup(own, 0x605)) == c);
        /* A read first (locked: the area has an object) maps the file's
         * page and its window read-only; the write replaces it. */
        CHECK(user_read(a, data + 8 * P) == 9);
        paddr_t f8 = pmm_page_to_pa(vm_object_lookup(f, 8));
        CHECK(frame(a, data + 8 * P) == f8 && !can(a, data + 8 * P, W) &&
              frame(a, data + 9 * P) == pmm_page_to_pa(vm_object_lookup(f, 9)));
        CHECK(vm_fault_nolock(a, data + 8 * P, W));
        c = frame(a, data + 8 * P);
        CHECK(c != f8 && page_is(c, 9) && page_is(f8, 9) &&
              can(a, data + 8 * P, W));
        uint64_t rounds = softmmu_stats.remote_rounds;
#ifndef ARCH_I386_LAYOUT_H
        /* Another CPU has the space loaded: its TLB may keep the file's
         * page, so the replacement sends it the round of that address; a
         * copy where no translation is needs none. (i386 runs one CPU.) */
        softmmu_cpu = 1;
        activate(a);
        softmmu_cpu = 0;
        CHECK(vm_fault_nolock(a, data + 20 * P, W));
        CHECK_EQ(softmmu_stats.remote_rounds, rounds);
        CHECK(vm_fault_nolock(a, data + 10 * P, W));
        CHECK_EQ(softmmu_stats.remote_rounds, rounds + 1);
        CHECK(softmmu_last_remote.cpus == 2 && softmmu_last_remote.n == 1 &&
              softmmu_last_remote.va0 == data + 10 * P);
        CHECK(frame(a, data + 10 * P) !=
              pmm_page_to_pa(vm_object_lookup(f, 10)) &&
              page_is(frame(a, data + 10 * P), 11));
        softmmu_cpu = 1;
        activate(NULL);
        softmmu_cpu = 0;
        rounds = softmmu_stats.remote_rounds;
#else
        CHECK(vm_fault_nolock(a, data + 20 * P, W));
        CHECK(vm_fault_nolock(a, data + 10 * P, W));
#endif
        CHECK(page_is(frame(a, data + 20 * P), 21));
        /* Alone: no round of remote invalidations. */
        CHECK(vm_fault_nolock(a, data + 9 * P, W));
        CHECK_EQ(softmmu_stats.remote_rounds, rounds);
        CHECK(frame(a, data + 9 * P) !=
              pmm_page_to_pa(vm_object_lookup(f, 9)));
        CHECK(!vm_fault_nolock(a, data + 33 * P, W));   /* not cached */
        CHECK_EQ(vm_events.pgfault_nolock_copy, copies + 6);
        CHECK(vm_space_check(a));
        /* A truncation takes the copies past the end with the file's
         * pages (as Linux: an access there is SIGBUS). */
        vm_spaces_unmap_object(f, 9, 64, true);
        CHECK_EQ(vm_object_resize(f, 9 * P), VM_OK);
        CHECK(present(a, data + 8 * P) && !present(a, data + 9 * P) &&
              !present(a, data + 20 * P) && !vm_object_lookup(own, 0x614));
        CHECK(vm_space_check(a));
        destroy(a);
        vm_object_unref(f);
        check_baseline();
}

/* The root group's charges from lock-free faults wait per CPU (memcg.c,
 * root_pending) and are whole again for every reader. */
TEST(root_charges_folded_for_readers)
{
        setup(4 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, 8 * P, RW, PRIV);
        user_fill(space, base, 1);              /* attaches the object */
        uint64_t own = memcg_total_charged();
        uint64_t anon = memcg_root.stat[MEMCG_ANON];

        CHECK(vm_fault_nolock(space, base + P, W));
        CHECK(vm_fault_nolock(space, base + 2 * P, W));
        CHECK(memcg_check());
        CHECK_EQ(memcg_total_charged(), own + 2);
        CHECK_EQ(memcg_root.stat[MEMCG_ANON], anon + 2);
        destroy(space);                         /* uncharges all three */
        CHECK_EQ(memcg_total_charged(), own - 1);
        CHECK(memcg_check());
        check_baseline();
}

/* A lock-free fault's page goes on its zone's incoming stack (pmm.c,
 * lru_splice): counted at once, and linked into the list by the next
 * holder of the zone's lock, the walk's start among them. */
static bool on_list_from_tail(const struct vm_page *want, unsigned list)
{
        for (struct vm_page *pg = pmm_lru_tail(want->zone, list); pg;
             pg = pmm_lru_prev(pg))
                if (pg == want)
                        return true;
        return false;
}

TEST(lru_adds_linked_by_the_next_lock_holder)
{
        setup(4 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, 8 * P, RW, PRIV);
        user_fill(space, base, 1);              /* attaches the object */
        uint64_t before = vm_lru_pages(PMM_LRU_INACTIVE_ANON);

        CHECK(vm_fault_nolock(space, base + P, W));
        CHECK(vm_fault_nolock(space, base + 2 * P, W));
        struct vm_page *a = pmm_pa_to_page(frame(space, base + P));
        struct vm_page *b = pmm_pa_to_page(frame(space, base + 2 * P));

        CHECK_EQ(vm_lru_pages(PMM_LRU_INACTIVE_ANON), before + 2);
        CHECK((a->flags & PG_LRU) && (b->flags & PG_LRU));
        CHECK(on_list_from_tail(a, PMM_LRU_INACTIVE_ANON) &&
              on_list_from_tail(b, PMM_LRU_INACTIVE_ANON));
        CHECK(vm_fault_nolock(space, base + 3 * P, W));
        CHECK(pmm_lru_check());                 /* links it, then checks */
        CHECK_EQ(vm_lru_pages(PMM_LRU_INACTIVE_ANON), before + 3);
        destroy(space);                         /* off the lists, freed */
        CHECK_EQ(vm_lru_pages(PMM_LRU_INACTIVE_ANON), before - 1);
        check_baseline();
}

/* pmap_enter_fresh, the lock-free fault's translation: only where every
 * table is there already, only into an empty entry, and nothing changed
 * otherwise (every table format). */
TEST(enter_fresh_fills_only_empty_entries)
{
        setup(4 * MiB);
        struct vm_space *s = new_space();
        struct vm_page *pg = pmm_alloc_pages(0, 0);
        struct vm_page *pg2 = pmm_alloc_pages(0, 0);
        paddr_t pa = pmm_page_to_pa(pg), pa2 = pmm_page_to_pa(pg2), got = 0;
        vaddr_t va = 0x400000;
        vm_prot_t prot = 0;
        unsigned fl = 0;

        /* No tables yet: the caller's lock and pmap_enter make them. */
        CHECK_EQ(pmap_enter_fresh(s->pmap, va, pa, RW, PMAP_USER), VM_ENOENT);
        CHECK(!pmap_extract(s->pmap, va, NULL, NULL, NULL));
        CHECK_EQ(pmap_enter(s->pmap, va, pa, RW, PMAP_USER | PMAP_ACCESS(W)),
                 VM_OK);
        CHECK_EQ(pmap_enter_fresh(s->pmap, va + P, pa2, RW,
                                  PMAP_USER | PMAP_ACCESS(W)), VM_OK);
        CHECK(pmap_extract(s->pmap, va + P, &got, &prot, &fl) && got == pa2 &&
              (prot & VM_PROT_WRITE) && (fl & PMAP_USER));
        /* The entry pmap_enter makes (accessed and dirty preset where the
         * format presets them: RISC-V). */
        CHECK_EQ(pmap_ad(s->pmap, va + P, false), pmap_ad(s->pmap, va, false));
        /* Taken: the entry stays as it was. */
        CHECK_EQ(pmap_enter_fresh(s->pmap, va, pa2, RW, PMAP_USER), VM_EEXIST);
        CHECK(pmap_extract(s->pmap, va, &got, NULL, NULL) && got == pa);
        CHECK(pmap_check(s->pmap));
        CHECK_EQ(pmap_remove(s->pmap, va, va + 2 * P), VM_OK);
        pmap_update(s->pmap);
        pmm_free_pages(pg, 0);
        pmm_free_pages(pg2, 0);
        destroy(s);
        check_baseline();
}

/* i386's table code maps tables through one kmap window per machine (it
 * runs one CPU, and never takes the lock-free path): the storm is for
 * the formats of the machines that run several, x86-64's and riscv64's. */
#ifndef ARCH_I386_LAYOUT_H
static int running;                     /* [a] the faulters go on */
static uint64_t served;                 /* [a] the faulters' successes */
static pthread_barrier_t start;

static uint64_t next_rand(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* Where a faulter's next random number sends it: which space, which
 * page, which access. Each storm has its own. */
struct fault_pick {
        struct vm_space *space;
        vaddr_t va;
        vm_prot_t access;
};
static struct fault_pick (*pick)(uint64_t r);

static void *faulter(void *arg)
{
        unsigned cpu = (unsigned)(uintptr_t)arg;
        uint64_t seed = 0x9e3779b97f4a7c15ull * cpu;

        host_cpu = cpu;
        pthread_barrier_wait(&start);
        while (__atomic_load_n(&running, __ATOMIC_RELAXED)) {
                struct fault_pick f = pick(next_rand(&seed));
                unsigned long s = intr_save();  /* as the trap code */

                if (vm_fault_nolock(f.space, f.va, f.access))
                        __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
                intr_restore(s);
        }
        return NULL;
}

/* FAULTERS threads fault as how says while this one, the big lock's
 * holder, makes STEPS steps (a change and its checks), leaving the doors
 * open a while after each so that a fault or two gets in.
 * => the faults served without the lock. */
static uint64_t storm(struct fault_pick (*how)(uint64_t r),
                      void (*step)(uint64_t *seed), uint64_t seed)
{
        pthread_t th[FAULTERS];

        pick = how;
        __atomic_store_n(&served, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&running, 1, __ATOMIC_RELAXED);
        CHECK(pthread_barrier_init(&start, NULL, FAULTERS + 1) == 0);
        for (unsigned i = 0; i < FAULTERS; i++)
                CHECK(pthread_create(&th[i], NULL, faulter,
                                     (void *)(uintptr_t)(i + 1)) == 0);
        host_cpu = 0;
        pthread_barrier_wait(&start);
        for (int i = 0; i < STEPS; i++) {
                step(&seed);
                uint64_t was = __atomic_load_n(&served, __ATOMIC_RELAXED);
                for (int spin = 0; spin < 20000 &&
                     __atomic_load_n(&served, __ATOMIC_RELAXED) == was; spin++)
                        ;
        }
        __atomic_store_n(&running, 0, __ATOMIC_RELAXED);
        for (unsigned i = 0; i < FAULTERS; i++)
                CHECK(pthread_join(th[i], NULL) == 0);
        pthread_barrier_destroy(&start);
        return __atomic_load_n(&served, __ATOMIC_RELAXED);
}

/* A child of the first storm's space forked at its start, which the
 * faulters fault in too (its tables start empty: its reads map the pages
 * it shares, its writes copy them); and a second child, alive from one
 * fork step to the next (not faulted in), whose sharing makes the
 * space's writes copy. */
static struct vm_space *kid, *spare;

/* FRESH small areas of the space, apart (a page between each: none can
 * borrow another's object), one of them mapped anew at every other step
 * of the first storm, so that the faulters' first writes attach its
 * object beside the changes (nolock_attach). */
#define FRESH           2
#define FRESH_PAGES     4
#define FRESH_BASE      (0x400000 + 2 * WINDOW * P)

/* The i-th of areas of `pages` pages from `first` on, a page apart. */
static vaddr_t apart(vaddr_t first, unsigned pages, unsigned i)
{
        return first + i * (pages + 1) * P;
}

static vaddr_t fresh_area(unsigned i)
{
        return apart(FRESH_BASE, FRESH_PAGES, i);
}

/* A fault in one of n such areas of the space, a write but one time in
 * `reads`. */
static struct fault_pick apart_pick(vaddr_t first, unsigned n,
                                    unsigned pages, unsigned reads, uint64_t r)
{
        return (struct fault_pick){
                space, apart(first, pages, (r >> 8) % n) + (r % pages) * P,
                (r >> 32) % reads ? W : R };
}

/* The first storm's faulters: writes and reads of one private area, in
 * the space (two thirds) or its child; one time in four, of the fresh
 * areas. */
static struct fault_pick anon_pick(uint64_t r)
{
        if ((r >> 48) % 4 == 0)
                return apart_pick(FRESH_BASE, FRESH, FRESH_PAGES, 4, r);
        return (struct fault_pick){ (r >> 40) % 3 ? space : kid,
                                    base + (r % WINDOW) * P,
                                    (r >> 32) % 4 ? W : R };
}

/* One change of the big lock's holder, entered. */
static void change(uint64_t *seed)
{
        vaddr_t chunk = base + (next_rand(seed) % (WINDOW / CHUNK)) * CHUNK * P;
        vaddr_t out;

        switch (next_rand(seed) % 5) {
        case 4:         /* every page read-only and shared; or the child
                         * gone, leaving the pages only the space holds */
                if (spare) {
                        destroy(spare);
                        spare = NULL;
                } else {
                        CHECK(vm_space_fork(space, &spare) == VM_OK);
                }
                break;
        case 0:
                CHECK(vm_space_unmap(space, chunk, CHUNK * P) == VM_OK);
                CHECK(vm_space_map(space, chunk, CHUNK * P, RW,
                                   PRIV | FIXED, &out) == VM_OK);
                break;
        case 1:
                CHECK(vm_space_map(space, chunk, CHUNK * P, RW,
                                   PRIV | FIXED, &out) == VM_OK);
                break;
        case 2:
                CHECK(vm_space_advise(space, chunk, CHUNK * P,
                                      VM_MADV_DONTNEED) == VM_OK);
                break;
        default:
                CHECK(vm_space_protect(space, chunk, CHUNK * P, R) == VM_OK);
                CHECK(vm_space_protect(space, chunk, CHUNK * P, RW) == VM_OK);
                break;
        }
}

/* One step of the first storm: a change entered, then the checks (the
 * reverse map's, whose counts the copies' deferred puts must keep
 * right, every 64th step: it walks every page). */
static void anon_step(uint64_t *seed)
{
        static unsigned steps;

        vaddr_t fresh = fresh_area(next_rand(seed) % FRESH), out;

        vm_space_enter(space);
        vm_space_enter(kid);
        change(seed);
        if (steps % 2 == 0)
                CHECK(vm_space_map(space, fresh, FRESH_PAGES * P, RW,
                                   PRIV | FIXED, &out) == VM_OK);
        CHECK(vm_space_check(space) && vm_space_check(kid) &&
              (!spare || vm_space_check(spare)));
        if (++steps % 64 == 0)
                CHECK(rmap_check());
        vm_space_leave(kid);
        vm_space_leave(space);
}

/* The end of a storm over space and its children: all of them gone,
 * everything back. */
static void storm_end(void)
{
        if (spare)
                destroy(spare);
        spare = NULL;
        destroy(kid);
        kid = NULL;
        CHECK(vm_space_check(space));
        CHECK(pmm_check());
        destroy(space);
        check_baseline();
}

TEST(faults_beside_changes)
{
        setup(16 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, WINDOW * P, RW, PRIV);
        user_fill(space, base, 1);              /* the object, under "the lock" */
        user_fill(space, base + (WINDOW - 1) * P, 1);   /* both tables */
        for (unsigned i = 0; i < FRESH; i++)
                map_at(space, fresh_area(i), FRESH_PAGES * P, RW, PRIV);
        CHECK(vm_space_fork(space, &kid) == VM_OK);
        uint64_t attaches = vm_events.pgfault_nolock_attach;
        CHECK(user_read(kid, base) == 1 &&
              user_read(kid, base + (WINDOW - 1) * P) == 1);
        uint64_t copies = vm_events.pgfault_nolock_copy;
        uint64_t total = storm(anon_pick, anon_step, 0x2545f4914f6cdd1dull);

        CHECK(total > STEPS / 4);               /* the faulters got in */
        CHECK(vm_events.pgfault_nolock_copy > copies);  /* ...and copied */
        /* ...and attached fresh areas' objects: 1600-2700 a run alone on
         * the 2-core host, 58 with two more storms beside it (the
         * faulters get in less often), so only "some" is asked. */
        CHECK(vm_events.pgfault_nolock_attach > attaches);
        storm_end();
}

/* The file storm: space (shared, RW) and other (private, R | W | X) map
 * one page cache of WINDOW pages; the faulters read and write both. */
static struct vm_space *other;
static vaddr_t obase;
static struct vm_object *file;

/* Its faulters: the private space's pages read, fetched or written (a
 * copy of the file's page), the shared one's read or written. */
static struct fault_pick file_pick(uint64_t r)
{
        bool priv = r >> 40 & 1;
        unsigned how = (r >> 32) % 4;

        return (struct fault_pick){ priv ? other : space,
                                    (priv ? obase : base) + (r % WINDOW) * P,
                                    how == 0 ? W : how == 1 && priv ? X : R };
}

/* One change of the big lock's holder: the file's (as the VFS makes
 * them: translations first, then the object) or an area's. */
static void file_change(uint64_t *seed)
{
        uint64_t first = next_rand(seed) % WINDOW, n = 1 + next_rand(seed) % CHUNK;
        uint64_t end = MIN(first + n, WINDOW);
        vaddr_t out;

        switch (next_rand(seed) % 8) {
        case 0:                 /* truncate, then grow back */
                vm_spaces_unmap_object(file, first, WINDOW, true);
                CHECK(vm_object_resize(file, first * P) == VM_OK);
                /* Nothing past the end is mapped, not even a private
                 * copy made from a page the cut had not taken yet. */
                vm_space_enter_all();
                for (uint64_t i = first; i < WINDOW; i++)
                        CHECK(!present(other, obase + i * P) &&
                              !present(space, base + i * P));
                vm_space_leave_all();
                CHECK(vm_object_resize(file, WINDOW * P) == VM_OK);
                break;
        case 1:                 /* a hole */
                vm_spaces_unmap_object(file, first, end, false);
                CHECK(vm_object_punch_hole(file, first, end) == VM_OK);
                break;
        case 2:                 /* the shared area anew over a chunk */
                vm_space_enter(space);
                CHECK(vm_space_map_file(space, base + first * P,
                                        (end - first) * P, RW,
                                        SHARED | VM_MAP_MAYWRITE | FIXED,
                                        file, first * P, &out) == VM_OK);
                vm_space_leave(space);
                break;
        case 3:                 /* the private one likewise */
                vm_space_enter(other);
                CHECK(vm_space_map_file(other, obase + first * P,
                                        (end - first) * P, R | W | X,
                                        PRIV | FIXED, file, first * P,
                                        &out) == VM_OK);
                vm_space_leave(other);
                break;
        case 4:                 /* a private write under the lock (the
                                 * area's object, for the lock-free ones) */
                vm_space_enter(other);
                CHECK(vm_fault(other, obase + first * P, W) ==
                      FAULT_RESOLVED);
                vm_space_leave(other);
                break;
        case 5:                 /* the private copies of a chunk dropped */
                vm_space_enter(other);
                CHECK(vm_space_advise(other, obase + first * P,
                                      (end - first) * P,
                                      VM_MADV_DONTNEED) == VM_OK);
                vm_space_leave(other);
                break;
        default:                /* read in (read(), a slow fault) */
                cache_fill(file, first, first + 4 * CHUNK);
                break;
        }
}

/* One step: a change, then both spaces and the file checked with every
 * door shut (the shared space's writes fill the file). */
static void file_step(uint64_t *seed)
{
        file_change(seed);
        vm_space_enter_all();
        CHECK(vm_space_check(space) && vm_space_check(other) &&
              vm_object_check(file));
        vm_space_leave_all();
}

TEST(file_faults_beside_changes)
{
        setup(16 * MiB);
        file = cache_file(WINDOW);
        cache_fill(file, 0, WINDOW);
        space = new_space();
        other = new_space();
        base = map_file_at(space, 0x400000, WINDOW * P, RW, SHARED, file);
        obase = map_file_at(other, 0x400000, WINDOW * P, R | W | X, PRIV,
                            file);
        uint64_t copies = vm_events.pgfault_nolock_copy;
        uint64_t total = storm(file_pick, file_step, 0x9e3779b97f4a7c15ull);

        /* The faulters got in between the checks, which keep both
         * doors shut most of the time (1600-2300 of 10000 steps on a
         * loaded 2-core host). */
        CHECK(total > STEPS / 20);
        CHECK(vm_events.pgfault_nolock_copy > copies);
        CHECK(vm_space_check(space) && vm_space_check(other));
        CHECK(pmm_check());
        destroy(space);
        destroy(other);
        vm_object_unref(file);
        check_baseline();
}

/* What the writer without the lock does, and what it leaves to the
 * lock's path: one thread, nobody else in the door. */
TEST(writer_changes_whole_areas_only)
{
        setup(8 * MiB);
        struct vm_space *s = new_space();
        vaddr_t a = map_at(s, 0x400000, 8 * P, RW, PRIV);
        vaddr_t b = map_at(s, 0x400000 + 9 * P, 8 * P, R, PRIV);
        uint64_t committed = vm_committed_pages();

        user_fill(s, a, 3);                     /* an object: charged */
        /* In place: the area's protection and its translations. */
        CHECK(vm_space_protect_nolock(s, a, 8 * P, R));
        CHECK(vm_space_lookup(s, a)->prot == R);
        CHECK(present(s, a) && can(s, a, R) && !can(s, a, W));
        CHECK(user_read(s, a) == 3);
        CHECK(vm_space_protect_nolock(s, a, 8 * P, VM_PROT_NONE));
        CHECK(!present(s, a));
        CHECK(vm_space_protect_nolock(s, a, 8 * P, RW));
        CHECK(vm_committed_pages() == committed && vm_space_check(s));
        /* Nothing to change: done. */
        CHECK(vm_space_protect_nolock(s, a, 8 * P, RW));
        /* Left to the lock: a split (part of an area), a commit charge
         * to move (b has no object: write adds one), a hole, a bad
         * argument; then a merge (with an area mapped touching a). */
        CHECK(!vm_space_protect_nolock(s, a, 4 * P, R));
        CHECK(!vm_space_protect_nolock(s, b, 8 * P, RW));
        CHECK(!vm_space_protect_nolock(s, a, 10 * P, R));
        CHECK(!vm_space_protect_nolock(s, a + 1, P, R));
        CHECK(!vm_space_protect_nolock(s, a, 0, R));
        CHECK(vm_space_protect_nolock(s, a, 8 * P, R));
        vaddr_t c = map_at(s, a + 8 * P, P, RW, PRIV);  /* touches a */
        CHECK(vm_space_lookup(s, c)->start == c);
        CHECK(!vm_space_protect_nolock(s, a, 8 * P, RW));  /* would merge */
        CHECK(vm_space_protect_nolock(s, a, 8 * P, R | X));
        CHECK(vm_space_lookup(s, a)->end == a + 8 * P);
        CHECK(vm_space_check(s) && vm_committed_pages() == committed + 1);
        /* With an entry in the door it waits, then declines. */
        vm_space_enter(s);
        CHECK(!vm_space_protect_nolock(s, a, 8 * P, RW));
        vm_space_leave(s);
        CHECK(vm_space_lookup(s, a)->prot == (R | X));
        destroy(s);
        check_baseline();
}

/* The unmap without the lock: whole private areas leave the tree and
 * their translations at once, their pages and references wait parked
 * for the lock's holder; everything else is declined, nothing changed. */
TEST(writer_unmaps_whole_private_areas)
{
        setup(8 * MiB);
        struct vm_space *s = new_space();
        vaddr_t a = map_at(s, 0x400000, 8 * P, RW, PRIV);
        vaddr_t b = map_at(s, 0x400000 + 9 * P, 4 * P, RW, PRIV);
        vaddr_t sh = map_at(s, 0x400000 + 14 * P, 4 * P, RW, SHARED);
        uint64_t committed = vm_committed_pages();

        for (unsigned i = 0; i < 8; i++)
                user_fill(s, a + i * P, 5);
        user_fill(s, b, 6);
        struct vm_object *o = vm_space_lookup(s, a)->object;
        uint64_t held = pmm_free_count();
        /* Two whole areas and the hole between them. */
        CHECK(vm_space_unmap_nolock(s, a, 13 * P));
        CHECK(!vm_space_lookup(s, a) && !vm_space_lookup(s, b));
        CHECK(!present(s, a) && !present(s, b));
        CHECK(user_access(s, a, R, NULL) == FAULT_SEGV);
        CHECK(vm_committed_pages() == committed - 12);  /* given back */
        CHECK(o->npages == 8 && vm_space_parked_covers(s, o, a + 7 * P));
        CHECK(!vm_space_parked_covers(s, o, a + 8 * P));
        CHECK(vm_space_check(s));
        /* Nothing there: done, nothing to do. */
        CHECK(vm_space_unmap_nolock(s, a, 4 * P));
        vm_space_enter(s);
        vm_space_parked_free(s);
        vm_space_leave(s);
        CHECK(pmm_free_count() >= held + 9);    /* the pages, at least */
        /* Left to the lock: part of an area (a split), a shared area,
         * a guard run in the range, a bad argument, an entered space. */
        a = map_at(s, 0x400000, 8 * P, RW, PRIV);
        user_fill(s, a, 7);
        CHECK(!vm_space_unmap_nolock(s, a, 4 * P));
        CHECK(!vm_space_unmap_nolock(s, a + 4 * P, 4 * P));
        CHECK(!vm_space_unmap_nolock(s, sh, 4 * P));
        CHECK(!vm_space_unmap_nolock(s, a + 1, P));
        CHECK(!vm_space_unmap_nolock(s, a, 0));
        CHECK(vm_space_advise(s, a + 2 * P, P, VM_MADV_GUARD_INSTALL) == VM_OK);
        CHECK(!vm_space_unmap_nolock(s, a, 8 * P));
        CHECK(vm_space_advise(s, a + 2 * P, P, VM_MADV_GUARD_REMOVE) == VM_OK);
        vm_space_enter(s);
        CHECK(!vm_space_unmap_nolock(s, a, 8 * P));
        vm_space_leave(s);
        CHECK(user_read(s, a) == 7 && vm_space_check(s));
        /* Parked until the space ends: destroy lets them go too. */
        CHECK(vm_space_unmap_nolock(s, a, 8 * P));
        destroy(s);
        check_baseline();
}

/* The map without the lock: a private anonymous area placed as the lock's
 * path places it, merged with a neighbour unless two objects' areas
 * would merge; the rest declined, nothing changed. */
TEST(writer_maps_private_areas)
{
        setup(8 * MiB);
        struct vm_space *s = new_space();
        uint64_t committed = vm_committed_pages();
        vaddr_t a, b, c, d;

        /* Where the lock's path would put it: the hint if free. */
        CHECK(vm_space_map_nolock(s, 0x400000, 8 * P, RW, PRIV, &a));
        CHECK(a == 0x400000 && vm_space_lookup(s, a)->end == a + 8 * P);
        CHECK(vm_committed_pages() == committed + 8);
        user_fill(s, a, 3);                     /* its object, lock-free */
        CHECK(user_read(s, a + 7 * P) == 0 && vm_space_check(s));
        /* Touching a (no hint: top-down below the last; here the hint):
         * one area, a's object. */
        CHECK(vm_space_map_nolock(s, a + 8 * P, 4 * P, RW, PRIV, &b));
        CHECK(b == a + 8 * P && vm_space_lookup(s, b)->start == a);
        CHECK(vm_space_check(s));
        /* In the hole between two halves of one object's area: left to
         * the lock (the second merge lets one of its references go). */
        user_fill(s, b + 3 * P, 4);
        CHECK(vm_space_unmap(s, a + 4 * P, 4 * P) == VM_OK);
        CHECK(!vm_space_map_nolock(s, a + 4 * P, 4 * P, RW, PRIV, &c) &&
              !vm_space_lookup(s, a + 4 * P));
        /* The rest of what the lock's path does: shared, fixed, huge,
         * populated memory; a bad argument; MCL_FUTURE; mode 2; an
         * entered space. */
        CHECK(!vm_space_map_nolock(s, 0, P, RW, SHARED, &d));
        CHECK(!vm_space_map_nolock(s, b, P, RW, PRIV | VM_MAP_FIXED, &d));
        CHECK(!vm_space_map_nolock(s, 0, P, RW, PRIV | VM_MAP_POPULATE, &d));
        CHECK(!vm_space_map_nolock(s, 0, 0, RW, PRIV, &d));
        s->lock_future = VM_AREA_LOCKED;
        CHECK(!vm_space_map_nolock(s, 0, P, RW, PRIV, &d));
        s->lock_future = 0;
        vm_commit_policy.overcommit_memory = VM_OVERCOMMIT_NEVER;
        CHECK(!vm_space_map_nolock(s, 0, P, RW, PRIV, &d));
        CHECK(vm_space_map_nolock(s, 0, P, R, PRIV, &d)); /* not charged */
        vm_commit_policy.overcommit_memory = VM_OVERCOMMIT_GUESS;
        CHECK(vm_space_unmap(s, d, P) == VM_OK);
        vm_space_enter(s);
        CHECK(!vm_space_map_nolock(s, 0, P, RW, PRIV, &d));
        vm_space_leave(s);
        /* Over a parked area whose object a neighbour holds: the merge
         * would show its page again; once let go, zeroes. */
        vaddr_t e = map_at(s, 0x600000, 12 * P, RW, PRIV);

        user_fill(s, e, 6);
        user_fill(s, e + 11 * P, 5);            /* one object, both */
        CHECK(vm_space_protect(s, e + 8 * P, 4 * P, R) == VM_OK);
        CHECK(vm_space_unmap_nolock(s, e + 8 * P, 4 * P));
        CHECK(!vm_space_map_nolock(s, e + 8 * P, 4 * P, RW, PRIV, &d) &&
              !vm_space_lookup(s, e + 8 * P));
        vm_space_enter(s);
        vm_space_parked_free(s);
        vm_space_leave(s);
        CHECK(vm_space_map_nolock(s, e + 8 * P, 4 * P, RW, PRIV, &d) &&
              d == e + 8 * P && vm_space_lookup(s, d)->start == e &&
              user_read(s, e + 11 * P) == 0 && user_read(s, e) == 6);
        /* The same through a bridge: an area without an object placed
         * over the parked one (nothing to merge with), then one between
         * it and the object's area, which would join all three. */
        user_fill(s, e + 11 * P, 7);
        CHECK(vm_space_unmap(s, e + 4 * P, 4 * P) == VM_OK);
        CHECK(vm_space_protect(s, e + 8 * P, 4 * P, R) == VM_OK);
        CHECK(vm_space_unmap_nolock(s, e + 8 * P, 4 * P));
        CHECK(vm_space_map_nolock(s, e + 8 * P, 4 * P, RW, PRIV, &d) &&
              d == e + 8 * P && !vm_space_lookup(s, d)->object);
        CHECK(!vm_space_map_nolock(s, e + 4 * P, 4 * P, RW, PRIV, &d) &&
              !vm_space_lookup(s, e + 4 * P));
        vm_space_enter(s);
        vm_space_parked_free(s);
        vm_space_leave(s);
        CHECK(vm_space_map_nolock(s, e + 4 * P, 4 * P, RW, PRIV, &d) &&
              vm_space_lookup(s, e + 11 * P)->start == e &&
              user_read(s, e + 11 * P) == 0);
        CHECK(vm_space_check(s) && user_read(s, a) == 3);
        destroy(s);
        check_baseline();
}

/* The writer storm: FLIPS areas of FLIP_PAGES pages each, apart (a page
 * between each and around them: no neighbour to merge with), whose
 * protection a writer thread without the big lock flips in place
 * (vm_space_protect_nolock) among read+write, read and none, and now and
 * then unmaps (vm_space_unmap_nolock), while the faulters write and read
 * them and the window below, and the big lock's holder enters to let the
 * unmapped areas' pages go and map them anew, to change the window and,
 * now and then, one flip area's first half (a split: the writer must
 * decline there until the holder puts it back whole), then checks. */
#define FLIPS           4
#define FLIP_PAGES      16
#define FLIP_BASE       (0x400000 + 4 * WINDOW * P)
static uint64_t flipped, declined;      /* [a] the writer's answers */
static uint64_t unmapped, mapped;       /* [a] of which unmaps, maps */
static uint64_t strays;                 /* [a] maps elsewhere left there */

static vaddr_t flip_area(unsigned i)
{
        return apart(FLIP_BASE, FLIP_PAGES, i);
}

static struct fault_pick flip_pick(uint64_t r)
{
        if ((r >> 48) % 2 == 0)
                return apart_pick(FLIP_BASE, FLIPS, FLIP_PAGES, 3, r);
        return (struct fault_pick){ space, base + (r % WINDOW) * P,
                                    (r >> 32) % 4 ? W : R };
}

static void *flipper(void *arg)
{
        static const vm_prot_t prots[] = { R, RW, VM_PROT_NONE, RW };
        uint64_t seed = 0x2545f4914f6cdd1dull;

        host_cpu = (unsigned)(uintptr_t)arg;
        while (__atomic_load_n(&running, __ATOMIC_RELAXED)) {
                uint64_t r = next_rand(&seed);
                vaddr_t at = flip_area(r % FLIPS), got;
                unsigned op = (r >> 16) % 8;    /* 0 unmap, 1 map back */
                bool done = op == 0 ? vm_space_unmap_nolock(space, at,
                                                            FLIP_PAGES * P)
                          : op == 1 ? vm_space_map_nolock(space, at,
                                                FLIP_PAGES * P, RW, PRIV,
                                                &got)
                          : vm_space_protect_nolock(space, at,
                                                FLIP_PAGES * P,
                                                prots[(r >> 8) % 4]);

                __atomic_add_fetch(done ? &flipped : &declined, 1,
                                   __ATOMIC_RELAXED);
                if (done && op == 0)
                        __atomic_add_fetch(&unmapped, 1, __ATOMIC_RELAXED);
                if (done && op == 1) {
                        __atomic_add_fetch(&mapped, 1, __ATOMIC_RELAXED);
                        /* Not free there (still mapped): it went
                         * elsewhere (alone: nothing to merge with), and
                         * goes again once the door lets the writer in. */
                        unsigned tries = 0;

                        while (got != at && tries++ < 100000 &&
                               !vm_space_unmap_nolock(space, got,
                                                      FLIP_PAGES * P))
                                ;
                        if (got != at && tries > 100000)
                                __atomic_add_fetch(&strays, 1,
                                                   __ATOMIC_RELAXED);
                }
        }
        return NULL;
}

static void flip_step(uint64_t *seed)
{
        static vaddr_t split;           /* the flip area split, or 0 */
        uint64_t r = next_rand(seed);

        vm_space_enter(space);
        vm_space_enter(kid);
        /* As a thread's entry does (proc_space_enter): what the writer
         * unmapped goes; the step then maps it anew (a split area went
         * whole: the writer takes both its halves or neither). */
        vm_space_parked_free(space);
        for (unsigned i = 0; i < FLIPS; i++)
                if (!vm_space_lookup(space, flip_area(i))) {
                        map_at(space, flip_area(i), FLIP_PAGES * P, RW, PRIV);
                        if (split == flip_area(i))
                                split = 0;
                }
        change(seed);
        if (!split && r % 8 == 0) {
                /* Its first half read+exec: until it is whole again, a
                 * flip of the whole area would merge the halves, which
                 * the writer leaves to the lock (declines). */
                split = flip_area((r >> 8) % FLIPS);
                CHECK(vm_space_protect(space, split, FLIP_PAGES / 2 * P,
                                       R | X) == VM_OK);
        } else if (split && r % 8 == 1) {
                CHECK(vm_space_protect(space, split, FLIP_PAGES * P,
                                       RW) == VM_OK);
                CHECK(vm_space_lookup(space, split)->end ==
                      split + FLIP_PAGES * P);
                split = 0;
        }
        CHECK(vm_space_check(space) && vm_space_check(kid) &&
              (!spare || vm_space_check(spare)));
        vm_space_leave(kid);
        vm_space_leave(space);
}

TEST(writer_beside_faults_and_entries)
{
        pthread_t writer;

        setup(16 * MiB);
        space = new_space();
        base = map_at(space, 0x400000, WINDOW * P, RW, PRIV);
        user_fill(space, base, 1);
        user_fill(space, base + (WINDOW - 1) * P, 1);
        for (unsigned i = 0; i < FLIPS; i++) {
                map_at(space, flip_area(i), FLIP_PAGES * P, RW, PRIV);
                user_fill(space, flip_area(i), 2);
        }
        CHECK(vm_space_fork(space, &kid) == VM_OK);
        __atomic_store_n(&flipped, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&declined, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&unmapped, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&mapped, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&strays, 0, __ATOMIC_RELAXED);
        /* The writer starts first and stops when storm ends the run. */
        __atomic_store_n(&running, 1, __ATOMIC_RELAXED);
        CHECK(pthread_create(&writer, NULL, flipper,
                             (void *)(uintptr_t)(FAULTERS + 1)) == 0);
        uint64_t total = storm(flip_pick, flip_step, 0x9e3779b97f4a7c15ull);

        CHECK(pthread_join(writer, NULL) == 0);
        printf("note: %" PRIu64 " faults served, %" PRIu64 " changes without "
               "the lock (%" PRIu64 " unmaps, %" PRIu64 " maps), %" PRIu64
               " declined\n", total,
               __atomic_load_n(&flipped, __ATOMIC_RELAXED),
               __atomic_load_n(&unmapped, __ATOMIC_RELAXED),
               __atomic_load_n(&mapped, __ATOMIC_RELAXED),
               __atomic_load_n(&declined, __ATOMIC_RELAXED));
        CHECK(total > STEPS / 20);
        CHECK(__atomic_load_n(&flipped, __ATOMIC_RELAXED) > STEPS / 20);
        CHECK(__atomic_load_n(&unmapped, __ATOMIC_RELAXED) > 0 &&
              __atomic_load_n(&mapped, __ATOMIC_RELAXED) > 0 &&
              __atomic_load_n(&strays, __ATOMIC_RELAXED) == 0);
        storm_end();
}

/* The race nolock_attach settles: FAULTERS threads, let go together
 * from a start line they spin at, each write one page of an area mapped
 * anew (no object), round after round. Every page written must land in
 * the one object the area ends with, and the objects the losers made
 * must be freed (the baseline, ASan's leak check). The objects' serials
 * count what was made: more than one a round means losers (the race
 * happened, and was lost). RACE_ROUNDS rounds, or more until a race was
 * lost (up to four times as many): 127-657 losers in 1500 rounds alone
 * on the 2-core host, 4-25 with two more copies of the test beside it. */
#define RACE_ROUNDS     1500
static int race_round;                  /* [a] the round let go; -1: end */
static int race_finished;               /* [a] writers done with it */
static vaddr_t race_va;
static bool race_served[FAULTERS];

static void *race_writer(void *arg)
{
        unsigned i = (unsigned)(uintptr_t)arg;

        host_cpu = i + 1;
        for (int r = 1;; r++) {
                int now;

                /* (Yielding after a long spin: a host with fewer cores
                 * than threads would otherwise wait out time slices.) */
                for (unsigned spin = 0;
                     (now = __atomic_load_n(&race_round,
                                            __ATOMIC_ACQUIRE)) != r &&
                     now >= 0;
                     spin++)
                        if (spin > 1000000)
                                sched_yield();
                if (now < 0)
                        return NULL;
                unsigned long sv = intr_save();

                race_served[i] = vm_fault_nolock(space, race_va + i * P, W);
                intr_restore(sv);
                __atomic_add_fetch(&race_finished, 1, __ATOMIC_RELEASE);
        }
}

TEST(first_writes_race_to_attach)
{
        pthread_t th[FAULTERS];
        uint64_t first = 0, last = 0, served = 0, attached = 0, lost = 0;
        cpu_set_t cpus;
        int r;

        CHECK(sched_getaffinity(0, sizeof cpus, &cpus) == 0);
        setup(8 * MiB);
        space = new_space();
        race_va = 0x400000;
        __atomic_store_n(&race_round, 0, __ATOMIC_RELAXED);
        for (unsigned i = 0; i < FAULTERS; i++)
                CHECK(pthread_create(&th[i], NULL, race_writer,
                                     (void *)(uintptr_t)i) == 0);
        host_cpu = 0;
        for (r = 1; r <= RACE_ROUNDS ||
                    (!lost && CPU_COUNT(&cpus) > 1 && r <= 4 * RACE_ROUNDS);
             r++) {
                vaddr_t out;

                vm_space_enter(space);
                CHECK(vm_space_map(space, race_va, FAULTERS * P, RW,
                                   PRIV | FIXED, &out) == VM_OK);
                vm_space_leave(space);
                __atomic_store_n(&race_finished, 0, __ATOMIC_RELAXED);
                __atomic_store_n(&race_round, r, __ATOMIC_RELEASE);
                while (__atomic_load_n(&race_finished, __ATOMIC_ACQUIRE) <
                       FAULTERS)
                        sched_yield();
                vm_space_enter(space);
                struct vm_area *a = vm_area_find(&space->areas, race_va);
                for (unsigned i = 0; i < FAULTERS; i++) {
                        struct vm_page *pg = a->object
                                ? vm_object_lookup(a->object,
                                                   (race_va >> 12) + i)
                                : NULL;
                        if (!race_served[i])
                                continue;
                        served++;
                        CHECK(pg && frame(space, race_va + i * P) ==
                                            pmm_page_to_pa(pg));
                }
                if (a->object) {
                        if (!first)
                                first = a->object->id;
                        last = a->object->id;
                        lost = last - first - attached++;
                }
                CHECK(vm_space_check(space));
                vm_space_leave(space);
        }
        __atomic_store_n(&race_round, -1, __ATOMIC_RELEASE);
        for (unsigned i = 0; i < FAULTERS; i++)
                CHECK(pthread_join(th[i], NULL) == 0);
        printf("note: %" PRIu64 " objects made and let go in %d rounds\n",
               lost, r - 1);
        /* Most rounds served every write without the lock, and, where
         * the host runs two of the threads at once, a race was lost (a
         * test that could not lose it would prove nothing about the
         * loser's path). */
        CHECK(served > (uint64_t)(r - 1) * FAULTERS / 2);
        CHECK(CPU_COUNT(&cpus) < 2 || lost > 0);
        CHECK(rmap_check());
        destroy(space);
        check_baseline();
}
#endif
