/*
 * sys_process_vm.c - process_vm_readv and process_vm_writev: copies
 * between the caller's memory and another process's, through the
 * target's areas and objects (vm_space_access()), Linux's rules.
 */
#include <mercator/errno.h>
#include <mercator/uaccess.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <vm/kmalloc.h>
#include <vm/vm_space.h>

#define IOV_MAX         1024
#define MAX_RW_COUNT    (0x7fffffffUL & ~(PAGE_SIZE - 1))

struct iovec_k {
        unsigned long base, len;        /* Linux's struct iovec */
};

/* Read an iovec array; Linux's EINVAL for a count past IOV_MAX or a
 * total that overflows ssize_t (it clips the total at MAX_RW_COUNT). */
static long iov_import(uint64_t uiov, uint64_t cnt, struct iovec_k **out,
                       uint64_t *total)
{
        struct iovec_k *v;

        *out = NULL;
        *total = 0;
        if (cnt > IOV_MAX)
                return -EINVAL;
        if (cnt == 0)
                return 0;
        v = kmalloc(cnt * sizeof *v);
        if (!v)
                return -ENOMEM;
        if (copy_from_user(v, uiov, cnt * sizeof *v)) {
                kfree(v);
                return -EFAULT;
        }
        for (uint64_t i = 0; i < cnt; i++) {
                if ((long)v[i].len < 0 ||
                    *total + v[i].len > (uint64_t)(~0UL >> 1)) {  /* ssize_t */
                        kfree(v);
                        return -EINVAL;
                }
                *total += v[i].len;
        }
        *out = v;
        return 0;
}

/* Move up to the local vectors' total between them and the remote
 * ranges, a page-sized bounce at a time. => bytes moved, or -EFAULT if
 * none could be. */
static long pvm_copy(struct vm_space *target, const struct iovec_k *lv,
                     uint64_t lcnt, const struct iovec_k *rv, uint64_t rcnt,
                     bool write)
{
        uint8_t *bounce = kmalloc(PAGE_SIZE);
        uint64_t li = 0, loff = 0, moved = 0;
        long rc = 0;

        if (!bounce)
                return -ENOMEM;
        for (uint64_t ri = 0; ri < rcnt && !rc; ri++) {
                uint64_t raddr = rv[ri].base, rlen = rv[ri].len;

                while (rlen && !rc) {
                        while (li < lcnt && loff == lv[li].len)
                                li++, loff = 0;
                        if (li == lcnt)
                                goto out;       /* local space used up */
                        uint64_t n = MIN(rlen, lv[li].len - loff);
                        n = MIN(n, PAGE_SIZE - (raddr & PAGE_MASK));
                        uint64_t laddr = lv[li].base + loff;
                        size_t done = 0;

                        if (write) {
                                if (copy_from_user(bounce, laddr, n)) {
                                        rc = -EFAULT;
                                        break;
                                }
                                vm_space_access(target, raddr, bounce, n,
                                                true, false, &done);
                        } else {
                                vm_space_access(target, raddr, bounce, n,
                                                false, false, &done);
                                if (done && copy_to_user(laddr, bounce, done))
                                        done = 0, rc = -EFAULT;
                        }
                        if (rc)
                                break;
                        if (done < n)
                                rc = -EFAULT;
                        moved += done, loff += done;
                        raddr += done, rlen -= done;
                }
        }
out:
        kfree(bounce);
        return moved ? (long)MIN(moved, MAX_RW_COUNT) : rc;
}

static long process_vm_rw(long pid, uint64_t liov, uint64_t lcnt,
                          uint64_t riov, uint64_t rcnt, uint64_t flags,
                          bool write)
{
        struct iovec_k *lv, *rv;
        uint64_t ltotal, rtotal;
        struct proc *p;
        long r;

        if (flags)
                return -EINVAL;
        r = iov_import(liov, lcnt, &lv, &ltotal);
        if (r)
                return r;
        r = iov_import(riov, rcnt, &rv, &rtotal);
        if (r) {
                kfree(lv);
                return r;
        }
        if (ltotal == 0) {
                r = 0;
                goto out;
        }
        p = proc_find((int)pid);
        if (!p || p->state == PROC_ZOMBIE || !p->space) {
                r = -ESRCH;
                goto out;
        }
        if (!proc_may_access(p)) {
                r = -EPERM;
                goto out;
        }
        r = pvm_copy(p->space, lv, lcnt, rv, rcnt, write);
out:
        kfree(lv);
        kfree(rv);
        return r;
}

SYSCALL_DECL(process_vm_readv)
{
        return process_vm_rw((int)a0, (uint64_t)a1, (uint64_t)a2,
                             (uint64_t)a3, (uint64_t)a4, (uint64_t)a5, false);
}

SYSCALL_DECL(process_vm_writev)
{
        return process_vm_rw((int)a0, (uint64_t)a1, (uint64_t)a2,
                             (uint64_t)a3, (uint64_t)a4, (uint64_t)a5, true);
}
