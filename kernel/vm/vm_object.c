/*
 * vm_object.c - anonymous objects and the zero page (see vm_object.h).
 *
 * Owns: objects, their radix nodes (kmalloc), the frames resident in them
 * (from the buddy allocator, counted in vmstat.anon_pages) and the zero
 * page. Touches no page table: callers unmap and flush before freeing.
 *
 * Radix layout: a node is 64 slots (512 bytes, one kmalloc-512 object); a
 * tree of height h covers indices [0, 64^h). Slots of a level-1 node hold
 * struct vm_page pointers, slots of a level-k node (k > 1) level-(k-1)
 * nodes. Digit k of an index (bits 6k..6k+5) picks the slot at level k+1.
 * Nodes carry no counts: emptiness is a scan of 64 slots, done only when a
 * page leaves.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vmstat.h>

#define RADIX_SHIFT     6
#define RADIX_SLOTS     (1u << RADIX_SHIFT)
#define RADIX_MAX_H     8               /* 48 bits of index */

struct radix_node {
        void *slot[RADIX_SLOTS];
};

static paddr_t zero_pa;                 /* 0: not yet allocated */

static inline unsigned digit(uint64_t index, unsigned level)
{
        return (index >> (RADIX_SHIFT * (level - 1))) & (RADIX_SLOTS - 1);
}

/* Indices one slot of a level-`level` node covers. */
static inline uint64_t slot_span(unsigned level)
{
        return 1UL << (RADIX_SHIFT * (level - 1));
}

static bool node_empty(const struct radix_node *n)
{
        for (unsigned i = 0; i < RADIX_SLOTS; i++)
                if (n->slot[i])
                        return false;
        return true;
}

/* ---- pages ------------------------------------------------------------------- */

/* Drop the object's reference to a resident page. */
static void anon_page_release(struct vm_page *pg)
{
        if (pg->refcount > 1) {         /* still held by another object */
                pg->refcount--;
                return;
        }
        pmm_free_pages(pg, 0);
        vmstat.anon_pages--;
}

/* ---- objects ------------------------------------------------------------------ */

vm_status_t vm_object_create_anon(uint64_t size, struct vm_object **out)
{
        struct vm_object *obj;
        unsigned height = 1;

        if (size == 0 || size > VM_OBJECT_MAX_PAGES)
                return VM_EINVAL;
        while (height < RADIX_MAX_H && size > slot_span(height + 1))
                height++;
        obj = kzalloc(sizeof *obj);
        if (!obj)
                return VM_ENOMEM;
        obj->refcount = 1;
        obj->type = VM_OBJECT_ANON;
        obj->height = height;
        obj->size = size;
        *out = obj;
        return VM_OK;
}

void vm_object_ref(struct vm_object *obj)
{
        ASSERT(obj->refcount > 0);
        obj->refcount++;
}

void vm_object_unref(struct vm_object *obj)
{
        if (!obj)
                return;
        ASSERT(obj->refcount > 0);
        if (--obj->refcount > 0)
                return;
        vm_object_free_range(obj, 0, obj->size);
        ASSERT(obj->root == NULL && obj->npages == 0);
        kfree(obj);
}

struct vm_page *vm_object_lookup(const struct vm_object *obj, uint64_t index)
{
        const struct radix_node *n = obj->root;

        if (index >= obj->size)
                return NULL;
        for (unsigned level = obj->height; n && level > 1; level--)
                n = n->slot[digit(index, level)];
        return n ? n->slot[digit(index, 1)] : NULL;
}

/* Nodes missing on index's path (they must all be made before linking). */
static unsigned missing_nodes(const struct vm_object *obj, uint64_t index)
{
        const struct radix_node *n = obj->root;
        unsigned level = obj->height;

        while (n && level > 1) {
                n = n->slot[digit(index, level)];
                level--;
        }
        return n ? 0 : level;
}

/* Link pg at index using the nodes in fresh[] for missing levels. */
static void radix_link(struct vm_object *obj, uint64_t index,
                       struct vm_page *pg, struct radix_node **fresh)
{
        void **slot = &obj->root;

        for (unsigned level = obj->height; level >= 1; level--) {
                if (!*slot)
                        *slot = *fresh++;
                slot = &((struct radix_node *)*slot)->slot[digit(index, level)];
        }
        *slot = pg;
}

vm_status_t vm_object_page_alloc(struct vm_object *obj, uint64_t index,
                                 struct vm_page **out)
{
        struct radix_node *fresh[RADIX_MAX_H] = { 0 };
        unsigned need;
        struct vm_page *pg;
        bool ok;

        if (index >= obj->size)
                return VM_EINVAL;
        if (vm_object_lookup(obj, index))
                return VM_EEXIST;
        need = missing_nodes(obj, index);
        pg = pmm_alloc_pages(0, PMM_ZERO);
        ok = pg != NULL;
        for (unsigned i = 0; ok && i < need; i++)
                ok = (fresh[i] = kzalloc(sizeof(struct radix_node))) != NULL;
        if (!ok) {              /* all or nothing: no empty node is linked */
                for (unsigned i = 0; i < need; i++)
                        kfree(fresh[i]);
                if (pg)
                        pmm_free_pages(pg, 0);
                return VM_ENOMEM;
        }
        radix_link(obj, index, pg, fresh);
        obj->npages++;
        vmstat.anon_pages++;
        *out = pg;
        return VM_OK;
}

/* ---- range walks ------------------------------------------------------------ */

/* A walk over the resident pages with index in [first, end). */
struct radix_walk {
        uint64_t first, end;
        bool   (*leaf)(struct radix_walk *w, void **slot, uint64_t index);
        bool     prune;         /* free nodes that the walk empties */
        struct vm_object *obj;
        bool   (*fn)(void *arg, uint64_t index, struct vm_page *pg);
        void    *arg;
        uint64_t count;
};

/* Visit node n of `level` covering [base, ...); false ends the walk. */
static bool radix_walk_node(struct radix_walk *w, struct radix_node *n,
                            unsigned level, uint64_t base)
{
        uint64_t span = slot_span(level);
        unsigned i = w->first > base ? (w->first - base) / span : 0;

        for (; i < RADIX_SLOTS && base + i * span < w->end; i++) {
                void **slot = &n->slot[i];
                bool go;

                if (!*slot)
                        continue;
                if (level == 1) {
                        go = w->leaf(w, slot, base + i);
                } else {
                        go = radix_walk_node(w, *slot, level - 1,
                                             base + i * span);
                        if (w->prune && node_empty(*slot)) {
                                kfree(*slot);
                                *slot = NULL;
                        }
                }
                if (!go)
                        return false;
        }
        return true;
}

static bool radix_walk_run(struct radix_walk *w, struct vm_object *obj)
{
        bool done;

        w->obj = obj;
        if (!obj->root || w->first >= w->end)
                return true;
        done = radix_walk_node(w, obj->root, obj->height, 0);
        if (w->prune && node_empty(obj->root)) {
                kfree(obj->root);
                obj->root = NULL;
        }
        return done;
}

static bool leaf_free(struct radix_walk *w, void **slot, uint64_t index)
{
        anon_page_release(*slot);
        *slot = NULL;
        w->obj->npages--;
        w->count++;
        return true;
}

uint64_t vm_object_free_range(struct vm_object *obj, uint64_t first,
                              uint64_t end)
{
        struct radix_walk w = { .first = first, .end = MIN(end, obj->size),
                                .leaf = leaf_free, .prune = true };

        radix_walk_run(&w, obj);
        return w.count;
}

static bool leaf_call(struct radix_walk *w, void **slot, uint64_t index)
{
        return w->fn(w->arg, index, *slot);
}

bool vm_object_for_each(const struct vm_object *obj, uint64_t first,
                        uint64_t end,
                        bool (*fn)(void *arg, uint64_t index,
                                   struct vm_page *pg),
                        void *arg)
{
        struct radix_walk w = { .first = first, .end = MIN(end, obj->size),
                                .leaf = leaf_call, .fn = fn, .arg = arg };

        /* A walk without pruning changes nothing. */
        return radix_walk_run(&w, (struct vm_object *)obj);
}

/* ---- vm_object_check ------------------------------------------------------ */

static bool object_fail(const struct vm_object *obj, const char *why,
                        uint64_t index)
{
        pr_err("vm_object_check: object %p: %s (index %#lx)\n",
               (const void *)obj, why, (unsigned long)index);
        return false;
}

/* Every node reachable from n is non-empty; returns pages below, or -1. */
static int64_t check_node(const struct vm_object *obj,
                          const struct radix_node *n, unsigned level,
                          uint64_t base)
{
        int64_t pages = 0;

        if (node_empty(n))
                return object_fail(obj, "empty radix node", base), -1;
        for (unsigned i = 0; i < RADIX_SLOTS; i++) {
                uint64_t index = base + i * slot_span(level);
                const struct vm_page *pg = n->slot[i];
                int64_t below;

                if (!n->slot[i])
                        continue;
                if (level > 1) {
                        below = check_node(obj, n->slot[i], level - 1, index);
                        if (below < 0)
                                return -1;
                        pages += below;
                        continue;
                }
                if (index >= obj->size)
                        return object_fail(obj, "page beyond size", index), -1;
                if ((pg->flags & (PG_FREE | PG_RESERVED)) || pg->refcount == 0)
                        return object_fail(obj, "page not allocated", index), -1;
                pages++;
        }
        return pages;
}

bool vm_object_check(const struct vm_object *obj)
{
        int64_t pages = 0;

        if (obj->refcount == 0)
                return object_fail(obj, "refcount 0", 0);
        if (obj->height == 0 || obj->height > RADIX_MAX_H || obj->size == 0 ||
            obj->size > VM_OBJECT_MAX_PAGES ||
            (obj->height > 1 && obj->size <= slot_span(obj->height)))
                return object_fail(obj, "bad size or height", obj->size);
        if (obj->root && (pages = check_node(obj, obj->root, obj->height, 0)) < 0)
                return false;
        if ((uint64_t)pages != obj->npages)
                return object_fail(obj, "npages differs from the tree", 0);
        if (obj->npages > vmstat.anon_pages)
                return object_fail(obj, "more pages than vmstat counts", 0);
        return true;
}

/* ---- the zero page --------------------------------------------------------- */

void vm_object_init(void)
{
        zero_pa = 0;
}

vm_status_t vm_zero_page_init(void)
{
        struct vm_page *pg;

        if (zero_pa)
                return VM_OK;
        pg = pmm_alloc_pages(0, PMM_ZERO);
        if (!pg)
                return VM_ENOMEM;
        zero_pa = pmm_page_to_pa(pg);
        return VM_OK;
}

paddr_t vm_zero_page_pa(void)
{
        ASSERT(zero_pa != 0);
        return zero_pa;
}

bool vm_zero_page_check(void)
{
        const uint64_t *w;

        if (!zero_pa) {
                pr_err("vm_zero_page_check: no zero page\n");
                return false;
        }
        w = phys_to_virt(zero_pa);
        for (size_t i = 0; i < PAGE_SIZE / sizeof *w; i++) {
                if (w[i]) {
                        pr_err("vm_zero_page_check: written at +%#lx\n",
                               (unsigned long)(i * sizeof *w));
                        return false;
                }
        }
        return true;
}
