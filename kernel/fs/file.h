/*
 * file.h - open files: what a file descriptor refers to.
 *
 * A file is the console, a pipe, a VFS file (fs/vnode_file.c) or a
 * synthetic file (procfs, devices). Files are
 * reference-counted so that a descriptor table can share them (dup, fork).
 */
#ifndef FS_FILE_H
#define FS_FILE_H

#include <mercator/types.h>

struct file;
struct fdtable;

struct file_ops {
        /* Read into / write from user memory at the file's offset;
         * bytes moved or -errno. */
        long (*read)(struct file *f, uint64_t ubuf, size_t len);
        long (*write)(struct file *f, uint64_t ubuf, size_t len);
        /* Linux's struct stat for this file, filled in. */
        void (*stat)(struct file *f, void *linux_stat);
        void (*release)(struct file *f);
        /* A device or file-specific ioctl request; its result or -errno.
         * Without it, requests that are not generic get -ENOTTY. */
        long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
        /* What f is ready for now: POLLIN, POLLOUT, POLLHUP... (poll.h).
         * A file whose answer can change calls poll_wake() when it does.
         * Without it, always readable and writable. */
        unsigned (*poll)(struct file *f);
        bool seekable;
};

struct file {
        const struct file_ops *ops;
        unsigned               refs;
        unsigned               flags;   /* O_* the file was opened with */
        uint64_t               offset;
        const void            *node;    /* the object behind it */
        uint64_t               size;
        bool                   dir;     /* node is a directory */
        struct vnode          *vnode;   /* the VFS file behind a device or
                                           synthetic file (a reference), or
                                           NULL (see file_vnode()) */
};

struct file *file_console(void);                /* a new reference */
struct file *file_get(struct file *f);
/* fstat of a file with no inode of its own (userfaultfd, timerfd): Linux's
 * anonymous inode - mode 0600, one link, an inode number from f. */
void file_anon_stat(struct file *f, void *linux_stat);
void file_put(struct file *f);

/* Write len bytes of kernel memory to f: a regular file of the VFS, a
 * pipe or the console (sendfile's destinations). => bytes written or
 * -errno; -EINVAL for other files. */
long file_write_kernel(struct file *f, const void *buf, size_t len);

/* Install f at the lowest free descriptor of the current process (close
 * on exec if f was opened O_CLOEXEC). => the descriptor, -EMFILE at
 * RLIMIT_NOFILE, or -ENOMEM when the table could not grow. */
int fd_install(struct file *f);
/* The same, at the lowest free descriptor >= min, with FD_CLOEXEC as
 * cloexec says (dup, F_DUPFD). */
long fd_install_at_least(struct file *f, int min, bool cloexec);

/* ---- descriptor tables (struct fdtable, proc/proc.h) ---- */
/* Arrays for an empty table t holding at least descriptors 0..fd (at
 * least FDT_FIRST slots, a power of two). => 0 or -ENOMEM. */
long fdt_init(struct fdtable *t, int fd);
/* Grow t so that descriptor fd has a slot, keeping what it holds.
 * => 0 (also when it had one), or -ENOMEM with t unchanged. */
long fdt_expand(struct fdtable *t, int fd);
/* Free t's arrays (its files already put). */
void fdt_release(struct fdtable *t);
/* The highest open descriptor of t, or -1. */
int fdt_last_open(const struct fdtable *t);


/* /dev/userfaultfd opened (proc/sys_userfaultfd.c): a file whose ioctl
 * USERFAULTFD_IOC_NEW makes userfaultfd descriptors. => 0 or -ENOMEM. */
long userfaultfd_dev_open(unsigned flags, struct file **out);

/* The current process's file at fd, or NULL. */
struct file *fd_get(int fd);

#endif
