/*
 * procfs.h - the files of /proc (CONCEPTS A5: live views of the kernel's
 * state), in Linux's formats.
 *
 * Three layers:
 *   - generators format one file's text into a buffer: system-wide ones
 *     (proc_sys.c: meminfo, vmstat, buddyinfo, zoneinfo, stat, uptime,
 *     loadavg, cpuinfo, version, mounts, filesystems, sys/...) and per
 *     process ones (proc_pid.c: maps, smaps, smaps_rollup, status, stat,
 *     statm, cmdline, environ). A text file's contents are made when it is
 *     opened, so a reader sees one consistent snapshot, as Linux's
 *     seq_file gives per read() call;
 *   - binary per-process files read and written at an offset through the
 *     target's address space (proc_pid.c: mem, pagemap);
 *   - the tree (procfs.c): which paths exist, with what mode, what a
 *     directory lists and where a symlink points, for the VFS to mount.
 */
#ifndef FS_PROCFS_H
#define FS_PROCFS_H

#include <mercator/types.h>

struct proc;
struct file;
struct vnode;
struct vfs_sb;

/* Linux's file-type bits, as procfs_mode() returns them. */
#define PROCFS_IFDIR    0040000
#define PROCFS_IFREG    0100000
#define PROCFS_IFLNK    0120000

/* A growing text: generators append with text_add(); it never overflows
 * (the end is cut at size - 1). */
struct text {
        char  *buf;
        size_t len, size;
};

void text_add(struct text *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Append n raw bytes (may hold NULs: cmdline, environ). */
void text_put(struct text *t, const void *src, size_t n);
/* "Name:   value kB" with the label padded to 16, as Linux's show_val_kb
 * (meminfo) - or, for status, "Name:\t%8lu kB". */
void text_kb(struct text *t, const char *name, uint64_t kb);
/* read(2) of a file whose contents are the snapshot t (made at open):
 * up to len bytes from f's offset to the user's ubuf. => bytes, or
 * -EFAULT. */
struct file;
long text_read_file(const struct text *t, struct file *f, uint64_t ubuf,
                    size_t len);
/* write(2) of a knob: the user's len bytes at ubuf, copied into a new
 * kmalloc'd buffer with a NUL after them (the caller kfrees it). NULL
 * with *err = -ENOMEM or -EFAULT. */
char *text_from_user(uint64_t ubuf, size_t len, long *err);

/* A generator: format its file into t; p is the process for per-process
 * files (NULL for system-wide ones). */
typedef void (*procfs_gen_fn)(struct text *t, struct proc *p);
/* A sysctl's setter: the number written; 0 or -errno. */
typedef long (*procfs_set_fn)(uint64_t value);
/* A file that takes text: p is the process of its /proc/PID directory
 * (NULL elsewhere); buf holds len bytes and a NUL. => 0 or -errno. */
typedef long (*procfs_write_fn)(struct proc *p, const char *buf, size_t len);

/* /proc/config.gz (proc_config.c): the features this kernel has, as a
 * gzip'ed Linux .config. */
void proc_config_gz(struct text *t, struct proc *p);

/* System-wide generators (proc_sys.c). */
void proc_meminfo(struct text *t, struct proc *p);
void proc_swaps(struct text *t, struct proc *p);
void proc_vmstat(struct text *t, struct proc *p);
void proc_buddyinfo(struct text *t, struct proc *p);
void proc_zoneinfo(struct text *t, struct proc *p);
void proc_lock_stat(struct text *t, struct proc *p);
void proc_stat(struct text *t, struct proc *p);
void proc_uptime(struct text *t, struct proc *p);
void proc_loadavg(struct text *t, struct proc *p);
void proc_cpuinfo(struct text *t, struct proc *p);
void proc_version(struct text *t, struct proc *p);
void proc_mounts(struct text *t, struct proc *p);
void proc_mountinfo(struct text *t, struct proc *p);
void proc_filesystems(struct text *t, struct proc *p);
/* /proc/cgroups and /proc/PID/cgroup (cgroupfs.c). */
void proc_cgroups(struct text *t, struct proc *p);
void proc_pid_cgroup(struct text *t, struct proc *p);
void proc_sysvipc_shm(struct text *t, struct proc *p);
void proc_sys_pid_max(struct text *t, struct proc *p);
void proc_sys_tainted(struct text *t, struct proc *p);
void proc_sys_ostype(struct text *t, struct proc *p);
void proc_sys_osrelease(struct text *t, struct proc *p);
void proc_sys_drop_caches(struct text *t, struct proc *p);
void proc_sys_shmall(struct text *t, struct proc *p);
long proc_sys_set_shmall(uint64_t value);
void proc_sys_shmmax(struct text *t, struct proc *p);
long proc_sys_set_shmmax(uint64_t value);
void proc_sys_shmmni(struct text *t, struct proc *p);
long proc_sys_set_shmmni(uint64_t value);
long proc_sys_set_drop_caches(uint64_t value);
void proc_sys_swappiness(struct text *t, struct proc *p);
long proc_sys_set_swappiness(uint64_t value);
void proc_sys_nr_hugepages(struct text *t, struct proc *p);
long proc_sys_set_nr_hugepages(uint64_t value);
void proc_sys_nr_overcommit_hugepages(struct text *t, struct proc *p);
long proc_sys_set_nr_overcommit_hugepages(uint64_t value);
void proc_sys_overcommit_memory(struct text *t, struct proc *p);
long proc_sys_set_overcommit_memory(uint64_t value);
void proc_sys_overcommit_ratio(struct text *t, struct proc *p);
long proc_sys_set_overcommit_ratio(uint64_t value);
void proc_sys_overcommit_kbytes(struct text *t, struct proc *p);
long proc_sys_set_overcommit_kbytes(uint64_t value);
void proc_sys_admin_reserve_kbytes(struct text *t, struct proc *p);
long proc_sys_set_admin_reserve_kbytes(uint64_t value);
void proc_sys_user_reserve_kbytes(struct text *t, struct proc *p);
long proc_sys_set_user_reserve_kbytes(uint64_t value);
void proc_sys_max_map_count(struct text *t, struct proc *p);
long proc_sys_set_max_map_count(uint64_t value);
void proc_sys_nr_open(struct text *t, struct proc *p);
void proc_sys_pipe_max_size(struct text *t, struct proc *p);
void proc_sys_pipe_user_pages_soft(struct text *t, struct proc *p);
long proc_sys_set_pipe_user_pages_soft(uint64_t value);
void proc_sys_pipe_user_pages_hard(struct text *t, struct proc *p);
long proc_sys_set_pipe_user_pages_hard(uint64_t value);
void proc_sys_mmap_min_addr(struct text *t, struct proc *p);

/* Per-process generators (proc_pid.c). */
void proc_pid_maps(struct text *t, struct proc *p);
void proc_pid_smaps(struct text *t, struct proc *p);
void proc_pid_smaps_rollup(struct text *t, struct proc *p);
void proc_pid_status(struct text *t, struct proc *p);

/* A space's sizes in pages as status counts them (the OOM killer's
 * measure): O(pages of its areas). */
struct proc_footprint {
        uint64_t total_vm, rss_anon, rss_file, rss_shmem, swap, pgtables;
};
struct vm_space;
void proc_space_footprint(struct vm_space *s, struct proc_footprint *f);
void proc_pid_stat(struct text *t, struct proc *p);
void proc_pid_statm(struct text *t, struct proc *p);
void proc_pid_comm(struct text *t, struct proc *p);
void proc_pid_cmdline(struct text *t, struct proc *p);
void proc_pid_environ(struct text *t, struct proc *p);

/*
 * The picture feed (proc_vmview.c): /proc/vmview's JSON snapshot (its
 * buffer size from proc_vmview_text_size()); a label written to it makes a
 * snapshot and sends it out of the feed port (=> len, -EFAULT, -ENOMEM);
 * proc_vmview_exit() sends one as p exits, with `vmview=exit` on the
 * command line (else it does nothing).
 */
void proc_vmview(struct text *t, struct proc *p);
size_t proc_vmview_text_size(void);
long proc_vmview_mark(uint64_t ubuf, size_t len);
void proc_vmview_exit(struct proc *p);

/* A size that will hold p's per-area files (maps, smaps). */
size_t proc_pid_text_size(struct proc *p, size_t per_area);

/*
 * Binary files at an offset (proc_pid.c), with Linux's rules:
 * mem: read or write len bytes of p's memory at address off through its
 * areas and objects, a write to a read-only private page copying it
 * (FOLL_FORCE); => bytes moved, or -EIO if none could be.
 * pagemap: 8 bytes per page from page off / 8, PFNs shown only when
 * show_pfn; => bytes produced (whole entries), -EINVAL for a misaligned
 * offset or length.
 */
long proc_mem_rw(struct proc *p, uint64_t off, uint64_t ubuf, size_t len,
                 bool write);
/* /proc/kpageflags (fs/proc_kpage.c): Linux's KPF_* word per frame. */
long proc_kpageflags_read(uint64_t off, uint64_t ubuf, size_t len);
long proc_pagemap_read(struct proc *p, uint64_t off, uint64_t ubuf,
                       size_t len, bool show_pfn);

/* --- the tree ------------------------------------------------------------ */

/* The mode (PROCFS_IF* | permission bits) of the /proc path (absolute,
 * "/proc" itself included), or 0 if there is no such file. */
uint32_t procfs_mode(const char *path);

/*
 * Call fn(arg, name, mode) for every entry of the directory at path (not
 * "." and ".."); stops when fn returns false.
 * => 0, or -ENOENT / -ENOTDIR.
 */
long procfs_list(const char *path,
                    bool (*fn)(void *arg, const char *name, uint32_t mode),
                    void *arg);

/* Where the symlink at path points (self, PID/exe, cwd, root, fd/N),
 * NUL-terminated in buf. => its length, or -ENOENT / -EINVAL. */
long procfs_link(const char *path, char *buf, size_t size);

/*
 * What the magic link at path stands for (PID/fd/N of a file with a
 * vnode, cwd, root, exe): that vnode, a new reference, as Linux's
 * proc_get_link; PID/fd/N of a pipe: a vnode of sb opening the same pipe
 * (pipe_link_vnode). => 0 and *out; -ENOSYS: a link to follow by its text
 * (self, mounts, the console); -ENOENT; -ENOMEM.
 */
long procfs_follow(const char *path, struct vfs_sb *sb, struct vnode **out);

/* Who owns the file at path, as Linux's procfs says: inside /proc/PID
 * the process's effective ids while it is dumpable, else root. */
void procfs_owner(const char *path, uint32_t *uid, uint32_t *gid);

/*
 * Open the /proc file at path: its text made now (text files), or a file
 * reading the target at an offset (mem, pagemap).
 * => 0 and *out, or -ENOENT, -EACCES (write to a read-only file), -ENOMEM.
 */
long procfs_open(const char *path, unsigned flags, struct file **out);

/* A vnode of sb standing for path with the given mode (procfs_vfs.c), or
 * NULL without memory: what a namespace link is followed to. */
struct vnode *procfs_vnode(struct vfs_sb *sb, const char *path, uint32_t mode);

/* Is f an open /proc/PID/ns/time (or time_for_children)? Then *ns is the
 * namespace it holds (NULL: the initial one). */
struct time_ns;
bool procfs_file_time_ns(struct file *f, struct time_ns **ns);

#endif
