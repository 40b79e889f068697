/*
 * vm_area.h - the areas of an address space, kept in a balanced tree
 * (CONCEPTS E21: Linux's vm_area_struct, Cosmos's kmvarsdsc).
 *
 * An area is one contiguous range [start, end) of user virtual addresses
 * with one protection, one set of VM_AREA_* flags and the objects that
 * supply its pages (vm_object.h): `object`, where its pages live and
 * writes go, and for a private mapping of a file, `backing`, the file read
 * where `object` has no page yet (Linux's anon_vma over vm_file). The tree
 * orders areas by start; since areas never overlap, that also orders them
 * by end.
 *
 * Owns: the tree and list links of every area in a tree, and its
 * augmentation. Does not touch page tables or pages: vm_space.c does.
 *
 * Why AVL and not red-black: lookups dominate (every page fault, every
 * mmap placement), and AVL trees are the shallower of the two (height
 * <= 1.44 log2 n against 2 log2 n). Red-black trees win by doing O(1)
 * rotations per update, but the "largest gap in subtree" augmentation has to
 * be recomputed on the whole path to the root after every update anyway, so
 * that advantage is gone; and an AVL tree's exact height is easy to check.
 *
 * Besides the tree, the areas form a doubly linked list in address order,
 * so neighbours are O(1) and every node can compute its own gap (the free
 * space between its predecessor's end and its own start) without a search.
 *
 * Gaps: the gap below area a is [prev_end, start_gap(a)), where prev_end is
 * the end of a's predecessor (tree->min for the first area) and start_gap(a)
 * is a->start, lowered by tree->guard for a VM_AREA_GROWSDOWN area (the
 * room a stack keeps free below itself; Linux's vm_start_gap). The gap
 * above the last area, [last_end, tree->max), is handled apart.
 *
 * Invariants (vm_area_tree_check()):
 *   1. in-order tree order = list order = increasing start; parent links
 *      agree with child links; first/last are the list's ends;
 *   2. every area is page-aligned, start < end, inside [min, max), and
 *      ends at or before its successor's start (no overlap);
 *   3. every node's height is 1 + the larger of its children's, and the
 *      two differ by at most 1 (AVL balance);
 *   4. every node's gap_max is the largest own gap in its subtree;
 *   5. count and pages equal the number of areas and the sum of their
 *      sizes; committed, the sum of the sizes of VM_AREA_ACCOUNT areas.
 * Commit: every page of a VM_AREA_ACCOUNT area in a tree is charged to
 * the global commit count (vm_commit.h); the functions below keep that
 * so as areas come, go, split, merge, grow and change that flag.
 * Locks: [m] the owning vm_space's map lock; single CPU for now, so callers
 * serialize and there is no lock yet. [c] constant after init.
 */
#ifndef VM_VM_AREA_H
#define VM_VM_AREA_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <vm/pmap.h>

struct vm_object;
struct vm_uffd;

/* vm_area.flags: what the area is, besides its protection. */
#define VM_AREA_SHARED          0x1     /* writes go to a shared object */
#define VM_AREA_GROWSDOWN       0x2     /* a stack: faults below extend it */
#define VM_AREA_NORESERVE       0x4     /* MAP_NORESERVE: no commit charge */
#define VM_AREA_RANDOM          0x8     /* MADV_RANDOM (Linux's VM_RAND_READ) */
#define VM_AREA_SEQUENTIAL      0x10    /* MADV_SEQUENTIAL (VM_SEQ_READ) */
#define VM_AREA_MAYWRITE        0x20    /* shared file opened writable */
#define VM_AREA_LOCKED          0x40    /* mlock: pages stay resident */
#define VM_AREA_LOCKONFAULT     0x80    /* ... brought in at first touch */
#define VM_AREA_SPECIAL         0x100   /* VM_MAP_SPECIAL: [vdso], [vvar] */
#define VM_AREA_HUGEPAGE        0x200   /* MADV_HUGEPAGE */
#define VM_AREA_NOHUGEPAGE      0x400   /* MADV_NOHUGEPAGE */
#define VM_AREA_DONTDUMP        0x800   /* MADV_DONTDUMP: not in a
                                         * core file (VM_DONTDUMP) */
#define VM_AREA_ACCOUNT         0x1000  /* its pages are committed
                                         * (vm_commit.h; VM_ACCOUNT) */
#define VM_AREA_DROPPABLE       0x2000  /* VM_MAP_DROPPABLE: its object's
                                         * pages may be dropped, not
                                         * swapped */
#define VM_AREA_DONTFORK        0x4000  /* MADV_DONTFORK: a fork's child
                                         * gets no such area (VM_DONTCOPY) */
#define VM_AREA_WIPEONFORK      0x8000  /* MADV_WIPEONFORK: a fork's child
                                         * gets it empty (private
                                         * anonymous areas only) */
#define VM_AREA_SEALED          0x10000 /* mseal: no munmap, mremap,
                                         * mprotect, MAP_FIXED over it or
                                         * discarding madvise (read-only
                                         * private memory) (VM_SEALED) */
#define VM_AREA_FLAGS_ALL       0x1ffff

/*
 * One area. The links belong to the tree; start/end may be changed by the
 * tree's functions only (vm_area_split/merge/set_range), since they are its
 * keys and feed its augmentation.
 */
struct vm_area {
        struct vm_area   *parent, *left, *right;  /* [m] AVL links */
        struct vm_area   *prev, *next;          /* [m] address order */
        vaddr_t           gap_max;      /* [m] largest own gap in subtree */
        int32_t           height;       /* [m] subtree height, leaf = 1 */
        unsigned          flags;        /* [m] VM_AREA_* */
        vaddr_t           start, end;   /* [m] page-aligned, start < end */
        vm_prot_t         prot;         /* [m] VM_PROT_* */
        struct vm_object *object;       /* [m] holds a reference; NULL for
                                         *     private memory never written */
        uint64_t          pgoff;        /* [m] object page index of start */
        struct vm_object *backing;      /* [m] private file mapping: the
                                         *     file (a reference); else NULL */
        uint64_t          backing_pgoff; /* [m] backing page index of start */
        struct vm_uffd   *uffd;         /* [m] the userfaultfd context its
                                         *     missing pages go to, or NULL
                                         *     (vm/userfaultfd.h) */
        unsigned          uffd_mode;    /* [m] VM_UFFD_MISSING | _MINOR
                                         *     while uffd is set, else 0 */
        /* The reverse map (vm_rmap.h), kept by vm_area_insert/remove: the
         * tree the area is in, and its place on the mapper list of the
         * object whose pages it maps without owning them (a shared area's
         * object, a private area's backing file), fixed at insert. */
        struct vm_area_tree *tree;      /* [m] NULL while in no tree */
        struct vm_object *rmap_obj;     /* [m] the list it is on, or NULL */
        struct vm_area   *rmap_prev, *rmap_next;        /* [m] */
};

struct vm_area_tree {
        struct vm_area *root;           /* [m] */
        struct vm_area *first, *last;   /* [m] lowest and highest area */
        uint64_t        count;          /* [m] areas in the tree */
        uint64_t        pages;          /* [m] pages they span */
        uint64_t        committed;      /* [m] pages of VM_AREA_ACCOUNT
                                         *     areas: this tree's charge */
        vaddr_t         min, max;       /* [c] areas lie in [min, max) */
        uint64_t        guard;          /* [c] gap kept below GROWSDOWN areas */
        uint64_t        visits;         /* [m] nodes searches looked at
                                         *     (tests: proves O(log n)) */
        struct vm_area *hint;           /* [m] the area the last lookup
                                         *     found (faults come in runs
                                         *     inside one area), or NULL;
                                         *     cleared when it leaves */
};

static inline uint64_t vm_area_npages(const struct vm_area *a)
{
        return (a->end - a->start) >> PAGE_SHIFT;
}

/* Neighbours and ends, O(1). */
static inline struct vm_area *vm_area_first(const struct vm_area_tree *t)
{
        return t->first;
}
static inline struct vm_area *vm_area_last(const struct vm_area_tree *t)
{
        return t->last;
}
static inline struct vm_area *vm_area_next(const struct vm_area *a)
{
        return a->next;
}
static inline struct vm_area *vm_area_prev(const struct vm_area *a)
{
        return a->prev;
}

/*
 * Make t an empty tree over [min, max); guard is the gap gap searches keep
 * free below VM_AREA_GROWSDOWN areas (0: none).
 * => min < max, both page-aligned.
 */
void vm_area_tree_init(struct vm_area_tree *t, vaddr_t min, vaddr_t max,
                       uint64_t guard);

/*
 * A zeroed area descriptor from kmalloc, not in any tree.
 * => NULL if the heap is exhausted.
 */
struct vm_area *vm_area_alloc(void);

/*
 * Free a descriptor that is in no tree, dropping its object references.
 * => a may be NULL.
 */
void vm_area_free(struct vm_area *a);

/* The area containing va, or NULL. => O(log n). */
struct vm_area *vm_area_lookup(struct vm_area_tree *t, vaddr_t va);

/* The same, writing nothing (no hint, no visit count): for the fault
 * path's lock-free part, which reads the tree beside the big lock's
 * readers (vm_space.h, vm_fault_nolock). => O(log n). */
struct vm_area *vm_area_find(const struct vm_area_tree *t, vaddr_t va);

/*
 * The lowest area ending above va (it contains va, or is the first area
 * above it), or NULL: Linux's find_vma(). => O(log n).
 */
struct vm_area *vm_area_lookup_next(struct vm_area_tree *t, vaddr_t va);

/*
 * Add a to t; a's start, end, flags, prot, object and pgoff are set.
 * => VM_EINVAL if a's range is empty, misaligned or outside [min, max);
 *    VM_EEXIST if it overlaps an area of t. Either way t is unchanged.
 * => O(log n).
 */
vm_status_t vm_area_insert(struct vm_area_tree *t, struct vm_area *a);

/* Take a out of t (a is not freed). => a is in t; O(log n). */
void vm_area_remove(struct vm_area_tree *t, struct vm_area *a);

/*
 * Cut a at va: a keeps [start, va), spare becomes [va, end) with a's
 * attributes, its own references to a's objects, and the matching page
 * offsets, and goes into t. Cannot fail: the caller allocated spare beforehand.
 * => a in t, a->start < va < a->end, va page-aligned; spare in no tree.
 * => returns spare. O(log n).
 */
struct vm_area *vm_area_split(struct vm_area_tree *t, struct vm_area *a,
                              vaddr_t va, struct vm_area *spare);

/*
 * Whether b can be folded into a: b starts where a ends, same prot,
 * flags and userfaultfd context, the same object at consecutive page
 * indices (a private area without an object yet is compatible with any
 * object but a fork's copy of a parent's: Linux's anon_vma rule), and the
 * same backing at consecutive indices (or none).
 * => pure; O(1).
 */
bool vm_area_can_merge(const struct vm_area *a, const struct vm_area *b);

/*
 * Fold a->next into a and free it; a takes over its object if a had none.
 * => vm_area_can_merge(a, a->next). Returns a. O(log n).
 */
struct vm_area *vm_area_merge(struct vm_area_tree *t, struct vm_area *a);

/*
 * Move a's bounds in place (stack growth) without changing its order:
 * [start, end) must overlap no other area. pgoff is the caller's business.
 * => start < end, page-aligned, inside [min, max). O(log n).
 */
void vm_area_set_range(struct vm_area_tree *t, struct vm_area *a,
                       vaddr_t start, vaddr_t end);

/*
 * Set or clear a's VM_AREA_ACCOUNT, moving its charge (mprotect).
 * => a in t. O(1).
 */
void vm_area_set_account(struct vm_area_tree *t, struct vm_area *a, bool on);

/*
 * Where the gap below a ends: a->start, less t->guard for a GROWSDOWN
 * area (0 if that would underflow), as Linux's vm_start_gap().
 */
vaddr_t vm_area_start_gap(const struct vm_area_tree *t,
                          const struct vm_area *a);

/*
 * Free-range search: the lowest (resp. highest) address va such that
 * [va, va + len) lies inside [low, high) and inside one gap of t.
 * => len > 0 and page-aligned; low/high are clipped to [min, max).
 * => VM_OK with *va set, or VM_ENOMEM if there is no such range.
 * => O(log n), using the gap_max augmentation.
 */
vm_status_t vm_area_gap_lowest(struct vm_area_tree *t, uint64_t len,
                               vaddr_t low, vaddr_t high, vaddr_t *va);
vm_status_t vm_area_gap_highest(struct vm_area_tree *t, uint64_t len,
                                vaddr_t low, vaddr_t high, vaddr_t *va);

/*
 * Verify invariants 1-5 above.
 * => true if they hold; else prints the first violation and returns false.
 * => O(n).
 */
bool vm_area_tree_check(const struct vm_area_tree *t);

#endif
