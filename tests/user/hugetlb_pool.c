/*
 * hugetlb_pool.c - the pool of explicit huge pages (issue 12 with 17):
 * /proc/sys/vm/nr_hugepages and nr_overcommit_hugepages,
 * /sys/kernel/mm/hugepages/hugepages-2048kB/ and /proc/meminfo's
 * HugePages_* lines.
 *
 * Everywhere: the files exist with Linux's modes, the sysctl, sysfs and
 * meminfo agree with one another, Hugepagesize is 2048 kB and Hugetlb
 * covers HugePages_Total.
 *
 * Where tools/run booted the program as root (Mercator, or Linux in QEMU
 * as the referee: /.mercator-args exists; on the host it would change the
 * host's pool, so there it prints a NOTE): the pool grows to 4 pages
 * (every counter says so, MemFree drops by their 8 MiB), shrinks through
 * sysfs, refuses words that are not numbers (EINVAL, nothing changes),
 * stops short where memory ends when asked for 10^6 pages (and gives it
 * all back), and nr_overcommit_hugepages is kept. Everything is put back.
 */
#include "utest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#define SYSCTL_NR       "/proc/sys/vm/nr_hugepages"
#define SYSCTL_OVER     "/proc/sys/vm/nr_overcommit_hugepages"
#define SYSDIR          "/sys/kernel/mm/hugepages/hugepages-2048kB"

/* A file holding one decimal number and a newline: the number, or -1. */
static long long number_in(const char *path)
{
        char buf[64], *end;
        int fd = open(path, O_RDONLY);
        ssize_t n;
        long long v;

        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 1 || buf[n - 1] != '\n')
                return -1;
        buf[n] = '\0';
        v = strtoll(buf, &end, 10);
        return *end == '\n' ? v : -1;
}

static long long sys_field(const char *name)
{
        char path[128];

        snprintf(path, sizeof path, SYSDIR "/%s", name);
        return number_in(path);
}

static long long mi(const char *name)
{
        return proc_field("/proc/meminfo", name);
}

/* The sysctl, sysfs and meminfo agree; the pool holds total pages. */
static int agree(long long total)
{
        return number_in(SYSCTL_NR) == total && sys_field("nr_hugepages") == total &&
               mi("HugePages_Total") == total &&
               sys_field("free_hugepages") == mi("HugePages_Free") &&
               sys_field("resv_hugepages") == mi("HugePages_Rsvd") &&
               sys_field("surplus_hugepages") == mi("HugePages_Surp") &&
               mi("Hugetlb") >= total * 2048;
}

static int mode_is(const char *name, mode_t mode)
{
        char path[128];
        struct stat st;

        snprintf(path, sizeof path, SYSDIR "/%s", name);
        return stat(path, &st) == 0 && st.st_mode == (S_IFREG | mode) &&
               st.st_uid == 0;
}

static void read_checks(void)
{
        static const char *const files[] = {
                "free_hugepages", "nr_hugepages", "nr_hugepages_mempolicy",
                "nr_overcommit_hugepages", "resv_hugepages", "surplus_hugepages",
        };
        unsigned seen = 0;
        struct stat st;
        DIR *d;
        struct dirent *e;

        CHECK("sysctl_modes", stat(SYSCTL_NR, &st) == 0 &&
                              (st.st_mode & 0777) == 0644 &&
                              stat(SYSCTL_OVER, &st) == 0 &&
                              (st.st_mode & 0777) == 0644);
        CHECK("hugepagesize", mi("Hugepagesize") == 2048);
        CHECK("meminfo_lines", mi("HugePages_Total") >= 0 &&
                               mi("HugePages_Free") >= 0 &&
                               mi("HugePages_Rsvd") >= 0 &&
                               mi("HugePages_Surp") >= 0 && mi("Hugetlb") >= 0);
        CHECK("counters_agree", agree(mi("HugePages_Total")));
        CHECK("overcommit_agrees",
              number_in(SYSCTL_OVER) == sys_field("nr_overcommit_hugepages"));
        CHECK("sysfs_modes", mode_is("nr_hugepages", 0644) &&
                             mode_is("nr_overcommit_hugepages", 0644) &&
                             mode_is("free_hugepages", 0444) &&
                             mode_is("resv_hugepages", 0444) &&
                             mode_is("surplus_hugepages", 0444));
        d = opendir(SYSDIR);
        while (d && (e = readdir(d)))
                for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
                        if (!strcmp(e->d_name, files[i]))
                                seen |= 1u << i;
        if (d)
                closedir(d);
        CHECK("sysfs_listed", seen == (1u << 6) - 1);
        d = opendir("/sys/kernel/mm/hugepages");
        seen = 0;
        while (d && (e = readdir(d)))
                seen |= !strcmp(e->d_name, "hugepages-2048kB");
        if (d)
                closedir(d);
        CHECK("size_dir_listed", seen);
}

static void write_checks(long long nr0, long long over0)
{
        long long free0, got;

        CHECK("empty_first", write_text(SYSCTL_NR, "0\n") == 0 && agree(0));
        free0 = mi("MemFree");
        CHECK("grow", write_text(SYSCTL_NR, "4\n") == 0 && agree(4) &&
                      mi("HugePages_Free") == 4 && mi("HugePages_Rsvd") == 0 &&
                      mi("HugePages_Surp") == 0);
        CHECK("hugetlb_kb", mi("Hugetlb") == 4 * 2048);
        CHECK("memfree_drops", free0 - mi("MemFree") >= 7 * 1024);
        CHECK("shrink_through_sysfs",
              write_text(SYSDIR "/nr_hugepages", "2") == 0 && agree(2));
        CHECK("sysfs_einval", write_text(SYSDIR "/nr_hugepages", "two\n") == EINVAL &&
                              agree(2));
        CHECK("sysctl_einval", write_text(SYSCTL_NR, "x\n") == EINVAL && agree(2));
        CHECK("overcommit_set", write_text(SYSCTL_OVER, "3\n") == 0 &&
                                number_in(SYSCTL_OVER) == 3 &&
                                sys_field("nr_overcommit_hugepages") == 3);
        CHECK("overcommit_sysfs",
              write_text(SYSDIR "/nr_overcommit_hugepages", "5\n") == 0 &&
              number_in(SYSCTL_OVER) == 5);
        /* More than memory has: as far as it goes. */
        CHECK("grow_short", write_text(SYSCTL_NR, "1000000\n") == 0 &&
                            (got = number_in(SYSCTL_NR)) > 2 && got < 1000000 &&
                            agree(got) && mi("MemFree") > 0);
        CHECK("all_back", write_text(SYSCTL_NR, "0\n") == 0 && agree(0) &&
                          mi("HugePages_Free") == 0 && mi("MemFree") > free0 - 1024);
        char text[32];
        snprintf(text, sizeof text, "%lld\n", over0);
        CHECK("restore_overcommit", write_text(SYSCTL_OVER, text) == 0);
        snprintf(text, sizeof text, "%lld\n", nr0);
        CHECK("restore_nr", write_text(SYSCTL_NR, text) == 0 &&
                            number_in(SYSCTL_NR) == nr0);
}

int main(void)
{
        utest_start("hugetlb_pool");
        read_checks();
        if (access("/.mercator-args", F_OK) == 0 && geteuid() == 0)
                write_checks(number_in(SYSCTL_NR), number_in(SYSCTL_OVER));
        else
                printf("NOTE hugetlb_pool: not booted by tools/run as root, so "
                       "the pool is only read\n");
        return utest_done();
}
