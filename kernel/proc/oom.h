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
 * SIGKILL is passed over from then on. When the victim's memory group,
 * or an ancestor below the OOM's domain, has memory.oom.group set, every
 * process of the highest such group dies with it (init and those at -1000
 * excepted), as Linux's mem_cgroup_get_oom_group.
 *
 * A user-mode fault calls the killer (nothing is held there), and so do
 * the allocations of a system call that may wait, at points where the
 * call has changed nothing yet and may sleep (oom_alloc_retry): a fault
 * of a user copy (its page, page-table pages), a tmpfs or memfd page
 * write() or read() needs, a pipe's buffer. As Linux's page allocator:
 * reclaim first, then the killer, then the allocation again; when the
 * caller itself is chosen it gets SIGKILL and its allocation fails
 * (ENOMEM, never seen: it dies on the way out). Allocations that must
 * not wait (everything else: a half-done operation of the lockless core
 * must not sleep while others change what it holds) fail with ENOMEM.
 *
 * Locks: the big kernel lock (every caller is a system call or a trap).
 */
#ifndef PROC_OOM_H
#define PROC_OOM_H

#include <mercator/types.h>
#include <vm/vm_space.h>

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

/* An allocation of the current system call failed where it may wait and
 * retry (see above). Reclaim; if that frees nothing, kill the process
 * with the highest badness (the caller's own group if it is the one) and
 * wait for its memory. => true: try the allocation again; false: fail it
 * (the caller is dying, was chosen, or nothing can be chosen). */
bool oom_alloc_retry(void);

/* A kernel-mode fault on a user address (a user copy): vm_fault, and while
 * it finds no memory, oom_alloc_retry and the fault again. FAULT_SEGV at
 * once for a copy made under a spinlock (copy_from_user_nofault). */
enum fault_result oom_kernel_fault(struct vm_space *s, vaddr_t va,
                                   vm_prot_t access);

/* The badness of process p (its group leader) against totalpages, or
 * INT64_MIN if it is never chosen. */
int64_t oom_badness(struct proc *p, uint64_t totalpages);

/* RAM and swap pages together: the scale of oom_score_adj. */
uint64_t oom_totalpages(void);

/* The space of an exiting process is about to be freed: wake whoever
 * waits for an OOM victim's memory. */
void oom_space_released(const struct vm_space *s);

/* Control groups (vm/memcg.h): bring group g and its ancestors back
 * under memory.high (reclaim) and memory.max (reclaim, then kill the
 * largest process of the group over it). May sleep. The current
 * process's group, where it passes a limit (return to user mode). */
struct memcg;
void oom_memcg_enforce(struct memcg *g);
void oom_memcg_enforce_current(void);

/* Processes killed so far (/proc/vmstat oom_kill). */
extern uint64_t oom_kills;

/* /proc/PID/oom_score (0..2000, Linux's scale), oom_score_adj. */
void proc_pid_oom_score(struct text *t, struct proc *p);
void proc_pid_oom_score_adj(struct text *t, struct proc *p);
long proc_pid_oom_score_adj_set(struct proc *p, const char *buf, size_t len);

#endif
