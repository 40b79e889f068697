/*
 * vmstat.c - the memory counters (see vmstat.h) and the status names.
 */
#include <mercator/status.h>
#include <vm/vmstat.h>

struct vmstat vmstat;

const char *vm_status_name(vm_status_t st)
{
        static const char *const names[] = {
                [VM_OK] = "ok", [VM_ENOMEM] = "out of memory",
                [VM_EINVAL] = "invalid argument", [VM_EFAULT] = "bad address",
                [VM_EEXIST] = "already exists", [VM_ENOENT] = "not found",
                [VM_EACCES] = "access denied", [VM_EBUSY] = "busy",
                [VM_ENOSPC] = "no space",
        };

        if ((unsigned)st < sizeof names / sizeof names[0] && names[st])
                return names[st];
        return "unknown status";
}
