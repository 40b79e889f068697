/*
 * bench-i386 - a few per-operation costs of the i386 VM, the same static
 * binary on Mercator and on Debian's 686-pae Linux in the same QEMU
 * (tools/bench-i386.sh boots both and prints the ratios). At -m 3G the
 * pages a process faults in come from HIGHMEM on both kernels, so the
 * fault figures include zeroing and copying them through a temporary
 * mapping (kmap_atomic). Each figure: the best of five rounds, in ns per
 * operation (per page for the fault and munmap figures).
 * Output lines: "@bench NAME NS".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE    4096u
#define ROUNDS  5

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *name, double ns)
{
        printf("@bench %s %.1f\n", name, ns);
}

static double syscall_cost(void)
{
        const int n = 20000;
        uint64_t t = now_ns();

        for (int i = 0; i < n; i++)
                syscall(SYS_getppid);
        return (double)(now_ns() - t) / n;
}

/* write faults, read faults (zero page), munmap: per page of len bytes */
static void faults(size_t len, double *wf, double *rf, double *um)
{
        size_t pages = len / PAGE;
        volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uint64_t t = now_ns();

        for (size_t i = 0; i < pages; i++)
                p[i * PAGE] = 1;
        *wf = (double)(now_ns() - t) / pages;
        t = now_ns();
        munmap((void *)p, len);
        *um = (double)(now_ns() - t) / pages;
        p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        t = now_ns();
        for (size_t i = 0; i < pages; i++)
                (void)p[i * PAGE];
        *rf = (double)(now_ns() - t) / pages;
        munmap((void *)p, len);
}

static double mmap_munmap(void)
{
        const int n = 2000;
        uint64_t t = now_ns();

        for (int i = 0; i < n; i++)
                munmap(mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), PAGE);
        return (double)(now_ns() - t) / n;
}

/* copy-on-write: the child writes every page of len bytes the parent
 * filled; per page, fork and wait included */
static double cow(size_t len)
{
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        memset(p, 1, len);
        uint64_t t = now_ns();
        pid_t c = fork();
        if (c == 0) {
                for (size_t i = 0; i < len; i += PAGE)
                        p[i] = 2;
                _exit(0);
        }
        waitpid(c, NULL, 0);
        double ns = (double)(now_ns() - t) / (len / PAGE);
        munmap(p, len);
        return ns;
}

static double fork_wait(void)
{
        const int n = 50;
        uint64_t t = now_ns();

        for (int i = 0; i < n; i++) {
                pid_t c = fork();
                if (c == 0)
                        _exit(0);
                waitpid(c, NULL, 0);
        }
        return (double)(now_ns() - t) / n;
}

static double min_of(double a, double b)
{
        return a < b ? a : b;
}

int main(void)
{
        double sc = 1e30, wf = 1e30, rf = 1e30, um = 1e30, mm = 1e30,
               cw = 1e30, fw = 1e30;

        setvbuf(stdout, NULL, _IONBF, 0);
        for (int r = 0; r < ROUNDS; r++) {
                double w, rd, u;
                sc = min_of(sc, syscall_cost());
                faults(64u << 20, &w, &rd, &u);
                wf = min_of(wf, w);
                rf = min_of(rf, rd);
                um = min_of(um, u);
                mm = min_of(mm, mmap_munmap());
                cw = min_of(cw, cow(16u << 20));
                fw = min_of(fw, fork_wait());
        }
        report("getppid", sc);
        report("write_fault_per_page", wf);
        report("read_fault_per_page", rf);
        report("munmap_per_page", um);
        report("mmap_munmap_1_page", mm);
        report("cow_break_per_page", cw);
        report("fork_exit_wait", fw);
        return 0;
}
