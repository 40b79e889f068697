/*
 * vmalloc.c - the kernel-VA area allocator and what is built on it:
 * vmalloc/vfree, kernel stacks, ioremap/iounmap (see vmalloc.h).
 *
 * Owns: the two regions' area lists, the kernel pmap's mappings inside
 * [VMALLOC_BASE, VMALLOC_END) and [IOREMAP_BASE, IOREMAP_END), and the
 * frames behind vmalloc areas and kernel stacks (PG_VMALLOC; their
 * vm_page.next is used only while they are being freed). Must not touch
 * any other mapping or page.
 *
 * An area is [start, start + npages pages), followed by its guard page;
 * its span is [start, guard_end), guard_end = start + (npages + 1) pages.
 * Areas are a singly linked list sorted by start, descriptors from kmalloc;
 * allocation is first fit, O(areas). The first candidate start is
 * base + PAGE_SIZE, and each later one is the guard_end of the area before,
 * so every area has an unmapped page below it as well as its guard above.
 *
 * Invariants (vmalloc_check()):
 *   1. areas sorted; base + PAGE_SIZE <= start, npages >= 1,
 *      guard_end <= next area's start, last guard_end <= end;
 *   2. every page of an area is mapped in the kernel pmap, read-write,
 *      no-execute, global, not user; the page below and the guard are not;
 *   3. vmalloc/kstack pages are allocated frames with PG_VMALLOC, and add
 *      up to vmstat.vmalloc_pages / vmstat.kstack_pages respectively;
 *   4. ioremap page i maps frame area->pa + i pages with area->cache set.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>

enum kva_kind { KVA_VMALLOC, KVA_KSTACK, KVA_IOREMAP };
static const char *const kva_kind_name[] = { "vmalloc", "kstack", "ioremap" };

/*
 * One area. Locks: [c] constant while the area lives  [s] single CPU for
 * now, no allocation from interrupt context (becomes the region lock).
 */
struct kva_area {
        struct kva_area *next;  /* [s] next area by address */
        vaddr_t start;          /* [c] first mapped byte, page-aligned */
        uint64_t npages;        /* [c] mapped pages; a guard page follows */
        enum kva_kind kind;     /* [c] */
        paddr_t pa;             /* [c] ioremap: first frame mapped */
        unsigned cache;         /* [c] ioremap: PMAP_NOCACHE or PMAP_WC */
};

/* One region of kernel VA. Locks as for kva_area. */
struct kva_region {
        const char *name;       /* [c] */
        vaddr_t base, end;      /* [c] [base, end) */
        struct kva_area *areas; /* [s] sorted by start */
        uint64_t nareas;        /* [s] */
};

/* Bounds set by vmalloc_init(): an architecture may place them at boot
 * (i386's vmalloc starts 8 MiB above the end of low memory). */
static struct kva_region vmalloc_region = { .name = "vmalloc" };
static struct kva_region ioremap_region = { .name = "ioremap" };
static struct kva_region *const regions[] = {
        &vmalloc_region, &ioremap_region,
};

/* --- the area allocator ---------------------------------------------- */

static vaddr_t area_end(const struct kva_area *a)
{
        return a->start + a->npages * PAGE_SIZE;
}

static vaddr_t area_guard_end(const struct kva_area *a)
{
        return area_end(a) + PAGE_SIZE;
}

/*
 * First fit: the lowest start at which npages pages and a guard fit.
 * => a new area linked into r, or NULL if no gap is large enough or its
 *    descriptor could not be allocated.
 */
static struct kva_area *kva_alloc(struct kva_region *r, uint64_t npages,
                                  enum kva_kind kind)
{
        struct kva_area **link = &r->areas, *a;
        vaddr_t start = r->base + PAGE_SIZE;
        uint64_t span;

        if (npages == 0 || npages >= (r->end - r->base) / PAGE_SIZE - 1)
                return NULL;
        span = (npages + 1) * PAGE_SIZE;
        for (; *link; link = &(*link)->next) {
                if ((*link)->start - start >= span)
                        break;
                start = area_guard_end(*link);
        }
        if (r->end - start < span)
                return NULL;
        a = kzalloc(sizeof *a);
        if (!a)
                return NULL;
        a->start = start;
        a->npages = npages;
        a->kind = kind;
        a->next = *link;
        *link = a;
        r->nareas++;
        return a;
}

/* Unlink a (which must be in r) and free its descriptor. */
static void kva_free(struct kva_region *r, struct kva_area *a)
{
        struct kva_area **link = &r->areas;

        while (*link != a)
                link = &(*link)->next;
        *link = a->next;
        r->nareas--;
        kfree(a);
}

/*
 * The live area of `kind` starting at va, for freeing it.
 * => panics (a caller's bug) if there is none.
 */
static struct kva_area *kva_find(struct kva_region *r, vaddr_t va,
                                 enum kva_kind kind, const char *who)
{
        struct kva_area *a;

        for (a = r->areas; a && a->start <= va; a = a->next) {
                if (a->start != va)
                        continue;
                if (a->kind != kind)
                        panic("%s(%p): that is a %s area", who, (void *)va,
                              kva_kind_name[a->kind]);
                return a;
        }
        panic("%s(%p): not the start of a live %s area", who, (void *)va,
              kva_kind_name[kind]);
}

/* --- RAM-backed areas: vmalloc and kernel stacks ---------------------- */

static uint64_t *backed_counter(enum kva_kind kind)
{
        return kind == KVA_KSTACK ? &vmstat.kstack_pages
                                  : &vmstat.vmalloc_pages;
}

/*
 * Unmap the first n pages of a and free their frames. The frames are
 * chained through vm_page.next until the TLB has been flushed, so no
 * frame is reused while a stale translation may still reach it.
 */
static void backed_unpopulate(struct kva_area *a, uint64_t n)
{
        struct pmap *pm = pmap_kernel();
        uint32_t chain = PFN_NONE;

        for (uint64_t i = 0; i < n; i++) {
                vaddr_t va = a->start + i * PAGE_SIZE;
                struct vm_page *pg;
                paddr_t pa;

                if (!pmap_extract(pm, va, &pa, NULL, NULL))
                        panic("vmalloc: page %p of a %s area is not mapped",
                              (void *)va, kva_kind_name[a->kind]);
                pg = pmm_pa_to_page(pa);
                pg->flags &= ~PG_VMALLOC;
                pg->next = chain;
                chain = (uint32_t)(pa >> PAGE_SHIFT);
        }
        if (n)
                pmap_remove(pm, a->start, a->start + n * PAGE_SIZE);
        pmap_update(pm);
        while (chain != PFN_NONE) {
                struct vm_page *pg =
                        pmm_pa_to_page((paddr_t)chain << PAGE_SHIFT);

                chain = pg->next;
                pg->next = PFN_NONE;
                pmm_free_pages(pg, 0);
        }
        *backed_counter(a->kind) -= n;
}

/* Give every page of a its own zeroed frame, mapped RW, NX, global.
 * => VM_ENOMEM (frames or page tables) after undoing what was done. */
static vm_status_t backed_populate(struct kva_area *a)
{
        struct pmap *pm = pmap_kernel();

        for (uint64_t i = 0; i < a->npages; i++) {
                struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);
                vm_status_t st = pg ? VM_OK : VM_ENOMEM;

                if (pg)
                        st = pmap_enter(pm, a->start + i * PAGE_SIZE,
                                        pmm_page_to_pa(pg), VM_PROT_RW,
                                        PMAP_GLOBAL);
                if (st != VM_OK) {
                        if (pg)
                                pmm_free_pages(pg, 0);
                        backed_unpopulate(a, i);
                        return st;
                }
                pg->flags |= PG_VMALLOC;
                (*backed_counter(a->kind))++;
        }
        pmap_update(pm);
        return VM_OK;
}

/* An area of `kind` in the vmalloc region with fresh frames behind it. */
static void *backed_alloc(size_t size, enum kva_kind kind)
{
        struct kva_area *a;

        if (size == 0 || size > VMALLOC_END - VMALLOC_BASE)
                return NULL;
        a = kva_alloc(&vmalloc_region, page_round(size) / PAGE_SIZE, kind);
        if (!a)
                return NULL;
        if (backed_populate(a) != VM_OK) {
                kva_free(&vmalloc_region, a);
                return NULL;
        }
        return (void *)a->start;
}

static void backed_free(void *p, enum kva_kind kind, const char *who)
{
        struct kva_area *a;

        if (!p)
                return;
        a = kva_find(&vmalloc_region, (vaddr_t)p, kind, who);
        backed_unpopulate(a, a->npages);
        kva_free(&vmalloc_region, a);
}

void *vmalloc(size_t size)
{
        return backed_alloc(size, KVA_VMALLOC);
}

void vfree(void *p)
{
        backed_free(p, KVA_VMALLOC, "vfree");
}

void *kstack_alloc(void)
{
        return backed_alloc(KSTACK_SIZE, KVA_KSTACK);
}

void kstack_free(void *base)
{
        backed_free(base, KVA_KSTACK, "kstack_free");
}

/* --- guard pages ----------------------------------------------------- */

bool kstack_guard_hit(vaddr_t fault_va)
{
        const struct kva_area *a;

        for (a = vmalloc_region.areas; a; a = a->next) {
                if (a->start - PAGE_SIZE > fault_va)
                        break;          /* sorted: no later area qualifies */
                if (a->kind == KVA_KSTACK && fault_va < a->start)
                        return true;
        }
        return false;
}

/* The guard lookup in one region; see vmalloc_is_guard(). */
static bool region_guard(const struct kva_region *r, vaddr_t va,
                         vaddr_t *area_start)
{
        const struct kva_area *a, *after = NULL, *below = NULL;

        for (a = r->areas; a && a->start - PAGE_SIZE <= va; a = a->next) {
                if (va < a->start)      /* at most one area: guards */
                        below = a;
                if (va >= area_end(a) && va < area_guard_end(a))
                        after = a;
        }
        if (below && (below->kind == KVA_KSTACK || !after))
                *area_start = below->start;
        else if (after)
                *area_start = after->start;
        return below || after;
}

bool vmalloc_is_guard(vaddr_t va, vaddr_t *area_start)
{
        vaddr_t dummy;

        if (!area_start)
                area_start = &dummy;
        for (size_t i = 0; i < ARRAY_SIZE(regions); i++)
                if (va >= regions[i]->base && va < regions[i]->end)
                        return region_guard(regions[i], va, area_start);
        return false;
}

/* --- device memory --------------------------------------------------- */

void *ioremap(paddr_t pa, size_t len, unsigned pmap_flags)
{
        struct pmap *pm = pmap_kernel();
        paddr_t first = page_trunc(pa);
        struct kva_area *a;
        uint64_t bytes;

        if (len == 0 || pa >= PADDR_LIMIT || len > PADDR_LIMIT - pa ||
            (pmap_flags & ~(unsigned)(PMAP_NOCACHE | PMAP_WC)) ||
            pmap_flags == (PMAP_NOCACHE | PMAP_WC))
                return NULL;
        bytes = page_round(pa + len) - first;
        a = kva_alloc(&ioremap_region, bytes / PAGE_SIZE, KVA_IOREMAP);
        if (!a)
                return NULL;
        a->pa = first;
        a->cache = pmap_flags ? pmap_flags : PMAP_NOCACHE;
        if (pmap_enter_range(pm, a->start, first, bytes, VM_PROT_RW,
                             PMAP_GLOBAL | a->cache) != VM_OK) {
                pmap_remove(pm, a->start, a->start + bytes);
                pmap_update(pm);
                kva_free(&ioremap_region, a);
                return NULL;
        }
        pmap_update(pm);
        return (void *)(a->start + (pa & PAGE_MASK));
}

void iounmap(void *va)
{
        struct pmap *pm = pmap_kernel();
        struct kva_area *a;

        if (!va)
                return;
        a = kva_find(&ioremap_region, page_trunc((vaddr_t)va), KVA_IOREMAP,
                     "iounmap");
        pmap_remove(pm, a->start, area_end(a));
        pmap_update(pm);
        kva_free(&ioremap_region, a);
}

/* --- setup, checking, printing ---------------------------------------- */

void vmalloc_init(void)
{
        vmalloc_region.base = VMALLOC_BASE;
        vmalloc_region.end = VMALLOC_END;
        ioremap_region.base = IOREMAP_BASE;
        ioremap_region.end = IOREMAP_END;
        for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
                regions[i]->areas = NULL;
                regions[i]->nareas = 0;
        }
}

static bool vcheck_fail(const struct kva_region *r, const struct kva_area *a,
                        vaddr_t va, const char *what)
{
        pr_err("vmalloc_check: %s area %p page %p: %s\n", r->name,
               a ? (void *)a->start : NULL, (void *)va, what);
        return false;
}

/* Invariants 2-4 for one page of an area. */
static bool check_area_page(const struct kva_region *r,
                            const struct kva_area *a, uint64_t i)
{
        vaddr_t va = a->start + i * PAGE_SIZE;
        const struct vm_page *pg;
        vm_prot_t prot;
        unsigned flags;
        paddr_t pa;

        if (!pmap_extract(pmap_kernel(), va, &pa, &prot, &flags))
                return vcheck_fail(r, a, va, "not mapped");
        if ((prot & VM_PROT_ALL) != pmap_prot_implied(VM_PROT_RW) ||
            (flags & PMAP_USER) ||
            !(flags & PMAP_GLOBAL))
                return vcheck_fail(r, a, va, "wrong protection or flags");
        if (a->kind == KVA_IOREMAP)
                return (pa == a->pa + i * PAGE_SIZE &&
                        (flags & (PMAP_NOCACHE | PMAP_WC)) == a->cache) ||
                       vcheck_fail(r, a, va, "wrong frame or cache mode");
        pg = pmm_pa_to_page(pa);
        if (!pg || !(pg->flags & PG_VMALLOC) || (pg->flags & PG_FREE) ||
            pg->refcount == 0)
                return vcheck_fail(r, a, va, "frame not an allocated "
                                   "PG_VMALLOC page");
        return true;
}

/* Invariants 1-2 for one area: placement and its unmapped neighbours. */
static bool check_area(const struct kva_region *r, const struct kva_area *a,
                       vaddr_t min_start, uint64_t *backed)
{
        vaddr_t limit = a->next ? a->next->start : r->end;
        paddr_t pa;

        if (a->start < min_start || !is_aligned(a->start, PAGE_SIZE) ||
            a->npages == 0 || a->npages > (r->end - r->base) / PAGE_SIZE ||
            area_guard_end(a) > limit || area_guard_end(a) <= a->start)
                return vcheck_fail(r, a, a->start, "misplaced area");
        if (pmap_extract(pmap_kernel(), a->start - PAGE_SIZE, &pa, NULL,
                         NULL) ||
            pmap_extract(pmap_kernel(), area_end(a), &pa, NULL, NULL))
                return vcheck_fail(r, a, a->start, "a guard page is mapped");
        for (uint64_t i = 0; i < a->npages; i++)
                if (!check_area_page(r, a, i))
                        return false;
        if (a->kind != KVA_IOREMAP)
                backed[a->kind] += a->npages;
        return true;
}

void vmalloc_for_each_area(bool (*fn)(void *arg, vaddr_t start,
                                      uint64_t npages, bool kstack),
                           void *arg)
{
        for (const struct kva_area *a = vmalloc_region.areas; a; a = a->next)
                if (!fn(arg, a->start, a->npages, a->kind == KVA_KSTACK))
                        return;
}

bool vmalloc_check(void)
{
        uint64_t backed[2] = { 0, 0 };

        for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
                const struct kva_region *r = regions[i];
                vaddr_t min_start = r->base + PAGE_SIZE;
                uint64_t n = 0;

                for (const struct kva_area *a = r->areas; a; a = a->next) {
                        if (!check_area(r, a, min_start, backed))
                                return false;
                        if ((a->kind == KVA_IOREMAP) != (r == &ioremap_region))
                                return vcheck_fail(r, a, a->start,
                                                   "area in the wrong region");
                        min_start = area_guard_end(a);
                        n++;
                }
                if (n != r->nareas)
                        return vcheck_fail(r, NULL, 0, "area count is wrong");
        }
        if (backed[KVA_VMALLOC] != vmstat.vmalloc_pages ||
            backed[KVA_KSTACK] != vmstat.kstack_pages)
                return vcheck_fail(&vmalloc_region, NULL, 0,
                                   "pages disagree with vmstat");
        return true;
}

void vmalloc_dump(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
                const struct kva_region *r = regions[i];

                pr_info("%s: %llu areas in [%p, %p)\n", r->name,
                        (unsigned long long)r->nareas, (void *)r->base,
                        (void *)r->end);
                for (const struct kva_area *a = r->areas; a; a = a->next)
                        pr_info("  %p-%p %7llu KiB %s\n", (void *)a->start,
                                (void *)area_end(a),
                                (unsigned long long)(a->npages * PAGE_SIZE /
                                                     KiB),
                                kva_kind_name[a->kind]);
        }
}
