/*
 * memcg.c - the group tree and the memory controller's bookkeeping (see
 * memcg.h): ids, references, charges in the page descriptor's flags,
 * swap charges, events and the limit checks.
 *
 * Owns: every struct memcg and the id table. Does not reclaim or kill:
 * the enforcement (vm_reclaim.c's vm_reclaim_memcg, proc/oom.c's
 * oom_memcg) reads the limits kept here.
 *
 * Invariants (memcg_check): for every live group, pages = own_pages + the
 * pages of its children (zombies included), the same for swap; stat sums
 * to pages (anon + file); the root's pages = every charged page.
 */
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <vm/kmalloc.h>
#include <vm/memcg.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>

struct memcg memcg_root;
struct memcg *(*memcg_current_hook)(void);

/* Every live group (online or zombie) by id; [0] is never used. */
static struct memcg *by_id[MEMCG_ID_MAX + 1];
static uint16_t next_id = 2;            /* where the search for a free id
                                         * starts (ids are reused last) */

static void limits_init(struct memcg *g)
{
        g->max = g->high = g->swap_max = MEMCG_UNLIMITED;
        g->low = g->min = 0;
}

void memcg_init(void)
{
        if (by_id[1])
                return;
        memset(&memcg_root, 0, sizeof memcg_root);
        memcg_root.id = 1;
        memcg_root.online = true;
        memcg_root.refs = 1;            /* never freed */
        limits_init(&memcg_root);
        by_id[1] = &memcg_root;
}

struct memcg *memcg_by_id(uint16_t id)
{
        return id <= MEMCG_ID_MAX ? by_id[id] : NULL;
}

static struct memcg *current_group(void)
{
        struct memcg *g = memcg_current_hook ? memcg_current_hook() : NULL;

        memcg_init();
        return g ? g : &memcg_root;
}

/* A free id, or 0. */
static uint16_t id_alloc(void)
{
        for (unsigned n = 0; n < MEMCG_ID_MAX - 1; n++) {
                uint16_t id = (uint16_t)(2 + (next_id - 2 + n) %
                                         (MEMCG_ID_MAX - 1));

                if (!by_id[id]) {
                        next_id = (uint16_t)(id + 1 > MEMCG_ID_MAX ? 2
                                                                   : id + 1);
                        return id;
                }
        }
        return 0;
}

struct memcg *memcg_child(struct memcg *g, const char *name, size_t len)
{
        for (struct memcg *c = g->children; c; c = c->sibling)
                if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
                        return c;
        return NULL;
}

long memcg_create(struct memcg *parent, const char *name, size_t len,
                  struct memcg **out)
{
        struct memcg *g;
        uint16_t id;

        memcg_init();
        if (len == 0 || len >= sizeof g->name)
                return -ENAMETOOLONG;
        if (memcg_child(parent, name, len))
                return -EEXIST;
        if (!(id = id_alloc()))
                return -ENOSPC;
        if (!(g = kzalloc(sizeof *g)))
                return -ENOMEM;
        memcpy(g->name, name, len);
        g->id = id;
        g->online = true;
        g->refs = 2;                    /* being online, and the caller's */
        limits_init(g);
        g->parent = memcg_get(parent);
        g->sibling = parent->children;
        parent->children = g;
        parent->nr_children++;
        by_id[id] = g;
        *out = g;
        return 0;
}

long memcg_remove(struct memcg *g)
{
        struct memcg **link;

        if (!g->parent)
                return -EINVAL;
        if (g->nr_procs || g->nr_children)
                return -EBUSY;
        for (link = &g->parent->children; *link != g; link = &(*link)->sibling)
                ;
        *link = g->sibling;
        g->sibling = NULL;
        g->parent->nr_children--;
        g->online = false;
        memcg_put(g);                   /* the reference of being online */
        return 0;
}

/* Free g if nothing holds it any more. */
static void maybe_free(struct memcg *g)
{
        struct memcg *parent;

        if (g->online || g->refs || g->own_pages || g->own_swap)
                return;
        ASSERT(g->pages == 0 && g->swap == 0 && !g->children);
        parent = g->parent;
        by_id[g->id] = NULL;
        kfree(g);
        memcg_put(parent);
}

void memcg_put(struct memcg *g)
{
        if (!g)
                return;
        ASSERT(g->refs > 0);
        g->refs--;
        maybe_free(g);
}

void memcg_attach(struct memcg *g)
{
        memcg_get(g);
        g->nr_procs++;
}

void memcg_detach(struct memcg *g)
{
        ASSERT(g->nr_procs > 0);
        g->nr_procs--;
        memcg_put(g);
}

bool memcg_is_descendant(const struct memcg *d, const struct memcg *g)
{
        for (; d; d = d->parent)
                if (d == g)
                        return true;
        return false;
}

void memcg_event(struct memcg *g, enum memcg_event ev)
{
        g->events_local[ev]++;
        for (; g; g = g->parent)
                g->events[ev]++;
}

/* ---- pages ------------------------------------------------------------- */

uint16_t memcg_page_id(const struct vm_page *pg)
{
        return (uint16_t)((pg->flags >> MEMCG_ID_SHIFT) & MEMCG_ID_MASK);
}

struct memcg *memcg_of_page(const struct vm_page *pg)
{
        return memcg_by_id(memcg_page_id(pg));
}

bool memcg_page_in(const struct vm_page *pg, const struct memcg *g)
{
        return memcg_is_descendant(memcg_of_page(pg), g);
}

/* Which of memory.stat's kinds a page of obj is; shmem counts in file
 * too, as Linux's. */
static void kind_add(struct memcg *g, const struct vm_object *obj, int64_t n)
{
        if (obj->writable) {
                g->stat[MEMCG_FILE] += (uint64_t)n;
                g->stat[MEMCG_SHMEM] += (uint64_t)n;
        } else if (obj->type == VM_OBJECT_FILE) {
                g->stat[MEMCG_FILE] += (uint64_t)n;
        } else {
                g->stat[MEMCG_ANON] += (uint64_t)n;
        }
}

/* The page counts (pages, own_pages, peak, stat) of every group: the
 * fault path's lock-free part charges the root beside the big lock's
 * holder (vm_space.h, vm_fault_nolock). Never held across anything. */
static struct spinlock count_lock = SPINLOCK_INIT("memcg counts",
                                                  LOCK_RANK_MEMCG);

bool memcg_current_is_root(void)
{
        return current_group() == &memcg_root;
}

/*
 * The root's anonymous charges from lock-free faults, per CPU, not yet in
 * its counts (own_pages, pages, stat[MEMCG_ANON] each gain the sum; peak
 * is taken at the fold). A fault adds to its CPU's word with an atomic
 * add; a fold takes every word with an atomic exchange under count_lock.
 * Why: count_lock is one lock for every CPU; a four-thread fault storm at
 * -smp 4 (four vCPUs on two host cores) waited 22-25 ms for it in 12
 * rounds, a few takes of up to 8 ms each, when a holder's vCPU lost its
 * host core. Linux keeps such counts per CPU too (memcg's per-CPU stock
 * and statistics).
 */
static uint64_t root_pending[LOCK_MAX_CPUS];    /* [a] */

/* => count_lock held. */
static void root_fold_locked(void)
{
        uint64_t n = 0;

        for (unsigned c = 0; c < LOCK_MAX_CPUS; c++)
                if (__atomic_load_n(&root_pending[c], __ATOMIC_RELAXED))
                        n += __atomic_exchange_n(&root_pending[c], 0,
                                                 __ATOMIC_ACQ_REL);
        if (!n)
                return;
        memcg_root.own_pages += n;
        memcg_root.pages += n;
        memcg_root.stat[MEMCG_ANON] += n;
        memcg_root.peak = MAX(memcg_root.peak, memcg_root.pages);
}

void memcg_root_fold(void)
{
        spin_lock(&count_lock);
        root_fold_locked();
        spin_unlock(&count_lock);
}

void memcg_charge_root_nolock(struct vm_page *pg, const struct vm_object *obj)
{
        unsigned cpu = machine_cpu_id();

        if (current_group() != &memcg_root || obj->type != VM_OBJECT_ANON ||
            obj->writable || cpu >= LOCK_MAX_CPUS) {
                memcg_charge_page(pg, obj);     /* not the case above */
                return;
        }
        ASSERT(memcg_page_id(pg) == 0);
        pg->flags |= (uint32_t)memcg_root.id << MEMCG_ID_SHIFT;
        __atomic_add_fetch(&root_pending[cpu], 1, __ATOMIC_RELEASE);
}

void memcg_charge_page(struct vm_page *pg, const struct vm_object *obj)
{
        struct memcg *g = current_group();

        ASSERT(memcg_page_id(pg) == 0);
        pg->flags |= (uint32_t)g->id << MEMCG_ID_SHIFT;
        spin_lock(&count_lock);
        g->own_pages++;
        for (; g; g = g->parent) {
                g->pages++;
                g->peak = MAX(g->peak, g->pages);
                kind_add(g, obj, 1);
        }
        spin_unlock(&count_lock);
}

void memcg_uncharge_page(struct vm_page *pg, const struct vm_object *obj)
{
        struct memcg *g = memcg_of_page(pg), *own = g;

        if (!g)
                return;
        pg->flags &= ~(MEMCG_ID_MASK << MEMCG_ID_SHIFT);
        spin_lock(&count_lock);
        if (g == &memcg_root)   /* its charge may be pending still */
                root_fold_locked();
        ASSERT(g->own_pages > 0);
        g->own_pages--;
        for (; g; g = g->parent) {
                ASSERT(g->pages > 0);
                g->pages--;
                kind_add(g, obj, -1);
        }
        spin_unlock(&count_lock);
        maybe_free(own);
}

/* ---- swap -------------------------------------------------------------- */

void memcg_swap_charge(uint16_t id, uint64_t n)
{
        struct memcg *g = memcg_by_id(id);

        if (!g)
                return;
        g->own_swap += n;
        for (; g; g = g->parent)
                g->swap += n;
}

void memcg_swap_uncharge(uint16_t id, uint64_t n)
{
        struct memcg *g = memcg_by_id(id), *own = g;

        if (!g)
                return;
        ASSERT(g->own_swap >= n);
        g->own_swap -= n;
        for (; g; g = g->parent) {
                ASSERT(g->swap >= n);
                g->swap -= n;
        }
        maybe_free(own);
}

bool memcg_swap_room(uint16_t id)
{
        for (struct memcg *g = memcg_by_id(id); g; g = g->parent)
                if (g->swap_max != MEMCG_UNLIMITED && g->swap >= g->swap_max)
                        return false;
        return true;
}

/* ---- limits ------------------------------------------------------------ */

struct memcg *memcg_over_max(struct memcg *g)
{
        struct memcg *over = NULL;

        for (; g; g = g->parent)
                if (g->max != MEMCG_UNLIMITED && g->pages > g->max)
                        over = g;
        return over;
}

struct memcg *memcg_over_high(struct memcg *g)
{
        struct memcg *over = NULL;

        for (; g; g = g->parent)
                if (g->high != MEMCG_UNLIMITED && g->pages > g->high)
                        over = g;
        return over;
}

/* ---- checks ------------------------------------------------------------ */

uint64_t memcg_total_charged(void)
{
        uint64_t n = 0;

        memcg_root_fold();
        for (unsigned id = 1; id <= MEMCG_ID_MAX; id++)
                if (by_id[id])
                        n += by_id[id]->own_pages;
        return n;
}

static bool check_counts(void);

bool memcg_check(void)
{
        bool ok;

        spin_lock(&count_lock);         /* a lock-free fault may charge */
        root_fold_locked();
        ok = check_counts();
        spin_unlock(&count_lock);
        return ok;
}

static bool check_counts(void)
{
        for (unsigned id = 1; id <= MEMCG_ID_MAX; id++) {
                struct memcg *g = by_id[id];
                uint64_t pages, swap;

                if (!g)
                        continue;
                if (g->id != id ||
                    g->stat[MEMCG_ANON] + g->stat[MEMCG_FILE] != g->pages ||
                    g->stat[MEMCG_SHMEM] > g->stat[MEMCG_FILE])
                        return false;
                pages = g->own_pages;
                swap = g->own_swap;
                for (unsigned c = 1; c <= MEMCG_ID_MAX; c++)
                        if (by_id[c] && by_id[c]->parent == g) {
                                pages += by_id[c]->pages;
                                swap += by_id[c]->swap;
                        }
                if (pages != g->pages || swap != g->swap)
                        return false;
        }
        return true;
}
