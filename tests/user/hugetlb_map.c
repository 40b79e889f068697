/*
 * hugetlb_map.c - mmap(MAP_HUGETLB) over the huge-page pool (issue 12
 * with 17).
 *
 * Everywhere: a huge size the machine lacks (MAP_HUGE_16KB) is EINVAL.
 * Where tools/run booted the program as root (Mercator, or Linux in QEMU
 * as the referee; on the host it would change the host's pool, so there
 * it prints a NOTE), with a pool of 4 pages of 2 MiB:
 *   - an empty pool refuses a mapping (ENOMEM: nothing to reserve);
 *   - a shared mapping's length is rounded up to 2 MiB, its address is
 *     2 MiB-aligned, its pages are reserved at mmap (HugePages_Rsvd) and
 *     taken at the first touch (HugePages_Free), zeroed;
 *   - munmap and mprotect inside a huge page are EINVAL; on huge-page
 *     boundaries they work and keep the other bytes; MAP_FIXED at an
 *     address that is not 2 MiB-aligned is EINVAL;
 *   - more than the pool holds is ENOMEM, and with MAP_NORESERVE the page
 *     that is not there is SIGBUS at the touch;
 *   - smaps: KernelPageSize 2048 kB, the pages in Private_Hugetlb (not
 *     Rss); status HugetlbPages;
 *   - a child's writes through a shared mapping are the parent's;
 *   - MAP_PRIVATE works the same for one process, and its pages go back
 *     with the part of it unmapped (munmap, MAP_FIXED over it);
 *   - a MFD_HUGETLB memfd: a size the machine lacks is ENODEV, write()
 *     EINVAL, sizes in whole huge pages (ftruncate EINVAL otherwise), an
 *     offset that is not aligned EINVAL, its pages shared by mappings and
 *     read() back, a writable mapping past the end grows it, more than the
 *     pool has ENOMEM;
 *   - SHM_HUGETLB: reserved at shmget (ENOMEM past the pool, EINVAL for a
 *     size the machine lacks), attached at an aligned address (a given one
 *     that is not: EINVAL), pages taken at the touch;
 *   - fallocate on a MFD_HUGETLB memfd (Linux 6.1's hugetlbfs_fallocate):
 *     the range widens to whole huge pages, each taken from the pool
 *     (HugePages_Free, st_blocks), zeroed; mode 0 sets the size to
 *     off + len unrounded, KEEP_SIZE leaves it and its pages past the end
 *     stay until a truncate; an empty pool is ENOSPC with the pages taken
 *     before kept and the size unchanged; pages the mapping reserved are
 *     used first (HugePages_Rsvd); a hole narrows to whole huge pages,
 *     which go back to the pool even while mapped (the mapping then reads
 *     a fresh zeroed page) and the bytes of partial pages in the range are
 *     zeroed; PUNCH_HOLE without KEEP_SIZE and ZERO_RANGE are EOPNOTSUPP;
 *     F_SEAL_GROW and F_SEAL_WRITE are EPERM;
 *   - hugetlbfs: mounted with pagesize=2M (another size: EINVAL), statfs
 *     says its magic and a 2 MiB block, its files are files of huge pages
 *     as the memfd above (fallocate KEEP_SIZE included), unlinked and
 *     unmounted;
 *   - every page goes back to the pool when the mappings go.
 */
#include "utest.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/shm.h>
#include <sys/stat.h>

#define HUGE            (2UL << 20)
#define SYSCTL_NR       "/proc/sys/vm/nr_hugepages"
#ifndef MAP_HUGETLB
#define MAP_HUGETLB     0x40000
#endif
#define HUGE_16KB       (14 << 26)
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE     0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE    0x02
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE    0x10
#endif
#define PUNCH           (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
#define ANON_HUGE       (MAP_ANONYMOUS | MAP_HUGETLB)

static long long mi(const char *name)
{
        return proc_field("/proc/meminfo", name);
}

static int pool(long long total, long long free, long long resv)
{
        return mi("HugePages_Total") == total && mi("HugePages_Free") == free &&
               mi("HugePages_Rsvd") == resv;
}

static int set_pool(const char *n)
{
        return write_text(SYSCTL_NR, n) == 0;
}

/* Does touching p kill a child with SIGBUS? */
static int touch_is_sigbus(volatile char *p)
{
        pid_t pid = fork();

        if (pid == 0) {
                p[0] = 1;
                _exit(0);
        }
        return killed_by(pid, SIGBUS);
}

static int all_bytes(const char *p, size_t len, char c)
{
        for (size_t i = 0; i < len; i += PAGE)
                if (p[i] != c)
                        return 0;
        return 1;
}

static void shared_checks(void)
{
        char *p, *q;

        CHECK("empty_pool_enomem", set_pool("0\n"));
        CHECK_MMAP_ERR("no_pages_enomem",
                       mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
                            MAP_SHARED | ANON_HUGE, -1, 0), ENOMEM);
        CHECK("pool_of_4", set_pool("4\n") && pool(4, 4, 0));
        p = mmap(NULL, 2 * HUGE + 1, PROT_READ | PROT_WRITE,
                 MAP_SHARED | ANON_HUGE, -1, 0);
        CHECK("map_shared", p != MAP_FAILED);
        if (p == MAP_FAILED)
                return;
        CHECK("aligned", ((uintptr_t)p & (HUGE - 1)) == 0);
        CHECK("reserved_at_mmap", pool(4, 4, 3));       /* 4 MiB + 1 -> 3 */
        CHECK("zeroed", all_bytes(p, 3 * HUGE, 0));     /* reads take pages */
        CHECK("taken_at_touch", pool(4, 1, 0));
        memset(p, 'a', 3 * HUGE);
        CHECK("smaps_page_size", smaps_field(p, "KernelPageSize") == 2048 &&
                                 smaps_field(p, "MMUPageSize") == 2048);
        CHECK("smaps_private_hugetlb", smaps_field(p, "Private_Hugetlb") == 3 * 2048 &&
                                       smaps_field(p, "Shared_Hugetlb") == 0 &&
                                       smaps_field(p, "Rss") == 0);
        CHECK("status_hugetlb", proc_field("/proc/self/status", "HugetlbPages") ==
                                3 * 2048);
        CHECK_ERR("munmap_inside_einval", munmap(p + PAGE, PAGE), EINVAL);
        CHECK_ERR("munmap_short_einval", munmap(p, PAGE), EINVAL);
        CHECK_ERR("mprotect_inside_einval", mprotect(p, PAGE, PROT_READ), EINVAL);
        CHECK("mprotect_whole", mprotect(p + HUGE, HUGE, PROT_READ) == 0 &&
                                mprotect(p + HUGE, HUGE, PROT_READ | PROT_WRITE) == 0);
        CHECK("munmap_middle", munmap(p + HUGE, HUGE) == 0);
        CHECK("others_kept", all_bytes(p, HUGE, 'a') &&
                             all_bytes(p + 2 * HUGE, HUGE, 'a'));
        CHECK_MMAP_ERR("fixed_unaligned_einval",
                       mmap(p + HUGE + PAGE, HUGE, PROT_READ,
                            MAP_SHARED | MAP_FIXED | ANON_HUGE, -1, 0), EINVAL);
        pid_t pid = fork();
        if (pid == 0) {
                memset(p, 'c', HUGE);
                _exit(0);
        }
        CHECK("child_writes_seen", waitpid(pid, NULL, 0) == pid &&
                                   all_bytes(p, HUGE, 'c'));
        CHECK("unmapped", munmap(p, 3 * HUGE) == 0);
        CHECK("pages_back", pool(4, 4, 0));

        /* More than the pool holds. */
        CHECK_MMAP_ERR("too_big_enomem",
                       mmap(NULL, 5 * HUGE, PROT_READ | PROT_WRITE,
                            MAP_SHARED | ANON_HUGE, -1, 0), ENOMEM);
        CHECK("refused_unchanged", pool(4, 4, 0));
        q = mmap(NULL, 5 * HUGE, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_NORESERVE | ANON_HUGE, -1, 0);
        CHECK("noreserve_maps", q != MAP_FAILED && pool(4, 4, 0));
        if (q != MAP_FAILED) {
                for (int i = 0; i < 4; i++)
                        q[i * HUGE] = 1;
                CHECK("noreserve_four", pool(4, 0, 0));
                CHECK("fifth_sigbus", touch_is_sigbus(q + 4 * HUGE));
                CHECK("noreserve_unmapped", munmap(q, 5 * HUGE) == 0 &&
                                            pool(4, 4, 0));
        }
}

static void private_checks(void)
{
        char *p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | ANON_HUGE, -1, 0);

        CHECK("map_private", p != MAP_FAILED && pool(4, 4, 2));
        if (p == MAP_FAILED)
                return;
        memset(p, 'p', 2 * HUGE);
        CHECK("private_data", all_bytes(p, 2 * HUGE, 'p') && pool(4, 2, 0));
        /* A private mapping's pages go with the part unmapped, and a
         * MAP_FIXED mapping over it takes their place. */
        CHECK("private_part_unmapped", munmap(p + HUGE, HUGE) == 0 &&
                                       pool(4, 3, 0) && all_bytes(p, HUGE, 'p'));
        CHECK("private_fixed_over", mmap(p, HUGE, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_FIXED | ANON_HUGE,
                                         -1, 0) == p && pool(4, 4, 1) &&
                                    all_bytes(p, HUGE, 0) && pool(4, 3, 0));
        CHECK("private_unmapped", munmap(p, HUGE) == 0 && pool(4, 4, 0));
}

#ifndef MFD_HUGETLB
#define MFD_HUGETLB     4
#endif
#ifndef SHM_HUGETLB
#define SHM_HUGETLB     04000
#endif

static void memfd_checks(void)
{
        int fd;
        char *p, *q, buf[16];
        struct stat st;

        CHECK_ERR("memfd_16kb_enodev",
                  syscall(SYS_memfd_create, "h", MFD_HUGETLB | HUGE_16KB), ENODEV);
        fd = (int)syscall(SYS_memfd_create, "h", MFD_HUGETLB);
        CHECK("memfd_made", fd >= 0);
        if (fd < 0)
                return;
        CHECK_ERR("memfd_write_einval", write(fd, "x", 1), EINVAL);
        CHECK_ERR("memfd_truncate_einval", ftruncate(fd, PAGE), EINVAL);
        CHECK("memfd_truncate", ftruncate(fd, HUGE) == 0 &&
                                fstat(fd, &st) == 0 && st.st_size == (off_t)HUGE);
        CHECK_MMAP_ERR("memfd_offset_einval",
                       mmap(NULL, HUGE, PROT_READ, MAP_SHARED, fd, PAGE), EINVAL);
        p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("memfd_map", p != MAP_FAILED && ((uintptr_t)p & (HUGE - 1)) == 0);
        if (p != MAP_FAILED) {
                memset(p, 'm', HUGE);
                CHECK("memfd_page_taken", pool(4, 3, 0));
                CHECK("memfd_read", pread(fd, buf, sizeof buf, 100) == sizeof buf &&
                                    buf[0] == 'm' && buf[15] == 'm');
                q = mmap(NULL, HUGE, PROT_READ, MAP_SHARED, fd, 0);
                CHECK("memfd_shared", q != MAP_FAILED && q[HUGE - 1] == 'm' &&
                                      pool(4, 3, 0));
                if (q != MAP_FAILED)
                        munmap(q, HUGE);
                munmap(p, HUGE);
        }
        /* A writable private mapping past the end grows the file. */
        p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK("memfd_private_grows", p != MAP_FAILED && fstat(fd, &st) == 0 &&
                                     st.st_size == (off_t)(2 * HUGE));
        if (p != MAP_FAILED)
                munmap(p, 2 * HUGE);
        CHECK_MMAP_ERR("memfd_too_big_enomem",
                       mmap(NULL, 8 * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED,
                            fd, 0), ENOMEM);
        close(fd);
        CHECK("memfd_pages_back", pool(4, 4, 0));
}

static int size_blocks(int fd, off_t size, long long blocks)
{
        struct stat st;

        return fstat(fd, &st) == 0 && st.st_size == size &&
               (long long)st.st_blocks == blocks;
}

#define HUGE_BLOCKS     ((long long)(HUGE / 512))

static void fallocate_checks(void)
{
        int fd = (int)syscall(SYS_memfd_create, "f", MFD_HUGETLB | MFD_ALLOW_SEALING);
        char buf[8] = "zzzzzzz";
        volatile char *p;

        CHECK("falloc_memfd", fd >= 0);
        if (fd < 0)
                return;
        /* One byte takes a whole page; the size is the byte. */
        CHECK("falloc_one_byte", fallocate(fd, 0, 0, 1) == 0 && pool(4, 3, 0) &&
                                 size_blocks(fd, 1, HUGE_BLOCKS));
        CHECK("falloc_zeroed", pread(fd, buf, sizeof buf, 0) == 1 && buf[0] == 0);
        CHECK("falloc_again_same", fallocate(fd, 0, 0, HUGE) == 0 &&
                                   pool(4, 3, 0) && size_blocks(fd, HUGE, HUGE_BLOCKS));
        /* KEEP_SIZE: a page past the end, which a truncate frees. */
        CHECK("falloc_keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, HUGE + 1, 1) == 0 &&
                                  pool(4, 2, 0) && size_blocks(fd, HUGE, 2 * HUGE_BLOCKS));
        CHECK("falloc_truncate_frees", ftruncate(fd, HUGE) == 0 && pool(4, 3, 0) &&
                                       size_blocks(fd, HUGE, HUGE_BLOCKS));
        /* Holes: only whole huge pages inside the range go. */
        CHECK("punch_partial_nothing", fallocate(fd, PUNCH, 0, HUGE - 1) == 0 &&
                                       fallocate(fd, PUNCH, 1, HUGE) == 0 &&
                                       pool(4, 3, 0));
        CHECK("punch_whole", fallocate(fd, PUNCH, 0, 2 * HUGE - 1) == 0 &&
                             pool(4, 4, 0) && size_blocks(fd, HUGE, 0));
        CHECK_ERR("punch_no_keep_eopnotsupp",
                  fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, HUGE), EOPNOTSUPP);
        CHECK_ERR("zero_range_eopnotsupp",
                  fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, HUGE), EOPNOTSUPP);
        /* Past the pool: the pages taken stay, the size does not move. */
        CHECK_ERR("falloc_pool_empty_enospc", fallocate(fd, 0, 0, 8 * HUGE), ENOSPC);
        CHECK("falloc_enospc_kept", pool(4, 0, 0) &&
                                    size_blocks(fd, HUGE, 4 * HUGE_BLOCKS));
        CHECK("falloc_enospc_truncate", ftruncate(fd, 0) == 0 && pool(4, 4, 0));
        /* A mapping's reservations are used first. */
        p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("falloc_map_reserves", p != MAP_FAILED && pool(4, 4, 2));
        if (p != MAP_FAILED) {
                CHECK("falloc_uses_reservation",
                      fallocate(fd, 0, 0, HUGE) == 0 && pool(4, 3, 1));
                p[0] = 'a';
                p[HUGE] = 'b';
                CHECK("falloc_then_touch", pool(4, 2, 0) && pread(fd, buf, 1, 0) == 1 &&
                                           buf[0] == 'a');
                /* A hole under a mapping: the page goes, a new one comes
                 * zeroed at the next touch. */
                CHECK("punch_mapped", fallocate(fd, PUNCH, 0, HUGE) == 0 &&
                                      pool(4, 3, 0));
                CHECK("punch_mapped_reads_zero", p[0] == 0 && p[HUGE] == 'b' &&
                                                 pool(4, 2, 0));
                munmap((void *)p, 2 * HUGE);
        }
        CHECK("punch_all", fallocate(fd, PUNCH, 0, 2 * HUGE) == 0 && pool(4, 4, 0));
        /* A hole inside one page zeroes its bytes, and so do the ends of a
         * longer one in the pages partly inside (Debian's 6.1 does). */
        p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
                memset((char *)p, 'c', 2 * HUGE);
                CHECK("punch_inside_zeroes",
                      fallocate(fd, PUNCH, 1, 10) == 0 && p[0] == 'c' &&
                      p[1] == 0 && p[10] == 0 && p[11] == 'c' && pool(4, 2, 0));
                CHECK("punch_ends_zeroed",
                      fallocate(fd, PUNCH, HUGE - 5, 10) == 0 &&
                      p[HUGE - 6] == 'c' && p[HUGE - 5] == 0 && p[HUGE - 1] == 0 &&
                      p[HUGE] == 0 && p[HUGE + 4] == 0 && p[HUGE + 5] == 'c' &&
                      pool(4, 2, 0));
                munmap((void *)p, 2 * HUGE);
        }
        CHECK("punch_all_again", fallocate(fd, PUNCH, 0, 2 * HUGE) == 0 &&
                                 pool(4, 4, 0));
        /* Seals. */
        CHECK("falloc_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_WRITE) == 0);
        CHECK_ERR("falloc_seal_grow_eperm", fallocate(fd, 0, 0, 3 * HUGE), EPERM);
        CHECK_ERR("punch_seal_write_eperm", fallocate(fd, PUNCH, 0, HUGE), EPERM);
        CHECK_ERR("punch_seal_no_page_eperm", fallocate(fd, PUNCH, 1, 1), EPERM);
        close(fd);
        CHECK("falloc_pages_back", pool(4, 4, 0));
}

static void shm_checks(void)
{
        int id;
        char *p;

        CHECK_ERR("shm_16kb_einval",
                  shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SHM_HUGETLB | HUGE_16KB | 0600),
                  EINVAL);
        CHECK_ERR("shm_too_big_enomem",
                  shmget(IPC_PRIVATE, 5 * HUGE, IPC_CREAT | SHM_HUGETLB | 0600),
                  ENOMEM);
        id = shmget(IPC_PRIVATE, HUGE + 1, IPC_CREAT | SHM_HUGETLB | 0600);
        CHECK("shm_made", id >= 0 && pool(4, 4, 2));
        if (id < 0)
                return;
        p = shmat(id, NULL, 0);
        CHECK("shm_attached", p != (void *)-1 && ((uintptr_t)p & (HUGE - 1)) == 0);
        if (p != (void *)-1) {
                p[0] = 's';
                CHECK("shm_page_taken", pool(4, 3, 1));
                CHECK_ERR("shm_unaligned_einval",
                          (long)shmat(id, p + 4 * HUGE + PAGE, 0), EINVAL);
                shmdt(p);
        }
        shmctl(id, IPC_RMID, NULL);
        CHECK("shm_pages_back", pool(4, 4, 0));
}

static void hugetlbfs_checks(void)
{
        char dir[] = "/tmp/hugetlbfsXXXXXX", path[64];
        struct statfs sfs;
        int fd;
        char *p;

        if (!mkdtemp(dir)) {
                CHECK("hugetlbfs_dir", 0);
                return;
        }
        CHECK_ERR("hugetlbfs_pagesize_einval",
                  mount("none", dir, "hugetlbfs", 0, "pagesize=4K"), EINVAL);
        CHECK("hugetlbfs_mount", mount("none", dir, "hugetlbfs", 0, "pagesize=2M") == 0);
        CHECK("hugetlbfs_statfs", statfs(dir, &sfs) == 0 &&
                                  (unsigned long)sfs.f_type == 0x958458f6UL &&
                                  sfs.f_bsize == (long)HUGE);
        snprintf(path, sizeof path, "%s/f", dir);
        fd = open(path, O_CREAT | O_RDWR, 0600);
        CHECK("hugetlbfs_file", fd >= 0);
        if (fd >= 0) {
                CHECK_ERR("hugetlbfs_write_einval", write(fd, "x", 1), EINVAL);
                CHECK_ERR("hugetlbfs_truncate_einval", ftruncate(fd, PAGE), EINVAL);
                p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                CHECK("hugetlbfs_map", p != MAP_FAILED);
                if (p != MAP_FAILED) {
                        p[5] = 'f';
                        CHECK("hugetlbfs_page", pool(4, 3, 0));
                        munmap(p, HUGE);
                }
                CHECK("hugetlbfs_fallocate",
                      fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 2 * HUGE) == 0 &&
                      pool(4, 2, 0));
                close(fd);
                CHECK("hugetlbfs_kept", pool(4, 2, 0));  /* the file holds them */
        }
        CHECK("hugetlbfs_unlink", unlink(path) == 0 && pool(4, 4, 0));
        CHECK("hugetlbfs_umount", umount(dir) == 0 && rmdir(dir) == 0);
}

int main(void)
{
        utest_start("hugetlb_map");
        CHECK_MMAP_ERR("size_16kb_einval",
                       mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | ANON_HUGE | HUGE_16KB, -1, 0), EINVAL);
        if (access("/.mercator-args", F_OK) == 0 && geteuid() == 0) {
                long long nr0 = mi("HugePages_Total");
                char text[32];

                shared_checks();
                private_checks();
                memfd_checks();
                fallocate_checks();
                shm_checks();
                hugetlbfs_checks();
                snprintf(text, sizeof text, "%lld\n", nr0);
                CHECK("restore_nr", set_pool(text));
        } else {
                printf("NOTE hugetlb_map: not booted by tools/run as root, so "
                       "the pool is not grown\n");
        }
        return utest_done();
}
