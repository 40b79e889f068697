/*
 * procfs_vfs.c - /proc as a mounted file system (the VFS side of procfs).
 *
 * Each vnode names a path under /proc (vn->priv, e.g. "/proc/12/maps");
 * lookup makes the child's vnode if procfs has such a file, open hands
 * the path to procfs_open() (fs/procfs.c), which builds the text. What
 * exists: meminfo, self (a symlink to the caller's PID), sysvipc/shm,
 * PID/ (maps, pagewalk/ADDR). This is the interim tree; the procshm helper's /proc
 * replaces the naming rules here with its own table through the same
 * vnode_ops (lookup, readdir, readlink, open, getattr).
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>

#define PROC_SUPER_MAGIC 0x9fa0

long procfs_open(const char *path, unsigned flags, struct file **out);
extern struct proc proc_table[NPROC];

static const struct vnode_ops procfs_ops;

static struct vnode *pnode(struct vfs_sb *sb, const char *path, uint32_t mode)
{
        struct vnode *vn = vnode_alloc(sb, &procfs_ops, mode);
        size_t len = strlen(path);
        char *copy = kmalloc(len + 1);

        if (!vn || !copy) {
                kfree(copy);
                vnode_put(vn);
                return NULL;
        }
        memcpy(copy, path, len + 1);
        vn->priv = copy;
        vn->nlink = S_ISDIR(mode) ? 2 : 1;
        return vn;
}

static bool all_digits(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return len > 0;
}

/* What kind of file path (under /proc) is: a mode, or 0 if none. */
static uint32_t kind_of(const char *path)
{
        const char *r = path + 5;       /* after "/proc" */
        const char *slash;

        if (*r == '\0')
                return S_IFDIR | 0555;
        r++;
        if (strcmp(r, "meminfo") == 0)
                return S_IFREG | 0444;
        if (strcmp(r, "self") == 0)
                return S_IFLNK | 0777;
        if (strcmp(r, "sysvipc") == 0)
                return S_IFDIR | 0555;
        if (strcmp(r, "sysvipc/shm") == 0)
                return S_IFREG | 0444;
        slash = strchr(r, '/');
        size_t n = slash ? (size_t)(slash - r) : strlen(r);
        if (!all_digits(r, n))
                return 0;
        long pid = 0;
        for (size_t i = 0; i < n; i++)
                pid = pid * 10 + (r[i] - '0');
        struct proc *p = proc_find((int)pid);
        if (!p || p->state == PROC_ZOMBIE)
                return 0;
        if (!slash)
                return S_IFDIR | 0555;
        if (strcmp(slash, "/maps") == 0)
                return S_IFREG | 0444;
        if (strcmp(slash, "/pagewalk") == 0)
                return S_IFDIR | 0555;
        if (strncmp(slash, "/pagewalk/", 10) == 0 && !strchr(slash + 10, '/'))
                return S_IFREG | 0444;
        return 0;
}

static long procfs_lookup(struct vnode *dir, const char *name, size_t len,
                          struct vnode **out)
{
        const char *base = dir->priv;
        size_t blen = strlen(base);
        char *path = kmalloc(blen + len + 2);
        long err = 0;

        if (!path)
                return -ENOMEM;
        memcpy(path, base, blen);
        path[blen] = '/';
        memcpy(path + blen + 1, name, len);
        path[blen + 1 + len] = '\0';
        uint32_t mode = kind_of(path);
        if (!mode)
                err = -ENOENT;
        else if (!(*out = pnode(dir->sb, path, mode)))
                err = -ENOMEM;
        kfree(path);
        return err;
}

static long procfs_parent(struct vnode *dir, struct vnode **out)
{
        char *path = dir->priv, *slash = NULL;

        for (char *c = path; *c; c++)
                if (*c == '/')
                        slash = c;
        char buf[64];

        if (!slash || slash == path)
                return -ENOENT;
        size_t n = MIN((size_t)(slash - path), sizeof buf - 1);
        memcpy(buf, path, n);
        buf[n] = '\0';
        if (strcmp(buf, "/proc") == 0) {
                *out = vnode_get(dir->sb->root);
                return 0;
        }
        return (*out = pnode(dir->sb, buf, S_IFDIR | 0555)) ? 0 : -ENOMEM;
}

static long procfs_readdir(struct vnode *dir, uint64_t *cookie,
                           struct vfs_dirent *out)
{
        const char *path = dir->priv;
        bool root = strcmp(path, "/proc") == 0;

        if (*cookie < 2) {
                out->namelen = (size_t)*cookie + 1;
                memcpy(out->name, "..", out->namelen);
                out->name[out->namelen] = '\0';
                out->ino = dir->ino;
                out->type = S_IFDIR >> 12;
                (*cookie)++;
                return 0;
        }
        if (root) {
                static const char *const fixed[] = { "meminfo", "self", "sysvipc" };
                static const uint32_t types[] = { S_IFREG, S_IFLNK, S_IFDIR };
                if (*cookie < 5) {
                        const char *n = fixed[*cookie - 2];
                        out->namelen = strlen(n);
                        memcpy(out->name, n, out->namelen + 1);
                        out->ino = 0x1000 + *cookie;
                        out->type = (uint8_t)(types[*cookie - 2] >> 12);
                        (*cookie)++;
                        return 0;
                }
                for (uint64_t i = *cookie - 5; i < NPROC; i++) {
                        struct proc *p = &proc_table[i];
                        if (p->state == PROC_FREE || p->state == PROC_ZOMBIE)
                                continue;
                        out->namelen = (size_t)ksnprintf(out->name, sizeof out->name,
                                                         "%d", p->pid);
                        out->ino = 0x10000 + (uint64_t)p->pid;
                        out->type = S_IFDIR >> 12;
                        *cookie = i + 6;
                        return 0;
                }
                return 1;
        }
        if (kind_of(path) == (S_IFDIR | 0555) && !strstr(path, "/pagewalk") &&
            *cookie == 2) {
                const char *n = strcmp(path, "/proc/sysvipc") == 0 ? "shm" : "maps";
                out->namelen = strlen(n);
                memcpy(out->name, n, out->namelen + 1);
                out->ino = 0x20000;
                out->type = S_IFREG >> 12;
                (*cookie)++;
                return 0;
        }
        return 1;
}

static long procfs_readlink(struct vnode *vn, char *buf, size_t size)
{
        char tmp[24];
        int n = ksnprintf(tmp, sizeof tmp, "%d", current ? current->pid : 0);

        n = MIN(n, (int)size);
        memcpy(buf, tmp, (size_t)n);
        return n;
}

static long procfs_vopen(struct vnode *vn, unsigned flags, struct file **out)
{
        if (S_ISDIR(vn->mode))
                return -ENOSYS;         /* vnode_open's own directory file */
        return procfs_open(vn->priv, flags, out);
}

static void procfs_release(struct vnode *vn)
{
        kfree(vn->priv);
}

static const struct vnode_ops procfs_ops = {
        .lookup = procfs_lookup, .parent = procfs_parent,
        .readdir = procfs_readdir, .readlink = procfs_readlink,
        .open = procfs_vopen, .release = procfs_release,
};

long procfs_new_sb(struct vfs_sb **out)
{
        struct vfs_sb *sb = kzalloc(sizeof *sb);

        if (!sb)
                return -ENOMEM;
        sb->fstype = "proc";
        sb->dev = 0x14;
        sb->magic = PROC_SUPER_MAGIC;
        sb->next_ino = 1;
        if (!(sb->root = pnode(sb, "/proc", S_IFDIR | 0555))) {
                kfree(sb);
                return -ENOMEM;
        }
        *out = sb;
        return 0;
}

void procfs_destroy_sb(struct vfs_sb *sb)
{
        vnode_put(sb->root);
        kfree(sb);
}
