/*
 * test_vm_lazyfree.c - lazily freed pages (MADV_FREE; vm_advise.c,
 * vm_reclaim.c:vm_lazyfree_drop, the write fault's vm_lazyfree_clear)
 * over simulated RAM, the software MMU and, where swap is wanted, the
 * RAM disk of swap_disk.h.
 *
 * After MADV_FREE the pages stay mapped with their bytes, readable but
 * not writable through their translations; a write faults and keeps the
 * page (ordinary anonymous memory again); reclaim frees the pages still
 * lazy without writing them, with or without swap, and they read back as
 * zeroes; MADV_FREE of swapped pages gives their slots back; pages a
 * fork's relative shares are not made lazy, and a lazy page a fork
 * shares since is freed for both; mlock makes a lazy page ordinary;
 * MADV_PAGEOUT frees a lazy page instead of writing it. A random run
 * (write, read, free, reclaim, page-out, munmap) checks against a model
 * that a page not lazy always has its bytes and a lazy one its bytes or
 * zeroes, with every checker after every step. Counters back at the
 * baseline at the end.
 *
 * vm.swappiness: with cold file and anonymous pages of equal number,
 * reclaim takes file pages only at 0, anonymous only at 200, half of
 * each at 100 (vm_reclaim.c:anon_share).
 */
#include "check.h"
#include "vm_fixture.h"

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

#define DISK_PAGES      1024            /* 4 MiB: 1023 slots */
#define BASE            ((vaddr_t)0x40000000)

#include "swap_disk.h"

static uint8_t byte_at(int page, unsigned gen)
{
        return (uint8_t)(0x11 + page * 7 + gen * 31);
}

/* Reclaim until nothing more goes (second chance needs two looks). */
static uint64_t evict_all(void)
{
        uint64_t total = 0;

        for (int i = 0; i < 8; i++)
                total += vm_reclaim(1 << 20);
        return total;
}

static bool lazy(struct vm_space *s, vaddr_t va)
{
        const struct vm_area *a = vm_space_lookup(s, va);
        struct vm_page *pg = a && a->object
                ? vm_object_lookup(a->object,
                                   a->pgoff + ((va - a->start) >> PAGE_SHIFT))
                : NULL;

        return pg && (pg->flags & PG_LAZYFREE);
}

/* ---- directed ---------------------------------------------------------------- */

TEST(lazy_pages_keep_their_bytes_until_reclaim_frees_them_without_swap)
{
        setup(8 * MiB);
        struct vm_space *s = new_space();
        struct vm_events before = vm_events;
        const int n = 32;

        activate(s);
        map_at(s, BASE, n * P, RW, PRIV);
        for (int i = 0; i < n; i++)
                user_fill(s, BASE + i * P, byte_at(i, 0));
        CHECK_EQ(vm_space_advise(s, BASE, n * P, VM_MADV_FREE), VM_OK);
        CHECK_EQ(vm_lazyfree_pages, n);
        CHECK_EQ(vm_events.pglazyfree - before.pglazyfree, n);
        CHECK_EQ(vmstat.anon_pages, n);
        for (int i = 0; i < n; i++) {
                /* mapped, readable, and a write must fault */
                CHECK(present(s, BASE + i * P));
                CHECK(can(s, BASE + i * P, R));
                CHECK(!can(s, BASE + i * P, W));
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(i, 0));
        }
        /* Again: nothing new becomes lazy. */
        CHECK_EQ(vm_space_advise(s, BASE, n * P, VM_MADV_FREE), VM_OK);
        CHECK_EQ(vm_events.pglazyfree - before.pglazyfree, n);
        CHECK(vm_reclaim_check() && rmap_check());
        /* Written again before reclaim: kept, ordinary again. */
        user_fill(s, BASE, byte_at(0, 1));
        user_fill(s, BASE + 10 * P, byte_at(10, 1));
        CHECK(!lazy(s, BASE) && !lazy(s, BASE + 10 * P) && lazy(s, BASE + P));
        CHECK_EQ(vm_lazyfree_pages, n - 2);
        /* The pmap drops a lazy page's translation (PROT_NONE and back):
         * a read maps it again read-only, so a write still faults. */
        CHECK_EQ(vm_space_protect(s, BASE + 20 * P, P, VM_PROT_NONE), VM_OK);
        CHECK_EQ(vm_space_protect(s, BASE + 20 * P, P, RW), VM_OK);
        CHECK(!present(s, BASE + 20 * P));
        CHECK_EQ(user_read(s, BASE + 20 * P), byte_at(20, 0));
        CHECK(lazy(s, BASE + 20 * P) && !can(s, BASE + 20 * P, W));
        user_fill(s, BASE + 20 * P, byte_at(20, 1));
        CHECK(!lazy(s, BASE + 20 * P));
        CHECK_EQ(vm_lazyfree_pages, n - 3);
        /* Reclaim without swap frees the others, writing nothing. */
        CHECK(evict_all() >= (uint64_t)n - 3);
        CHECK_EQ(vm_events.pglazyfreed - before.pglazyfreed, n - 3);
        CHECK_EQ(vm_lazyfree_pages, 0);
        CHECK_EQ(vmstat.anon_pages, 3);
        CHECK(vm_reclaim_check() && rmap_check());
        for (int i = 0; i < n; i++) {
                uint8_t want = i == 0 || i == 10 || i == 20 ? byte_at(i, 1) : 0;
                CHECK_EQ(user_read(s, BASE + i * P), want);
        }
        /* A freed page written again is an ordinary new page. */
        user_fill(s, BASE + 5 * P, byte_at(5, 2));
        CHECK(evict_all() == 0);
        CHECK_EQ(user_read(s, BASE + 5 * P), byte_at(5, 2));
        activate(NULL);
        destroy(s);
        check_baseline();
}

TEST(with_swap_lazy_pages_are_dropped_not_written)
{
        swap_setup(8 * MiB);
        struct vm_space *s = new_space();
        struct swap_events sw = swap_events;
        const int n = 64;

        activate(s);
        map_at(s, BASE, n * P, RW, PRIV);
        for (int i = 0; i < n; i++)
                user_fill(s, BASE + i * P, byte_at(i, 0));
        CHECK_EQ(vm_space_advise(s, BASE + 32 * P, 32 * P, VM_MADV_FREE), VM_OK);
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(swap_events.pswpout - sw.pswpout, 32);  /* the others only */
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 32);
        CHECK(sound());
        for (int i = 32; i < n; i++)
                CHECK_EQ(user_read(s, BASE + i * P), 0);
        /* MADV_FREE of swapped pages: their slots go, they read zero. */
        CHECK_EQ(vm_space_advise(s, BASE, 16 * P, VM_MADV_FREE), VM_OK);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 16);
        CHECK(sound());
        for (int i = 0; i < 32; i++)
                CHECK_EQ(user_read(s, BASE + i * P), i < 16 ? 0 : byte_at(i, 0));
        /* PAGEOUT frees a lazy page instead of writing it. */
        user_fill(s, BASE + 40 * P, byte_at(40, 1));
        CHECK_EQ(vm_space_advise(s, BASE + 40 * P, P, VM_MADV_FREE), VM_OK);
        sw = swap_events;
        CHECK_EQ(vm_space_advise(s, BASE + 40 * P, P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(swap_events.pswpout, sw.pswpout);
        CHECK(!present(s, BASE + 40 * P));
        CHECK_EQ(user_read(s, BASE + 40 * P), 0);
        CHECK(sound());
        activate(NULL);
        destroy(s);
        swap_teardown();
}

TEST(fork_sharing_and_lazy_pages)
{
        setup(8 * MiB);
        struct vm_space *p = new_space(), *c = NULL;
        const int n = 8;

        activate(p);
        map_at(p, BASE, 2 * n * P, RW, PRIV);
        for (int i = 0; i < 2 * n; i++)
                user_fill(p, BASE + i * P, byte_at(i, 0));
        /* Pages shared with a child when MADV_FREE comes stay ordinary
         * (Linux skips pages mapped more than once). */
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        CHECK_EQ(vm_space_advise(p, BASE + n * P, n * P, VM_MADV_FREE), VM_OK);
        CHECK_EQ(vm_lazyfree_pages, 0);
        activate(NULL);
        destroy(c);
        c = NULL;
        /* Lazy first, then shared by fork: a write copies (the child's
         * copy is ordinary), and reclaim frees the still-lazy pages of
         * both. */
        activate(p);
        CHECK_EQ(vm_space_advise(p, BASE, n * P, VM_MADV_FREE), VM_OK);
        CHECK_EQ(vm_lazyfree_pages, n);
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        activate(c);
        CHECK_EQ(user_read(c, BASE + 2 * P), byte_at(2, 0));
        user_fill(c, BASE, byte_at(0, 1));
        CHECK(!lazy(c, BASE) && lazy(p, BASE));
        CHECK(vm_reclaim_check() && rmap_check());
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(vm_lazyfree_pages, 0);
        CHECK(vm_reclaim_check() && rmap_check());
        for (int i = 0; i < n; i++)
                CHECK_EQ(user_read(c, BASE + i * P), i == 0 ? byte_at(0, 1) : 0);
        activate(p);
        for (int i = 0; i < 2 * n; i++)
                CHECK_EQ(user_read(p, BASE + i * P), i < n ? 0 : byte_at(i, 0));
        activate(NULL);
        destroy(c);
        destroy(p);
        check_baseline();
}

/* A write that makes its page writable in place widens the neighbours
 * with it (vm_fault.c:reuse_around), never a lazy one: its first write
 * must still fault and keep it. */
TEST(reuse_around_leaves_lazy_pages_write_protected)
{
        setup(8 * MiB);
        struct vm_space *s = new_space();

        activate(s);
        map_at(s, BASE, 16 * P, RW, PRIV);      /* one reuse-around window */
        for (int i = 0; i < 16; i++)
                user_fill(s, BASE + i * P, byte_at(i, 0));
        CHECK_EQ(vm_space_advise(s, BASE + 8 * P, 8 * P, VM_MADV_FREE), VM_OK);
        /* mprotect leaves every translation read-only until a write. */
        CHECK_EQ(vm_space_protect(s, BASE, 16 * P, VM_PROT_READ), VM_OK);
        CHECK_EQ(vm_space_protect(s, BASE, 16 * P, RW), VM_OK);
        user_fill(s, BASE, byte_at(0, 1));
        CHECK_EQ(s->stats.cow_reuses_around, 7);
        for (int i = 1; i < 16; i++) {
                CHECK_EQ(can(s, BASE + i * P, W), i < 8);
                CHECK_EQ(lazy(s, BASE + i * P), i >= 8);
        }
        user_fill(s, BASE + 9 * P, byte_at(9, 1));      /* faults: kept */
        CHECK(!lazy(s, BASE + 9 * P) && lazy(s, BASE + 10 * P));
        CHECK_EQ(vm_lazyfree_pages, 7);
        CHECK(evict_all() >= 7);
        CHECK_EQ(vm_lazyfree_pages, 0);
        for (int i = 0; i < 16; i++)
                CHECK_EQ(user_read(s, BASE + i * P),
                         i == 0 || i == 9 ? byte_at(i, 1)
                         : i < 8 ? byte_at(i, 0) : 0);
        CHECK(vm_space_check(s) && vm_reclaim_check() && rmap_check());
        destroy(s);
        check_baseline();
}

TEST(mlock_makes_a_lazy_page_ordinary)
{
        setup(8 * MiB);
        struct vm_space *s = new_space();

        activate(s);
        map_at(s, BASE, 4 * P, RW, PRIV);
        for (int i = 0; i < 4; i++)
                user_fill(s, BASE + i * P, byte_at(i, 0));
        CHECK_EQ(vm_space_advise(s, BASE, 4 * P, VM_MADV_FREE), VM_OK);
        CHECK_EQ(vm_space_set_lock(s, BASE, 2 * P, VM_AREA_LOCKED), VM_OK);
        CHECK_EQ(vm_space_populate(s, BASE, 2 * P), VM_OK);
        CHECK_EQ(vm_lazyfree_pages, 2);
        /* FREE of a locked range is refused (Linux: EINVAL). */
        CHECK_EQ(vm_space_advise(s, BASE, P, VM_MADV_FREE), VM_EINVAL);
        evict_all();
        for (int i = 0; i < 4; i++)
                CHECK_EQ(user_read(s, BASE + i * P), i < 2 ? byte_at(i, 0) : 0);
        CHECK(vm_reclaim_check() && rmap_check());
        activate(NULL);
        destroy(s);
        check_baseline();
}

/* ---- vm.swappiness ----------------------------------------------------------- */

#define FILE_PAGES      64
static uint8_t file_data[FILE_PAGES * 4096];

/* 64 cold file pages and 64 cold anonymous pages, and reclaim asked for
 * 32: swappiness 0 takes file pages only, 200 anonymous pages only, 100
 * half of each (equal lists, equal cost). */
TEST(swappiness_balances_anonymous_against_file_pages)
{
        static const unsigned sw[] = { 0, 100, 200, 60 };
        static const unsigned want_anon[] = { 0, 16, 32, 9 };   /* 32*60/200 */
        const vaddr_t fva = 0x20000000;

        for (size_t i = 0; i < sizeof file_data; i++)
                file_data[i] = (uint8_t)(i / P + 1);
        swap_setup(8 * MiB);
        for (unsigned k = 0; k < 4; k++) {
                struct vm_space *s = new_space();
                struct vm_object *f;
                vaddr_t out;

                CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f),
                         VM_OK);
                activate(s);
                CHECK_EQ(vm_space_map_file(s, fva, FILE_PAGES * P, R,
                                           SHARED | FIXED, f, 0, &out), VM_OK);
                map_at(s, BASE, FILE_PAGES * P, RW, PRIV);
                for (int i = 0; i < FILE_PAGES; i++) {
                        CHECK_EQ(user_read(s, fva + i * P), i + 1);
                        user_fill(s, BASE + i * P, byte_at(i, 0));
                }
                CHECK_EQ(vm_space_advise(s, fva, FILE_PAGES * P, VM_MADV_COLD), VM_OK);
                CHECK_EQ(vm_space_advise(s, BASE, FILE_PAGES * P, VM_MADV_COLD), VM_OK);
                vm_swappiness = sw[k];
                uint64_t out0 = swap_events.pswpout;
                uint64_t freed = vm_reclaim(32);
                uint64_t anon = swap_events.pswpout - out0;
                printf("    swappiness %u: %" PRIu64 " anonymous, %" PRIu64
                       " file\n", sw[k], anon, freed - anon);
                CHECK_EQ(freed, 32);
                CHECK_EQ(anon, want_anon[k]);
                CHECK(sound());
                activate(NULL);
                destroy(s);
                vm_object_unref(f);
        }
        vm_swappiness = VM_SWAPPINESS_DEFAULT;
        swap_teardown();
}

/* ---- random model ------------------------------------------------------------ */

#define MPAGES  48

static struct {
        uint8_t byte[MPAGES];           /* 0: never written, or dropped */
        bool    lazy[MPAGES];           /* may read as byte or as zero */
} m;

static uint64_t rnd_state;

static unsigned rnd(unsigned n)
{
        rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
        return (unsigned)(rnd_state >> 33) % n;
}

static void model_read(struct vm_space *s, int i)
{
        uint8_t got = user_read(s, BASE + (vaddr_t)i * P);

        if (m.lazy[i] && got == 0) {
                m.byte[i] = 0;          /* it was dropped: zero from now */
                m.lazy[i] = false;
        }
        CHECK_EQ(got, m.byte[i]);
}

static void model_step(struct vm_space *s, unsigned step)
{
        int i = (int)rnd(MPAGES), len = 1 + (int)rnd(8);

        len = MIN(len, MPAGES - i);
        switch (rnd(7)) {
        case 0: case 1:                 /* write */
                m.byte[i] = (uint8_t)(1 + rnd(255));
                m.lazy[i] = false;
                user_fill(s, BASE + (vaddr_t)i * P, m.byte[i]);
                break;
        case 2:                         /* read */
                model_read(s, i);
                break;
        case 3:                         /* free */
                CHECK_EQ(vm_space_advise(s, BASE + (vaddr_t)i * P,
                                         (uint64_t)len * P, VM_MADV_FREE), VM_OK);
                for (int k = i; k < i + len; k++)
                        m.lazy[k] = m.byte[k] != 0;
                break;
        case 4:                         /* reclaim some */
                vm_reclaim(1 + rnd(24));
                break;
        case 5:                         /* page out */
                CHECK_EQ(vm_space_advise(s, BASE + (vaddr_t)i * P,
                                         (uint64_t)len * P, VM_MADV_PAGEOUT), VM_OK);
                break;
        default:                        /* DONTNEED: zero-fill */
                CHECK_EQ(vm_space_advise(s, BASE + (vaddr_t)i * P,
                                         (uint64_t)len * P, VM_MADV_DONTNEED), VM_OK);
                for (int k = i; k < i + len; k++) {
                        m.byte[k] = 0;
                        m.lazy[k] = false;
                }
                break;
        }
        if (!sound()) {
                printf("  after step %u\n", step);
                CHECK(false);
        }
}

TEST(random_write_read_free_reclaim_against_a_model)
{
        uint64_t freed = vm_events.pglazyfreed;

        for (uint64_t seed = 1; seed <= 8; seed++) {
                swap_setup(8 * MiB);
                struct vm_space *s = new_space();

                rnd_state = seed;
                memset(&m, 0, sizeof m);
                activate(s);
                map_at(s, BASE, MPAGES * P, RW, PRIV);
                for (unsigned step = 0; step < 600; step++)
                        model_step(s, step);
                for (int i = 0; i < MPAGES; i++)
                        model_read(s, i);
                activate(NULL);
                destroy(s);
                CHECK_EQ(vm_lazyfree_pages, 0);
                swap_teardown();
        }
        CHECK(vm_events.pglazyfreed - freed > 100);     /* it did drop */
}
