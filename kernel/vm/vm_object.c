/*
 * vm_object.c - anonymous and file objects, and the zero page (see
 * vm_object.h).
 *
 * Owns: objects, their radix nodes (kmalloc), the frames resident in them
 * (from the buddy allocator, counted in vmstat.anon_pages or
 * vmstat.file_pages), the registry of live file objects and the zero page.
 * Touches no page table: callers unmap and flush before a page goes.
 *
 * Radix layout: a node is 64 slots (512 bytes, one kmalloc-512 object); a
 * tree of height h with prefix p covers the indices i with i >> 6h == p
 * (covers()). Slots of a level-1 node hold struct vm_page pointers, slots
 * of a level-k node (k > 1) level-(k-1) nodes. Digit k of an index (bits
 * 6k..6k+5) picks the slot at level k+1. Nodes carry no counts: emptiness
 * is a scan of 64 slots, done only when a page leaves. What a tree covers
 * only grows (tree_cover: a node above the root per level, the old root
 * in the slot of its prefix's last digit), so a leaf stays a leaf.
 *
 * A page may sit in several anonymous objects at once (after fork); its
 * refcount says in how many, and only the last to let go frees the frame.
 *
 * A level-1 slot of a private anonymous object or of a shared one
 * (vm_object_swap_shared: shared anonymous memory, SysV segments, tmpfs
 * and memfd files) may hold a swap entry instead of a page: an odd word
 * (pages are aligned pointers), slot << 4 | area << 1 | 1, which fits
 * 32-bit pointers too. The object holds one user of that swap slot per
 * entry (vm_object.nswapped counts them). Lookups of pages see no page
 * there; the walks free, share (fork, mremap) and check entries as well.
 * A shared object holding entries is on the `swapped_shared` list, which
 * swapoff and vm_swap_check() walk: such an object may be mapped
 * nowhere (an unlinked-but-open tmpfs file, a SysV segment nobody
 * attached).
 */
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/cpu_local.h>
#include <vm/hugetlb.h>
#include <vm/pmap.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_swap.h>
#include <vm/vmstat.h>

#define RADIX_SHIFT     6
#define RADIX_SLOTS     (1u << RADIX_SHIFT)
#define RADIX_MAX_H     8               /* 48 bits of index */

struct radix_node {
        void *slot[RADIX_SLOTS];
};

static paddr_t zero_pa;                 /* 0: not yet allocated */
static paddr_t huge_zero_pa;            /* 0: none */
static struct vm_object *file_objects;  /* live file objects */
static uint64_t next_object_id;         /* [a] the last vm_object.id given */
static struct vm_object *swapped_shared; /* shared objects holding entries */

static inline bool slot_is_entry(const void *v)
{
        return (uintptr_t)v & 1;
}

static inline void *entry_to_slot(swp_entry_t e)
{
        uintptr_t v = (uintptr_t)SWP_SLOT(e) << 4 | (uintptr_t)SWP_AREA(e) << 1 | 1;

        ASSERT(SWP_AREA(e) < 8 && (v >> 4) == SWP_SLOT(e));
        return (void *)v;
}

static inline swp_entry_t slot_to_entry(const void *v)
{
        uintptr_t u = (uintptr_t)v;

        return SWP_ENTRY((u >> 1) & 7, (uint32_t)(u >> 4));
}

static inline unsigned digit(uint64_t index, unsigned level)
{
        return (index >> (RADIX_SHIFT * (level - 1))) & (RADIX_SLOTS - 1);
}

/* Indices one slot of a level-`level` node covers. */
static inline uint64_t slot_span(unsigned level)
{
        return (uint64_t)1 << (RADIX_SHIFT * (level - 1));
}

/* Does obj's tree reach index? Every index holding something is covered. */
static inline bool covers(const struct vm_object *obj, uint64_t index)
{
        return index >> (RADIX_SHIFT * obj->height) == obj->prefix;
}

/* The first index obj's tree covers. */
static inline uint64_t tree_base(const struct vm_object *obj)
{
        return obj->prefix << (RADIX_SHIFT * obj->height);
}

static bool node_empty(const struct radix_node *n)
{
        for (unsigned i = 0; i < RADIX_SLOTS; i++)
                if (n->slot[i])
                        return false;
        return true;
}

/* ---- shared objects holding swap entries ---------------------------------- */

static void swapped_link(struct vm_object *obj)
{
        obj->swap_prev = NULL;
        obj->swap_next = swapped_shared;
        if (swapped_shared)
                swapped_shared->swap_prev = obj;
        swapped_shared = obj;
}

static void swapped_unlink(struct vm_object *obj)
{
        if (obj->swap_prev)
                obj->swap_prev->swap_next = obj->swap_next;
        else
                swapped_shared = obj->swap_next;
        if (obj->swap_next)
                obj->swap_next->swap_prev = obj->swap_prev;
        obj->swap_next = obj->swap_prev = NULL;
}

/* obj gains or loses one swap entry; a shared object enters the list
 * with its first and leaves it with its last. */
static void nswapped_inc(struct vm_object *obj)
{
        if (obj->nswapped++ == 0 && vm_object_swap_shared(obj))
                swapped_link(obj);
}

static void nswapped_dec(struct vm_object *obj)
{
        ASSERT(obj->nswapped > 0);
        if (--obj->nswapped == 0 && vm_object_swap_shared(obj))
                swapped_unlink(obj);
}

bool vm_object_for_each_swapped_shared(bool (*fn)(void *arg,
                                                  struct vm_object *obj),
                                       void *arg)
{
        for (struct vm_object *o = swapped_shared, *next; o; o = next) {
                next = o->swap_next;
                if (!fn(arg, o))
                        return false;
        }
        return true;
}

/* ---- pages ------------------------------------------------------------------- */

static inline uint64_t *object_counter(const struct vm_object *obj)
{
        /* Pool pages are not anonymous memory (Linux's AnonPages leaves
         * hugetlb out): they count apart. */
        if (obj->hugetlb)
                return &vmstat.hugetlb_pages;
        return obj->writable ? &vmstat.shmem_pages
             : obj->type == VM_OBJECT_FILE ? &vmstat.file_pages
                                           : &vmstat.anon_pages;
}

/*
 * Pages a walk frees (vm_object_free_range: munmap, exit, truncation),
 * given back together (pmm_lru_release: Linux's release_pages): one
 * zone-lock round takes a batch off the reclaim lists, where each page
 * alone took one round. The rule: a page in a batch has no owner left
 * (PG_OBJECT clear) but is still on its reclaim list, so nothing that
 * walks those lists or holds "an object page is on a list and a listed
 * page is an object page" (reclaim and its checks, /proc/kpageflags,
 * migration) may run before the batch is flushed. They all run under
 * the big kernel lock, which the walk holds (every caller of
 * vm_object_free_range does: only vm_fault_nolock runs without it, and
 * it frees no object page), and the walk itself allocates nothing (no
 * direct reclaim), and flushes before it returns. Code without the big
 * lock only adds pages at the lists' heads, under the zone lock.
 */
#define RELEASE_BATCH   32

struct release_batch {
        unsigned n;
        struct vm_page *pg[RELEASE_BATCH];
};

static void release_flush(struct release_batch *b)
{
        if (b->n)
                pmm_lru_release(b->pg, b->n);
        b->n = 0;
}

/* Drop the object's reference to its resident page at index; the last
 * frees it, through batch b if b is not NULL and the page is an ordinary
 * one (one record, from the buddy). */
static void page_release(struct vm_object *obj, uint64_t index,
                         struct vm_page *pg, struct release_batch *b)
{
        if (b && pg->refcount == 1 && !(pg->flags & PG_RMAP_CHAIN) &&
            !obj->hugetlb) {
                rmap_owner_del_last(pg, obj, index);
                b->pg[b->n++] = pg;
                if (b->n == RELEASE_BATCH)
                        release_flush(b);
                vmstat_add(object_counter(obj), -1);
                return;
        }
        rmap_owner_del(pg, obj, index);
        if (pg->refcount > 1) {         /* still held by another object */
                pg->refcount--;
                /* Only the swap cache is left (it clears the flag
                 * before it lets go itself): a copy kept for obj? */
                if (pg->refcount == 1 && (pg->flags & PG_SWAPCACHE))
                        vm_swap_page_orphaned(pg);
                return;
        }
        if (obj->hugetlb)
                hugetlb_page_put(pg);   /* the pool's, not the buddies' */
        else
                pmm_free_pages(pg, 0);
        vmstat_add(object_counter(obj), -1);
}

static void evicted_release(struct vm_object *obj);

/*
 * An object that areas map shared or read as their file (obj->mappers)
 * is read by lock-free faults in any of their spaces (vm_fault.c,
 * nolock_file: the tree walked, a page found, its translation made, all
 * without the big lock). So a change that takes a page out of such an
 * object or changes its tree's shape (nodes freed, the height grown)
 * runs with every door shut (vm_space_enter_all), and first unmaps its
 * range [first, end) again inside: the caller unmapped it before
 * (vm_spaces_unmap_object), but a lock-free fault may have mapped a page
 * since, which would outlive the page. A shrink (even_cows) takes the
 * private copies of its range again too: one made lock-free
 * (vm_fault.c:nolock_private_copy) from a page still there between the
 * caller's unmap and this would outlive the end, where an access must
 * now raise SIGBUS. A caller that shut the doors itself (reclaim,
 * swap-out, swapoff) unmapped inside them, so nothing is unmapped again
 * then. => whether doors_open must follow.
 */
static bool doors_shut_for(const struct vm_object *obj, uint64_t first,
                           uint64_t end, bool even_cows)
{
        if (!obj->mappers || vm_space_all_shut())
                return false;
        vm_space_enter_all();
        if (first < end)
                vm_spaces_unmap_object(obj, first, end, even_cows);
        return true;
}

static void doors_open(bool shut)
{
        if (shut)
                vm_space_leave_all();
}

/* ---- objects ------------------------------------------------------------------ */

/* Radix height for `size` indices (at least 1). */
static unsigned height_for(uint64_t size)
{
        unsigned height = 1;

        while (height < RADIX_MAX_H && size > slot_span(height + 1))
                height++;
        return height;
}

static struct vm_object *object_new(enum vm_object_type type, uint64_t size)
{
        struct vm_object *obj = kzalloc(sizeof *obj);

        if (!obj)
                return NULL;
        obj->refcount = 1;
        obj->type = type;
        obj->height = height_for(size);
        obj->size = size;
        obj->id = __atomic_add_fetch(&next_object_id, 1, __ATOMIC_RELAXED);
        spin_init(&obj->lock, "vm_object", LOCK_RANK_OBJECT);
        return obj;
}

vm_status_t vm_object_create_anon(uint64_t size, struct vm_object **out)
{
        struct vm_object *obj;

        if (size == 0 || size > VM_OBJECT_MAX_PAGES)
                return VM_EINVAL;
        obj = object_new(VM_OBJECT_ANON, size);
        if (!obj)
                return VM_ENOMEM;
        *out = obj;
        return VM_OK;
}

void vm_object_discard(struct vm_object *obj)
{
        ASSERT(obj->refcount == 1 && obj->type == VM_OBJECT_ANON &&
               !obj->root && !obj->npages && !obj->nswapped &&
               !obj->committed && !obj->mappers && !obj->on_free &&
               !obj->name && !obj->hugetlb_resv);
        rmap_family_leave(obj);
        kfree(obj);
}

static struct vm_object *file_find(const void *data, uint64_t bytes)
{
        for (struct vm_object *o = file_objects; o; o = o->file_next)
                if (o->data == data && o->bytes == bytes)
                        return o;
        return NULL;
}

void vm_object_for_each_file(bool (*fn)(void *arg,
                                        const struct vm_object *obj),
                             void *arg)
{
        for (const struct vm_object *o = file_objects; o; o = o->file_next)
                if (!fn(arg, o))
                        return;
}

vm_status_t vm_object_create_file(const void *data, uint64_t bytes,
                                  struct vm_object **out)
{
        struct vm_object *obj;

        if ((!data && bytes) || bytes > VM_OBJECT_MAX_PAGES * PAGE_SIZE)
                return VM_EINVAL;
        obj = file_find(data, bytes);
        if (obj) {
                vm_object_ref(obj);
                *out = obj;
                return VM_OK;
        }
        obj = object_new(VM_OBJECT_FILE, page_round(bytes) >> PAGE_SHIFT);
        if (!obj)
                return VM_ENOMEM;
        obj->data = data;
        obj->bytes = bytes;
        obj->file_next = file_objects;
        file_objects = obj;
        *out = obj;
        return VM_OK;
}

vm_status_t vm_object_create_cache(const void *data, uint64_t bytes,
                                   struct vm_object **out)
{
        struct vm_object *obj;

        if ((!data && bytes) || bytes > VM_FILE_CACHE_MAX_BYTES)
                return VM_EINVAL;
        obj = object_new(VM_OBJECT_FILE, page_round(bytes) >> PAGE_SHIFT);
        if (!obj)
                return VM_ENOMEM;
        obj->writable = true;
        obj->data = data;
        obj->bytes = bytes;
        obj->src_bytes = bytes;
        *out = obj;
        return VM_OK;
}

void vm_object_cover(struct vm_object *obj, uint64_t first, uint64_t end)
{
        unsigned height = 1, most = height_for(obj->size);

        ASSERT(!obj->root && first < end && end <= obj->size);
        while (height < most &&
               first >> (RADIX_SHIFT * height) !=
               (end - 1) >> (RADIX_SHIFT * height))
                height++;
        obj->height = height;
        obj->prefix = first >> (RADIX_SHIFT * height);
}

void vm_object_covered(const struct vm_object *obj, uint64_t *first,
                       uint64_t *end)
{
        *first = tree_base(obj);
        *end = MIN(*first + slot_span(obj->height + 1), obj->size);
}

/*
 * Raise obj's tree until it covers index: a level at a time, a new root
 * above the old one (in the slot of the old prefix's last digit), or the
 * height alone while the tree is empty. Where no lock-free fault reads
 * the tree: the object's space entered (or every door shut), and every
 * door shut if areas map it shared or as their file (those readers are in
 * any space). => VM_ENOMEM with the tree raised part of the way (still
 * whole; what it covers only grew).
 */
static vm_status_t tree_cover(struct vm_object *obj, uint64_t index)
{
        if (covers(obj, index))
                return VM_OK;
#ifdef MACHINE_CPU_LOCAL /* the ports with lock-free faults: the one-CPU
                         * ports and the host's tests (but for
                         * test_fault_nolock's) enter no doors */
        ASSERT(vm_space_all_shut() ||
               (!obj->mappers &&
                (!obj->space || vm_space_entered(obj->space))));
#endif
        while (!covers(obj, index)) {
                ASSERT(obj->height < RADIX_MAX_H);
                if (obj->root) {
                        struct radix_node *n = kzalloc(sizeof *n);

                        if (!n)
                                return VM_ENOMEM;
                        n->slot[obj->prefix & (RADIX_SLOTS - 1)] = obj->root;
                        obj->root = n;
                }
                obj->prefix >>= RADIX_SHIFT;
                obj->height++;
        }
        return VM_OK;
}

vm_status_t vm_object_resize(struct vm_object *obj, uint64_t bytes)
{
        uint64_t size = page_round(bytes) >> PAGE_SHIFT;
        vm_status_t st;

        ASSERT(obj->writable);
        if (bytes > VM_FILE_CACHE_MAX_BYTES)
                return VM_EINVAL;
        /* A cut inside a swapped page: bring it back first, so that its
         * tail can be zeroed below (nothing has changed if it cannot). */
        if (bytes < obj->bytes && (bytes & PAGE_MASK) &&
            vm_object_swap_entry(obj, bytes >> PAGE_SHIFT)) {
                struct vm_page *pg;

                if ((st = vm_swap_in(obj, bytes >> PAGE_SHIFT, &pg, NULL)) !=
                    VM_OK)
                        return st;
        }
        /* A shrink, or a growth that raises the tree: height, root and
         * size change together for a lock-free reader (one that saw a
         * new size with an old height would read the wrong slot). A
         * growth within the height only lets a reader see more. */
        bool reshape = size < obj->size || (size && !covers(obj, size - 1));
        bool shut = reshape && doors_shut_for(obj, size, obj->size,
                                              size < obj->size);

        if (size > obj->size && (st = tree_cover(obj, size - 1)) != VM_OK) {
                doors_open(shut);
                return st;
        }
        if (size < obj->size) {
                evicted_release(obj);
                vm_object_free_range(obj, size, obj->size);
        }
        /* The part of the last page past the new end reads as zeroes. */
        if (bytes < obj->bytes && (bytes & PAGE_MASK)) {
                struct vm_page *pg = vm_object_lookup(obj, bytes >> PAGE_SHIFT);
                if (pg) {
                        uint8_t *p = pmap_quick_enter_page(pmm_page_to_pa(pg));
                        pg->flags |= PG_DIRTY;
                        memset(p + (bytes & PAGE_MASK), 0,
                               PAGE_SIZE - (bytes & PAGE_MASK));
                        pmap_quick_remove_page(p);
                }
        }
        obj->src_bytes = MIN(obj->src_bytes, bytes);
        obj->size = size;
        obj->bytes = bytes;
        doors_open(shut);
        return VM_OK;
}

static vm_status_t page_new(struct vm_object *obj, uint64_t index,
                            const struct vm_page *from, const void *src,
                            size_t len, struct vm_page **out);

vm_status_t vm_object_punch_hole(struct vm_object *obj, uint64_t first,
                                 uint64_t end)
{
        uint64_t src_end = page_round(obj->src_bytes) >> PAGE_SHIFT;
        uint64_t zero_end = MIN(end, MIN(src_end, obj->size));

        ASSERT(obj->writable);
        evicted_release(obj);
        /* Under the source, a freed page would read the source again:
         * zero those pages in place instead. */
        for (uint64_t i = first; i < zero_end; i++) {
                struct vm_page *pg = vm_object_lookup(obj, i);
                if (pg) {
                        pg->flags |= PG_DIRTY;
                        pmap_zero_page(pmm_page_to_pa(pg));
                        continue;
                }
                if (vm_object_swap_entry(obj, i))       /* its slot goes */
                        vm_object_free_range(obj, i, i + 1);
                vm_status_t st = page_new(obj, i, NULL, NULL, 0, &pg);

                if (st == VM_OK)
                        pg->flags |= PG_DIRTY;  /* zeroes, not the source */
                else if (st != VM_EEXIST)       /* (a lock-free write's
                                                 * zeroed page: as good) */
                        return VM_ENOMEM;
        }
        if (MIN(end, obj->size) > MAX(first, zero_end))
                vm_object_free_range(obj, MAX(first, zero_end), MIN(end, obj->size));
        return VM_OK;
}

uint64_t vm_object_file_count(void)
{
        uint64_t n = 0;

        for (struct vm_object *o = file_objects; o; o = o->file_next)
                n++;
        return n;
}

vm_status_t vm_object_set_name(struct vm_object *obj, const char *name)
{
        char *copy = NULL;

        if (name) {
                size_t len = strlen(name) + 1;

                copy = kmalloc(len);
                if (!copy)
                        return VM_ENOMEM;
                memcpy(copy, name, len);
        }
        kfree(obj->name);
        obj->name = copy;
        return VM_OK;
}

void vm_object_set_quota(struct vm_object *obj, struct vm_quota *q)
{
        if (obj->quota)
                obj->quota->used -= obj->npages + obj->nswapped + obj->evicted;
        obj->quota = q;
        if (q)
                q->used += obj->npages + obj->nswapped + obj->evicted;
        else
                obj->evicted = 0;
}

/* Forget the charge of obj's dropped clean pages (their indices may be
 * gone: truncation, a hole); a page read again is then charged anew. */
static void evicted_release(struct vm_object *obj)
{
        if (obj->quota)
                obj->quota->used -= obj->evicted;
        obj->evicted = 0;
}

void vm_object_drop_clean(struct vm_object *obj, uint64_t index)
{
        ASSERT(obj->type == VM_OBJECT_FILE);
        if (vm_object_free_range(obj, index, index + 1) && obj->quota) {
                obj->quota->used++;             /* still charged */
                obj->evicted++;
        }
}

void vm_object_ref(struct vm_object *obj)
{
        ASSERT(obj->refcount > 0);
        obj->refcount++;
}

static void file_unlink(struct vm_object *obj)
{
        struct vm_object **link = &file_objects;

        while (*link != obj)
                link = &(*link)->file_next;
        *link = obj->file_next;
}

void vm_object_unref(struct vm_object *obj)
{
        if (!obj)
                return;
        ASSERT(obj->refcount > 0);
        if (--obj->refcount > 0)
                return;
        if (obj->on_free)
                obj->on_free(obj);
        if (obj->type == VM_OBJECT_FILE && !obj->writable)
                file_unlink(obj);
        evicted_release(obj);
        vm_object_free_range(obj, 0, obj->size);
        if (obj->hugetlb_resv)
                hugetlb_unreserve(obj->hugetlb_resv);
        ASSERT(obj->root == NULL && obj->npages == 0 && obj->nswapped == 0 &&
               !obj->mappers);
        rmap_family_leave(obj);
        vm_commit_sub(obj->committed);
        kfree(obj->name);
        kfree(obj);
}

/*
 * The level-1 node that holds index's slot, or NULL if its path is
 * missing. An anonymous object's tree could be six levels deep (it spans
 * the address space: it no longer starts so, vm_object_cover), and a
 * fault used to walk it four times (the page, its swap entry, the missing
 * nodes, the link: about 340 instructions), so the node found is
 * remembered in obj->leaf: the next index in the same 64 costs a compare.
 * Only a walk that frees nodes can make the hint wrong; radix_walk_node
 * and radix_walk_run clear it when they free its node (leaves stay leaves
 * when the tree grows a level). Lookups that take a const object still
 * set it: a cache, not the object's state.
 */
static struct radix_node *leaf_of(const struct vm_object *obj, uint64_t index)
{
        struct vm_object *o = (struct vm_object *)obj;
        struct radix_node *n = obj->root;

        if (o->leaf && index >> RADIX_SHIFT == o->leaf_key)
                return o->leaf;
        if (!covers(obj, index))
                return NULL;
        for (unsigned level = obj->height; n && level > 1; level--)
                n = n->slot[digit(index, level)];
        if (n) {
                o->leaf = n;
                o->leaf_key = index >> RADIX_SHIFT;
        }
        return n;
}

struct vm_page *vm_object_lookup(const struct vm_object *obj, uint64_t index)
{
        const struct radix_node *n;

        if (index >= obj->size || !(n = leaf_of(obj, index)) ||
            slot_is_entry(n->slot[digit(index, 1)]))
                return NULL;
        return n->slot[digit(index, 1)];
}

void vm_object_lookup_run(const struct vm_object *obj, uint64_t first,
                          unsigned n, struct vm_page **out)
{
        const struct radix_node *node = NULL;
        unsigned d = digit(first, 1);

        if (d + n <= RADIX_SLOTS && first + n <= obj->size) {
                /* One node holds the run (the fault path's windows). */
                node = leaf_of(obj, first);
                for (unsigned i = 0; i < n; i++) {
                        void *v = node ? node->slot[d + i] : NULL;

                        out[i] = slot_is_entry(v) ? NULL : v;
                }
                return;
        }
        for (unsigned i = 0; i < n; i++) {
                uint64_t index = first + i;
                void *v;

                if (i == 0 || digit(index, 1) == 0)     /* a new node */
                        node = index < obj->size ? leaf_of(obj, index) : NULL;
                v = node && index < obj->size ? node->slot[digit(index, 1)]
                                              : NULL;
                out[i] = slot_is_entry(v) ? NULL : v;
        }
}

/* What index's level-1 slot holds (page, entry or NULL). */
static void *radix_peek(const struct vm_object *obj, uint64_t index)
{
        const struct radix_node *n;

        if (index >= obj->size || !(n = leaf_of(obj, index)))
                return NULL;
        return n->slot[digit(index, 1)];
}

swp_entry_t vm_object_swap_entry(const struct vm_object *obj, uint64_t index)
{
        void *v = radix_peek(obj, index);

        return v && slot_is_entry(v) ? slot_to_entry(v) : 0;
}

/* Nodes missing on index's path (they must all be made before linking),
 * in a tree that covers it. */
static unsigned missing_nodes(const struct vm_object *obj, uint64_t index)
{
        const struct radix_node *n = obj->root;
        unsigned level = obj->height;

        ASSERT(covers(obj, index));
        if (leaf_of(obj, index))
                return 0;

        while (n && level > 1) {
                n = n->slot[digit(index, level)];
                level--;
        }
        return n ? 0 : level;
}

/* Link pg at index using the nodes in fresh[] for missing levels.
 * => how many of them it used (a lock-free fault may have linked some of
 *    the path since they were counted: the rest are the caller's). */
static unsigned radix_link(struct vm_object *obj, uint64_t index,
                           struct vm_page *pg, struct radix_node **fresh)
{
        void **slot = &obj->root;
        unsigned used = 0;

        ASSERT(covers(obj, index));
        if (!fresh[0] && obj->leaf && index >> RADIX_SHIFT == obj->leaf_key) {
                __atomic_store_n(&((struct radix_node *)obj->leaf)->
                                 slot[digit(index, 1)], pg, __ATOMIC_RELEASE);
                return 0;
        }
        /* Release stores: a lock-free reader (vm_object_nolock_lookup_run)
         * that finds a node or the page finds it zeroed or filled. */
        for (unsigned level = obj->height; level >= 1; level--) {
                if (!*slot)
                        __atomic_store_n(slot, fresh[used++], __ATOMIC_RELEASE);
                slot = &((struct radix_node *)*slot)->slot[digit(index, level)];
        }
        __atomic_store_n(slot, pg, __ATOMIC_RELEASE);
        return used;
}

/* The slot holding index's page, or NULL if its path is missing. */
static void **radix_slot(struct vm_object *obj, uint64_t index)
{
        struct radix_node *n;

        if (index >= obj->size || !(n = leaf_of(obj, index)))
                return NULL;
        return &n->slot[digit(index, 1)];
}

/* Ready index's path for radix_link: the tree raised to cover it and the
 * nodes the path misses allocated into fresh[0..*need) (all or none: the
 * caller frees those radix_link does not use). */
static vm_status_t path_prepare(struct vm_object *obj, uint64_t index,
                                struct radix_node **fresh, unsigned *need)
{
        vm_status_t st = tree_cover(obj, index);

        *need = 0;
        if (st != VM_OK)
                return st;
        *need = missing_nodes(obj, index);
        for (unsigned i = 0; i < *need; i++) {
                fresh[i] = kzalloc(sizeof(struct radix_node));
                if (!fresh[i]) {
                        while (i > 0)
                                kfree(fresh[--i]);
                        *need = 0;
                        return VM_ENOMEM;
                }
        }
        return VM_OK;
}

/* Link pg at the free index, making the missing nodes first, and record
 * obj as one of its owners (vm_rmap.h): all or nothing, so that no empty
 * node is ever linked. */
static vm_status_t radix_insert(struct vm_object *obj, uint64_t index,
                                struct vm_page *pg)
{
        struct radix_node *fresh[RADIX_MAX_H] = { 0 };
        unsigned need, used = 0;
        /* Mapped shared: lock-free first writes insert too ([o]). The
         * count of missing nodes can only be too high: they add nodes,
         * never take one away. */
        bool locked = obj->mappers != NULL;
        vm_status_t st = path_prepare(obj, index, fresh, &need);

        if (st != VM_OK)
                return st;
        if (locked)
                spin_lock(&obj->lock);
        if (locked && radix_peek(obj, index))
                st = VM_EEXIST;         /* a lock-free fault was first */
        else if (rmap_owner_add(pg, obj, index) != VM_OK)
                st = VM_ENOMEM;
        if (st == VM_OK) {
                used = radix_link(obj, index, pg, fresh);
                obj->npages++;
                if (obj->quota)
                        obj->quota->used++;
        }
        if (locked)
                spin_unlock(&obj->lock);
        while (need > used)
                kfree(fresh[--need]);
        return st;
}

/* A frame for a new page of obj, not yet filled nor linked (page_link
 * does that). A page reclaim dropped clean is still charged: reading one
 * again takes that charge back (*credit; not necessarily this index's:
 * the count is per object). */
static vm_status_t page_take(struct vm_object *obj, bool *credit,
                             struct vm_page **out)
{
        *credit = obj->quota && obj->evicted > 0;
        if (!*credit && !vm_quota_room(obj->quota, 1))
                return VM_ENOSPC;
        /* Reached only through the page-content operations: any zone
         * (HIGHMEM on i386). */
        if (!(*out = pmm_alloc_pages(0, PMM_HIGHMEM)))
                return VM_ENOMEM;
        return VM_OK;
}

/* Link page_take's filled frame pg into obj at index (=> VM_EEXIST: a
 * lock-free fault's page is there; pg given back). */
static vm_status_t page_link(struct vm_object *obj, uint64_t index,
                             struct vm_page *pg, bool credit,
                             struct vm_page **out)
{
        vm_status_t st = radix_insert(obj, index, pg);

        if (st != VM_OK) {              /* VM_EEXIST: a lock-free fault's */
                pmm_free_pages(pg, 0);
                return st;
        }
        if (credit) {                   /* radix_insert charged it again */
                obj->evicted--;
                obj->quota->used--;
        }
        vmstat_add(object_counter(obj), 1);
        *out = pg;
        return VM_OK;
}

/*
 * A new frame at the free index, filled with a copy of the frame `from`,
 * or with len bytes of src (may be 0) and then zeroes if from is NULL.
 */
static vm_status_t page_new(struct vm_object *obj, uint64_t index,
                            const struct vm_page *from, const void *src,
                            size_t len, struct vm_page **out)
{
        struct vm_page *pg;
        paddr_t pa;
        bool credit;
        vm_status_t st = page_take(obj, &credit, &pg);

        if (st != VM_OK)
                return st;
        pa = pmm_page_to_pa(pg);
        if (from) {
                pmap_copy_page(pmm_page_to_pa(from), pa);
        } else if (len) {
                uint8_t *p = pmap_quick_enter_page(pa);

                memcpy(p, src, len);
                memset(p + len, 0, PAGE_SIZE - len);
                pmap_quick_remove_page(p);
        } else {
                pmap_zero_page(pa);
        }
        return page_link(obj, index, pg, credit, out);
}

/* Page `index` of a file object: its bytes, the tail past the end zeroed. */
static vm_status_t file_page_fill(struct vm_object *obj, uint64_t index,
                                  struct vm_page **out)
{
        uint64_t off = index << PAGE_SHIFT;

        if (obj->writable && obj->pager_ops) {  /* a disk file system's */
                /* Read, then linked: a lock-free fault of another space
                 * (vm_fault.c, nolock_file) maps any page it finds in
                 * the object, so none may be there before its bytes. */
                struct vm_page *pg;
                bool credit;
                vm_status_t st = page_take(obj, &credit, &pg);

                if (st != VM_OK)
                        return st;
                pmap_zero_page(pmm_page_to_pa(pg));     /* holes, the tail */
                void *kva = pmap_quick_enter_page(pmm_page_to_pa(pg));
                long err = obj->pager_ops->fill(obj, index, kva);
                pmap_quick_remove_page(kva);
                if (err) {
                        /* An unreadable disk: the caller sees no room (a
                         * fault: SIGBUS, as Linux's for an I/O error). */
                        pmm_free_pages(pg, 0);
                        return err == -ENOMEM ? VM_ENOMEM : VM_ENOSPC;
                }
                return page_link(obj, index, pg, credit, out);
        }
        if (obj->writable)              /* the source may be shorter */
                return page_new(obj, index, NULL,
                                off < obj->src_bytes ? obj->data + off : NULL,
                                off < obj->src_bytes
                                ? MIN(PAGE_SIZE, obj->src_bytes - off) : 0, out);

        return page_new(obj, index, NULL, obj->data + off,
                        MIN(PAGE_SIZE, obj->bytes - off), out);
}

vm_status_t vm_object_get_page(struct vm_object *obj, uint64_t index,
                               struct vm_page **out)
{
        struct vm_page *pg;
        vm_status_t st;

        if (index >= obj->size)
                return VM_ENOENT;
        pg = vm_object_lookup(obj, index);
        if (pg) {
                *out = pg;
                return VM_OK;
        }
        if (vm_object_swap_entry(obj, index))
                return vm_swap_in(obj, index, out, NULL);
        if (obj->type == VM_OBJECT_FILE)
                st = file_page_fill(obj, index, out);
        else
                st = page_new(obj, index, NULL, NULL, 0, out);
        if (st == VM_EEXIST) {
                /* A lock-free first write of shared memory put a page
                 * there meanwhile ([o]); it stays: only code with every
                 * door shut takes one out. */
                *out = vm_object_lookup(obj, index);
                st = VM_OK;
        }
        return st;
}

vm_status_t vm_object_page_alloc_copy(struct vm_object *obj, uint64_t index,
                                      const struct vm_page *src,
                                      struct vm_page **out)
{
        if (index >= obj->size || obj->type != VM_OBJECT_ANON)
                return VM_EINVAL;
        if (radix_peek(obj, index))
                return VM_EEXIST;
        return page_new(obj, index, src, NULL, 0, out);
}

vm_status_t vm_object_nodes_get(struct vm_object_nodes *sp, unsigned n)
{
        while (sp->n < n && sp->n < VM_OBJECT_NODES_MAX)
                if (!(sp->node[sp->n++] = kzalloc(sizeof(struct radix_node)))) {
                        sp->n--;
                        return VM_ENOMEM;
                }
        return sp->n >= n ? VM_OK : VM_ENOMEM;
}

void vm_object_nodes_put(struct vm_object_nodes *sp)
{
        while (sp->n > 0)
                kfree(sp->node[--sp->n]);
}

/* Record pg as obj's page at index and publish it in the level-1 slot
 * (whose node is linked): a compare-and-swap, against another lock-free
 * fault at the same index. => VM_OK, or VM_EEXIST with pg as it was. */
static vm_status_t nolock_publish(struct vm_object *obj, void **slot,
                                  uint64_t index, struct vm_page *pg)
{
        void *none = NULL;

        /* A reader beside us (the big lock's) sees the page only once it
         * is recorded. */
        rmap_owner_add_first(pg, obj, index);   /* its lists: the caller's */
        if (!__atomic_compare_exchange_n(slot, &none, pg, false,
                                         __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
                rmap_owner_forget_first(pg);
                return VM_EEXIST;
        }
        vmstat_add(&obj->npages, 1);
        vmstat_add(object_counter(obj), 1);
        return VM_OK;
}

/* The level-1 node on index's path for a reader without the big lock
 * (acquire loads: a node is linked only once zeroed), or NULL with
 * *missing set to the levels the path lacks. */
static struct radix_node *nolock_leaf(const struct vm_object *obj,
                                      uint64_t index, unsigned *missing)
{
        struct radix_node *n = __atomic_load_n(&obj->root, __ATOMIC_ACQUIRE);
        unsigned level = obj->height;

        /* height and prefix change only with the doors shut: no lock-free
         * reader is inside then. Beyond the tree nothing is there. */
        if (!covers(obj, index)) {
                *missing = 0;
                return NULL;
        }
        while (n && level > 1)
                n = __atomic_load_n(&n->slot[digit(index, level--)],
                                    __ATOMIC_ACQUIRE);
        *missing = n ? 0 : level;
        return n;
}

void vm_object_nolock_lookup_run(const struct vm_object *obj, uint64_t first,
                                 unsigned n, struct vm_page **out)
{
        struct radix_node *node = NULL;
        unsigned missing;

        for (unsigned i = 0; i < n; i++) {
                uint64_t index = first + i;
                void *v = NULL;

                if (index >= obj->size) {
                        out[i] = NULL;
                        continue;
                }
                if (i == 0 || digit(index, 1) == 0)     /* a new node */
                        node = nolock_leaf(obj, index, &missing);
                if (node)
                        v = __atomic_load_n(&node->slot[digit(index, 1)],
                                            __ATOMIC_ACQUIRE);
                out[i] = slot_is_entry(v) ? NULL : v;
        }
}

bool vm_object_nolock_empty(const struct vm_object *obj, uint64_t index)
{
        struct radix_node *node;
        unsigned missing;

        if (index >= obj->size)
                return false;
        node = nolock_leaf(obj, index, &missing);
        return !node || !__atomic_load_n(&node->slot[digit(index, 1)],
                                         __ATOMIC_ACQUIRE);
}

vm_status_t vm_object_nolock_add(struct vm_object *obj, uint64_t index,
                                 struct vm_page *pg,
                                 struct vm_object_nodes *sp)
{
        void **slot = (void **)&obj->root;
        struct radix_node *n;
        unsigned missing;

        ASSERT(!obj->quota && !obj->hugetlb && !obj->pager_ops &&
               index < obj->size);
        if (!covers(obj, index))
                return VM_ENOSPC;       /* raising it is the big lock's */
        n = nolock_leaf(obj, index, &missing);
        if (n)          /* the path is whole: no lock needed */
                return nolock_publish(obj, &n->slot[digit(index, 1)], index,
                                      pg);
        if (!sp)
                return VM_ENOENT;
        /* All or nothing, as radix_insert: count the path's missing
         * nodes first, so that no empty node is ever linked. Under the
         * fault lock, nobody else links one. */
        if (missing > sp->n) {
                sp->want = missing;
                return VM_ENOMEM;
        }
        /* Each node is zeroed before it is linked (release), as the
         * page is recorded before it is. */
        for (unsigned l = obj->height; l > 1; l--) {
                if (!*slot)
                        __atomic_store_n(slot, sp->node[--sp->n],
                                         __ATOMIC_RELEASE);
                slot = &((struct radix_node *)*slot)->slot[digit(index, l)];
        }
        if (!*slot)
                __atomic_store_n(slot, sp->node[--sp->n], __ATOMIC_RELEASE);
        return nolock_publish(obj, &((struct radix_node *)*slot)->
                              slot[digit(index, 1)], index, pg);
}

vm_status_t vm_object_nolock_replace(struct vm_object *obj, uint64_t index,
                                     struct vm_page *old, struct vm_page *pg)
{
        unsigned missing;
        struct radix_node *n = nolock_leaf(obj, index, &missing);
        void *expect = old;

        ASSERT(obj->type == VM_OBJECT_ANON && obj->space && !obj->quota &&
               !obj->hugetlb);
        if (!n)
                return VM_ENOENT;
        rmap_owner_add_first(pg, obj, index);   /* recorded, then seen */
        if (!__atomic_compare_exchange_n(&n->slot[digit(index, 1)], &expect,
                                         pg, false, __ATOMIC_RELEASE,
                                         __ATOMIC_RELAXED)) {
                rmap_owner_forget_first(pg);
                return VM_EEXIST;
        }
        vmstat_add(object_counter(obj), 1);     /* old counts until freed */
        return VM_OK;
}

/* ---- deferred puts (vm_object.h) ---------------------------------------- */

static struct {
        struct vm_object *obj;
        uint64_t          index;
        struct vm_page   *pg;
} puts[VM_OBJECT_PUTS_MAX];                     /* [p] */
static unsigned puts_n;                         /* [p], read [a] */
static unsigned puts_room;                      /* [a] reserved */
static struct spinlock puts_lock = SPINLOCK_INIT("vm-object puts",
                                                 LOCK_RANK_OBJECT_PUTS);

bool vm_object_put_reserve(void)
{
        if (__atomic_add_fetch(&puts_room, 1, __ATOMIC_RELAXED) <=
            VM_OBJECT_PUTS_MAX)
                return true;
        vm_object_put_unreserve();
        return false;
}

void vm_object_put_unreserve(void)
{
        __atomic_sub_fetch(&puts_room, 1, __ATOMIC_RELEASE);
}

void vm_object_put_later(struct vm_object *obj, uint64_t index,
                         struct vm_page *pg)
{
        spin_lock(&puts_lock);
        ASSERT(puts_n < VM_OBJECT_PUTS_MAX);    /* reserved */
        puts[puts_n].obj = obj;
        puts[puts_n].index = index;
        puts[puts_n].pg = pg;
        __atomic_store_n(&puts_n, puts_n + 1, __ATOMIC_RELEASE);
        spin_unlock(&puts_lock);
}

void vm_object_puts_run(void)
{
        while (__atomic_load_n(&puts_n, __ATOMIC_ACQUIRE)) {
                struct vm_object *obj;
                struct vm_page *pg;
                uint64_t index;

                spin_lock(&puts_lock);
                if (!puts_n) {
                        spin_unlock(&puts_lock);
                        break;
                }
                puts_n--;
                obj = puts[puts_n].obj;
                index = puts[puts_n].index;
                pg = puts[puts_n].pg;
                spin_unlock(&puts_lock);
                page_release(obj, index, pg, NULL);
                vm_object_put_unreserve();
        }
}

unsigned vm_object_puts_of(const struct vm_page *pg)
{
        unsigned n = 0;

        spin_lock(&puts_lock);
        for (unsigned i = 0; i < puts_n; i++)
                n += puts[i].pg == pg;
        spin_unlock(&puts_lock);
        return n;
}

vm_status_t vm_object_page_alloc(struct vm_object *obj, uint64_t index,
                                 struct vm_page **out)
{
        return vm_object_page_alloc_copy(obj, index, NULL, out);
}

static void radix_detach_range(struct vm_object *obj, uint64_t first,
                               uint64_t end);

bool vm_object_range_empty(const struct vm_object *obj, uint64_t first,
                           uint64_t end)
{
        if (!obj->npages && !obj->nswapped)
                return true;
        for (uint64_t i = first; i < end && i < obj->size; i++)
                if (radix_peek(obj, i))
                        return false;
        return true;
}

vm_status_t vm_object_insert_pages(struct vm_object *obj, uint64_t first,
                                   struct vm_page *pages, uint64_t n)
{
        uint64_t i;

        bool cache = obj->type == VM_OBJECT_FILE && obj->writable &&
                     !obj->pager_ops;   /* tmpfs, memfd: shared memory */

        if ((obj->type != VM_OBJECT_ANON && !cache) ||
            (obj->type == VM_OBJECT_ANON && obj->writable) ||
            first >= obj->size || n > obj->size - first ||
            !vm_object_range_empty(obj, first, first + n))
                return VM_EINVAL;
        if (!vm_quota_room(obj->quota, n))
                return VM_ENOSPC;
        for (i = 0; i < n; i++)
                if (radix_insert(obj, first + i, &pages[i]) != VM_OK)
                        break;
        if (i < n) {                    /* take back what went in */
                radix_detach_range(obj, first, first + i);
                return VM_ENOMEM;
        }
        vmstat_add(object_counter(obj), (int64_t)n);
        return VM_OK;
}

void vm_page_shmem_huge_break(struct vm_page *pg)
{
        uint64_t n = pmap_huge_size() >> PAGE_SHIFT;
        struct vm_page *head =
                pmm_pa_to_page(pmm_page_to_pa(pg) & ~(paddr_t)(pmap_huge_size() - 1));

        ASSERT(head && (head->flags & PG_SHMEM_HUGE));
        for (uint64_t i = 0; i < n; i++) {
                ASSERT(head[i].flags & PG_SHMEM_HUGE);
                head[i].flags &= ~PG_SHMEM_HUGE;
        }
        vmstat.shmem_thp--;
}

vm_status_t vm_object_page_unshare(struct vm_object *obj, uint64_t index,
                                   struct vm_page **out)
{
        void **slot = radix_slot(obj, index);
        struct vm_page *old = slot ? *slot : NULL, *pg;

        ASSERT(obj->type == VM_OBJECT_ANON && old && old->refcount > 1);
        pg = pmm_alloc_pages(0, PMM_HIGHMEM);
        if (!pg)
                return VM_ENOMEM;
        pmap_copy_page(pmm_page_to_pa(old), pmm_page_to_pa(pg));
        *slot = pg;
        rmap_owner_del(old, obj, index);
        (void)rmap_owner_add(pg, obj, index);   /* its first: cannot fail */
        old->refcount--;
        vmstat_add(&vmstat.anon_pages, 1);  /* lock-free faults add too */
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
        struct release_batch *batch;    /* leaf_free's, or NULL */
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
                                if (*slot == w->obj->leaf)
                                        w->obj->leaf = NULL;
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
        done = radix_walk_node(w, obj->root, obj->height, tree_base(obj));
        if (w->prune && node_empty(obj->root)) {
                if (obj->root == obj->leaf)
                        obj->leaf = NULL;
                kfree(obj->root);
                obj->root = NULL;
        }
        return done;
}

/* fn sees entries too (as odd pointers). */
static bool leaf_call_raw(struct radix_walk *w, void **slot, uint64_t index)
{
        return w->fn(w->arg, index, *slot);
}

/* Take pages out of their slots without releasing them (the caller
 * still owns them): vm_object_insert_pages()'s way back. */
static bool leaf_detach(struct radix_walk *w, void **slot, uint64_t index)
{
        rmap_owner_del(*slot, w->obj, index);
        *slot = NULL;
        w->obj->npages--;
        if (w->obj->quota)
                w->obj->quota->used--;
        return true;
}

static void radix_detach_range(struct vm_object *obj, uint64_t first,
                               uint64_t end)
{
        struct radix_walk w = { .first = first, .end = end,
                                .leaf = leaf_detach, .prune = true };
        bool shut = doors_shut_for(obj, first, end, false);

        radix_walk_run(&w, obj);
        doors_open(shut);
}

static bool leaf_free(struct radix_walk *w, void **slot, uint64_t index)
{
        if (slot_is_entry(*slot)) {
                swp_entry_t e = slot_to_entry(*slot);

                *slot = NULL;
                nswapped_dec(w->obj);
                if (w->obj->quota)
                        w->obj->quota->used--;
                vm_swap_entry_release(e);
                return true;
        }
        page_release(w->obj, index, *slot, w->batch);
        *slot = NULL;
        w->obj->npages--;
        if (w->obj->quota)
                w->obj->quota->used--;
        w->count++;
        return true;
}

uint64_t vm_object_free_range(struct vm_object *obj, uint64_t first,
                              uint64_t end)
{
        struct release_batch batch;     /* its slots: no zeroing */
        struct radix_walk w = { .first = first, .end = MIN(end, obj->size),
                                .leaf = leaf_free, .prune = true,
                                .batch = &batch };
        bool shut = doors_shut_for(obj, first, w.end, false);

        batch.n = 0;
        radix_walk_run(&w, obj);
        release_flush(&batch);
        doors_open(shut);
        return w.count;
}

/* vm_object_share_range()'s walk: where the pages go. */
struct share_ctx {
        struct vm_object  *dst;
        uint64_t           shift;       /* dst index = src index + shift */
        vm_status_t        st;
        struct radix_node *leaf;        /* dst's last bottom node used */
        uint64_t           leaf_base;   /* its first index */
};

/* A swap entry of src goes to dst too: one more user of its slot. */
static bool share_entry(struct share_ctx *sc, uint64_t index, void *v)
{
        struct vm_object *dst = sc->dst;
        uint64_t to = index + sc->shift;
        struct radix_node *fresh[RADIX_MAX_H] = { 0 };
        unsigned need;

        if ((sc->st = path_prepare(dst, to, fresh, &need)) != VM_OK)
                return false;
        if (!swap_entry_dup(slot_to_entry(v))) {
                while (need > 0)
                        kfree(fresh[--need]);
                sc->st = VM_ENOMEM;
                return false;
        }
        radix_link(dst, to, (struct vm_page *)v, fresh);
        nswapped_inc(dst);
        sc->leaf = NULL;
        return true;
}

static bool share_one(void *arg, uint64_t index, struct vm_page *pg)
{
        struct share_ctx *sc = arg;
        struct vm_object *dst = sc->dst;
        uint64_t to = index + sc->shift;
        uint64_t base = to & ~(uint64_t)(RADIX_SLOTS - 1);

        if (slot_is_entry(pg))
                return share_entry(sc, index, pg);

        if (sc->leaf && base == sc->leaf_base) {
                /* The bottom node the last page went to (fork's usual
                 * case: consecutive pages): no walk from the root. */
                void **slot = &sc->leaf->slot[to - base];

                ASSERT(!*slot);
                sc->st = rmap_owner_add(pg, dst, to);
                if (sc->st != VM_OK)
                        return false;
                *slot = pg;
                dst->npages++;
                if (dst->quota)
                        dst->quota->used++;
        } else {
                sc->st = radix_insert(dst, to, pg);
                if (sc->st != VM_OK)
                        return false;
                sc->leaf = (struct radix_node *)(radix_slot(dst, to) -
                                                 (to - base));
                sc->leaf_base = base;
        }
        pg->refcount++;
        return true;
}

vm_status_t vm_object_share_range(struct vm_object *src, uint64_t first,
                                  uint64_t end, struct vm_object *dst,
                                  uint64_t dst_first)
{
        struct share_ctx sc = { .dst = dst, .shift = dst_first - first,
                                .st = VM_OK };

        struct radix_walk w = { .first = first, .end = MIN(end, src->size),
                                .leaf = leaf_call_raw, .fn = share_one,
                                .arg = &sc };

        ASSERT(dst->type == VM_OBJECT_ANON && src->type == VM_OBJECT_ANON);
        radix_walk_run(&w, src);
        return sc.st;
}

/* ---- swap entries (vm_swap.c) ---------------------------------------------- */

void vm_object_page_to_swap(struct vm_object *obj, uint64_t index,
                            struct vm_page *pg, swp_entry_t e)
{
        void **slot = radix_slot(obj, index);

        ASSERT(slot && *slot == pg &&
               (obj->space || vm_object_swap_shared(obj)));
        *slot = entry_to_slot(e);
        obj->npages--;                  /* a quota keeps its charge */
        nswapped_inc(obj);
        page_release(obj, index, pg, NULL);
}

vm_status_t vm_object_swap_to_page(struct vm_object *obj, uint64_t index,
                                   struct vm_page *pg, bool fresh)
{
        void **slot = radix_slot(obj, index);

        ASSERT(slot && slot_is_entry(*slot));
        if (rmap_owner_add(pg, obj, index) != VM_OK)
                return VM_ENOMEM;
        if (fresh)
                vmstat_add(object_counter(obj), 1);
        else
                pg->refcount++;
        if (obj->mappers)               /* npages: lock-free writes' too */
                spin_lock(&obj->lock);
        __atomic_store_n(slot, pg, __ATOMIC_RELEASE);   /* read, then seen */
        obj->npages++;
        if (obj->mappers)
                spin_unlock(&obj->lock);
        nswapped_dec(obj);
        if (obj->writable)
                pg->flags |= PG_DIRTY;  /* not its source's bytes */
        return VM_OK;
}

vm_status_t vm_object_insert_cached(struct vm_object *obj, uint64_t index,
                                    struct vm_page *pg)
{
        vm_status_t st;

        ASSERT(!radix_peek(obj, index));
        st = radix_insert(obj, index, pg);
        if (st == VM_OK)
                pg->refcount++;
        return st;
}

/* vm_object_for_each_entry()'s walk. */
struct entry_ctx {
        bool (*fn)(void *arg, uint64_t index, swp_entry_t e);
        void *arg;
};

static bool entry_one(void *arg, uint64_t index, struct vm_page *v)
{
        struct entry_ctx *c = arg;

        return !slot_is_entry(v) || c->fn(c->arg, index, slot_to_entry(v));
}

bool vm_object_for_each_entry(struct vm_object *obj, uint64_t first,
                              uint64_t end,
                              bool (*fn)(void *arg, uint64_t index,
                                         swp_entry_t e),
                              void *arg)
{
        struct entry_ctx c = { .fn = fn, .arg = arg };
        struct radix_walk w = { .first = first, .end = MIN(end, obj->size),
                                .leaf = leaf_call_raw, .fn = entry_one,
                                .arg = &c };

        if (!obj->nswapped)
                return true;
        return radix_walk_run(&w, obj);
}

static bool leaf_call(struct radix_walk *w, void **slot, uint64_t index)
{
        return slot_is_entry(*slot) || w->fn(w->arg, index, *slot);
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
        pr_err("vm_object_check: object %p: %s (index %#" PRIx64 ")\n",
               (const void *)obj, why, index);
        return false;
}

/* A file page: the file's bytes, zeroes past the end, held by obj alone. */
static bool check_file_page(const struct vm_object *obj, uint64_t index,
                            const struct vm_page *pg)
{
        uint64_t off = index << PAGE_SHIFT;
        size_t len = MIN(PAGE_SIZE, obj->bytes - off);
        const char *why = NULL;
        uint8_t *p;

        if (pg->refcount != 1)
                return object_fail(obj, "file page shared", index);
        p = pmap_quick_enter_page(pmm_page_to_pa(pg));
        if (memcmp(p, obj->data + off, len) != 0)
                why = "file page differs from the file";
        for (size_t i = len; i < PAGE_SIZE && !why; i++)
                if (p[i])
                        why = "file page tail not zero";
        pmap_quick_remove_page(p);
        return why ? object_fail(obj, why, index) : true;
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
                if (slot_is_entry(n->slot[i])) {
                        swp_entry_t e = slot_to_entry(n->slot[i]);
                        if (!(obj->space || vm_object_swap_shared(obj)) ||
                            !vm_swap_entry_valid(e))
                                return object_fail(obj, "bad swap entry", index), -1;
                        pages += (int64_t)1 << 32;
                        continue;
                }
                if ((pg->flags & (PG_FREE | PG_RESERVED)) || pg->refcount == 0)
                        return object_fail(obj, "page not allocated", index), -1;
                if (obj->writable && pg->refcount != 1)
                        return object_fail(obj, "cache page shared", index), -1;
                if (!rmap_has_owner(pg, obj, index))
                        return object_fail(obj, "page does not list it as "
                                           "owner", index), -1;
                if (obj->type == VM_OBJECT_FILE && !obj->writable &&
                    !check_file_page(obj, index, pg))
                        return -1;
                pages++;
        }
        return pages;
}

/* Invariant 5 apart from the pages: registered, sized by its bytes. */
static bool check_file(const struct vm_object *obj)
{
        if (!obj->writable && file_find(obj->data, obj->bytes) != obj)
                return object_fail(obj, "file object not registered", 0);
        if (obj->size != page_round(obj->bytes) >> PAGE_SHIFT)
                return object_fail(obj, "file size differs from its bytes",
                                   obj->size);
        return true;
}

bool vm_object_check(const struct vm_object *obj)
{
        bool file = obj->type == VM_OBJECT_FILE;
        int64_t pages = 0;

        if (obj->refcount == 0)
                return object_fail(obj, "refcount 0", 0);
        if (obj->type != VM_OBJECT_ANON && !file)
                return object_fail(obj, "unknown type", obj->type);
        /* A file's tree covers [0, size) from the start (a cache's may
         * stay taller after a shrink); an anonymous one may start lower
         * (vm_object_cover), never beyond its size. */
        if ((file ? (obj->writable ? obj->height < height_for(obj->size)
                                   : obj->height != height_for(obj->size)) ||
                    obj->prefix
                  : obj->height > height_for(obj->size) ||
                    tree_base(obj) >= obj->size) ||
            obj->height == 0 ||
            (obj->size == 0 && !file) || obj->size > VM_OBJECT_MAX_PAGES)
                return object_fail(obj, "bad size or height", obj->size);
        if (file && !check_file(obj))
                return false;
        if (obj->root && (pages = check_node(obj, obj->root, obj->height,
                                             tree_base(obj))) < 0)
                return false;
        if (obj->leaf) {                /* the hint is the tree's own node */
                uint64_t index = obj->leaf_key << RADIX_SHIFT;
                const struct radix_node *n = covers(obj, index) ? obj->root
                                                                : NULL;

                for (unsigned level = obj->height; n && level > 1; level--)
                        n = n->slot[digit(index, level)];
                if (n != obj->leaf)
                        return object_fail(obj, "stale radix leaf hint", index);
        }
        if ((uint64_t)(pages & 0xffffffff) != obj->npages)
                return object_fail(obj, "npages differs from the tree", 0);
        if ((uint64_t)pages >> 32 != obj->nswapped)
                return object_fail(obj, "nswapped differs from the tree", 0);
        if (vm_object_swap_shared(obj)) {
                const struct vm_object *o = swapped_shared;

                while (o && o != obj)
                        o = o->swap_next;
                if ((o != NULL) != (obj->nswapped > 0))
                        return object_fail(obj, obj->nswapped
                                           ? "swapped, not on the list"
                                           : "on the swapped list, none "
                                             "swapped", 0);
        }
        if (obj->npages > *object_counter(obj))
                return object_fail(obj, "more pages than vmstat counts", 0);
        return true;
}

/* ---- the zero page --------------------------------------------------------- */

void vm_object_init(void)
{
        zero_pa = 0;
        huge_zero_pa = 0;
        file_objects = NULL;
        next_object_id = 0;
        swapped_shared = NULL;
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

vm_status_t vm_huge_zero_init(void)
{
        uint64_t n = pmap_huge_size() >> PAGE_SHIFT;
        unsigned order = 0;
        struct vm_page *pg;

        if (huge_zero_pa)
                return VM_OK;
        while ((1ULL << order) < n)
                order++;
        if (order > PMM_MAX_ORDER ||
            !(pg = pmm_alloc_pages(order, PMM_ZERO | PMM_HIGHMEM)))
                return VM_ENOMEM;
        huge_zero_pa = pmm_page_to_pa(pg);
        return VM_OK;
}

paddr_t vm_huge_zero_pa(void)
{
        return huge_zero_pa;
}

bool vm_is_zero_pa(paddr_t pa)
{
        return pa == zero_pa ||
               (huge_zero_pa && pa - huge_zero_pa < pmap_huge_size());
}

/* Is the frame at pa all zeroes? => the offset of a nonzero word, or -1. */
static long frame_nonzero_at(paddr_t pa)
{
        uint64_t *w = pmap_quick_enter_page(pa);
        size_t i = 0;

        while (i < PAGE_SIZE / sizeof *w && !w[i])
                i++;
        pmap_quick_remove_page(w);
        return i < PAGE_SIZE / sizeof *w ? (long)(i * sizeof *w) : -1;
}

paddr_t vm_zero_page_pa(void)
{
        ASSERT(zero_pa != 0);
        return zero_pa;
}

bool vm_zero_page_check(void)
{
        long at;

        if (!zero_pa) {
                pr_err("vm_zero_page_check: no zero page\n");
                return false;
        }
        if ((at = frame_nonzero_at(zero_pa)) >= 0) {
                pr_err("vm_zero_page_check: written at +%#lx\n",
                       (unsigned long)at);
                return false;
        }
        for (uint64_t off = 0; huge_zero_pa && off < pmap_huge_size();
             off += PAGE_SIZE)
                if ((at = frame_nonzero_at(huge_zero_pa + off)) >= 0) {
                        pr_err("vm_zero_page_check: huge zero page written "
                               "at +%#lx\n", (unsigned long)(off + (uint64_t)at));
                        return false;
                }
        return true;
}
