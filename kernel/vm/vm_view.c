/*
 * vm_view.c - the machine's memory described for pictures (vm_view.h):
 * owners of physical frames as runs, and the state of a user area's pages
 * as runs. Read-only; see vm_view.h for the contracts and costs.
 */
#include <mercator/string.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vm_view.h>
#include <vm/vmalloc.h>

static const char *const owner_names[VF_NR] = {
        [VF_OTHER] = "kernel_other", [VF_FREE] = "free",
        [VF_RESERVED] = "reserved", [VF_KERNEL_IMAGE] = "kernel_image",
        [VF_PAGE_DESC] = "page_descriptors", [VF_PTABLE] = "page_tables",
        [VF_SLAB] = "slab", [VF_VMALLOC] = "vmalloc",
        [VF_KSTACK] = "kernel_stacks", [VF_ANON] = "user_anon",
        [VF_FILE] = "file_cache", [VF_SHMEM] = "shared_memory",
        [VF_ZERO] = "zero_page",
};

const char *vm_frame_owner_name(enum vm_frame_owner o)
{
        return o < VF_NR ? owner_names[o] : "?";
}

static const char *const page_names[VV_NR] = {
        [VV_NOT_PRESENT] = "not_present", [VV_ZERO] = "zero",
        [VV_PRIVATE] = "private", [VV_COW] = "cow", [VV_FILE] = "file",
        [VV_SHMEM] = "shmem", [VV_SWAPPED] = "swapped",
};

const char *vm_view_page_name(enum vm_view_page s)
{
        return s < VV_NR ? page_names[s] : "?";
}

/* ---- the frame map ------------------------------------------------------ */

void vm_frame_map_mark(struct vm_frame_map *m, paddr_t pa,
                       enum vm_frame_owner o)
{
        paddr_t base = pmm_ram_base();
        uint64_t pfn;

        if (!m || pa < base)
                return;
        pfn = (pa - base) >> PAGE_SHIFT;
        if (pfn >= m->npages)
                return;
        if (m->owner[pfn] == VF_SHMEM && o == VF_FILE)
                return;
        m->owner[pfn] = (uint8_t)o;
}

static bool mark_kstack(void *arg, vaddr_t start, uint64_t npages,
                        bool kstack)
{
        struct vm_frame_map *m = arg;
        paddr_t pa;

        if (!kstack)
                return true;
        for (uint64_t i = 0; i < npages; i++)
                if (pmap_extract(pmap_kernel(), start + i * PAGE_SIZE, &pa,
                                 NULL, NULL))
                        vm_frame_map_mark(m, page_trunc(pa), VF_KSTACK);
        return true;
}

bool vm_frame_map_init(struct vm_frame_map *m)
{
        uint64_t bytes = pmm_npages() ? pmm_npages() : 1;
        uint64_t pages = page_round(bytes) >> PAGE_SHIFT, block = 1;

        m->npages = pmm_npages();
        m->vmalloced = false;
        m->owner = bytes <= KMALLOC_MAX_SMALL ? NULL : kmalloc(bytes);
        while (block < pages)
                block <<= 1;            /* a large kmalloc is a buddy block */
        m->held_pages = block;
        if (!m->owner) {
                m->owner = vmalloc(bytes);
                m->vmalloced = true;
                m->held_pages = pages;
        }
        if (!m->owner)
                return false;
        memset(m->owner, VF_OTHER, m->npages);
        vm_frame_map_mark(m, vm_zero_page_pa(), VF_ZERO);
        for (uint64_t off = 0; vm_huge_zero_pa() && off < pmap_huge_size();
             off += PAGE_SIZE)
                vm_frame_map_mark(m, vm_huge_zero_pa() + off, VF_ZERO);
        vmalloc_for_each_area(mark_kstack, m);
        return true;
}

void vm_frame_map_free(struct vm_frame_map *m)
{
        if (m->vmalloced)
                vfree(m->owner);
        else
                kfree(m->owner);
        m->owner = NULL;
}

static bool mark_file_page(void *arg, uint64_t index, struct vm_page *pg)
{
        vm_frame_map_mark(arg, pmm_page_to_pa(pg), VF_FILE);
        return true;
}

static bool mark_file(void *arg, const struct vm_object *obj)
{
        vm_object_for_each(obj, 0, ~0ULL, mark_file_page, arg);
        return true;
}

void vm_frame_map_mark_files(struct vm_frame_map *m)
{
        vm_object_for_each_file(mark_file, m);
}

/* ---- frame runs --------------------------------------------------------- */

static enum vm_frame_owner frame_owner(const struct vm_frame_map *m,
                                       uint64_t pfn, const struct vm_page *pg,
                                       paddr_t pa)
{
        enum vm_frame_owner o = vm_view_machine_owner(pa);

        if (o != VF_OTHER)
                return o;
        if (pg->flags & PG_PTABLE)
                return VF_PTABLE;
        if (kmalloc_page_in_heap(pg))
                return VF_SLAB;         /* slabs and large blocks: Slab */
        if (pg->flags & PG_VMALLOC)
                return m && m->owner[pfn] == VF_KSTACK ? VF_KSTACK
                                                       : VF_VMALLOC;
        if (pg->flags & PG_RESERVED)
                return VF_RESERVED;
        return m ? (enum vm_frame_owner)m->owner[pfn] : VF_OTHER;
}

void vm_frame_runs(const struct vm_frame_map *m,
                   bool (*fn)(void *arg, const struct vm_frame_run *r),
                   void *arg)
{
        paddr_t base = pmm_ram_base();
        uint64_t n = pmm_npages();
        struct vm_frame_run run = { .npages = 0 };

        for (uint64_t pfn = 0; pfn < n;) {
                paddr_t pa = base + (pfn << PAGE_SHIFT);
                const struct vm_page *pg = pmm_pa_to_page(pa);
                struct vm_frame_run here = { .pa = pa, .npages = 1,
                                             .zone = pg->zone };

                if (pg->flags & PG_FREE) {
                        /* a CPU's list's page: order 0 (pmm.h) */
                        unsigned o = pg->order <= PMM_MAX_ORDER ? pg->order : 0;

                        here.owner = VF_FREE;
                        here.order = (uint8_t)o;
                        here.npages = 1ULL << o;
                } else {
                        here.owner = (uint8_t)frame_owner(m, pfn, pg, pa);
                }
                if (run.npages && run.owner == here.owner &&
                    run.zone == here.zone && run.order == here.order &&
                    run.pa + (run.npages << PAGE_SHIFT) == pa) {
                        run.npages += here.npages;
                } else {
                        if (run.npages && !fn(arg, &run))
                                return;
                        run = here;
                }
                pfn += here.npages;
        }
        if (run.npages)
                fn(arg, &run);
}

/* ---- page runs of an area ----------------------------------------------- */

static enum vm_view_page page_state(const struct vm_page_info *pi)
{
        switch (pi->kind) {
        case VM_PAGE_ZERO:
                return VV_ZERO;
        case VM_PAGE_ANON:
                return pi->page->refcount >= 2 ? VV_COW : VV_PRIVATE;
        case VM_PAGE_FILE:
                return VV_FILE;
        case VM_PAGE_SHMEM:
                return VV_SHMEM;
        case VM_PAGE_SWAPPED:
                return VV_SWAPPED;
        default:
                return VV_NOT_PRESENT;
        }
}

static const uint8_t state_owner[VV_NR] = {
        [VV_NOT_PRESENT] = VF_OTHER, [VV_ZERO] = VF_ZERO,
        [VV_PRIVATE] = VF_ANON, [VV_COW] = VF_ANON, [VV_FILE] = VF_FILE,
        [VV_SHMEM] = VF_SHMEM, [VV_SWAPPED] = VF_OTHER,
};

void vm_area_page_runs(struct vm_space *s, const struct vm_area *a,
                       uint64_t max_pages, struct vm_frame_map *m,
                       bool (*fn)(void *arg, const struct vm_page_run *r),
                       void *arg, bool *truncated)
{
        uint64_t npages = vm_area_npages(a);
        struct vm_page_run run = { .npages = 0 };
        struct vm_page_info pi;

        *truncated = npages > max_pages;
        for (uint64_t i = 0; i < MIN(npages, max_pages); i++) {
                vaddr_t va = a->start + i * PAGE_SIZE;
                struct vm_page_run here = { .va = va, .npages = 1 };

                vm_space_page_info(s, a, va, &pi);
                here.state = (uint8_t)page_state(&pi);
                here.mapped = pi.mapped;
                if (here.state != VV_NOT_PRESENT && here.state != VV_SWAPPED) {
                        here.pa = pi.pa;
                        if (here.state != VV_ZERO)
                                vm_frame_map_mark(m, pi.pa,
                                                  state_owner[here.state]);
                }
                if (here.state == VV_COW)
                        here.refcount = pi.page->refcount;
                if (run.npages && run.state == here.state &&
                    run.mapped == here.mapped &&
                    run.refcount == here.refcount &&
                    (here.state == VV_NOT_PRESENT || here.state == VV_SWAPPED ||
                     (here.state == VV_ZERO && run.pa == here.pa) ||
                     run.pa + (run.npages << PAGE_SHIFT) == here.pa)) {
                        run.npages++;
                        continue;
                }
                if (run.npages && !fn(arg, &run))
                        return;
                run = here;
        }
        if (run.npages && !fn(arg, &run))
                return;
        if (*truncated) {
                run = (struct vm_page_run){
                        .va = a->start + max_pages * PAGE_SIZE,
                        .npages = npages - max_pages,
                        .state = VV_NOT_PRESENT };
                fn(arg, &run);
        }
}

void vm_area_huge_runs(struct vm_space *s, const struct vm_area *a,
                       bool (*fn)(void *arg, vaddr_t va, uint64_t npages),
                       void *arg)
{
        uint64_t size = pmap_huge_size();
        vaddr_t run = 0;
        uint64_t n = 0;

        if (!size)
                return;
        for (vaddr_t va = align_up(a->start, size);
             va >= a->start && va < a->end && a->end - va >= size;
             va += size) {
                if (pmap_page_size(vm_space_pmap(s), va) == size) {
                        if (!n)
                                run = va;
                        n += size / PAGE_SIZE;
                        continue;
                }
                if (n && !fn(arg, run, n))
                        return;
                n = 0;
        }
        if (n)
                fn(arg, run, n);
}

/* ---- the vmalloc region cut at kernel stacks (for the layouts) ----------- */

#define MAX_CUTS        64

struct cuts {
        vaddr_t  start[MAX_CUTS];
        uint64_t npages[MAX_CUTS];
        unsigned n;
};

static bool one_stack(void *arg, vaddr_t start, uint64_t npages, bool kstack)
{
        struct cuts *c = arg;

        if (!kstack)
                return true;
        if (c->n == MAX_CUTS)
                return false;
        c->start[c->n] = start;
        c->npages[c->n] = npages;
        c->n++;
        return true;
}

void vm_view_layout_vmalloc(void (*fn)(void *arg,
                                       const struct vm_layout_region *r),
                            void *arg, vaddr_t base, vaddr_t end)
{
        static struct cuts c;           /* one snapshot at a time */
        uint64_t at = base;

        c.n = 0;
        vmalloc_for_each_area(one_stack, &c);
        for (unsigned i = 0; i < c.n; i++) {
                uint64_t guard = (uint64_t)c.start[i] - PAGE_SIZE;
                uint64_t stop = c.start[i] + c.npages[i] * PAGE_SIZE;
                if (guard < at || stop > end)
                        continue;
                if (guard > at)
                        fn(arg, &(struct vm_layout_region){ "vmalloc", at,
                                                            guard });
                fn(arg, &(struct vm_layout_region){ "guard", guard,
                                                    c.start[i] });
                fn(arg, &(struct vm_layout_region){ "kernel_stack",
                                                    c.start[i], stop });
                at = stop;
        }
        if (at < end)
                fn(arg, &(struct vm_layout_region){ "vmalloc", at, end });
}

/* ---- weak defaults for what the architecture supplies ------------------- */

__attribute__((weak)) void vm_view_pt_summary(
        struct pmap *pm, struct vm_pt_summary *out,
        bool (*fn)(void *arg, const struct vm_pt_table *t), void *arg)
{
        memset(out, 0, sizeof *out);
}

__attribute__((weak)) void vm_view_kernel_layout(
        void (*fn)(void *arg, const struct vm_layout_region *r), void *arg)
{
}

__attribute__((weak)) enum vm_frame_owner vm_view_machine_owner(paddr_t pa)
{
        return VF_OTHER;
}

__attribute__((weak)) bool vm_view_feed_write(const char *s, size_t len)
{
        return false;
}
