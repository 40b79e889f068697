/*
 * sys_fork.c - fork, vfork, clone, clone3, wait4 and waitid, and the
 * process-group and session calls.
 *
 * The child gets a copy-on-write copy of the parent's address space
 * (vm_space_fork), the parent's open files, working directory, registers,
 * signal actions and mask, process group and session. vfork is fork whose
 * parent waits until the child has exec'd or exited (POSIX allows vfork to
 * copy). clone(CLONE_VM|CLONE_VFORK), what posix_spawn uses, is a real
 * vfork: the child runs on the parent's address space (borrowed, never
 * destroyed by the child) until it execs or exits, while the parent
 * sleeps.
 *
 * Threads: CLONE_VM shares the address space (its last user destroys it),
 * CLONE_FILES the descriptor table (reference counted), CLONE_FS the
 * working directory, root and umask, CLONE_SIGHAND the signal actions
 * (both by an id: a change is written into every sharer), CLONE_THREAD
 * puts the child in the caller's thread group: same pid, its own tid, the
 * group's parent, and no exit signal (a thread is not waited for).
 *
 * wait4/waitid see exits, and with WUNTRACED/WSTOPPED and WCONTINUED the
 * stops and continues the signal code records (proc_signals).
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/abi.h>
#include <fs/file.h>
#include <fs/procfs.h>
#include <machine/vmparam.h>
#include <proc/acct.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <proc/timens.h>
#include <vm/memcg.h>
#include <vm/vm_space.h>


#define CSIGNAL                 0x000000ff
#define CLONE_VM                0x00000100
#define CLONE_FS                0x00000200
#define CLONE_FILES             0x00000400
#define CLONE_SIGHAND           0x00000800
#define CLONE_PIDFD             0x00001000
#define CLONE_PTRACE            0x00002000
#define CLONE_VFORK             0x00004000
#define CLONE_PARENT            0x00008000
#define CLONE_THREAD            0x00010000
#define CLONE_SYSVSEM           0x00040000
#define CLONE_SETTLS            0x00080000
#define CLONE_PARENT_SETTID     0x00100000
#define CLONE_CHILD_CLEARTID    0x00200000
#define CLONE_DETACHED          0x00400000
#define CLONE_UNTRACED          0x00800000
#define CLONE_CHILD_SETTID      0x01000000

#define CLONE_NEWTIME           0x00000080      /* clone3 and unshare only */
#define CLONE_NEWNS             0x00020000
#define CLONE_NEWCGROUP         0x02000000
#define CLONE_NEWUTS            0x04000000
#define CLONE_NEWIPC            0x08000000
#define CLONE_NEWUSER           0x10000000
#define CLONE_NEWPID            0x20000000
#define CLONE_NEWNET            0x40000000
/* The namespaces Mercator has not: Linux built without them answers
 * EINVAL (after the EPERM of a caller without CAP_SYS_ADMIN). */
#define CLONE_NEW_ABSENT        (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
                                 CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET)
#define CLONE_CLEAR_SIGHAND     0x100000000ULL
#define CLONE_INTO_CGROUP       0x200000000ULL

/* What Mercator does with clone. CLONE_SYSVSEM has nothing to share
 * (no SysV semaphores, so no undo lists). */
#define CLONE_SUPPORTED (CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT | \
                         CLONE_SETTLS | CLONE_PARENT_SETTID | \
                         CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | \
                         CLONE_DETACHED | CLONE_UNTRACED | CLONE_PTRACE | \
                         CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
                         CLONE_THREAD | CLONE_SYSVSEM)

#define WNOHANG         0x00000001
#define WSTOPPED        0x00000002      /* wait4's WUNTRACED */
#define WEXITED         0x00000004
#define WCONTINUED      0x00000008
#define WNOWAIT         0x01000000
#define __WNOTHREAD     0x20000000
#define __WALL          0x40000000
#define __WCLONE        0x80000000U
#define P_ALL           0
#define P_PID           1
#define P_PGID          2
#define INT_MIN_        (-2147483647 - 1)

struct clone_req {
        uint64_t flags, stack, parent_tid, child_tid, tls;
        int      exit_signal;
};

/* Address space, files, directory, name of the child. */
static long fork_resources(struct proc *child, const struct clone_req *r,
                           const struct timens_fork *tf)
{
        if (r->flags & CLONE_VM) {
                child->space = current->space;
                /* a vfork child borrows; a thread is one more user */
                child->space_borrowed = r->flags & CLONE_VFORK;
        } else if (vm_space_fork(current->space, &child->space) != VM_OK) {
                return -ENOMEM;
        } else if (timens_fork_vvar(tf, child->space)) {
                vm_space_destroy(child->space);
                child->space = NULL;
                return -ENOMEM;
        }
        if ((r->flags & CLONE_FILES) && current->fdt) {
                proc_fdt_share(child, current);
        } else {
                if (proc_fdt_copy(child, current->fdt) != VM_OK) {
                        if (!(r->flags & CLONE_VM))
                                vm_space_destroy(child->space);
                        child->space = NULL;
                        return -ENOMEM;
                }
        }
        if (r->flags & CLONE_FS)
                child->fs_id = current->fs_id;
        if (r->flags & CLONE_SIGHAND)
                child->sighand_id = current->sighand_id;
        child->cwd = current->cwd ? vnode_get(current->cwd) : NULL;
        child->root = current->root ? vnode_get(current->root) : NULL;
        child->umask = current->umask;
        if ((child->exe = current->exe ? vnode_get(current->exe) : NULL))
                child->exe->running++;
        memcpy(child->name, current->name, sizeof child->name);
        memcpy(child->exe_path, current->exe_path, sizeof child->exe_path);
        return 0;
}

/* The tid words of CLONE_*_SETTID; failures are ignored, as Linux's. */
static void clone_tids(struct proc *child, const struct clone_req *r)
{
        uint32_t tid = (uint32_t)child->tid;

        if (r->flags & CLONE_CHILD_SETTID)
                (void)space_write(child->space, r->child_tid, &tid, 4);
        if (r->flags & CLONE_PARENT_SETTID)
                (void)copy_to_user(r->parent_tid, &tid, 4);
        if (r->flags & CLONE_CHILD_CLEARTID)
                child->clear_child_tid = r->child_tid;
}

/* A copy of the current process as r describes it; its pid, or -errno. */
static long fork_current(const struct clone_req *r)
{
        struct timens_fork tf;
        long err = rlimit_fork_check();         /* RLIMIT_NPROC */
        struct proc *child;

        if (err)
                return err;
        if ((err = timens_fork_begin(r->flags & CLONE_NEWTIME,
                                     r->flags & CLONE_VM, &tf)))
                return err;
        if (!(child = proc_alloc())) {
                timens_fork_abort(&tf);
                return -EAGAIN;
        }
        if ((err = fork_resources(child, r, &tf))) {
                timens_fork_abort(&tf);
                proc_free(child);
                return err;
        }
        timens_fork_end(child, &tf);
        struct proc *g = group_of(current);
        if (r->flags & CLONE_THREAD) {
                /* the pid it got stays free: the thread's id is its tid */
                child->pid = current->pid;
                child->leader = g;
                proc_set_parent(child, g->parent);
                child->exit_signal = -1;
        } else {
                /* a child belongs to the process: its leader stands for
                 * it while any of its threads lives */
                proc_set_parent(child, (r->flags & CLONE_PARENT) ? g->parent : g);
                child->exit_signal = (r->flags & CLONE_PARENT) ? g->exit_signal
                                                               : r->exit_signal;
        }
        child->pgid = g->pgid;
        child->sid = g->sid;
        if (!(r->flags & CLONE_THREAD) && g->memcg) {
                child->memcg = g->memcg;        /* the parent's group */
                memcg_attach(child->memcg);
        }
        child->tty_detached = g->tty_detached;
        proc_fork_resources(child, current);
        signal_fork(child, current);
        if ((r->flags & (CLONE_VM | CLONE_VFORK)) == CLONE_VM)
                child->sig.altstack = (struct linux_stack){ .ss_flags = SS_DISABLE };
        if (r->flags & CLONE_CLEAR_SIGHAND)
                for (int i = 0; i < NSIG; i++)
                        if (child->sig.action[i].handler != SIG_IGN)
                                child->sig.action[i] = (struct k_sigaction){ 0 };
        machine_thread_fork(child, current);
        if (r->stack)
                machine_thread_set_user_sp(child, r->stack);
        if (r->flags & CLONE_SETTLS)
                machine_thread_set_tls(child, r->tls);
        clone_tids(child, r);
        sched_make_runnable(child);
        return child->tid;
}

/* vfork's parent sleeps until the child has exec'd or exited. A child on
 * the parent's own address space must be waited for even by a parent
 * being killed, since the space must outlive the child's use of it. */
static long vfork_wait(long pid, bool shared)
{
        struct proc *child = pid > 0 ? proc_find((int)pid) : NULL;

        if (!child)
                return pid;
        child->vfork_parent = current;
        while (child->vfork_parent == current &&
               (shared || !current->pending_kill))
                sched_sleep_on(&child->vfork_parent);
        return pid;
}

SYSCALL_DECL(fork)
{
        struct clone_req r = { .flags = SIGCHLD, .exit_signal = SIGCHLD };

        return fork_current(&r);
}

SYSCALL_DECL(vfork)
{
        struct clone_req r = { .flags = SIGCHLD | CLONE_VFORK,
                               .exit_signal = SIGCHLD };

        return vfork_wait(fork_current(&r), false);
}

/* The checks clone and clone3 share (Linux's copy_process order), then
 * the clone itself. */
static long clone_common(struct clone_req *r)
{
        if ((r->flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS) ||
            (r->flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
                return -EINVAL;
        if (((r->flags & CLONE_THREAD) && !(r->flags & CLONE_SIGHAND)) ||
            ((r->flags & CLONE_SIGHAND) && !(r->flags & CLONE_VM)))
                return -EINVAL;
        if ((r->flags & CLONE_PARENT) && !group_of(current)->parent)
                return -EINVAL;         /* init has no parent to share */
        if (r->flags & CLONE_PIDFD)
                return syscall_unsupported(-EINVAL);    /* no pidfds yet */
        if ((r->flags & (CLONE_NEWTIME | CLONE_NEW_ABSENT)) &&
            !cred_capable(&current->cred, CAP_SYS_ADMIN))
                return -EPERM;
        if (r->flags & ~((uint64_t)CLONE_SUPPORTED | CLONE_CLEAR_SIGHAND |
                         CLONE_NEWTIME))
                return syscall_unsupported(-EINVAL);    /* namespaces etc. */
        if ((r->flags & CLONE_SETTLS) && r->tls >= USER_MAX)
                return -EPERM;
        if ((r->flags & CLONE_THREAD) && group_of(current)->group.exiting)
                return -EAGAIN;         /* the group is going */
        long pid = fork_current(r);
        if (r->flags & CLONE_VFORK)
                return vfork_wait(pid, r->flags & CLONE_VM);
        return pid;
}

/* clone(flags, newsp, parent_tid, child_tid, tls), x86-64's order; the
 * last two swapped where machine/abi.h says ABI_CLONE_BACKWARDS
 * (riscv64). */
SYSCALL_DECL(clone)
{
        uint64_t child_tid = (uint64_t)(ABI_CLONE_BACKWARDS ? a4 : a3);
        uint64_t tls = (uint64_t)(ABI_CLONE_BACKWARDS ? a3 : a4);
        /* the low byte is the exit signal (so clone() cannot ask for
         * CLONE_NEWTIME, whose bit is in it: clone3 can) */
        struct clone_req r = { (uint32_t)a0 & ~(uint32_t)CSIGNAL, (uint64_t)a1,
                               (uint64_t)a2, child_tid, tls,
                               (int)((uint32_t)a0 & CSIGNAL) };

        if ((r.flags & CLONE_PIDFD) &&
            (r.flags & (CLONE_DETACHED | CLONE_PARENT_SETTID | CLONE_THREAD)))
                return -EINVAL;
        if (r.flags & CLONE_THREAD)
                r.exit_signal = -1;
        return clone_common(&r);
}

/* clone3(args, size): struct clone_args, the version 0 fields. */
struct clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
        uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0    64

SYSCALL_DECL(clone3)
{
        uint64_t size = (uint64_t)a1;
        struct clone_args ca = { 0 };
        struct clone_req r;

        if (size > PAGE_SIZE)
                return -E2BIG;
        if (size < CLONE_ARGS_SIZE_VER0)
                return -EINVAL;
        if (copy_from_user(&ca, (uint64_t)a0, MIN(size, sizeof ca)))
                return -EFAULT;
        /* a larger struct than ours: what we do not know must be zero */
        for (uint64_t off = sizeof ca; off < size; off++) {
                uint8_t b;
                if (copy_from_user(&b, (uint64_t)a0 + off, 1))
                        return -EFAULT;
                if (b)
                        return -E2BIG;
        }
        if (ca.set_tid_size > 32 || (!ca.set_tid && ca.set_tid_size) ||
            (ca.set_tid && !ca.set_tid_size))
                return -EINVAL;
        if ((ca.flags & ~(0xffffffffULL | CLONE_CLEAR_SIGHAND |
                          CLONE_INTO_CGROUP)) ||
            (ca.flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME))) ||
            (ca.exit_signal & ~(uint64_t)CSIGNAL) || ca.exit_signal > NSIG ||
            ((ca.flags & CLONE_CLEAR_SIGHAND) && (ca.flags & CLONE_SIGHAND)) ||
            ((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal))
                return -EINVAL;
        if ((ca.stack == 0) != (ca.stack_size == 0))
                return -EINVAL;
        if (ca.set_tid_size)
                return -EPERM;          /* choosing pids needs CAP_SYS_ADMIN
                                         * over a pid namespace */
        if (ca.flags & CLONE_INTO_CGROUP)
                return syscall_unsupported(-EINVAL);    /* no cgroups */
        r = (struct clone_req){ ca.flags, ca.stack ? ca.stack + ca.stack_size : 0,
                                ca.parent_tid, ca.child_tid, ca.tls,
                                (int)ca.exit_signal };
        if (r.flags & CLONE_THREAD)
                r.exit_signal = -1;
        return clone_common(&r);
}

/* --- unshare, setns ----------------------------------------------------- */

#define UNSHARE_KNOWN   (CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | \
                         CLONE_FILES | CLONE_SYSVSEM | CLONE_NEWUSER | \
                         CLONE_NEWTIME | CLONE_NEW_ABSENT)

/* Does another live proc share this fs_id (fs) or sighand_id? */
static bool id_shared(uint64_t id, bool fs)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *q = proc_table[i];
                if (q != current && q->state != PROC_FREE &&
                    q->state != PROC_ZOMBIE &&
                    (fs ? q->fs_id : q->sighand_id) == id)
                        return true;
        }
        return false;
}

/*
 * unshare(flags), Linux's rules: CLONE_NEWUSER implies CLONE_THREAD and
 * CLONE_FS, CLONE_VM implies CLONE_SIGHAND, which implies CLONE_THREAD;
 * those three are only allowed when nothing is shared (EINVAL). The
 * namespaces need CAP_SYS_ADMIN (EPERM); of them Mercator has only time
 * namespaces, and a Linux built without the others (and without user
 * namespaces) answers EINVAL for them. Everything is checked before
 * anything changes.
 */
SYSCALL_DECL(unshare)
{
        uint64_t flags = (uint64_t)a0;
        bool thread_alone = !proc_group_others(current);
        long err;

        if (flags & CLONE_NEWUSER)
                flags |= CLONE_THREAD | CLONE_FS;
        if (flags & CLONE_VM)
                flags |= CLONE_SIGHAND;
        if (flags & CLONE_SIGHAND)
                flags |= CLONE_THREAD;
        if (flags & CLONE_NEWNS)
                flags |= CLONE_FS;
        if (flags & ~(uint64_t)UNSHARE_KNOWN)
                return -EINVAL;
        if (((flags & CLONE_THREAD) && !thread_alone) ||
            ((flags & CLONE_SIGHAND) && id_shared(current->sighand_id, false)) ||
            ((flags & CLONE_VM) && space_users(current->space) > 1))
                return -EINVAL;
        if (flags & CLONE_NEWUSER)
                return -EINVAL;         /* no user namespaces */
        if ((flags & (CLONE_NEWTIME | CLONE_NEW_ABSENT)) &&
            !cred_capable(&current->cred, CAP_SYS_ADMIN))
                return -EPERM;
        if (flags & CLONE_NEW_ABSENT)
                return -EINVAL;
        if ((flags & CLONE_FILES) && current->fdt && current->fdt->refs > 1) {
                struct fdtable *old = current->fdt;
                if (proc_fdt_copy(current, old) != VM_OK) {
                        current->fdt = old;
                        return -ENOMEM;
                }
                old->refs--;
        }
        if ((flags & CLONE_NEWTIME) && (err = timens_unshare()))
                return err;
        if ((flags & CLONE_FS) && id_shared(current->fs_id, true))
                current->fs_id = proc_share_id();
        return 0;
}

/* setns(fd, nstype): fd an open /proc/PID/ns/time link; nstype 0 or
 * CLONE_NEWTIME (anything else: EINVAL, as for a file that is no
 * namespace, Linux's answer; no pidfds here). */
SYSCALL_DECL(setns)
{
        struct file *f = fd_get((int)a0);
        struct time_ns *ns;

        if (!f)
                return -EBADF;
        if (!procfs_file_time_ns(f, &ns) ||
            ((int)a1 != 0 && (int)a1 != CLONE_NEWTIME))
                return -EINVAL;
        return timens_setns(ns);
}

/* --- wait4, waitid ---------------------------------------------------- */

struct wait_req {
        int      idtype, id;
        uint32_t options;
};

/* What a wait found: the child, what happened (CLD_*), si_status and
 * the wait4 status. */
struct wait_found {
        int pid, why, status, wstatus;
        struct linux_rusage ru;         /* the child's and its children's */
};

static bool wait_matches(const struct proc *c, const struct wait_req *w)
{
        /* a process is its leader; any thread of the parent may wait */
        if (!proc_is_leader(c) || c->parent != group_of(current) ||
            (c->state == PROC_ZOMBIE && c->autoreap))
                return false;
        if (w->idtype == P_PID && c->pid != w->id)
                return false;
        if (w->idtype == P_PGID && c->pgid != w->id)
                return false;
        if (w->options & __WALL)
                return true;
        /* a "clone" child is one whose exit signal is not SIGCHLD */
        return (c->exit_signal != SIGCHLD) == !!(w->options & __WCLONE);
}

/* Whether c has something to report to w; fills f and consumes it. */
static bool wait_report(struct proc *c, const struct wait_req *w,
                        struct wait_found *f)
{
        bool keep = w->options & WNOWAIT;
        int ws = c->wait_status;

        f->pid = c->pid;
        acct_rusage(c, ACCT_BOTH, &f->ru);
        if (c->state == PROC_ZOMBIE && proc_group_others(c))
                return false;           /* a leader whose threads run on */
        if (c->state == PROC_ZOMBIE && (w->options & WEXITED)) {
                f->wstatus = ws;
                f->why = (ws & 0x7f) == 0 ? CLD_EXITED :
                         (ws & WAIT_STATUS_CORE) ? CLD_DUMPED : CLD_KILLED;
                f->status = (ws & 0x7f) ? ws & 0x7f : (ws >> 8) & 0xff;
                if (!keep)
                        proc_free(c);
                return true;
        }
        if (c->state == PROC_ZOMBIE)
                return false;
        if (c->sig.stopped && c->sig.report_stop && (w->options & WSTOPPED)) {
                f->why = CLD_STOPPED;
                f->status = c->sig.stop_sig;
                f->wstatus = wait_status_stopped(c->sig.stop_sig);
                c->sig.report_stop = keep;
                return true;
        }
        if (c->sig.report_cont && (w->options & WCONTINUED)) {
                f->why = CLD_CONTINUED;
                f->status = SIGCONT;
                f->wstatus = WAIT_STATUS_CONTINUED;
                c->sig.report_cont = keep;
                return true;
        }
        return false;
}

/* => the child's pid, 0 (WNOHANG, nothing yet), -ECHILD, -ERESTARTSYS. */
static long wait_common(const struct wait_req *w, struct wait_found *f)
{
        for (;;) {
                bool any = false;
                for (int i = 0; i < proc_slots; i++) {
                        struct proc *c = proc_table[i];
                        if (!wait_matches(c, w))
                                continue;
                        any = true;
                        if (wait_report(c, w, f))
                                return f->pid;
                }
                if (!any)
                        return -ECHILD;
                if (w->options & WNOHANG)
                        return 0;
                /* look again after every wakeup: a child may be gone */
                if (signal_pending())
                        return -ERESTARTSYS;
                (void)sched_sleep_on_intr(group_of(current));
        }
}

/* wait4(pid, status, options, rusage) */
SYSCALL_DECL(wait4)
{
        int pid = (int)a0;
        struct wait_req w = { P_ALL, 0, (uint32_t)a2 };
        struct wait_found f = { 0 };
        long r;

        if (w.options & ~(WNOHANG | WSTOPPED | WCONTINUED | __WNOTHREAD |
                          __WCLONE | __WALL))
                return -EINVAL;
        w.options |= WEXITED;
        if (pid == INT_MIN_)
                return -ESRCH;
        if (pid > 0)
                w.idtype = P_PID, w.id = pid;
        else if (pid == 0)
                w.idtype = P_PGID, w.id = current->pgid;
        else if (pid < -1)
                w.idtype = P_PGID, w.id = -pid;
        if ((r = wait_common(&w, &f)) <= 0)
                return r;
        if (a1 && copy_to_user((uint64_t)a1, &f.wstatus, sizeof(int)))
                return -EFAULT;
        if (a3 && copy_to_user((uint64_t)a3, &f.ru, sizeof f.ru))
                return -EFAULT;
        return r;
}

/* waitid(idtype, id, infop, options, rusage): the infop fields Linux
 * writes (signo, errno, code, pid, uid, status), zero when nothing was
 * found. */
SYSCALL_DECL(waitid)
{
        struct wait_req w = { (int)a0, (int)a1, (uint32_t)a3 };
        struct wait_found f = { 0 };
        struct ksiginfo ki = { 0 };
        uint8_t info[LINUX_SIGINFO_SIZE];
        long r;

        if (w.options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED |
                          WCONTINUED | __WNOTHREAD | __WCLONE | __WALL) ||
            !(w.options & (WEXITED | WSTOPPED | WCONTINUED)))
                return -EINVAL;
        switch (w.idtype) {
        case P_ALL:
                break;
        case P_PID:
                if (w.id <= 0)
                        return -EINVAL;
                break;
        case P_PGID:
                if (w.id < 0)
                        return -EINVAL;
                if (w.id == 0)
                        w.id = current->pgid;
                break;
        default:
                return -EINVAL;         /* P_PIDFD: no pidfds yet */
        }
        r = wait_common(&w, &f);
        if (r == -ERESTARTSYS)
                return r;
        if (r > 0) {
                ki = (struct ksiginfo){ .signo = SIGCHLD, .code = f.why,
                                        .pid = f.pid, .status = f.status };
                if (a4 && copy_to_user((uint64_t)a4, &f.ru, sizeof f.ru))
                        return -EFAULT;
                r = 0;
        }
        if (!a2)
                return r;
        siginfo_to_linux(info, &ki);
        if (copy_to_user((uint64_t)a2, info, 32))       /* what Linux writes */
                return -EFAULT;
        return r;
}

/* --- process groups and sessions ------------------------------------- */

/* Every thread of p's process gets these process group and session. */
static void set_group_ids(struct proc *p, int pgid, int sid)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *t = proc_table[i];
                if (t->state != PROC_FREE && t->pid == p->pid)
                        t->pgid = pgid, t->sid = sid;
        }
}

/* Whether some process has pgid as its group, in session sid. */
static bool group_exists(int pgid, int sid)
{
        for (int i = 0; i < proc_slots; i++) {
                const struct proc *p = proc_table[i];
                if (p->state != PROC_FREE && p->pgid == pgid && (sid < 0 || p->sid == sid))
                        return true;
        }
        return false;
}

SYSCALL_DECL(setpgid)
{
        int pid = (int)a0 ? (int)a0 : current->pid;
        int pgid = (int)a1 ? (int)a1 : pid;
        struct proc *p;

        if (pgid < 0)
                return -EINVAL;
        if (!(p = proc_find(pid)))
                return -ESRCH;
        p = group_of(p);
        if (p->parent == group_of(current)) {
                if (p->sid != current->sid)
                        return -EPERM;
                if (p->did_exec)
                        return -EACCES;
        } else if (p != group_of(current)) {
                return -ESRCH;
        }
        if (p->sid == p->pid)
                return -EPERM;          /* a session leader stays */
        if (pgid != pid && !group_exists(pgid, current->sid))
                return -EPERM;
        set_group_ids(p, pgid, p->sid);
        return 0;
}

static struct proc *proc_or_current(int pid)
{
        return pid ? proc_find(pid) : current;
}

SYSCALL_DECL(getpgid)
{
        struct proc *p = proc_or_current((int)a0);

        return p ? p->pgid : -ESRCH;
}

SYSCALL_DECL(getpgrp)
{
        return current->pgid;
}

SYSCALL_DECL(getsid)
{
        struct proc *p = proc_or_current((int)a0);

        return p ? p->sid : -ESRCH;
}

/* A new session and group led by the caller, unless a group already has
 * the caller's pid as its id. */
SYSCALL_DECL(setsid)
{
        if (group_exists(current->pid, -1))
                return -EPERM;
        set_group_ids(current, current->pid, current->pid);
        return current->pid;
}
