/*
 * test_cred.c - the set*id and capability rules (kernel/proc/cred.c)
 * against what Linux does in the same cases, and resource-limit checks
 * (kernel/proc/rlimit.c).
 */
#include "check.h"

#include <mercator/errno.h>
#include <proc/cred.h>
#include <proc/rlimit.h>

#define NONE ((uint32_t)-1)

static struct cred root(void)
{
        struct cred c;

        cred_init_root(&c);
        return c;
}

TEST(root_has_everything)
{
        struct cred c = root();

        CHECK(cred_capable(&c, CAP_SETUID) && cred_capable(&c, CAP_SYS_RESOURCE));
        CHECK_EQ(c.uid | c.euid | c.suid | c.fsuid | c.gid | c.egid, 0);
}

TEST(setuid_as_root_sets_all_and_drops_caps)
{
        struct cred c = root();

        CHECK_EQ(cred_setuid(&c, 1000), 0);
        CHECK_EQ(c.uid, 1000); CHECK_EQ(c.euid, 1000);
        CHECK_EQ(c.suid, 1000); CHECK_EQ(c.fsuid, 1000);
        CHECK_EQ(c.cap_effective, 0); CHECK_EQ(c.cap_permitted, 0);
        CHECK_EQ(cred_setuid(&c, 0), -EPERM);
        CHECK_EQ(cred_setuid(&c, 1000), 0);
        CHECK_EQ(cred_setuid(&c, NONE), -EINVAL);
}

TEST(saved_root_allows_return)
{
        struct cred c = root();

        CHECK_EQ(cred_setresuid(&c, 1000, 1000, 0), 0);
        CHECK_EQ(c.cap_effective, 0);
        CHECK_EQ(c.cap_permitted, CAP_FULL_SET);
        CHECK_EQ(cred_setreuid(&c, NONE, 0), 0);
        CHECK_EQ(c.cap_effective, CAP_FULL_SET);
        CHECK_EQ(c.fsuid, 0);
}

TEST(setreuid_saved_uid_rule)
{
        struct cred c = root();

        /* Only the euid, to the real uid: the saved uid stays. */
        CHECK_EQ(cred_setresuid(&c, 5, 0, 0), 0);
        CHECK_EQ(cred_setreuid(&c, NONE, 5), 0);
        CHECK_EQ(c.suid, 0);
        /* The euid to something else: the saved uid follows it. */
        c = root();
        CHECK_EQ(cred_setreuid(&c, NONE, 7), 0);
        CHECK_EQ(c.suid, 7);
        /* Unprivileged: real uid only to the real or effective one. */
        c = root();
        CHECK_EQ(cred_setresuid(&c, 1, 2, 3), 0);
        CHECK_EQ(cred_setreuid(&c, 3, NONE), -EPERM);
        CHECK_EQ(cred_setreuid(&c, 2, 3), 0);
        CHECK_EQ(c.uid, 2); CHECK_EQ(c.euid, 3); CHECK_EQ(c.suid, 3);
}

TEST(unprivileged_setresuid_permutes)
{
        struct cred c = root();

        CHECK_EQ(cred_setresuid(&c, 1, 2, 3), 0);
        CHECK_EQ(cred_setresuid(&c, 3, 1, 2), 0);
        CHECK_EQ(cred_setresuid(&c, 4, NONE, NONE), -EPERM);
        CHECK_EQ(c.uid, 3);             /* unchanged by the refusal */
}

TEST(gids_and_groups)
{
        struct cred c = root();
        uint32_t list[] = { 9, 3, 6 };

        CHECK_EQ(cred_setgroups(&c, list, 3), 0);
        CHECK_EQ(c.groups[0], 3); CHECK_EQ(c.groups[2], 9);
        CHECK(cred_in_group(&c, 6) && !cred_in_group(&c, 7));
        CHECK_EQ(cred_setgroups(&c, list, NGROUPS_MAX_MERCATOR + 1), -EINVAL);
        CHECK_EQ(cred_setresgid(&c, 10, 11, 12), 0);
        CHECK_EQ(c.fsgid, 11);
        CHECK_EQ(cred_setuid(&c, 100), 0);
        CHECK_EQ(cred_setgid(&c, 0), -EPERM);
        CHECK_EQ(cred_setgid(&c, 12), 0);       /* the saved gid */
        CHECK_EQ(c.egid, 12); CHECK_EQ(c.gid, 10);
        CHECK_EQ(cred_setgroups(&c, list, 1), -EPERM);
}

TEST(fsuid_drops_fs_caps)
{
        struct cred c = root();

        CHECK_EQ(cred_setfsuid(&c, 50), 0);
        CHECK(!cred_capable(&c, CAP_DAC_OVERRIDE));
        CHECK(cred_capable(&c, CAP_SETUID));
        CHECK_EQ(cred_setfsuid(&c, 0), 50);
        CHECK(cred_capable(&c, CAP_DAC_OVERRIDE));
        CHECK_EQ(cred_setfsuid(&c, NONE), 0);
}

TEST(keep_caps)
{
        struct cred c = root();

        c.keep_caps = true;
        CHECK_EQ(cred_setresuid(&c, 1, 1, 1), 0);
        CHECK_EQ(c.cap_permitted, CAP_FULL_SET);
        CHECK_EQ(c.cap_effective, 0);
        cred_exec(&c);
        CHECK_EQ(c.cap_permitted, 0);
        CHECK(!c.keep_caps);
}

TEST(capset_rules)
{
        struct cred c = root();
        uint64_t less = CAP_FULL_SET & ~(1ULL << CAP_SETUID);

        CHECK_EQ(cred_capset(&c, less, less, 0), 0);
        CHECK_EQ(cred_capset(&c, CAP_FULL_SET, less, 0), -EPERM);
        CHECK_EQ(cred_capset(&c, less, CAP_FULL_SET, 0), -EPERM);
        CHECK_EQ(cred_capset(&c, 0, less, less), 0);    /* has CAP_SETPCAP in perm, */
        CHECK_EQ(c.cap_inheritable, less);              /* and inh within perm */
        CHECK_EQ(cred_capset(&c, 0, 0, CAP_FULL_SET), -EPERM);
}

TEST(exec_recomputes_caps)
{
        struct cred c = root();

        CHECK_EQ(cred_setresuid(&c, 0, 5, 5), 0);
        CHECK_EQ(c.cap_effective, 0);
        cred_exec(&c);
        CHECK_EQ(c.cap_permitted, CAP_FULL_SET);        /* real uid 0 */
        CHECK_EQ(c.cap_effective, 0);                   /* euid not 0 */
        CHECK_EQ(c.suid, 5);
}

TEST(rlimit_rules)
{
        struct rlimits r;
        struct rlimit64 n;

        rlimits_init(&r, 32, 64, 64);
        CHECK_EQ(r.lim[RLIMIT_NOFILE].cur, 32);
        CHECK_EQ(r.lim[RLIMIT_NOFILE].max, 64);
        CHECK_EQ(r.lim[RLIMIT_STACK].cur, 8ULL << 20);
        CHECK_EQ(r.lim[RLIMIT_STACK].max, RLIM_INFINITY);
        CHECK_EQ(r.lim[RLIMIT_CORE].cur, 0);
        n = (struct rlimit64){ 10, 5 };
        CHECK_EQ(rlimit_check(RLIMIT_CPU, &r.lim[RLIMIT_CPU], &n, true, 64), -EINVAL);
        n = (struct rlimit64){ 10, 65 };
        CHECK_EQ(rlimit_check(RLIMIT_NOFILE, &r.lim[RLIMIT_NOFILE], &n, true, 64), -EPERM);
        n = (struct rlimit64){ 10, 64 };
        CHECK_EQ(rlimit_check(RLIMIT_NOFILE, &r.lim[RLIMIT_NOFILE], &n, false, 64), 0);
        n = (struct rlimit64){ 1, 2 };
        CHECK_EQ(rlimit_check(16, &r.lim[0], &n, true, 64), -EINVAL);
        struct rlimit64 low = { 1, 2 };
        n = (struct rlimit64){ 1, 3 };
        CHECK_EQ(rlimit_check(RLIMIT_AS, &low, &n, false, 64), -EPERM);
        CHECK_EQ(rlimit_check(RLIMIT_AS, &low, &n, true, 64), 0);
        CHECK(rlimit_allows(RLIM_INFINITY, ~0ULL, ~0ULL));
        CHECK(rlimit_allows(100, 60, 40) && !rlimit_allows(100, 60, 41));
        CHECK(!rlimit_allows(100, 120, 0));
}
