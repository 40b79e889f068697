/*
 * sys_cred.c - the identity system calls: get and set user and group ids,
 * supplementary groups, capget/capset. The rules are in cred.c; this file
 * moves arguments between user memory and current->cred.
 */
#include <mercator/errno.h>
#include <mercator/uaccess.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define CRED (&current->cred)

SYSCALL_DECL(getuid) { return CRED->uid; }
SYSCALL_DECL(geteuid) { return CRED->euid; }
SYSCALL_DECL(getgid) { return CRED->gid; }
SYSCALL_DECL(getegid) { return CRED->egid; }

/*
 * What follows a change of identity, as Linux's commit_creds: a process
 * whose effective or file-system ids changed, or whose permitted
 * capabilities shrank, stops being dumpable (fs.suid_dumpable 0), so its
 * /proc/PID files become root's and other processes of its old identity
 * may no longer read its memory. => r, the setter's result.
 */
static long committed(const struct cred *old, long r)
{
        const struct cred *c = CRED;

        if (r == 0 && (old->euid != c->euid || old->egid != c->egid ||
                       old->fsuid != c->fsuid || old->fsgid != c->fsgid ||
                       (old->cap_permitted & ~c->cap_permitted)))
                current->usage.dumpable = false;
        return r;
}

#define COMMIT(call) do {                                               \
        struct cred old = *CRED;                                        \
        return committed(&old, call);                                   \
} while (0)

SYSCALL_DECL(setuid) { COMMIT(cred_setuid(CRED, (uint32_t)a0)); }
SYSCALL_DECL(setgid) { COMMIT(cred_setgid(CRED, (uint32_t)a0)); }
SYSCALL_DECL(setreuid) { COMMIT(cred_setreuid(CRED, (uint32_t)a0, (uint32_t)a1)); }
SYSCALL_DECL(setregid) { COMMIT(cred_setregid(CRED, (uint32_t)a0, (uint32_t)a1)); }

/* setfsuid/setfsgid return the old id, not 0. */
SYSCALL_DECL(setfsuid)
{
        struct cred old = *CRED;
        long r = cred_setfsuid(CRED, (uint32_t)a0);
        committed(&old, 0);
        return r;
}

SYSCALL_DECL(setfsgid)
{
        struct cred old = *CRED;
        long r = cred_setfsgid(CRED, (uint32_t)a0);
        committed(&old, 0);
        return r;
}

SYSCALL_DECL(setresuid)
{
        COMMIT(cred_setresuid(CRED, (uint32_t)a0, (uint32_t)a1, (uint32_t)a2));
}

SYSCALL_DECL(setresgid)
{
        COMMIT(cred_setresgid(CRED, (uint32_t)a0, (uint32_t)a1, (uint32_t)a2));
}

static long put_three(long u0, long u1, long u2, uint32_t v0, uint32_t v1,
                      uint32_t v2)
{
        if (copy_to_user((uint64_t)u0, &v0, 4) ||
            copy_to_user((uint64_t)u1, &v1, 4) ||
            copy_to_user((uint64_t)u2, &v2, 4))
                return -EFAULT;
        return 0;
}

SYSCALL_DECL(getresuid)
{
        return put_three(a0, a1, a2, CRED->uid, CRED->euid, CRED->suid);
}

SYSCALL_DECL(getresgid)
{
        return put_three(a0, a1, a2, CRED->gid, CRED->egid, CRED->sgid);
}

/* getgroups(size, list): size 0 asks for the count. */
SYSCALL_DECL(getgroups)
{
        int size = (int)a0;
        uint32_t n = CRED->ngroups;

        if (size < 0)
                return -EINVAL;
        if (size == 0)
                return n;
        if ((uint32_t)size < n)
                return -EINVAL;
        if (copy_to_user((uint64_t)a1, CRED->groups, n * 4))
                return -EFAULT;
        return n;
}

#define NGROUPS_MAX     65536   /* Linux's; Mercator keeps fewer (cred.h) */

SYSCALL_DECL(setgroups)
{
        uint32_t list[NGROUPS_MAX_MERCATOR];
        uint32_t n = (uint32_t)(int)a0;

        if (!cred_capable(CRED, CAP_SETGID))
                return -EPERM;
        if (n > NGROUPS_MAX)
                return -EINVAL;
        if (n > NGROUPS_MAX_MERCATOR)
                return -EINVAL;         /* more than Mercator keeps */
        if (n && copy_from_user(list, (uint64_t)a1, n * 4))
                return -EFAULT;
        return cred_setgroups(CRED, list, n);
}

/* capget/capset: Linux's header and data layouts. */
#define CAP_V1  0x19980330
#define CAP_V2  0x20071026
#define CAP_V3  0x20080522

struct cap_header { uint32_t version; int32_t pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

/* The number of cap_data words for the header's version; 0 (after
 * telling the caller the version we prefer) if it is unknown. */
static long cap_header_read(uint64_t uhdr, struct cap_header *h, int *words)
{
        if (copy_from_user(h, uhdr, sizeof *h))
                return -EFAULT;
        switch (h->version) {
        case CAP_V1:
                *words = 1;
                return 0;
        case CAP_V2: case CAP_V3:
                *words = 2;
                return 0;
        default: {
                uint32_t v = CAP_V3;
                if (copy_to_user(uhdr, &v, 4))
                        return -EFAULT;
                return -EINVAL;
        }
        }
}

SYSCALL_DECL(capget)
{
        struct cap_header h;
        struct cap_data d[2];
        const struct cred *c = CRED;
        int words;
        long err = cap_header_read((uint64_t)a0, &h, &words);

        if (!a1)
                return err == -EINVAL ? 0 : err;   /* a version probe */
        if (err)
                return err;
        if (h.pid < 0)
                return -EINVAL;
        if (h.pid && h.pid != current->pid) {
                struct proc *p = proc_find(h.pid);
                if (!p || p->state == PROC_ZOMBIE)
                        return -ESRCH;
                c = &p->cred;
        }
        for (int i = 0; i < 2; i++) {
                d[i].effective = (uint32_t)(c->cap_effective >> (32 * i));
                d[i].permitted = (uint32_t)(c->cap_permitted >> (32 * i));
                d[i].inheritable = (uint32_t)(c->cap_inheritable >> (32 * i));
        }
        return copy_to_user((uint64_t)a1, d, (size_t)words * sizeof d[0]) ? -EFAULT : 0;
}

/* capset changes only the caller's own sets (Linux refuses others). */
SYSCALL_DECL(capset)
{
        struct cap_header h;
        struct cap_data d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
        int words;
        long err = cap_header_read((uint64_t)a0, &h, &words);

        if (err)
                return err;
        if (h.pid && h.pid != current->pid)
                return -EPERM;
        if (copy_from_user(d, (uint64_t)a1, (size_t)words * sizeof d[0]))
                return -EFAULT;
        /* Bits above the last capability are dropped, as Linux does. */
        uint64_t eff = ((uint64_t)d[1].effective << 32 | d[0].effective) & CAP_FULL_SET;
        uint64_t perm = ((uint64_t)d[1].permitted << 32 | d[0].permitted) & CAP_FULL_SET;
        uint64_t inh = ((uint64_t)d[1].inheritable << 32 | d[0].inheritable) & CAP_FULL_SET;
        COMMIT(cred_capset(CRED, eff, perm, inh));
}
