/*
 * cpu_count.c - the ways a program counts CPUs agree, and each CPU's
 * time is its own: /sys/devices/system/cpu's online, possible and
 * present lists and cpuN directories, /proc/stat's cpuN lines,
 * /proc/cpuinfo's processor entries, sched_getaffinity and the C
 * library's sysconf (glibc reads the online list, musl asks for the
 * affinity; built with both). Then, pinned to each CPU in turn and
 * spinning, that CPU's user time in /proc/stat must grow: at -smp 4 a
 * kernel that charged every CPU's ticks to cpu0, or counted only cpu0's,
 * fails.
 */
#define _GNU_SOURCE
#include "utest.h"
#include <dirent.h>
#include <sched.h>
#include <time.h>
#ifdef __GLIBC__
#include <sys/sysinfo.h>
#endif

#define MAXC 64

/* Linux's list form ("0-3,5\n") => a mask, or 0 if it does not parse. */
static unsigned long long parse_list(const char *s)
{
        unsigned long long m = 0;
        char *end;

        while (*s && *s != '\n') {
                long a = strtol(s, &end, 10), b = a;
                if (end == s || a < 0 || a >= MAXC)
                        return 0;
                s = end;
                if (*s == '-') {
                        b = strtol(s + 1, &end, 10);
                        if (end == s + 1 || b < a || b >= MAXC)
                                return 0;
                        s = end;
                }
                for (long i = a; i <= b; i++)
                        m |= 1ull << i;
                if (*s == ',')
                        s++;
                else if (*s && *s != '\n')
                        return 0;
        }
        return m;
}

static unsigned long long sys_list(const char *name)
{
        char path[128], buf[256];
        FILE *f;

        snprintf(path, sizeof path, "/sys/devices/system/cpu/%s", name);
        if (!(f = fopen(path, "r")))
                return 0;
        if (!fgets(buf, sizeof buf, f))
                buf[0] = '\0';
        fclose(f);
        return parse_list(buf);
}

static int popcount(unsigned long long m)
{
        return __builtin_popcountll(m);
}

/* The cpuN directories of /sys/devices/system/cpu, as a mask. */
static unsigned long long sys_dirs(void)
{
        unsigned long long m = 0;
        DIR *d = opendir("/sys/devices/system/cpu");
        struct dirent *e;

        if (!d)
                return 0;
        while ((e = readdir(d))) {
                char *end;
                if (strncmp(e->d_name, "cpu", 3) || !e->d_name[3])
                        continue;
                long n = strtol(e->d_name + 3, &end, 10);
                if (*end == '\0' && n >= 0 && n < MAXC)
                        m |= 1ull << n;
        }
        closedir(d);
        return m;
}

/* /proc/stat's cpuN lines: which CPUs, and each one's user ticks. */
static unsigned long long stat_cpus(unsigned long long user[MAXC])
{
        unsigned long long m = 0;
        char line[512];
        FILE *f = fopen("/proc/stat", "r");

        if (!f)
                return 0;
        while (fgets(line, sizeof line, f)) {
                unsigned n;
                unsigned long long u;
                if (!strncmp(line, "cpu", 3) && line[3] >= '0' &&
                    line[3] <= '9' &&   /* not the machine's "cpu  " */
                    sscanf(line, "cpu%u %llu", &n, &u) == 2 && n < MAXC) {
                        m |= 1ull << n;
                        if (user)
                                user[n] = u;
                }
        }
        fclose(f);
        return m;
}

static int cpuinfo_count(void)
{
        char line[512];
        int n = 0;
        FILE *f = fopen("/proc/cpuinfo", "r");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                n += !strncmp(line, "processor", 9);
        fclose(f);
        return n;
}

static unsigned long long affinity(void)
{
        cpu_set_t s;
        unsigned long long m = 0;

        if (sched_getaffinity(0, sizeof s, &s))
                return 0;
        for (int i = 0; i < MAXC; i++)
                if (CPU_ISSET(i, &s))
                        m |= 1ull << i;
        return m;
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spin pinned to cpu until its user ticks grow by 2 (20 ms of user time
 * at USER_HZ 100), for at most 30 s of wall time (a 2-core host running
 * 4 virtual CPUs and other tests is slow, not that slow). */
static int user_time_grows_on(int cpu)
{
        unsigned long long before[MAXC] = { 0 }, after[MAXC] = { 0 };
        volatile unsigned long sink = 0;
        double end;

        if (pin_to_cpu(cpu))
                return 0;
        stat_cpus(before);
        end = now_s() + 30;
        while (now_s() < end) {
                for (int i = 0; i < 2000000; i++)
                        sink += i;
                stat_cpus(after);
                if (after[cpu] >= before[cpu] + 2)
                        return 1;
        }
        printf("cpu%d: user ticks %llu -> %llu in 30 s of spinning there\n",
               cpu, before[cpu], after[cpu]);
        return 0;
}

int main(void)
{
        utest_start("cpu_count");

        unsigned long long online = sys_list("online");
        unsigned long long possible = sys_list("possible");
        unsigned long long present = sys_list("present");
        unsigned long long dirs = sys_dirs(), stat = stat_cpus(NULL);
        unsigned long long aff = affinity();

        CHECK("sys_online_lists_cpu0", online & 1);
        CHECK("online_within_present_within_possible",
              (online & ~present) == 0 && (present & ~possible) == 0);
        CHECK("a_directory_per_present_cpu", (present & ~dirs) == 0);
        CHECK("proc_stat_line_per_online_cpu", stat == online);
        CHECK("cpuinfo_entry_per_online_cpu", cpuinfo_count() == popcount(online));
        CHECK("affinity_within_online", aff && (aff & ~online) == 0);
#ifdef __GLIBC__
        CHECK("glibc_get_nprocs_is_online", get_nprocs() == popcount(online));
        CHECK("glibc_sysconf_onln_is_online",
              sysconf(_SC_NPROCESSORS_ONLN) == popcount(online));
        CHECK("glibc_sysconf_conf_covers_online",
              sysconf(_SC_NPROCESSORS_CONF) >= popcount(online));
#else
        CHECK("musl_sysconf_onln_is_affinity",
              sysconf(_SC_NPROCESSORS_ONLN) == popcount(aff));
#endif

        int ok = 1;
        for (int cpu = 0; cpu < MAXC; cpu++)
                if (aff >> cpu & 1)
                        ok &= user_time_grows_on(cpu);
        CHECK("each_cpu_charges_its_own_user_time", ok);

        FILE *f = fopen("/sys/devices/system/cpu/offline", "r");
        char buf[64] = "x";
        CHECK("offline_readable", f && fgets(buf, sizeof buf, f) != NULL);
        if (f)
                fclose(f);
        CHECK("offline_is_the_rest",
              (parse_list(buf) & online) == 0 &&
              (buf[0] == '\n' ? online == possible :
               (parse_list(buf) | online) == possible));
        return utest_done();
}
