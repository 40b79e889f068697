/*
 * vm_fixture.c - the shared set-up and user-access helpers of the host
 * address-space tests (vm_fixture.h).
 */
#include "vm_fixture.h"

#include <mercator/string.h>
#include <vm/kmalloc.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vmstat.h>
#include <arch/host/softmmu.h>

#include <stdlib.h>

static struct vm_space *active;
static struct {
        uint64_t free, pt_pages, slab, large;
} base;

void setup(uint64_t bytes)
{
        host_memory_setup(bytes);
        kmalloc_init(true);
        softmmu_reset();
        vm_ptpage_fail_after = 0;
        /* Nothing committed, the reserves as boot sets them, and Linux's
         * default policy (heuristic overcommit, ratio 50). */
        vm_commit_init(NULL);
        vm_commit_policy.overcommit_memory = VM_OVERCOMMIT_GUESS;
        vm_commit_policy.overcommit_ratio = 50;
        vm_commit_policy.overcommit_kbytes = 0;
        CHECK_EQ(pmap_bootstrap(bytes), VM_OK);
        pmap_activate(pmap_kernel());
        active = NULL;
        vm_object_init();
        CHECK_EQ(vm_zero_page_init(), VM_OK);   /* lives as long as RAM */
        kmalloc_shrink();
        base.free = pmm_free_count();
        base.pt_pages = vmstat.pt_pages;
        base.slab = vmstat.slab_pages;
        base.large = vmstat.kmalloc_large;
}

void rebaseline(void)
{
        kmalloc_shrink();
        base.free = pmm_free_count();
        base.pt_pages = vmstat.pt_pages;
        base.slab = vmstat.slab_pages;
        base.large = vmstat.kmalloc_large;
}

void check_baseline(void)
{
        kmalloc_shrink();
        CHECK_EQ(vmstat.anon_pages, 0);
        CHECK_EQ(vmstat.file_pages, 0);
        CHECK_EQ(vm_committed_pages(), 0);
        CHECK_EQ(vm_object_file_count(), 0);
        CHECK_EQ(vmstat.pt_pages, base.pt_pages);
        CHECK_EQ(vmstat.slab_pages, base.slab);
        CHECK_EQ(vmstat.kmalloc_large, base.large);
        CHECK_EQ(pmm_free_count(), base.free);
        CHECK(kmalloc_check());
        CHECK(pmm_check());
        CHECK(pmap_check(pmap_kernel()));
        CHECK(vm_zero_page_check());
}

uint64_t baseline_pt_pages(void)
{
        return base.pt_pages;
}

struct vm_space *new_space(void)
{
        struct vm_space *s = NULL;

        CHECK_EQ(vm_space_create(&s), VM_OK);
        CHECK(vm_space_check(s));
        return s;
}

void activate(struct vm_space *s)
{
        pmap_activate(s ? vm_space_pmap(s) : pmap_kernel());
        active = s;
}

void destroy(struct vm_space *s)
{
        CHECK(vm_space_check(s));
        CHECK(pmap_check(vm_space_pmap(s)));
        if (active == s)
                activate(NULL);
        vm_space_destroy(s);
}

static unsigned mmu_access(vm_prot_t access)
{
        return access == W ? SOFTMMU_WRITE
             : access == X ? SOFTMMU_EXEC : SOFTMMU_READ;
}

enum softmmu_result mmu_try(struct vm_space *s, vaddr_t va, vm_prot_t access,
                            paddr_t *pa)
{
        if (active == s)
                return softmmu_access(va, mmu_access(access), true, pa);
        return softmmu_translate(vm_space_pmap(s), va, mmu_access(access),
                                 true, pa);
}

bool can(struct vm_space *s, vaddr_t va, vm_prot_t access)
{
        return softmmu_translate(vm_space_pmap(s), va, mmu_access(access), true,
                                 NULL) == SOFTMMU_OK;
}

enum fault_result user_access(struct vm_space *s, vaddr_t va,
                              vm_prot_t access, paddr_t *pa)
{
        enum softmmu_result r = mmu_try(s, va, access, pa);
        enum fault_result fr;

        if (r == SOFTMMU_OK)
                return FAULT_RESOLVED;
        CHECK(r == SOFTMMU_NOT_PRESENT || r == SOFTMMU_PROTECTION);
        fr = machine_user_fault(s, va, access);
        if (fr != FAULT_RESOLVED)
                return fr;
        CHECK_EQ(mmu_try(s, va, access, pa), SOFTMMU_OK);
        return FAULT_RESOLVED;
}

void user_fill(struct vm_space *s, vaddr_t va, uint8_t byte)
{
        paddr_t pa = 0;

        CHECK_EQ(user_access(s, va, W, &pa), FAULT_RESOLVED);
        memset(phys_to_virt(page_trunc(pa)), byte, PAGE_SIZE);
}

uint8_t user_read(struct vm_space *s, vaddr_t va)
{
        paddr_t pa = 0;

        CHECK_EQ(user_access(s, va, R, &pa), FAULT_RESOLVED);
        return *(uint8_t *)phys_to_virt(pa);
}

struct vm_object *cache_file(uint64_t pages)
{
        struct vm_object *f = NULL;

        CHECK_EQ(vm_object_create_cache(NULL, 0, &f), VM_OK);
        CHECK_EQ(vm_object_resize(f, pages * P), VM_OK);
        return f;
}

void cache_fill(struct vm_object *f, uint64_t first, uint64_t end)
{
        for (uint64_t i = first; i < end && i < f->size; i++) {
                struct vm_page *pg;

                if (vm_object_get_page(f, i, &pg) == VM_OK) {
                        uint8_t *p = pmap_quick_enter_page(pmm_page_to_pa(pg));

                        memset(p, (int)(i + 1), P);
                        pmap_quick_remove_page(p);
                }
        }
}

bool page_is(paddr_t pa, uint8_t byte)
{
        const uint8_t *p = phys_to_virt(page_trunc(pa));

        for (size_t i = 0; i < PAGE_SIZE; i++)
                if (p[i] != byte)
                        return false;
        return true;
}

bool present(struct vm_space *s, vaddr_t va)
{
        return pmap_extract(vm_space_pmap(s), va, NULL, NULL, NULL);
}

paddr_t frame(struct vm_space *s, vaddr_t va)
{
        paddr_t pa = 0;

        CHECK(pmap_extract(vm_space_pmap(s), va, &pa, NULL, NULL));
        return page_trunc(pa);
}

bool huge_contiguous(struct vm_space *s, vaddr_t va)
{
        uint64_t huge = pmap_huge_size();
        paddr_t base = frame(s, va);

        for (uint64_t off = 0; off < huge; off += PAGE_SIZE)
                if (frame(s, va + off) != base + off)
                        return false;
        return (base & (huge - 1)) == 0;
}

void hog_take(struct hog *h, uint64_t leave)
{
        uint64_t want = pmm_free_count();

        h->pg = calloc(want, sizeof *h->pg);
        CHECK(h->pg != NULL);
        for (h->n = 0; h->n < want; h->n++)
                if (!(h->pg[h->n] = pmm_alloc_pages(0, 0)))
                        break;
        CHECK_EQ(pmm_free_count(), 0);
        for (; leave > 0 && h->n > 0; leave--)
                pmm_free_pages(h->pg[--h->n], 0);
}

void hog_release(struct hog *h)
{
        while (h->n > 0)
                pmm_free_pages(h->pg[--h->n], 0);
        free(h->pg);
        h->pg = NULL;
}

vaddr_t map_at(struct vm_space *s, vaddr_t va, uint64_t len, vm_prot_t prot,
               unsigned flags)
{
        vaddr_t out = 0;

        CHECK_EQ(vm_space_map(s, va, len, prot, flags | FIXED, &out), VM_OK);
        CHECK_EQ(out, va);
        CHECK(vm_space_check(s));
        return out;
}
