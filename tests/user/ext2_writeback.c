/*
 * ext2_writeback.c - dirty file pages go home under memory pressure
 * (issue 16): more of an ext2 file system's files is dirtied than the
 * machine has RAM, half through write() and half through a shared
 * mapping, and every byte must read back, before and after a second
 * mount. make test runs it on Mercator at -m 128M with a 512 MiB swap
 * disk: the file system is on a loop device over a file in a tmpfs of
 * its own (256 MiB, more than RAM), so the pages written home land in
 * the tmpfs file, whose pages can go to swap; dirty ext2 pages cannot (they have a disk), so without
 * reclaim's write-back the machine runs out of memory.
 *
 * On Linux it runs first, on the host (plenty of RAM: the counters are
 * checked only on a machine smaller than the files, as swap_pressure
 * does). Needs root, mke2fs, e2fsck and /dev/loop-control; prints a NOTE
 * and checks nothing without them.
 */
#include "utest.h"
#include "disk_tools.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MiB             (1024UL * 1024)
#define FILE_BYTES      (80 * MiB)      /* each of two files */
#define IMAGE_BYTES     (200 * MiB)
#define CHUNK           (64 * 1024)

/* The word at word index i of a file with this seed. */
static inline uint64_t word(uint64_t i, uint64_t seed)
{
        uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

        return x ^ (x >> 31);
}

static void fill(uint64_t *p, size_t words, uint64_t first, uint64_t seed)
{
        for (size_t i = 0; i < words; i++)
                p[i] = word(first + i, seed);
}

/* The first wrong word index of p, else -1. */
static long verify(const uint64_t *p, size_t words, uint64_t first,
                   uint64_t seed)
{
        for (size_t i = 0; i < words; i++)
                if (p[i] != word(first + i, seed))
                        return (long)(first + i);
        return -1;
}

static uint64_t buf[CHUNK / 8];

/* Write FILE_BYTES of the pattern with write(). => 0 or -1. */
static int write_file(const char *path, uint64_t seed)
{
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

        if (fd < 0)
                return -1;
        for (size_t off = 0; off < FILE_BYTES; off += CHUNK) {
                fill(buf, CHUNK / 8, off / 8, seed);
                if (write(fd, buf, CHUNK) != CHUNK) {
                        close(fd);
                        return -1;
                }
        }
        return close(fd);
}

/* The file holds exactly the pattern (read()). => 1 if so. */
static int file_is(const char *path, uint64_t seed)
{
        int fd = open(path, O_RDONLY);
        struct stat st;
        long bad = -1;

        if (fd < 0 || fstat(fd, &st) != 0 || st.st_size != (off_t)FILE_BYTES)
                return 0;
        for (size_t off = 0; off < FILE_BYTES && bad < 0; off += CHUNK) {
                if (read(fd, buf, CHUNK) != CHUNK) {
                        close(fd);
                        return 0;
                }
                bad = verify(buf, CHUNK / 8, off / 8, seed);
        }
        close(fd);
        if (bad >= 0)
                printf("NOTE %s: word %ld differs\n", path, bad);
        return bad < 0;
}

static long long meminfo(const char *name)
{
        return proc_field("/proc/meminfo", name);
}

static long long vmstat(const char *name)
{
        return proc_field("/proc/vmstat", name);
}

int main(void)
{
        const char *tmp = "/tmp/ext2_writeback.tmp";
        const char *img = "/tmp/ext2_writeback.tmp/image";
        const char *mnt = "/tmp/ext2_writeback.mnt";
        const char *fa = "/tmp/ext2_writeback.mnt/written";
        const char *fb = "/tmp/ext2_writeback.mnt/mapped";
        const char *mke2fs = tool("mke2fs"), *e2fsck = tool("e2fsck");
        char dev[32];
        int ctl, n, fd, dfd;

        utest_start("ext2_writeback");
        if (geteuid() != 0 || !mke2fs || !e2fsck ||
            (ctl = open("/dev/loop-control", O_RDWR)) < 0) {
                printf("NOTE ext2_writeback: needs root, mke2fs, e2fsck "
                       "and /dev/loop-control; nothing checked\n");
                return 0;
        }
        n = ioctl(ctl, LOOP_CTL_GET_FREE);
        close(ctl);
        CHECK("get_free", n >= 0);
        /* A tmpfs of its own for the image: /tmp's default size is half
         * of RAM, less than the files (Linux allows more than RAM). */
        mkdir(tmp, 0755);
        if (!CHECK("mount_tmpfs", mount("tmpfs", tmp, "tmpfs", 0,
                                        "size=256m") == 0))
                return utest_done();
        snprintf(dev, sizeof dev, "/dev/loop%d", n);
        fd = open(img, O_CREAT | O_TRUNC | O_RDWR, 0600);
        CHECK("image", fd >= 0 && ftruncate(fd, IMAGE_BYTES) == 0);
        dfd = open(dev, O_RDWR);
        CHECK("bind", dfd >= 0 && ioctl(dfd, LOOP_SET_FD, fd) == 0);
        close(fd);
        char *mkfs_argv[] = { (char *)mke2fs, "-q", "-F", "-t", "ext2",
                              "-b", "4096", "-m", "0", dev, NULL };
        CHECK("mke2fs", run(mkfs_argv) == 0);
        mkdir(mnt, 0755);
        if (!CHECK("mount", mount(dev, mnt, "ext2", 0, NULL) == 0)) {
                ioctl(dfd, LOOP_CLR_FD, 0);
                unlink(img);
                umount(tmp);
                return utest_done();
        }

        /* Is this machine smaller than what is dirtied? Then reclaim
         * must have written file pages home. */
        long long mem_total = meminfo("MemTotal");
        int must = mem_total > 0 && mem_total * 1024 < 2 * (long long)FILE_BYTES;
        long long written0 = vmstat("nr_vmscan_write");
        long long out0 = vmstat("pgpgout");
        CHECK("dirty_counted", meminfo("Dirty") >= 0 &&
              meminfo("Writeback") >= 0 && vmstat("nr_dirty") >= 0);

        /* Half through write(). */
        CHECK("write", write_file(fa, 1) == 0);

        /* Half through a shared mapping, verified through it after
         * everything was written (its first pages went home by then). */
        fd = open(fb, O_CREAT | O_TRUNC | O_RDWR, 0644);
        uint64_t *m = MAP_FAILED;
        if (CHECK("map_file", fd >= 0 && ftruncate(fd, FILE_BYTES) == 0))
                m = mmap(NULL, FILE_BYTES, PROT_READ | PROT_WRITE,
                         MAP_SHARED, fd, 0);
        if (CHECK("mmap", m != MAP_FAILED)) {
                fill(m, FILE_BYTES / 8, 0, 2);
                long bad = verify(m, FILE_BYTES / 8, 0, 2);
                if (bad >= 0)
                        printf("NOTE mapped: word %ld differs\n", bad);
                CHECK("mapping_reads_back", bad < 0);
                CHECK("msync", msync(m, FILE_BYTES, MS_SYNC) == 0);
                munmap(m, FILE_BYTES);
        }
        CHECK("fsync", fd >= 0 && fsync(fd) == 0);
        if (fd >= 0)
                close(fd);
        CHECK("written_reads_back", file_is(fa, 1));
        CHECK("mapped_reads_back", file_is(fb, 2));
        if (must) {
                long long w = vmstat("nr_vmscan_write") - written0;
                long long o = vmstat("pgpgout") - out0;
                printf("NOTE reclaim wrote %lld pages home; pgpgout %lld KiB\n",
                       w, o);
                CHECK("reclaim_wrote_pages", written0 >= 0 &&
                      w > (long long)(FILE_BYTES / 4096 / 4));
                CHECK("pgpgout_counts_them", o >= w * 4);
        }
        sync();
        if (must)       /* a quiet machine: nobody else dirties pages */
                CHECK("nothing_dirty_after_sync", vmstat("nr_dirty") == 0);

        /* On the disk: a second mount reads both back. */
        CHECK("umount", umount(mnt) == 0);
        CHECK("mount_again", mount(dev, mnt, "ext2", 0, NULL) == 0);
        CHECK("written_on_disk", file_is(fa, 1));
        CHECK("mapped_on_disk", file_is(fb, 2));
        CHECK("umount_again", umount(mnt) == 0);
        char *fsck_argv[] = { (char *)e2fsck, "-fn", dev, NULL };
        CHECK("e2fsck_clean", run(fsck_argv) == 0);
        CHECK("detach", ioctl(dfd, LOOP_CLR_FD, 0) == 0);
        close(dfd);
        rmdir(mnt);
        unlink(img);
        CHECK("umount_tmpfs", umount(tmp) == 0);
        rmdir(tmp);
        return utest_done();
}
