/*
 * uid16.c (i386) - the 16-bit uid and gid calls i386 Linux kept from its
 * beginnings (getuid 24, chown 182, setresuid 164, getgroups 80, ...;
 * the 32-bit ones are the *32 calls, the core's handlers). An id comes
 * in as 16 bits, 0xffff meaning -1 ("unchanged"); one going out that does
 * not fit is reported as the overflow id 65534 (Linux's high2lowuid and
 * /proc/sys/kernel/overflowuid's default). C libraries use the *32
 * calls; programs that name SYS_getuid and friends get these.
 */
#include <mercator/errno.h>
#include <mercator/uaccess.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define OVERFLOW_ID     65534

/* A 16-bit id argument as the 32-bit handlers take it. */
static sysarg_t id_in(sysarg_t a)
{
        uint16_t v = (uint16_t)a;

        return v == 0xffff ? -1 : (sysarg_t)v;
}

static uint16_t id_out(uint32_t id)
{
        return id > 0xffff ? OVERFLOW_ID : (uint16_t)id;
}

/* A handler's result that is an id (or a negated errno). */
static long id_ret(long r)
{
        return r < 0 ? r : id_out((uint32_t)r);
}

SYSCALL_DECL(i386_lchown16) { return sys_lchown(a0, id_in(a1), id_in(a2), 0, 0, 0); }
SYSCALL_DECL(i386_chown16) { return sys_chown(a0, id_in(a1), id_in(a2), 0, 0, 0); }
SYSCALL_DECL(i386_fchown16) { return sys_fchown(a0, id_in(a1), id_in(a2), 0, 0, 0); }
SYSCALL_DECL(i386_setuid16) { return sys_setuid(id_in(a0), 0, 0, 0, 0, 0); }
SYSCALL_DECL(i386_setgid16) { return sys_setgid(id_in(a0), 0, 0, 0, 0, 0); }
SYSCALL_DECL(i386_getuid16) { return id_ret(sys_getuid(0, 0, 0, 0, 0, 0)); }
SYSCALL_DECL(i386_getgid16) { return id_ret(sys_getgid(0, 0, 0, 0, 0, 0)); }
SYSCALL_DECL(i386_geteuid16) { return id_ret(sys_geteuid(0, 0, 0, 0, 0, 0)); }
SYSCALL_DECL(i386_getegid16) { return id_ret(sys_getegid(0, 0, 0, 0, 0, 0)); }
SYSCALL_DECL(i386_setreuid16)
{
        return sys_setreuid(id_in(a0), id_in(a1), 0, 0, 0, 0);
}
SYSCALL_DECL(i386_setregid16)
{
        return sys_setregid(id_in(a0), id_in(a1), 0, 0, 0, 0);
}
SYSCALL_DECL(i386_setresuid16)
{
        return sys_setresuid(id_in(a0), id_in(a1), id_in(a2), 0, 0, 0);
}
SYSCALL_DECL(i386_setresgid16)
{
        return sys_setresgid(id_in(a0), id_in(a1), id_in(a2), 0, 0, 0);
}
/* setfsuid answers the previous fsuid, never an error. */
SYSCALL_DECL(i386_setfsuid16) { return id_ret(sys_setfsuid(id_in(a0), 0, 0, 0, 0, 0)); }
SYSCALL_DECL(i386_setfsgid16) { return id_ret(sys_setfsgid(id_in(a0), 0, 0, 0, 0, 0)); }

static long put_three16(sysarg_t u0, sysarg_t u1, sysarg_t u2, uint32_t v0,
                        uint32_t v1, uint32_t v2)
{
        uint16_t w[3] = { id_out(v0), id_out(v1), id_out(v2) };

        if (copy_to_user((uint64_t)u0, &w[0], 2) ||
            copy_to_user((uint64_t)u1, &w[1], 2) ||
            copy_to_user((uint64_t)u2, &w[2], 2))
                return -EFAULT;
        return 0;
}

SYSCALL_DECL(i386_getresuid16)
{
        const struct cred *c = &current->cred;

        return put_three16(a0, a1, a2, c->uid, c->euid, c->suid);
}

SYSCALL_DECL(i386_getresgid16)
{
        const struct cred *c = &current->cred;

        return put_three16(a0, a1, a2, c->gid, c->egid, c->sgid);
}

/* getgroups16(size, list): as getgroups, in 16-bit ids. */
SYSCALL_DECL(i386_getgroups16)
{
        const struct cred *c = &current->cred;
        int size = (int)a0;
        uint16_t list[NGROUPS_MAX_MERCATOR];

        if (size < 0)
                return -EINVAL;
        if (size == 0)
                return c->ngroups;
        if ((uint32_t)size < c->ngroups)
                return -EINVAL;
        for (uint32_t i = 0; i < c->ngroups; i++)
                list[i] = id_out(c->groups[i]);
        if (copy_to_user((uint64_t)a1, list, c->ngroups * 2))
                return -EFAULT;
        return c->ngroups;
}

/* setgroups16(size, list): as setgroups, from 16-bit ids. */
SYSCALL_DECL(i386_setgroups16)
{
        uint16_t list16[NGROUPS_MAX_MERCATOR];
        uint32_t list[NGROUPS_MAX_MERCATOR];
        uint32_t n = (uint32_t)(int)a0;

        if (!cred_capable(&current->cred, CAP_SETGID))
                return -EPERM;
        if (n > 65536)
                return -EINVAL;                 /* Linux's NGROUPS_MAX */
        if (n > NGROUPS_MAX_MERCATOR)
                return -EINVAL;                 /* more than Mercator keeps */
        if (n && copy_from_user(list16, (uint64_t)a1, n * 2))
                return -EFAULT;
        for (uint32_t i = 0; i < n; i++)
                list[i] = list16[i] == 0xffff ? ~0u : list16[i];
        return cred_setgroups(&current->cred, list, n);
}
