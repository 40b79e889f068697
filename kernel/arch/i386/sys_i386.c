/*
 * sys_i386.c - the i386 system calls that are not the machine-independent
 * handlers as they are (machine/syscalls.h says which): 64-bit values
 * split over two registers (low word first, as i386 Linux passes them),
 * mmap2's offset in pages, waitpid, the ipc multiplexer glibc uses for
 * SysV shared memory, IPC_64 in shmctl, statfs64's size argument and
 * fcntl64. set_thread_area is tls.c's; sigreturn
 * signal_frame.c's.
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <fs/vfs.h>
#include <machine/abi_stat.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define O_ACCMODE       3
#define O_WRONLY        1

/* The 64-bit value in two 32-bit arguments, low word first. */
static int64_t join64(long lo, long hi)
{
        return (int64_t)((uint64_t)(uint32_t)hi << 32 | (uint32_t)lo);
}

/* Whether v fits the core's long (32 bits here). */
static bool fits_long(int64_t v)
{
        return v == (long)v;
}

SYSCALL_DECL(i386_waitpid)
{
        return sys_wait4(a0, a1, a2, 0, 0, 0);
}

/*
 * pread64/pwrite64(fd, buf, count, off_lo, off_hi) and preadv/pwritev
 * (fd, iov, cnt, pos_lo, pos_hi): the transfer at a 64-bit offset, the
 * file's own offset untouched (the core's handlers do the same with
 * f->offset).
 */
static long at_offset(long fd, int64_t off, bool write, bool vector,
                      long a1, long a2)
{
        struct file *f = fd_get((int)fd);
        long n;

        if (!f)
                return -EBADF;
        if (write ? (f->flags & O_ACCMODE) == 0
                  : (f->flags & O_ACCMODE) == O_WRONLY)
                return -EBADF;
        if (!f->ops->seekable)
                return -ESPIPE;
        if (off < 0)
                return -EINVAL;
        uint64_t saved = f->offset;
        f->offset = (uint64_t)off;
        if (vector)
                n = write ? sys_writev(fd, a1, a2, 0, 0, 0)
                          : sys_readv(fd, a1, a2, 0, 0, 0);
        else
                n = write ? sys_write(fd, a1, a2, 0, 0, 0)
                          : sys_read(fd, a1, a2, 0, 0, 0);
        f->offset = saved;
        return n;
}

SYSCALL_DECL(i386_pread64)
{
        return at_offset(a0, join64(a3, a4), false, false, a1, a2);
}

/* fadvise64(fd, offset in two words, len, advice), fadvise64_64(fd,
 * offset and len in two words each, advice), readahead(fd, offset in two
 * words, count): the 64-bit calls' arguments. */
SYSCALL_DECL(i386_fadvise64)
{
        return sys_fadvise64(a0, join64(a1, a2), (long)(uint32_t)a3, a4, 0, 0);
}

SYSCALL_DECL(i386_fadvise64_64)
{
        return sys_fadvise64(a0, join64(a1, a2), join64(a3, a4), a5, 0, 0);
}

SYSCALL_DECL(i386_readahead)
{
        return sys_readahead(a0, join64(a1, a2), (long)(uint32_t)a3, 0, 0, 0);
}

SYSCALL_DECL(i386_pwrite64)
{
        return at_offset(a0, join64(a3, a4), true, false, a1, a2);
}

SYSCALL_DECL(i386_preadv)
{
        return at_offset(a0, join64(a3, a4), false, true, a1, a2);
}

SYSCALL_DECL(i386_pwritev)
{
        return at_offset(a0, join64(a3, a4), true, true, a1, a2);
}

/* preadv2/pwritev2(fd, iov, cnt, pos_lo, pos_hi, flags): the core's, with
 * an offset the core's long can carry (-1: the file's own offset). */
SYSCALL_DECL(i386_preadv2)
{
        int64_t pos = join64(a3, a4);

        if (!fits_long(pos))
                return pos < 0 ? -EINVAL : -EFBIG;
        return sys_preadv2(a0, a1, a2, (long)pos, 0, a5);
}

SYSCALL_DECL(i386_pwritev2)
{
        int64_t pos = join64(a3, a4);

        if (!fits_long(pos))
                return pos < 0 ? -EINVAL : -EFBIG;
        return sys_pwritev2(a0, a1, a2, (long)pos, 0, a5);
}

/* _llseek(fd, off_hi, off_lo, loff_t *result, whence): note the high word
 * first. The new offset goes to *result; the call returns 0. */
SYSCALL_DECL(i386_llseek)
{
        int64_t off = join64(a2, a1);
        struct file *f = fd_get((int)a0);
        long r;

        if (!f)
                return -EBADF;
        if (fits_long(off)) {
                r = sys_lseek(a0, (long)off, a4, 0, 0, 0);
                if (r < 0 && r >= -4095)
                        return r;
        } else {
                struct vnode *vn = file_vnode(f);
                int64_t base;

                if (!f->ops->seekable)
                        return -ESPIPE;
                switch (a4) {
                case 0: base = 0; break;                        /* SEEK_SET */
                case 1: base = (int64_t)f->offset; break;       /* SEEK_CUR */
                case 2: base = (int64_t)(vn ? vn->size : f->size); break;
                default: return -EINVAL;
                }
                if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
                        return -EINVAL;
                f->offset = (uint64_t)(base + off);
        }
        uint64_t pos = f->offset;
        return copy_to_user((uint64_t)(uint32_t)a3, &pos, sizeof pos) ? -EFAULT : 0;
}

/* Sizes the core's long cannot carry are past any file Mercator keeps. */
SYSCALL_DECL(i386_truncate64)
{
        int64_t len = join64(a1, a2);

        if (!fits_long(len))
                return len < 0 ? -EINVAL : -EFBIG;
        return sys_truncate(a0, (long)len, 0, 0, 0, 0);
}

SYSCALL_DECL(i386_ftruncate64)
{
        int64_t len = join64(a1, a2);

        if (!fits_long(len))
                return len < 0 ? -EINVAL : -EFBIG;
        return sys_ftruncate(a0, (long)len, 0, 0, 0, 0);
}

/* fallocate(fd, mode, off_lo, off_hi, len_lo, len_hi) */
SYSCALL_DECL(i386_fallocate)
{
        int64_t off = join64(a2, a3), len = join64(a4, a5);

        if (!fits_long(off) || !fits_long(len))
                return off < 0 || len <= 0 ? -EINVAL : -EFBIG;
        return sys_fallocate(a0, a1, (long)off, (long)len, 0, 0);
}

/* mmap2(addr, len, prot, flags, fd, pgoff): the offset in 4 KiB pages. */
SYSCALL_DECL(i386_mmap2)
{
        uint32_t pgoff = (uint32_t)a5;

        if (pgoff >= (1u << (31 - PAGE_SHIFT)))
                return -EOVERFLOW;      /* past 2 GiB: more than a long */
        return sys_mmap(a0, a1, a2, a3, a4, (long)(pgoff << PAGE_SHIFT));
}

/* statfs64(path, size, buf), fstatfs64(fd, size, buf): size must be the
 * structure's, as Linux checks. */
SYSCALL_DECL(i386_statfs64)
{
        if ((unsigned long)a1 != sizeof(struct linux_statfs))
                return -EINVAL;
        return sys_statfs(a0, a2, 0, 0, 0, 0);
}

SYSCALL_DECL(i386_fstatfs64)
{
        if ((unsigned long)a1 != sizeof(struct linux_statfs))
                return -EINVAL;
        return sys_fstatfs(a0, a2, 0, 0, 0, 0);
}

/* ---- SysV shared memory -------------------------------------------------- */

#define IPC_64          0x100
#define IPCOP_SHMAT     21
#define IPCOP_SHMDT     22
#define IPCOP_SHMGET    23
#define IPCOP_SHMCTL    24

/* shmctl(id, cmd, buf): the C library adds IPC_64 to cmd, asking for the
 * 64-bit structures, which are the only ones Mercator has. */
SYSCALL_DECL(i386_shmctl)
{
        return sys_shmctl(a0, a1 & ~IPC_64, a2, 0, 0, 0);
}

/* ipc(call, first, second, third, ptr, fifth): glibc's way to SysV IPC on
 * i386 (it does not assume the direct calls of Linux 5.1). Semaphores and
 * message queues are not offered. */
SYSCALL_DECL(i386_ipc)
{
        unsigned call = (unsigned)a0 & 0xffff;
        long r;

        switch (call) {
        case IPCOP_SHMAT:
                r = sys_shmat(a1, a4, a2, 0, 0, 0);
                if (r < 0 && r >= -4095)
                        return r;
                /* the address goes to *third (Linux's do_shmat) */
                return copy_to_user((uint64_t)(uint32_t)a3, &r, sizeof r) ?
                       -EFAULT : 0;
        case IPCOP_SHMDT:
                return sys_shmdt(a4, 0, 0, 0, 0, 0);
        case IPCOP_SHMGET:
                return sys_shmget(a1, a2, a3, 0, 0, 0);
        case IPCOP_SHMCTL:
                return sys_shmctl(a1, a2 & ~IPC_64, a4, 0, 0, 0);
        default:
                return -ENOSYS;
        }
}

/* old_select(struct sel_arg_struct *): select's five arguments in user
 * memory (n, readfds, writefds, exceptfds, timeout), as i386's first
 * select took them. */
SYSCALL_DECL(i386_old_select)
{
        unsigned long a[5];

        if (copy_from_user(a, (uint64_t)a0, sizeof a))
                return -EFAULT;
        return sys_select((int)a[0], a[1], a[2], a[3], a[4], 0);
}

/* ---- fcntl ----------------------------------------------------- */

#define F_GETLK         5
#define F_SETLK         6
#define F_SETLKW        7
#define F_GETLK64       12
#define F_SETLK64       13
#define F_SETLKW64      14
#define F_OFD_GETLK     36
#define F_OFD_SETLK     37
#define F_OFD_SETLKW    38

/* fcntl: the core's; its struct flock (a 32-bit off_t) is the core's
 * user_flock on i386. fcntl64: F_GETLK64, F_SETLK64, F_SETLKW64 and the
 * OFD commands take i386's struct flock64 (fs/lock.c). */
SYSCALL_DECL(i386_fcntl)
{
        return sys_fcntl(a0, a1, a2, 0, 0, 0);
}

SYSCALL_DECL(i386_fcntl64)
{
        struct file *f;

        switch (a1) {
        case F_GETLK64: case F_SETLK64: case F_SETLKW64:
        case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
                if (!(f = fd_get((int)a0)))
                        return -EBADF;
                return vfs_fcntl_lock64(f, a1 >= F_OFD_GETLK ? (int)a1 :
                                        (int)a1 - (F_GETLK64 - F_GETLK),
                                        (uint64_t)a2);
        }
        return sys_fcntl(a0, a1, a2, 0, 0, 0);
}
