/*
 * process_vm.c - process_vm_readv and process_vm_writev between a parent
 * and its child: scattered vectors on both sides, copy-on-write kept
 * apart, partial transfers stopping at an unmapped page, and Linux's
 * errors (EFAULT, ESRCH, EINVAL) (CONCEPTS E24).
 */
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

static int to_child[2], to_parent[2];

static void say(int fd) { if (write(fd, "x", 1) != 1) _exit(3); }
static void hear(int fd) { char c; if (read(fd, &c, 1) != 1) _exit(3); }

int main(void)
{
        utest_start("process_vm");
        uint8_t *buf = anon(4 * PAGE, PROT_READ | PROT_WRITE);
        uint8_t *ro = anon(PAGE, PROT_READ | PROT_WRITE);
        uint8_t *gone = anon(2 * PAGE, PROT_READ | PROT_WRITE);

        memset(buf, 'p', 4 * PAGE);
        memset(ro, 'r', PAGE);
        mprotect(ro, PAGE, PROT_READ);
        munmap(gone + PAGE, PAGE);              /* a hole after gone */
        memset(gone, 'g', PAGE);
        if (pipe(to_child) || pipe(to_parent))
                return 2;

        pid_t pid = fork();
        if (pid == 0) {
                memset(buf, 'c', PAGE);         /* child's own copy */
                say(to_parent[1]);
                hear(to_child[0]);              /* parent writes to us */
                int ok = buf[PAGE] == 'W' && buf[PAGE + 9] == 'W' &&
                         buf[PAGE + 10] == 'p' && buf[2 * PAGE] == 'V' &&
                         buf[0] == 'c';
                _exit(ok ? 0 : 1);
        }
        hear(to_parent[0]);

        /* Read: two remote ranges into three local pieces. */
        char a[5], b[PAGE], c[PAGE];
        struct iovec local[3] = { { a, 5 }, { b, PAGE }, { c, PAGE } };
        struct iovec remote[2] = { { buf, PAGE }, { buf + PAGE, PAGE + 5 } };
        ssize_t n = process_vm_readv(pid, local, 3, remote, 2, 0);
        CHECK("readv_count", n == 5 + 2 * PAGE);
        CHECK("readv_child_copy", a[0] == 'c' && b[PAGE - 6] == 'c' &&
              b[PAGE - 5] == 'p' && c[PAGE - 1] == 'p');
        CHECK("parent_memory_untouched", buf[0] == 'p');

        /* Write into the child, which checks it; the parent's copy of the
         * same pages (still shared copy-on-write) keeps its bytes. */
        char w[10], v[1] = { 'V' };
        memset(w, 'W', sizeof w);
        struct iovec lw[2] = { { w, 10 }, { v, 1 } };
        struct iovec rw[2] = { { buf + PAGE, 10 }, { buf + 2 * PAGE, 1 } };
        CHECK("writev_count", process_vm_writev(pid, lw, 2, rw, 2, 0) == 11);
        CHECK("writev_parent_cow_kept", buf[PAGE] == 'p' && buf[2 * PAGE] == 'p');

        /* Partial: the second remote page is unmapped. */
        char big[2 * PAGE];
        struct iovec lb = { big, sizeof big };
        struct iovec rb = { gone, 2 * PAGE };
        CHECK("readv_partial", process_vm_readv(pid, &lb, 1, &rb, 1, 0) == PAGE &&
              big[0] == 'g' && big[PAGE - 1] == 'g');
        struct iovec rh = { gone + PAGE, PAGE };
        CHECK_ERR("readv_hole_efault", process_vm_readv(pid, &lb, 1, &rh, 1, 0),
                  EFAULT);
        struct iovec rr = { ro, 1 };
        CHECK_ERR("writev_readonly_efault",
                  process_vm_writev(pid, &lb, 1, &rr, 1, 0), EFAULT);
        struct iovec lbad = { (void *)8, 16 };
        struct iovec rgood = { buf, 16 };
        CHECK_ERR("local_bad_efault",
                  process_vm_readv(pid, &lbad, 1, &rgood, 1, 0), EFAULT);
        CHECK_ERR("iov_array_efault",
                  process_vm_readv(pid, (void *)8, 1, &rgood, 1, 0), EFAULT);
        CHECK_ERR("flags_einval", process_vm_readv(pid, &lb, 1, &rgood, 1, 1),
                  EINVAL);
        CHECK_ERR("iovcnt_einval",
                  process_vm_readv(pid, &lb, 1025, &rgood, 1, 0), EINVAL);
        struct iovec lzero = { big, 0 };
        CHECK("zero_length", process_vm_readv(pid, &lzero, 1, &rgood, 1, 0) == 0);
        CHECK("own_process", process_vm_readv(getpid(), &lb, 1, &rgood, 1, 0) == 16 &&
              big[0] == 'p');

        /* A process that gave up root may not read its root parent. */
        pid_t parent = getpid();
        pid_t u = fork();
        if (u == 0) {
                char one[8];
                struct iovec l1 = { one, 8 }, r1 = { buf, 8 };
                char path[64];
                if (setgid(65534) || setuid(65534))
                        _exit(2);
                errno = 0;
                long r = process_vm_readv(parent, &l1, 1, &r1, 1, 0);
                int ok = r == -1 && errno == EPERM;
                snprintf(path, sizeof path, "/proc/%d/mem", (int)parent);
                errno = 0;
                ok = ok && open(path, O_RDONLY) == -1 && errno == EACCES;
                /* its own memory is still its own */
                ok = ok && process_vm_readv(getpid(), &l1, 1, &r1, 1, 0) == 8;
                _exit(ok ? 0 : 1);
        }
        int ust = 0;
        waitpid(u, &ust, 0);
        CHECK("unprivileged_eperm", WIFEXITED(ust) && WEXITSTATUS(ust) == 0);

        say(to_child[1]);
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK("child_saw_writes", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK_ERR("reaped_esrch", process_vm_readv(pid, &lb, 1, &rgood, 1, 0),
                  ESRCH);
        return utest_done();
}
