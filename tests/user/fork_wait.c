/*
 * fork_wait.c - fork is copy-on-write and isolates both ways, MAP_SHARED
 * memory stays shared, vfork's parent runs after the child execs or exits,
 * wait4 reports exit codes and killing signals (CONCEPTS E23, E24, E27),
 * and hundreds of processes can be alive at once.
 */
#include "utest.h"
#include <signal.h>
#include <sys/wait.h>

/* Run fn in a child; its wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                fn(arg);
                _exit(0);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

static void write_byte(void *p) { *(volatile uint8_t *)p = 1; }
static void read_byte(void *p) { (void)*(volatile uint8_t *)p; }
static void call(void *p) { ((void (*)(void))p)(); }

static void child_changes(void *p)
{
        uint8_t *m = p;

        m[0] = 'c';                             /* COW break in the child */
        _exit(m[PAGE] == 'p' ? 7 : 8);          /* untouched page: parent's */
}

static void cow(void)
{
        uint8_t *m = anon(4 * PAGE, PROT_READ | PROT_WRITE);

        memset(m, 'p', 4 * PAGE);
        int st = in_child(child_changes, m);
        CHECK("child_sees_parent_memory", WIFEXITED(st) && WEXITSTATUS(st) == 7);
        CHECK("child_write_invisible_to_parent", m[0] == 'p');
        pid_t pid = fork();
        if (pid == 0) {
                sleep(0);
                usleep(50 * 1000);              /* parent writes meanwhile */
                _exit(m[1] == 'p' ? 0 : 1);
        }
        m[1] = 'q';
        waitpid(pid, &st, 0);
        CHECK("parent_write_invisible_to_child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        m[2] = 'r';
        CHECK("parent_writes_after_child_exit", m[2] == 'r' && m[1] == 'q');
        munmap(m, 4 * PAGE);
}

static void child_writes_shared(void *p)
{
        ((uint8_t *)p)[100] = 'S';
}

static void shared(void)
{
        uint8_t *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        s[0] = 'x';
        int st = in_child(child_writes_shared, s);
        CHECK("shared_mapping_stays_shared_across_fork",
              WIFEXITED(st) && s[100] == 'S' && s[0] == 'x');
        munmap(s, PAGE);
}

static void deaths(void)
{
        uint8_t *ro = anon(PAGE, PROT_READ);
        uint8_t *rw = anon(PAGE, PROT_READ | PROT_WRITE);
        int st;

        memset(rw, 0xc3, PAGE);                 /* ret, in a non-exec page */
        st = in_child(write_byte, NULL);
        CHECK("null_write_kills_with_sigsegv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        st = in_child(read_byte, (void *)0xffff800000000000UL);
        CHECK("kernel_read_kills_with_sigsegv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        st = in_child(read_byte, (void *)0x0000800000000000UL);
        CHECK("noncanonical_read_kills_with_sigsegv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        st = in_child(write_byte, ro);
        CHECK("readonly_write_kills_with_sigsegv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        st = in_child(call, rw);
        CHECK("nx_exec_kills_with_sigsegv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        CHECK("parent_survives_its_children", ro[0] == 0 && rw[0] == 0xc3);
        munmap(ro, PAGE);
        munmap(rw, PAGE);
}

static void waits(void)
{
        int st;
        pid_t pid = fork();

        if (pid == 0)
                _exit(42);
        CHECK("wait4_returns_the_child", wait4(pid, &st, 0, NULL) == pid);
        CHECK("wait_status_exit_code", WIFEXITED(st) && WEXITSTATUS(st) == 42);
        CHECK_ERR("wait_without_children", wait(&st), ECHILD);
        CHECK_ERR("wait_for_a_stranger", waitpid(1 << 20, &st, 0), ECHILD);
        pid = fork();
        if (pid == 0) {
                usleep(100 * 1000);
                _exit(3);
        }
        CHECK("wnohang_before_exit", waitpid(pid, &st, WNOHANG) == 0);
        CHECK("wait_after_exit", waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 3);
        pid = fork();
        if (pid == 0)
                for (;;)
                        ;
        CHECK("kill_sigkill", kill(pid, SIGKILL) == 0);
        CHECK("killed_child_reports_sigkill", waitpid(pid, &st, 0) == pid &&
              WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        CHECK_ERR("kill_no_such_process", kill(1 << 20, SIGKILL), ESRCH);
}


static void vforks(void)
{
        int st;
        pid_t parent = getpid();
        pid_t pid = vfork();

        if (pid == 0)
                _exit(getppid() == parent ? 5 : 6);
        CHECK("vfork_child_ran_first", pid > 0 && waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 5);
        pid = fork();
        if (pid == 0)
                _exit(getppid() == parent ? 0 : 1);
        CHECK("getppid_in_child", waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 0);
}

/* MANY children alive at once, each blocked reading a pipe until the
 * parent closes it; each exits with its own number. (The table of a
 * kernel with a fixed 64 slots stops at the 64th.) */
#define MANY 300

static void many_alive(void)
{
        static pid_t pids[MANY];
        int fds[2], forked = 0, reaped = 0, right = 0;

        if (pipe(fds))
                return;
        for (int i = 0; i < MANY; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        char c;
                        close(fds[1]);
                        _exit(read(fds[0], &c, 1) == 0 ? i % 200 : 255);
                }
                if (pid < 0)
                        break;
                pids[forked++] = pid;
        }
        CHECK("hundreds_of_children_alive_at_once", forked == MANY);
        close(fds[0]);
        close(fds[1]);
        for (int i = 0; i < forked; i++) {
                int st;
                if (waitpid(pids[i], &st, 0) != pids[i])
                        continue;
                reaped++;
                right += WIFEXITED(st) && WEXITSTATUS(st) == i % 200;
        }
        CHECK("every_child_reaped_with_its_status", reaped == forked && right == forked);
        CHECK_ERR("no_child_left", waitpid(-1, NULL, WNOHANG), ECHILD);
}

int main(void)
{
        utest_start("fork_wait");
        cow();
        shared();
        deaths();
        waits();
        vforks();
        many_alive();
        return utest_done();
}
