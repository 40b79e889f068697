/*
 * sys_vfs.c - the file-system calls: open and friends, names (mkdir,
 * unlink, rename, link, symlink), attributes (stat, chmod, chown, times),
 * sizes (truncate, fallocate), directories (getdents64, chdir, getcwd,
 * chroot), mounts, umask, memfd_create. Linux's errno rules.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <machine/abi_stat.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/hugetlb.h>
#include <vm/pmap.h>
#include <vm/kmalloc.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_space.h>

#define O_ACCMODE       3
#define O_WRONLY        1
#define O_RDWR          2
#define O_CREAT         0100
#define O_EXCL          0200
#define O_NOCTTY        0400
#define O_TRUNC         01000
#define O_APPEND        02000
#define O_NONBLOCK      04000
#define O_DIRECTORY     0200000
#define O_NOFOLLOW      0400000
#define O_CLOEXEC       02000000
#define O_PATH          010000000
#define O_NOATIME       01000000
#define O_TMPFILE       (020000000 | O_DIRECTORY)

#define AT_FDCWD                (-100)
#define AT_SYMLINK_NOFOLLOW     0x100
#define AT_REMOVEDIR            0x200
#define AT_EACCESS              0x200
#define AT_SYMLINK_FOLLOW       0x400
#define AT_NO_AUTOMOUNT         0x800
#define AT_EMPTY_PATH           0x1000
#define AT_STATX_SYNC_TYPE      0x6000

#define CAP_SYS_CHROOT          18

#define RENAME_NOREPLACE        1
#define RENAME_EXCHANGE         2
#define RENAME_WHITEOUT         4

static inline bool is_dir(const struct vnode *vn)
{
        return S_ISDIR(vn->mode);
}

static long rdonly(const struct vnode *dir)
{
        return dir->sb->rdonly ? -EROFS : 0;
}

/* May the current process change vn's attributes (owner or root)? */
static long owner_or_root(const struct vnode *vn)
{
        return current_fsuid() == vn->uid || current_capable(CAP_FOWNER)
               ? 0 : -EPERM;
}

/* Sticky directories: only the owner of the file or of dir removes it. */
static long sticky_ok(const struct vnode *dir, const struct vnode *vn)
{
        uint32_t uid = current_fsuid();

        if (!(dir->mode & S_ISVTX) || uid == vn->uid || uid == dir->uid ||
            current_capable(CAP_FOWNER))
                return 0;
        return -EPERM;
}

/* The file at fd as a vnode (AT_EMPTY_PATH, fchmod...). */
static long fd_vnode(int fd, struct vnode **out)
{
        struct file *f = fd_get(fd);
        struct vnode *vn = f ? file_vnode(f) : NULL;

        if (!f)
                return -EBADF;
        if (!vn)
                return -EBADF;
        *out = vnode_get(vn);
        return 0;
}

/* Resolve (dirfd, upath) honouring AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW. */
static long resolve_at(long dirfd, uint64_t upath, long atflags,
                       struct vnode **out)
{
        struct vfs_path p;
        unsigned flags = (atflags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0;
        long err;

        if (atflags & AT_EMPTY_PATH) {
                char c;
                if (copy_from_user(&c, upath, 1))
                        return -EFAULT;
                if (c == '\0') {
                        if ((int)dirfd == AT_FDCWD) {
                                *out = vnode_get(current->cwd);
                                return 0;
                        }
                        return fd_vnode((int)dirfd, out);
                }
        }
        if ((err = vfs_resolve_user_at(dirfd, upath, flags, &p)) != 0)
                return err;
        *out = p.vn;
        p.vn = NULL;
        vfs_path_put(&p);
        return 0;
}

/* ---- open ---------------------------------------------------------------- */

static long do_open(long dirfd, uint64_t upath, unsigned flags, unsigned mode)
{
        struct vfs_path p;
        struct vnode *vn = NULL;
        struct file *f;
        long err, fd;
        unsigned acc = flags & O_ACCMODE;

        if (flags & O_PATH)
                flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        if ((flags & O_TMPFILE) == O_TMPFILE) {
                if (acc == 0 || (flags & O_CREAT))
                        return -EINVAL;
                err = vfs_resolve_user_at(dirfd, upath, 0, &p);
                if (err)
                        return err;
                if (!is_dir(p.vn))
                        err = -ENOTDIR;
                else if (!tmpfs_owns(p.vn) && !p.vn->ops->tmpfile)
                        err = -EOPNOTSUPP;
                else if (p.vn->sb->rdonly)
                        err = -EROFS;
                else if (!(err = vfs_permission(p.vn, VFS_MAY_WRITE | VFS_MAY_EXEC)))
                        err = p.vn->ops->tmpfile
                              ? p.vn->ops->tmpfile(p.vn, S_IFREG |
                                                   (mode & 07777 & ~current->umask), &vn)
                              : tmpfs_make_unnamed(p.vn->sb, S_IFREG |
                                                   (mode & 07777 & ~current->umask), &vn);
                /* linkat(fd, "", AT_EMPTY_PATH) may name it, unless O_EXCL */
                if (!err) {
                        char nm[24];
                        int len = ksnprintf(nm, sizeof nm, "#%" PRIu64, vn->ino);
                        vfs_name_going(p.vn, nm, (size_t)len, vn);
                        vn->tmpfile = !(flags & O_EXCL);
                }
                vfs_path_put(&p);
                if (err)
                        return err;
                goto opened;
        }
        if (flags & O_CREAT) {
                err = vfs_resolve_user_at(dirfd, upath, VFS_PARENT, &p);
                if (err)
                        return err;
                if (!p.namelen) {       /* "/", ".": an existing directory */
                        vfs_path_put(&p);
                        return -EISDIR;
                }
                if (p.vn && (flags & O_EXCL)) {
                        vfs_path_put(&p);
                        return -EEXIST;
                }
                if (p.vn && S_ISLNK(p.vn->mode)) {
                        /* Follow a final symlink (unless O_NOFOLLOW). */
                        vfs_path_put(&p);
                        if (flags & O_NOFOLLOW)
                                return -ELOOP;
                        err = vfs_resolve_user_at(dirfd, upath, 0, &p);
                        if (err == -ENOENT)
                                return -ENOENT; /* dangling: not created */
                        if (err)
                                return err;
                        vn = p.vn;
                        p.vn = NULL;
                } else if (p.vn) {
                        vn = p.vn;
                        p.vn = NULL;
                } else {
                        if (p.trailing_slash)
                                err = -EISDIR;
                        else if (!(err = rdonly(p.dir)) &&
                                 !(err = vfs_permission(p.dir, VFS_MAY_WRITE | VFS_MAY_EXEC)))
                                err = p.dir->ops->create
                                        ? p.dir->ops->create(p.dir, p.name, p.namelen,
                                                S_IFREG | (mode & 07777 & ~current->umask),
                                                0, &vn)
                                        : -EACCES;
                        if (err) {
                                vfs_path_put(&p);
                                return err;
                        }
                        flags &= ~(unsigned)O_TRUNC;
                        vfs_path_put(&p);
                        goto opened_new;
                }
                vfs_path_put(&p);
                if (is_dir(vn)) {
                        vnode_put(vn);
                        return -EISDIR;
                }
        } else {
                unsigned rf = (flags & O_NOFOLLOW) ? VFS_NOFOLLOW : 0;
                if (flags & O_DIRECTORY)
                        rf |= VFS_DIRECTORY;
                err = vfs_resolve_user_at(dirfd, upath, rf, &p);
                if (err)
                        return err;
                vn = p.vn;
                p.vn = NULL;
                vfs_path_put(&p);
        }
        if (S_ISLNK(vn->mode) && !(flags & O_PATH)) {
                vnode_put(vn);
                return -ELOOP;
        }
        if ((flags & O_DIRECTORY) && !is_dir(vn)) {
                vnode_put(vn);
                return -ENOTDIR;
        }
        if (!(flags & O_PATH)) {
                unsigned want = acc == O_RDWR ? VFS_MAY_READ | VFS_MAY_WRITE
                              : acc == O_WRONLY ? VFS_MAY_WRITE : VFS_MAY_READ;
                if (flags & O_TRUNC)
                        want |= VFS_MAY_WRITE;
                if (is_dir(vn) && (acc != 0 || (flags & O_TRUNC)))
                        err = -EISDIR;
                else
                        err = vfs_permission(vn, want);
                /* O_NOATIME: only for the file's owner (or CAP_FOWNER) */
                if (!err && (flags & O_NOATIME))
                        err = owner_or_root(vn);
                if (!err && acc != 0 && vn->sb->rdonly &&
                    (S_ISREG(vn->mode) || is_dir(vn)))
                        err = -EROFS;
                if (err) {
                        vnode_put(vn);
                        return err;
                }
        }
opened_new:
opened:
        err = vnode_open(vn, flags, &f);
        if (!err && (flags & O_TRUNC) && S_ISREG(vn->mode) && acc != 0 &&
            vn->obj) {
                err = vnode_truncate(vn, 0);
                if (err)
                        file_put(f);
        }
        vnode_put(vn);
        if (err)
                return err;
        fd = fd_install(f);
        if (fd < 0)
                file_put(f);
        return fd;
}

SYSCALL_DECL(openat)
{
        return do_open(a0, (uint64_t)a1, (unsigned)a2, (unsigned)a3);
}

SYSCALL_DECL(open)
{
        return do_open(AT_FDCWD, (uint64_t)a0, (unsigned)a1, (unsigned)a2);
}

SYSCALL_DECL(creat)
{
        return do_open(AT_FDCWD, (uint64_t)a0, O_CREAT | O_WRONLY | O_TRUNC,
                       (unsigned)a1);
}

struct open_how { uint64_t flags, mode, resolve; };

SYSCALL_DECL(openat2)
{
        struct open_how how = { 0 };
        uint64_t size = (uint64_t)a3;

        if (size < 24)
                return -EINVAL;
        if (size > PAGE_SIZE)
                return -E2BIG;
        if (copy_from_user(&how, (uint64_t)a2, 24))
                return -EFAULT;
        /* Bytes past what we know must be zero (Linux: E2BIG). */
        for (uint64_t i = 24; i < size; i++) {
                uint8_t c;
                if (copy_from_user(&c, (uint64_t)a2 + i, 1))
                        return -EFAULT;
                if (c)
                        return -E2BIG;
        }
        if (how.flags >> 32 || (how.mode & ~07777ULL))
                return -EINVAL;
        if (how.mode && !(how.flags & O_CREAT) &&
            (how.flags & O_TMPFILE) != O_TMPFILE)
                return -EINVAL;
        if (how.resolve)
                return -EINVAL;         /* RESOLVE_*: not supported yet */
        return do_open(a0, (uint64_t)a1, (unsigned)how.flags, (unsigned)how.mode);
}

/* ---- names ----------------------------------------------------------------- */

/* The parent of a name to create: -EEXIST if the name exists. */
static long parent_for_create(long dirfd, uint64_t upath, struct vfs_path *p,
                              bool dir_ok_slash)
{
        long err = vfs_resolve_user_at(dirfd, upath, VFS_PARENT, p);

        if (err)
                return err;
        if (p->vn || !p->namelen)
                err = -EEXIST;
        else if (p->trailing_slash && !dir_ok_slash)
                err = -ENOENT;
        else if (!(err = rdonly(p->dir)))
                err = vfs_permission(p->dir, VFS_MAY_WRITE | VFS_MAY_EXEC);
        if (err)
                vfs_path_put(p);
        return err;
}

static long do_mkdir(long dirfd, uint64_t upath, unsigned mode)
{
        struct vfs_path p;
        struct vnode *vn;
        long err = parent_for_create(dirfd, upath, &p, true);

        if (err)
                return err;
        err = p.dir->ops->mkdir
                ? p.dir->ops->mkdir(p.dir, p.name, p.namelen,
                                    mode & 07777 & ~current->umask, &vn)
                : -EPERM;
        if (!err)
                vnode_put(vn);
        vfs_path_put(&p);
        return err;
}

SYSCALL_DECL(mkdirat) { return do_mkdir(a0, (uint64_t)a1, (unsigned)a2); }
SYSCALL_DECL(mkdir) { return do_mkdir(AT_FDCWD, (uint64_t)a0, (unsigned)a1); }

static long do_mknod(long dirfd, uint64_t upath, unsigned mode, uint64_t dev)
{
        struct vfs_path p;
        struct vnode *vn;
        unsigned type = mode & S_IFMT;
        long err;

        if (type == 0)
                type = S_IFREG;
        if (type != S_IFREG && type != S_IFIFO && type != S_IFCHR &&
            type != S_IFBLK && type != S_IFSOCK)
                return -EINVAL;
        if ((type == S_IFCHR || type == S_IFBLK) && !current_capable(CAP_MKNOD))
                return -EPERM;
        if ((err = parent_for_create(dirfd, upath, &p, false)) != 0)
                return err;
        err = p.dir->ops->create
                ? p.dir->ops->create(p.dir, p.name, p.namelen,
                                     type | (mode & 07777 & ~current->umask),
                                     (type == S_IFCHR || type == S_IFBLK) ?
                                     (uint64_t)(uint32_t)dev : 0, &vn)
                : -EPERM;
        if (!err)
                vnode_put(vn);
        vfs_path_put(&p);
        return err;
}

SYSCALL_DECL(mknodat) { return do_mknod(a0, (uint64_t)a1, (unsigned)a2, (uint64_t)a3); }
SYSCALL_DECL(mknod) { return do_mknod(AT_FDCWD, (uint64_t)a0, (unsigned)a1, (uint64_t)a2); }

static long do_unlink(long dirfd, uint64_t upath, bool dir)
{
        struct vfs_path p;
        long err = vfs_resolve_user_at(dirfd, upath, VFS_PARENT, &p);

        if (err)
                return err;
        if (!p.namelen) {
                /* "/", "." or "..": rmdir says EBUSY/EINVAL/ENOTEMPTY */
                err = dir ? (p.vn == current->root || p.vn == p.vn->sb->root
                             ? -EBUSY : -EINVAL)
                          : -EISDIR;
        } else if (!p.vn) {
                err = -ENOENT;
        } else if (dir && !is_dir(p.vn)) {
                err = -ENOTDIR;
        } else if (!dir && is_dir(p.vn)) {
                err = -EISDIR;
        } else if (!dir && p.trailing_slash) {
                err = -ENOTDIR;
        } else if (dir && (p.vn->mounted || p.vn == p.vn->sb->root)) {
                err = -EBUSY;
        } else if (!(err = rdonly(p.dir)) &&
                   !(err = vfs_permission(p.dir, VFS_MAY_WRITE | VFS_MAY_EXEC)) &&
                   !(err = sticky_ok(p.dir, p.vn))) {
                if (dir)
                        err = p.dir->ops->rmdir ? p.dir->ops->rmdir(p.dir, p.name, p.namelen)
                                                : -EPERM;
                else {
                        vfs_name_going(p.dir, p.name, p.namelen, p.vn);
                        err = p.dir->ops->unlink ? p.dir->ops->unlink(p.dir, p.name, p.namelen)
                                                 : -EPERM;
                        if (!err)
                                vfs_name_object(p.vn, true);
                }
        }
        vfs_path_put(&p);
        return err;
}

SYSCALL_DECL(unlinkat)
{
        if (a2 & ~(long)AT_REMOVEDIR)
                return -EINVAL;
        return do_unlink(a0, (uint64_t)a1, a2 & AT_REMOVEDIR);
}
SYSCALL_DECL(unlink) { return do_unlink(AT_FDCWD, (uint64_t)a0, false); }
SYSCALL_DECL(rmdir) { return do_unlink(AT_FDCWD, (uint64_t)a0, true); }

/* Is a an ancestor of (or equal to) b? (rename of a dir into itself) */
static bool is_ancestor(struct vnode *a, struct vnode *b)
{
        struct vnode *cur = vnode_get(b);
        bool found = false;

        for (int i = 0; i < 4096; i++) {
                if (cur == a) {
                        found = true;
                        break;
                }
                struct vnode *up;
                if (cur == cur->sb->root || !cur->ops->parent ||
                    cur->ops->parent(cur, &up) != 0)
                        break;
                vnode_put(cur);
                cur = up;
        }
        vnode_put(cur);
        return found;
}

static long do_rename(long odfd, uint64_t opath, long ndfd, uint64_t npath,
                      unsigned flags)
{
        struct vfs_path o, n;
        long err;

        if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
                return -EINVAL;
        if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
                return -EINVAL;
        if (flags & RENAME_WHITEOUT)
                return -EINVAL;         /* no overlay file systems here */
        if ((err = vfs_resolve_user_at(odfd, opath, VFS_PARENT, &o)) != 0)
                return err;
        if ((err = vfs_resolve_user_at(ndfd, npath, VFS_PARENT, &n)) != 0) {
                vfs_path_put(&o);
                return err;
        }
        if (!o.namelen || !n.namelen)
                err = -EBUSY;
        else if (!o.vn)
                err = -ENOENT;
        else if (o.dir->sb != n.dir->sb)
                err = -EXDEV;
        else if ((flags & RENAME_EXCHANGE) && !n.vn)
                err = -ENOENT;
        else if ((flags & RENAME_NOREPLACE) && n.vn)
                err = -EEXIST;
        else if ((o.trailing_slash || n.trailing_slash) && !is_dir(o.vn))
                err = -ENOTDIR;
        else if (o.vn == n.vn)
                err = 0;                /* same file: nothing to do */
        else if (n.vn && !(flags & RENAME_EXCHANGE) && is_dir(o.vn) && !is_dir(n.vn))
                err = -ENOTDIR;
        else if (n.vn && !(flags & RENAME_EXCHANGE) && !is_dir(o.vn) && is_dir(n.vn))
                err = -EISDIR;
        else if (is_dir(o.vn) && is_ancestor(o.vn, n.dir))
                err = -EINVAL;
        else if ((flags & RENAME_EXCHANGE) && is_dir(n.vn) && is_ancestor(n.vn, o.dir))
                err = -EINVAL;
        else if (o.vn->mounted || (n.vn && n.vn->mounted))
                err = -EBUSY;
        else if (!(err = rdonly(o.dir)) &&
                 !(err = vfs_permission(o.dir, VFS_MAY_WRITE | VFS_MAY_EXEC)) &&
                 !(err = vfs_permission(n.dir, VFS_MAY_WRITE | VFS_MAY_EXEC)) &&
                 !(err = sticky_ok(o.dir, o.vn)) &&
                 !(err = n.vn ? sticky_ok(n.dir, n.vn) : 0)) {
                bool over = n.vn && !(flags & RENAME_EXCHANGE);
                if (over)
                        vfs_name_going(n.dir, n.name, n.namelen, n.vn);
                err = o.dir->ops->rename
                        ? o.dir->ops->rename(o.dir, o.name, o.namelen, n.dir,
                                             n.name, n.namelen,
                                             flags & RENAME_EXCHANGE)
                        : -EPERM;
                if (!err) {             /* maps shows the new names */
                        vfs_name_object(o.vn, true);
                        if (n.vn)
                                vfs_name_object(n.vn, true);
                }
        }
        vfs_path_put(&o);
        vfs_path_put(&n);
        return err;
}

SYSCALL_DECL(renameat2)
{
        return do_rename(a0, (uint64_t)a1, a2, (uint64_t)a3, (unsigned)a4);
}
SYSCALL_DECL(renameat) { return do_rename(a0, (uint64_t)a1, a2, (uint64_t)a3, 0); }
SYSCALL_DECL(rename) { return do_rename(AT_FDCWD, (uint64_t)a0, AT_FDCWD, (uint64_t)a1, 0); }

static long do_link(long odfd, uint64_t opath, long ndfd, uint64_t npath,
                    long flags)
{
        struct vnode *target;
        struct vfs_path n;
        long err;

        if (flags & ~(long)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
                return -EINVAL;
        err = resolve_at(odfd, opath, (flags & AT_EMPTY_PATH) |
                         ((flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW),
                         &target);
        if (err)
                return err;
        if (is_dir(target)) {
                vnode_put(target);
                return -EPERM;
        }
        if ((err = parent_for_create(ndfd, npath, &n, false)) != 0) {
                vnode_put(target);
                return err;
        }
        if (n.dir->sb != target->sb)
                err = -EXDEV;
        else if (target->nlink == 0 && !target->tmpfile)
                err = -ENOENT;          /* unlinked: no new name */
        else
                err = n.dir->ops->link ? n.dir->ops->link(n.dir, n.name, n.namelen, target)
                                       : -EPERM;
        if (!err)
                target->tmpfile = false;
        vfs_path_put(&n);
        vnode_put(target);
        return err;
}

SYSCALL_DECL(linkat) { return do_link(a0, (uint64_t)a1, a2, (uint64_t)a3, a4); }
SYSCALL_DECL(link) { return do_link(AT_FDCWD, (uint64_t)a0, AT_FDCWD, (uint64_t)a1, 0); }

static long do_symlink(uint64_t utarget, long dirfd, uint64_t upath)
{
        char *target = kmalloc(VFS_PATH_MAX);
        struct vfs_path p;
        struct vnode *vn;
        long err;

        if (!target)
                return -ENOMEM;
        err = strncpy_from_user(target, utarget, VFS_PATH_MAX);
        if (err == 0)
                err = -ENOENT;
        if (err > 0 && (err = parent_for_create(dirfd, upath, &p, false)) == 0) {
                err = p.dir->ops->symlink
                        ? p.dir->ops->symlink(p.dir, p.name, p.namelen, target, &vn)
                        : -EPERM;
                if (!err)
                        vnode_put(vn);
                vfs_path_put(&p);
        }
        kfree(target);
        return err > 0 ? 0 : err;
}

SYSCALL_DECL(symlinkat) { return do_symlink((uint64_t)a0, a1, (uint64_t)a2); }
SYSCALL_DECL(symlink) { return do_symlink((uint64_t)a0, AT_FDCWD, (uint64_t)a1); }

static long do_readlink(long dirfd, uint64_t upath, uint64_t ubuf, long size)
{
        struct vnode *vn;
        char *buf;
        long err;

        if ((int)size <= 0)
                return -EINVAL;
        if ((err = resolve_at(dirfd, upath, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &vn)) != 0)
                return err;
        if (!S_ISLNK(vn->mode) || !vn->ops->readlink) {
                vnode_put(vn);
                return -EINVAL;
        }
        if (!(buf = kmalloc(VFS_PATH_MAX))) {
                vnode_put(vn);
                return -ENOMEM;
        }
        err = vn->ops->readlink(vn, buf, MIN((size_t)(int)size, VFS_PATH_MAX));
        if (err > 0 && copy_to_user(ubuf, buf, (size_t)err))
                err = -EFAULT;
        kfree(buf);
        vnode_put(vn);
        return err;
}

SYSCALL_DECL(readlinkat) { return do_readlink(a0, (uint64_t)a1, (uint64_t)a2, a3); }
SYSCALL_DECL(readlink) { return do_readlink(AT_FDCWD, (uint64_t)a0, (uint64_t)a1, a2); }

/* ---- extended attributes ---------------------------------------------------- */

/*
 * No file system here stores extended attributes, and each call answers
 * as Linux does for a file that has none: get and remove ENODATA, list an
 * empty list (0), set EOPNOTSUPP (a file system that cannot keep them).
 * As Linux: the file is found first, then the name is copied (empty or
 * over XATTR_NAME_MAX: ERANGE) and must be in a namespace Linux knows
 * (else EOPNOTSUPP). Debian's ls -l asks every file for its ACL and
 * security label this way; ENOSYS would make it print an error.
 */
#define XATTR_NAME_MAX  255

static long xattr_name(uint64_t uname)
{
        static const char *const prefixes[] = { "security.", "system.",
                                                "trusted.", "user." };
        char name[XATTR_NAME_MAX + 1];
        long len = strncpy_from_user(name, uname, sizeof name);

        if (len == -EFAULT)
                return -EFAULT;
        if (len <= 0)                   /* empty, or no NUL in 256 bytes */
                return -ERANGE;
        for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
                if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
                        return 0;
        return -EOPNOTSUPP;
}

/* The file a path-based call names (0 and *out), or its errno. */
static long xattr_path(uint64_t upath, bool follow, struct vnode **out)
{
        return resolve_at(AT_FDCWD, upath, follow ? 0 : AT_SYMLINK_NOFOLLOW, out);
}

static long xattr_fd(long fd, struct vnode **out)
{
        struct file *f = fd_get((int)fd);

        if (!f || (f->flags & 010000000))       /* O_PATH: EBADF too */
                return -EBADF;
        if (!file_vnode(f))
                return -EOPNOTSUPP;             /* a pipe, a socket */
        *out = vnode_get(file_vnode(f));
        return 0;
}

enum xattr_op { XATTR_GET, XATTR_SET, XATTR_REMOVE };

/* get, set and remove, once the file is found (or err says why not). */
static long xattr_named(long err, struct vnode *vn, uint64_t uname,
                        enum xattr_op op)
{
        if (err)
                return err;
        vnode_put(vn);
        if ((err = xattr_name(uname)) != 0)
                return err;
        return op == XATTR_SET ? -EOPNOTSUPP : -ENODATA;
}

static long xattr_list(long err, struct vnode *vn)
{
        if (err)
                return err;
        vnode_put(vn);
        return 0;                       /* no attribute: an empty list */
}

SYSCALL_DECL(getxattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_path((uint64_t)a0, true, &vn), vn,
                           (uint64_t)a1, XATTR_GET);
}
SYSCALL_DECL(lgetxattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_path((uint64_t)a0, false, &vn), vn,
                           (uint64_t)a1, XATTR_GET);
}
SYSCALL_DECL(fgetxattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_fd(a0, &vn), vn, (uint64_t)a1, XATTR_GET);
}
SYSCALL_DECL(setxattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_path((uint64_t)a0, true, &vn), vn,
                           (uint64_t)a1, XATTR_SET);
}
SYSCALL_DECL(lsetxattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_path((uint64_t)a0, false, &vn), vn,
                           (uint64_t)a1, XATTR_SET);
}
SYSCALL_DECL(fsetxattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_fd(a0, &vn), vn, (uint64_t)a1, XATTR_SET);
}
SYSCALL_DECL(removexattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_path((uint64_t)a0, true, &vn), vn,
                           (uint64_t)a1, XATTR_REMOVE);
}
SYSCALL_DECL(lremovexattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_path((uint64_t)a0, false, &vn), vn,
                           (uint64_t)a1, XATTR_REMOVE);
}
SYSCALL_DECL(fremovexattr)
{
        struct vnode *vn = NULL;
        return xattr_named(xattr_fd(a0, &vn), vn, (uint64_t)a1, XATTR_REMOVE);
}
SYSCALL_DECL(listxattr)
{
        struct vnode *vn = NULL;
        return xattr_list(xattr_path((uint64_t)a0, true, &vn), vn);
}
SYSCALL_DECL(llistxattr)
{
        struct vnode *vn = NULL;
        return xattr_list(xattr_path((uint64_t)a0, false, &vn), vn);
}
SYSCALL_DECL(flistxattr)
{
        struct vnode *vn = NULL;
        return xattr_list(xattr_fd(a0, &vn), vn);
}

/* ---- attributes ------------------------------------------------------------ */

static long stat_to_user(struct vnode *vn, uint64_t ubuf)
{
        struct linux_stat st;

        vnode_stat(vn, &st);
        return copy_to_user(ubuf, &st, sizeof st) ? -EFAULT : 0;
}

SYSCALL_DECL(newfstatat)
{
        struct vnode *vn;
        long err;

        if (a3 & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
                return -EINVAL;
        /* fstat through newfstatat(fd, "", AT_EMPTY_PATH): any file. */
        if ((a3 & AT_EMPTY_PATH) && (int)a0 != AT_FDCWD) {
                char c;
                if (copy_from_user(&c, (uint64_t)a1, 1))
                        return -EFAULT;
                if (c == '\0')
                        return sys_fstat(a0, a2, 0, 0, 0, 0);
        }
        if ((err = resolve_at(a0, (uint64_t)a1, a3, &vn)) != 0)
                return err;
        err = stat_to_user(vn, (uint64_t)a2);
        vnode_put(vn);
        return err;
}

SYSCALL_DECL(stat) { return sys_newfstatat(AT_FDCWD, a0, a1, 0, 0, 0); }
SYSCALL_DECL(lstat) { return sys_newfstatat(AT_FDCWD, a0, a1, AT_SYMLINK_NOFOLLOW, 0, 0); }

SYSCALL_DECL(fstat)
{
        struct file *f = fd_get((int)a0);
        struct linux_stat st;

        if (!f)
                return -EBADF;
        f->ops->stat(f, &st);
        return copy_to_user((uint64_t)a1, &st, sizeof st) ? -EFAULT : 0;
}

struct statx_ts { int64_t sec; uint32_t nsec; int32_t pad; };
struct statx {
        uint32_t mask, blksize;
        uint64_t attributes;
        uint32_t nlink, uid, gid;
        uint16_t mode, pad1;
        uint64_t ino, size, blocks, attributes_mask;
        struct statx_ts atime, btime, ctime, mtime;
        uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
        uint64_t spare[14];
};
_Static_assert(sizeof(struct statx) == 256, "struct statx");

#define STATX_BASIC_STATS 0x7ff
#define STATX_BTIME       0x800
#define STATX__RESERVED   0x80000000U

SYSCALL_DECL(statx)
{
        struct linux_stat st;
        struct statx sx;
        struct vnode *vn;
        struct file *f = NULL;
        long err;

        if (a2 & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT |
                         AT_STATX_SYNC_TYPE))
                return -EINVAL;
        if ((a2 & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
                return -EINVAL;
        if ((unsigned)a3 & STATX__RESERVED)
                return -EINVAL;
        if ((a2 & AT_EMPTY_PATH) && (int)a0 != AT_FDCWD) {
                char c;
                if (copy_from_user(&c, (uint64_t)a1, 1))
                        return -EFAULT;
                if (c == '\0' && !(f = fd_get((int)a0)))
                        return -EBADF;
        }
        if (f) {
                f->ops->stat(f, &st);
                vn = file_vnode(f);
                vn = vn ? vnode_get(vn) : NULL;
        } else {
                if ((err = resolve_at(a0, (uint64_t)a1, a2, &vn)) != 0)
                        return err;
                vnode_stat(vn, &st);
        }
        memset(&sx, 0, sizeof sx);
        sx.mask = STATX_BASIC_STATS | (vn ? STATX_BTIME : 0);
        sx.blksize = (uint32_t)st.st_blksize;
        sx.nlink = (uint32_t)st.st_nlink;
        sx.uid = st.st_uid;
        sx.gid = st.st_gid;
        sx.mode = (uint16_t)st.st_mode;
        sx.ino = st.st_ino;
        sx.size = (uint64_t)st.st_size;
        sx.blocks = (uint64_t)st.st_blocks;
        sx.atime = (struct statx_ts){ st.st_atime, (uint32_t)st.st_atime_nsec, 0 };
        sx.mtime = (struct statx_ts){ st.st_mtime, (uint32_t)st.st_mtime_nsec, 0 };
        sx.ctime = (struct statx_ts){ st.st_ctime, (uint32_t)st.st_ctime_nsec, 0 };
        if (vn)
                sx.btime = (struct statx_ts){ vn->btime.sec, (uint32_t)vn->btime.nsec, 0 };
        sx.rdev_major = (uint32_t)((st.st_rdev >> 8) & 0xfff);
        sx.rdev_minor = (uint32_t)((st.st_rdev & 0xff) | ((st.st_rdev >> 12) & ~0xffULL));
        sx.dev_major = (uint32_t)((st.st_dev >> 8) & 0xfff);
        sx.dev_minor = (uint32_t)((st.st_dev & 0xff) | ((st.st_dev >> 12) & ~0xffULL));
        vnode_put(vn);
        return copy_to_user((uint64_t)a4, &sx, sizeof sx) ? -EFAULT : 0;
}

#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4

static long do_access(long dirfd, uint64_t upath, long mode, long flags)
{
        struct vnode *vn;
        long err;

        if (mode & ~7L)
                return -EINVAL;
        if (flags & ~(long)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
                return -EINVAL;
        unsigned want = ((mode & R_OK) ? VFS_MAY_READ : 0) |
                        ((mode & W_OK) ? VFS_MAY_WRITE : 0) |
                        ((mode & X_OK) ? VFS_MAY_EXEC : 0);
        /* access() asks with the real ids (AT_EACCESS: the effective
         * ones), and with root's capabilities only if the real uid is 0,
         * as Linux's access_override_creds; the path walk too. */
        struct cred saved = current->cred;
        if (!(flags & AT_EACCESS)) {
                current->cred.fsuid = current->cred.uid;
                current->cred.fsgid = current->cred.gid;
                current->cred.cap_effective = current->cred.uid == 0
                        ? current->cred.cap_permitted : 0;
        }
        err = resolve_at(dirfd, upath, flags & ~(long)AT_EACCESS, &vn);
        if (err) {
                current->cred = saved;
                return err;
        }
        err = vfs_permission(vn, want);
        current->cred = saved;
        if (!err && (mode & W_OK) && vn->sb->rdonly &&
            (S_ISREG(vn->mode) || is_dir(vn) || S_ISLNK(vn->mode)))
                err = -EROFS;
        if (!err && (mode & W_OK) && vn->running)
                err = -ETXTBSY;
        vnode_put(vn);
        return err;
}

SYSCALL_DECL(faccessat2) { return do_access(a0, (uint64_t)a1, a2, a3); }
SYSCALL_DECL(faccessat) { return do_access(a0, (uint64_t)a1, a2, 0); }
SYSCALL_DECL(access) { return do_access(AT_FDCWD, (uint64_t)a0, a1, 0); }

static long chmod_vn(struct vnode *vn, unsigned mode)
{
        long err = vn->sb->fixed_attrs ? -EPERM : owner_or_root(vn);

        if (err)
                return err;
        if (vn->sb->rdonly)
                return -EROFS;
        mode &= 07777;
        /* A non-member of the group loses set-group-ID (as Linux). */
        if (!current_capable(CAP_FSETID) && !current_in_group(vn->gid))
                mode &= ~(unsigned)S_ISGID;
        vn->mode = (vn->mode & S_IFMT) | mode;
        vn->ctime = vfs_now();
        return 0;
}

SYSCALL_DECL(fchmodat)
{
        struct vnode *vn;
        long err;

        if ((err = resolve_at(a0, (uint64_t)a1, 0, &vn)) != 0)
                return err;
        err = chmod_vn(vn, (unsigned)a2);
        vnode_put(vn);
        return err;
}

SYSCALL_DECL(chmod) { return sys_fchmodat(AT_FDCWD, a0, a1, 0, 0, 0); }

/* fchmod and fchown take no O_PATH descriptor (Linux: EBADF). */
static bool fd_is_path(int fd)
{
        struct file *f = fd_get(fd);
        return f && (f->flags & O_PATH);
}

SYSCALL_DECL(fchmod)
{
        struct vnode *vn;
        long err;

        if (fd_is_path((int)a0))
                return -EBADF;
        if ((err = fd_vnode((int)a0, &vn)) != 0)
                return err;
        err = chmod_vn(vn, (unsigned)a1);
        vnode_put(vn);
        return err;
}

static long chown_vn(struct vnode *vn, uint32_t uid, uint32_t gid)
{
        uint32_t me = current_fsuid();

        if (vn->sb->fixed_attrs)
                return -EPERM;
        if (vn->sb->rdonly)
                return -EROFS;
        if (!current_capable(CAP_CHOWN)) {
                if (uid != (uint32_t)-1 && uid != vn->uid)
                        return -EPERM;
                if (gid != (uint32_t)-1 && (me != vn->uid ||
                    (gid != current_fsgid() && !current_in_group(gid))))
                        return -EPERM;
        }
        if (uid != (uint32_t)-1)
                vn->uid = uid;
        if (gid != (uint32_t)-1)
                vn->gid = gid;
        if (!is_dir(vn) && (uid != (uint32_t)-1 || gid != (uint32_t)-1))
                vn->mode &= ~(uint32_t)(S_ISUID | ((vn->mode & 010) ? S_ISGID : 0));
        vn->ctime = vfs_now();
        return 0;
}

SYSCALL_DECL(fchownat)
{
        struct vnode *vn;
        long err;

        if (a4 & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
                return -EINVAL;
        if ((err = resolve_at(a0, (uint64_t)a1, a4, &vn)) != 0)
                return err;
        err = chown_vn(vn, (uint32_t)a2, (uint32_t)a3);
        vnode_put(vn);
        return err;
}

SYSCALL_DECL(chown) { return sys_fchownat(AT_FDCWD, a0, a1, a2, 0, 0); }
SYSCALL_DECL(lchown) { return sys_fchownat(AT_FDCWD, a0, a1, a2, AT_SYMLINK_NOFOLLOW, 0); }

SYSCALL_DECL(fchown)
{
        struct vnode *vn;
        long err;

        if (fd_is_path((int)a0))
                return -EBADF;
        if ((err = fd_vnode((int)a0, &vn)) != 0)
                return err;
        err = chown_vn(vn, (uint32_t)a1, (uint32_t)a2);
        vnode_put(vn);
        return err;
}

#define UTIME_NOW  ((1L << 30) - 1)
#define UTIME_OMIT ((1L << 30) - 2)

SYSCALL_DECL(utimensat)
{
        struct vfs_timespec ts[2], now = vfs_now();
        struct vnode *vn;
        bool explicit_time = false;
        long err;

        if (a3 & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
                return -EINVAL;
        if (a2) {
                if (copy_from_user(ts, (uint64_t)a2, sizeof ts))
                        return -EFAULT;
                for (int i = 0; i < 2; i++) {
                        if (ts[i].nsec == UTIME_NOW)
                                ts[i] = now;
                        else if (ts[i].nsec == UTIME_OMIT)
                                continue;
                        else if (ts[i].nsec < 0 || ts[i].nsec > 999999999)
                                return -EINVAL;
                        else
                                explicit_time = true;
                }
        } else {
                ts[0] = ts[1] = now;
        }
        if (a1 == 0)                    /* futimens: the file at dirfd */
                err = fd_vnode((int)a0, &vn);
        else
                err = resolve_at(a0, (uint64_t)a1, a3, &vn);
        if (err)
                return err;
        if (explicit_time)
                err = owner_or_root(vn);
        else if (owner_or_root(vn) != 0)
                err = vfs_permission(vn, VFS_MAY_WRITE);
        if (!err && vn->sb->rdonly)
                err = -EROFS;
        if (!err) {
                if (!a2 || ts[0].nsec != UTIME_OMIT)
                        vn->atime = ts[0];
                if (!a2 || ts[1].nsec != UTIME_OMIT)
                        vn->mtime = ts[1];
                vn->ctime = now;
        }
        vnode_put(vn);
        return err;
}

/* ---- sizes ------------------------------------------------------------------- */

SYSCALL_DECL(truncate)
{
        struct vnode *vn;
        long err;

        if ((err = resolve_at(AT_FDCWD, (uint64_t)a0, 0, &vn)) != 0)
                return err;
        if (is_dir(vn))
                err = -EISDIR;
        else if (!S_ISREG(vn->mode) || !vn->obj)
                err = -EINVAL;
        else if (a1 < 0)
                err = -EINVAL;
        else if (!(err = vfs_permission(vn, VFS_MAY_WRITE)))
                err = vn->running ? -ETXTBSY : vnode_truncate(vn, (uint64_t)a1);
        vnode_put(vn);
        return err;
}

SYSCALL_DECL(ftruncate)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn = f ? file_vnode(f) : NULL;

        if (!f)
                return -EBADF;
        if (a1 < 0)
                return -EINVAL;
        if (!vn || !S_ISREG(vn->mode) || !vn->obj || (f->flags & O_PATH))
                return (f->flags & O_PATH) ? -EBADF : -EINVAL;
        if ((f->flags & O_ACCMODE) == 0)
                return -EINVAL;         /* Linux: EINVAL when not writable */
        if (f->flags & O_APPEND)
                return -EPERM;
        return vnode_truncate(vn, (uint64_t)a1);
}

#define FALLOC_FL_KEEP_SIZE     0x01
#define FALLOC_FL_PUNCH_HOLE    0x02
#define SEAL_GROW               0x4     /* F_SEAL_GROW */
#define SEAL_WRITE              0x8     /* F_SEAL_WRITE */

/*
 * fallocate on a file of huge pages (hugetlbfs, a MFD_HUGETLB memfd), as
 * Linux 6.1's hugetlbfs_fallocate. Mode 0 and KEEP_SIZE: the range widens
 * to whole huge pages and each one the file lacks comes from the pool,
 * zeroed (a reservation of the file's used while it holds any); an empty
 * pool is ENOSPC, the pages taken before it stay and the size does not
 * change; otherwise the size becomes off + len, not rounded (mode 0).
 * PUNCH_HOLE (EPERM under F_SEAL_WRITE, whatever the range): the whole
 * huge pages inside the range go back to the pool, mapped or not, inside
 * the size or past it; the bytes of the range in a page that is partly
 * inside are zeroed where the file has that page. The file's reservations
 * stay (Linux gives back those of the hole's pages never taken; Mercator
 * counts a file's reservations, not which pages they are for).
 */
static void zero_hugetlb_bytes(struct vm_object *obj, uint64_t from,
                               uint64_t to)
{
        while (from < to) {
                uint64_t n = MIN(PAGE_SIZE - (from & PAGE_MASK), to - from);
                struct vm_page *pg = vm_object_lookup(obj, from >> PAGE_SHIFT);

                if (pg) {
                        uint8_t *p = pmap_quick_enter_page(pmm_page_to_pa(pg));
                        memset(p + (from & PAGE_MASK), 0, n);
                        pmap_quick_remove_page(p);
                }
                from += n;
        }
}

static long fallocate_hugetlb(struct vnode *vn, int mode, uint64_t off,
                              uint64_t end)
{
        struct vm_object *obj = vn->obj;
        uint64_t huge = pmap_huge_size(), first, last;
        struct vm_page *head;
        vm_status_t st;

        if (mode & FALLOC_FL_PUNCH_HOLE) {
                uint64_t start = (off + huge - 1) & ~(huge - 1);
                uint64_t stop = end & ~(huge - 1);

                if (vn->seals & SEAL_WRITE)
                        return -EPERM;
                if (off < start)
                        zero_hugetlb_bytes(obj, off, MIN(end, start));
                if (stop > start) {
                        vm_spaces_unmap_object(obj, start >> PAGE_SHIFT,
                                               stop >> PAGE_SHIFT, false);
                        (void)vm_object_free_range(obj, start >> PAGE_SHIFT,
                                                   stop >> PAGE_SHIFT);
                }
                if (end > stop && end > start)
                        zero_hugetlb_bytes(obj, stop, end);
                return 0;
        }
        if (end > vn->size && (vn->seals & SEAL_GROW))
                return -EPERM;
        first = (off & ~(huge - 1)) >> PAGE_SHIFT;
        last = ((end + huge - 1) & ~(huge - 1)) >> PAGE_SHIFT;
        if (last > obj->size)
                return -EFBIG;
        for (uint64_t i = first; i < last; i += hugetlb_page_pages()) {
                if (signal_pending())
                        return -EINTR;
                if ((st = hugetlb_object_page(obj, i, &head)) != VM_OK)
                        return st == VM_ENOSPC ? -ENOSPC : -ENOMEM;
        }
        if (!(mode & FALLOC_FL_KEEP_SIZE) && end > vn->size)
                vn->size = end;
        vn->ctime = vfs_now();
        return 0;
}

SYSCALL_DECL(fallocate)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn = f ? file_vnode(f) : NULL;
        int mode = (int)a1;
        int64_t off = a2, len = a3;
        long err = 0;

        if (!f || (f->flags & O_ACCMODE) == 0)
                return -EBADF;
        if (off < 0 || len <= 0)
                return -EINVAL;
        if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
                return -EOPNOTSUPP;
        if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
                return -EOPNOTSUPP;
        if (!vn)
                return -ENODEV;
        if (is_dir(vn))
                return -EISDIR;
        if (!S_ISREG(vn->mode) || !vn->obj)
                return -ENODEV;
        bool disk = vn->obj->pager_ops != NULL;
        if (disk && !vn->ops->fallocate)        /* ext2: as Linux's */
                return -EOPNOTSUPP;
        if (off > INT64_MAX - len)
                return -EFBIG;
        if ((uint64_t)(off + len) > VM_FILE_CACHE_MAX_BYTES)
                return -EFBIG;
        uint64_t end = (uint64_t)(off + len);
        if (disk && !(mode & FALLOC_FL_PUNCH_HOLE))
                return vn->ops->fallocate(vn, mode, (uint64_t)off, end);
        if (vn->obj->hugetlb)
                return fallocate_hugetlb(vn, mode, (uint64_t)off, end);
        if (mode & FALLOC_FL_PUNCH_HOLE) {
                uint64_t first = page_round((uint64_t)off) >> PAGE_SHIFT;
                uint64_t last = MIN(end, vn->size) >> PAGE_SHIFT;
                if (vn->seals & SEAL_WRITE)
                        return -EPERM;
                /* Whole pages inside go; partial ones are zeroed. */
                if (last > first) {
                        vm_spaces_unmap_object(vn->obj, first, last, false);
                        if (vm_object_punch_hole(vn->obj, first, last) != VM_OK)
                                return -ENOMEM;
                }
                uint64_t zs = (uint64_t)off, ze = MIN(end, first << PAGE_SHIFT);
                static const uint8_t zeroes[512];
                for (uint64_t p = zs; p < ze && p < vn->size; p += 512) {
                        size_t n = (size_t)MIN(MIN(ze, vn->size) - p, 512);
                        vnode_write(vn, p, (uint64_t)zeroes, n, false);
                }
                zs = MAX((uint64_t)off, last << PAGE_SHIFT);
                for (uint64_t p = zs; p < end && p < vn->size; p += 512) {
                        size_t n = (size_t)MIN(MIN(end, vn->size) - p, 512);
                        vnode_write(vn, p, (uint64_t)zeroes, n, false);
                }
                if (disk)               /* the blocks inside go */
                        return vn->ops->fallocate(vn, mode, (uint64_t)off, end);
                return 0;
        }
        if (end > vn->size && (vn->seals & SEAL_GROW))
                return -EPERM;
        /* Make every page of the range resident (Linux reserves them). */
        uint64_t old = vn->size, first = (uint64_t)off >> PAGE_SHIFT;
        uint64_t last = page_round(end) >> PAGE_SHIFT;
        uint64_t need = 0;
        if (end > vn->obj->bytes && vm_object_resize(vn->obj, end) != VM_OK)
                return -ENOMEM;
        for (uint64_t i = first; i < last; i++)
                need += !vm_object_lookup(vn->obj, i) &&
                        !vm_object_swap_entry(vn->obj, i);      /* charged */
        if (!tmpfs_room(vn, need))
                err = -ENOSPC;
        /* More new pages than memory can hold now: ENOMEM, nothing
         * allocated. Linux's shmem_fallocate fails the same way once
         * reclaim starts taking its own new pages, and then gives back
         * what it took; without this a memfd (no size limit) takes all
         * of memory and swap in one call (issue 19's trinity soak). */
        else if (need > vm_available_pages())
                err = -ENOMEM;
        for (uint64_t i = first; !err && i < last; i++) {
                struct vm_page *pg;
                vm_status_t st = vm_object_get_page(vn->obj, i, &pg);
                if (st != VM_OK)
                        err = st == VM_ENOSPC ? -ENOSPC : -ENOMEM;
        }
        if (err || (mode & FALLOC_FL_KEEP_SIZE)) {
                if (vn->obj->bytes != MAX(old, err ? old : old)) {
                        /* Pages past the end stay allocated (KEEP_SIZE) only
                         * within the object's old length here. */
                        vm_object_resize(vn->obj, old);
                }
                vn->size = old;
        } else {
                vn->size = MAX(old, end);
                vn->mtime = vn->ctime = vfs_now();
        }
        return err;
}

/* fsync, fdatasync, syncfs: a disk file system writes what changed (the
 * whole file system: it is small, and what Linux's syncfs does); tmpfs
 * and the rest have nothing to write. */
SYSCALL_DECL(fsync)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn = f ? file_vnode(f) : NULL;

        if (!f)
                return -EBADF;
        if (vn && vn->sb->sops)
                return vn->sb->sops->sync(vn->sb);
        return 0;
}
SYSCALL_DECL(fdatasync) { return sys_fsync(a0, 0, 0, 0, 0, 0); }
SYSCALL_DECL(syncfs) { return sys_fsync(a0, 0, 0, 0, 0, 0); }
SYSCALL_DECL(sync)
{
        (void)vfs_sync_all();
        return 0;
}

static long statfs_vn(struct vnode *vn, uint64_t ubuf)
{
        struct linux_statfs s;
        struct vfs_sb *sb = vn->sb;

        memset(&s, 0, sizeof s);
        s.f_type = (int64_t)sb->magic;
        s.f_bsize = PAGE_SIZE;
        s.f_frsize = PAGE_SIZE;
        if (strcmp(sb->fstype, "hugetlbfs") == 0) {
                s.f_bsize = s.f_frsize = (int64_t)pmap_huge_size();
        } else if (sb->sops) {
                struct vfs_statfs st;
                sb->sops->statfs(sb, &st);
                s.f_bsize = s.f_frsize = (int64_t)st.bsize;
                s.f_blocks = st.blocks;
                s.f_bfree = st.bfree;
                s.f_bavail = st.bavail;
                s.f_files = st.files;
                s.f_ffree = st.ffree;
        } else if (tmpfs_owns(vn) && sb->quota.limit != UINT64_MAX) {
                /* (memfd's internal mount has no limit: zeroes, as
                 * Linux's shmem_statfs without max_blocks.) */
                s.f_blocks = sb->quota.limit;
                s.f_bfree = s.f_bavail = sb->quota.limit > sb->quota.used
                                         ? sb->quota.limit - sb->quota.used : 0;
                s.f_files = sb->quota.limit;
                s.f_ffree = s.f_files > sb->nr_inodes ? s.f_files - sb->nr_inodes : 0;
        }
        s.f_fsid[0] = (int32_t)sb->dev;
        s.f_namelen = VFS_NAME_MAX;
        s.f_flags = 0x20 | (sb->rdonly ? 1 : 0);        /* ST_VALID... */
        return copy_to_user(ubuf, &s, sizeof s) ? -EFAULT : 0;
}

SYSCALL_DECL(statfs)
{
        struct vnode *vn;
        long err;

        if ((err = resolve_at(AT_FDCWD, (uint64_t)a0, 0, &vn)) != 0)
                return err;
        err = statfs_vn(vn, (uint64_t)a1);
        vnode_put(vn);
        return err;
}

SYSCALL_DECL(fstatfs)
{
        struct vnode *vn;
        long err;

        if ((err = fd_vnode((int)a0, &vn)) != 0)
                return err;
        err = statfs_vn(vn, (uint64_t)a1);
        vnode_put(vn);
        return err;
}

/* ---- directories ------------------------------------------------------------ */

SYSCALL_DECL(getdents64)
{
        struct file *f = fd_get((int)a0);
        struct vnode *vn = f ? file_vnode(f) : NULL;
        struct vfs_dirent *e;
        uint8_t rec[19 + 256 + 8];
        size_t done = 0;
        long err = 0;

        if (!f || (f->flags & O_PATH))
                return -EBADF;
        if (!vn || !is_dir(vn))
                return -ENOTDIR;
        if (!(e = kmalloc(sizeof *e)))
                return -ENOMEM;
        for (;;) {
                uint64_t cookie = f->offset;
                if (vn->ops->readdir(vn, &cookie, e) != 0)
                        break;
                size_t reclen = align_up(19 + e->namelen + 1, 8);
                if (done + reclen > (size_t)(unsigned)a2) {
                        if (!done)
                                err = -EINVAL;
                        break;
                }
                memset(rec, 0, reclen);
                *(uint64_t *)rec = e->ino;
                *(int64_t *)(rec + 8) = (int64_t)cookie;
                *(uint16_t *)(rec + 16) = (uint16_t)reclen;
                rec[18] = e->type;
                memcpy(rec + 19, e->name, e->namelen);
                if (copy_to_user((uint64_t)a1 + done, rec, reclen)) {
                        err = -EFAULT;
                        break;
                }
                done += reclen;
                f->offset = cookie;
        }
        kfree(e);
        return done ? (long)done : err;
}

static long set_dir(struct vnode **slot, struct vnode *vn)
{
        long err = 0;

        if (!is_dir(vn))
                err = -ENOTDIR;
        else
                err = vfs_permission(vn, VFS_MAY_EXEC);
        if (err) {
                vnode_put(vn);
                return err;
        }
        vnode_put(*slot);
        *slot = vn;
        proc_fs_changed(current);       /* threads sharing it (CLONE_FS) */
        return 0;
}

SYSCALL_DECL(chdir)
{
        struct vnode *vn;
        long err = resolve_at(AT_FDCWD, (uint64_t)a0, 0, &vn);

        return err ? err : set_dir(&current->cwd, vn);
}

SYSCALL_DECL(fchdir)
{
        struct vnode *vn;
        long err = fd_vnode((int)a0, &vn);

        return err ? err : set_dir(&current->cwd, vn);
}

SYSCALL_DECL(chroot)
{
        struct vnode *vn;
        long err;

        if (!current_capable(CAP_SYS_CHROOT))
                return -EPERM;
        if ((err = resolve_at(AT_FDCWD, (uint64_t)a0, 0, &vn)) != 0)
                return err;
        return set_dir(&current->root, vn);
}

/* getcwd returns the length with the NUL, as the system call does. */
SYSCALL_DECL(getcwd)
{
        char *buf = kmalloc(VFS_PATH_MAX);
        long n;

        if (!buf)
                return -ENOMEM;
        n = vfs_path_of(current->root, current->cwd, buf, VFS_PATH_MAX);
        if (n > 0 && (size_t)n > (size_t)a1)
                n = -ERANGE;
        if (n > 0 && copy_to_user((uint64_t)a0, buf, (size_t)n))
                n = -EFAULT;
        kfree(buf);
        return n;
}

SYSCALL_DECL(umask)
{
        unsigned old = current->umask;

        current->umask = (unsigned)a0 & 0777;
        proc_fs_changed(current);
        return old;
}

/* ---- mounts ------------------------------------------------------------------ */

#define MS_RDONLY       1
#define MS_REMOUNT      32
#define MS_BIND         4096
#define MNT_FORCE       1
#define MNT_DETACH      2
#define MNT_EXPIRE      4
#define UMOUNT_NOFOLLOW 8

SYSCALL_DECL(mount)
{
        char fstype[32], *opts = NULL;
        struct vnode *vn;
        long err;

        if (!current_capable(CAP_SYS_ADMIN))
                return -EPERM;
        if (a3 & MS_BIND)
                return -EINVAL;         /* bind mounts: see docs/design.md */
        if (a3 & MS_REMOUNT) {
                if (a4 && !(opts = kmalloc(PAGE_SIZE)))
                        return -ENOMEM;
                err = a4 ? strncpy_from_user(opts, (uint64_t)a4, PAGE_SIZE) : 0;
                if (err >= 0 && (err = resolve_at(AT_FDCWD, (uint64_t)a1, 0, &vn)) == 0) {
                        err = vfs_remount(vn, opts, (unsigned long)a3 & MS_RDONLY);
                        vnode_put(vn);
                }
                kfree(opts);
                return err;
        }
        if (!a2)
                return -EINVAL;
        err = strncpy_from_user(fstype, (uint64_t)a2, sizeof fstype);
        if (err < 0)
                return err == -ENAMETOOLONG ? -ENODEV : err;
        bool disk = vfs_is_ext(fstype);
        if (strcmp(fstype, "tmpfs") && strcmp(fstype, "proc") &&
            strcmp(fstype, "shm") && strcmp(fstype, "sysfs") &&
            strcmp(fstype, "hugetlbfs") && strcmp(fstype, "cgroup2") && !disk)
                return -ENODEV;
        if (a4) {
                if (!(opts = kmalloc(PAGE_SIZE)))
                        return -ENOMEM;
                err = strncpy_from_user(opts, (uint64_t)a4, PAGE_SIZE);
                if (err < 0) {
                        kfree(opts);
                        return err;
                }
        }
        /* A disk file system's source: a block device node. */
        struct vnode *dev = NULL;
        if (disk) {
                if (!a0)
                        err = -EFAULT;
                else if ((err = resolve_at(AT_FDCWD, (uint64_t)a0, 0, &dev)) == 0 &&
                         !S_ISBLK(dev->mode))
                        err = -ENOTBLK;
                if (err) {
                        vnode_put(dev);
                        kfree(opts);
                        return err;
                }
        }
        if ((err = resolve_at(AT_FDCWD, (uint64_t)a1, 0, &vn)) == 0) {
                err = vfs_mount_dev(vn, fstype, dev, opts,
                                    (unsigned long)a3 & MS_RDONLY);
                vnode_put(vn);
        }
        vnode_put(dev);
        kfree(opts);
        return err;
}

SYSCALL_DECL(umount2)
{
        struct vnode *vn;
        long err;

        if (a1 & ~(long)(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
                return -EINVAL;
        if (!current_capable(CAP_SYS_ADMIN))
                return -EPERM;
        if ((err = resolve_at(AT_FDCWD, (uint64_t)a0,
                              (a1 & UMOUNT_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0, &vn)) != 0)
                return err;
        err = vfs_umount(vn);
        if (err)
                vnode_put(vn);          /* else vfs_umount took it */
        return err;
}

/* ---- memfd ------------------------------------------------------------------- */

#define MFD_CLOEXEC       1
#define MFD_ALLOW_SEALING 2
#define MFD_HUGETLB       4
#define F_SEAL_SEAL       1

SYSCALL_DECL(memfd_create)
{
        char name[256], label[270];
        struct vnode *vn;
        struct file *f;
        long err, fd;

        /* MFD_HUGETLB may name a size (MFD_HUGE_*: log2 in bits 26-31);
         * one the machine lacks is ENODEV, as Linux's hugetlb_file_setup. */
        if (a1 & MFD_HUGETLB) {
                if (a1 & ~(long)(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB |
                                 (0x3fL << 26)))
                        return -EINVAL;
                if (!hugetlb_size_log_ok((unsigned)(a1 >> 26) & 0x3f))
                        return -ENODEV;
        } else if (a1 & ~(long)(MFD_CLOEXEC | MFD_ALLOW_SEALING)) {
                return -EINVAL;
        }
        err = strncpy_from_user(name, (uint64_t)a0, 250);
        if (err == -ENAMETOOLONG)
                return -EINVAL;         /* Linux: names over 249 bytes */
        if (err < 0)
                return err;
        if (!tmpfs_memfd_sb())
                return -ENOMEM;
        if ((err = tmpfs_make_unnamed(tmpfs_memfd_sb(), S_IFREG | 0777,
                                      &vn)) != 0)
                return err;
        vn->seals = (a1 & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL;
        if ((a1 & MFD_HUGETLB) && (err = vnode_make_hugetlb(vn)) != 0) {
                vnode_put(vn);
                return err;
        }
        ksnprintf(label, sizeof label, "/memfd:%s", name);
        vfs_set_gone_name(vn, label);   /* "/memfd:x (deleted)", as Linux */
        vfs_name_object(vn, false);
        err = vnode_open(vn, O_RDWR | ((a1 & MFD_CLOEXEC) ? O_CLOEXEC : 0), &f);
        vnode_put(vn);
        if (err)
                return err;
        fd = fd_install(f);
        if (fd < 0)
                file_put(f);
        return fd;
}
