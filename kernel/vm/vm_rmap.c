/*
 * vm_rmap.c - the reverse map (see vm_rmap.h): a page's owners, kept in
 * its descriptor or in a chain, and the walk from them to the
 * translations that map it.
 *
 * Owns: the owner chains (kmalloc). Touches page tables only through
 * vm/pmap.h (pmap_extract, pmap_ad, pmap_remove, pmap_update).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <vm/kmalloc.h>
#include <vm/memcg.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_area.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>
#include <vm/vmalloc.h>

#define INDEX_BITS      48      /* VM_OBJECT_MAX_PAGES */

uint64_t rmap_bytes;                    /* [a] */

/* The map's own allocations (families and chain records), counted in
 * rmap_bytes at their kmalloc size. Atomically: a lock-free fault makes
 * and frees a family (vm_fault.c:nolock_attach) beside the big lock's
 * holder. */
static void *rmap_alloc(size_t size)
{
        void *p = kzalloc(size);

        if (p)
                __atomic_add_fetch(&rmap_bytes, kmalloc_usable_size(p),
                                   __ATOMIC_RELAXED);
        return p;
}

static void rmap_free(void *p)
{
        if (p) {
                __atomic_sub_fetch(&rmap_bytes, kmalloc_usable_size(p),
                                   __ATOMIC_RELAXED);
                kfree(p);
        }
}

/* ---- families ------------------------------------------------------------- */

vm_status_t rmap_family_join(struct vm_object *obj, struct vm_object *parent)
{
        struct rmap_family *f = parent ? parent->family : NULL;

        ASSERT(obj->space && !obj->family && obj->npages == 0);
        if (!f) {
                f = rmap_alloc(sizeof *f);
                if (!f)
                        return VM_ENOMEM;
        }
        obj->family = f;
        obj->family_prev = NULL;
        obj->family_next = f->first;
        if (f->first)
                f->first->family_prev = obj;
        f->first = obj;
        f->members++;
        return VM_OK;
}

void rmap_family_leave(struct vm_object *obj)
{
        struct rmap_family *f = obj->family;

        if (!f)
                return;
        ASSERT(obj->npages == 0 && f->members > 0);
        if (obj->family_prev)
                obj->family_prev->family_next = obj->family_next;
        else
                f->first = obj->family_next;
        if (obj->family_next)
                obj->family_next->family_prev = obj->family_prev;
        obj->family = NULL;
        obj->family_next = obj->family_prev = NULL;
        if (--f->members == 0)
                rmap_free(f);           /* no page records it: none held */
}

/* ---- owners --------------------------------------------------------------- */

/* The descriptor's one record (no PG_RMAP_CHAIN). */
static inline void *inline_ptr(const struct vm_page *pg)
{
        return (void *)(uintptr_t)pg->private;
}

static inline struct vm_object *inline_obj(const struct vm_page *pg)
{
        return pg->flags & PG_RMAP_FAMILY ? NULL : inline_ptr(pg);
}

static inline uint64_t inline_index(const struct vm_page *pg)
{
        return (uint64_t)pg->count16 << 32 | pg->spare;
}

static inline struct rmap_owner *chain(const struct vm_page *pg)
{
        return (struct rmap_owner *)(uintptr_t)pg->private;
}

/* Put one record in the descriptor: a family's, or obj alone's (a lone
 * private owner is written as its family's record). */
static void set_inline(struct vm_page *pg, struct vm_object *obj,
                       struct rmap_family *family, uint64_t index)
{
        if (obj && obj->family) {
                family = obj->family;
                obj = NULL;
        }
        pg->flags &= ~(PG_RMAP_CHAIN | PG_RMAP_FAMILY);
        if (family)
                pg->flags |= PG_RMAP_FAMILY;
        pg->private = (uint64_t)(uintptr_t)(family ? (void *)family
                                                   : (void *)obj);
        pg->spare = (uint32_t)index;
        pg->count16 = (uint16_t)(index >> 32);
}

static void set_chain(struct vm_page *pg, struct rmap_owner *head)
{
        pg->flags = (pg->flags & ~PG_RMAP_FAMILY) | PG_RMAP_CHAIN;
        pg->private = (uint64_t)(uintptr_t)head;
        pg->spare = 0;
        pg->count16 = 0;
}

static void clear_owners(struct vm_page *pg)
{
        pg->flags &= ~(PG_OBJECT | PG_RMAP_CHAIN | PG_RMAP_FAMILY);
        pg->private = 0;
        pg->spare = 0;
        pg->count16 = 0;
}

static struct rmap_owner *owner_new(struct vm_object *obj,
                                    struct rmap_family *family,
                                    uint64_t index, struct rmap_owner *next)
{
        struct rmap_owner *e = rmap_alloc(sizeof *e);

        if (e)
                *e = (struct rmap_owner){ .obj = obj, .family = family,
                                          .index = index, .next = next };
        return e;
}

/* pg's family record, or NULL (and *index untouched). */
static struct rmap_family *family_record(const struct vm_page *pg,
                                         uint64_t *index)
{
        if (pg->flags & PG_RMAP_FAMILY) {
                *index = inline_index(pg);
                return inline_ptr(pg);
        }
        if (pg->flags & PG_RMAP_CHAIN)
                for (const struct rmap_owner *e = chain(pg); e; e = e->next)
                        if (e->family) {
                                *index = e->index;
                                return e->family;
                        }
        return NULL;
}

/* Does pg's family record cover obj at index? */
static bool covered(const struct vm_page *pg, const struct vm_object *obj,
                    uint64_t index)
{
        uint64_t fi = 0;
        struct rmap_family *f = family_record(pg, &fi);

        return f && obj->family == f && fi == index;
}

void rmap_owner_add_first(struct vm_page *pg, struct vm_object *obj,
                          uint64_t index)
{
        ASSERT(!(pg->flags & PG_OBJECT));
        set_inline(pg, obj, NULL, index);
        pg->flags |= PG_OBJECT;
}

void rmap_owner_forget_first(struct vm_page *pg)
{
        ASSERT((pg->flags & (PG_OBJECT | PG_RMAP_CHAIN)) == PG_OBJECT);
        pg->flags &= ~(PG_OBJECT | PG_RMAP_FAMILY);
        pg->private = 0;
        pg->spare = 0;
        pg->count16 = 0;
}

void rmap_owner_first_lists(struct vm_page *pg, struct vm_object *obj,
                            bool nolock)
{
        if (nolock) {                   /* replacement sees it now, */
                vm_lru_add_nolock(pg, obj);
                memcg_charge_root_nolock(pg, obj);      /* its group pays */
        } else {
                vm_lru_add(pg, obj);
                memcg_charge_page(pg, obj);
        }
        if (obj->droppable) {
                pg->flags |= PG_DROPPABLE;
                vm_droppable_pages++;
        }
}

vm_status_t rmap_owner_add(struct vm_page *pg, struct vm_object *obj,
                           uint64_t index)
{
        struct rmap_owner *first, *e;

        ASSERT(obj && index < ((uint64_t)1 << INDEX_BITS));
        if (!(pg->flags & PG_OBJECT)) {
                rmap_owner_add_first(pg, obj, index);
                rmap_owner_first_lists(pg, obj, false);
                return VM_OK;
        }
        if (covered(pg, obj, index))
                return VM_OK;                   /* fork: nothing to record */
        if (pg->flags & PG_RMAP_CHAIN) {
                e = owner_new(obj, NULL, index, chain(pg));
                if (!e)
                        return VM_ENOMEM;
                set_chain(pg, e);
                return VM_OK;
        }
        /* A second record: the descriptor's moves to the chain. */
        first = owner_new(inline_obj(pg),
                          pg->flags & PG_RMAP_FAMILY ? inline_ptr(pg) : NULL,
                          inline_index(pg), NULL);
        e = first ? owner_new(obj, NULL, index, first) : NULL;
        if (!e) {
                rmap_free(first);
                return VM_ENOMEM;
        }
        set_chain(pg, e);
        return VM_OK;
}

static void owner_del(struct vm_page *pg, struct vm_object *obj,
                      uint64_t index, bool lru_later);

void rmap_owner_del(struct vm_page *pg, struct vm_object *obj, uint64_t index)
{
        owner_del(pg, obj, index, false);
}

void rmap_owner_del_last(struct vm_page *pg, struct vm_object *obj,
                         uint64_t index)
{
        ASSERT(pg->refcount == 1 && !(pg->flags & PG_RMAP_CHAIN));
        owner_del(pg, obj, index, true);
}

static void owner_del(struct vm_page *pg, struct vm_object *obj,
                      uint64_t index, bool lru_later)
{
        struct rmap_owner **link, *e, *head;
        uint32_t left;

        ASSERT((pg->flags & PG_OBJECT) && pg->refcount >= 1);
        if (pg->flags & PG_SHMEM_HUGE)  /* its block is no longer whole */
                vm_page_shmem_huge_break(pg);
        left = pg->refcount - 1;        /* owners once obj has gone */
        if (!(pg->flags & PG_RMAP_CHAIN)) {
                ASSERT(covered(pg, obj, index) ||
                       (inline_obj(pg) == obj && inline_index(pg) == index &&
                        left == 0));
                if (left == 0) {
                        clear_owners(pg);
                        if (!lru_later)
                                vm_lru_del(pg);
                        memcg_uncharge_page(pg, obj);
                        if (pg->flags & PG_DROPPABLE) {
                                pg->flags &= ~PG_DROPPABLE;
                                vm_droppable_pages--;
                        }
                        vm_lazyfree_clear(pg);
                }
                /* else: other members of the family hold it. */
                return;
        }
        if (covered(pg, obj, index)) {
                /* A member lets go; the record stays while members hold
                 * it: those owners the explicit records do not count. */
                uint32_t explicit = 0;

                for (e = chain(pg); e; e = e->next)
                        explicit += e->obj != NULL;
                ASSERT(left >= explicit);
                if (left > explicit)
                        return;
                for (link = (struct rmap_owner **)&pg->private;
                     (e = *link) && !e->family; link = &e->next)
                        ;
        } else {
                for (link = (struct rmap_owner **)&pg->private; (e = *link);
                     link = &e->next)
                        if (e->obj == obj && e->index == index)
                                break;
        }
        ASSERT(e);
        *link = e->next;
        rmap_free(e);
        head = chain(pg);
        ASSERT(head);                   /* a chain holds two records */
        if (!head->next) {              /* one record left: back inline */
                set_inline(pg, head->obj, head->family, head->index);
                rmap_free(head);
        }
}

/* Call fn for the members of family f holding pg at index. */
static bool family_for_each(const struct vm_page *pg,
                            const struct rmap_family *f, uint64_t index,
                            bool (*fn)(void *arg, struct vm_object *obj,
                                       uint64_t index),
                            void *arg)
{
        for (struct vm_object *m = f->first, *next; m; m = next) {
                next = m->family_next;
                if (vm_object_lookup(m, index) == pg && !fn(arg, m, index))
                        return false;
        }
        return true;
}

struct has_ctx {
        const struct vm_object *obj;
        uint64_t                index;
};

static bool has_one(void *arg, struct vm_object *obj, uint64_t index)
{
        const struct has_ctx *h = arg;

        return !(obj == h->obj && index == h->index);
}

bool rmap_has_owner(const struct vm_page *pg, const struct vm_object *obj,
                    uint64_t index)
{
        struct has_ctx h = { .obj = obj, .index = index };

        return (pg->flags & PG_OBJECT) && !rmap_for_each_owner(pg, has_one, &h);
}

static bool count_owner(void *arg, struct vm_object *obj, uint64_t index)
{
        (*(unsigned *)arg)++;
        return true;
}

unsigned rmap_owner_count(const struct vm_page *pg)
{
        unsigned n = 0;

        if (!(pg->flags & PG_OBJECT))
                return 0;
        if (!(pg->flags & (PG_RMAP_CHAIN | PG_RMAP_FAMILY)))
                return 1;
        rmap_for_each_owner(pg, count_owner, &n);
        return n;
}

bool rmap_for_each_owner(const struct vm_page *pg,
                         bool (*fn)(void *arg, struct vm_object *obj,
                                    uint64_t index),
                         void *arg)
{
        const struct rmap_owner *e, *next;

        if (!(pg->flags & PG_OBJECT))
                return true;
        if (pg->flags & PG_RMAP_FAMILY)
                return family_for_each(pg, inline_ptr(pg), inline_index(pg),
                                       fn, arg);
        if (!(pg->flags & PG_RMAP_CHAIN))
                return fn(arg, inline_obj(pg), inline_index(pg));
        for (e = chain(pg); e; e = next) {
                next = e->next;
                if (e->family ? !family_for_each(pg, e->family, e->index,
                                                 fn, arg)
                              : !fn(arg, e->obj, e->index))
                        return false;
        }
        return true;
}

/* ---- the walk --------------------------------------------------------------- */

struct walk {
        struct vm_page *pg;
        paddr_t         pa;
        bool          (*fn)(void *arg, const struct rmap_map *m);
        void           *arg;
        unsigned        n;
        bool            stop;
};

/* The candidate (s, a, va) of owner (obj, index): report it if s's pmap
 * really maps pg there. */
static void visit(struct walk *w, struct vm_space *s, struct vm_area *a,
                  vaddr_t va, struct vm_object *obj, uint64_t index)
{
        struct rmap_map m = { .space = s, .area = a, .va = va, .obj = obj,
                              .index = index };
        paddr_t pa;

        if (w->stop)
                return;
        vm_space_enter(s);      /* fn may change its tables (vm_space.h) */
        if (pmap_extract(s->pmap, va, &pa, NULL, NULL) &&
            page_trunc(pa) == w->pa) {
                w->n++;
                if (!w->fn(w->arg, &m))
                        w->stop = true;
        }
        vm_space_leave(s);
}

static struct vm_space *area_space(const struct vm_area *a)
{
        return container_of(a->tree, struct vm_space, areas);
}

static bool walk_owner(void *arg, struct vm_object *obj, uint64_t index)
{
        struct walk *w = arg;

        if (obj->space) {
                /* Private anonymous: indexed by virtual page number. */
                struct vm_space *s = obj->space;
                vaddr_t va = (vaddr_t)(index << PAGE_SHIFT);
                struct vm_area *a;

                if ((uint64_t)va >> PAGE_SHIFT != index)
                        return true;
                vm_space_enter(s);      /* its areas hold still */
                a = vm_area_lookup(&s->areas, va);
                if (a && a->object == obj && vm_area_private(a))
                        visit(w, s, a, va, obj, index);
                vm_space_leave(s);
                return !w->stop;
        }
        for (struct vm_area *a = obj->mappers, *next; a && !w->stop; a = next) {
                uint64_t pgoff = vm_area_private(a) ? a->backing_pgoff
                                                    : a->pgoff;

                next = a->rmap_next;
                if (index < pgoff || index - pgoff >= vm_area_npages(a))
                        continue;
                visit(w, area_space(a), a,
                      a->start + (vaddr_t)((index - pgoff) << PAGE_SHIFT),
                      obj, index);
        }
        return !w->stop;
}

unsigned rmap_walk(struct vm_page *pg,
                   bool (*fn)(void *arg, const struct rmap_map *m),
                   void *arg)
{
        struct walk w = { .pg = pg, .pa = pmm_page_to_pa(pg), .fn = fn,
                          .arg = arg };

        rmap_for_each_owner(pg, walk_owner, &w);
        return w.n;
}

static bool count_one(void *arg, const struct rmap_map *m)
{
        return true;
}

unsigned rmap_count(struct vm_page *pg)
{
        return rmap_walk(pg, count_one, NULL);
}

struct ref_ctx {
        bool     clear;
        unsigned bits;
};

static bool ref_one(void *arg, const struct rmap_map *m)
{
        struct ref_ctx *c = arg;
        unsigned ad = pmap_ad(m->space->pmap, m->va, c->clear);

        if (ad & PMAP_AD_ACCESSED)
                c->bits |= RMAP_ACCESSED;
        if (ad & PMAP_AD_DIRTY)
                c->bits |= RMAP_DIRTY;
        if (c->clear && ad)
                pmap_update(m->space->pmap);
        return true;
}

unsigned rmap_referenced(struct vm_page *pg, bool clear, unsigned *mapped)
{
        struct ref_ctx c = { .clear = clear };
        unsigned n = rmap_walk(pg, ref_one, &c);

        if (mapped)
                *mapped = n;
        return c.bits;
}

static bool locked_one(void *arg, const struct rmap_map *m)
{
        bool *locked = arg;

        if (m->area->flags & (VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)) {
                *locked = true;
                return false;
        }
        return true;
}

struct unmap_ctx {
        bool        dirty;
        vm_status_t st;
};

static bool unmap_one(void *arg, const struct rmap_map *m)
{
        struct unmap_ctx *c = arg;
        struct pmap *pm = m->space->pmap;

        if (pmap_ad(pm, m->va, false) & PMAP_AD_DIRTY)
                c->dirty = true;
        c->st = pmap_remove(pm, m->va, m->va + PAGE_SIZE);
        pmap_update(pm);
        return c->st == VM_OK;
}

vm_status_t rmap_unmap(struct vm_page *pg, bool *dirty)
{
        struct unmap_ctx c = { .st = VM_OK };
        bool locked = false;

        rmap_walk(pg, locked_one, &locked);
        if (locked)
                return VM_EBUSY;
        rmap_walk(pg, unmap_one, &c);
        if (dirty)
                *dirty = c.dirty;
        return c.st;
}

bool rmap_clean_page(const struct vm_page *pg)
{
        const struct vm_object *obj = inline_obj(pg);

        if ((pg->flags & (PG_OBJECT | PG_RMAP_CHAIN | PG_RMAP_FAMILY)) !=
            PG_OBJECT || obj->type != VM_OBJECT_FILE)
                return false;
        if (!obj->writable)
                return true;                    /* a read-only file */
        /* A disk file's page: the disk holds its bytes unless PG_DIRTY
         * says otherwise. Every write through a mapping faults first and
         * sets it (vm_fault.c maps such pages read-only until a write),
         * and write-back clears it only after unmapping the page, so a
         * shared writable mapping does not make it unclean. */
        if (obj->pager_ops)
                return !(pg->flags & PG_DIRTY);
        /* A page-cache page: what its source (or zeroes past it) gives
         * again, unless the kernel wrote it (PG_DIRTY) or a shared
         * mapping could have. A quota keeps counting it
         * (vm_object_drop_clean), so it always fits again. */
        return !(pg->flags & PG_DIRTY) && !obj->mapped_writable;
}

vm_status_t rmap_evict_clean(struct vm_page *pg)
{
        struct vm_object *obj;
        uint64_t index;
        vm_status_t st;
        bool dirty = false;

        if ((pg->flags & (PG_OBJECT | PG_RMAP_CHAIN | PG_RMAP_FAMILY)) !=
            PG_OBJECT)
                return VM_EINVAL;
        if (pg->flags & PG_PINNED)      /* a kernel copy is under way */
                return VM_EBUSY;
        obj = inline_obj(pg);
        index = inline_index(pg);
        if (!rmap_clean_page(pg))
                return VM_EINVAL;
        st = rmap_unmap(pg, &dirty);
        if (st != VM_OK)
                return st;
        ASSERT(rmap_count(pg) == 0);
        if (dirty) {                    /* cannot happen: mapped read-only */
                pg->flags |= PG_DIRTY;
                return VM_EINVAL;
        }
        vm_object_drop_clean(obj, index);
        return VM_OK;
}

/* ---- rmap_check --------------------------------------------------------------- */

struct check_space {
        uint32_t *seen;                 /* translations per frame (model) */
        bool      ok;
};

struct check_ctx {
        struct vm_page *pg;
        uint32_t       *seen;           /* translations per frame (model) */
        bool            ok;
        unsigned        found;
        const struct rmap_map *prev;    /* to catch duplicates */
        vaddr_t         vas[64];
        struct vm_space *spaces[64];
};

static bool check_fail(const char *why, const struct vm_page *pg)
{
        pr_err("rmap_check: frame %#" PRIx64 ": %s\n",
               (uint64_t)pmm_page_to_pa(pg), why);
        return false;
}

static bool check_owner(void *arg, struct vm_object *obj, uint64_t index)
{
        struct check_ctx *c = arg;

        if (vm_object_lookup(obj, index) != c->pg) {
                c->ok = check_fail("an owner does not hold it", c->pg);
                return false;
        }
        return true;
}

static bool check_map(void *arg, const struct rmap_map *m)
{
        struct check_ctx *c = arg;

        for (unsigned i = 0; i < c->found && i < 64; i++)
                if (c->spaces[i] == m->space && c->vas[i] == m->va) {
                        c->ok = check_fail("a translation found twice", c->pg);
                        return false;
                }
        if (c->found < 64) {
                c->spaces[c->found] = m->space;
                c->vas[c->found] = m->va;
        }
        c->found++;
        return true;
}

/* A private object of s is a member of a well-formed family. */
static bool check_family(const struct vm_space *s, const struct vm_object *o)
{
        const struct rmap_family *f = o->family;
        uint32_t n = 0;
        bool in = false;

        if (o->space != s || !f) {
                pr_err("rmap_check: object %" PRIu64 " of a private area "
                       "without its space or family\n", o->id);
                return false;
        }
        for (const struct vm_object *m = f->first, *prev = NULL; m;
             prev = m, m = m->family_next) {
                if (m->family != f || m->family_prev != prev || !m->space) {
                        pr_err("rmap_check: family of object %" PRIu64
                               " badly linked\n", o->id);
                        return false;
                }
                in |= m == o;
                n++;
        }
        if (!in || n != f->members) {
                pr_err("rmap_check: object %" PRIu64 " missing from its "
                       "family, or %u members counted %u\n", o->id, n,
                       f->members);
                return false;
        }
        return true;
}

/* The model: count every translation of every area of s by frame. */
static bool count_space(void *arg, struct vm_space *s)
{
        struct check_space *cs = arg;
        uint32_t *seen = cs->seen;
        paddr_t pa;

        for (struct vm_area *a = s->areas.first; a; a = a->next) {
                if (vm_area_private(a) && a->object && !check_family(s, a->object))
                        cs->ok = false;
                for (vaddr_t va = a->start; va < a->end; va += PAGE_SIZE) {
                        if (!pmap_extract(s->pmap, va, &pa, NULL, NULL))
                                continue;
                        pa = page_trunc(pa);
                        if (pa < pmm_ram_base() ||
                            (pa - pmm_ram_base()) >> PAGE_SHIFT >= pmm_npages())
                                continue;
                        seen[(pa - pmm_ram_base()) >> PAGE_SHIFT]++;
                }
        }
        return true;
}

static bool count_holder(void *arg, struct vm_object *obj, uint64_t index)
{
        (*(unsigned *)arg)++;
        return true;
}

/* pg's records are well formed (vm_rmap.h): one in the descriptor, or a
 * chain of two or more with at most one family record; no explicit
 * record of an owner the family record covers, nor a lone private owner
 * outside its family's record; a family record some member holds. */
static bool check_records(const struct vm_page *pg)
{
        unsigned n = 0, families = 0, holders = 0;
        const struct rmap_owner *fam = NULL;

        if ((pg->flags & PG_RMAP_FAMILY) && (pg->flags & PG_RMAP_CHAIN))
                return check_fail("a family record and a chain", pg);
        if (pg->flags & PG_RMAP_FAMILY) {
                const struct rmap_family *f = inline_ptr(pg);

                if (!f)
                        return check_fail("a family record without family", pg);
                family_for_each(pg, f, inline_index(pg), count_holder,
                                &holders);
                return holders ? true
                               : check_fail("a family record no member "
                                            "holds", pg);
        }
        if (!(pg->flags & PG_RMAP_CHAIN))
                return !inline_obj(pg)->family ? true
                     : check_fail("a lone private owner not recorded as its "
                                  "family", pg);
        for (const struct rmap_owner *e = chain(pg); e; e = e->next) {
                n++;
                if (!e->obj == !e->family)
                        return check_fail("a chain record of neither or both "
                                          "kinds", pg);
                if (e->family) {
                        families++;
                        fam = e;
                }
        }
        if (n < 2 || families > 1)
                return check_fail("a chain of one record, or two families",
                                  pg);
        if (!fam)
                return true;
        for (const struct rmap_owner *e = chain(pg); e; e = e->next)
                if (e->obj && e->obj->family == fam->family &&
                    e->index == fam->index)
                        return check_fail("an explicit record the family "
                                          "record covers", pg);
        family_for_each(pg, fam->family, fam->index, count_holder, &holders);
        return holders ? true
                       : check_fail("a family record no member holds", pg);
}

bool rmap_check(void)
{
        uint64_t n = pmm_npages();
        /* One counter per frame: kmalloc up to its largest block (the
         * host tests have no vmalloc area), vmalloc beyond (16 GiB). */
        bool big = n * sizeof(uint32_t) > (PAGE_SIZE << PMM_MAX_ORDER) / 2;
        uint32_t *seen = big ? vmalloc(n * sizeof *seen)
                             : kzalloc(n * sizeof *seen);
        struct check_ctx c;
        struct check_space cs = { .seen = seen, .ok = true };
        bool ok;

        if (!seen) {
                pr_err("rmap_check: no memory for the model\n");
                return false;
        }
        vm_spaces_for_each(count_space, &cs);
        ok = cs.ok;
        for (uint64_t pfn = 0; pfn < n && ok; pfn++) {
                struct vm_page *pg = pmm_pa_to_page(pmm_ram_base() +
                                                    (pfn << PAGE_SHIFT));
                unsigned owners = rmap_owner_count(pg);

                if (!(pg->flags & PG_OBJECT)) {
                        if (pg->flags & (PG_RMAP_CHAIN | PG_RMAP_FAMILY))
                                ok = check_fail("records without owner", pg);
                        continue;       /* the zero page, tables... */
                }
                if (pg->flags & (PG_FREE | PG_RESERVED | PG_SLAB))
                        ok = check_fail("an object page not allocated", pg);
                else if (!check_records(pg))
                        ok = false;
                else if (owners + vm_object_puts_of(pg) != pg->refcount)
                        ok = check_fail("owners differ from refcount", pg);
                if (!ok)
                        break;
                c = (struct check_ctx){ .pg = pg, .seen = seen, .ok = true };
                rmap_for_each_owner(pg, check_owner, &c);
                if (c.ok)
                        rmap_walk(pg, check_map, &c);
                if (c.ok && c.found != seen[pfn]) {
                        pr_err("rmap_check: frame %#" PRIx64 ": %u "
                               "translations found, %u exist\n",
                               (uint64_t)pmm_page_to_pa(pg), c.found,
                               seen[pfn]);
                        c.ok = false;
                }
                ok = c.ok;
        }
        if (big)
                vfree(seen);
        else
                kfree(seen);
        return ok;
}
