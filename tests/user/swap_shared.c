/*
 * swap_shared.c - shared memory on swap (issue 16): make test runs it on
 * Mercator at -m 128M with a 512 MiB swap disk (tools/run --mem 128M
 * --swap 512M), and on the host Linux first, which has RAM of its own
 * (and maybe no swap): the bytes are checked everywhere, the swap
 * counters only where the machine must swap.
 *
 *   - a tmpfs file in /dev/shm (48 MiB: /dev/shm's size= is half of RAM,
 *     and swapped pages count in it, as Linux), a 160 MiB memfd and a
 *     160 MiB shared anonymous mapping, together well past RAM, each
 *     written with a pattern (by write() and through mappings) and read
 *     back by read() and through mappings;
 *   - a forked child reads all three and writes parts of them, which the
 *     parent then sees (shared, not copied);
 *   - while pages are out: smaps' Swap of the shared anonymous mapping is
 *     nonzero, Shmem counts resident pages only, truncation and a hole
 *     over swapped pages read zeroes after, and the bytes before stay;
 *   - pages went out and came back (pswpout, pswpin, pgmajfault);
 *   - at the end every swap slot is free again (SwapFree back) once the
 *     worker exited and the file is gone.
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/wait.h>

#define MiB             (1024UL * 1024)
#define FILE_BYTES      (48 * MiB)
#define MEMFD_BYTES     (160 * MiB)
#define ANON_BYTES      (160 * MiB)
#define CHUNK           (1 * MiB)

static inline uint64_t word(uint64_t i, uint64_t seed)
{
        uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ (seed * 0xbf58476d1ce4e5b9ULL);

        return x ^ (x >> 31);
}

/* Words [first, first + n) of the pattern into buf. */
static void make(uint64_t *buf, uint64_t first, size_t n, uint64_t seed)
{
        for (size_t i = 0; i < n; i++)
                buf[i] = word(first + i, seed);
}

static void fill(uint64_t *p, size_t len, uint64_t seed)
{
        make(p, 0, len / 8, seed);
}

/* The index of the first wrong word, or -1. */
static long verify(const uint64_t *p, size_t len, uint64_t seed)
{
        for (size_t i = 0; i < len / 8; i++)
                if (p[i] != word(i, seed))
                        return (long)i;
        return -1;
}

static uint64_t chunk[CHUNK / 8];

/* write() the pattern over [off, off + len) of fd (offsets in words
 * from 0). => 0 or -1. */
static int write_pattern(int fd, off_t off, size_t len, uint64_t seed)
{
        for (size_t done = 0; done < len; done += CHUNK) {
                make(chunk, (uint64_t)(off + (off_t)done) / 8, CHUNK / 8, seed);
                if (pwrite(fd, chunk, CHUNK, off + (off_t)done) != (ssize_t)CHUNK)
                        return -1;
        }
        return 0;
}

/* read() [off, off + len) back and compare. => 0, or -1. */
static int read_pattern(int fd, off_t off, size_t len, uint64_t seed)
{
        static uint64_t want[CHUNK / 8];

        for (size_t done = 0; done < len; done += CHUNK) {
                if (pread(fd, chunk, CHUNK, off + (off_t)done) != (ssize_t)CHUNK)
                        return -1;
                make(want, (uint64_t)(off + (off_t)done) / 8, CHUNK / 8, seed);
                if (memcmp(chunk, want, CHUNK))
                        return -1;
        }
        return 0;
}

/* Are [off, off + len) of fd all zero bytes (read())? */
static int reads_zero(int fd, off_t off, size_t len)
{
        for (size_t done = 0; done < len; done += CHUNK) {
                size_t n = len - done < CHUNK ? len - done : CHUNK;

                if (pread(fd, chunk, n, off + (off_t)done) != (ssize_t)n)
                        return 0;
                for (size_t i = 0; i < n / 8; i++)
                        if (chunk[i])
                                return 0;
        }
        return 1;
}

static long long meminfo(const char *name)
{
        return proc_field("/proc/meminfo", name);
}

static long long vmstat(const char *name)
{
        return proc_field("/proc/vmstat", name);
}

static long long swap_free0, mem_total, out0, in0, maj0;
static int must_swap;

/* The forked child: everything as the parent left it, then its own
 * writes to parts of each. => exit status. */
static int child(int tfd, int mfd, uint64_t *tmap, uint64_t *mmap_, uint64_t *anon)
{
        if (read_pattern(tfd, 0, FILE_BYTES, 1) || verify(tmap, FILE_BYTES, 1) != -1)
                return 10;
        if (read_pattern(mfd, 0, MEMFD_BYTES, 2) || verify(mmap_, MEMFD_BYTES, 2) != -1)
                return 11;
        if (verify(anon, ANON_BYTES, 3) != -1)
                return 12;
        fill(anon, 16 * MiB, 4);                        /* through the map */
        if (write_pattern(mfd, 0, 16 * MiB, 5))         /* by write() */
                return 13;
        return 0;
}

static int work(void)
{
        char path[64];
        int st;

        /* The tmpfs file: write(), then mapped shared. */
        snprintf(path, sizeof path, "/dev/shm/swap_shared.%d", (int)getpid());
        int tfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK("tmpfs_file", tfd >= 0);
        CHECK("tmpfs_write", write_pattern(tfd, 0, FILE_BYTES, 1) == 0);
        uint64_t *tmap = mmap(NULL, FILE_BYTES, PROT_READ | PROT_WRITE,
                              MAP_SHARED, tfd, 0);
        CHECK("tmpfs_map", tmap != MAP_FAILED);

        /* The memfd: its first half by write(), the rest through a map. */
        int mfd = memfd_create("swap_shared", 0);
        CHECK("memfd", mfd >= 0 && ftruncate(mfd, MEMFD_BYTES) == 0);
        uint64_t *mmap_ = mmap(NULL, MEMFD_BYTES, PROT_READ | PROT_WRITE,
                               MAP_SHARED, mfd, 0);
        CHECK("memfd_map", mmap_ != MAP_FAILED);
        CHECK("memfd_write", write_pattern(mfd, 0, MEMFD_BYTES / 2, 2) == 0);
        make(mmap_ + MEMFD_BYTES / 16, MEMFD_BYTES / 16, MEMFD_BYTES / 16, 2);

        /* Shared anonymous memory. */
        uint64_t *anon = mmap(NULL, ANON_BYTES, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK("anon_map", anon != MAP_FAILED);
        fill(anon, ANON_BYTES, 3);

        /* Swapped now (where it must be): smaps sees the anonymous part. */
        long long sw = smaps_swap(anon);
        long long shmem = meminfo("Shmem");
        printf("smaps Swap of the shared mapping %lld kB, Shmem %lld kB\n",
               sw, shmem);
        CHECK("smaps_swap_of_shared_mapping", !must_swap || sw > 0);
        CHECK("shmem_counts_resident_only", !must_swap ||
              shmem < (long long)((FILE_BYTES + MEMFD_BYTES + ANON_BYTES) / 1024));

        /* Everything back, by read() and through the maps. */
        CHECK("tmpfs_read", read_pattern(tfd, 0, FILE_BYTES, 1) == 0);
        CHECK("memfd_read", read_pattern(mfd, 0, MEMFD_BYTES, 2) == 0);
        CHECK("anon_through_map", verify(anon, ANON_BYTES, 3) == -1);
        CHECK("tmpfs_through_map", verify(tmap, FILE_BYTES, 1) == -1);
        CHECK("memfd_through_map", verify(mmap_, MEMFD_BYTES, 2) == -1);

        /* A child reads all of it, writes some; the parent sees that. */
        pid_t pid = fork();
        if (pid == 0)
                _exit(child(tfd, mfd, tmap, mmap_, anon));
        CHECK("child_reads_all_and_writes", waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK("parent_sees_child_map_writes", verify(anon, 16 * MiB, 4) == -1);
        CHECK("parent_sees_child_write", verify(mmap_, 16 * MiB, 5) == -1 &&
              read_pattern(mfd, 0, 16 * MiB, 5) == 0);
        CHECK("memfd_rest_unchanged", read_pattern(mfd, 16 * MiB,
                                                   MEMFD_BYTES - 16 * MiB, 2) == 0);
        {
                long bad = -1;
                for (size_t i = 16 * MiB / 8; i < ANON_BYTES / 8 && bad < 0; i++)
                        if (anon[i] != word(i, 3))
                                bad = (long)i;
                CHECK("anon_rest_unchanged", bad == -1);
        }

        /* Cut the memfd to a quarter and grow it back: the rest reads
         * zeroes, the quarter is intact (its pages partly on swap). */
        munmap(mmap_, MEMFD_BYTES);
        CHECK("memfd_truncate", ftruncate(mfd, MEMFD_BYTES / 4 + 100) == 0 &&
              ftruncate(mfd, MEMFD_BYTES) == 0);
        CHECK("memfd_kept_before_cut", read_pattern(mfd, 16 * MiB,
                                                    MEMFD_BYTES / 4 - 16 * MiB, 2) == 0);
        CHECK("memfd_zero_after_cut", reads_zero(mfd, MEMFD_BYTES / 4 + 100,
                                                 MEMFD_BYTES - MEMFD_BYTES / 4 - 100));
        /* A hole in the tmpfs file. */
        CHECK("tmpfs_punch_hole",
              fallocate(tfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        8 * MiB, 8 * MiB) == 0);
        CHECK("tmpfs_hole_reads_zero", reads_zero(tfd, 8 * MiB, 8 * MiB));
        CHECK("tmpfs_rest_intact", read_pattern(tfd, 0, 8 * MiB, 1) == 0 &&
              read_pattern(tfd, 16 * MiB, FILE_BYTES - 16 * MiB, 1) == 0);

        if (must_swap) {
                CHECK("pages_went_out", vmstat("pswpout") - out0 >
                      (long long)((FILE_BYTES + MEMFD_BYTES + ANON_BYTES -
                                   (size_t)mem_total * 1024) / PAGE));
                CHECK("pages_came_back", vmstat("pswpin") - in0 > 0);
                CHECK("major_faults_counted", vmstat("pgmajfault") - maj0 > 0);
                printf("swap: %lld pages out, %lld in, %lld major faults\n",
                       vmstat("pswpout") - out0, vmstat("pswpin") - in0,
                       vmstat("pgmajfault") - maj0);
        }
        munmap(tmap, FILE_BYTES);
        munmap(anon, ANON_BYTES);
        close(mfd);
        close(tfd);
        CHECK("unlink", unlink(path) == 0);
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
        must_swap = swap_total > 0 && mem_total > 0 &&
                    (long long)((FILE_BYTES + MEMFD_BYTES + ANON_BYTES) / 1024) >
                    mem_total;
        utest_start("swap_shared");
        if (!must_swap)
                printf("NOTE: MemTotal %lld kB, SwapTotal %lld kB: this "
                       "machine need not swap; counters not checked\n",
                       mem_total, swap_total);
        /* This process's own pages stay locked (so none holds a slot when
         * they are counted); the work runs in a child. */
        CHECK("parent_locked", !must_swap ||
              mlockall(MCL_CURRENT | MCL_FUTURE) == 0);
        pid_t worker = fork();
        if (worker == 0)
                _exit(work() ? 1 : 0);
        CHECK("work_done", worker > 0 && waitpid(worker, &st, 0) == worker &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        long long swap_free = meminfo("SwapFree");
        printf("SwapFree %lld kB at the start, %lld kB at the end\n",
               swap_free0, swap_free);
        CHECK("every_slot_back", !must_swap || swap_free == swap_free0);
        return utest_done();
}
