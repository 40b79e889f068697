/*
 * cgroupfs.c - the cgroup2 file system: Linux's unified control-group
 * hierarchy, mounted at /sys/fs/cgroup at boot (mount -t cgroup2 again
 * anywhere shows the same tree), with the memory controller's files.
 *
 * A directory is a group (vm/memcg.h), mkdir makes one, rmdir removes
 * one (EBUSY while it has processes or child groups, as Linux). Every
 * group has the cgroup.* files; a group below one whose
 * cgroup.subtree_control has "+memory" has the memory.* files too; the
 * root has memory.stat. Values are Linux's formats: bytes, "max" for no
 * limit.
 *
 * A vnode is made per lookup and holds a reference to its group (priv:
 * struct cgnode), so an open directory or file of a removed group stays
 * valid: lookups in it find nothing (ENOENT), writes fail with ENODEV, as
 * Linux's files of a removed cgroup. Opening a file makes its text once
 * (a reader sees one snapshot); each write(2) goes to the file's store
 * whole.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/kmalloc.h>
#include <vm/memcg.h>
#include <vm/vmalloc.h>

#define CGROUP2_SUPER_MAGIC     0x63677270
#define O_ACCMODE               3

/* Which groups have a file. */
enum { CG_ALL, CG_ROOT_ONLY, CG_NONROOT, CG_MEMORY, CG_ROOT_OR_MEMORY };

struct cgfile {
        const char *name;
        uint32_t    mode;
        int         where;
        void (*show)(struct memcg *g, struct text *t);
        long (*store)(struct memcg *g, const char *buf, size_t len);
};

struct cgnode {
        struct memcg        *g;         /* a reference */
        const struct cgfile *file;      /* NULL: the group's directory */
};

/* ---- values -------------------------------------------------------------- */

static void show_bytes(struct text *t, uint64_t pages)
{
        if (pages == MEMCG_UNLIMITED)
                text_add(t, "max\n");
        else
                text_add(t, "%" PRIu64 "\n", pages * PAGE_SIZE);
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n';
}

/* "max" or a byte count with an optional K/M/G/T suffix (Linux's
 * memparse), rounded down to pages. => 0 or -EINVAL. */
static long parse_bytes(const char *buf, size_t len, uint64_t *pages)
{
        uint64_t v = 0;
        size_t i = 0;

        while (len && is_space(buf[len - 1]))
                len--;
        while (i < len && is_space(buf[i]))
                i++;
        if (len - i == 3 && memcmp(buf + i, "max", 3) == 0) {
                *pages = MEMCG_UNLIMITED;
                return 0;
        }
        if (i == len || buf[i] < '0' || buf[i] > '9')
                return -EINVAL;
        for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(buf[i] - '0');
        }
        if (i < len) {
                unsigned shift = 0;

                switch (buf[i++]) {
                case 'k': case 'K': shift = 10; break;
                case 'm': case 'M': shift = 20; break;
                case 'g': case 'G': shift = 30; break;
                case 't': case 'T': shift = 40; break;
                default: return -EINVAL;
                }
                if (i != len || v > (UINT64_MAX >> shift))
                        return -EINVAL;
                v <<= shift;
        }
        *pages = v / PAGE_SIZE;
        return 0;
}

/* ---- cgroup.* ------------------------------------------------------------ */

static void procs_show(struct memcg *g, struct text *t)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];

                if (p->state != PROC_FREE && proc_is_leader(p) &&
                    p->memcg == g)
                        text_add(t, "%d\n", p->pid);
        }
}

/* Move process p (a leader) into group g. */
static void move_proc(struct proc *p, struct memcg *g)
{
        struct memcg *old = p->memcg;

        if (old == g)
                return;
        memcg_attach(g);
        p->memcg = g;
        memcg_detach(old);
}

static long procs_store(struct memcg *g, const char *buf, size_t len)
{
        long pid = 0;
        size_t i = 0;
        struct proc *p;

        while (i < len && is_space(buf[i]))
                i++;
        if (i == len)
                return -EINVAL;
        for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
                pid = pid * 10 + (buf[i] - '0');
                if (pid > 0x7fffffff)
                        return -EINVAL;
        }
        while (i < len && is_space(buf[i]))
                i++;
        if (i != len)
                return -EINVAL;
        p = pid ? proc_find((int)pid) : current;
        if (!p || p->state == PROC_FREE || p->state == PROC_ZOMBIE)
                return -ESRCH;
        p = group_of(p);
        if (!p->memcg)
                return -ESRCH;          /* exiting */
        if (!g->online)
                return -ENOENT;
        /* The "no internal processes" rule: a group that hands its
         * controllers to children holds no process itself. */
        if (g->parent && g->subtree_memory)
                return -EBUSY;
        move_proc(p, g);
        return (long)len;
}

static void controllers_show(struct memcg *g, struct text *t)
{
        text_add(t, "%s\n", !g->parent || g->parent->subtree_memory
                                ? "memory" : "");
}

static void subtree_show(struct memcg *g, struct text *t)
{
        text_add(t, "%s\n", g->subtree_memory ? "memory" : "");
}

/* "+memory", "-memory", space-separated; Linux checks every word first. */
static long subtree_store(struct memcg *g, const char *buf, size_t len)
{
        int want = -1;
        size_t i = 0;

        while (i < len) {
                size_t s;

                while (i < len && is_space(buf[i]))
                        i++;
                if (i == len)
                        break;
                s = i;
                while (i < len && !is_space(buf[i]))
                        i++;
                if ((buf[s] != '+' && buf[s] != '-'))
                        return -EINVAL;
                if (i - s != 7 || memcmp(buf + s + 1, "memory", 6) != 0)
                        return -EINVAL;         /* no such controller */
                want = buf[s] == '+';
        }
        if (want < 0 || want == g->subtree_memory)
                return (long)len;
        if (want) {
                if (g->parent && !g->parent->subtree_memory)
                        return -ENOENT;         /* not in cgroup.controllers */
                if (g->parent && g->nr_procs)
                        return -EBUSY;          /* internal processes */
        } else {
                for (struct memcg *c = g->children; c; c = c->sibling)
                        if (c->subtree_memory)
                                return -EBUSY;  /* a child passes it on */
        }
        g->subtree_memory = want;
        return (long)len;
}

static void type_show(struct memcg *g, struct text *t)
{
        (void)g;
        text_add(t, "domain\n");
}

static long type_store(struct memcg *g, const char *buf, size_t len)
{
        (void)g;
        if (len >= 6 && memcmp(buf, "domain", 6) == 0)
                return (long)len;
        return -EOPNOTSUPP;             /* threaded groups: not here */
}

/* Does any process live in g or below? */
static bool populated(const struct memcg *g)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];

                if (p->state != PROC_FREE && proc_is_leader(p) && p->memcg &&
                    memcg_is_descendant(p->memcg, g))
                        return true;
        }
        return false;
}

static void events_show(struct memcg *g, struct text *t)
{
        text_add(t, "populated %d\nfrozen 0\n", populated(g));
}

static unsigned descendants(const struct memcg *g)
{
        unsigned n = 0;

        for (const struct memcg *c = g->children; c; c = c->sibling)
                n += 1 + descendants(c);
        return n;
}

static void stat_show(struct memcg *g, struct text *t)
{
        text_add(t, "nr_descendants %u\nnr_dying_descendants 0\n",
                 descendants(g));
}

static void depth_show(struct memcg *g, struct text *t)
{
        (void)g;
        text_add(t, "max\n");
}

static long depth_store(struct memcg *g, const char *buf, size_t len)
{
        uint64_t v;

        (void)g;
        /* Accepted, not enforced: "max" or a number. */
        if (len && buf[0] == 'm')
                return parse_bytes(buf, len, &v) ? -EINVAL : (long)len;
        for (size_t i = 0; i < len; i++)
                if ((buf[i] < '0' || buf[i] > '9') && !is_space(buf[i]))
                        return -EINVAL;
        return (long)len;
}

static long kill_store(struct memcg *g, const char *buf, size_t len)
{
        if (!(len >= 1 && buf[0] == '1' && (len == 1 || is_space(buf[1]))))
                return -ERANGE;
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];

                if (p->state != PROC_FREE && proc_is_leader(p) && p->memcg &&
                    memcg_is_descendant(p->memcg, g))
                        (void)signal_send(p, SIGKILL, NULL);
        }
        return (long)len;
}

/* ---- memory.* ------------------------------------------------------------ */

static void current_show(struct memcg *g, struct text *t)
{
        text_add(t, "%" PRIu64 "\n", g->pages * PAGE_SIZE);
}

static void peak_show(struct memcg *g, struct text *t)
{
        text_add(t, "%" PRIu64 "\n", g->peak * PAGE_SIZE);
}

static void swap_current_show(struct memcg *g, struct text *t)
{
        text_add(t, "%" PRIu64 "\n", g->swap * PAGE_SIZE);
}

#define LIMIT_FILE(field)                                                    \
static void field##_show(struct memcg *g, struct text *t)                   \
{                                                                            \
        show_bytes(t, g->field);                                             \
}                                                                            \
static long field##_store(struct memcg *g, const char *buf, size_t len)     \
{                                                                            \
        uint64_t v;                                                          \
        long err = parse_bytes(buf, len, &v);                                \
                                                                             \
        if (err)                                                             \
                return err;                                                  \
        g->field = v;                                                        \
        limit_changed(g);                                                    \
        return (long)len;                                                    \
}

/* A limit went down: bring the group under it now (Linux's
 * memory_max_write reclaims and kills before it returns). */
static void limit_changed(struct memcg *g)
{
        oom_memcg_enforce(g);
}

LIMIT_FILE(min)
LIMIT_FILE(low)
LIMIT_FILE(high)
LIMIT_FILE(max)
LIMIT_FILE(swap_max)

static void mem_events_show(struct memcg *g, struct text *t)
{
        static const char *const names[MEMCG_NR_EVENTS] = {
                "low", "high", "max", "oom", "oom_kill", "oom_group_kill",
        };

        for (unsigned i = 0; i < MEMCG_NR_EVENTS; i++)
                text_add(t, "%s %" PRIu64 "\n", names[i], g->events[i]);
}

static void mem_events_local_show(struct memcg *g, struct text *t)
{
        static const char *const names[MEMCG_NR_EVENTS] = {
                "low", "high", "max", "oom", "oom_kill", "oom_group_kill",
        };

        for (unsigned i = 0; i < MEMCG_NR_EVENTS; i++)
                text_add(t, "%s %" PRIu64 "\n", names[i],
                         g->events_local[i]);
}

static void swap_events_show(struct memcg *g, struct text *t)
{
        (void)g;
        text_add(t, "high 0\nmax 0\nfail 0\n");
}

static void mem_stat_show(struct memcg *g, struct text *t)
{
        uint64_t anon, file;

        if (g == &memcg_root)
                memcg_root_fold();      /* lock-free faults' charges */
        anon = g->stat[MEMCG_ANON] * PAGE_SIZE;
        file = g->stat[MEMCG_FILE] * PAGE_SIZE;

        text_add(t, "anon %" PRIu64 "\nfile %" PRIu64 "\nkernel 0\n"
                 "kernel_stack 0\npagetables 0\nsock 0\n"
                 "shmem %" PRIu64 "\nfile_mapped 0\nfile_dirty 0\n"
                 "file_writeback 0\nswapcached 0\n", anon, file,
                 g->stat[MEMCG_SHMEM] * PAGE_SIZE);
        text_add(t, "inactive_anon %" PRIu64 "\nactive_anon 0\n"
                 "inactive_file %" PRIu64 "\nactive_file 0\nunevictable 0\n",
                 anon, file);
        text_add(t, "pgscan %" PRIu64 "\npgsteal %" PRIu64 "\n", g->pgscan,
                 g->pgsteal);
}

/* memory.oom.group: 0 or 1 (Linux's kstrtoint, then EINVAL for any other
 * number); proc/oom.c kills the whole group. */
static void oom_group_show(struct memcg *g, struct text *t)
{
        text_add(t, "%d\n", g->oom_group ? 1 : 0);
}

static long oom_group_store(struct memcg *g, const char *buf, size_t len)
{
        size_t i = 0, end = len;

        while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == ' ' ||
                           buf[end - 1] == '\0'))
                end--;
        while (i < end && buf[i] == ' ')
                i++;
        if (i < end && buf[i] == '+')
                i++;
        while (end - i > 1 && buf[i] == '0')
                i++;                    /* 01, 00: still 1 and 0 */
        if (end - i != 1 || (buf[i] != '0' && buf[i] != '1'))
                return -EINVAL;
        g->oom_group = buf[i] == '1';
        return (long)len;
}

/* ---- the table --------------------------------------------------------- */

#define RW      0100644
#define RO      0100444
#define WO      0100200

static const struct cgfile cg_files[] = {
        { "cgroup.controllers", RO, CG_ALL, controllers_show, NULL },
        { "cgroup.events", RO, CG_NONROOT, events_show, NULL },
        { "cgroup.kill", WO, CG_NONROOT, NULL, kill_store },
        { "cgroup.max.depth", RW, CG_NONROOT, depth_show, depth_store },
        { "cgroup.max.descendants", RW, CG_NONROOT, depth_show, depth_store },
        { "cgroup.procs", RW, CG_ALL, procs_show, procs_store },
        { "cgroup.stat", RO, CG_ALL, stat_show, NULL },
        { "cgroup.subtree_control", RW, CG_ALL, subtree_show, subtree_store },
        { "cgroup.type", RW, CG_NONROOT, type_show, type_store },
        { "memory.current", RO, CG_MEMORY, current_show, NULL },
        { "memory.events", RO, CG_MEMORY, mem_events_show, NULL },
        { "memory.events.local", RO, CG_MEMORY, mem_events_local_show, NULL },
        { "memory.high", RW, CG_MEMORY, high_show, high_store },
        { "memory.low", RW, CG_MEMORY, low_show, low_store },
        { "memory.max", RW, CG_MEMORY, max_show, max_store },
        { "memory.min", RW, CG_MEMORY, min_show, min_store },
        { "memory.oom.group", RW, CG_MEMORY, oom_group_show, oom_group_store },
        { "memory.peak", RO, CG_MEMORY, peak_show, NULL },
        { "memory.stat", RO, CG_ROOT_OR_MEMORY, mem_stat_show, NULL },
        { "memory.swap.current", RO, CG_MEMORY, swap_current_show, NULL },
        { "memory.swap.events", RO, CG_MEMORY, swap_events_show, NULL },
        { "memory.swap.max", RW, CG_MEMORY, swap_max_show, swap_max_store },
        { NULL, 0, 0, NULL, NULL },
};

static bool has_file(const struct memcg *g, const struct cgfile *f)
{
        bool memory = g->parent && g->parent->subtree_memory;

        switch (f->where) {
        case CG_ROOT_ONLY:      return !g->parent;
        case CG_NONROOT:        return g->parent;
        case CG_MEMORY:         return memory;
        case CG_ROOT_OR_MEMORY: return !g->parent || memory;
        default:                return true;
        }
}

/* ---- vnodes ---------------------------------------------------------- */

static const struct vnode_ops cg_ops;

static uint64_t cg_ino(const struct memcg *g, const struct cgfile *f)
{
        return ((uint64_t)g->id << 8) | (f ? (uint64_t)(f - cg_files) + 1 : 0);
}

static struct vnode *cgnode_new(struct vfs_sb *sb, struct memcg *g,
                                const struct cgfile *f)
{
        struct vnode *vn = vnode_alloc(sb, &cg_ops, f ? f->mode : 0040755);
        struct cgnode *n = kzalloc(sizeof *n);

        if (!vn || !n) {
                kfree(n);
                vnode_put(vn);
                return NULL;
        }
        n->g = memcg_get(g);
        n->file = f;
        vn->priv = n;
        vn->ino = cg_ino(g, f);
        vn->nlink = f ? 1 : 2 + g->nr_children;
        vn->uid = vn->gid = 0;
        return vn;
}

static long cg_lookup(struct vnode *dir, const char *name, size_t len,
                      struct vnode **out)
{
        struct memcg *g = ((struct cgnode *)dir->priv)->g, *c;

        if (!g->online)
                return -ENOENT;
        for (const struct cgfile *f = cg_files; f->name; f++)
                if (strlen(f->name) == len && memcmp(f->name, name, len) == 0 &&
                    has_file(g, f))
                        return (*out = cgnode_new(dir->sb, g, f)) ? 0 : -ENOMEM;
        if (!(c = memcg_child(g, name, len)))
                return -ENOENT;
        return (*out = cgnode_new(dir->sb, c, NULL)) ? 0 : -ENOMEM;
}

static long cg_parent(struct vnode *dir, struct vnode **out)
{
        struct memcg *g = ((struct cgnode *)dir->priv)->g;

        if (!g->parent)
                return -ENOENT;
        return (*out = cgnode_new(dir->sb, g->parent, NULL)) ? 0 : -ENOMEM;
}

/* ".", "..", the files, then the child groups; the cookie counts. */
static long cg_readdir(struct vnode *dir, uint64_t *cookie,
                       struct vfs_dirent *out)
{
        struct memcg *g = ((struct cgnode *)dir->priv)->g;
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
        if (!g->online)
                return 1;
        i -= 2;
        for (const struct cgfile *f = cg_files; f->name; f++) {
                if (!has_file(g, f) || i-- > 0)
                        continue;
                out->namelen = strlen(f->name);
                memcpy(out->name, f->name, out->namelen + 1);
                out->type = S_IFREG >> 12;
                out->ino = cg_ino(g, f);
                (*cookie)++;
                return 0;
        }
        for (struct memcg *c = g->children; c; c = c->sibling) {
                if (i-- > 0)
                        continue;
                out->namelen = strlen(c->name);
                memcpy(out->name, c->name, out->namelen + 1);
                out->type = S_IFDIR >> 12;
                out->ino = cg_ino(c, NULL);
                (*cookie)++;
                return 0;
        }
        return 1;
}

static long cg_mkdir(struct vnode *dir, const char *name, size_t len,
                     uint32_t mode, struct vnode **out)
{
        struct memcg *g = ((struct cgnode *)dir->priv)->g, *c;
        long err;

        (void)mode;
        if (!g->online)
                return -ENOENT;
        for (const struct cgfile *f = cg_files; f->name; f++)
                if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
                        return -EEXIST;
        if ((err = memcg_create(g, name, len, &c)))
                return err;
        *out = cgnode_new(dir->sb, c, NULL);
        memcg_put(c);
        if (!*out) {
                (void)memcg_remove(c);
                return -ENOMEM;
        }
        return 0;
}

static long cg_rmdir(struct vnode *dir, const char *name, size_t len)
{
        struct memcg *g = ((struct cgnode *)dir->priv)->g, *c;

        if (!(c = memcg_child(g, name, len)))
                return -ENOENT;
        return memcg_remove(c);
}

static void cg_release(struct vnode *vn)
{
        struct cgnode *n = vn->priv;

        memcg_put(n->g);
        kfree(n);
}

/* ---- open files ------------------------------------------------------ */

struct cgopen {
        struct memcg        *g;         /* a reference */
        const struct cgfile *file;
        struct text          text;
};

static long cgf_read(struct file *f, uint64_t ubuf, size_t len)
{
        const struct cgopen *o = f->node;

        return text_read_file(&o->text, f, ubuf, len);
}

static long cgf_write(struct file *f, uint64_t ubuf, size_t len)
{
        const struct cgopen *o = f->node;
        char *buf;
        long n;

        if (!o->file->store)
                return -EBADF;
        len = MIN(len, PAGE_SIZE - 1);
        if (len == 0)
                return 0;
        if (!o->g->online)
                return -ENODEV;
        if (!(buf = text_from_user(ubuf, len, &n)))
                return n;
        n = o->file->store(o->g, buf, len);
        kfree(buf);
        if (n > 0)
                f->offset += (uint64_t)n;
        return n;
}

static void cgf_stat(struct file *f, void *st)
{
        vnode_stat(f->vnode, st);
}

static void cgf_release(struct file *f)
{
        struct cgopen *o = (struct cgopen *)f->node;

        memcg_put(o->g);
        vfree(o->text.buf);
        kfree(o);
}

static const struct file_ops cgf_ops = {
        .read = cgf_read, .write = cgf_write, .stat = cgf_stat,
        .release = cgf_release, .seekable = true,
};

static long cg_open(struct vnode *vn, unsigned flags, struct file **out)
{
        const struct cgnode *n = vn->priv;
        struct cgopen *o;
        struct file *f;

        if ((flags & O_ACCMODE) && !n->file->store)
                return -EACCES;
        if (!n->g->online)
                return -ENOENT;
        o = kzalloc(sizeof *o);
        f = kzalloc(sizeof *f);
        if (o)
                o->text.buf = vmalloc(PAGE_SIZE);
        if (!o || !f || !o->text.buf) {
                if (o)
                        vfree(o->text.buf);
                kfree(o), kfree(f);
                return -ENOMEM;
        }
        o->g = memcg_get(n->g);
        o->file = n->file;
        o->text.size = PAGE_SIZE;
        o->text.buf[0] = '\0';
        if (n->file->show && (flags & O_ACCMODE) != 1)
                n->file->show(n->g, &o->text);
        *f = (struct file){ .ops = &cgf_ops, .refs = 1, .flags = flags,
                            .node = o, .size = o->text.len };
        *out = f;
        return 0;
}

static void cg_getattr(struct vnode *vn)
{
        const struct cgnode *n = vn->priv;

        vn->size = 0;
        if (!n->file)
                vn->nlink = 2 + n->g->nr_children;
}

static const struct vnode_ops cg_ops = {
        .lookup = cg_lookup, .parent = cg_parent, .readdir = cg_readdir,
        .mkdir = cg_mkdir, .rmdir = cg_rmdir, .open = cg_open,
        .getattr = cg_getattr, .release = cg_release,
};

long cgroupfs_new_sb(struct vfs_sb **out)
{
        struct vfs_sb *sb = kzalloc(sizeof *sb);

        memcg_init();
        if (!sb)
                return -ENOMEM;
        sb->fstype = "cgroup2";
        sb->dev = 0x1a;
        sb->magic = CGROUP2_SUPER_MAGIC;
        sb->fixed_attrs = true;
        sb->next_ino = 1;
        if (!(sb->root = cgnode_new(sb, &memcg_root, NULL))) {
                kfree(sb);
                return -ENOMEM;
        }
        *out = sb;
        return 0;
}

void cgroupfs_destroy_sb(struct vfs_sb *sb)
{
        vnode_put(sb->root);
        kfree(sb);
}

/* ---- /proc ------------------------------------------------------------- */

/* The path of g from the root ("/" for the root) into t. */
static void add_path(struct text *t, const struct memcg *g)
{
        if (!g->parent) {
                text_add(t, "/");
                return;
        }
        if (g->parent->parent)
                add_path(t, g->parent);
        text_add(t, "/%s", g->name);
}

void proc_pid_cgroup(struct text *t, struct proc *p)
{
        struct memcg *g = group_of(p)->memcg;

        text_add(t, "0::");
        add_path(t, g ? g : &memcg_root);
        text_add(t, "\n");
}

void proc_cgroups(struct text *t, struct proc *p)
{
        (void)p;
        text_add(t, "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                 "memory\t0\t%u\t1\n", 1 + descendants(&memcg_root));
}
