/*
 * sys_exec.c - execve: replace the calling process's program.
 *
 * Arguments and environment are copied in first, the new address space is
 * built completely, and only then is the old one dropped, so a failed
 * execve leaves the caller exactly as it was.
 */
#include <mercator/errno.h>
#include <mercator/uaccess.h>
#include <exec/ustack.h>
#include <fs/file.h>
#include <proc/acct.h>
#include <fs/vfs.h>
#include <proc/ktimer.h>
#include <proc/futex.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
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
                uint64_t up;
                if (l->n == EXEC_MAX_ARGS)
                        return -E2BIG;
                if (copy_from_user(&up, uarr + l->n * 8, 8))
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

/* Descriptors opened with O_CLOEXEC do not survive execve. */
static void close_on_exec(struct proc *p)
{
        for (int fd = 0; fd < NOFILE; fd++) {
                if (p->files[fd] && (p->fd_flags[fd] & FD_CLOEXEC)) {
                        vfs_locks_on_close(p->files[fd], p->pid);
                        file_put(p->files[fd]);
                        p->files[fd] = NULL;
                        p->fd_flags[fd] = 0;
                }
        }
}

/* Put img in place of the current program. */
static void exec_commit(const char *path, struct exec_image *img)
{
        struct vm_space *old = current->space;

        if (current->clear_child_tid && current->space_borrowed) {
                uint32_t zero = 0;      /* as at exit: memory shared */
                if (!copy_to_user(current->clear_child_tid, &zero, 4))
                        futex_wake_address(current->clear_child_tid);
        }
        futex_exit_robust(current);     /* as Linux: the old program's locks */
        acct_sample_rss(current);       /* the old program's high-water mark */
        current->clear_child_tid = 0;
        current->robust_list = 0;
        current->space = img->space;
        if (current->exe) {
                current->exe->running--;
                vnode_put(current->exe);
        }
        current->exe = img->exe;
        current->exe->running++;
        pmap_activate(vm_space_pmap(img->space));
        if (!current->space_borrowed)   /* a vfork child's is its parent's */
                vm_space_destroy(old);
        current->space_borrowed = false;
        current->did_exec = true;
        signal_exec(current);
        close_on_exec(current);
        cred_exec(&current->cred);
        ktimer_exec(current);
        proc_set_name(current, path);
        md_thread_exec(current, img->entry, img->sp);
        proc_vfork_release(current);
}

SYSCALL_DECL(execve)
{
        char *path = kmalloc(PATH_MAX);
        char *strings = kmalloc(USTACK_ARG_MAX);
        const char **ptrs = kmalloc(2 * (EXEC_MAX_ARGS + 1) * sizeof(char *));
        struct str_list args = { strings, 0, USTACK_ARG_MAX, ptrs, 0 };
        struct str_list env = { strings, 0, USTACK_ARG_MAX, ptrs + EXEC_MAX_ARGS + 1, 0 };
        struct exec_image img;
        long err = path && strings && ptrs ? 0 : -ENOMEM;

        if (!err && (err = strncpy_from_user(path, (uint64_t)a0, PATH_MAX)) >= 0)
                err = err == 0 ? -ENOENT : copy_strings(&args, (uint64_t)a1);
        if (!err) {
                env.used = args.used;
                err = copy_strings(&env, (uint64_t)a2);
        }
        if (!err)
                err = exec_load(path, args.v, args.n, env.v, env.n, &img);
        if (!err)
                exec_commit(path, &img);
        kfree(path);
        kfree(strings);
        kfree(ptrs);
        return err;
}
