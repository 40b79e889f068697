/*
 * sys_fork.c - fork, vfork, clone (the fork-like uses) and wait4.
 *
 * The child gets a copy-on-write copy of the parent's address space
 * (vm_space_fork), the parent's open files, working directory and
 * registers. vfork is fork whose parent waits until the child has exec'd
 * or exited: POSIX allows vfork to copy, and Linux's ordering guarantee
 * (the parent runs only after that) is kept. clone with CLONE_VM (threads,
 * posix_spawn) is not supported yet and says so.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <vm/vm_space.h>

#define CLONE_VM        0x00000100
#define CLONE_VFORK     0x00004000
#define CSIGNAL         0x000000ff
#define WNOHANG         1

/* A copy of the current process; its pid, or -errno. */
static long fork_current(void)
{
        struct proc *child = proc_alloc();

        if (!child)
                return -EAGAIN;
        if (vm_space_fork(current->space, &child->space) != VM_OK) {
                proc_free(child);
                return -ENOMEM;
        }
        for (int fd = 0; fd < NOFILE; fd++) {
                if (current->files[fd])
                        child->files[fd] = file_get(current->files[fd]);
                child->fd_flags[fd] = current->fd_flags[fd];
        }
        memcpy(child->cwd, current->cwd, sizeof child->cwd);
        memcpy(child->name, current->name, sizeof child->name);
        child->parent = current;
        proc_fork_resources(child, current);
        md_thread_fork(child, current);
        sched_make_runnable(child);
        return child->pid;
}

SYSCALL_DECL(fork)
{
        return fork_current();
}

/* The parent sleeps until the child has exec'd or exited. */
SYSCALL_DECL(vfork)
{
        long pid = fork_current();
        struct proc *child = pid > 0 ? proc_find((int)pid) : NULL;

        if (child) {
                child->vfork_parent = current;
                while (child->vfork_parent == current &&
                       !current->pending_kill)
                        sched_sleep_on(&child->vfork_parent);
        }
        return pid;
}

SYSCALL_DECL(clone)
{
        unsigned long flags = (unsigned long)a0;

        if (flags & ~(unsigned long)(CSIGNAL | CLONE_VM | CLONE_VFORK))
                return -EINVAL;         /* threads, namespaces: not yet */
        if (flags & CLONE_VM)
                return -ENOSYS;         /* shared memory needs threads */
        if (a1)
                return -EINVAL;         /* a new stack only makes sense with CLONE_VM */
        return flags & CLONE_VFORK ? sys_vfork(0, 0, 0, 0, 0, 0) : fork_current();
}

/* A zombie child of the current process matching pid, and whether the
 * current process has any matching child at all. */
static struct proc *find_zombie(long pid, bool *any)
{
        extern struct proc proc_table[NPROC];

        *any = false;
        for (int i = 0; i < NPROC; i++) {
                struct proc *p = &proc_table[i];
                if (p->state == PROC_FREE || p->parent != current ||
                    (pid > 0 && p->pid != pid))
                        continue;
                *any = true;
                if (p->state == PROC_ZOMBIE)
                        return p;
        }
        return NULL;
}

/* wait4(pid, status, options, rusage): pid -1 (or a process group, all
 * of which are one here) waits for any child. */
SYSCALL_DECL(wait4)
{
        struct proc *z;
        bool any;

        if (a2 & ~(long)(WNOHANG | 0x40000000 /* __WALL */ | 0x80000000 /* __WCLONE */))
                return -EINVAL;
        while (!(z = find_zombie(a0 > 0 ? a0 : -1, &any))) {
                if (!any)
                        return -ECHILD;
                if (a2 & WNOHANG)
                        return 0;
                if (current->pending_kill)
                        return -EINTR;
                sched_sleep_on(current);
        }
        if (a1 && copy_to_user((uint64_t)a1, &z->wait_status, sizeof(int)))
                return -EFAULT;
        if (a3 && clear_user((uint64_t)a3, 144))        /* struct rusage */
                return -EFAULT;
        long pid = z->pid;
        proc_free(z);
        return pid;
}
