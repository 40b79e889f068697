/*
 * spinlock.h - spinlocks that turn interrupts off while held, and the
 * lock-order checker that watches them.
 *
 * The lock order is written in one place, docs/design.md ("Locking"); the
 * ranks below are that order as numbers (a lock may only be taken while
 * every lock the CPU already holds has a lower rank). With LOCK_DEBUG (on
 * unless the build says -DLOCK_DEBUG=0, so in every build `make` makes
 * today) each CPU keeps the locks it holds, and taking a lock whose rank
 * is not above all of them, taking a lock the CPU already holds, or
 * releasing one it does not hold, panics with both locks' names.
 *
 * Interrupts: spin_lock() saves the CPU's interrupt state and turns them
 * off, spin_unlock() puts back what it saved; a lock taken by an
 * interrupt handler can then never be held by the code it interrupted.
 * Nested locks are released in any order, each restoring what it saved.
 *
 * The machine gives: machine/intr.h's intr_save(), intr_restore(),
 * intr_cpu_relax() and machine_cpu_id() (0 on machines with one CPU).
 */
#ifndef MERCATOR_SPINLOCK_H
#define MERCATOR_SPINLOCK_H

#include <mercator/types.h>
#include <machine/intr.h>

#ifndef LOCK_DEBUG
#define LOCK_DEBUG 1
#endif

/* Lock ranks: the order of docs/design.md "Locking", outermost first. */
enum lock_rank {
        LOCK_RANK_TEST_OUTER = 5,       /* tests of the checker only */
        LOCK_RANK_BIG = 10,             /* the big kernel lock (biglock.c) */
        LOCK_RANK_SPACE_DOOR = 20,      /* a space's door (vm_space.c) */
        LOCK_RANK_SPACE_FAULT = 22,     /* a space's lock-free faults */
        LOCK_RANK_OBJECT_PUTS = 23,     /* deferred puts (vm_object.c) */
        LOCK_RANK_OBJECT = 24,          /* a mapped object's insertions */
        LOCK_RANK_SPACE_PMAP = 26,      /* ...their pmap changes */
        LOCK_RANK_KMALLOC = 27,         /* a kmalloc cache (kmalloc.c) */
        LOCK_RANK_PMM_ZONE = 28,        /* a zone's free lists (pmm.c) */
        LOCK_RANK_MEMCG = 29,           /* memory groups' page counts */
        LOCK_RANK_SMP_CALL = 30,        /* smp_call's sender slot */
        LOCK_RANK_TEST_INNER = 40,      /* tests of the checker only */
        LOCK_RANK_BLKDEV = 60,          /* a disk's queue (virtio_blk.c) */
        LOCK_RANK_FUTEX = 65,           /* the futex waiters (futex.c) */
        LOCK_RANK_SCHED = 70,           /* the run queue (sched.c) */
        LOCK_RANK_VVAR = 80,            /* the vDSO's clock page (vdso.c) */
        LOCK_RANK_CONSOLE = 90,         /* console output: innermost */
};

#define LOCK_MAX_CPUS   16      /* CPUs the checker keeps state for */
#define LOCK_MAX_HELD   8       /* locks one CPU may hold at once */

/* One spinlock. Locks: [a] atomic  [c] constant after init. */
struct spinlock {
        uint32_t locked;        /* [a] 0 free, 1 held */
        int32_t cpu;            /* [a] holder's machine_cpu_id(), -1 free */
        unsigned rank;          /* [c] enum lock_rank */
        const char *name;       /* [c] for the checker's messages */
        unsigned long saved;    /* holder's interrupt state (intr_save) */
};

#define SPINLOCK_INIT(n, r)     { 0, -1, (r), (n), 0 }

void spin_init(struct spinlock *l, const char *name, enum lock_rank rank);

/* Take l, spinning; interrupts off until the matching spin_unlock().
 * => panics (LOCK_DEBUG) if the order or a re-take is wrong. */
void spin_lock(struct spinlock *l);

/* Take l if it is free (held by this CPU counts as not free). => true
 * with l held (as spin_lock), else false with nothing changed. The order
 * is not checked (a trylock never waits, so it cannot deadlock), but the
 * lock counts as held for the locks taken under it. */
bool spin_trylock(struct spinlock *l);

/* Release l and put back the interrupt state spin_lock() saved.
 * => panics (LOCK_DEBUG) unless this CPU holds l. */
void spin_unlock(struct spinlock *l);

/* Whether this CPU holds l (for assertions). */
bool spin_held(const struct spinlock *l);

/* How many locks this CPU holds (LOCK_DEBUG; 0 without). */
unsigned lock_held_count(void);

/*
 * The checker's rule on its own: may a lock of rank `want` be taken while
 * the ranks held[0..n) are held? => true if so; else false, with the
 * index of the first held rank that forbids it in *bad (may be NULL).
 */
bool lock_order_ok(const unsigned *held, unsigned n, unsigned want,
                   unsigned *bad);

/*
 * Contention, per rank (LOCK_DEBUG; nothing without): every acquisition
 * is counted on its CPU, and one that found the lock held also counts
 * the nanoseconds it waited. /proc/lock_stat prints the sums; the big
 * kernel lock reports under LOCK_RANK_BIG. Per CPU, so that counting
 * adds no shared cache line to the locks it watches.
 */
#define LOCK_STAT_RANKS 100

struct lock_stat {
        uint64_t acquired;      /* acquisitions */
        uint64_t contended;     /* of which found the lock held */
        uint64_t wait_ns;       /* time those waited (0 on the host) */
        uint64_t wait_max_ns;   /* the longest of those waits */
};

/* Count one acquisition of a lock of rank; contended with wait_ns. */
void lock_stat_note(unsigned rank, bool contended, uint64_t wait_ns);

/* The sums over every CPU for rank (zeros if none); wait_max_ns is the
 * longest wait on any CPU. */
struct lock_stat lock_stat_sum(unsigned rank);

/* CPU cpu's own row for rank (zeros if either is beyond the table). */
struct lock_stat lock_stat_cpu(unsigned cpu, unsigned rank);

/* A short name for rank's locks, or NULL if no lock has that rank. */
const char *lock_rank_name(unsigned rank);

/* A clock for the wait times: clock_monotonic_ns in a kernel, 0 on the
 * host (which has no such clock). */
uint64_t lock_stat_now(void);

#endif
