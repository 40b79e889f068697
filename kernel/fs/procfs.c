/*
 * procfs.c - the tree of /proc: which paths exist (tables of entries),
 * what directories list, where symlinks point, and opening a file (its
 * text made at open; mem and pagemap read through the target at each
 * call). The generators are in proc_sys.c and proc_pid.c; see procfs.h.
 *
 * Paths are absolute ("/proc/12/smaps"). A PID directory exists for every
 * process that is not a zombie (Linux keeps a zombie's directory, with
 * most files empty: Mercator frees a zombie's space at exit).
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/abi_stat.h>
#include <fs/file.h>
#include <fs/pipe.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <proc/coredump.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/timens.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>


void text_add(struct text *t, const char *fmt, ...)
{
        va_list ap;

        if (t->len + 1 >= t->size)
                return;
        va_start(ap, fmt);
        int n = kvsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
        va_end(ap);
        t->len = MIN(t->len + (size_t)n, t->size - 1);
}

void text_put(struct text *t, const void *src, size_t n)
{
        n = MIN(n, t->size - 1 - t->len);
        memcpy(t->buf + t->len, src, n);
        t->len += n;
}

/* ---- the tables ------------------------------------------------------------ */

enum special {
        SP_NONE, SP_MEM, SP_PAGEMAP, SP_FD, SP_FDINFO, SP_PAGEWALK,
        SP_SELF, SP_CWD, SP_ROOT, SP_EXE, SP_MOUNTS, SP_TASK,
        SP_KPAGEFLAGS, SP_TIMENS, SP_TIMENS_KIDS,
};

struct pent {
        const char         *name;
        uint32_t            mode;
        procfs_gen_fn       gen;        /* a text file */
        const struct pent  *sub;        /* a directory of entries */
        enum special        special;
        size_t              per_area;   /* text size per area (maps...) */
        procfs_set_fn       set;        /* a writable sysctl: root may
                                         * write a number to it */
        procfs_write_fn     write;      /* a file taking text (root, or
                                         * who may access the process) */
        bool                wide;       /* set takes any unsigned long, not
                                         * just 0..INT_MAX */
};

#define REG(n, g)       { n, PROCFS_IFREG | 0444, g, NULL, SP_NONE, 0, NULL, NULL, false }
#define SYSCTL(n, g, s) { n, PROCFS_IFREG | 0644, g, NULL, SP_NONE, 0, s, NULL, false }
#define SYSCTL_UL(n, g, s) { n, PROCFS_IFREG | 0644, g, NULL, SP_NONE, 0, s, NULL, true }
#define WTEXT(n, g, w)  { n, PROCFS_IFREG | 0644, g, NULL, SP_NONE, 0, NULL, w, false }
#define AREA(n, g, s)   { n, PROCFS_IFREG | 0444, g, NULL, SP_NONE, s, NULL, NULL, false }
#define DIR(n, t)       { n, PROCFS_IFDIR | 0555, NULL, t, SP_NONE, 0, NULL, NULL, false }
#define SPECIAL(n, m, s) { n, m, NULL, NULL, s, 0, NULL, NULL, false }

static const struct pent sys_kernel[] = {
        WTEXT("core_pattern", proc_sys_core_pattern, proc_sys_core_pattern_set),
        WTEXT("core_uses_pid", proc_sys_core_uses_pid, proc_sys_core_uses_pid_set),
        REG("osrelease", proc_sys_osrelease),
        REG("ostype", proc_sys_ostype),
        SYSCTL("pid_max", proc_sys_pid_max, proc_pid_max_set),
        SYSCTL_UL("shmall", proc_sys_shmall, proc_sys_set_shmall),
        SYSCTL_UL("shmmax", proc_sys_shmmax, proc_sys_set_shmmax),
        SYSCTL("shmmni", proc_sys_shmmni, proc_sys_set_shmmni),
        REG("tainted", proc_sys_tainted),
        { 0 },
};

static const struct pent sys_vm[] = {
        SYSCTL("admin_reserve_kbytes", proc_sys_admin_reserve_kbytes,
               proc_sys_set_admin_reserve_kbytes),
        SYSCTL("drop_caches", proc_sys_drop_caches, proc_sys_set_drop_caches),
        SYSCTL("max_map_count", proc_sys_max_map_count, proc_sys_set_max_map_count),
        REG("mmap_min_addr", proc_sys_mmap_min_addr),
        SYSCTL("nr_hugepages", proc_sys_nr_hugepages, proc_sys_set_nr_hugepages),
        SYSCTL("nr_overcommit_hugepages", proc_sys_nr_overcommit_hugepages,
               proc_sys_set_nr_overcommit_hugepages),
        SYSCTL("overcommit_kbytes", proc_sys_overcommit_kbytes,
               proc_sys_set_overcommit_kbytes),
        SYSCTL("overcommit_memory", proc_sys_overcommit_memory,
               proc_sys_set_overcommit_memory),
        SYSCTL("overcommit_ratio", proc_sys_overcommit_ratio,
               proc_sys_set_overcommit_ratio),
        SYSCTL("swappiness", proc_sys_swappiness, proc_sys_set_swappiness),
        SYSCTL("user_reserve_kbytes", proc_sys_user_reserve_kbytes,
               proc_sys_set_user_reserve_kbytes),
        { 0 },
};

static const struct pent sys_fs[] = {
        SYSCTL("nr_open", proc_sys_nr_open, fs_nr_open_set),
        SYSCTL("pipe-max-size", proc_sys_pipe_max_size, pipe_max_size_set),
        SYSCTL("pipe-user-pages-hard", proc_sys_pipe_user_pages_hard,
               proc_sys_set_pipe_user_pages_hard),
        SYSCTL("pipe-user-pages-soft", proc_sys_pipe_user_pages_soft,
               proc_sys_set_pipe_user_pages_soft),
        { 0 },
};

static const struct pent sys_dir[] = {
        DIR("fs", sys_fs),
        DIR("kernel", sys_kernel),
        DIR("vm", sys_vm),
        { 0 },
};

static const struct pent sysvipc_dir[] = {
        REG("shm", proc_sysvipc_shm),
        { 0 },
};

static const struct pent root_dir[] = {
        REG("buddyinfo", proc_buddyinfo),
        REG("cgroups", proc_cgroups),
        REG("config.gz", proc_config_gz),
        REG("cpuinfo", proc_cpuinfo),
        REG("filesystems", proc_filesystems),
        SPECIAL("kpageflags", PROCFS_IFREG | 0400, SP_KPAGEFLAGS),
        REG("loadavg", proc_loadavg),
        REG("lock_stat", proc_lock_stat),
        REG("meminfo", proc_meminfo),
        SPECIAL("mounts", PROCFS_IFLNK | 0777, SP_MOUNTS),
        SPECIAL("self", PROCFS_IFLNK | 0777, SP_SELF),
        REG("stat", proc_stat),
        REG("swaps", proc_swaps),
        DIR("sys", sys_dir),
        DIR("sysvipc", sysvipc_dir),
        REG("uptime", proc_uptime),
        REG("version", proc_version),
        REG("vmstat", proc_vmstat),
        { "vmview", PROCFS_IFREG | 0666, proc_vmview, NULL, SP_NONE, 0, NULL, NULL, false },
        REG("zoneinfo", proc_zoneinfo),
        { 0 },
};

/* /proc/PID/ns: links naming the namespaces (only time ones exist). */
static const struct pent ns_dir[] = {
        SPECIAL("time", PROCFS_IFLNK | 0777, SP_TIMENS),
        SPECIAL("time_for_children", PROCFS_IFLNK | 0777, SP_TIMENS_KIDS),
        { 0 },
};

static const struct pent pid_dir[] = {
        REG("cgroup", proc_pid_cgroup),
        AREA("cmdline", proc_pid_cmdline, 0),
        AREA("comm", proc_pid_comm, 0),
        WTEXT("coredump_filter", proc_pid_coredump_filter, proc_pid_coredump_filter_set),
        SPECIAL("cwd", PROCFS_IFLNK | 0777, SP_CWD),
        AREA("environ", proc_pid_environ, 0),
        SPECIAL("exe", PROCFS_IFLNK | 0777, SP_EXE),
        SPECIAL("fd", PROCFS_IFDIR | 0500, SP_FD),
        SPECIAL("fdinfo", PROCFS_IFDIR | 0500, SP_FDINFO),
        AREA("maps", proc_pid_maps, 128),
        SPECIAL("mem", PROCFS_IFREG | 0600, SP_MEM),
        AREA("mountinfo", proc_mountinfo, 0),
        AREA("mounts", proc_mounts, 0),
        DIR("ns", ns_dir),
        REG("oom_score", proc_pid_oom_score),
        WTEXT("oom_score_adj", proc_pid_oom_score_adj, proc_pid_oom_score_adj_set),
        SPECIAL("pagemap", PROCFS_IFREG | 0400, SP_PAGEMAP),
        SPECIAL("pagewalk", PROCFS_IFDIR | 0555, SP_PAGEWALK),
        SPECIAL("root", PROCFS_IFLNK | 0777, SP_ROOT),
        AREA("smaps", proc_pid_smaps, 1024),
        AREA("smaps_rollup", proc_pid_smaps_rollup, 0),
        AREA("stat", proc_pid_stat, 0),
        AREA("statm", proc_pid_statm, 0),
        AREA("status", proc_pid_status, 0),
        SPECIAL("task", PROCFS_IFDIR | 0555, SP_TASK),
        WTEXT("timens_offsets", timens_offsets_show, timens_offsets_write),
        { 0 },
};

/* /proc/PID/task/TID: one thread's view (the same files, but no task). */
static const struct pent tid_dir[] = {
        REG("cgroup", proc_pid_cgroup),
        AREA("cmdline", proc_pid_cmdline, 0),
        AREA("comm", proc_pid_comm, 0),
        SPECIAL("cwd", PROCFS_IFLNK | 0777, SP_CWD),
        AREA("environ", proc_pid_environ, 0),
        SPECIAL("exe", PROCFS_IFLNK | 0777, SP_EXE),
        SPECIAL("fd", PROCFS_IFDIR | 0500, SP_FD),
        SPECIAL("fdinfo", PROCFS_IFDIR | 0500, SP_FDINFO),
        AREA("maps", proc_pid_maps, 128),
        SPECIAL("mem", PROCFS_IFREG | 0600, SP_MEM),
        SPECIAL("root", PROCFS_IFLNK | 0777, SP_ROOT),
        AREA("smaps", proc_pid_smaps, 1024),
        AREA("stat", proc_pid_stat, 0),
        AREA("statm", proc_pid_statm, 0),
        AREA("status", proc_pid_status, 0),
        { 0 },
};

/* ---- resolving a path ------------------------------------------------------ */

enum node_kind {
        N_TABLE,        /* a directory of entries (root: with PIDs too) */
        N_ENTRY,        /* a file or link of a table */
        N_FD_DIR, N_FD_LINK, N_FDINFO_DIR, N_FDINFO,
        N_WALK_DIR, N_WALK,
        N_TASK_DIR,     /* /proc/PID/task: the threads' ids */
};

struct pnode {
        enum node_kind     kind;
        const struct pent *table;       /* N_TABLE */
        bool               is_root;
        const struct pent *ent;         /* N_ENTRY */
        struct proc       *p;           /* inside a PID directory */
        int                fd;          /* N_FD_LINK, N_FDINFO */
        vaddr_t            va;          /* N_WALK */
};

static bool parse_num(const char *s, size_t len, uint64_t *out, unsigned base)
{
        *out = 0;
        if (len == 0 || len > 16)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                           : base == 16 && c >= 'a' && c <= 'f'
                                   ? (unsigned)(c - 'a' + 10) : 99;
                if (d >= base)
                        return false;
                *out = *out * base + d;
        }
        return true;
}

static struct proc *live_proc(uint64_t pid)
{
        struct proc *p = pid < (1u << 31) ? proc_find((int)pid) : NULL;

        /* A zombie keeps its directory until it is reaped, as on Linux
         * (status and stat say so; files about its memory are empty). */
        return p && (p->space || p->state == PROC_ZOMBIE) ? p : NULL;
}

static const struct pent *table_find(const struct pent *t, const char *name,
                                     size_t len)
{
        for (; t->name; t++)
                if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
                        return t;
        return NULL;
}

/* Step from node n into its child `name`. => 0, -ENOENT or -ENOTDIR. */
static long step(struct pnode *n, const char *name, size_t len)
{
        uint64_t num;

        switch (n->kind) {
        case N_TABLE: {
                const struct pent *e = table_find(n->table, name, len);
                if (n->is_root && !e && parse_num(name, len, &num, 10)) {
                        struct proc *p = live_proc(num);
                        if (!p)
                                return -ENOENT;
                        *n = (struct pnode){ .kind = N_TABLE,
                                             .table = pid_dir, .p = p };
                        return 0;
                }
                if (!e)
                        return -ENOENT;
                n->is_root = false;
                if (e->sub) {
                        n->table = e->sub;
                        return 0;
                }
                if (e->special == SP_SELF) {    /* followed by the caller */
                        n->kind = N_ENTRY;
                        n->ent = e;
                        return 0;
                }
                n->kind = e->special == SP_FD ? N_FD_DIR
                        : e->special == SP_FDINFO ? N_FDINFO_DIR
                        : e->special == SP_TASK ? N_TASK_DIR
                        : e->special == SP_PAGEWALK ? N_WALK_DIR : N_ENTRY;
                n->ent = e;
                return 0;
        }
        case N_FD_DIR:
        case N_FDINFO_DIR:
                if (!parse_num(name, len, &num, 10) || !n->p->fdt ||
                    num >= (uint64_t)n->p->fdt->size || !n->p->fdt->files[num])
                        return -ENOENT;
                n->kind = n->kind == N_FD_DIR ? N_FD_LINK : N_FDINFO;
                n->fd = (int)num;
                return 0;
        case N_TASK_DIR: {
                struct proc *t;
                if (!parse_num(name, len, &num, 10) || !(t = live_proc(num)) ||
                    t->pid != n->p->pid)
                        return -ENOENT;
                *n = (struct pnode){ .kind = N_TABLE, .table = tid_dir, .p = t };
                return 0;
        }
        case N_WALK_DIR:
                if (len > 2 && name[0] == '0' && name[1] == 'x')
                        name += 2, len -= 2;
                if (!parse_num(name, len, &num, 16))
                        return -ENOENT;
                n->kind = N_WALK;
                n->va = num;
                return 0;
        default:
                return -ENOTDIR;
        }
}

/* Resolve an absolute /proc path, following "self". */
static long resolve(const char *path, struct pnode *n)
{
        if (strncmp(path, "/proc", 5) != 0 || (path[5] && path[5] != '/'))
                return -ENOENT;
        *n = (struct pnode){ .kind = N_TABLE, .table = root_dir,
                             .is_root = true };
        for (const char *s = path + 5; *s;) {
                while (*s == '/')
                        s++;
                size_t len = 0;
                while (s[len] && s[len] != '/')
                        len++;
                if (!len)
                        break;
                long err = step(n, s, len);
                if (err)
                        return err;
                if (n->kind == N_ENTRY && n->ent->special == SP_SELF &&
                    s[len]) {           /* /proc/self/...: into our PID */
                        if (!current || !current->space)
                                return -ENOENT;
                        struct proc *g = group_of(current);
                        *n = (struct pnode){ .kind = N_TABLE,
                                             .table = pid_dir,
                                             .p = g->space ? g : current };
                }
                s += len;
        }
        return 0;
}

static uint32_t node_mode(const struct pnode *n)
{
        switch (n->kind) {
        case N_TABLE:   return PROCFS_IFDIR | 0555;
        case N_ENTRY:   return n->ent->mode;
        case N_FD_DIR: case N_FDINFO_DIR: return PROCFS_IFDIR | 0500;
        case N_FD_LINK: return PROCFS_IFLNK | 0700;
        case N_FDINFO:  return PROCFS_IFREG | 0444;
        case N_WALK_DIR: return PROCFS_IFDIR | 0555;
        case N_TASK_DIR: return PROCFS_IFDIR | 0555;
        case N_WALK:    return PROCFS_IFREG | 0444;
        }
        return 0;
}

uint32_t procfs_mode(const char *path)
{
        struct pnode n;

        return resolve(path, &n) ? 0 : node_mode(&n);
}

long procfs_list(const char *path,
                    bool (*fn)(void *arg, const char *name, uint32_t mode),
                    void *arg)
{
        struct pnode n;
        char name[24];
        long err = resolve(path, &n);

        if (err)
                return err;
        switch (n.kind) {
        case N_TABLE:
                for (const struct pent *e = n.table; e->name; e++)
                        if (!fn(arg, e->name, e->mode))
                                return 0;
                if (n.is_root)
                        for (int i = 0; i < proc_slots; i++) {
                                struct proc *p = proc_table[i];
                                /* a process is listed; its threads are
                                 * under task/ (and found by their id) */
                                if (!proc_is_leader(p) ||
                                    (!p->space && p->state != PROC_ZOMBIE))
                                        continue;
                                ksnprintf(name, sizeof name, "%d", p->pid);
                                if (!fn(arg, name, PROCFS_IFDIR | 0555))
                                        return 0;
                        }
                return 0;
        case N_FD_DIR:
        case N_FDINFO_DIR:
                for (int fd = 0; n.p->fdt && fd < n.p->fdt->size; fd++) {
                        if (!n.p->fdt->files[fd])
                                continue;
                        ksnprintf(name, sizeof name, "%d", fd);
                        if (!fn(arg, name, n.kind == N_FD_DIR
                                                   ? PROCFS_IFLNK | 0700
                                                   : PROCFS_IFREG | 0444))
                                return 0;
                }
                return 0;
        case N_WALK_DIR:
                return 0;               /* any address may be named */
        case N_TASK_DIR:
                for (int i = 0; i < proc_slots; i++) {
                        struct proc *t = proc_table[i];
                        if (t->state == PROC_FREE || t->pid != n.p->pid ||
                            (t->state == PROC_ZOMBIE && t != group_of(t)))
                                continue;
                        ksnprintf(name, sizeof name, "%d", t->tid);
                        if (!fn(arg, name, PROCFS_IFDIR | 0555))
                                return 0;
                }
                return 0;
        default:
                return -ENOTDIR;
        }
}

/* Where the open file f points, as Linux's fd links: the file's path,
 * pipe:[ino] for a pipe. */
static long fd_target(struct proc *p, struct file *f, char *buf, size_t size)
{
        struct vnode *vn = file_vnode(f);
        struct linux_stat st;

        if (vn && pipe_link_is(vn))
                vn = NULL;              /* a pipe reopened by its fd link */
        if (vn && strcmp(vn->sb->fstype, "proc") == 0 && vn->priv &&
            !S_ISDIR(vn->mode))
                return ksnprintf(buf, size, "%s", (const char *)vn->priv);
        if (vn)
                return vfs_name_of(p->root ? p->root : vfs_root, vn, buf, size);
        f->ops->stat(f, &st);
        if (S_ISFIFO(st.st_mode))
                return ksnprintf(buf, size, "pipe:[%" PRIu64 "]", (uint64_t)st.st_ino);
        if (S_ISCHR(st.st_mode))
                return ksnprintf(buf, size, "/dev/console");
        return ksnprintf(buf, size, "anon_inode:[%" PRIu64 "]", (uint64_t)st.st_ino);
}

long procfs_link(const char *path, char *buf, size_t size)
{
        struct pnode n;
        long err = resolve(path, &n);
        struct vnode *root;
        long len;

        if (err)
                return err;
        if (n.kind == N_FD_LINK) {
                len = fd_target(n.p, n.p->fdt->files[n.fd], buf, size);
                return len < 0 ? len : MIN(len, (long)size - 1);
        }
        if (n.kind != N_ENTRY || (n.ent->mode & 0170000) != PROCFS_IFLNK)
                return -EINVAL;
        root = n.p && n.p->root ? n.p->root : vfs_root;
        switch (n.ent->special) {
        case SP_SELF:
                if (!current)
                        return -ENOENT;
                len = ksnprintf(buf, size, "%d", current->pid);
                break;
        case SP_MOUNTS:
                len = ksnprintf(buf, size, "self/mounts");
                break;
        case SP_CWD:
                if (!n.p->cwd)
                        return -ENOENT;
                len = vfs_path_of(root, n.p->cwd, buf, size);
                len = len < 0 ? len : (long)strlen(buf);
                break;
        case SP_ROOT:
                len = vfs_path_of(vfs_root, root, buf, size);
                len = len < 0 ? len : (long)strlen(buf);
                break;
        case SP_EXE:
                if (!n.p->exe || !n.p->exe_path[0])
                        return -ENOENT;
                len = ksnprintf(buf, size, "%s%s", n.p->exe_path,
                                n.p->exe->nlink ? "" : " (deleted)");
                break;
        case SP_TIMENS: case SP_TIMENS_KIDS:
                len = ksnprintf(buf, size, "time:[%u]", timens_inum(
                        n.ent->special == SP_TIMENS ? n.p->time_ns
                                                    : n.p->time_ns_children));
                break;
        default:
                return -EINVAL;
        }
        return len < 0 ? len : MIN(len, (long)size - 1);
}

void procfs_owner(const char *path, uint32_t *uid, uint32_t *gid)
{
        struct pnode n;

        *uid = *gid = 0;
        if (resolve(path, &n) == 0 && n.p && n.p->usage.dumpable) {
                *uid = n.p->cred.euid;
                *gid = n.p->cred.egid;
        }
}

long procfs_follow(const char *path, struct vfs_sb *sb, struct vnode **out)
{
        struct pnode n;
        long err = resolve(path, &n);
        struct vnode *vn = NULL;

        if (err)
                return err;
        if (n.kind == N_FD_LINK) {
                vn = file_vnode(n.p->fdt->files[n.fd]);
                if (!vn || pipe_link_is(vn))
                        return pipe_link_vnode(sb, n.p->fdt->files[n.fd], out);
        } else if (n.kind == N_ENTRY) {
                switch (n.ent->special) {
                case SP_CWD:  vn = n.p->cwd; break;
                case SP_ROOT: vn = n.p->root ? n.p->root : vfs_root; break;
                case SP_EXE:  vn = n.p->exe; break;
                case SP_TIMENS: case SP_TIMENS_KIDS:
                        /* the namespace as a file to open (for setns):
                         * the same path, as a regular file */
                        return (*out = procfs_vnode(sb, path, PROCFS_IFREG | 0444))
                               ? 0 : -ENOMEM;
                default:      return -ENOSYS;
                }
                if (!vn)
                        return -ENOENT;
        }
        if (!vn)
                return -ENOSYS;         /* a pipe, the console: by name */
        *out = vnode_get(vn);
        return 0;
}

/* ---- open files ------------------------------------------------------------ */

struct pfile {
        struct text      text;          /* text files */
        procfs_set_fn    set;           /* a sysctl open for writing */
        procfs_write_fn  write;         /* a text file open for writing */
        bool             wide;          /* set takes an unsigned long */
        int              pid;           /* mem, pagemap, write: the target */
        struct vm_space *space;         /* ... as it was at open */
        uint32_t         mode;
        enum special     special;
        struct time_ns  *time_ns;       /* SP_TIMENS*: the namespace (a
                                         * reference) */
};

long text_read_file(const struct text *t, struct file *f, uint64_t ubuf,
                    size_t len)
{
        if (f->offset >= t->len)
                return 0;
        len = MIN(len, t->len - f->offset);
        if (copy_to_user(ubuf, t->buf + f->offset, len))
                return -EFAULT;
        f->offset += len;
        return (long)len;
}

char *text_from_user(uint64_t ubuf, size_t len, long *err)
{
        char *buf = kmalloc(len + 1);

        if (!buf) {
                *err = -ENOMEM;
                return NULL;
        }
        if (copy_from_user(buf, ubuf, len)) {
                kfree(buf);
                *err = -EFAULT;
                return NULL;
        }
        buf[len] = '\0';
        return buf;
}

static long text_read(struct file *f, uint64_t ubuf, size_t len)
{
        const struct pfile *pf = f->node;

        return text_read_file(&pf->text, f, ubuf, len);
}

/* The target of a mem or pagemap file, if it still has the space it had
 * when the file was opened (Linux: the mm it holds). */
static struct proc *pfile_target(const struct pfile *pf)
{
        struct proc *p = proc_find(pf->pid);

        return p && p->state != PROC_ZOMBIE && p->space == pf->space ? p
                                                                     : NULL;
}

static long mem_rw(struct file *f, uint64_t ubuf, size_t len, bool write)
{
        const struct pfile *pf = f->node;
        struct proc *p = pfile_target(pf);
        long n;

        if (pf->special == SP_KPAGEFLAGS) {
                n = write ? -EINVAL : proc_kpageflags_read(f->offset, ubuf, len);
                if (n > 0)
                        f->offset += (uint64_t)n;
                return n;
        }
        if (!p)
                return 0;
        if (pf->special == SP_PAGEMAP)
                n = write ? -EINVAL
                          : proc_pagemap_read(p, f->offset, ubuf, len,
                                              current &&
                                              current->cred.euid == 0);
        else
                n = proc_mem_rw(p, f->offset, ubuf, len, write);
        if (n > 0)
                f->offset += (uint64_t)n;
        return n;
}

static long mem_read(struct file *f, uint64_t ubuf, size_t len)
{
        return mem_rw(f, ubuf, len, false);
}

static long mem_write(struct file *f, uint64_t ubuf, size_t len)
{
        return mem_rw(f, ubuf, len, true);
}

static long ro_write(struct file *f, uint64_t ubuf, size_t len)
{
        return -EBADF;
}

/* A write to a sysctl: one decimal number (blanks around it allowed),
 * given whole, at offset 0; as Linux's proc_dointvec (0..INT_MAX) or, for
 * a wide one, proc_doulongvec_minmax (any unsigned long), the write takes
 * every byte or fails with EINVAL (and the setter's own errors). */
static long sysctl_write(struct file *f, uint64_t ubuf, size_t len)
{
        const struct pfile *pf = f->node;
        char buf[32];
        size_t i = 0;
        uint64_t v = 0;
        bool digits = false;

        if (!pf->set)
                return -EBADF;
        if (len == 0 || f->offset != 0)
                return (long)len;               /* nothing, or the rest: ignored */
        if (len >= sizeof buf)
                return -EINVAL;
        if (copy_from_user(buf, ubuf, len))
                return -EFAULT;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
                i++;
        uint64_t max = pf->wide ? (uint64_t)~0UL : 0x7fffffff;
        for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++, digits = true) {
                uint64_t d = (uint64_t)(buf[i] - '0');
                if (v > (max - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n'))
                i++;
        if (!digits || i != len)
                return -EINVAL;
        long err = pf->set(v);
        if (err)
                return err;
        f->offset += len;
        return (long)len;
}

/* A write to a file taking text: the whole of it at once (at most a
 * page), handed to the entry's function with the process it is about
 * (NULL under /proc/sys). */
static long wtext_write(struct file *f, uint64_t ubuf, size_t len)
{
        const struct pfile *pf = f->node;
        struct proc *p = NULL;
        char *buf;
        long err;

        if (!pf->write)
                return -EBADF;
        if (len == 0 || f->offset != 0)
                return (long)len;
        if (len > PAGE_SIZE)
                len = PAGE_SIZE;
        if (pf->pid && !(p = live_proc((uint64_t)pf->pid)))
                return -ESRCH;
        if (!(buf = text_from_user(ubuf, len, &err)))
                return err;
        err = pf->write(p, buf, len);
        kfree(buf);
        if (err)
                return err;
        f->offset += len;
        return (long)len;
}

static void pfile_stat(struct file *f, void *st)
{
        const struct pfile *pf = f->node;

        struct linux_stat *s = st;

        memset(s, 0, sizeof *s);
        s->st_nlink = 1;
        s->st_mode = pf->mode;
        s->st_blksize = PAGE_SIZE;
}

static void pfile_release(struct file *f)
{
        struct pfile *pf = (struct pfile *)f->node;

        vfree(pf->text.buf);
        if (pf->special == SP_TIMENS || pf->special == SP_TIMENS_KIDS)
                timens_put(pf->time_ns);
        kfree(pf);
}

static const struct file_ops text_ops = {
        .read = text_read, .write = ro_write, .stat = pfile_stat,
        .release = pfile_release, .seekable = true,
};

/* A label written to /proc/vmview asks for a snapshot on the feed port. */
static long vmview_write(struct file *f, uint64_t ubuf, size_t len)
{
        return proc_vmview_mark(ubuf, len);
}

static const struct file_ops vmview_ops = {
        .read = text_read, .write = vmview_write, .stat = pfile_stat,
        .release = pfile_release, .seekable = true,
};

static const struct file_ops sysctl_ops = {
        .read = text_read, .write = sysctl_write, .stat = pfile_stat,
        .release = pfile_release, .seekable = true,
};

static const struct file_ops wtext_ops = {
        .read = text_read, .write = wtext_write, .stat = pfile_stat,
        .release = pfile_release, .seekable = true,
};

static const struct file_ops mem_ops = {
        .read = mem_read, .write = mem_write, .stat = pfile_stat,
        .release = pfile_release, .seekable = true,
};

#define O_ACCMODE       3

/* Make the text of node n (a text file, fdinfo or pagewalk). */
static long make_text(const struct pnode *n, struct text *t)
{
        size_t size = PAGE_SIZE;
        bool no_mm = n->p && !n->p->space;      /* a zombie */

        if (no_mm && !(n->kind == N_ENTRY && (n->ent->gen == proc_pid_status ||
                                              n->ent->gen == proc_pid_stat))) {
                t->buf = vmalloc(PAGE_SIZE);    /* an empty file */
                if (!t->buf)
                        return -ENOMEM;
                t->size = PAGE_SIZE;
                t->len = 0;
                return 0;
        }
        if (n->kind == N_ENTRY && n->p && n->ent->per_area)
                size = proc_pid_text_size(n->p, n->ent->per_area);
        if (n->kind == N_ENTRY && n->ent->gen == proc_pid_cmdline)
                size = page_round(n->p->space->arg_end - n->p->space->arg_start + 1);
        if (n->kind == N_ENTRY && n->ent->gen == proc_pid_environ)
                size = page_round(n->p->space->env_end - n->p->space->env_start + 1);
        if (n->kind == N_ENTRY && n->ent->gen == proc_sysvipc_shm)
                size = page_round(4096 * 200);
        if (n->kind == N_ENTRY && n->ent->gen == proc_vmview)
                size = proc_vmview_text_size();
        t->buf = vmalloc(size);
        if (!t->buf)
                return -ENOMEM;
        t->size = size;
        t->len = 0;
        t->buf[0] = 0;
        switch (n->kind) {
        case N_ENTRY: {
                /* What a process's files say about its memory is read
                 * with its space entered: its areas and tables then hold
                 * still (vm_space.h, Locks). */
                struct vm_space *s = n->p ? n->p->space : NULL;

                vm_space_enter(s);
                n->ent->gen(t, n->p);
                vm_space_leave(s);
                break;
        }
        case N_FDINFO: {
                const struct file *f = n->p->fdt->files[n->fd];
                struct vnode *vn = file_vnode(f);
                struct linux_stat st;
                f->ops->stat((struct file *)f, &st);
                text_add(t, "pos:\t%" PRIu64 "\nflags:\t0%o\nmnt_id:\t%d\nino:\t%" PRIu64 "\n",
                         f->offset,
                         f->flags | (n->p->fdt->fd_flags[n->fd] & FD_CLOEXEC
                                             ? 02000000u : 0u),
                         vn ? (int)vn->sb->dev : 0, st.st_ino);
                break;
        }
        case N_WALK:
                t->len = pmap_walk_describe(vm_space_pmap(n->p->space), n->va,
                                            t->buf, t->size);
                break;
        default:
                break;
        }
        return 0;
}

/* A namespace link, followed and opened: a file that holds the namespace
 * (Linux's nsfs file), for setns. Reading it gives nothing. */
static long open_timens(const struct pnode *n, unsigned flags, struct file **out)
{
        struct pfile *pf = kzalloc(sizeof *pf);
        struct file *f = kzalloc(sizeof *f);

        if (!pf || !f) {
                kfree(pf), kfree(f);
                return -ENOMEM;
        }
        pf->mode = PROCFS_IFREG | 0444;
        pf->special = n->ent->special;
        pf->time_ns = timens_get(pf->special == SP_TIMENS ? n->p->time_ns
                                                          : n->p->time_ns_children);
        *f = (struct file){ .ops = &text_ops, .refs = 1, .flags = flags,
                            .node = pf };
        *out = f;
        return 0;
}

bool procfs_file_time_ns(struct file *f, struct time_ns **ns)
{
        const struct pfile *pf = f->node;

        if (f->ops != &text_ops ||
            (pf->special != SP_TIMENS && pf->special != SP_TIMENS_KIDS))
                return false;
        *ns = pf->time_ns;
        return true;
}

long procfs_open(const char *path, unsigned flags, struct file **out)
{
        struct pnode n;
        long err = resolve(path, &n);
        uint32_t mode;

        if (err)
                return err;
        mode = node_mode(&n);
        if (mode & PROCFS_IFDIR)
                return (flags & O_ACCMODE) ? -EISDIR : -ENOENT;
        bool kpage = n.kind == N_ENTRY && n.ent->special == SP_KPAGEFLAGS;
        if (n.kind == N_ENTRY && (n.ent->special == SP_TIMENS ||
                                  n.ent->special == SP_TIMENS_KIDS))
                return open_timens(&n, flags, out);
        if (n.kind == N_FD_LINK || (n.kind == N_ENTRY && n.ent->special &&
                                    n.ent->special != SP_MEM &&
                                    n.ent->special != SP_PAGEMAP && !kpage))
                return -ENOENT;         /* links: the VFS follows them */
        bool binary = n.kind == N_ENTRY && (n.ent->special == SP_MEM ||
                                            n.ent->special == SP_PAGEMAP ||
                                            kpage);
        if (kpage && (flags & O_ACCMODE))
                return -EACCES;         /* 0400 */
        if (kpage && current && current->cred.fsuid != 0 &&
            !current_capable(CAP_DAC_OVERRIDE))
                return -EACCES;
        if (((binary && !kpage) ||
             (n.kind == N_ENTRY && n.ent->gen == proc_pid_environ)) &&
            !proc_may_access(n.p))
                return -EACCES;         /* Linux's mm_access() */
        bool vmview = n.kind == N_ENTRY && n.ent->gen == proc_vmview;
        bool sysctl = n.kind == N_ENTRY && n.ent->set;
        bool wtext = n.kind == N_ENTRY && n.ent->write;
        if ((flags & O_ACCMODE) &&
            !(binary && n.ent->special == SP_MEM) && !vmview && !sysctl && !wtext)
                return -EACCES;
        if ((flags & O_ACCMODE) && wtext &&
            (n.p ? !proc_may_access(n.p)
                 : current->cred.fsuid != 0 && !current_capable(CAP_DAC_OVERRIDE)))
                return -EACCES;
        if ((flags & O_ACCMODE) && sysctl && current->cred.fsuid != 0 &&
            !current_capable(CAP_DAC_OVERRIDE))
                return -EACCES;         /* mode 0644, owned by root */
        struct pfile *pf = kzalloc(sizeof *pf);
        struct file *f = kzalloc(sizeof *f);
        if (!pf || !f) {
                kfree(pf), kfree(f);
                return -ENOMEM;
        }
        pf->mode = mode;
        if (kpage) {
                pf->special = SP_KPAGEFLAGS;
        } else if (binary) {
                pf->pid = n.p->tid;
                pf->space = n.p->space;
                pf->special = n.ent->special;
        } else if (vmview && (flags & O_ACCMODE) == 1) {
                /* O_WRONLY: only labels go in; no snapshot to read. */
        } else if ((err = make_text(&n, &pf->text)) != 0) {
                kfree(pf), kfree(f);
                return err;
        }
        if (sysctl && (flags & O_ACCMODE)) {
                pf->set = n.ent->set;
                pf->wide = n.ent->wide;
        }
        if (wtext && (flags & O_ACCMODE)) {
                pf->write = n.ent->write;
                pf->pid = n.p ? n.p->pid : 0;
        }
        *f = (struct file){ .ops = binary ? &mem_ops
                                 : vmview ? &vmview_ops
                                 : pf->write ? &wtext_ops
                                 : pf->set ? &sysctl_ops : &text_ops,
                            .refs = 1,
                            .flags = flags, .node = pf,
                            .size = pf->text.len };
        *out = f;
        return 0;
}
