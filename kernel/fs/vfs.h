/*
 * vfs.h - the virtual file system: inodes (vnodes), file-system types,
 * mounts and path resolution.
 *
 * A vnode is one file of one mounted file system: its type and mode, link
 * count, owner, times, size, and the operations of its file system. A
 * regular file of tmpfs keeps its data in a page-cache object (vn->obj, a
 * vm_object_create_cache() object, CONCEPTS E23): read(), write() and every
 * mmap() use those same pages (fs/vnode_file.c).
 *
 * How a file system plugs in (procfs, devfs, tmpfs):
 *   - it makes vnodes with vnode_alloc(sb, ops, mode) and fills ino, uid,
 *     gid, times, rdev, size as it likes; vn->priv is its own;
 *   - a directory implements lookup and readdir (the rest of the directory
 *     operations may be NULL: the calls then fail with EPERM for create
 *     and friends, as Linux's read-only synthetic file systems do, or EROFS
 *     if the super block says read-only);
 *   - a symlink implements readlink;
 *   - a file whose data is made by the file system implements open: it
 *     returns a struct file with its own file_ops (procfs text files,
 *     devices); without open, a regular file is read and written through
 *     its page cache (vn->obj, which the file system creates);
 *   - getattr (optional) refreshes the vnode's fields before stat;
 *   - release (optional) frees vn->priv when the last reference goes.
 * A file system is mounted with vfs_mount(); its type is found by name in
 * vfs_mount() (fs/vfs.c): "tmpfs", "proc" and "sysfs".
 *
 * References: vnode_get()/vnode_put(). Holders: open files, a process's
 * cwd and root, a mount (its root and the vnode it covers), tmpfs
 * directory entries (one per link), a directory's ".." (tmpfs), a running
 * executable. A tmpfs vnode is freed when its last reference goes, so an
 * unlinked file lives while it is open or mapped (its page cache object is
 * held by every area mapping it).
 *
 * Locks: none; one CPU and a non-preemptible kernel (like proc.h). A
 * system call that sleeps holds only references, never a walk in
 * progress.
 */
#ifndef FS_VFS_H
#define FS_VFS_H

#include <mercator/types.h>
#include <vm/vm_object.h>

#define VFS_PATH_MAX    4096    /* bytes with the NUL */
#define VFS_NAME_MAX    255
#define VFS_LINK_MAX    40      /* symlinks followed per resolution */

/* Linux's st_mode bits. */
#define S_IFMT          0170000
#define S_IFSOCK        0140000
#define S_IFLNK         0120000
#define S_IFREG         0100000
#define S_IFBLK         0060000
#define S_IFDIR         0040000
#define S_IFCHR         0020000
#define S_IFIFO         0010000
#define S_ISUID         04000
#define S_ISGID         02000
#define S_ISVTX         01000
#define S_ISDIR(m)      (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m)      (((m) & S_IFMT) == S_IFREG)
#define S_ISLNK(m)      (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m)      (((m) & S_IFMT) == S_IFCHR)
#define S_ISFIFO(m)     (((m) & S_IFMT) == S_IFIFO)
#define S_ISBLK(m)      (((m) & S_IFMT) == S_IFBLK)
#define S_ISSOCK(m)     (((m) & S_IFMT) == S_IFSOCK)

struct vnode;
struct vfs_sb;
struct file;

struct vfs_timespec {
        int64_t sec;
        int64_t nsec;
};

/* One directory entry from readdir. */
struct vfs_dirent {
        char     name[VFS_NAME_MAX + 1];
        size_t   namelen;
        uint64_t ino;
        uint8_t  type;                  /* Linux DT_*: mode >> 12 */
};

/*
 * What a file system does. Names are one component (1..255 bytes, no '/',
 * not "." or ".."; the VFS handles those), not NUL-terminated: (name, len).
 * Every function returns 0 or -errno; *out results carry a new reference.
 */
struct vnode_ops {
        /* Directories. */
        long (*lookup)(struct vnode *dir, const char *name, size_t len,
                       struct vnode **out);             /* -ENOENT */
        /* ".." of dir (not the root of its file system). */
        long (*parent)(struct vnode *dir, struct vnode **out);
        /* A new regular file, FIFO, device or socket (mode has the type). */
        long (*create)(struct vnode *dir, const char *name, size_t len,
                       uint32_t mode, uint64_t rdev, struct vnode **out);
        long (*mkdir)(struct vnode *dir, const char *name, size_t len,
                      uint32_t mode, struct vnode **out);
        long (*symlink)(struct vnode *dir, const char *name, size_t len,
                        const char *target, struct vnode **out);
        long (*link)(struct vnode *dir, const char *name, size_t len,
                     struct vnode *target);
        /* Remove the entry (not a directory: -EISDIR / -ENOTDIR checked by
         * the VFS before); rmdir: an empty directory (-ENOTEMPTY). */
        long (*unlink)(struct vnode *dir, const char *name, size_t len);
        long (*rmdir)(struct vnode *dir, const char *name, size_t len);
        /* Linux's rename rules are checked by the VFS (fs/vfs.c); the file
         * system moves the entries. flags: RENAME_EXCHANGE or 0. */
        long (*rename)(struct vnode *odir, const char *oname, size_t olen,
                       struct vnode *ndir, const char *nname, size_t nlen,
                       unsigned flags);
        /* The entry at *cookie (0 = first, "." and ".." included), and
         * *cookie advanced past it: 0, or 1 at the end. */
        long (*readdir)(struct vnode *dir, uint64_t *cookie,
                        struct vfs_dirent *out);
        /* Symlinks: the target into buf (not NUL-terminated); its length. */
        long (*readlink)(struct vnode *vn, char *buf, size_t size);
        /* Magic links (/proc/PID/fd/N, cwd, root, exe, as Linux's): the
         * vnode the link stands for, a new reference, which a walk goes
         * on from instead of reading the link's text; -ENOSYS: this one
         * is a plain symlink after all (pipe:[ino]). Optional. */
        long (*follow)(struct vnode *link, struct vnode **out);
        /* Files whose data the file system makes: a new open file. */
        long (*open)(struct vnode *vn, unsigned flags, struct file **out);
        /* Refresh the vnode's fields before stat (synthetic files). */
        void (*getattr)(struct vnode *vn);
        /* Free vn->priv: the vnode is going. */
        void (*release)(struct vnode *vn);
        /* Disk file systems (optional): make room on the disk for bytes
         * [off, off + len) of regular file vn before write() fills them
         * (-ENOSPC: the write stops there); the size of vn changed
         * (truncate: blocks past it go); a new file with no name in
         * directory dir (O_TMPFILE). */
        long (*prepare_write)(struct vnode *vn, uint64_t off, uint64_t len);
        long (*setsize)(struct vnode *vn, uint64_t size);
        long (*tmpfile)(struct vnode *dir, uint32_t mode, struct vnode **out);
        /* fallocate(2) of [off, end) on a disk file (mode: FALLOC_FL_*;
         * PUNCH_HOLE comes after the page cache dropped and zeroed the
         * range). Optional: without it, EOPNOTSUPP. */
        long (*fallocate)(struct vnode *vn, int mode, uint64_t off,
                          uint64_t end);
        /* st_blocks of a disk file: the 512-byte units it takes on the
         * disk (else: its resident pages). Optional. */
        uint64_t (*disk_blocks)(struct vnode *vn);
        /* Only the file system's own reference is left (an inode cache:
         * an unlinked file can go now). Optional. */
        void (*idle)(struct vnode *vn);
};

/* statfs figures a file system gives (sizes in f_bsize units). */
struct vfs_statfs {
        uint64_t bsize, blocks, bfree, bavail, files, ffree;
};

/* What a disk file system adds to its super block (fs/ext2_vfs.c). */
struct vfs_sb_ops {
        long (*sync)(struct vfs_sb *sb);        /* every change to disk */
        bool (*busy)(struct vfs_sb *sb);        /* umount: EBUSY */
        void (*destroy)(struct vfs_sb *sb);     /* unmounted: sync, free */
        void (*statfs)(struct vfs_sb *sb, struct vfs_statfs *st);
};

struct vfs_sb {                         /* one mounted file system */
        const char     *fstype;         /* [c] "tmpfs", "proc" */
        uint64_t        dev;            /* [c] st_dev */
        struct vnode   *root;           /* [c] a reference */
        struct mount   *mount;          /* [c] where it is mounted */
        struct vm_quota quota;          /* [m] tmpfs: size= (limit, pages)
                                         * and the pages its files' objects
                                         * hold (used, kept by vm_object) */
        uint64_t        next_ino;       /* [m] */
        uint64_t        nr_inodes;      /* [m] live vnodes */
        uint64_t        magic;          /* [c] statfs f_type */
        bool            rdonly;         /* [c] */
        bool            fixed_attrs;    /* [c] modes and owners are the
                                         * file system's: chmod and chown
                                         * get EPERM (procfs) */
        const struct vfs_sb_ops *sops;  /* [c] disk file systems, or NULL */
        void           *priv;           /* [c] the file system's */
};

struct mount {
        struct vfs_sb  *sb;             /* [c] */
        struct vnode   *covered;        /* [c] the directory it hides (a
                                           reference); NULL for the root */
        struct mount   *parent;         /* [c] the mount holding covered */
        struct mount   *next;           /* [m] list of mounts */
};

struct vnode {
        uint32_t                refs;   /* [m] vnode_get/put */
        uint32_t                mode;   /* [m] type and permission bits */
        uint32_t                nlink;  /* [m] directory entries naming it */
        uint32_t                uid, gid; /* [m] */
        uint64_t                ino;    /* [c] */
        uint64_t                rdev;   /* [c] devices: Linux's makedev */
        uint64_t                size;   /* [m] bytes (regular: = obj->bytes) */
        struct vfs_timespec     atime, mtime, ctime, btime; /* [m] */
        const struct vnode_ops *ops;    /* [c] */
        struct vfs_sb          *sb;     /* [c] */
        struct mount           *mounted;/* [m] a mount on top of this dir */
        struct vm_object       *obj;    /* [m] regular file: page cache */
        void                   *priv;   /* [m] the file system's */
        uint32_t                writers;/* [m] files open for writing */
        uint32_t                running;/* [m] processes executing it */
        uint32_t                seals;  /* [m] memfd F_SEAL_* */
        bool                    tmpfile;/* [m] O_TMPFILE, linkable once */
        struct file_lock       *locks;  /* [m] advisory locks (fs/lock.c) */
        void                   *fifo;   /* [m] FIFO: its pipe while open */
        char                   *gone_name;/* [m] the path it had when its
                                           last name went, or an unnamed
                                           file's label ("/memfd:x"): what
                                           /proc shows with " (deleted)" */
};

/* --- vnodes ---------------------------------------------------------- */

/* A new vnode of sb: refs 1, nlink 0, times now, ino from sb.
 * => NULL if the heap is exhausted. */
struct vnode *vnode_alloc(struct vfs_sb *sb, const struct vnode_ops *ops,
                          uint32_t mode);
static inline struct vnode *vnode_get(struct vnode *vn)
{
        vn->refs++;
        return vn;
}
/* Drop a reference; the last one calls ops->release, drops the page
 * cache and frees the vnode. => vn may be NULL. */
void vnode_put(struct vnode *vn);

/* The current time, for atime/mtime/ctime. */
struct vfs_timespec vfs_now(void);

/* --- path resolution -------------------------------------------------- */

/* vfs_resolve() flags. */
#define VFS_NOFOLLOW    0x1     /* a final symlink is the result */
#define VFS_PARENT      0x2     /* stop at the parent of the last name */
#define VFS_EMPTY_OK    0x4     /* "" means the start directory itself */
#define VFS_DIRECTORY   0x8     /* the result must be a directory */

/* What vfs_resolve() finds. */
struct vfs_path {
        struct vnode *vn;       /* the file (reference), or NULL if the
                                   last component does not exist (PARENT) */
        struct vnode *dir;      /* PARENT: its directory (reference) */
        char          name[VFS_NAME_MAX + 1]; /* PARENT: the last name */
        size_t        namelen;  /* PARENT: 0 if the path names the start
                                   directory itself ("/", ".", "..") */
        bool          trailing_slash; /* PARENT: path ended with '/' */
};

/*
 * Resolve path (a kernel string) from `start` (the cwd or a dirfd's
 * directory; absolute paths start at `root`), Linux's rules: empty
 * components and "." are skipped, ".." goes to the parent (not above
 * `root`, and across mount points to the directory a mount covers),
 * symlinks are followed (at most VFS_LINK_MAX per call: -ELOOP), a
 * mounted-on directory is replaced by the mount's root, a trailing '/'
 * demands a directory.
 * => 0 with *out filled (vfs_path_put() it); -ENOENT (missing, or "" without
 *    VFS_EMPTY_OK), -ENOTDIR, -ELOOP, -ENAMETOOLONG (a name > 255 bytes or
 *    a path >= 4096), -EACCES (no search permission on a directory),
 *    -ENOMEM.
 * => VFS_PARENT: the directory of the last component and its name; vn is
 *    the existing file or NULL (a final symlink is not followed).
 */
long vfs_resolve(struct vnode *root, struct vnode *start, const char *path,
                 unsigned flags, struct vfs_path *out);
void vfs_path_put(struct vfs_path *p);

/* The directory a *at() call starts at: AT_FDCWD (low 32 bits of dirfd)
 * is the cwd, else the directory open at dirfd (a reference).
 * => -EBADF, -ENOTDIR (only when the path is relative). */
long vfs_at_dir(long dirfd, const char *path, struct vnode **out);

/* Resolve a user path for a *at() call with the current process's root
 * and cwd: 0 or -errno as vfs_resolve(), -EFAULT for a bad pointer. */
long vfs_resolve_user_at(long dirfd, uint64_t upath, unsigned flags,
                         struct vfs_path *out);

/* The absolute path of vn seen from root into buf (NUL-terminated):
 * its length with the NUL, -ENOENT if vn was removed, -ERANGE if buf is
 * too small. */
long vfs_path_of(struct vnode *root, struct vnode *vn, char *buf, size_t size);

/*
 * The name /proc shows for vn (Linux's d_path) as seen from root: a
 * directory's path; a file's path, found by a bounded search of its file
 * system below its mount point; a file with no name left, the one it had
 * (vn->gone_name) and " (deleted)". => its length, -ENOENT (not found),
 * -ERANGE (buf too small), -ENOMEM.
 */
long vfs_name_of(struct vnode *root, struct vnode *vn, char *buf, size_t size);

/*
 * Name of `len` bytes in dir is vn's last name and is about to go
 * (unlink, rename over it), or the name an unnamed file is shown by
 * (O_TMPFILE's "#ino"): remember dir's path and name as vn->gone_name.
 * Nothing happens when vn keeps another name or no memory is left (its
 * fd link then reads as ENOENT).
 */
void vfs_name_going(struct vnode *dir, const char *name, size_t len,
                    struct vnode *vn);

/* Set vn's label for when it has no name (memfd, O_TMPFILE). */
void vfs_set_gone_name(struct vnode *vn, const char *label);

/*
 * Name vn's page-cache object after vn's path (as vfs_name_of, from the
 * global root), for /proc/PID/maps: when first mapped or executed (again
 * false: only an object with no name yet), and again after a rename or
 * unlink (again true: only an object that has a name, i.e. that has been
 * mapped, so files never mapped cost nothing).
 */
void vfs_name_object(struct vnode *vn, bool again);

/* The credentials file access uses: the current process's fsuid, fsgid,
 * groups and capabilities (proc/cred.h); root with every capability when
 * there is no process (boot). */
uint32_t current_fsuid(void);
uint32_t current_fsgid(void);
bool current_in_group(uint32_t gid);
bool current_capable(int cap);

/* The group and mode of an inode being made in dir with *mode, as Linux's
 * inode_init_owner (the owner is the caller's fsuid, vnode_alloc's): in a
 * set-group-ID directory the directory's group, a subdirectory inheriting
 * the bit, and a group-executable set-group-ID file losing it unless the
 * caller is in that group or has CAP_FSETID; elsewhere the caller's fsgid.
 * => the group; *mode adjusted. */
uint32_t vfs_new_inode_group(const struct vnode *dir, uint32_t *mode);

/* --- permissions ------------------------------------------------------- */

#define VFS_MAY_EXEC    1
#define VFS_MAY_WRITE   2
#define VFS_MAY_READ    4

/* May the current process (fsuid/fsgid) access vn as `want`? The mode's
 * owner, group or other bits decide; then CAP_DAC_OVERRIDE passes all but
 * exec of a file with no x bit, CAP_DAC_READ_SEARCH read and directory
 * search, as Linux. => 0 or -EACCES. */
long vfs_permission(const struct vnode *vn, unsigned want);

/* --- file systems and mounts ------------------------------------------- */

/* The root of everything: a tmpfs filled from the initramfs (fs/vfs.c). */
extern struct vnode *vfs_root;

/* Build the root file system from the initramfs image rootfs (if any),
 * mount /tmp, /dev/shm and /proc, populate /dev. => 0 or -ENOMEM. */
long vfs_init(void);

/* Tear every file system down (the last process is gone): every vnode
 * and page returns. For init's leak check at power-off. */
void vfs_shutdown(void);

/*
 * Mount a new file system of type fstype on directory `on` with options
 * (tmpfs: "size=N[k|m|g|%]", "mode=", may be NULL).
 * => 0; -ENODEV (unknown type), -ENOTDIR, -EBUSY (on is already a mount
 *    point's root and covered the same... ), -EINVAL (bad options),
 *    -ENOMEM.
 */
long vfs_mount(struct vnode *on, const char *fstype, const char *options,
               unsigned long flags);
/* The same with a disk file system's source (the block device node). */
long vfs_mount_dev(struct vnode *on, const char *fstype, struct vnode *dev,
                   const char *options, unsigned long flags);

/* Unmount the file system whose root is vn. => 0, -EINVAL (not a mount
 * root), -EBUSY (files of it are in use). On success the caller's
 * reference to vn is taken (vn goes with its file system); on failure
 * the caller keeps it. */
long vfs_umount(struct vnode *vn);

/*
 * mount(MS_REMOUNT): change the mounted file system whose root is vn:
 * read-only or not (flags' MS_RDONLY), and tmpfs's size= (other options
 * as at mount; no size= keeps the limit).
 * => 0; -EINVAL (not a mount's root, bad options, a size below what the
 *    files hold, as Linux's shmem), -EBUSY (read-only while a file of it
 *    is open for writing).
 */
long vfs_remount(struct vnode *vn, const char *options, unsigned long flags);

/* tmpfs (fs/tmpfs.c). */
long tmpfs_new_sb(const char *options, struct vfs_sb **out);
/* A hugetlbfs mount (tmpfs.c): files of explicit huge pages. */
long hugetlbfs_new_sb(const char *options, struct vfs_sb **out);
/* New options for a mounted tmpfs (vfs_remount's). */
long tmpfs_remount(struct vfs_sb *sb, const char *options);
/* A tmpfs mount's huge= word for /proc/mounts, or NULL for never (not
 * shown, as Linux). */
const char *tmpfs_huge_option(const struct vfs_sb *sb);
void tmpfs_destroy_sb(struct vfs_sb *sb);
/* A file of tmpfs with no name (O_TMPFILE, memfd_create): nlink 0. */
long tmpfs_make_unnamed(struct vfs_sb *sb, uint32_t mode, struct vnode **out);
/* Size limits: bring vn's file system's page count up to date with the
 * pages vn's file now holds (after a write, truncate, fault...); may
 * `pages` more be added? (ENOSPC otherwise). */
bool tmpfs_room(const struct vnode *vn, uint64_t pages);
/* Is vn a tmpfs vnode? */
bool tmpfs_owns(const struct vnode *vn);
/* /dev/shm's super block. */
extern struct vfs_sb *tmpfs_shm_sb;
/* The internal tmpfs memfd files live on (Linux's shm_mnt): mounted
 * nowhere, with no size limit - /dev/shm's half of RAM does not bound
 * memfds, as on Linux; their pages go to swap. Made at the first call.
 * => NULL without memory. */
struct vfs_sb *tmpfs_memfd_sb(void);
/* One console line per tmpfs holding pages (the OOM killer's report). */
void tmpfs_show_mem(void);
/* vfs_shutdown: it goes (every memfd is closed by then). */
void tmpfs_memfd_shutdown(void);

/* ext2 on a block device (fs/ext2_vfs.c): a new super block for the
 * disk behind block device node dev, mounted as fstype "ext2", "ext3" or
 * "ext4" (which features each takes: fs/ext2.h). => 0, -ENOTBLK, -ENXIO,
 * -EINVAL (not one this code mounts as that), -EBUSY, -EIO, -ENOMEM. */
long ext2_new_sb(struct vnode *dev, const char *fstype, bool rdonly,
                 struct vfs_sb **out);
/* vfs_mount_dev's way to it (set at boot: host tests link vfs.c alone). */
extern long (*vfs_ext2_new_sb)(struct vnode *dev, const char *fstype,
                               bool rdonly, struct vfs_sb **out);
/* Is fstype one of those? */
bool vfs_is_ext(const char *fstype);
/* Write every change of every mounted disk file system (sync(2)). */
long vfs_sync_all(void);
/* Tear down disk file systems first at power-off, then this (the loop
 * devices, whose backing files live on tmpfs). */
extern void (*vfs_disks_down)(void);

/* procfs as a file system (fs/procfs_vfs.c). */
long procfs_new_sb(struct vfs_sb **out);
void procfs_destroy_sb(struct vfs_sb *sb);

/* sysfs as a file system (fs/sysfs.c). */
long sysfs_new_sb(struct vfs_sb **out);
void sysfs_destroy_sb(struct vfs_sb *sb);

/* cgroup2 (fs/cgroupfs.c): the unified control-group hierarchy. Reached
 * through the pointers (set at boot: host tests link vfs.c alone). */
long cgroupfs_new_sb(struct vfs_sb **out);
void cgroupfs_destroy_sb(struct vfs_sb *sb);
extern long (*vfs_cgroupfs_new_sb)(struct vfs_sb **out);
extern void (*vfs_cgroupfs_destroy_sb)(struct vfs_sb *sb);

/* Pages of every tmpfs (Shmem in /proc/meminfo). */
uint64_t vfs_shmem_pages(void);

/* --- regular files, through the page cache (fs/vnode_file.c) ---------- */

/* Open vnode vn with open(2) flags: a new file (reference) in *out.
 * => 0 or -errno (-ETXTBSY, -ENXIO, -ENOMEM...). */
long vnode_open(struct vnode *vn, unsigned flags, struct file **out);

/* Set a regular file's size (truncate): unmaps and frees the pages past
 * the end in every space. => 0, -EFBIG, -ENOSPC, -ENOMEM, -EPERM
 * (sealed). */
long vnode_truncate(struct vnode *vn, uint64_t size);
/* Turn empty regular file vn into a file of explicit huge pages
 * (MFD_HUGETLB, hugetlbfs; tmpfs.c). => 0 or -ENOMEM. */
long vnode_make_hugetlb(struct vnode *vn);

/* Read/write len bytes at off of regular file vn from/to ubuf (a user
 * address if user, else a kernel pointer). => bytes moved or -errno. */
long vnode_read(struct vnode *vn, uint64_t off, uint64_t buf, size_t len,
                bool user);
long vnode_write(struct vnode *vn, uint64_t off, uint64_t buf, size_t len,
                 bool user);

/* The vnode behind an open file, or NULL (console, pipe, procfs text). */
struct vnode *file_vnode(const struct file *f);

/* Advisory locks (fs/lock.c). fcntl's F_GETLK/F_SETLK/F_SETLKW and
 * F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW on f with the user's struct flock
 * => 0 or -errno (EAGAIN, EBADF, EINVAL, ENOLCK, EDEADLK, -ERESTARTSYS
 * while waiting). */
long vfs_fcntl_lock(struct file *f, int cmd, uint64_t uflock);
/* The same with a 32-bit machine's struct flock64 (i386's fcntl64). */
long vfs_fcntl_lock64(struct file *f, int cmd, uint64_t uflock);
/* A descriptor of f is being closed by process pid: its POSIX record
 * locks on the file go. */
void vfs_locks_on_close(struct file *f, int pid);
/* f's last reference is going: its OFD and flock() locks go. */
void vfs_file_locks_release(struct file *f);

/* Linux's struct stat for vn into st (machine/abi_stat.h). */
void vnode_stat(struct vnode *vn, void *st);

#endif
