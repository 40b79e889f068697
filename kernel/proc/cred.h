/*
 * cred.h - a process's credentials: user and group ids (real, effective,
 * saved, file-system), supplementary groups, and capabilities.
 *
 * Linux's model, kept small. Every process starts as root with every
 * capability; a fork copies its parent's credentials, execve keeps them
 * (saved ids become the effective ones, capabilities are recomputed as
 * Linux does for a file without set-id bits or file capabilities). What a
 * process may do is decided by its effective capabilities (cred_capable),
 * which the set*id calls change by Linux's rules (cred.c), so a root
 * process that becomes an ordinary user loses them as on Linux.
 *
 * File-system permission checks use fsuid/fsgid and groups: the fsuid
 * follows the euid unless setfsuid() says otherwise.
 *
 * Fields: [p] the process itself (only its own system calls change them;
 * a parent's are copied at fork).
 */
#ifndef PROC_CRED_H
#define PROC_CRED_H

#include <mercator/types.h>

/* Supplementary groups one process may have (Linux allows 65536). */
#define NGROUPS_MAX_MERCATOR    64

struct cred {
        uint32_t uid, euid, suid, fsuid;        /* [p] */
        uint32_t gid, egid, sgid, fsgid;        /* [p] */
        uint32_t ngroups;                       /* [p] */
        uint32_t groups[NGROUPS_MAX_MERCATOR];  /* [p] sorted ascending */
        uint64_t cap_effective;                 /* [p] bit per CAP_* */
        uint64_t cap_permitted;                 /* [p] */
        uint64_t cap_inheritable;               /* [p] */
        bool     keep_caps;                     /* [p] PR_SET_KEEPCAPS */
        bool     no_new_privs;                  /* [p] PR_SET_NO_NEW_PRIVS:
                                                   never cleared */
};

/* Capability numbers (Linux's, include/uapi/linux/capability.h). */
#define CAP_CHOWN               0
#define CAP_DAC_OVERRIDE        1
#define CAP_DAC_READ_SEARCH     2
#define CAP_FOWNER              3
#define CAP_FSETID              4
#define CAP_KILL                5
#define CAP_SETGID              6
#define CAP_SETUID              7
#define CAP_SETPCAP             8
#define CAP_LINUX_IMMUTABLE     9
#define CAP_IPC_LOCK            14
#define CAP_IPC_OWNER           15
#define CAP_SYS_ADMIN           21
#define CAP_SYS_NICE            23
#define CAP_SYS_RESOURCE        24
#define CAP_SYS_TIME            25
#define CAP_MKNOD               27
#define CAP_MAC_OVERRIDE        32
#define CAP_LAST_CAP            40      /* CAP_CHECKPOINT_RESTORE (Linux 6.1) */
#define CAP_FULL_SET            ((1ULL << (CAP_LAST_CAP + 1)) - 1)
/* The capabilities a change of fsuid to or from 0 drops or raises. */
#define CAP_FS_MASK             ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | \
                                 (1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_FOWNER) | \
                                 (1ULL << CAP_FSETID) | (1ULL << CAP_LINUX_IMMUTABLE) | \
                                 (1ULL << CAP_MKNOD) | (1ULL << CAP_MAC_OVERRIDE))

/* Credentials of the first process: root, every capability. */
void cred_init_root(struct cred *c);

/* Whether c holds capability cap in its effective set. */
static inline bool cred_capable(const struct cred *c, int cap)
{
        return (c->cap_effective >> cap) & 1;
}

/* Whether gid is c's fsgid or one of its supplementary groups. */
bool cred_in_group(const struct cred *c, uint32_t gid);

/*
 * The set*id rules (Linux's, kernel/sys.c), on c in place. (uint32_t)-1
 * means "leave unchanged" where Linux says so.
 * => 0, -EPERM (not allowed without CAP_SETUID/CAP_SETGID), or -EINVAL
 *    (an id of -1 where a real id is needed). On an error c is unchanged.
 * => capabilities follow: losing root drops them as Linux does.
 */
long cred_setuid(struct cred *c, uint32_t uid);
long cred_setreuid(struct cred *c, uint32_t ruid, uint32_t euid);
long cred_setresuid(struct cred *c, uint32_t ruid, uint32_t euid, uint32_t suid);
long cred_setgid(struct cred *c, uint32_t gid);
long cred_setregid(struct cred *c, uint32_t rgid, uint32_t egid);
long cred_setresgid(struct cred *c, uint32_t rgid, uint32_t egid, uint32_t sgid);

/* setfsuid/setfsgid: always return the old value; change it only if
 * allowed (an id c already has, or the capability). */
uint32_t cred_setfsuid(struct cred *c, uint32_t fsuid);
uint32_t cred_setfsgid(struct cred *c, uint32_t fsgid);

/* setgroups: n sorted copies of list. => 0, -EPERM without CAP_SETGID,
 * -EINVAL if n > NGROUPS_MAX_MERCATOR. */
long cred_setgroups(struct cred *c, const uint32_t *list, uint32_t n);

/*
 * capset's rules: the new permitted set within the old one, the new
 * effective set within the new permitted one, the new inheritable set
 * within old inheritable | old permitted (unless CAP_SETPCAP).
 * => 0 or -EPERM; c unchanged on error.
 */
long cred_capset(struct cred *c, uint64_t eff, uint64_t perm, uint64_t inh);

/* What execve does to credentials (no set-id files, no file caps): saved
 * ids take the effective ones; root keeps every capability, others none. */
void cred_exec(struct cred *c);

#endif
