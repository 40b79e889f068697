/*
 * nolock_file_faults.c - reads of a file's cached pages through mappings
 * (Mercator serves them without the big kernel lock: vm_fault.c,
 * nolock_file) see the file, while other threads cut, grow and punch it.
 *
 *   shared_reads_see_the_file   a MAP_SHARED mapping of a memfd written
 *                               with write() reads what was written
 *   private_reads_follow_writes a MAP_PRIVATE read-only mapping shows a
 *                               later write() to the file (no copy of its
 *                               own: it maps the file's pages)
 *   readers_beside_truncation   three threads read every page of a shared
 *                               and a private mapping in a loop while a
 *                               fourth truncates the file, grows it back,
 *                               punches holes and rewrites it; every word
 *                               read is 0 (a hole, a regrown page not yet
 *                               rewritten) or its page's own number, and a
 *                               read past the end is SIGBUS. A page that
 *                               left the file while a translation to it
 *                               stayed would show another page's number
 *                               once reused.
 *                               A fourth thread writes through a shared
 *                               mapping what the file holds (first writes
 *                               make pages beside the truncations).
 *   file_reads_lock_free (Mercator only: /proc/vmstat pgfault_nolock_file)
 *                               a fresh mapping's reads of cached pages are
 *                               served without the lock, about one fault a
 *                               16-page window
 *   shared_writes_across_fork   parent and child write their own word of
 *                               each page of fresh shared anonymous memory
 *                               at once: every page has both
 *   shared_first_writes_lock_free (Mercator only) those first writes are
 *                               served without the lock
 *   private_writes_copy         writes to a MAP_PRIVATE mapping copy the
 *                               file's page, after a read and without one:
 *                               the file keeps its bytes, the copy keeps
 *                               the write and the page's other bytes, and
 *                               a later write() reaches only unwritten
 *                               pages; four threads writing their own word
 *                               of one fresh page at once make one copy
 *                               with all four words
 *   private_copies_cut          after a truncation, the private copies
 *                               past the new end are gone with the file's
 *                               pages: reading there is SIGBUS, while a
 *                               writer thread copies pages beside it
 *   private_copies_lock_free (Mercator only: pgfault_nolock_copy) a
 *                               private mapping's writes after reads are
 *                               copied without the lock, once the area
 *                               has its own object (the first write)
 *   private_reads_beside_copies three threads read a fresh private
 *                               mapping's pages while a fourth copies
 *                               them by writing one word each; once a
 *                               page's write is announced, every reader
 *                               sees it (a translation of the file's page
 *                               left in a reader's TLB would show the
 *                               file's word), and the file keeps its own
 *   private_reads_after_a_copy_lock_free (Mercator only:
 *                               pgfault_nolock_file) once a write gave the
 *                               area its own object, reads of the pages it
 *                               has no copy of map the file's page without
 *                               the lock, one fault a 16-page window
 *   private_copies_across_fork  a child writes every page of a private
 *                               mapping its parent copied half of: each
 *                               side keeps its own bytes, the file its
 *                               own; (Mercator only) the child's copies
 *                               are made without the lock
 */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#define PAGES           64
#define PG              4096
#define RUN_MS          3000

static int fd;
static atomic_int stop;
static atomic_long bad, reads, buses;

static long long now_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Page i of the file holds the word i + 1 everywhere. */
static void write_page(uint64_t i)
{
        static __thread uint32_t buf[PG / 4];

        for (unsigned k = 0; k < PG / 4; k++)
                buf[k] = (uint32_t)(i + 1);
        if (pwrite(fd, buf, PG, (off_t)(i * PG)) != PG)
                atomic_fetch_add(&bad, 1);
}

static void shared_reads_see_the_file(void)
{
        for (uint64_t i = 0; i < PAGES; i++)
                write_page(i);
        uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ, MAP_SHARED, fd, 0);
        int wrong = m == MAP_FAILED;

        for (uint64_t i = 0; !wrong && i < PAGES; i++)
                wrong |= m[i * PG / 4 + 7] != i + 1;
        CHECK("shared_reads_see_the_file", !wrong);
        if (m != MAP_FAILED)
                munmap(m, PAGES * PG);
}

static void private_reads_follow_writes(void)
{
        uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ, MAP_PRIVATE, fd, 0);
        uint32_t v = 999;
        int ok = m != MAP_FAILED;

        if (ok) {
                ok = m[5 * PG / 4] == 6;        /* maps the file's page */
                ok &= pwrite(fd, &v, 4, 5 * PG) == 4;
                ok &= m[5 * PG / 4] == 999;     /* ...so it sees the write */
                write_page(5);
                munmap(m, PAGES * PG);
        }
        CHECK("private_reads_follow_writes", ok);
}

static __thread sigjmp_buf bus_jmp;

static void on_bus(int sig)
{
        (void)sig;
        siglongjmp(bus_jmp, 1);
}

struct word_arg {
        volatile uint32_t *p;
        uint32_t v;
};

static void *write_word(void *arg)
{
        struct word_arg *a = arg;

        *a->p = a->v;
        return NULL;
}

static void *reader(void *arg)
{
        volatile uint32_t *m = arg;

        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                for (volatile uint64_t i = 0; i < PAGES; i++) {
                        if (sigsetjmp(bus_jmp, 1)) {
                                atomic_fetch_add(&buses, 1);
                                continue;       /* past the end now */
                        }
                        uint32_t w = m[i * PG / 4 + (i * 37) % (PG / 4)];

                        if (w != 0 && w != i + 1)
                                atomic_fetch_add(&bad, 1);
                        atomic_fetch_add_explicit(&reads, 1,
                                                  memory_order_relaxed);
                }
        }
        return NULL;
}

/* Writes through a mapping what the file holds anyway (page i's word is
 * i + 1): through a shared one, a first write makes a zeroed page, then
 * the word; through a private one, each write copies the file's page. */
static void *writer(void *arg)
{
        volatile uint32_t *m = arg;

        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                for (volatile uint64_t i = 0; i < PAGES; i++) {
                        if (sigsetjmp(bus_jmp, 1)) {
                                atomic_fetch_add(&buses, 1);
                                continue;
                        }
                        m[i * PG / 4 + (i * 53) % (PG / 4)] = (uint32_t)(i + 1);
                }
        }
        return NULL;
}

static void readers_beside_truncation(void)
{
        struct sigaction sa = { .sa_handler = on_bus };
        uint32_t *sh_w;
        uint32_t *sh = mmap(NULL, PAGES * PG, PROT_READ, MAP_SHARED, fd, 0);
        uint32_t *pr = mmap(NULL, PAGES * PG, PROT_READ, MAP_PRIVATE, fd, 0);
        pthread_t th[4];
        unsigned seed = 12345;
        long long end = now_ms() + RUN_MS;
        int cuts = 0, holes = 0;

        sigaction(SIGBUS, &sa, NULL);
        if (sh == MAP_FAILED || pr == MAP_FAILED) {
                CHECK("readers_beside_truncation", 0);
                return;
        }
        for (int i = 0; i < 3; i++)
                pthread_create(&th[i], NULL, reader, i == 1 ? pr : sh);
        sh_w = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (sh_w == MAP_FAILED)
                atomic_fetch_add(&bad, 1);
        else
                pthread_create(&th[3], NULL, writer, sh_w);
        while (now_ms() < end) {
                uint64_t k = (uint64_t)(rand_r(&seed) % PAGES);

                if (rand_r(&seed) % 3) {
                        if (ftruncate(fd, (off_t)(k * PG)) ||
                            ftruncate(fd, PAGES * PG))
                                atomic_fetch_add(&bad, 1);
                        cuts++;
                } else {
                        if (fallocate(fd, FALLOC_FL_PUNCH_HOLE |
                                      FALLOC_FL_KEEP_SIZE, (off_t)(k * PG),
                                      4 * PG))
                                atomic_fetch_add(&bad, 1);
                        holes++;
                }
                for (uint64_t i = k; i < PAGES && i < k + 8; i++)
                        write_page(i);
        }
        atomic_store(&stop, 1);
        for (int i = 0; i < (sh_w == MAP_FAILED ? 3 : 4); i++)
                pthread_join(th[i], NULL);
        if (sh_w != MAP_FAILED)
                munmap(sh_w, PAGES * PG);
        munmap(sh, PAGES * PG);
        munmap(pr, PAGES * PG);
        if (!CHECK("readers_beside_truncation",
                   atomic_load(&bad) == 0 && atomic_load(&reads) > 1000))
                printf("# %ld wrong words, %ld reads, %ld SIGBUS, %d cuts, "
                       "%d holes\n", atomic_load(&bad), atomic_load(&reads),
                       atomic_load(&buses), cuts, holes);
}

static void file_reads_lock_free(void)
{
        long long before = proc_field("/proc/vmstat", "pgfault_nolock_file");

        if (proc_field("/proc/vmstat", "pgfault_nolock") < 0)
                return;                 /* Linux: no such count */
        for (uint64_t i = 0; i < PAGES; i++)
                write_page(i);          /* all cached */
        volatile uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ, MAP_SHARED,
                                    fd, 0);
        int wrong = m == MAP_FAILED;

        for (uint64_t i = 0; !wrong && i < PAGES; i++)
                wrong |= m[i * PG / 4] != i + 1;
        long long served = proc_field("/proc/vmstat", "pgfault_nolock_file") -
                           before;

        if (!CHECK("file_reads_lock_free", !wrong && before >= 0 &&
                   served >= PAGES / 16 &&
                   served <= PAGES / 16 + 2))
                printf("# %lld reads served without the lock\n", served);
        if (m != MAP_FAILED)
                munmap((void *)m, PAGES * PG);
}

/* Two processes write their own word of every page of fresh shared
 * anonymous memory at once (first writes racing for each page): each
 * page ends with both words. */
static void shared_writes_across_fork(void)
{
        enum { N = 256 };
        volatile uint32_t *m = mmap(NULL, N * PG, PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        int st = 0, wrong = m == MAP_FAILED;
        pid_t pid;

        if (wrong) {
                CHECK("shared_writes_across_fork", 0);
                return;
        }
        pid = fork();
        for (uint64_t i = 0; i < N; i++)
                m[i * PG / 4 + (pid == 0)] = (uint32_t)(i + 1);
        if (pid == 0)
                _exit(0);
        waitpid(pid, &st, 0);
        for (uint64_t i = 0; i < N; i++)
                wrong += m[i * PG / 4] != i + 1 || m[i * PG / 4 + 1] != i + 1;
        CHECK("shared_writes_across_fork", pid > 0 && WIFEXITED(st) && !wrong);
        munmap((void *)m, N * PG);
}

/* Mercator: fresh shared anonymous memory's first writes are lock-free. */
static void shared_first_writes_lock_free(void)
{
        if (proc_field("/proc/vmstat", "pgfault_nolock") < 0)
                return;                 /* Linux: no such count */
        long long before = proc_field("/proc/vmstat", "pgfault_nolock_file");
        volatile uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        if (m == MAP_FAILED) {
                CHECK("shared_first_writes_lock_free", 0);
                return;
        }
        for (uint64_t i = 0; i < PAGES; i++)
                m[i * PG / 4] = 1;
        long long served = proc_field("/proc/vmstat", "pgfault_nolock_file") -
                           before;

        if (!CHECK("shared_first_writes_lock_free", before >= 0 &&
                   served >= PAGES - 2))
                printf("# %lld of %d first writes without the lock\n",
                       served, PAGES);
        munmap((void *)m, PAGES * PG);
}

static void private_writes_copy(void)
{
        for (uint64_t i = 0; i < PAGES; i++)
                write_page(i);
        volatile uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE, fd, 0);
        uint32_t v = 0, w = 777;
        int ok = m != MAP_FAILED;

        if (!ok) {
                CHECK("private_writes_copy", 0);
                return;
        }
        ok &= m[5 * PG / 4] == 6;               /* a read, then a write */
        m[5 * PG / 4 + 1] = 555;
        ok &= m[7 * PG / 4 + 2] == 8;           /* a read elsewhere first */
        m[9 * PG / 4 + 3] = 999;                /* a write with no read */
        ok &= pread(fd, &v, 4, 5 * PG + 4) == 4 && v == 6;
        ok &= pread(fd, &v, 4, 9 * PG + 12) == 4 && v == 10;
        ok &= m[5 * PG / 4 + 1] == 555 && m[5 * PG / 4 + 2] == 6 &&
              m[9 * PG / 4 + 3] == 999 && m[9 * PG / 4 + 4] == 10;
        /* A later write() shows in pages not copied, not in the copies. */
        ok &= pwrite(fd, &w, 4, 9 * PG + 16) == 4 &&
              pwrite(fd, &w, 4, 11 * PG + 16) == 4;
        ok &= m[9 * PG / 4 + 4] == 10 && m[11 * PG / 4 + 4] == 777;
        write_page(9);
        write_page(11);
        /* Four threads, one fresh page, a word each, at once. */
        pthread_t th[4];
        struct word_arg a[4];

        for (int t = 0; t < 4; t++) {
                a[t] = (struct word_arg){ &m[20 * PG / 4 + t * 8],
                                          (uint32_t)(100 + t) };
                pthread_create(&th[t], NULL, write_word, &a[t]);
        }
        for (int t = 0; t < 4; t++)
                pthread_join(th[t], NULL);
        for (int t = 0; t < 4; t++)
                ok &= m[20 * PG / 4 + t * 8] == (uint32_t)(100 + t);
        ok &= m[20 * PG / 4 + 1] == 21;
        CHECK("private_writes_copy", ok);
        munmap((void *)m, PAGES * PG);
}

/* Is page i of m past the end (a read raises SIGBUS)? */
static int past_end(volatile uint32_t *m, uint64_t i)
{
        if (sigsetjmp(bus_jmp, 1))
                return 1;
        (void)m[i * PG / 4];
        return 0;
}

static void private_copies_cut(void)
{
        struct sigaction sa = { .sa_handler = on_bus };
        volatile uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE, fd, 0);
        unsigned seed = 777;
        long long end = now_ms() + RUN_MS / 2;
        long left = 0, cuts = 0;
        pthread_t th;

        sigaction(SIGBUS, &sa, NULL);
        if (m == MAP_FAILED) {
                CHECK("private_copies_cut", 0);
                return;
        }
        atomic_store(&stop, 0);
        pthread_create(&th, NULL, writer, (void *)m);   /* copies */
        while (now_ms() < end) {
                uint64_t k = (uint64_t)(rand_r(&seed) % PAGES);

                if (ftruncate(fd, (off_t)(k * PG)))
                        left++;
                for (uint64_t i = k; i < PAGES; i++)
                        left += !past_end(m, i);
                if (ftruncate(fd, PAGES * PG))
                        left++;
                for (uint64_t i = k; i < PAGES; i++)
                        write_page(i);
                cuts++;
        }
        atomic_store(&stop, 1);
        pthread_join(th, NULL);
        munmap((void *)m, PAGES * PG);
        if (!CHECK("private_copies_cut", left == 0 && cuts > 10))
                printf("# %ld pages read past the end, %ld cuts\n", left, cuts);
}

/* Mercator: writes after reads of a private mapping copy lock-free. */
static void private_copies_lock_free(void)
{
        if (proc_field("/proc/vmstat", "pgfault_nolock") < 0)
                return;                 /* Linux: no such count */
        for (uint64_t i = 0; i < PAGES; i++)
                write_page(i);
        long long before = proc_field("/proc/vmstat", "pgfault_nolock_copy");
        volatile uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE, fd, 0);
        int wrong = m == MAP_FAILED;

        for (uint64_t i = 0; !wrong && i < PAGES; i++)
                wrong |= m[i * PG / 4] != i + 1;
        for (uint64_t i = 0; !wrong && i < PAGES; i++)
                m[i * PG / 4 + 1] = 0;
        long long served = proc_field("/proc/vmstat", "pgfault_nolock_copy") -
                           before;

        if (!CHECK("private_copies_lock_free", !wrong && before >= 0 &&
                   served >= PAGES / 2))
                printf("# %lld of %d copies without the lock\n", served,
                       PAGES);
        if (m != MAP_FAILED)
                munmap((void *)m, PAGES * PG);
}

#define MAGIC 0x5eed0000u

static volatile uint32_t *copies_map;
static atomic_int announced;            /* pages 0..announced-1 written */

/* Reads a random announced page's written word, then any page's first. */
static void *copy_reader(void *arg)
{
        unsigned seed = (unsigned)(uintptr_t)arg;

        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                int n = atomic_load_explicit(&announced, memory_order_acquire);
                uint64_t i = (uint64_t)(rand_r(&seed) % PAGES);

                if (copies_map[i * PG / 4] != i + 1)
                        atomic_fetch_add(&bad, 1);
                if (n > 0) {
                        i = (uint64_t)(rand_r(&seed) % (unsigned)n);
                        if (copies_map[i * PG / 4 + 1] != (MAGIC | (uint32_t)i))
                                atomic_fetch_add(&bad, 1);
                }
                atomic_fetch_add_explicit(&reads, 1, memory_order_relaxed);
        }
        return NULL;
}

/* Rounds of a fresh private mapping whose pages the readers read while
 * this thread writes word 1 of each in turn (a copy of the file's page),
 * announcing each after its write. */
static void private_reads_beside_copies(void)
{
        pthread_t th[3];
        long rounds = 0;
        long long end = now_ms() + RUN_MS / 2;

        for (uint64_t i = 0; i < PAGES; i++)
                write_page(i);
        atomic_store(&bad, 0);
        atomic_store(&reads, 0);
        /* Two rounds at least, however slow the machine (at -smp 4 on
         * a loaded 2-core host a round took 0.7 s), more while time is
         * left. */
        while ((rounds < 2 || now_ms() < end) && atomic_load(&bad) == 0) {
                copies_map = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE, fd, 0);
                if (copies_map == MAP_FAILED) {
                        atomic_fetch_add(&bad, 1);
                        break;
                }
                atomic_store(&announced, 0);
                atomic_store(&stop, 0);
                for (int t = 0; t < 3; t++)
                        pthread_create(&th[t], NULL, copy_reader,
                                       (void *)(uintptr_t)(rounds * 3 + t + 1));
                for (uint64_t i = 0; i < PAGES; i++) {
                        for (volatile int k = 0; k < 2000; k++)
                                ;               /* let the readers map it */
                        copies_map[i * PG / 4 + 1] = MAGIC | (uint32_t)i;
                        atomic_store_explicit(&announced, (int)i + 1,
                                              memory_order_release);
                }
                for (volatile int k = 0; k < 50000; k++)
                        ;               /* the readers read on a while */
                atomic_store(&stop, 1);
                for (int t = 0; t < 3; t++)
                        pthread_join(th[t], NULL);
                munmap((void *)copies_map, PAGES * PG);
                rounds++;
        }
        uint32_t v = 0;
        int file_kept = pread(fd, &v, 4, 3 * PG + 4) == 4 && v == 4;

        if (!CHECK("private_reads_beside_copies",
                   atomic_load(&bad) == 0 && file_kept))
                printf("# %ld wrong words, %ld reads, %ld rounds\n",
                       atomic_load(&bad), atomic_load(&reads), rounds);
}

/* Mercator: reads where the area's own object has no copy map the file's
 * page lock-free, with its 16-page window (4 faults for 63 pages). */
static void private_reads_after_a_copy_lock_free(void)
{
        if (proc_field("/proc/vmstat", "pgfault_nolock") < 0)
                return;                 /* Linux: no such count */
        for (uint64_t i = 0; i < PAGES; i++)
                write_page(i);
        volatile uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE, fd, 0);
        int wrong = m == MAP_FAILED;

        if (!wrong)
                m[1] = 12345;           /* page 0 copied: the object */
        long long before = proc_field("/proc/vmstat", "pgfault_nolock_file");

        for (uint64_t i = 1; !wrong && i < PAGES; i++)
                wrong |= m[i * PG / 4 + 2] != i + 1;
        long long served = proc_field("/proc/vmstat", "pgfault_nolock_file") -
                           before;

        wrong |= m[0] != 1 || m[1] != 12345;
        if (!CHECK("private_reads_after_a_copy_lock_free",
                   !wrong && before >= 0 && served >= PAGES / 16 &&
                   served <= PAGES / 16 + 2))
                printf("# %lld reads without the lock\n", served);
        if (m != MAP_FAILED)
                munmap((void *)m, PAGES * PG);
}

/* A child writes every page of a private mapping whose even pages its
 * parent had copied before the fork (each such copy now shared by both
 * until one writes) and whose odd pages it had only read. */
static void private_copies_across_fork(void)
{
        for (uint64_t i = 0; i < PAGES; i++)
                write_page(i);
        volatile uint32_t *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE, fd, 0);
        int st = -1, wrong = m == MAP_FAILED;

        if (wrong) {
                CHECK("private_copies_across_fork", 0);
                return;
        }
        for (uint64_t i = 0; i < PAGES; i++) {
                if (i % 2 == 0)
                        m[i * PG / 4 + 1] = 1000 + (uint32_t)i;
                else
                        wrong |= m[i * PG / 4] != i + 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
                long long before = proc_field("/proc/vmstat",
                                              "pgfault_nolock_copy");
                int bad_child = 0;

                for (uint64_t i = 0; i < PAGES; i++)
                        m[i * PG / 4 + 2] = 2000 + (uint32_t)i;
                long long served = proc_field("/proc/vmstat",
                                              "pgfault_nolock_copy") - before;
                for (uint64_t i = 0; i < PAGES; i++)
                        bad_child |= m[i * PG / 4] != i + 1 ||
                                     m[i * PG / 4 + 1] !=
                                     (i % 2 ? i + 1 : 1000 + (uint32_t)i) ||
                                     m[i * PG / 4 + 2] != 2000 + (uint32_t)i;
                if (before >= 0 && served < PAGES - 3)
                        printf("# child: %lld of %d copies without the "
                               "lock\n", served, PAGES);
                _exit(bad_child ? 1 : before >= 0 && served < PAGES - 3 ? 2
                                                                        : 0);
        }
        waitpid(pid, &st, 0);
        for (uint64_t i = 0; i < PAGES; i++)
                wrong |= m[i * PG / 4 + 2] != i + 1 ||
                         m[i * PG / 4 + 1] != (i % 2 ? i + 1 : 1000 + (uint32_t)i);
        uint32_t v = 0;
        wrong |= pread(fd, &v, 4, 4 * PG + 8) != 4 || v != 5;
        if (!CHECK("private_copies_across_fork",
                   pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && !wrong))
                printf("# child status %#x, parent wrong %d\n", st, wrong);
        munmap((void *)m, PAGES * PG);
}

int main(void)
{
        utest_start("nolock_file_faults");
        fd = memfd_create("nolock_file_faults", 0);
        if (!CHECK("memfd", fd >= 0 && ftruncate(fd, PAGES * PG) == 0))
                return utest_done();
        shared_reads_see_the_file();
        private_reads_follow_writes();
        readers_beside_truncation();
        file_reads_lock_free();
        shared_writes_across_fork();
        shared_first_writes_lock_free();
        private_writes_copy();
        private_copies_cut();
        private_copies_lock_free();
        private_reads_beside_copies();
        private_reads_after_a_copy_lock_free();
        private_copies_across_fork();
        return utest_done();
}
