/*
 * time.h - clocks, sleeping and timers for system calls (sys_time.c,
 * timer.c in this directory): Linux's clock ids and timespec, and the
 * helpers the sleeping and timer calls share.
 */
#ifndef PROC_TIME_H
#define PROC_TIME_H

#include <mercator/types.h>

typedef int clockid_t;

/* Linux's clock ids. */
#define CLOCK_REALTIME                  0
#define CLOCK_MONOTONIC                 1
#define CLOCK_PROCESS_CPUTIME_ID        2
#define CLOCK_THREAD_CPUTIME_ID         3
#define CLOCK_MONOTONIC_RAW             4
#define CLOCK_REALTIME_COARSE           5
#define CLOCK_MONOTONIC_COARSE          6
#define CLOCK_BOOTTIME                  7
#define CLOCK_TAI                       11

struct linux_timespec { int64_t sec, nsec; };

/* The time on clock id in ns: 0 or -EINVAL (no such clock). */
long clock_read(clockid_t id, uint64_t *ns);

/* A timespec from user memory, validated (0 <= nsec < 1e9, sec >= 0):
 * 0, -EFAULT or -EINVAL. */
long timespec_get(uint64_t uaddr, struct linux_timespec *ts);

/* ns as a timespec to user memory: 0 or -EFAULT. */
long timespec_put(uint64_t uaddr, uint64_t ns);

/*
 * A struct timespec of the running system call, as it is (unchecked), in
 * or out: 0 or -EFAULT. Its layout is the call's: two 64-bit fields, or
 * on a 32-bit machine for the calls its machine/syscalls.h marks 'T'
 * (i386's clock_gettime, nanosleep, futex, ... as opposed to their
 * *_time64 forms) two 32-bit ones: current->time32. Every timespec a
 * system call reads or writes goes through these or the two above.
 */
long timespec_read(uint64_t uaddr, struct linux_timespec *ts);
long timespec_write(uint64_t uaddr, const struct linux_timespec *ts);
/* Its size in user memory: 16, or 8 (time32). */
size_t timespec_user_size(void);

/* Sleep until the monotonic clock reaches deadline, or an unblocked
 * signal comes: 0 or -EINTR. */
long time_sleep_until(uint64_t deadline);

#endif
