/*
 * errno.h - Linux's error numbers (x86-64), which system calls return
 * negated. Values are the ABI's, from asm-generic/errno-base.h and errno.h.
 */
#ifndef MERCATOR_ERRNO_H
#define MERCATOR_ERRNO_H

#define EPERM           1
#define ENOENT          2
#define ESRCH           3
#define EINTR           4
#define EIO             5
#define ENXIO           6
#define E2BIG           7
#define ENOEXEC         8
#define EBADF           9
#define ECHILD          10
#define EAGAIN          11
#define ENOMEM          12
#define EACCES          13
#define EFAULT          14
#define EBUSY           16
#define EEXIST          17
#define ENODEV          19
#define ENOTDIR         20
#define EISDIR          21
#define EINVAL          22
#define ENFILE          23
#define EMFILE          24
#define ENOTBLK         15
#define ENOTTY          25
#define ETXTBSY         26
#define EFBIG           27
#define ENOSPC          28
#define ESPIPE          29
#define EROFS           30
#define EMLINK          31
#define EPIPE           32
#define ERANGE          34
#define EDEADLK         35
#define ENODATA         61
#define ENAMETOOLONG    36
#define ENOSYS          38
#define ENOLCK          37
#define ENOTEMPTY       39
#define ELOOP           40
#define EOVERFLOW       75
#define ELIBBAD         80
#define EUSERS          87
#define ETIMEDOUT       110
#define EOPNOTSUPP      95
#define EXDEV           18
#define ETIMEDOUT       110

/*
 * Kernel-internal results of a system call interrupted by a signal; they
 * never reach user space (signal_deliver turns them into a restart of the
 * call or -EINTR, as Linux decides):
 *   ERESTARTSYS            EINTR if a handler runs without SA_RESTART,
 *                          else the call restarts;
 *   ERESTARTNOINTR         always restarts;
 *   ERESTARTNOHAND         EINTR if a handler runs, else restarts;
 *   ERESTART_RESTARTBLOCK  like ERESTARTNOHAND (Mercator restarts the
 *                          call itself rather than restart_syscall).
 */
#define ERESTARTSYS             512
#define ERESTARTNOINTR          513
#define ERESTARTNOHAND          514
#define ERESTART_RESTARTBLOCK   516

#endif
