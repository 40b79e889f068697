/*
 * oom.h - the out-of-memory killer (issue 16): what happens when a user
 * page fault finds no page after reclaim (and swap) could free none.
 *
 * As Linux's mm/oom_kill.c decides: every process gets a badness, the
 * pages it would give back if it died - its resident set (anonymous, file
 * and shared memory), its swapped pages and its page-table pages - moved
 * by its /proc/PID/oom_score_adj (-1000..1000) in thousandths of the
 * machine's RAM plus swap. The process with the most is sent SIGKILL, with
 * one line on the console naming it and its sizes; the faulting process
 * waits until the victim's memory is back (or a second has passed) and
 * retries its fault. Never chosen: init (pid 1), a process whose
 * oom_score_adj is -1000, a vfork child (its memory is its parent's), a
 * process already exiting. When the best choice is the faulting process
 * itself, or no process can be chosen, the faulting process is killed,
 * as before. A victim that has not released its memory a second after
 * SIGKILL is passed over from then on.
 *
 * Only a user-mode fault calls the killer (nothing is held there); an
 * allocation a system call makes for itself fails with ENOMEM instead.
 *
 * Locks: the big kernel lock (every caller is a system call or a trap).
 */
#ifndef PROC_OOM_H
#define PROC_OOM_H

#include <mercator/types.h>

struct proc;
struct text;
struct vm_space;

#define OOM_SCORE_ADJ_MIN       (-1000)
#define OOM_SCORE_ADJ_MAX       1000

/* A user fault of the current process found no memory (FAULT_OOM). Kill
 * the process with the highest badness if it is another one and wait
 * for its memory. => true: retry the fault; false: the current process
 * is the one to die (the caller ends it). */
bool oom_fault(void);

/* The badness of process p (its group leader) against totalpages, or
 * INT64_MIN if it is never chosen. */
int64_t oom_badness(struct proc *p, uint64_t totalpages);

/* RAM and swap pages together: the scale of oom_score_adj. */
uint64_t oom_totalpages(void);

/* The space of an exiting process is about to be freed: wake whoever
 * waits for an OOM victim's memory. */
void oom_space_released(const struct vm_space *s);

/* Processes killed so far (/proc/vmstat oom_kill). */
extern uint64_t oom_kills;

/* /proc/PID/oom_score (0..2000, Linux's scale), oom_score_adj. */
void proc_pid_oom_score(struct text *t, struct proc *p);
void proc_pid_oom_score_adj(struct text *t, struct proc *p);
long proc_pid_oom_score_adj_set(struct proc *p, const char *buf, size_t len);

#endif
