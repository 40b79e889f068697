/*
 * prctl_random.c - prctl (name, parent-death signal, dumpable, keepcaps,
 * no_new_privs), personality, getrandom, uname.
 */
#include "utest.h"
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>

static int report_fd = -1;

static void on_parent_death(int sig)
{
        char c = sig == SIGUSR1 ? 'D' : '?';

        write(report_fd, &c, 1);
        _exit(0);
}

/*
 * PR_SET_PDEATHSIG delivered: a grandchild asks for SIGUSR1 when its
 * parent dies, the parent exits, the grandchild's handler reports 'D'
 * through a pipe. (An orphan goes to init: on Mercator, that is this
 * test, which reaps it; on Linux, someone else.)
 */
static void pdeathsig_delivered(void)
{
        int report[2], ready[2], st;
        char c = 0, r;

        if (pipe(report) || pipe(ready))
                return;
        pid_t mid = fork();
        if (mid == 0) {
                if (fork() == 0) {
                        report_fd = report[1];
                        signal(SIGUSR1, on_parent_death);
                        prctl(PR_SET_PDEATHSIG, SIGUSR1);
                        write(ready[1], "r", 1);
                        sleep(20);
                        _exit(1);       /* no signal came */
                }
                read(ready[0], &r, 1);
                _exit(0);
        }
        close(report[1]);
        close(ready[0]);
        close(ready[1]);
        waitpid(mid, &st, 0);
        CHECK("pdeathsig_delivered", read(report[0], &c, 1) == 1 && c == 'D');
        while (read(report[0], &c, 1) > 0)      /* EOF: the grandchild is gone */
                ;
        close(report[0]);
        if (getpid() == 1)
                while (waitpid(-1, &st, WNOHANG) > 0)
                        ;
}

#if defined(__riscv)
#define UNAME_MACHINE "riscv64"
#else
#define UNAME_MACHINE "x86_64"
#endif

/*
 * A root process that becomes nobody is undumpable (its /proc files are
 * root's); the program it then execs is dumpable again and can list its
 * own /proc/self/fd (trinity does, and died of it). The program is this
 * test, opened while root and run with fexecve so no path must be
 * searchable by nobody; its run with AFTER_EXEC reports by exit status.
 */
#define AFTER_EXEC "--after-exec"
static int after_exec(void)
{
        DIR *d = opendir("/proc/self/fd");
        int ok = d && prctl(PR_GET_DUMPABLE) == 1;

        if (d)
                closedir(d);
        return ok ? 0 : 1;
}

static void dumpable_after_exec(void)
{
        int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), st = -1;
        pid_t child;

        if (geteuid() != 0 || fd < 0) {
                printf("prctl_random: not root, dumpable_after_exec skipped\n");
                return;
        }
        child = fork();
        if (child == 0) {
                char *argv[] = { "prctl_random", AFTER_EXEC, NULL };
                if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
                        _exit(2);
                if (prctl(PR_GET_DUMPABLE) != 0)
                        _exit(3);
                fexecve(fd, argv, environ);
                _exit(4);
        }
        close(fd);
        CHECK("dumpable_after_exec", child > 0 && waitpid(child, &st, 0) == child &&
                                     WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
        char name[32];
        int v = -1;

        if (argc > 1 && strcmp(argv[1], AFTER_EXEC) == 0)
                return after_exec();
        utest_start("prctl_random");
        dumpable_after_exec();
        CHECK("set_name", prctl(PR_SET_NAME, "worker-with-a-long-name") == 0);
        CHECK("get_name_cut_to_15", prctl(PR_GET_NAME, name) == 0 &&
                                    strcmp(name, "worker-with-a-l") == 0);
        char comm[32] = { 0 };
        int cfd = open("/proc/self/comm", O_RDONLY);
        CHECK("proc_comm_is_name", cfd >= 0 && read(cfd, comm, sizeof comm) == 16 &&
                                   strcmp(comm, "worker-with-a-l\n") == 0);
        close(cfd);
        CHECK("dumpable_by_default", prctl(PR_GET_DUMPABLE) == 1);
        CHECK("set_dumpable_0", prctl(PR_SET_DUMPABLE, 0) == 0 && prctl(PR_GET_DUMPABLE) == 0);
        prctl(PR_SET_DUMPABLE, 1);
        CHECK_ERR("set_dumpable_bad", prctl(PR_SET_DUMPABLE, 7), EINVAL);
        CHECK("set_pdeathsig", prctl(PR_SET_PDEATHSIG, SIGUSR2) == 0 &&
                               prctl(PR_GET_PDEATHSIG, &v) == 0 && v == SIGUSR2);
        prctl(PR_SET_PDEATHSIG, 0);
        CHECK_ERR("pdeathsig_bad", prctl(PR_SET_PDEATHSIG, 999), EINVAL);
        pdeathsig_delivered();
        CHECK("keepcaps", prctl(PR_SET_KEEPCAPS, 1) == 0 && prctl(PR_GET_KEEPCAPS) == 1 &&
                          prctl(PR_SET_KEEPCAPS, 0) == 0 && prctl(PR_GET_KEEPCAPS) == 0);
        /* no_new_privs: set once, never cleared, inherited (the test may
         * start with it set: a sandbox may run it so) */
        CHECK_ERR("no_new_privs_bad_value", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0),
                  EINVAL);
        CHECK_ERR("no_new_privs_extra_arg", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0),
                  EINVAL);
        CHECK("no_new_privs_set", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
                                  prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
        CHECK_ERR("no_new_privs_not_cleared", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0),
                  EINVAL);
        CHECK_ERR("no_new_privs_get_extra_arg",
                  prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL);
        pid_t nnp = fork();
        if (nnp == 0)
                _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
        int nnp_status;
        CHECK("no_new_privs_inherited", nnp > 0 && waitpid(nnp, &nnp_status, 0) == nnp &&
              WIFEXITED(nnp_status) && WEXITSTATUS(nnp_status) == 0);
        CHECK_ERR("unknown_option", prctl(12345, 0, 0, 0, 0), EINVAL);
        CHECK_ERR("get_name_bad_pointer", prctl(PR_GET_NAME, (void *)8), EFAULT);

        CHECK("personality_query", personality(0xffffffff) == PER_LINUX);

        unsigned char a[64], b[64], zero[64] = { 0 };
        CHECK("getrandom_fills", syscall(SYS_getrandom, a, sizeof a, 0) == 64 &&
                                 memcmp(a, zero, sizeof a) != 0);
        CHECK("getrandom_differs", syscall(SYS_getrandom, b, sizeof b, 1) == 64 &&
                                   memcmp(a, b, sizeof a) != 0);
        CHECK("getrandom_random_flag", syscall(SYS_getrandom, b, 16, 2) == 16);
        CHECK("getrandom_zero_len", syscall(SYS_getrandom, b, 0, 0) == 0);
        CHECK_ERR("getrandom_bad_flags", syscall(SYS_getrandom, b, 16, 0x80), EINVAL);
        CHECK_ERR("getrandom_bad_pointer", syscall(SYS_getrandom, (void *)8, 16, 0), EFAULT);
        int ones = 0;
        unsigned char big[4096];
        syscall(SYS_getrandom, big, sizeof big, 0);
        for (size_t i = 0; i < sizeof big; i++)
                ones += __builtin_popcount(big[i]);
        CHECK("getrandom_balanced_bits", ones > 4096 * 8 * 45 / 100 && ones < 4096 * 8 * 55 / 100);

        struct utsname u;
        CHECK("uname", uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 &&
                       strcmp(u.machine, UNAME_MACHINE) == 0 && u.release[0] >= '2' &&
                       u.release[0] <= '9' && strchr(u.release, '.'));
        return utest_done();
}
