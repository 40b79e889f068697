/*
 * lock.c - advisory locks with Linux's rules: POSIX record locks (fcntl
 * F_GETLK, F_SETLK, F_SETLKW) owned by a process; open file description
 * locks (F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW), the same byte ranges
 * owned by an open file description; and flock() locks, whole-file and
 * owned by an open file description.
 *
 * A vnode keeps its locks in one list of byte ranges [start, end] (end
 * UINT64_MAX: to the end of the file, however it grows), each with its
 * kind, owner and type. An owner's record locks never overlap each other:
 * setting a lock first cuts the owner's old ranges out of the new one, so
 * a lock can be split, shortened, or change type in place. POSIX and OFD
 * locks meet each other (a request conflicts with another owner's
 * overlapping range when either is a write lock); flock locks meet only
 * flock locks. A waiting F_SETLKW or flock sleeps on the vnode until the
 * conflict goes (a signal ends the wait: EINTR or a restart).
 *
 * Closing any descriptor of the file drops all of the process's POSIX
 * locks on it, as POSIX says (and as everyone regrets: the reason OFD
 * locks exist); OFD and flock locks go when their open file description
 * does.
 *
 * Deadlocks: a POSIX F_SETLKW that would wait for a process that waits,
 * through a chain of at most LOCK_CHAIN_MAX waiting processes, for the
 * caller fails with EDEADLK, as Linux's posix_locks_deadlock. OFD waits
 * are not checked (Linux does not either: their owner is no process).
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <vm/kmalloc.h>

#define F_RDLCK         0
#define F_WRLCK         1
#define F_UNLCK         2
#define F_GETLK         5
#define F_SETLK         6
#define F_SETLKW        7
#define F_OFD_GETLK     36
#define F_OFD_SETLK     37
#define F_OFD_SETLKW    38

#define LOCK_SH         1
#define LOCK_EX         2
#define LOCK_NB         4
#define LOCK_UN         8

#define LOCK_CHAIN_MAX  10      /* waiters followed looking for a cycle */

enum lock_kind { LK_POSIX, LK_OFD, LK_FLOCK };

struct file_lock {
        struct file_lock *next;
        enum lock_kind    kind;
        int               pid;          /* POSIX: the owner; else who set it */
        struct file      *file;         /* OFD, flock: the owner */
        int               type;         /* F_RDLCK or F_WRLCK */
        uint64_t          start, end;   /* inclusive */
};

/* Who asks: a lock's owner. */
struct lock_owner {
        enum lock_kind kind;
        int            pid;
        struct file   *file;
};

/* A struct flock as the lock code works on it. */
struct linux_flock {
        int16_t  l_type;
        int16_t  l_whence;
        int64_t  l_start;
        int64_t  l_len;
        int32_t  l_pid;
};

/* The user's struct flock: off_t is a long (LP64: 32 bytes; i386: 16). */
struct user_flock {
        int16_t  l_type, l_whence;
        long     l_start, l_len;
        int32_t  l_pid;
};

/* A 32-bit machine's struct flock64 (i386's fcntl64 with F_GETLK64 and
 * the OFD commands): 64-bit offsets, 4-byte aligned, 24 bytes. */
struct user_flock64 {
        int16_t  l_type, l_whence;
        int64_t  l_start, l_len;
        int32_t  l_pid;
} __attribute__((packed, aligned(4)));

static long flock_in(uint64_t uaddr, bool flock64, struct linux_flock *fl)
{
        if (flock64) {
                struct user_flock64 u;
                if (copy_from_user(&u, uaddr, sizeof u))
                        return -EFAULT;
                *fl = (struct linux_flock){ u.l_type, u.l_whence, u.l_start,
                                            u.l_len, u.l_pid };
        } else {
                struct user_flock u;
                if (copy_from_user(&u, uaddr, sizeof u))
                        return -EFAULT;
                *fl = (struct linux_flock){ u.l_type, u.l_whence, u.l_start,
                                            u.l_len, u.l_pid };
        }
        return 0;
}

/* F_GETLK's answer; -EOVERFLOW if a 32-bit off_t cannot hold it. */
static long flock_out(uint64_t uaddr, bool flock64, const struct linux_flock *fl)
{
        if (flock64) {
                struct user_flock64 u = { fl->l_type, fl->l_whence, fl->l_start,
                                          fl->l_len, fl->l_pid };
                return copy_to_user(uaddr, &u, sizeof u) ? -EFAULT : 0;
        }
        struct user_flock u = { fl->l_type, fl->l_whence, (long)fl->l_start,
                                (long)fl->l_len, fl->l_pid };
        if (u.l_start != fl->l_start || u.l_len != fl->l_len)
                return -EOVERFLOW;
        return copy_to_user(uaddr, &u, sizeof u) ? -EFAULT : 0;
}

/* A process sleeping in F_SETLKW: what it waits for (deadlock search). */
struct lock_waiter {
        struct lock_waiter *next;
        struct vnode       *vn;
        int                 pid;
        int                 type;
        uint64_t            start, end;
};

static struct lock_waiter *waiters;     /* POSIX F_SETLKW sleepers */

static bool overlaps(const struct file_lock *l, uint64_t start, uint64_t end)
{
        return l->start <= end && start <= l->end;
}

static bool owns(const struct lock_owner *o, const struct file_lock *l)
{
        return l->kind == o->kind &&
               (o->kind == LK_POSIX ? l->pid == o->pid : l->file == o->file);
}

/* The first lock of another owner that a (type, range) request meets. */
static struct file_lock *conflict(struct vnode *vn, const struct lock_owner *o,
                                  int type, uint64_t start, uint64_t end)
{
        struct file_lock *first = NULL;

        for (struct file_lock *l = vn->locks; l; l = l->next) {
                if (owns(o, l) || (l->kind == LK_FLOCK) != (o->kind == LK_FLOCK))
                        continue;
                if (overlaps(l, start, end) &&
                    (type == F_WRLCK || l->type == F_WRLCK) &&
                    (!first || l->start < first->start))
                        first = l;
        }
        return first;           /* the lowest one, as F_GETLK reports */
}

/*
 * Would the caller, waiting for `blocker`, close a cycle of POSIX
 * waiters? Follows blocker's owner to what it waits for, at most
 * LOCK_CHAIN_MAX times.
 */
static bool would_deadlock(const struct file_lock *blocker)
{
        for (int i = 0; i < LOCK_CHAIN_MAX && blocker &&
                        blocker->kind == LK_POSIX; i++) {
                struct lock_waiter *w = waiters;
                if (blocker->pid == current->pid)
                        return true;
                while (w && w->pid != blocker->pid)
                        w = w->next;
                if (!w)
                        return false;
                struct lock_owner o = { LK_POSIX, w->pid, NULL };
                blocker = conflict(w->vn, &o, w->type, w->start, w->end);
        }
        return false;
}

/*
 * Cut [start, end] out of o's record locks on vn; `spare` is a lock to
 * use if a range must be split in two. => true if spare was used.
 */
static bool cut(struct vnode *vn, const struct lock_owner *o, uint64_t start,
                uint64_t end, struct file_lock *spare)
{
        struct file_lock **link = &vn->locks;
        bool used = false;

        while (*link) {
                struct file_lock *l = *link;
                if (!owns(o, l) || !overlaps(l, start, end)) {
                        link = &l->next;
                        continue;
                }
                if (l->start < start && l->end > end) {         /* split */
                        *spare = *l;
                        spare->start = end + 1;
                        l->end = start - 1;
                        spare->next = l->next;
                        l->next = spare;
                        used = true;
                        link = &spare->next;
                } else if (l->start < start) {
                        l->end = start - 1;
                        link = &l->next;
                } else if (l->end > end) {
                        l->start = end + 1;
                        link = &l->next;
                } else {
                        *link = l->next;
                        kfree(l);
                }
        }
        return used;
}

/* Drop every lock of vn that keep() refuses; wake waiters if any went. */
static void drop_locks(struct vnode *vn, bool (*keep)(const struct file_lock *,
                                                      const void *),
                       const void *arg)
{
        struct file_lock **link = &vn->locks;
        bool any = false;

        while (*link) {
                struct file_lock *l = *link;
                if (!keep(l, arg)) {
                        *link = l->next;
                        kfree(l);
                        any = true;
                } else {
                        link = &l->next;
                }
        }
        if (any)
                sched_wakeup(&vn->locks);
}

/* The range a struct flock names, from the file's offset and size. */
static long flock_range(struct file *f, struct vnode *vn,
                        const struct linux_flock *fl, uint64_t *start,
                        uint64_t *end)
{
        int64_t base;

        switch (fl->l_whence) {
        case 0: base = 0; break;
        case 1: base = (int64_t)f->offset; break;
        case 2: base = (int64_t)vn->size; break;
        default: return -EINVAL;
        }
        int64_t s = base + fl->l_start;
        if (fl->l_start > 0 && s < base)
                return -EOVERFLOW;
        if (fl->l_len > 0) {
                if (s < 0)
                        return -EINVAL;
                *start = (uint64_t)s;
                *end = (uint64_t)s + (uint64_t)fl->l_len - 1;
                if (*end < *start)
                        return -EOVERFLOW;
        } else if (fl->l_len == 0) {
                if (s < 0)
                        return -EINVAL;
                *start = (uint64_t)s;
                *end = UINT64_MAX;
        } else {
                if (s + fl->l_len < 0)
                        return -EINVAL;
                *start = (uint64_t)(s + fl->l_len);
                *end = (uint64_t)s - 1;
        }
        return 0;
}

static long fcntl_lock(struct file *f, int cmd, uint64_t uflock, bool flock64);

long vfs_fcntl_lock(struct file *f, int cmd, uint64_t uflock)
{
        return fcntl_lock(f, cmd, uflock, false);
}

long vfs_fcntl_lock64(struct file *f, int cmd, uint64_t uflock)
{
        return fcntl_lock(f, cmd, uflock, true);
}

static long fcntl_lock(struct file *f, int cmd, uint64_t uflock, bool flock64)
{
        struct vnode *vn = file_vnode(f);
        bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
        struct lock_owner me = { ofd ? LK_OFD : LK_POSIX, current->pid,
                                 ofd ? f : NULL };
        bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
        struct linux_flock fl;
        uint64_t start, end;
        long err;

        if (flock_in(uflock, flock64, &fl))
                return -EFAULT;
        if (!vn)
                return -EINVAL;
        if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
                return -EINVAL;
        if (ofd && fl.l_pid != 0)
                return -EINVAL;         /* Linux: l_pid must be 0 */
        if ((err = flock_range(f, vn, &fl, &start, &end)) != 0)
                return err;
        if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
                if (fl.l_type == F_UNLCK)
                        return -EINVAL;
                struct file_lock *l = conflict(vn, &me, fl.l_type, start, end);
                if (!l) {
                        fl.l_type = F_UNLCK;
                } else {
                        fl.l_type = (int16_t)l->type;
                        fl.l_whence = 0;
                        fl.l_start = (int64_t)l->start;
                        fl.l_len = l->end == UINT64_MAX ? 0
                                 : (int64_t)(l->end - l->start + 1);
                        fl.l_pid = l->kind == LK_OFD ? -1 : l->pid;
                }
                return flock_out(uflock, flock64, &fl);
        }
        if ((fl.l_type == F_RDLCK && (f->flags & 3) == 1) ||
            (fl.l_type == F_WRLCK && (f->flags & 3) == 0))
                return -EBADF;
        struct file_lock *blocker;
        while (fl.l_type != F_UNLCK &&
               (blocker = conflict(vn, &me, fl.l_type, start, end)) != NULL) {
                if (!wait)
                        return -EAGAIN;
                if (!ofd && would_deadlock(blocker))
                        return -EDEADLK;
                if (signal_pending())
                        return -ERESTARTSYS;
                struct lock_waiter w = { waiters, vn, current->pid, fl.l_type,
                                         start, end };
                if (!ofd)
                        waiters = &w;
                sched_sleep_on(&vn->locks);
                for (struct lock_waiter **l = &waiters; *l; l = &(*l)->next) {
                        if (*l == &w) {
                                *l = w.next;
                                break;
                        }
                }
        }
        struct file_lock *spare = kzalloc(sizeof *spare);
        struct file_lock *nl = fl.l_type == F_UNLCK ? NULL : kzalloc(sizeof *nl);
        if (!spare || (fl.l_type != F_UNLCK && !nl)) {
                kfree(spare), kfree(nl);
                return -ENOLCK;
        }
        if (!cut(vn, &me, start, end, spare))
                kfree(spare);
        if (nl) {
                nl->kind = me.kind;
                nl->pid = current->pid;
                nl->file = me.file;
                nl->type = fl.l_type;
                nl->start = start;
                nl->end = end;
                nl->next = vn->locks;
                vn->locks = nl;
        }
        sched_wakeup(&vn->locks);
        return 0;
}

static bool not_pids_posix(const struct file_lock *l, const void *pid)
{
        return l->kind != LK_POSIX || l->pid != *(const int *)pid;
}

void vfs_locks_on_close(struct file *f, int pid)
{
        struct vnode *vn = file_vnode(f);

        if (vn && vn->locks)
                drop_locks(vn, not_pids_posix, &pid);
}

static bool not_files(const struct file_lock *l, const void *f)
{
        return l->kind == LK_POSIX || l->file != f;
}

/* An open file description is going: its OFD and flock locks go too. */
void vfs_file_locks_release(struct file *f)
{
        struct vnode *vn = file_vnode(f);

        if (vn && vn->locks)
                drop_locks(vn, not_files, f);
}

static bool not_files_flock(const struct file_lock *l, const void *f)
{
        return l->kind != LK_FLOCK || l->file != f;
}

SYSCALL_DECL(flock)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn = f ? file_vnode(f) : NULL;
        int op = (int)a1, kind = op & ~LOCK_NB;

        if (!f || (f->flags & 010000000))       /* O_PATH */
                return -EBADF;
        if (kind != LOCK_SH && kind != LOCK_EX && kind != LOCK_UN)
                return -EINVAL;
        if (!vn)
                return -EINVAL;
        int type = kind == LOCK_EX ? F_WRLCK : F_RDLCK;
        struct lock_owner me = { LK_FLOCK, current->pid, f };
        /* Converting a lock drops the old one first, as Linux (not atomic). */
        if (vn->locks)
                drop_locks(vn, not_files_flock, f);
        if (kind == LOCK_UN)
                return 0;
        while (conflict(vn, &me, type, 0, UINT64_MAX)) {
                if (op & LOCK_NB)
                        return -EAGAIN;     /* EWOULDBLOCK */
                if (signal_pending())
                        return -ERESTARTSYS;
                sched_sleep_on(&vn->locks);
        }
        struct file_lock *l = kzalloc(sizeof *l);
        if (!l)
                return -ENOLCK;
        l->kind = LK_FLOCK;
        l->file = f;
        l->pid = current->pid;
        l->type = type;
        l->start = 0;
        l->end = UINT64_MAX;
        l->next = vn->locks;
        vn->locks = l;
        return 0;
}
