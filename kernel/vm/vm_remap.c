/*
 * vm_remap.c - vm_space_remap(): mremap with Linux's rules (see
 * vm_space.h for the contract).
 *
 * Owns: nothing lasting. Three ways to satisfy a request:
 *   shrink          unmap the tail (as munmap);
 *   grow in place   stretch the area over the free space after it;
 *   move            a new area at the new place with the old one's
 *                   attributes, then the old range unmapped (DONTUNMAP:
 *                   emptied of its private pages and translations).
 * A move copies no page data. Shared and file areas keep their objects
 * (only the page offset matters). A private object is indexed by virtual
 * page number, so its pages must change index: they are linked into a
 * fresh object at their new indices (vm_object_share_range, one reference
 * each) before the old range is unmapped, which drops the old references;
 * the pages end with the refcounts they had. Translations are not moved:
 * the old ones go with the old range and faults make the new ones (a
 * pmap is a cache).
 *
 * Commit (vm_commit.h): a charged area's growth asks the policy for the
 * difference; a move asks for the new area less what it unmaps (the old
 * range, unless DONTUNMAP, which keeps both charged as Linux does; a FIXED
 * destination; a shrink's tail); the tree moves the charge itself.
 *
 * As everywhere in vm_space: validate, then allocate everything (spare
 * descriptors, the fresh object and its radix nodes), then apply, which
 * cannot fail. Linux instead unmaps a FIXED destination before its last
 * checks, so its failures may leave the destination unmapped.
 */
#include <mercator/panic.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>

/* Areas a move may add at most: destination split, source split, the
 * new area (Linux keeps 4 below its limit for the same reason). */
#define MOVE_AREAS_MAX          3

/* A request once its arguments are checked. */
struct remap_req {
        vaddr_t         old;
        uint64_t        old_len;        /* rounded; after a FIXED shrink,
                                         * the part that moves */
        uint64_t        new_len;        /* rounded */
        uint64_t        tail_len;       /* FIXED shrink: unmapped after
                                         * old + old_len */
        unsigned        flags;
        vaddr_t         new_addr;       /* FIXED: given; else placed */
        struct vm_area *area;           /* the area holding old */
};

/* A move, allocated and ready to apply. */
struct move_plan {
        struct vm_spares  sp;
        struct vm_area   *dst;          /* the new area, not in the tree */
};

static vm_status_t remap_validate(struct vm_space *s, vaddr_t old,
                                  uint64_t old_len, uint64_t new_len,
                                  unsigned flags, vaddr_t new_addr,
                                  struct remap_req *r)
{
        if (flags & ~VM_REMAP_FLAGS_ALL)
                return VM_EINVAL;
        if (!is_aligned(old, PAGE_SIZE) || page_round(new_len) == 0)
                return VM_EINVAL;
        if ((flags & VM_REMAP_FIXED) &&
            (!is_aligned(new_addr, PAGE_SIZE) || !(flags & VM_REMAP_MAYMOVE)))
                return VM_EINVAL;
        if ((flags & VM_REMAP_DONTUNMAP) && (!(flags & VM_REMAP_MAYMOVE) ||
            page_round(old_len) != page_round(new_len)))
                return VM_EINVAL;
        *r = (struct remap_req){ .old = old, .old_len = page_round(old_len),
                                 .new_len = page_round(new_len),
                                 .flags = flags, .new_addr = new_addr };
        r->area = vm_area_lookup(&s->areas, old);
        if (!r->area)
                return VM_EFAULT;
        return (flags & VM_REMAP_DONTUNMAP) &&
               (r->area->flags & VM_AREA_SPECIAL) ? VM_EINVAL : VM_OK;
}

/* May [old, old + old_len) become new_len bytes (Linux's
 * remap_is_valid)? */
static vm_status_t remap_check_source(const struct remap_req *r)
{
        const struct vm_area *a = r->area;
        uint64_t pg = (a->backing ? a->backing_pgoff : a->pgoff) +
                      vm_area_off(a, r->old);

        if (r->old_len == 0 && vm_area_private(a))
                return VM_EINVAL;       /* "duplicate" a private mapping */
        if (r->old_len > a->end - r->old)
                return VM_EFAULT;       /* not wholly inside one area */
        if (r->new_len != r->old_len &&
            pg + (r->new_len >> PAGE_SHIFT) < pg)
                return VM_EINVAL;
        return VM_OK;
}

/* ---- grow in place -------------------------------------------------------- */

/* The range ends at its area's end and the space after it is free. */
static bool remap_fits_in_place(struct vm_space *s, const struct remap_req *r)
{
        const struct vm_area *a = r->area;
        uint64_t delta = r->new_len - r->old_len;

        if (r->old + r->old_len != a->end || delta > s->max - a->end)
                return false;
        return !a->next || a->next->start >= a->end + delta;
}

/* May the charged area grow by the request's difference? */
static vm_status_t grow_commit_check(struct vm_space *s,
                                     const struct remap_req *r)
{
        if (!(r->area->flags & VM_AREA_ACCOUNT))
                return VM_OK;
        return vm_commit_check(s, (r->new_len - r->old_len) >> PAGE_SHIFT);
}

static void remap_grow_in_place(struct vm_space *s, struct remap_req *r)
{
        struct vm_area *a = r->area;

        vm_area_set_range(&s->areas, a, a->start,
                          a->end + (r->new_len - r->old_len));
        vm_space_merge_around(s, a);
}

/* ---- move ------------------------------------------------------------------- */

/* The fresh object for a private area's pages at their new indices; NULL
 * if the old range has none (the new area may then merge freely). */
static vm_status_t move_private_pages(const struct remap_req *r,
                                      struct vm_object **out)
{
        const struct vm_area *a = r->area;
        uint64_t first = a->pgoff + vm_area_off(a, r->old);
        struct vm_object *obj;
        vm_status_t st;

        *out = NULL;
        if (!a->object)
                return VM_OK;
        st = vm_object_create_anon(a->object->size, &obj);
        if (st != VM_OK)
                return st;
        vm_object_cover(obj, r->new_addr >> PAGE_SHIFT,
                        (r->new_addr + r->new_len) >> PAGE_SHIFT);
        obj->space = a->object->space;  /* same space, new indices */
        st = rmap_family_join(obj, NULL);       /* new indices: its own */
        if (st == VM_OK)
                st = vm_object_share_range(a->object, first,
                                           first + (r->old_len >> PAGE_SHIFT),
                                           obj, r->new_addr >> PAGE_SHIFT);
        if (st != VM_OK || obj->npages == 0) {
                vm_object_unref(obj);   /* gives back what it took */
                return st;
        }
        *out = obj;
        return VM_OK;
}

/* Fill in the new area from the old one, with references of its own. */
static void move_init_dst(struct vm_area *d, const struct remap_req *r,
                          struct vm_object *private_obj)
{
        const struct vm_area *a = r->area;
        uint64_t off = vm_area_off(a, r->old);

        d->start = r->new_addr;
        d->end = r->new_addr + r->new_len;
        d->prot = a->prot;
        d->flags = a->flags;
        if (vm_area_private(a)) {
                d->object = private_obj;
                d->pgoff = r->new_addr >> PAGE_SHIFT;
        } else {
                d->object = a->object;
                d->pgoff = a->pgoff + off;
                vm_object_ref(d->object);
        }
        d->backing = a->backing;
        d->backing_pgoff = a->backing ? a->backing_pgoff + off : 0;
        if (d->backing)
                vm_object_ref(d->backing);
}

/* Charged pages of [a, b) and [c, d), counting their overlap once. */
static uint64_t committed_union(struct vm_space *s, vaddr_t a, vaddr_t b,
                                vaddr_t c, vaddr_t d)
{
        uint64_t n = vm_range_committed(s, a, b) + vm_range_committed(s, c, d);

        if (MAX(a, c) < MIN(b, d))
                n -= vm_range_committed(s, MAX(a, c), MIN(b, d));
        return n;
}

/* The commit a move adds: the new area if charged, less the charged
 * pages it unmaps. */
static vm_status_t move_commit_check(struct vm_space *s,
                                     const struct remap_req *r)
{
        vaddr_t src_end = r->old + r->old_len, dst = r->new_addr;
        uint64_t add, gone = 0;

        if (!(r->area->flags & VM_AREA_ACCOUNT))
                return VM_OK;
        add = r->new_len >> PAGE_SHIFT;
        if (!(r->flags & VM_REMAP_DONTUNMAP))
                gone += r->old_len >> PAGE_SHIFT;
        if (r->flags & VM_REMAP_FIXED)
                gone += committed_union(s, dst, dst + r->new_len, src_end,
                                        src_end + r->tail_len);
        else
                gone += vm_range_committed(s, src_end, src_end + r->tail_len);
        return add > gone ? vm_commit_check(s, add - gone) : VM_OK;
}

/* Everything the move needs; on failure nothing is left allocated. */
static vm_status_t move_prepare(struct vm_space *s, const struct remap_req *r,
                                struct move_plan *mp)
{
        struct vm_object *obj = NULL;
        vm_status_t st;

        if (s->areas.count + MOVE_AREAS_MAX > s->max_areas)
                return VM_ENOMEM;
        st = move_commit_check(s, r);
        if (st != VM_OK)
                return st;
        /* Guards: the cuts of the destination and the tail split two runs
         * at most each, the move two. */
        st = vm_guards_reserve(&s->guards, 4);
        if (st == VM_OK)
                st = vm_guards_reserve(&s->poison, 4);
        if (st == VM_OK)
                st = vm_guards_reserve(&s->uffd_wp, 4);
        if (st != VM_OK)
                return st;
        st = vm_spares_get(&mp->sp, 7);         /* 3 cuts of 2, the area */
        if (st != VM_OK)
                return st;
        if (vm_area_private(r->area))
                st = move_private_pages(r, &obj);
        if (st != VM_OK) {
                vm_spares_put(&mp->sp);
                return st;
        }
        mp->dst = vm_spares_take(&mp->sp);
        move_init_dst(mp->dst, r, obj);
        return VM_OK;
}

/* DONTUNMAP's source after the move: still mapped, with neither
 * translations nor private pages (they went to the new place). Looked up
 * again: cutting the destination may have split its area. */
static void move_empty_source(struct vm_space *s, vaddr_t start, vaddr_t end)
{
        struct vm_area *a = vm_area_lookup(&s->areas, start);

        vm_pmap_remove(s, start, end);
        pmap_update(s->pmap);                   /* before frames go */
        if (a)
                vm_area_free_pages(a, start, end);
}

/* Apply: clear the destination, unmap the tail and the source, insert. */
static vm_status_t remap_move(struct vm_space *s, struct remap_req *r,
                              vaddr_t *out)
{
        struct move_plan mp;
        vm_status_t st = move_prepare(s, r, &mp);
        vaddr_t src_end = r->old + r->old_len;

        if (st != VM_OK)
                return st;
        if (r->flags & VM_REMAP_FIXED)
                vm_range_cut(s, r->new_addr, r->new_addr + r->new_len, &mp.sp);
        if (r->tail_len)
                vm_range_cut(s, src_end, src_end + r->tail_len, &mp.sp);
        if (r->old_len) {               /* 0: a duplicate, the old stays */
                vm_guards_move(&s->guards, r->old, r->old_len, r->new_addr);
                vm_guards_move(&s->poison, r->old, r->old_len, r->new_addr);
                /* (the new place is not registered: its marks wait to be
                 * cleared by a WP registration, as Linux's move_ptes
                 * drops them) */
                vm_guards_move(&s->uffd_wp, r->old, r->old_len, r->new_addr);
                if (r->flags & VM_REMAP_DONTUNMAP)
                        move_empty_source(s, r->old, src_end);
                else
                        vm_range_cut(s, r->old, src_end, &mp.sp);
        }
        st = vm_area_insert(&s->areas, mp.dst);
        ASSERT(st == VM_OK);
        vm_space_merge_around(s, mp.dst);
        vm_spares_put(&mp.sp);
        *out = r->new_addr;
        return VM_OK;
}

/* ---- the two entry paths ---------------------------------------------------- */

/* FIXED: move to new_addr; a shrink unmaps the rest of the old range. */
static vm_status_t remap_fixed(struct vm_space *s, struct remap_req *r,
                               vaddr_t *out)
{
        vm_status_t st;

        if (r->new_len > s->max || r->new_addr > s->max - r->new_len)
                return VM_EINVAL;
        if (r->old + r->old_len > r->new_addr &&
            r->new_addr + r->new_len > r->old)
                return VM_EINVAL;       /* old and new ranges overlap */
        if (r->new_addr < s->min)
                return VM_EACCES;       /* Linux: EPERM (mmap_min_addr) */
        if (r->old_len == 0 && r->old >= r->new_addr &&
            r->old < r->new_addr + r->new_len)
                return VM_EFAULT;       /* Linux unmaps the source first */
        if (r->old_len > r->new_len) {
                r->tail_len = r->old_len - r->new_len;
                r->old_len = r->new_len;
                if (r->tail_len > s->max - (r->old + r->old_len))
                        return VM_EINVAL;       /* munmap's rule */
        }
        st = remap_check_source(r);
        if (st != VM_OK)
                return st;
        return remap_move(s, r, out);
}

/* Without FIXED: shrink, grow in place, or (MAYMOVE) move. */
static vm_status_t remap_resize(struct vm_space *s, struct remap_req *r,
                                vaddr_t *out)
{
        vaddr_t tail = r->old + r->new_len;
        vm_status_t st = VM_OK;

        if (r->new_len < r->old_len) {
                if (r->old_len > s->max - r->old)
                        return VM_EINVAL;       /* munmap's rule */
                st = vm_space_unmap_range(s, tail, r->old + r->old_len);
        } else if (r->new_len > r->old_len) {
                st = remap_check_source(r);
                if (st == VM_OK && remap_fits_in_place(s, r)) {
                        st = grow_commit_check(s, r);
                        if (st != VM_OK)
                                return st;
                        remap_grow_in_place(s, r);
                } else if (st == VM_OK) {
                        if (!(r->flags & VM_REMAP_MAYMOVE))
                                return VM_ENOMEM;
                        st = vm_space_place(s, 0, r->new_len, &r->new_addr);
                        return st == VM_OK ? remap_move(s, r, out) : st;
                }
        }
        if (st == VM_OK)
                *out = r->old;
        return st;
}

/* mseal: the source's area, or a fixed destination, sealed (Linux's
 * mremap: EPERM for shrinking, growing or moving sealed memory). */
static bool remap_sealed(struct vm_space *s, const struct remap_req *r)
{
        struct vm_range_plan p;

        vm_range_plan(s, r->old, r->old + MAX(r->old_len, PAGE_SIZE), &p);
        if (vm_range_sealed(&p))
                return true;
        if (!(r->flags & VM_REMAP_FIXED))
                return false;
        vm_range_plan(s, r->new_addr, r->new_addr + r->new_len, &p);
        return vm_range_sealed(&p);
}

vm_status_t vm_space_remap(struct vm_space *s, vaddr_t old, uint64_t old_len,
                           uint64_t new_len, unsigned flags, vaddr_t new_addr,
                           vaddr_t *out)
{
        struct remap_req r;
        vm_status_t st = remap_validate(s, old, old_len, new_len, flags,
                                        new_addr, &r);

        if (st != VM_OK)
                return st;
        if (remap_sealed(s, &r))
                return VM_EPERM;
        if (flags & VM_REMAP_FIXED)
                return remap_fixed(s, &r, out);
        if (flags & VM_REMAP_DONTUNMAP) {       /* same size, moves */
                st = remap_check_source(&r);
                if (st == VM_OK)
                        st = vm_space_place(s, 0, r.new_len, &r.new_addr);
                return st == VM_OK ? remap_move(s, &r, out) : st;
        }
        return remap_resize(s, &r, out);
}
