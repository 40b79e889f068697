/*
 * vfs.c - vnodes, path resolution, mounts, permissions, and the root file
 * system made from the initramfs (see vfs.h).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/initramfs.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>
#include <vm/vm_object.h>

#define AT_FDCWD        (-100)

struct vnode *vfs_root;
static struct mount *mounts;            /* every mount, newest first */

struct vfs_timespec vfs_now(void)
{
        uint64_t ns = clock_realtime_ns();

        return (struct vfs_timespec){ (int64_t)(ns / 1000000000),
                                      (int64_t)(ns % 1000000000) };
}

struct vnode *vnode_alloc(struct vfs_sb *sb, const struct vnode_ops *ops,
                          uint32_t mode)
{
        struct vnode *vn = kzalloc(sizeof *vn);

        if (!vn)
                return NULL;
        vn->refs = 1;
        vn->mode = mode;
        vn->ops = ops;
        vn->sb = sb;
        vn->ino = sb->next_ino++;
        vn->atime = vn->mtime = vn->ctime = vn->btime = vfs_now();
        vn->uid = current_fsuid();
        vn->gid = current_fsgid();
        sb->nr_inodes++;
        return vn;
}

void vnode_put(struct vnode *vn)
{
        if (!vn)
                return;
        if (--vn->refs) {
                if (vn->refs == 1 && vn->ops->idle)
                        vn->ops->idle(vn);
                return;
        }
        if (vn->ops->release)
                vn->ops->release(vn);
        if (vn->obj) {
                /* A mapping may keep the object: its pages stop counting
                 * against the mount, which may go before them. */
                vm_object_set_quota(vn->obj, NULL);
                vm_object_unref(vn->obj);
                vn->obj = NULL;
        }
        vn->sb->nr_inodes--;
        kfree(vn->gone_name);
        kfree(vn);
}

/* ---- permissions ----------------------------------------------------- */

uint32_t current_fsuid(void)
{
        return current ? current->cred.fsuid : 0;
}

uint32_t current_fsgid(void)
{
        return current ? current->cred.fsgid : 0;
}

bool current_in_group(uint32_t gid)
{
        return current ? cred_in_group(&current->cred, gid) : gid == 0;
}

bool current_capable(int cap)
{
        return current ? cred_capable(&current->cred, cap) : true;
}

uint32_t vfs_new_inode_group(const struct vnode *dir, uint32_t *mode)
{
        if (!dir || !(dir->mode & S_ISGID))
                return current_fsgid();
        if (S_ISDIR(*mode))
                *mode |= S_ISGID;
        else if ((*mode & (S_ISGID | 010)) == (S_ISGID | 010) &&
                 !current_in_group(dir->gid) && !current_capable(CAP_FSETID))
                *mode &= ~(uint32_t)S_ISGID;
        return dir->gid;
}

long vfs_permission(const struct vnode *vn, unsigned want)
{
        uint32_t uid = current_fsuid();
        unsigned bits;

        if (uid == vn->uid)
                bits = (vn->mode >> 6) & 7;
        else if (current_in_group(vn->gid))
                bits = (vn->mode >> 3) & 7;
        else
                bits = vn->mode & 7;
        if (!(want & ~bits))
                return 0;
        if (current_capable(CAP_DAC_OVERRIDE) &&
            (!(want & VFS_MAY_EXEC) || S_ISDIR(vn->mode) || (vn->mode & 0111)))
                return 0;
        if (current_capable(CAP_DAC_READ_SEARCH) && !(want & VFS_MAY_WRITE) &&
            (!(want & VFS_MAY_EXEC) || S_ISDIR(vn->mode)))
                return 0;
        return -EACCES;
}

/* ---- path resolution ------------------------------------------------- */

/* Follow mounts down: the root of whatever is mounted on vn. */
static struct vnode *cross_down(struct vnode *vn)
{
        while (vn->mounted) {
                struct vnode *r = vnode_get(vn->mounted->sb->root);
                vnode_put(vn);
                vn = r;
        }
        return vn;
}

/* ".." of dir, not above root, across mount points. */
static long step_up(struct vnode *root, struct vnode *dir, struct vnode **out)
{
        struct vnode *vn = vnode_get(dir);

        for (;;) {
                if (vn == root) {
                        *out = vn;
                        return 0;
                }
                if (vn != vn->sb->root || !vn->sb->mount ||
                    !vn->sb->mount->covered)
                        break;
                struct vnode *c = vnode_get(vn->sb->mount->covered);
                vnode_put(vn);
                vn = c;
        }
        if (vn == vn->sb->root) {       /* the real root */
                *out = vn;
                return 0;
        }
        if (!vn->ops->parent) {
                *out = vn;
                return 0;
        }
        struct vnode *p;
        long err = vn->ops->parent(vn, &p);
        vnode_put(vn);
        if (err)
                return err;
        *out = cross_down(p);
        return 0;
}

struct walk {
        struct vnode *root;
        int           links;            /* symlinks followed so far */
        char         *buf;              /* the path after a symlink, or NULL */
};

/*
 * Symlink vn was met with `rest` still to walk (trailing: the component
 * ended with '/'): the walk goes on in a buffer holding its target, a
 * '/' and rest. No recursion, so a chain of links costs no kernel stack.
 * => the new path in w->buf; -ELOOP, -ENAMETOOLONG, -ENOENT (empty
 *    target), -ENOMEM.
 */
static long splice_link(struct walk *w, struct vnode *vn, const char *rest,
                        bool trailing, const char **path)
{
        char *nb;
        long n;
        size_t rlen = strlen(rest);

        if (++w->links > VFS_LINK_MAX)
                return -ELOOP;
        if (!vn->ops->readlink)
                return -EINVAL;
        if (!(nb = kmalloc(VFS_PATH_MAX)))
                return -ENOMEM;
        n = vn->ops->readlink(vn, nb, VFS_PATH_MAX - 1);
        if (n == 0)
                n = -ENOENT;
        if (n > 0 && (rlen || trailing)) {
                if ((size_t)n + 1 + rlen >= VFS_PATH_MAX)
                        n = -ENAMETOOLONG;
                else {
                        nb[n++] = '/';
                        memcpy(nb + n, rest, rlen);
                        n += (long)rlen;
                }
        }
        if (n < 0) {
                kfree(nb);
                return n;
        }
        nb[n] = '\0';
        kfree(w->buf);                  /* rest pointed into it: copied */
        w->buf = nb;
        *path = nb;
        return 0;
}

/*
 * Symlink vn was met with `rest` still to walk: a magic link (ops->follow)
 * hands over the vnode it stands for in *to (a new reference), and the
 * walk goes on from there; any other link splices its text (*to NULL).
 */
static long follow_link(struct walk *w, struct vnode *vn, const char *rest,
                        bool trailing, const char **path, struct vnode **to)
{
        *to = NULL;
        if (vn->ops->follow) {
                long err = vn->ops->follow(vn, to);
                if (err != -ENOSYS) {
                        if (!err && ++w->links > VFS_LINK_MAX) {
                                vnode_put(*to);
                                *to = NULL;
                                err = -ELOOP;
                        }
                        return err;
                }
        }
        return splice_link(w, vn, rest, trailing, path);
}

static long walk_path(struct walk *w, struct vnode *start, const char *path,
                      unsigned flags, struct vfs_path *out)
{
        struct vnode *dir = vnode_get(start);
        const char *p = path;
        long err = 0;

        memset(out, 0, sizeof *out);
restart:
        if (*p == '/') {
                vnode_put(dir);
                dir = vnode_get(w->root);
                while (*p == '/')
                        p++;
        }
        for (;;) {
                const char *name = p;
                size_t len = 0;

                while (name[len] && name[len] != '/')
                        len++;
                p = name + len;
                bool slash = *p == '/';
                while (*p == '/')
                        p++;
                bool last = *p == '\0';

                if (!S_ISDIR(dir->mode)) {
                        err = -ENOTDIR;
                        break;
                }
                if (len == 0) {         /* "" or "/" alone: the dir itself */
                        if (flags & VFS_PARENT) {
                                out->dir = vnode_get(dir);
                                out->namelen = 0;
                        }
                        out->vn = dir;
                        return 0;
                }
                if (len > VFS_NAME_MAX) {
                        err = -ENAMETOOLONG;
                        break;
                }
                if ((err = vfs_permission(dir, VFS_MAY_EXEC)) != 0)
                        break;
                bool dot = len == 1 && name[0] == '.';
                bool dotdot = len == 2 && name[0] == '.' && name[1] == '.';
                struct vnode *next;
                if (last && (flags & VFS_PARENT) && !dot && !dotdot) {
                        err = dir->ops->lookup ? dir->ops->lookup(dir, name, len, &next)
                                               : -ENOENT;
                        if (err && err != -ENOENT)
                                break;
                        if (!err)
                                next = cross_down(next);
                        /* A trailing slash follows a final symlink. */
                        if (!err && S_ISLNK(next->mode) && slash) {
                                struct vnode *to;
                                err = follow_link(w, next, p, slash, &p, &to);
                                vnode_put(next);
                                if (err)
                                        break;
                                if (!to)
                                        goto restart;
                                next = to;
                        }
                        out->dir = dir;
                        memcpy(out->name, name, len);
                        out->name[len] = '\0';
                        out->namelen = len;
                        out->trailing_slash = slash;
                        out->vn = err ? NULL : next;
                        return 0;
                }
                if (dot) {
                        next = vnode_get(dir);
                } else if (dotdot) {
                        if ((err = step_up(w->root, dir, &next)) != 0)
                                break;
                } else {
                        err = dir->ops->lookup ? dir->ops->lookup(dir, name, len, &next)
                                               : -ENOENT;
                        if (err)
                                break;
                        next = cross_down(next);
                        if (S_ISLNK(next->mode) &&
                            (!last || slash || !(flags & VFS_NOFOLLOW))) {
                                /* dir stays: a relative target starts there */
                                struct vnode *to;
                                err = follow_link(w, next, p, slash, &p, &to);
                                vnode_put(next);
                                if (err)
                                        break;
                                if (!to)
                                        goto restart;
                                next = to;      /* a magic link's file */
                        }
                }
                vnode_put(dir);
                dir = next;
                if (last) {
                        if ((slash || (flags & VFS_DIRECTORY)) &&
                            !S_ISDIR(dir->mode) &&
                            !(S_ISLNK(dir->mode) && !slash)) {
                                vnode_put(dir);
                                return -ENOTDIR;
                        }
                        if (flags & VFS_PARENT) {   /* ".", ".." */
                                out->dir = dir;
                                out->vn = vnode_get(dir);
                                out->namelen = 0;
                                return 0;
                        }
                        out->vn = dir;
                        return 0;
                }
        }
        vnode_put(dir);
        return err;
}

long vfs_resolve(struct vnode *root, struct vnode *start, const char *path,
                 unsigned flags, struct vfs_path *out)
{
        struct walk w = { .root = root };
        size_t len = strlen(path);

        if (len >= VFS_PATH_MAX)
                return -ENAMETOOLONG;
        if (len == 0) {
                if (!(flags & VFS_EMPTY_OK))
                        return -ENOENT;
                memset(out, 0, sizeof *out);
                out->vn = vnode_get(start);
                if (flags & VFS_PARENT)
                        out->dir = vnode_get(start);
                return 0;
        }
        long err = walk_path(&w, start, path, flags, out);

        kfree(w.buf);
        return err;
}

void vfs_path_put(struct vfs_path *p)
{
        vnode_put(p->vn);
        vnode_put(p->dir);
        p->vn = p->dir = NULL;
}

long vfs_at_dir(long dirfd, const char *path, struct vnode **out)
{
        int fd = (int)dirfd;

        if (path[0] == '/') {
                *out = vnode_get(current->root);
                return 0;
        }
        if (fd == AT_FDCWD) {
                *out = vnode_get(current->cwd);
                return 0;
        }
        struct file *f = fd_get(fd);
        struct vnode *vn = f ? file_vnode(f) : NULL;
        if (!f)
                return -EBADF;
        if (!vn)
                return path[0] ? -ENOTDIR : -EBADF;
        if (path[0] && !S_ISDIR(vn->mode))
                return -ENOTDIR;
        *out = vnode_get(vn);
        return 0;
}

long vfs_resolve_user_at(long dirfd, uint64_t upath, unsigned flags,
                         struct vfs_path *out)
{
        char small[192], *path = small;
        struct vnode *start;
        long n;

        /* Most paths are short: a buffer on the stack first, a page only
         * for a long one. */
        n = strncpy_from_user(small, upath, sizeof small);
        if (n == -ENAMETOOLONG) {
                if (!(path = kmalloc(VFS_PATH_MAX)))
                        return -ENOMEM;
                n = strncpy_from_user(path, upath, VFS_PATH_MAX);
        }
        if (n >= 0 && n == 0 && !(flags & VFS_EMPTY_OK))
                n = -ENOENT;
        if (n >= 0 && (n = vfs_at_dir(dirfd, path, &start)) == 0) {
                n = vfs_resolve(current->root, start, path, flags, out);
                vnode_put(start);
        }
        if (path != small)
                kfree(path);
        return n;
}

/* The name of child in dir, by a scan of dir's entries. */
static long name_in(struct vnode *dir, struct vnode *child,
                    struct vfs_dirent *e)
{
        uint64_t cookie = 2;            /* skip "." and ".." */

        if (!dir->ops->readdir)
                return -ENOENT;
        while (dir->ops->readdir(dir, &cookie, e) == 0) {
                if (e->ino == child->ino &&
                    !(e->namelen == 1 && e->name[0] == '.') &&
                    !(e->namelen == 2 && e->name[0] == '.' && e->name[1] == '.'))
                        return 0;
        }
        return -ENOENT;
}

long vfs_path_of(struct vnode *root, struct vnode *vn, char *buf, size_t size)
{
        struct vfs_dirent *e = kmalloc(sizeof *e);
        size_t pos = size;              /* built right to left */
        struct vnode *cur = vnode_get(vn);
        long err = 0;

        if (!e) {
                vnode_put(cur);
                return -ENOMEM;
        }
        if (size < 2)
                err = -ERANGE;
        else
                buf[--pos] = '\0';
        while (!err && cur != root) {
                /* Climb to the mount's covered directory first. */
                while (cur == cur->sb->root && cur->sb->mount &&
                       cur->sb->mount->covered) {
                        struct vnode *c = vnode_get(cur->sb->mount->covered);
                        vnode_put(cur);
                        cur = c;
                }
                if (cur == root || cur == cur->sb->root)
                        break;
                if (cur->nlink == 0) {
                        err = -ENOENT;
                        break;
                }
                struct vnode *parent;
                if ((err = cur->ops->parent ? cur->ops->parent(cur, &parent)
                                            : -ENOENT) != 0)
                        break;
                err = name_in(parent, cur, e);
                vnode_put(cur);
                cur = parent;
                if (err)
                        break;
                if (pos < e->namelen + 2) {
                        err = -ERANGE;
                        break;
                }
                pos -= e->namelen;
                memcpy(buf + pos, e->name, e->namelen);
                buf[--pos] = '/';
        }
        vnode_put(cur);
        kfree(e);
        if (err)
                return err;
        if (buf[pos] == '\0')           /* the root itself */
                buf[--pos] = '/';
        size_t len = size - pos;
        memmove(buf, buf + pos, len);
        return (long)len;
}

/* Find target under dir (same file system, not crossing mounts) by its
 * inode number, appending "/name..." to buf at pos; a search of at most
 * *budget entries. => the new length, or -ENOENT. */
static long find_under(struct vnode *dir, struct vnode *target, char *buf,
                       size_t size, size_t pos, int depth, int *budget)
{
        struct vfs_dirent *e = kmalloc(sizeof *e);
        uint64_t cookie = 0;
        long found = -ENOENT;

        if (!e)
                return -ENOMEM;
        while (found == -ENOENT && --*budget > 0 && dir->ops->readdir &&
               dir->ops->readdir(dir, &cookie, e) == 0) {
                struct vnode *child;
                if ((e->namelen == 1 && e->name[0] == '.') ||
                    (e->namelen == 2 && !memcmp(e->name, "..", 2)))
                        continue;
                bool is_dir = e->type == (S_IFDIR >> 12);
                if (e->ino != target->ino && (!is_dir || depth >= 16))
                        continue;
                if (pos + e->namelen + 2 > size ||
                    dir->ops->lookup(dir, e->name, e->namelen, &child))
                        continue;
                buf[pos] = '/';
                memcpy(buf + pos + 1, e->name, e->namelen);
                buf[pos + 1 + e->namelen] = 0;
                if (child == target)
                        found = (long)(pos + 1 + e->namelen);
                else if (S_ISDIR(child->mode) && !child->mounted)
                        found = find_under(child, target, buf, size,
                                           pos + 1 + e->namelen, depth + 1,
                                           budget);
                vnode_put(child);
        }
        kfree(e);
        return found;
}

long vfs_name_of(struct vnode *root, struct vnode *vn, char *buf, size_t size)
{
        int budget = 4096;
        long len;

        if (vn->nlink == 0 && !S_ISDIR(vn->mode)) {
                if (!vn->gone_name)
                        return -ENOENT;
                len = ksnprintf(buf, size, "%s (deleted)", vn->gone_name);
                return (size_t)len < size ? len : -ERANGE;
        }
        len = vfs_path_of(root, S_ISDIR(vn->mode) ? vn : vn->sb->root, buf, size);
        if (len < 0)
                return len;
        len = (long)strlen(buf);
        if (S_ISDIR(vn->mode))
                return len;
        if (len == 1)
                len = 0;                /* "/" + "/name" */
        return find_under(vn->sb->root, vn, buf, size, (size_t)len, 0, &budget);
}

void vfs_set_gone_name(struct vnode *vn, const char *label)
{
        size_t n = strlen(label) + 1;
        char *copy = kmalloc(n);

        if (!copy)
                return;
        memcpy(copy, label, n);
        kfree(vn->gone_name);
        vn->gone_name = copy;
}

void vfs_name_going(struct vnode *dir, const char *name, size_t len,
                    struct vnode *vn)
{
        char *buf;
        long n;

        if (vn->nlink > 1 || S_ISDIR(vn->mode) || !(buf = kmalloc(VFS_PATH_MAX)))
                return;
        n = vfs_path_of(vfs_root, dir, buf, VFS_PATH_MAX);
        if (n >= 0) {
                n = (long)strlen(buf);
                if (n == 1)
                        n = 0;          /* "/" + "/name" */
                if ((size_t)n + 1 + len < VFS_PATH_MAX) {
                        buf[n] = '/';
                        memcpy(buf + n + 1, name, len);
                        buf[n + 1 + len] = '\0';
                        vfs_set_gone_name(vn, buf);
                }
        }
        kfree(buf);
}

void vfs_name_object(struct vnode *vn, bool again)
{
        char *buf;

        if (!vn->obj || (vm_object_name(vn->obj) != NULL) != again ||
            !(buf = kmalloc(VFS_PATH_MAX)))
                return;
        if (vfs_name_of(vfs_root, vn, buf, VFS_PATH_MAX) > 0)
                vm_object_set_name(vn->obj, buf);
        kfree(buf);
}

/* ---- mounts ------------------------------------------------------------ */

static void destroy_sb(struct vfs_sb *sb);

void (*vfs_disks_down)(void);
long (*vfs_ext2_new_sb)(struct vnode *dev, const char *fstype, bool rdonly,
                        struct vfs_sb **out);

bool vfs_is_ext(const char *fstype)
{
        return strcmp(fstype, "ext2") == 0 || strcmp(fstype, "ext3") == 0 ||
               strcmp(fstype, "ext4") == 0;
}
long (*vfs_cgroupfs_new_sb)(struct vfs_sb **out);
void (*vfs_cgroupfs_destroy_sb)(struct vfs_sb *sb);

long vfs_mount(struct vnode *on, const char *fstype, const char *options,
               unsigned long flags)
{
        return vfs_mount_dev(on, fstype, NULL, options, flags);
}

long vfs_mount_dev(struct vnode *on, const char *fstype, struct vnode *dev,
                   const char *options, unsigned long flags)
{
        struct vfs_sb *sb;
        struct mount *m;
        long err;

        if (!S_ISDIR(on->mode))
                return -ENOTDIR;
        if (strcmp(fstype, "tmpfs") == 0 || strcmp(fstype, "shm") == 0)
                err = tmpfs_new_sb(options, &sb);
        else if (strcmp(fstype, "hugetlbfs") == 0)
                err = hugetlbfs_new_sb(options, &sb);
        else if (strcmp(fstype, "proc") == 0)
                err = procfs_new_sb(&sb);
        else if (strcmp(fstype, "sysfs") == 0)
                err = sysfs_new_sb(&sb);
        else if (strcmp(fstype, "cgroup2") == 0 && vfs_cgroupfs_new_sb)
                err = vfs_cgroupfs_new_sb(&sb);
        else if (vfs_is_ext(fstype) && dev && vfs_ext2_new_sb)
                err = vfs_ext2_new_sb(dev, fstype, flags & 1, &sb);
        else
                return -ENODEV;
        if (err)
                return err;
        if (!(m = kzalloc(sizeof *m))) {
                destroy_sb(sb);
                return -ENOMEM;
        }
        /* Mount on top of whatever is mounted there already. */
        while (on->mounted)
                on = on->mounted->sb->root;
        m->sb = sb;
        m->covered = vnode_get(on);
        m->parent = on->sb->mount;
        sb->mount = m;
        sb->rdonly = flags & 1;         /* MS_RDONLY */
        on->mounted = m;
        m->next = mounts;
        mounts = m;
        return 0;
}

static void destroy_sb(struct vfs_sb *sb)
{
        if (sb->sops)
                sb->sops->destroy(sb);
        else if (strcmp(sb->fstype, "proc") == 0)
                procfs_destroy_sb(sb);
        else if (strcmp(sb->fstype, "sysfs") == 0)
                sysfs_destroy_sb(sb);
        else if (strcmp(sb->fstype, "cgroup2") == 0)
                vfs_cgroupfs_destroy_sb(sb);
        else
                tmpfs_destroy_sb(sb);
}


/* Is any file of sb open, or a process's cwd, root or program? (Linux's
 * EBUSY; a file only mapped, after its descriptor closed, is not seen.) */
static bool sb_in_use(const struct vfs_sb *sb)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (p->state == PROC_FREE)
                        continue;
                if ((p->cwd && p->cwd->sb == sb) || (p->root && p->root->sb == sb) ||
                    (p->exe && p->exe->sb == sb))
                        return true;
                for (int fd = 0; p->fdt && fd < p->fdt->size; fd++) {
                        struct file *f = p->fdt->files[fd];
                        struct vnode *vn = f ? file_vnode(f) : NULL;
                        if (vn && vn->sb == sb)
                                return true;
                }
        }
        return false;
}

/* Is a file of sb open for writing by some process? */
static bool sb_has_writers(const struct vfs_sb *sb)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (p->state == PROC_FREE || !p->fdt)
                        continue;
                for (int fd = 0; fd < p->fdt->size; fd++) {
                        struct file *f = p->fdt->files[fd];
                        struct vnode *vn = f ? file_vnode(f) : NULL;
                        if (vn && vn->sb == sb && (f->flags & 3) != 0)
                                return true;
                }
        }
        return false;
}

long vfs_remount(struct vnode *vn, const char *options, unsigned long flags)
{
        struct vfs_sb *sb = vn->sb;
        bool ro = flags & 1;            /* MS_RDONLY */
        long err;

        if (vn != sb->root)
                return -EINVAL;
        if (ro && !sb->rdonly && sb_has_writers(sb))
                return -EBUSY;
        if (strcmp(sb->fstype, "tmpfs") == 0 &&
            (err = tmpfs_remount(sb, options)) != 0)
                return err;
        sb->rdonly = ro;
        return 0;
}

long vfs_umount(struct vnode *vn)
{
        struct vfs_sb *sb = vn->sb;
        struct mount *m = sb->mount, **l;

        if (!m || vn != sb->root || !m->covered)
                return -EINVAL;
        if (sb->root->mounted)
                return -EBUSY;
        if (sb_in_use(sb) || (sb->sops && sb->sops->busy(sb)))
                return -EBUSY;
        for (l = &mounts; *l != m; l = &(*l)->next)
                ;
        *l = m->next;
        m->covered->mounted = NULL;
        vnode_put(m->covered);
        kfree(m);
        sb->mount = NULL;
        /* The caller's reference: dropped before the file system goes,
         * so that the root's last put never touches a freed sb. */
        vnode_put(vn);
        destroy_sb(sb);
        return 0;
}

struct mount *vfs_mounts(void)
{
        return mounts;
}

/* ---- the root file system -------------------------------------------- */

extern struct initramfs rootfs;

static long mkdir_p(const char *path, uint32_t mode, struct vnode **out)
{
        struct vfs_path p;
        long err = vfs_resolve(vfs_root, vfs_root, path, VFS_PARENT, &p);

        if (err)
                return err;
        if (!p.vn && p.namelen)
                err = p.dir->ops->mkdir(p.dir, p.name, p.namelen, mode, &p.vn);
        if (!err && out)
                *out = vnode_get(p.vn);
        vfs_path_put(&p);
        return err;
}

/* Regular files of the archive with several names (nlink > 1): the
 * first name makes the vnode, the others link to it (one file, as cpio
 * meant), found by the member's identity. */
struct hardlink {
        uint32_t      archive, ino, devmajor, devminor;
        struct vnode *vn;               /* a reference */
};
static struct hardlink *links;
static size_t nlinks, links_cap;

static struct vnode *hardlink_find(const struct initramfs_node *n)
{
        for (size_t i = 0; i < nlinks; i++)
                if (links[i].archive == n->archive && links[i].ino == n->ino &&
                    links[i].devmajor == n->devmajor &&
                    links[i].devminor == n->devminor)
                        return links[i].vn;
        return NULL;
}

static long hardlink_add(const struct initramfs_node *n, struct vnode *vn)
{
        if (nlinks == links_cap) {
                size_t cap = links_cap ? 2 * links_cap : 16;
                struct hardlink *t = kmalloc(cap * sizeof *t);
                if (!t)
                        return -ENOMEM;
                if (nlinks)
                        memcpy(t, links, nlinks * sizeof *t);
                kfree(links);
                links = t;
                links_cap = cap;
        }
        links[nlinks++] = (struct hardlink){ n->archive, n->ino, n->devmajor,
                                             n->devminor, vnode_get(vn) };
        return 0;
}

static void hardlinks_forget(void)
{
        for (size_t i = 0; i < nlinks; i++)
                vnode_put(links[i].vn);
        kfree(links);
        links = NULL;
        nlinks = links_cap = 0;
}

/* Copy the initramfs directory node into tmpfs directory dir. */
static long fill_from_initramfs(struct vnode *dir,
                                const struct initramfs_node *node, int depth)
{
        struct initramfs_dirent *e = kmalloc(sizeof *e);
        uint64_t cookie = 2;
        long err = 0;

        if (!e)
                return -ENOMEM;
        while (!err && initramfs_readdir(&rootfs, node, cookie, e) == VM_OK) {
                struct initramfs_node n = e->node;
                struct vnode *vn = NULL;
                uint32_t perm = n.mode & 07777;
                char *target;

                cookie = e->next;
                switch (n.mode & S_IFMT) {
                case S_IFDIR:
                        err = dir->ops->mkdir(dir, e->name, e->namelen, perm, &vn);
                        if (!err && depth < 64)
                                err = fill_from_initramfs(vn, &n, depth + 1);
                        break;
                case S_IFREG:
                        if (n.nlink > 1 && (vn = hardlink_find(&n)) != NULL) {
                                err = dir->ops->link(dir, e->name, e->namelen, vn);
                                vn = NULL;      /* already filled */
                                break;
                        }
                        err = dir->ops->create(dir, e->name, e->namelen,
                                               S_IFREG | perm, 0, &vn);
                        if (!err && n.nlink > 1)
                                err = hardlink_add(&n, vn);
                        if (!err) {
                                struct vm_object *o;
                                if (vm_object_create_cache(n.data, n.size, &o) != VM_OK) {
                                        err = -ENOMEM;
                                        break;
                                }
                                vm_object_set_quota(vn->obj, NULL);
                                vm_object_unref(vn->obj);
                                vm_object_set_quota(o, &vn->sb->quota);
                                vn->obj = o;
                                vn->size = n.size;
                        }
                        break;
                case S_IFLNK:
                        if (!(target = kmalloc(n.size + 1))) {
                                err = -ENOMEM;
                                break;
                        }
                        memcpy(target, n.data, n.size);
                        target[n.size] = '\0';
                        err = dir->ops->symlink(dir, e->name, e->namelen, target, &vn);
                        kfree(target);
                        break;
                default:
                        err = dir->ops->create(dir, e->name, e->namelen, n.mode,
                                               ((uint64_t)n.rdevmajor << 8) |
                                               n.rdevminor, &vn);
                        break;
                }
                if (vn) {
                        vn->uid = n.uid;
                        vn->gid = n.gid;
                        vn->mtime.sec = vn->ctime.sec = vn->atime.sec = n.mtime;
                        vn->mtime.nsec = vn->ctime.nsec = vn->atime.nsec = 0;
                        vnode_put(vn);
                }
                if (err == -EEXIST)     /* a later member wins: keep first */
                        err = 0;
        }
        kfree(e);
        return err;
}

long devfs_populate(struct vnode *dev);

/* cgroup2 on /sys/fs/cgroup (sysfs keeps that directory's vnode). */
static long mount_cgroup2(void)
{
        struct vfs_path p;
        long err = vfs_resolve(vfs_root, vfs_root, "/sys/fs/cgroup",
                               VFS_DIRECTORY, &p);

        if (err)
                return err;
        err = vfs_mount(p.vn, "cgroup2", NULL, 0);
        vfs_path_put(&p);
        return err;
}

long vfs_init(void)
{
        struct vfs_sb *sb;
        struct vnode *dir;
        long err = tmpfs_new_sb("size=100%", &sb);

        if (err)
                return err;
        sb->root->mode = S_IFDIR | 0755;
        vfs_root = vnode_get(sb->root);
        if (!(sb->mount = kzalloc(sizeof *sb->mount)))
                return -ENOMEM;
        sb->mount->sb = sb;
        mounts = sb->mount;
        if (rootfs.base) {
                err = fill_from_initramfs(vfs_root, &rootfs.root, 0);
                hardlinks_forget();
        }
        if (!err)
                err = mkdir_p("/tmp", 01777, &dir);
        if (!err) {
                err = vfs_mount(dir, "tmpfs", NULL, 0);
                vnode_put(dir);
        }
        if (!err)
                err = mkdir_p("/dev", 0755, &dir);
        if (!err) {
                err = devfs_populate(dir);
                vnode_put(dir);
        }
        if (!err)
                err = mkdir_p("/dev/shm", 01777, &dir);
        if (!err) {
                err = vfs_mount(dir, "tmpfs", NULL, 0);
                if (!err)
                        tmpfs_shm_sb = dir->mounted->sb;
                vnode_put(dir);
        }
        if (!err && !tmpfs_memfd_sb())  /* memfd's, made now: for good */
                err = -ENOMEM;
        if (!err)
                err = mkdir_p("/proc", 0555, &dir);
        if (!err) {
                err = vfs_mount(dir, "proc", NULL, 0);
                vnode_put(dir);
        }
        if (!err)
                err = mkdir_p("/sys", 0555, &dir);
        if (!err) {
                err = vfs_mount(dir, "sysfs", NULL, 0);
                vnode_put(dir);
        }
        if (!err && vfs_cgroupfs_new_sb)        /* as systemd mounts it */
                err = mount_cgroup2();
        return err;
}

long vfs_sync_all(void)
{
        long err = 0;

        for (struct mount *m = mounts; m; m = m->next)
                if (m->sb->sops) {
                        long e = m->sb->sops->sync(m->sb);
                        if (!err)
                                err = e;
                }
        return err;
}

void vfs_shutdown(void)
{
        /* Disk file systems first (they write to loop devices whose
         * files live on tmpfs), then the loop devices, then the rest. */
        for (struct mount **l = &mounts; *l;) {
                struct mount *m = *l;
                if (!m->sb->sops || !m->covered) {
                        l = &m->next;
                        continue;
                }
                *l = m->next;
                m->covered->mounted = NULL;
                vnode_put(m->covered);
                m->sb->mount = NULL;
                destroy_sb(m->sb);
                kfree(m);
        }
        if (vfs_disks_down)
                vfs_disks_down();
        tmpfs_memfd_shutdown();
        while (mounts && mounts->covered) {
                struct mount *m = mounts;
                mounts = m->next;
                m->covered->mounted = NULL;
                vnode_put(m->covered);
                m->sb->mount = NULL;
                destroy_sb(m->sb);
                kfree(m);
        }
        if (mounts) {                   /* the root */
                struct vfs_sb *sb = mounts->sb;
                kfree(mounts);
                mounts = NULL;
                sb->mount = NULL;
                vnode_put(vfs_root);
                vfs_root = NULL;
                tmpfs_destroy_sb(sb);
        }
}
