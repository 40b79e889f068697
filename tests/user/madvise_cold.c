/*
 * madvise_cold.c - MADV_COLD and MADV_PAGEOUT (Linux 5.4): hints that
 * pages will not be used soon; whatever the kernel reclaims, every byte
 * reads back the same. Over private anonymous memory, a tmpfs file
 * mapped shared, a private file mapping written in part, and the
 * program's own text (its pages may be dropped and read again while it
 * runs). Linux's errors: EINVAL over an mlocked range or for a
 * misaligned start, ENOMEM over a hole (the mapped part is advised).
 * Residency is not checked: it depends on swap (Linux with swap pages
 * anonymous memory out; Mercator has none yet).
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/wait.h>

#ifndef MADV_COLD
#define MADV_COLD       20
#define MADV_PAGEOUT    21
#endif

#define N       16

extern char __executable_start[], etext[];

static int same(const uint8_t *p, size_t n, uint8_t (*f)(size_t))
{
        for (size_t i = 0; i < n; i++)
                if (p[i] != f(i))
                        return 0;
        return 1;
}

static uint8_t anon_byte(size_t i)
{
        return (uint8_t)(i * 7 + i / PAGE);
}

static uint8_t file_byte(size_t i)
{
        return (uint8_t)(i / PAGE + 0x41);
}

static uint8_t cow_byte(size_t i)
{
        return i / PAGE == 3 ? 0x5a : file_byte(i);
}

/* A checksum of the text from its start to etext, read by data loads. */
static uint64_t text_sum(void)
{
        const volatile uint8_t *p = (const volatile uint8_t *)__executable_start;
        uint64_t s = 0;

        for (; p < (const volatile uint8_t *)etext; p++)
                s = s * 31 + *p;
        return s;
}

int main(void)
{
        utest_start("madvise_cold");
        uint8_t *a = anon(N * PAGE, PROT_READ | PROT_WRITE);
        for (size_t i = 0; i < N * PAGE; i++)
                a[i] = anon_byte(i);
        CHECK("anon_cold", madvise(a, N * PAGE, MADV_COLD) == 0);
        CHECK("anon_cold_keeps", same(a, N * PAGE, anon_byte));
        CHECK("anon_pageout", madvise(a, N * PAGE, MADV_PAGEOUT) == 0);
        CHECK("anon_pageout_keeps", same(a, N * PAGE, anon_byte));

        /* A file in /tmp (tmpfs on both), shared and private mappings. */
        char path[] = "/tmp/madvise_coldXXXXXX";
        int fd = mkstemp(path);
        CHECK("file_made", fd >= 0);
        unlink(path);
        static uint8_t buf[N * PAGE];
        for (size_t i = 0; i < sizeof buf; i++)
                buf[i] = file_byte(i);
        CHECK("file_written", write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
        uint8_t *sh = mmap(NULL, N * PAGE, PROT_READ, MAP_SHARED, fd, 0);
        uint8_t *pr = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE, fd, 0);
        CHECK("file_mapped", sh != MAP_FAILED && pr != MAP_FAILED);
        CHECK("file_reads", same(sh, N * PAGE, file_byte) &&
              same(pr, N * PAGE, file_byte));
        memset(pr + 3 * PAGE, 0x5a, PAGE);      /* a private copy */
        CHECK("file_pageout", madvise(sh, N * PAGE, MADV_PAGEOUT) == 0 &&
              madvise(pr, N * PAGE, MADV_PAGEOUT) == 0);
        CHECK("file_pageout_keeps", same(sh, N * PAGE, file_byte) &&
              same(pr, N * PAGE, cow_byte));
        CHECK("file_cold", madvise(pr, N * PAGE, MADV_COLD) == 0 &&
              same(pr, N * PAGE, cow_byte));
        /* Forked: the child's pageout leaves the parent's pages as they are. */
        pid_t c = fork();
        if (c == 0) {
                int ok = madvise(pr, N * PAGE, MADV_PAGEOUT) == 0 &&
                         madvise(a, N * PAGE, MADV_PAGEOUT) == 0 &&
                         same(pr, N * PAGE, cow_byte) &&
                         same(a, N * PAGE, anon_byte);
                _exit(ok ? 0 : 1);
        }
        int status = -1;
        waitpid(c, &status, 0);
        CHECK("fork_child_pageout", WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK("fork_parent_keeps", same(pr, N * PAGE, cow_byte) &&
              same(a, N * PAGE, anon_byte));

        /* The program's own text: dropped pages come back as they were. */
        uintptr_t t0 = (uintptr_t)__executable_start & ~(PAGE - 1);
        uintptr_t t1 = ((uintptr_t)etext + PAGE - 1) & ~(PAGE - 1);
        uint64_t sum = text_sum();
        CHECK("text_pageout", madvise((void *)t0, t1 - t0, MADV_PAGEOUT) == 0);
        CHECK("text_same_after", text_sum() == sum);

        /* Errors. */
        CHECK("lock", mlock(a, PAGE) == 0);
        CHECK_ERR("cold_locked", madvise(a, 2 * PAGE, MADV_COLD), EINVAL);
        CHECK_ERR("pageout_locked", madvise(a, 2 * PAGE, MADV_PAGEOUT), EINVAL);
        CHECK("unlock", munlock(a, PAGE) == 0);
        CHECK_ERR("cold_misaligned", madvise(a + 1, PAGE, MADV_COLD), EINVAL);
        CHECK("hole_made", munmap(a + 4 * PAGE, PAGE) == 0);
        CHECK_ERR("pageout_hole", madvise(a, 8 * PAGE, MADV_PAGEOUT), ENOMEM);
        CHECK("hole_rest_keeps", same(a, 4 * PAGE, anon_byte));
        CHECK("zero_len", madvise(a, 0, MADV_COLD) == 0);
        close(fd);
        return utest_done();
}
