/*
 * rlimit.c - default resource limits and the rules for changing them
 * (Linux's kernel/sys.c:do_prlimit). Pure functions: the host tests run
 * them (tests/host/test_rlimit.c).
 */
#include <mercator/errno.h>
#include <proc/rlimit.h>



void rlimits_init(struct rlimits *r, uint64_t nofile_cur, uint64_t nofile_max,
                  uint64_t nproc_max)
{
        for (int i = 0; i < RLIM_NLIMITS; i++)
                r->lim[i] = (struct rlimit64){ RLIM_INFINITY, RLIM_INFINITY };
        r->lim[RLIMIT_STACK].cur = 8 * MiB;
        r->lim[RLIMIT_CORE].cur = 0;
        r->lim[RLIMIT_NPROC] = (struct rlimit64){ nproc_max, nproc_max };
        r->lim[RLIMIT_NOFILE] = (struct rlimit64){ nofile_cur, nofile_max };
        r->lim[RLIMIT_MEMLOCK] = (struct rlimit64){ 8 * MiB, 8 * MiB };
        r->lim[RLIMIT_SIGPENDING] = (struct rlimit64){ 1024, 1024 };
        r->lim[RLIMIT_MSGQUEUE] = (struct rlimit64){ 819200, 819200 };
        r->lim[RLIMIT_NICE] = (struct rlimit64){ 0, 0 };
        r->lim[RLIMIT_RTPRIO] = (struct rlimit64){ 0, 0 };
}

long rlimit_check(int resource, const struct rlimit64 *old,
                  const struct rlimit64 *new, bool may_raise,
                  uint64_t nofile_max)
{
        if (resource < 0 || resource >= RLIM_NLIMITS)
                return -EINVAL;
        if (new->cur > new->max)
                return -EINVAL;
        if (resource == RLIMIT_NOFILE && new->max > nofile_max)
                return -EPERM;
        if (new->max > old->max && !may_raise)
                return -EPERM;
        return 0;
}
