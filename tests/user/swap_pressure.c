/*
 * swap_pressure.c - more anonymous memory than RAM (issue 16): make test
 * runs it on Mercator at -m 128M with a 512 MiB swap disk (tools/run
 * --mem 128M --swap 512M), and on the host Linux first, which has RAM
 * of its own (and maybe no swap), so every check is one that holds on
 * both: the bytes, mlock's residency, and the swap counters only where
 * the machine has swap and less RAM than the pattern.
 *
 *   - a 384 MiB pattern written once and verified twice, every byte;
 *   - forked children share 48 MiB their parent wrote, read it back
 *     after pressure pushed it out, and copy on write correctly;
 *   - an mlocked range stays resident (mincore) under that pressure;
 *   - pages went out and came back (pswpout, pswpin, pgmajfault grew),
 *     and the worker's ru_majflt counts its swap-ins
 *     where the machine must have swapped, and the process sees its
 *     swapped pages (VmSwap, smaps_rollup's Swap, pagemap's swap bit);
 *   - at the end every swap slot is free again (SwapFree back where it
 *     started) once the worker that did all this has exited; the parent
 *     that counts keeps its own few pages locked, so none of them holds
 *     a slot.
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define MiB             (1024UL * 1024)
#define BIG             (384 * MiB)
#define SHARED          (48 * MiB)
#define LOCKED          (2 * MiB)

/* A word that depends on where it is and on the pass's seed. */
static inline uint64_t word(uint64_t i, uint64_t seed)
{
        uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

        return x ^ (x >> 29);
}

static void fill(uint64_t *p, size_t len, uint64_t seed)
{
        for (size_t i = 0; i < len / 8; i++)
                p[i] = word(i, seed);
}

/* The index of the first wrong word, or -1. */
static long verify(const uint64_t *p, size_t len, uint64_t seed)
{
        for (size_t i = 0; i < len / 8; i++)
                if (p[i] != word(i, seed))
                        return (long)i;
        return -1;
}

static long long meminfo(const char *name)
{
        return proc_field("/proc/meminfo", name);
}

static long long vmstat(const char *name)
{
        return proc_field("/proc/vmstat", name);
}

/* Pages of [p, p + len) whose pagemap entry has the swap bit (62). */
static long swapped_in_pagemap(void *p, size_t len)
{
        static uint64_t e[512];
        long n = 0;
        int fd = open("/proc/self/pagemap", O_RDONLY);

        if (fd < 0)
                return -1;
        for (size_t done = 0; done < len / PAGE; done += 512) {
                size_t k = len / PAGE - done < 512 ? len / PAGE - done : 512;
                off_t off = (off_t)(((uintptr_t)p / PAGE + done) * 8);

                if (pread(fd, e, k * 8, off) != (ssize_t)(k * 8)) {
                        n = -1;
                        break;
                }
                for (size_t i = 0; i < k; i++)
                        n += (e[i] >> 62) & 1;
        }
        close(fd);
        return n;
}

/* Are all pages of [p, p + len) resident? */
static int all_resident(void *p, size_t len)
{
        static unsigned char vec[LOCKED / PAGE];
        size_t n = len / PAGE;

        if (n > sizeof vec || mincore(p, len, vec) != 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!(vec[i] & 1))
                        return 0;
        return 1;
}

/* A child: the shared pattern is intact; then it writes its own half
 * (copy on write) and checks it. => exit status. */
static int child(uint64_t *shared, int k)
{
        if (verify(shared, SHARED, 1) != -1)
                return 10;
        fill(shared + k * (SHARED / 16), SHARED / 2, 100 + k);
        if (verify(shared + k * (SHARED / 16), SHARED / 2, 100 + k) != -1)
                return 11;
        return 0;
}

/* The counters at the start, and whether this machine must swap. */
static long long swap_free0, mem_total, out0, in0, maj0;
static int must_swap;

/* The work, in a child of main. => its failed checks. */
static int pressure(void)
{
        pid_t pid[2];
        int st;

        uint64_t *locked = mmap(NULL, LOCKED, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("mlock", locked != MAP_FAILED && mlock(locked, LOCKED) == 0);
        fill(locked, LOCKED, 7);

        uint64_t *shared = mmap(NULL, SHARED, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("map_shared_part", shared != MAP_FAILED);
        fill(shared, SHARED, 1);

        /* The big pattern: written once, verified twice. */
        uint64_t *big = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("map_384m", big != MAP_FAILED);
        fill(big, BIG, 2);
        CHECK("verify_384m_first", verify(big, BIG, 2) == -1);
        CHECK("mlocked_resident_under_pressure", all_resident(locked, LOCKED));
        CHECK("verify_384m_second", verify(big, BIG, 2) == -1);
        if (must_swap) {
                long sw = swapped_in_pagemap(big, BIG);
                long long vmswap = proc_field("/proc/self/status", "VmSwap");
                long long rollup = proc_field("/proc/self/smaps_rollup", "Swap");
                long long after = proc_field("/proc/self/status", "VmSwap");
                long long lo = vmswap < after ? vmswap : after;
                long long hi = vmswap < after ? after : vmswap;

                printf("swapped: %ld pages in pagemap, VmSwap %lld kB, "
                       "smaps_rollup Swap %lld kB, VmSwap %lld kB\n", sw,
                       vmswap, rollup, after);
                CHECK("pagemap_shows_swapped_pages", sw > 0);
                CHECK("vmswap_counts_them", vmswap >= sw * 4);
                /* Read one after the other, VmSwap on both sides: between
                 * the reads, the reclaimer (on each return to user mode)
                 * may push pages out and the reads may bring a few in. */
                CHECK("smaps_rollup_swap_is_vmswap",
                      rollup > 0 && rollup >= lo - 64 && rollup <= hi + 64);
        }
        CHECK("mlocked_intact", verify(locked, LOCKED, 7) == -1);

        /* Children share the 48 MiB, which the big pattern pushed out
         * (where it had to): each reads it and copies on write. */
        for (int k = 0; k < 2; k++) {
                pid[k] = fork();
                if (pid[k] == 0)
                        _exit(child(shared, k));
        }
        for (int k = 0; k < 2; k++)
                CHECK("child_sees_shared_and_copies",
                      waitpid(pid[k], &st, 0) == pid[k] && WIFEXITED(st) &&
                      WEXITSTATUS(st) == 0);
        CHECK("parent_keeps_its_pattern", verify(shared, SHARED, 1) == -1);
        CHECK("verify_384m_after_children", verify(big, BIG, 2) == -1);

        if (must_swap) {
                CHECK("pages_went_out", vmstat("pswpout") - out0 >
                      (long long)((BIG - (size_t)mem_total * 1024) / PAGE));
                CHECK("pages_came_back", vmstat("pswpin") - in0 > 0);
                CHECK("major_faults_counted", vmstat("pgmajfault") - maj0 > 0);
                /* ...and charged to the process that waited for them, as
                 * getrusage's ru_majflt (this process's own, so never
                 * more than the machine's). */
                struct rusage ru;
                CHECK("ru_majflt_counts_swap_ins",
                      getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_majflt > 0 &&
                      ru.ru_majflt <= vmstat("pgmajfault") - maj0);
                CHECK("swap_in_use", meminfo("SwapFree") < swap_free0);
        }
        munmap(big, BIG);
        munmap(shared, SHARED);
        munlock(locked, LOCKED);
        munmap(locked, LOCKED);
        if (must_swap)
                printf("swap: %lld pages out, %lld in, %lld major faults\n",
                       vmstat("pswpout") - out0, vmstat("pswpin") - in0,
                       vmstat("pgmajfault") - maj0);
        return utest_failures;
}

int main(void)
{
        long long swap_total = meminfo("SwapTotal");
        int st = -1;

        swap_free0 = meminfo("SwapFree");
        mem_total = meminfo("MemTotal");
        out0 = vmstat("pswpout"), in0 = vmstat("pswpin");
        maj0 = vmstat("pgmajfault");
        /* Must this machine swap? Swap on, and the pattern alone more
         * than its RAM. */
        must_swap = swap_total > 0 && mem_total > 0 &&
                    (long long)(BIG / 1024) > mem_total;
        utest_start("swap_pressure");
        if (!must_swap)
                printf("NOTE: MemTotal %lld kB, SwapTotal %lld kB: this "
                       "machine need not swap; counters not checked\n",
                       mem_total, swap_total);
        /* The work runs in a child. This process's own pages (stack, data,
         * libc's) stay locked, as locks are not inherited by fork: the
         * pressure could otherwise push some of them out, and they would
         * still hold slots when the slots are counted below. */
        CHECK("parent_locked", !must_swap ||
              mlockall(MCL_CURRENT | MCL_FUTURE) == 0);
        pid_t worker = fork();
        if (worker == 0)
                _exit(pressure() ? 1 : 0);
        CHECK("work_done", worker > 0 && waitpid(worker, &st, 0) == worker &&
              WIFEXITED(st));
        /* Every slot back once the work has exited (on a machine where
         * only this program swaps). */
        CHECK("every_slot_back", !must_swap || meminfo("SwapFree") == swap_free0);
        return utest_done() || !WIFEXITED(st) || WEXITSTATUS(st) ? 1 : 0;
}
