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

/* ---- owners --------------------------------------------------------------- */

static inline struct vm_object *inline_obj(const struct vm_page *pg)
{
        return (struct vm_object *)(uintptr_t)pg->private;
}

static inline uint64_t inline_index(const struct vm_page *pg)
{
        return (uint64_t)pg->count16 << 32 | pg->spare;
}

static inline struct rmap_owner *chain(const struct vm_page *pg)
{
        return (struct rmap_owner *)(uintptr_t)pg->private;
}

static void set_inline(struct vm_page *pg, struct vm_object *obj,
                       uint64_t index)
{
        pg->private = (uint64_t)(uintptr_t)obj;
        pg->spare = (uint32_t)index;
        pg->count16 = (uint16_t)(index >> 32);
}

static void set_chain(struct vm_page *pg, struct rmap_owner *head)
{
        pg->private = (uint64_t)(uintptr_t)head;
        pg->spare = 0;
        pg->count16 = 0;
}

static struct rmap_owner *owner_new(struct vm_object *obj, uint64_t index,
                                    struct rmap_owner *next)
{
        struct rmap_owner *e = kmalloc(sizeof *e);

        if (e)
                *e = (struct rmap_owner){ .obj = obj, .index = index,
                                          .next = next };
        return e;
}

vm_status_t rmap_owner_add(struct vm_page *pg, struct vm_object *obj,
                           uint64_t index)
{
        struct rmap_owner *first, *e;

        ASSERT(obj && index < ((uint64_t)1 << INDEX_BITS));
        if (!(pg->flags & PG_OBJECT)) {
                set_inline(pg, obj, index);
                pg->flags |= PG_OBJECT;
                vm_lru_add(pg, obj);            /* replacement sees it now */
                return VM_OK;
        }
        if (pg->flags & PG_RMAP_CHAIN) {
                e = owner_new(obj, index, chain(pg));
                if (!e)
                        return VM_ENOMEM;
                set_chain(pg, e);
                return VM_OK;
        }
        /* A second owner: the one in the descriptor moves to the chain. */
        first = owner_new(inline_obj(pg), inline_index(pg), NULL);
        e = first ? owner_new(obj, index, first) : NULL;
        if (!e) {
                kfree(first);
                return VM_ENOMEM;
        }
        set_chain(pg, e);
        pg->flags |= PG_RMAP_CHAIN;
        return VM_OK;
}

void rmap_owner_del(struct vm_page *pg, struct vm_object *obj, uint64_t index)
{
        struct rmap_owner **link, *e, *head;

        ASSERT(pg->flags & PG_OBJECT);
        if (!(pg->flags & PG_RMAP_CHAIN)) {
                ASSERT(inline_obj(pg) == obj && inline_index(pg) == index);
                set_inline(pg, NULL, 0);
                pg->flags &= ~PG_OBJECT;
                vm_lru_del(pg);
                return;
        }
        for (link = (struct rmap_owner **)&pg->private; (e = *link);
             link = &e->next)
                if (e->obj == obj && e->index == index)
                        break;
        ASSERT(e);
        *link = e->next;
        kfree(e);
        head = chain(pg);
        if (!head->next) {              /* one owner left: back inline */
                pg->flags &= ~PG_RMAP_CHAIN;
                set_inline(pg, head->obj, head->index);
                kfree(head);
        }
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

unsigned rmap_owner_count(const struct vm_page *pg)
{
        unsigned n = 0;

        if (!(pg->flags & PG_OBJECT))
                return 0;
        if (!(pg->flags & PG_RMAP_CHAIN))
                return 1;
        for (const struct rmap_owner *e = chain(pg); e; e = e->next)
                n++;
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
        if (!(pg->flags & PG_RMAP_CHAIN))
                return fn(arg, inline_obj(pg), inline_index(pg));
        for (e = chain(pg); e; e = next) {
                next = e->next;
                if (!fn(arg, e->obj, e->index))
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

        if (w->stop || !pmap_extract(s->pmap, va, &pa, NULL, NULL) ||
            page_trunc(pa) != w->pa)
                return;
        w->n++;
        if (!w->fn(w->arg, &m))
                w->stop = true;
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
                a = vm_area_lookup(&s->areas, va);
                if (a && a->object == obj && vm_area_private(a))
                        visit(w, s, a, va, obj, index);
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

        if ((pg->flags & (PG_OBJECT | PG_RMAP_CHAIN)) != PG_OBJECT ||
            obj->type != VM_OBJECT_FILE)
                return false;
        if (!obj->writable)
                return true;                    /* a read-only file */
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

        if ((pg->flags & (PG_OBJECT | PG_RMAP_CHAIN)) != PG_OBJECT)
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

/* The model: count every translation of every area of s by frame. */
static bool count_space(void *arg, struct vm_space *s)
{
        uint32_t *seen = arg;
        paddr_t pa;

        for (struct vm_area *a = s->areas.first; a; a = a->next)
                for (vaddr_t va = a->start; va < a->end; va += PAGE_SIZE) {
                        if (!pmap_extract(s->pmap, va, &pa, NULL, NULL))
                                continue;
                        pa = page_trunc(pa);
                        if (pa < pmm_ram_base() ||
                            (pa - pmm_ram_base()) >> PAGE_SHIFT >= pmm_npages())
                                continue;
                        seen[(pa - pmm_ram_base()) >> PAGE_SHIFT]++;
                }
        return true;
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
        bool ok = true;

        if (!seen) {
                pr_err("rmap_check: no memory for the model\n");
                return false;
        }
        vm_spaces_for_each(count_space, seen);
        for (uint64_t pfn = 0; pfn < n && ok; pfn++) {
                struct vm_page *pg = pmm_pa_to_page(pmm_ram_base() +
                                                    (pfn << PAGE_SHIFT));
                unsigned owners = rmap_owner_count(pg);

                if (!(pg->flags & PG_OBJECT)) {
                        if (pg->flags & PG_RMAP_CHAIN)
                                ok = check_fail("a chain without owner", pg);
                        continue;       /* the zero page, tables... */
                }
                if (pg->flags & (PG_FREE | PG_RESERVED | PG_SLAB))
                        ok = check_fail("an object page not allocated", pg);
                else if (owners != pg->refcount)
                        ok = check_fail("owners differ from refcount", pg);
                else if (!!(pg->flags & PG_RMAP_CHAIN) != (owners > 1))
                        ok = check_fail("chained with one owner", pg);
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
