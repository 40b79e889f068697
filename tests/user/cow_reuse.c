/*
 * cow_reuse.c - copy-on-write after fork when one child has gone and one
 * lives on (issue 17; Mercator's vm_fault.c:reuse_around makes the pages
 * a write fault finds this process's alone writable in a window around
 * it). The parent writes half of its pages while child S lives (private
 * copies), then forks child E, which exits at once: those copies are the
 * parent's alone again, the other pages still S's too. Then the parent
 * writes every page. S must still read its pre-fork bytes everywhere, the
 * parent its own, and smaps must count shared and private pages as Linux
 * does, before and after.
 */
#include "utest.h"

#define NPAGES  64

static uint8_t orig(unsigned i) { return (uint8_t)(i * 7 + 1); }
static uint8_t copy(unsigned i) { return (uint8_t)(0x80 | i); }
static uint8_t last(unsigned i) { return (uint8_t)(0xc0 ^ i); }

/* Pages the parent copies while S lives: two of every four, so that
 * every window of pages mixes its own and S's. */
static int copied_early(unsigned i) { return i % 4 < 2; }

/* Does every byte of page i of m hold b? */
static int page_holds(const uint8_t *m, unsigned i, uint8_t b)
{
        for (size_t o = 0; o < PAGE; o++)
                if (m[i * PAGE + o] != b)
                        return 0;
        return 1;
}

/* smaps' Shared_Clean + Shared_Dirty (shared: 1) or Private_Clean +
 * Private_Dirty (shared: 0) of the area holding p, in kB. */
static long smaps_sum(const void *p, int shared)
{
        const char *clean = shared ? "Shared_Clean" : "Private_Clean";
        const char *dirty = shared ? "Shared_Dirty" : "Private_Dirty";

        return smaps_field(p, clean) + smaps_field(p, dirty);
}

/* Child S: map every page by reading it, wait for the parent, then check
 * every byte and its own smaps. Exit status: which check failed (0: none). */
static int survivor(uint8_t *m, int go)
{
        volatile uint8_t sink = 0;
        char c;

        for (unsigned i = 0; i < NPAGES; i++)
                sink += m[i * PAGE];
        (void)sink;
        if (read(go, &c, 1) != 1)
                return 1;
        for (unsigned i = 0; i < NPAGES; i++)
                if (!page_holds(m, i, orig(i)))
                        return 2;
        /* The parent has its own copy of every page now. */
        if (smaps_sum(m, 0) != NPAGES * 4 || smaps_sum(m, 1) != 0)
                return 3;
        return 0;
}

int main(void)
{
        uint8_t *m;
        int fds[2], st = -1;
        pid_t s, e;
        int ok = 1;

        utest_start("cow_reuse");
        /* Inaccessible pages at both ends keep the area to itself (the
         * kernel would merge it with a neighbouring anonymous one). */
        m = anon((NPAGES + 2) * PAGE, PROT_READ | PROT_WRITE);
        if (mprotect(m, PAGE, PROT_NONE) != 0 ||
            mprotect(m + (NPAGES + 1) * PAGE, PAGE, PROT_NONE) != 0)
                return 2;
        m += PAGE;
        for (unsigned i = 0; i < NPAGES; i++)
                memset(m + i * PAGE, orig(i), PAGE);
        if (pipe(fds) != 0)
                return 2;
        s = fork();
        if (s == 0) {
                close(fds[1]);
                _exit(survivor(m, fds[0]));
        }
        close(fds[0]);
        CHECK("fork_survivor", s > 0);
        for (unsigned i = 0; i < NPAGES; i++)
                if (copied_early(i))
                        memset(m + i * PAGE, copy(i), PAGE);
        e = fork();
        if (e == 0)
                _exit(0);
        CHECK("child_that_exits", e > 0 && waitpid(e, &st, 0) == e &&
                                  WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* Linux counts a page shared while another process maps it: the
         * early copies are the parent's alone again, the rest S's too
         * (S has read every page). */
        CHECK("smaps_private_before", smaps_sum(m, 0) == NPAGES / 2 * 4);
        CHECK("smaps_shared_before", smaps_sum(m, 1) == NPAGES / 2 * 4);
        for (unsigned i = 0; i < NPAGES; i++)
                memset(m + i * PAGE, last(i), PAGE);
        for (unsigned i = 0; i < NPAGES; i++)
                ok &= page_holds(m, i, last(i));
        CHECK("parent_reads_its_writes", ok);
        CHECK("smaps_private_after", smaps_sum(m, 0) == NPAGES * 4);
        CHECK("smaps_shared_after", smaps_sum(m, 1) == 0);
        CHECK("smaps_rss", smaps_field(m, "Rss") == NPAGES * 4);
        CHECK("wake_survivor", write(fds[1], "g", 1) == 1);
        st = -1;
        CHECK("survivor_reaped", waitpid(s, &st, 0) == s && WIFEXITED(st));
        CHECK("survivor_reads_its_bytes", WEXITSTATUS(st) != 2);
        CHECK("survivor_smaps_private", WEXITSTATUS(st) != 3);
        CHECK("survivor_ok", WEXITSTATUS(st) == 0);
        munmap(m - PAGE, (NPAGES + 2) * PAGE);
        return utest_done();
}
