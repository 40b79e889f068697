/*
 * utest.h - checks for user programs that run on Linux and on Mercator.
 *
 * Each check prints "PASS <program>/<check>" or "FAIL <program>/<check>:
 * why"; main returns utest_done(). tools/test.py runs every program on the
 * host's Linux first (where a failure means the check is wrong) and then
 * on Mercator through tools/run.
 */
#ifndef UTEST_H
#define UTEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int utest_failures;
static const char *utest_name = "?";

static void utest_start(const char *name)
{
        utest_name = name;
        setvbuf(stdout, NULL, _IONBF, 0);       /* lines survive a crash */
}

static int utest_check(const char *check, int ok, const char *expr, int line)
{
        if (ok) {
                printf("PASS %s/%s\n", utest_name, check);
        } else {
                printf("FAIL %s/%s: line %d: %s (errno %d: %s)\n", utest_name,
                       check, line, expr, errno, strerror(errno));
                utest_failures++;
        }
        return ok;
}

#define CHECK(check, cond) utest_check(check, !!(cond), #cond, __LINE__)

/* A call that must fail with -1 and this errno. */
#define CHECK_ERR(check, call, err) do {                                \
        errno = 0;                                                      \
        long utest_r_ = (long)(call);                                   \
        utest_check(check, utest_r_ == -1 && errno == (err),            \
                    #call " fails with " #err, __LINE__);               \
} while (0)

/* mmap's failure value is MAP_FAILED, not -1 as a long on every libc. */
#define CHECK_MMAP_ERR(check, call, err) do {                           \
        errno = 0;                                                      \
        void *utest_p_ = (call);                                        \
        utest_check(check, utest_p_ == MAP_FAILED && errno == (err),    \
                    #call " fails with " #err, __LINE__);               \
} while (0)

static int utest_done(void)
{
        return utest_failures ? 1 : 0;
}

/* A field of /proc/meminfo (KiB) or /proc/vmstat, or -1. */
static long long proc_field(const char *file, const char *name)
{
        char line[256];
        size_t n = strlen(name);
        long long v = -1;
        FILE *f = fopen(file, "r");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (!strncmp(line, name, n) &&
                    (line[n] == ':' || line[n] == ' ')) {
                        v = strtoll(line + n + 1 + (line[n] == ':'), NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

/* Mercator's /proc/lock_stat: how often the lock of that name (its
 * rank's, "big-kernel-lock") was taken since boot, or -1 without the
 * file (Linux has it only with CONFIG_LOCK_STAT, in another format). */
static long long lock_stat_acquired(const char *lock)
{
        char line[256], name[64];
        long long v = -1, acquired;
        unsigned rank;
        FILE *f = fopen("/proc/lock_stat", "r");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "%u %63s %lld", &rank, name, &acquired) == 3 &&
                    !strcmp(name, lock))
                        v = acquired;
        fclose(f);
        return v;
}

#define PAGE 4096UL

/* Run the calling thread on CPU cpu alone. => sched_setaffinity's. */
static inline int pin_to_cpu(int cpu)
{
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        return sched_setaffinity(0, sizeof set, &set);
}

/* The start of a small file (a /proc or /sys knob) in buf, NUL-ended:
 * its length, or -1 if it cannot be read. */
static inline ssize_t read_text(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

        if (fd >= 0)
                close(fd);
        buf[n > 0 ? n : 0] = '\0';
        return n;
}

/* Write text to path in one write(): 0, or the errno (EIO for a short
 * write that set none). For /proc and /sys knobs. */
static inline int write_text(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY), err = 0;
        ssize_t n;

        if (fd < 0)
                return errno;
        n = write(fd, text, strlen(text));
        if (n != (ssize_t)strlen(text))
                err = n < 0 ? errno : EIO;
        close(fd);
        return err;
}

/* Reap pid; did signal sig end it? */
static inline int killed_by(pid_t pid, int sig)
{
        int st;

        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
               WTERMSIG(st) == sig;
}

/* smaps' "field:" in kB for the area containing p, or -1. */
static inline long smaps_field(const void *p, const char *field)
{
        FILE *f = fopen("/proc/self/smaps", "r");
        char line[256];
        int in = 0;
        long v = -1;

        while (f && fgets(line, sizeof line, f)) {
                unsigned long lo, hi;

                if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
                        in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
                        continue;
                }
                if (in && strncmp(line, field, strlen(field)) == 0 &&
                    line[strlen(field)] == ':') {
                        v = strtol(line + strlen(field) + 1, NULL, 10);
                        break;
                }
        }
        if (f)
                fclose(f);
        return v;
}

/* smaps' Swap (kB) of the mapping that starts at p, or -1. */
static inline long long smaps_swap(const void *p)
{
        char line[512], want[32];
        long long v = -1;
        int in = 0;
        FILE *f = fopen("/proc/self/smaps", "r");

        if (!f)
                return -1;
        snprintf(want, sizeof want, "%lx-", (unsigned long)(uintptr_t)p);
        while (fgets(line, sizeof line, f)) {
                if (!strncmp(line, want, strlen(want)))
                        in = 1;
                else if (in && !strncmp(line, "Swap:", 5)) {
                        v = strtoll(line + 5, NULL, 10);
                        break;
                }
        }
        fclose(f);
        return v;
}

/* Fresh anonymous memory, or exit: the checks need it. */
static inline uint8_t *anon(size_t len, int prot)
{
        void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED) {
                printf("FAIL %s/setup: mmap: %s\n", utest_name, strerror(errno));
                exit(2);
        }
        return p;
}

/* Does /proc/self/smaps give the area starting at p the VmFlags
 * letters flag (" dc", " sl": with the space)? */
static inline int smaps_vm_flag(const void *p, const char *flag)
{
        char line[512], want[32];
        int in = 0, found = 0;
        FILE *f = fopen("/proc/self/smaps", "r");

        snprintf(want, sizeof want, "%lx-", (unsigned long)p);
        while (f && fgets(line, sizeof line, f)) {
                if (!strncmp(line, want, strlen(want)))
                        in = 1;
                else if (in && !strncmp(line, "VmFlags:", 8)) {
                        found = strstr(line, flag) != NULL;
                        break;
                }
        }
        if (f)
                fclose(f);
        return found;
}

#endif
