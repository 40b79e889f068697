/*
 * futex.c - fast user-space locking: the futex system call, robust lists.
 *
 * A futex is a 32-bit word in user memory. Programs change it with atomic
 * instructions and ask the kernel only to sleep until the word may have
 * changed (FUTEX_WAIT) or to wake sleepers (FUTEX_WAKE). The kernel never
 * interprets the word, except for the robust-list protocol at exit.
 *
 * Keys: who waits on "the same futex" is decided by the identity of the
 * memory, not by the virtual address:
 *   - a shared operation (no FUTEX_PRIVATE_FLAG) in a shared mapping
 *     (MAP_SHARED anonymous memory, a tmpfs file, SysV shm) has the key
 *     (object, page index, offset in the page), so processes that map the
 *     same page at different addresses meet;
 *   - a shared operation in private memory has (address space, virtual
 *     address): after fork, parent and child have distinct futexes at the
 *     same address, as their private pages are distinct; the threads of a
 *     process, on one space, meet;
 *   - a private operation (FUTEX_PRIVATE_FLAG) has (address space,
 *     virtual address) too, without looking at the memory (a private wake
 *     of an unmapped address wakes nobody and is no error), but marked
 *     private: as on Linux, a private waiter is not woken by a shared
 *     wake of the same word, nor the other way round.
 * A waiter holds a reference to its key's object while it sleeps, so the
 * object cannot be freed and its address reused for another key.
 *
 * Waiters sit in a small hash table of doubly linked lists. Each waiter is
 * a struct on its own kernel stack; it sleeps on itself as the channel, and
 * a waker unlinks it and sets `woken` before waking it, so a waiter that
 * comes back linked was not woken (timeout or signal).
 *
 * A thread's exit (CLONE_CHILD_CLEARTID) and the robust-list protocol wake
 * with shared keys, as Linux's. A timed wait interrupted by a signal that
 * runs no handler goes on to the same deadline (restart_syscall).
 *
 * Locks: futex_lock [f] guards the table: the lists, and a linked
 * waiter's links, key, object and `woken`. Rank LOCK_RANK_FUTEX: inside
 * the big lock (exit's wakes), outside the run queue's (a wake-up takes
 * it, sched_wakeup). The call runs without the big lock
 * (syscall.c:call_lock_free): a private futex's key is its thread's space
 * and the address, and its word is read under futex_lock by a copy whose
 * faults are not served (copy_from_user_nofault; on a fault the lock is
 * dropped, the page brought in and the look made again), so a wait's
 * compare-and-link and FUTEX_CMP_REQUEUE's compare-and-move are each one
 * step to every other futex call, as on Linux. A shared key looks at the
 * space's areas and references their objects, both the big lock's: such a
 * call takes that lock first and keeps it to its way out (a shared waiter
 * holds it again when its sleep ends). A waiter, once linked, sleeps
 * unless `woken` is set when looked at under the run queue's lock
 * (sched_sleep_on_until_intr_unless); a waker sets it under futex_lock and
 * wakes the channel before it lets go of that lock, so a waiter that
 * takes futex_lock after its sleep knows no waker is still at its struct.
 * The words the kernel changes (FUTEX_WAKE_OP, a dying owner's robust
 * locks) it changes by compare-and-swap (user_cmpxchg32), outside
 * futex_lock: user code on other CPUs changes them with atomics at the
 * same time, and a read then a write would lose what came between.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/futex.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <proc/time.h>
#include <vm/vm_area.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

#define FUTEX_WAIT              0
#define FUTEX_WAKE              1
#define FUTEX_FD                2
#define FUTEX_REQUEUE           3
#define FUTEX_CMP_REQUEUE       4
#define FUTEX_WAKE_OP           5
#define FUTEX_LOCK_PI           6
#define FUTEX_UNLOCK_PI         7
#define FUTEX_TRYLOCK_PI        8
#define FUTEX_WAIT_BITSET       9
#define FUTEX_WAKE_BITSET       10
#define FUTEX_PRIVATE_FLAG      128
#define FUTEX_CLOCK_REALTIME    256
#define FUTEX_CMD_MASK          (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_MATCH_ANY  0xffffffffu

/* The robust-list protocol's bits in a lock word. */
#define FUTEX_WAITERS           0x80000000u
#define FUTEX_OWNER_DIED        0x40000000u
#define FUTEX_TID_MASK          0x3fffffffu
#define ROBUST_LIST_LIMIT       2048    /* entries walked at exit, as Linux */

struct futex_key {
        const void *base;       /* vm_object (shared) or vm_space (private) */
        uint64_t    where;      /* page index << 12 | offset, or the address */
        bool        private;    /* FUTEX_PRIVATE_FLAG's (base a space) */
};

struct futex_waiter {
        struct futex_waiter *prev, *next;       /* bucket list */
        struct futex_key     key;
        struct vm_object    *obj;       /* referenced while waiting, or NULL */
        uint32_t             bitset;
        bool                 woken;
};

#define FUTEX_BUCKETS   64
static struct futex_waiter *buckets[FUTEX_BUCKETS];     /* [f] */
static struct spinlock futex_lock = SPINLOCK_INIT("futex", LOCK_RANK_FUTEX);

static unsigned bucket_of(const struct futex_key *k)
{
        uint64_t h = (uint64_t)(uintptr_t)k->base * 0x9e3779b97f4a7c15ull ^
                     k->where * 0xc2b2ae3d27d4eb4full;
        return (unsigned)(h >> 58) % FUTEX_BUCKETS;
}

static bool key_eq(const struct futex_key *a, const struct futex_key *b)
{
        return a->base == b->base && a->where == b->where &&
               a->private == b->private;
}

static void waiter_link(struct futex_waiter *w)
{
        struct futex_waiter **head = &buckets[bucket_of(&w->key)];

        w->prev = NULL;
        w->next = *head;
        if (*head)
                (*head)->prev = w;
        *head = w;
}

static void waiter_unlink(struct futex_waiter *w)
{
        if (w->prev)
                w->prev->next = w->next;
        else
                buckets[bucket_of(&w->key)] = w->next;
        if (w->next)
                w->next->prev = w->prev;
        w->prev = w->next = NULL;
}

/*
 * The key of the futex word at uaddr in the current space; a shared one
 * takes the big lock, if the call has not, and keeps it, and enters the
 * space (the areas' lock: a sibling thread's munmap may change them
 * without the big lock, vm_space.h).
 * => *obj: the shared object the key names (not referenced), or NULL.
 * => 0, -EINVAL (not 4-byte aligned), -EFAULT (no area there).
 */
static long futex_key_of(uint64_t uaddr, bool private, struct futex_key *key,
                         struct vm_object **obj)
{
        const struct vm_area *a;

        if (uaddr & 3)
                return -EINVAL;
        *obj = NULL;
        *key = (struct futex_key){ current->space, uaddr, private };
        if (private)
                return 0;
        proc_kernel_lock_entered();
        a = vm_space_lookup(current->space, (vaddr_t)uaddr);
        if (!a)
                return -EFAULT;
        if ((a->flags & VM_AREA_SHARED) && a->object) {
                uint64_t off = (uaddr - a->start) >> PAGE_SHIFT;
                key->base = a->object;
                key->where = (a->pgoff + off) << PAGE_SHIFT |
                             (uaddr & (PAGE_SIZE - 1));
                *obj = a->object;
                return 0;
        }
        return 0;
}

/* Wake up to n waiters on key whose bitset meets bitset (at least one if
 * any waits: Linux counts after waking); how many woke. [f] */
static long futex_wake_key(const struct futex_key *key, uint32_t bitset,
                           long n)
{
        struct futex_waiter *w = buckets[bucket_of(key)], *next;
        long woken = 0;

        if (n < 1)
                n = 1;
        for (; w && woken < n; w = next) {
                next = w->next;
                if (!key_eq(&w->key, key) || !(w->bitset & bitset))
                        continue;
                waiter_unlink(w);
                __atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
                sched_wakeup(w);
                woken++;
        }
        return woken;
}

/* futex_lock taken with the word at uaddr read under it into *val.
 * => 0 (the lock held), or -EFAULT (not held). */
static long lock_and_read(uint64_t uaddr, uint32_t *val)
{
        for (;;) {
                spin_lock(&futex_lock);
                if (!copy_from_user_nofault(val, uaddr, sizeof *val))
                        return 0;
                spin_unlock(&futex_lock);
                /* Not there, or not readable: in with a fault, if it can
                 * be, and the look again (the page may go meanwhile). */
                if (copy_from_user(val, uaddr, sizeof *val))
                        return -EFAULT;
        }
}

static long futex_wait(uint64_t uaddr, bool private, uint32_t val,
                       uint32_t bitset, uint64_t deadline);

/* restart_syscall's way back into an interrupted timed wait: the same
 * word, value, bitset and deadline. */
static long futex_wait_restart(struct restart_block *rb)
{
        return futex_wait(rb->arg[0] & ~3ull, rb->arg[0] & 1,
                          (uint32_t)rb->arg[1], (uint32_t)(rb->arg[1] >> 32),
                          rb->deadline);
}

/*
 * Sleep on the futex at uaddr while it holds val, until woken, the deadline
 * (monotonic ns; 0 = none) or a signal.
 */
static long futex_wait(uint64_t uaddr, bool private, uint32_t val,
                       uint32_t bitset, uint64_t deadline)
{
        struct futex_waiter w = { .bitset = bitset };
        uint32_t cur;
        long err;
        bool woken;

        if (!bitset)
                return -EINVAL;
        if ((err = futex_key_of(uaddr, private, &w.key, &w.obj)))
                return err;
        if ((err = lock_and_read(uaddr, &cur)))
                return err;
        if (cur != val) {
                spin_unlock(&futex_lock);
                return -EAGAIN;
        }
        if (w.obj)                      /* the big lock's (futex_key_of) */
                vm_object_ref(w.obj);
        waiter_link(&w);
        spin_unlock(&futex_lock);
        while (!__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) {
                if (deadline && clock_monotonic_ns() >= deadline)
                        break;
                if (sched_sleep_on_until_intr_unless(&w, deadline, &w.woken))
                        break;
        }
        spin_lock(&futex_lock);         /* no waker is at w after this */
        woken = w.woken;
        if (!woken)
                waiter_unlink(&w);
        spin_unlock(&futex_lock);
        if (w.obj) {            /* requeue may have changed it */
                ASSERT(machine_kernel_lock_held());     /* futex_key_of's */
                vm_object_unref(w.obj);
        }
        if (woken)
                return 0;
        if (deadline && clock_monotonic_ns() >= deadline)
                return -ETIMEDOUT;
        /* Interrupted: without a timeout the call restarts under
         * SA_RESTART, as Linux's; with one, EINTR if a handler runs, else
         * it goes on to the same deadline. */
        if (!deadline)
                return -ERESTARTSYS;
        return proc_restart_with(futex_wait_restart, deadline,
                                 uaddr | private, val | (uint64_t)bitset << 32);
}

/*
 * Move up to n waiters of `from` to `to`, each with a reference to to_obj
 * (to's object, or NULL); how many moved. Each held one to from's object
 * (key.base, for a key with one), which the caller drops that many times
 * after futex_lock: a last reference's end takes locks ranked before it.
 * [f], and the big lock if to_obj.
 */
static long futex_requeue_key(const struct futex_key *from,
                              const struct futex_key *to,
                              struct vm_object *to_obj, long n)
{
        struct futex_waiter *w = buckets[bucket_of(from)], *next;
        long moved = 0;

        for (; w && moved < n; w = next) {
                next = w->next;
                if (!key_eq(&w->key, from))
                        continue;
                waiter_unlink(w);
                w->key = *to;
                if (to_obj)
                        vm_object_ref(to_obj);
                w->obj = to_obj;
                waiter_link(w);
                moved++;
        }
        return moved;
}

/* FUTEX_WAKE_OP's operation on *uaddr2, and its comparison. */
static long futex_wake_op(uint64_t uaddr, uint64_t uaddr2, bool private,
                          long n1, long n2, uint32_t encoded)
{
        struct futex_key k1, k2;
        struct vm_object *o1, *o2;
        unsigned op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
        uint32_t oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
        int32_t soparg = (int32_t)(oparg << 20) >> 20;
        int32_t scmparg = (int32_t)(cmparg << 20) >> 20;
        uint32_t old, new;
        long err, woken;
        bool hit;

        if ((err = futex_key_of(uaddr, private, &k1, &o1)) ||
            (err = futex_key_of(uaddr2, private, &k2, &o2)))
                return err;
        if (encoded & (8u << 28))               /* FUTEX_OP_OPARG_SHIFT */
                oparg = 1u << (soparg & 31);    /* Linux masks, since 4.15 */
        else
                oparg = (uint32_t)soparg;
        if (op > 4)
                return -ENOSYS;
        /* The operation is atomic against user code on other CPUs (an
         * increment there between a read and a write here would be
         * lost): a compare-and-swap, again while the word moves. */
        if (copy_from_user(&old, uaddr2, sizeof old))
                return -EFAULT;
        for (;;) {
                uint32_t seen = old;

                switch (op) {
                case 0: new = oparg; break;             /* SET */
                case 1: new = old + oparg; break;       /* ADD */
                case 2: new = old | oparg; break;       /* OR */
                case 3: new = old & ~oparg; break;      /* ANDN */
                default: new = old ^ oparg; break;      /* XOR */
                }
                if (user_cmpxchg32(uaddr2, &seen, new))
                        return -EFAULT;
                if (seen == old)
                        break;
                old = seen;
        }
        switch (cmp) {          /* an unknown one after the change, as Linux */
        case 0: hit = (int32_t)old == scmparg; break;
        case 1: hit = (int32_t)old != scmparg; break;
        case 2: hit = (int32_t)old < scmparg; break;
        case 3: hit = (int32_t)old <= scmparg; break;
        case 4: hit = (int32_t)old > scmparg; break;
        case 5: hit = (int32_t)old >= scmparg; break;
        default: return -ENOSYS;
        }
        spin_lock(&futex_lock);
        woken = futex_wake_key(&k1, FUTEX_BITSET_MATCH_ANY, n1);
        if (hit)
                woken += futex_wake_key(&k2, FUTEX_BITSET_MATCH_ANY, n2);
        spin_unlock(&futex_lock);
        return woken;
}

/* The deadline of a wait, in monotonic ns, from the user's timespec. */
static long futex_deadline(int cmd, bool realtime, uint64_t utime,
                           uint64_t *deadline)
{
        struct linux_timespec ts;
        uint64_t ns, now;
        long err;

        *deadline = 0;
        if (!utime)
                return 0;
        if ((err = timespec_get(utime, &ts)))
                return err;
        ns = (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
        now = clock_monotonic_ns();
        if (cmd == FUTEX_WAIT) {                /* relative */
                *deadline = now + ns;
        } else if (realtime) {                  /* absolute, CLOCK_REALTIME */
                uint64_t rt = clock_realtime_ns();
                *deadline = ns > rt ? now + (ns - rt) : now;
        } else {                                /* absolute, CLOCK_MONOTONIC */
                *deadline = ns;
        }
        if (!*deadline)
                *deadline = 1;                  /* already past, not "none" */
        return 0;
}

SYSCALL_DECL(futex)
{
        uint64_t uaddr = (uint64_t)a0, utime = (uint64_t)a3;
        uint64_t uaddr2 = (uint64_t)a4;
        int op = (int)a1, cmd = op & FUTEX_CMD_MASK;
        uint32_t val = (uint32_t)a2, val3 = (uint32_t)a5;
        bool private = op & FUTEX_PRIVATE_FLAG;
        bool realtime = op & FUTEX_CLOCK_REALTIME;
        struct futex_key k1, k2;
        struct vm_object *o1, *o2;
        uint64_t deadline;
        uint32_t cur;
        long err, woken, moved;

        if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT)
                return -ENOSYS;
        switch (cmd) {
        case FUTEX_WAIT:
        case FUTEX_WAIT_BITSET:
                if ((err = futex_deadline(cmd, realtime, utime, &deadline)))
                        return err;
                return futex_wait(uaddr, private, val,
                                  cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY
                                                    : val3, deadline);
        case FUTEX_WAKE:
        case FUTEX_WAKE_BITSET:
                if (cmd == FUTEX_WAKE_BITSET && !val3)
                        return -EINVAL;
                if ((err = futex_key_of(uaddr, private, &k1, &o1)))
                        return err;
                spin_lock(&futex_lock);
                woken = futex_wake_key(&k1, cmd == FUTEX_WAKE ?
                                       FUTEX_BITSET_MATCH_ANY : val3,
                                       (int)val < 0 ? 0x7fffffff : (int)val);
                spin_unlock(&futex_lock);
                return woken;
        case FUTEX_REQUEUE:
        case FUTEX_CMP_REQUEUE:
                /* The timeout argument carries the requeue count. */
                if ((int)val < 0 || (int)utime < 0)
                        return -EINVAL;
                if ((err = futex_key_of(uaddr, private, &k1, &o1)) ||
                    (err = futex_key_of(uaddr2, private, &k2, &o2)))
                        return err;
                if (cmd == FUTEX_CMP_REQUEUE) { /* compare and move: one step */
                        if ((err = lock_and_read(uaddr, &cur)))
                                return err;
                        if (cur != val3) {
                                spin_unlock(&futex_lock);
                                return -EAGAIN;
                        }
                } else {
                        spin_lock(&futex_lock);
                }
                woken = futex_wake_key(&k1, FUTEX_BITSET_MATCH_ANY, (int)val);
                moved = futex_requeue_key(&k1, &k2, o2, (int)utime);
                spin_unlock(&futex_lock);
                for (long i = 0; o1 && i < moved; i++)
                        vm_object_unref(o1);
                return woken + moved;
        case FUTEX_WAKE_OP:
                return futex_wake_op(uaddr, uaddr2, private, (int)val,
                                     (int)utime, val3);
        default:
                /* FUTEX_FD was removed from Linux; the PI operations are
                 * not built (they need owners that are threads). */
                return -ENOSYS;
        }
}

struct robust_list_head {              /* three of the user's longs */
        unsigned long next;             /* first entry, or the head itself */
        long          futex_offset;     /* entry -> its lock word */
        unsigned long list_op_pending;  /* an entry being (un)locked */
};

SYSCALL_DECL(set_robust_list)
{
        if ((uint64_t)a1 != sizeof(struct robust_list_head))
                return -EINVAL;
        current->robust_list = (uint64_t)a0;
        return 0;
}

SYSCALL_DECL(get_robust_list)
{
        unsigned long len = sizeof(struct robust_list_head), head;
        struct proc *p = (int)a0 ? proc_find((int)a0) : current;

        if (!p)
                return -ESRCH;
        head = p->robust_list;
        if (copy_to_user((uint64_t)a2, &len, sizeof len) ||
            copy_to_user((uint64_t)a1, &head, sizeof head))
                return -EFAULT;
        return 0;
}

/* One lock word of a dying owner: mark it, wake a waiter. */
static void robust_release(uint64_t uword, int tid)
{
        uint32_t word, new;

        if (copy_from_user(&word, uword, sizeof word))
                return;
        for (;;) {              /* a waiter may set FUTEX_WAITERS meanwhile */
                uint32_t seen = word;

                if ((word & FUTEX_TID_MASK) != (uint32_t)tid)
                        return;
                new = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
                if (user_cmpxchg32(uword, &seen, new))
                        return;
                if (seen == word)
                        break;
                word = seen;
        }
        if (word & FUTEX_WAITERS)
                futex_wake_address(uword);
}

void futex_exit_robust(struct proc *p)
{
        struct robust_list_head head;
        unsigned long entry;

        if (!p->robust_list || p != current ||
            copy_from_user(&head, p->robust_list, sizeof head))
                return;
        entry = head.next;
        for (int n = 0; entry != p->robust_list && n < ROBUST_LIST_LIMIT;
             n++) {
                unsigned long next;
                /* Bit 0 of an entry marks a PI lock; the word is the same. */
                unsigned long e = entry & ~1UL;
                if (copy_from_user(&next, e, sizeof next))
                        break;
                if (e != head.list_op_pending)
                        robust_release(e + (uint64_t)head.futex_offset,
                                       p->tid);
                entry = next;
        }
        if (head.list_op_pending)
                robust_release((head.list_op_pending & ~1UL) +
                               (uint64_t)head.futex_offset, p->tid);
}

void futex_wake_address(uint64_t uaddr)
{
        struct futex_key key;
        struct vm_object *obj;

        if (futex_key_of(uaddr, false, &key, &obj) == 0) {
                spin_lock(&futex_lock);
                futex_wake_key(&key, FUTEX_BITSET_MATCH_ANY, 1);
                spin_unlock(&futex_lock);
        }
}
