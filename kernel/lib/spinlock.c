/*
 * spinlock.c - spinlocks and the run-time lock-order checker
 * (spinlock.h). The order itself: docs/design.md, "Locking".
 *
 * The checker's state is per CPU: the locks a CPU holds, in the order
 * taken. It is touched only by that CPU with its interrupts off (every
 * spinlock turns them off before the checker looks), so it needs no lock.
 */
#include <mercator/panic.h>
#include <mercator/spinlock.h>

struct held_locks {
        const struct spinlock *lock[LOCK_MAX_HELD];
        unsigned n;
};

static struct held_locks held[LOCK_MAX_CPUS];

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
        while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
                while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
                        intr_cpu_relax();
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
