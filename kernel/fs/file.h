/*
 * file.h - open files: what a file descriptor refers to.
 *
 * A file is the console or a file of the initramfs (read-only). Files are
 * reference-counted so that a descriptor table can share them (dup, fork).
 */
#ifndef FS_FILE_H
#define FS_FILE_H

#include <mercator/types.h>

struct file;

struct file_ops {
        /* Read into / write from user memory at the file's offset;
         * bytes moved or -errno. */
        long (*read)(struct file *f, uint64_t ubuf, size_t len);
        long (*write)(struct file *f, uint64_t ubuf, size_t len);
        /* Linux's struct stat for this file, filled in. */
        void (*stat)(struct file *f, void *linux_stat);
        void (*release)(struct file *f);
        bool seekable;
};

struct file {
        const struct file_ops *ops;
        unsigned               refs;
        unsigned               flags;   /* O_* the file was opened with */
        uint64_t               offset;
        const void            *node;    /* the object behind it */
        uint64_t               size;
        bool                   dir;     /* node is an initramfs directory */
};

struct file *file_console(void);                /* a new reference */
struct file *file_get(struct file *f);
void file_put(struct file *f);

/* Install f at the lowest free descriptor of the current process. */
int fd_install(struct file *f);

struct initramfs_node;
/* The initramfs node behind f, or NULL if f is not an initramfs file. */
const struct initramfs_node *initramfs_file_node(const struct file *f);

/* path made absolute against the current working directory. */
long proc_path(const char *path, char *out, size_t size);
/* The current process's file at fd, or NULL. */
struct file *fd_get(int fd);

#endif
