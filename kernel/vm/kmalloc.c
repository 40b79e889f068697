/*
 * kmalloc.c - the kernel heap (see kmalloc.h): one slab cache per size
 * class, and buddy blocks for anything larger.
 *
 * Owns: the cache table, and these fields of the descriptors of the pages
 * it holds: slab pages (flags PG_SLAB, private, count16, spare, next/prev),
 * large blocks (private). Touches no other page and no page table.
 *
 * A slab is a buddy block of 2^order pages. Its metadata lives in its page
 * descriptors, not in the slab, so every byte of the block is slots:
 *   head page:  PG_SLAB, private = cache, count16 = objects in use,
 *               spare = offset of the first free slot (SLOT_NONE if none),
 *               next/prev = links (pfn) in one of the cache's three lists;
 *   tail pages: PG_SLAB, private = cache | TAIL_BIT, spare = page index.
 * The first 8 bytes of a free slot hold the offset of the next free slot.
 *
 * Slot layout   normal: [object]
 *               debug:  [tag 8][red 8][object][red 16]
 * In debug mode the tag is the free-list link while the slot is free, and
 * ALLOC_MAGIC << 32 | requested size while it is allocated. Red bytes, and
 * the object bytes past the requested size, hold RED_BYTE; the object of a
 * free slot holds POISON_BYTE.
 *
 * A large block: head page private = LARGE_HEAD | order, tail pages
 * private = LARGE_TAIL; no PG_SLAB.
 *
 * Invariants (kmalloc_check()):
 *   1. a slab is on the empty list iff count16 == 0, the full list iff
 *      count16 == objs_per_slab, else the partial list; links consistent;
 *   2. its free list has exactly objs_per_slab - count16 entries, each the
 *      offset of a slot start inside the slab, none repeated;
 *   3. every page of a slab carries PG_SLAB and its cache; the pages of all
 *      slabs add up to vmstat.slab_pages; objects in use add up to inuse;
 *   4. debug: allocated slots carry ALLOC_MAGIC and a size no larger than
 *      the class, free objects are poisoned, and all red zones are intact.
 * Empty slabs: a cache keeps at most one (the next allocation reuses it;
 * two CPUs that both found none may make one each, for a moment); the
 * others go back to the buddy allocator at once; kmalloc_shrink()
 * returns the kept ones too.
 *
 * Locks: each cache has a spinlock (rank 27) over its lists, its slabs'
 * free lists and counts; it is never held while the page allocator runs
 * (a slab is made before it joins its cache's lists and taken off them
 * before it is given back), so the page allocator's own locks never nest
 * inside it and it may later wait for other CPUs (a drain of per-CPU
 * lists). The two vmstat counters are atomic. Why one lock per
 * cache rather than per-CPU magazines: design.md, "Kernel allocators".
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <vm/pmap.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

#define SLAB_MAX_ORDER  3               /* slabs of 1..8 pages */
#define SLAB_MAX_SLOTS  ((PAGE_SIZE << SLAB_MAX_ORDER) / KMALLOC_MIN_ALIGN)
#define SLOT_NONE       0xffffffffu     /* end of a free list */
#define TAIL_BIT        1ull            /* in private: a slab's tail page */
#define RED_LEFT        16              /* debug: tag + red bytes before */
#define RED_RIGHT       16              /* debug: red bytes after */
#define RED_BYTE        0xbb
#define POISON_BYTE     0x6b
#define ALLOC_MAGIC     0xa110ca7eull   /* debug tag of an allocated slot */
#define LARGE_HEAD      0x4b4d4c4700000000ull   /* "KMLG" | order */
#define LARGE_TAIL      0x4b4d4c5400000000ull   /* "KMLT" */
#define LARGE_MASK      0xffffffff00000000ull

enum slab_list { SLAB_EMPTY, SLAB_PARTIAL, SLAB_FULL, NR_SLAB_LISTS };
static const char *const slab_list_name[] = { "empty", "partial", "full" };

/*
 * One size class.
 * Locks: [c] constant after kmalloc_init()  [s] the cache's lock.
 */
struct kmem_cache {
        struct spinlock lock;           /* LOCK_RANK_KMALLOC */
        const char *name;               /* [c] "kmalloc-64" */
        uint32_t obj_size;              /* [c] class size */
        uint32_t slot_size;             /* [c] obj_size + red zones */
        uint32_t obj_offset;            /* [c] object start in its slot */
        uint32_t objs_per_slab;         /* [c] */
        unsigned order;                 /* [c] a slab is 2^order pages */
        uint32_t head[NR_SLAB_LISTS];   /* [s] first slab (pfn) per list */
        uint64_t nr[NR_SLAB_LISTS];     /* [s] slabs per list */
        uint64_t inuse;                 /* [s] objects handed out */
};

static const struct { uint32_t size; const char *name; } classes[] = {
        { 16, "kmalloc-16" },     { 32, "kmalloc-32" },
        { 48, "kmalloc-48" },     { 64, "kmalloc-64" },
        { 96, "kmalloc-96" },     { 128, "kmalloc-128" },
        { 192, "kmalloc-192" },   { 256, "kmalloc-256" },
        { 384, "kmalloc-384" },   { 512, "kmalloc-512" },
        { 768, "kmalloc-768" },   { 1024, "kmalloc-1024" },
        { 1536, "kmalloc-1536" }, { 2048, "kmalloc-2048" },
};
#define NR_CLASSES      ARRAY_SIZE(classes)

static struct kmem_cache caches[NR_CLASSES];
static bool kmalloc_debug;                      /* [c] */

/* Where a pointer handed to kfree() lies: its slab, cache and slot. */
struct slot_ref {
        struct kmem_cache *cache;
        struct vm_page *head;           /* the slab's head page */
        uint8_t *base;                  /* the slab's first byte */
        uint32_t off;                   /* slot offset in the slab */
};

/* --- descriptors, lists, slots --------------------------------------- */

static uint32_t page_pfn(const struct vm_page *pg)
{
        return (uint32_t)(pmm_page_to_pa(pg) >> PAGE_SHIFT);
}

static struct vm_page *pfn_page(uint32_t pfn)
{
        return pmm_pa_to_page((paddr_t)pfn << PAGE_SHIFT);
}

static struct vm_page *page_nth(const struct vm_page *pg, uint64_t i)
{
        return pmm_pa_to_page(pmm_page_to_pa(pg) + i * PAGE_SIZE);
}

static uint8_t *page_addr(const struct vm_page *pg)
{
        return pmap_kmem_va(pmm_page_to_pa(pg));
}

static uint64_t *slot_word(uint8_t *base, uint32_t off)
{
        return (uint64_t *)(void *)(base + off);
}

static bool slot_offset_ok(const struct kmem_cache *c, uint64_t off)
{
        return off < (uint64_t)c->objs_per_slab * c->slot_size &&
               off % c->slot_size == 0;
}

static enum slab_list slab_state(const struct kmem_cache *c,
                                 const struct vm_page *pg)
{
        if (pg->count16 == 0)
                return SLAB_EMPTY;
        return pg->count16 == c->objs_per_slab ? SLAB_FULL : SLAB_PARTIAL;
}

static void slab_list_add(struct kmem_cache *c, enum slab_list l,
                          struct vm_page *pg)
{
        uint32_t pfn = page_pfn(pg);

        pg->prev = PFN_NONE;
        pg->next = c->head[l];
        if (c->head[l] != PFN_NONE)
                pfn_page(c->head[l])->prev = pfn;
        c->head[l] = pfn;
        c->nr[l]++;
}

static void slab_list_del(struct kmem_cache *c, enum slab_list l,
                          struct vm_page *pg)
{
        if (pg->prev != PFN_NONE)
                pfn_page(pg->prev)->next = pg->next;
        else
                c->head[l] = pg->next;
        if (pg->next != PFN_NONE)
                pfn_page(pg->next)->prev = pg->prev;
        pg->next = pg->prev = PFN_NONE;
        c->nr[l]--;
}

/* Change a slab's in-use count, moving it to the list that count implies. */
static void slab_set_count(struct kmem_cache *c, struct vm_page *pg,
                           unsigned count)
{
        enum slab_list from = slab_state(c, pg), to;

        pg->count16 = (uint16_t)count;
        to = slab_state(c, pg);
        if (from != to) {
                slab_list_del(c, from, pg);
                slab_list_add(c, to, pg);
        }
}

/* A kernel bug found under cache c's lock: the lock goes first, so that a
 * host test that catches the panic goes on with a usable cache. */
#define cache_panic(c, ...) do {                                        \
        spin_unlock((struct spinlock *)&(c)->lock);                     \
        panic(__VA_ARGS__);                                             \
} while (0)

/* --- slab creation and release --------------------------------------- */

/* Give a fresh slot its free-list link and, in debug mode, its patterns. */
static void slot_format(const struct kmem_cache *c, uint8_t *slot,
                        uint64_t link)
{
        if (kmalloc_debug) {
                memset(slot + 8, RED_BYTE, RED_LEFT - 8);
                memset(slot + c->obj_offset, POISON_BYTE, c->obj_size);
                memset(slot + c->obj_offset + c->obj_size, RED_BYTE,
                       RED_RIGHT);
        }
        *slot_word(slot, 0) = link;
}

/* Take a block from the buddy allocator and make it an empty slab, on no
 * list yet. => the cache's lock not held. */
static struct vm_page *slab_create(struct kmem_cache *c)
{
        struct vm_page *pg = pmm_alloc_pages(c->order, 0);
        uint8_t *base;

        if (!pg)
                return NULL;
        for (uint32_t i = 1; i < (1u << c->order); i++) {
                struct vm_page *tail = page_nth(pg, i);

                tail->flags |= PG_SLAB;
                tail->private = (uint64_t)(uintptr_t)c | TAIL_BIT;
                tail->spare = i;
        }
        pg->flags |= PG_SLAB;
        pg->private = (uint64_t)(uintptr_t)c;
        pg->count16 = 0;
        base = page_addr(pg);
        for (uint32_t i = 0; i < c->objs_per_slab; i++)
                slot_format(c, base + i * c->slot_size,
                            i + 1 < c->objs_per_slab ?
                            (uint64_t)(i + 1) * c->slot_size : SLOT_NONE);
        pg->spare = 0;
        pg->next = pg->prev = PFN_NONE;
        vmstat_add(&vmstat.slab_pages, 1 << c->order);
        return pg;
}

/* Return an empty slab, already off its cache's lists, to the buddy
 * allocator. => the cache's lock not held. */
static void slab_destroy(struct kmem_cache *c, struct vm_page *pg)
{
        for (uint32_t i = 0; i < (1u << c->order); i++) {
                struct vm_page *p = page_nth(pg, i);

                p->flags &= ~PG_SLAB;
                p->private = 0;
                p->spare = 0;
                p->count16 = 0;
        }
        vmstat_add(&vmstat.slab_pages, -(1 << c->order));
        pmm_free_pages(pg, c->order);
}

/* Smallest slab order wasting at most 1/8 of the slab (or the largest). */
static unsigned slab_pick_order(uint32_t slot_size)
{
        for (unsigned order = 0; order < SLAB_MAX_ORDER; order++) {
                uint64_t bytes = PAGE_SIZE << order;

                if ((bytes % slot_size) * 8 <= bytes)
                        return order;
        }
        return SLAB_MAX_ORDER;
}

/* --- debug mode ------------------------------------------------------ */

/* First byte of [p, p+len) that is not `want`, or -1. */
static long find_not(const uint8_t *p, size_t len, uint8_t want)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != want)
                        return (long)i;
        return -1;
}

/* Whether the slot at `off` is on the slab's free list (bounded walk). */
static bool slot_is_free(const struct slot_ref *r)
{
        uint64_t off = r->head->spare;

        for (uint32_t n = 0; n < r->cache->objs_per_slab && off != SLOT_NONE;
             n++) {
                if (off == r->off)
                        return true;
                if (!slot_offset_ok(r->cache, off))
                        return false;
                off = *slot_word(r->base, (uint32_t)off);
        }
        return false;
}

/* Check a slot about to be handed out, then mark it allocated. */
static void debug_on_alloc(const struct kmem_cache *c, uint8_t *slot,
                           size_t size)
{
        uint8_t *obj = slot + c->obj_offset;
        long bad = find_not(obj, c->obj_size, POISON_BYTE);

        if (bad >= 0)
                cache_panic(c, "kmalloc: write after free in %s: object "
                            "%p, byte +%ld is 0x%x, expected poison 0x%x",
                            c->name, (void *)obj, bad, obj[bad],
                            POISON_BYTE);
        if (find_not(slot + 8, RED_LEFT - 8, RED_BYTE) >= 0 ||
            find_not(obj + c->obj_size, RED_RIGHT, RED_BYTE) >= 0)
                cache_panic(c, "kmalloc: red zone of free object %p in %s "
                            "overwritten", (void *)obj, c->name);
        *slot_word(slot, 0) = ALLOC_MAGIC << 32 | size;
        memset(obj + size, RED_BYTE, c->obj_size - size);
}

/* Check the red zones of a slot being freed, then poison its object. */
static void debug_on_free(const struct slot_ref *r)
{
        const struct kmem_cache *c = r->cache;
        uint8_t *slot = r->base + r->off, *obj = slot + c->obj_offset;
        uint64_t tag = *slot_word(slot, 0);
        uint64_t size = tag & 0xffffffffu;
        long bad;

        if (tag >> 32 != ALLOC_MAGIC && slot_is_free(r))
                cache_panic(c, "kfree: double free in %s: object %p is "
                            "already free", c->name, (void *)obj);
        if (tag >> 32 != ALLOC_MAGIC || size > c->obj_size ||
            find_not(slot + 8, RED_LEFT - 8, RED_BYTE) >= 0)
                cache_panic(c, "kfree: underflow in %s: red zone before "
                            "object %p overwritten (tag 0x%llx)", c->name,
                            (void *)obj, (unsigned long long)tag);
        bad = find_not(obj + size, c->obj_size - size + RED_RIGHT, RED_BYTE);
        if (bad >= 0)
                cache_panic(c, "kfree: overflow in %s: object %p of %llu "
                            "bytes, byte +%llu after it is 0x%x, expected "
                            "red zone 0x%x", c->name,
                            (void *)obj, (unsigned long long)size,
                            (unsigned long long)(size + (uint64_t)bad),
                            obj[size + (uint64_t)bad], RED_BYTE);
        memset(obj, POISON_BYTE, c->obj_size);
}

/* --- finding what a pointer is --------------------------------------- */

/* The descriptor of the page holding p; panics if p is not in the heap. */
static struct vm_page *heap_page(const void *p, const char *who)
{
        struct vm_page *pg = pmm_pa_to_page(pmap_kmem_pa(p));

        if (!pg)
                panic("%s(%p): not a kernel heap address", who, p);
        return pg;
}

__attribute__((noreturn))
static void bad_pointer(const void *p, const struct vm_page *pg,
                        const char *who)
{
        if ((pg->private & LARGE_MASK) == LARGE_HEAD ||
            (pg->private & LARGE_MASK) == LARGE_TAIL)
                panic("%s(%p): inside a large kmalloc block, not its start",
                      who, p);
        panic("%s(%p): not a kmalloc object (page flags 0x%x%s)", who, p,
              (unsigned)pg->flags,
              (pg->flags & PG_FREE) ? ": page is free, double free?" : "");
}

/* Resolve p in slab page pg to its slot; panics unless p starts an object. */
static void slot_resolve(const void *p, struct vm_page *pg, const char *who,
                         struct slot_ref *r)
{
        uint64_t delta;

        if (pg->private & TAIL_BIT)     /* a tail page: go to the head */
                pg = pmm_pa_to_page(pmm_page_to_pa(pg) -
                                    (uint64_t)pg->spare * PAGE_SIZE);
        r->cache = (struct kmem_cache *)(uintptr_t)pg->private;
        if (!(pg->flags & PG_SLAB) || (pg->private & TAIL_BIT) ||
            r->cache < caches || r->cache >= caches + NR_CLASSES)
                panic("%s(%p): slab descriptor corrupted (private 0x%llx)",
                      who, p, (unsigned long long)pg->private);
        r->head = pg;
        r->base = page_addr(pg);
        delta = (uint64_t)((const uint8_t *)p - r->base);
        if (delta < r->cache->obj_offset ||
            !slot_offset_ok(r->cache, delta - r->cache->obj_offset))
                panic("%s(%p): not the start of an object in %s (slab %p)",
                      who, p, r->cache->name, (void *)r->base);
        r->off = (uint32_t)(delta - r->cache->obj_offset);
}

/* --- allocation and freeing ------------------------------------------ */

static struct kmem_cache *cache_for(size_t size)
{
        for (size_t i = 0; i < NR_CLASSES; i++)
                if (size <= caches[i].obj_size)
                        return &caches[i];
        return NULL;
}

/* A slab with a free slot: partial first, then the kept empty one; with
 * none, one is made with the lock dropped. => the cache's lock held on
 * entry and, unless the result is NULL, on return. */
static struct vm_page *cache_pick_slab(struct kmem_cache *c)
{
        for (;;) {
                struct vm_page *fresh;

                if (c->head[SLAB_PARTIAL] != PFN_NONE)
                        return pfn_page(c->head[SLAB_PARTIAL]);
                if (c->head[SLAB_EMPTY] != PFN_NONE)
                        return pfn_page(c->head[SLAB_EMPTY]);
                spin_unlock(&c->lock);
                fresh = slab_create(c);
                if (!fresh)
                        return NULL;
                spin_lock(&c->lock);
                slab_list_add(c, SLAB_EMPTY, fresh);
        }
}

static void *cache_alloc(struct kmem_cache *c, size_t size)
{
        struct vm_page *pg;
        uint8_t *base, *slot;
        uint64_t next;

        spin_lock(&c->lock);
        pg = cache_pick_slab(c);
        if (!pg)
                return NULL;            /* the lock is dropped */
        base = page_addr(pg);
        slot = base + pg->spare;
        next = *slot_word(slot, 0);
        if (next != SLOT_NONE && !slot_offset_ok(c, next))
                cache_panic(c, "kmalloc: free list of %s slab %p "
                            "corrupted: link 0x%llx in free object %p "
                            "(write after free?)", c->name,
                            (void *)base, (unsigned long long)next,
                            (void *)(slot + c->obj_offset));
        if (kmalloc_debug)
                debug_on_alloc(c, slot, size);
        pg->spare = (uint32_t)next;
        slab_set_count(c, pg, pg->count16 + 1u);
        c->inuse++;
        spin_unlock(&c->lock);
        return slot + c->obj_offset;
}

static void cache_free(struct slot_ref *r)
{
        struct kmem_cache *c = r->cache;
        struct vm_page *pg = r->head;
        bool surplus;

        spin_lock(&c->lock);
        if (kmalloc_debug)
                debug_on_free(r);
        else if (pg->count16 == 0 || r->off == pg->spare)
                cache_panic(c, "kfree: double free in %s: object %p is "
                            "already free", c->name,
                            (void *)(r->base + r->off + c->obj_offset));
        *slot_word(r->base, r->off) = pg->spare;
        pg->spare = r->off;
        c->inuse--;
        slab_set_count(c, pg, pg->count16 - 1u);
        surplus = pg->count16 == 0 && c->nr[SLAB_EMPTY] > 1;
        if (surplus)
                slab_list_del(c, SLAB_EMPTY, pg);
        spin_unlock(&c->lock);
        if (surplus)
                slab_destroy(c, pg);
}

static void *large_alloc(size_t size)
{
        unsigned order = 0;
        struct vm_page *pg;

        while ((PAGE_SIZE << order) < size)
                order++;
        pg = pmm_alloc_pages(order, 0);
        if (!pg)
                return NULL;
        pg->private = LARGE_HEAD | order;
        for (uint64_t i = 1; i < (1ull << order); i++)
                page_nth(pg, i)->private = LARGE_TAIL;
        vmstat_add(&vmstat.kmalloc_large, 1 << order);
        return page_addr(pg);
}

bool kmalloc_page_in_heap(const struct vm_page *pg)
{
        uint64_t tag = pg->private & LARGE_MASK;

        return (pg->flags & PG_SLAB) || tag == LARGE_HEAD ||
               tag == LARGE_TAIL;
}

static void large_free(struct vm_page *pg)
{
        unsigned order = (unsigned)(pg->private & 0xff);

        for (uint64_t i = 0; i < (1ull << order); i++)
                page_nth(pg, i)->private = 0;
        vmstat_add(&vmstat.kmalloc_large, -(1 << order));
        pmm_free_pages(pg, order);
}

static bool is_large_head(const void *p, const struct vm_page *pg)
{
        return (pg->private & LARGE_MASK) == LARGE_HEAD &&
               is_aligned((uintptr_t)p, PAGE_SIZE) && !(pg->flags & PG_SLAB);
}

void *kmalloc(size_t size)
{
        struct kmem_cache *c;

        if (size == 0 || size > KMALLOC_MAX_SIZE)
                return NULL;
        c = cache_for(size);
        return c ? cache_alloc(c, size) : large_alloc(size);
}

void *kzalloc(size_t size)
{
        void *p = kmalloc(size);

        if (p)
                memset(p, 0, kmalloc_usable_size(p));
        return p;
}

void kfree(void *p)
{
        struct vm_page *pg;
        struct slot_ref r;

        if (!p)
                return;
        pg = heap_page(p, "kfree");
        if (pg->flags & PG_SLAB) {
                slot_resolve(p, pg, "kfree", &r);
                cache_free(&r);
        } else if (is_large_head(p, pg)) {
                large_free(pg);
        } else {
                bad_pointer(p, pg, "kfree");
        }
}

size_t kmalloc_usable_size(const void *p)
{
        struct vm_page *pg;
        struct slot_ref r;

        if (!p)
                return 0;
        pg = heap_page(p, "kmalloc_usable_size");
        if (is_large_head(p, pg))
                return PAGE_SIZE << (pg->private & 0xff);
        if (!(pg->flags & PG_SLAB))
                bad_pointer(p, pg, "kmalloc_usable_size");
        slot_resolve(p, pg, "kmalloc_usable_size", &r);
        if (!kmalloc_debug)
                return r.cache->obj_size;
        if (*slot_word(r.base, r.off) >> 32 != ALLOC_MAGIC)
                panic("kmalloc_usable_size(%p): object in %s is free or its "
                      "red zone is overwritten", p, r.cache->name);
        return (size_t)(*slot_word(r.base, r.off) & 0xffffffffu);
}

/* --- setup, shrinking, checking -------------------------------------- */

static void cache_setup(struct kmem_cache *c, uint32_t size, const char *name)
{
        *c = (struct kmem_cache){ .name = name, .obj_size = size };
        spin_init(&c->lock, name, LOCK_RANK_KMALLOC);
        c->obj_offset = kmalloc_debug ? RED_LEFT : 0;
        c->slot_size = size + (kmalloc_debug ? RED_LEFT + RED_RIGHT : 0);
        c->order = slab_pick_order(c->slot_size);
        c->objs_per_slab = (uint32_t)((PAGE_SIZE << c->order) / c->slot_size);
        for (int l = 0; l < NR_SLAB_LISTS; l++)
                c->head[l] = PFN_NONE;
}

void kmalloc_init(bool debug)
{
        kmalloc_debug = debug;
        for (size_t i = 0; i < NR_CLASSES; i++)
                cache_setup(&caches[i], classes[i].size, classes[i].name);
}

uint64_t kmalloc_shrink(void)
{
        uint64_t pages = 0;

        for (size_t i = 0; i < NR_CLASSES; i++) {
                struct kmem_cache *c = &caches[i];

                for (;;) {
                        struct vm_page *pg = NULL;

                        spin_lock(&c->lock);
                        if (c->head[SLAB_EMPTY] != PFN_NONE) {
                                pg = pfn_page(c->head[SLAB_EMPTY]);
                                slab_list_del(c, SLAB_EMPTY, pg);
                        }
                        spin_unlock(&c->lock);
                        if (!pg)
                                break;
                        slab_destroy(c, pg);
                        pages += 1u << c->order;
                }
        }
        return pages;
}

static bool kcheck_fail(const struct kmem_cache *c, const struct vm_page *pg,
                       const char *what)
{
        pr_err("kmalloc_check: %s slab %p: %s\n", c->name,
               pg ? (void *)page_addr(pg) : NULL, what);
        return false;
}

/* Debug patterns of one slot (invariant 4). */
static bool check_slot_debug(const struct kmem_cache *c,
                             const struct vm_page *pg, uint8_t *slot,
                             bool is_free)
{
        uint8_t *obj = slot + c->obj_offset;
        uint64_t tag = *slot_word(slot, 0), size = tag & 0xffffffffu;

        if (find_not(slot + 8, RED_LEFT - 8, RED_BYTE) >= 0 ||
            find_not(obj + c->obj_size, RED_RIGHT, RED_BYTE) >= 0)
                return kcheck_fail(c, pg, "red zone overwritten");
        if (is_free)
                return find_not(obj, c->obj_size, POISON_BYTE) < 0 ||
                       kcheck_fail(c, pg, "free object written (poison)");
        if (tag >> 32 != ALLOC_MAGIC || size > c->obj_size)
                return kcheck_fail(c, pg, "allocated slot has a bad tag");
        return find_not(obj + size, c->obj_size - size, RED_BYTE) < 0 ||
               kcheck_fail(c, pg, "object tail (red zone) overwritten");
}

/* Walk a slab's free list into a bitmap (invariant 2). */
static bool check_free_list(const struct kmem_cache *c,
                            const struct vm_page *pg, uint8_t *map)
{
        uint8_t *base = page_addr(pg);
        uint64_t off = pg->spare;
        uint32_t nfree = 0;

        while (off != SLOT_NONE) {
                uint32_t slot;

                if (!slot_offset_ok(c, off))
                        return kcheck_fail(c, pg, "free link outside slab");
                slot = (uint32_t)(off / c->slot_size);
                if (map[slot / 8] & (1u << (slot % 8)))
                        return kcheck_fail(c, pg, "free list has a cycle");
                map[slot / 8] |= (uint8_t)(1u << (slot % 8));
                nfree++;
                off = *slot_word(base, (uint32_t)off);
        }
        if (nfree != c->objs_per_slab - pg->count16)
                return kcheck_fail(c, pg, "free count != objs - count16");
        return true;
}

/* One slab: its pages (invariant 3), free list, debug patterns. */
static bool check_slab(const struct kmem_cache *c, const struct vm_page *pg,
                       enum slab_list l)
{
        uint8_t map[SLAB_MAX_SLOTS / 8] = { 0 };

        if (!(pg->flags & PG_SLAB) || pg->private != (uintptr_t)c)
                return kcheck_fail(c, pg, "head page not marked as this slab");
        if (slab_state(c, pg) != l)
                return kcheck_fail(c, pg, "on the wrong list for its count");
        for (uint32_t i = 1; i < (1u << c->order); i++) {
                const struct vm_page *t = page_nth(pg, i);

                if (!(t->flags & PG_SLAB) || t->spare != i ||
                    t->private != ((uint64_t)(uintptr_t)c | TAIL_BIT))
                        return kcheck_fail(c, pg, "tail page not marked");
        }
        if (!check_free_list(c, pg, map))
                return false;
        for (uint32_t i = 0; kmalloc_debug && i < c->objs_per_slab; i++)
                if (!check_slot_debug(c, pg, page_addr(pg) + i * c->slot_size,
                                      map[i / 8] & (1u << (i % 8))))
                        return false;
        return true;
}

/* One list of one cache (invariant 1); adds up pages and objects. */
static bool check_list(const struct kmem_cache *c, enum slab_list l,
                       uint64_t *pages, uint64_t *inuse)
{
        uint32_t pfn = c->head[l], prev = PFN_NONE;
        uint64_t n = 0;

        for (; pfn != PFN_NONE && n <= c->nr[l]; pfn = pfn_page(pfn)->next) {
                const struct vm_page *pg = pfn_page(pfn);

                if (pg->prev != prev)
                        return kcheck_fail(c, pg, "bad prev link");
                if (!check_slab(c, pg, l))
                        return false;
                *pages += 1u << c->order;
                *inuse += pg->count16;
                prev = pfn;
                n++;
        }
        if (n != c->nr[l] || pfn != PFN_NONE) {
                pr_err("kmalloc_check: %s: %s list holds %llu slabs, "
                       "counted %llu\n", c->name, slab_list_name[l],
                       (unsigned long long)n, (unsigned long long)c->nr[l]);
                return false;
        }
        return true;
}

/* => nothing allocates or frees meanwhile (the slab page total is
 *    compared across caches). */
bool kmalloc_check(void)
{
        uint64_t pages = 0;

        for (size_t i = 0; i < NR_CLASSES; i++) {
                const struct kmem_cache *c = &caches[i];
                uint64_t inuse = 0;

                for (int l = 0; l < NR_SLAB_LISTS; l++)
                        if (!check_list(c, (enum slab_list)l, &pages, &inuse))
                                return false;
                if (inuse != c->inuse)
                        return kcheck_fail(c, NULL, "inuse != sum of slabs");
        }
        if (pages != vmstat.slab_pages) {
                pr_err("kmalloc_check: slabs hold %llu pages, vmstat says "
                       "%llu\n", (unsigned long long)pages,
                       (unsigned long long)vmstat.slab_pages);
                return false;
        }
        return true;
}

void kmalloc_dump(void)
{
        for (size_t i = 0; i < NR_CLASSES; i++) {
                const struct kmem_cache *c = &caches[i];
                uint64_t slabs = c->nr[0] + c->nr[1] + c->nr[2];

                if (slabs)
                        pr_info("%-13s %5llu in use, %4llu slabs of %u "
                                "pages (%llu full, %llu partial, %llu empty)\n",
                                c->name, (unsigned long long)c->inuse,
                                (unsigned long long)slabs, 1u << c->order,
                                (unsigned long long)c->nr[SLAB_FULL],
                                (unsigned long long)c->nr[SLAB_PARTIAL],
                                (unsigned long long)c->nr[SLAB_EMPTY]);
        }
        pr_info("kmalloc: %llu slab pages, %llu pages in large blocks%s\n",
                (unsigned long long)vmstat.slab_pages,
                (unsigned long long)vmstat.kmalloc_large,
                kmalloc_debug ? " (debug)" : "");
}
