/*
 * sys_timerfd.c - timerfd_create, timerfd_settime, timerfd_gettime: a
 * timer read through a descriptor (Linux's timerfd).
 *
 * A timerfd holds one ktimer on the host's monotonic clock: a REALTIME
 * deadline is converted when it is set (as POSIX timers here: a later
 * clock_settime does not move it), a MONOTONIC or BOOTTIME one from the
 * setter's time namespace (Linux's timens_ktime_to_host). Expiries are
 * counted from the deadline and the period whenever someone looks (read,
 * poll, gettime) and at the scheduler's timer check (timerfd_run, from
 * ktimer_run), which wakes poll and select. read() gives the count since
 * the last read as 8 bytes, sleeping until the next expiry (or EAGAIN
 * with O_NONBLOCK).
 *
 * Not done: TFD_TIMER_CANCEL_ON_SET is accepted and does nothing; the
 * *_ALARM clocks are EINVAL (no alarm timers).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/poll.h>
#include <proc/ktimer.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <proc/time.h>
#include <proc/timens.h>
#include <vm/kmalloc.h>

#define NSEC                    1000000000ULL
#define TFD_NONBLOCK            04000
#define TFD_CLOEXEC             02000000
#define TFD_TIMER_ABSTIME       1
#define TFD_TIMER_CANCEL_ON_SET 2

/* Locks: [k] the kernel lock (one CPU). */
struct timerfd {
        clockid_t     clock;            /* [c] */
        struct ktimer t;                /* [k] on the host's monotonic clock */
        uint64_t      ticks;            /* [k] expiries not yet read */
        struct timerfd *next, *prev;    /* [k] every timerfd (all_timerfds) */
};

static struct timerfd *all_timerfds;

static const struct file_ops timerfd_ops;

/* Count the expiries up to now into tf->ticks. */
static void timerfd_catch_up(struct timerfd *tf)
{
        uint64_t now = clock_monotonic_ns(), missed;

        if (!tf->t.at || now < tf->t.at)
                return;
        tf->t.at = ktimer_next(&tf->t, now, &missed);
        tf->ticks += 1 + missed;
}

static long timerfd_read(struct file *f, uint64_t ubuf, size_t len)
{
        struct timerfd *tf = (struct timerfd *)f->node;
        uint64_t n;

        if (len < sizeof n)
                return -EINVAL;
        for (timerfd_catch_up(tf); !tf->ticks; timerfd_catch_up(tf)) {
                if (f->flags & TFD_NONBLOCK)
                        return -EAGAIN;
                /* until timerfd_run or a settime wakes us */
                if (sched_sleep_on_intr(tf))
                        return -ERESTARTSYS;
        }
        n = tf->ticks;
        if (copy_to_user(ubuf, &n, sizeof n))
                return -EFAULT;
        tf->ticks = 0;
        return sizeof n;
}

static unsigned timerfd_poll(struct file *f)
{
        struct timerfd *tf = (struct timerfd *)f->node;

        timerfd_catch_up(tf);
        return tf->ticks ? POLLIN | POLLRDNORM : 0;
}

static void timerfd_release(struct file *f)
{
        struct timerfd *tf = (struct timerfd *)f->node;

        if (tf->prev)
                tf->prev->next = tf->next;
        else
                all_timerfds = tf->next;
        if (tf->next)
                tf->next->prev = tf->prev;
        kfree(tf);
}

bool timerfd_exist(void)
{
        return __atomic_load_n(&all_timerfds, __ATOMIC_RELAXED) != NULL;
}

void timerfd_run(void)
{
        uint64_t now = clock_monotonic_ns();
        bool fired = false;

        for (struct timerfd *tf = all_timerfds; tf; tf = tf->next) {
                if (tf->t.at && now >= tf->t.at) {
                        timerfd_catch_up(tf);
                        sched_wakeup(tf);
                        fired = true;
                }
        }
        if (fired)
                poll_wake();
}

static const struct file_ops timerfd_ops = {
        .read = timerfd_read, .stat = file_anon_stat,
        .release = timerfd_release, .poll = timerfd_poll,
};

SYSCALL_DECL(timerfd_create)
{
        clockid_t clock = (clockid_t)a0;
        unsigned flags = (unsigned)a1;
        struct timerfd *tf;
        struct file *f;
        long fd;

        if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC &&
            clock != CLOCK_BOOTTIME)
                return -EINVAL;
        if (flags & ~(unsigned)(TFD_NONBLOCK | TFD_CLOEXEC))
                return -EINVAL;
        if (!(tf = kzalloc(sizeof *tf)))
                return -ENOMEM;
        if (!(f = kzalloc(sizeof *f))) {
                kfree(tf);
                return -ENOMEM;
        }
        tf->clock = clock;
        tf->next = all_timerfds;
        if (all_timerfds)
                all_timerfds->prev = tf;
        all_timerfds = tf;
        *f = (struct file){ .ops = &timerfd_ops, .refs = 1,
                            .flags = flags, .node = tf };
        if ((fd = fd_install(f)) < 0)
                file_put(f);
        return fd;
}

/* The timerfd behind descriptor fd: -EBADF, or -EINVAL if it is not one. */
static long timerfd_get(long fd, struct timerfd **out)
{
        struct file *f = fd_get((int)fd);

        if (!f)
                return -EBADF;
        if (f->ops != &timerfd_ops)
                return -EINVAL;
        *out = (struct timerfd *)f->node;
        return 0;
}

/* What is left and the period, as an itimerspec (interval, value). */
static long timerfd_value_put(struct timerfd *tf, uint64_t uaddr)
{
        uint64_t left = ktimer_remaining(&tf->t, clock_monotonic_ns());
        struct linux_timespec iv = { (int64_t)(tf->t.interval / NSEC),
                                     (int64_t)(tf->t.interval % NSEC) };
        struct linux_timespec v = { (int64_t)(left / NSEC), (int64_t)(left % NSEC) };

        return timespec_write(uaddr, &iv) ||
               timespec_write(uaddr + timespec_user_size(), &v) ? -EFAULT : 0;
}

/* An absolute time on tf's clock, as the host's monotonic time. */
static uint64_t timerfd_abs_to_host(const struct timerfd *tf, uint64_t value)
{
        uint64_t now = clock_monotonic_ns();

        if (tf->clock == CLOCK_REALTIME) {
                uint64_t real = clock_realtime_ns();
                return value > real ? now + (value - real) : now;
        }
        value = timens_to_host(tf->clock, value);
        return (int64_t)value > (int64_t)now ? value : now;
}

SYSCALL_DECL(timerfd_settime)
{
        struct linux_timespec iv, v;
        struct timerfd *tf;
        long err = timerfd_get(a0, &tf);

        if (err)
                return err;
        if ((int)a1 & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
                return -EINVAL;
        if (timespec_read((uint64_t)a2, &iv) ||
            timespec_read((uint64_t)a2 + timespec_user_size(), &v))
                return -EFAULT;
        if (iv.sec < 0 || iv.nsec < 0 || iv.nsec >= (int64_t)NSEC ||
            v.sec < 0 || v.nsec < 0 || v.nsec >= (int64_t)NSEC)
                return -EINVAL;
        timerfd_catch_up(tf);
        if (a3 && (err = timerfd_value_put(tf, (uint64_t)a3)))
                return err;
        uint64_t value = (uint64_t)v.sec * NSEC + (uint64_t)v.nsec;
        uint64_t interval = (uint64_t)iv.sec * NSEC + (uint64_t)iv.nsec;
        tf->ticks = 0;
        tf->t.interval = value ? interval : 0;
        if (!value)
                tf->t.at = 0;
        else if ((int)a1 & TFD_TIMER_ABSTIME)
                tf->t.at = timerfd_abs_to_host(tf, value);
        else
                tf->t.at = clock_monotonic_ns() + value;
        if (tf->t.at == 0 && value)
                tf->t.at = 1;           /* 0 means disarmed */
        sched_wakeup(tf);               /* a reader of a disarmed timer */
        return 0;
}

SYSCALL_DECL(timerfd_gettime)
{
        struct timerfd *tf;
        long err = timerfd_get(a0, &tf);

        if (err)
                return err;
        timerfd_catch_up(tf);
        return timerfd_value_put(tf, (uint64_t)a1);
}
