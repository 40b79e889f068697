/*
 * acct.h - what processes use: CPU time, faults, memory; for times,
 * getrusage, wait4's rusage, the CPU-time clocks and sysinfo (acct.c).
 *
 * CPU time is measured exactly (the monotonic clock at every switch in
 * and out) and split between user and system time in the proportion of
 * timer ticks that found the process in each mode, as Linux does for
 * times() and getrusage() (its cputime_adjust).
 */
#ifndef PROC_ACCT_H
#define PROC_ACCT_H

#include <proc/proc.h>

/* Nanoseconds p has run, including the slice it is running now. */
uint64_t proc_runtime_ns(const struct proc *p);

/* p's own user and system time (not its children's): the thread's. */
void proc_cputime(const struct proc *p, uint64_t *utime_ns, uint64_t *stime_ns);

/* The same for p's whole process: its live threads and those that have
 * exited (their time was added to the leader's usage.exited_*). */
void proc_group_cputime(const struct proc *p, uint64_t *utime_ns,
                        uint64_t *stime_ns);
uint64_t proc_group_runtime_ns(const struct proc *p);

/* The current thread is exiting, its process is not: what it used goes
 * to the process (its leader). */
void acct_thread_exit(struct proc *p);

/* A timer tick found current running, in user mode or not: charge it. */
void acct_tick(bool from_user);
void acct_tick_other_cpu(bool from_user);       /* clock_tick_other_cpu */

/* Count a resolved page fault of the current process: major if it read
 * swap (space->last_fault.major), else minor. */
void acct_fault(void);

/* p's resident set now, in KiB, raising its high-water mark. */
uint64_t acct_sample_rss(struct proc *p);

/* parent reaps child: the child's usage and its children's become the
 * parent's children's usage. */
void acct_reap(struct proc *parent, const struct proc *child);

/* Linux's struct rusage: two timevals, then 14 longs (so 144 bytes on a
 * 64-bit machine, 72 on i386). */
struct linux_rusage {
        long utime_sec, utime_usec, stime_sec, stime_usec;
        long maxrss, ixrss, idrss, isrss, minflt, majflt, nswap;
        long inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
};

/* p's usage as a struct rusage: its own, its reaped children's, or both
 * (what wait4 and waitid report of a child). */
enum { ACCT_SELF, ACCT_CHILDREN, ACCT_BOTH, ACCT_THREAD };
void acct_rusage(struct proc *p, int who, struct linux_rusage *ru);

/* The same, to user memory: 0 or -EFAULT. */
long acct_rusage_to_user(struct proc *p, int who, uint64_t uaddr);

/* Load averages (Linux's fixed point, FSHIFT 11), updated every 5 s. */
extern unsigned long acct_loadavg[3];

#endif
