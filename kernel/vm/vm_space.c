/*
 * vm_space.c - address spaces and the mmap family (see vm_space.h):
 * create/destroy, map, unmap, protect, brk, stack setup, and the checker.
 * The page-fault handler is in vm_fault.c.
 *
 * Owns: struct vm_space, the areas in its tree, and the decision of which
 * translations its pmap may hold. Pages come from objects (vm_object.c);
 * page tables belong to the pmap.
 *
 * Every operation follows one shape, so that failure needs no rollback:
 *   1. validate the arguments;
 *   2. plan: which areas the range overlaps, which straddle its ends, and
 *      what the area count will be afterwards;
 *   3. allocate everything the change needs (descriptors for splits and
 *      the new area, a shared object) - the only step that can fail;
 *   4. apply: split at the ends ("carve"), drop or change what is inside,
 *      insert, merge with compatible neighbours.
 * Frames are freed only after the translations to them are removed and
 * the TLB flushed (pmap_update), so no CPU can still reach a freed frame.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

/* Descriptors allocated before a change, so the change cannot fail. */
struct spares {
        struct vm_area *a[3];
        unsigned        n;
};

/* What a range [start, end) overlaps. */
struct range_plan {
        vaddr_t         start, end;
        struct vm_area *first;          /* first area overlapping, or NULL */
        uint64_t        overlap;        /* areas overlapping */
        bool            split_lo;       /* an area straddles start */
        bool            split_hi;       /* an area straddles end */
        bool            covered;        /* no hole in the range */
};

/* An mmap request once validated and placed. */
struct map_req {
        vaddr_t   va;
        uint64_t  len;
        vm_prot_t prot;
        unsigned  flags;                /* VM_MAP_* */
        unsigned  area_flags;           /* VM_AREA_* */
};

static inline bool area_private(const struct vm_area *a)
{
        return !(a->flags & VM_AREA_SHARED);
}

/* ---- spare descriptors ------------------------------------------------------ */

static vm_status_t spares_get(struct spares *sp, unsigned n)
{
        ASSERT(n <= ARRAY_SIZE(sp->a));
        for (sp->n = 0; sp->n < n; sp->n++) {
                sp->a[sp->n] = vm_area_alloc();
                if (!sp->a[sp->n]) {
                        while (sp->n > 0)
                                vm_area_free(sp->a[--sp->n]);
                        return VM_ENOMEM;
                }
        }
        return VM_OK;
}

static struct vm_area *spares_take(struct spares *sp)
{
        ASSERT(sp->n > 0);
        return sp->a[--sp->n];
}

static void spares_put(struct spares *sp)
{
        while (sp->n > 0)
                vm_area_free(sp->a[--sp->n]);
}

/* ---- ranges: plan, carve, drop -------------------------------------------- */

static void range_plan(struct vm_space *s, vaddr_t start, vaddr_t end,
                       struct range_plan *p)
{
        struct vm_area *a = vm_area_lookup_next(&s->areas, start);
        vaddr_t at = start;

        *p = (struct range_plan){ .start = start, .end = end, .covered = true };
        if (a && a->start < end)
                p->first = a;
        for (; a && a->start < end; a = a->next) {
                if (a->start > at)
                        p->covered = false;
                if (a->start < start)
                        p->split_lo = true;
                if (a->end > end)
                        p->split_hi = true;
                p->overlap++;
                at = a->end;
        }
        if (at < end)
                p->covered = false;
}

/* Areas after the range is cut out (before anything new is added). */
static uint64_t count_after_cut(const struct vm_space *s,
                                const struct range_plan *p)
{
        return s->areas.count - p->overlap + p->split_lo + p->split_hi;
}

/*
 * Split the areas straddling the ends of p's range (lo: at start, hi: at
 * end) with descriptors from sp; returns the first area overlapping the
 * range (starting at p->start if lo), or NULL.
 */
static struct vm_area *range_carve(struct vm_space *s, struct range_plan *p,
                                   struct spares *sp, bool lo, bool hi)
{
        struct vm_area *a = p->first, *last;

        if (!a)
                return NULL;
        if (lo && a->start < p->start)
                a = vm_area_split(&s->areas, a, p->start, spares_take(sp));
        last = vm_area_lookup(&s->areas, p->end - 1);
        if (hi && last && last->end > p->end)
                vm_area_split(&s->areas, last, p->end, spares_take(sp));
        p->first = a;
        return a;
}

/* Forget one area: its private pages, its descriptor, its reference. */
static void area_release(struct vm_space *s, struct vm_area *a)
{
        if (a->object && area_private(a))
                vm_object_free_range(a->object, a->pgoff,
                                     a->pgoff + vm_area_npages(a));
        vm_area_remove(&s->areas, a);
        vm_area_free(a);
}

/* Remove every area of the carved range [first..., end) and its pages. */
static void range_drop(struct vm_space *s, struct vm_area *first,
                       vaddr_t start, vaddr_t end)
{
        struct vm_area *a = first, *next;
        vm_status_t st;

        if (!first)
                return;
        st = pmap_remove(s->pmap, start, end);  /* 4 KiB pages: no split */
        ASSERT(st == VM_OK);
        pmap_update(s->pmap);                   /* before frames go */
        for (; a && a->start < end; a = next) {
                next = a->next;
                area_release(s, a);
        }
}

/* Merge a with its neighbours where possible; returns the merged area. */
static struct vm_area *merge_around(struct vm_space *s, struct vm_area *a)
{
        if (a->prev && vm_area_can_merge(a->prev, a))
                a = vm_area_merge(&s->areas, a->prev);
        if (a->next && vm_area_can_merge(a, a->next))
                a = vm_area_merge(&s->areas, a);
        return a;
}

/* ---- create and destroy ------------------------------------------------------ */

/* Linux's mmap_base without randomization: the stack's room below top. */
static vaddr_t mmap_base_for(const struct vm_space *s)
{
        uint64_t gap = s->stack_limit + VM_STACK_GUARD_GAP;
        uint64_t gap_max = (s->max - s->min) / 6 * 5;

        gap = MAX(gap, VM_MMAP_GAP_MIN);
        gap = MIN(gap, gap_max);
        return page_trunc(s->max - gap);
}

vm_status_t vm_space_create(struct vm_space **out)
{
        struct vm_space *s;
        vm_status_t st = vm_zero_page_init();

        if (st != VM_OK)
                return st;
        s = kzalloc(sizeof *s);
        if (!s)
                return VM_ENOMEM;
        st = pmap_create(&s->pmap);
        if (st != VM_OK) {
                kfree(s);
                return st;
        }
        vm_area_tree_init(&s->areas, USER_MIN, USER_MAX, VM_STACK_GUARD_GAP);
        s->min = USER_MIN;
        s->max = USER_MAX;
        s->stack_limit = VM_STACK_LIMIT_DEFAULT;
        s->max_areas = VM_MAX_AREAS;
        s->mmap_base = mmap_base_for(s);
        *out = s;
        return VM_OK;
}

void vm_space_destroy(struct vm_space *s)
{
        vm_status_t st = pmap_remove(s->pmap, s->min, s->max);

        ASSERT(st == VM_OK);
        pmap_update(s->pmap);
        while (s->areas.first)
                area_release(s, s->areas.first);
        pmap_destroy(s->pmap);
        kfree(s);
}

void vm_space_set_stack_limit(struct vm_space *s, uint64_t bytes)
{
        s->stack_limit = page_round(bytes);
        if (s->areas.count == 0)        /* exec time: lay out the mmap area */
                s->mmap_base = mmap_base_for(s);
}

const struct vm_area *vm_space_lookup(struct vm_space *s, vaddr_t va)
{
        return vm_area_lookup(&s->areas, va);
}

/* ---- map ------------------------------------------------------------------- */

static unsigned area_flags_of(unsigned flags)
{
        return ((flags & VM_MAP_SHARED) ? VM_AREA_SHARED : 0) |
               ((flags & VM_MAP_GROWSDOWN) ? VM_AREA_GROWSDOWN : 0) |
               ((flags & VM_MAP_NORESERVE) ? VM_AREA_NORESERVE : 0);
}

static vm_status_t map_validate(const struct vm_space *s, vaddr_t hint,
                                uint64_t len, vm_prot_t prot, unsigned flags,
                                struct map_req *r)
{
        unsigned kind = flags & (VM_MAP_PRIVATE | VM_MAP_SHARED);

        if (len == 0 || (flags & ~VM_MAP_FLAGS_ALL) || (prot & ~VM_PROT_ALL))
                return VM_EINVAL;
        if (kind != VM_MAP_PRIVATE && kind != VM_MAP_SHARED)
                return VM_EINVAL;
        if ((flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) &&
            !is_aligned(hint, PAGE_SIZE))
                return VM_EINVAL;
        *r = (struct map_req){ .len = page_round(len), .prot = prot,
                               .flags = flags,
                               .area_flags = area_flags_of(flags) };
        if (r->len == 0 || r->len > s->max - s->min)
                return VM_ENOMEM;
        return VM_OK;
}

/* Is [va, va + len) free, keeping the guard gap below a stack above it? */
static bool range_free(struct vm_space *s, vaddr_t va, uint64_t len)
{
        struct vm_area *next;

        if (va < s->min || va > s->max - len)
                return false;
        next = vm_area_lookup_next(&s->areas, va);
        return !next || va + len <= vm_area_start_gap(&s->areas, next);
}

/* Where a mapping without FIXED goes: the hint if free, else top-down
 * below mmap_base, else bottom-up from the legacy base (as x86 Linux). */
static vm_status_t map_place_free(struct vm_space *s, vaddr_t hint,
                                  struct map_req *r)
{
        hint = page_trunc(hint);
        if (hint && hint < s->min)      /* Linux's round_hint_to_min() */
                hint = s->min;
        if (hint && range_free(s, hint, r->len)) {
                r->va = hint;
                return VM_OK;
        }
        if (vm_area_gap_highest(&s->areas, r->len, s->min, s->mmap_base,
                                &r->va) == VM_OK)
                return VM_OK;
        return vm_area_gap_lowest(&s->areas, r->len, VM_MMAP_LEGACY_BASE,
                                  s->max, &r->va);
}

static vm_status_t map_place(struct vm_space *s, vaddr_t hint,
                             struct map_req *r)
{
        struct vm_area *next;

        if (!(r->flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)))
                return map_place_free(s, hint, r);
        if (hint > s->max - r->len)
                return VM_ENOMEM;
        if (hint < s->min)
                return VM_EACCES;
        r->va = hint;
        next = vm_area_lookup_next(&s->areas, hint);
        if ((r->flags & VM_MAP_FIXED_NOREPLACE) && next &&
            next->start < hint + r->len)
                return VM_EEXIST;
        return VM_OK;
}

/* Would the new area merge with neighbour n (which keeps its attributes)? */
static bool map_merges_with(const struct vm_area *n, const struct map_req *r)
{
        /* A fresh private area has no object and pgoff = va page number,
         * which fits any private neighbour (vm_space.h invariant 3). */
        return n && n->prot == r->prot && n->flags == r->area_flags &&
               !(r->area_flags & VM_AREA_SHARED);
}

static uint64_t map_count_after(struct vm_space *s, const struct range_plan *p,
                                const struct map_req *r)
{
        struct vm_area *lo = vm_area_lookup(&s->areas, r->va - 1);
        struct vm_area *hi = vm_area_lookup(&s->areas, r->va + r->len);

        return count_after_cut(s, p) + 1 - map_merges_with(lo, r) -
               map_merges_with(hi, r);
}

/* Fill in the new area's descriptor; obj (shared only) is handed over. */
static void map_area_init(struct vm_area *a, const struct map_req *r,
                          struct vm_object *obj)
{
        a->start = r->va;
        a->end = r->va + r->len;
        a->prot = r->prot;
        a->flags = r->area_flags;
        a->object = obj;
        a->pgoff = obj ? 0 : r->va >> PAGE_SHIFT;
}

/* Replace whatever is in r's range by a new anonymous area. */
static vm_status_t map_range(struct vm_space *s, const struct map_req *r)
{
        struct range_plan p;
        struct spares sp;
        struct vm_object *obj = NULL;
        struct vm_area *a;
        vm_status_t st;

        range_plan(s, r->va, r->va + r->len, &p);
        if (map_count_after(s, &p, r) > s->max_areas)
                return VM_ENOMEM;
        st = spares_get(&sp, 1 + p.split_lo + p.split_hi);
        if (st == VM_OK && (r->area_flags & VM_AREA_SHARED))
                st = vm_object_create_anon(r->len >> PAGE_SHIFT, &obj);
        if (st != VM_OK) {
                spares_put(&sp);
                return st;
        }
        range_drop(s, range_carve(s, &p, &sp, true, true), p.start, p.end);
        a = spares_take(&sp);
        map_area_init(a, r, obj);
        st = vm_area_insert(&s->areas, a);
        ASSERT(st == VM_OK);
        merge_around(s, a);
        spares_put(&sp);
        return VM_OK;
}

/* MAP_POPULATE: fault every page in; failures only stop it (as Linux). */
static void map_populate(struct vm_space *s, const struct map_req *r)
{
        vm_prot_t access = (r->prot & VM_PROT_WRITE) ? VM_PROT_WRITE
                                                     : VM_PROT_READ;

        if (!(r->flags & VM_MAP_POPULATE) || r->prot == VM_PROT_NONE)
                return;
        for (vaddr_t va = r->va; va < r->va + r->len; va += PAGE_SIZE)
                if (vm_fault(s, va, access) != FAULT_RESOLVED)
                        return;
}

vm_status_t vm_space_map(struct vm_space *s, vaddr_t hint, uint64_t len,
                         vm_prot_t prot, unsigned flags, vaddr_t *out)
{
        struct map_req r;
        vm_status_t st = map_validate(s, hint, len, prot, flags, &r);

        if (st == VM_OK)
                st = map_place(s, hint, &r);
        if (st == VM_OK)
                st = map_range(s, &r);
        if (st != VM_OK)
                return st;
        map_populate(s, &r);
        *out = r.va;
        return VM_OK;
}

/* ---- unmap -------------------------------------------------------------------- */

/* Cut [start, end) out of the space; the range is valid. */
static vm_status_t unmap_range(struct vm_space *s, vaddr_t start, vaddr_t end)
{
        struct range_plan p;
        struct spares sp;
        vm_status_t st;

        range_plan(s, start, end, &p);
        if (count_after_cut(s, &p) > s->max_areas)
                return VM_ENOMEM;
        st = spares_get(&sp, p.split_lo + p.split_hi);
        if (st != VM_OK)
                return st;
        range_drop(s, range_carve(s, &p, &sp, true, true), start, end);
        spares_put(&sp);
        return VM_OK;
}

vm_status_t vm_space_unmap(struct vm_space *s, vaddr_t start, uint64_t len)
{
        uint64_t rlen = page_round(len);

        if (!is_aligned(start, PAGE_SIZE) || len == 0 || rlen == 0 ||
            start > s->max || rlen > s->max - start)
                return VM_EINVAL;
        return unmap_range(s, start, start + rlen);
}

/* ---- protect ----------------------------------------------------------------- */

/*
 * What translations of area a may allow under prot. Private memory may be
 * mapped to the zero page, which must never become writable, so widening
 * to write is left to the next write fault of each page.
 */
static vm_prot_t protect_pmap_prot(const struct vm_area *a, vm_prot_t prot)
{
        if (area_private(a) && (prot & VM_PROT_WRITE))
                prot = (prot & ~VM_PROT_WRITE) | VM_PROT_READ;
        return prot;
}

/* Set prot on the (carved) areas from first up to end, then merge. */
static void protect_areas(struct vm_space *s, struct vm_area *first,
                          vaddr_t end, vm_prot_t prot)
{
        struct vm_area *a, *from = first->prev ? first->prev : first;
        vm_status_t st;

        for (a = first; a && a->start < end; a = a->next) {
                if (a->prot == prot)
                        continue;
                a->prot = prot;
                st = pmap_protect(s->pmap, a->start, a->end,
                                  protect_pmap_prot(a, prot));
                ASSERT(st == VM_OK);
        }
        pmap_update(s->pmap);
        for (a = from; a->next && a->start < end;)
                a = vm_area_can_merge(a, a->next) ? vm_area_merge(&s->areas, a)
                                                  : a->next;
}

vm_status_t vm_space_protect(struct vm_space *s, vaddr_t start, uint64_t len,
                             vm_prot_t prot)
{
        uint64_t rlen = page_round(len);
        struct range_plan p;
        struct spares sp;
        struct vm_area *last;
        bool lo, hi;

        /* Linux's order: alignment, empty, overflow, then prot. */
        if (!is_aligned(start, PAGE_SIZE))
                return VM_EINVAL;
        if (len == 0)
                return VM_OK;
        if (rlen == 0 || start > s->max || rlen > s->max - start)
                return VM_ENOMEM;
        if (prot & ~VM_PROT_ALL)
                return VM_EINVAL;
        range_plan(s, start, start + rlen, &p);
        if (!p.covered)
                return VM_ENOMEM;
        last = vm_area_lookup(&s->areas, p.end - 1);
        lo = p.split_lo && p.first->prot != prot;
        hi = p.split_hi && last->prot != prot;
        if (s->areas.count + lo + hi > s->max_areas)
                return VM_ENOMEM;
        if (spares_get(&sp, lo + hi) != VM_OK)
                return VM_ENOMEM;
        protect_areas(s, range_carve(s, &p, &sp, lo, hi), p.end, prot);
        spares_put(&sp);
        return VM_OK;
}

/* ---- brk and stack -------------------------------------------------------------- */

vm_status_t vm_space_brk_init(struct vm_space *s, vaddr_t start)
{
        if (start < s->min || start >= s->max)
                return VM_EINVAL;
        s->start_brk = s->brk = start;
        return VM_OK;
}

static vm_status_t brk_shrink(struct vm_space *s, vaddr_t newbrk,
                              vaddr_t oldbrk)
{
        struct vm_area *a = vm_area_lookup_next(&s->areas, newbrk);

        if (!a || a->start >= oldbrk)   /* nothing of the heap is left */
                return VM_ENOENT;
        return unmap_range(s, newbrk, oldbrk);
}

static vm_status_t brk_grow(struct vm_space *s, vaddr_t oldbrk, vaddr_t newbrk)
{
        struct vm_area *next = vm_area_lookup_next(&s->areas, oldbrk);
        struct map_req r = { .va = oldbrk, .len = newbrk - oldbrk,
                             .prot = VM_PROT_RW, .flags = VM_MAP_PRIVATE };

        /* Linux keeps a page free between the heap and the next mapping. */
        if (next && newbrk + PAGE_SIZE > vm_area_start_gap(&s->areas, next))
                return VM_ENOMEM;
        return map_range(s, &r);
}

vm_status_t vm_space_brk(struct vm_space *s, vaddr_t want, vaddr_t *result)
{
        vaddr_t oldbrk = page_round(s->brk), newbrk;
        vm_status_t st = VM_OK;

        *result = s->brk;
        if (s->start_brk == 0 || want < s->start_brk)   /* no heap / below */
                return VM_EINVAL;
        if (want > s->max)
                return VM_ENOMEM;
        newbrk = page_round(want);
        if (newbrk < oldbrk)
                st = brk_shrink(s, newbrk, oldbrk);
        else if (newbrk > oldbrk)
                st = brk_grow(s, oldbrk, newbrk);
        if (st == VM_OK)
                s->brk = want;
        *result = s->brk;
        return st;
}

vm_status_t vm_space_stack_init(struct vm_space *s, vaddr_t top, uint64_t len)
{
        struct map_req r = { .va = top - len, .len = len, .prot = VM_PROT_RW,
                             .flags = VM_MAP_PRIVATE | VM_MAP_GROWSDOWN,
                             .area_flags = VM_AREA_GROWSDOWN };
        struct vm_area *next;
        vm_status_t st;

        if (!is_aligned(top | len, PAGE_SIZE) || len == 0 ||
            len > s->stack_limit || top > s->max || top < s->min ||
            len > top - s->min)
                return VM_EINVAL;
        next = vm_area_lookup_next(&s->areas, r.va);
        if (next && next->start < top)
                return VM_EEXIST;
        st = map_range(s, &r);
        if (st == VM_OK)
                s->stack_top = top;
        return st;
}

/* ---- vm_space_check -------------------------------------------------------- */

#define CHECK_GAP_EDGE  32      /* gap pages probed at each end of a gap */

static bool space_fail(const char *why, vaddr_t va)
{
        pr_err("vm_space_check: %s at %#lx\n", why, (unsigned long)va);
        return false;
}

/* Invariant 4 for one page of area a. */
static bool check_page(struct vm_space *s, const struct vm_area *a,
                       vaddr_t va)
{
        paddr_t pa;
        vm_prot_t prot;
        unsigned flags;
        struct vm_page *pg;

        if (!pmap_extract(s->pmap, va, &pa, &prot, &flags))
                return true;
        if (!(flags & PMAP_USER) || a->prot == VM_PROT_NONE)
                return space_fail("kernel-only or PROT_NONE translation", va);
        if (((prot & VM_PROT_WRITE) && !(a->prot & VM_PROT_WRITE)) ||
            ((prot & VM_PROT_EXEC) && !(a->prot & VM_PROT_EXEC)))
                return space_fail("translation allows more than its area", va);
        pg = a->object ? vm_object_lookup(a->object, a->pgoff +
                                          ((va - a->start) >> PAGE_SHIFT))
                       : NULL;
        if (pg && pa != pmm_page_to_pa(pg))
                return space_fail("translation is not the object's page", va);
        if (!pg && (pa != vm_zero_page_pa() || !area_private(a)))
                return space_fail("translation to a page no object holds", va);
        if (!pg && (prot & VM_PROT_WRITE))
                return space_fail("writable zero page", va);
        return true;
}

/* No translation in [start, end), a gap: probe the pages near its ends
 * (where a stale one from an unmap or a shrink would be). */
static bool check_gap(struct vm_space *s, vaddr_t start, vaddr_t end)
{
        uint64_t n = (end - start) >> PAGE_SHIFT;

        for (uint64_t i = 0; i < n; i++) {
                vaddr_t va = start + (i << PAGE_SHIFT);

                if (i == CHECK_GAP_EDGE && n > 2 * CHECK_GAP_EDGE)
                        i = n - CHECK_GAP_EDGE;
                if (pmap_extract(s->pmap, va, NULL, NULL, NULL))
                        return space_fail("translation outside every area", va);
        }
        return true;
}

struct orphan_check {
        struct vm_space        *space;
        const struct vm_object *object;
};

/* A private object's page must lie under an area using that object. */
static bool check_private_page(void *arg, uint64_t index, struct vm_page *pg)
{
        struct orphan_check *oc = arg;
        const struct vm_area *a = vm_area_lookup(&oc->space->areas,
                                                 index << PAGE_SHIFT);

        if (!a || a->object != oc->object)
                return space_fail("private page outside its areas",
                                  index << PAGE_SHIFT);
        return true;
}

/* Invariants 2, 3 and the object of one area. */
static bool check_area(struct vm_space *s, const struct vm_area *a)
{
        struct orphan_check oc = { s, a->object };
        bool new_object = a->object && (!a->prev || a->prev->object != a->object);

        if (a->next && vm_area_can_merge(a, a->next))
                return space_fail("neighbours not merged", a->start);
        if (!area_private(a) && !a->object)
                return space_fail("shared area without object", a->start);
        if (area_private(a) && a->pgoff != a->start >> PAGE_SHIFT)
                return space_fail("private pgoff is not the page number",
                                  a->start);
        if (new_object && !vm_object_check(a->object))
                return space_fail("bad object", a->start);
        if (new_object && area_private(a) &&
            !vm_object_for_each(a->object, 0, a->object->size,
                                check_private_page, &oc))
                return false;
        for (vaddr_t va = a->start; va < a->end; va += PAGE_SIZE)
                if (!check_page(s, a, va))
                        return false;
        return check_gap(s, a->prev ? a->prev->end : s->min, a->start);
}

bool vm_space_check(struct vm_space *s)
{
        const struct vm_area_tree *t = &s->areas;

        if (!vm_area_tree_check(t))
                return false;
        if (t->min != s->min || t->max != s->max || t->count > s->max_areas)
                return space_fail("tree bounds or area count", t->count);
        for (const struct vm_area *a = t->first; a; a = a->next)
                if (!check_area(s, a))
                        return false;
        if (!check_gap(s, t->last ? t->last->end : s->min, s->max))
                return false;
        if (s->start_brk > s->brk)
                return space_fail("brk below start_brk", s->brk);
        return vm_zero_page_check();
}
