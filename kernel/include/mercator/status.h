/*
 * status.h - the one status type of the kernel core.
 *
 * Core functions return vm_status_t; it becomes a Linux -errno only at the
 * system-call boundary (status_to_errno()).
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
} vm_status_t;

const char *vm_status_name(vm_status_t st);

#endif
