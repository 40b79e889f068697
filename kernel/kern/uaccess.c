/*
 * uaccess.c - range checks around the architecture's raw user copies
 * (uaccess.h). The raw routines rely on the exception table for faults.
 */
#include <mercator/errno.h>
#include <mercator/uaccess.h>
#include <machine/vmparam.h>
#include <proc/proc.h>

long raw_copy_user(void *dst, const void *src, size_t n);
long raw_strncpy_user(char *dst, const void *usrc, size_t max);
long raw_clear_user(void *udst, size_t n);
long raw_cmpxchg_user32(uint32_t *uaddr, uint32_t *old, uint32_t new);

/* The user half ends where the non-canonical hole starts (x86-64,
 * riscv64); a machine whose kernel begins right above USER_MAX (i386's
 * 3G/1G split) says where, USER_COPY_END. */
#ifdef USER_COPY_END
#define USER_END        USER_COPY_END
#else
#define USER_END        (USER_MAX + PAGE_SIZE)
#endif

/*
 * A user address is as wide as the machine's pointer: on a 32-bit machine
 * one that went through a long on its way here (above 2 GiB, so negative)
 * comes sign-extended, and its low 32 bits are the address. (Nothing on
 * a 64-bit machine.)
 */
static uint64_t uaddr_of(uint64_t uaddr)
{
        return (uintptr_t)uaddr;
}

bool user_range_ok(uint64_t uaddr, uint64_t len)
{
        uaddr = uaddr_of(uaddr);
        return uaddr <= USER_END && len <= USER_END - uaddr;
}

long copy_from_user(void *dst, uint64_t usrc, size_t len)
{
        usrc = uaddr_of(usrc);
        if (!user_range_ok(usrc, len))
                return -EFAULT;
        return len ? raw_copy_user(dst, (const void *)usrc, len) : 0;
}

long copy_from_user_nofault(void *dst, uint64_t usrc, size_t len)
{
        long err;

        current->uaccess_nofault = true;        /* oom_kernel_fault looks */
        err = copy_from_user(dst, usrc, len);
        current->uaccess_nofault = false;
        return err;
}

long copy_to_user(uint64_t udst, const void *src, size_t len)
{
        udst = uaddr_of(udst);
        if (!user_range_ok(udst, len))
                return -EFAULT;
        return len ? raw_copy_user((void *)udst, src, len) : 0;
}

long user_cmpxchg32(uint64_t uaddr, uint32_t *old, uint32_t new)
{
        uaddr = uaddr_of(uaddr);
        if ((uaddr & 3) || !user_range_ok(uaddr, 4))
                return -EFAULT;
        return raw_cmpxchg_user32((uint32_t *)(uintptr_t)uaddr, old, new);
}

long clear_user(uint64_t udst, size_t len)
{
        udst = uaddr_of(udst);
        if (!user_range_ok(udst, len))
                return -EFAULT;
        return len ? raw_clear_user((void *)udst, len) : 0;
}

long strncpy_from_user(char *dst, uint64_t usrc, size_t size)
{
        /* Stop at the end of the user half rather than fault past it. */
        size_t max = size - 1;
        long n;

        usrc = uaddr_of(usrc);
        if (size == 0 || usrc >= USER_END)
                return -EFAULT;
        if (max > USER_END - usrc)
                max = USER_END - usrc;
        n = raw_strncpy_user(dst, (const void *)usrc, max);
        if (n < 0)
                return n;
        dst[n] = '\0';
        if ((size_t)n == size - 1)
                return -ENAMETOOLONG;
        return n == (long)max && max < size - 1 ? -EFAULT : n;
}
