/*
 * sys_exec.c - execve: replace the calling process's program.
 *
 * Arguments and environment are copied in first, the new address space is
 * built completely, and only then is the old one dropped, so a failed
 * execve leaves the caller exactly as it was.
 *
 * In a process with several threads, a successful execve first ends the
 * others (as if killed) and waits until they have exited; a thread that is
 * not the leader then takes the leader's place: its tid becomes the pid,
 * the old leader's slot goes (Linux's de_thread). A descriptor table or
 * signal actions shared with another process stop being shared.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/uaccess.h>
#include <exec/ustack.h>
#include <fs/file.h>
#include <proc/acct.h>
#include <fs/vfs.h>
#include <proc/ktimer.h>
#include <proc/futex.h>
#include <proc/proc.h>
#include <proc/timens.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>


#define PATH_MAX        4096
#define EXEC_MAX_ARGS   (USTACK_ARG_MAX / sizeof(char *))

/* Strings copied from user memory into one buffer, with their pointers. */
struct str_list {
        char        *buf;
        size_t       used, size;
        const char **v;
        size_t       n;
};

/* Copy the NULL-terminated user array uarr into l; 0 or -errno. */
static long copy_strings(struct str_list *l, uint64_t uarr)
{
        for (l->n = 0; uarr; l->n++) {
                unsigned long up;       /* a user pointer: the user's long */
                if (l->n == EXEC_MAX_ARGS)
                        return -E2BIG;
                if (copy_from_user(&up, uarr + l->n * sizeof up, sizeof up))
                        return -EFAULT;
                if (!up)
                        break;
                long len = strncpy_from_user(l->buf + l->used, up,
                                             l->size - l->used);
                if (len == -ENAMETOOLONG)
                        return -E2BIG;
                if (len < 0)
                        return len;
                l->v[l->n] = l->buf + l->used;
                l->used += (size_t)len + 1;
        }
        l->v[l->n] = NULL;
        return 0;
}

/*
 * End every other thread of the current process and wait until they have
 * exited; a thread other than the leader becomes the leader.
 * => 0, or -EAGAIN if the process is being killed meanwhile (exit_group
 *    from another thread, a fatal signal): the caller ends too.
 */
static long exec_end_other_threads(void)
{
        struct proc *p = current, *g = group_of(p);

        if (!proc_group_others(p) && g == p)
                return 0;
        if (g->group.exiting)
                return -EAGAIN;
        g->group.exec_thread = p;
        for (int i = 0; i < proc_slots; i++) {
                struct proc *t = proc_table[i];
                if (t != p && t->pid == p->pid && proc_alive(t) && !t->pending_kill)
                        proc_kill_thread(t, wait_status_signaled(SIGKILL));
        }
        if (g->sig.stopped) {
                g->sig.stopped = false;
                sched_wakeup(&g->sig.stopped);
        }
        while (proc_group_others(p) && !p->pending_kill)
                sched_sleep_on(&g->group.exec_thread);
        g->group.exec_thread = NULL;
        if (p->pending_kill)
                return -EAGAIN;
        if (g == p)
                return 0;
        /* Take the leader's place: its pid as our tid, its parent, its
         * children, what only the process had; its slot goes. */
        p->tid = g->tid;
        proc_set_parent(p, g->parent);
        p->exit_signal = g->exit_signal;
        p->group = g->group;
        p->sig.stopped = g->sig.stopped;
        p->sig.stop_sig = g->sig.stop_sig;
        p->sig.report_stop = g->sig.report_stop;
        p->sig.report_cont = g->sig.report_cont;
        p->timers = g->timers;
        g->timers = NULL;
        p->usage.start_ns = g->usage.start_ns;
        p->usage.c_utime_ns = g->usage.c_utime_ns;
        p->usage.c_stime_ns = g->usage.c_stime_ns;
        p->usage.c_minflt = g->usage.c_minflt;
        p->usage.c_majflt = g->usage.c_majflt;
        p->usage.c_maxrss_kb = g->usage.c_maxrss_kb;
        uint64_t ut, st;
        proc_cputime(g, &ut, &st);      /* the old leader's time stays */
        p->usage.exited_utime_ns = g->usage.exited_utime_ns + ut;
        p->usage.exited_stime_ns = g->usage.exited_stime_ns + st;
        p->usage.exited_run_ns = g->usage.exited_run_ns + proc_runtime_ns(g);
        p->usage.exited_minflt = g->usage.exited_minflt + g->usage.minflt;
        p->usage.exited_majflt = g->usage.exited_majflt + g->usage.majflt;
        proc_leader_replaced(g, p);
        p->leader = p;
        g->autoreap = true;             /* nobody reaps it: it is us now */
        g->tid = 0;                     /* before the free: its ids are ours */
        proc_free(g);
        return 0;
}

/* A descriptor table shared with another process becomes our own copy
 * (Linux's unshare_files at exec). => 0 or -ENOMEM. */
static long exec_unshare_files(struct proc *p)
{
        struct fdtable *old = p->fdt;

        if (old->refs == 1)
                return 0;
        if (proc_fdt_copy(p, old) != VM_OK) {
                p->fdt = old;
                return -ENOMEM;
        }
        old->refs--;
        return 0;
}

/* Descriptors opened with O_CLOEXEC do not survive execve. */
static void close_on_exec(struct proc *p)
{
        struct fdtable *t = p->fdt;

        for (int fd = 0; fd < t->size; fd++) {
                if (t->files[fd] && (t->fd_flags[fd] & FD_CLOEXEC)) {
                        vfs_locks_on_close(t->files[fd], p->pid);
                        file_put(t->files[fd]);
                        t->files[fd] = NULL;
                        t->fd_flags[fd] = 0;
                }
        }
}

/* Put img in place of the current program. */
static void exec_commit(const char *path, struct exec_image *img)
{
        struct vm_space *old = current->space;

        if (current->clear_child_tid && space_users(old) > 1) {
                uint32_t zero = 0;      /* as at exit: memory shared */
                if (!copy_to_user(current->clear_child_tid, &zero, 4))
                        futex_wake_address(current->clear_child_tid);
        }
        futex_exit_robust(current);     /* as Linux: the old program's locks */
        acct_sample_rss(current);       /* the old program's high-water mark */
        current->clear_child_tid = 0;
        current->robust_list = 0;
        timens_exec_commit();           /* the new space's [vvar] is its */
        bool entered = current->entered != NULL;

        proc_space_leave(current);      /* the old space may go below */
        current->space = img->space;
        if (entered)
                proc_space_enter(current);
        if (current->exe) {
                current->exe->running--;
                vnode_put(current->exe);
        }
        current->exe = img->exe;
        current->exe->running++;
        pmap_activate(vm_space_pmap(img->space));
        /* a vfork child's is its parent's; another process may share it */
        if (!current->space_borrowed && space_users(old) == 0)
                vm_space_destroy(old);
        current->space_borrowed = false;
        current->did_exec = true;
        signal_exec(current);
        close_on_exec(current);
        /* Dumpable again unless the program was unreadable to its runner
         * or the ids still differ (Linux's would_dump, begin_new_exec):
         * a process that dropped root and exec'd owns its /proc files. */
        bool readable = vfs_permission(img->exe, VFS_MAY_READ) == 0;
        cred_exec(&current->cred);
        current->usage.dumpable = readable &&
                current->cred.euid == current->cred.uid &&
                current->cred.egid == current->cred.gid;
        ktimer_exec(current);
        proc_set_name(current, path);
        machine_thread_exec(current, img->entry, img->sp);
        proc_vfork_release(current);
}

#define AT_SYMLINK_NOFOLLOW     0x100
#define AT_EMPTY_PATH           0x1000

/*
 * execve and execveat: the program at (dirfd, upath), AT_EMPTY_PATH for
 * the file open at dirfd itself (fexecve), AT_SYMLINK_NOFOLLOW to refuse a
 * final symlink (ELOOP). As Linux, a program named relative to a
 * descriptor runs as "/dev/fd/N" or "/dev/fd/N/path" (AT_EXECFN and its
 * name; "N" for ps).
 */
static long do_execve(long dirfd, uint64_t upath, uint64_t uargv,
                      uint64_t uenv, long flags)
{
        char *path = kmalloc(PATH_MAX);
        char *execfn = kmalloc(PATH_MAX);
        char *strings = kmalloc(USTACK_ARG_MAX);
        const char **ptrs = kmalloc(2 * (EXEC_MAX_ARGS + 1) * sizeof(char *));
        struct str_list args = { strings, 0, USTACK_ARG_MAX, ptrs, 0 };
        struct str_list env = { strings, 0, USTACK_ARG_MAX, ptrs + EXEC_MAX_ARGS + 1, 0 };
        struct exec_name name = { EXEC_AT_FDCWD, path, 0, path };
        struct exec_image img;
        long err = path && execfn && strings && ptrs ? 0 : -ENOMEM;

        if (!err && (flags & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
                err = -EINVAL;
        if (!err && (err = strncpy_from_user(path, upath, PATH_MAX)) >= 0) {
                if (err == 0 && !(flags & AT_EMPTY_PATH))
                        err = -ENOENT;
                else
                        err = copy_strings(&args, uargv);
        }
        if (!err && (int)dirfd != (int)EXEC_AT_FDCWD && path[0] != '/') {
                name.dirfd = (int)dirfd;
                name.execfn = execfn;
                ksnprintf(execfn, PATH_MAX, path[0] ? "/dev/fd/%d/%s" : "/dev/fd/%d",
                         (int)dirfd, path);
        }
        name.vfs_flags = (flags & AT_EMPTY_PATH ? VFS_EMPTY_OK : 0) |
                         (flags & AT_SYMLINK_NOFOLLOW ? VFS_NOFOLLOW : 0);
        if (!err) {
                env.used = args.used;
                err = copy_strings(&env, uenv);
        }
        if (!err)
                err = exec_load(&name, args.v, args.n, env.v, env.n, &img);
        if (!err && ((err = exec_end_other_threads()) ||
                     (err = exec_unshare_files(current)))) {
                vm_space_destroy(img.space);
                vnode_put(img.exe);
        }
        if (!err) {
                /* run from a descriptor: named after the file itself, as
                 * /proc/PID/exe and (since 6.14) Linux's comm are */
                const char *real = vm_object_name(img.exe->obj);
                exec_commit(name.execfn == execfn && real && real[0] == '/' ?
                            real : path, &img);
        }
        kfree(path);
        kfree(execfn);
        kfree(strings);
        kfree(ptrs);
        return err;
}

SYSCALL_DECL(execve)
{
        return do_execve(EXEC_AT_FDCWD, (uint64_t)a0, (uint64_t)a1,
                         (uint64_t)a2, 0);
}

SYSCALL_DECL(execveat)
{
        return do_execve(a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3, a4);
}
