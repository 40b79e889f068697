/*
 * sys_fd.c - descriptor table calls (dup, dup2, dup3, fcntl, pipe, pipe2),
 * the working directory (getcwd, chdir) and directory listing
 * (getdents64), with Linux's errors.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/initramfs.h>
#include <fs/file.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define O_CLOEXEC       02000000
#define F_DUPFD         0
#define F_GETFD         1
#define F_SETFD         2
#define F_GETFL         3
#define F_DUPFD_CLOEXEC 1030
#define PATH_MAX        4096

extern struct initramfs rootfs;
long pipe_create(struct file **rd, struct file **wr);

/* Install f at the lowest free descriptor >= min; -EMFILE if none. */
static long fd_install_from(struct file *f, long min, bool cloexec)
{
        for (long fd = min; fd < NOFILE; fd++) {
                if (!current->files[fd]) {
                        current->files[fd] = f;
                        current->fd_flags[fd] = cloexec ? FD_CLOEXEC : 0;
                        return fd;
                }
        }
        return -EMFILE;
}

SYSCALL_DECL(dup)
{
        struct file *f = fd_get((int)a0);
        long fd;

        if (!f)
                return -EBADF;
        fd = fd_install_from(file_get(f), 0, false);
        if (fd < 0)
                file_put(f);
        return fd;
}

/* dup3's core: newfd becomes a copy of oldfd, closing what was there. */
static long dup_to(long oldfd, long newfd, bool cloexec)
{
        struct file *f = fd_get((int)oldfd);

        if (!f || newfd < 0 || newfd >= NOFILE)
                return -EBADF;
        file_get(f);
        if (current->files[newfd])
                file_put(current->files[newfd]);
        current->files[newfd] = f;
        current->fd_flags[newfd] = cloexec ? FD_CLOEXEC : 0;
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
                if (a2 < 0 || a2 >= NOFILE)
                        return -EINVAL;
                fd = fd_install_from(file_get(f), a2, a1 == F_DUPFD_CLOEXEC);
                if (fd < 0)
                        file_put(f);
                return fd;
        case F_GETFD:
                return current->fd_flags[a0];
        case F_SETFD:
                current->fd_flags[a0] = a2 & FD_CLOEXEC;
                return 0;
        case F_GETFL:
                return f->flags & ~(unsigned)O_CLOEXEC;
        default:
                return -EINVAL;
        }
}

SYSCALL_DECL(pipe2)
{
        struct file *rd, *wr;
        int fds[2];
        long err;

        if (a1 & ~(long)O_CLOEXEC)      /* O_NONBLOCK, O_DIRECT: not yet */
                return -EINVAL;
        if ((err = pipe_create(&rd, &wr)) != 0)
                return err;
        fds[0] = (int)fd_install_from(rd, 0, a1 & O_CLOEXEC);
        fds[1] = fds[0] < 0 ? -EMFILE : (int)fd_install_from(wr, 0, a1 & O_CLOEXEC);
        if (fds[1] >= 0 && copy_to_user((uint64_t)a0, fds, sizeof fds) == 0)
                return 0;
        err = fds[1] < 0 ? fds[1] : -EFAULT;
        if (fds[0] >= 0)
                current->files[fds[0]] = NULL;
        if (fds[1] >= 0)
                current->files[fds[1]] = NULL;
        file_put(rd);
        file_put(wr);
        return err;
}

SYSCALL_DECL(pipe)
{
        return sys_pipe2(a0, 0, 0, 0, 0, 0);
}

/* getcwd returns the length with the NUL, as the system call does. */
SYSCALL_DECL(getcwd)
{
        const char *cwd = current->cwd[0] ? current->cwd : "/";
        size_t len = strlen(cwd) + 1;

        if ((size_t)a1 < len)
                return -ERANGE;
        return copy_to_user((uint64_t)a0, cwd, len) ? -EFAULT : (long)len;
}

/* Make path absolute against the working directory, into out. */
long proc_path(const char *path, char *out, size_t size)
{
        size_t n = 0;

        if (path[0] != '/') {
                n = strlen(current->cwd);
                if (n + 1 >= size)
                        return -ENAMETOOLONG;
                memcpy(out, current->cwd, n);
                out[n++] = '/';
        }
        size_t len = strlen(path);
        if (n + len + 1 > size)
                return -ENAMETOOLONG;
        memcpy(out + n, path, len + 1);
        return 0;
}

SYSCALL_DECL(chdir)
{
        char path[PATH_MAX], abs[PATH_MAX];
        struct initramfs_node node;
        long n = strncpy_from_user(path, (uint64_t)a0, sizeof path);

        if (n < 0)
                return n;
        if (n == 0)
                return -ENOENT;
        if ((n = proc_path(path, abs, sizeof abs)) < 0)
                return n;
        vm_status_t st = initramfs_lookup(&rootfs, NULL, abs, 0, &node);
        if (st == VM_ENOTDIR || (st == VM_OK && !initramfs_is_dir(&node)))
                return -ENOTDIR;
        if (st != VM_OK)
                return -ENOENT;
        if (node.pathlen + 2 > sizeof current->cwd)
                return -ENAMETOOLONG;
        current->cwd[0] = '/';
        memcpy(current->cwd + 1, node.path, node.pathlen);
        current->cwd[node.pathlen + (node.pathlen ? 1 : 0)] = '\0';
        return 0;
}

/* One struct linux_dirent64 for e at buf; its length (8-aligned). */
static size_t dirent_fill(uint8_t *buf, const struct initramfs_dirent *e)
{
        size_t reclen = align_up(19 + e->namelen + 1, 8);

        memset(buf, 0, reclen);
        *(uint64_t *)buf = e->node.ino;                 /* d_ino */
        *(int64_t *)(buf + 8) = (int64_t)e->next;       /* d_off */
        *(uint16_t *)(buf + 16) = (uint16_t)reclen;
        buf[18] = e->type;
        memcpy(buf + 19, e->name, e->namelen);
        return reclen;
}

SYSCALL_DECL(getdents64)
{
        struct file *f = fd_get((int)a0);
        struct initramfs_dirent e;
        uint8_t rec[19 + 256 + 8];
        size_t done = 0;

        if (!f)
                return -EBADF;
        if (!f->dir)
                return -ENOTDIR;
        while (initramfs_readdir(&rootfs, f->node, f->offset, &e) == VM_OK) {
                size_t len = dirent_fill(rec, &e);
                if (done + len > (size_t)a2)
                        return done ? (long)done : -EINVAL;
                if (copy_to_user((uint64_t)a1 + done, rec, len))
                        return -EFAULT;
                done += len;
                f->offset = e.next;
        }
        return (long)done;
}
