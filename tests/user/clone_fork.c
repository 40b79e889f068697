/*
 * clone_fork.c - the clone calls real libcs make: glibc's fork
 * (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD), a child stack
 * without CLONE_VM, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_SETTLS,
 * CLONE_VM | CLONE_VFORK (posix_spawn's: the child runs on the parent's
 * memory until it execs or exits), a clone exit signal other than
 * SIGCHLD (__WCLONE, __WALL), posix_spawn itself; and `int` arguments
 * passed with garbage in their upper 32 bits, as glibc may pass them.
 * Built with musl and with glibc (clone_fork_glibc).
 */
#include "utest.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#ifndef CLONE_PARENT
#define CLONE_PARENT 0x00008000
#endif

/* clone(flags, stack, ptid, ctid, tls); the child runs fn on its stack
 * and exits with its result. */
long raw_clone(unsigned long flags, void *stack, int *ptid, int *ctid,
               unsigned long tls, int (*fn)(void));
__asm__(
        ".text\n"
        ".globl raw_clone\n"
        "raw_clone:\n\t"
        "movq %rcx, %r10\n\t"
        "pushq %r12\n\t"
        "movq %r9, %r12\n\t"           /* fn */
        "movl $56, %eax\n\t"
        "syscall\n\t"
        "testq %rax, %rax\n\t"
        "jnz 1f\n\t"
        "andq $-16, %rsp\n\t"
        "call *%r12\n\t"
        "movl %eax, %edi\n\t"
        "movl $60, %eax\n\t"
        "syscall\n\t"
        "hlt\n"
        "1:\n\t"
        "popq %r12\n\t"
        "ret\n");

static volatile int shared_word;
static int pid_seen;

static int child_returns_7(void) { return 7; }
static int child_reports_ppid(void) { return getppid() == pid_seen ? 0 : 1; }
static int child_writes_memory(void)
{
        shared_word = 1234;                     /* the parent's memory */
        return 5;
}

static void glibc_fork(void)
{
        int *tid = (int *)anon(PAGE, PROT_READ | PROT_WRITE);
        int st;

        munmap(tid, PAGE);
        tid = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
        tid[0] = -1;
        long pid = syscall(SYS_clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
                           SIGCHLD, 0, 0, tid, 0);
        if (pid == 0) {
                int ok = tid[0] == getpid();
                usleep(20 * 1000);
                _exit(ok ? 0 : 1);
        }
        CHECK("glibc_fork_clone_accepted", pid > 0);
        CHECK("child_settid_writes_child_tid", waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* The child's write is in shared memory, so we see it; Linux clears
         * the word at exit only if the memory is shared with another
         * thread (mm_users > 1): not for a process of one thread. */
        CHECK("child_settid_visible_cleartid_untouched_without_threads",
              tid[0] == pid);

        int ptid = 0;
        pid = syscall(SYS_clone, CLONE_PARENT_SETTID | SIGCHLD, 0, &ptid, 0, 0);
        if (pid == 0)
                _exit(0);
        CHECK("parent_settid_writes_parent_memory", pid > 0 && ptid == pid);
        waitpid(pid, &st, 0);
        munmap(tid, PAGE);
}

static void child_stack(void)
{
        uint8_t *stack = anon(16 * PAGE, PROT_READ | PROT_WRITE);
        int st;

        long pid = raw_clone(SIGCHLD, stack + 16 * PAGE, NULL, NULL, 0,
                             child_returns_7);
        CHECK("clone_with_stack_without_vm", pid > 0 && waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 7);

        shared_word = 0;
        pid = raw_clone(CLONE_VM | CLONE_VFORK | SIGCHLD, stack + 16 * PAGE, NULL,
                        NULL, 0, child_writes_memory);
        CHECK("clone_vm_vfork_child_shares_memory", pid > 0 && shared_word == 1234);
        CHECK("clone_vm_vfork_parent_resumes_after_exit",
              waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 5);

        /* exit signal 0: a "clone" child, seen only with __WCLONE/__WALL */
        pid = raw_clone(0, stack + 16 * PAGE, NULL, NULL, 0, child_returns_7);
        usleep(20 * 1000);
        errno = 0;
        CHECK("clone_child_invisible_to_plain_wait",
              waitpid(pid, &st, WNOHANG) == -1 && errno == ECHILD);
        CHECK("clone_child_seen_with_wclone", waitpid(pid, &st, __WCLONE) == pid &&
              WEXITSTATUS(st) == 7);
        pid = raw_clone(0, stack + 16 * PAGE, NULL, NULL, 0, child_returns_7);
        CHECK("clone_child_seen_with_wall", waitpid(pid, &st, __WALL) == pid);
        munmap(stack, 16 * PAGE);
}

static void clone_parent(void)
{
        int st;
        int go[2], back[2];

        pipe(go);
        pipe(back);
        pid_seen = getpid();
        pid_t mid = fork();
        if (mid == 0) {
                long g = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
                if (g == 0) {
                        char c;
                        read(go[0], &c, 1);
                        _exit(getppid() == pid_seen ? 0 : 1);
                }
                write(back[1], &g, sizeof g);
                _exit(wait(NULL) == -1 && errno == ECHILD ? 0 : 1);
        }
        long g = 0;
        read(back[0], &g, sizeof g);
        CHECK("clone_parent_child_not_the_callers", waitpid(mid, &st, 0) == mid &&
              WEXITSTATUS(st) == 0);
        write(go[1], "x", 1);
        CHECK("clone_parent_grandchild_is_ours", g > 0 &&
              waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        close(go[0]);
        close(go[1]);
        close(back[0]);
        close(back[1]);
}

static void errors(void)
{
        CHECK_ERR("clone_sighand_without_vm_einval",
                  syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EINVAL);
        CHECK_ERR("clone_thread_without_sighand_einval",
                  syscall(SYS_clone, CLONE_THREAD | CLONE_VM | SIGCHLD, 0, 0, 0, 0),
                  EINVAL);
}

static void spawn(const char *self)
{
        pid_t pid;
        int st;
        char *argv[] = { (char *)self, "--spawned", NULL };
        extern char **environ;

        CHECK("posix_spawn_runs_program",
              posix_spawn(&pid, self, NULL, NULL, argv, environ) == 0 &&
              waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 33);
        char *bad[] = { "/nonexistent/program", NULL };
        int r = posix_spawn(&pid, bad[0], NULL, NULL, bad, environ);
        if (r == 0) {                   /* some libcs report it by exit 127 */
                waitpid(pid, &st, 0);
                r = WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ENOENT : -1;
        }
        CHECK("posix_spawn_missing_program_enoent", r == ENOENT);
}

/* int arguments: only the low 32 bits count (glibc passes AT_FDCWD as
 * 0x00000000ffffff9c and -1 as 0x00000000ffffffff). */
static void int_arguments(const char *self)
{
        const long hi = 0x5a5a5a5a00000000L;
        int st;

        pid_t pid = fork();
        if (pid == 0)
                _exit(3);
        CHECK("wait4_minus_one_zero_extended",
              syscall(SYS_wait4, 0xffffffffL, &st, 0, 0) == pid && WEXITSTATUS(st) == 3);
        pid = fork();
        if (pid == 0)
                _exit(4);
        CHECK("wait4_pid_and_options_high_bits",
              syscall(SYS_wait4, hi | pid, &st, hi, 0) == pid);
        long fd = syscall(SYS_openat, 0xffffff9cL, self, O_RDONLY, 0);
        CHECK("openat_at_fdcwd_zero_extended", fd >= 0);
        char c;
        CHECK("read_fd_high_bits", syscall(SYS_read, hi | fd, &c, 1) == 1);
        CHECK("lseek_whence_high_bits", syscall(SYS_lseek, hi | fd, 0, hi | SEEK_SET) == 0);
        long fd2 = syscall(SYS_dup2, hi | fd, hi | 60);
        CHECK("dup2_high_bits", fd2 == 60);
        CHECK("fcntl_high_bits", syscall(SYS_fcntl, hi | 60, hi | F_GETFD) == 0);
        CHECK("close_fd_high_bits", syscall(SYS_close, hi | 60) == 0 &&
              syscall(SYS_close, hi | fd) == 0);
        CHECK("kill_high_bits", syscall(SYS_kill, hi | getpid(), hi | 0) == 0);
        CHECK("mmap_fd_minus_one_zero_extended",
              syscall(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                      0xffffffffL, 0) > 0);
}

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "--spawned") == 0)
                return 33;
        utest_start("clone_fork");
        glibc_fork();
        child_stack();
        clone_parent();
        errors();
        spawn(argv[0]);
        int_arguments(argv[0]);
        return utest_done();
}
