/*
 * madvise_free.c - MADV_FREE (Linux 4.5) as a process sees it without
 * memory pressure (issue 16): the pages stay, mapped and with their
 * bytes, until the kernel needs memory; smaps counts them in LazyFree
 * (and no longer as dirty), /proc/vmstat's pglazyfree grows; a page
 * written again leaves LazyFree; a child forked after sees the bytes;
 * Linux's errors. What happens under pressure (the pages freed without
 * swap, reading zeroes) is memcg.c's lazyfree_in_group, where a group's
 * limit makes the pressure on both kernels.
 *
 * Linux moves pages to its lazy-free list through a per-CPU batch of up
 * to 15 folios (31 in later kernels), counted when the batch drains, so
 * its LazyFree and pglazyfree may be short by that many pages at once:
 * the checks allow it.
 */
#include "utest.h"
#include <sys/wait.h>

#ifndef MADV_FREE
#define MADV_FREE       8
#endif

#define NPAGES  512
#define BATCH   31              /* Linux's folio batch (15 in 6.1, 31 later) */

static int all_is(const uint8_t *p, size_t n, uint8_t b)
{
        for (size_t i = 0; i < n; i++)
                if (p[i] != b)
                        return 0;
        return 1;
}

static void lazy(void)
{
        size_t len = NPAGES * PAGE;
        uint8_t *p = anon(len, PROT_READ | PROT_WRITE);
        long long lazyfree0 = proc_field("/proc/vmstat", "pglazyfree");
        int st;

        madvise(p, len, MADV_NOHUGEPAGE);
        memset(p, 'a', len);
        CHECK("smaps_no_lazyfree_before", smaps_field(p, "LazyFree") == 0);
        CHECK("free", madvise(p, len, MADV_FREE) == 0);
        CHECK("bytes_stay", all_is(p, len, 'a'));
        CHECK("rss_stays", smaps_field(p, "Rss") == (long)(len >> 10));
        long lf = smaps_field(p, "LazyFree");
        if (!CHECK("smaps_lazyfree", lf <= (long)(len >> 10) &&
                   lf >= (long)((len >> 10) - BATCH * 4)))
                printf("madvise_free: LazyFree %ld kB of %zu\n", lf, len >> 10);
        CHECK("lazy_is_clean", smaps_field(p, "Private_Dirty") <= BATCH * 4);
        CHECK("pglazyfree_counts", proc_field("/proc/vmstat", "pglazyfree") -
              lazyfree0 >= NPAGES - BATCH);
        /* Written again: ordinary memory, out of LazyFree. */
        p[0] = 'b';
        p[10 * PAGE] = 'b';
        CHECK("written_leave_lazyfree", smaps_field(p, "LazyFree") == lf - 8);
        CHECK("written_dirty_again", smaps_field(p, "Private_Dirty") >= 8);
        /* A child forked now reads the same bytes. */
        pid_t c = fork();
        if (c == 0)
                _exit(p[0] == 'b' && all_is(p + PAGE, 9 * PAGE, 'a') &&
                      p[10 * PAGE] == 'b' && all_is(p + 11 * PAGE, len - 11 * PAGE, 'a')
                      ? 0 : 1);
        CHECK("child_sees_bytes", waitpid(c, &st, 0) == c && WIFEXITED(st) &&
              WEXITSTATUS(st) == 0);
        CHECK("parent_keeps_bytes", p[0] == 'b' && all_is(p + PAGE, PAGE, 'a') &&
              all_is(p + 11 * PAGE, len - 11 * PAGE, 'a'));
        /* Freeing untouched memory is fine and reads zeroes. */
        uint8_t *q = anon(4 * PAGE, PROT_READ | PROT_WRITE);
        CHECK("free_untouched", madvise(q, 4 * PAGE, MADV_FREE) == 0 &&
              all_is(q, 4 * PAGE, 0));
        munmap(q, 4 * PAGE);
        munmap(p, len);
}

static void errors(void)
{
        uint8_t *s = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        uint8_t *p = anon(4 * PAGE, PROT_READ | PROT_WRITE);
        char path[] = "/tmp/madvise_free.XXXXXX";
        int fd = mkstemp(path);

        CHECK_ERR("shared_einval", madvise(s, 2 * PAGE, MADV_FREE), EINVAL);
        CHECK("file_setup", fd >= 0 && ftruncate(fd, PAGE) == 0);
        uint8_t *f = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK_ERR("private_file_einval", madvise(f, PAGE, MADV_FREE), EINVAL);
        CHECK_ERR("unaligned_einval", madvise(p + 1, PAGE, MADV_FREE), EINVAL);
        CHECK("locked_setup", mlock(p, PAGE) == 0);
        CHECK_ERR("locked_einval", madvise(p, 2 * PAGE, MADV_FREE), EINVAL);
        munlock(p, PAGE);
        munmap(p + 2 * PAGE, PAGE);
        CHECK_ERR("hole_enomem", madvise(p, 4 * PAGE, MADV_FREE), ENOMEM);
        CHECK("zero_len", madvise(p, 0, MADV_FREE) == 0);
        munmap(f, PAGE);
        munmap(s, 2 * PAGE);
        munmap(p, 4 * PAGE);
        close(fd);
        unlink(path);
}

int main(void)
{
        utest_start("madvise_free");
        lazy();
        errors();
        return utest_done();
}
