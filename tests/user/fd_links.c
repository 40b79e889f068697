/*
 * fd_links.c - what /proc/PID/fd/N, cwd and exe stand for, and the names
 * /proc/PID/maps gives mapped files, as Linux: a file's path, " (deleted)"
 * after its last name went (memfd: "/memfd:NAME (deleted)", O_TMPFILE:
 * "DIR/#INO (deleted)"), the new name after a rename; and opening such a
 * link opens the file itself (Linux's magic links), even one with no name
 * left: how LTP's memfd tests reopen a memfd read-only or read-write;
 * a pipe's link opens a new end of the same pipe (`cat /dev/stdin`).
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/stat.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

static char dir[64];

/* readlink of /proc/self/fd/N into buf (NUL-terminated); -1 on error. */
static long fd_link(int fd, char *buf, size_t size)
{
        char path[48];
        long n;

        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        n = readlink(path, buf, size - 1);
        if (n >= 0)
                buf[n] = '\0';
        return n;
}

static int reopen(int fd, int flags)
{
        char path[48];

        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        return open(path, flags);
}

/* The name /proc/self/maps gives the area at addr, into out ("" if none). */
static int maps_name(void *addr, char *out, size_t size)
{
        FILE *f = fopen("/proc/self/maps", "r");
        char line[512];
        int found = 0;

        out[0] = '\0';
        if (!f)
                return 0;
        while (fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                int pos = 0;
                if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &pos) < 2)
                        continue;
                if ((unsigned long)addr < lo || (unsigned long)addr >= hi)
                        continue;
                line[strcspn(line, "\n")] = '\0';
                snprintf(out, size, "%s", pos ? line + pos : "");
                found = 1;
                break;
        }
        fclose(f);
        return found;
}

static void regular_file(void)
{
        char path[96], path2[96], want[128], got[256];
        struct stat a, b;
        int fd, fd2;

        snprintf(path, sizeof path, "%s/file", dir);
        snprintf(path2, sizeof path2, "%s/renamed", dir);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK("create", fd >= 0 && write(fd, "abcdef", 6) == 6);
        CHECK("link_names_the_file", fd_link(fd, got, sizeof got) > 0 &&
              strcmp(got, path) == 0);

        char *m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
        CHECK("map", m != MAP_FAILED);
        CHECK("maps_names_the_file", maps_name(m, got, sizeof got) &&
              strcmp(got, path) == 0);

        CHECK("rename", rename(path, path2) == 0);
        CHECK("link_follows_rename", fd_link(fd, got, sizeof got) > 0 &&
              strcmp(got, path2) == 0);
        CHECK("maps_follows_rename", maps_name(m, got, sizeof got) &&
              strcmp(got, path2) == 0);

        CHECK("unlink", unlink(path2) == 0);
        snprintf(want, sizeof want, "%s (deleted)", path2);
        CHECK("link_says_deleted", fd_link(fd, got, sizeof got) > 0 &&
              strcmp(got, want) == 0);
        CHECK("maps_says_deleted", maps_name(m, got, sizeof got) &&
              strcmp(got, want) == 0);
        CHECK("stat_through_link_of_deleted", stat(path2, &a) == -1 &&
              errno == ENOENT);

        /* The magic link opens the file itself, though it has no name. */
        fd2 = reopen(fd, O_RDONLY);
        CHECK("reopen_deleted", fd2 >= 0);
        memset(got, 0, 8);
        CHECK("reopened_reads_data", fd2 >= 0 && read(fd2, got, 8) == 6 &&
              memcmp(got, "abcdef", 6) == 0);
        CHECK("reopened_same_inode", fd2 >= 0 && fstat(fd, &a) == 0 &&
              fstat(fd2, &b) == 0 && a.st_ino == b.st_ino &&
              a.st_dev == b.st_dev && b.st_nlink == 0);
        CHECK("reopened_own_offset", fd2 >= 0 && lseek(fd2, 0, SEEK_CUR) == 6 &&
              lseek(fd, 0, SEEK_CUR) == 6);
        if (fd2 >= 0)
                close(fd2);
        /* O_CREAT through the link: the file exists, it is opened. */
        fd2 = reopen(fd, O_RDWR | O_CREAT);
        CHECK("reopen_creat_opens_it", fd2 >= 0 && fstat(fd2, &b) == 0 &&
              b.st_ino == a.st_ino);
        if (fd2 >= 0)
                close(fd2);
        munmap(m, PAGE);
        close(fd);
}

static void memfd(void)
{
        char got[256];
        int fd = (int)syscall(SYS_memfd_create, "fdlinks", 0);
        int fd2;

        CHECK("memfd", fd >= 0 && ftruncate(fd, PAGE) == 0);
        CHECK("memfd_link", fd_link(fd, got, sizeof got) > 0 &&
              strcmp(got, "/memfd:fdlinks (deleted)") == 0);
        char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("memfd_map", m != MAP_FAILED);
        CHECK("memfd_maps_name", maps_name(m, got, sizeof got) &&
              strcmp(got, "/memfd:fdlinks (deleted)") == 0);
        /* LTP's memfd tests: reopen read-write and read-only. */
        fd2 = reopen(fd, O_RDWR);
        CHECK("memfd_reopen_rdwr", fd2 >= 0 && pwrite(fd2, "xy", 2, 0) == 2 &&
              m[0] == 'x' && m[1] == 'y');
        if (fd2 >= 0)
                close(fd2);
        fd2 = reopen(fd, O_RDONLY);
        CHECK("memfd_reopen_rdonly_cannot_write", fd2 >= 0 &&
              write(fd2, "z", 1) == -1 && errno == EBADF);
        if (fd2 >= 0)
                close(fd2);
        munmap(m, PAGE);
        close(fd);
}

static void tmpfile_and_dirs(void)
{
        char want[128], got[256];
        struct stat st;
        int fd = open(dir, O_TMPFILE | O_RDWR, 0600);

        CHECK("o_tmpfile", fd >= 0 && fstat(fd, &st) == 0);
        snprintf(want, sizeof want, "%s/#%lu (deleted)", dir,
                 (unsigned long)st.st_ino);
        CHECK("o_tmpfile_link", fd_link(fd, got, sizeof got) > 0 &&
              strcmp(got, want) == 0);
        close(fd);

        /* A directory's link goes on through it. */
        int d = open(dir, O_RDONLY | O_DIRECTORY);
        char path[96];
        CHECK("dir_link", d >= 0 && fd_link(d, got, sizeof got) > 0 &&
              strcmp(got, dir) == 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d/inner", d);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        CHECK("create_through_dir_link", fd >= 0);
        snprintf(path, sizeof path, "%s/inner", dir);
        CHECK("created_where_the_dir_is", access(path, F_OK) == 0);
        if (fd >= 0)
                close(fd);
        unlink(path);
        close(d);

        /* cwd and exe are magic too. */
        char cwd[256];
        CHECK("chdir", getcwd(cwd, sizeof cwd) && chdir(dir) == 0);
        d = open("/proc/self/cwd", O_RDONLY | O_DIRECTORY);
        CHECK("open_cwd_link", d >= 0 && fstat(d, &st) == 0 && S_ISDIR(st.st_mode));
        struct stat want_st;
        CHECK("cwd_link_is_cwd", d >= 0 && stat(dir, &want_st) == 0 &&
              want_st.st_ino == st.st_ino);
        if (d >= 0)
                close(d);
        CHECK("chdir_back", chdir(cwd) == 0);
        fd = open("/proc/self/exe", O_RDONLY);
        char magic[4] = { 0 };
        CHECK("open_exe_link", fd >= 0 && read(fd, magic, 4) == 4 &&
              memcmp(magic, "\177ELF", 4) == 0);
        if (fd >= 0)
                close(fd);
        CHECK("nofollow_on_magic_link",
              open("/proc/self/cwd", O_RDONLY | O_NOFOLLOW) == -1 &&
              errno == ELOOP);
}

/* A pipe's fd link, opened, is a new end of the same pipe, named and
 * numbered as the pipe; /dev/stdin reaches it through fd 0. */
static void pipe_links(void)
{
        int fds[2], r2, w2, saved;
        char name[64], name2[64], buf[8] = { 0 };
        struct stat a, b;

        /* non-blocking: a failing kernel must not hang */
        if (!CHECK("pipe2_nonblock", pipe2(fds, O_NONBLOCK) == 0))
                return;
        CHECK("pipe2_nonblock_both_ends",
              (fcntl(fds[0], F_GETFL) & O_NONBLOCK) &&
              (fcntl(fds[1], F_GETFL) & O_NONBLOCK));
        CHECK_ERR("pipe2_empty_read_eagain", read(fds[0], buf, 1), EAGAIN);
        snprintf(name, sizeof name, "/proc/self/fd/%d", fds[0]);
        r2 = open(name, O_RDONLY);
        CHECK("pipe_link_opens_read_end", r2 >= 0);
        snprintf(name, sizeof name, "/proc/self/fd/%d", fds[1]);
        w2 = open(name, O_WRONLY);
        CHECK("pipe_link_opens_write_end", w2 >= 0);
        CHECK("write_through_new_end", write(w2, "abc", 3) == 3);
        CHECK("read_through_new_end", read(r2, buf, 2) == 2 &&
              memcmp(buf, "ab", 2) == 0);
        CHECK("old_end_reads_the_rest", read(fds[0], buf, 1) == 1 && buf[0] == 'c');
        CHECK("same_pipe_by_stat", stat(name, &a) == 0 && fstat(w2, &b) == 0 &&
              S_ISFIFO(a.st_mode) && a.st_ino == b.st_ino);
        CHECK("new_end_named_as_the_pipe", fd_link(fds[1], name, sizeof name) > 0 &&
              fd_link(w2, name2, sizeof name2) > 0 &&
              strncmp(name, "pipe:[", 6) == 0 && strcmp(name, name2) == 0);
        close(fds[1]);
        close(w2);
        CHECK("eof_after_every_writer_closed", read(r2, buf, 1) == 0);

        /* standard input a pipe: open("/dev/stdin") reads it */
        if (!CHECK("pipe2_nonblock_again", pipe2(fds, O_NONBLOCK) == 0))
                return;
        saved = dup(0);
        dup2(fds[0], 0);
        CHECK("write_for_stdin", write(fds[1], "xyz", 3) == 3);
        int in = open("/dev/stdin", O_RDONLY | O_NONBLOCK);
        CHECK("dev_stdin_reads_the_pipe", in >= 0 && read(in, buf, 3) == 3 &&
              memcmp(buf, "xyz", 3) == 0);
        dup2(saved, 0);
        close(saved), close(in), close(r2);
        close(fds[0]), close(fds[1]);
}

int main(void)
{
        utest_start("fd_links");
        snprintf(dir, sizeof dir, "/tmp/fd_links.%d", (int)getpid());
        CHECK("workdir", mkdir(dir, 0755) == 0);
        regular_file();
        memfd();
        tmpfile_and_dirs();
        pipe_links();
        CHECK("cleanup", rmdir(dir) == 0);
        return utest_done();
}
