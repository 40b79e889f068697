/*
 * test_vm_view.c - the picture feed's core queries (kernel/vm/vm_view.c)
 * over simulated RAM: frame runs cover every frame once, in order, with
 * free runs made of whole aligned buddy blocks that add up to the
 * allocator's free count; an area's page runs after fork and writes say
 * private, copy-on-write (with the count), zero and not present where the
 * model says, and cover the area; the frame map then counts as many user
 * frames as vmstat; a scan limit cuts an area into one unscanned run.
 */
#include "check.h"
#include "vm_fixture.h"

#include <mercator/types.h>
#include <vm/pmm.h>
#include <vm/vm_space.h>
#include <vm/vm_view.h>
#include <vm/vmstat.h>

struct frame_sums {
        uint64_t total, free, owner[VF_NR], runs;
        paddr_t  next;
        bool     ordered, whole_blocks;
};

static bool sum_frames(void *arg, const struct vm_frame_run *r)
{
        struct frame_sums *s = arg;
        uint64_t block = 1ULL << r->order;

        if (r->pa != s->next)
                s->ordered = false;
        s->next = r->pa + (r->npages << PAGE_SHIFT);
        s->total += r->npages;
        s->owner[r->owner] += r->npages;
        s->runs++;
        if (r->owner == VF_FREE) {
                s->free += r->npages;
                if (r->npages % block ||
                    ((r->pa - pmm_ram_base()) >> PAGE_SHIFT) % block)
                        s->whole_blocks = false;
        }
        return true;
}

static void frames(struct vm_frame_map *m, struct frame_sums *s)
{
        *s = (struct frame_sums){ .next = pmm_ram_base(), .ordered = true,
                                  .whole_blocks = true };
        vm_frame_runs(m, sum_frames, s);
}

TEST(frame_runs_cover_ram_and_count_free)
{
        struct vm_frame_map m;
        struct frame_sums s;

        setup(32 * MiB);
        CHECK(vm_frame_map_init(&m));
        frames(&m, &s);
        CHECK(s.ordered);
        CHECK_EQ(s.total, pmm_npages());
        /* The map is allocated: free is counted with it held. */
        CHECK_EQ(s.free, pmm_free_count());
        CHECK(s.whole_blocks);
        CHECK(s.runs >= 2);
        /* The map holds pages of its own, shown as heap or vmalloc. */
        CHECK(s.owner[m.vmalloced ? VF_VMALLOC : VF_SLAB] >= m.held_pages);
        CHECK_EQ(s.owner[VF_ZERO], 1);
        vm_frame_map_free(&m);
        check_baseline();
}

struct page_sums {
        uint64_t state[VV_NR], pages, runs, cow_refs_bad;
        vaddr_t  next;
        bool     ordered;
};

static bool sum_pages(void *arg, const struct vm_page_run *r)
{
        struct page_sums *s = arg;

        if (r->va != s->next)
                s->ordered = false;
        s->next = r->va + r->npages * PAGE_SIZE;
        s->state[r->state] += r->npages;
        s->pages += r->npages;
        s->runs++;
        if (r->state == VV_COW && r->refcount != 2)
                s->cow_refs_bad++;
        return true;
}

static void pages(struct vm_space *sp, vaddr_t va, uint64_t max,
                  struct vm_frame_map *m, struct page_sums *s, bool *cut)
{
        const struct vm_area *a = vm_space_lookup(sp, va);

        *s = (struct page_sums){ .next = va, .ordered = true };
        CHECK(a != NULL);
        vm_area_page_runs(sp, a, max, m, sum_pages, s, cut);
}

TEST(page_runs_after_fork_and_writes)
{
        vaddr_t va = 0x10000000, out = 0;
        struct vm_space *p, *c = NULL;
        struct vm_frame_map m;
        struct page_sums s;
        struct frame_sums f;
        bool cut;

        setup(32 * MiB);
        p = new_space();
        activate(p);
        CHECK_EQ(vm_space_map(p, va, 8 * P, RW, PRIV | FIXED, &out), VM_OK);
        for (unsigned i = 0; i < 6; i++)
                user_fill(p, va + i * P, 0x20 + i);
        pages(p, va, ~0ULL, NULL, &s, &cut);
        CHECK(!cut && s.ordered && s.pages == 8);
        CHECK_EQ(s.state[VV_PRIVATE], 6);
        CHECK_EQ(s.state[VV_NOT_PRESENT], 2);
        CHECK(s.runs >= 2);             /* fresh frames may not be in a row */

        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        for (unsigned i = 0; i < 8; i++)
                user_read(c, va + i * P);       /* 6 shared, 2 zero page */
        user_fill(c, va, 0xc0);
        user_fill(c, va + P, 0xc1);

        CHECK(vm_frame_map_init(&m));
        pages(p, va, ~0ULL, &m, &s, &cut);
        CHECK(s.ordered && s.pages == 8 && !s.cow_refs_bad);
        CHECK_EQ(s.state[VV_PRIVATE], 2);
        CHECK_EQ(s.state[VV_COW], 4);
        CHECK_EQ(s.state[VV_NOT_PRESENT], 2);
        pages(c, va, ~0ULL, &m, &s, &cut);
        CHECK(s.ordered && s.pages == 8 && !s.cow_refs_bad);
        CHECK_EQ(s.state[VV_PRIVATE], 2);
        CHECK_EQ(s.state[VV_COW], 4);
        CHECK_EQ(s.state[VV_ZERO], 2);
        /* Every user frame was marked by the two walks. */
        frames(&m, &f);
        CHECK_EQ(f.owner[VF_ANON], vmstat.anon_pages);
        CHECK_EQ(f.owner[VF_ANON], 8);
        vm_frame_map_free(&m);

        /* A scan limit: the rest is one run, reported cut. */
        pages(c, va, 3, NULL, &s, &cut);
        CHECK(cut && s.ordered && s.pages == 8);
        CHECK_EQ(s.state[VV_NOT_PRESENT], 5);
        CHECK_EQ(s.state[VV_PRIVATE] + s.state[VV_COW], 3);

        activate(NULL);
        destroy(c);
        destroy(p);
        check_baseline();
}
