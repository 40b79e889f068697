/*
 * proc.h - threads and processes. A struct proc is one thread (a kernel
 * stack, registers, a signal mask, a place in the scheduler); a process is
 * a thread group: the threads whose `pid` is the same, led by the thread
 * whose tid is that pid. Threads of a group share the address space, the
 * descriptor table, the working directory and the signal actions (and a
 * thread made by clone may share any of them without being in the group);
 * see docs/design.md, "Threads". One CPU.
 *
 * Locks: the big kernel lock on machines with more than one CPU (most
 * kernel entries from user mode hold it; the run queue's fields are
 * sched_lock's, sched.c; docs/design.md, "Locking"), else none; the
 * kernel is not preempted (a
 * timer interrupt only sets need_resched, acted on when returning to user
 * mode).
 * Fields: [c] constant after creation  [s] scheduler  [p] the process
 * itself (only it changes them, in its own system calls).
 */
#ifndef PROC_PROC_H
#define PROC_PROC_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <machine/cpu_local.h>
#include <machine/intr.h>
#include <machine/thread.h>
#include <proc/machine_hooks.h>
#include <proc/cred.h>
#include <proc/rlimit.h>
#include <proc/signal.h>

#define NPROC           4096            /* process table slots (threads) */
#define NR_OPEN         1048576         /* fs.nr_open's default, as Linux's:
                                         * RLIMIT_NOFILE's ceiling */
#define INR_OPEN_CUR    1024            /* RLIMIT_NOFILE of init, soft */
#define INR_OPEN_MAX    4096            /* and hard (Linux's) */
#define PROC_NAME_LEN   16
#define FD_CLOEXEC      1

enum proc_state {
        PROC_FREE,              /* slot unused */
        PROC_RUNNABLE,          /* waiting for the CPU */
        PROC_RUNNING,           /* on the CPU */
        PROC_SLEEPING,          /* waiting for a time or an event */
        PROC_ZOMBIE,            /* exited, waiting to be reaped */
};

struct vm_space;
struct file;
struct vnode;
struct proc_timers;
struct time_ns;

/* What a process has used (times, getrusage); children's figures are
 * added when the parent reaps them. Times in nanoseconds. */
struct proc_usage {
        uint64_t run_ns;                        /* [s] on the CPU, exact */
        uint64_t on_cpu_since;                  /* [s] monotonic at switch-in */
        uint64_t utick_ns, stick_ns;            /* [s] ticks seen in user /
                                                 * kernel mode: the split of
                                                 * run_ns (proc_cputime) */
        uint64_t minflt, majflt;                /* [p] resolved faults */
        uint64_t maxrss_kb;                     /* [p] largest resident set */
        uint64_t start_ns;                      /* [c] monotonic at creation */
        uint64_t c_utime_ns, c_stime_ns;        /* [p] reaped children's */
        uint64_t c_minflt, c_majflt, c_maxrss_kb;
        uint64_t exited_utime_ns, exited_stime_ns;     /* [p] the leader's: */
        uint64_t exited_run_ns, exited_minflt, exited_majflt; /* threads gone */
        int      nice;                          /* [p] -20..19 */
        int      sched_policy, sched_priority;  /* [p] */
        uint64_t cpus_allowed;                  /* [k] sched_setaffinity: bit
                                                 * n set, may run on CPU n
                                                 * (every bit at first; fork
                                                 * and exec keep it) */
        int      pdeath_signal;                 /* [p] PR_SET_PDEATHSIG */
        bool     dumpable;                      /* [p] PR_SET_DUMPABLE */
        uint32_t coredump_filter;               /* [p] /proc/PID/coredump_filter
                                                 * (coredump.h): kept by
                                                 * fork and exec */
        uint32_t personality;                   /* [p] */
        int16_t  oom_score_adj;                 /* [p] -1000..1000 (oom.h):
                                                 * kept by fork and exec */
        int16_t  oom_score_adj_min;             /* [p] lowest an unprivileged
                                                 * writer may set */
};

/* A process's signal state (signal.c). */
struct proc_signals {
        ksigset_t          blocked;             /* [p] the mask */
        ksigset_t          real_blocked;        /* [p] the mask while
                                                 * sigtimedwait lifts it */
        struct sigpend     own;                 /* [s] sent to this thread */
        struct k_sigaction action[NSIG];        /* [p] index sig - 1; the
                                                 * same in every thread of
                                                 * sighand_id */
        struct linux_stack altstack;            /* [p] sigaltstack */
        ksigset_t          saved_mask;          /* [p] sigsuspend's old mask */
        bool               restore_mask;        /* [p] put saved_mask back */
        /* the leader's only: the group is stopped */
        bool               stopped;             /* [s] stopped by a signal */
        int                stop_sig;            /* [s] which one */
        bool               report_stop;         /* [s] wait may see the stop */
        bool               report_cont;         /* [s] ... the continue */
};

/*
 * How to go on with a system call that a signal interrupted and that must
 * not start over from its arguments (Linux's restart_block): a sleep for
 * a relative time goes on to the deadline it had. The call sets fn and
 * returns -ERESTART_RESTARTBLOCK; if no handler runs, the thread re-enters
 * the kernel through restart_syscall, which calls fn. A handler makes the
 * call fail with EINTR instead, and fn is forgotten.
 */
struct restart_block {
        long     (*fn)(struct restart_block *rb);
        uint64_t deadline;              /* CLOCK_MONOTONIC ns */
        uint64_t arg[2];                /* fn's own */
};

/*
 * A descriptor table; shared by the threads made with CLONE_FILES. It
 * starts with FDT_FIRST slots and grows (fdt_expand, fs/file.c) to the
 * next power of two that holds a descriptor asked for, up to
 * RLIMIT_NOFILE; it never shrinks. Every process sharing it reaches the
 * arrays through p->fdt, so a grown table is seen by all of them.
 */
#define FDT_FIRST       64              /* Linux's NR_OPEN_DEFAULT (64-bit) */
struct fdtable {
        int               refs;                 /* [p] procs using it */
        int               size;                 /* [p] slots in both arrays */
        struct file     **files;                /* [p] open file per slot */
        uint8_t          *fd_flags;             /* [p] FD_CLOEXEC per slot */
};

/* What only a thread group as a whole has: kept in its leader's struct
 * proc, which stays (a zombie if it exited first) until the last thread
 * of the group is gone (group_of()). */
struct proc_group {
        struct sigpend    shared;               /* [s] process-directed
                                                 * pending signals */
        bool              exiting;              /* [s] exit_group, a fatal
                                                 * signal or an exec */
        int               exit_status;          /* [s] the group's wait status
                                                 * when exiting */
        struct proc      *exec_thread;          /* [s] the thread whose exec
                                                 * ends the others */
};

struct proc {
        int               pid;                  /* [c] process (thread group)
                                                 * id: the leader's tid */
        int               tid;                  /* [c] thread id */
        struct proc      *leader;               /* [c] the group's leader
                                                 * (itself for a leader) */
        enum proc_state   state;                /* [s] */
        char              name[PROC_NAME_LEN];  /* [p] last exec'd file */
        char              exe_path[256];        /* [p] its absolute path */
        struct vm_space  *space;                /* [p] */
        struct vm_space  *entered;              /* [p] the space its kernel
                                                 * code has entered
                                                 * (proc_space_enter), or NULL */
        void             *kstack;               /* [c] kstack_alloc() base */
        void             *kernel_sp;            /* [s] saved by swtch */
        struct machine_thread md;               /* [p] registers etc. */
        struct proc      *parent;               /* [p] set by proc_set_parent */
        int               ppid;                 /* [p] parent's pid, read
                                                 * without the big lock
                                                 * (getppid) */
        struct fdtable   *fdt;                  /* [p] descriptor table */
        uint64_t          fs_id;                /* [c] threads sharing cwd,
                                                 * root, umask (CLONE_FS) */
        uint64_t          sighand_id;           /* [p] threads sharing signal
                                                 * actions (CLONE_SIGHAND) */
        struct vnode     *cwd;                  /* [p] working directory (ref) */
        struct memcg     *memcg;                /* [p] the leader's: its
                                                 * control group (a reference
                                                 * and a count, vm/memcg.h)
                                                 * until the process is gone */
        struct vnode     *root;                 /* [p] chroot (a reference) */
        struct vnode     *exe;                  /* [p] the running file (ref;
                                                   its vnode->running counts) */
        unsigned          umask;                /* [p] applied at create */
        uint64_t          wake_ns;              /* [s] sleeping until */
        const void       *wait_channel;         /* [s] sleeping on */
        int               wait_status;          /* [p] Linux wait status */
        int               pending_kill;         /* [s] signal to die of */
        struct proc      *vfork_parent;         /* [p] waits for our exec/exit */
        struct cred       cred;                 /* [p] ids, capabilities */
        struct rlimits    rlim;                 /* [p] resource limits */
        struct proc_usage usage;                /* [p]/[s] accounting */
        struct proc_timers *timers;             /* [p] NULL until first use */
        struct time_ns   *time_ns;              /* [p] its clocks' namespace
                                                 * (NULL: the initial one) */
        struct time_ns   *time_ns_children;     /* [p] its children's
                                                 * (proc/timens.h) */
        bool              space_borrowed;       /* [p] vfork child on the
                                                 * parent's space (CLONE_VM) */
        bool              sleep_intr;           /* [s] a signal ends the sleep */
        bool              autoreap;             /* [s] zombie nobody waits for */
        bool              did_exec;             /* [p] setpgid: EACCES */
        int               exit_signal;          /* [c] to the parent at exit */
        int               pgid, sid;            /* [p] process group, session */
        bool              tty_detached;         /* [p] gave up its session's
                                                 * terminal (TIOCNOTTY) */
        uint64_t          clear_child_tid;      /* [p] 0 written there at exit */
        uint64_t          robust_list;          /* [p] set_robust_list's head */
        bool              time32;               /* [p] the running system
                                                 * call's timespecs are a
                                                 * 32-bit machine's old ones
                                                 * (proc/time.h) */
        bool              uaccess_nofault;      /* [p] its user copies'
                                                 * faults are not served
                                                 * (copy_from_user_nofault) */
        bool              flags_unsupported;    /* [p] the running call said
                                                 * so (syscall_unsupported) */
        struct proc_signals sig;                /* [s]/[p] see above */
        struct proc_group group;                /* [s] the leader's only */
        struct restart_block restart;           /* [p] see above */
        /* The scheduler's (proc/sched.c, ktimer.c), last: put after
         * wake_ns they made getppid 10% slower under TCG (600 -> 670 ns,
         * the same instructions counted by tools/kprof; why, not found),
         * here 1-3%. */
        struct proc      *rq_next;              /* [s] on the run queue
                                                 * (RUNNABLE), the next */
        struct proc      *wq_next;              /* [s] sleeping on a channel:
                                                 * the next in its bucket */
        struct proc     **wq_pprev;             /* [s] what points at us
                                                 * there (NULL: in none) */
        int               timed_slot;           /* [s] a timed sleeper: its
                                                 * place in sched.c's heap,
                                                 * plus 1 (0: in none) */
        uint64_t          timers_pass;          /* [s] ktimer_run's last pass
                                                 * that saw a live thread of
                                                 * this group (leaders) */
};

/* Arm current's restart block; => -ERESTART_RESTARTBLOCK to return. */
long proc_restart_with(long (*fn)(struct restart_block *), uint64_t deadline,
                       uint64_t arg0, uint64_t arg1);

/* The struct that holds p's process-wide state: its group's leader. */
static inline struct proc *group_of(const struct proc *p)
{
        return p->leader;
}

/* p's parent becomes q (NULL: none). getppid reads the pid without the
 * big lock (syscall.c, the lock-free calls): the parent's struct may be
 * freed beside it, the word stays. */
static inline void proc_set_parent(struct proc *p, struct proc *q)
{
        p->parent = q;
        __atomic_store_n(&p->ppid, q ? q->pid : 0, __ATOMIC_RELAXED);
}

/* Whether p is a thread that has not exited (runs, sleeps, is runnable). */
static inline bool proc_alive(const struct proc *p)
{
        return p->state != PROC_FREE && p->state != PROC_ZOMBIE;
}

/* Whether p leads its thread group (the struct a process is known by). */
static inline bool proc_is_leader(const struct proc *p)
{
        return p->state != PROC_FREE && p->leader == p;
}

/* Threads of p's group other than p that have not exited. */
int proc_group_others(const struct proc *p);

/* Threads of p's group that have not exited (/proc's Threads:). */
int proc_thread_count(const struct proc *p);

/* Procs, threads or not, using address space sp. */
int space_users(const struct vm_space *sp);

/* A new empty descriptor table (refs 1) for p, or VM_ENOMEM. */
vm_status_t proc_fdt_new(struct proc *p);
/* A new table for p holding what src holds (each file one reference
 * more, the same close-on-exec flags): fork, and exec's unsharing. */
vm_status_t proc_fdt_copy(struct proc *p, const struct fdtable *src);
/* Share src's table with p (CLONE_FILES). */
void proc_fdt_share(struct proc *p, struct proc *src);
/* Drop p's reference to its table, closing its files if it was the last. */
void proc_fdt_put(struct proc *p);

/* Every proc sharing p's working directory, root and umask (fs_id) gets
 * p's (chdir, fchdir, chroot, umask after they changed p's). */
void proc_fs_changed(struct proc *p);

/* A fresh id for fs_id and sighand_id. */
uint64_t proc_share_id(void);

/* p takes the place of its group's old leader (execve from a thread):
 * old's children become p's. */
void proc_leader_replaced(struct proc *old, struct proc *p);

/* The thread whose tid is tid (any group), or NULL. */
struct proc *proc_find_tid(int tid);

/* The thread this CPU runs (NULL in its scheduler loop), and whether it
 * should give the CPU up on its way back to user mode: plain globals on a
 * machine with one CPU, per-CPU variables where machine/cpu_local.h says
 * MACHINE_CPU_LOCAL (it then defines both names). */
#ifndef MACHINE_CPU_LOCAL
extern struct proc *current;
extern volatile bool need_resched;
#endif

/*
 * The process table. Slots 0 .. proc_slots - 1 each hold a struct proc (in
 * state PROC_FREE when unused), so every loop over the processes is
 *     for (int i = 0; i < proc_slots; i++) ... proc_table[i] ...
 * proc_alloc() reuses the lowest free slot, or appends one (a struct proc
 * from the kernel heap) up to NPROC; proc_free() gives back the memory of
 * the free slots at the top. A struct proc is about 12 KiB, so the table
 * holds what the most processes alive at once needed, never NPROC's worth.
 */
extern struct proc *proc_table[NPROC];
extern int proc_slots;

/* Allocate a process slot with a kernel stack; NULL if no slot, stack or
 * memory for one is left. */
struct proc *proc_alloc(void);

/*
 * May the current process read and write target's memory (Linux's
 * ptrace_may_access with PTRACE_MODE_ATTACH_REALCREDS: process_vm_*,
 * /proc/PID/mem, pagemap, environ)? Itself always; else its real uid and
 * gid must equal each of target's real, effective and saved ids and
 * target must be dumpable - or it holds CAP_SYS_PTRACE.
 */
bool proc_may_access(const struct proc *target);

/* The pid proc_alloc() gave last (/proc/loadavg). */
int proc_last_pid(void);

/* Release what proc_alloc() gave (after the process is reaped). */
void proc_free(struct proc *p);

/* Do the hot top pages of this kernel stack share a TLB colour with a page
 * of p? proc_alloc() avoids such a stack when it can (proc.c says why). */
bool proc_kstack_clashes(const struct proc *p, const void *stack);

/* Free the kernel stacks proc_free() keeps for reuse (mem_snapshot). */
void proc_kstack_shrink(void);

/* Copy len bytes into sp at va, faulting its pages in (sp need not be
 * active). => VM_ENOMEM if a page cannot be had, or va is not writable. */
vm_status_t space_write(struct vm_space *sp, vaddr_t va, const void *src,
                        size_t len);

/* The first user process from the initramfs; 0 or -errno. */
long proc_start_init(const char *path, int argc, const char *const *argv);

/* The program execve/execveat names: path resolved from dirfd
 * (EXEC_AT_FDCWD: the cwd) with VFS_* flags (VFS_EMPTY_OK: "" is the file
 * open at dirfd); execfn is the name it runs under (AT_EXECFN, its
 * process name): the path, or "/dev/fd/N[/path]" as Linux's execveat. */
#define EXEC_AT_FDCWD   (-100L)
struct exec_name {
        long             dirfd;
        const char      *path;
        unsigned         vfs_flags;
        const char      *execfn;
};

/* What exec_load() makes: an address space ready to run. */
struct exec_image {
        struct vm_space *space;
        struct vnode    *exe;           /* the file run (a reference) */
        vaddr_t          entry, sp;
};

/*
 * Build the address space of the program name names with these arguments
 * and environment (kernel strings). Nothing else changes.
 * => 0, or -ENOENT/-ENOTDIR/-EBADF/-ELOOP (a final symlink when
 *    VFS_NOFOLLOW)/-EACCES (not an executable regular file;
 *    for the program's PT_INTERP interpreter too), -ENOEXEC (not an ELF
 *    file for this machine we can load), -ELIBBAD (such an interpreter),
 *    -E2BIG, -ENOMEM.
 */
long exec_load(const struct exec_name *name, const char *const *argv,
               size_t argc, const char *const *envp, size_t envc,
               struct exec_image *out);

/* A vfork child has exec'd or is exiting: let its parent run on. */
void proc_vfork_release(struct proc *p);

/* Name p after the last component of path. */
void proc_set_name(struct proc *p, const char *path);

/* End the current thread with a Linux wait status (code << 8, or
 * signal); the process ends with its last thread (exit). */
__attribute__((noreturn)) void proc_exit(int wait_status);

/* End the current thread's whole group with this wait status: every other
 * thread is killed (exit_group, a fatal signal). */
__attribute__((noreturn)) void proc_exit_group(int wait_status);

/* Mark thread t to end with this wait status at its next way out of the
 * kernel: woken if it sleeps, interrupted if it runs in user mode on
 * another CPU. [kernel lock] */
void proc_kill_thread(struct proc *t, int wait_status);

/* Kill every thread of p's group but `except` (NULL: all) with this wait
 * status, waking them from any sleep; the group is marked exiting. */
void proc_group_kill(struct proc *p, struct proc *except, int wait_status);

/* A fault or trap in user mode that the process cannot survive: report it
 * in one line and end it with `signal`. */
__attribute__((noreturn)) void proc_kill_current(int signal, const char *why,
                                                 vaddr_t addr, uint64_t ip);

/* Scheduler (sched.c). */
void sched_run(void);                   /* never returns */
/* Schedule until done(arg) is true (kernel tests drive processes so). */
void sched_run_until(bool (*done)(void *), void *arg);
void sched_yield(void);
/* Off the CPU: current's state (set by the caller) says what next; a
 * holder of the big lock gets it back when it runs again. */
void sched_switch(void);
/* A new thread's first run, before its way out to user mode (each
 * architecture's first entry): its CPU's loop passed it no lock; this
 * takes the big lock, without entering its space. */
void sched_first_run(void);
/* Wake one idle CPU that may run p (its affinity), for p just made
 * runnable. */
void sched_kick_for(const struct proc *p);

/* May p run on this CPU (its sched_setaffinity mask)? */
static inline bool sched_cpu_allowed(const struct proc *p)
{
        return p->usage.cpus_allowed >> machine_cpu_id() & 1;
}
void sched_sleep_until(uint64_t ns);
void sched_sleep_on(const void *channel);
/* Interruptible sleeps: like the two above, but a signal for the current
 * process (signal_pending()) ends them. => 0 after a wakeup or the time,
 * -EINTR if a signal is pending (callers usually return -ERESTARTSYS or
 * -EINTR from their system call). Callers loop on their condition. */
int sched_sleep_on_intr(const void *channel);
int sched_sleep_until_intr(uint64_t ns);
/* Interruptible sleep on channel until woken or until deadline_ns
 * (monotonic; 0: none). => 0, or -EINTR if a signal is pending; the
 * caller tells a wakeup from the deadline by the clock. */
int sched_sleep_on_until_intr(const void *channel, uint64_t deadline_ns);
/* The same, but no sleep at all (=> 0) if *done is true when looked at
 * under the run queue's lock: the sleep of a caller without the big lock
 * whose waker sets *done and then calls sched_wakeup(channel) (futex.c). */
int sched_sleep_on_until_intr_unless(const void *channel,
                                     uint64_t deadline_ns, const bool *done);
void sched_wakeup(const void *channel);
void sched_make_runnable(struct proc *p);
/* t, if it sleeps (only an interruptible sleep if intr_only), becomes
 * runnable; the look at its state is made under the run queue's lock, so
 * what the caller set before (a pending signal, pending_kill) is either
 * seen by a thread about to sleep without the big lock or ends its sleep
 * (sched.c, the interruptible sleeps). [kernel lock] */
void sched_wake_sleeper(struct proc *t, bool intr_only);
/* The thread whose tid is pid: a process's leader for its pid. */
struct proc *proc_find(int pid);

/* Limits that bite (sys_resource.c). */
/* Descriptors p may have: fds at or above this are refused (EMFILE). */
int proc_fd_limit(const struct proc *p);
/* kernel.pid_max: ids wrap below it (/proc/sys/kernel/pid_max); root sets
 * it within Linux's bounds (301 .. 4194304 on 64-bit, 32768 on 32-bit),
 * else -EINVAL. */
int proc_pid_max(void);
long proc_pid_max_set(uint64_t value);
/* fs.nr_open, RLIMIT_NOFILE's ceiling (/proc/sys/fs/nr_open). */
extern uint64_t fs_nr_open;
/* Root writes it: => 0 or -EINVAL outside Linux's bounds. */
long fs_nr_open_set(uint64_t value);
/* Whether the current process may map add_total more bytes, add_data of
 * them private and writable (RLIMIT_AS, RLIMIT_DATA): 0 or -ENOMEM. */
long rlimit_vm_grow(uint64_t add_total, uint64_t add_data);
/* RLIMIT_NPROC for a fork by the current process: 0 or -EAGAIN. */
long rlimit_fork_check(void);
/* p's RLIMIT_STACK in bytes for the VM (p NULL: the default). */
uint64_t rlimit_stack_bytes(const struct proc *p);
/* p's RLIMIT_AS in bytes (p NULL: the default, none). */
uint64_t rlimit_as_bytes(const struct proc *p);

/* What a child takes from its parent at fork besides memory and files:
 * credentials, limits, nice value, personality (sys_resource.c). */
void proc_fork_resources(struct proc *child, const struct proc *parent);

/* What to do before going back to user mode: die if killed, reschedule,
 * deliver signals. */
void proc_return_to_user(void);
/* The way back to user mode of a trap or system call that took no big
 * lock (sched.c): gives the CPU up while a reschedule is asked, without
 * the lock; => true if the thread may now go back without it, false if
 * the locked way (proc_return_to_user) has something to do or this CPU
 * took the lock since the entry. Interrupts off on entry, off on
 * return. */
bool sched_return_nolock(void);

/*
 * A thread running kernel code under the big kernel lock has entered its
 * space (vm_space.h, vm_space_enter), so the lock-free faults of its
 * other threads wait: from its entry from user mode (the machine's trap
 * and system-call code) to its way back, and dropped while it gives its
 * CPU up (machine_switch_away), when exec changes its space and when its
 * space goes at exit. Leaving when p has not entered does nothing.
 */
void proc_space_enter(struct proc *p);
void proc_space_leave(struct proc *p);

/* For a system call that runs without the big lock (SYSCALL_NO_LOCK) and
 * finds it needs it: the lock for the rest of the call
 * (machine_kernel_lock_rest_of_call), the thread's space entered. */
void proc_kernel_lock_entered(void);

#endif
