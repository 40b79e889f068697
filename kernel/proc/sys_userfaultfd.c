/*
 * sys_userfaultfd.c - userfaultfd(2) and /dev/userfaultfd (Linux's
 * USERFAULTFD_IOC_NEW): a descriptor through which one thread or process
 * serves the page faults of another's registered memory (MISSING mode on
 * private anonymous memory; the VM side is vm/userfaultfd.{h,c} and the
 * fault path's hook in vm_fault.c).
 *
 * A context names the address space it was made in (by serial, so that it
 * can tell when that space is gone: ESRCH) and keeps the faults waiting on
 * it in fault order. A faulting thread puts a waiter on its own kernel
 * stack into the list, and sleeps interruptibly (SIGKILL ends it, as any
 * signal: a user-mode access is retried after the signal, a kernel access
 * fails with EFAULT) holding nothing but the big lock, which sleeping
 * passes on. read() hands out each waiter's message once; UFFDIO_COPY,
 * UFFDIO_ZEROPAGE, UFFDIO_CONTINUE, UFFDIO_POISON, UFFDIO_WAKE and
 * UFFDIO_UNREGISTER wake
 * the waiters of their range, which then retry the access; closing the
 * descriptor wakes every waiter and unregisters every area.
 *
 * Modes: MISSING on private anonymous memory and shmem, MINOR on shmem
 * (UFFDIO_CONTINUE), WP on private anonymous memory (UFFDIO_WRITEPROTECT,
 * UFFDIO_COPY_MODE_WP; a write to a marked page is a fault message with
 * UFFD_PAGEFAULT_FLAG_WP); UFFDIO_POISON on both; UFFDIO_MOVE on private
 * anonymous memory. Not here: WP on shmem and on unpopulated pages
 * (Linux 6.4's WP_UNPOPULATED), the non-cooperative events (their
 * features are refused by UFFDIO_API with EINVAL), hugetlbfs ranges
 * (EINVAL). UFFDIO_API offers exactly what is here: PAGEFAULT_FLAG_WP,
 * MISSING_SHMEM, SIGBUS, THREAD_ID, MINOR_SHMEM, EXACT_ADDRESS, POISON,
 * MOVE.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/poll.h>
#include <fs/vfs.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/kmalloc.h>
#include <vm/userfaultfd.h>

#define O_NONBLOCK              04000
#define O_CLOEXEC               02000000
#define UFFD_USER_MODE_ONLY     1
#define CAP_SYS_PTRACE          19

#define UFFD_API                0xaaULL
#define UFFD_EVENT_PAGEFAULT    0x12
#define UFFD_PAGEFAULT_FLAG_WRITE 1
#define UFFD_PAGEFAULT_FLAG_WP  2
#define UFFD_PAGEFAULT_FLAG_MINOR 4

#define UFFD_FEATURE_PAGEFAULT_FLAG_WP 0x1
#define UFFD_FEATURE_EVENT_FORK 0x2
#define UFFD_FEATURE_MISSING_SHMEM 0x20
#define UFFD_FEATURE_SIGBUS     0x80
#define UFFD_FEATURE_THREAD_ID  0x100
#define UFFD_FEATURE_MINOR_SHMEM 0x400
#define UFFD_FEATURE_EXACT_ADDRESS 0x800
#define UFFD_FEATURE_POISON     0x4000
#define UFFD_FEATURE_MOVE       0x10000
#define UFFD_FEATURES           (UFFD_FEATURE_PAGEFAULT_FLAG_WP | \
                                 UFFD_FEATURE_MISSING_SHMEM | \
                                 UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID | \
                                 UFFD_FEATURE_MINOR_SHMEM | \
                                 UFFD_FEATURE_EXACT_ADDRESS | \
                                 UFFD_FEATURE_POISON | UFFD_FEATURE_MOVE)

#define UFFDIO_REGISTER_MODE_WP 2
#define UFFDIO_REGISTER_MODE_MINOR 4
#define UFFDIO_REGISTER_MODES   7       /* MISSING, WP, MINOR */
#define UFFDIO_MODE_DONTWAKE    1
#define UFFDIO_COPY_MODE_WP     2
#define UFFDIO_WRITEPROTECT_MODE_WP 1
#define UFFDIO_WRITEPROTECT_MODE_DONTWAKE 2
#define UFFDIO_CONTINUE_MODE_WP 2

/* The ioctl numbers: _IOWR/_IOR(0xaa, nr, size of the argument). */
#define UFFD_IOC(dir, nr, size) (((dir) << 30) | ((size) << 16) | (0xaa << 8) | (nr))
#define UFFDIO_REGISTER         UFFD_IOC(3u, 0x00, 32)
#define UFFDIO_UNREGISTER       UFFD_IOC(2u, 0x01, 16)
#define UFFDIO_WAKE             UFFD_IOC(2u, 0x02, 16)
#define UFFDIO_COPY             UFFD_IOC(3u, 0x03, 40)
#define UFFDIO_ZEROPAGE         UFFD_IOC(3u, 0x04, 32)
#define UFFDIO_CONTINUE         UFFD_IOC(3u, 0x07, 32)
#define UFFDIO_POISON           UFFD_IOC(3u, 0x08, 32)
#define UFFDIO_MOVE             UFFD_IOC(3u, 0x05, 40)
#define UFFDIO_WRITEPROTECT     UFFD_IOC(3u, 0x06, 24)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES 2
#define UFFDIO_API              UFFD_IOC(3u, 0x3f, 24)
#define USERFAULTFD_IOC_NEW     UFFD_IOC(0u, 0x00, 0)
#define IOCTL_BIT(nr)           (1ULL << (nr))
#define UFFD_API_IOCTLS         (IOCTL_BIT(0x00) | IOCTL_BIT(0x01) | IOCTL_BIT(0x3f))
#define UFFD_RANGE_IOCTLS       (IOCTL_BIT(0x02) | IOCTL_BIT(0x03) | IOCTL_BIT(0x04) | \
                                 IOCTL_BIT(0x05) | IOCTL_BIT(0x08))
#define UFFD_MINOR_IOCTLS       IOCTL_BIT(0x07)         /* MINOR ranges */
#define UFFD_WP_IOCTLS          IOCTL_BIT(0x06)         /* WP ranges */

/* Linux's struct uffd_msg for a page fault (32 bytes). */
struct uffd_msg {
        uint8_t  event, reserved1;
        uint16_t reserved2;
        uint32_t reserved3;
        uint64_t flags;
        uint64_t address;
        uint32_t ptid;
        uint32_t pad;
};
_Static_assert(sizeof(struct uffd_msg) == 32, "Linux's uffd_msg");

struct uffdio_api { uint64_t api, features, ioctls; };
struct uffdio_range { uint64_t start, len; };
struct uffdio_register { struct uffdio_range range; uint64_t mode, ioctls; };
struct uffdio_copy { uint64_t dst, src, len, mode; int64_t copy; };
struct uffdio_zeropage { struct uffdio_range range; uint64_t mode; int64_t zeropage; };
struct uffdio_continue { struct uffdio_range range; uint64_t mode; int64_t mapped; };
struct uffdio_poison { struct uffdio_range range; uint64_t mode; int64_t updated; };
struct uffdio_move { uint64_t dst, src, len, mode; int64_t move; };
struct uffdio_writeprotect { struct uffdio_range range; uint64_t mode; };

/* A thread waiting for its fault to be served (on its kernel stack). */
struct uffd_waiter {
        struct uffd_waiter *prev, *next;        /* the context's list */
        vaddr_t  va;                    /* as the CPU reported it */
        bool     write;
        bool     minor;                 /* a MINOR fault, not MISSING */
        bool     wp;                    /* a write to a write-protected page */
        int      tid;
        bool     read;                  /* its message was read */
        bool     woken;
};

/* Locks: the big lock for everything. */
struct uffd_ctx {
        struct vm_uffd      vm;         /* first: the core's view */
        unsigned            refs;       /* the file, each waiter */
        unsigned            flags;      /* UFFD_USER_MODE_ONLY */
        uint64_t            features;   /* enabled by UFFDIO_API */
        bool                api_done;   /* UFFDIO_API succeeded once */
        bool                released;   /* the file is gone */
        uint64_t            space;      /* the space's serial */
        struct uffd_waiter *head, *tail;        /* fault order */
};

static void ctx_put(struct uffd_ctx *c)
{
        if (--c->refs == 0)
                kfree(c);
}

static void waiter_unlink(struct uffd_ctx *c, struct uffd_waiter *w)
{
        *(w->prev ? &w->prev->next : &c->head) = w->next;
        *(w->next ? &w->next->prev : &c->tail) = w->prev;
        w->prev = w->next = NULL;
}

/* Wake the waiters whose page lies in [start, end). */
static void wake_range(struct uffd_ctx *c, vaddr_t start, vaddr_t end)
{
        struct uffd_waiter *w = c->head, *next;

        for (; w; w = next) {
                next = w->next;
                if (page_trunc(w->va) >= start && page_trunc(w->va) < end) {
                        waiter_unlink(c, w);
                        w->woken = true;
                        sched_wakeup(w);
                }
        }
}

/* struct vm_uffd's fault(): queue a message and sleep until served. */
static enum fault_result ctx_fault(struct vm_uffd *u, struct vm_space *s,
                                   vaddr_t va, vm_prot_t access,
                                   unsigned kind, bool user)
{
        struct uffd_ctx *c = (struct uffd_ctx *)u;
        struct uffd_waiter w = { .va = va, .tid = current->tid,
                                 .write = access & VM_PROT_WRITE,
                                 .minor = kind == VM_UFFD_MINOR,
                                 .wp = kind == VM_UFFD_WP };
        bool served;

        (void)s;
        if (c->features & UFFD_FEATURE_SIGBUS)
                return FAULT_BUS;
        if (!user && (c->flags & UFFD_USER_MODE_ONLY))
                return FAULT_BUS;       /* the kernel's access: EFAULT */
        c->refs++;
        w.prev = c->tail;
        *(c->tail ? &c->tail->next : &c->head) = &w;
        c->tail = &w;
        sched_wakeup(c);                /* a blocking read */
        poll_wake();
        while (!w.woken && sched_sleep_on_intr(&w) == 0)
                ;
        served = w.woken;
        if (!served)
                waiter_unlink(c, &w);
        ctx_put(c);
        /* Interrupted: user mode takes the signal, then faults again. */
        return served || user ? FAULT_RESOLVED : FAULT_SEGV;
}

static struct uffd_waiter *first_unread(struct uffd_ctx *c)
{
        struct uffd_waiter *w = c->head;

        while (w && w->read)
                w = w->next;
        return w;
}

static long uffd_read(struct file *f, uint64_t ubuf, size_t len)
{
        struct uffd_ctx *c = (struct uffd_ctx *)f->node;
        struct uffd_waiter *w;
        size_t done = 0;

        if (!c->api_done)
                return -EINVAL;
        for (;;) {
                struct uffd_msg m = { .event = UFFD_EVENT_PAGEFAULT };

                if (len - done < sizeof m)
                        break;
                while (!(w = first_unread(c))) {
                        if (done)               /* block for the first only */
                                return (long)done;
                        if (f->flags & O_NONBLOCK)
                                return -EAGAIN;
                        if (sched_sleep_on_intr(c))
                                return -ERESTARTSYS;
                }
                m.flags = (w->write ? UFFD_PAGEFAULT_FLAG_WRITE : 0) |
                          (w->minor ? UFFD_PAGEFAULT_FLAG_MINOR : 0) |
                          (w->wp ? UFFD_PAGEFAULT_FLAG_WP : 0);
                m.address = (c->features & UFFD_FEATURE_EXACT_ADDRESS)
                                    ? w->va : page_trunc(w->va);
                if (c->features & UFFD_FEATURE_THREAD_ID)
                        m.ptid = (uint32_t)w->tid;
                if (copy_to_user(ubuf + done, &m, sizeof m))
                        return done ? (long)done : -EFAULT;
                w->read = true;
                done += sizeof m;
        }
        return done ? (long)done : -EINVAL;
}

static unsigned uffd_poll(struct file *f)
{
        struct uffd_ctx *c = (struct uffd_ctx *)f->node;

        /* Linux: an error until UFFDIO_API, and for a blocking descriptor. */
        if (!c->api_done || !(f->flags & O_NONBLOCK))
                return POLLERR;
        return first_unread(c) ? POLLIN : 0;
}

static void uffd_release(struct file *f)
{
        struct uffd_ctx *c = (struct uffd_ctx *)f->node;
        struct vm_space *s = vm_space_by_serial(c->space);

        c->released = true;
        if (s) {
                vm_space_enter(s);      /* its areas change */
                vm_uffd_forget(s, &c->vm);
                vm_space_leave(s);
        }
        wake_range(c, 0, ~(vaddr_t)0);
        ctx_put(c);
}

/* Linux's validate_range(): page-aligned, not empty, inside user space. */
static long check_range(uint64_t start, uint64_t len)
{
        if ((start | len) & (PAGE_SIZE - 1) || len == 0 || start < USER_MIN ||
            start >= USER_MAX || len > USER_MAX - start)
                return -EINVAL;
        return 0;
}

static long ioctl_api(struct uffd_ctx *c, uint64_t arg)
{
        struct uffdio_api a;
        uint64_t want;
        long err;

        if (copy_from_user(&a, arg, sizeof a))
                return -EFAULT;
        want = a.features;
        err = a.api != UFFD_API ? -EINVAL
            : (want & UFFD_FEATURE_EVENT_FORK) &&
              !cred_capable(&current->cred, CAP_SYS_PTRACE) ? -EPERM
            : want & ~(uint64_t)UFFD_FEATURES ? -EINVAL : 0;
        if (err) {
                memset(&a, 0, sizeof a);
                return copy_to_user(arg, &a, sizeof a) ? -EFAULT : err;
        }
        a.features = UFFD_FEATURES;
        a.ioctls = UFFD_API_IOCTLS;
        if (copy_to_user(arg, &a, sizeof a))
                return -EFAULT;
        if (c->api_done)
                return -EINVAL;
        c->api_done = true;
        c->features = want;
        return 0;
}

static long ioctl_register(struct uffd_ctx *c, uint64_t arg)
{
        struct uffdio_register r;
        struct vm_space *s;
        vm_status_t st;
        long err;

        if (copy_from_user(&r, arg, sizeof r - sizeof r.ioctls))
                return -EFAULT;
        if (!r.mode || (r.mode & ~(uint64_t)UFFDIO_REGISTER_MODES))
                return -EINVAL;
        if ((err = check_range(r.range.start, r.range.len)))
                return err;
        if (!(s = vm_space_by_serial(c->space)))
                return -ENOMEM;         /* Linux: mmget_not_zero failed */
        /* the mode bits are the core's VM_UFFD_* */
        st = vm_uffd_register(s, r.range.start, r.range.start + r.range.len,
                              &c->vm, (unsigned)r.mode);
        if (st != VM_OK)
                return status_to_errno(st);
        r.ioctls = UFFD_RANGE_IOCTLS |
                   (r.mode & UFFDIO_REGISTER_MODE_MINOR ? UFFD_MINOR_IOCTLS : 0) |
                   (r.mode & UFFDIO_REGISTER_MODE_WP ? UFFD_WP_IOCTLS : 0);
        return copy_to_user(arg + offsetof(struct uffdio_register, ioctls),
                            &r.ioctls, sizeof r.ioctls) ? -EFAULT : 0;
}

/* UNREGISTER and WAKE: a range; unregistering first. */
static long ioctl_range(struct uffd_ctx *c, uint64_t arg, bool unregister)
{
        struct uffdio_range r;
        struct vm_space *s;
        long err;

        if (copy_from_user(&r, arg, sizeof r))
                return -EFAULT;
        if ((err = check_range(r.start, r.len)))
                return err;
        if (unregister) {
                if (!(s = vm_space_by_serial(c->space)))
                        return -ENOMEM;
                err = status_to_errno(vm_uffd_unregister(s, r.start,
                                                         r.start + r.len));
                if (err)
                        return err;
        }
        wake_range(c, r.start, r.start + r.len);
        return 0;
}

/* What fill_range does at each page. */
enum fill_op { FILL_COPY, FILL_ZERO, FILL_CONTINUE, FILL_POISON };

/*
 * COPY (src a user address), ZEROPAGE, CONTINUE and POISON: resolve
 * [dst, dst + len) of the context's space page by page. => bytes done,
 * or -errno if the first page failed (Linux's mfill_atomic).
 */
static long fill_range(struct uffd_ctx *c, enum fill_op op, uint64_t dst,
                       uint64_t src, uint64_t len)
{
        struct vm_space *s = vm_space_by_serial(c->space);
        void *buf = NULL;
        uint64_t done = 0;
        long err = 0;

        if (!s)
                return -ESRCH;
        if (vm_uffd_check_range(s, dst, dst + len, &c->vm) != VM_OK)
                return -ENOENT;
        if (op == FILL_COPY && !(buf = kmalloc(PAGE_SIZE)))
                return -ENOMEM;
        for (; done < len && !err; done += err ? 0 : PAGE_SIZE) {
                if (buf && copy_from_user(buf, src + done, PAGE_SIZE))
                        err = -EFAULT;
                /* the copy may have slept: look the space up again */
                else if (!(s = vm_space_by_serial(c->space)))
                        err = -ESRCH;
                else if (op == FILL_CONTINUE)
                        err = status_to_errno(vm_uffd_continue(s, dst + done));
                else if (op == FILL_POISON)
                        err = status_to_errno(vm_uffd_poison(s, dst + done));
                else
                        err = status_to_errno(vm_uffd_fill(s, dst + done, buf));
        }
        kfree(buf);
        return done ? (long)done : err;
}

/* After a fill of len asked bytes that did `got`: wake, and the result. */
static long fill_done(struct uffd_ctx *c, uint64_t dst, uint64_t len,
                      long got, uint64_t mode)
{
        if (got < 0)
                return got;
        if (!(mode & UFFDIO_MODE_DONTWAKE))
                wake_range(c, dst, dst + (uint64_t)got);
        return (uint64_t)got == len ? 0 : -EAGAIN;
}

/* UFFDIO_COPY_MODE_WP: the got bytes copied at dst write-protected
 * (Linux's MFILL_ATOMIC_WP: EINVAL if the area is not registered WP, as
 * Linux's check before the copy; here after it, the pages stay). */
static long copy_wp(struct uffd_ctx *c, uint64_t dst, long got)
{
        struct vm_space *s = vm_space_by_serial(c->space);

        if (!s)
                return -ESRCH;
        vm_status_t st = vm_uffd_writeprotect(s, dst, dst + (uint64_t)got,
                                              &c->vm, true);
        return st == VM_OK ? got : st == VM_ENOENT ? -EINVAL
                                                   : status_to_errno(st);
}

static long ioctl_copy(struct uffd_ctx *c, uint64_t arg)
{
        struct uffdio_copy r;
        long got, err;

        if (copy_from_user(&r, arg, sizeof r - sizeof r.copy))
                return -EFAULT;
        if (r.src + r.len <= r.src)
                return -EINVAL;
        if ((err = check_range(r.dst, r.len)))
                return err;
        if (r.mode & ~(uint64_t)(UFFDIO_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP))
                return -EINVAL;
        if (!vm_space_by_serial(c->space))
                return -ESRCH;
        got = fill_range(c, FILL_COPY, r.dst, r.src, r.len);
        if (got > 0 && (r.mode & UFFDIO_COPY_MODE_WP))  /* installed marked */
                got = copy_wp(c, r.dst, got);
        r.copy = got;
        if (copy_to_user(arg + offsetof(struct uffdio_copy, copy), &r.copy,
                         sizeof r.copy))
                return -EFAULT;
        return fill_done(c, r.dst, r.len, got, r.mode);
}

/*
 * UFFDIO_ZEROPAGE, UFFDIO_CONTINUE and UFFDIO_POISON take the same layout
 * (struct uffdio_zeropage, _continue, _poison): a range, a mode, and the
 * count of bytes done written back into the last word. `modes`: the mode
 * bits the call accepts; `refused`: those among them Mercator does not do
 * (CONTINUE's MODE_WP), which fail the call as Linux without them does.
 */
static long ioctl_range_fill(struct uffd_ctx *c, uint64_t arg, enum fill_op op,
                             uint64_t modes, uint64_t refused)
{
        struct uffdio_zeropage r;       /* the layout of all three */
        long got, err;

        _Static_assert(sizeof(struct uffdio_continue) == sizeof r &&
                       sizeof(struct uffdio_poison) == sizeof r &&
                       offsetof(struct uffdio_continue, mapped) ==
                       offsetof(struct uffdio_zeropage, zeropage) &&
                       offsetof(struct uffdio_poison, updated) ==
                       offsetof(struct uffdio_zeropage, zeropage),
                       "one layout for ZEROPAGE, CONTINUE and POISON");
        if (copy_from_user(&r, arg, sizeof r - sizeof r.zeropage))
                return -EFAULT;
        if ((err = check_range(r.range.start, r.range.len)))
                return err;
        if (r.mode & ~modes)
                return -EINVAL;
        if (!vm_space_by_serial(c->space))
                return -ESRCH;
        got = r.mode & refused ? -EINVAL
            : fill_range(c, op, r.range.start, 0, r.range.len);
        r.zeropage = got;
        if (copy_to_user(arg + offsetof(struct uffdio_zeropage, zeropage),
                         &r.zeropage, sizeof r.zeropage))
                return -EFAULT;
        return fill_done(c, r.range.start, r.range.len, got, r.mode);
}

/* MOVE: [src, src + len) to [dst, dst + len) page by page. => bytes
 * moved (holes count), or -errno if the first page failed. */
static long move_range(struct uffd_ctx *c, struct vm_space *s,
                       const struct uffdio_move *r)
{
        bool holes = r->mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES;
        uint64_t done = 0;
        long err;

        err = status_to_errno(vm_uffd_move_check(s, r->dst, r->src, r->len,
                                                 &c->vm));
        for (; done < r->len && !err; done += err ? 0 : PAGE_SIZE)
                err = status_to_errno(vm_uffd_move(s, r->dst + done,
                                                   r->src + done, holes));
        return done ? (long)done : err;
}

/*
 * UFFDIO_WRITEPROTECT (Linux's userfaultfd_writeprotect): mark or unmark
 * a range of one area registered WP with this context; unmarking wakes
 * the writers waiting there unless DONTWAKE.
 */
static long ioctl_writeprotect(struct uffd_ctx *c, uint64_t arg)
{
        struct uffdio_writeprotect r;
        struct vm_space *s;
        bool wp;
        long err;

        if (copy_from_user(&r, arg, sizeof r))
                return -EFAULT;
        if (r.mode & ~(uint64_t)(UFFDIO_WRITEPROTECT_MODE_WP |
                                 UFFDIO_WRITEPROTECT_MODE_DONTWAKE))
                return -EINVAL;
        wp = r.mode & UFFDIO_WRITEPROTECT_MODE_WP;
        if (wp && (r.mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE))
                return -EINVAL;
        if ((err = check_range(r.range.start, r.range.len)))
                return err;
        if (!(s = vm_space_by_serial(c->space)))
                return -ESRCH;
        err = status_to_errno(vm_uffd_writeprotect(s, r.range.start,
                                                   r.range.start + r.range.len,
                                                   &c->vm, wp));
        if (err)
                return err;
        if (!wp && !(r.mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE))
                wake_range(c, r.range.start, r.range.start + r.range.len);
        return 0;
}

static long ioctl_move(struct uffd_ctx *c, uint64_t arg)
{
        struct uffdio_move r;
        struct vm_space *s;
        long got, err;

        if (!(s = vm_space_by_serial(c->space)))
                return -ESRCH;
        if (copy_from_user(&r, arg, sizeof r - sizeof r.move))
                return -EFAULT;
        if (s != current->space)
                return -EINVAL;         /* no moves across processes */
        if ((err = check_range(r.dst, r.len)) || (err = check_range(r.src, r.len)))
                return err;
        if (r.mode & ~(uint64_t)(UFFDIO_MODE_DONTWAKE |
                                 UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES))
                return -EINVAL;
        got = move_range(c, s, &r);
        r.move = got;
        if (copy_to_user(arg + offsetof(struct uffdio_move, move), &r.move,
                         sizeof r.move))
                return -EFAULT;
        return fill_done(c, r.dst, r.len, got, r.mode);
}

static long uffd_dispatch(struct uffd_ctx *c, unsigned cmd, uint64_t arg)
{
        if (cmd != UFFDIO_API && !c->api_done)
                return -EINVAL;
        switch (cmd) {
        case UFFDIO_API:        return ioctl_api(c, arg);
        case UFFDIO_REGISTER:   return ioctl_register(c, arg);
        case UFFDIO_UNREGISTER: return ioctl_range(c, arg, true);
        case UFFDIO_WAKE:       return ioctl_range(c, arg, false);
        case UFFDIO_COPY:       return ioctl_copy(c, arg);
        case UFFDIO_ZEROPAGE:
                return ioctl_range_fill(c, arg, FILL_ZERO,
                                        UFFDIO_MODE_DONTWAKE, 0);
        case UFFDIO_CONTINUE:   /* no write-protect mode here */
                return ioctl_range_fill(c, arg, FILL_CONTINUE,
                                        UFFDIO_MODE_DONTWAKE |
                                        UFFDIO_CONTINUE_MODE_WP,
                                        UFFDIO_CONTINUE_MODE_WP);
        case UFFDIO_POISON:
                return ioctl_range_fill(c, arg, FILL_POISON,
                                        UFFDIO_MODE_DONTWAKE, 0);
        case UFFDIO_MOVE:       return ioctl_move(c, arg);
        case UFFDIO_WRITEPROTECT: return ioctl_writeprotect(c, arg);
        default:                return -EINVAL;
        }
}

/* The context's space may be another process's (the descriptor passed
 * on): the ioctl enters it (vm_space.h, vm_space_enter), and leaves it
 * only if it still exists (a copy from the caller may sleep). */
static long uffd_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
        struct uffd_ctx *c = (struct uffd_ctx *)f->node;
        long r;

        vm_space_enter(vm_space_by_serial(c->space));
        r = uffd_dispatch(c, cmd, arg);
        vm_space_leave(vm_space_by_serial(c->space));
        return r;
}

static const struct file_ops uffd_ops = {
        .read = uffd_read, .stat = file_anon_stat,
        .release = uffd_release, .ioctl = uffd_ioctl, .poll = uffd_poll,
};

/* A new context for the current process's space, on a new descriptor. */
static long uffd_new(unsigned flags)
{
        struct uffd_ctx *c;
        struct file *f;
        long fd;

        if (flags & ~(unsigned)(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY))
                return -EINVAL;
        if (!(c = kzalloc(sizeof *c)))
                return -ENOMEM;
        if (!(f = kzalloc(sizeof *f))) {
                kfree(c);
                return -ENOMEM;
        }
        c->vm.fault = ctx_fault;
        c->refs = 1;
        c->flags = flags & UFFD_USER_MODE_ONLY;
        c->space = current->space->serial;
        f->ops = &uffd_ops;
        f->refs = 1;
        f->flags = flags & (O_CLOEXEC | O_NONBLOCK);    /* O_RDONLY, as Linux */
        f->node = c;
        if ((fd = fd_install(f)) < 0)
                file_put(f);
        return fd;
}

SYSCALL_DECL(userfaultfd)
{
        unsigned flags = (unsigned)a0;

        /* vm.unprivileged_userfaultfd 0, Linux's default */
        if (!(flags & UFFD_USER_MODE_ONLY) &&
            !cred_capable(&current->cred, CAP_SYS_PTRACE))
                return -EPERM;
        return uffd_new(flags);
}

/* ---- /dev/userfaultfd -------------------------------------------------------- */

static long dev_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
        return cmd == USERFAULTFD_IOC_NEW ? uffd_new((unsigned)arg) : -EINVAL;
}

static long dev_rw(struct file *f, uint64_t ubuf, size_t len)
{
        return -EINVAL;
}

static void dev_stat(struct file *f, void *st)
{
        vnode_stat(f->vnode, st);
}

static void dev_release(struct file *f)
{
}

static const struct file_ops dev_ops = {
        .read = dev_rw, .write = dev_rw, .stat = dev_stat,
        .release = dev_release, .ioctl = dev_ioctl,
};

long userfaultfd_dev_open(unsigned flags, struct file **out)
{
        struct file *f = kzalloc(sizeof *f);

        if (!f)
                return -ENOMEM;
        f->ops = &dev_ops;
        f->refs = 1;
        f->flags = flags;
        *out = f;
        return 0;
}
