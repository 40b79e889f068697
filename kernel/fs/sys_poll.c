/*
 * sys_poll.c - poll, ppoll, select and pselect6: waiting until one of
 * several open files is ready, with Linux's arguments, results and errors.
 *
 * Each pass asks every file's poll operation (poll.h) what it is ready
 * for; if none is, the caller sleeps on poll_channel until a file calls
 * poll_wake(), the deadline passes or a signal comes, then looks again.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/poll.h>
#include <vm/kmalloc.h>
#include <proc/proc.h>
#include <proc/rlimit.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <proc/time.h>
#include <vm/kmalloc.h>

static const int poll_channel;

void poll_wake(void)
{
        sched_wakeup(&poll_channel);
}

/* What f is ready for now. */
static unsigned file_poll(struct file *f)
{
        return f->ops->poll ? f->ops->poll(f) : POLL_DEFAULT_MASK;
}

#define NO_DEADLINE     UINT64_MAX

/*
 * Sleep until something may have changed, or the deadline.
 * => 0 to look again, -ETIMEDOUT past the deadline, -ERESTARTNOHAND on a
 *    signal (EINTR if a handler runs, else the call starts over: select,
 *    pselect6 and ppoll have written the time left back by then; poll
 *    goes on to its deadline through a restart block instead).
 */
static long poll_sleep(uint64_t deadline)
{
        if (deadline != NO_DEADLINE && clock_monotonic_ns() >= deadline)
                return -ETIMEDOUT;
        /* 0 means "no deadline" to the scheduler: a deadline of 0 has
         * passed already, and was answered above. */
        if (sched_sleep_on_until_intr(&poll_channel,
                                      deadline == NO_DEADLINE ? 0 : deadline))
                return -ERESTARTNOHAND;
        return 0;
}

/* ---- poll, ppoll ---------------------------------------------------- */

struct linux_pollfd {
        int32_t fd;
        int16_t events, revents;
};

/* Fill in every revents; how many are not zero. */
static long pollfds_scan(struct linux_pollfd *pfd, size_t n)
{
        long ready = 0;

        for (size_t i = 0; i < n; i++) {
                struct file *f = pfd[i].fd >= 0 ? fd_get(pfd[i].fd) : NULL;
                unsigned mask = 0;
                if (pfd[i].fd >= 0)
                        mask = f ? file_poll(f) &
                               ((uint16_t)pfd[i].events | POLLERR | POLLHUP)
                                 : POLLNVAL;
                pfd[i].revents = (int16_t)mask;
                ready += mask != 0;
        }
        return ready;
}

static long do_poll(uint64_t ufds, uint64_t nfds, uint64_t deadline)
{
        struct linux_pollfd *pfd;
        size_t bytes = nfds * sizeof *pfd;
        long ready, err = 0;

        /* As Linux: no more entries than RLIMIT_NOFILE allows descriptors. */
        if (nfds > current->rlim.lim[RLIMIT_NOFILE].cur)
                return -EINVAL;
        if (!(pfd = kmalloc(bytes ? bytes : 1)))
                return -ENOMEM;
        if (copy_from_user(pfd, ufds, bytes)) {
                kfree(pfd);
                return -EFAULT;
        }
        while ((ready = pollfds_scan(pfd, nfds)) == 0 &&
               (err = poll_sleep(deadline)) == 0)
                ;
        if (ready == 0 && err != -ETIMEDOUT)
                ready = err;
        /* Only revents changes, but Linux writes the entries back whole. */
        if (ready >= 0 && copy_to_user(ufds, pfd, bytes))
                ready = -EFAULT;
        kfree(pfd);
        return ready;
}

static uint64_t deadline_after_ns(uint64_t ns)
{
        uint64_t now = clock_monotonic_ns();

        return ns > NO_DEADLINE - 1 - now ? NO_DEADLINE : now + ns;
}

/* poll's timeout is a value in a register: a restart goes on to the
 * deadline the first call set, as Linux's do_restart_poll. */
static long poll_restart(struct restart_block *rb)
{
        long n = do_poll(rb->arg[0], rb->arg[1], rb->deadline);

        return n == -ERESTARTNOHAND
                ? proc_restart_with(poll_restart, rb->deadline, rb->arg[0], rb->arg[1])
                : n;
}

SYSCALL_DECL(poll)
{
        int timeout_ms = (int)a2;
        uint64_t deadline = timeout_ms < 0 ? NO_DEADLINE
                : deadline_after_ns((uint64_t)timeout_ms * 1000000ULL);
        uint64_t nfds = (uint64_t)(unsigned)a1;
        long n = do_poll((uint64_t)a0, nfds, deadline);

        return n == -ERESTARTNOHAND
                ? proc_restart_with(poll_restart, deadline, (uint64_t)a0, nfds)
                : n;
}

/* A user timespec as a deadline; -EINVAL if it is not a valid one. */
static long timespec_deadline(uint64_t uts, uint64_t *deadline)
{
        struct linux_timespec ts;

        if (!uts) {
                *deadline = NO_DEADLINE;
                return 0;
        }
        if (timespec_read(uts, &ts))
                return -EFAULT;
        if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000)
                return -EINVAL;
        if ((uint64_t)ts.sec >= NO_DEADLINE / 1000000000ULL)
                *deadline = NO_DEADLINE;
        else
                *deadline = deadline_after_ns((uint64_t)ts.sec * 1000000000ULL +
                                              (uint64_t)ts.nsec);
        return 0;
}

/* Linux writes the time left back (a failure to do so is ignored). */
static void timespec_update(uint64_t uts, uint64_t deadline)
{
        uint64_t now = clock_monotonic_ns(), left;
        struct linux_timespec ts;

        if (!uts || deadline == NO_DEADLINE)
                return;
        left = deadline > now ? deadline - now : 0;
        ts.sec = (int64_t)(left / 1000000000ULL);
        ts.nsec = (int64_t)(left % 1000000000ULL);
        timespec_write(uts, &ts);
}

/*
 * The signal mask of ppoll and pselect6: blocked while the call waits.
 * The old mask comes back on the way out to user mode, after the handler
 * of a signal that ended the wait (signal_deliver), as with sigsuspend.
 */
static long sigmask_arg(uint64_t umask, uint64_t size)
{
        ksigset_t set;

        if (!umask)
                return 0;
        if (size != sizeof set)
                return -EINVAL;
        if (copy_from_user(&set, umask, sizeof set))
                return -EFAULT;
        current->sig.saved_mask = current->sig.blocked;
        current->sig.restore_mask = true;
        current->sig.blocked = set & ~(sigmask_of(SIGKILL) | sigmask_of(SIGSTOP));
        return 0;
}

/* Linux keeps the temporary mask only for a call that a signal ended
 * (its handler must run under it); otherwise the old one is back now. */
static void sigmask_settle(long ret)
{
        if (current->sig.restore_mask && ret != -ERESTARTNOHAND) {
                current->sig.blocked = current->sig.saved_mask;
                current->sig.restore_mask = false;
        }
}

SYSCALL_DECL(ppoll)
{
        uint64_t deadline;
        long err, n;

        if ((err = timespec_deadline((uint64_t)a2, &deadline)) < 0)
                return err;
        if ((err = sigmask_arg((uint64_t)a3, (uint64_t)a4)) < 0)
                return err;
        n = do_poll((uint64_t)a0, (uint64_t)(unsigned)a1, deadline);
        if ((uint64_t)a3)
                sigmask_settle(n);
        timespec_update((uint64_t)a2, deadline);
        return n;
}

/* ---- select, pselect6 ----------------------------------------------- */

#define SELECT_IN       (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define SELECT_OUT      (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define SELECT_EX       (POLLPRI)
#define STACK_WORDS     16              /* FD_SETSIZE (1024) bits */

/* The three sets of one select call, each `words` 64-bit words. */
struct fd_sets {
        uint64_t *in, *out, *ex;
};

static bool set_has(const uint64_t *set, int fd)
{
        return set[fd / 64] >> (fd % 64) & 1;
}

static void set_add(uint64_t *set, int fd)
{
        set[fd / 64] |= 1ULL << (fd % 64);
}

/* Point s's sets at 3 * words words of mem. */
static void sets_at(struct fd_sets *s, uint64_t *mem, size_t words)
{
        s->in = mem;
        s->out = mem + words;
        s->ex = mem + 2 * words;
}

/* The ready descriptors of `want` into `got` (zeroed by the caller); how
 * many bits, or -EBADF if a descriptor asked about is not open. */
static long fdsets_scan(const struct fd_sets *want, struct fd_sets *got, int nfds)
{
        long ready = 0;

        for (int fd = 0; fd < nfds; fd++) {
                bool in = set_has(want->in, fd), out = set_has(want->out, fd);
                bool ex = set_has(want->ex, fd);
                if (!in && !out && !ex)
                        continue;
                struct file *f = fd_get(fd);
                if (!f)
                        return -EBADF;
                unsigned mask = file_poll(f);
                if (in && (mask & SELECT_IN))
                        set_add(got->in, fd), ready++;
                if (out && (mask & SELECT_OUT))
                        set_add(got->out, fd), ready++;
                if (ex && (mask & SELECT_EX))
                        set_add(got->ex, fd), ready++;
        }
        return ready;
}

/* Copy a user fd_set's first nfds bits into set (zeroed; uset NULL:
 * empty). */
static long set_in(uint64_t *set, uint64_t uset, int nfds)
{
        size_t bytes = (size_t)(nfds + 7) / 8;

        if (!uset || !nfds)
                return 0;
        if (copy_from_user(set, uset, bytes))
                return -EFAULT;
        if (nfds % 8)
                ((uint8_t *)set)[bytes - 1] &= (uint8_t)((1u << (nfds % 8)) - 1);
        return 0;
}

static long set_out(uint64_t uset, const uint64_t *set, int nfds)
{
        if (!uset || !nfds)
                return 0;
        return copy_to_user(uset, set, (size_t)(nfds + 7) / 8);
}

/* select's sleep over sets of look descriptors, held in mem (6 sets). */
static long select_sets(int look, uint64_t *mem, size_t words, uint64_t uin,
                        uint64_t uout, uint64_t uex, uint64_t deadline)
{
        struct fd_sets want, got;
        long ready, err = 0;

        memset(mem, 0, 6 * words * sizeof *mem);
        sets_at(&want, mem, words);
        sets_at(&got, mem + 3 * words, words);
        if (set_in(want.in, uin, look) || set_in(want.out, uout, look) ||
            set_in(want.ex, uex, look))
                return -EFAULT;
        while ((ready = fdsets_scan(&want, &got, look)) == 0 &&
               (err = poll_sleep(deadline)) == 0)
                ;
        if (ready == 0 && err != -ETIMEDOUT)
                return err;
        if (ready < 0)
                return ready;
        if (set_out(uin, got.in, look) || set_out(uout, got.out, look) ||
            set_out(uex, got.ex, look))
                return -EFAULT;
        return ready;
}

static long do_select(long nfds_arg, uint64_t uin, uint64_t uout, uint64_t uex,
                      uint64_t deadline)
{
        uint64_t stack[6 * STACK_WORDS], *mem = stack;
        int nfds = (int)nfds_arg;
        long ret;

        if (nfds < 0)
                return -EINVAL;
        /* Bits past the descriptor table are neither looked at nor
         * written back, as Linux does with nfds past its table's size. */
        int look = MIN(nfds, current->fdt->size);
        size_t words = ((size_t)look + 63) / 64;
        if (words > STACK_WORDS && !(mem = kmalloc(6 * words * sizeof *mem)))
                return -ENOMEM;
        ret = select_sets(look, mem, MAX(words, (size_t)1), uin, uout, uex,
                          deadline);
        if (mem != stack)
                kfree(mem);
        return ret;
}

struct linux_timeval {
        long tv_sec, tv_usec;           /* time_t, suseconds_t */
};

SYSCALL_DECL(select)
{
        uint64_t utv = (uint64_t)a4, deadline = NO_DEADLINE;
        struct linux_timeval tv;
        long n;

        if (utv) {
                if (copy_from_user(&tv, utv, sizeof tv))
                        return -EFAULT;
                if (tv.tv_sec < 0 || tv.tv_usec < 0)
                        return -EINVAL;
                /* Linux carries whole seconds out of tv_usec. */
                uint64_t sec = (uint64_t)tv.tv_sec + (uint64_t)tv.tv_usec / 1000000;
                uint64_t ns = (uint64_t)(tv.tv_usec % 1000000) * 1000;
                deadline = sec >= NO_DEADLINE / 1000000000ULL ? NO_DEADLINE
                         : deadline_after_ns(sec * 1000000000ULL + ns);
        }
        n = do_select(a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3, deadline);
        if (utv && deadline != NO_DEADLINE) {
                uint64_t now = clock_monotonic_ns();
                uint64_t left = deadline > now ? deadline - now : 0;
                tv.tv_sec = (long)(left / 1000000000ULL);
                tv.tv_usec = (long)(left % 1000000000ULL / 1000);
                copy_to_user(utv, &tv, sizeof tv);
        }
        return n;
}

SYSCALL_DECL(pselect6)
{
        uint64_t deadline;
        unsigned long sig[2] = { 0, 0 };        /* { sigset_t *, size } */
        long err, n;

        if ((err = timespec_deadline((uint64_t)a4, &deadline)) < 0)
                return err;
        if (a5 && copy_from_user(sig, (uint64_t)a5, sizeof sig))
                return -EFAULT;
        if ((err = sigmask_arg(sig[0], sig[1])) < 0)
                return err;
        n = do_select(a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3, deadline);
        if (sig[0])
                sigmask_settle(n);
        timespec_update((uint64_t)a4, deadline);
        return n;
}
