/*
 * fs_locks.c - advisory locks (fcntl F_GETLK/F_SETLK/F_SETLKW, open file
 * description locks F_OFD_*, EDEADLK for a cycle of waiters, flock),
 * pipe sizes (F_GETPIPE_SZ/F_SETPIPE_SZ), vectored I/O at offsets
 * (preadv, pwritev, preadv2, pwritev2), sendfile and copy_file_range, as
 * Linux does them.
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#endif
#ifndef F_OFD_GETLK
#define F_OFD_GETLK  36
#define F_OFD_SETLK  37
#define F_OFD_SETLKW 38
#endif
#ifndef RWF_HIPRI
#define RWF_HIPRI 1
#endif

static char path[64];

/* preadv2/pwritev2 (older musl lacks the wrappers): x86-64 passes the
 * offset whole in pos_l, pos_h unused. */
static long preadv2_(int fd, const struct iovec *iov, int n, long off, int flags)
{
        return syscall(SYS_preadv2, fd, iov, n, off, 0L, flags);
}

static long pwritev2_(int fd, const struct iovec *iov, int n, long off, int flags)
{
        return syscall(SYS_pwritev2, fd, iov, n, off, 0L, flags);
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
        struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
                            .l_start = start, .l_len = len };
        return fcntl(fd, cmd, &fl);
}

/* In a child: try a lock on a fresh descriptor; 0, or the errno. */
static int child_try(short type, off_t start, off_t len)
{
        pid_t pid = fork();
        int st;

        if (pid == 0) {
                int fd = open(path, O_RDWR);
                _exit(setlk(fd, F_SETLK, type, start, len) == 0 ? 0 : errno);
        }
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void posix_locks(void)
{
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        struct flock fl;

        CHECK("write_lock", fd >= 0 && setlk(fd, F_SETLK, F_WRLCK, 0, 100) == 0);
        CHECK("other_process_blocked", child_try(F_WRLCK, 50, 10) == EAGAIN);
        CHECK("other_process_read_blocked", child_try(F_RDLCK, 99, 1) == EAGAIN);
        CHECK("other_range_free", child_try(F_WRLCK, 100, 10) == 0);
        CHECK("own_relock_ok", setlk(fd, F_SETLK, F_RDLCK, 10, 10) == 0);
        CHECK("unlock_middle", setlk(fd, F_SETLK, F_UNLCK, 40, 20) == 0);
        CHECK("hole_in_split_lock", child_try(F_WRLCK, 45, 10) == 0);
        CHECK("split_ends_kept", child_try(F_WRLCK, 0, 5) == EAGAIN &&
              child_try(F_WRLCK, 70, 5) == EAGAIN);
        CHECK("read_part_shares", child_try(F_RDLCK, 12, 3) == 0 &&
              child_try(F_WRLCK, 12, 3) == EAGAIN);
        /* F_GETLK from another process sees the holder. */
        pid_t me = getpid(), pid = fork();
        if (pid == 0) {
                int f2 = open(path, O_RDWR);
                struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                                   .l_start = 0, .l_len = 0 };
                if (fcntl(f2, F_GETLK, &q) != 0)
                        _exit(1);
                _exit(q.l_type == F_WRLCK && q.l_pid == me && q.l_start == 0 &&
                      q.l_len == 10 ? 0 : 2);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK("getlk_reports_holder", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0 };
        CHECK("getlk_own_locks_invisible", fcntl(fd, F_GETLK, &fl) == 0 &&
              fl.l_type == F_UNLCK);
        /* Closing any descriptor of the file drops the process's locks. */
        int other = open(path, O_RDONLY);
        close(other);
        CHECK("close_drops_locks", child_try(F_WRLCK, 0, 100) == 0);
        /* F_SETLKW waits for the holder. */
        CHECK("relock", setlk(fd, F_SETLK, F_WRLCK, 0, 0) == 0);
        int p[2];
        pipe(p);
        pid = fork();
        if (pid == 0) {
                int f2 = open(path, O_RDWR);
                close(p[0]);
                int r = setlk(f2, F_SETLKW, F_WRLCK, 0, 1);
                write(p[1], "w", 1);
                _exit(r == 0 ? 0 : 1);
        }
        close(p[1]);
        usleep(100000);
        CHECK("setlkw_still_waiting", waitpid(pid, &st, WNOHANG) == 0);
        setlk(fd, F_SETLK, F_UNLCK, 0, 0);
        char c;
        CHECK("setlkw_gets_lock", read(p[0], &c, 1) == 1 && waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        close(p[0]);
        close(fd);
        fd = open(path, O_RDONLY);
        CHECK_ERR("write_lock_on_rdonly", setlk(fd, F_SETLK, F_WRLCK, 0, 1), EBADF);
        CHECK_ERR("bad_type", setlk(fd, F_SETLK, 7, 0, 1), EINVAL);
        fl = (struct flock){ .l_type = F_RDLCK, .l_whence = 9 };
        CHECK_ERR("bad_whence", fcntl(fd, F_SETLK, &fl), EINVAL);
        CHECK_ERR("negative_start", setlk(fd, F_SETLK, F_RDLCK, -5, 1), EINVAL);
        CHECK_ERR("bad_pointer", fcntl(fd, F_SETLK, (void *)8), EFAULT);
        close(fd);
}

static int child_flock(int op)
{
        pid_t pid = fork();
        int st;

        if (pid == 0) {
                int fd = open(path, O_RDONLY);
                _exit(flock(fd, op) == 0 ? 0 : errno);
        }
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void flocks(void)
{
        int fd = open(path, O_RDONLY);

        CHECK("flock_ex", flock(fd, LOCK_EX) == 0);
        CHECK("flock_other_ex_blocked", child_flock(LOCK_EX | LOCK_NB) == EWOULDBLOCK);
        CHECK("flock_other_sh_blocked", child_flock(LOCK_SH | LOCK_NB) == EWOULDBLOCK);
        pid_t pid = fork();
        int st;
        if (pid == 0)                   /* same open file description */
                _exit(flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
        waitpid(pid, &st, 0);
        CHECK("flock_shared_by_fork", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK("flock_independent_of_posix", child_try(F_WRLCK, 0, 0) == 0);
        CHECK("flock_downgrade", flock(fd, LOCK_SH) == 0 &&
              child_flock(LOCK_SH | LOCK_NB) == 0 &&
              child_flock(LOCK_EX | LOCK_NB) == EWOULDBLOCK);
        CHECK("flock_unlock", flock(fd, LOCK_UN) == 0 && child_flock(LOCK_EX | LOCK_NB) == 0);
        CHECK_ERR("flock_bad_op", flock(fd, 0), EINVAL);
        CHECK_ERR("flock_bad_fd", flock(99, LOCK_SH), EBADF);
        int dupfd = dup(fd);
        CHECK("flock_close_dup_keeps", flock(fd, LOCK_EX) == 0 && close(dupfd) == 0 &&
              child_flock(LOCK_EX | LOCK_NB) == EWOULDBLOCK);
        close(fd);
        CHECK("flock_last_close_frees", child_flock(LOCK_EX | LOCK_NB) == 0);
}

static void pipes(void)
{
        int p[2];

        pipe(p);
        CHECK("pipe_default_size", fcntl(p[0], F_GETPIPE_SZ) == 65536);
        CHECK("pipe_set_rounds_up", fcntl(p[1], F_SETPIPE_SZ, 100000) == 131072 &&
              fcntl(p[0], F_GETPIPE_SZ) == 131072);
        CHECK("pipe_set_small", fcntl(p[1], F_SETPIPE_SZ, 1) == 4096);
        CHECK("pipe_data_survives", write(p[1], "abc", 3) == 3 &&
              fcntl(p[1], F_SETPIPE_SZ, 8192) == 8192);
        char b[4] = { 0 };
        int avail = -1;
        CHECK("pipe_fionread", write(p[1], "defg", 4) == 4 &&
              ioctl(p[0], FIONREAD, &avail) == 0 && avail == 7);
        CHECK("pipe_data_after_resize", read(p[0], b, 3) == 3 && strcmp(b, "abc") == 0);
        /* fs.pipe-max-size bounds what a process without
         * CAP_SYS_RESOURCE may ask; past 2 GiB nobody may. */
        FILE *mf = fopen("/proc/sys/fs/pipe-max-size", "r");
        long max = 0;
        CHECK("pipe_max_size_sysctl", mf && fscanf(mf, "%ld", &max) == 1 &&
              max == 1048576);
        if (mf)
                fclose(mf);
        CHECK_ERR("pipe_size_past_2g", fcntl(p[1], F_SETPIPE_SZ, (1U << 31) + 1), EINVAL);
        CHECK("pipe_size_max_ok", fcntl(p[1], F_SETPIPE_SZ, max) == max);
        pid_t pid = fork();
        if (pid == 0) {
                if (setuid(65534) != 0)
                        _exit(10);
                if (fcntl(p[1], F_SETPIPE_SZ, max + 1) != -1)
                        _exit(11);
                _exit(errno == EPERM ? 0 : 12);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK("pipe_size_past_max_eperm_unprivileged", WIFEXITED(st) &&
              WEXITSTATUS(st) == 0);
        int fd = open(path, O_RDONLY);
        CHECK_ERR("pipe_size_on_file", fcntl(fd, F_GETPIPE_SZ), EBADF);
        close(fd);
        close(p[0]), close(p[1]);
}

static void vectors(void)
{
        int fd = open(path, O_RDWR | O_TRUNC);
        char a[4] = "abc", b[4] = "def", x[4] = { 0 }, y[4] = { 0 };
        struct iovec w[2] = { { a, 3 }, { b, 3 } }, r[2] = { { x, 3 }, { y, 3 } };

        CHECK("pwritev", pwritev(fd, w, 2, 10) == 6 && lseek(fd, 0, SEEK_CUR) == 0);
        CHECK("preadv", preadv(fd, r, 2, 10) == 6 && !strcmp(x, "abc") && !strcmp(y, "def"));
        CHECK("pwritev2_current_offset", pwritev2_(fd, w, 1, -1, 0) == 3 &&
              lseek(fd, 0, SEEK_CUR) == 3);
        memset(x, 0, sizeof x);
        CHECK("preadv2_at", preadv2_(fd, r, 1, 13, RWF_HIPRI) == 3 && !strcmp(x, "def"));
        CHECK_ERR("preadv2_bad_flag", preadv2_(fd, r, 1, 0, 0x1000), EOPNOTSUPP);
        CHECK_ERR("preadv_negative", preadv(fd, r, 1, -5), EINVAL);
        int p[2];
        pipe(p);
        CHECK_ERR("preadv_pipe", preadv(p[0], r, 1, 0), ESPIPE);
        close(p[0]), close(p[1]);

        char out[80];
        snprintf(out, sizeof out, "%s.out", path);
        int o = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
        off_t off = 10;
        CHECK("sendfile_offset", sendfile(o, fd, &off, 6) == 6 && off == 16 &&
              lseek(fd, 0, SEEK_CUR) == 3 && lseek(o, 0, SEEK_CUR) == 6);
        memset(x, 0, sizeof x);
        CHECK("sendfile_data", pread(o, x, 3, 0) == 3 && !strcmp(x, "abc"));
        CHECK("sendfile_file_offset", sendfile(o, fd, NULL, 3) == 3 &&
              lseek(fd, 0, SEEK_CUR) == 6);
        CHECK_ERR("sendfile_bad_fd", sendfile(o, 99, NULL, 3), EBADF);
        int sp[2];
        pipe(sp);
        off = 10;
        memset(x, 0, sizeof x);
        CHECK("sendfile_to_pipe", sendfile(sp[1], fd, &off, 3) == 3 &&
              read(sp[0], x, 3) == 3 && !strcmp(x, "abc"));
        CHECK_ERR("sendfile_from_pipe", sendfile(o, sp[0], NULL, 1), EINVAL);
        close(sp[0]), close(sp[1]);
        loff_t in = 0, outoff = 100;
        CHECK("copy_file_range", copy_file_range(fd, &in, o, &outoff, 16, 0) == 16 &&
              in == 16 && outoff == 116);
        memset(x, 0, sizeof x);
        CHECK("copy_file_range_data", pread(o, x, 3, 110) == 3 && !strcmp(x, "abc"));
        CHECK_ERR("copy_file_range_flags", copy_file_range(fd, &in, o, &outoff, 1, 1), EINVAL);
        in = 0, outoff = 2;
        CHECK_ERR("copy_file_range_overlap", copy_file_range(fd, &in, fd, &outoff, 8, 0), EINVAL);
        close(o);
        unlink(out);
        close(fd);
}

/* OFD locks: owned by the open file description, so two opens by one
 * process conflict; they meet POSIX locks; a fork's copy of the
 * descriptor is the same owner; closing another descriptor keeps them. */
static void ofd_locks(void)
{
        int fd1 = open(path, O_RDWR), fd2 = open(path, O_RDWR);
        struct flock fl;

        CHECK("ofd_setlk", fd1 >= 0 && fd2 >= 0 &&
              setlk(fd1, F_OFD_SETLK, F_WRLCK, 0, 100) == 0);
        CHECK_ERR("ofd_same_process_other_open", setlk(fd2, F_OFD_SETLK, F_WRLCK, 50, 10),
                  EAGAIN);
        CHECK_ERR("ofd_blocks_own_posix_lock", setlk(fd2, F_SETLK, F_RDLCK, 99, 1),
                  EAGAIN);
        fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET,
                             .l_start = 10, .l_len = 1 };
        CHECK("ofd_getlk_pid_minus_one", fcntl(fd2, F_OFD_GETLK, &fl) == 0 &&
              fl.l_type == F_WRLCK && fl.l_start == 0 && fl.l_len == 100 &&
              fl.l_pid == -1);
        fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET,
                             .l_start = 300, .l_len = 1, .l_pid = 1 };
        CHECK_ERR("ofd_nonzero_pid", fcntl(fd2, F_OFD_SETLK, &fl), EINVAL);
        CHECK("other_process_sees_ofd", child_try(F_WRLCK, 0, 1) == EAGAIN);

        pid_t pid = fork();
        if (pid == 0)           /* the inherited descriptor: same owner */
                _exit(setlk(fd1, F_OFD_SETLK, F_RDLCK, 200, 10) == 0 ? 0 : errno);
        int st;
        waitpid(pid, &st, 0);
        fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET,
                             .l_start = 205, .l_len = 1 };
        CHECK("ofd_fork_same_owner", WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
              fcntl(fd2, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_RDLCK &&
              fl.l_start == 200 && fl.l_len == 10);

        int fd3 = open(path, O_RDONLY);
        close(fd3);
        CHECK("ofd_survives_other_close", child_try(F_WRLCK, 0, 1) == EAGAIN);
        close(fd2);
        CHECK("ofd_survives_other_close_2", child_try(F_WRLCK, 0, 1) == EAGAIN);
        close(fd1);
        CHECK("ofd_goes_with_description", child_try(F_WRLCK, 0, 300) == 0);
}

/* Process state letter from /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
        char p[64], buf[256];
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(p, "r");
        char *rp;

        if (!f)
                return 0;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        rp = strrchr(buf, ')');
        return rp && rp[1] == ' ' ? rp[2] : 0;
}

/* Two processes each holding a byte and waiting for the other's: the
 * second F_SETLKW of the cycle is EDEADLK, and nothing is lost. */
static void deadlock(void)
{
        int fd = open(path, O_RDWR), go[2];

        CHECK("deadlock_setup", fd >= 0 && pipe(go) == 0 &&
              setlk(fd, F_SETLK, F_WRLCK, 0, 1) == 0);
        pid_t pid = fork();
        if (pid == 0) {
                int cfd = open(path, O_RDWR);
                if (setlk(cfd, F_SETLK, F_WRLCK, 1, 1) != 0)
                        _exit(10);
                write(go[1], "x", 1);
                /* Waits for the parent's byte 0. */
                _exit(setlk(cfd, F_SETLKW, F_WRLCK, 0, 1) == 0 ? 0 : 11);
        }
        char c;
        read(go[0], &c, 1);
        int waited = 0;
        while (proc_state(pid) != 'S' && waited++ < 500)
                usleep(10000);
        CHECK("child_waits", proc_state(pid) == 'S');
        CHECK_ERR("edeadlk", setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
        CHECK("setlk_still_eagain", setlk(fd, F_SETLK, F_WRLCK, 1, 1) == -1 &&
              errno == EAGAIN);
        CHECK("unlock_frees_waiter", setlk(fd, F_SETLK, F_UNLCK, 0, 1) == 0);
        int st;
        waitpid(pid, &st, 0);
        CHECK("waiter_got_lock", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        close(go[0]), close(go[1]);
        close(fd);
}

int main(void)
{
        utest_start("fs_locks");
        snprintf(path, sizeof path, "/tmp/fs_locks.%d", (int)getpid());
        posix_locks();
        ofd_locks();
        deadlock();
        flocks();
        pipes();
        vectors();
        CHECK("cleanup", unlink(path) == 0);
        return utest_done();
}
