/*
 * rlimits.c - resource limits that bite: RLIMIT_NOFILE (the descriptor
 * table), RLIMIT_AS (mmap, brk, mremap), RLIMIT_DATA (brk and private
 * writable mappings), RLIMIT_STACK (stack growth, and where mmap places
 * things after execve), RLIMIT_NPROC (fork by a non-root user); limits are
 * inherited by fork and kept by execve. Each part runs in a child, which
 * prints its own checks.
 */
#include "utest.h"
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *self;

static int in_child(void (*fn)(void))
{
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                utest_failures = 0;
                fn();
                _exit(utest_done());
        }
        waitpid(pid, &status, 0);
        return status;
}

static void set_limit(int res, rlim_t cur, rlim_t max)
{
        struct rlimit rl = { cur, max };

        if (setrlimit(res, &rl)) {
                printf("FAIL rlimits/setup: setrlimit(%d): %s\n", res, strerror(errno));
                exit(2);
        }
}

static void nofile(void)
{
        set_limit(RLIMIT_NOFILE, 10, 10);
        CHECK("getdtablesize_agrees", getdtablesize() == 10);
        CHECK("sysconf_open_max_agrees", sysconf(_SC_OPEN_MAX) == 10);
        int last = -1, fd;
        while ((fd = dup(0)) >= 0)
                last = fd;
        CHECK("fds_stop_below_limit", last == 9 && errno == EMFILE);
        CHECK_ERR("dup2_at_limit_ebadf", dup2(0, 10), EBADF);
        CHECK_ERR("fcntl_dupfd_at_limit", fcntl(0, F_DUPFD, 10), EINVAL);
        close(5);
        CHECK("freed_fd_reused", dup(0) == 5);
        struct rlimit rl;
        pid_t pid = fork();
        if (pid == 0) {
                getrlimit(RLIMIT_NOFILE, &rl);
                _exit(rl.rlim_cur == 10 ? 0 : 1);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK("fork_inherits_limit", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A thousand descriptors: Linux's default soft limit is 1024, and select's
 * FD_SETSIZE; programs (python's multiprocessing, compilers) expect them. */
static void many_files(void)
{
        set_limit(RLIMIT_NOFILE, 1024, 1024);
        int last = -1, fd;
        while ((fd = dup(0)) >= 0)
                last = fd;
        CHECK("thousand_fds", last == 1023 && errno == EMFILE);
        CHECK("dup2_high", close(1000) == 0 && dup2(0, 1000) == 1000);
        fd_set rs;
        FD_ZERO(&rs);
        FD_SET(1000, &rs);
        struct timeval tv = { 0, 0 };
        CHECK("select_high_fd", select(1001, &rs, NULL, NULL, &tv) >= 0);
        char path[32];
        struct stat st;
        CHECK("proc_fd_high", snprintf(path, sizeof path, "/proc/self/fd/%d", 1000) > 0 &&
              stat(path, &st) == 0);
        for (int i = 3; i <= 1023; i++)
                close(i);
}

#define MiB (1024UL * 1024)

static void address_space(void)
{
        set_limit(RLIMIT_AS, 64 * MiB, 64 * MiB);
        CHECK_MMAP_ERR("mmap_past_as", mmap(NULL, 128 * MiB, PROT_READ,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
        void *small = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("mmap_within_as", small != MAP_FAILED);
        CHECK_MMAP_ERR("mremap_past_as", mremap(small, MiB, 128 * MiB, MREMAP_MAYMOVE), ENOMEM);
        /* The raw call: musl's sbrk() only answers sbrk(0). */
        long cur = syscall(SYS_brk, 0);
        CHECK("brk_past_as_refused", syscall(SYS_brk, cur + 128 * MiB) == cur);
        CHECK("brk_within_as", syscall(SYS_brk, cur + 64 * 1024) == cur + 64 * 1024);
}

static void data(void)
{
        set_limit(RLIMIT_DATA, 16 * MiB, 16 * MiB);
        CHECK_MMAP_ERR("private_writable_past_data",
                       mmap(NULL, 32 * MiB, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
        void *ro = mmap(NULL, 32 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("read_only_not_data", ro != MAP_FAILED);
        void *sh = mmap(NULL, 32 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK("shared_not_data", sh != MAP_FAILED);
        long cur = syscall(SYS_brk, 0);
        CHECK("brk_past_data_refused", syscall(SYS_brk, cur + 32 * MiB) == cur);
        CHECK("brk_within_data", syscall(SYS_brk, cur + 64 * 1024) == cur + 64 * 1024);
}

static int depth_kb(int n)
{
        volatile char pad[1024];

        pad[0] = (char)n;
        return n == 0 ? pad[0] : depth_kb(n - 1) + pad[0];
}

/* The stack may not grow past RLIMIT_STACK: SIGSEGV. */
static void stack_growth(void)
{
        set_limit(RLIMIT_STACK, 256 * 1024, RLIM_INFINITY);
        depth_kb(100);                  /* well within */
        depth_kb(2048);                 /* 2 MiB: past the limit */
        _exit(0);
}

/* This process's VmSize in bytes (/proc/self/status). */
static unsigned long vm_size(void)
{
        char line[128];
        unsigned long kb = 0;
        FILE *f = fopen("/proc/self/status", "r");

        while (f && fgets(line, sizeof line, f))
                if (!strncmp(line, "VmSize:", 7))
                        kb = strtoul(line + 7, NULL, 10);
        if (f)
                fclose(f);
        return kb * 1024;
}

/* Nor past RLIMIT_AS (Linux's may_expand_vm in acct_stack_growth). */
static void stack_growth_as(void)
{
        set_limit(RLIMIT_STACK, RLIM_INFINITY, RLIM_INFINITY);
        set_limit(RLIMIT_AS, vm_size() + 256 * 1024, RLIM_INFINITY);
        depth_kb(100);                  /* within */
        depth_kb(2048);                 /* 2 MiB more: past the limit */
        _exit(0);
}

/* After execve with a 1 GiB stack limit, mmap's top-down area starts
 * below the stack's room (Linux's mmap_base). */
static int mmap_gap_after_exec(void)
{
        char here;
        void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        return p != MAP_FAILED && (uintptr_t)&here > (uintptr_t)p &&
               (uintptr_t)&here - (uintptr_t)p > 1024 * MiB ? 0 : 1;
}

static void stack_at_exec(void)
{
        set_limit(RLIMIT_STACK, 1024 * MiB, RLIM_INFINITY);
        execl(self, self, "--mmap-gap", (char *)NULL);
        _exit(3);
}

static void nproc(void)
{
        setgroups(0, NULL);
        setresgid(54321, 54321, 54321);
        setresuid(54321, 54321, 54321);
        set_limit(RLIMIT_NPROC, 1, 1);
        CHECK_ERR("fork_past_nproc", fork(), EAGAIN);
        set_limit(RLIMIT_NPROC, 0, 1);
        CHECK_ERR("nproc_zero", fork(), EAGAIN);
}

int main(int argc, char **argv)
{
        int st;

        self = argv[0];
        if (argc > 1 && strcmp(argv[1], "--mmap-gap") == 0)
                return mmap_gap_after_exec();
        utest_start("rlimits");
        st = in_child(nofile);
        CHECK("nofile_in_child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = in_child(many_files);
        CHECK("many_files_in_child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = in_child(address_space);
        CHECK("as_in_child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = in_child(data);
        CHECK("data_in_child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = in_child(stack_growth);
        CHECK("stack_limit_segv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        st = in_child(stack_growth_as);
        CHECK("stack_past_as_segv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        st = in_child(stack_at_exec);
        CHECK("stack_limit_moves_mmap_base", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = in_child(nproc);
        CHECK("nproc_in_child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        struct rlimit rl;
        CHECK_ERR("bad_resource", getrlimit(99, &rl), EINVAL);
        rl.rlim_cur = 10;
        rl.rlim_max = 5;
        CHECK_ERR("cur_above_max", setrlimit(RLIMIT_CORE, &rl), EINVAL);
        CHECK("prlimit_reads_init_defaults", prlimit(0, RLIMIT_STACK, NULL, &rl) == 0 &&
                                             rl.rlim_cur > 0);
        CHECK_ERR("prlimit_no_such_pid", prlimit(1 << 22, RLIMIT_STACK, NULL, &rl), ESRCH);
        return utest_done();
}
