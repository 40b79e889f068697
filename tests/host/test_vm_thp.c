/*
 * test_vm_thp.c - transparent huge pages over the software MMU of every
 * format: the fault that maps a whole huge page (one large translation over
 * physically contiguous frames, 4 KiB pages in the object), its policy, and
 * everything that must split it without losing a byte: a partial munmap,
 * mprotect, MADV_DONTNEED, a copy-on-write after fork, a split that finds
 * no memory (the whole translation goes instead, also when a copy-on-write
 * has already copied), and a fault with no
 * huge block free (4 KiB pages, counted as a fallback); the huge zero
 * page for reads, replaced by a huge page at the first write.
 */
#include "check.h"
#include "vm_fixture.h"

#include <vm/vm_object.h>
#include <vm/vmstat.h>

#define VA      0x40000000UL            /* aligned for every huge size */

static uint64_t H;                      /* pmap_huge_size() */

static struct vm_space *thp_space(enum vm_thp_policy policy)
{
        setup(64 * MiB);
        vm_thp_policy = policy;
        H = pmap_huge_size();
        return new_space();
}

static void thp_done(struct vm_space *s)
{
        CHECK(vm_space_check(s));
        destroy(s);
        vm_thp_policy = VM_THP_MADVISE;
        check_baseline();
}

/* Fill every page of [va, va + len) with a byte from its index. */
static void fill(struct vm_space *s, vaddr_t va, uint64_t len)
{
        for (uint64_t off = 0; off < len; off += P)
                user_fill(s, va + off, (uint8_t)(off / P * 3 + 1));
}

static bool kept(struct vm_space *s, vaddr_t va, uint64_t len, vaddr_t skip)
{
        for (uint64_t off = 0; off < len; off += P)
                if (va + off != skip && user_read(s, va + off) != (uint8_t)(off / P * 3 + 1))
                        return false;
        return true;
}

TEST(write_fault_maps_a_whole_huge_page)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS);
        uint64_t allocs = vmstat.thp_fault_alloc;
        paddr_t pa;

        map_at(s, VA, 2 * H, RW, PRIV);
        CHECK_EQ(user_access(s, VA + 5 * P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);
        CHECK_EQ(vmstat.thp_fault_alloc, allocs + 1);
        CHECK_EQ(vmstat.anon_pages, H / P);
        CHECK(huge_contiguous(s, VA));
        CHECK(can(s, VA + H - P, W));           /* no more faults */
        CHECK(page_is(frame(s, VA + 7 * P), 0));
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 2 * H), 1);
        fill(s, VA, 2 * H);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 2 * H), 2);
        CHECK(kept(s, VA, 2 * H, 0));
        thp_done(s);
}

TEST(policy_and_eligibility)
{
        struct vm_space *s = thp_space(VM_THP_MADVISE);
        paddr_t pa;

        map_at(s, VA, 2 * H, RW, PRIV);
        CHECK_EQ(user_access(s, VA, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), P);       /* not advised */
        CHECK_EQ(vm_space_advise(s, VA + H, H, VM_MADV_HUGEPAGE), VM_OK);
        CHECK(vm_area_thp_eligible(s, vm_space_lookup(s, VA + H)));
        CHECK_EQ(user_access(s, VA + H, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), H);
        /* A block the area does not wholly cover, or one that holds a page
         * already, stays 4 KiB. */
        vm_thp_policy = VM_THP_ALWAYS;
        map_at(s, VA + 4 * H + P, H, RW, PRIV);
        CHECK_EQ(user_access(s, VA + 4 * H + 2 * P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + 4 * H + 2 * P), P);
        CHECK_EQ(user_access(s, VA + P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + P), P);
        CHECK_EQ(vm_space_advise(s, VA + H, H, VM_MADV_NOHUGEPAGE), VM_OK);
        CHECK(!vm_area_thp_eligible(s, vm_space_lookup(s, VA + H)));
        s->thp_disabled = true;
        CHECK(!vm_area_thp_eligible(s, vm_space_lookup(s, VA)));
        s->thp_disabled = false;
        vm_thp_policy = VM_THP_NEVER;
        CHECK(!vm_area_thp_eligible(s, vm_space_lookup(s, VA)));
        thp_done(s);
}

TEST(partial_unmap_protect_dontneed_split_and_keep_bytes)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS);
        uint64_t splits = vmstat.thp_split_pmd;

        map_at(s, VA, 3 * H, RW, PRIV);
        fill(s, VA, 3 * H);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 3 * H), 3);
        CHECK_EQ(vm_space_unmap(s, VA + 9 * P, P), VM_OK);
        CHECK(!present(s, VA + 9 * P));
        CHECK_EQ(pmap_page_size(s->pmap, VA), P);
        CHECK(kept(s, VA, H, VA + 9 * P));
        CHECK_EQ(vmstat.anon_pages, 3 * H / P - 1);
        CHECK_EQ(vm_space_protect(s, VA + H + 3 * P, 2 * P, R), VM_OK);
        CHECK(!can(s, VA + H + 3 * P, W) && can(s, VA + H + 5 * P, W));
        CHECK(kept(s, VA + H, H, 0));
        CHECK_EQ(vm_space_advise(s, VA + 2 * H + 4 * P, 3 * P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(user_read(s, VA + 2 * H + 5 * P), 0);
        CHECK_EQ(user_read(s, VA + 2 * H + 7 * P), (uint8_t)((H / P * 2 + 7) * 3 + 1));
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 3 * H), 0);
        CHECK(vmstat.thp_split_pmd >= splits + 3);
        CHECK(vm_space_check(s));
        thp_done(s);
}

TEST(fork_keeps_huge_page_and_splits_at_copy_on_write)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS), *c = NULL;
        paddr_t before;

        map_at(s, VA, H, RW, PRIV);
        fill(s, VA, H);
        before = frame(s, VA + 2 * P);
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);       /* read-only, whole */
        CHECK(!can(s, VA, W));
        CHECK(kept(c, VA, H, 0));
        user_fill(s, VA + 2 * P, 0xaa);                 /* parent copies */
        CHECK(frame(s, VA + 2 * P) != before);
        CHECK_EQ(frame(c, VA + 2 * P), before);
        CHECK_EQ(user_read(c, VA + 2 * P), (uint8_t)(2 * 3 + 1));
        CHECK(kept(s, VA, H, VA + 2 * P));
        user_fill(c, VA + 3 * P, 0xbb);
        CHECK_EQ(user_read(s, VA + 3 * P), (uint8_t)(3 * 3 + 1));
        CHECK(vm_space_check(s) && vm_space_check(c));
        destroy(c);
        /* The last sharer again: writes in place, no copy. */
        before = frame(s, VA + 4 * P);
        user_fill(s, VA + 4 * P, 0xcc);
        CHECK_EQ(frame(s, VA + 4 * P), before);
        thp_done(s);
}

TEST(reuse_after_the_child_is_gone_keeps_the_huge_page)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS), *c = NULL;
        uint64_t splits;
        paddr_t before;

        map_at(s, VA, 2 * H, RW, PRIV);
        fill(s, VA, 2 * H);
        before = frame(s, VA);
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        CHECK_EQ(user_read(c, VA + H + P), (uint8_t)((H / P + 1) * 3 + 1));
        user_fill(c, VA + H + P, 0xdd);         /* the child copies one */
        destroy(c);
        splits = vmstat.thp_split_pmd;
        user_fill(s, VA + 3 * P, 0xee);         /* every page ours again */
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);
        CHECK(can(s, VA + H - P, W));
        CHECK_EQ(frame(s, VA), before);
        CHECK_EQ(vmstat.thp_split_pmd, splits);
        user_fill(s, VA + H + 2 * P, 0xef);     /* the other one too */
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), H);
        CHECK_EQ(user_read(s, VA + 3 * P), 0xee);
        CHECK_EQ(user_read(s, VA + 5 * P), (uint8_t)(5 * 3 + 1));
        thp_done(s);
}

/* The page written is the parent's alone (the child copied it), the rest
 * still shared: no reuse of the whole translation, which would let the
 * parent's next write reach a page the child sees. */
TEST(no_reuse_while_the_child_shares_other_pages)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS), *c = NULL;

        map_at(s, VA, H, RW, PRIV);
        fill(s, VA, H);
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        user_fill(c, VA + P, 0x11);             /* the child's copy */
        user_fill(s, VA + P, 0x22);             /* the parent's, in place */
        CHECK_EQ(pmap_page_size(s->pmap, VA + P), P);
        CHECK(!can(s, VA + 2 * P, W));
        user_fill(s, VA + 2 * P, 0x33);         /* shared: the parent copies */
        CHECK_EQ(user_read(c, VA + P), 0x11);
        CHECK(kept(c, VA, H, VA + P));
        CHECK(vm_space_check(s) && vm_space_check(c));
        destroy(c);
        CHECK_EQ(user_read(s, VA + 2 * P), 0x33);
        thp_done(s);
}

TEST(split_without_memory_drops_the_translation)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS);

        map_at(s, VA, 2 * H, RW, PRIV);
        fill(s, VA, 2 * H);
        vm_ptpage_fail_after = 1;               /* the split's table page */
        CHECK_EQ(vm_space_protect(s, VA + P, P, R), VM_OK);
        vm_ptpage_fail_after = 0;
        CHECK_EQ(pmap_page_size(s->pmap, VA), 0);
        vm_ptpage_fail_after = 1;
        CHECK_EQ(vm_space_unmap(s, VA + H + 7 * P, P), VM_OK);
        vm_ptpage_fail_after = 0;
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), 0);
        CHECK(vm_space_check(s));
        CHECK(kept(s, VA, H, 0));
        for (uint64_t off = 0; off < H; off += P)
                if (off != 7 * P)
                        CHECK_EQ(user_read(s, VA + H + off),
                                 (uint8_t)((H + off) / P * 3 + 1));
        CHECK(!can(s, VA + P, W) && can(s, VA + 2 * P, W));
        thp_done(s);
}

/* A copy-on-write inside a shared huge translation whose split finds no
 * table page: the copy is already in the object, so the old translation
 * must not stay (it would keep mapping the frame the child now owns
 * alone); the whole translation goes, the fault reports no memory, and
 * with memory back the write lands in a copy the child never sees. */
TEST(copy_on_write_whose_split_finds_no_memory_drops_the_translation)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS), *c = NULL;
        paddr_t shared;

        map_at(s, VA, H, RW, PRIV);
        fill(s, VA, H);
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        CHECK(kept(c, VA, H, 0));               /* the child maps it too */
        shared = frame(c, VA + 9 * P);
        vm_ptpage_fail_after = 1;               /* the split's table page */
        CHECK_EQ(user_access(s, VA + 9 * P, W, NULL), FAULT_OOM);
        vm_ptpage_fail_after = 0;
        CHECK(vm_space_check(s) && vm_space_check(c));
        CHECK(!present(s, VA + 9 * P));
        CHECK_EQ(pmap_page_size(s->pmap, VA), 0);
        user_fill(s, VA + 9 * P, 0x5a);
        CHECK(frame(s, VA + 9 * P) != shared);
        CHECK_EQ(frame(c, VA + 9 * P), shared);
        CHECK_EQ(user_read(c, VA + 9 * P), (uint8_t)(9 * 3 + 1));
        CHECK(kept(s, VA, H, VA + 9 * P) && kept(c, VA, H, 0));
        destroy(c);
        thp_done(s);
}

TEST(no_huge_block_falls_back_to_small_pages)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS);
        uint64_t fallbacks = vmstat.thp_fault_fallback;
        struct hog h;
        paddr_t pa;

        map_at(s, VA, H, RW, PRIV);
        CHECK_EQ(user_access(s, VA + H / 2, R, &pa), FAULT_RESOLVED);  /* tables */
        hog_take(&h, 8);        /* 8 free pages: no huge block */
        CHECK_EQ(user_access(s, VA, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), P);
        CHECK_EQ(vmstat.thp_fault_fallback, fallbacks + 1);
        hog_release(&h);
        /* The block's other pages still come as one huge page? No: the
         * object holds a page there now; they stay 4 KiB. */
        CHECK_EQ(user_access(s, VA + P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + P), P);
        thp_done(s);
}

TEST(populate_maps_huge_pages_without_splitting)
{
        struct vm_space *s = thp_space(VM_THP_ALWAYS);
        vaddr_t out = 0;

        CHECK_EQ(vm_space_map(s, VA, 2 * H, RW, PRIV | FIXED | VM_MAP_POPULATE, &out),
                 VM_OK);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 2 * H), 2);
        CHECK_EQ(vmstat.anon_pages, 2 * H / P);
        thp_done(s);
}

TEST(huge_zero_page_for_reads_then_a_huge_page_at_the_write)
{
        struct vm_space *s;
        paddr_t pa, zero;
        struct hog h;

        setup(64 * MiB);
        CHECK_EQ(vm_huge_zero_init(), VM_OK);
        rebaseline();
        vm_thp_policy = VM_THP_ALWAYS;
        H = pmap_huge_size();
        s = new_space();
        zero = vm_huge_zero_pa();
        CHECK(zero != 0 && (zero & (H - 1)) == 0);
        map_at(s, VA, 3 * H, RW, PRIV);

        /* A read maps the whole block to the huge zero page, read-only. */
        CHECK_EQ(user_access(s, VA + 3 * P, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);
        CHECK_EQ(frame(s, VA), zero);
        CHECK_EQ(frame(s, VA + H - P), zero + H - P);
        CHECK(can(s, VA + H - P, R) && !can(s, VA, W));
        CHECK_EQ(vmstat.anon_pages, 0);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 3 * H), 0);
        CHECK_EQ(user_read(s, VA + 5 * P), 0);
        CHECK(vm_space_check(s));

        /* The first write: a new huge page over the whole block. */
        CHECK_EQ(user_access(s, VA + 7 * P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);
        CHECK(frame(s, VA) != zero && huge_contiguous(s, VA));
        CHECK_EQ(vmstat.anon_pages, H / P);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 3 * H), 1);
        CHECK(page_is(frame(s, VA + 3 * P), 0));

        /* With no huge block free the write splits the huge zero
         * translation: its other pages still read the zero frames. */
        CHECK_EQ(user_access(s, VA + H, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(frame(s, VA + H), zero);
        hog_take(&h, 8);
        CHECK_EQ(user_access(s, VA + H + P, W, &pa), FAULT_RESOLVED);
        hog_release(&h);
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), P);
        CHECK_EQ(frame(s, VA + H + 2 * P), zero + 2 * P);
        CHECK(can(s, VA + H + P, W) && !can(s, VA + H + 2 * P, W));
        CHECK_EQ(user_read(s, VA + H + 2 * P), 0);
        CHECK_EQ(vmstat.anon_pages, H / P + 1);
        CHECK(vm_space_check(s));
        CHECK(vm_zero_page_check());

        /* Partial unmap and protect inside a huge zero translation. */
        CHECK_EQ(user_access(s, VA + 2 * H, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(vm_space_unmap(s, VA + 2 * H + 4 * P, P), VM_OK);
        CHECK_EQ(vm_space_protect(s, VA + 2 * H + 9 * P, P, VM_PROT_NONE), VM_OK);
        CHECK(!present(s, VA + 2 * H + 4 * P));
        CHECK_EQ(frame(s, VA + 2 * H + 5 * P), zero + 5 * P);
        CHECK(!can(s, VA + 2 * H + 9 * P, R));
        CHECK(vm_space_check(s));

        /* A block with a guard page: 4 KiB zero pages, the guard kept. */
        map_at(s, VA + 5 * H, H, RW, PRIV);
        CHECK_EQ(vm_space_advise(s, VA + 5 * H + 3 * P, P, VM_MADV_GUARD_INSTALL),
                 VM_OK);
        CHECK_EQ(user_access(s, VA + 5 * H, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + 5 * H), P);
        CHECK(!present(s, VA + 5 * H + 3 * P));
        CHECK(vm_space_check(s));

        /* use_zero_page 0: reads map 4 KiB zero pages again. */
        vm_thp_use_zero_page = false;
        map_at(s, VA + 4 * H, H, RW, PRIV);
        CHECK_EQ(user_access(s, VA + 4 * H, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + 4 * H), P);
        CHECK_EQ(frame(s, VA + 4 * H), vm_zero_page_pa());
        vm_thp_use_zero_page = true;
        thp_done(s);
}
