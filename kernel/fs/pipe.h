/*
 * pipe.h - pipes and FIFOs: a ring of bytes between readers and writers
 * (kernel/fs/pipe.c). An anonymous pipe (pipe2) has no vnode; a FIFO's
 * pipe hangs off its vnode (vnode.fifo) while some end is open.
 */
#ifndef FS_PIPE_H
#define FS_PIPE_H

#include <mercator/types.h>

struct file;
struct vnode;
struct vfs_sb;

/* A new anonymous pipe: its read end in *rd, its write end in *wr.
 * => 0, or -ENFILE when no memory is left. */
long pipe_create(struct file **rd, struct file **wr);

/* Open one end of the FIFO whose pipe lives in *slot (made on the first
 * open, *slot cleared when the last end goes), with open(2)'s waits.
 * => 0 and *out, -ENXIO, -ENOMEM, -ERESTARTSYS. */
long pipe_open_fifo(void **slot, unsigned flags, struct file **out);

/* /proc/PID/fd/N of a pipe followed (procfs_follow): a vnode of sb whose
 * open makes a new end of f's pipe. => 0 and *out; -ENOSYS if f is not a
 * pipe; -ENOMEM. */
long pipe_link_vnode(struct vfs_sb *sb, struct file *f, struct vnode **out);
/* Whether vn is such a vnode (its files are named pipe:[ino]). */
bool pipe_link_is(const struct vnode *vn);

/* F_GETPIPE_SZ / F_SETPIPE_SZ. => the size, or -EBADF (not a pipe),
 * -EINVAL, -EPERM, -EBUSY, -ENOMEM. */
long pipe_size(struct file *f, bool set, unsigned long want);
/* Bytes waiting in f's pipe (FIONREAD), or -ENOTTY if f is not a pipe. */
long pipe_nread(struct file *f);
/* Write len bytes of kernel memory into f's pipe (sendfile): bytes
 * written or -errno; -EINVAL if f is not a pipe. */
long pipe_write_kernel(struct file *f, const void *buf, size_t len);

/* /proc/sys/fs/pipe-max-size. set: 0, or -EINVAL outside [PAGE_SIZE, 1 MiB]. */
unsigned long pipe_max_size_get(void);
long pipe_max_size_set(uint64_t value);

/* /proc/sys/fs/pipe-user-pages-soft (hard false) and -hard (true): the
 * pages of pipe rings one unprivileged user's pipes may hold (pipe.c). */
unsigned long pipe_user_pages_get(bool hard);
long pipe_user_pages_set(bool hard, uint64_t value);

#endif
