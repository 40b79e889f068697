/*
 * vm_area.c - the area tree (see vm_area.h): an AVL tree keyed by start,
 * threaded by an address-ordered list, augmented with the largest gap in
 * every subtree so that free-range searches take O(log n).
 *
 * Owns: the links, heights and gap_max of the areas in a tree, and the
 * bounds of areas while they are split, merged or moved. Touches no page,
 * page table or object contents (only object references, on split, merge
 * and free).
 *
 * Every update ends with fixup_to_root() from each node whose own gap or
 * children changed: it recomputes height and gap_max bottom-up and
 * rotates wherever the AVL balance broke. Rotations keep the in-order
 * sequence, so they change no node's own gap, only subtree maxima.
 *
 * Commit: the pages of a VM_AREA_ACCOUNT area are charged while it is in
 * a tree (commit_add/commit_sub below, wherever pages move).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <vm/kmalloc.h>
#include <vm/vm_area.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>

/* ---- commit ------------------------------------------------------------- */

/* Charge (or give back) npages of area a to t and the global count. */
static void commit_add(struct vm_area_tree *t, const struct vm_area *a,
                       uint64_t npages)
{
        if (!(a->flags & VM_AREA_ACCOUNT))
                return;
        t->committed += npages;
        vm_commit_add(npages);
}

static void commit_sub(struct vm_area_tree *t, const struct vm_area *a,
                       uint64_t npages)
{
        if (!(a->flags & VM_AREA_ACCOUNT))
                return;
        ASSERT(t->committed >= npages);
        t->committed -= npages;
        vm_commit_sub(npages);
}

void vm_area_set_account(struct vm_area_tree *t, struct vm_area *a, bool on)
{
        if (!!(a->flags & VM_AREA_ACCOUNT) == on)
                return;
        if (on) {
                a->flags |= VM_AREA_ACCOUNT;
                commit_add(t, a, vm_area_npages(a));
        } else {
                commit_sub(t, a, vm_area_npages(a));
                a->flags &= ~VM_AREA_ACCOUNT;
        }
}

/* ---- per-node quantities ------------------------------------------------ */

static inline int32_t node_height(const struct vm_area *n)
{
        return n ? n->height : 0;
}

static inline vaddr_t node_gap_max(const struct vm_area *n)
{
        return n ? n->gap_max : 0;
}

vaddr_t vm_area_start_gap(const struct vm_area_tree *t,
                          const struct vm_area *a)
{
        if (!(a->flags & VM_AREA_GROWSDOWN))
                return a->start;
        return a->start > t->guard ? a->start - t->guard : 0;
}

/* Where the gap below n begins: its predecessor's end, or the tree's min. */
static inline vaddr_t prev_end(const struct vm_area_tree *t,
                               const struct vm_area *n)
{
        return n->prev ? n->prev->end : t->min;
}

/* The free space just below n that a search may hand out. */
static vaddr_t own_gap(const struct vm_area_tree *t, const struct vm_area *n)
{
        vaddr_t lo = prev_end(t, n), hi = vm_area_start_gap(t, n);

        return hi > lo ? hi - lo : 0;
}

static void node_update(const struct vm_area_tree *t, struct vm_area *n)
{
        vaddr_t g = own_gap(t, n);

        n->height = 1 + MAX(node_height(n->left), node_height(n->right));
        g = MAX(g, node_gap_max(n->left));
        n->gap_max = MAX(g, node_gap_max(n->right));
}

/* ---- rotations and rebalancing ----------------------------------------- */

/* Put `new` where `old` hangs under parent (or at the root). */
static void replace_child(struct vm_area_tree *t, struct vm_area *parent,
                          struct vm_area *old, struct vm_area *new)
{
        if (!parent)
                t->root = new;
        else if (parent->left == old)
                parent->left = new;
        else
                parent->right = new;
        if (new)
                new->parent = parent;
}

static struct vm_area *rotate_left(struct vm_area_tree *t, struct vm_area *x)
{
        struct vm_area *y = x->right;

        x->right = y->left;
        if (y->left)
                y->left->parent = x;
        replace_child(t, x->parent, x, y);
        y->left = x;
        x->parent = y;
        node_update(t, x);
        node_update(t, y);
        return y;
}

static struct vm_area *rotate_right(struct vm_area_tree *t, struct vm_area *x)
{
        struct vm_area *y = x->left;

        x->left = y->right;
        if (y->right)
                y->right->parent = x;
        replace_child(t, x->parent, x, y);
        y->right = x;
        x->parent = y;
        node_update(t, x);
        node_update(t, y);
        return y;
}

/* Restore n's balance (its children are balanced and up to date); returns
 * the node now at n's place. */
static struct vm_area *rebalance(struct vm_area_tree *t, struct vm_area *n)
{
        int32_t bf = node_height(n->left) - node_height(n->right);

        if (bf > 1) {
                if (node_height(n->left->left) < node_height(n->left->right))
                        rotate_left(t, n->left);
                return rotate_right(t, n);
        }
        if (bf < -1) {
                if (node_height(n->right->right) < node_height(n->right->left))
                        rotate_right(t, n->right);
                return rotate_left(t, n);
        }
        node_update(t, n);
        return n;
}

/* Recompute and rebalance from n up to the root: O(log n). */
static void fixup_to_root(struct vm_area_tree *t, struct vm_area *n)
{
        while (n) {
                n = rebalance(t, n);
                n = n->parent;
        }
}

/* ---- descriptors ---------------------------------------------------------- */

void vm_area_tree_init(struct vm_area_tree *t, vaddr_t min, vaddr_t max,
                       uint64_t guard)
{
        ASSERT(min < max && is_aligned(min | max, PAGE_SIZE));
        *t = (struct vm_area_tree){ .min = min, .max = max, .guard = guard };
}

struct vm_area *vm_area_alloc(void)
{
        return kzalloc(sizeof(struct vm_area));
}

void vm_area_free(struct vm_area *a)
{
        if (!a)
                return;
        vm_object_unref(a->object);
        vm_object_unref(a->backing);
        kfree(a);
}

/* ---- lookups --------------------------------------------------------------- */

/*
 * Both lookups first try the area the last one found: a page-fault storm
 * or a scan stays in one area, and the tree walk (about 50 instructions
 * at a dozen areas) is the fault's largest fixed cost after the page
 * tables. The hint is always an area of this tree (vm_area_remove clears
 * it), so only its bounds need checking; they change under it with
 * split, merge and set_range, and the check reads them as they are.
 */
static inline bool hint_holds(const struct vm_area_tree *t, vaddr_t va)
{
        return t->hint && t->hint->start <= va && va < t->hint->end;
}

struct vm_area *vm_area_lookup(struct vm_area_tree *t, vaddr_t va)
{
        struct vm_area *n = t->root;

        if (hint_holds(t, va))
                return t->hint;
        while (n) {
                t->visits++;
                if (va < n->start)
                        n = n->left;
                else if (va >= n->end)
                        n = n->right;
                else
                        return t->hint = n;
        }
        return NULL;
}

struct vm_area *vm_area_find(const struct vm_area_tree *t, vaddr_t va)
{
        struct vm_area *n = t->root;

        while (n && (va < n->start || va >= n->end))
                n = va < n->start ? n->left : n->right;
        return n;
}

struct vm_area *vm_area_lookup_next(struct vm_area_tree *t, vaddr_t va)
{
        struct vm_area *n = t->root, *best = NULL;

        if (hint_holds(t, va))
                return t->hint;         /* the first area ending above va */
        while (n) {
                t->visits++;
                if (n->end > va) {
                        best = n;
                        if (n->start <= va) {
                                t->hint = n;
                                break;
                        }
                        n = n->left;
                } else {
                        n = n->right;
                }
        }
        return best;
}

/* ---- insert and remove ---------------------------------------------------- */

static bool range_ok(const struct vm_area_tree *t, vaddr_t start, vaddr_t end)
{
        return start < end && is_aligned(start | end, PAGE_SIZE) &&
               start >= t->min && end <= t->max;
}

/* Link a into the list between pred and succ (either may be NULL). */
static void list_link(struct vm_area_tree *t, struct vm_area *a,
                      struct vm_area *pred, struct vm_area *succ)
{
        a->prev = pred;
        a->next = succ;
        if (pred)
                pred->next = a;
        else
                t->first = a;
        if (succ)
                succ->prev = a;
        else
                t->last = a;
}

/* ---- the reverse map's mapper lists (vm_rmap.h) ---------------------- */

/* The object whose pages a maps without holding them, if any. */
static struct vm_object *rmap_key(const struct vm_area *a)
{
        return (a->flags & VM_AREA_SHARED) ? a->object : a->backing;
}

static void rmap_link(struct vm_area_tree *t, struct vm_area *a)
{
        struct vm_object *o = rmap_key(a);

        a->tree = t;
        a->rmap_obj = o;
        a->rmap_prev = NULL;
        a->rmap_next = o ? o->mappers : NULL;
        if (!o)
                return;
        if ((a->flags & VM_AREA_SHARED) &&
            ((a->flags & VM_AREA_MAYWRITE) || (a->prot & VM_PROT_WRITE)))
                o->mapped_writable = true;      /* sticky (vm_rmap.h) */
        if (o->mappers)
                o->mappers->rmap_prev = a;
        o->mappers = a;
}

static void rmap_unlink(struct vm_area *a)
{
        struct vm_object *o = a->rmap_obj;

        if (o) {
                if (a->rmap_prev)
                        a->rmap_prev->rmap_next = a->rmap_next;
                else
                        o->mappers = a->rmap_next;
                if (a->rmap_next)
                        a->rmap_next->rmap_prev = a->rmap_prev;
        }
        a->tree = NULL;
        a->rmap_obj = NULL;
        a->rmap_prev = a->rmap_next = NULL;
}

vm_status_t vm_area_insert(struct vm_area_tree *t, struct vm_area *a)
{
        struct vm_area *parent = NULL, *pred = NULL, *succ, **link = &t->root;

        if (!range_ok(t, a->start, a->end))
                return VM_EINVAL;
        while (*link) {
                parent = *link;
                if (a->start < parent->start) {
                        link = &parent->left;
                } else {
                        pred = parent;
                        link = &parent->right;
                }
        }
        succ = pred ? pred->next : t->first;
        if ((pred && pred->end > a->start) || (succ && succ->start < a->end))
                return VM_EEXIST;
        a->parent = parent;
        a->left = a->right = NULL;
        a->height = 1;
        *link = a;
        list_link(t, a, pred, succ);
        rmap_link(t, a);
        t->count++;
        t->pages += vm_area_npages(a);
        commit_add(t, a, vm_area_npages(a));
        fixup_to_root(t, a);
        if (succ)               /* its gap now starts at a's end */
                fixup_to_root(t, succ);
        return VM_OK;
}

/* Unhook z, which has two children, putting its successor y in its place;
 * returns the lowest node whose subtree changed. */
static struct vm_area *remove_inner(struct vm_area_tree *t, struct vm_area *z,
                                    struct vm_area *y)
{
        struct vm_area *fix = y;

        if (y->parent != z) {
                fix = y->parent;
                replace_child(t, y->parent, y, y->right);
                y->right = z->right;
                y->right->parent = y;
        }
        replace_child(t, z->parent, z, y);
        y->left = z->left;
        y->left->parent = y;
        y->height = z->height;
        return fix;
}

void vm_area_remove(struct vm_area_tree *t, struct vm_area *z)
{
        struct vm_area *succ = z->next, *fix;

        if (t->hint == z)
                t->hint = NULL;
        rmap_unlink(z);
        if (!z->left || !z->right) {
                fix = z->parent;
                replace_child(t, z->parent, z, z->left ? z->left : z->right);
        } else {
                fix = remove_inner(t, z, succ);
        }
        if (z->prev)
                z->prev->next = succ;
        else
                t->first = succ;
        if (succ)
                succ->prev = z->prev;
        else
                t->last = z->prev;
        t->count--;
        t->pages -= vm_area_npages(z);
        commit_sub(t, z, vm_area_npages(z));
        fixup_to_root(t, fix);
        if (succ)               /* its gap now starts at z's predecessor */
                fixup_to_root(t, succ);
        z->parent = z->left = z->right = z->prev = z->next = NULL;
}

/* ---- split, merge, move ----------------------------------------------- */

struct vm_area *vm_area_split(struct vm_area_tree *t, struct vm_area *a,
                              vaddr_t va, struct vm_area *spare)
{
        vm_status_t st;

        ASSERT(a->start < va && va < a->end && is_aligned(va, PAGE_SIZE));
        spare->start = va;
        spare->end = a->end;
        spare->prot = a->prot;
        spare->flags = a->flags;
        spare->uffd = a->uffd;
        spare->uffd_mode = a->uffd_mode;
        spare->object = a->object;
        spare->pgoff = a->pgoff + ((va - a->start) >> PAGE_SHIFT);
        spare->backing = a->backing;
        spare->backing_pgoff = a->backing_pgoff +
                               ((va - a->start) >> PAGE_SHIFT);
        if (spare->object)
                vm_object_ref(spare->object);
        if (spare->backing)
                vm_object_ref(spare->backing);
        /* a shrinks first so that spare fits; pages stay counted. */
        t->pages -= vm_area_npages(spare);
        commit_sub(t, a, vm_area_npages(spare));
        a->end = va;
        st = vm_area_insert(t, spare);
        ASSERT(st == VM_OK);
        return spare;
}

/* Linux's is_mergeable_anon_vma: an area without an object does not
 * join one whose object fork made from a parent's (the child's area
 * keeps its anon_vma chain to itself), so a child's new mapping next to
 * an inherited one stays apart in /proc/PID/maps (LTP vma01). */
static bool objects_may_join(const struct vm_object *x,
                             const struct vm_object *y)
{
        if (x && y)
                return x == y;
        return !(x ? x : y) || !(x ? x : y)->forked;
}

bool vm_area_can_merge(const struct vm_area *a, const struct vm_area *b)
{
        if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
            a->uffd != b->uffd || a->uffd_mode != b->uffd_mode)
                return false;
        if (!objects_may_join(a->object, b->object))
                return false;
        if (a->backing != b->backing || (a->backing &&
            a->backing_pgoff + vm_area_npages(a) != b->backing_pgoff))
                return false;
        return a->pgoff + vm_area_npages(a) == b->pgoff;
}

struct vm_area *vm_area_merge(struct vm_area_tree *t, struct vm_area *a)
{
        struct vm_area *b = a->next;
        vaddr_t end;

        ASSERT(b && vm_area_can_merge(a, b));
        end = b->end;
        if (!a->object) {               /* take over b's reference */
                a->object = b->object;
                b->object = NULL;
        }
        vm_area_remove(t, b);
        t->pages += vm_area_npages(b);
        commit_add(t, a, vm_area_npages(b));   /* same flags as b */
        vm_area_free(b);
        a->end = end;
        if (a->next)                    /* the gap above a now starts later */
                fixup_to_root(t, a->next);
        return a;
}

void vm_area_set_range(struct vm_area_tree *t, struct vm_area *a,
                       vaddr_t start, vaddr_t end)
{
        ASSERT(range_ok(t, start, end));
        ASSERT(!a->prev || a->prev->end <= start);
        ASSERT(!a->next || a->next->start >= end);
        t->pages -= vm_area_npages(a);
        commit_sub(t, a, vm_area_npages(a));
        a->start = start;
        a->end = end;
        t->pages += vm_area_npages(a);
        commit_add(t, a, vm_area_npages(a));
        fixup_to_root(t, a);            /* its own gap */
        if (a->next)                    /* the gap above it */
                fixup_to_root(t, a->next);
}

/* ---- gap search ----------------------------------------------------------- */

/* A search for len bytes inside [low, high). */
struct gap_query {
        struct vm_area_tree *t;
        uint64_t             len;
        vaddr_t              low, high;
        bool                 top_down;  /* want the highest fit */
        vaddr_t              found;
};

/* Does [lo, hi), clipped to the query's bounds, hold len bytes? */
static bool gap_fits(struct gap_query *q, vaddr_t lo, vaddr_t hi)
{
        lo = MAX(lo, q->low);
        hi = MIN(hi, q->high);
        if (hi <= lo || hi - lo < q->len)
                return false;
        q->found = q->top_down ? hi - q->len : lo;
        return true;
}

/*
 * The gaps of n's left subtree all end at or below n->prev->start, those of
 * its right subtree all begin at or above n->end: a subtree is entered only
 * if its gaps can reach into [low, high) far enough, and only if its
 * gap_max is large enough. Subtrees wholly inside the bounds then always
 * succeed, so only those straddling low or high can fail: O(log n) nodes.
 */
static bool left_may_fit(const struct gap_query *q, const struct vm_area *n)
{
        return n->left && n->prev->start >= q->low + q->len;
}

static bool right_may_fit(const struct gap_query *q, const struct vm_area *n)
{
        return n->right && n->end + q->len <= q->high;
}

static bool gap_lowest_in(struct gap_query *q, struct vm_area *n)
{
        if (!n || n->gap_max < q->len)
                return false;
        q->t->visits++;
        if (left_may_fit(q, n) && gap_lowest_in(q, n->left))
                return true;
        if (gap_fits(q, prev_end(q->t, n), vm_area_start_gap(q->t, n)))
                return true;
        return right_may_fit(q, n) && gap_lowest_in(q, n->right);
}

static bool gap_highest_in(struct gap_query *q, struct vm_area *n)
{
        if (!n || n->gap_max < q->len)
                return false;
        q->t->visits++;
        if (right_may_fit(q, n) && gap_highest_in(q, n->right))
                return true;
        if (gap_fits(q, prev_end(q->t, n), vm_area_start_gap(q->t, n)))
                return true;
        return left_may_fit(q, n) && gap_highest_in(q, n->left);
}

/* Set up q; false if no range of len can lie inside the clipped bounds. */
static bool gap_query_init(struct gap_query *q, struct vm_area_tree *t,
                           uint64_t len, vaddr_t low, vaddr_t high, bool top)
{
        *q = (struct gap_query){ .t = t, .len = len, .top_down = top,
                                 .low = MAX(low, t->min),
                                 .high = MIN(high, t->max) };
        return len > 0 && q->low < q->high && len <= q->high - q->low;
}

static inline vaddr_t tail_start(const struct vm_area_tree *t)
{
        return t->last ? t->last->end : t->min;
}

vm_status_t vm_area_gap_lowest(struct vm_area_tree *t, uint64_t len,
                               vaddr_t low, vaddr_t high, vaddr_t *va)
{
        struct gap_query q;

        if (!gap_query_init(&q, t, len, low, high, false))
                return VM_ENOMEM;
        if (!gap_lowest_in(&q, t->root) && !gap_fits(&q, tail_start(t), t->max))
                return VM_ENOMEM;
        *va = q.found;
        return VM_OK;
}

vm_status_t vm_area_gap_highest(struct vm_area_tree *t, uint64_t len,
                                vaddr_t low, vaddr_t high, vaddr_t *va)
{
        struct gap_query q;

        if (!gap_query_init(&q, t, len, low, high, true))
                return VM_ENOMEM;
        if (!gap_fits(&q, tail_start(t), t->max) && !gap_highest_in(&q, t->root))
                return VM_ENOMEM;
        *va = q.found;
        return VM_OK;
}

/* ---- vm_area_tree_check ----------------------------------------------- */

struct tree_check {
        const struct vm_area_tree *t;
        const struct vm_area      *expect;      /* next node in list order */
        uint64_t                   nodes, pages, committed;
        bool                       ok;
};

static bool tree_fail(struct tree_check *c, const struct vm_area *n,
                      const char *why)
{
        if (c->ok)
                pr_err("vm_area_tree_check: %s at area [%#lx, %#lx)\n", why,
                       n ? (unsigned long)n->start : 0UL,
                       n ? (unsigned long)n->end : 0UL);
        c->ok = false;
        return false;
}

/* One area on its own: bounds, alignment, order against its predecessor. */
static bool check_area(struct tree_check *c, const struct vm_area *n)
{
        if (!range_ok(c->t, n->start, n->end))
                return tree_fail(c, n, "bad range");
        if (n->flags & ~VM_AREA_FLAGS_ALL || n->prot & ~VM_PROT_ALL)
                return tree_fail(c, n, "unknown flags or prot");
        if (n != c->expect)
                return tree_fail(c, n, "tree order differs from list order");
        if (n->prev ? n->prev->next != n : c->t->first != n)
                return tree_fail(c, n, "broken prev link");
        if (n->prev && n->prev->end > n->start)
                return tree_fail(c, n, "overlaps its predecessor");
        if (!n->next && c->t->last != n)
                return tree_fail(c, n, "last is not the list's end");
        c->expect = n->next;
        c->nodes++;
        c->pages += vm_area_npages(n);
        c->committed += (n->flags & VM_AREA_ACCOUNT) ? vm_area_npages(n) : 0;
        return true;
}

/* Subtree n (hanging under parent): returns its height, or -1 on error. */
static int32_t check_subtree(struct tree_check *c, const struct vm_area *n,
                             const struct vm_area *parent)
{
        int32_t hl, hr;
        vaddr_t gap;

        if (!n)
                return 0;
        if (n->parent != parent)
                return tree_fail(c, n, "bad parent link"), -1;
        if ((hl = check_subtree(c, n->left, n)) < 0 || !check_area(c, n) ||
            (hr = check_subtree(c, n->right, n)) < 0)
                return -1;
        if (n->height != 1 + MAX(hl, hr))
                return tree_fail(c, n, "wrong height"), -1;
        if (hl - hr > 1 || hr - hl > 1)
                return tree_fail(c, n, "AVL balance broken"), -1;
        gap = MAX(own_gap(c->t, n), MAX(node_gap_max(n->left),
                                        node_gap_max(n->right)));
        if (n->gap_max != gap)
                return tree_fail(c, n, "wrong gap_max"), -1;
        return n->height;
}

bool vm_area_tree_check(const struct vm_area_tree *t)
{
        struct tree_check c = { .t = t, .expect = t->first, .ok = true };

        if (check_subtree(&c, t->root, NULL) < 0)
                return false;
        if (c.expect != NULL)
                return tree_fail(&c, c.expect, "list longer than tree");
        if (!t->root && (t->first || t->last))
                return tree_fail(&c, NULL, "empty tree with list ends");
        if (c.nodes != t->count || c.pages != t->pages)
                return tree_fail(&c, NULL, "count or pages wrong");
        if (c.committed != t->committed)
                return tree_fail(&c, NULL, "committed pages wrong");
        if (t->hint) {
                const struct vm_area *a = t->first;

                while (a && a != t->hint)
                        a = a->next;
                if (!a)
                        return tree_fail(&c, NULL, "lookup hint not in the tree");
        }
        return true;
}
