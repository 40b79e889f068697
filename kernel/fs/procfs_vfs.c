/*
 * procfs_vfs.c - /proc as a mounted file system: the VFS side of procfs.
 *
 * Each vnode names a path under /proc (vn->priv, e.g. "/proc/12/maps").
 * What exists, what a directory lists and where a link points are
 * procfs.c's (procfs_mode, procfs_list, procfs_link); opening hands the
 * path to procfs_open(). A vnode is made per lookup, so a file that
 * stops existing (its process exited) fails at open with ENOENT.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/file.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>

#define PROC_SUPER_MAGIC 0x9fa0


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
        procfs_owner(path, &vn->uid, &vn->gid);     /* not the looker's */
        return vn;
}

struct vnode *procfs_vnode(struct vfs_sb *sb, const char *path, uint32_t mode)
{
        return pnode(sb, path, mode);
}

static uint32_t kind_of(const char *path)
{
        return procfs_mode(path);
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

struct nth_entry {
        uint64_t          want, seen;
        struct vfs_dirent *out;
        bool              found;
};

static bool take_nth(void *arg, const char *name, uint32_t mode)
{
        struct nth_entry *n = arg;

        if (n->seen++ != n->want)
                return true;
        n->out->namelen = strlen(name);
        memcpy(n->out->name, name, n->out->namelen + 1);
        n->out->type = (uint8_t)(mode >> 12);
        n->found = true;
        return false;
}

/* ".", "..", then procfs_list()'s entries in its order; the cookie is
 * the index (a directory that changes between calls may skip or repeat
 * an entry, as Linux's /proc may). */
static long procfs_vreaddir(struct vnode *dir, uint64_t *cookie,
                            struct vfs_dirent *out)
{
        if (*cookie < 2) {
                out->namelen = (size_t)*cookie + 1;
                memcpy(out->name, "..", out->namelen);
                out->name[out->namelen] = '\0';
                out->ino = dir->ino;
                out->type = S_IFDIR >> 12;
                (*cookie)++;
                return 0;
        }
        struct nth_entry n = { .want = *cookie - 2, .out = out };
        long err = procfs_list(dir->priv, take_nth, &n);
        if (err)
                return err;
        if (!n.found)
                return 1;
        out->ino = 0x100000 + *cookie;  /* a fresh vnode gets its own */
        (*cookie)++;
        return 0;
}

static long procfs_vreadlink(struct vnode *vn, char *buf, size_t size)
{
        char *tmp = kmalloc(VFS_PATH_MAX);
        long n = tmp ? procfs_link(vn->priv, tmp, VFS_PATH_MAX) : -ENOMEM;

        if (n >= 0) {
                n = MIN(n, (long)size);
                memcpy(buf, tmp, (size_t)n);
        }
        kfree(tmp);
        return n;
}

static long procfs_vfollow(struct vnode *vn, struct vnode **out)
{
        return procfs_follow(vn->priv, vn->sb, out);
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
        .readdir = procfs_vreaddir, .readlink = procfs_vreadlink,
        .follow = procfs_vfollow, .open = procfs_vopen, .release = procfs_release,
};

long procfs_new_sb(struct vfs_sb **out)
{
        struct vfs_sb *sb = kzalloc(sizeof *sb);

        if (!sb)
                return -ENOMEM;
        sb->fstype = "proc";
        sb->dev = 0x14;
        sb->magic = PROC_SUPER_MAGIC;
        sb->fixed_attrs = true;
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
