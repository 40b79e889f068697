/*
 * cred.c - the rules for changing credentials, as Linux has them
 * (kernel/sys.c for the ids, security/commoncap.c for what capabilities
 * do when ids change). Pure functions on a struct cred: no process, no
 * user memory, so the host tests run them (tests/host/test_cred.c).
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <proc/cred.h>

#define ID_NONE ((uint32_t)-1)

void cred_init_root(struct cred *c)
{
        memset(c, 0, sizeof *c);
        c->cap_effective = CAP_FULL_SET;
        c->cap_permitted = CAP_FULL_SET;
}

bool cred_in_group(const struct cred *c, uint32_t gid)
{
        if (gid == c->fsgid)
                return true;
        for (uint32_t i = 0; i < c->ngroups; i++)
                if (c->groups[i] == gid)
                        return true;
        return false;
}

/*
 * What a change of user ids does to capabilities (Linux's
 * cap_emulate_setxuid): leaving root entirely (no 0 among real, effective
 * and saved uid) clears permitted and effective, unless keep_caps; an
 * effective uid leaving 0 clears effective; one becoming 0 restores
 * effective from permitted.
 */
static void caps_after_setuid(struct cred *c, const struct cred *old)
{
        bool was_root = old->uid == 0 || old->euid == 0 || old->suid == 0;
        bool is_root = c->uid == 0 || c->euid == 0 || c->suid == 0;

        if (was_root && !is_root && !c->keep_caps) {
                c->cap_permitted = 0;
                c->cap_effective = 0;
        }
        if (old->euid == 0 && c->euid != 0)
                c->cap_effective = 0;
        if (old->euid != 0 && c->euid == 0)
                c->cap_effective = c->cap_permitted;
}

/* An id the caller already holds as real, effective or saved uid. */
static bool uid_held(const struct cred *c, uint32_t id)
{
        return id == c->uid || id == c->euid || id == c->suid;
}

static bool gid_held(const struct cred *c, uint32_t id)
{
        return id == c->gid || id == c->egid || id == c->sgid;
}

long cred_setuid(struct cred *c, uint32_t uid)
{
        struct cred old = *c;

        if (uid == ID_NONE)
                return -EINVAL;
        if (cred_capable(c, CAP_SETUID)) {
                c->uid = c->suid = uid;
        } else if (uid != c->uid && uid != c->suid) {
                return -EPERM;
        }
        c->euid = c->fsuid = uid;
        caps_after_setuid(c, &old);
        return 0;
}

long cred_setreuid(struct cred *c, uint32_t ruid, uint32_t euid)
{
        struct cred old = *c;
        bool cap = cred_capable(c, CAP_SETUID);

        if (ruid != ID_NONE && !cap && ruid != c->uid && ruid != c->euid)
                return -EPERM;
        if (euid != ID_NONE && !cap && !uid_held(c, euid))
                return -EPERM;
        if (ruid != ID_NONE)
                c->uid = ruid;
        if (euid != ID_NONE)
                c->euid = euid;
        /* Linux: the saved uid follows the new euid when the real uid is
         * set, or the euid is set to something other than the old ruid. */
        if (ruid != ID_NONE || (euid != ID_NONE && euid != old.uid))
                c->suid = c->euid;
        c->fsuid = c->euid;
        caps_after_setuid(c, &old);
        return 0;
}

long cred_setresuid(struct cred *c, uint32_t ruid, uint32_t euid, uint32_t suid)
{
        struct cred old = *c;

        if (!cred_capable(c, CAP_SETUID) &&
            ((ruid != ID_NONE && !uid_held(c, ruid)) ||
             (euid != ID_NONE && !uid_held(c, euid)) ||
             (suid != ID_NONE && !uid_held(c, suid))))
                return -EPERM;
        if (ruid != ID_NONE)
                c->uid = ruid;
        if (euid != ID_NONE)
                c->euid = euid;
        if (suid != ID_NONE)
                c->suid = suid;
        c->fsuid = c->euid;
        caps_after_setuid(c, &old);
        return 0;
}

long cred_setgid(struct cred *c, uint32_t gid)
{
        if (gid == ID_NONE)
                return -EINVAL;
        if (cred_capable(c, CAP_SETGID))
                c->gid = c->sgid = gid;
        else if (gid != c->gid && gid != c->sgid)
                return -EPERM;
        c->egid = c->fsgid = gid;
        return 0;
}

long cred_setregid(struct cred *c, uint32_t rgid, uint32_t egid)
{
        uint32_t old_gid = c->gid;
        bool cap = cred_capable(c, CAP_SETGID);

        if (rgid != ID_NONE && !cap && rgid != c->gid && rgid != c->egid)
                return -EPERM;
        if (egid != ID_NONE && !cap && !gid_held(c, egid))
                return -EPERM;
        if (rgid != ID_NONE)
                c->gid = rgid;
        if (egid != ID_NONE)
                c->egid = egid;
        if (rgid != ID_NONE || (egid != ID_NONE && egid != old_gid))
                c->sgid = c->egid;
        c->fsgid = c->egid;
        return 0;
}

long cred_setresgid(struct cred *c, uint32_t rgid, uint32_t egid, uint32_t sgid)
{
        if (!cred_capable(c, CAP_SETGID) &&
            ((rgid != ID_NONE && !gid_held(c, rgid)) ||
             (egid != ID_NONE && !gid_held(c, egid)) ||
             (sgid != ID_NONE && !gid_held(c, sgid))))
                return -EPERM;
        if (rgid != ID_NONE)
                c->gid = rgid;
        if (egid != ID_NONE)
                c->egid = egid;
        if (sgid != ID_NONE)
                c->sgid = sgid;
        c->fsgid = c->egid;
        return 0;
}

/* setfsuid: a change of fsuid to or from 0 drops or raises the
 * file-system capabilities (Linux's cap_task_fix_setuid, LSM_SETID_FS). */
uint32_t cred_setfsuid(struct cred *c, uint32_t fsuid)
{
        uint32_t old = c->fsuid;

        if (fsuid == ID_NONE)
                return old;
        if (!uid_held(c, fsuid) && fsuid != c->fsuid &&
            !cred_capable(c, CAP_SETUID))
                return old;
        c->fsuid = fsuid;
        if (old == 0 && fsuid != 0)
                c->cap_effective &= ~CAP_FS_MASK;
        if (old != 0 && fsuid == 0)
                c->cap_effective |= c->cap_permitted & CAP_FS_MASK;
        return old;
}

uint32_t cred_setfsgid(struct cred *c, uint32_t fsgid)
{
        uint32_t old = c->fsgid;

        if (fsgid == ID_NONE)
                return old;
        if (!gid_held(c, fsgid) && fsgid != c->fsgid &&
            !cred_capable(c, CAP_SETGID))
                return old;
        c->fsgid = fsgid;
        return old;
}

long cred_setgroups(struct cred *c, const uint32_t *list, uint32_t n)
{
        if (!cred_capable(c, CAP_SETGID))
                return -EPERM;
        if (n > NGROUPS_MAX_MERCATOR)
                return -EINVAL;
        /* Insertion sort: Linux keeps the list sorted, getgroups shows it so. */
        for (uint32_t i = 0; i < n; i++) {
                uint32_t g = list[i], j = i;
                for (; j > 0 && c->groups[j - 1] > g; j--)
                        c->groups[j] = c->groups[j - 1];
                c->groups[j] = g;
        }
        c->ngroups = n;
        return 0;
}

long cred_capset(struct cred *c, uint64_t eff, uint64_t perm, uint64_t inh)
{
        uint64_t inh_allowed = c->cap_inheritable | c->cap_permitted;

        if (!cred_capable(c, CAP_SETPCAP) && (inh & ~inh_allowed))
                return -EPERM;
        if (perm & ~c->cap_permitted)
                return -EPERM;
        if (eff & ~perm)
                return -EPERM;
        c->cap_effective = eff;
        c->cap_permitted = perm;
        c->cap_inheritable = inh;
        return 0;
}

/*
 * Linux's execve for a file with no set-id bits and no file capabilities:
 * a process whose real or effective uid is 0 gets every capability
 * permitted (effective only if the euid is 0); any other loses them all.
 * keep_caps is cleared.
 */
void cred_exec(struct cred *c)
{
        c->suid = c->euid;
        c->sgid = c->egid;
        c->fsuid = c->euid;
        c->fsgid = c->egid;
        c->keep_caps = false;
        if (c->uid == 0 || c->euid == 0) {
                c->cap_permitted = CAP_FULL_SET;
                c->cap_effective = c->euid == 0 ? CAP_FULL_SET : 0;
        } else {
                c->cap_permitted = 0;
                c->cap_effective = 0;
        }
}
