/*
 * sys_fd.c - descriptor table calls (dup, dup2, dup3, fcntl, pipe, pipe2),
 * with Linux's errors.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/pipe.h>
#include <fs/vfs.h>
#include <vm/vm_space.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define O_CLOEXEC       02000000
#define O_NONBLOCK      04000
#define F_DUPFD         0
#define F_GETFD         1
#define F_SETFD         2
#define F_GETFL         3
#define F_SETFL         4
#define F_DUPFD_CLOEXEC 1030
#define F_GETLK         5
#define F_SETLK         6
#define F_SETLKW        7
#define F_OFD_GETLK     36
#define F_OFD_SETLK     37
#define F_OFD_SETLKW    38
#define F_SETPIPE_SZ    1031
#define F_GETPIPE_SZ    1032
#define F_ADD_SEALS     1033
#define F_GET_SEALS     1034
#define F_SEAL_SEAL     0x1
#define F_SEAL_WRITE    0x8
#define SEALS_ALL       0xf             /* SEAL, SHRINK, GROW, WRITE (not FUTURE_WRITE) */
#define SETFL_MASK      (02000 | 04000 | 020000 | 040000 | 01000000)
#define PATH_MAX        4096


SYSCALL_DECL(dup)
{
        struct file *f = fd_get((int)a0);
        long fd;

        if (!f)
                return -EBADF;
        fd = fd_install_at_least(file_get(f), 0, false);
        if (fd < 0)
                file_put(f);
        return fd;
}

/* dup3's core: newfd becomes a copy of oldfd, closing what was there. */
static long dup_to(long oldfd, long newfd, bool cloexec)
{
        struct file *f = fd_get((int)oldfd);
        struct fdtable *t = current->fdt;

        if (!f || newfd < 0 || newfd >= proc_fd_limit(current))
                return -EBADF;          /* RLIMIT_NOFILE, as Linux */
        if (fdt_expand(t, (int)newfd))
                return -ENOMEM;
        file_get(f);
        if (t->files[newfd]) {
                vfs_locks_on_close(t->files[newfd], current->pid);
                file_put(t->files[newfd]);
        }
        t->files[newfd] = f;
        t->fd_flags[newfd] = cloexec ? FD_CLOEXEC : 0;
        return newfd;
}

SYSCALL_DECL(dup2)
{
        if (a0 == a1)
                return fd_get((int)a0) ? a1 : -EBADF;
        return dup_to(a0, a1, false);
}

SYSCALL_DECL(dup3)
{
        if (a2 & ~(long)O_CLOEXEC)
                return -EINVAL;
        if (a0 == a1)
                return -EINVAL;
        return dup_to(a0, a1, a2 & O_CLOEXEC);
}

SYSCALL_DECL(fcntl)
{
        struct file *f = fd_get((int)a0);
        long fd;

        if (!f)
                return -EBADF;
        switch (a1) {
        case F_DUPFD:
        case F_DUPFD_CLOEXEC:
                if (a2 < 0 || a2 >= proc_fd_limit(current))
                        return -EINVAL;
                fd = fd_install_at_least(file_get(f), (int)a2,
                                         a1 == F_DUPFD_CLOEXEC);
                if (fd < 0)
                        file_put(f);
                return fd;
        case F_GETFD:
                return current->fdt->fd_flags[a0];
        case F_SETFD:
                current->fdt->fd_flags[a0] = a2 & FD_CLOEXEC;
                return 0;
        case F_GETFL:
                return f->flags & ~(unsigned)O_CLOEXEC;
        case F_SETFL:
                /* O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME change;
                 * the rest stays. O_NOATIME: the owner's (or CAP_FOWNER). */
                if ((a2 & 01000000) && !(f->flags & 01000000)) {
                        struct vnode *vn = file_vnode(f);
                        if (vn && vn->uid != current_fsuid() &&
                            !current_capable(CAP_FOWNER))
                                return -EPERM;
                }
                f->flags = (f->flags & ~SETFL_MASK) | ((unsigned)a2 & SETFL_MASK);
                return 0;
        case F_GETLK:
        case F_SETLK:
        case F_SETLKW:
        case F_OFD_GETLK:
        case F_OFD_SETLK:
        case F_OFD_SETLKW:
                return vfs_fcntl_lock(f, (int)a1, (uint64_t)a2);
        case F_GETPIPE_SZ:
        case F_SETPIPE_SZ:
                return pipe_size(f, a1 == F_SETPIPE_SZ, (unsigned long)(unsigned)a2);
        case F_ADD_SEALS:
        case F_GET_SEALS: {
                struct vnode *vn = file_vnode(f);
                if (!vn || !S_ISREG(vn->mode) || !vn->obj || !tmpfs_owns(vn))
                        return -EINVAL;
                if (a1 == F_GET_SEALS)
                        return vn->seals;
                if ((unsigned)a2 & ~SEALS_ALL)
                        return -EINVAL;
                if ((f->flags & 3) == 0)
                        return -EPERM;
                if (vn->seals & F_SEAL_SEAL)
                        return -EPERM;
                if (((unsigned)a2 & F_SEAL_WRITE) && !(vn->seals & F_SEAL_WRITE) &&
                    vm_spaces_count_mappings(vn->obj, true))
                        return -EBUSY;
                vn->seals |= (unsigned)a2;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

SYSCALL_DECL(pipe2)
{
        struct file *rd, *wr;
        int fds[2];
        long err;

        if (a1 & ~(long)(O_CLOEXEC | O_NONBLOCK))  /* O_DIRECT: not yet */
                return -EINVAL;
        if ((err = pipe_create(&rd, &wr)) != 0)
                return err;
        if (a1 & O_NONBLOCK) {          /* both ends' file status flag */
                rd->flags |= O_NONBLOCK;
                wr->flags |= O_NONBLOCK;
        }
        fds[0] = (int)fd_install_at_least(rd, 0, a1 & O_CLOEXEC);
        fds[1] = fds[0] < 0 ? fds[0]
                            : (int)fd_install_at_least(wr, 0, a1 & O_CLOEXEC);
        if (fds[1] >= 0 && copy_to_user((uint64_t)a0, fds, sizeof fds) == 0)
                return 0;
        err = fds[1] < 0 ? fds[1] : -EFAULT;
        if (fds[0] >= 0)
                current->fdt->files[fds[0]] = NULL;
        if (fds[1] >= 0)
                current->fdt->files[fds[1]] = NULL;
        file_put(rd);
        file_put(wr);
        return err;
}

SYSCALL_DECL(pipe)
{
        return sys_pipe2(a0, 0, 0, 0, 0, 0);
}

