/*
 * identity.c - user and group ids, supplementary groups and capabilities:
 * everything starts as root; the set*id calls follow Linux's rules; a
 * process that is no longer root is refused what Linux refuses it.
 */
#include "utest.h"
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* Linux's capget/capset layouts (linux/capability.h, which musl lacks). */
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
#define CAP_SETUID 7
struct __user_cap_header_struct { uint32_t version; int pid; };
struct __user_cap_data_struct { uint32_t effective, permitted, inheritable; };

static int capget_self(uint64_t *eff, uint64_t *perm)
{
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];

        if (syscall(SYS_capget, &h, d))
                return -1;
        *eff = (uint64_t)d[1].effective << 32 | d[0].effective;
        *perm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
        return 0;
}

static int capset_self(uint64_t eff, uint64_t perm)
{
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2] = {
                { (uint32_t)eff, (uint32_t)perm, 0 },
                { (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), 0 },
        };

        return (int)syscall(SYS_capset, &h, d);
}

static uint32_t fsuid_now(void) { return (uint32_t)syscall(SYS_setfsuid, -1); }

/* Run fn in a child, which prints its own checks; its exit status. */
static int in_child(void (*fn)(void))
{
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                utest_failures = 0;     /* count only the child's own */
                fn();
                _exit(utest_done());
        }
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void root_by_default(void)
{
        uid_t r, e, s;
        gid_t gr, ge, gs;

        CHECK("root_by_default", getuid() == 0 && geteuid() == 0 &&
                                 getgid() == 0 && getegid() == 0);
        CHECK("getresuid", getresuid(&r, &e, &s) == 0 && r == 0 && e == 0 && s == 0);
        CHECK("getresgid", getresgid(&gr, &ge, &gs) == 0 && gr == 0 && ge == 0 && gs == 0);
        CHECK("fsuid_follows_euid", fsuid_now() == 0);
        CHECK_ERR("getresuid_bad_pointer", getresuid((uid_t *)8, &e, &s), EFAULT);
        CHECK_ERR("setuid_minus_one", setuid((uid_t)-1), EINVAL);
}

static void groups(void)
{
        gid_t list[] = { 50, 7, 30 }, got[8];

        CHECK("setgroups", setgroups(3, list) == 0);
        CHECK("getgroups_count", getgroups(0, NULL) == 3);
        CHECK("getgroups_sorted", getgroups(8, got) == 3 && got[0] == 7 &&
                                  got[1] == 30 && got[2] == 50);
        CHECK_ERR("getgroups_too_small", getgroups(2, got), EINVAL);
        CHECK_ERR("getgroups_negative", syscall(SYS_getgroups, -1, got), EINVAL);
        CHECK("setgroups_empty", setgroups(0, NULL) == 0 && getgroups(0, NULL) == 0);
}

/* An effective uid away from 0 and back, with the saved uid kept at 0. */
static void euid_round_trip(void)
{
        uint64_t eff, perm, eff0, perm0;
        uid_t r, e, s;

        capget_self(&eff0, &perm0);
        CHECK("setresuid_keep_saved_root", setresuid(1000, 1000, 0) == 0);
        CHECK("caps_effective_dropped", capget_self(&eff, &perm) == 0 &&
                                        eff == 0 && perm == perm0);
        CHECK("fsuid_now_1000", fsuid_now() == 1000);
        CHECK("seteuid_back_to_saved_root", seteuid(0) == 0 && geteuid() == 0);
        CHECK("caps_effective_restored", capget_self(&eff, &perm) == 0 &&
                                         eff == perm0);
        CHECK("setreuid_euid_only", setreuid((uid_t)-1, 1000) == 0);
        CHECK("setreuid_keeps_saved", getresuid(&r, &e, &s) == 0 &&
                                      r == 1000 && e == 1000 && s == 0);
        CHECK_ERR("setreuid_real_root_refused", setreuid(0, 0), EPERM);
        CHECK("setreuid_real_moves_saved", seteuid(0) == 0 && setreuid(0, 0) == 0 &&
                                           getresuid(&r, &e, &s) == 0 &&
                                           r == 0 && e == 0 && s == 0);
}

/* All three uids away from 0: every capability goes, and stays gone. */
/* The nice value the test started with (it may run under nice(1)). */
static int base_nice;

static void dropped_root(void)
{
        uint64_t eff, perm;
        struct rlimit rl;
        gid_t g = 0;

        CHECK("drop_groups", setgroups(0, NULL) == 0);
        CHECK("setresgid", setresgid(100, 100, 100) == 0 && getgid() == 100);
        CHECK("setresuid", setresuid(1000, 1000, 1000) == 0 && getuid() == 1000);
        CHECK("caps_all_gone", capget_self(&eff, &perm) == 0 && eff == 0 && perm == 0);
        CHECK_ERR("setuid_root_refused", setuid(0), EPERM);
        CHECK_ERR("seteuid_root_refused", seteuid(0), EPERM);
        CHECK_ERR("setresuid_refused", setresuid(-1, -1, 0), EPERM);
        CHECK_ERR("setgid_refused", setgid(0), EPERM);
        CHECK_ERR("setgroups_refused", setgroups(1, &g), EPERM);
        CHECK("setuid_to_own_uid", setuid(1000) == 0);
        CHECK("setfsuid_refused_silently", syscall(SYS_setfsuid, 0) == 1000 &&
                                           fsuid_now() == 1000);
        CHECK_ERR("capset_raise_refused", capset_self(1, 1), EPERM);
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_max++;
        CHECK_ERR("raise_hard_limit_refused", setrlimit(RLIMIT_NOFILE, &rl), EPERM);
        rl.rlim_max -= 2;
        rl.rlim_cur = rl.rlim_max;
        CHECK("lower_hard_limit", setrlimit(RLIMIT_NOFILE, &rl) == 0);
        rl.rlim_max++;
        CHECK_ERR("lowered_limit_stays_lowered", setrlimit(RLIMIT_NOFILE, &rl), EPERM);
        int up = base_nice + 5 > 19 ? 19 : base_nice + 5;
        CHECK("nice_up", setpriority(PRIO_PROCESS, 0, up) == 0 &&
                         getpriority(PRIO_PROCESS, 0) == up);
        CHECK_ERR("nice_down_refused", setpriority(PRIO_PROCESS, 0, up - 3), EACCES);
        CHECK_ERR("renice_init_refused", setpriority(PRIO_PROCESS, 1, 5), EPERM);
        int prio[1] = { 10 };
        CHECK_ERR("realtime_policy_refused", syscall(SYS_sched_setscheduler, 0, 1, prio), EPERM);
}

/* capset: drop CAP_SETUID from the effective set, then take it back. */
static void capset_drop(void)
{
        uint64_t eff, perm;

        capget_self(&eff, &perm);
        CHECK("capset_drop_setuid", capset_self(eff & ~(1ULL << CAP_SETUID), perm) == 0);
        CHECK_ERR("setuid_without_cap", setuid(5), EPERM);
        CHECK("capset_restore", capset_self(eff, perm) == 0);
        CHECK("setuid_with_cap", setuid(5) == 0 && getuid() == 5);
}

static void capget_probe(void)
{
        struct __user_cap_header_struct h = { 0x12345, 0 };

        CHECK("capget_version_probe", syscall(SYS_capget, &h, NULL) == 0 &&
                                      h.version == _LINUX_CAPABILITY_VERSION_3);
        h.version = 0x12345;
        struct __user_cap_data_struct d[2];
        CHECK_ERR("capget_bad_version", syscall(SYS_capget, &h, d), EINVAL);
        h.version = _LINUX_CAPABILITY_VERSION_3;
        h.pid = 1 << 22;
        CHECK_ERR("capget_no_such_pid", syscall(SYS_capget, &h, d), ESRCH);
        h.pid = 0;
        CHECK_ERR("capget_bad_pointer", syscall(SYS_capget, &h, (void *)8), EFAULT);
}

int main(void)
{
        utest_start("identity");
        errno = 0;
        base_nice = getpriority(PRIO_PROCESS, 0);
        root_by_default();
        CHECK("groups_in_child", in_child(groups) == 0);
        CHECK("euid_round_trip_in_child", in_child(euid_round_trip) == 0);
        CHECK("dropped_root_in_child", in_child(dropped_root) == 0);
        CHECK("capset_in_child", in_child(capset_drop) == 0);
        capget_probe();
        CHECK("parent_still_root", getuid() == 0 && geteuid() == 0);
        return utest_done();
}
