/*
 * test_vm_shmthp.c - transparent huge pages of shared memory (issue 17's
 * second step) over the software MMU of every format: the policy
 * (shmem_enabled, a mount's huge=, MADV_HUGEPAGE, within_size) against a
 * model written apart from the kernel's; the fault that gives a shared
 * anonymous object or a tmpfs file a whole huge block and maps it with one
 * large translation, and maps that block large again from another space;
 * what must split the translation or break the block without losing a
 * byte: a partial munmap and mprotect, truncation across a block, a hole,
 * swap-out of one page; no free block (4 KiB, counted as a fallback); the
 * counters (ShmemHugePages, ShmemPmdMapped once per block) and the
 * placement that makes a mapping huge-aligned for its file offset.
 */
#include "check.h"
#include "vm_fixture.h"

#define DISK_PAGES      1024
#include "swap_disk.h"

#include <vm/memcg.h>
#include <vm/vm_object.h>
#include <vm/vmstat.h>

#define VA      0x40000000UL            /* aligned for every huge size */
#define VA2     0x80000000UL

static uint64_t H, N;                   /* pmap_huge_size(), its pages */

static void shm_setup(enum vm_shmem_huge internal)
{
        setup(64 * MiB);
        H = pmap_huge_size();
        N = H / P;
        vm_shmem_enabled_set(internal);
}

static void shm_done(void)
{
        vm_shmem_enabled_set(VM_SHMEM_HUGE_NEVER);
        CHECK_EQ(vmstat.shmem_thp, 0);
        check_baseline();
}

static uint8_t pat(uint64_t i)
{
        return (uint8_t)(i * 7 + 3);
}

static void fill(struct vm_space *s, vaddr_t va, uint64_t len)
{
        for (uint64_t off = 0; off < len; off += P)
                user_fill(s, va + off, pat(off / P));
}

static bool kept(struct vm_space *s, vaddr_t va, uint64_t first, uint64_t end,
                 uint64_t skip_lo, uint64_t skip_hi)
{
        for (uint64_t i = first; i < end; i++)
                if ((i < skip_lo || i >= skip_hi) &&
                    user_read(s, va + i * P) != pat(i))
                        return false;
        return true;
}

/* ---- the policy against a model -------------------------------------------- */

/* Linux's shmem_is_huge, as transhuge.rst words it: the area's "no"
 * first, then deny/force, then the object's own word; within_size asks
 * that the block end inside the object, else it is advise. */
static bool model_allows(enum vm_shmem_huge enabled, enum vm_shmem_huge own,
                         bool advised, bool refused, bool disabled,
                         bool inside)
{
        if (refused || disabled)
                return false;
        if (enabled == VM_SHMEM_HUGE_FORCE || enabled == VM_SHMEM_HUGE_DENY)
                return enabled == VM_SHMEM_HUGE_FORCE;
        if (own == VM_SHMEM_HUGE_ALWAYS)
                return true;
        if (own == VM_SHMEM_HUGE_WITHIN_SIZE && inside)
                return true;
        if (own == VM_SHMEM_HUGE_WITHIN_SIZE || own == VM_SHMEM_HUGE_ADVISE)
                return advised;
        return false;
}

TEST(policy_against_a_model)
{
        struct vm_object *o;
        struct vm_space *s;
        struct vm_area a = { 0 };
        enum vm_shmem_huge own;
        unsigned cases = 0;

        shm_setup(VM_SHMEM_HUGE_NEVER);
        s = new_space();
        CHECK_EQ(vm_object_create_anon(3 * N, &o), VM_OK);
        o->huge_policy = &own;
        for (int en = 0; en <= VM_SHMEM_HUGE_FORCE; en++)
        for (int ow = 0; ow <= VM_SHMEM_HUGE_NEVER; ow++)
        for (unsigned bits = 0; bits < 16; bits++) {
                bool advised = bits & 1, refused = bits & 2;
                bool disabled = bits & 4, inside = bits & 8;

                vm_shmem_enabled = (enum vm_shmem_huge)en;
                own = (enum vm_shmem_huge)ow;
                a.flags = VM_AREA_SHARED |
                          (advised ? VM_AREA_HUGEPAGE : 0) |
                          (refused ? VM_AREA_NOHUGEPAGE : 0);
                s->thp_disabled = disabled;
                /* Block 2 ends at the object's end; block 3 past it. */
                CHECK_EQ(vm_shmem_huge_allows(o, s, &a, inside ? 2 * N : 3 * N),
                         model_allows(en, ow, advised, refused, disabled,
                                      inside));
                cases++;
        }
        CHECK_EQ(cases, 6 * 4 * 16);
        s->thp_disabled = false;
        vm_shmem_enabled = VM_SHMEM_HUGE_NEVER;
        /* No mapping at all (write()): only the object's word counts. */
        own = VM_SHMEM_HUGE_ADVISE;
        CHECK(!vm_shmem_huge_allows(o, NULL, NULL, 0));
        own = VM_SHMEM_HUGE_ALWAYS;
        CHECK(vm_shmem_huge_allows(o, NULL, NULL, 0));
        o->huge_policy = NULL;                  /* never, whatever else */
        vm_shmem_enabled = VM_SHMEM_HUGE_FORCE;
        CHECK(!vm_shmem_huge_allows(o, NULL, NULL, 0));
        CHECK(!vm_shmem_huge_possible(NULL));
        /* shmem_enabled's first four words set the internal mount's;
         * deny and force leave it. */
        vm_shmem_enabled_set(VM_SHMEM_HUGE_WITHIN_SIZE);
        CHECK_EQ(vm_shmem_internal_huge, VM_SHMEM_HUGE_WITHIN_SIZE);
        vm_shmem_enabled_set(VM_SHMEM_HUGE_DENY);
        CHECK_EQ(vm_shmem_internal_huge, VM_SHMEM_HUGE_WITHIN_SIZE);
        CHECK(!vm_shmem_huge_possible(&vm_shmem_internal_huge));
        vm_shmem_enabled_set(VM_SHMEM_HUGE_FORCE);
        own = VM_SHMEM_HUGE_NEVER;
        CHECK(vm_shmem_huge_possible(&own));
        vm_shmem_enabled_set(VM_SHMEM_HUGE_NEVER);
        CHECK(!vm_shmem_huge_possible(&vm_shmem_internal_huge));
        vm_object_unref(o);
        destroy(s);
        shm_done();
}

/* ---- shared anonymous memory ----------------------------------------------- */

TEST(shared_anonymous_fault_maps_a_whole_huge_page_in_every_space)
{
        struct vm_space *s, *t;
        const struct vm_area *a;
        uint64_t allocs, mapped;
        paddr_t pa;
        vaddr_t at;

        shm_setup(VM_SHMEM_HUGE_ALWAYS);
        s = new_space();
        t = new_space();
        allocs = vmstat.thp_file_alloc;
        mapped = vmstat.thp_file_mapped;
        map_at(s, VA, 2 * H, RW, SHARED);
        a = vm_space_lookup(s, VA);
        CHECK(vm_area_shmem_thp_eligible(s, a));
        activate(s);
        CHECK_EQ(user_access(s, VA + 5 * P, R, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);       /* a read too */
        CHECK(huge_contiguous(s, VA));
        CHECK(can(s, VA + H - P, W));                   /* no more faults */
        CHECK_EQ(vmstat.thp_file_alloc, allocs + 1);
        CHECK_EQ(vmstat.shmem_thp, 1);
        CHECK_EQ(a->object->npages, N);
        fill(s, VA, 2 * H);
        CHECK_EQ(vmstat.shmem_thp, 2);
        CHECK_EQ(vm_area_shmem_pmd_mapped(s, a), 2);
        CHECK_EQ(vm_space_huge_pages(s, VA, VA + 2 * H), 2);
        /* Another space maps the object (at a different address): its
         * faults find the blocks whole and map them large too; the
         * counter of mapped blocks counts each block once. */
        CHECK_EQ(vm_space_map_object(t, VA2, 2 * H, RW, SHARED | FIXED,
                                     a->object, &at), VM_OK);
        activate(t);
        CHECK_EQ(user_read(t, VA2 + H + 9 * P), pat(N + 9));
        CHECK_EQ(pmap_page_size(t->pmap, VA2 + H), H);
        CHECK_EQ(frame(t, VA2 + H), frame(s, VA + H));
        CHECK_EQ(vmstat.thp_file_alloc, allocs + 2);
        CHECK_EQ(vmstat.thp_file_mapped, mapped + 3);
        CHECK_EQ(vm_spaces_shmem_pmd_mapped(), 2);
        CHECK(kept(t, VA2, 0, 2 * N, 0, 0));
        user_fill(t, VA2 + 3 * P, 0x5a);
        activate(s);
        CHECK_EQ(user_read(s, VA + 3 * P), 0x5a);
        user_fill(s, VA + 3 * P, pat(3));
        CHECK(vm_space_check(s) && vm_space_check(t) && rmap_check());
        activate(NULL);
        destroy(t);
        CHECK_EQ(vmstat.shmem_thp, 2);                  /* s still has it */
        destroy(s);
        shm_done();
}

TEST(never_and_misaligned_blocks_stay_4k)
{
        struct vm_space *s;
        paddr_t pa;

        shm_setup(VM_SHMEM_HUGE_NEVER);
        s = new_space();
        activate(s);
        map_at(s, VA, 2 * H, RW, SHARED);
        CHECK(!vm_area_shmem_thp_eligible(s, vm_space_lookup(s, VA)));
        CHECK_EQ(user_access(s, VA, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), P);
        CHECK_EQ(vmstat.shmem_thp, 0);
        /* always, but the area starts one page into a huge page: no block
         * lies wholly inside it with aligned object indices. */
        vm_shmem_enabled_set(VM_SHMEM_HUGE_ALWAYS);
        map_at(s, VA2 + P, 2 * H, RW, SHARED);
        CHECK(!vm_area_shmem_thp_eligible(s, vm_space_lookup(s, VA2 + P)));
        CHECK_EQ(user_access(s, VA2 + H + 3 * P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA2 + H + 3 * P), P);
        /* The area's MADV_NOHUGEPAGE wins over always. */
        CHECK_EQ(vm_space_advise(s, VA, 2 * H, VM_MADV_NOHUGEPAGE), VM_OK);
        CHECK_EQ(user_access(s, VA + H, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), P);
        /* advise: only a MADV_HUGEPAGE area. */
        vm_shmem_enabled_set(VM_SHMEM_HUGE_ADVISE);
        map_at(s, VA + 4 * H, 2 * H, RW, SHARED);
        CHECK_EQ(user_access(s, VA + 4 * H, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + 4 * H), P);
        CHECK_EQ(vm_space_advise(s, VA + 4 * H, 2 * H, VM_MADV_HUGEPAGE), VM_OK);
        CHECK_EQ(user_access(s, VA + 5 * H, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + 5 * H), H);
        CHECK_EQ(vmstat.shmem_thp, 1);
        CHECK(vm_space_check(s));
        activate(NULL);
        destroy(s);
        shm_done();
}

TEST(partial_unmap_and_protect_split_and_keep_bytes)
{
        struct vm_space *s, *t;
        struct vm_object *o;
        uint64_t splits;
        vaddr_t at;

        shm_setup(VM_SHMEM_HUGE_ALWAYS);
        s = new_space();
        t = new_space();
        map_at(s, VA, 2 * H, RW, SHARED);
        o = vm_space_lookup(s, VA)->object;
        CHECK_EQ(vm_space_map_object(t, VA, 2 * H, RW, SHARED | FIXED, o,
                                     &at), VM_OK);
        activate(s);
        fill(s, VA, 2 * H);
        splits = vmstat.thp_split_pmd;
        CHECK_EQ(vm_space_unmap(s, VA + 9 * P, P), VM_OK);
        CHECK(!present(s, VA + 9 * P));
        CHECK_EQ(pmap_page_size(s->pmap, VA), P);
        CHECK(kept(s, VA, 0, N, 9, 10));
        CHECK_EQ(vm_space_protect(s, VA + H + 3 * P, 2 * P, R), VM_OK);
        CHECK(!can(s, VA + H + 3 * P, W) && can(s, VA + H + 5 * P, W));
        CHECK(kept(s, VA, N, 2 * N, 0, 0));
        CHECK(vmstat.thp_split_pmd >= splits + 2);
        /* The object still holds both blocks whole: unmapping is the
         * space's business. The other space maps them large. */
        CHECK_EQ(vmstat.shmem_thp, 2);
        CHECK_EQ(o->npages, 2 * N);
        activate(t);
        CHECK(kept(t, VA, 0, 2 * N, 0, 0));
        CHECK_EQ(pmap_page_size(t->pmap, VA), H);
        CHECK_EQ(pmap_page_size(t->pmap, VA + H), H);
        /* An mprotect of a whole block keeps it one translation. */
        CHECK_EQ(vm_space_protect(t, VA + H, H, R), VM_OK);
        CHECK_EQ(pmap_page_size(t->pmap, VA + H), H);
        CHECK(!can(t, VA + H, W));
        CHECK(vm_space_check(s) && vm_space_check(t));
        activate(NULL);
        destroy(s);
        destroy(t);
        shm_done();
}

/* ---- tmpfs files ------------------------------------------------------------ */

TEST(truncate_and_hole_across_a_huge_block)
{
        enum vm_shmem_huge mount = VM_SHMEM_HUGE_WITHIN_SIZE;
        struct vm_quota q = { .limit = 1 << 20 };
        struct vm_space *s;
        struct vm_object *o;
        vaddr_t at;
        paddr_t pa;

        shm_setup(VM_SHMEM_HUGE_NEVER);
        CHECK_EQ(vm_object_create_cache(NULL, 0, &o), VM_OK);
        vm_object_set_quota(o, &q);
        o->huge_policy = &mount;
        CHECK_EQ(vm_object_resize(o, 2 * H - P), VM_OK);
        s = new_space();
        activate(s);
        CHECK_EQ(vm_space_map_file(s, VA, 2 * H, RW, SHARED | FIXED |
                                   VM_MAP_MAYWRITE, o, 0, &at), VM_OK);
        /* within_size: block 0 ends inside the file, block 1 does not. */
        CHECK_EQ(user_access(s, VA + 2 * P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);
        CHECK_EQ(user_access(s, VA + H, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), P);
        CHECK_EQ(vmstat.shmem_thp, 1);
        CHECK_EQ(vmstat.shmem_pages, N + 1);
        CHECK_EQ(q.used, N + 1);
        /* The file grows: the rest of block 1 has pages of its own now
         * (one), so it stays 4 KiB; a new block 2 under always is huge. */
        CHECK_EQ(vm_object_resize(o, 3 * H), VM_OK);
        mount = VM_SHMEM_HUGE_ALWAYS;
        CHECK_EQ(vm_space_unmap(s, VA, 2 * H), VM_OK);
        CHECK_EQ(vm_space_map_file(s, VA, 3 * H, RW, SHARED | FIXED |
                                   VM_MAP_MAYWRITE, o, 0, &at), VM_OK);
        fill(s, VA, 3 * H);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), P);
        CHECK_EQ(pmap_page_size(s->pmap, VA + 2 * H), H);
        CHECK_EQ(vmstat.shmem_thp, 2);
        /* Truncate into block 2: its translation goes, the block breaks,
         * what is left of it keeps its bytes; block 0 stays whole. */
        vm_spaces_unmap_object(o, 2 * N + 5, o->size, true);
        CHECK_EQ(vm_object_resize(o, 2 * H + 5 * P), VM_OK);
        CHECK_EQ(vmstat.shmem_thp, 1);
        CHECK_EQ(o->npages, 2 * N + 5);
        CHECK(kept(s, VA, 0, 2 * N + 5, 0, 0));
        CHECK_EQ(pmap_page_size(s->pmap, VA + 2 * H), P);
        CHECK_EQ(pmap_page_size(s->pmap, VA), H);
        /* A hole in block 0: translations first, then the pages; the
         * block breaks, the rest keeps its bytes, the hole reads 0. */
        vm_spaces_unmap_object(o, 7, 9, false);
        CHECK_EQ(vm_object_punch_hole(o, 7, 9), VM_OK);
        CHECK_EQ(vmstat.shmem_thp, 0);
        CHECK_EQ(user_read(s, VA + 7 * P), 0);
        CHECK_EQ(user_read(s, VA + 8 * P), 0);
        CHECK(kept(s, VA, 0, 2 * N + 5, 7, 9));
        /* Broken, the block is not mapped large again, not even by a
         * fresh mapping. */
        CHECK_EQ(vm_space_unmap(s, VA, 3 * H), VM_OK);
        CHECK_EQ(vm_space_map_file(s, VA2, 2 * H, RW, SHARED | FIXED |
                                   VM_MAP_MAYWRITE, o, 0, &at), VM_OK);
        CHECK_EQ(user_read(s, VA2 + 3 * P), pat(3));
        CHECK_EQ(pmap_page_size(s->pmap, VA2), P);
        CHECK(vm_space_check(s) && vm_object_check(o) && rmap_check());
        activate(NULL);
        destroy(s);
        vm_object_unref(o);
        CHECK_EQ(q.used, 0);
        shm_done();
}

/* ---- reclaim and no memory --------------------------------------------------- */

TEST(swap_out_splits_the_translations_and_breaks_the_block)
{
        struct vm_space *s, *t;
        struct vm_object *o;
        vaddr_t at;

        swap_setup(64 * MiB);
        H = pmap_huge_size();
        N = H / P;
        vm_shmem_enabled_set(VM_SHMEM_HUGE_ALWAYS);
        s = new_space();
        t = new_space();
        map_at(s, VA, H, RW, SHARED);
        o = vm_space_lookup(s, VA)->object;
        CHECK_EQ(vm_space_map_object(t, VA2, H, RW, SHARED | FIXED, o, &at),
                 VM_OK);
        activate(s);
        fill(s, VA, H);
        activate(t);
        CHECK_EQ(user_read(t, VA2 + P), pat(1));
        CHECK_EQ(pmap_page_size(t->pmap, VA2), H);
        activate(NULL);
        /* Reclaim takes what it can of the 512 (the disk holds fewer):
         * every page it takes leaves both spaces, split 4 KiB tables
         * keep mapping the others. */
        CHECK(vm_reclaim(N / 2) > 0);
        CHECK(o->nswapped > 0);
        CHECK_EQ(vmstat.shmem_thp, 0);
        CHECK(sound() && vm_object_check(o));
        CHECK(pmap_page_size(s->pmap, VA) != H);
        CHECK(pmap_page_size(t->pmap, VA2) != H);
        activate(t);
        CHECK(kept(t, VA2, 0, N, 0, 0));
        activate(s);
        CHECK(kept(s, VA, 0, N, 0, 0));
        CHECK_EQ(o->nswapped, 0);
        CHECK(vm_space_check(s) && vm_space_check(t) && sound());
        activate(NULL);
        destroy(s);
        destroy(t);
        vm_shmem_enabled_set(VM_SHMEM_HUGE_NEVER);
        swap_teardown();
}

TEST(no_free_block_falls_back_to_4k)
{
        struct vm_space *s;
        struct hog h;
        uint64_t fallback;
        paddr_t pa;

        shm_setup(VM_SHMEM_HUGE_ALWAYS);
        s = new_space();
        map_at(s, VA, H, RW, SHARED);
        activate(s);
        fallback = vmstat.thp_file_fallback;
        hog_take(&h, 64);       /* a few free pages: no huge block */
        CHECK_EQ(user_access(s, VA, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA), P);
        CHECK_EQ(vmstat.thp_file_fallback, fallback + 1);
        CHECK_EQ(vmstat.shmem_thp, 0);
        hog_release(&h);
        /* The block has a page now: 4 KiB from here on. */
        CHECK_EQ(user_access(s, VA + P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + P), P);
        CHECK(vm_space_check(s));
        activate(NULL);
        destroy(s);
        shm_done();
}

static struct memcg *charged_group;

static struct memcg *group_hook(void)
{
        return charged_group;
}

/* A huge block is charged page by page to the faulting process's group,
 * as any page of the object, and uncharged when the object lets go. */
TEST(a_huge_block_is_charged_to_the_memory_group)
{
        struct vm_space *s;
        struct memcg *g;
        paddr_t pa;

        shm_setup(VM_SHMEM_HUGE_ALWAYS);
        memcg_init();
        CHECK_EQ(memcg_create(&memcg_root, "g", 1, &g), 0);
        charged_group = g;
        memcg_current_hook = group_hook;
        s = new_space();
        map_at(s, VA, 2 * H, RW, SHARED);
        activate(s);
        CHECK_EQ(user_access(s, VA + H + P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(pmap_page_size(s->pmap, VA + H), H);
        CHECK_EQ(g->pages, N);
        CHECK_EQ(memcg_page_id(pmm_pa_to_page(pa)), g->id);
        CHECK(memcg_check());
        activate(NULL);
        destroy(s);
        CHECK_EQ(g->pages, 0);
        memcg_current_hook = NULL;
        charged_group = NULL;
        CHECK_EQ(memcg_remove(g), 0);
        memcg_put(g);
        CHECK(memcg_check());
        shm_done();
}

/* ---- placement --------------------------------------------------------------- */

TEST(placement_matches_the_file_offset)
{
        struct vm_space *s;
        vaddr_t at;

        shm_setup(VM_SHMEM_HUGE_ALWAYS);
        s = new_space();
        at = vm_space_huge_place(s, 3 * H, 0);
        CHECK(at && (at & (H - 1)) == 0);
        at = vm_space_huge_place(s, 3 * H, 5);
        CHECK(at && (at & (H - 1)) == 5 * P);
        CHECK_EQ(vm_space_huge_place(s, H - P, 0), 0);  /* too short */
        CHECK_EQ(vm_space_huge_place(s, H + P, 5), 0);  /* no whole block */
        CHECK_EQ(s->areas.count, 0);                    /* nothing left */
        destroy(s);
        shm_done();
}
