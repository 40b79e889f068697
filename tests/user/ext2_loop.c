/*
 * ext2_loop.c - ext2 on a loop device, as LTP's device tests use it: a
 * file in /tmp becomes /dev/loopN, Debian's mke2fs makes an ext2 on it,
 * mount(2) mounts it, and files, directories, links, symlinks, a shared
 * mapping, truncation, O_TMPFILE and a full disk are used through the
 * usual calls; after umount and a second mount everything reads back,
 * and after the last umount Debian's e2fsck -fn must find nothing to
 * fix. Needs root and mke2fs/e2fsck (tools/test.py passes them to
 * Mercator with tools/run --with); prints a NOTE and checks nothing
 * without them.
 */
#include "utest.h"
#include "disk_tools.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define EXT2_SUPER_MAGIC        0xEF53

static int file_is(const char *path, size_t n, unsigned seed)
{
        static char buf[65536];
        int fd = open(path, O_RDONLY);
        ssize_t got = fd >= 0 ? read(fd, buf, sizeof buf) : -1;

        if (fd >= 0)
                close(fd);
        return got == (ssize_t)n && same_pattern(buf, n, seed);
}

static int write_file(const char *path, size_t n, unsigned seed)
{
        static char buf[65536];
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

        fill_pattern(buf, n, seed);
        ssize_t put = fd >= 0 ? write(fd, buf, n) : -1;
        if (fd >= 0)
                close(fd);
        return put == (ssize_t)n;
}

/* The names in dir, sorted into one string "a,b,c". */
static void names(const char *dir, char *out, size_t size)
{
        char list[64][64];
        int n = 0;
        DIR *d = opendir(dir);
        struct dirent *e;

        out[0] = '\0';
        if (!d)
                return;
        while ((e = readdir(d)) && n < 64)
                snprintf(list[n++], 64, "%.63s", e->d_name);
        closedir(d);
        for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                        if (strcmp(list[j], list[i]) < 0) {
                                char t[64];
                                memcpy(t, list[i], 64);
                                memcpy(list[i], list[j], 64);
                                memcpy(list[j], t, 64);
                        }
        for (int i = 0; i < n; i++) {
                strncat(out, list[i], size - strlen(out) - 1);
                if (i + 1 < n)
                        strncat(out, ",", size - strlen(out) - 1);
        }
}

/*
 * File m (8192 bytes of pattern 4), read in from the disk since the
 * mount: a shared mapping reads it; a private mapping's reads find its
 * pages cached (Mercator: without the big lock, pgfault_nolock_file),
 * and its writes copy them, the file keeping its bytes (Mercator: the
 * second write's copy without the lock, pgfault_nolock_copy, as the first
 * attaches the area's own object under it).
 */
static void mapped_disk_pages(const char *mnt)
{
        char path[256], was[2];
        int fd;

        snprintf(path, sizeof path, "%s/m", mnt);
        fd = open(path, O_RDONLY);
        char *sh = fd < 0 ? MAP_FAILED
                          : mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
        int ok = sh != MAP_FAILED && same_pattern(sh, 8192, 4);
        long long file0 = proc_field("/proc/vmstat", "pgfault_nolock_file");
        long long copy0 = proc_field("/proc/vmstat", "pgfault_nolock_copy");
        char *pr = fd < 0 ? MAP_FAILED
                          : mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE, fd, 0);

        ok &= pr != MAP_FAILED && same_pattern(pr, 8192, 4);
        long long file1 = proc_field("/proc/vmstat", "pgfault_nolock_file");
        if (ok) {
                was[0] = pr[100];
                was[1] = pr[4096 + 7];
                pr[100] = (char)~was[0];
                pr[4096 + 7] = (char)~was[1];
                ok = pr[100] == (char)~was[0] && pr[4096 + 7] == (char)~was[1] &&
                     sh[100] == was[0] && sh[4096 + 7] == was[1] &&
                     memcmp(pr + 4096 + 8, sh + 4096 + 8, 4096 - 8) == 0;
        }
        long long copy1 = proc_field("/proc/vmstat", "pgfault_nolock_copy");
        CHECK("mapped_disk_pages", ok);
        if (file0 >= 0 && !CHECK("disk_pages_lock_free",
                                 file1 > file0 && copy1 > copy0))
                printf("# lock-free: %lld reads, %lld copies\n",
                       file1 - file0, copy1 - copy0);
        if (pr != MAP_FAILED)
                munmap(pr, 8192);
        if (sh != MAP_FAILED)
                munmap(sh, 8192);
        if (fd >= 0)
                close(fd);
}

int main(void)
{
        const char *img = "/tmp/ext2_loop.img", *mnt = "/tmp/ext2_loop.mnt";
        char dev[32], path[128], buf[8192], list[512];
        const char *mke2fs = tool("mke2fs"), *e2fsck = tool("e2fsck");
        struct stat st, dst;
        struct statfs sf;
        int ctl, n, fd, dfd;

        utest_start("ext2_loop");
        if (geteuid() != 0 || !mke2fs || !e2fsck ||
            (ctl = open("/dev/loop-control", O_RDWR)) < 0) {
                printf("NOTE ext2_loop: needs root, mke2fs, e2fsck and "
                       "/dev/loop-control; nothing checked\n");
                return 0;
        }
        n = ioctl(ctl, LOOP_CTL_GET_FREE);
        close(ctl);
        CHECK("get_free", n >= 0);
        snprintf(dev, sizeof dev, "/dev/loop%d", n);
        fd = open(img, O_CREAT | O_TRUNC | O_RDWR, 0600);
        CHECK("image", fd >= 0 && ftruncate(fd, 4 << 20) == 0);
        dfd = open(dev, O_RDWR);
        CHECK("bind", dfd >= 0 && ioctl(dfd, LOOP_SET_FD, fd) == 0);
        close(fd);
        char *mkfs_argv[] = { (char *)mke2fs, "-q", "-F", "-t", "ext2",
                              "-b", "1024", "-m", "0", dev, NULL };
        CHECK("mke2fs", run(mkfs_argv) == 0);
        mkdir(mnt, 0755);
        CHECK_ERR("mount_wrong_type", mount(dev, mnt, "nosuchfs", 0, NULL), ENODEV);
        CHECK_ERR("mount_not_block", mount(img, mnt, "ext2", 0, NULL), ENOTBLK);
        if (!CHECK("mount", mount(dev, mnt, "ext2", 0, NULL) == 0)) {
                /* Nothing below may write to whatever /tmp is. */
                ioctl(dfd, LOOP_CLR_FD, 0);
                unlink(img);
                return utest_done();
        }
        CHECK("statfs", statfs(mnt, &sf) == 0 && sf.f_type == EXT2_SUPER_MAGIC &&
              sf.f_bsize == 1024 && sf.f_bfree > 3000 && sf.f_bfree <= sf.f_blocks &&
              sf.f_files > 100 && sf.f_namelen == 255);
        CHECK("root_listing", (names(mnt, list, sizeof list),
                               strcmp(list, ".,..,lost+found") == 0));
        CHECK("st_dev_is_the_disk", stat(mnt, &st) == 0 && stat(dev, &dst) == 0 &&
              st.st_dev == dst.st_rdev && st.st_ino == 2);

        /* Files, directories, links. */
        snprintf(path, sizeof path, "%s/a", mnt);
        CHECK("write_a", write_file(path, 20000, 1));
        CHECK("read_a", file_is(path, 20000, 1));
        CHECK("stat_a", stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
              st.st_size == 20000 && st.st_nlink == 1 && st.st_blocks >= 40);
        snprintf(path, sizeof path, "%s/d", mnt);
        CHECK("mkdir", mkdir(path, 0750) == 0);
        CHECK("mkdir_links", stat(path, &st) == 0 && st.st_nlink == 2 &&
              S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750);
        CHECK_ERR("mkdir_exists", mkdir(path, 0750), EEXIST);
        snprintf(path, sizeof path, "%s/d/b", mnt);
        CHECK("write_b", write_file(path, 3000, 2));
        snprintf(path, sizeof path, "%s/s", mnt);
        CHECK("symlink", symlink("a", path) == 0);
        n = (int)readlink(path, buf, sizeof buf);
        CHECK("readlink", n == 1 && buf[0] == 'a');
        char longt[200];
        memset(longt, 'x', sizeof longt - 1);
        longt[sizeof longt - 1] = '\0';
        snprintf(path, sizeof path, "%s/longlink", mnt);
        CHECK("slow_symlink", symlink(longt, path) == 0 &&
              readlink(path, buf, sizeof buf) == (ssize_t)strlen(longt) &&
              memcmp(buf, longt, strlen(longt)) == 0);
        char from[128], to[128];
        snprintf(from, sizeof from, "%s/a", mnt);
        snprintf(to, sizeof to, "%s/h", mnt);
        CHECK("link", link(from, to) == 0 && stat(from, &st) == 0 && st.st_nlink == 2);
        snprintf(from, sizeof from, "%s/d/b", mnt);
        snprintf(to, sizeof to, "%s/c", mnt);
        CHECK("rename", rename(from, to) == 0 && file_is(to, 3000, 2));
        snprintf(path, sizeof path, "%s/d", mnt);
        CHECK("rmdir_empty_again", rmdir(path) == 0);
        CHECK("mkdir_again", mkdir(path, 0755) == 0);
        snprintf(path, sizeof path, "%s/h", mnt);
        CHECK("unlink", unlink(path) == 0);
        CHECK("unlink_links", stat(from, &st) != 0 && stat(mnt, &st) == 0 &&
              (snprintf(path, sizeof path, "%s/a", mnt), stat(path, &st) == 0) &&
              st.st_nlink == 1);
        /* Many names: the directory grows past one block. */
        int many = 1;
        for (int i = 0; i < 80 && many; i++) {
                snprintf(path, sizeof path, "%s/d/entry-number-%03d-with-a-long-name", mnt, i);
                many = write_file(path, (size_t)i, 3);
        }
        CHECK("many_files", many);
        snprintf(path, sizeof path, "%s/d", mnt);
        CHECK("dir_grew", stat(path, &st) == 0 && st.st_size > 1024);
        for (int i = 0; i < 80; i += 2) {
                snprintf(path, sizeof path, "%s/d/entry-number-%03d-with-a-long-name", mnt, i);
                unlink(path);
        }
        snprintf(path, sizeof path, "%s/d", mnt);
        CHECK_ERR("rmdir_not_empty", rmdir(path), ENOTEMPTY);

        /* A shared mapping writes the file; msync puts it on the disk. */
        snprintf(path, sizeof path, "%s/m", mnt);
        fd = open(path, O_CREAT | O_RDWR, 0600);
        CHECK("map_file", fd >= 0 && ftruncate(fd, 8192) == 0);
        char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("mmap", m != MAP_FAILED);
        if (m != MAP_FAILED) {
                fill_pattern(m, 8192, 4);
                CHECK("msync", msync(m, 8192, MS_SYNC) == 0);
                CHECK("read_sees_mapping", pread(fd, buf, 8192, 0) == 8192 &&
                      same_pattern(buf, 8192, 4));
                munmap(m, 8192);
        }
        close(fd);
        /* Truncate: down mid-block, then up again reads zeroes. */
        snprintf(path, sizeof path, "%s/a", mnt);
        CHECK("truncate_down", truncate(path, 5000) == 0);
        CHECK("truncate_up", truncate(path, 9000) == 0);
        fd = open(path, O_RDONLY);
        CHECK("grown_reads_zeroes", fd >= 0 && read(fd, buf, 8192) == 8192 &&
              same_pattern(buf, 5000, 1) && buf[5000] == 0 && buf[8191] == 0);
        close(fd);
        /* An unlinked file lives while open. */
        snprintf(path, sizeof path, "%s/open-unlinked", mnt);
        CHECK("write_open_unlinked", write_file(path, 4000, 5));
        fd = open(path, O_RDONLY);
        CHECK("unlink_open", fd >= 0 && unlink(path) == 0);
        CHECK("read_unlinked", read(fd, buf, 8192) == 4000 && same_pattern(buf, 4000, 5));
        close(fd);
        /* O_TMPFILE. */
        fd = open(mnt, O_TMPFILE | O_RDWR, 0600);
        CHECK("o_tmpfile", fd >= 0 && write(fd, "tmp", 3) == 3 &&
              fstat(fd, &st) == 0 && st.st_nlink == 0);
        if (fd >= 0)
                close(fd);
        CHECK("sync", (sync(), 1));
        CHECK_ERR("umount_busy", (fd = open(mnt, O_RDONLY), umount(mnt)), EBUSY);
        close(fd);
        CHECK("umount", umount(mnt) == 0);

        /* Mounted again: it is all there. */
        if (!CHECK("mount_again", mount(dev, mnt, "ext2", 0, NULL) == 0)) {
                ioctl(dfd, LOOP_CLR_FD, 0);
                unlink(img);
                return utest_done();
        }
        CHECK("root_listing_again", (names(mnt, list, sizeof list),
                strcmp(list, ".,..,a,c,d,longlink,lost+found,m,s") == 0));
        snprintf(path, sizeof path, "%s/c", mnt);
        CHECK("c_again", file_is(path, 3000, 2));
        snprintf(path, sizeof path, "%s/m", mnt);
        CHECK("mapped_again", file_is(path, 8192, 4));
        snprintf(path, sizeof path, "%s/a", mnt);
        fd = open(path, O_RDONLY);
        CHECK("a_again", fd >= 0 && read(fd, buf, 8192) == 8192 &&
              same_pattern(buf, 5000, 1) && buf[5000] == 0);
        close(fd);
        mapped_disk_pages(mnt);
        snprintf(path, sizeof path, "%s/s", mnt);
        CHECK("symlink_again", readlink(path, buf, sizeof buf) == 1 &&
              stat(path, &st) == 0 && st.st_size == 9000);
        snprintf(path, sizeof path, "%s/d/entry-number-041-with-a-long-name", mnt);
        CHECK("entry_again", file_is(path, 41, 3));
        snprintf(path, sizeof path, "%s/d/entry-number-040-with-a-long-name", mnt);
        CHECK("removed_entry_gone", stat(path, &st) != 0 && errno == ENOENT);

        /* A full disk: ENOSPC, and giving the file back frees it all. */
        statfs(mnt, &sf);
        unsigned long free0 = (unsigned long)sf.f_bfree;

        snprintf(path, sizeof path, "%s/filler", mnt);
        fd = open(path, O_CREAT | O_WRONLY, 0600);
        ssize_t w = 0;
        size_t total = 0;
        fill_pattern(buf, sizeof buf, 6);
        while (total < (8u << 20) && (w = write(fd, buf, sizeof buf)) > 0)
                total += (size_t)w;     /* bounded: the disk is 4 MiB */
        CHECK("enospc", w < 0 && errno == ENOSPC);
        CHECK("nearly_full", statfs(mnt, &sf) == 0 && sf.f_bfree < free0 / 10);
        close(fd);
        CHECK("unlink_filler", unlink(path) == 0);
        CHECK("space_back", statfs(mnt, &sf) == 0 && sf.f_bfree == free0);

        /* A shared mapping of a sparse file twice the disk, written page
         * by page: when no block is left the write is SIGBUS (Linux's
         * page_mkwrite), and every page written before it is kept. */
        snprintf(path, sizeof path, "%s/holes", mnt);
        int hfd = open(path, O_CREAT | O_RDWR, 0600);
        volatile long *done = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        char *hm = MAP_FAILED;
        if (hfd >= 0 && ftruncate(hfd, 8 << 20) == 0)
                hm = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
        CHECK("map_sparse", hm != MAP_FAILED && done != MAP_FAILED);
        if (hm != MAP_FAILED && done != MAP_FAILED) {
                int status = 0;
                *done = 0;
                pid_t pid = fork();
                if (pid == 0) {
                        for (long i = 0; i < (8 << 20) / 4096; i++) {
                                if (i % 3 == 1 && hm[i * 4096] != 0)
                                        _exit(3);       /* a read first */
                                hm[i * 4096] = (char)('a' + i % 26);
                                *done = i + 1;
                        }
                        _exit(0);
                }
                waitpid(pid, &status, 0);
                CHECK("sigbus_when_full", WIFSIGNALED(status) &&
                      WTERMSIG(status) == SIGBUS && *done > 100 &&
                      *done < (8 << 20) / 4096);
                CHECK("msync_written_pages", msync(hm, 8 << 20, MS_SYNC) == 0);
                int kept = 1;
                for (long i = 0; i < *done && kept; i++) {
                        char c = 0;
                        kept = pread(hfd, &c, 1, i * 4096) == 1 &&
                               c == (char)('a' + i % 26);
                }
                CHECK("written_pages_kept", kept);
                munmap(hm, 8 << 20);
        }
        if (hfd >= 0)
                close(hfd);
        CHECK("unlink_holes", unlink(path) == 0);
        CHECK("space_back_again", statfs(mnt, &sf) == 0 && sf.f_bfree == free0);
        CHECK("umount_again", umount(mnt) == 0);
        char *fsck_argv[] = { (char *)e2fsck, "-fn", dev, NULL };
        CHECK("e2fsck_clean", run(fsck_argv) == 0);
        CHECK("detach", ioctl(dfd, LOOP_CLR_FD, 0) == 0);
        close(dfd);
        rmdir(mnt);
        unlink(img);
        return utest_done();
}
