/*
 * thp.c - transparent huge pages for anonymous private memory: an aligned
 * MADV_HUGEPAGE region gets huge pages (smaps AnonHugePages, THPeligible,
 * meminfo AnonHugePages); a partial munmap, mprotect, MADV_DONTNEED or
 * mremap of a huge page and a copy-on-write after fork keep every other
 * byte; MADV_NOHUGEPAGE and PR_SET_THP_DISABLE keep them away; a large
 * anonymous mmap starts on a huge-page boundary.
 */
#include "utest.h"
#include <sys/prctl.h>
#include <sys/wait.h>

#define HUGE    (2UL << 20)

/* A region of len bytes starting on a huge-page boundary. */
static char *aligned(size_t len)
{
        char *p = (char *)anon(len + HUGE, PROT_READ | PROT_WRITE);
        char *a = (char *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1));

        if (a > p)
                munmap(p, a - p);
        munmap(a + len, p + HUGE - a);
        return a;
}

static void fill(char *p, size_t len, int salt)
{
        for (size_t off = 0; off < len; off += PAGE)
                for (size_t i = 0; i < PAGE; i += 512)
                        p[off + i] = (char)(off / PAGE * 7 + i / 512 + salt);
}

/* Every page of [p, p + len) as fill() left it (skip: a page not checked). */
static int intact(const char *p, size_t len, int salt, const char *skip)
{
        for (size_t off = 0; off < len; off += PAGE) {
                if (p + off == skip)
                        continue;
                for (size_t i = 0; i < PAGE; i += 512)
                        if (p[off + i] != (char)(off / PAGE * 7 + i / 512 + salt))
                                return 0;
        }
        return 1;
}

/* /proc/vmstat's counter, or -1. */
static long vmstat_count(const char *name)
{
        FILE *f = fopen("/proc/vmstat", "r");
        char line[256];
        long v = -1;

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == ' ')
                        v = strtol(line + strlen(name) + 1, NULL, 10);
        if (f)
                fclose(f);
        return v;
}

/*
 * Reads of a MADV_HUGEPAGE region never written: zeroes, no memory of the
 * process's own (Rss 0, no AnonHugePages: the huge zero page, or 4 KiB
 * zero pages, are nobody's), the huge zero page exists; then writes: the
 * data, in the process's memory. (Whether the written blocks become huge
 * differs: Linux splits its huge zero page at the write, Mercator maps a
 * new huge page: not checked.)
 */
static void reads_first(void)
{
        char *p = aligned(2 * HUGE);
        volatile char sum = 0;

        madvise(p, 2 * HUGE, MADV_HUGEPAGE);
        for (size_t off = 0; off < 2 * HUGE; off += PAGE / 2)
                sum |= p[off];
        CHECK("read_zeroes", sum == 0);
        CHECK("read_no_rss", smaps_field(p, "Rss") == 0);
        CHECK("read_no_anon_huge", smaps_field(p, "AnonHugePages") == 0);
        CHECK("huge_zero_page_exists", vmstat_count("thp_zero_page_alloc") >= 1);
        fill(p, 2 * HUGE, 5);
        CHECK("write_after_read", intact(p, 2 * HUGE, 5, NULL) &&
                                  smaps_field(p, "Rss") == 2 * HUGE / 1024);
        munmap(p, 2 * HUGE);
}

static long meminfo_kb(const char *field)
{
        FILE *f = fopen("/proc/meminfo", "r");
        char line[256];
        long v = -1;

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':')
                        v = strtol(line + strlen(field) + 1, NULL, 10);
        if (f)
                fclose(f);
        return v;
}

int main(void)
{
        utest_start("thp");
        char *p = aligned(2 * HUGE);

        CHECK("madvise_hugepage", madvise(p, 2 * HUGE, MADV_HUGEPAGE) == 0);
        fill(p, 2 * HUGE, 1);
        CHECK("smaps_anon_huge", smaps_field(p, "AnonHugePages") == 4096);
        CHECK("smaps_thp_eligible", smaps_field(p, "THPeligible") == 1);
        CHECK("meminfo_anon_huge", meminfo_kb("AnonHugePages") >= 4096);
        CHECK("data_after_fault", intact(p, 2 * HUGE, 1, NULL));
        reads_first();

        /* A hole in the first huge page: the rest stays, the second huge
         * page stays huge. */
        CHECK("partial_munmap", munmap(p + PAGE, PAGE) == 0);
        CHECK("munmap_keeps_bytes", intact(p, 2 * HUGE, 1, p + PAGE));
        CHECK("munmap_splits_one", smaps_field(p + HUGE, "AnonHugePages") == 2048);

        /* One read-only page in the second: the rest stays writable. */
        CHECK("partial_mprotect", mprotect(p + HUGE + 5 * PAGE, PAGE, PROT_READ) == 0);
        CHECK("mprotect_keeps_bytes", intact(p, 2 * HUGE, 1, p + PAGE));
        p[HUGE + 6 * PAGE] = 42;
        CHECK("mprotect_rest_writable", p[HUGE + 6 * PAGE] == 42);
        p[HUGE + 6 * PAGE] = (char)(((HUGE + 6 * PAGE) / PAGE) * 7 + 1);
        CHECK("mprotect_splits", smaps_field(p + HUGE, "AnonHugePages") == 0);
        munmap(p, 2 * HUGE);

        /* MADV_DONTNEED of a few pages: zeroes there, the rest kept. */
        p = aligned(HUGE);
        madvise(p, HUGE, MADV_HUGEPAGE);
        fill(p, HUGE, 3);
        CHECK("dontneed", madvise(p + 8 * PAGE, 2 * PAGE, MADV_DONTNEED) == 0);
        CHECK("dontneed_zeroes", p[8 * PAGE] == 0 && p[9 * PAGE + 511] == 0);
        CHECK("dontneed_keeps_rest", intact(p, 8 * PAGE, 3, NULL) &&
                                     intact(p + 10 * PAGE, HUGE - 10 * PAGE, 3 + 10 * 7, NULL));

        /* mremap of the huge page elsewhere: the bytes move with it. */
        fill(p, HUGE, 5);
        char *dst = aligned(2 * HUGE);
        char *q = mremap(p, HUGE, HUGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PAGE);
        CHECK("mremap_moves", q == dst + PAGE);
        CHECK("mremap_keeps_bytes", q != MAP_FAILED && intact(q, HUGE, 5, NULL));
        munmap(dst, 2 * HUGE + PAGE);

        /* fork: the child writes its copy, the parent's stays; then the
         * parent writes its own. */
        p = aligned(HUGE);
        madvise(p, HUGE, MADV_HUGEPAGE);
        fill(p, HUGE, 9);
        pid_t pid = fork();
        if (pid == 0) {
                int ok = intact(p, HUGE, 9, NULL);
                p[3 * PAGE] = 77;
                ok &= p[3 * PAGE] == 77 && intact(p, HUGE, 9, p + 3 * PAGE);
                _exit(ok ? 0 : 1);
        }
        int st = -1;
        waitpid(pid, &st, 0);
        CHECK("cow_child_sees_and_writes", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK("cow_parent_unchanged", intact(p, HUGE, 9, NULL));
        p[4 * PAGE] = 88;
        CHECK("cow_parent_writes", p[4 * PAGE] == 88 && intact(p, HUGE, 9, p + 4 * PAGE));
        munmap(p, HUGE);

        /* NOHUGEPAGE, and PR_SET_THP_DISABLE, keep huge pages away. */
        p = aligned(HUGE);
        madvise(p, HUGE, MADV_NOHUGEPAGE);
        fill(p, HUGE, 2);
        CHECK("nohugepage", smaps_field(p, "AnonHugePages") == 0 &&
                            smaps_field(p, "THPeligible") == 0);
        munmap(p, HUGE);
        CHECK("thp_disable", prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 &&
                             prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1);
        p = aligned(HUGE);
        madvise(p, HUGE, MADV_HUGEPAGE);
        fill(p, HUGE, 2);
        CHECK("thp_disable_no_huge", smaps_field(p, "AnonHugePages") == 0);
        munmap(p, HUGE);
        CHECK("thp_enable_again", prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0) == 0 &&
                                  prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 0);
        CHECK_ERR("thp_disable_bad_args", prctl(PR_SET_THP_DISABLE, 1, 1, 0, 0), EINVAL);

        /* A large anonymous mapping starts on a huge-page boundary. */
        int ok = 1;
        for (int i = 0; i < 4; i++) {
                void *m = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                ok &= m != MAP_FAILED && ((uintptr_t)m & (HUGE - 1)) == 0;
        }
        CHECK("large_mmap_aligned", ok);
        return utest_done();
}
