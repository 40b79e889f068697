/*
 * vm_advise.c - vm_space_advise(): madvise for the advice Mercator truly
 * honours (see vm_space.h for what each does and why the hints are
 * honest).
 *
 * Owns: nothing lasting. DONTNEED drops pages (translations first, then,
 * after the TLB flush, the private pages); FREE marks them lazy
 * (vm_reclaim.h: reclaim frees them without swap); WILLNEED fills a file
 * object's pages; NORMAL / RANDOM / SEQUENTIAL change area flags with the
 * split/merge machinery mprotect uses. As in Linux, a hole in the range
 * does not stop the advice: it applies to the mapped parts and the result
 * is VM_ENOMEM. vm_space_populate() (mlock) faults a range in.
 * GUARD_INSTALL / GUARD_REMOVE change the space's guard runs
 * (vm_guard.h).
 */
#include <mercator/panic.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>
#include <vm/vm_swap.h>

#define HINT_FLAGS      (VM_AREA_RANDOM | VM_AREA_SEQUENTIAL)

/* The part of area a inside [start, end). */
static inline vaddr_t clip_lo(const struct vm_area *a, vaddr_t start)
{
        return MAX(a->start, start);
}
static inline vaddr_t clip_hi(const struct vm_area *a, vaddr_t end)
{
        return MIN(a->end, end);
}

static vm_status_t advise_result(const struct vm_range_plan *p)
{
        return p->covered ? VM_OK : VM_ENOMEM;
}

/* MADV_FREE is for private anonymous memory only (Linux: EINVAL; also
 * for explicit huge pages). */
static bool free_allowed(const struct vm_range_plan *p)
{
        for (struct vm_area *a = p->first; a && a->start < p->end; a = a->next)
                if (!vm_area_private(a) || a->backing ||
                    (a->object && a->object->hugetlb))
                        return false;
        return true;
}

/* Linux's zap drops UFFDIO_POISON's markers (nothing to reserve while
 * there are none). */
static vm_status_t clear_poison(struct vm_space *s, const struct vm_range_plan *p)
{
        if (vm_guards_reserve(&s->poison, 2) != VM_OK)
                return VM_ENOMEM;
        vm_guards_clear(&s->poison, p->start, p->end);
        return VM_OK;
}

/* DONTNEED: unmap the range from this space, then drop its private pages
 * (shared objects keep theirs); their write-protection marks go with
 * them (Linux's zap of an anonymous page). */
static vm_status_t advise_dontneed(struct vm_space *s,
                                   const struct vm_range_plan *p)
{
        struct vm_area *a;

        if (clear_poison(s, p) != VM_OK ||
            vm_guards_reserve(&s->uffd_wp, 2) != VM_OK)
                return VM_ENOMEM;
        vm_guards_clear(&s->uffd_wp, p->start, p->end);
        for (a = p->first; a && a->start < p->end; a = a->next)
                vm_pmap_remove(s, clip_lo(a, p->start), clip_hi(a, p->end));
        pmap_update(s->pmap);           /* before frames go */
        for (a = p->first; a && a->start < p->end; a = a->next)
                vm_area_free_pages(a, clip_lo(a, p->start), clip_hi(a, p->end));
        return advise_result(p);
}

/* FREE's walk of one object's indices, in batches taken before anything
 * changes (a freed entry may free radix nodes a walk is in). */
#define FREE_BATCH      32

struct free_ctx {
        unsigned  n;
        uint64_t  index[FREE_BATCH];
        struct vm_page *pg[FREE_BATCH];
};

static bool free_collect_entry(void *arg, uint64_t index, swp_entry_t e)
{
        struct free_ctx *c = arg;

        c->index[c->n++] = index;
        return c->n < FREE_BATCH;
}

static bool free_collect_page(void *arg, uint64_t index, struct vm_page *pg)
{
        struct free_ctx *c = arg;

        c->index[c->n] = index;
        c->pg[c->n++] = pg;
        return c->n < FREE_BATCH;
}

/* FREE over [first, end) of private object o, mapped at va_first: its
 * swapped pages go now (their contents may be dropped, and a slot costs
 * more than nothing: Linux frees them too); each resident page o alone
 * holds becomes lazy, its accessed bit cleared. Pages a fork's relative
 * shares stay as they are (Linux skips them too). */
static void free_object(struct vm_space *s, struct vm_object *o,
                        uint64_t first, uint64_t end, vaddr_t va_first)
{
        struct free_ctx c;

        for (uint64_t i = first; o->nswapped && i < end; ) {
                c.n = 0;
                vm_object_for_each_entry(o, i, end, free_collect_entry, &c);
                if (c.n == 0)
                        break;
                i = c.index[c.n - 1] + 1;
                for (unsigned k = 0; k < c.n; k++)
                        (void)vm_object_free_range(o, c.index[k], c.index[k] + 1);
        }
        for (uint64_t i = first; i < end; ) {
                c.n = 0;
                vm_object_for_each(o, i, end, free_collect_page, &c);
                if (c.n == 0)
                        break;
                i = c.index[c.n - 1] + 1;
                for (unsigned k = 0; k < c.n; k++) {
                        if (c.pg[k]->flags & PG_SWAPCACHE)
                                vm_swap_unkeep(c.pg[k]);  /* slot freed */
                        if (c.pg[k]->refcount != 1)
                                continue;
                        vm_lazyfree_mark(c.pg[k]);
                        (void)pmap_ad(s->pmap, va_first + (vaddr_t)
                                      ((c.index[k] - first) << PAGE_SHIFT), true);
                }
        }
}

/* FREE (Linux 4.5): the range's data may go instead of being written to
 * swap. Translations lose write first (so every later write faults and
 * un-lazies its page, vm_reclaim.h), then each object page this space
 * alone holds is marked lazy; reclaim frees those still lazy, with or
 * without swap, and the next read sees zeroes. */
static vm_status_t advise_free(struct vm_space *s, const struct vm_range_plan *p)
{
        struct vm_area *a;

        if (!free_allowed(p))
                return VM_EINVAL;
        if (clear_poison(s, p) != VM_OK)
                return VM_ENOMEM;
        for (a = p->first; a && a->start < p->end; a = a->next) {
                vaddr_t lo = clip_lo(a, p->start), hi = clip_hi(a, p->end);

                if (!a->object)
                        continue;       /* nothing but the zero page */
                vm_pmap_protect(s, lo, hi,
                                pmap_prot_implied(a->prot) & ~VM_PROT_WRITE);
                free_object(s, a->object, a->pgoff + vm_area_off(a, lo),
                            a->pgoff + vm_area_off(a, hi), lo);
        }
        pmap_update(s->pmap);
        return advise_result(p);
}

/* The file an area reads, and the file page index of va, or NULL. */
static struct vm_object *area_file(const struct vm_area *a, vaddr_t va,
                                   uint64_t *index)
{
        if (a->backing) {
                *index = a->backing_pgoff + vm_area_off(a, va);
                return a->backing;
        }
        if (!vm_area_private(a) && a->object->type == VM_OBJECT_FILE) {
                *index = a->pgoff + vm_area_off(a, va);
                return a->object;
        }
        return NULL;
}

/* One swapped page of a private object back, unmapped. */
static bool willneed_swapped(void *arg, uint64_t index, swp_entry_t e)
{
        struct vm_page *pg;

        return vm_swap_in(arg, index, &pg, NULL) == VM_OK;
}

/* WILLNEED: read the file pages of file-backed areas in now (up to the
 * file's end), and the swapped pages of private anonymous memory and of
 * shared memory (shared anonymous, SysV, tmpfs and memfd mapped shared:
 * into their object, unmapped: the next touch is a minor fault; Linux
 * reads them into its swap cache). A hint: memory shortage or a read
 * error ends it quietly. */
static vm_status_t advise_willneed(const struct vm_range_plan *p)
{
        struct vm_page *pg;
        struct vm_object *file;
        uint64_t index, n;

        for (struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next) {
                if (a->object && a->object->nswapped &&
                    (vm_area_private(a) || vm_object_swap_shared(a->object)) &&
                    !vm_object_for_each_entry(a->object,
                                a->pgoff + vm_area_off(a, clip_lo(a, p->start)),
                                a->pgoff + vm_area_off(a, clip_hi(a, p->end)),
                                willneed_swapped, a->object))
                        return advise_result(p);
                file = area_file(a, clip_lo(a, p->start), &index);
                if (!file || index >= file->size)
                        continue;
                n = (clip_hi(a, p->end) - clip_lo(a, p->start)) >> PAGE_SHIFT;
                n = MIN(n, file->size - index);
                for (uint64_t i = 0; i < n; i++)
                        if (vm_object_get_page(file, index + i, &pg) != VM_OK)
                                return advise_result(p);
        }
        return advise_result(p);
}

/* COLD / PAGEOUT over one object's resident pages, in batches taken
 * before any is dropped (a drop may free radix nodes a walk is in). */
#define COLD_BATCH      32

struct cold_ctx {
        struct vm_space *s;
        struct vm_area  *a;
        uint64_t         pgoff;         /* the object's index at a->start */
        bool             pageout;
        unsigned         n;
        uint64_t         index[COLD_BATCH];
        struct vm_page  *pg[COLD_BATCH];
};

static bool cold_collect(void *arg, uint64_t index, struct vm_page *pg)
{
        struct cold_ctx *c = arg;

        c->index[c->n] = index;
        c->pg[c->n++] = pg;
        return c->n < COLD_BATCH;
}

/* One page, if this space maps it at its address in area c->a. */
static void cold_one(struct cold_ctx *c, uint64_t index, struct vm_page *pg)
{
        vaddr_t va = c->a->start + (vaddr_t)((index - c->pgoff) << PAGE_SHIFT);
        paddr_t pa;

        if (!pmap_extract(c->s->pmap, va, &pa, NULL, NULL) ||
            page_trunc(pa) != pmm_page_to_pa(pg))
                return;                 /* not mapped here (or a copy is) */
        /* PAGEOUT reclaims what this space alone maps: clean file pages
         * are dropped, private anonymous ones go to swap if there is
         * some (without, they stay, as dirty page-cache pages do). */
        if (c->pageout && rmap_count(pg) == 1 &&
            (vm_lazyfree_drop(pg) || rmap_evict_clean(pg) == VM_OK ||
             vm_swap_out_one(pg)))
                return;
        (void)pmap_ad(c->s->pmap, va, true);
        vm_lru_deactivate(pg);
}

static void cold_object(struct cold_ctx *c, struct vm_object *o,
                        uint64_t pgoff, vaddr_t lo, vaddr_t hi)
{
        uint64_t first = pgoff + vm_area_off(c->a, lo);
        uint64_t end = pgoff + vm_area_off(c->a, hi);

        c->pgoff = pgoff;
        while (first < end) {
                c->n = 0;
                vm_object_for_each(o, first, end, cold_collect, c);
                if (c->n == 0)
                        break;
                first = c->index[c->n - 1] + 1;
                for (unsigned i = 0; i < c->n; i++)
                        cold_one(c, c->index[i], c->pg[i]);
        }
}

/* COLD, PAGEOUT (Linux 5.4): the range's pages will not be used soon.
 * COLD: their accessed bits in this space are cleared and they go to
 * the inactive list, to be reclaimed first; PAGEOUT: those mapped by
 * this space alone are reclaimed now if clean, the rest made cold. Only
 * resident pages are visited (the objects', not every address). */
static vm_status_t advise_cold(struct vm_space *s,
                               const struct vm_range_plan *p, bool pageout)
{
        struct cold_ctx c = { .s = s, .pageout = pageout };

        for (struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next) {
                vaddr_t lo = clip_lo(a, p->start), hi = clip_hi(a, p->end);

                c.a = a;
                if (a->object)
                        cold_object(&c, a->object, a->pgoff, lo, hi);
                if (a->backing)
                        cold_object(&c, a->backing, a->backing_pgoff, lo, hi);
        }
        pmap_update(s->pmap);
        return advise_result(p);
}

/* REMOVE: punch a hole in the shared object of each writable shared area
 * (Linux's madvise_remove: EACCES unless VM_SHARED and VM_WRITE). */
static vm_status_t advise_remove(const struct vm_range_plan *p)
{
        for (struct vm_area *a = p->first; a && a->start < p->end; a = a->next) {
                struct vm_object *o = a->object;
                if (vm_area_private(a) || !(a->prot & VM_PROT_WRITE) || !o)
                        return VM_EACCES;
                /* A disk file (ext2) cannot punch holes: Linux's
                 * EOPNOTSUPP, the nearest here EINVAL. */
                if (o->pager_ops)
                        return VM_EINVAL;
                uint64_t first = a->pgoff + vm_area_off(a, clip_lo(a, p->start));
                uint64_t end = a->pgoff + vm_area_off(a, clip_hi(a, p->end));
                vm_spaces_unmap_object(o, first, end, false);
                if (o->writable) {
                        if (vm_object_punch_hole(o, first, end) != VM_OK)
                                return VM_ENOMEM;
                } else {
                        vm_object_free_range(o, first, end);
                }
        }
        return advise_result(p);
}

/*
 * GUARD_INSTALL / GUARD_REMOVE, area by area as Linux's madvise walk:
 * an area of the kernel's own pages ([vdso], [vvar]: Linux's VM_SPECIAL)
 * is EINVAL, and so is installing in a locked area (its pages would have
 * to go); the areas before it keep what was done. Installing drops the
 * translations and private pages (MADV_DONTNEED's zap) after recording
 * the run, so a fault in between cannot map them again.
 */
static vm_status_t advise_guard(struct vm_space *s,
                                const struct vm_range_plan *p, bool install)
{
        for (struct vm_area *a = p->first; a && a->start < p->end; a = a->next) {
                vaddr_t lo = clip_lo(a, p->start), hi = clip_hi(a, p->end);

                if ((a->flags & VM_AREA_SPECIAL) ||
                    (install && (a->flags & VM_AREA_LOCKED)))
                        return VM_EINVAL;
                if (!install) {
                        if (vm_guards_reserve(&s->guards, 2) != VM_OK)
                                return VM_ENOMEM;
                        vm_guards_clear(&s->guards, lo, hi);
                        continue;
                }
                if (vm_guards_add(&s->guards, lo, hi) != VM_OK)
                        return VM_ENOMEM;
                vm_pmap_remove(s, lo, hi);
                pmap_update(s->pmap);           /* before frames go */
                vm_area_free_pages(a, lo, hi);
        }
        return advise_result(p);
}

static inline unsigned with_flags(const struct vm_area *a, unsigned mask,
                                  unsigned value)
{
        return (a->flags & ~mask) | value;
}

/* The flags under mask become value on the mapped parts of p's range,
 * splitting at the ends only where the flags change, then merging. */
static vm_status_t range_set_flags(struct vm_space *s, struct vm_range_plan *p,
                                   unsigned mask, unsigned value)
{
        struct vm_area *last = vm_area_lookup(&s->areas, p->end - 1), *a;
        struct vm_spares sp;
        bool lo, hi;

        if (!p->first)
                return advise_result(p);
        lo = p->split_lo && with_flags(p->first, mask, value) != p->first->flags;
        hi = p->split_hi && with_flags(last, mask, value) != last->flags;
        if (s->areas.count + lo + hi > s->max_areas ||
            vm_spares_get(&sp, lo + hi) != VM_OK)
                return VM_ENOMEM;
        a = vm_range_carve(s, p, &sp, lo, hi);
        for (struct vm_area *b = a; b && b->start < p->end; b = b->next)
                b->flags = with_flags(b, mask, value);
        vm_range_merge(s, a, p->end);
        vm_spares_put(&sp);
        return advise_result(p);
}

/* NORMAL / RANDOM / SEQUENTIAL: the hint flag on the mapped parts. */
static vm_status_t advise_hint(struct vm_space *s, struct vm_range_plan *p,
                               unsigned hint)
{
        return range_set_flags(s, p, HINT_FLAGS, hint);
}

/* Dropping or punching pages is refused in locked areas (Linux: EINVAL
 * from madvise_dontneed_free_valid_vma and madvise_remove). */
static bool range_locked(const struct vm_range_plan *p)
{
        for (struct vm_area *a = p->first; a && a->start < p->end; a = a->next)
                if (a->flags & VM_AREA_LOCKED)
                        return true;
        return false;
}

/* What mlock and populate check first: start and len page-aligned and
 * not wrapping, then (len > 0) the plan of a range without a hole.
 * => VM_OK (*p planned unless len is 0), VM_EINVAL, or `hole`. */
static vm_status_t plan_whole_range(struct vm_space *s, vaddr_t start,
                                    uint64_t len, vm_status_t hole,
                                    struct vm_range_plan *p)
{
        if (!is_aligned(start, PAGE_SIZE) || !is_aligned(len, PAGE_SIZE) ||
            start + len < start)
                return VM_EINVAL;
        if (len == 0)
                return VM_OK;
        vm_range_plan(s, start, start + len, p);
        return p->covered ? VM_OK : hole;
}

vm_status_t vm_space_set_lock(struct vm_space *s, vaddr_t start, uint64_t len,
                              unsigned lock)
{
        struct vm_range_plan p;
        vm_status_t st = plan_whole_range(s, start, len, VM_ENOMEM, &p);

        ASSERT(!(lock & ~(VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)));
        if (st != VM_OK || len == 0)
                return st;
        return range_set_flags(s, &p, VM_AREA_LOCKED | VM_AREA_LOCKONFAULT, lock);
}

void vm_space_set_lock_all(struct vm_space *s, unsigned lock)
{
        struct vm_area *first = vm_area_first(&s->areas);

        ASSERT(!(lock & ~(VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)));
        if (!first)
                return;
        for (struct vm_area *a = first; a; a = a->next)
                a->flags = with_flags(a, VM_AREA_LOCKED | VM_AREA_LOCKONFAULT, lock);
        vm_range_merge(s, first, vm_area_last(&s->areas)->end);
}

void vm_space_populate_locked(struct vm_space *s)
{
        const struct vm_area *a;

        /* By address, through lookups: a fault may change the tree. */
        for (vaddr_t va = 0; (a = vm_area_lookup_next(&s->areas, va)); va = a->end)
                if ((a->flags & (VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)) == VM_AREA_LOCKED)
                        (void)vm_space_populate(s, a->start, a->end - a->start);
}

uint64_t vm_space_locked_pages(struct vm_space *s)
{
        uint64_t n = 0;

        for (struct vm_area *a = vm_area_first(&s->areas); a; a = a->next)
                if (a->flags & VM_AREA_LOCKED)
                        n += vm_area_npages(a);
        return n;
}

/*
 * mseal's rule for madvise (Linux's can_madvise_modify): advice that
 * discards pages (DONTNEED, FREE, REMOVE, DONTFORK, WIPEONFORK, guard
 * installing) is refused on a sealed area of private anonymous memory
 * the process may not write, whose contents the seal is there to keep.
 */
static bool discards_sealed(const struct vm_range_plan *p, int advice)
{
        if (advice != VM_MADV_DONTNEED && advice != VM_MADV_FREE &&
            advice != VM_MADV_REMOVE && advice != VM_MADV_DONTFORK &&
            advice != VM_MADV_WIPEONFORK && advice != VM_MADV_GUARD_INSTALL)
                return false;
        for (const struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next)
                if ((a->flags & VM_AREA_SEALED) && vm_area_private(a) &&
                    !a->backing && !(a->prot & VM_PROT_WRITE))
                        return true;
        return false;
}

vm_status_t vm_space_seal(struct vm_space *s, vaddr_t start, uint64_t len,
                          unsigned long flags)
{
        uint64_t rlen = page_round(len);
        struct vm_range_plan p;

        /* Linux's order: flags, alignment, wrap, nothing to do, holes. */
        if (flags || !is_aligned(start, PAGE_SIZE) || (len && !rlen) ||
            start + rlen < start)
                return VM_EINVAL;
        if (rlen == 0)
                return VM_OK;
        vm_range_plan(s, start, start + rlen, &p);
        if (!p.covered)
                return VM_ENOMEM;
        return range_set_flags(s, &p, VM_AREA_SEALED, VM_AREA_SEALED);
}

vm_status_t vm_space_advise(struct vm_space *s, vaddr_t start, uint64_t len,
                            int advice)
{
        uint64_t rlen = page_round(len);
        struct vm_range_plan p;

        /* Linux's order: advice, alignment, wrap, then empty. */
        if (!vm_advice_supported(advice) || !is_aligned(start, PAGE_SIZE))
                return VM_EINVAL;
        if ((len && !rlen) || start + rlen < start)
                return VM_EINVAL;
        if (rlen == 0)
                return VM_OK;
        vm_range_plan(s, start, start + rlen, &p);
        if (discards_sealed(&p, advice))
                return VM_EPERM;
        if ((advice == VM_MADV_DONTNEED || advice == VM_MADV_FREE ||
             advice == VM_MADV_REMOVE || advice == VM_MADV_COLD ||
             advice == VM_MADV_PAGEOUT) && range_locked(&p))
                return VM_EINVAL;
        switch (advice) {
        case VM_MADV_DONTNEED:
                return advise_dontneed(s, &p);
        case VM_MADV_FREE:
                return advise_free(s, &p);
        case VM_MADV_REMOVE:
                return advise_remove(&p);
        case VM_MADV_WILLNEED:
                return advise_willneed(&p);
        case VM_MADV_COLD:
                return advise_cold(s, &p, false);
        case VM_MADV_PAGEOUT:
                return advise_cold(s, &p, true);
        case VM_MADV_RANDOM:
                return advise_hint(s, &p, VM_AREA_RANDOM);
        case VM_MADV_SEQUENTIAL:
                return advise_hint(s, &p, VM_AREA_SEQUENTIAL);
        case VM_MADV_HUGEPAGE:          /* the other one goes (Linux) */
                return range_set_flags(s, &p, VM_AREA_HUGEPAGE | VM_AREA_NOHUGEPAGE,
                                       VM_AREA_HUGEPAGE);
        case VM_MADV_NOHUGEPAGE:
                return range_set_flags(s, &p, VM_AREA_HUGEPAGE | VM_AREA_NOHUGEPAGE,
                                       VM_AREA_NOHUGEPAGE);
        case VM_MADV_DONTDUMP:
                return range_set_flags(s, &p, VM_AREA_DONTDUMP, VM_AREA_DONTDUMP);
        case VM_MADV_DODUMP:
                for (struct vm_area *a = p.first; a && a->start < p.end; a = a->next)
                        if (a->flags & VM_AREA_SPECIAL)
                                return VM_EINVAL;       /* Linux: VM_SPECIAL */
                return range_set_flags(s, &p, VM_AREA_DONTDUMP, 0);
        case VM_MADV_DONTFORK:
                return range_set_flags(s, &p, VM_AREA_DONTFORK, VM_AREA_DONTFORK);
        case VM_MADV_DOFORK:
                return range_set_flags(s, &p, VM_AREA_DONTFORK, 0);
        case VM_MADV_WIPEONFORK:
                /* Private anonymous memory only (Linux: EINVAL for a file
                 * or a shared mapping, before any area changes). */
                for (struct vm_area *a = p.first; a && a->start < p.end; a = a->next)
                        if (!vm_area_private(a) || a->backing ||
                            (a->flags & VM_AREA_SPECIAL) ||
                            (a->object && a->object->hugetlb))
                                return VM_EINVAL;
                return range_set_flags(s, &p, VM_AREA_WIPEONFORK,
                                       VM_AREA_WIPEONFORK);
        case VM_MADV_KEEPONFORK:
                return range_set_flags(s, &p, VM_AREA_WIPEONFORK, 0);
        case VM_MADV_GUARD_INSTALL:
                return advise_guard(s, &p, true);
        case VM_MADV_GUARD_REMOVE:
                return advise_guard(s, &p, false);
        default:
                return advise_hint(s, &p, 0);   /* VM_MADV_NORMAL */
        }
}

vm_status_t vm_space_populate(struct vm_space *s, vaddr_t start, uint64_t len)
{
        struct vm_range_plan p;
        vm_status_t st = plan_whole_range(s, start, len, VM_ENOENT, &p);

        if (st != VM_OK || len == 0)
                return st;
        /* Area by area through lookups: a fault may change the tree. */
        for (vaddr_t va = start; va < start + len; va += PAGE_SIZE) {
                const struct vm_area *a = vm_area_lookup(&s->areas, va);
                if (!a)
                        return VM_ENOENT;
                if (!(a->prot & VM_PROT_ALL)) {
                        va = a->end - PAGE_SIZE;
                        continue;
                }
                vm_prot_t access = (a->prot & VM_PROT_WRITE) &&
                                   vm_area_private(a) ? VM_PROT_WRITE
                                                      : VM_PROT_READ;
                vaddr_t end;
                /* A huge page already there: the rest of it is populated
                 * (a fault inside would only split it). */
                if (vm_space_huge_allows(s, va, access, &end)) {
                        va = end - PAGE_SIZE;
                        continue;
                }
                switch (vm_fault(s, va, access)) {
                case FAULT_RESOLVED:
                        break;
                case FAULT_OOM:
                        return VM_ENOMEM;
                default:
                        return VM_EFAULT;
                }
        }
        return VM_OK;
}
