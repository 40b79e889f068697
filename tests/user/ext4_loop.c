/*
 * ext4_loop.c - ext4 on a loop device, as LTP's mmap16 uses it: Debian's
 * mke2fs -t ext4 -b 1024 on 10 MiB (extents, 64bit, flex_bg,
 * metadata_csum, a journal), mounted as "ext4" (as "ext2" it is refused:
 * EINVAL), then files written, directories grown, fallocate (mode 0,
 * KEEP_SIZE, PUNCH_HOLE), a shared mapping over fallocated blocks, and
 * truncation; after umount and a second mount everything reads back, and
 * after the last umount Debian's e2fsck -fn must find nothing to fix.
 * Needs root and mke2fs/e2fsck (tools/test.py passes them to Mercator
 * with tools/run --with); prints a NOTE and checks nothing without them.
 */
#define _GNU_SOURCE
#include "utest.h"
#include "disk_tools.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define EXT4_SUPER_MAGIC        0xEF53
#define KEEP_SIZE               0x01
#define PUNCH_HOLE              0x02

static int zero(const char *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return 0;
        return 1;
}

static char buf[256 * 1024];

int main(void)
{
        const char *img = "/tmp/ext4_loop.img", *mnt = "/tmp/ext4_loop.mnt";
        char dev[32], path[128];
        const char *mke2fs = tool("mke2fs"), *e2fsck = tool("e2fsck");
        struct stat st;
        struct statfs sf;
        int ctl, n, fd, dfd;

        utest_start("ext4_loop");
        if (geteuid() != 0 || !mke2fs || !e2fsck ||
            (ctl = open("/dev/loop-control", O_RDWR)) < 0) {
                printf("NOTE ext4_loop: needs root, mke2fs, e2fsck and "
                       "/dev/loop-control; nothing checked\n");
                return 0;
        }
        n = ioctl(ctl, LOOP_CTL_GET_FREE);
        close(ctl);
        CHECK("get_free", n >= 0);
        snprintf(dev, sizeof dev, "/dev/loop%d", n);
        fd = open(img, O_CREAT | O_TRUNC | O_RDWR, 0600);
        CHECK("image", fd >= 0 && ftruncate(fd, 10 << 20) == 0);
        dfd = open(dev, O_RDWR);
        CHECK("bind", dfd >= 0 && ioctl(dfd, LOOP_SET_FD, fd) == 0);
        close(fd);
        char *mkfs_argv[] = { (char *)mke2fs, "-q", "-F", "-t", "ext4",
                              "-b", "1024", dev, NULL };
        CHECK("mkfs_ext4", run(mkfs_argv) == 0);
        mkdir(mnt, 0755);
        CHECK_ERR("mount_as_ext2", mount(dev, mnt, "ext2", 0, NULL), EINVAL);
        if (!CHECK("mount", mount(dev, mnt, "ext4", 0, NULL) == 0)) {
                ioctl(dfd, LOOP_CLR_FD, 0);
                unlink(img);
                return utest_done();
        }
        CHECK("statfs", statfs(mnt, &sf) == 0 && sf.f_type == EXT4_SUPER_MAGIC &&
              sf.f_bsize == 1024 && sf.f_bfree > 7000 && sf.f_bfree <= sf.f_blocks);

        /* Files and directories. */
        snprintf(path, sizeof path, "%s/a", mnt);
        fd = open(path, O_CREAT | O_RDWR, 0644);
        fill_pattern(buf, sizeof buf, 1);
        CHECK("write_a", fd >= 0 && write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
        CHECK("stat_a", fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof buf &&
              st.st_blocks >= 512);
        close(fd);
        snprintf(path, sizeof path, "%s/d", mnt);
        CHECK("mkdir", mkdir(path, 0755) == 0);
        int many = 1;
        for (int i = 0; i < 60 && many; i++) {
                snprintf(path, sizeof path, "%s/d/a-long-entry-name-number-%03d", mnt, i);
                fd = open(path, O_CREAT | O_WRONLY, 0644);
                many = fd >= 0 && write(fd, "x", 1) == 1;
                close(fd);
        }
        CHECK("many_files", many);
        snprintf(path, sizeof path, "%s/d", mnt);
        CHECK("dir_grew", stat(path, &st) == 0 && st.st_size > 1024);
        snprintf(path, sizeof path, "%s/d/a-long-entry-name-number-007", mnt);
        CHECK("unlink", unlink(path) == 0);
        snprintf(path, sizeof path, "%s/s", mnt);
        CHECK("symlink", symlink("a", path) == 0);

        /* fallocate: blocks that read as zeroes (blocks a removed file
         * left its bytes in are likely among them); a write converts. */
        snprintf(path, sizeof path, "%s/junk", mnt);
        fd = open(path, O_CREAT | O_RDWR, 0644);
        memset(buf, 0x5a, 128 * 1024);
        CHECK("junk", fd >= 0 && write(fd, buf, 128 * 1024) == 128 * 1024 &&
              fsync(fd) == 0 && close(fd) == 0 && unlink(path) == 0);
        sync();
        snprintf(path, sizeof path, "%s/f", mnt);
        fd = open(path, O_CREAT | O_RDWR, 0644);
        statfs(mnt, &sf);
        long free0 = (long)sf.f_bfree;
        CHECK("fallocate", fd >= 0 && fallocate(fd, 0, 0, 64 * 1024) == 0 &&
              fstat(fd, &st) == 0 && st.st_size == 64 * 1024 &&
              st.st_blocks == 128);
        CHECK("fallocate_took_blocks", statfs(mnt, &sf) == 0 &&
              (long)sf.f_bfree <= free0 - 64);
        CHECK("fallocated_reads_zeroes", pread(fd, buf, 65536, 0) == 65536 &&
              zero(buf, 65536));
        CHECK("keep_size", fallocate(fd, KEEP_SIZE, 60 * 1024, 40 * 1024) == 0 &&
              fstat(fd, &st) == 0 && st.st_size == 64 * 1024 &&
              st.st_blocks == 200);
        CHECK("write_converts", pwrite(fd, "hello", 5, 10 * 1024 + 100) == 5 &&
              fsync(fd) == 0 && pread(fd, buf, 1024, 10 * 1024) == 1024 &&
              memcmp(buf + 100, "hello", 5) == 0 && zero(buf, 100) &&
              zero(buf + 105, 919));
        /* A shared mapping writes over fallocated blocks. */
        char *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("mmap", m != MAP_FAILED);
        if (m != MAP_FAILED) {
                CHECK("map_reads_zeroes", m[0] == 0 && m[65535] == 0 &&
                      m[10 * 1024 + 100] == 'h');
                fill_pattern(m + 32768, 16384, 7);
                CHECK("msync", msync(m, 65536, MS_SYNC) == 0);
                munmap(m, 65536);
        }
        CHECK("read_sees_mapping", pread(fd, buf, 16384, 32768) == 16384 &&
              same_pattern(buf, 16384, 7));
        /* 8 blocks go (an extent block may come or go with the split). */
        long blocks0 = fstat(fd, &st) == 0 ? (long)st.st_blocks : 0;
        CHECK("punch_hole", fallocate(fd, PUNCH_HOLE | KEEP_SIZE, 32768, 8192) == 0 &&
              pread(fd, buf, 16384, 32768) == 16384 && zero(buf, 8192) &&
              same_pattern(buf + 8192, 8192, 7 + 8192 * 13) &&
              fstat(fd, &st) == 0 && st.st_size == 65536 &&
              blocks0 - (long)st.st_blocks >= 14 && blocks0 - (long)st.st_blocks <= 18);
        CHECK_ERR("punch_needs_keep_size", fallocate(fd, PUNCH_HOLE, 0, 1024), EOPNOTSUPP);
        close(fd);
        /* Truncate down mid-block, then up: zeroes. */
        snprintf(path, sizeof path, "%s/a", mnt);
        CHECK("truncate", truncate(path, 5000) == 0 && truncate(path, 9000) == 0);
        fd = open(path, O_RDONLY);
        CHECK("grown_reads_zeroes", fd >= 0 && read(fd, buf, 9000) == 9000 &&
              same_pattern(buf, 5000, 1) && zero(buf + 5000, 4000));
        close(fd);
        CHECK("umount", umount(mnt) == 0);

        /* Mounted again: all there; then e2fsck finds nothing to fix. */
        if (CHECK("mount_again", mount(dev, mnt, "ext4", 0, NULL) == 0)) {
                snprintf(path, sizeof path, "%s/f", mnt);
                fd = open(path, O_RDONLY);
                CHECK("f_again", fd >= 0 && pread(fd, buf, 65536, 0) == 65536 &&
                      memcmp(buf + 10 * 1024 + 100, "hello", 5) == 0 &&
                      zero(buf + 32768, 8192) &&
                      same_pattern(buf + 40960, 8192, 7 + 8192 * 13) && zero(buf + 49152, 16384));
                close(fd);
                snprintf(path, sizeof path, "%s/d/a-long-entry-name-number-059", mnt);
                CHECK("entry_again", stat(path, &st) == 0 && st.st_size == 1);
                snprintf(path, sizeof path, "%s/d/a-long-entry-name-number-007", mnt);
                CHECK("removed_gone", stat(path, &st) != 0 && errno == ENOENT);
                CHECK("umount_again", umount(mnt) == 0);
        }
        char *fsck_argv[] = { (char *)e2fsck, "-fn", dev, NULL };
        CHECK("e2fsck_clean", run(fsck_argv) == 0);
        ioctl(dfd, LOOP_CLR_FD, 0);
        close(dfd);
        unlink(img);
        rmdir(mnt);
        return utest_done();
}
