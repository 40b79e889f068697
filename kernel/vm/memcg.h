/*
 * memcg.h - control groups and their memory controller (Linux's cgroup v2
 * "memory"): a tree of groups, each process in one group, and every user
 * page charged to the group of the process it was allocated for.
 *
 * A group is one struct memcg: its place in the tree (the file system
 * fs/cgroupfs.c shows it as a directory of /sys/fs/cgroup), its processes
 * (counted here; proc.h's memcg field says which group a process is in)
 * and its memory state. Mercator has one controller, so the group and its
 * memory state are one object.
 *
 * Charges. A page is charged when it joins its first object (vm_rmap.c's
 * rmap_owner_add: anonymous, page-cache, shared memory and swap-cache
 * pages alike) and uncharged when its last object lets go. The group's
 * 12-bit id lives in the upper bits of the page descriptor's flags (bits
 * 17..28, which nothing else uses; bit 16 is PG_DROPPABLE, bits 29..30
 * pmm.h's PG_LAZYFREE and PG_SWAPCACHE), so charging costs no memory per page
 * and the descriptor stays 32 bytes; ids index memcg_by_id. A swap slot
 * written for a charged page is charged to the same group (memory.swap.*),
 * its id kept in a side table of 2 bytes per slot (swap.h's
 * swap_area.memcg).
 * A charge counts in the group and in every ancestor (memory.current is
 * hierarchical, as Linux's page_counter), and so does every statistic.
 *
 * Limits. A charge never fails: the page is there already. A group over
 * memory.high or memory.max is brought back at the next safe point, the
 * charging process's return to user mode (memcg_enforce_current: reclaim
 * of the group's own pages; past max with nothing left to reclaim, the
 * OOM killer chooses among the group's processes). A process can so pass
 * max by what one system call charges (one page for a fault; a write() to
 * tmpfs its length): Linux reclaims before the charge instead.
 *
 * Lifetime. A group lives while it is online (not removed) or something
 * refers to it: a process (memcg_get at fork or move), an open directory
 * or file of cgroupfs, a child, or a charge (pages or swap slots). A
 * removed group whose pages are still charged is a zombie: its id still
 * resolves until the last page goes, as Linux's offline memcgs.
 *
 * Locks: none today (the big lock, design.md "Locking"). When it goes,
 * the counters need one lock for the tree (rank 22, above the area-map
 * lock, below a VM object's: charges happen with an object held) or
 * atomic counters walked without it.
 */
#ifndef VM_MEMCG_H
#define VM_MEMCG_H

#include <mercator/types.h>

struct vm_page;
struct vm_object;

#define MEMCG_ID_MAX            4095    /* ids 1..MEMCG_ID_MAX; 1 is the root */
#define MEMCG_UNLIMITED         UINT64_MAX
#define MEMCG_ID_SHIFT          17      /* page flags bits 17..28 */
#define MEMCG_ID_MASK           0xfffu  /* MEMCG_ID_MAX fits */
_Static_assert(MEMCG_ID_MAX <= MEMCG_ID_MASK, "memcg ids fit their bits");

/* memory.stat's page kinds. */
enum memcg_stat {
        MEMCG_ANON,                     /* private and shared anonymous */
        MEMCG_FILE,                     /* page cache, shmem included */
        MEMCG_SHMEM,                    /* tmpfs, memfd (writable caches) */
        MEMCG_NR_STAT,
};

/* memory.events, in Linux's order. */
enum memcg_event {
        MEMCG_EV_LOW, MEMCG_EV_HIGH, MEMCG_EV_MAX, MEMCG_EV_OOM,
        MEMCG_EV_OOM_KILL, MEMCG_EV_OOM_GROUP_KILL, MEMCG_NR_EVENTS,
};

/*
 * One group. Lock tags: [c] constant after creation, [m] the big lock.
 * Counters in pages.
 */
struct memcg {
        struct memcg   *parent;         /* [c] NULL for the root */
        struct memcg   *children;       /* [m] first online child */
        struct memcg   *sibling;        /* [m] next in the parent's list */
        char            name[64];       /* [c] directory name */
        uint16_t        id;             /* [c] */
        bool            online;         /* [m] not removed */
        bool            subtree_memory; /* [m] "+memory" in subtree_control */
        bool            oom_group;      /* [m] memory.oom.group: an OOM kill
                                         * in it takes all of it (oom.c) */
        uint32_t        refs;           /* [m] see "Lifetime" */
        uint32_t        nr_procs;       /* [m] processes in this group */
        uint32_t        nr_children;    /* [m] online children */
        uint64_t        pages;          /* [m] memory.current (subtree) */
        uint64_t        swap;           /* [m] memory.swap.current */
        uint64_t        own_pages;      /* [m] charged to this group itself */
        uint64_t        own_swap;       /* [m] */
        uint64_t        max, high, low, min, swap_max; /* [m] pages */
        uint64_t        peak;           /* [m] memory.peak */
        uint64_t        stat[MEMCG_NR_STAT];    /* [m] subtree */
        uint64_t        events[MEMCG_NR_EVENTS];/* [m] subtree */
        uint64_t        events_local[MEMCG_NR_EVENTS]; /* [m] */
        uint64_t        pgscan, pgsteal;        /* [m] group reclaim */
};

extern struct memcg memcg_root;

/* The group the current process charges (proc code sets it at boot; the
 * root when it is NULL or answers NULL: host tests, boot). */
extern struct memcg *(*memcg_current_hook)(void);

/* Set up the root group (idempotent). */
void memcg_init(void);

/* A new online group `name` (len bytes) under parent.
 * => 0 with *out (a reference the caller keeps or puts), -ENOSPC (no id
 *    left), -ENOMEM, -EEXIST (a child has the name), -ENAMETOOLONG. */
long memcg_create(struct memcg *parent, const char *name, size_t len,
                  struct memcg **out);

/* Remove group g (rmdir): => 0, -EBUSY (it has processes or online
 * children), -EINVAL (the root). Its charges stay until their pages go. */
long memcg_remove(struct memcg *g);

/* The online child of g called name (len bytes), or NULL. No reference. */
struct memcg *memcg_child(struct memcg *g, const char *name, size_t len);

static inline struct memcg *memcg_get(struct memcg *g)
{
        g->refs++;
        return g;
}
/* Drop a reference; a removed group with no references and no charges
 * is freed (and its parent's reference dropped). g may be NULL. */
void memcg_put(struct memcg *g);

/* Process accounting: p joins g (nr_procs and a reference), leaves. */
void memcg_attach(struct memcg *g);
void memcg_detach(struct memcg *g);

/* ---- charges ----------------------------------------------------------- */

/* Is the running thread's group the root (no limit of its own to
 * enforce)? */
bool memcg_current_is_root(void);

/* pg was just taken by its first object obj: charge it to the current
 * group. => pg not charged yet. */
void memcg_charge_page(struct vm_page *pg, const struct vm_object *obj);
/*
 * memcg_charge_page() for the lock-free fault (vm_fault.c:
 * vm_fault_nolock), whose thread's group is the root (memcg_current_is_
 * root) and obj private anonymous memory: no lock taken, the charge
 * counted on this CPU until the next reader or uncharge of the root
 * folds it in (memcg.c, "root_pending"; memory.stat, memcg_check and
 * memcg_total_charged see it whole).
 */
void memcg_charge_root_nolock(struct vm_page *pg, const struct vm_object *obj);
/* Fold the root's charges counted per CPU into its counts (under the
 * counts' lock): before the root's pages, own_pages or stat are read. */
void memcg_root_fold(void);
/* The last object obj let go of pg: uncharge it (if charged). */
void memcg_uncharge_page(struct vm_page *pg, const struct vm_object *obj);
/* The id of the group pg is charged to, 0 if none. */
uint16_t memcg_page_id(const struct vm_page *pg);
/* The group pg is charged to, or NULL. */
struct memcg *memcg_of_page(const struct vm_page *pg);
/* Is pg charged to g or one of its descendants? */
bool memcg_page_in(const struct vm_page *pg, const struct memcg *g);
/* The group with id (a zombie included), or NULL. */
struct memcg *memcg_by_id(uint16_t id);
/* Swap: n slots charged to / uncharged from the group with id. */
void memcg_swap_charge(uint16_t id, uint64_t n);
void memcg_swap_uncharge(uint16_t id, uint64_t n);
/* May the group with id (and every ancestor) take one more swap slot? */
bool memcg_swap_room(uint16_t id);

/* Is a descendant of g the group d (or g itself)? */
bool memcg_is_descendant(const struct memcg *d, const struct memcg *g);

/* Count event ev in g and its ancestors (events) and g (events_local). */
void memcg_event(struct memcg *g, enum memcg_event ev);

/* The highest ancestor of g (g included) whose pages exceed its max, or
 * NULL. */
struct memcg *memcg_over_max(struct memcg *g);
/* The same for high. */
struct memcg *memcg_over_high(struct memcg *g);

/* Every group's counters agree with the pages and slots charged: for the
 * checks of host tests. => the sum of own_pages over live ids. */
uint64_t memcg_total_charged(void);
/* Are the counters of every group consistent (subtree sums)? */
bool memcg_check(void);

#endif
