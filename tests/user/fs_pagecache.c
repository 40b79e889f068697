/*
 * fs_pagecache.c - one page cache under read(), write() and mmap()
 * (CONCEPTS E23): shared mappings see write() at once and write() sees
 * them; private mappings see write() until they copy the page; truncate
 * makes the pages past the end SIGBUS and growing reads zeroes; an
 * unlinked file lives while mapped or open; writable shared mappings need
 * a file opened read-write; msync's errors; a small tmpfs mount says
 * ENOSPC and gives every page back; memfd seals; exec from a tmpfs file
 * and ETXTBSY; /dev/zero mappings; file churn in forked processes.
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>


#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC       1U
#define MFD_ALLOW_SEALING 2U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS     1033
#define F_GET_SEALS     1034
#define F_SEAL_SEAL     0x1
#define F_SEAL_SHRINK   0x2
#define F_SEAL_GROW     0x4
#define F_SEAL_WRITE    0x8
#endif

static char dir[64];

static int memfd(const char *name, unsigned flags)
{
        return (int)syscall(SYS_memfd_create, name, flags);
}

/* Run fn in a child; its wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
        pid_t pid = fork();
        int status = -1;

        if (pid == 0) {
                fn(arg);
                _exit(0);
        }
        waitpid(pid, &status, 0);
        return status;
}

static void touch(void *p)
{
        *(volatile char *)p = 1;
}

static void coherence(void)
{
        char path[96], buf[16];
        snprintf(path, sizeof path, "%s/coh", dir);
        int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);

        CHECK("open", fd >= 0 && ftruncate(fd, 2 * PAGE) == 0);
        char *s = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK("map_shared_writable", s != MAP_FAILED);
        CHECK("map_private", p != MAP_FAILED);
        CHECK("write_seen_by_shared", pwrite(fd, "abc", 3, 10) == 3 &&
              memcmp(s + 10, "abc", 3) == 0);
        CHECK("write_seen_by_private_uncopied", memcmp(p + 10, "abc", 3) == 0);
        memcpy(s + PAGE + 5, "xyz", 3);
        CHECK("store_seen_by_read", pread(fd, buf, 3, PAGE + 5) == 3 &&
              memcmp(buf, "xyz", 3) == 0);
        p[PAGE] = 'P';                  /* the private copy of page 1 */
        CHECK("private_store_not_in_file", pread(fd, buf, 1, PAGE) == 1 && buf[0] == 0);
        CHECK("private_copy_keeps_old", pwrite(fd, "q", 1, PAGE + 5) == 1 &&
              p[PAGE + 5] == 'x' && s[PAGE + 5] == 'q');
        CHECK("private_other_page_still_shared", pwrite(fd, "w", 1, 11) == 1 &&
              p[11] == 'w');
        /* fork: the child's shared mapping is the same pages. */
        pid_t pid = fork();
        if (pid == 0) {
                s[100] = 'C';
                _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK("child_store_seen", s[100] == 'C' && pread(fd, buf, 1, 100) == 1 &&
              buf[0] == 'C');
        CHECK("msync_ok", msync(s, 2 * PAGE, MS_SYNC) == 0 &&
              msync(s, PAGE, MS_ASYNC | MS_INVALIDATE) == 0);
        CHECK_ERR("msync_unaligned", msync(s + 1, PAGE, MS_SYNC), EINVAL);
        CHECK_ERR("msync_both", msync(s, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
        CHECK_ERR("msync_bad_flag", msync(s, PAGE, 64), EINVAL);
        /* DONTNEED on a shared mapping keeps the data in the file. */
        CHECK("dontneed_keeps_data", madvise(s, PAGE, MADV_DONTNEED) == 0 &&
              memcmp(s + 10, "awc", 3) == 0);

        /* MADV_REMOVE punches a hole: zeroes for every mapping and read(). */
        CHECK("madv_remove", pwrite(fd, "R", 1, PAGE + 7) == 1 &&
              madvise(s + PAGE, PAGE, MADV_REMOVE) == 0 && s[PAGE + 7] == 0 &&
              pread(fd, buf, 1, PAGE + 7) == 1 && buf[0] == 0);
        CHECK_ERR("madv_remove_private", madvise(p, PAGE, MADV_REMOVE), EACCES);
        CHECK("punch_hole", pwrite(fd, "HH", 2, PAGE + 20) == 2 &&
              fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE, PAGE) == 0 &&
              s[PAGE + 20] == 0 && s[10] == 'a');
        /* truncate: the page past the end goes from every mapping. */
        CHECK("truncate_shrink", ftruncate(fd, PAGE) == 0);
        int status = in_child(touch, s + PAGE);
        CHECK("shared_past_end_sigbus", WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
        status = in_child(touch, p + PAGE);     /* its private copy went too */
        CHECK("private_copy_past_end_sigbus", WIFSIGNALED(status) &&
              WTERMSIG(status) == SIGBUS);
        status = in_child(touch, s + 10);
        CHECK("shared_before_end_ok", WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK("truncate_grow_zero", ftruncate(fd, 2 * PAGE) == 0 && s[PAGE + 5] == 0 &&
              pread(fd, buf, 1, PAGE + 5) == 1 && buf[0] == 0);
        CHECK("partial_page_tail_zeroed", ftruncate(fd, 12) == 0 && ftruncate(fd, PAGE) == 0 &&
              s[11] == 'w' && s[12] == 0);
        munmap(p, 2 * PAGE);

        /* An unlinked file lives while mapped, and while open. */
        CHECK("unlink_mapped", unlink(path) == 0 && s[11] == 'w');
        s[0] = 'U';
        CHECK("unlinked_read", pread(fd, buf, 1, 0) == 1 && buf[0] == 'U');
        close(fd);
        CHECK("unlinked_closed_mapped", s[0] == 'U' && s[11] == 'w');
        munmap(s, 2 * PAGE);
}

static void permissions(void)
{
        char path[96];
        snprintf(path, sizeof path, "%s/ro", dir);
        int fd = open(path, O_CREAT | O_RDWR, 0600);
        CHECK("make_file", fd >= 0 && write(fd, "data", 4) == 4);
        close(fd);
        fd = open(path, O_RDONLY);
        CHECK_MMAP_ERR("shared_write_on_rdonly",
                       mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
        char *r = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
        CHECK("shared_read_on_rdonly", r != MAP_FAILED && r[0] == 'd');
        CHECK_ERR("mprotect_write_rdonly_shared", mprotect(r, PAGE, PROT_READ | PROT_WRITE),
                  EACCES);
        char *w = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK("private_write_on_rdonly", w != MAP_FAILED && (w[0] = 'X') && r[0] == 'd');
        close(fd);
        fd = open(path, O_RDWR);
        char *m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
        CHECK("mprotect_write_rdwr_shared", m != MAP_FAILED &&
              mprotect(m, PAGE, PROT_READ | PROT_WRITE) == 0 && (m[1] = 'A') && r[1] == 'A');
        fd = open(path, O_WRONLY);
        CHECK_MMAP_ERR("map_wronly", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0), EACCES);
        close(fd);
        munmap(r, PAGE), munmap(w, PAGE), munmap(m, PAGE);
        unlink(path);
}

static void small_tmpfs(void)
{
        char mnt[96], path[128];
        static char chunk[8192];
        struct statfs sf;

        snprintf(mnt, sizeof mnt, "%s/mnt", dir);
        CHECK("mkdir_mountpoint", mkdir(mnt, 0755) == 0);
        CHECK("mount_tmpfs_size", mount("tmpfs", mnt, "tmpfs", 0, "size=64k") == 0);
        CHECK("statfs_size", statfs(mnt, &sf) == 0 && sf.f_blocks == 16 &&
              sf.f_bfree == 16 && sf.f_type == 0x01021994);
        CHECK_ERR("mount_bad_option", mount("tmpfs", mnt, "tmpfs", 0, "size=12q"), EINVAL);
        CHECK_ERR("mount_bad_type", mount("x", mnt, "nosuchfs", 0, NULL), ENODEV);
        snprintf(path, sizeof path, "%s/big", mnt);
        int fd = open(path, O_CREAT | O_RDWR, 0600);
        long total = 0, n;
        while ((n = write(fd, chunk, sizeof chunk)) > 0)
                total += n;
        CHECK("enospc", n == -1 && errno == ENOSPC && total == 65536);
        CHECK("statfs_full", statfs(mnt, &sf) == 0 && sf.f_bfree == 0);
        CHECK_ERR("umount_busy", umount(mnt), EBUSY);
        CHECK("truncate_frees", ftruncate(fd, 0) == 0 && statfs(mnt, &sf) == 0 &&
              sf.f_bfree == 16);
        CHECK("write_again", write(fd, chunk, 4096) == 4096);
        close(fd);
        /* A shared mapping's fault past the size limit is SIGBUS (Linux's
         * shmem); the pages it did get stay with the file. */
        char mapped[160];
        snprintf(mapped, sizeof mapped, "%s/mapped", mnt);
        pid_t pid = fork();
        if (pid == 0) {
                int f = open(mapped, O_CREAT | O_RDWR, 0600);
                char *m = f < 0 || ftruncate(f, 32 * PAGE) ? MAP_FAILED
                        : mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
                if (m == MAP_FAILED)
                        _exit(1);
                for (int i = 0; i < 32; i++)
                        m[i * PAGE] = 1;
                _exit(0);
        }
        int mst = 0;
        CHECK("shared_fault_past_size_sigbus", waitpid(pid, &mst, 0) == pid &&
              WIFSIGNALED(mst) && WTERMSIG(mst) == SIGBUS);
        CHECK("faulted_pages_stay", statfs(mnt, &sf) == 0 && sf.f_bfree == 0);
        CHECK("unlink_gives_them_back", unlink(mapped) == 0 &&
              statfs(mnt, &sf) == 0 && sf.f_bfree == 15);
        /* File churn in forked processes gives every page back. A child
         * keeps the mapping of one unlinked file with a page (j == 1)
         * until it exits, so the four hold at most 4 x 2 of the 15 free
         * pages at once; keeping more (every j without bit 2) let four
         * children that overlap fill the 16-page mount (ENOSPC: once on
         * the riscv64 referee, Linux). */
        for (int i = 0; i < 4; i++) {
                if (fork() == 0) {
                        char p2[160];
                        for (int j = 0; j < 20; j++) {
                                snprintf(p2, sizeof p2, "%s/c%d", mnt, i);
                                int f = open(p2, O_CREAT | O_RDWR | O_TRUNC, 0600);
                                if (f < 0 || write(f, chunk, 3000) != 3000)
                                        _exit(1);
                                char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                                               MAP_SHARED, f, 0);
                                if (m == MAP_FAILED)
                                        _exit(2);
                                m[5] = 1;
                                if (j & 1)
                                        unlink(p2);
                                ftruncate(f, j & 2 ? 0 : 5000);
                                close(f);
                                if ((j & 4) || j >= 8)
                                        munmap(m, 2 * PAGE);
                        }
                        snprintf(p2, sizeof p2, "%s/c%d", mnt, i);
                        unlink(p2);
                        _exit(0);
                }
        }
        int ok = 1, st;
        for (int i = 0; i < 4; i++)
                ok &= wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        CHECK("churn_children", ok);
        unlink(path);
        CHECK("churn_frees_every_page", statfs(mnt, &sf) == 0 && sf.f_bfree == 16);

        /* MS_REMOUNT: read-only (not while a file is open for writing),
         * back to read-write with a new size, never below the contents. */
        snprintf(path, sizeof path, "%s/w", mnt);
        fd = open(path, O_CREAT | O_RDWR, 0600);
        CHECK("remount_data", fd >= 0 && write(fd, chunk, 8192) == 8192);
        CHECK_ERR("remount_ro_busy", mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL),
                  EBUSY);
        close(fd);
        CHECK("remount_ro", mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0 &&
              statfs(mnt, &sf) == 0 && (sf.f_flags & ST_RDONLY));
        CHECK_ERR("remount_ro_erofs", open(path, O_RDWR), EROFS);
        CHECK("remount_ro_reads", (fd = open(path, O_RDONLY)) >= 0 &&
              read(fd, chunk, 10) == 10 && close(fd) == 0);
        CHECK("remount_rw_size", mount(NULL, mnt, NULL, MS_REMOUNT, "size=128k") == 0 &&
              statfs(mnt, &sf) == 0 && !(sf.f_flags & ST_RDONLY) &&
              sf.f_blocks == 32 && sf.f_bfree == 30);
        CHECK_ERR("remount_below_contents", mount(NULL, mnt, NULL, MS_REMOUNT, "size=4k"),
                  EINVAL);
        CHECK_ERR("remount_not_a_mount", mount(NULL, dir, NULL, MS_REMOUNT, NULL), EINVAL);
        CHECK("remount_write_again", (fd = open(path, O_RDWR)) >= 0 && close(fd) == 0 &&
              unlink(path) == 0);
        CHECK("umount", umount(mnt) == 0 && rmdir(mnt) == 0);
}

static void seals(void)
{
        int fd = memfd("sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        CHECK("memfd_create", fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC &&
              write(fd, "memfd", 5) == 5);
        CHECK("memfd_no_seals", fcntl(fd, F_GET_SEALS) == 0);
        char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("memfd_map", m != MAP_FAILED && m[0] == 'm');
        CHECK_ERR("seal_write_busy", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
        munmap(m, PAGE);
        CHECK("seal_write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK) == 0 &&
              fcntl(fd, F_GET_SEALS) == (F_SEAL_WRITE | F_SEAL_SHRINK));
        CHECK_ERR("sealed_write", write(fd, "x", 1), EPERM);
        CHECK_ERR("sealed_shrink", ftruncate(fd, 1), EPERM);
        CHECK("sealed_grow_ok", ftruncate(fd, PAGE) == 0);
        CHECK_MMAP_ERR("sealed_shared_write_map",
                       mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
        CHECK("seal_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) == 0);
        CHECK_ERR("sealed_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), EPERM);
        close(fd);
        fd = memfd("plain", 0);
        CHECK("memfd_without_sealing", fd >= 0 && fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL);
        CHECK_ERR("memfd_add_seal_refused", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
        close(fd);
        CHECK_ERR("memfd_bad_flags", memfd("x", 0x100), EINVAL);
        /* POSIX shared memory lives in /dev/shm. */
        fd = open("/dev/shm/fs_pagecache", O_CREAT | O_RDWR | O_EXCL, 0600);
        CHECK("shm_open_like", fd >= 0 && ftruncate(fd, PAGE) == 0 &&
              unlink("/dev/shm/fs_pagecache") == 0);
        close(fd);
}

static void dev_zero(void)
{
        int fd = open("/dev/zero", O_RDWR);
        char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

        CHECK("dev_zero_maps", s != MAP_FAILED && p != MAP_FAILED && s[0] == 0 && p[0] == 0);
        pid_t pid = fork();
        if (pid == 0) {
                s[0] = 'S';
                p[0] = 'P';
                _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK("dev_zero_shared_is_shared", s[0] == 'S');
        CHECK("dev_zero_private_is_private", p[0] == 0);
        close(fd);
        munmap(s, PAGE), munmap(p, PAGE);
}

static void exec_from_tmpfs(const char *self)
{
        char path[96];
        static char buf[1 << 16];
        int in = open(self, O_RDONLY), out;
        long n;

        snprintf(path, sizeof path, "%s/prog", dir);
        out = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
        CHECK("copy_self", in >= 0 && out >= 0);
        while ((n = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, (size_t)n) != n)
                        break;
        close(in);
        int p[2];
        pipe(p);
        pid_t pid = fork();
        if (pid == 0) {
                close(p[1]);
                dup2(p[0], 0);
                execl(path, path, "wait-stdin", (char *)NULL);
                _exit(99);
        }
        /* While the copy is open for writing, exec was refused... */
        int st;
        waitpid(pid, &st, 0);
        CHECK("exec_open_for_write_etxtbsy", WIFEXITED(st) && WEXITSTATUS(st) == 99);
        close(out);
        /* ...and while it runs, writing to it is. The program says it
         * runs by writing a byte to its standard output (a pipe) before
         * it blocks on its input; until then nothing here opens the file
         * for writing, which would make the child's exec fail. */
        int ready[2];
        char r = 0;
        pipe(ready);
        pid = fork();
        if (pid == 0) {
                close(p[1]);
                close(ready[0]);
                dup2(p[0], 0);
                dup2(ready[1], 1);
                execl(path, path, "wait-stdin", (char *)NULL);
                _exit(99);
        }
        close(p[0]);
        close(ready[1]);
        CHECK("exec_started", read(ready[0], &r, 1) == 1 && r == 'r');
        close(ready[0]);
        errno = 0;
        int fd = open(path, O_WRONLY);
        CHECK("write_running_etxtbsy", fd == -1 && errno == ETXTBSY);
        if (fd >= 0)            /* (else the child's exec fails for it) */
                close(fd);
        CHECK_ERR("truncate_running_etxtbsy", truncate(path, 0), ETXTBSY);
        write(p[1], "x", 1);
        close(p[1]);
        waitpid(pid, &st, 0);
        CHECK("exec_from_tmpfs", WIFEXITED(st) && WEXITSTATUS(st) == 42);
        unlink(path);
}

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "wait-stdin") == 0) {
                char c;
                write(1, "r", 1);
                read(0, &c, 1);
                return 42;
        }
        utest_start("fs_pagecache");
        snprintf(dir, sizeof dir, "/tmp/fs_pagecache.%d", (int)getpid());
        CHECK("workdir", mkdir(dir, 0755) == 0);
        coherence();
        permissions();
        small_tmpfs();
        seals();
        dev_zero();
        /* The running program's file: /proc/self/exe on Linux; Mercator
         * runs the test as /init. */
        exec_from_tmpfs(access("/proc/self/exe", R_OK) == 0 ? "/proc/self/exe" : "/init");
        CHECK("cleanup", rmdir(dir) == 0);
        return utest_done();
}
