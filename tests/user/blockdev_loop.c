/*
 * blockdev_loop.c - block device files and loop devices, as Linux has
 * them: /dev/loop-control finds a free loop device, LOOP_SET_FD binds it
 * to a regular file, the device then reads and writes that file's bytes
 * at any byte offset (both ways: the file sees the device's writes and
 * the device the file's), its size is the file's (BLKGETSIZE64,
 * BLKGETSIZE, lseek SEEK_END), a read at the end gives 0 and a write
 * there ENOSPC; LOOP_SET_STATUS64/GET_STATUS64 keep the name and flags,
 * LOOP_CLR_FD unbinds it (ENXIO when unbound), and a device held by
 * another descriptor is unbound at the last close (autoclear). Needs
 * root (on Linux too: a loop device of the host is used briefly).
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Linux's numbers (linux/fs.h, linux/loop.h; musl has neither). */
#define BLKGETSIZE              0x1260
#define BLKFLSBUF               0x1261
#define BLKSSZGET               0x1268
#define BLKGETSIZE64            _IOR(0x12, 114, size_t)
#define LOOP_SET_FD             0x4C00
#define LOOP_CLR_FD             0x4C01
#define LOOP_SET_STATUS64       0x4C04
#define LOOP_GET_STATUS64       0x4C05
#define LOOP_CTL_GET_FREE       0x4C82
#define LO_FLAGS_READ_ONLY      1
#define LO_FLAGS_AUTOCLEAR      4

struct loop_info64 {
        uint64_t lo_device, lo_inode, lo_rdevice, lo_offset, lo_sizelimit;
        uint32_t lo_number, lo_encrypt_type, lo_encrypt_key_size, lo_flags;
        uint8_t  lo_file_name[64];
        uint8_t  lo_crypt_name[64];
        uint8_t  lo_encrypt_key[32];
        uint64_t lo_init[2];
};

#define FILE_BYTES      (1024 * 1024 + 3 * 512)

static int status64(int fd, struct loop_info64 *info)
{
        memset(info, 0, sizeof *info);
        return ioctl(fd, LOOP_GET_STATUS64, info);
}

int main(void)
{
        char path[] = "/tmp/blockdev_loop.XXXXXX";
        char dev[64], buf[4096], back[4096];
        struct loop_info64 info;
        struct stat st, fst;
        uint64_t size64 = 1;
        unsigned long sectors = 1;
        int ctl, fd, dfd, dfd2, n, ssz = 0, ok;

        utest_start("blockdev_loop");
        if (geteuid() != 0) {
                printf("NOTE blockdev_loop: not root; nothing checked\n");
                return 0;
        }
        ctl = open("/dev/loop-control", O_RDWR);
        if (ctl < 0 && errno == ENOENT) {
                printf("NOTE blockdev_loop: no /dev/loop-control; nothing checked\n");
                return 0;
        }
        CHECK("open_loop_control", ctl >= 0);
        CHECK("loop_control_stat", fstat(ctl, &st) == 0 && S_ISCHR(st.st_mode) &&
              major(st.st_rdev) == 10 && minor(st.st_rdev) == 237);
        CHECK_ERR("loop_control_read", read(ctl, buf, 1), EINVAL);
        n = ioctl(ctl, LOOP_CTL_GET_FREE);
        CHECK("get_free", n >= 0);
        close(ctl);
        snprintf(dev, sizeof dev, "/dev/loop%d", n);
        CHECK("node_is_block", stat(dev, &st) == 0 && S_ISBLK(st.st_mode) &&
              major(st.st_rdev) == 7 && (int)minor(st.st_rdev) == n);

        fd = mkstemp(path);
        CHECK("mkstemp", fd >= 0);
        for (int i = 0; i < (int)sizeof buf; i++)
                buf[i] = (char)(i * 7 + 1);
        for (off_t o = 0; o < FILE_BYTES; o += (off_t)sizeof buf) {
                size_t k = (size_t)(FILE_BYTES - o) < sizeof buf ? (size_t)(FILE_BYTES - o) : sizeof buf;
                if (pwrite(fd, buf, k, o) != (ssize_t)k)
                        break;
        }
        CHECK("file_size", fstat(fd, &fst) == 0 && fst.st_size == FILE_BYTES);

        dfd = open(dev, O_RDWR);
        CHECK("open_device", dfd >= 0);
        CHECK("unbound_size", ioctl(dfd, BLKGETSIZE64, &size64) == 0 && size64 == 0);
        CHECK_ERR("unbound_status", status64(dfd, &info), ENXIO);
        CHECK_ERR("unbound_clr", ioctl(dfd, LOOP_CLR_FD, 0), ENXIO);
        CHECK("unbound_read_eof", read(dfd, back, 16) == 0);
        int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
        CHECK_ERR("bind_directory", ioctl(dfd, LOOP_SET_FD, dir), EINVAL);
        close(dir);
        CHECK_ERR("bind_bad_fd", ioctl(dfd, LOOP_SET_FD, 999), EBADF);

        CHECK("bind", ioctl(dfd, LOOP_SET_FD, fd) == 0);
        CHECK_ERR("bind_twice", ioctl(dfd, LOOP_SET_FD, fd), EBUSY);
        CHECK("size64", ioctl(dfd, BLKGETSIZE64, &size64) == 0 &&
              size64 == FILE_BYTES);
        CHECK("getsize_sectors", ioctl(dfd, BLKGETSIZE, &sectors) == 0 &&
              sectors == FILE_BYTES / 512);
        CHECK("sector_size", ioctl(dfd, BLKSSZGET, &ssz) == 0 && ssz == 512);
        CHECK("flsbuf", ioctl(dfd, BLKFLSBUF, 0) == 0);
        CHECK("seek_end", lseek(dfd, 0, SEEK_END) == FILE_BYTES);
        CHECK("fstat_block", fstat(dfd, &st) == 0 && S_ISBLK(st.st_mode) &&
              major(st.st_rdev) == 7 && st.st_size == 0);

        memset(&info, 0, sizeof info);
        strcpy((char *)info.lo_file_name, "blockdev_loop-backing");
        info.lo_flags = LO_FLAGS_AUTOCLEAR;
        CHECK("set_status64", ioctl(dfd, LOOP_SET_STATUS64, &info) == 0);
        CHECK("get_status64", status64(dfd, &info) == 0 &&
              info.lo_number == (uint32_t)n && info.lo_inode == fst.st_ino &&
              info.lo_offset == 0 &&
              strcmp((char *)info.lo_file_name, "blockdev_loop-backing") == 0 &&
              (info.lo_flags & LO_FLAGS_AUTOCLEAR) &&
              !(info.lo_flags & LO_FLAGS_READ_ONLY));
        info.lo_flags = 0;
        CHECK("clear_autoclear", ioctl(dfd, LOOP_SET_STATUS64, &info) == 0 &&
              status64(dfd, &info) == 0 && !(info.lo_flags & LO_FLAGS_AUTOCLEAR));

        /* The device reads the file's bytes, at odd offsets too. */
        ok = pread(dfd, back, 1000, 4096 + 300) == 1000;
        for (int i = 0; ok && i < 1000; i++)
                ok = back[i] == buf[300 + i];
        CHECK("read_through_device", ok);
        /* A write to the device, not sector aligned, reaches the file. */
        memset(back, 'Z', 1500);
        CHECK("write_device", pwrite(dfd, back, 1500, 8192 + 100) == 1500);
        CHECK("fsync_device", fsync(dfd) == 0);
        memset(buf, 0, sizeof buf);
        ok = pread(fd, buf, 1700, 8192) == 1700;
        for (int i = 0; ok && i < 1700; i++)
                ok = buf[i] == (i >= 100 && i < 1600 ? 'Z' : (char)(i * 7 + 1));
        CHECK("file_sees_device_write", ok);
        /* A write to the file is seen by the device. */
        CHECK("write_file", pwrite(fd, "hello", 5, FILE_BYTES - 5) == 5);
        CHECK("device_sees_file_write", pread(dfd, back, 5, FILE_BYTES - 5) == 5 &&
              memcmp(back, "hello", 5) == 0);
        /* The end: short read, then 0; writing there is ENOSPC. */
        CHECK("short_read_at_end", pread(dfd, back, 100, FILE_BYTES - 40) == 40);
        CHECK("read_past_end", pread(dfd, back, 100, FILE_BYTES) == 0);
        CHECK("short_write_at_end", pwrite(dfd, back, 100, FILE_BYTES - 10) == 10);
        CHECK_ERR("write_past_end", pwrite(dfd, back, 100, FILE_BYTES), ENOSPC);
        CHECK("read_moves_offset", lseek(dfd, 512, SEEK_SET) == 512 &&
              read(dfd, back, 10) == 10 && lseek(dfd, 0, SEEK_CUR) == 522);

        /* Held by another descriptor: CLR_FD marks it, the last close
         * unbinds it. */
        dfd2 = open(dev, O_RDONLY);
        CHECK("open_again", dfd2 >= 0);
        CHECK("clr_while_held", ioctl(dfd, LOOP_CLR_FD, 0) == 0);
        CHECK("still_bound_while_held", status64(dfd2, &info) == 0 &&
              (info.lo_flags & LO_FLAGS_AUTOCLEAR));
        close(dfd2);
        close(dfd);
        ok = 0;
        for (int i = 0; i < 40 && !ok; i++) {
                dfd = open(dev, O_RDONLY);
                ok = dfd >= 0 && status64(dfd, &info) < 0 && errno == ENXIO;
                if (dfd >= 0)
                        close(dfd);
                if (!ok)
                        usleep(25000);
        }
        CHECK("unbound_at_last_close", ok);

        /* Bind again, read-only, and unbind at once. */
        dfd = open(dev, O_RDONLY);
        CHECK("bind_read_only", dfd >= 0 && ioctl(dfd, LOOP_SET_FD, fd) == 0 &&
              status64(dfd, &info) == 0 && (info.lo_flags & LO_FLAGS_READ_ONLY));
        CHECK("clr", ioctl(dfd, LOOP_CLR_FD, 0) == 0);
        CHECK_ERR("clr_again", ioctl(dfd, LOOP_CLR_FD, 0), ENXIO);
        close(dfd);
        close(fd);
        unlink(path);
        return utest_done();
}
