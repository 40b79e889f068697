/*
 * exec_fd.c - execve replaces the address space and keeps only descriptors
 * without close-on-exec; a failed execve leaves the caller intact; dup,
 * dup2, fcntl, pipe, getcwd, chdir and getdents64 behave as on Linux;
 * execveat runs what a descriptor names.
 * argv[1] names a readable data file.
 */
#include "utest.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/wait.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

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

/* Run by execveat: exit 0 when AT_EXECFN and the process name are the
 * ones Linux gives (argv[2], argv[3]; "-": any name). */
static int named(char **argv)
{
        char comm[32] = { 0 };
        int fd = open("/proc/self/comm", O_RDONLY);
        const char *execfn = (const char *)getauxval(AT_EXECFN);

        if (fd < 0 || read(fd, comm, sizeof comm - 1) <= 0)
                return 3;
        comm[strcspn(comm, "\n")] = 0;
        return execfn && strcmp(execfn, argv[2]) == 0 &&
               (strcmp(argv[3], "-") == 0 || strcmp(comm, argv[3]) == 0) ? 0 : 1;
}

/* execveat(fd, path, ..., flags) in a child: its exit status, or -1. */
static int execveat_child(int fd, const char *path, int flags,
                          const char *execfn, const char *comm)
{
        char *argv[] = { "exec_fd", "named", (char *)execfn, (char *)comm, NULL };
        int st;
        pid_t pid = fork();

        if (pid == 0) {
                syscall(SYS_execveat, fd, path, argv, (char *[]){ NULL }, flags);
                _exit(100 + errno);
        }
        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * execveat: relative to a directory descriptor, the descriptor's own file
 * (AT_EMPTY_PATH: fexecve), a final symlink refused with
 * AT_SYMLINK_NOFOLLOW, and Linux's names for the program so run.
 */
static void execveat_calls(const char *self)
{
        char dir[4096], execfn[64];
        const char *base = strrchr(self, '/');
        char *argv[] = { "x", NULL };
        int dfd, ffd;

        if (!base || !realpath(self, dir)) {
                CHECK("execveat_self_path", 0);
                return;
        }
        *strrchr(dir, '/') = 0;
        base++;
        dfd = open(dir, O_RDONLY | O_DIRECTORY);
        ffd = open(self, O_RDONLY);
        CHECK("execveat_descriptors", dfd >= 0 && ffd >= 0);
        snprintf(execfn, sizeof execfn, "/dev/fd/%d/%s", dfd, base);
        CHECK("execveat_relative_to_dirfd",
              execveat_child(dfd, base, 0, execfn, base) == 0);
        /* its name: the descriptor's number before Linux 6.14, the file's
         * name since (Mercator's); the test takes either */
        snprintf(execfn, sizeof execfn, "/dev/fd/%d", ffd);
        CHECK("execveat_empty_path_runs_fd",
              execveat_child(ffd, "", AT_EMPTY_PATH, execfn, "-") == 0);
        CHECK("execveat_absolute_ignores_dirfd",
              execveat_child(ffd, "/proc/self/exe", 0, "/proc/self/exe", "exe") == 0);
        CHECK_ERR("execveat_empty_without_flag",
                  syscall(SYS_execveat, ffd, "", argv, NULL, 0), ENOENT);
        CHECK_ERR("execveat_bad_flags",
                  syscall(SYS_execveat, dfd, base, argv, NULL, 0x8), EINVAL);
        CHECK_ERR("execveat_relative_to_file",
                  syscall(SYS_execveat, ffd, base, argv, NULL, 0), ENOTDIR);
        CHECK_ERR("execveat_bad_dirfd",
                  syscall(SYS_execveat, 999, base, argv, NULL, 0), EBADF);
        CHECK_ERR("execveat_nofollow_symlink",
                  syscall(SYS_execveat, AT_FDCWD, "/proc/self/exe", argv, NULL,
                          AT_SYMLINK_NOFOLLOW), ELOOP);
        close(dfd);
        close(ffd);
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
        if (argc > 3 && strcmp(argv[1], "named") == 0)
                return named(argv);
        utest_start("exec_fd");
        if (argc < 2)
                return printf("FAIL exec_fd/usage\n"), 2;
        descriptors(argv[1]);
        pipes();
        directories();
        execveat_calls(argv[0]);
        exec(argv[0], argv[1]);
        return utest_done();
}
