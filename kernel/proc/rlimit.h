/*
 * rlimit.h - resource limits (getrlimit, setrlimit, prlimit64): Linux's 16
 * resources, stored per process, copied by fork and kept by execve.
 *
 * Which limits bite, and where:
 *   RLIMIT_AS      mmap, mremap, brk, stack growth (sys_mem.c, vm_fault)
 *   RLIMIT_DATA    brk and private writable mappings (sys_mem.c)
 *   RLIMIT_STACK   the stack's growth limit and mmap_base at exec (exec.c)
 *   RLIMIT_NOFILE  the descriptor table (fs/file.c, fs/sys_fd.c)
 *   RLIMIT_NPROC   fork, for a process without CAP_SYS_RESOURCE
 * The others are stored and reported only.
 */
#ifndef PROC_RLIMIT_H
#define PROC_RLIMIT_H

#include <mercator/types.h>

enum {
        RLIMIT_CPU = 0, RLIMIT_FSIZE = 1, RLIMIT_DATA = 2, RLIMIT_STACK = 3,
        RLIMIT_CORE = 4, RLIMIT_RSS = 5, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7,
        RLIMIT_MEMLOCK = 8, RLIMIT_AS = 9, RLIMIT_LOCKS = 10,
        RLIMIT_SIGPENDING = 11, RLIMIT_MSGQUEUE = 12, RLIMIT_NICE = 13,
        RLIMIT_RTPRIO = 14, RLIMIT_RTTIME = 15,
        RLIM_NLIMITS = 16,
};

#define RLIM_INFINITY   (~0ULL)

/* Linux's struct rlimit64 (and struct rlimit on x86-64). */
struct rlimit64 {
        uint64_t cur, max;
};

struct rlimits {
        struct rlimit64 lim[RLIM_NLIMITS];
};

/* The first process's limits: Linux's defaults for init (RLIMIT_NOFILE
 * nofile_cur/nofile_max: 1024/4096), except where Mercator's tables are
 * smaller (RLIMIT_NPROC: nproc_max). */
void rlimits_init(struct rlimits *r, uint64_t nofile_cur, uint64_t nofile_max,
                  uint64_t nproc_max);

/*
 * Whether old may become new for resource (Linux's do_prlimit checks).
 * => 0; -EINVAL (unknown resource, cur above max); -EPERM (raising max
 *    without may_raise, i.e. CAP_SYS_RESOURCE, or RLIMIT_NOFILE's max
 *    above nofile_max, Linux's nr_open).
 */
long rlimit_check(int resource, const struct rlimit64 *old,
                  const struct rlimit64 *new, bool may_raise,
                  uint64_t nofile_max);

/* Whether adding add bytes to used stays within limit (INFINITY: yes). */
static inline bool rlimit_allows(uint64_t limit, uint64_t used, uint64_t add)
{
        return limit == RLIM_INFINITY || (used <= limit && add <= limit - used);
}

#endif
