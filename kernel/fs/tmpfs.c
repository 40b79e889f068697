/*
 * tmpfs.c - a file system in memory: the root file system (filled from
 * the initramfs at boot, as Linux's rootfs), /tmp, /dev/shm, /dev.
 *
 * Directories are lists of entries, each holding a reference to the vnode
 * it names; a directory holds a reference to its parent for "..". Regular
 * files keep their bytes in a page-cache object (vm_object_create_cache());
 * a file copied from the initramfs starts with the archive's bytes as the
 * object's source, so no page is copied until someone reads or writes it.
 * Symlinks keep their target in vn->priv.
 *
 * Size limit: a mount's pages (resident pages of its files) may not pass
 * sb->quota.limit (size=; half of RAM by default, as Linux). Each file's
 * object is charged to the mount's quota, so whoever would add a page
 * past it is refused: write and fallocate get ENOSPC, a fault in a
 * shared mapping SIGBUS (as Linux's shmem). The same budget's pages are
 * charged to the commit count one by one (Committed_AS; mode 2 refuses
 * past CommitLimit the same way: vm_commit.h), as Linux charges its
 * VM_NORESERVE shmem files.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/vfs.h>
#include <vm/hugetlb.h>
#include <vm/pmap.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vmstat.h>

#define TMPFS_MAGIC     0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define BOGO_DIRENT_SIZE 20     /* a directory's st_size per entry, as Linux */

struct tmpfs_dirent {
        struct tmpfs_dirent *next;
        struct vnode        *vn;        /* a reference */
        uint64_t             cookie;    /* readdir position, increasing */
        size_t               len;
        char                 name[];
};

struct tmpfs_dir {
        struct tmpfs_dirent *first;
        struct vnode        *parent;    /* a reference; NULL at the root or
                                           once removed */
        uint64_t             next_cookie;
        uint64_t             count;
};

/* The sbs alive (for vfs_shmem_pages). */
struct tmpfs_sb_list {
        struct vfs_sb *sb;
        struct tmpfs_sb_list *next;
};

static const struct vnode_ops tmpfs_ops;
struct vfs_sb *tmpfs_shm_sb;
static struct vfs_sb *memfd_sb;
static const enum vm_shmem_huge *huge_policy_of(const struct vfs_sb *sb);
static uint64_t next_dev = 0x20;        /* st_dev 0:32 on, as Linux's anon */

bool tmpfs_owns(const struct vnode *vn)
{
        return vn->ops == &tmpfs_ops;
}

static struct tmpfs_dir *dir_of(struct vnode *vn)
{
        return vn->priv;
}

static struct tmpfs_dirent *dir_find(struct vnode *dir, const char *name,
                                     size_t len, struct tmpfs_dirent ***link)
{
        struct tmpfs_dirent **l = &dir_of(dir)->first;

        for (; *l; l = &(*l)->next) {
                if ((*l)->len == len && memcmp((*l)->name, name, len) == 0) {
                        if (link)
                                *link = l;
                        return *l;
                }
        }
        return NULL;
}

/* Add an entry name -> vn (taking a reference and a link). */
static long dir_add(struct vnode *dir, const char *name, size_t len,
                    struct vnode *vn)
{
        struct tmpfs_dir *d = dir_of(dir);
        struct tmpfs_dirent *e = kmalloc(sizeof *e + len), **l;

        if (!e)
                return -ENOMEM;
        memcpy(e->name, name, len);
        e->len = len;
        e->vn = vnode_get(vn);
        e->cookie = d->next_cookie++;
        e->next = NULL;
        for (l = &d->first; *l; l = &(*l)->next)
                ;
        *l = e;
        d->count++;
        dir->size += BOGO_DIRENT_SIZE;
        vn->nlink++;
        dir->mtime = dir->ctime = vfs_now();
        return 0;
}

/* Take the entry at *link out; its reference goes to the caller. */
static struct vnode *dir_take(struct vnode *dir, struct tmpfs_dirent **link)
{
        struct tmpfs_dirent *e = *link;
        struct vnode *vn = e->vn;

        *link = e->next;
        kfree(e);
        dir_of(dir)->count--;
        dir->size -= BOGO_DIRENT_SIZE;
        dir->mtime = dir->ctime = vfs_now();
        return vn;
}

/*
 * Make regular file vn, still empty, a file of explicit huge pages (a
 * MFD_HUGETLB memfd, vm/hugetlb.h): its page cache becomes an object of
 * pool pages spanning the largest file, with no budget. read() reads it,
 * write() is EINVAL and sizes are whole huge pages (Linux 6.1's
 * hugetlbfs); its pages come in through mappings (sys_mem.c).
 */
long vnode_make_hugetlb(struct vnode *vn)
{
        struct vm_object *obj;
        uint64_t huge = pmap_huge_size();

        if (hugetlb_object_create((VM_FILE_CACHE_MAX_BYTES + 1) & ~(huge - 1),
                                  false, &obj) != VM_OK)
                return -ENOMEM;
        vm_object_unref(vn->obj);
        vn->obj = obj;
        return 0;
}

static struct vnode *tmpfs_new(struct vfs_sb *sb, uint32_t mode)
{
        struct vnode *vn = vnode_alloc(sb, &tmpfs_ops, mode);

        if (!vn)
                return NULL;
        if (S_ISDIR(mode)) {
                struct tmpfs_dir *d = kzalloc(sizeof *d);
                if (!d) {
                        vnode_put(vn);
                        return NULL;
                }
                d->next_cookie = 2;
                vn->priv = d;
                vn->size = 2 * BOGO_DIRENT_SIZE;        /* "." and ".." */
        } else if (S_ISREG(mode)) {
                if (vm_object_create_cache(NULL, 0, &vn->obj) != VM_OK) {
                        vnode_put(vn);
                        return NULL;
                }
                vm_object_set_quota(vn->obj, &sb->quota);
                vn->obj->huge_policy = huge_policy_of(sb);
                vn->seals = 0x1;        /* F_SEAL_SEAL: only memfds seal */
                if (sb->magic == HUGETLBFS_MAGIC && vnode_make_hugetlb(vn)) {
                        vnode_put(vn);
                        return NULL;
                }
        }
        return vn;
}

long tmpfs_make_unnamed(struct vfs_sb *sb, uint32_t mode, struct vnode **out)
{
        struct vnode *vn = tmpfs_new(sb, mode);

        if (!vn)
                return -ENOMEM;
        *out = vn;
        return 0;
}

/* ---- directory operations ------------------------------------------- */

static long tmpfs_lookup(struct vnode *dir, const char *name, size_t len,
                         struct vnode **out)
{
        struct tmpfs_dirent *e = dir_find(dir, name, len, NULL);

        if (!e)
                return -ENOENT;
        *out = vnode_get(e->vn);
        return 0;
}

static long tmpfs_parent(struct vnode *dir, struct vnode **out)
{
        struct vnode *p = dir_of(dir)->parent;

        if (!p)
                return dir->nlink ? (*out = vnode_get(dir), 0) : -ENOENT;
        *out = vnode_get(p);
        return 0;
}

static long tmpfs_insert(struct vnode *dir, const char *name, size_t len,
                         struct vnode *vn, struct vnode **out)
{
        long err;

        if (dir_find(dir, name, len, NULL)) {
                vnode_put(vn);
                return -EEXIST;
        }
        if ((err = dir_add(dir, name, len, vn)) != 0) {
                vnode_put(vn);
                return err;
        }
        if (S_ISDIR(vn->mode)) {
                dir_of(vn)->parent = vnode_get(dir);
                vn->nlink++;            /* its own "." */
                dir->nlink++;           /* its ".." */
        }
        if (out)
                *out = vn;
        else
                vnode_put(vn);
        return 0;
}

static long tmpfs_create(struct vnode *dir, const char *name, size_t len,
                         uint32_t mode, uint64_t rdev, struct vnode **out)
{
        uint32_t gid = vfs_new_inode_group(dir, &mode);
        struct vnode *vn = tmpfs_new(dir->sb, mode);

        if (!vn)
                return -ENOMEM;
        vn->gid = gid;
        vn->rdev = rdev;
        return tmpfs_insert(dir, name, len, vn, out);
}

static long tmpfs_mkdir(struct vnode *dir, const char *name, size_t len,
                        uint32_t mode, struct vnode **out)
{
        return tmpfs_create(dir, name, len, S_IFDIR | (mode & 07777), 0, out);
}

static long tmpfs_symlink(struct vnode *dir, const char *name, size_t len,
                          const char *target, struct vnode **out)
{
        size_t tlen = strlen(target);
        struct vnode *vn = tmpfs_new(dir->sb, S_IFLNK | 0777);
        char *t = kmalloc(tlen + 1);

        if (!vn || !t) {
                kfree(t);
                vnode_put(vn);
                return -ENOMEM;
        }
        memcpy(t, target, tlen + 1);
        vn->priv = t;
        vn->size = tlen;
        return tmpfs_insert(dir, name, len, vn, out);
}

static long tmpfs_link(struct vnode *dir, const char *name, size_t len,
                       struct vnode *target)
{
        if (dir_find(dir, name, len, NULL))
                return -EEXIST;
        long err = dir_add(dir, name, len, target);
        if (!err)
                target->ctime = vfs_now();
        return err;
}

/* Drop one link of vn, the one dir held (its reference goes too). */
static void drop_link(struct vnode *dir, struct vnode *vn)
{
        vn->nlink--;
        vn->ctime = vfs_now();
        if (S_ISDIR(vn->mode)) {
                struct tmpfs_dir *d = dir_of(vn);
                vn->nlink--;            /* "." */
                dir->nlink--;           /* ".." */
                vnode_put(d->parent);
                d->parent = NULL;
        }
        vnode_put(vn);
}

static long tmpfs_unlink(struct vnode *dir, const char *name, size_t len)
{
        struct tmpfs_dirent **link;

        if (!dir_find(dir, name, len, &link))
                return -ENOENT;
        drop_link(dir, dir_take(dir, link));
        return 0;
}

static long tmpfs_rmdir(struct vnode *dir, const char *name, size_t len)
{
        struct tmpfs_dirent **link, *e = dir_find(dir, name, len, &link);

        if (!e)
                return -ENOENT;
        if (!S_ISDIR(e->vn->mode))
                return -ENOTDIR;
        if (dir_of(e->vn)->count)
                return -ENOTEMPTY;
        drop_link(dir, dir_take(dir, link));
        return 0;
}

/* Re-point a moved directory's ".." from odir to ndir. */
static void reparent(struct vnode *vn, struct vnode *odir, struct vnode *ndir)
{
        if (!S_ISDIR(vn->mode) || odir == ndir)
                return;
        dir_of(vn)->parent = vnode_get(ndir);
        ndir->nlink++;
        odir->nlink--;
        vnode_put(odir);
}

static long tmpfs_rename(struct vnode *odir, const char *oname, size_t olen,
                         struct vnode *ndir, const char *nname, size_t nlen,
                         unsigned flags)
{
        struct tmpfs_dirent **olink, **nlink;
        struct tmpfs_dirent *o = dir_find(odir, oname, olen, &olink);
        struct tmpfs_dirent *n = dir_find(ndir, nname, nlen, &nlink);

        if (!o)
                return -ENOENT;
        if (o == n)
                return 0;
        if (flags) {                    /* RENAME_EXCHANGE */
                struct vnode *a = o->vn, *b = n->vn;
                o->vn = b;
                n->vn = a;
                reparent(a, odir, ndir);
                reparent(b, ndir, odir);
                odir->mtime = odir->ctime = ndir->mtime = ndir->ctime = vfs_now();
                return 0;
        }
        if (n) {                        /* replace: the VFS checked types */
                if (S_ISDIR(n->vn->mode) && dir_of(n->vn)->count)
                        return -ENOTEMPTY;
                struct vnode *old = n->vn;
                n->vn = o->vn;
                o->vn = NULL;
                dir_take(odir, olink);
                reparent(n->vn, odir, ndir);
                drop_link(ndir, old);
                n->vn->ctime = vfs_now();
                ndir->mtime = ndir->ctime = vfs_now();
                return 0;
        }
        struct vnode *vn = o->vn;
        long err = dir_add(ndir, nname, nlen, vn);  /* takes a ref + link */
        if (err)
                return err;
        vn->nlink--;
        dir_take(odir, olink);
        reparent(vn, odir, ndir);
        vnode_put(vn);                  /* the old entry's reference */
        vn->ctime = vfs_now();
        return 0;
}

static long tmpfs_readdir(struct vnode *dir, uint64_t *cookie,
                          struct vfs_dirent *out)
{
        struct tmpfs_dir *d = dir_of(dir);

        if (*cookie < 2) {
                struct vnode *p = d->parent ? d->parent : dir;
                out->namelen = *cookie + 1;
                memcpy(out->name, "..", out->namelen);
                out->name[out->namelen] = '\0';
                out->ino = *cookie ? p->ino : dir->ino;
                out->type = S_IFDIR >> 12;
                (*cookie)++;
                return 0;
        }
        for (struct tmpfs_dirent *e = d->first; e; e = e->next) {
                if (e->cookie < *cookie)
                        continue;
                memcpy(out->name, e->name, e->len);
                out->name[e->len] = '\0';
                out->namelen = e->len;
                out->ino = e->vn->ino;
                out->type = (uint8_t)((e->vn->mode & S_IFMT) >> 12);
                *cookie = e->cookie + 1;
                return 0;
        }
        return 1;
}

static long tmpfs_readlink(struct vnode *vn, char *buf, size_t size)
{
        size_t n = MIN(size, vn->size);

        memcpy(buf, vn->priv, n);
        return (long)n;
}

static void tmpfs_release(struct vnode *vn)
{
        if (S_ISDIR(vn->mode)) {
                struct tmpfs_dir *d = vn->priv;
                if (d) {
                        /* Only at shutdown can a directory go with entries. */
                        while (d->first)
                                drop_link(vn, dir_take(vn, &d->first));
                        vnode_put(d->parent);
                        kfree(d);
                }
        } else if (S_ISLNK(vn->mode)) {
                kfree(vn->priv);
        }
        vn->priv = NULL;
}

static const struct vnode_ops tmpfs_ops = {
        .lookup = tmpfs_lookup, .parent = tmpfs_parent,
        .create = tmpfs_create, .mkdir = tmpfs_mkdir,
        .symlink = tmpfs_symlink, .link = tmpfs_link,
        .unlink = tmpfs_unlink, .rmdir = tmpfs_rmdir,
        .rename = tmpfs_rename, .readdir = tmpfs_readdir,
        .readlink = tmpfs_readlink, .release = tmpfs_release,
};

/* ---- super blocks, size limits ------------------------------------- */

#define MAX_TMPFS 32
static struct vfs_sb *tmpfs_sbs[MAX_TMPFS];
/* Each mount's huge= (vm_object.h), by slot: its files' objects point
 * here, and an array that never goes keeps an object that outlives its
 * mount from pointing into freed memory (a later mount in the slot then
 * decides for it). */
static enum vm_shmem_huge tmpfs_huge[MAX_TMPFS];

static const char *const huge_words[] = {
        [VM_SHMEM_HUGE_ALWAYS] = "always",
        [VM_SHMEM_HUGE_WITHIN_SIZE] = "within_size",
        [VM_SHMEM_HUGE_ADVISE] = "advise", [VM_SHMEM_HUGE_NEVER] = "never",
};

static int slot_of(const struct vfs_sb *sb)
{
        for (int i = 0; i < MAX_TMPFS; i++)
                if (tmpfs_sbs[i] == sb)
                        return i;
        return -1;
}

/* The policy a new file of sb follows: memfds (which live on no mount
 * a user made) follow shmem_enabled as Linux's internal mount; hugetlbfs
 * and anything else: none. */
static const enum vm_shmem_huge *huge_policy_of(const struct vfs_sb *sb)
{
        int i;

        if (sb == memfd_sb)
                return &vm_shmem_internal_huge;
        if (sb->magic != TMPFS_MAGIC || (i = slot_of(sb)) < 0)
                return NULL;
        return &tmpfs_huge[i];
}

const char *tmpfs_huge_option(const struct vfs_sb *sb)
{
        int i = sb == memfd_sb ? -1 : slot_of(sb);

        return i >= 0 && tmpfs_huge[i] != VM_SHMEM_HUGE_NEVER
                       ? huge_words[tmpfs_huge[i]] : NULL;
}

/* Parse "size=N[kmg%],mode=OOO,huge=WORD,..." (unknown options: EINVAL, as
 * Linux). *huge is left alone unless huge= is given. */
static long parse_options(const char *opt, uint64_t *pages, uint32_t *mode,
                          enum vm_shmem_huge *huge)
{
        while (opt && *opt) {
                const char *end = strchr(opt, ',');
                size_t len = end ? (size_t)(end - opt) : strlen(opt);
                uint64_t v = 0;
                size_t i;

                if (len > 5 && memcmp(opt, "size=", 5) == 0) {
                        for (i = 5; i < len && opt[i] >= '0' && opt[i] <= '9'; i++)
                                v = v * 10 + (uint64_t)(opt[i] - '0');
                        if (i == 5)
                                return -EINVAL;
                        if (i < len) {
                                char u = opt[i++];
                                if (u == 'k' || u == 'K') v <<= 10;
                                else if (u == 'm' || u == 'M') v <<= 20;
                                else if (u == 'g' || u == 'G') v <<= 30;
                                else if (u == '%')
                                        v = vmstat.managed_pages * PAGE_SIZE / 100 * v;
                                else
                                        return -EINVAL;
                        }
                        if (i != len)
                                return -EINVAL;
                        *pages = page_round(v) >> PAGE_SHIFT;
                } else if (len > 5 && memcmp(opt, "mode=", 5) == 0) {
                        for (i = 5; i < len && opt[i] >= '0' && opt[i] <= '7'; i++)
                                v = v * 8 + (uint64_t)(opt[i] - '0');
                        if (i != len)
                                return -EINVAL;
                        *mode = (uint32_t)v & 07777;
                } else if (len >= 5 && memcmp(opt, "huge=", 5) == 0) {
                        size_t k = 0;

                        while (k < sizeof huge_words / sizeof huge_words[0] &&
                               !(strlen(huge_words[k]) == len - 5 &&
                                 memcmp(opt + 5, huge_words[k], len - 5) == 0))
                                k++;
                        if (k == sizeof huge_words / sizeof huge_words[0])
                                return -EINVAL;
                        *huge = (enum vm_shmem_huge)k;
                } else if (!(len == 2 && memcmp(opt, "rw", 2) == 0) && len) {
                        return -EINVAL;
                }
                opt = end ? end + 1 : NULL;
        }
        return 0;
}

long tmpfs_new_sb(const char *options, struct vfs_sb **out)
{
        uint64_t pages = vmstat.managed_pages / 2;
        uint32_t mode = 01777;
        enum vm_shmem_huge huge = VM_SHMEM_HUGE_NEVER;  /* Linux's default */
        struct vfs_sb *sb;
        long err = parse_options(options, &pages, &mode, &huge);
        int slot;

        if (err)
                return err;
        for (slot = 0; slot < MAX_TMPFS && tmpfs_sbs[slot]; slot++)
                ;
        if (slot == MAX_TMPFS)
                return -ENOMEM;
        if (!(sb = kzalloc(sizeof *sb)))
                return -ENOMEM;
        sb->fstype = "tmpfs";
        sb->dev = next_dev++;
        sb->quota.limit = pages;
        sb->quota.commit = true;        /* Linux's shmem_acct_block */
        sb->magic = TMPFS_MAGIC;
        sb->next_ino = 1;
        sb->root = tmpfs_new(sb, S_IFDIR | mode);
        if (!sb->root) {
                kfree(sb);
                return -ENOMEM;
        }
        sb->root->nlink = 2;
        vm_commit_quota_register(&sb->quota);
        tmpfs_sbs[slot] = sb;
        tmpfs_huge[slot] = huge;
        *out = sb;
        return 0;
}

/*
 * hugetlbfs: a tmpfs whose regular files are files of explicit huge pages
 * (vnode_make_hugetlb: pool pages through mappings, write() EINVAL, sizes
 * in whole huge pages). Options as Linux's: pagesize= must name the one
 * huge size (EINVAL otherwise); size=, min_size=, nr_inodes=, uid=, gid=
 * are taken but not enforced; mode= sets the root's mode (default 0755).
 */
static long hugetlbfs_options(const char *opt, uint32_t *mode)
{
        static const char *const taken[] = {
                "size=", "min_size=", "nr_inodes=", "uid=", "gid=",
        };

        while (opt && *opt) {
                const char *end = strchr(opt, ',');
                size_t len = end ? (size_t)(end - opt) : strlen(opt), i;
                uint64_t v = 0;
                bool ok = len == 0 || (len == 2 && memcmp(opt, "rw", 2) == 0);

                if (len > 9 && memcmp(opt, "pagesize=", 9) == 0) {
                        for (i = 9; i < len && opt[i] >= '0' && opt[i] <= '9'; i++)
                                v = v * 10 + (uint64_t)(opt[i] - '0');
                        if (i < len && (opt[i] == 'k' || opt[i] == 'K'))
                                v <<= 10, i++;
                        else if (i < len && (opt[i] == 'm' || opt[i] == 'M'))
                                v <<= 20, i++;
                        else if (i < len && (opt[i] == 'g' || opt[i] == 'G'))
                                v <<= 30, i++;
                        if (i != len || v != pmap_huge_size())
                                return -EINVAL;
                        ok = true;
                } else if (len > 5 && memcmp(opt, "mode=", 5) == 0) {
                        for (i = 5; i < len && opt[i] >= '0' && opt[i] <= '7'; i++)
                                v = v * 8 + (uint64_t)(opt[i] - '0');
                        if (i != len)
                                return -EINVAL;
                        *mode = (uint32_t)v & 07777;
                        ok = true;
                }
                for (i = 0; i < sizeof taken / sizeof taken[0] && !ok; i++)
                        ok = len > strlen(taken[i]) &&
                             memcmp(opt, taken[i], strlen(taken[i])) == 0;
                if (!ok)
                        return -EINVAL;
                opt = end ? end + 1 : NULL;
        }
        return 0;
}

long hugetlbfs_new_sb(const char *options, struct vfs_sb **out)
{
        uint32_t mode = 0755;
        struct vfs_sb *sb;
        long err = hugetlbfs_options(options, &mode);

        if (err || (err = tmpfs_new_sb(NULL, &sb)))
                return err;
        sb->fstype = "hugetlbfs";
        sb->magic = HUGETLBFS_MAGIC;
        sb->quota.limit = UINT64_MAX;   /* the pool is the limit */
        sb->root->mode = S_IFDIR | mode;
        *out = sb;
        return 0;
}

long tmpfs_remount(struct vfs_sb *sb, const char *options)
{
        uint64_t pages = sb->quota.limit;
        uint32_t mode = 0;
        int slot = slot_of(sb);
        enum vm_shmem_huge huge = slot >= 0 ? tmpfs_huge[slot]
                                            : VM_SHMEM_HUGE_NEVER;
        long err = parse_options(options, &pages, &mode, &huge);

        if (err)
                return err;
        if (pages < sb->quota.used)
                return -EINVAL;         /* Linux: smaller than its contents */
        sb->quota.limit = pages;        /* mode=: the root keeps its mode */
        if (slot >= 0)                  /* files there follow it at once */
                tmpfs_huge[slot] = huge;
        return 0;
}

/* Remove every entry under root, deepest first, without recursion (the
 * kernel stack is small and trees may be deep): each round walks down
 * the first entries to a directory whose first entry can go. */
static void tmpfs_clear(struct vnode *root)
{
        while (dir_of(root)->first) {
                struct vnode *dir = root;
                struct tmpfs_dirent *e = dir_of(dir)->first;
                while (S_ISDIR(e->vn->mode) && dir_of(e->vn)->first) {
                        dir = e->vn;
                        e = dir_of(dir)->first;
                }
                drop_link(dir, dir_take(dir, &dir_of(dir)->first));
        }
}

void tmpfs_destroy_sb(struct vfs_sb *sb)
{
        tmpfs_clear(sb->root);
        for (int i = 0; i < MAX_TMPFS; i++)
                if (tmpfs_sbs[i] == sb)
                        tmpfs_sbs[i] = NULL;
        if (tmpfs_shm_sb == sb)
                tmpfs_shm_sb = NULL;
        vnode_put(sb->root);
        vm_commit_quota_unregister(&sb->quota);
        kfree(sb);
}

struct vfs_sb *tmpfs_memfd_sb(void)
{
        if (!memfd_sb && tmpfs_new_sb(NULL, &memfd_sb) == 0)
                memfd_sb->quota.limit = UINT64_MAX;     /* no size= */
        return memfd_sb;
}

void tmpfs_memfd_shutdown(void)
{
        if (memfd_sb)
                tmpfs_destroy_sb(memfd_sb);
        memfd_sb = NULL;
}

void tmpfs_show_mem(void)
{
        for (int i = 0; i < MAX_TMPFS; i++) {
                const struct vfs_sb *sb = tmpfs_sbs[i];

                if (sb && sb->quota.used)
                        pr_err("mercator: oom: tmpfs dev 0:%u (%s): %" PRIu64
                               " pages resident or swapped, %" PRIu64
                               " inodes\n", (unsigned)sb->dev,
                               sb == memfd_sb ? "memfd"
                               : sb == tmpfs_shm_sb ? "/dev/shm" : "mounted",
                               sb->quota.used, (uint64_t)sb->nr_inodes);
        }
}

bool tmpfs_room(const struct vnode *vn, uint64_t pages)
{
        return vm_quota_room(&vn->sb->quota, pages);
}

uint64_t vfs_shmem_pages(void)
{
        return vmstat.shmem_pages;
}
