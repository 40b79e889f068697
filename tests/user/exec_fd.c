/*
 * exec_fd.c - execve replaces the address space and keeps only descriptors
 * without close-on-exec; a failed execve leaves the caller intact; dup,
 * dup2, fcntl, pipe, getcwd, chdir and getdents64 behave as on Linux.
 * argv[1] names a readable data file.
 */
#include "utest.h"
#include <dirent.h>
#include <fcntl.h>

#define MARK_ADDR ((void *)0x300000000UL)

/* After execve: what must and must not have survived. */
static int child(int argc, char **argv)
{
        utest_start("exec_fd");
        CHECK("exec_passes_arguments", argc == 5 && strcmp(argv[1], "child") == 0);
        int keep = atoi(argv[2]), gone = atoi(argv[3]);
        CHECK("exec_drops_old_mappings",
              mprotect(MARK_ADDR, PAGE, PROT_READ) == -1 && errno == ENOMEM);
        CHECK("exec_keeps_plain_descriptor", fcntl(keep, F_GETFD) == 0);
        CHECK("exec_closes_cloexec_descriptor",
              fcntl(gone, F_GETFD) == -1 && errno == EBADF);
        char buf[6] = { 0 };
        CHECK("kept_descriptor_keeps_offset", read(keep, buf, 5) == 5 &&
              strcmp(buf, "data ") != 0 && strlen(buf) == 5);
        CHECK("exec_environment", getenv("EXEC_FD_MARK") &&
              strcmp(getenv("EXEC_FD_MARK"), "yes") == 0);
        return utest_done();
}

static void descriptors(const char *path)
{
        int fd = open(path, O_RDONLY);
        char a[4] = { 0 }, b[4] = { 0 };

        CHECK("dup_shares_offset", fd >= 0 && read(fd, a, 2) == 2 &&
              read(dup(fd), b, 2) == 2 && a[0] == 'h' && b[0] == 'l');
        CHECK("dup2_onto_chosen_number", dup2(fd, 20) == 20 && fcntl(20, F_GETFD) == 0);
        CHECK("dup2_same_fd", dup2(fd, fd) == fd);
        CHECK_ERR("dup2_bad_old", dup2(99, 21), EBADF);
        CHECK_ERR("dup_bad", dup(-1), EBADF);
        CHECK("fcntl_dupfd_cloexec", fcntl(fd, F_DUPFD_CLOEXEC, 30) == 30 &&
              fcntl(30, F_GETFD) == FD_CLOEXEC);
        CHECK_ERR("fcntl_bad_fd", fcntl(99, F_GETFD), EBADF);
        close(20);
        close(30);
        close(fd);
}

static void pipes(void)
{
        int p[2];
        char buf[16] = { 0 };

        CHECK("pipe_creates", pipe(p) == 0 && p[0] >= 0 && p[1] >= 0);
        CHECK("pipe_write", write(p[1], "through", 7) == 7);
        CHECK("pipe_read", read(p[0], buf, sizeof buf) == 7 &&
              memcmp(buf, "through", 7) == 0);
        CHECK_ERR("pipe_read_end_not_writable", write(p[0], "x", 1), EBADF);
        close(p[1]);
        CHECK("pipe_eof_after_writer_closes", read(p[0], buf, sizeof buf) == 0);
        close(p[0]);
#ifdef SYS_pipe
        CHECK_ERR("pipe_bad_pointer", syscall(SYS_pipe, (void *)8), EFAULT);
#else   /* asm-generic has only pipe2 */
        CHECK_ERR("pipe_bad_pointer", syscall(SYS_pipe2, (void *)8, 0), EFAULT);
#endif
        CHECK_ERR("pipe2_bad_flags", pipe2(p, 0x12345678), EINVAL);
}

static void directories(void)
{
        char cwd[256], saved[4096];

        CHECK("getcwd_gives_absolute_path", getcwd(saved, sizeof saved) && saved[0] == '/');
        CHECK_ERR("getcwd_too_small", syscall(SYS_getcwd, cwd, 1), ERANGE);
        CHECK("chdir_root", chdir("/") == 0 && getcwd(cwd, sizeof cwd) &&
              strcmp(cwd, "/") == 0);
        CHECK_ERR("chdir_missing", chdir("/no/such/dir"), ENOENT);
        DIR *d = opendir("/");
        int seen_dot = 0, entries = 0;
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
                entries++;
                seen_dot |= strcmp(e->d_name, ".") == 0;
        }
        CHECK("getdents64_lists_root", d && entries >= 3 && seen_dot);
        if (d)
                closedir(d);
        CHECK_ERR("getdents64_on_file", syscall(SYS_getdents64, 0, cwd, sizeof cwd), ENOTDIR);
        CHECK("chdir_back", chdir(saved) == 0);
}

static void exec(const char *self, const char *path)
{
        char *bad_argv[] = { "x", NULL };
        uint8_t *mark = mmap(MARK_ADDR, PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

        CHECK("mark_mapped", mark == MARK_ADDR);
        mark[0] = 42;
        CHECK_ERR("execve_missing_file", execve("/no/such/program", bad_argv, NULL), ENOENT);
        CHECK_ERR("execve_not_executable", execve(path, bad_argv, NULL), EACCES);
        CHECK_ERR("execve_bad_path_pointer", syscall(SYS_execve, (void *)8, bad_argv, NULL), EFAULT);
        CHECK_ERR("execve_bad_argv_pointer", syscall(SYS_execve, self, (void *)8, NULL), EFAULT);
        CHECK("failed_execve_leaves_caller_intact", mark[0] == 42);

        int keep = open(path, O_RDONLY), gone = open(path, O_RDONLY | O_CLOEXEC);
        char skip[3], k[8], g[8];
        read(keep, skip, 3);
        snprintf(k, sizeof k, "%d", keep);
        snprintf(g, sizeof g, "%d", gone);
        char *argv[] = { (char *)self, "child", k, g, (char *)path, NULL };
        char *envp[] = { "EXEC_FD_MARK=yes", NULL };
        execve(self, argv, envp);
        CHECK("execve_self", 0);
}

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "child") == 0)
                return child(argc, argv);
        utest_start("exec_fd");
        if (argc < 2)
                return printf("FAIL exec_fd/usage\n"), 2;
        descriptors(argv[1]);
        pipes();
        directories();
        exec(argv[0], argv[1]);
        return utest_done();
}
