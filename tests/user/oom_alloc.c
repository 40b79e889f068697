/*
 * oom_alloc.c - memory runs out inside system calls (issue 16): as on
 * Linux, whose page allocator calls the OOM killer for any allocation
 * that may wait, the killer makes room and the call goes on.
 *
 * Only where tools/run booted the program (/.mercator-args: Mercator at
 * -m 128M without swap, and Debian's Linux in QEMU, which test.py runs
 * it on first) - never on the host, whose memory the whole team shares.
 * In each round a "hog" (oom_score_adj 0) touches 65% of what memory
 * there is and waits; then a worker, small itself, allocates 45% inside
 * system calls:
 *   1. write() to a memfd (tmpfs pages), 1 MiB at a time;
 *   2. pipe buffers: pipes of 256 KiB (F_SETPIPE_SZ), each filled;
 *   3. page tables of a sparse mapping: read() of one byte of /dev/zero
 *      into every 2 MiB of a 512 GiB MAP_NORESERVE mapping (128 GiB on
 *      riscv64, whose Sv39 user space is 256 GiB; a page-table
 *      page and a page for each byte, both allocated by the kernel's own
 *      copy to the user);
 * each time the hog is killed (SIGKILL), every call of the worker
 * succeeds and it finds its bytes again. Then:
 *   4. no hog: the sparse reads go on until memory is gone; the reader
 *      is the largest process and so the victim itself (SIGKILL);
 * then a new process gets half of memory and runs (the system goes on),
 * and /proc/vmstat's oom_kill counted four kills. On Mercator init's
 * exit checks that no page leaked.
 */
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define MIB             (1024UL * 1024)
#define PIPE_BYTES      (256 * 1024)
#if defined(__riscv)
/* Sv39 leaves 256 GiB of user space (Linux's and Mercator's); 128 GiB is
 * 65536 steps of a page-table page and a page each, 512 MiB: more than
 * the riscv64 tier's 256 MiB machine, as 512 GiB is on x86-64. */
#define SPARSE_SPAN     (128UL << 30)
#else
#define SPARSE_SPAN     (512UL << 30)
#endif
#define SPARSE_STEP     (2 * MIB)

static size_t room;     /* bytes: MemAvailable + SwapFree at the start */

static int set_adj(const char *text)
{
        return write_text("/proc/self/oom_score_adj", text) == 0;
}

/* A hog: touches len bytes, says so on a pipe, waits to be killed. */
static pid_t hog(size_t len, int *ready)
{
        int fds[2];
        char c = 0;
        pid_t pid;

        *ready = 0;
        if (pipe(fds))
                return -1;
        pid = fork();
        if (pid == 0) {
                char *p;

                close(fds[0]);
                if (!set_adj("0"))
                        _exit(4);
                p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (p == MAP_FAILED)
                        _exit(3);
                for (size_t i = 0; i < len; i += PAGE)
                        p[i] = (char)(1 + i / PAGE);
                (void)!write(fds[1], "r", 1);
                for (;;)
                        pause();
        }
        close(fds[1]);
        *ready = pid > 0 && read(fds[0], &c, 1) == 1 && c == 'r';
        close(fds[0]);
        return pid;
}

/* The worker's exit status, or -1 if a signal ended it. */
static int status_of(pid_t pid)
{
        int st;

        if (pid <= 0 || waitpid(pid, &st, 0) != pid)
                return -2;
        if (WIFSIGNALED(st))
                printf("NOTE oom_alloc: worker %d killed by signal %d\n",
                       (int)pid, WTERMSIG(st));
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Killed by SIGKILL (by the OOM killer); one still alive is ended by
 * our SIGTERM, and that is a failure. */
static int was_killed(pid_t h)
{
        (void)kill(h, SIGTERM);
        return killed_by(h, SIGKILL);
}

static char pattern(size_t at)
{
        return (char)(at * 7 + at / 4093);
}

/* 1: write() to a memfd, then read back. => exit status. */
static int memfd_worker(size_t len)
{
        static char buf[MIB];
        int fd = (int)syscall(SYS_memfd_create, "oom_alloc", 0);

        if (fd < 0)
                return 10;
        for (size_t off = 0; off < len; off += MIB) {
                for (size_t i = 0; i < MIB; i++)
                        buf[i] = pattern(off + i);
                ssize_t n = write(fd, buf, MIB);
                if (n != (ssize_t)MIB) {
                        printf("NOTE oom_alloc: write at %zu MiB gave %zd "
                               "(errno %d)\n", off / MIB, n, errno);
                        return 11;
                }
        }
        if (lseek(fd, 0, SEEK_SET) != 0)
                return 12;
        for (size_t off = 0; off < len; off += MIB) {
                if (read(fd, buf, MIB) != (ssize_t)MIB)
                        return 13;
                for (size_t i = 0; i < MIB; i++)
                        if (buf[i] != pattern(off + i))
                                return 14;
        }
        close(fd);
        return 0;
}

/* 2: pipes of PIPE_BYTES, each filled, then read back. => exit status. */
static int pipe_worker(size_t len)
{
        static char buf[PIPE_BYTES];
        size_t npipes = len / PIPE_BYTES;
        struct rlimit rl = { npipes * 2 + 64, npipes * 2 + 64 };
        int (*fds)[2] = calloc(npipes, sizeof *fds);

        if (!fds || setrlimit(RLIMIT_NOFILE, &rl))
                return 20;
        for (size_t k = 0; k < npipes; k++) {
                if (pipe(fds[k])) {
                        printf("NOTE oom_alloc: pipe %zu: errno %d\n", k,
                               errno);
                        return 21;
                }
                if (fcntl(fds[k][1], F_SETPIPE_SZ, PIPE_BYTES) < PIPE_BYTES) {
                        printf("NOTE oom_alloc: F_SETPIPE_SZ %zu: errno %d\n",
                               k, errno);
                        return 22;
                }
                for (size_t i = 0; i < PIPE_BYTES; i++)
                        buf[i] = pattern(k * PIPE_BYTES + i);
                ssize_t n = write(fds[k][1], buf, PIPE_BYTES);
                if (n != PIPE_BYTES) {
                        printf("NOTE oom_alloc: pipe %zu write gave %zd "
                               "(errno %d)\n", k, n, errno);
                        return 23;
                }
        }
        for (size_t k = 0; k < npipes; k++) {
                size_t got = 0;

                while (got < PIPE_BYTES) {
                        ssize_t n = read(fds[k][0], buf + got,
                                         PIPE_BYTES - got);
                        if (n <= 0)
                                return 24;
                        got += (size_t)n;
                }
                for (size_t i = 0; i < PIPE_BYTES; i++)
                        if (buf[i] != pattern(k * PIPE_BYTES + i))
                                return 25;
                close(fds[k][0]);
                close(fds[k][1]);
        }
        free(fds);
        return 0;
}

/* 3 and 4: one byte read from /dev/zero into every SPARSE_STEP of a
 * sparse mapping, `steps` of them (0: until the end of the mapping),
 * then each checked. => exit status. */
static int sparse_worker(size_t steps)
{
        int fd = open("/dev/zero", O_RDONLY);
        char *p = mmap(NULL, SPARSE_SPAN, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        size_t n = steps ? steps : SPARSE_SPAN / SPARSE_STEP;

        if (fd < 0 || p == MAP_FAILED)
                return 30;
        for (size_t k = 0; k < n; k++) {
                if (read(fd, p + k * SPARSE_STEP, 1) != 1) {
                        printf("NOTE oom_alloc: read into step %zu: "
                               "errno %d\n", k, errno);
                        return 31;
                }
        }
        for (size_t k = 0; k < n; k++)
                if (p[k * SPARSE_STEP] != 0)
                        return 32;
        return 0;
}

/* A worker in a child. */
static pid_t start(int (*fn)(size_t), size_t arg)
{
        pid_t pid = fork();

        if (pid == 0)
                _exit(fn(arg));
        return pid;
}

/* One round: a hog of 65% of room, then fn(45% of room) must succeed
 * and the hog die. */
static void round_with_hog(const char *name, int (*fn)(size_t), size_t arg)
{
        char check[64];
        int ready;
        pid_t h = hog(room / 100 * 65 / PAGE * PAGE, &ready);
        pid_t w;
        int st;

        snprintf(check, sizeof check, "%s_hog_ready", name);
        CHECK(check, ready);
        w = start(fn, arg);
        st = status_of(w);
        snprintf(check, sizeof check, "%s_all_calls_succeed", name);
        if (!CHECK(check, st == 0))
                printf("NOTE oom_alloc: %s worker status %d\n", name, st);
        snprintf(check, sizeof check, "%s_hog_killed", name);
        CHECK(check, was_killed(h));
}

static int touch_half(size_t len)
{
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return 40;
        for (size_t i = 0; i < len; i += PAGE)
                p[i] = 5;
        return 0;
}

int main(void)
{
        utest_start("oom_alloc");
        if (access("/.mercator-args", F_OK) != 0 || geteuid() != 0) {
                printf("NOTE oom_alloc: not booted by tools/run as root: "
                       "memory is not exhausted here (the host's memory is "
                       "shared)\n");
                CHECK("skipped_on_the_host", 1);
                return utest_done();
        }
        long long avail = proc_field("/proc/meminfo", "MemAvailable");
        long long swap = proc_field("/proc/meminfo", "SwapFree");
        long long kills = proc_field("/proc/vmstat", "oom_kill");

        if (!CHECK("meminfo", avail > 0 && swap >= 0 && kills >= 0))
                return utest_done();
        room = (size_t)(avail + swap) * 1024;
        size_t share = room / 100 * 45;
        printf("NOTE oom_alloc: %lld KiB available, %lld KiB swap\n", avail,
               swap);

        round_with_hog("memfd_write", memfd_worker, share / MIB * MIB);
        round_with_hog("pipe_buffers", pipe_worker, share);
        /* A step costs a page-table page and a page. */
        round_with_hog("sparse_page_tables", sparse_worker,
                       share / (2 * PAGE));

        /* 4: the reader itself is the largest: it is the victim. */
        pid_t w = start(sparse_worker, 0);
        CHECK("caller_is_the_victim", killed_by(w, SIGKILL));

        w = start(touch_half, room / 2 / PAGE * PAGE);
        CHECK("next_process_runs", status_of(w) == 0);
        CHECK("vmstat_oom_kill_counted",
              proc_field("/proc/vmstat", "oom_kill") - kills == 4);
        return utest_done();
}
