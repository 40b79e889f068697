/*
 * sys_mem.c - mmap, munmap, mprotect and brk: Linux's argument rules and
 * numbers around the address-space core (vm/vm_space.c), which holds the
 * semantics. The errno for each bad argument is the one Linux gives.
 */
#include <mercator/errno.h>
#include <machine/vmparam.h>
#include <proc/file.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/vm_space.h>

#define PROT_READ       0x1
#define PROT_WRITE      0x2
#define PROT_EXEC       0x4
#define PROT_GROWSDOWN  0x01000000
#define PROT_GROWSUP    0x02000000

#define MAP_SHARED              0x01
#define MAP_PRIVATE             0x02
#define MAP_SHARED_VALIDATE     0x03
#define MAP_TYPE                0x0f
#define MAP_FIXED               0x10
#define MAP_ANONYMOUS           0x20
#define MAP_GROWSDOWN           0x0100
#define MAP_NORESERVE           0x4000
#define MAP_POPULATE            0x8000
#define MAP_FIXED_NOREPLACE     0x100000
/* Flags MAP_SHARED_VALIDATE accepts (Linux's LEGACY_MAP_MASK and more). */
#define MAP_KNOWN               0x1ff7ff

#define TASK_SIZE               (USER_MAX + 0)

long errno_from_status(vm_status_t st)
{
        switch (st) {
        case VM_OK:     return 0;
        case VM_ENOMEM: return -ENOMEM;
        case VM_EINVAL: return -EINVAL;
        case VM_EFAULT: return -EFAULT;
        case VM_EEXIST: return -EEXIST;
        case VM_ENOENT: return -ENOENT;
        case VM_EACCES: return -EACCES;
        case VM_EBUSY:  return -EBUSY;
        case VM_ENOSPC: return -ENOSPC;
        }
        return -EINVAL;
}

#define PROT_SEM        0x8     /* accepted and meaningless on x86 */

/* mprotect's rule (Linux's arch_validate_prot): known bits only, and not
 * both growth directions. mmap ignores unknown bits instead. */
static bool prot_valid(long prot)
{
        return !(prot & ~(long)(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM |
                                PROT_GROWSDOWN | PROT_GROWSUP)) &&
               (prot & (PROT_GROWSDOWN | PROT_GROWSUP)) !=
               (PROT_GROWSDOWN | PROT_GROWSUP);
}

/* PROT_* -> VM_PROT_*: on x86 readable implies nothing else, but write
 * and exec both need the page present, so they imply read (as Linux). */
static vm_prot_t prot_to_vm(long prot)
{
        vm_prot_t p = VM_PROT_NONE;

        if (prot & PROT_READ)
                p |= VM_PROT_READ;
        if (prot & PROT_WRITE)
                p |= VM_PROT_WRITE | VM_PROT_READ;
        if (prot & PROT_EXEC)
                p |= VM_PROT_EXEC | VM_PROT_READ;
        return p;
}

static unsigned flags_to_vm(long flags)
{
        unsigned f = (flags & MAP_TYPE) == MAP_PRIVATE ? VM_MAP_PRIVATE
                                                       : VM_MAP_SHARED;

        if (flags & MAP_FIXED)
                f |= VM_MAP_FIXED;
        else if (flags & MAP_FIXED_NOREPLACE)
                f |= VM_MAP_FIXED_NOREPLACE;
        if (flags & MAP_NORESERVE)
                f |= VM_MAP_NORESERVE;
        if (flags & MAP_POPULATE)
                f |= VM_MAP_POPULATE;
        if (flags & MAP_GROWSDOWN)
                f |= VM_MAP_GROWSDOWN;
        return f;
}

/* mmap(addr, len, prot, flags, fd, off), anonymous memory only so far. */
SYSCALL_DECL(mmap)
{
        uint64_t addr = (uint64_t)a0, len = (uint64_t)a1;
        long prot = a2, flags = a3, fd = a4, off = a5;
        vaddr_t out;

        if (len == 0 || (off & PAGE_MASK))
                return -EINVAL;
        switch (flags & MAP_TYPE) {
        case MAP_SHARED: case MAP_PRIVATE: break;
        case MAP_SHARED_VALIDATE:
                if (flags & MAP_ANONYMOUS)      /* Linux: anonymous has none */
                        return -EINVAL;
                if (flags & ~(long)MAP_KNOWN)
                        return -EOPNOTSUPP;
                break;
        default: return -EINVAL;
        }
        if (len > TASK_SIZE || page_round(len) > TASK_SIZE)
                return -ENOMEM;
        if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && (addr & PAGE_MASK))
                return -EINVAL;
        if ((flags & MAP_FIXED) && addr > TASK_SIZE - page_round(len))
                return -ENOMEM;
        /* Below mmap_min_addr: what Linux tells a program without
         * CAP_SYS_RAWIO (root may map there on Linux; nobody may here). */
        if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && addr < USER_MIN)
                return -EPERM;
        if (!(flags & MAP_ANONYMOUS))
                return fd_get((int)fd) ? -ENODEV : -EBADF;
        vm_status_t st = vm_space_map(current->space, page_trunc(addr),
                                      page_round(len), prot_to_vm(prot),
                                      flags_to_vm(flags), &out);
        return st == VM_OK ? (long)out : errno_from_status(st);
}

SYSCALL_DECL(munmap)
{
        uint64_t addr = (uint64_t)a0, len = page_round((uint64_t)a1);

        if ((addr & PAGE_MASK) || a1 == 0 || len > TASK_SIZE ||
            addr > TASK_SIZE - len)
                return -EINVAL;
        return errno_from_status(vm_space_unmap(current->space, addr, len));
}

SYSCALL_DECL(mprotect)
{
        uint64_t addr = (uint64_t)a0, len = page_round((uint64_t)a1);

        if ((addr & PAGE_MASK) || !prot_valid(a2))
                return -EINVAL;
        if (a1 == 0)
                return 0;
        if (len < (uint64_t)a1 || addr + len < addr)
                return -ENOMEM;
        if (addr + len > TASK_SIZE)
                return -ENOMEM;
        return errno_from_status(vm_space_protect(current->space, addr, len,
                                                  prot_to_vm(a2)));
}

/* brk returns the new break, or the old one if it could not move. */
SYSCALL_DECL(brk)
{
        vaddr_t result;

        vm_space_brk(current->space, (vaddr_t)a0, &result);
        return (long)result;
}
