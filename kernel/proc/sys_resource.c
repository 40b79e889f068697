/*
 * sys_resource.c - resource limits, priorities and scheduling parameters:
 * getrlimit, setrlimit, prlimit64, getpriority, setpriority, the sched_*
 * queries and settings, getcpu; and what fork copies of all that.
 *
 * Affinity masks are kept per thread and honoured by sched.c. The
 * scheduler runs a real-time
 * process (SCHED_FIFO/SCHED_RR) before any other, higher priority first,
 * round-robin among equals (SCHED_FIFO too: it is sliced like SCHED_RR);
 * nice values are kept and reported but do not weight the round-robin
 * among ordinary processes (sched.c).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/intr.h>
#include <proc/ktimer.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/vm_area.h>
#include <vm/vm_space.h>


void proc_fork_resources(struct proc *child, const struct proc *parent)
{
        child->cred = parent->cred;
        child->rlim = parent->rlim;
        child->usage.nice = parent->usage.nice;
        child->usage.sched_policy = parent->usage.sched_policy;
        child->usage.sched_priority = parent->usage.sched_priority;
        child->usage.cpus_allowed = parent->usage.cpus_allowed;
        child->usage.dumpable = parent->usage.dumpable;
        child->usage.coredump_filter = parent->usage.coredump_filter;
        child->usage.personality = parent->usage.personality;
        child->usage.oom_score_adj = group_of(parent)->usage.oom_score_adj;
        child->usage.oom_score_adj_min =
                group_of(parent)->usage.oom_score_adj_min;
}

/* The process a pid argument names: 0 is the caller; NULL if none. */
static struct proc *proc_arg(int pid)
{
        struct proc *p = pid == 0 ? current : proc_find(pid);

        return p && p->state != PROC_ZOMBIE ? p : NULL;
}

/* Linux's check for acting on another process's limits or scheduling:
 * the same real uid all round, or the capability. */
static bool may_act_on(const struct proc *p, int cap)
{
        const struct cred *me = &current->cred, *it = &p->cred;

        if (p == current || cred_capable(me, cap))
                return true;
        return me->uid == it->uid && me->uid == it->euid &&
               me->uid == it->suid && me->gid == it->gid &&
               me->gid == it->egid && me->gid == it->sgid;
}

/* Linux's check_same_owner() for scheduling another thread: the caller's
 * effective uid is the target's effective or real uid, or the caller has
 * the capability (sched_setscheduler, sched_setaffinity; LTP
 * sched_setaffinity01 drops to nobody with seteuid and must get EPERM
 * for a root thread). */
static bool may_schedule(const struct proc *p)
{
        const struct cred *me = &current->cred, *it = &p->cred;

        return p == current || me->euid == it->euid || me->euid == it->uid ||
               cred_capable(me, CAP_SYS_NICE);
}

/* ---- resource limits ---------------------------------------------------- */

/*
 * prlimit64's core: old limits out, new ones in, for process p.
 * => 0 or -errno (rlimit_check's, or -EFAULT).
 */
/* getrlimit/setrlimit's struct rlimit is two of the user's longs (the
 * same as prlimit64's struct rlimit64 on a 64-bit machine); on i386 an
 * all-ones long is RLIM_INFINITY and a limit past it reads as infinity. */
static bool rlim_get(uint64_t uaddr, bool longs, struct rlimit64 *r)
{
        unsigned long v[2];

        if (!longs)
                return copy_from_user(r, uaddr, sizeof *r) == 0;
        if (copy_from_user(v, uaddr, sizeof v))
                return false;
        r->cur = v[0] == ~0UL ? RLIM_INFINITY : v[0];
        r->max = v[1] == ~0UL ? RLIM_INFINITY : v[1];
        return true;
}

static bool rlim_put(uint64_t uaddr, bool longs, const struct rlimit64 *r)
{
        unsigned long v[2] = {
                r->cur >= ~0UL ? ~0UL : (unsigned long)r->cur,
                r->max >= ~0UL ? ~0UL : (unsigned long)r->max,
        };

        return longs ? copy_to_user(uaddr, v, sizeof v) == 0
                     : copy_to_user(uaddr, r, sizeof *r) == 0;
}

static long do_prlimit(struct proc *p, int resource, uint64_t unew,
                       uint64_t uold, bool longs)
{
        struct rlimit64 new;

        if (resource < 0 || resource >= RLIM_NLIMITS)
                return -EINVAL;
        if (unew) {
                if (!rlim_get(unew, longs, &new))
                        return -EFAULT;
                long err = rlimit_check(resource, &p->rlim.lim[resource], &new,
                                        cred_capable(&current->cred, CAP_SYS_RESOURCE),
                                        fs_nr_open);
                if (err)
                        return err;
        }
        if (uold && !rlim_put(uold, longs, &p->rlim.lim[resource]))
                return -EFAULT;
        if (unew) {
                /* limits are the process's: every thread gets them */
                for (int i = 0; i < proc_slots; i++)
                        if (proc_table[i]->state != PROC_FREE &&
                            proc_table[i]->pid == p->pid)
                                proc_table[i]->rlim.lim[resource] = new;
                if (resource == RLIMIT_CPU)     /* ticks look at it */
                        ktimer_cpu_watch();
                /* The stack may grow to the new limit from now on. */
                if (resource == RLIMIT_STACK && p->space)
                        vm_space_set_stack_limit(p->space, rlimit_stack_bytes(p));
                if (resource == RLIMIT_AS && p->space)
                        vm_space_set_size_limit(p->space, rlimit_as_bytes(p));
        }
        return 0;
}

SYSCALL_DECL(getrlimit)
{
        return do_prlimit(current, (int)a0, 0, (uint64_t)a1, true);
}

SYSCALL_DECL(setrlimit)
{
        if (!a1)
                return -EFAULT;
        return do_prlimit(current, (int)a0, (uint64_t)a1, 0, true);
}

/* prlimit64(pid, resource, new, old) */
SYSCALL_DECL(prlimit64)
{
        struct proc *p = proc_arg((int)a0);

        if ((int)a0 < 0)
                return -EINVAL;
        if (!p)
                return -ESRCH;
        if (!may_act_on(p, CAP_SYS_RESOURCE))
                return -EPERM;
        return do_prlimit(p, (int)a1, (uint64_t)a2, (uint64_t)a3, false);
}

/* ---- nice values ------------------------------------------------------- */

#define PRIO_PROCESS    0
#define PRIO_PGRP       1
#define PRIO_USER       2

/* Whether p is one of the processes (which, who) names. */
static bool prio_match(const struct proc *p, int which, int who)
{
        if (p->state == PROC_FREE || p->state == PROC_ZOMBIE)
                return false;
        switch (which) {
        case PRIO_PROCESS:
                return p->pid == (who ? who : current->pid);
        case PRIO_USER:
                return p->cred.uid == (who ? (uint32_t)who : current->cred.uid);
        default:
                return false;
        }
}

/* getpriority: 20 - nice of the highest-priority match (Linux's
 * system-call convention, so no result is negative). */
SYSCALL_DECL(getpriority)
{
        int which = (int)a0, who = (int)a1, best = -1;

        if (which != PRIO_PROCESS && which != PRIO_USER)
                return -EINVAL;         /* PRIO_PGRP: no process groups yet */
        for (int i = 0; i < proc_slots; i++)
                if (prio_match(proc_table[i], which, who))
                        best = MAX(best, 20 - proc_table[i]->usage.nice);
        return best < 0 ? -ESRCH : best;
}

SYSCALL_DECL(setpriority)
{
        int which = (int)a0, who = (int)a1, nice = (int)a2;
        long err = -ESRCH;

        if (which != PRIO_PROCESS && which != PRIO_USER)
                return -EINVAL;
        nice = MAX(-20, MIN(19, nice));
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (!prio_match(p, which, who))
                        continue;
                const struct cred *me = &current->cred;
                if (me->euid != p->cred.uid && me->euid != p->cred.euid &&
                    !cred_capable(me, CAP_SYS_NICE)) {
                        err = -EPERM;
                        continue;
                }
                /* Lowering nice needs RLIMIT_NICE (20 - nice) or the cap. */
                if (nice < p->usage.nice &&
                    (uint64_t)(20 - nice) > current->rlim.lim[RLIMIT_NICE].cur &&
                    !cred_capable(me, CAP_SYS_NICE)) {
                        err = -EACCES;
                        continue;
                }
                p->usage.nice = nice;
                if (err == -ESRCH)
                        err = 0;
        }
        return err;
}

/* ---- scheduling policy and parameters ---------------------------------- */

#define SCHED_OTHER             0
#define SCHED_FIFO              1
#define SCHED_RR                2
#define SCHED_BATCH             3
#define SCHED_IDLE              5
#define SCHED_RESET_ON_FORK     0x40000000

static bool policy_is_rt(int policy)
{
        return policy == SCHED_FIFO || policy == SCHED_RR;
}

static bool policy_known(int policy)
{
        return policy == SCHED_OTHER || policy == SCHED_BATCH ||
               policy == SCHED_IDLE || policy_is_rt(policy);
}

SYSCALL_DECL(sched_get_priority_max)
{
        int policy = (int)a0;

        if (!policy_known(policy))
                return -EINVAL;
        return policy_is_rt(policy) ? 99 : 0;
}

SYSCALL_DECL(sched_get_priority_min)
{
        int policy = (int)a0;

        if (!policy_known(policy))
                return -EINVAL;
        return policy_is_rt(policy) ? 1 : 0;
}

/* The process for a sched_* pid argument: -EINVAL, -ESRCH, or 0. */
static long sched_target(int pid, struct proc **out)
{
        if (pid < 0)
                return -EINVAL;
        *out = proc_arg(pid);
        return *out ? 0 : -ESRCH;
}

SYSCALL_DECL(sched_getscheduler)
{
        struct proc *p;
        long err = sched_target((int)a0, &p);

        return err ? err : p->usage.sched_policy;
}

SYSCALL_DECL(sched_getparam)
{
        struct proc *p;
        long err = sched_target((int)a0, &p);

        if (!err && !a1)
                err = -EINVAL;
        if (err)
                return err;
        return copy_to_user((uint64_t)a1, &p->usage.sched_priority, 4) ? -EFAULT : 0;
}

/*
 * Linux's rules for a new policy and priority: priority 1..99 for the
 * real-time policies and 0 for the others; a real-time policy, or a
 * higher real-time priority, needs CAP_SYS_NICE or room in RLIMIT_RTPRIO.
 */
static long sched_set(struct proc *p, int policy, uint64_t uparam)
{
        int prio;

        if (!uparam)
                return -EINVAL;
        if (copy_from_user(&prio, uparam, 4))
                return -EFAULT;
        policy &= ~SCHED_RESET_ON_FORK;
        if (!policy_known(policy))
                return -EINVAL;
        if (policy_is_rt(policy) ? prio < 1 || prio > 99 : prio != 0)
                return -EINVAL;
        if (!may_schedule(p))
                return -EPERM;
        if (policy_is_rt(policy) && !cred_capable(&current->cred, CAP_SYS_NICE) &&
            (uint64_t)prio > p->rlim.lim[RLIMIT_RTPRIO].cur &&
            prio > p->usage.sched_priority)
                return -EPERM;
        p->usage.sched_policy = policy;
        p->usage.sched_priority = prio;
        return 0;
}

SYSCALL_DECL(sched_setscheduler)
{
        struct proc *p;
        long err = sched_target((int)a0, &p);

        if (!err && (int)a1 < 0)
                err = -EINVAL;
        return err ? err : sched_set(p, (int)a1, (uint64_t)a2);
}

SYSCALL_DECL(sched_setparam)
{
        struct proc *p;
        long err = sched_target((int)a0, &p);

        return err ? err : sched_set(p, p->usage.sched_policy, (uint64_t)a1);
}

/* The round-robin slice: one tick (SCHED_FIFO has none). */
SYSCALL_DECL(sched_rr_get_interval)
{
        struct proc *p;
        long err = sched_target((int)a0, &p);

        if (err)
                return err;
        int64_t ts[2] = { 0, p->usage.sched_policy == SCHED_FIFO ? 0
                                                             : 1000000000 / HZ };
        return copy_to_user((uint64_t)a1, ts, sizeof ts) ? -EFAULT : 0;
}

/* ---- CPUs: 0 .. machine_cpus_online() - 1 ------------------------------ */

/* The bytes of a CPU mask the calls pass: one long, which covers the
 * CPUs Mercator has (Linux's cpumask_size() on a machine of up to 32 or
 * 64 CPUs: 4 bytes on i386, where 8 overran a 4-byte buffer). */
#define CPUMASK_BYTES   sizeof(long)

/* The CPUs online as a mask (Linux's cpu_active_mask; every CPU Mercator
 * starts stays online, so also its cpu_possible_mask). */
static uint64_t cpus_online_mask(void)
{
        unsigned n = machine_cpus_online();

        return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

/* The CPUs the thread pid may run on (sched.c keeps the mask). Linux:
 * EINVAL for a length that cannot hold a bit per CPU or is not a
 * multiple of a long; the bytes written. */
SYSCALL_DECL(sched_getaffinity)
{
        uint64_t len = (uint32_t)a1, mask;
        struct proc *p;

        if (len * 8 < machine_cpus_online() || (len & (sizeof(long) - 1)))
                return -EINVAL;
        if (!(p = proc_arg((int)a0)))
                return -ESRCH;          /* a negative pid too (Linux) */
        mask = p->usage.cpus_allowed & cpus_online_mask();
        return copy_to_user((uint64_t)a2, &mask, CPUMASK_BYTES)
                       ? -EFAULT : (long)CPUMASK_BYTES;
}

/* Limit the thread pid to the CPUs of the mask that are online (EINVAL
 * if none; bytes past the first long are CPUs Mercator does not have).
 * A thread running on a CPU it may no longer use moves on its way back
 * to user mode: the caller at once, another thread's CPU kicked. */
SYSCALL_DECL(sched_setaffinity)
{
        uint64_t len = MIN((uint64_t)(uint32_t)a1, CPUMASK_BYTES), mask = 0;
        struct proc *p;

        if (copy_from_user(&mask, (uint64_t)a2, len))
                return -EFAULT;
        if (!(p = proc_arg((int)a0)))
                return -ESRCH;
        if (!may_schedule(p))
                return -EPERM;
        mask &= cpus_online_mask();
        if (!mask)
                return -EINVAL;
        p->usage.cpus_allowed = mask;
        if (p->state == PROC_RUNNING && p != current)
                machine_kick_running(p);
        else if (p->state == PROC_RUNNABLE)
                sched_kick_for(p);
        return 0;
}

/* The CPU the caller runs on (it may be elsewhere by the time it
 * looks); one NUMA node. */
SYSCALL_DECL(getcpu)
{
        uint32_t cpu = machine_cpu_id(), node = 0;

        if (a0 && copy_to_user((uint64_t)a0, &cpu, 4))
                return -EFAULT;
        if (a1 && copy_to_user((uint64_t)a1, &node, 4))
                return -EFAULT;
        return 0;
}

/* ---- limits that bite ---------------------------------------------------- */

/* fs.nr_open: no process may have RLIMIT_NOFILE above it (setrlimit:
 * EPERM). Root may set it between Linux's bounds: 64 (a long's bits) and
 * the largest multiple of 64 whose table of pointers fits an int's range
 * of bytes - 2147483584 on 64-bit, 1073741792 on 32-bit. */
uint64_t fs_nr_open = NR_OPEN;

long fs_nr_open_set(uint64_t value)
{
        uint64_t max = (sizeof(void *) == 8 ? 2147483647ULL : 1073741823ULL) &
                       ~(uint64_t)(8 * sizeof(long) - 1);

        if (value < 8 * sizeof(long) || value > max)
                return -EINVAL;
        fs_nr_open = value;
        return 0;
}

int proc_fd_limit(const struct proc *p)
{
        uint64_t lim = p->rlim.lim[RLIMIT_NOFILE].cur;

        return lim < fs_nr_open ? (int)lim : (int)fs_nr_open;
}

/* What RLIMIT_AS and RLIMIT_DATA measure: every mapped byte, and the
 * private writable ones outside the stack (Linux's total_vm, data_vm). */
struct vm_sizes { uint64_t total, data; };

static bool add_area_size(void *arg, const struct vm_area_info *a)
{
        struct vm_sizes *sz = arg;
        uint64_t len = a->end - a->start;

        sz->total += len;
        if ((a->prot & VM_PROT_WRITE) && !a->shared && !a->is_stack &&
            !(a->flags & VM_AREA_GROWSDOWN))
                sz->data += len;
        return true;
}

long rlimit_vm_grow(uint64_t add_total, uint64_t add_data)
{
        const struct rlimits *r = &current->rlim;
        uint64_t as = r->lim[RLIMIT_AS].cur, data = r->lim[RLIMIT_DATA].cur;
        struct vm_sizes sz = { 0, 0 };

        if ((as == RLIM_INFINITY || !add_total) && (data == RLIM_INFINITY || !add_data))
                return 0;               /* nothing to measure */
        vm_space_for_each_area(current->space, add_area_size, &sz);
        if (!rlimit_allows(as, sz.total, add_total) ||
            !rlimit_allows(data, sz.data, add_data))
                return -ENOMEM;
        return 0;
}

/* RLIMIT_NPROC at fork: processes of the caller's real uid, unless it
 * may exceed limits (Linux exempts CAP_SYS_RESOURCE and CAP_SYS_ADMIN). */
long rlimit_fork_check(void)
{
        const struct cred *c = &current->cred;
        uint64_t n = 0;

        if (cred_capable(c, CAP_SYS_RESOURCE) || cred_capable(c, CAP_SYS_ADMIN))
                return 0;
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE && proc_table[i]->cred.uid == c->uid)
                        n++;
        return n >= current->rlim.lim[RLIMIT_NPROC].cur ? -EAGAIN : 0;
}

/* RLIMIT_STACK in bytes as the VM takes it (an unlimited stack is kept
 * to 64 TiB so that page rounding cannot overflow). */
uint64_t rlimit_stack_bytes(const struct proc *p)
{
        uint64_t lim = p ? p->rlim.lim[RLIMIT_STACK].cur : 8 * MiB;

        return MIN(lim, 1ULL << 46);
}

uint64_t rlimit_as_bytes(const struct proc *p)
{
        return p ? p->rlim.lim[RLIMIT_AS].cur : RLIM_INFINITY;
}
