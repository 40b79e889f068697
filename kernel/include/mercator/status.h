/*
 * status.h - the one status type of the kernel core.
 *
 * Core functions return vm_status_t; it becomes a Linux -errno only at the
 * system-call boundary, through status_to_errno() (kernel/lib/status.c).
 */
#ifndef MERCATOR_STATUS_H
#define MERCATOR_STATUS_H

typedef enum vm_status {
        VM_OK = 0,
        VM_ENOMEM,      /* out of physical pages, table pages or heap */
        VM_EINVAL,      /* bad argument (alignment, range, flags) */
        VM_EFAULT,      /* bad address supplied by a caller */
        VM_EEXIST,      /* something is already there */
        VM_ENOENT,      /* nothing is there */
        VM_EACCES,      /* protection forbids it */
        VM_EBUSY,       /* resource in use */
        VM_ENOSPC,      /* no room in a fixed-size table or address range */
        VM_ENOTDIR,     /* a path component that is not a directory */
        VM_EISDIR,      /* a directory where a file is needed */
        VM_ENAMETOOLONG,/* a path or one of its components is too long */
        VM_ELOOP,       /* too many symbolic links while resolving a path */
        VM_E2BIG,       /* arguments and environment too large (execve) */
        VM_EIO,         /* a disk read or write failed */
        VM_EPERM,       /* not allowed (a sealed area: mseal) */
        VM_NR_STATUS
} vm_status_t;

/*
 * A short human-readable name of a status, for logs and test failures.
 * => "unknown status" for a value outside the enum.
 */
const char *vm_status_name(vm_status_t st);

/*
 * The Linux errno a status stands for, negated, as system calls return it
 * (VM_OK -> 0, VM_ENOMEM -> -ENOMEM, ...).
 * => -EINVAL for a value outside the enum (never a kernel bug to hide:
 *    callers pass only statuses core functions returned).
 */
long status_to_errno(vm_status_t st);

#endif
