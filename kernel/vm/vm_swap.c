/*
 * vm_swap.c - anonymous pages to swap and back, the swap cache, swapoff's
 * read-back (see vm_swap.h).
 *
 * Owns: the swap cache object and its pages. Changes objects only through
 * vm_object.h's entry calls, translations only through rmap_unmap().
 */
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/memcg.h>
#include <vm/pmm.h>
#include <vm/vm_area.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>
#include <vm/vm_swap.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>

#define READ_AROUND     8       /* pages, aligned (Linux's page-cluster 3) */
_Static_assert(READ_AROUND <= SWAP_READ_MAX, "read-around is one batch");
#define MAX_OWNERS      64      /* a page shared more widely stays */

static struct vm_object *swap_cache;    /* indexed by entry; NULL: none yet */
static bool unusing;                    /* vm_swap_unuse() runs: keep no slot */

uint64_t vm_swap_cached_pages(void)
{
        return swap_cache ? swap_cache->npages : 0;
}

bool vm_swap_entry_cached(swp_entry_t e)
{
        return swap_cache && vm_object_lookup(swap_cache, e);
}

bool vm_swap_entry_valid(swp_entry_t e)
{
        struct swap_dev *sd = swap_dev_get(SWP_AREA(e));
        unsigned n;

        if (!sd || SWP_SLOT(e) == 0 || SWP_SLOT(e) >= sd->area.pages)
                return false;
        n = swap_slot_count(&sd->area, SWP_SLOT(e));
        return n != 0 && n != SWAP_MAP_BAD;
}

static unsigned entry_users(swp_entry_t e)
{
        return swap_slot_count(&swap_dev_get(SWP_AREA(e))->area, SWP_SLOT(e));
}

/* The cache lets go of e's page and of its user of e; an empty cache
 * object goes (made again when needed), so nothing stays behind. */
static void cache_drop(swp_entry_t e)
{
        struct vm_page *pg = vm_object_lookup(swap_cache, e);

        if (pg)
                pg->flags &= ~PG_SWAPCACHE;
        vm_object_free_range(swap_cache, e, e + 1);
        swap_entry_free(e);
        if (swap_cache->npages == 0) {
                vm_object_unref(swap_cache);
                swap_cache = NULL;
        }
}

/* Keep pg, just read from e, for e's other holders. Best effort: without
 * memory for it they read the slot again. */
static void cache_add(swp_entry_t e, struct vm_page *pg)
{
        if (!swap_cache) {
                if (vm_object_create_anon(VM_OBJECT_MAX_PAGES, &swap_cache) !=
                    VM_OK)
                        return;
                /* Eight levels span every entry; start with one. */
                vm_object_cover(swap_cache, e, e + 1);
        }
        if (!swap_entry_dup(e))
                return;
        if (vm_object_insert_cached(swap_cache, e, pg) != VM_OK)
                swap_entry_free(e);
        else
                pg->flags |= PG_SWAPCACHE;
}

bool vm_swap_full(void)
{
        uint64_t total, free;

        swap_totals(&total, &free);
        return free * 2 < total;
}

/* May obj, which has just read pg from a slot it alone names, leave the
 * slot to the cache (kept: pg stays equal to it until written)? Private
 * anonymous memory only, while swap is at most half full and no swapoff
 * runs. Shared memory never: its writes need not fault (vm_swap.h). */
static bool keep_slot(const struct vm_object *obj)
{
        return !unusing && obj->type == VM_OBJECT_ANON && !obj->writable &&
               obj->space && !obj->quota && !vm_swap_full();
}

/* The cache's index of pg (which it holds), by the reverse map. */
static bool cache_owner(void *arg, struct vm_object *obj, uint64_t index)
{
        if (obj != swap_cache)
                return true;
        *(swp_entry_t *)arg = index;
        return false;
}

static swp_entry_t cache_entry_of(struct vm_page *pg)
{
        swp_entry_t e = 0;

        rmap_for_each_owner(pg, cache_owner, &e);
        ASSERT(e);
        return e;
}

void vm_swap_unkeep(struct vm_page *pg)
{
        swp_entry_t e;

        if (!(pg->flags & PG_SWAPCACHE) || pg->refcount != 2)
                return;
        e = cache_entry_of(pg);
        if (entry_users(e) == 1)
                cache_drop(e);          /* pg stays with its object */
}

void vm_swap_page_orphaned(struct vm_page *pg)
{
        swp_entry_t e = cache_entry_of(pg);

        if (entry_users(e) == 1)
                cache_drop(e);          /* frees pg and the slot */
}

void vm_swap_entry_release(swp_entry_t e)
{
        swap_entry_free(e);
        if (swap_cache && entry_users(e) == 1 &&
            vm_object_lookup(swap_cache, e))
                cache_drop(e);          /* nobody else will ask for it */
}

/* pg has just been read from e, which obj holds at index: it takes the
 * entry's place (the cache keeps it too while others name e). */
static void swap_in_read(struct vm_object *obj, uint64_t index,
                         swp_entry_t e, struct vm_page *pg)
{
        vm_status_t st = vm_object_swap_to_page(obj, index, pg, true);
        bool keep;

        ASSERT(st == VM_OK);            /* a first owner needs no record */
        (void)st;
        keep = entry_users(e) == 1 && keep_slot(obj);
        if (entry_users(e) > 1 || keep)
                cache_add(e, pg);
        if (keep)
                swap_entry_free(e);     /* the cache's user stays */
        else
                vm_swap_entry_release(e);
}

vm_status_t vm_swap_in(struct vm_object *obj, uint64_t index,
                       struct vm_page **out, bool *major)
{
        swp_entry_t e = vm_object_swap_entry(obj, index);
        struct vm_page *pg = swap_cache ? vm_object_lookup(swap_cache, e)
                                        : NULL;
        vm_status_t st;

        ASSERT(e);
        if (pg) {                       /* a relative read it: share it */
                st = vm_object_swap_to_page(obj, index, pg, false);
                if (st != VM_OK)
                        return st;
                vm_swap_entry_release(e);
                *out = pg;
                return VM_OK;
        }
        if (!(pg = pmm_alloc_pages(0, PMM_HIGHMEM)))
                return VM_ENOMEM;
        if (swap_read_page(e, pmm_page_to_pa(pg)) != 0) {
                pmm_free_pages(pg, 0);
                return VM_EIO;
        }
        if (major)
                *major = true;
        swap_in_read(obj, index, e, pg);
        *out = pg;
        return VM_OK;
}

/*
 * The window's other swapped pages, read all at once: those a relative
 * already read come from the cache; for the rest, frames while free
 * memory is above the low watermark, then one batch of reads in flight
 * together (one disk round trip, as Linux's plugged readahead), each
 * page read put in its place; a failed read leaves its entry (the next
 * fault there tries again).
 */
void vm_swap_read_around(struct vm_object *obj, uint64_t index)
{
        uint64_t base = index & ~(uint64_t)(READ_AROUND - 1), at[READ_AROUND];
        struct vm_page *pg[READ_AROUND], *got;
        swp_entry_t e[READ_AROUND];
        paddr_t pa[READ_AROUND];
        bool ok[READ_AROUND];
        unsigned n = 0;

        for (uint64_t i = base; i < base + READ_AROUND && i < obj->size; i++) {
                swp_entry_t ei = i == index ? 0 : vm_object_swap_entry(obj, i);

                if (!ei)
                        continue;
                if (swap_cache && vm_object_lookup(swap_cache, ei)) {
                        if (vm_swap_in(obj, i, &got, NULL) != VM_OK)
                                break;
                        continue;
                }
                if (pmm_free_below(PMM_WMARK_LOW) ||
                    !(pg[n] = pmm_alloc_pages(0, PMM_HIGHMEM)))
                        break;
                at[n] = i;
                e[n] = ei;
                pa[n] = pmm_page_to_pa(pg[n]);
                n++;
        }
        swap_read_pages(e, pa, n, ok);
        for (unsigned k = 0; k < n; k++) {
                if (ok[k])
                        swap_in_read(obj, at[k], e[k], pg[k]);
                else
                        pmm_free_pages(pg[k], 0);
        }
}

/* ---- eviction ------------------------------------------------------------- */

struct owners_ctx {
        unsigned    n;
        bool        ok;
        bool        shared;             /* a shared object holds it */
        swp_entry_t cached;             /* the cache's index, or 0 */
        struct vm_object *obj;          /* first_object(): the one found */
        uint64_t    index;
};

static bool owner_ok(void *arg, struct vm_object *obj, uint64_t index)
{
        struct owners_ctx *c = arg;

        if (obj == swap_cache) {
                c->cached = index;
                return true;
        }
        c->n++;
        if (vm_object_swap_shared(obj)) {
                /* Shared memory: its object's alone (a page it shares
                 * with anything else stays), and not locked in. */
                c->shared = true;
                c->ok &= !obj->unevictable;
        } else {
                c->ok &= obj->type == VM_OBJECT_ANON && !obj->writable &&
                         obj->space && !obj->quota && c->n <= MAX_OWNERS;
        }
        return c->ok;
}

static bool owners_of(struct vm_page *pg, struct owners_ctx *c)
{
        *c = (struct owners_ctx){ .ok = true };
        rmap_for_each_owner(pg, owner_ok, c);
        if (c->shared && (c->n != 1 || c->cached))
                c->ok = false;
        return c->ok;
}

bool vm_swap_candidate(struct vm_page *pg)
{
        struct owners_ctx c;
        uint64_t total, free;

        if (!(pg->flags & PG_OBJECT) || (pg->flags & PG_PINNED) ||
            !owners_of(pg, &c))
                return false;
        if (c.cached)
                return true;            /* its slot is there already */
        swap_totals(&total, &free);
        return free > 0;
}

static bool first_object(void *arg, struct vm_object *obj, uint64_t index)
{
        struct owners_ctx *c = arg;

        if (obj == swap_cache)
                return true;
        c->obj = obj;
        c->index = index;
        return false;
}

/* Every object owner of pg takes entry e instead. `given`: the caller
 * holds one user of e for them (a fresh write); otherwise (a cached page)
 * each takes a new user and the cache lets go after. */
static void page_to_entry(struct vm_page *pg, swp_entry_t e, bool given)
{
        struct owners_ctx c;
        bool cached = !given;

        for (;;) {
                c.obj = NULL;
                rmap_for_each_owner(pg, first_object, &c);
                if (!c.obj)
                        break;
                if (!given && !swap_entry_dup(e))
                        panic("swap: entry %#" PRIx64 " has too many users", e);
                given = false;
                vm_object_page_to_swap(c.obj, c.index, pg, e);
        }
        ASSERT(!given);                 /* a written page had an owner */
        if (cached)
                cache_drop(e);          /* frees pg */
}

unsigned vm_swap_out(struct vm_page **pg, unsigned n, bool *failed)
{
        paddr_t pa[SWAP_WRITE_MAX];
        swp_entry_t e[SWAP_WRITE_MAX];
        struct vm_page *w[SWAP_WRITE_MAX];
        unsigned nw = 0, freed = 0;
        struct owners_ctx c;

        ASSERT(n <= SWAP_WRITE_MAX);
        for (unsigned i = 0; i < n; i++) {
                if (failed)
                        failed[i] = false;
                owners_of(pg[i], &c);
                if (c.cached) {
                        page_to_entry(pg[i], c.cached, false);
                        freed++;
                } else {
                        pa[nw] = pmm_page_to_pa(pg[i]);
                        w[nw++] = pg[i];
                }
        }
        if (nw == 0)
                return freed;
        if (swap_write_pages(pa, nw, e) != 0) {
                for (unsigned i = 0; i < n && failed; i++)
                        for (unsigned j = 0; j < nw; j++)
                                failed[i] |= pg[i] == w[j];
                return freed;
        }
        for (unsigned j = 0; j < nw; j++) {
                swap_entry_charge(e[j], memcg_page_id(w[j]));
                page_to_entry(w[j], e[j], true);
        }
        return freed + nw;
}

bool vm_swap_out_one(struct vm_page *pg)
{
        bool out;

        if (!vm_swap_candidate(pg))
                return false;
        vm_space_enter_all();           /* its owners' objects change */
        out = rmap_unmap(pg, NULL) == VM_OK && vm_swap_out(&pg, 1, NULL) == 1;
        vm_space_leave_all();
        return out;
}

/* ---- swapoff ------------------------------------------------------------- */

struct unuse_ctx {
        unsigned    area;
        vm_status_t st;
        struct vm_object *obj;
};

static bool unuse_one(void *arg, uint64_t index, swp_entry_t e)
{
        struct unuse_ctx *u = arg;
        struct vm_page *pg;

        if (SWP_AREA(e) != u->area)
                return true;
        u->st = vm_swap_in(u->obj, index, &pg, NULL);
        return u->st == VM_OK;
}

static bool unuse_space(void *arg, struct vm_space *s)
{
        struct unuse_ctx *u = arg;

        for (struct vm_area *a = s->areas.first; a; a = a->next) {
                if (!vm_area_private(a) || !a->object || !a->object->nswapped)
                        continue;
                u->obj = a->object;
                if (!vm_object_for_each_entry(a->object, a->pgoff,
                                              a->pgoff + vm_area_npages(a),
                                              unuse_one, u))
                        return false;
        }
        return true;
}

/* A shared object (mapped or not: the list has them all). */
static bool unuse_shared(void *arg, struct vm_object *obj)
{
        struct unuse_ctx *u = arg;

        u->obj = obj;
        return vm_object_for_each_entry(obj, 0, obj->size, unuse_one, u);
}

/* The cache's kept copies in the area: their objects hold the page, so
 * the slot can go (a batch at a time: a drop may free radix nodes). */
struct kept_ctx {
        unsigned    area, n;
        swp_entry_t e[32];
};

static bool kept_collect(void *arg, uint64_t index, struct vm_page *pg)
{
        struct kept_ctx *k = arg;

        if (SWP_AREA(index) == k->area && entry_users(index) == 1 &&
            pg->refcount > 1)
                k->e[k->n++] = index;
        return k->n < 32;
}

static void drop_kept(unsigned area)
{
        struct kept_ctx k = { .area = area };
        uint64_t from = 0;

        do {
                k.n = 0;
                if (!swap_cache)
                        return;
                vm_object_for_each(swap_cache, from, VM_OBJECT_MAX_PAGES,
                                   kept_collect, &k);
                for (unsigned i = 0; i < k.n; i++) {
                        from = k.e[i] + 1;
                        cache_drop(k.e[i]);
                }
        } while (k.n == 32);
}

static long unuse(unsigned area)
{
        struct unuse_ctx u = { .area = area };

        drop_kept(area);
        for (unsigned tries = 0; tries < 10000; tries++) {
                u.st = VM_OK;
                vm_spaces_for_each(unuse_space, &u);
                if (u.st == VM_OK)
                        vm_object_for_each_swapped_shared(unuse_shared, &u);
                if (u.st == VM_OK)
                        return 0;
                if (u.st != VM_ENOMEM)
                        return -EIO;
                if (vm_reclaim(64) == 0)
                        return -ENOMEM;
        }
        return -ENOMEM;
}

long vm_swap_unuse(unsigned area)
{
        long r;

        vm_space_enter_all();           /* every space's entries change */
        unusing = true;
        r = unuse(area);
        unusing = false;
        vm_space_leave_all();
        return r;
}

/* ---- vm_swap_check ------------------------------------------------------- */

struct scheck {
        uint16_t *held[SWAP_MAX_AREAS]; /* entries found, per slot */
        bool      ok;
        struct vm_object *obj;
        uint64_t  found;
};

static bool count_entry(void *arg, uint64_t index, swp_entry_t e)
{
        struct scheck *c = arg;

        if (!vm_swap_entry_valid(e)) {
                pr_err("vm_swap_check: object %" PRIu64 " index %#" PRIx64
                       ": bad entry %#" PRIx64 "\n", c->obj->id, index, e);
                c->ok = false;
                return false;
        }
        c->held[SWP_AREA(e)][SWP_SLOT(e)]++;
        c->found++;
        return true;
}

/* Each private object's entries lie inside its areas: the sum over the
 * areas using it equals its nswapped (objects appear in several areas
 * of one space only, next to each other or not: counted per object). */
static bool check_space(void *arg, struct vm_space *s)
{
        struct scheck *c = arg;

        for (struct vm_area *a = s->areas.first; a; a = a->next) {
                struct vm_object *o = a->object;
                uint64_t in = 0;

                if (!vm_area_private(a) || !o || !o->nswapped)
                        continue;
                /* The first area of s using o counts all of o's areas. */
                bool first = true;
                for (struct vm_area *b = s->areas.first; b != a; b = b->next)
                        first &= !(vm_area_private(b) && b->object == o);
                if (!first)
                        continue;
                for (struct vm_area *b = a; b; b = b->next) {
                        if (!vm_area_private(b) || b->object != o)
                                continue;
                        c->obj = o;
                        c->found = 0;
                        vm_object_for_each_entry(o, b->pgoff,
                                                 b->pgoff + vm_area_npages(b),
                                                 count_entry, c);
                        in += c->found;
                }
                if (c->ok && in != o->nswapped) {
                        pr_err("vm_swap_check: object %" PRIu64 " holds %"
                               PRIu64 " entries, %" PRIu64 " inside its "
                               "areas\n", o->id, o->nswapped, in);
                        c->ok = false;
                }
        }
        return c->ok;
}

/* A shared object: all of its entries, mapped or not. */
static bool check_shared(void *arg, struct vm_object *obj)
{
        struct scheck *c = arg;

        c->obj = obj;
        c->found = 0;
        vm_object_for_each_entry(obj, 0, obj->size, count_entry, c);
        if (c->ok && c->found != obj->nswapped) {
                pr_err("vm_swap_check: shared object %" PRIu64 " holds %"
                       PRIu64 " entries, counts %" PRIu64 "\n", obj->id,
                       c->found, obj->nswapped);
                c->ok = false;
        }
        return c->ok && vm_object_check(obj);
}

static bool cache_entry(void *arg, uint64_t index, struct vm_page *pg)
{
        struct scheck *c = arg;
        swp_entry_t e = index;

        /* Others name e, or (a kept copy) an object holds the page. */
        if (!vm_swap_entry_valid(e) ||
            (entry_users(e) < 2 && pg->refcount < 2)) {
                pr_err("vm_swap_check: cached entry %#" PRIx64 " with %u "
                       "users\n", e, vm_swap_entry_valid(e) ? entry_users(e) : 0);
                c->ok = false;
                return false;
        }
        c->held[SWP_AREA(e)][SWP_SLOT(e)]++;
        return true;
}

static void *zalloc_big(uint64_t bytes)
{
        void *p;

        if (bytes <= (PAGE_SIZE << PMM_MAX_ORDER) / 2)
                return kzalloc(bytes);
        if ((p = vmalloc(bytes)))
                memset(p, 0, bytes);
        return p;
}

static void free_big(void *p, uint64_t bytes)
{
        if (bytes > (PAGE_SIZE << PMM_MAX_ORDER) / 2)
                vfree(p);
        else
                kfree(p);
}

bool vm_swap_check(void)
{
        struct scheck c = { .ok = true };

        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                struct swap_dev *sd = swap_dev_get(i);

                if (sd && !(c.held[i] = zalloc_big(sd->area.pages * 2ull))) {
                        pr_err("vm_swap_check: no memory\n");
                        c.ok = false;
                }
        }
        if (c.ok)
                vm_spaces_for_each(check_space, &c);
        if (c.ok)
                vm_object_for_each_swapped_shared(check_shared, &c);
        if (c.ok && swap_cache)
                vm_object_for_each(swap_cache, 0, VM_OBJECT_MAX_PAGES,
                                   cache_entry, &c);
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                struct swap_dev *sd = swap_dev_get(i);

                if (!sd || !c.held[i])
                        continue;
                for (uint32_t s = 1; s < sd->area.pages && c.ok; s++) {
                        unsigned n = swap_slot_count(&sd->area, s);

                        if (n != SWAP_MAP_BAD && n != c.held[i][s]) {
                                pr_err("vm_swap_check: area %u slot %u has "
                                       "%u users, %u entries hold it\n", i,
                                       s, n, c.held[i][s]);
                                c.ok = false;
                        }
                }
                free_big(c.held[i], sd->area.pages * 2ull);
        }
        if (c.ok && swap_cache && !vm_object_check(swap_cache))
                c.ok = false;
        return c.ok;
}
