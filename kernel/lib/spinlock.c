/*
 * spinlock.c - spinlocks and the run-time lock-order checker
 * (spinlock.h). The order itself: docs/design.md, "Locking".
 *
 * The checker's state is per CPU: the locks a CPU holds, in the order
 * taken. It is touched only by that CPU with its interrupts off (every
 * spinlock turns them off before the checker looks), so it needs no lock.
 */
#include <mercator/clock.h>
#include <mercator/panic.h>
#include <mercator/spinlock.h>

struct held_locks {
        const struct spinlock *lock[LOCK_MAX_HELD];
        unsigned n;
};

static struct held_locks held[LOCK_MAX_CPUS];

/* Contention counts (spinlock.h), one row per CPU, touched by that CPU
 * only, with its interrupts off. */
static struct lock_stat stats[LOCK_MAX_CPUS][LOCK_STAT_RANKS];

uint64_t lock_stat_now(void)
{
#ifdef HOST_BUILD
        return 0;
#else
        return clock_monotonic_ns();
#endif
}

void lock_stat_note(unsigned rank, bool contended, uint64_t wait_ns)
{
        unsigned cpu = machine_cpu_id();
        struct lock_stat *st;

        if (!LOCK_DEBUG || cpu >= LOCK_MAX_CPUS || rank >= LOCK_STAT_RANKS)
                return;
        st = &stats[cpu][rank];
        st->acquired++;
        if (contended) {
                st->contended++;
                st->wait_ns += wait_ns;
                if (wait_ns > st->wait_max_ns)
                        st->wait_max_ns = wait_ns;
        }
}

struct lock_stat lock_stat_cpu(unsigned cpu, unsigned rank)
{
        if (cpu >= LOCK_MAX_CPUS || rank >= LOCK_STAT_RANKS)
                return (struct lock_stat){ 0, 0, 0, 0 };
        return stats[cpu][rank];
}

struct lock_stat lock_stat_sum(unsigned rank)
{
        struct lock_stat sum = { 0, 0, 0, 0 };

        if (rank >= LOCK_STAT_RANKS)
                return sum;
        for (unsigned c = 0; c < LOCK_MAX_CPUS; c++) {
                sum.acquired += stats[c][rank].acquired;
                sum.contended += stats[c][rank].contended;
                sum.wait_ns += stats[c][rank].wait_ns;
                sum.wait_max_ns = MAX(sum.wait_max_ns,
                                      stats[c][rank].wait_max_ns);
        }
        return sum;
}

const char *lock_rank_name(unsigned rank)
{
        switch (rank) {
        case LOCK_RANK_TEST_OUTER:      return "test-outer";
        case LOCK_RANK_BIG:             return "big-kernel-lock";
        case LOCK_RANK_SPACE_DOOR:      return "space-door";
        case LOCK_RANK_SPACE_FAULT:     return "space-fault";
        case LOCK_RANK_OBJECT_PUTS:     return "object-puts";
        case LOCK_RANK_OBJECT:          return "vm-object";
        case LOCK_RANK_SPACE_PMAP:      return "space-pmap";
        case LOCK_RANK_KMALLOC:         return "kmalloc-cache";
        case LOCK_RANK_PMM_ZONE:        return "pmm-zone";
        case LOCK_RANK_MEMCG:           return "memcg-counts";
        case LOCK_RANK_SMP_CALL:        return "smp-call";
        case LOCK_RANK_TEST_INNER:      return "test-inner";
        case LOCK_RANK_BLKDEV:          return "blkdev-queue";
        case LOCK_RANK_FUTEX:           return "futex";
        case LOCK_RANK_SCHED:           return "sched";
        case LOCK_RANK_VVAR:            return "vvar";
        case LOCK_RANK_CONSOLE:         return "console";
        }
        return NULL;
}

bool lock_order_ok(const unsigned *ranks, unsigned n, unsigned want,
                   unsigned *bad)
{
        for (unsigned i = 0; i < n; i++)
                if (ranks[i] >= want) {
                        if (bad)
                                *bad = i;
                        return false;
                }
        return true;
}

static struct held_locks *held_of(unsigned id)
{
        if (id >= LOCK_MAX_CPUS)
                panic("lock: CPU %u beyond the checker's %u", id,
                      LOCK_MAX_CPUS);
        return &held[id];
}

static struct held_locks *my_held(void)
{
        return held_of(machine_cpu_id());
}

/*
 * Before taking l: the order rule against every lock held (the rule of
 * lock_order_ok, applied to the held locks' ranks in place). Nothing to
 * check when none is held, the common case (a page allocation, a kmalloc
 * call): that costs a load and a compare.
 */
static void check_acquire(struct held_locks *h, const struct spinlock *l)
{
        for (unsigned i = 0; i < h->n; i++) {
                if (h->lock[i] == l)
                        panic("lock: %s taken again by the CPU holding it",
                              l->name);
                if (h->lock[i]->rank >= l->rank)
                        panic("lock order: %s (rank %u) taken while holding "
                              "%s (rank %u)", l->name, l->rank,
                              h->lock[i]->name, h->lock[i]->rank);
        }
        if (h->n == LOCK_MAX_HELD)
                panic("lock: more than %u locks held taking %s",
                      LOCK_MAX_HELD, l->name);
}

static void note_acquired(struct held_locks *h, const struct spinlock *l)
{
        h->lock[h->n++] = l;
}

/* The last lock taken is the one most often released first. */
static void note_released(const struct spinlock *l)
{
        struct held_locks *h = my_held();

        if (h->n && h->lock[h->n - 1] == l) {
                h->n--;
                return;
        }
        for (unsigned i = 0; i < h->n; i++)
                if (h->lock[i] == l) {
                        for (unsigned j = i + 1; j < h->n; j++)
                                h->lock[j - 1] = h->lock[j];
                        h->n--;
                        return;
                }
        panic("lock: %s released by a CPU that does not hold it", l->name);
}

void spin_init(struct spinlock *l, const char *name, enum lock_rank rank)
{
        *l = (struct spinlock)SPINLOCK_INIT(name, rank);
}

void spin_lock(struct spinlock *l)
{
        unsigned long s = intr_save();
        unsigned cpu = machine_cpu_id();
        struct held_locks *h = NULL;

        if (LOCK_DEBUG) {
                h = held_of(cpu);
                check_acquire(h, l);
        }
        if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
                uint64_t t0 = lock_stat_now();

                do
                        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
                                intr_cpu_relax();
                while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE));
                lock_stat_note(l->rank, true, lock_stat_now() - t0);
        } else {
                lock_stat_note(l->rank, false, 0);
        }
        l->saved = s;
        __atomic_store_n(&l->cpu, (int32_t)cpu, __ATOMIC_RELAXED);
        if (LOCK_DEBUG)
                note_acquired(h, l);
}

bool spin_trylock(struct spinlock *l)
{
        unsigned long s = intr_save();

        if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
                intr_restore(s);
                return false;
        }
        if (LOCK_DEBUG)         /* no order check: it cannot wait */
                note_acquired(my_held(), l);
        lock_stat_note(l->rank, false, 0);
        l->saved = s;
        __atomic_store_n(&l->cpu, (int32_t)machine_cpu_id(), __ATOMIC_RELAXED);
        return true;
}

void spin_unlock(struct spinlock *l)
{
        unsigned long s = l->saved;

        if (LOCK_DEBUG)
                note_released(l);
        __atomic_store_n(&l->cpu, -1, __ATOMIC_RELAXED);
        __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
        intr_restore(s);
}

bool spin_held(const struct spinlock *l)
{
        return __atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
               __atomic_load_n(&l->cpu, __ATOMIC_RELAXED) ==
               (int32_t)machine_cpu_id();
}

unsigned lock_held_count(void)
{
        return LOCK_DEBUG ? my_held()->n : 0;
}
