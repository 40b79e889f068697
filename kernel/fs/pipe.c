/*
 * pipe.c - pipes: a ring (64 KiB, Linux's default; F_SETPIPE_SZ changes
 * it) between a read end and a write end.
 *
 * A reader sleeps while the ring is empty and a writer exists; a writer
 * sleeps while it is full and a reader exists. With no reader left, a
 * write fails with EPIPE and the writer gets SIGPIPE. Sleeps are
 * interruptible: a signal ends them with -ERESTARTSYS (EINTR, or a
 * restart under SA_RESTART), or with the count already moved. Sleepers
 * wake on the pipe as their channel; every change also wakes processes
 * in poll or select (poll_wake).
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/abi_stat.h>
#include <fs/file.h>
#include <fs/pipe.h>
#include <fs/poll.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/kmalloc.h>

#define PIPE_DEFAULT    (16 * PAGE_SIZE)        /* Linux's 16 pages */
#define PIPE_SMALL      (2 * PAGE_SIZE)         /* over the soft limit */
#define PIPE_MAX        (1024 * 1024)   /* the largest ring kmalloc gives */

/* fs.pipe-max-size: the largest ring an unprivileged F_SETPIPE_SZ gets. */
static unsigned long pipe_max_size = PIPE_MAX;

unsigned long pipe_max_size_get(void)
{
        return pipe_max_size;
}

long pipe_max_size_set(uint64_t value)
{
        if (value < PAGE_SIZE || value > PIPE_MAX)
                return -EINVAL;         /* Linux allows up to 2 GiB */
        pipe_max_size = (unsigned long)value;
        return 0;
}
#define O_NONBLOCK      04000

struct pipe {
        uint8_t *data;                  /* a ring of size bytes */
        size_t   size;                  /* a power of two, >= a page */
        uint64_t rpos, wpos;            /* wpos - rpos bytes are buffered */
        unsigned readers, writers;      /* open ends */
        struct pipe **owner;            /* a FIFO's vnode slot, or NULL */
        uint64_t r_opens, w_opens;      /* FIFO opens so far, per end */
        uint32_t uid;                   /* the user it is charged to */
        int      user;                  /* its slot in pipe_users, or -1 */
        unsigned long pages;            /* ring pages charged to it */
};

/*
 * fs.pipe-user-pages-soft and fs.pipe-user-pages-hard (Linux's defaults:
 * 16384 pages, no hard limit; 0 means none): how many pages of rings one
 * user's pipes may hold, charged to the real uid of the process that
 * made each pipe. A user without CAP_SYS_RESOURCE or CAP_SYS_ADMIN that
 * is over the soft limit gets new pipes of 2 pages; over the hard limit,
 * no new pipe (ENFILE); over either, no larger ring (EPERM). The charges
 * live in a small table of the users holding pipes now; a user who finds
 * it full goes uncharged (and unlimited) for that pipe.
 */
static unsigned long pipe_user_soft = 16384, pipe_user_hard;

#define PIPE_USERS      64
static struct { uint32_t uid; unsigned long pages; } pipe_users[PIPE_USERS];

unsigned long pipe_user_pages_get(bool hard)
{
        return hard ? pipe_user_hard : pipe_user_soft;
}

long pipe_user_pages_set(bool hard, uint64_t value)
{
        *(hard ? &pipe_user_hard : &pipe_user_soft) = (unsigned long)value;
        return 0;
}

/* Charge p's user for pages ring pages instead of p->pages.
 * => the user's pages now (0 if uncharged). */
static unsigned long pipe_charge(struct pipe *p, unsigned long pages)
{
        if (p->user < 0) {
                for (int i = 0; i < PIPE_USERS && p->user < 0; i++)
                        if (pipe_users[i].pages && pipe_users[i].uid == p->uid)
                                p->user = i;
                for (int i = 0; i < PIPE_USERS && p->user < 0; i++)
                        if (!pipe_users[i].pages)
                                p->user = i;
                if (p->user < 0)
                        return 0;
                pipe_users[p->user].uid = p->uid;
        }
        pipe_users[p->user].pages += pages - p->pages;
        p->pages = pages;
        if (!pages)
                p->user = -1;
        return p->user < 0 ? 0 : pipe_users[p->user].pages;
}

static bool pipe_unprivileged(void)
{
        return current && !current_capable(CAP_SYS_RESOURCE) &&
               !current_capable(CAP_SYS_ADMIN);
}

static bool pipe_over(unsigned long pages, unsigned long limit)
{
        return limit && pages > limit;
}

/* Readers, writers and pollers look again. */
static void pipe_changed(struct pipe *p)
{
        sched_wakeup(p);
        poll_wake();
}

static long pipe_read(struct file *f, uint64_t ubuf, size_t len)
{
        struct pipe *p = (struct pipe *)f->node;
        size_t done = 0;

        while (p->wpos == p->rpos) {
                if (!p->writers || len == 0)
                        return 0;
                if (f->flags & O_NONBLOCK)
                        return -EAGAIN;
                if (sched_sleep_on_intr(p))
                        return -ERESTARTSYS;
        }
        while (done < len && p->rpos != p->wpos) {
                size_t off = p->rpos % p->size;
                size_t n = MIN(MIN(len - done, p->wpos - p->rpos), p->size - off);
                if (copy_to_user(ubuf + done, p->data + off, n))
                        return done ? (long)done : -EFAULT;
                p->rpos += n, done += n;
        }
        pipe_changed(p);
        return (long)done;
}

/* Write from user memory (user) or from a kernel buffer (sendfile). */
static long pipe_write_from(struct file *f, uint64_t ubuf, size_t len,
                            bool user)
{
        struct pipe *p = (struct pipe *)f->node;
        size_t done = 0;

        while (done < len) {
                if (!p->readers) {
                        struct ksiginfo info = { .code = SI_USER,
                                                 .pid = current->pid };
                        signal_send(current, SIGPIPE, &info);
                        return done ? (long)done : -EPIPE;
                }
                if (p->wpos - p->rpos == p->size) {
                        if (f->flags & O_NONBLOCK)
                                return done ? (long)done : -EAGAIN;
                        pipe_changed(p);
                        if (sched_sleep_on_intr(p))
                                return done ? (long)done : -ERESTARTSYS;
                        continue;
                }
                size_t off = p->wpos % p->size;
                size_t n = MIN(MIN(len - done, p->size - (p->wpos - p->rpos)),
                               p->size - off);
                if (!user)
                        memcpy(p->data + off, (const uint8_t *)ubuf + done, n);
                else if (copy_from_user(p->data + off, ubuf + done, n))
                        return done ? (long)done : -EFAULT;
                p->wpos += n, done += n;
        }
        pipe_changed(p);
        return (long)done;
}

static long pipe_write(struct file *f, uint64_t ubuf, size_t len)
{
        return pipe_write_from(f, ubuf, len, true);
}

#define S_IFIFO 0010000

static void pipe_stat(struct file *f, void *st)
{
        struct linux_stat *s = st;

        memset(s, 0, sizeof *s);
        s->st_ino = (uint64_t)(uintptr_t)f->node >> 4;
        s->st_nlink = 1;
        s->st_mode = S_IFIFO | 0600;
        s->st_blksize = PAGE_SIZE;
}

static void pipe_release(struct file *f)
{
        struct pipe *p = (struct pipe *)f->node;

        if ((f->flags & 3) != 1)
                p->readers--;
        if ((f->flags & 3) != 0)
                p->writers--;
        pipe_changed(p);
        if (!p->readers && !p->writers) {
                if (p->owner)
                        *p->owner = NULL;
                pipe_charge(p, 0);
                kfree(p->data);
                kfree(p);
        }
}

/* As Linux: the read end is readable with data, and hung up when no
 * writer is left, if one was opened after it (a FIFO's reader waiting for
 * its first writer is not hung up; f->offset, unused by pipes otherwise,
 * keeps the count of writer opens at the reader's open); the write end is
 * writable with room, and in error when no reader is left. */
static unsigned pipe_poll(struct file *f)
{
        struct pipe *p = (struct pipe *)f->node;
        unsigned mask = 0;

        if ((f->flags & 3) == 0) {
                if (p->wpos != p->rpos)
                        mask |= POLLIN | POLLRDNORM;
                if (!p->writers && f->offset != p->w_opens)
                        mask |= POLLHUP;
        } else {
                if (p->wpos - p->rpos < p->size)
                        mask |= POLLOUT | POLLWRNORM;
                if (!p->readers)
                        mask |= POLLERR;
        }
        return mask;
}

#define FIONREAD 0x541b


static long pipe_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
        int n = (int)pipe_nread(f);

        if (cmd != FIONREAD)
                return -ENOTTY;
        return copy_to_user(arg, &n, sizeof n);
}

static const struct file_ops pipe_ops = {
        .read = pipe_read, .write = pipe_write, .stat = pipe_stat,
        .release = pipe_release, .ioctl = pipe_ioctl, .poll = pipe_poll,
};

/* A new, empty pipe with the default ring (2 pages for a user over the
 * soft limit), or NULL (no memory, or the user is over the hard limit). */
/* A new pipe with its buffer; wait: the caller has nothing another
 * process could change, so the buffer may wait for memory (the OOM
 * killer, proc/oom.h), as Linux's pipe buffers may. */
static struct pipe *pipe_new(bool wait)
{
        struct pipe *p = kzalloc(sizeof *p);
        size_t size = PIPE_DEFAULT;
        unsigned long held;

        if (!p)
                return NULL;
        p->uid = current ? current->cred.uid : 0;
        p->user = -1;
        held = pipe_charge(p, size / PAGE_SIZE);
        if (pipe_over(held, pipe_user_soft) && pipe_unprivileged()) {
                size = PIPE_SMALL;
                held = pipe_charge(p, size / PAGE_SIZE);
        }
        if (pipe_over(held, pipe_user_hard) && pipe_unprivileged())
                p->data = NULL;
        else
                while (!(p->data = kmalloc(size)) && wait &&
                       oom_alloc_retry())
                        ;
        if (!p->data) {
                pipe_charge(p, 0);
                kfree(p);
                return NULL;
        }
        p->size = size;
        return p;
}

long pipe_create(struct file **rd, struct file **wr)
{
        struct pipe *p = pipe_new(true);
        struct file *r = kzalloc(sizeof *r), *w = kzalloc(sizeof *w);

        if (!p || !r || !w) {
                if (p)
                        kfree(p->data);
                kfree(p), kfree(r), kfree(w);
                return -ENFILE;
        }
        *r = (struct file){ .ops = &pipe_ops, .refs = 1, .flags = 0, .node = p };
        *w = (struct file){ .ops = &pipe_ops, .refs = 1, .flags = 1, .node = p };
        p->readers = p->writers = 1;
        p->r_opens = p->w_opens = 1;
        *rd = r, *wr = w;
        return 0;
}

/*
 * Open one end of the FIFO whose pipe lives in *slot (made on first open,
 * gone when the last end closes), as Linux's fifo_open: O_RDONLY waits
 * for a writer and O_WRONLY for a reader, unless O_NONBLOCK (then a
 * reader opens at once, a writer without a reader gets ENXIO); O_RDWR
 * is both ends at once and never waits. A signal ends the wait.
 */
long pipe_open_fifo(void **slot, unsigned flags, struct file **out)
{
        bool reader = (flags & 3) != 1, writer = (flags & 3) != 0;
        bool nonblock = flags & 04000;
again:;
        struct pipe *p = *slot;
        struct file *f = kzalloc(sizeof *f);

        if (!f)
                return -ENOMEM;
        if (!p) {
                if (!(p = pipe_new(false))) {
                        kfree(f);
                        /* Waited for memory: another open may have made
                         * the pipe meanwhile. */
                        if (oom_alloc_retry())
                                goto again;
                        return -ENOMEM;
                }
                p->owner = (struct pipe **)slot;
                *slot = p;
        }
        *f = (struct file){ .ops = &pipe_ops, .refs = 1, .flags = flags,
                            .node = p };
        if (!reader && nonblock && !p->readers) {
                p->writers++;           /* undone by the release below */
                file_put(f);
                return -ENXIO;
        }
        if (reader)
                p->readers++, p->r_opens++;
        if (writer)
                p->writers++, p->w_opens++;
        if (reader)             /* poll: which writers this reader saw */
                f->offset = p->w_opens;
        pipe_changed(p);
        /* Wait for the other end to have been opened since (it may have
         * come and gone already, as Linux's counters allow). */
        uint64_t other = reader ? p->w_opens : p->r_opens;
        while ((flags & 3) != 2 && !nonblock &&
               (reader ? !p->writers && p->w_opens == other
                       : !p->readers && p->r_opens == other)) {
                if (sched_sleep_on_intr(p)) {
                        file_put(f);
                        return -ERESTARTSYS;
                }
        }
        *out = f;
        return 0;
}

/* ---- an anonymous pipe reopened through /proc/PID/fd/N -------------------
 * Linux's pipes have an inode (in pipefs), so opening a pipe's fd link
 * opens that inode as a FIFO: a new end of the same pipe (`cat /dev/stdin`
 * with a pipe on standard input). Mercator's anonymous pipes have no
 * vnode; following the link makes a short-lived one that holds the file
 * (and so the pipe) and opens ends of its pipe as a FIFO would. */
static long pipe_link_open(struct vnode *vn, unsigned flags, struct file **out)
{
        struct file *f = vn->priv;
        void *slot = (struct pipe *)f->node;    /* no FIFO slot to keep */

        return pipe_open_fifo(&slot, flags, out);
}

static void pipe_link_release(struct vnode *vn)
{
        file_put(vn->priv);
}

static const struct vnode_ops pipe_link_ops = {
        .open = pipe_link_open, .release = pipe_link_release,
};

long pipe_link_vnode(struct vfs_sb *sb, struct file *f, struct vnode **out)
{
        struct linux_stat st;
        struct vnode *vn;

        if (f->ops != &pipe_ops)
                return -ENOSYS;
        if (!(vn = vnode_alloc(sb, &pipe_link_ops, S_IFIFO | 0600)))
                return -ENOMEM;
        pipe_stat(f, &st);
        vn->ino = st.st_ino;
        vn->nlink = 1;
        vn->priv = file_get(f);
        *out = vn;
        return 0;
}

bool pipe_link_is(const struct vnode *vn)
{
        return vn->ops == &pipe_link_ops;
}

/* F_GETPIPE_SZ / F_SETPIPE_SZ on f: -EBADF if f is not a pipe. */
long pipe_size(struct file *f, bool set, unsigned long want)
{
        struct pipe *p;
        size_t size = PAGE_SIZE, held;
        uint8_t *data;

        if (f->ops != &pipe_ops)
                return -EBADF;
        p = (struct pipe *)f->node;
again:
        if (!set)
                return (long)p->size;
        if (want > (1UL << 31))
                return -EINVAL;         /* Linux's round_pipe_size */
        while (size < want)
                size <<= 1;
        if ((size > pipe_max_size && !current_capable(CAP_SYS_RESOURCE)) ||
            size > PIPE_MAX)
                return -EPERM;          /* above fs.pipe-max-size */
        held = p->wpos - p->rpos;
        if (size < held)
                return -EBUSY;
        if (size == p->size)
                return (long)size;
        unsigned long was = p->pages, user = pipe_charge(p, size / PAGE_SIZE);
        if (size / PAGE_SIZE > was && pipe_unprivileged() &&
            (pipe_over(user, pipe_user_hard) || pipe_over(user, pipe_user_soft))) {
                pipe_charge(p, was);
                return -EPERM;          /* over fs.pipe-user-pages-* */
        }
        if (!(data = kmalloc(size))) {
                pipe_charge(p, was);
                /* Wait for memory (proc/oom.h), then decide again: the
                 * pipe may have changed meanwhile. */
                if (oom_alloc_retry()) {
                        size = PAGE_SIZE;
                        goto again;
                }
                return -ENOMEM;
        }
        for (size_t i = 0; i < held; i++)
                data[i] = p->data[(p->rpos + i) % p->size];
        kfree(p->data);
        p->data = data;
        p->size = size;
        p->rpos = 0;
        p->wpos = held;
        pipe_changed(p);
        return (long)size;
}

/* Bytes waiting in the pipe behind f (FIONREAD), or -ENOTTY if f is not
 * a pipe. */
long pipe_nread(struct file *f)
{
        if (f->ops != &pipe_ops)
                return -ENOTTY;
        struct pipe *p = (struct pipe *)f->node;
        return (long)(p->wpos - p->rpos);
}

/* Write len bytes of kernel memory into the pipe behind f (sendfile):
 * bytes written or -errno; -EINVAL if f is not a pipe. */
long pipe_write_kernel(struct file *f, const void *buf, size_t len)
{
        if (f->ops != &pipe_ops)
                return -EINVAL;
        return pipe_write_from(f, (uint64_t)(uintptr_t)buf, len, false);
}
