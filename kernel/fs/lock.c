/*
 * lock.c - advisory locks: POSIX record locks (fcntl F_GETLK, F_SETLK,
 * F_SETLKW) owned by a process, and flock() locks owned by an open file
 * description, with Linux's rules.
 *
 * A vnode keeps its record locks in a list of byte ranges [start, end]
 * (end UINT64_MAX: to the end of the file, however it grows), each with
 * its owner's pid and type. A process's locks never overlap each other:
 * setting a lock first cuts the owner's old ranges out of the new one, so
 * a lock can be split, shortened, or change type in place. A request
 * conflicts with another owner's overlapping range when either is a write
 * lock. F_SETLKW sleeps on the vnode until the conflict goes (a signal
 * ends the wait: EINTR or a restart). Closing any descriptor of the file
 * drops all of the process's record locks on it, as POSIX says (and as
 * everyone regrets); flock locks go when their open file description
 * does. No deadlock detection (Linux's EDEADLK): a cycle of F_SETLKW
 * waiters waits until a signal.
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

#define LOCK_SH         1
#define LOCK_EX         2
#define LOCK_NB         4
#define LOCK_UN         8

struct file_lock {
        struct file_lock *next;
        int               pid;          /* owner (POSIX) */
        struct file      *file;         /* owner (flock), else NULL */
        int               type;         /* F_RDLCK or F_WRLCK */
        uint64_t          start, end;   /* inclusive */
};

struct linux_flock {                    /* x86-64 struct flock: 32 bytes */
        int16_t  l_type;
        int16_t  l_whence;
        int32_t  pad0;
        int64_t  l_start;
        int64_t  l_len;
        int32_t  l_pid;
        int32_t  pad1;
};

static bool overlaps(const struct file_lock *l, uint64_t start, uint64_t end)
{
        return l->start <= end && start <= l->end;
}

/* The first lock of another owner that a (type, range) request meets. */
static struct file_lock *conflict(struct vnode *vn, int pid, struct file *f,
                                  int type, uint64_t start, uint64_t end)
{
        struct file_lock *first = NULL;

        for (struct file_lock *l = vn->locks; l; l = l->next) {
                bool mine = f ? l->file == f : (!l->file && l->pid == pid);
                if (mine || (bool)f != (bool)l->file)
                        continue;
                if (overlaps(l, start, end) &&
                    (type == F_WRLCK || l->type == F_WRLCK) &&
                    (!first || l->start < first->start))
                        first = l;
        }
        return first;           /* the lowest one, as F_GETLK reports */
}

/*
 * Cut [start, end] out of pid's record locks on vn; `spare` is a lock to
 * use if a range must be split in two. => true if spare was used.
 */
static bool cut(struct vnode *vn, int pid, uint64_t start, uint64_t end,
                struct file_lock *spare)
{
        struct file_lock **link = &vn->locks;
        bool used = false;

        while (*link) {
                struct file_lock *l = *link;
                if (l->file || l->pid != pid || !overlaps(l, start, end)) {
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

long vfs_fcntl_lock(struct file *f, int cmd, uint64_t uflock)
{
        struct vnode *vn = file_vnode(f);
        struct linux_flock fl;
        uint64_t start, end;
        long err;

        if (copy_from_user(&fl, uflock, sizeof fl))
                return -EFAULT;
        if (!vn)
                return -EINVAL;
        if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
                return -EINVAL;
        if ((err = flock_range(f, vn, &fl, &start, &end)) != 0)
                return err;
        if (cmd == F_GETLK) {
                if (fl.l_type == F_UNLCK)
                        return -EINVAL;
                struct file_lock *l = conflict(vn, current->pid, NULL, fl.l_type,
                                               start, end);
                if (!l) {
                        fl.l_type = F_UNLCK;
                } else {
                        fl.l_type = (int16_t)l->type;
                        fl.l_whence = 0;
                        fl.l_start = (int64_t)l->start;
                        fl.l_len = l->end == UINT64_MAX ? 0
                                 : (int64_t)(l->end - l->start + 1);
                        fl.l_pid = l->pid;
                }
                return copy_to_user(uflock, &fl, sizeof fl) ? -EFAULT : 0;
        }
        if ((fl.l_type == F_RDLCK && (f->flags & 3) == 1) ||
            (fl.l_type == F_WRLCK && (f->flags & 3) == 0))
                return -EBADF;
        while (fl.l_type != F_UNLCK &&
               conflict(vn, current->pid, NULL, fl.l_type, start, end)) {
                if (cmd == F_SETLK)
                        return -EAGAIN;
                if (signal_pending())
                        return -ERESTARTSYS;
                sched_sleep_on(&vn->locks);
        }
        struct file_lock *spare = kzalloc(sizeof *spare);
        struct file_lock *nl = fl.l_type == F_UNLCK ? NULL : kzalloc(sizeof *nl);
        if (!spare || (fl.l_type != F_UNLCK && !nl)) {
                kfree(spare), kfree(nl);
                return -ENOLCK;
        }
        if (!cut(vn, current->pid, start, end, spare))
                kfree(spare);
        if (nl) {
                nl->pid = current->pid;
                nl->type = fl.l_type;
                nl->start = start;
                nl->end = end;
                nl->next = vn->locks;
                vn->locks = nl;
        }
        sched_wakeup(&vn->locks);
        return 0;
}

void vfs_locks_on_close(struct file *f, int pid)
{
        struct vnode *vn = file_vnode(f);

        if (!vn || !vn->locks)
                return;
        struct file_lock **link = &vn->locks;
        bool any = false;
        while (*link) {
                struct file_lock *l = *link;
                if (!l->file && l->pid == pid) {
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

/* An open file description is going: its flock lock goes with it. */
void vfs_flock_release(struct file *f)
{
        struct vnode *vn = file_vnode(f);

        if (!vn)
                return;
        for (struct file_lock **link = &vn->locks; *link; link = &(*link)->next) {
                if ((*link)->file == f) {
                        struct file_lock *l = *link;
                        *link = l->next;
                        kfree(l);
                        sched_wakeup(&vn->locks);
                        return;
                }
        }
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
        /* Converting a lock drops the old one first, as Linux (not atomic). */
        vfs_flock_release(f);
        if (kind == LOCK_UN)
                return 0;
        while (conflict(vn, 0, f, type, 0, UINT64_MAX)) {
                if (op & LOCK_NB)
                        return -EAGAIN;     /* EWOULDBLOCK */
                if (signal_pending())
                        return -ERESTARTSYS;
                sched_sleep_on(&vn->locks);
        }
        struct file_lock *l = kzalloc(sizeof *l);
        if (!l)
                return -ENOLCK;
        l->file = f;
        l->pid = current->pid;
        l->type = type;
        l->start = 0;
        l->end = UINT64_MAX;
        l->next = vn->locks;
        vn->locks = l;
        return 0;
}
