/*
 * madvise_cold.c - MADV_COLD and MADV_PAGEOUT (Linux 5.4): hints that
 * pages will not be used soon; whatever the kernel reclaims, every byte
 * reads back the same. Over private anonymous memory, a tmpfs file
 * mapped shared, a private file mapping written in part, and the
 * program's own text (its pages may be dropped and read again while it
 * runs). Linux's errors: EINVAL over an mlocked range or for a
 * misaligned start, ENOMEM over a hole (the mapped part is advised).
 * Residency of private memory is not checked.
 *
 * Shared pages (issue 16): with swap (make test boots Mercator with a
 * 64 MiB swap disk; Linux on the host may have none, and then only the
 * bytes are checked), PAGEOUT sends to swap the shared pages that this
 * process alone maps - a memfd, a shared anonymous mapping, a SysV
 * segment: smaps' Swap of the mapping becomes its size - and leaves a
 * page another process maps too (a /dev/shm file mapped by a child)
 * where it is; every byte reads back the same. Private copies of a tmpfs
 * file's pages paged out read back as written.
 */
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/shm.h>
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

static uint8_t shared_byte(size_t i)
{
        return (uint8_t)(i * 13 + i / PAGE + 1);
}

/* Fill p, page it out, check smaps' Swap (when there is swap: the whole
 * mapping, as `want_out` says, else none of it) and the bytes. */
static void pageout_shared(const char *name, uint8_t *p, int swap,
                           int want_out)
{
        char check[64];
        long long sw;

        for (size_t i = 0; i < N * PAGE; i++)
                p[i] = shared_byte(i);
        snprintf(check, sizeof check, "%s_pageout", name);
        CHECK(check, madvise(p, N * PAGE, MADV_PAGEOUT) == 0);
        sw = smaps_swap(p);
        snprintf(check, sizeof check, "%s_%s", name,
                 want_out ? "went_to_swap" : "stays_resident");
        if (!CHECK(check, !swap || sw == (want_out ? (long long)(N * PAGE / 1024)
                                                   : 0)))
                printf("NOTE madvise_cold: %s: smaps Swap %lld kB\n", name,
                       sw);
        snprintf(check, sizeof check, "%s_keeps", name);
        CHECK(check, same(p, N * PAGE, shared_byte));
        snprintf(check, sizeof check, "%s_back_in", name);
        CHECK(check, smaps_swap(p) == 0 || sw < 0);
}

/* Private copies of a tmpfs file's pages (every 4th of 64) paged out:
 * each comes back as it was written, never as the file's byte (a read
 * fault nearby once mapped the file's page over a copy on swap). */
static void cow_copies_paged_out(void)
{
        enum { M = 64 };
        int fd = (int)syscall(SYS_memfd_create, "madvise_cold_cow", 0);
        uint8_t *sh, *pr;
        int bad = 0;

        CHECK("cow_file_made", fd >= 0 && ftruncate(fd, M * PAGE) == 0);
        sh = mmap(NULL, M * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        pr = mmap(NULL, M * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (!CHECK("cow_mapped", sh != MAP_FAILED && pr != MAP_FAILED))
                return;
        for (int i = 0; i < M; i++)
                memset(sh + i * PAGE, 0x10 + i, PAGE);
        for (int i = 0; i < M; i += 4)
                memset(pr + i * PAGE, 0x80 + i, PAGE);
        CHECK("cow_pageout", madvise(pr, M * PAGE, MADV_PAGEOUT) == 0);
        for (int i = 0; i < M; i++) {
                uint8_t want = i % 4 ? 0x10 + i : 0x80 + i;

                if (pr[i * PAGE] != want || pr[i * PAGE + PAGE - 1] != want) {
                        if (bad++ < 3)
                                printf("NOTE madvise_cold: private page %d "
                                       "reads %02x, wrote %02x\n", i,
                                       pr[i * PAGE], want);
                }
        }
        CHECK("cow_copies_survive_pageout", bad == 0);
        munmap(sh, M * PAGE);
        munmap(pr, M * PAGE);
        close(fd);
}

static void shared_pages(void)
{
        int swap = proc_field("/proc/meminfo", "SwapTotal") > 0;
        uint8_t *p;

        if (!swap)
                printf("NOTE madvise_cold: no swap: shared pages stay, only "
                       "their bytes are checked\n");
        int fd = (int)syscall(SYS_memfd_create, "madvise_cold", 0);
        CHECK("memfd_made", fd >= 0 && ftruncate(fd, N * PAGE) == 0);
        p = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("memfd_mapped", p != MAP_FAILED);
        pageout_shared("memfd", p, swap, 1);
        munmap(p, N * PAGE);
        close(fd);

        p = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK("shared_anon_mapped", p != MAP_FAILED);
        pageout_shared("shared_anon", p, swap, 1);
        munmap(p, N * PAGE);

        int id = shmget(IPC_PRIVATE, N * PAGE, IPC_CREAT | 0600);
        p = id >= 0 ? shmat(id, NULL, 0) : (void *)-1;
        CHECK("sysv_attached", p != (void *)-1);
        if (id >= 0)
                shmctl(id, IPC_RMID, NULL);
        if (p != (void *)-1) {
                pageout_shared("sysv", p, swap, 1);
                shmdt(p);
        }

        /* A /dev/shm file a child maps too: two mappers, it stays. */
        char path[] = "/dev/shm/madvise_coldXXXXXX";
        int pipefd[2];
        char c = 0;
        fd = mkstemp(path);
        CHECK("two_mappers_file", fd >= 0 && ftruncate(fd, N * PAGE) == 0 &&
              pipe(pipefd) == 0);
        unlink(path);
        p = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("two_mappers_mapped", p != MAP_FAILED);
        memset(p, 1, N * PAGE);
        pid_t child = fork();
        if (child == 0) {
                volatile uint8_t sum = 0;

                for (size_t i = 0; i < N * PAGE; i += PAGE)
                        sum += p[i];            /* maps every page */
                (void)!write(pipefd[1], "r", 1);
                for (;;)
                        pause();
        }
        CHECK("two_mappers_child_mapped", child > 0 &&
              read(pipefd[0], &c, 1) == 1 && c == 'r');
        pageout_shared("two_mappers", p, swap, 0);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        munmap(p, N * PAGE);
        close(fd);
        close(pipefd[0]);
        close(pipefd[1]);
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

        shared_pages();
        cow_copies_paged_out();

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
