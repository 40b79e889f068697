/*
 * test_vm_swap.c - anonymous memory on swap (kernel/vm/vm_swap.c) over
 * simulated RAM, the software MMU and a RAM disk with mkswap's header.
 *
 * Evicted pages leave every translation and come back with their bytes
 * on the next access (a major fault, with read-around); a page shared by
 * fork is written once, read once into the swap cache and stays one
 * frame for both, copied on write after; exit, munmap and copy-on-write
 * give slots back; a failed write keeps the pages, a failed read is
 * SIGBUS and leaves the entry; swapoff reads everything back; mlocked
 * pages stay. A random model (fork, exit, write, read, evict, munmap,
 * page-out) checks every byte, the reverse map, the lists and that each
 * slot's users are exactly the entries held (vm_swap_check) after every
 * step, and a run with every page allocation failing in turn (pmm
 * failure injection) loses nothing. Counters back at the baseline at
 * the end.
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
#define BASE            ((vaddr_t)0x40000000)

#include "swap_disk.h"


static uint8_t byte_at(vaddr_t va, unsigned gen)
{
        return (uint8_t)(0x11 + (va >> PAGE_SHIFT) * 7 + gen * 31);
}

static uint64_t nswapped(struct vm_space *s, vaddr_t va)
{
        const struct vm_area *a = vm_space_lookup(s, va);

        return a && a->object ? a->object->nswapped : 0;
}

/* Reclaim until nothing more goes (second chance needs two looks). */
static uint64_t evict_all(void)
{
        uint64_t total = 0, n;

        for (int i = 0; i < 8; i++) {
                n = vm_reclaim(1 << 20);
                total += n;
        }
        return total;
}

/* ---- directed ---------------------------------------------------------------- */

TEST(evicted_pages_come_back_with_their_bytes)
{
        swap_setup(8 * MiB);
        struct vm_space *s = new_space();
        struct swap_events before = swap_events;
        uint64_t maj = vm_events.pgmajfault;

        activate(s);
        map_at(s, BASE, 64 * P, RW, PRIV);
        for (int i = 0; i < 64; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 0));
        CHECK_EQ(vm_space_advise(s, BASE, 64 * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(nswapped(s, BASE), 64);
        CHECK_EQ(vmstat.anon_pages, 0);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 64);
        CHECK_EQ(swap_events.pswpout - before.pswpout, 64);
        for (int i = 0; i < 64; i++)
                CHECK(!present(s, BASE + i * P));
        /* A page on swap is not nothing: a read without the lock must not
         * map the zero page there (it is the lock's, which reads it in). */
        CHECK(!vm_fault_nolock(s, BASE + 5 * P, R) && !present(s, BASE + 5 * P));
        CHECK(sound());
        /* Read back in order: one major fault per 8-page window, whose
         * other 7 reads are in flight together (one disk round trip). */
        ram.max_in_flight = 0;
        for (int i = 0; i < 64; i++) {
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 0));
                CHECK(page_is(frame(s, BASE + i * P), byte_at(BASE + i * P, 0)));
        }
        CHECK_EQ(vm_events.pgmajfault - maj, 8);
        CHECK_EQ(ram.max_in_flight, 7);
        CHECK_EQ(swap_events.pswpin - before.pswpin, 64);
        CHECK_EQ(nswapped(s, BASE), 0);
        /* Read, not written: the slots are kept (swap is not half full) */
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 64);
        CHECK_EQ(vm_swap_cached_pages(), 64);
        CHECK(sound());
        /* Written, evicted by reclaim this time, written again. */
        for (int i = 0; i < 64; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 1));
        CHECK_EQ(slots_free(), DISK_PAGES - 1);         /* written: freed */
        CHECK_EQ(vm_swap_cached_pages(), 0);
        CHECK(evict_all() >= 64);
        CHECK_EQ(nswapped(s, BASE), 64);
        CHECK(sound());
        for (int i = 63; i >= 0; i--)
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 1));
        activate(NULL);
        destroy(s);
        swap_teardown();
}

/* A private mapping of a file whose own copies went to swap: a read
 * without the lock must not map the file's page there (the copy on swap
 * hides it); where the area has no copy it maps the file's (since
 * session 27). */
TEST(a_copy_on_swap_hides_the_file_from_lock_free_reads)
{
        swap_setup(8 * MiB);
        struct vm_object *f = cache_file(16);
        struct vm_space *s = new_space();
        vaddr_t data = 0;

        cache_fill(f, 0, 16);
        activate(s);
        CHECK_EQ(vm_space_map_file(s, BASE, 16 * P, RW, PRIV | FIXED, f, 0,
                                   &data), VM_OK);
        for (int i = 0; i < 8; i++)
                user_fill(s, data + i * P, 0x77);       /* copies */
        CHECK_EQ(vm_space_advise(s, data, 8 * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(nswapped(s, data), 8);
        CHECK(!vm_fault_nolock(s, data + 3 * P, R) && !present(s, data + 3 * P));
        CHECK(vm_fault_nolock(s, data + 11 * P, R));
        CHECK(frame(s, data + 11 * P) == pmm_page_to_pa(vm_object_lookup(f, 11)) &&
              !can(s, data + 11 * P, W));
        /* Its window maps the file's other pages, not those on swap. */
        CHECK(present(s, data + 12 * P) && !present(s, data + 5 * P));
        CHECK_EQ(user_read(s, data + 3 * P), 0x77);     /* read back in */
        CHECK_EQ(user_read(s, data + 12 * P), 13);
        CHECK(sound());
        activate(NULL);
        destroy(s);
        vm_object_unref(f);
        swap_teardown();
}

TEST(a_page_read_back_keeps_its_slot_until_written)
{
        swap_setup(8 * MiB);
        struct vm_space *s = new_space();
        uint64_t out;
        const int n = 32, big = 600;    /* 600 of 1023 slots: over half */

        activate(s);
        map_at(s, BASE, big * P, RW, PRIV);
        for (int i = 0; i < n; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 0));
        CHECK_EQ(vm_space_advise(s, BASE, n * P, VM_MADV_PAGEOUT), VM_OK);
        for (int i = 0; i < n; i++) {
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 0));
                CHECK(!can(s, BASE + i * P, W));        /* a write faults */
        }
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - n);
        CHECK_EQ(vm_swap_cached_pages(), n);
        CHECK(sound());
        /* Evicted again unwritten: no write, the object has its entries. */
        out = swap_events.pswpout;
        CHECK_EQ(vm_space_advise(s, BASE, n * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(swap_events.pswpout, out);
        CHECK_EQ(nswapped(s, BASE), n);
        CHECK_EQ(vm_swap_cached_pages(), 0);
        CHECK(sound());
        /* Read back again; eight written: their slots go, and only they
         * are written at the next eviction. */
        for (int i = 0; i < n; i++)
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 0));
        paddr_t f0 = frame(s, BASE);
        for (int i = 0; i < 8; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 1));
        CHECK_EQ(frame(s, BASE), f0);           /* written in place */
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - (n - 8));
        CHECK(sound());
        CHECK_EQ(vm_space_advise(s, BASE, n * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(swap_events.pswpout - out, 8);
        for (int i = 0; i < n; i++)
                CHECK_EQ(user_read(s, BASE + i * P),
                         byte_at(BASE + i * P, i < 8 ? 1 : 0));
        /* munmap of kept pages gives their slots back at once. */
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - n);
        CHECK_EQ(vm_space_unmap(s, BASE + 16 * P, 16 * P), VM_OK);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 16);
        CHECK(sound());
        /* Swap over half full: a page read back lets its slot go. */
        for (int i = 32; i < big; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 0));
        CHECK_EQ(vm_space_advise(s, BASE + 32 * P, (big - 32) * P,
                                 VM_MADV_PAGEOUT), VM_OK);
        CHECK(vm_swap_full());
        uint64_t free0 = slots_free(), cached0 = vm_swap_cached_pages();
        CHECK_EQ(user_read(s, BASE + 40 * P), byte_at(BASE + 40 * P, 0));
        CHECK_EQ(slots_free(), free0 + 8);              /* the window */
        CHECK_EQ(vm_swap_cached_pages(), cached0);
        CHECK(sound());
        /* swapoff with kept slots: the copies go, the pages stay. */
        CHECK_EQ(vm_space_unmap(s, BASE + 32 * P, (big - 32) * P), VM_OK);
        CHECK(!vm_swap_full() && vm_swap_cached_pages() == 16);
        CHECK_EQ(swap_off(&ram.bd), 0);
        CHECK_EQ(vm_swap_cached_pages(), 0);
        CHECK(sound());
        for (int i = 0; i < 16; i++)
                CHECK_EQ(user_read(s, BASE + i * P),
                         byte_at(BASE + i * P, i < 8 ? 1 : 0));
        activate(NULL);
        destroy(s);
        check_baseline();
}

TEST(fork_shares_swapped_pages_through_the_cache)
{
        swap_setup(8 * MiB);
        struct vm_space *p = new_space(), *c = NULL;
        struct swap_events before;
        const int n = 16;

        activate(p);
        map_at(p, BASE, n * P, RW, PRIV);
        for (int i = 0; i < n; i++)
                user_fill(p, BASE + i * P, byte_at(BASE + i * P, 0));
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        CHECK(evict_all() >= (uint64_t)n);
        CHECK_EQ(nswapped(p, BASE), n);
        CHECK_EQ(nswapped(c, BASE), n);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - n);     /* one slot each */
        CHECK(sound());
        before = swap_events;
        activate(c);
        CHECK_EQ(user_read(c, BASE), byte_at(BASE, 0));
        /* The window came in; the parent still names every slot, so the
         * cache keeps them. */
        CHECK_EQ(swap_events.pswpin - before.pswpin, 8);
        CHECK_EQ(vm_swap_cached_pages(), 8);
        uint8_t vec[1];
        CHECK_EQ(vm_space_residency(p, BASE + 3 * P, 1, vec), 1);
        CHECK_EQ(vec[0], 1);                    /* cached: resident */
        CHECK(sound());
        activate(p);
        CHECK_EQ(user_read(p, BASE), byte_at(BASE, 0));
        CHECK_EQ(frame(p, BASE), frame(c, BASE));       /* one frame */
        CHECK_EQ(swap_events.pswpin - before.pswpin, 8);  /* no new read */
        CHECK_EQ(vm_swap_cached_pages(), 7);
        CHECK(sound());
        /* Copy on write after swap-in, both ways. */
        user_fill(p, BASE, byte_at(BASE, 5));
        CHECK(frame(p, BASE) != frame(c, BASE));
        activate(c);
        CHECK_EQ(user_read(c, BASE), byte_at(BASE, 0));
        user_fill(c, BASE + P, byte_at(BASE + P, 6));
        activate(p);
        CHECK_EQ(user_read(p, BASE + P), byte_at(BASE + P, 0));
        CHECK(sound());
        /* The child exits: its entries go, cached pages only it kept
         * alive go with the parent's next look. */
        activate(NULL);
        destroy(c);
        CHECK(sound());
        activate(p);
        for (int i = 2; i < n; i++)
                CHECK_EQ(user_read(p, BASE + i * P), byte_at(BASE + i * P, 0));
        /* The child's window went with the parent's look; the second
         * window, read by the parent alone, keeps its slots. */
        CHECK_EQ(vm_swap_cached_pages(), 8);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 8);
        CHECK(sound());
        activate(NULL);
        destroy(p);
        swap_teardown();
}

TEST(exit_and_munmap_give_slots_back)
{
        swap_setup(8 * MiB);
        struct vm_space *p = new_space(), *c = NULL;

        activate(p);
        map_at(p, BASE, 32 * P, RW, PRIV);
        for (int i = 0; i < 32; i++)
                user_fill(p, BASE + i * P, 1);
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        CHECK(evict_all() >= 32);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 32);
        CHECK_EQ(vm_space_unmap(p, BASE, 16 * P), VM_OK);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 32);    /* the child's */
        CHECK(sound());
        activate(NULL);
        destroy(c);
        CHECK_EQ(slots_free(), DISK_PAGES - 1 - 16);
        CHECK(sound());
        destroy(p);
        swap_teardown();
}

TEST(a_failed_write_keeps_the_pages_a_failed_read_is_sigbus)
{
        swap_setup(8 * MiB);
        struct vm_space *s = new_space();

        activate(s);
        map_at(s, BASE, 16 * P, RW, PRIV);
        for (int i = 0; i < 16; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 0));
        ram.fail_write = 8 * 5 + 1;             /* slot 5's sector */
        CHECK_EQ(vm_space_advise(s, BASE, 16 * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK(nswapped(s, BASE) < 16);          /* the failed one stayed */
        CHECK(sound());
        for (int i = 0; i < 16; i++)
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 0));
        CHECK_EQ(nswapped(s, BASE), 0);
        /* read back, not written: only the slots kept for them are used */
        CHECK_EQ(slots_free() + vm_swap_cached_pages(), DISK_PAGES - 1);
        /* Now every page out, and the read of one fails. */
        CHECK_EQ(vm_space_advise(s, BASE, 16 * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(nswapped(s, BASE), 16);
        swp_entry_t e = vm_object_swap_entry(vm_space_lookup(s, BASE)->object,
                                             BASE >> PAGE_SHIFT);
        ram.fail_read = (uint64_t)SWP_SLOT(e) * 8 + 1;
        uint64_t free_before = pmm_free_count();
        CHECK_EQ(user_access(s, BASE, R, NULL), FAULT_BUS);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_SWAP_IO);
        CHECK_EQ(pmm_free_count(), free_before);        /* nothing kept */
        CHECK_EQ(nswapped(s, BASE), 16);
        CHECK(sound());
        /* The disk recovers: the bytes are still there. */
        for (int i = 0; i < 16; i++)
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 0));
        activate(NULL);
        destroy(s);
        swap_teardown();
}

/* A read-around read that fails leaves only that page on swap: the
 * fault and the window's other pages are in, and the next touch of the
 * failed one reads it again. */
TEST(a_failed_read_around_read_leaves_that_page_on_swap)
{
        swap_setup(8 * MiB);
        struct vm_space *s = new_space();

        activate(s);
        map_at(s, BASE, 8 * P, RW, PRIV);
        for (int i = 0; i < 8; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 0));
        CHECK_EQ(vm_space_advise(s, BASE, 8 * P, VM_MADV_PAGEOUT), VM_OK);
        CHECK_EQ(nswapped(s, BASE), 8);
        swp_entry_t e = vm_object_swap_entry(vm_space_lookup(s, BASE)->object,
                                             (BASE >> PAGE_SHIFT) + 3);
        uint64_t errors = swap_events.read_errors;
        ram.fail_read = (uint64_t)SWP_SLOT(e) * 8 + 1;
        CHECK_EQ(user_read(s, BASE), byte_at(BASE, 0));
        CHECK_EQ(swap_events.read_errors - errors, 1);
        CHECK_EQ(nswapped(s, BASE), 1);                 /* page 3 only */
        CHECK_EQ(vm_space_lookup(s, BASE)->object->npages, 7);
        CHECK(sound());
        for (int i = 0; i < 8; i++)
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 0));
        CHECK_EQ(nswapped(s, BASE), 0);
        activate(NULL);
        destroy(s);
        swap_teardown();
}

TEST(swapoff_reads_everything_back)
{
        swap_setup(8 * MiB);
        struct vm_space *p = new_space(), *c = NULL;

        activate(p);
        map_at(p, BASE, 40 * P, RW, PRIV);
        for (int i = 0; i < 40; i++)
                user_fill(p, BASE + i * P, byte_at(BASE + i * P, 2));
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        user_fill(c, BASE, 0x77);
        CHECK(evict_all() >= 40);
        CHECK(nswapped(p, BASE) == 40 && nswapped(c, BASE) == 40);
        CHECK_EQ(swap_off(&ram.bd), 0);
        CHECK(nswapped(p, BASE) == 0 && nswapped(c, BASE) == 0);
        CHECK(sound());
        activate(c);
        CHECK_EQ(user_read(c, BASE), 0x77);
        for (int i = 1; i < 40; i++)
                CHECK_EQ(user_read(c, BASE + i * P), byte_at(BASE + i * P, 2));
        activate(p);
        for (int i = 0; i < 40; i++)
                CHECK_EQ(user_read(p, BASE + i * P), byte_at(BASE + i * P, 2));
        CHECK_EQ(frame(p, BASE + 9 * P), frame(c, BASE + 9 * P)); /* shared */
        activate(NULL);
        destroy(c);
        destroy(p);
        check_baseline();
}

TEST(mlocked_pages_stay)
{
        swap_setup(8 * MiB);
        struct vm_space *s = new_space();

        activate(s);
        map_at(s, BASE, 16 * P, RW, PRIV);
        map_at(s, BASE + 16 * P, 16 * P, RW, PRIV);
        CHECK_EQ(vm_space_set_lock(s, BASE, 16 * P, VM_AREA_LOCKED), VM_OK);
        for (int i = 0; i < 32; i++)
                user_fill(s, BASE + i * P, 3);
        evict_all();
        for (int i = 0; i < 16; i++)
                CHECK(present(s, BASE + i * P));
        CHECK_EQ(nswapped(s, BASE + 16 * P) , 16);
        CHECK(sound());
        activate(NULL);
        destroy(s);
        swap_teardown();
}

/* ---- random model ------------------------------------------------------------ */

#define MSPACES 4
#define MPAGES  24

struct mspace {
        struct vm_space *s;
        bool    mapped[MPAGES];
        uint8_t byte[MPAGES];           /* 0: never written (reads zero) */
};

static struct mspace ms[MSPACES];

static void model_check_page(struct mspace *m, int i)
{
        vaddr_t va = BASE + i * P;

        activate(m->s);
        if (m->mapped[i]) {
                CHECK_EQ(user_read(m->s, va), m->byte[i]);
                CHECK(page_is(frame(m->s, va), m->byte[i]));
        } else {
                CHECK_EQ(user_access(m->s, va, R, NULL), FAULT_SEGV);
        }
}

static uint64_t rnd_state;

static unsigned rnd(unsigned n)
{
        rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (unsigned)(rnd_state >> 33) % n;
}

/* One random step; false if it ran out of memory (injection). */
static void model_step(void)
{
        int k = rnd(MSPACES), i = rnd(MPAGES), j;
        struct mspace *m = &ms[k];

        if (!m->s) {                            /* a new process */
                m->s = new_space();
                activate(m->s);
                map_at(m->s, BASE, MPAGES * P, RW, PRIV);
                for (i = 0; i < MPAGES; i++) {
                        m->mapped[i] = true;
                        m->byte[i] = (uint8_t)(1 + rnd(250));
                        user_fill(m->s, BASE + i * P, m->byte[i]);
                }
                return;
        }
        switch (rnd(12)) {
        case 0:                                 /* fork */
                for (j = 0; j < MSPACES && ms[j].s; j++)
                        ;
                if (j == MSPACES)
                        return;
                CHECK_EQ(vm_space_fork(m->s, &ms[j].s), VM_OK);
                memcpy(ms[j].mapped, m->mapped, sizeof m->mapped);
                memcpy(ms[j].byte, m->byte, sizeof m->byte);
                return;
        case 1:                                 /* exit, now and then */
                if (rnd(3))
                        return;
                activate(NULL);
                destroy(m->s);
                m->s = NULL;
                return;
        case 2:                                 /* write */
                if (!m->mapped[i])
                        return;
                activate(m->s);
                m->byte[i] = (uint8_t)(1 + rnd(250));
                user_fill(m->s, BASE + i * P, m->byte[i]);
                return;
        case 3: case 8: case 9: case 10:        /* read */
                model_check_page(m, i);
                return;
        default:                                /* reclaim, twice: a second
                                                 * look evicts what the
                                                 * first found unused */
                j = 1 + rnd(64);
                vm_reclaim(j);
                vm_reclaim(j);
                return;
        case 5:                                 /* page out a range */
                j = rnd(MPAGES - i) + 1;
                activate(m->s);
                (void)vm_space_advise(m->s, BASE + i * P, j * P,
                                      VM_MADV_PAGEOUT);
                return;
        case 6:                                 /* munmap a page */
                if (!m->mapped[i])
                        return;
                CHECK_EQ(vm_space_unmap(m->s, BASE + i * P, P), VM_OK);
                m->mapped[i] = false;
                return;
        case 7:                                 /* remap a hole */
                if (m->mapped[i])
                        return;
                map_at(m->s, BASE + i * P, P, RW, PRIV);
                m->mapped[i] = true;
                m->byte[i] = 0;
                return;
        }
}

static void model_run(uint64_t seed, int steps)
{
        rnd_state = seed;
        memset(ms, 0, sizeof ms);
        for (int n = 0; n < steps; n++) {
                model_step();
                CHECK(sound());
                for (int k = 0; k < MSPACES; k++)
                        if (ms[k].s)
                                CHECK(vm_space_check(ms[k].s));
        }
        for (int k = 0; k < MSPACES; k++) {
                if (!ms[k].s)
                        continue;
                for (int i = 0; i < MPAGES; i++)
                        model_check_page(&ms[k], i);
        }
        activate(NULL);
        for (int k = 0; k < MSPACES; k++)
                if (ms[k].s)
                        destroy(ms[k].s);
}

TEST(random_fork_exit_evict_touch_munmap_against_a_model)
{
        struct swap_events before = swap_events;
        uint64_t maj = vm_events.pgmajfault;

        for (uint64_t seed = 1; seed <= 12; seed++) {
                swap_setup(4 * MiB);
                model_run(seed, 600);
                swap_teardown();
        }
        /* The runs did swap, both ways (else they proved nothing). */
        printf("model: %" PRIu64 " pages out, %" PRIu64 " in, %" PRIu64
               " major faults\n", swap_events.pswpout - before.pswpout,
               swap_events.pswpin - before.pswpin,
               vm_events.pgmajfault - maj);
        CHECK(swap_events.pswpout - before.pswpout > 1000);
        CHECK(swap_events.pswpin - before.pswpin > 500);
        CHECK(vm_events.pgmajfault - maj > 200);
}

/* Every page allocation failing in turn during swap-in and eviction:
 * a fault that finds no memory says so and changes nothing, so the
 * retry (as vm_fault's after reclaim) sees the same bytes. */
TEST(allocation_failure_during_swap_in_loses_nothing)
{
        swap_setup(8 * MiB);
        struct vm_space *p = new_space(), *c = NULL;

        activate(p);
        map_at(p, BASE, 32 * P, RW, PRIV);
        for (int i = 0; i < 32; i++)
                user_fill(p, BASE + i * P, byte_at(BASE + i * P, 4));
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        for (uint64_t fail = 1; fail <= 12; fail++) {
                CHECK(evict_all() > 0);
                CHECK(sound());
                pmm_fail_after = fail;
                for (int i = 0; i < 32; i++) {
                        struct vm_space *s = (i & 1) ? c : p;
                        enum fault_result r;

                        activate(s);
                        r = user_access(s, BASE + i * P, R, NULL);
                        CHECK(r == FAULT_RESOLVED || r == FAULT_OOM);
                }
                pmm_fail_after = 0;
                CHECK(sound());
                for (int i = 0; i < 32; i++) {
                        activate(p);
                        CHECK_EQ(user_read(p, BASE + i * P), byte_at(BASE + i * P, 4));
                        activate(c);
                        CHECK_EQ(user_read(c, BASE + i * P), byte_at(BASE + i * P, 4));
                }
                CHECK(sound());
        }
        activate(NULL);
        destroy(c);
        destroy(p);
        swap_teardown();
}

/* ---- what /proc and the picture feed see; MADV_WILLNEED ---------------------- */

#include <vm/vm_view.h>

struct run_seen {
        unsigned runs;
        uint64_t swapped, other;
};

static bool see_run(void *arg, const struct vm_page_run *r)
{
        struct run_seen *rs = arg;

        rs->runs++;
        if (r->state == VV_SWAPPED)
                rs->swapped += r->npages;
        else
                rs->other += r->npages;
        return true;
}

TEST(swapped_pages_in_page_info_the_feed_and_willneed)
{
        swap_setup(8 * MiB);
        struct vm_space *s = new_space();
        struct vm_page_info pi;
        struct run_seen rs = { 0 };
        uint8_t vec[16];
        bool cut;

        activate(s);
        map_at(s, BASE, 16 * P, RW, PRIV);
        for (int i = 0; i < 16; i++)
                user_fill(s, BASE + i * P, byte_at(BASE + i * P, 0));
        CHECK_EQ(vm_space_advise(s, BASE, 16 * P, VM_MADV_PAGEOUT), VM_OK);
        const struct vm_area *a = vm_space_lookup(s, BASE);
        vm_space_page_info(s, a, BASE + 3 * P, &pi);
        CHECK_EQ(pi.kind, VM_PAGE_SWAPPED);
        CHECK(!pi.mapped);
        CHECK_EQ(pi.swap, vm_object_swap_entry(a->object, (BASE >> PAGE_SHIFT) + 3));
        CHECK(vm_swap_entry_valid(pi.swap));
        vm_area_page_runs(s, a, 1 << 20, NULL, see_run, &rs, &cut);
        CHECK_EQ(rs.runs, 1);
        CHECK_EQ(rs.swapped, 16);
        CHECK_EQ(strcmp(vm_view_page_name(VV_SWAPPED), "swapped"), 0);
        /* WILLNEED reads the first half back into the object, unmapped. */
        uint64_t maj = vm_events.pgmajfault, in = swap_events.pswpin;
        CHECK_EQ(vm_space_advise(s, BASE, 8 * P, VM_MADV_WILLNEED), VM_OK);
        CHECK_EQ(nswapped(s, BASE), 8);
        CHECK_EQ(swap_events.pswpin - in, 8);
        CHECK_EQ(vm_space_residency(s, BASE, 16, vec), 16);
        for (int i = 0; i < 16; i++) {
                CHECK(!present(s, BASE + i * P));
                CHECK_EQ(vec[i], i < 8);
        }
        for (int i = 0; i < 8; i++)
                CHECK_EQ(user_read(s, BASE + i * P), byte_at(BASE + i * P, 0));
        CHECK_EQ(vm_events.pgmajfault, maj);            /* minor faults */
        CHECK(sound());
        activate(NULL);
        destroy(s);
        swap_teardown();
}
