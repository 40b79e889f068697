/*
 * sys_time.c - clocks and sleeping: clock_gettime, clock_getres,
 * clock_settime, gettimeofday, settimeofday, time, nanosleep,
 * clock_nanosleep; and the accounting calls times, getrusage, sysinfo.
 *
 * Clocks: MONOTONIC (and RAW, BOOTTIME: Mercator never suspends, and
 * nothing slews it) is the TSC since boot; REALTIME is MONOTONIC plus the
 * offset read from the CMOS clock at boot (or set by clock_settime);
 * the COARSE clocks are the fine ones at the last timer tick;
 * the CPU-time clocks (PROCESS/THREAD_CPUTIME_ID and Linux's negative
 * per-pid ids) are exact run times from acct.c.
 *
 * Sleeping is to a monotonic deadline, checked by the scheduler at least
 * once per timer tick (10 ms), and ended early by a signal (EINTR if a
 * handler runs, with the time left written back for relative sleeps; a
 * restart if none does, as after SIGSTOP and SIGCONT).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/acct.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <proc/time.h>
#include <proc/timens.h>
#include <proc/vdso.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#define NSEC    1000000000ULL
#define TICK_NS (NSEC / HZ)


/* ---- reading clocks ----------------------------------------------------- */

/* Linux's encoding of CPU-time clocks for a pid: ~pid << 3 | which, with
 * bit 2 for "thread". which: 0 PROF (user + system), 1 VIRT (user), 2
 * SCHED (run time). */
static long cpu_clock_read(clockid_t id, uint64_t *ns)
{
        int pid = ~(id >> 3), which = id & 3;
        bool thread = id & 4;
        struct proc *p = pid == 0 ? current : proc_find(pid);
        uint64_t ut, st;

        if (which == 3 || !p ||
            (p->state == PROC_ZOMBIE && (thread || !proc_group_others(p))))
                return -EINVAL;
        if (thread && p->pid != current->pid)
                return -EINVAL;         /* a thread of our own process */
        if (thread) {
                proc_cputime(p, &ut, &st);
                *ns = which == 1 ? ut : which == 0 ? ut + st : proc_runtime_ns(p);
        } else {
                proc_group_cputime(p, &ut, &st);
                *ns = which == 1 ? ut : which == 0 ? ut + st
                                                   : proc_group_runtime_ns(p);
        }
        return 0;
}

long clock_read(clockid_t id, uint64_t *ns)
{
        if (id < 0)
                return cpu_clock_read(id, ns);
        switch (id) {
        case CLOCK_REALTIME:
                *ns = clock_realtime_ns();
                return 0;
        case CLOCK_REALTIME_COARSE: {
                /* The wall clock at the last tick, from one reading (the
                 * vDSO computes the same). */
                uint64_t m = clock_monotonic_ns();
                *ns = m - m % TICK_NS + clock_realtime_offset_ns();
                return 0;
        }
        case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_BOOTTIME:
                *ns = timens_from_host(id, clock_monotonic_ns());
                return 0;
        case CLOCK_MONOTONIC_COARSE:
                *ns = timens_from_host(id, clock_monotonic_ns() / TICK_NS * TICK_NS);
                return 0;
        case CLOCK_PROCESS_CPUTIME_ID:
                *ns = proc_group_runtime_ns(current);
                return 0;
        case CLOCK_THREAD_CPUTIME_ID:
                *ns = proc_runtime_ns(current);
                return 0;
        default:
                return -EINVAL;
        }
}

size_t timespec_user_size(void)
{
        return current && current->time32 ? 8 : sizeof(struct linux_timespec);
}

long timespec_read(uint64_t uaddr, struct linux_timespec *ts)
{
        if (timespec_user_size() == 8) {
                int32_t t[2];
                if (copy_from_user(t, uaddr, sizeof t))
                        return -EFAULT;
                *ts = (struct linux_timespec){ t[0], t[1] };
                return 0;
        }
        return copy_from_user(ts, uaddr, sizeof *ts) ? -EFAULT : 0;
}

long timespec_write(uint64_t uaddr, const struct linux_timespec *ts)
{
        if (timespec_user_size() == 8) {
                int32_t t[2] = { (int32_t)ts->sec, (int32_t)ts->nsec };
                return copy_to_user(uaddr, t, sizeof t) ? -EFAULT : 0;
        }
        return copy_to_user(uaddr, ts, sizeof *ts) ? -EFAULT : 0;
}

long timespec_get(uint64_t uaddr, struct linux_timespec *ts)
{
        if (timespec_read(uaddr, ts))
                return -EFAULT;
        if (ts->sec < 0 || ts->nsec < 0 || ts->nsec >= (int64_t)NSEC)
                return -EINVAL;
        return 0;
}

long timespec_put(uint64_t uaddr, uint64_t ns)
{
        struct linux_timespec ts = { (int64_t)(ns / NSEC), (int64_t)(ns % NSEC) };

        return timespec_write(uaddr, &ts);
}

SYSCALL_DECL(clock_gettime)
{
        uint64_t ns;
        long err = clock_read((clockid_t)a0, &ns);

        return err ? err : timespec_put((uint64_t)a1, ns);
}

SYSCALL_DECL(clock_getres)
{
        clockid_t id = (clockid_t)a0;
        uint64_t ns;
        long err = clock_read(id, &ns);

        if (err)
                return err;
        ns = id == CLOCK_REALTIME_COARSE || id == CLOCK_MONOTONIC_COARSE
             ? TICK_NS : 1;
        return a1 ? timespec_put((uint64_t)a1, ns) : 0;
}

/* Setting the wall clock needs CAP_SYS_TIME; no other clock is settable. */
static long realtime_set(uint64_t ns)
{
        if (!cred_capable(&current->cred, CAP_SYS_TIME))
                return -EPERM;
        clock_realtime_set(ns);
        return 0;
}

SYSCALL_DECL(clock_settime)
{
        struct linux_timespec ts;
        uint64_t ns;
        long err = clock_read((clockid_t)a0, &ns);

        if (err)
                return err;
        if ((err = timespec_get((uint64_t)a1, &ts)))
                return err;
        if ((clockid_t)a0 != CLOCK_REALTIME)
                return -EINVAL;
        return realtime_set((uint64_t)ts.sec * NSEC + (uint64_t)ts.nsec);
}

struct linux_timeval { long sec, usec; };       /* time_t, suseconds_t */
struct linux_timezone { int32_t minuteswest, dsttime; };
static struct linux_timezone sys_tz;    /* kept for gettimeofday, unused */

SYSCALL_DECL(gettimeofday)
{
        uint64_t ns = clock_realtime_ns();
        struct linux_timeval tv = { (long)(ns / NSEC), (long)(ns % NSEC / 1000) };

        if (a0 && copy_to_user((uint64_t)a0, &tv, sizeof tv))
                return -EFAULT;
        if (a1 && copy_to_user((uint64_t)a1, &sys_tz, sizeof sys_tz))
                return -EFAULT;
        return 0;
}

SYSCALL_DECL(settimeofday)
{
        struct linux_timeval tv;
        struct linux_timezone tz;

        if (a0 && copy_from_user(&tv, (uint64_t)a0, sizeof tv))
                return -EFAULT;
        if (a1 && copy_from_user(&tz, (uint64_t)a1, sizeof tz))
                return -EFAULT;
        if (a0 && (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1000000))
                return -EINVAL;
        if (!cred_capable(&current->cred, CAP_SYS_TIME))
                return -EPERM;
        if (a1) {
                sys_tz = tz;
                vdso_set_timezone(tz.minuteswest, tz.dsttime);
        }
        return a0 ? realtime_set((uint64_t)tv.sec * NSEC + (uint64_t)tv.usec * 1000) : 0;
}

SYSCALL_DECL(time)
{
        long sec = (long)(clock_realtime_ns() / NSEC);          /* time_t */

        if (a0 && copy_to_user((uint64_t)a0, &sec, sizeof sec))
                return -EFAULT;
        return sec;
}

/* ---- sleeping ----------------------------------------------------------- */

long time_sleep_until(uint64_t deadline)
{
        while (clock_monotonic_ns() < deadline)
                if (sched_sleep_until_intr(deadline))
                        return -EINTR;
        return 0;
}

/*
 * Sleep until a monotonic deadline that a relative request set; if a
 * signal interrupts it, the time left goes to urem (if not 0).
 * => 0, -EFAULT, or -ERESTART_RESTARTBLOCK: EINTR if a handler runs;
 *    else (a stop and continue, an ignored signal) the call goes on
 *    through restart_syscall to the same deadline, as Linux's.
 */
static long sleep_to_deadline(uint64_t deadline, uint64_t urem);

static long sleep_restart(struct restart_block *rb)
{
        return sleep_to_deadline(rb->deadline, rb->arg[0]);
}

static long sleep_to_deadline(uint64_t deadline, uint64_t urem)
{
        if (time_sleep_until(deadline) == 0)
                return 0;
        if (urem) {
                uint64_t now = clock_monotonic_ns();
                if (timespec_put(urem, deadline > now ? deadline - now : 0))
                        return -EFAULT;
        }
        return proc_restart_with(sleep_restart, deadline, urem, 0);
}

static long sleep_relative(uint64_t ns, uint64_t urem)
{
        return sleep_to_deadline(clock_monotonic_ns() + ns, urem);
}

SYSCALL_DECL(nanosleep)
{
        struct linux_timespec req;
        long err = timespec_get((uint64_t)a0, &req);

        return err ? err : sleep_relative((uint64_t)req.sec * NSEC +
                                          (uint64_t)req.nsec, (uint64_t)a1);
}

#define TIMER_ABSTIME   1

/*
 * clock_nanosleep(clock, flags, req, rem): Linux sleeps on REALTIME,
 * MONOTONIC, BOOTTIME and TAI; the raw and coarse clocks cannot be slept
 * on (EOPNOTSUPP), the thread CPU clock neither (EOPNOTSUPP too: Linux's
 * k_clock has no nsleep for it; the C libraries turn it into EINVAL). An absolute
 * REALTIME deadline is converted to a monotonic one when the sleep starts
 * (a later clock_settime does not move it). The result is the errno
 * itself, positive, as the C library function returns it: the system
 * call returns it negated as usual.
 */
SYSCALL_DECL(clock_nanosleep)
{
        clockid_t id = (clockid_t)a0;
        struct linux_timespec req;
        uint64_t now, want;
        long err;

        switch (id) {
        case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
        case CLOCK_TAI:
                break;
        case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE:
        case CLOCK_MONOTONIC_COARSE: case CLOCK_THREAD_CPUTIME_ID:
                return -EOPNOTSUPP;
        case CLOCK_PROCESS_CPUTIME_ID:
                /* Sleeping until our own CPU time passes a mark: we would
                 * have to run to get there. Not supported. */
                return syscall_unsupported(-EINVAL);
        default:
                return -EINVAL;
        }
        /* The clock first, then the time, as Linux. */
        if ((err = timespec_get((uint64_t)a2, &req)))
                return err;
        want = (uint64_t)req.sec * NSEC + (uint64_t)req.nsec;
        if (!((int)a1 & TIMER_ABSTIME))
                return sleep_relative(want, (uint64_t)a3);
        /* MONOTONIC and BOOTTIME as current's time namespace has them
         * (Linux's timens_ktime_to_host) */
        now = id == CLOCK_MONOTONIC || id == CLOCK_BOOTTIME
                ? timens_from_host(id, clock_monotonic_ns()) : clock_realtime_ns();
        if (want <= now)
                return 0;
        /* An absolute deadline can simply be slept on again. */
        return time_sleep_until(clock_monotonic_ns() + (want - now)) ? -ERESTARTNOHAND : 0;
}

/* ---- accounting --------------------------------------------------------- */

#define USER_HZ 100                     /* clock_t ticks per second */

SYSCALL_DECL(times)
{
        struct { long utime, stime, cutime, cstime; } t;        /* clock_t */
        uint64_t ut, st;

        proc_group_cputime(current, &ut, &st);
        t.utime = (int64_t)(ut / (NSEC / USER_HZ));
        t.stime = (int64_t)(st / (NSEC / USER_HZ));
        t.cutime = (int64_t)(group_of(current)->usage.c_utime_ns / (NSEC / USER_HZ));
        t.cstime = (int64_t)(group_of(current)->usage.c_stime_ns / (NSEC / USER_HZ));
        if (a0 && copy_to_user((uint64_t)a0, &t, sizeof t))
                return -EFAULT;
        return (long)(clock_monotonic_ns() / (NSEC / USER_HZ));
}

#define RUSAGE_SELF      0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD    1

SYSCALL_DECL(getrusage)
{
        switch ((int)a0) {
        case RUSAGE_SELF:
                return acct_rusage_to_user(current, ACCT_SELF, (uint64_t)a1);
        case RUSAGE_THREAD:
                return acct_rusage_to_user(current, ACCT_THREAD, (uint64_t)a1);
        case RUSAGE_CHILDREN:
                return acct_rusage_to_user(current, ACCT_CHILDREN, (uint64_t)a1);
        default:
                return -EINVAL;
        }
}

/* Shared anonymous memory, Linux's "Shmem": the resident pages of every
 * shared anonymous object some process maps (MAP_SHARED|MAP_ANONYMOUS,
 * attached SysV segments), each counted once however many areas map it.
 * (SysV segments attached nowhere are not seen.) */
struct shmem_count {
        uint64_t ids[128];
        unsigned nids;
        uint64_t pages;
};

static bool shmem_area(void *arg, const struct vm_area_info *a)
{
        struct shmem_count *c = arg;

        if (!a->shared || a->is_file || !a->object_id)
                return true;
        for (unsigned i = 0; i < c->nids; i++)
                if (c->ids[i] == a->object_id)
                        return true;
        if (c->nids < sizeof c->ids / sizeof c->ids[0])
                c->ids[c->nids++] = a->object_id;
        c->pages += a->object->npages;
        return true;
}

static uint64_t shmem_pages(void)
{
        static struct shmem_count c;    /* too big for a kernel stack */

        c.nids = 0;
        c.pages = 0;
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->space)
                        vm_space_for_each_area(proc_table[i]->space, shmem_area, &c);
        return c.pages;
}

/* Linux's struct sysinfo: longs (112 bytes on a 64-bit machine, 64 on
 * i386). */
struct linux_sysinfo {
        long          uptime;
        unsigned long loads[3];
        unsigned long totalram, freeram, sharedram, bufferram;
        unsigned long totalswap, freeswap;
        uint16_t      procs, pad;
        unsigned long totalhigh, freehigh;
        uint32_t      mem_unit;
        char          reserved[sizeof(long) == 8 ? 4 : 8];
};
_Static_assert(sizeof(struct linux_sysinfo) == (sizeof(long) == 8 ? 112 : 64),
               "struct sysinfo");

SYSCALL_DECL(sysinfo)
{
        struct linux_sysinfo si;
        uint64_t up = timens_from_host(CLOCK_BOOTTIME, clock_monotonic_ns());

        memset(&si, 0, sizeof si);
        si.uptime = (long)(up / NSEC + (up % NSEC ? 1 : 0));
        for (int i = 0; i < 3; i++)
                si.loads[i] = acct_loadavg[i] << (16 - 11);   /* SI_LOAD_SHIFT */
        /* In bytes if a long holds them, else in pages (Linux's
         * do_sysinfo, for a 32-bit machine with more than 4 GiB). */
        uint64_t unit = (uint64_t)vmstat.managed_pages * PAGE_SIZE > ~0UL ?
                        PAGE_SIZE : 1;
        si.totalram = (unsigned long)(vmstat.managed_pages * PAGE_SIZE / unit);
        si.freeram = (unsigned long)(pmm_free_count() * PAGE_SIZE / unit);
        si.sharedram = (unsigned long)(shmem_pages() * PAGE_SIZE / unit);
#ifdef PMM_ZONE_HIGHMEM
        struct pmm_zone_stats high;     /* a machine with high memory */
        pmm_zone_stats(PMM_ZONE_HIGHMEM, &high);
        si.totalhigh = (unsigned long)(high.present * PAGE_SIZE / unit);
        si.freehigh = (unsigned long)(high.free * PAGE_SIZE / unit);
#endif
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE)
                        si.procs++;
        si.mem_unit = (uint32_t)unit;
        return copy_to_user((uint64_t)a0, &si, sizeof si) ? -EFAULT : 0;
}
