/*
 * status.c - what a vm_status_t means: its name, and the Linux errno it
 * becomes at the system-call boundary. The one place that maps statuses to
 * errnos, so each new status is added here and nowhere else.
 */
#include <mercator/errno.h>
#include <mercator/status.h>
#include <mercator/types.h>

static const struct {
        const char *name;
        long errno_neg;
} status_table[VM_NR_STATUS] = {
        [VM_OK]           = { "ok", 0 },
        [VM_ENOMEM]       = { "out of memory", -ENOMEM },
        [VM_EINVAL]       = { "invalid argument", -EINVAL },
        [VM_EFAULT]       = { "bad address", -EFAULT },
        [VM_EEXIST]       = { "already exists", -EEXIST },
        [VM_ENOENT]       = { "not found", -ENOENT },
        [VM_EACCES]       = { "access denied", -EACCES },
        [VM_EBUSY]        = { "busy", -EBUSY },
        [VM_ENOSPC]       = { "no space", -ENOSPC },
        [VM_ENOTDIR]      = { "ENOTDIR", -ENOTDIR },
        [VM_EISDIR]       = { "EISDIR", -EISDIR },
        [VM_ENAMETOOLONG] = { "ENAMETOOLONG", -ENAMETOOLONG },
        [VM_ELOOP]        = { "ELOOP", -ELOOP },
        [VM_E2BIG]        = { "E2BIG", -E2BIG },
        [VM_EIO]          = { "I/O error", -EIO },
        [VM_EPERM]        = { "not permitted", -EPERM },
};

/* Name of a status; "unknown status" outside the enum. */
const char *vm_status_name(vm_status_t st)
{
        if ((unsigned)st < ARRAY_SIZE(status_table) && status_table[st].name)
                return status_table[st].name;
        return "unknown status";
}

/* The negated Linux errno of a status; -EINVAL outside the enum. */
long status_to_errno(vm_status_t st)
{
        if ((unsigned)st < ARRAY_SIZE(status_table) && status_table[st].name)
                return status_table[st].errno_neg;
        return -EINVAL;
}
