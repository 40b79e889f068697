/*
 * sysfs.c - /sys as a mounted file system (see sysfs.h).
 *
 * A vnode's priv is its node in the static tree (never freed); a vnode is
 * made per lookup. Opening a file makes its text once (show), so a reader
 * sees one snapshot; each write(2) goes to store() whole.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/abi_stat.h>
#include <fs/file.h>
#include <fs/procfs.h>
#include <fs/sysfs.h>
#include <fs/vfs.h>
#include <vm/kmalloc.h>
#include <vm/vmalloc.h>

#define SYSFS_MAGIC     0x62656572

/* ---- the tree -------------------------------------------------------------- */

static const struct sysfs_node kernel_mm[] = {
        SYSFS_DIR("hugepages", sysfs_hugepages_dir),
        SYSFS_DIR("transparent_hugepage", sysfs_thp_dir),
        { 0 },
};

static const struct sysfs_node kernel_dir[] = {
        SYSFS_DIR("mm", kernel_mm),
        { 0 },
};

static const struct sysfs_node empty_dir[] = {
        { 0 },
};

/* fs/cgroup: where the cgroup2 file system is mounted at boot. */
static const struct sysfs_node fs_dir[] = {
        SYSFS_DIR("cgroup", empty_dir),
        { 0 },
};

static const struct sysfs_node system_dir[] = {
        SYSFS_DIR("cpu", sysfs_cpu_dir),
        { 0 },
};

static const struct sysfs_node devices_dir[] = {
        SYSFS_DIR("system", system_dir),
        { 0 },
};

static const struct sysfs_node root_dir[] = {
        SYSFS_DIR("devices", devices_dir),
        SYSFS_DIR("fs", fs_dir),
        SYSFS_DIR("kernel", kernel_dir),
        { 0 },
};

static const struct sysfs_node sys_root = SYSFS_DIR("sys", root_dir);

/* The directory holding node n, searched from dir (the tree is small). */
static const struct sysfs_node *parent_in(const struct sysfs_node *dir,
                                          const struct sysfs_node *n)
{
        for (const struct sysfs_node *e = dir->sub; e && e->name; e++) {
                if (e == n)
                        return dir;
                const struct sysfs_node *p = e->sub ? parent_in(e, n) : NULL;
                if (p)
                        return p;
        }
        return NULL;
}

/* ---- helpers for attributes ------------------------------------------------ */

bool sysfs_streq(const char *buf, size_t len, const char *word)
{
        size_t wl = strlen(word);

        if (len == wl + 1 && buf[wl] == '\n')
                len--;
        return len == wl && memcmp(buf, word, wl) == 0;
}

void sysfs_show_choice(struct text *t, const char *const *choices, size_t n,
                       size_t cur)
{
        for (size_t i = 0; i < n; i++)
                text_add(t, i == cur ? "%s[%s]" : "%s%s", i ? " " : "",
                         choices[i]);
        text_add(t, "\n");
}

long sysfs_pick_choice(const char *buf, size_t len, const char *const *choices,
                       size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (sysfs_streq(buf, len, choices[i]))
                        return (long)i;
        return -1;
}

/* ---- vnodes ---------------------------------------------------------------- */

static const struct vnode_ops sysfs_ops;

/* A node's inode number: stable (its address in the kernel image), so
 * that a path can be named again from readdir (vfs_path_of). */
static uint64_t node_ino(const struct sysfs_node *n)
{
        return (uint64_t)(uintptr_t)n & 0xffffffffffull;
}

/* The super block keeps one vnode per directory it has shown, so that a
 * file system mounted on one (cgroup2 on fs/cgroup) is found again. */
#define SYSFS_DIR_CACHE 16

struct sysfs_sb {
        const struct sysfs_node *node[SYSFS_DIR_CACHE];
        struct vnode            *vn[SYSFS_DIR_CACHE];
};

static struct vnode *snode_new(struct vfs_sb *sb, const struct sysfs_node *n);

static struct vnode *snode(struct vfs_sb *sb, const struct sysfs_node *n)
{
        struct sysfs_sb *ss = sb->priv;
        struct vnode *vn;

        if (!S_ISDIR(n->mode) || !ss)
                return snode_new(sb, n);
        for (unsigned i = 0; i < SYSFS_DIR_CACHE; i++)
                if (ss->node[i] == n)
                        return vnode_get(ss->vn[i]);
        if (!(vn = snode_new(sb, n)))
                return NULL;
        for (unsigned i = 0; i < SYSFS_DIR_CACHE; i++)
                if (!ss->node[i]) {
                        ss->node[i] = n;
                        ss->vn[i] = vnode_get(vn);
                        break;
                }
        return vn;
}

static struct vnode *snode_new(struct vfs_sb *sb, const struct sysfs_node *n)
{
        struct vnode *vn = vnode_alloc(sb, &sysfs_ops, n->mode);

        if (!vn)
                return NULL;
        vn->ino = node_ino(n);
        vn->priv = (void *)n;
        vn->nlink = 1;
        if (S_ISDIR(n->mode)) {
                vn->nlink = 2;
                for (const struct sysfs_node *e = n->sub; e->name; e++)
                        vn->nlink += S_ISDIR(e->mode);
        } else {
                vn->size = PAGE_SIZE;   /* as Linux's sysfs says */
        }
        vn->uid = vn->gid = 0;
        return vn;
}

static long sysfs_lookup(struct vnode *dir, const char *name, size_t len,
                         struct vnode **out)
{
        const struct sysfs_node *d = dir->priv;

        for (const struct sysfs_node *e = d->sub; e->name; e++)
                if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
                        return (*out = snode(dir->sb, e)) ? 0 : -ENOMEM;
        return -ENOENT;
}

static long sysfs_parent(struct vnode *dir, struct vnode **out)
{
        const struct sysfs_node *p = parent_in(&sys_root, dir->priv);

        if (!p)
                return -ENOENT;
        if (p == &sys_root) {
                *out = vnode_get(dir->sb->root);
                return 0;
        }
        return (*out = snode(dir->sb, p)) ? 0 : -ENOMEM;
}

/* ".", "..", then the table's entries; the cookie is the index. */
static long sysfs_readdir(struct vnode *dir, uint64_t *cookie,
                          struct vfs_dirent *out)
{
        const struct sysfs_node *d = dir->priv, *e = d->sub;
        uint64_t i = *cookie;

        if (i < 2) {
                out->namelen = (size_t)i + 1;
                memcpy(out->name, "..", out->namelen);
                out->name[out->namelen] = '\0';
                out->ino = dir->ino;
                out->type = S_IFDIR >> 12;
                (*cookie)++;
                return 0;
        }
        for (i -= 2; e->name && i; e++, i--)
                ;
        if (!e->name)
                return 1;
        out->namelen = strlen(e->name);
        memcpy(out->name, e->name, out->namelen + 1);
        out->type = (uint8_t)(e->mode >> 12);
        out->ino = node_ino(e);
        (*cookie)++;
        return 0;
}

/* ---- open files ------------------------------------------------------------ */

struct sfile {
        const struct sysfs_node *node;
        struct text              text;
};

#define O_ACCMODE       3

static long sfile_read(struct file *f, uint64_t ubuf, size_t len)
{
        const struct sfile *sf = f->node;

        return text_read_file(&sf->text, f, ubuf, len);
}

/* One write(2), at most a page less one byte of it (as Linux's kernfs),
 * to the attribute's store(). */
static long sfile_write(struct file *f, uint64_t ubuf, size_t len)
{
        const struct sfile *sf = f->node;
        char *buf;
        long n;

        if (!sf->node->store)
                return -EBADF;
        len = MIN(len, PAGE_SIZE - 1);
        if (len == 0)
                return 0;
        if (!(buf = text_from_user(ubuf, len, &n)))
                return n;
        n = sf->node->store(buf, len);
        kfree(buf);
        if (n > 0)
                f->offset += (uint64_t)n;
        return n;
}

static void sfile_stat(struct file *f, void *st)
{
        const struct sfile *sf = f->node;

        if (f->vnode) {
                vnode_stat(f->vnode, st);
                return;
        }
        struct linux_stat *s = st;
        memset(s, 0, sizeof *s);
        s->st_nlink = 1;
        s->st_mode = sf->node->mode;
        s->st_size = PAGE_SIZE;
        s->st_blksize = PAGE_SIZE;
}

static void sfile_release(struct file *f)
{
        struct sfile *sf = (struct sfile *)f->node;

        vfree(sf->text.buf);
        kfree(sf);
}

static const struct file_ops sfile_ops = {
        .read = sfile_read, .write = sfile_write, .stat = sfile_stat,
        .release = sfile_release, .seekable = true,
};

static long sysfs_open(struct vnode *vn, unsigned flags, struct file **out)
{
        const struct sysfs_node *n = vn->priv;
        struct sfile *sf;
        struct file *f;

        if ((flags & O_ACCMODE) && !n->store)
                return -EACCES;         /* kernfs: no store, no writer */
        sf = kzalloc(sizeof *sf);
        f = kzalloc(sizeof *f);
        if (sf)
                sf->text.buf = vmalloc(PAGE_SIZE);
        if (!sf || !f || !sf->text.buf) {
                if (sf)
                        vfree(sf->text.buf);
                kfree(sf), kfree(f);
                return -ENOMEM;
        }
        sf->node = n;
        sf->text.size = PAGE_SIZE;
        sf->text.buf[0] = '\0';
        if (n->show)
                n->show(&sf->text);
        *f = (struct file){ .ops = &sfile_ops, .refs = 1, .flags = flags,
                            .node = sf, .size = sf->text.len };
        *out = f;
        return 0;
}

static const struct vnode_ops sysfs_ops = {
        .lookup = sysfs_lookup, .parent = sysfs_parent,
        .readdir = sysfs_readdir, .open = sysfs_open,
};

long sysfs_new_sb(struct vfs_sb **out)
{
        struct vfs_sb *sb = kzalloc(sizeof *sb);

        if (!sb)
                return -ENOMEM;
        sb->fstype = "sysfs";
        sb->dev = 0x15;
        sb->magic = SYSFS_MAGIC;
        sb->fixed_attrs = true;
        sb->next_ino = 1;
        if (!(sb->root = snode(sb, &sys_root)) ||
            !(sb->priv = kzalloc(sizeof(struct sysfs_sb)))) {
                vnode_put(sb->root);
                kfree(sb);
                return -ENOMEM;
        }
        *out = sb;
        return 0;
}

void sysfs_destroy_sb(struct vfs_sb *sb)
{
        struct sysfs_sb *ss = sb->priv;

        for (unsigned i = 0; i < SYSFS_DIR_CACHE; i++)
                vnode_put(ss->vn[i]);
        kfree(ss);
        vnode_put(sb->root);
        kfree(sb);
}
