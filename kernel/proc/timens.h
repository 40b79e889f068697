/*
 * timens.h - time namespaces (Linux's CONFIG_TIME_NS): per-namespace
 * offsets added to CLOCK_MONOTONIC (with its RAW and COARSE forms) and to
 * CLOCK_BOOTTIME for the processes inside (kernel/proc/timens.c).
 *
 * A process has two: the one it reads its clocks in (proc.time_ns) and the
 * one its children will start in (proc.time_ns_children); NULL stands for
 * the initial namespace, whose offsets are zero. unshare(CLONE_NEWTIME)
 * changes only the second; fork (not CLONE_VM), exec and setns move a
 * process into it. A namespace's offsets may be written (through
 * /proc/PID/timens_offsets) until the first process enters it, then they
 * are frozen, as Linux's.
 *
 * The vDSO: a namespace a process has entered owns its own [vvar] object
 * (proc/vdso.c: vdso_ns_create), mapped in place of the initial one.
 */
#ifndef PROC_TIMENS_H
#define PROC_TIMENS_H

#include <mercator/types.h>
#include <proc/time.h>

struct proc;
struct vm_object;
struct vm_space;

/*
 * Locks: [k] the kernel lock (one CPU; namespaces change only in system
 * calls).  Invariant: vvar is NULL until frozen (and on a machine
 * without a vDSO).
 */
struct time_ns {
        uint32_t          refcount;     /* [k] procs naming it (either slot) */
        uint32_t          inum;         /* [c] its /proc/PID/ns/time inode */
        struct linux_timespec mono, boot; /* [k] offsets as written */
        bool              frozen;       /* [k] entered: offsets final */
        struct vm_object *vvar;         /* [k] its [vvar] object once frozen */
};

/* The inode number Linux gives the initial time namespace. */
#define TIMENS_INIT_INUM        4026531834u

/* The offset, in ns, a process in ns sees on clock id (0 for the clocks
 * namespaces do not move, and for the initial namespace). */
int64_t timens_offset_ns(const struct time_ns *ns, clockid_t id);

/* Host time on clock id -> the time current sees, and back (Linux's
 * timens_add_monotonic/boottime, timens_ktime_to_host). */
uint64_t timens_from_host(clockid_t id, uint64_t ns);
uint64_t timens_to_host(clockid_t id, uint64_t ns);

/* unshare(CLONE_NEWTIME) for current: a new namespace for its children,
 * with the offsets of the one they would have had. => 0 or -ENOMEM. */
long timens_unshare(void);

/*
 * fork: what the child's namespaces will be. A child sharing the parent's
 * memory (CLONE_VM: a thread, vfork) shares its [vvar] and so stays in its
 * namespace (Linux 6.18 allows this after unshare; 5.6-6.x said EINVAL).
 * => begin before the child exists: newtime (clone3's CLONE_NEWTIME)
 *    makes a new namespace; enter says whether the child leaves the
 *    parent's (then the namespace is frozen and has its [vvar]).
 *    0, -ENOMEM.
 * => timens_fork_vvar: map the child's [vvar] (after vm_space_fork).
 * => timens_fork_end hands the references to the child, or _abort drops
 *    them (the fork failed).
 */
struct timens_fork {
        struct time_ns *ns, *children;  /* the child's two slots */
        bool enter;                     /* ns differs from the parent's */
};
long timens_fork_begin(bool newtime, bool same_vm, struct timens_fork *tf);
long timens_fork_vvar(const struct timens_fork *tf, struct vm_space *child);
void timens_fork_end(struct proc *child, struct timens_fork *tf);
void timens_fork_abort(struct timens_fork *tf);

/*
 * exec: the namespace the new image runs in (current's children's one:
 * Linux 5.18's exec_task_namespaces), frozen, and the [vvar] object to map
 * for it (NULL: the initial one). => 0 or -ENOMEM. timens_exec_commit, at
 * exec's point of no return, moves current there.
 */
long timens_exec_vvar(struct vm_object **vvar);
void timens_exec_commit(void);

/* setns(fd, CLONE_NEWTIME) into ns: current moves to it now (and its
 * children with it). => 0, -EPERM, -EUSERS (other threads), -ENOMEM. */
long timens_setns(struct time_ns *ns);

/* A reference more, or one less, to ns (NULL: the initial one, not
 * counted): an open /proc/PID/ns/time file holds one. */
struct time_ns *timens_get(struct time_ns *ns);
void timens_put(struct time_ns *ns);

/* A proc goes: drop its references. */
void timens_proc_free(struct proc *p);

/* /proc/PID/timens_offsets: read, and write ("monotonic S NS" lines). */
struct text;
void timens_offsets_show(struct text *t, struct proc *p);
long timens_offsets_write(struct proc *p, const char *buf, size_t len);

/* /proc/PID/ns/time and time_for_children: the namespace's inode. */
uint32_t timens_inum(const struct time_ns *ns);

#endif
