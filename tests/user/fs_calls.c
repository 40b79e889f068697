/*
 * fs_calls.c - the file-system calls and their errors, as Linux gives
 * them: open flags, names (mkdir, unlink, rename, link, symlink), path
 * resolution (*at, AT_FDCWD, AT_EMPTY_PATH, symlink loops, ENAMETOOLONG,
 * ENOTDIR, "." and ".."), attributes (stat, statx, chmod, chown, utimens),
 * sizes, directories (getdents64 d_type, getcwd, fchdir), umask, fcntl.
 * Works in a fresh directory under /tmp (a tmpfs on Mercator).
 */
#include "utest.h"
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE  2
#endif

/* Linux's struct statx (older musl lacks it). */
struct kstatx {
        uint32_t stx_mask, stx_blksize;
        uint64_t stx_attributes;
        uint32_t stx_nlink, stx_uid, stx_gid;
        uint16_t stx_mode, pad1;
        uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
        struct { int64_t tv_sec; uint32_t tv_nsec; int32_t pad; } ts[4];
        uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
        uint64_t spare[14];
};
#define KSTATX_BASIC_STATS 0x7ffU

static long kstatx(int dfd, const char *path, int flags, unsigned mask,
                   struct kstatx *sx)
{
        return syscall(SYS_statx, dfd, path, flags, mask, sx);
}

static char base[64];

static int exists(const char *p)
{
        struct stat st;
        return lstat(p, &st) == 0;
}

static void opens(void)
{
        int fd = open("f", O_CREAT | O_EXCL | O_RDWR, 0640);
        struct stat st;

        CHECK("creat_excl", fd >= 0);
        CHECK("creat_mode_umask", fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0640 &&
              S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_size == 0);
        CHECK_ERR("excl_exists", open("f", O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST);
        CHECK("write_read", write(fd, "hello world", 11) == 11 &&
              lseek(fd, 0, SEEK_SET) == 0);
        char buf[32] = { 0 };
        CHECK("read_back", read(fd, buf, sizeof buf) == 11 && strcmp(buf, "hello world") == 0);
        CHECK("size_after_write", fstat(fd, &st) == 0 && st.st_size == 11);
        CHECK("pwrite_keeps_offset", pwrite(fd, "HELLO", 5, 0) == 5 &&
              lseek(fd, 0, SEEK_CUR) == 11);
        CHECK("pread_sees_pwrite", pread(fd, buf, 5, 0) == 5 && memcmp(buf, "HELLO", 5) == 0);
        CHECK("seek_end", lseek(fd, 0, SEEK_END) == 11);
        CHECK("seek_past_end_write_hole", lseek(fd, 8192, SEEK_SET) == 8192 &&
              write(fd, "x", 1) == 1 && fstat(fd, &st) == 0 && st.st_size == 8193);
        memset(buf, 1, sizeof buf);
        CHECK("hole_reads_zero", pread(fd, buf, 16, 4096) == 16 && buf[0] == 0 && buf[15] == 0);
        CHECK("seek_data", lseek(fd, 0, SEEK_DATA) == 0);
        CHECK_ERR("seek_data_past_end", lseek(fd, 9000, SEEK_DATA), ENXIO);
        CHECK("seek_hole_at_end", lseek(fd, 8192, SEEK_HOLE) == 8193);
        CHECK_ERR("seek_negative", lseek(fd, -1, SEEK_SET), EINVAL);
        CHECK_ERR("seek_bad_whence", lseek(fd, 0, 17), EINVAL);
        CHECK("ftruncate_shrink", ftruncate(fd, 3) == 0 && fstat(fd, &st) == 0 &&
              st.st_size == 3);
        CHECK("ftruncate_grow_zeroes", ftruncate(fd, 100) == 0 && pread(fd, buf, 10, 0) == 10 &&
              memcmp(buf, "HEL\0\0\0\0", 7) == 0);
        CHECK_ERR("ftruncate_negative", ftruncate(fd, -1), EINVAL);
        close(fd);

        fd = open("f", O_RDONLY);
        CHECK_ERR("write_on_rdonly", write(fd, "x", 1), EBADF);
        CHECK_ERR("ftruncate_rdonly", ftruncate(fd, 0), EINVAL);
        close(fd);
        fd = open("f", O_WRONLY | O_TRUNC);
        CHECK("o_trunc", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
        CHECK_ERR("read_on_wronly", read(fd, buf, 1), EBADF);
        close(fd);
        fd = open("f", O_WRONLY | O_APPEND);
        CHECK("o_append", write(fd, "ab", 2) == 2 && lseek(fd, 0, SEEK_SET) == 0 &&
              write(fd, "cd", 2) == 2 && fstat(fd, &st) == 0 && st.st_size == 4);
        close(fd);
        CHECK_ERR("open_missing", open("nope", O_RDONLY), ENOENT);
        CHECK_ERR("open_dir_for_write", open(".", O_WRONLY), EISDIR);
        CHECK_ERR("o_directory_on_file", open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
        CHECK_ERR("file_as_dir", open("f/x", O_RDONLY), ENOTDIR);
        CHECK_ERR("creat_in_missing_dir", open("nodir/x", O_CREAT | O_RDWR, 0600), ENOENT);
        CHECK_ERR("creat_trailing_slash", open("newfile/", O_CREAT | O_RDWR, 0600), EISDIR);
        fd = open("f", O_RDONLY | O_CLOEXEC);
        CHECK("o_cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
        CHECK("fioclex", ioctl(fd, FIONCLEX) == 0 && fcntl(fd, F_GETFD) == 0 &&
              ioctl(fd, FIOCLEX) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
        int n = -1;
        CHECK("fionread", ioctl(fd, FIONREAD, &n) == 0 && n == 4);
        close(fd);
        fd = open("f", O_PATH);
        CHECK("o_path_fstat", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 4);
        CHECK_ERR("o_path_read", read(fd, buf, 1), EBADF);
        close(fd);
        fd = creat("c", 0600);
        CHECK("creat_call", fd >= 0 && (fcntl(fd, F_GETFL) & ~0100000) == O_WRONLY);
        CHECK("f_setfl_append", fcntl(fd, F_SETFL, O_APPEND) == 0 &&
              (fcntl(fd, F_GETFL) & O_APPEND));
        close(fd);
        fd = open(".", O_TMPFILE | O_RDWR, 0600);
        CHECK("o_tmpfile", fd >= 0 && write(fd, "t", 1) == 1 && fstat(fd, &st) == 0 &&
              st.st_nlink == 0);
        close(fd);
        CHECK_ERR("o_tmpfile_rdonly", open(".", O_TMPFILE | O_RDONLY, 0600), EINVAL);
        fd = open(".", O_TMPFILE | O_RDWR, 0600);
        CHECK("o_tmpfile_linkat", fd >= 0 && write(fd, "tmp", 3) == 3 &&
              linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH) == 0 &&
              stat("named", &st) == 0 && st.st_size == 3 && st.st_nlink == 1);
        close(fd);
        unlink("named");
        fd = open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
        CHECK_ERR("o_tmpfile_excl_not_linkable",
                  linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH), ENOENT);
        close(fd);
        fd = open("gone", O_CREAT | O_RDWR, 0600);
        unlink("gone");
        CHECK_ERR("unlinked_not_linkable",
                  linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH), ENOENT);
        close(fd);
}

static void names(void)
{
        struct stat st, st2;

        CHECK("mkdir", mkdir("d", 0755) == 0 && stat("d", &st) == 0 && S_ISDIR(st.st_mode) &&
              st.st_nlink == 2);
        CHECK_ERR("mkdir_exists", mkdir("d", 0755), EEXIST);
        CHECK_ERR("mkdir_missing_parent", mkdir("x/y", 0755), ENOENT);
        CHECK("mkdir_sub_links", mkdir("d/e", 0700) == 0 && stat("d", &st) == 0 &&
              st.st_nlink == 3);
        CHECK_ERR("rmdir_not_empty", rmdir("d"), ENOTEMPTY);
        CHECK_ERR("rmdir_file", rmdir("f"), ENOTDIR);
        CHECK_ERR("unlink_dir", unlink("d"), EISDIR);
        CHECK_ERR("rmdir_dot", rmdir("d/e/."), EINVAL);
        CHECK_ERR("unlinkat_bad_flag", unlinkat(AT_FDCWD, "f", 0x1), EINVAL);
        CHECK("unlinkat_removedir", unlinkat(AT_FDCWD, "d/e", AT_REMOVEDIR) == 0 &&
              !exists("d/e"));
        CHECK("link", link("f", "g") == 0 && stat("f", &st) == 0 && st.st_nlink == 2 &&
              stat("g", &st2) == 0 && st.st_ino == st2.st_ino);
        CHECK_ERR("link_exists", link("f", "g"), EEXIST);
        CHECK_ERR("link_dir", link("d", "dl"), EPERM);
        CHECK("unlink_link", unlink("g") == 0 && stat("f", &st) == 0 && st.st_nlink == 1);
        CHECK("symlink", symlink("f", "s") == 0 && lstat("s", &st) == 0 && S_ISLNK(st.st_mode) &&
              st.st_size == 1);
        char buf[64] = { 0 };
        CHECK("readlink", readlink("s", buf, sizeof buf) == 1 && buf[0] == 'f');
#ifdef SYS_readlink
        CHECK_ERR("readlink_zero_buffer", syscall(SYS_readlink, "s", buf, 0), EINVAL);
#else   /* asm-generic has only readlinkat */
        CHECK_ERR("readlink_zero_buffer",
                  syscall(SYS_readlinkat, AT_FDCWD, "s", buf, 0), EINVAL);
#endif
        CHECK_ERR("readlink_not_link", readlink("f", buf, sizeof buf), EINVAL);
        CHECK("stat_follows", stat("s", &st) == 0 && S_ISREG(st.st_mode));
        CHECK("dangling", symlink("missing", "dang") == 0 && stat("dang", &st) == -1 &&
              errno == ENOENT && lstat("dang", &st) == 0);
        CHECK("loop", symlink("loop2", "loop1") == 0 && symlink("loop1", "loop2") == 0 &&
              stat("loop1", &st) == -1 && errno == ELOOP);
        CHECK_ERR("o_nofollow", open("s", O_RDONLY | O_NOFOLLOW), ELOOP);
        CHECK("symlink_dir_slash", symlink("d", "sd") == 0 && stat("sd/", &st) == 0 &&
              S_ISDIR(st.st_mode));
        CHECK("rename", rename("f", "f2") == 0 && !exists("f") && exists("f2"));
        CHECK("rename_replace", open("r", O_CREAT | O_RDWR, 0600) >= 0 &&
              rename("r", "f2") == 0 && stat("f2", &st) == 0 && st.st_size == 0 && !exists("r"));
        CHECK_ERR("rename_dir_onto_file", rename("d", "f2"), ENOTDIR);
        CHECK("mkdir_2", mkdir("d2", 0755) == 0 && mkdir("d2/sub", 0755) == 0);
        CHECK_ERR("rename_file_onto_dir", rename("f2", "d"), EISDIR);
        CHECK_ERR("rename_onto_nonempty", rename("d", "d2"), ENOTEMPTY);
        CHECK_ERR("rename_into_itself", rename("d2", "d2/sub/x"), EINVAL);
        CHECK("rename_dir_moves_dotdot", rename("d", "d2/moved") == 0 &&
              stat("d2/moved/..", &st) == 0 && stat("d2", &st2) == 0 && st.st_ino == st2.st_ino);
        CHECK_ERR("noreplace", syscall(SYS_renameat2, AT_FDCWD, "f2", AT_FDCWD, "s", RENAME_NOREPLACE),
                  EEXIST);
        CHECK("exchange", syscall(SYS_renameat2, AT_FDCWD, "f2", AT_FDCWD, "d2", RENAME_EXCHANGE) == 0 &&
              stat("f2", &st) == 0 && S_ISDIR(st.st_mode) && stat("d2", &st) == 0 &&
              S_ISREG(st.st_mode));
        CHECK_ERR("exchange_missing", syscall(SYS_renameat2, AT_FDCWD, "f2", AT_FDCWD, "zz",
                                              RENAME_EXCHANGE), ENOENT);
        CHECK_ERR("renameat2_bad_flags", syscall(SYS_renameat2, AT_FDCWD, "f2", AT_FDCWD, "zz",
                                                 RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
        CHECK("mkfifo", mkfifo("fifo", 0600) == 0 && stat("fifo", &st) == 0 &&
              S_ISFIFO(st.st_mode));
        CHECK_ERR("mknod_bad_type", mknod("bad", 0170000 | 0600, 0), EINVAL);
}

static void paths(void)
{
        struct stat st, st2;
        char buf[PATH_MAX + 10];
        int dfd = open("f2", O_RDONLY | O_DIRECTORY);

        CHECK("openat_dirfd", dfd >= 0 && mkdirat(dfd, "in", 0700) == 0 &&
              fstatat(dfd, "in", &st, 0) == 0 && S_ISDIR(st.st_mode));
        CHECK("at_fdcwd_32bit", syscall(SYS_newfstatat, 0x00000000ffffff9cL, "f2", &st, 0) == 0);
        CHECK("at_empty_path", fstatat(dfd, "", &st, AT_EMPTY_PATH) == 0 && S_ISDIR(st.st_mode));
        CHECK_ERR("empty_path_without_flag", fstatat(dfd, "", &st, 0), ENOENT);
        CHECK("at_symlink_nofollow", fstatat(AT_FDCWD, "s", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
              S_ISLNK(st.st_mode));
        CHECK_ERR("bad_dirfd", fstatat(999, "x", &st, 0), EBADF);
        int ffd = open("d2", O_RDONLY);
        CHECK_ERR("file_as_dirfd", fstatat(ffd, "x", &st, 0), ENOTDIR);
        CHECK("absolute_ignores_dirfd", fstatat(ffd, "/", &st, 0) == 0);
        close(ffd);
        CHECK("dotdot_root", stat("/..", &st) == 0 && stat("/", &st2) == 0 &&
              st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
        CHECK("dot_slashes", stat(".//./f2//in/.", &st) == 0 && S_ISDIR(st.st_mode));
        CHECK("dotdot_across_mount", stat("/tmp/..", &st) == 0 && stat("/", &st2) == 0 &&
              st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
        memset(buf, 'a', 256);
        buf[256] = 0;
        CHECK_ERR("name_too_long", stat(buf, &st), ENAMETOOLONG);
        memset(buf, 'a', sizeof buf);
        for (int i = 1; i < PATH_MAX + 5; i += 2)
                buf[i] = '/';
        buf[PATH_MAX + 5] = 0;
        CHECK_ERR("path_too_long", stat(buf, &st), ENAMETOOLONG);
        CHECK_ERR("missing_component", stat("nope/x", &st), ENOENT);
        CHECK_ERR("bad_pointer", stat((char *)1, &st), EFAULT);
        CHECK("fchdir_getcwd", fchdir(dfd) == 0 && getcwd(buf, sizeof buf) &&
              strncmp(buf, base, strlen(base)) == 0 && strcmp(buf + strlen(base), "/f2") == 0);
        CHECK("chdir_dotdot", chdir("..") == 0 && getcwd(buf, sizeof buf) &&
              strcmp(buf, base) == 0);
        CHECK_ERR("chdir_file", chdir("d2"), ENOTDIR);
        CHECK_ERR("getcwd_erange", syscall(SYS_getcwd, buf, 2), ERANGE);
        close(dfd);
}

static void attributes(void)
{
        struct stat st;
        struct timespec ts[2] = { { 1000000000, 5 }, { 1200000000, 7 } };

        CHECK("chmod", chmod("d2", 0604) == 0 && stat("d2", &st) == 0 &&
              (st.st_mode & 07777) == 0604);
        int fd = open("d2", O_RDWR);
        CHECK("fchmod", fchmod(fd, 0600) == 0 && fstat(fd, &st) == 0 &&
              (st.st_mode & 07777) == 0600);
        CHECK("chown", chown("d2", 12, 34) == 0 && stat("d2", &st) == 0 &&
              st.st_uid == 12 && st.st_gid == 34);
        CHECK("fchown_keep", fchown(fd, -1, 56) == 0 && fstat(fd, &st) == 0 &&
              st.st_uid == 12 && st.st_gid == 56);
        CHECK("lchown", lchown("s", 7, 8) == 0 && lstat("s", &st) == 0 && st.st_uid == 7);
        CHECK("utimensat", utimensat(AT_FDCWD, "d2", ts, 0) == 0 && stat("d2", &st) == 0 &&
              st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1200000000 &&
              st.st_mtim.tv_nsec == 7);
        struct timespec omit[2] = { { 0, UTIME_OMIT }, { 5, 0 } };
        CHECK("futimens_omit", futimens(fd, omit) == 0 && fstat(fd, &st) == 0 &&
              st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 5);
        struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
        CHECK_ERR("utimensat_bad_nsec", utimensat(AT_FDCWD, "d2", bad, 0), EINVAL);
        CHECK("access_ok", access("d2", R_OK | W_OK) == 0 && access("d2", F_OK) == 0);
        CHECK_ERR("access_x_root_no_bits", access("d2", X_OK), EACCES);
        CHECK_ERR("access_bad_mode", access("d2", 8), EINVAL);
        CHECK_ERR("access_missing", access("zz", F_OK), ENOENT);
        CHECK("faccessat_dirs_searchable", faccessat(AT_FDCWD, "f2", X_OK, 0) == 0);
        struct kstatx sx;
        CHECK("statx", kstatx(AT_FDCWD, "d2", 0, KSTATX_BASIC_STATS, &sx) == 0 &&
              sx.stx_uid == 12 && (sx.stx_mode & 07777) == 0600 && sx.stx_size == 0 &&
              (sx.stx_mask & KSTATX_BASIC_STATS) == KSTATX_BASIC_STATS);
        CHECK("statx_empty_path", kstatx(fd, "", AT_EMPTY_PATH, KSTATX_BASIC_STATS, &sx) == 0 &&
              sx.stx_uid == 12);
        CHECK_ERR("statx_bad_flags", kstatx(AT_FDCWD, "d2", 0x40000000, KSTATX_BASIC_STATS, &sx),
                  EINVAL);
        CHECK("fallocate", fallocate(fd, 0, 0, 10000) == 0 && fstat(fd, &st) == 0 &&
              st.st_size == 10000);
        CHECK("fallocate_keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 20000) == 0 &&
              fstat(fd, &st) == 0 && st.st_size == 10000);
        CHECK_ERR("fallocate_bad_len", fallocate(fd, 0, 0, 0), EINVAL);
        CHECK("truncate_path", truncate("d2", 5) == 0 && stat("d2", &st) == 0 && st.st_size == 5);
        CHECK_ERR("truncate_dir", truncate("f2", 0), EISDIR);
        CHECK("fsync_family", fsync(fd) == 0 && fdatasync(fd) == 0 && syncfs(fd) == 0);
        CHECK_ERR("fsync_bad_fd", fsync(999), EBADF);
        struct statfs sf;
        struct statfs sf2;
        CHECK("statfs_tmpfs", statfs("/dev/shm", &sf) == 0 && sf.f_type == 0x01021994 &&
              sf.f_bsize == 4096 && sf.f_namelen == 255);
        CHECK("fstatfs", fstatfs(fd, &sf) == 0 && statfs(".", &sf2) == 0 &&
              sf.f_type == sf2.f_type);
        CHECK_ERR("statfs_missing", statfs("zz", &sf), ENOENT);
        close(fd);
        mode_t old = umask(077);
        fd = open("um", O_CREAT | O_RDWR, 0666);
        CHECK("umask_applied", fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600);
        CHECK("umask_returns_old", umask(old) == 077);
        close(fd);
}

static void directories(void)
{
        char buf[4096];
        int fd = open(".", O_RDONLY | O_DIRECTORY);
        int seen_dir = 0, seen_reg = 0, seen_lnk = 0, seen_fifo = 0, dots = 0;
        long n;

        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
                for (long off = 0; off < n;) {
                        struct dirent64 *d = (struct dirent64 *)(buf + off);
                        if (!strcmp(d->d_name, "f2"))
                                seen_dir = d->d_type == DT_DIR;
                        if (!strcmp(d->d_name, "d2"))
                                seen_reg = d->d_type == DT_REG;
                        if (!strcmp(d->d_name, "s"))
                                seen_lnk = d->d_type == DT_LNK;
                        if (!strcmp(d->d_name, "fifo"))
                                seen_fifo = d->d_type == DT_FIFO;
                        if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
                                dots++;
                        off += d->d_reclen;
                }
        }
        CHECK("getdents_types", seen_dir && seen_reg && seen_lnk && seen_fifo && dots == 2);
        CHECK_ERR("getdents_small_buffer", (lseek(fd, 0, SEEK_SET),
                  syscall(SYS_getdents64, fd, buf, 8)), EINVAL);
        close(fd);
        fd = open("d2", O_RDONLY);
        CHECK_ERR("getdents_file", syscall(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR);
        close(fd);
        CHECK("dev_null", (fd = open("/dev/null", O_RDWR)) >= 0 && write(fd, "x", 1) == 1 &&
              read(fd, buf, 1) == 0);
        close(fd);
        CHECK("dev_zero", (fd = open("/dev/zero", O_RDONLY)) >= 0 && (buf[0] = 1) &&
              read(fd, buf, 8) == 8 && buf[0] == 0);
        close(fd);
        fd = open("/dev/full", O_WRONLY);
        CHECK_ERR("dev_full", write(fd, "x", 1), ENOSPC);
        close(fd);
        struct stat st;
        CHECK("dev_null_rdev", stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) &&
              st.st_rdev == makedev(1, 3));
        CHECK("dev_urandom", (fd = open("/dev/urandom", O_RDONLY)) >= 0 && read(fd, buf, 64) == 64);
        close(fd);
        CHECK("dev_fd_link", readlink("/dev/stdin", buf, sizeof buf) == 15 &&
              memcmp(buf, "/proc/self/fd/0", 15) == 0);
}

/* FIFOs by name: open waits for the other end; O_NONBLOCK rules. */
static void fifos(void)
{
        char buf[8] = { 0 };
        int st;

        CHECK("mkfifo2", mkfifo("ff", 0600) == 0);
        CHECK("fifo_nonblock_reader_opens", (st = open("ff", O_RDONLY | O_NONBLOCK)) >= 0);
        close(st);
        CHECK_ERR("fifo_nonblock_writer_enxio", open("ff", O_WRONLY | O_NONBLOCK), ENXIO);
        pid_t pid = fork();
        if (pid == 0) {
                int w = open("ff", O_WRONLY);   /* waits for the reader */
                _exit(w >= 0 && write(w, "fifo", 4) == 4 ? 0 : 1);
        }
        int r = open("ff", O_RDONLY);           /* waits for the writer */
        CHECK("fifo_open_pairs", r >= 0);
        long n = 0, k;
        while (n < 4 && (k = read(r, buf + n, 4 - n)) > 0)
                n += k;
        CHECK("fifo_data", n == 4 && memcmp(buf, "fifo", 4) == 0);
        waitpid(pid, &st, 0);
        CHECK("fifo_writer_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK("fifo_eof_after_writer", read(r, buf, 1) == 0);
        close(r);
        /* O_RDWR: both ends at once, without waiting (Linux's fifo_open). */
        int rw = open("ff", O_RDWR);
        CHECK("fifo_rdwr_writes_and_reads", rw >= 0 && write(rw, "both", 4) == 4 &&
              read(rw, buf, 4) == 4 && memcmp(buf, "both", 4) == 0);
        int w2 = open("ff", O_WRONLY | O_NONBLOCK);     /* rw is a reader */
        CHECK("fifo_rdwr_counts_as_reader", w2 >= 0 && write(w2, "x", 1) == 1 &&
              read(rw, buf, 1) == 1 && buf[0] == 'x');
        close(w2);
        close(rw);
        unlink("ff");
}

/* access() checks with the real ids, AT_EACCESS with the effective. */
static void access_ids(void)
{
        int fd = open("secret", O_CREAT | O_WRONLY, 0600);
        int st;

        close(fd);
        pid_t pid = fork();
        if (pid == 0) {
                if (setresuid(1000, 0, 0) != 0)
                        _exit(10);
                int a = access("secret", R_OK) == -1 && errno == EACCES;
                int b = faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS) == 0;
                int c = open("secret", O_RDONLY) >= 0;  /* fsuid is 0 */
                _exit(a && b && c ? 0 : 1 + a + 2 * b + 4 * c);
        }
        waitpid(pid, &st, 0);
        CHECK("access_uses_real_uid", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        unlink("secret");
}

/* A set-group-ID directory: what is made in it takes the directory's
 * group, a subdirectory the bit as well, and a group-executable
 * set-group-ID file made by a caller outside that group and without
 * CAP_FSETID loses the bit (Linux's inode_init_owner; LTP open10). */
static void setgid_dirs(void)
{
        struct stat st;
        int fd, s;

        CHECK("sgid_dir", mkdir("sg", 0777) == 0 && chown("sg", 0, 4242) == 0 &&
              chmod("sg", 02777) == 0);
        fd = open("sg/f", O_CREAT | O_RDWR, 0644);
        CHECK("sgid_file_takes_dir_group", fd >= 0 && fstat(fd, &st) == 0 &&
              st.st_gid == 4242 && !(st.st_mode & S_ISGID));
        close(fd);
        CHECK("sgid_subdir_inherits", mkdir("sg/d", 0755) == 0 && stat("sg/d", &st) == 0 &&
              st.st_gid == 4242 && (st.st_mode & S_ISGID));
        fd = open("sg/root_sgid", O_CREAT | O_RDWR, 02755);
        CHECK("sgid_file_kept_with_cap_fsetid", fd >= 0 && fstat(fd, &st) == 0 &&
              st.st_gid == 4242 && (st.st_mode & S_ISGID));
        close(fd);
        pid_t pid = fork();
        if (pid == 0) {
                struct stat t;
                if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
                    setresuid(65534, 65534, 65534) != 0)
                        _exit(10);
                int f = open("sg/nobody_sgid", O_CREAT | O_RDWR, 02755);
                _exit(f >= 0 && fstat(f, &t) == 0 && t.st_gid == 4242 &&
                      !(t.st_mode & S_ISGID) && (t.st_mode & 0777) == 0755 ? 0 : 1);
        }
        waitpid(pid, &s, 0);
        CHECK("sgid_file_bit_dropped_outside_group", WIFEXITED(s) && WEXITSTATUS(s) == 0);
        unlink("sg/f");
        unlink("sg/root_sgid");
        unlink("sg/nobody_sgid");
        rmdir("sg/d");
        rmdir("sg");
}

static void atimes(void)
{
        struct timespec ts[2] = { { 100, 0 }, { 200, 0 } };
        struct stat st;
        char c;
        int fd = open("at", O_CREAT | O_RDWR, 0600);

        CHECK("atime_setup", write(fd, "x", 1) == 1 && futimens(fd, ts) == 0);
        CHECK("relatime_read_moves_atime", pread(fd, &c, 1, 0) == 1 &&
              fstat(fd, &st) == 0 && st.st_atim.tv_sec > 200);
        CHECK("write_moves_mtime", pwrite(fd, "y", 1, 0) == 1 && fstat(fd, &st) == 0 &&
              st.st_mtim.tv_sec > 200 && st.st_ctim.tv_sec > 200);
        close(fd);
        unlink("at");
}

/* posix_fadvise and readahead: advice, so what shows is what they
 * accept and refuse (Linux's errors) and that the file is unchanged. */
static void file_advice(void)
{
        int fd = open("adv", O_RDWR | O_CREAT | O_TRUNC, 0644);
        int wo = open("adv", O_WRONLY), pfd[2] = { -1, -1 };
        int po = open("adv", O_PATH);
        char buf[8] = { 0 };
        int ok = 1;

        CHECK("advice_file", fd >= 0 && write(fd, "advice!", 7) == 7 &&
              wo >= 0 && po >= 0 && pipe(pfd) == 0);
        for (int adv = POSIX_FADV_NORMAL; adv <= POSIX_FADV_NOREUSE; adv++)
                ok &= posix_fadvise(fd, 0, 0, adv) == 0;
        CHECK("fadvise_each_advice", ok);
        CHECK("fadvise_willneed_range", posix_fadvise(fd, 4096, 1 << 20,
                                                      POSIX_FADV_WILLNEED) == 0);
        CHECK("fadvise_unknown_einval", posix_fadvise(fd, 0, 0, 6) == EINVAL);
        CHECK("fadvise_negative_len_einval",
              syscall(SYS_fadvise64, fd, 0L, -1L, POSIX_FADV_NORMAL) == -1 &&
              errno == EINVAL);
        CHECK("fadvise_pipe_espipe", posix_fadvise(pfd[0], 0, 0,
                                                   POSIX_FADV_NORMAL) == ESPIPE);
        CHECK("fadvise_bad_fd_ebadf", posix_fadvise(-1, 0, 0,
                                                    POSIX_FADV_NORMAL) == EBADF);
        CHECK("fadvise_opath_ebadf", posix_fadvise(po, 0, 0,
                                                   POSIX_FADV_NORMAL) == EBADF);
        CHECK("readahead_file", syscall(SYS_readahead, fd, 0L, 1L << 20) == 0);
        CHECK_ERR("readahead_write_only_ebadf", syscall(SYS_readahead, wo, 0L, 4096L),
                  EBADF);
        CHECK_ERR("readahead_opath_ebadf", syscall(SYS_readahead, po, 0L, 4096L),
                  EBADF);
        CHECK_ERR("readahead_pipe_einval", syscall(SYS_readahead, pfd[0], 0L, 4096L),
                  EINVAL);
        CHECK_ERR("readahead_bad_fd_ebadf", syscall(SYS_readahead, -1, 0L, 4096L),
                  EBADF);
        CHECK("advice_leaves_contents", pread(fd, buf, 7, 0) == 7 &&
              !memcmp(buf, "advice!", 7));
        close(fd), close(wo), close(po), close(pfd[0]), close(pfd[1]);
        unlink("adv");
}

int main(void)
{
        utest_start("fs_calls");
        snprintf(base, sizeof base, "/tmp/fs_calls.%d", (int)getpid());
        umask(022);
        CHECK("workdir", mkdir(base, 0755) == 0 && chdir(base) == 0);
        opens();
        names();
        paths();
        attributes();
        directories();
        fifos();
        access_ids();
        setgid_dirs();
        atimes();
        file_advice();
        char cmd[128];
        chdir("/");
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        /* Clean up by hand: no shell on Mercator. */
        const char *files[] = { "f2/in", "f2", "d2", "c", "s", "dang", "loop1", "loop2",
                                "sd", "fifo", "um", "f2/sub", "f2/moved" };
        chdir(base);
        rmdir("f2/moved");
        rmdir("f2/sub");
        for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
                if (unlink(files[i]) != 0)
                        rmdir(files[i]);
        chdir("/");
        CHECK("cleanup", rmdir(base) == 0);
        (void)cmd;
        return utest_done();
}
