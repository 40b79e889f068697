/*
 * mlock.c - locked areas: what mlock, mlock2, munlock, mlockall,
 * munlockall and MAP_LOCKED change as a process sees it. VmLck in
 * /proc/self/status, "Locked" and the "lo" flag in smaps, the split and
 * merge of areas, MADV_DONTNEED and msync(MS_INVALIDATE) refused over
 * locked memory, locks not inherited by fork, and RLIMIT_MEMLOCK counted
 * over the whole space for a process without CAP_IPC_LOCK.
 */
#include "utest.h"
#include <sys/resource.h>
#include <sys/wait.h>

#define PG 4096

/* A "Name:  N kB" field of /proc/self/status, in kB; -1 if missing. */
static long status_kb(const char *name)
{
        char line[256];
        long v = -1;
        size_t n = strlen(name);
        FILE *f = fopen("/proc/self/status", "r");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (!strncmp(line, name, n) && line[n] == ':')
                        v = strtol(line + n + 1, NULL, 10);
        fclose(f);
        return v;
}

/* The smaps entry of the area starting at p: its Locked in kB (-1 if
 * none) and whether its VmFlags has "lo". */
static long smaps_locked(void *p, int *lo)
{
        char line[512], head[32];
        long locked = -1;
        int in = 0;
        FILE *f = fopen("/proc/self/smaps", "r");

        *lo = 0;
        snprintf(head, sizeof head, "%lx-", (unsigned long)p);
        if (!f)
                return -1;
        while (fgets(line, sizeof line, f)) {
                char *sp = strchr(line, ' '), *dash = strchr(line, '-');
                if (dash && sp && dash < sp && !memchr(line, ':', (size_t)(sp - line)))
                        in = !strncmp(line, head, strlen(head));
                else if (in && !strncmp(line, "Locked:", 7))
                        locked = strtol(line + 7, NULL, 10);
                else if (in && !strncmp(line, "VmFlags:", 8))
                        *lo = strstr(line, " lo") != NULL;
        }
        fclose(f);
        return locked;
}

/* How many lines of /proc/self/maps start within [p, p + len). */
static int areas_in(char *p, size_t len)
{
        char line[512];
        int n = 0;
        FILE *f = fopen("/proc/self/maps", "r");

        while (f && fgets(line, sizeof line, f)) {
                unsigned long s = strtoul(line, NULL, 16);
                n += s >= (unsigned long)p && s < (unsigned long)p + len;
        }
        if (f)
                fclose(f);
        return n;
}

/* pages of read-write private memory between PROT_NONE guards, so that
 * Linux does not merge it with a neighbour and its areas are its own. */
static char *isolated(int pages)
{
        char *g = mmap(NULL, (size_t)(pages + 2) * PG, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (g == MAP_FAILED ||
            mprotect(g + PG, (size_t)pages * PG, PROT_READ | PROT_WRITE))
                return MAP_FAILED;
        return g + PG;
}

static void release(char *p, int pages)
{
        munmap(p - PG, (size_t)(pages + 2) * PG);
}

static int resident(void *p, int pages)
{
        unsigned char v[64];
        int n = 0;

        if (mincore(p, (size_t)pages * PG, v))
                return -1;
        for (int i = 0; i < pages; i++)
                n += v[i] & 1;
        return n;
}

static void lock_and_unlock(void)
{
        long base = status_kb("VmLck");
        char *p = isolated(4);
        int lo;

        CHECK("vmlck_starts_zero", base == 0);
        CHECK("mlock_counts_in_vmlck", mlock(p + PG, 2 * PG) == 0 &&
              status_kb("VmLck") == 8);
        CHECK("mlock_splits_area", areas_in(p, 4 * PG) == 3);
        CHECK("smaps_locked_and_lo", smaps_locked(p + PG, &lo) == 8 && lo);
        CHECK("neighbour_not_locked", smaps_locked(p, &lo) == 0 && !lo);
        CHECK("mlock_again_counts_once", mlock(p, 2 * PG) == 0 &&
              status_kb("VmLck") == 12);
        CHECK_ERR("dontneed_locked_einval", madvise(p + PG, PG, MADV_DONTNEED), EINVAL);
        CHECK("dontneed_unlocked_ok", madvise(p + 3 * PG, PG, MADV_DONTNEED) == 0);
        CHECK_ERR("msync_invalidate_locked_ebusy",
                  msync(p, 4 * PG, MS_INVALIDATE), EBUSY);
        CHECK("msync_sync_locked_ok", msync(p, 4 * PG, MS_SYNC) == 0);
        CHECK("munlock_part", munlock(p, PG) == 0 && status_kb("VmLck") == 8);
        CHECK("munlock_merges_back", munlock(p, 4 * PG) == 0 &&
              status_kb("VmLck") == 0 && areas_in(p, 4 * PG) == 1);
        CHECK("msync_invalidate_unlocked_ok", msync(p, 4 * PG, MS_INVALIDATE) == 0);
        release(p, 4);

        p = isolated(3);
        CHECK("mlock2_onfault_locks_without_faulting",
              syscall(SYS_mlock2, p, 3 * PG, 1) == 0 &&
              status_kb("VmLck") == 12 && resident(p, 3) == 0 &&
              smaps_locked(p, &lo) == 0 && lo);
        p[PG] = 1;
        CHECK("onfault_page_locked_when_touched", smaps_locked(p, &lo) == 4);
        release(p, 3);
        CHECK("munmap_drops_lock", status_kb("VmLck") == 0);
}

static void map_locked_and_fork(void)
{
        char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
        int st = -1;

        CHECK("map_locked_resident_and_counted", p != MAP_FAILED &&
              resident(p, 4) == 4 && status_kb("VmLck") == 16);
        pid_t pid = fork();
        if (pid == 0)
                _exit(status_kb("VmLck") == 0 ? 0 : 1);
        CHECK("fork_does_not_inherit_locks", waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0 && status_kb("VmLck") == 16);
        char *q = mremap(p, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
        CHECK("mremap_grows_locked", q != MAP_FAILED && resident(q, 8) == 8 &&
              status_kb("VmLck") == 32);
        munmap(q, 8 * PG);
}

static void lock_all(void)
{
        char *p = isolated(2), *q;
        int lo;

        CHECK_ERR("mlockall_zero_einval", mlockall(0), EINVAL);
        CHECK_ERR("mlockall_unknown_einval", mlockall(8), EINVAL);
        CHECK_ERR("mlockall_onfault_alone_einval", mlockall(4), EINVAL);
        CHECK("mlockall_current", mlockall(MCL_CURRENT) == 0 &&
              resident(p, 2) == 2 && smaps_locked(p, &lo) == 8 && lo &&
              status_kb("VmLck") > 8);
        q = isolated(2);
        CHECK("current_only_leaves_new_unlocked", smaps_locked(q, &lo) == 0 && !lo);
        release(q, 2);
        CHECK("mlockall_future", mlockall(MCL_FUTURE) == 0);
        q = isolated(2);
        CHECK("future_locks_new_mappings", resident(q, 2) == 2 &&
              smaps_locked(q, &lo) == 8 && lo);
        release(q, 2);
        CHECK("munlockall", munlockall() == 0 && status_kb("VmLck") == 0);
        q = isolated(2);
        CHECK("munlockall_ends_future", smaps_locked(q, &lo) == 0 && !lo);
        release(q, 2);
        release(p, 2);
}

/* Without CAP_IPC_LOCK (euid not 0), RLIMIT_MEMLOCK bounds the total. */
static void limit_counts_total(void)
{
        struct rlimit old, lim;
        char *p = isolated(4);

        getrlimit(RLIMIT_MEMLOCK, &old);
        lim = old;
        lim.rlim_cur = 2 * PG;
        CHECK("limit_set", setrlimit(RLIMIT_MEMLOCK, &lim) == 0 && seteuid(65534) == 0);
        CHECK("first_page_fits", mlock(p, PG) == 0);
        CHECK("second_page_fits", mlock(p + 2 * PG, PG) == 0);
        CHECK("relock_not_counted_twice", mlock(p, PG) == 0);
        CHECK_ERR("third_page_over_total", mlock(p + 3 * PG, PG), ENOMEM);
        void *q = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
                       -1, 0);
        CHECK("map_locked_over_limit_eagain", q == MAP_FAILED && errno == EAGAIN);
        CHECK("unlock_then_fits", munlock(p, PG) == 0 && mlock(p + 3 * PG, PG) == 0);
        CHECK("limit_restored", seteuid(0) == 0 && setrlimit(RLIMIT_MEMLOCK, &old) == 0);
        release(p, 4);
}

int main(void)
{
        utest_start("mlock");
        lock_and_unlock();
        map_locked_and_fork();
        lock_all();
        limit_counts_total();
        return utest_done();
}
