/*
 * test_vm_swap_shared.c - shared memory on swap (issue 16): the pages of
 * page-cache objects (tmpfs and memfd files, here with an immutable
 * source as the initramfs' files have, and a mount's quota), of shared
 * anonymous objects (MAP_SHARED|MAP_ANONYMOUS) and their unevictable
 * kin, over simulated RAM, the software MMU and a RAM disk.
 *
 * Reclaim unmaps a shared page from every space that maps it (shared
 * and private mappings of the file alike) and gives its object a swap
 * entry; every way to the page then meets the entry: faults through any
 * mapping (major, with read-around), the object's own lookup (read(),
 * write()), truncation into a swapped page (its tail still zeroed),
 * holes (the slot goes; under the source the page reads zeroes, not the
 * source), swapoff (the object may be mapped nowhere), the object's end
 * (every slot back). A page read back is never dropped as clean. The
 * quota keeps counting swapped pages, vmstat's shmem counts resident
 * ones only. A random model (writes through mappings and the object,
 * reads, reclaim, page-out, truncate, holes, fork of a space, swapoff
 * and swapon) checks every byte and every checker after each step, then
 * again with the N-th page allocation failing.
 */
#include "check.h"
#include "vm_fixture.h"

#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/types.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/swap.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_swap.h>
#include <vm/vmstat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISK_PAGES      1024            /* 4 MiB: 1023 slots */
#define VA_SH           ((vaddr_t)0x40000000)   /* shared mapping */
#define VA_PRIV         ((vaddr_t)0x50000000)   /* private mapping */
#define VA_ANON         ((vaddr_t)0x60000000)   /* shared anonymous */

#include "swap_disk.h"


static uint64_t evict_all(void)
{
        uint64_t total = 0;

        for (int i = 0; i < 8; i++)
                total += vm_reclaim(1 << 20);
        return total;
}

/* ---- the object's side: what read() and write() do ---------------------------- */

/* write(): the page made resident (from swap if there), marked written,
 * filled with byte. */
static void obj_fill(struct vm_object *o, uint64_t idx, uint8_t byte)
{
        struct vm_page *pg;
        uint8_t *p;

        CHECK_EQ(vm_object_get_page(o, idx, &pg), VM_OK);
        pg->flags |= PG_DIRTY;
        p = pmap_quick_enter_page(pmm_page_to_pa(pg));
        memset(p, byte, PAGE_SIZE);
        pmap_quick_remove_page(p);
}

static bool obj_page_is(struct vm_object *o, uint64_t idx, uint8_t byte)
{
        struct vm_page *pg;

        return vm_object_get_page(o, idx, &pg) == VM_OK &&
               page_is(pmm_page_to_pa(pg), byte);
}

static uint8_t pat(uint64_t idx, unsigned gen)
{
        return (uint8_t)(0x21 + idx * 5 + gen * 37);
}

/* Cut a file to `bytes` as truncate does: translations first. */
static void truncate_to(struct vm_object *o, uint64_t bytes)
{
        if (bytes < o->bytes)
                vm_spaces_unmap_object(o, page_round(bytes) >> PAGE_SHIFT,
                                       o->size, true);
        CHECK_EQ(vm_object_resize(o, bytes), VM_OK);
}

static void punch(struct vm_object *o, uint64_t first, uint64_t end)
{
        vm_spaces_unmap_object(o, first, end, false);
        CHECK_EQ(vm_object_punch_hole(o, first, end), VM_OK);
}

/* ---- directed --------------------------------------------------------------------- */

#define SRC_BYTES       (3 * P + 100)
static uint8_t src[SRC_BYTES];

TEST(tmpfs_pages_go_to_swap_from_every_mapping_and_come_back)
{
        struct vm_quota q = { .limit = 64 };
        struct vm_object *o;
        struct vm_space *s1, *s2;
        struct swap_events before;
        const int n = 32;
        vaddr_t at;

        swap_setup(8 * MiB);
        memset(src, 0xee, sizeof src);
        CHECK_EQ(vm_object_create_cache(src, SRC_BYTES, &o), VM_OK);
        vm_object_set_quota(o, &q);
        CHECK_EQ(vm_object_resize(o, n * P), VM_OK);
        s1 = new_space();
        s2 = new_space();
        CHECK_EQ(vm_space_map_file(s1, VA_SH, n * P, RW, SHARED | FIXED |
                                   VM_MAP_MAYWRITE, o, 0, &at), VM_OK);
        CHECK_EQ(vm_space_map_file(s2, VA_SH, n * P, RW, SHARED | FIXED |
                                   VM_MAP_MAYWRITE, o, 0, &at), VM_OK);
        CHECK_EQ(vm_space_map_file(s2, VA_PRIV, n * P, RW, PRIV | FIXED,
                                   o, 0, &at), VM_OK);
        /* Even pages by write(), odd ones through s1's mapping; s2 reads
         * all of them through both of its mappings. */
        for (int i = 0; i < n; i += 2)
                obj_fill(o, i, pat(i, 0));
        activate(s1);
        for (int i = 1; i < n; i += 2)
                user_fill(s1, VA_SH + i * P, pat(i, 0));
        activate(s2);
        for (int i = 0; i < n; i++) {
                CHECK_EQ(user_read(s2, VA_SH + i * P), pat(i, 0));
                CHECK_EQ(user_read(s2, VA_PRIV + i * P), pat(i, 0));
        }
        CHECK_EQ(vmstat.shmem_pages, (uint64_t)n);
        CHECK_EQ(q.used, (uint64_t)n);
        before = swap_events;
        activate(NULL);
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(o->nswapped, (uint64_t)n);
        CHECK_EQ(o->npages, 0);
        CHECK_EQ(vmstat.shmem_pages, 0);        /* Shmem: resident only */
        CHECK_EQ(q.used, (uint64_t)n);          /* size=: swapped count */
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - n);
        CHECK_EQ(swap_events.pswpout - before.pswpout, (uint64_t)n);
        for (int i = 0; i < n; i++) {
                CHECK(!present(s1, VA_SH + i * P));
                CHECK(!present(s2, VA_SH + i * P));
                CHECK(!present(s2, VA_PRIV + i * P));
        }
        CHECK(sound() && vm_object_check(o));
        /* A fault through the private mapping reads its window back. */
        uint64_t maj = vm_events.pgmajfault;
        activate(s2);
        CHECK_EQ(user_read(s2, VA_PRIV + 5 * P), pat(5, 0));
        CHECK_EQ(vm_events.pgmajfault - maj, 1);
        CHECK_EQ(o->nswapped, (uint64_t)n - 8);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - n + 8);
        /* Page 1 lies under the source: read back, it is the written
         * bytes, and reclaim must write it again, never drop it. */
        CHECK(obj_page_is(o, 1, pat(1, 0)));
        activate(NULL);
        CHECK(evict_all() >= 8);
        CHECK_EQ(o->nswapped, (uint64_t)n);
        CHECK(obj_page_is(o, 1, pat(1, 0)));
        CHECK(sound());
        /* read() of the rest, through the object; a shared fault after. */
        for (int i = 0; i < n; i++)
                CHECK(obj_page_is(o, i, pat(i, 0)));
        CHECK_EQ(o->nswapped, 0);
        CHECK_EQ(slots_free(), DISK_PAGES - 1);
        activate(s1);
        for (int i = 0; i < n; i++)
                CHECK_EQ(user_read(s1, VA_SH + i * P), pat(i, 0));
        activate(NULL);
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(o->nswapped, (uint64_t)n);
        /* Truncate into swapped page 10: its tail reads zeroes when the
         * file grows again; the slots past it are free. */
        truncate_to(o, 10 * P + 100);
        CHECK_EQ(o->nswapped, 10);
        CHECK_EQ(o->npages, 1);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 10);
        CHECK_EQ(q.used, 11);
        CHECK(sound() && vm_object_check(o));
        CHECK_EQ(vm_object_resize(o, n * P), VM_OK);
        struct vm_page *pg;
        CHECK_EQ(vm_object_get_page(o, 10, &pg), VM_OK);
        uint8_t *p = pmap_quick_enter_page(pmm_page_to_pa(pg));
        CHECK_EQ(p[99], pat(10, 0));
        CHECK_EQ(p[100], 0);
        CHECK_EQ(p[PAGE_SIZE - 1], 0);
        pmap_quick_remove_page(p);
        CHECK(obj_page_is(o, 20, 0));
        /* A hole over swapped pages under the source: zeroes, not the
         * source's bytes; the slots go. */
        CHECK_EQ(o->nswapped, 10);
        punch(o, 1, 4);
        CHECK_EQ(o->nswapped, 7);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 7);
        for (int i = 1; i < 4; i++)
                CHECK(obj_page_is(o, i, 0));
        CHECK(obj_page_is(o, 0, pat(0, 0)));
        CHECK(sound() && vm_object_check(o));
        /* The end: every slot back, the quota empty. */
        destroy(s1);
        destroy(s2);
        vm_object_unref(o);
        CHECK_EQ(q.used, 0);
        CHECK_EQ(vmstat.shmem_pages, 0);
        swap_teardown();
}

/* A file no shared mapping could write (an initramfs file only read()
 * and write()n): its pages written by write() go to swap; read back,
 * they are not the source's bytes any more, so reclaim writes them out
 * again and never drops them as clean. */
/* A private mapping's own copies of a file's pages, paged out: a read
 * fault nearby maps the file's pages around it (fault-around), but never
 * over an index whose copy is on swap - the copy comes back by its own
 * fault. (Before the fix, most copies read the file's bytes.) */
TEST(private_copies_on_swap_are_not_hidden_by_the_file)
{
        struct vm_object *o;
        struct vm_space *s;
        const int n = 32;
        vaddr_t at;

        swap_setup(8 * MiB);
        CHECK_EQ(vm_object_create_cache(NULL, 0, &o), VM_OK);
        CHECK_EQ(vm_object_resize(o, n * P), VM_OK);
        for (int i = 0; i < n; i++)
                obj_fill(o, i, pat(i, 0));
        s = new_space();
        CHECK_EQ(vm_space_map_file(s, VA_PRIV, n * P, RW, PRIV | FIXED,
                                   o, 0, &at), VM_OK);
        activate(s);
        for (int i = 0; i < n; i += 4)
                user_fill(s, VA_PRIV + i * P, pat(i, 1));
        CHECK_EQ(vm_space_advise(s, VA_PRIV, n * P, VM_MADV_PAGEOUT), VM_OK);
        for (int i = 0; i < n; i += 4)
                CHECK(!present(s, VA_PRIV + i * P));
        for (int i = 0; i < n; i++)
                CHECK_EQ(user_read(s, VA_PRIV + i * P),
                         pat(i, i % 4 ? 0 : 1));
        CHECK(sound() && vm_object_check(o));
        activate(NULL);
        destroy(s);
        vm_object_unref(o);
        swap_teardown();
}

TEST(a_page_read_back_is_never_dropped_as_clean)
{
        struct vm_object *o;
        const int n = 4;                /* all under the source */

        swap_setup(8 * MiB);
        memset(src, 0xee, sizeof src);
        CHECK_EQ(vm_object_create_cache(src, SRC_BYTES, &o), VM_OK);
        for (int i = 0; i < n; i++)
                obj_fill(o, i, pat(i, 6));
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(o->nswapped, (uint64_t)n);
        for (int i = 0; i < n; i++)
                CHECK(obj_page_is(o, i, pat(i, 6)));    /* read() */
        CHECK_EQ(o->nswapped, 0);
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(o->nswapped, (uint64_t)n);             /* written again */
        for (int i = 0; i < n; i++)
                CHECK(obj_page_is(o, i, pat(i, 6)));
        /* Pages never written are the source's: dropped, not swapped. */
        CHECK_EQ(vm_object_resize(o, SRC_BYTES), VM_OK);
        vm_object_unref(o);
        CHECK_EQ(vm_object_create_cache(src, SRC_BYTES, &o), VM_OK);
        struct vm_page *pg;
        for (int i = 0; i < 3; i++)
                CHECK(obj_page_is(o, i, 0xee));
        CHECK_EQ(vm_object_get_page(o, 3, &pg), VM_OK);
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(o->nswapped, 0);
        CHECK_EQ(o->npages, 0);
        CHECK(sound());
        vm_object_unref(o);
        swap_teardown();
}

TEST(shared_anonymous_memory_across_fork)
{
        struct vm_space *p, *c = NULL;
        const int n = 24;

        swap_setup(8 * MiB);
        p = new_space();
        activate(p);
        map_at(p, VA_ANON, n * P, RW, SHARED);
        for (int i = 0; i < n; i++)
                user_fill(p, VA_ANON + i * P, pat(i, 1));
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        struct vm_object *o = vm_space_lookup(p, VA_ANON)->object;
        CHECK(o == vm_space_lookup(c, VA_ANON)->object);
        activate(NULL);
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(o->nswapped, (uint64_t)n);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - n);     /* one slot a page */
        CHECK(sound());
        /* The child reads and writes; the parent sees its writes, in the
         * same frames. */
        activate(c);
        for (int i = 0; i < n; i++)
                CHECK_EQ(user_read(c, VA_ANON + i * P), pat(i, 1));
        user_fill(c, VA_ANON + 3 * P, pat(3, 2));
        activate(p);
        CHECK_EQ(user_read(p, VA_ANON + 3 * P), pat(3, 2));
        CHECK_EQ(frame(p, VA_ANON + 3 * P), frame(c, VA_ANON + 3 * P));
        activate(NULL);
        CHECK(evict_all() >= (uint64_t)n);
        activate(p);
        CHECK_EQ(user_read(p, VA_ANON + 3 * P), pat(3, 2));
        CHECK_EQ(user_read(p, VA_ANON + 4 * P), pat(4, 1));
        CHECK(sound());
        /* WILLNEED reads the swapped pages back into the object (LTP
         * madvise06): the touches after it are minor faults. */
        activate(NULL);
        evict_all();
        CHECK_EQ(o->nswapped, (uint64_t)n);
        activate(p);
        CHECK_EQ(vm_space_advise(p, VA_ANON, 8 * P, VM_MADV_WILLNEED), VM_OK);
        CHECK_EQ(o->nswapped, (uint64_t)n - 8);
        uint64_t maj = vm_events.pgmajfault;
        CHECK_EQ(user_read(p, VA_ANON + 3 * P), pat(3, 2));
        CHECK_EQ(user_read(p, VA_ANON + 7 * P), pat(7, 1));
        CHECK_EQ(vm_events.pgmajfault, maj);
        CHECK(sound());
        /* The parent goes; the child keeps the object and its entries. */
        activate(NULL);
        destroy(p);
        CHECK(o->nswapped > 0);
        CHECK(sound());
        destroy(c);
        swap_teardown();
}

TEST(unevictable_and_mlocked_shared_memory_stays)
{
        struct vm_space *s;
        const int n = 16;

        swap_setup(8 * MiB);
        s = new_space();
        activate(s);
        map_at(s, VA_ANON, n * P, RW, SHARED);                  /* SHM_LOCK */
        map_at(s, VA_ANON + n * P, n * P, RW, SHARED);          /* mlock */
        map_at(s, VA_ANON + 2 * n * P, n * P, RW, SHARED);      /* neither */
        struct vm_object *locked = vm_space_lookup(s, VA_ANON)->object;
        struct vm_object *free_ = vm_space_lookup(s, VA_ANON + 2 * n * P)->object;
        locked->unevictable = true;
        CHECK_EQ(vm_space_set_lock(s, VA_ANON + n * P, n * P, VM_AREA_LOCKED),
                 VM_OK);
        for (int i = 0; i < 3 * n; i++)
                user_fill(s, VA_ANON + i * P, pat(i, 3));
        activate(NULL);
        evict_all();
        for (int i = 0; i < 2 * n; i++)
                CHECK(present(s, VA_ANON + i * P));
        CHECK_EQ(locked->nswapped, 0);
        CHECK_EQ(free_->nswapped, (uint64_t)n);
        /* Unlocked again (SHM_UNLOCK), it may go. */
        locked->unevictable = false;
        evict_all();
        CHECK_EQ(locked->nswapped, (uint64_t)n);
        activate(s);
        for (int i = 0; i < 3 * n; i++)
                CHECK_EQ(user_read(s, VA_ANON + i * P), pat(i, 3));
        CHECK(sound());
        activate(NULL);
        destroy(s);
        swap_teardown();
}

TEST(swapoff_reads_back_shared_objects_mapped_nowhere)
{
        struct vm_object *o;
        struct vm_space *s;
        const int n = 40;

        swap_setup(8 * MiB);
        CHECK_EQ(vm_object_create_cache(NULL, 0, &o), VM_OK);
        CHECK_EQ(vm_object_resize(o, n * P), VM_OK);
        for (int i = 0; i < n; i++)
                obj_fill(o, i, pat(i, 4));
        s = new_space();
        activate(s);
        map_at(s, VA_ANON, n * P, RW, SHARED);
        for (int i = 0; i < n; i++)
                user_fill(s, VA_ANON + i * P, pat(i, 5));
        activate(NULL);
        CHECK(evict_all() >= 2 * (uint64_t)n);
        CHECK_EQ(o->nswapped, (uint64_t)n);
        CHECK(sound());
        CHECK_EQ(swap_off(&ram.bd), 0);
        CHECK_EQ(o->nswapped, 0);
        CHECK_EQ(vm_space_lookup(s, VA_ANON)->object->nswapped, 0);
        CHECK(sound() && vm_object_check(o));
        for (int i = 0; i < n; i++)
                CHECK(obj_page_is(o, i, pat(i, 4)));
        activate(s);
        for (int i = 0; i < n; i++)
                CHECK_EQ(user_read(s, VA_ANON + i * P), pat(i, 5));
        activate(NULL);
        destroy(s);
        vm_object_unref(o);
        check_baseline();
}

/* ---- random model ---------------------------------------------------------------- */

#define MSP     3
#define MPG     24

static struct {
        struct vm_object *file;         /* a tmpfs file, mapped shared */
        struct vm_space  *s[MSP];       /* each maps the file at VA_SH and a
                                         * shared anonymous object at VA_ANON */
        uint8_t fbyte[MPG];             /* the file's pages (whole) */
        uint64_t fpages;                /* the file's length in pages */
        uint8_t abyte[MPG];             /* the anonymous object's pages */
        bool swap_on;
} M;

static uint64_t rnd_state;

static unsigned rnd(unsigned n)
{
        rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (unsigned)(rnd_state >> 33) % n;
}

/* A step may fail for want of memory (injection): VM_ENOMEM / FAULT_OOM
 * change nothing, so the model stays as it was. */
static bool injecting;

static bool ok_or_oom(vm_status_t st)
{
        CHECK(st == VM_OK || (injecting && st == VM_ENOMEM));
        return st == VM_OK;
}

static bool access_ok(struct vm_space *s, vaddr_t va, vm_prot_t acc)
{
        enum fault_result r = user_access(s, va, acc, NULL);

        CHECK(r == FAULT_RESOLVED || (injecting && r == FAULT_OOM));
        return r == FAULT_RESOLVED;
}

static void model_page_check(unsigned k, unsigned i)
{
        struct vm_space *s = M.s[k];
        paddr_t pa;

        activate(s);
        if (i < M.fpages && access_ok(s, VA_SH + i * P, R)) {
                CHECK(user_access(s, VA_SH + i * P, R, &pa) == FAULT_RESOLVED);
                CHECK(page_is(page_trunc(pa), M.fbyte[i]));
        }
        if (i >= M.fpages)
                CHECK_EQ(user_access(s, VA_SH + i * P, R, NULL), FAULT_BUS);
        if (access_ok(s, VA_ANON + i * P, R)) {
                CHECK(user_access(s, VA_ANON + i * P, R, &pa) == FAULT_RESOLVED);
                CHECK(page_is(page_trunc(pa), M.abyte[i]));
        }
}

static void model_step(void)
{
        unsigned k = rnd(MSP), i = rnd(MPG), j;
        struct vm_space *s = M.s[k];
        struct vm_page *pg;
        uint8_t b = (uint8_t)(1 + rnd(250));

        activate(NULL);
        switch (rnd(14)) {
        case 0:                                 /* write() a page */
                if (i >= M.fpages)
                        return;
                if (!ok_or_oom(vm_object_get_page(M.file, i, &pg)))
                        return;
                obj_fill(M.file, i, b);
                M.fbyte[i] = b;
                return;
        case 1:                                 /* store through a mapping */
                activate(s);
                if (i < M.fpages && rnd(2)) {
                        if (access_ok(s, VA_SH + i * P, W)) {
                                user_fill(s, VA_SH + i * P, b);
                                M.fbyte[i] = b;
                        }
                } else if (access_ok(s, VA_ANON + i * P, W)) {
                        user_fill(s, VA_ANON + i * P, b);
                        M.abyte[i] = b;
                }
                return;
        case 2: case 3:                         /* loads */
                model_page_check(k, i);
                return;
        case 4:                                 /* read() */
                if (i < M.fpages &&
                    ok_or_oom(vm_object_get_page(M.file, i, &pg)))
                        CHECK(page_is(pmm_page_to_pa(pg), M.fbyte[i]));
                return;
        case 5: case 6: case 7:                 /* reclaim */
                j = 1 + rnd(64);
                vm_reclaim(j);
                vm_reclaim(j);
                return;
        case 8:                                 /* page out the anon area */
                activate(s);
                (void)vm_space_advise(s, VA_ANON, MPG * P, VM_MADV_PAGEOUT);
                evict_all();
                return;
        case 9:                                 /* truncate to whole pages */
                j = rnd(MPG + 1);
                if (j < M.fpages) {
                        truncate_to(M.file, (uint64_t)j * P);
                        M.fpages = j;
                } else if (ok_or_oom(vm_object_resize(M.file,
                                                      (uint64_t)j * P))) {
                        for (unsigned x = M.fpages; x < j; x++)
                                M.fbyte[x] = 0;
                        M.fpages = j;
                }
                return;
        case 10:                                /* a hole */
                j = i + 1 + rnd(4);
                if (j > M.fpages)
                        return;
                punch(M.file, i, j);
                for (unsigned x = i; x < j; x++)
                        M.fbyte[x] = 0;
                return;
        case 11:                                /* a space forks, the old
                                                 * one exits */
                if (rnd(3))
                        return;
                {
                        struct vm_space *c = NULL;
                        if (!ok_or_oom(vm_space_fork(s, &c)))
                                return;
                        destroy(s);
                        M.s[k] = c;
                }
                return;
        case 12:                                /* swapoff, swapon */
                if (rnd(4))
                        return;
                if (M.swap_on) {
                        long r = swap_off(&ram.bd);
                        CHECK(r == 0 || (injecting && r == -ENOMEM));
                        if (r == 0) {
                                M.swap_on = false;
                                CHECK_EQ(M.file->nswapped, 0);
                        }
                } else {
                        long r = mkswap_on();
                        CHECK(r == 0 || (injecting && r == -ENOMEM));
                        M.swap_on = r == 0;
                }
                return;
        default:                                /* a page check anywhere */
                model_page_check(rnd(MSP), rnd(MPG));
                return;
        }
}

static void model_run(uint64_t seed, int steps, uint64_t fail_after)
{
        vaddr_t at;

        rnd_state = seed;
        memset(&M, 0, sizeof M);
        M.swap_on = true;
        M.fpages = MPG;
        CHECK_EQ(vm_object_create_cache(NULL, 0, &M.file), VM_OK);
        CHECK_EQ(vm_object_resize(M.file, MPG * P), VM_OK);
        M.s[0] = new_space();
        activate(M.s[0]);
        map_at(M.s[0], VA_ANON, MPG * P, RW, SHARED);
        CHECK_EQ(vm_space_map_file(M.s[0], VA_SH, MPG * P, RW, SHARED |
                                   FIXED | VM_MAP_MAYWRITE, M.file, 0, &at),
                 VM_OK);
        for (unsigned k = 1; k < MSP; k++)
                CHECK_EQ(vm_space_fork(M.s[0], &M.s[k]), VM_OK);
        injecting = fail_after != 0;
        pmm_fail_after = fail_after;
        for (int n = 0; n < steps; n++) {
                uint64_t left;

                model_step();
                activate(NULL);
                left = pmm_fail_after;  /* the checkers' memory is theirs */
                pmm_fail_after = 0;
                CHECK(sound());
                CHECK(vm_object_check(M.file));
                for (unsigned k = 0; k < MSP; k++)
                        CHECK(vm_space_check(M.s[k]));
                pmm_fail_after = left;
        }
        pmm_fail_after = 0;
        injecting = false;
        for (unsigned k = 0; k < MSP; k++)
                for (unsigned i = 0; i < MPG; i++)
                        model_page_check(k, i);
        activate(NULL);
        for (unsigned k = 0; k < MSP; k++)
                destroy(M.s[k]);
        vm_object_unref(M.file);
        if (!M.swap_on)
                CHECK_EQ(mkswap_on(), 0);
}

TEST(random_shared_memory_against_a_model)
{
        struct swap_events before = swap_events;
        uint64_t maj = vm_events.pgmajfault;

        for (uint64_t seed = 1; seed <= 10; seed++) {
                swap_setup(4 * MiB);
                model_run(seed, 500, 0);
                swap_teardown();
        }
        printf("model: %" PRIu64 " pages out, %" PRIu64 " in, %" PRIu64
               " major faults\n", swap_events.pswpout - before.pswpout,
               swap_events.pswpin - before.pswpin,
               vm_events.pgmajfault - maj);
        CHECK(swap_events.pswpout - before.pswpout > 1000);
        CHECK(swap_events.pswpin - before.pswpin > 500);
        CHECK(vm_events.pgmajfault - maj > 100);
}

TEST(random_shared_memory_with_allocations_failing)
{
        for (uint64_t fail = 3; fail <= 60; fail += 3) {
                swap_setup(4 * MiB);
                model_run(100 + fail, 120, fail);
                swap_teardown();
        }
}
