/*
 * nolock_faults.c - the faults Mercator serves without the big kernel
 * lock besides a first write (issue 15; vm_fault.c, vm_fault_nolock):
 * a read of fresh private memory (the zero page, read-only), a fork's
 * child reading the pages it shares, and a write to a page a fork left
 * read-only once the child has gone (made writable in place). What a
 * process sees must not change; on -smp 4 the threads run on different
 * CPUs.
 *
 *   fresh_reads_zero: every word of fresh memory reads 0.
 *   zero_reads_lock_free (Mercator only: /proc/vmstat's pgfault_nolock,
 *     absent on Linux): most of those reads were served without the lock
 *     (an area not yet written: Mercator maps the zero page without the
 *     lock only there).
 *   zero_after_a_write: in memory already written once (the area has
 *     its object), fresh pages read 0, then written, read back what was
 *     written.
 *   zero_after_a_write_lock_free (Mercator only): most of those reads
 *     (the zero page) and most of those writes (each taking the zero
 *     page's place) were served without the lock (before session 24:
 *     none).
 *   readers_see_writes: a writer fills fresh pages in order while two
 *     readers read each page first (it faults in as the zero page) and
 *     wait for the writer's word: they see 0 or that word, never other,
 *     and see the word within seconds. The writer's fault must replace
 *     a zero-page translation the readers' CPUs may hold (a shootdown):
 *     without it a reader would read 0 for ever.
 *   child_keeps_its_copy: while a fork's child lives, the parent's
 *     writes copy the pages; the child still reads the values from
 *     before the fork, the parent its new ones.
 *   child_reads_lock_free (Mercator only): most of the child's faults
 *     on the pages it shares (its page tables start empty; one fault
 *     maps 16 pages) were served without the lock.
 *   parent_writes_after_child: once the child has gone, the parent's
 *     writes (each page shared no more) land and read back.
 *   reuse_lock_free (Mercator only): those writes were served without
 *     the lock, one fault per 16 pages or so (reuse-around).
 *   threads_write_after_child: the same with four threads writing their
 *     own slices at once, a fifth reading every page meanwhile (a page's
 *     word is its old or its new value, never another).
 *   both_write_after_fork: parent and child write every page at once,
 *     each write a copy while the other holds the page (or, the other's
 *     copy made and its hold let go, the page reused); each ends with its
 *     own values, and the parent's writes after the child has gone land.
 *   copies_lock_free (Mercator only: pgfault_nolock_copy) most of those
 *     copies were made without the lock.
 *   reader_sees_copies: while a child holds every page, one thread writes
 *     page after page (each write a copy replacing a read-only
 *     translation) and says how far it got; another, which has read
 *     every page first and goes on reading them (its CPU's TLB holds the
 *     old translations), must see the new word on every page the writer
 *     has passed: the copy's shootdown reached its CPU. The child keeps
 *     the old words.
 *   copies_beside_a_reader_lock_free (Mercator only): most of those
 *     copies were made without the lock although the reader's CPU had
 *     the space loaded (before session 24 they went to the lock's path).
 *   fresh_areas_written_together: four threads write one page each of a
 *     fresh area at once (its first writes), 128 areas: every word reads
 *     back.
 *   fresh_areas_attach_lock_free (Mercator only: pgfault_nolock_attach):
 *     most of those areas got their object without the lock (before
 *     session 25: none).
 */
#define _GNU_SOURCE
#include "utest.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define PAGES           512
#define THREADS         4
#define WAIT_NS         5000000000LL    /* a reader's patience per page */

static uint64_t word(int round, long page)
{
        return 0x6e6f6c6f636bULL << 16 ^ (uint64_t)round << 12 ^
               (uint64_t)page;
}

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* /proc/vmstat's pgfault_nolock, or -1 without one (Linux). */
static long nolock_faults(void)
{
        char buf[16384];
        int fd = open("/proc/vmstat", O_RDONLY);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        const char *at;

        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        at = strstr(buf, "\npgfault_nolock ");
        return at ? strtol(at + 16, NULL, 10) : -1;
}

/* This process's minor faults so far. */
static long minor_faults(void)
{
        struct rusage ru;

        return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

/* ---- readers beside a writer ---------------------------------------- */

static volatile uint64_t *region;
static atomic_int go, wrong, stuck;

static void *writer(void *arg)
{
        (void)arg;
        while (!atomic_load(&go))
                ;
        for (long i = 0; i < PAGES; i++) {
                region[i * PAGE / 8] = word(1, i);
                if (i % 8 == 0)
                        sched_yield();  /* -smp 1: let the readers in */
        }
        return NULL;
}

static void *reader(void *arg)
{
        (void)arg;
        while (!atomic_load(&go))
                ;
        for (long i = 0; i < PAGES; i++) {
                int64_t t0 = now_ns();
                uint64_t v;

                while ((v = region[i * PAGE / 8]) != word(1, i)) {
                        if (v != 0) {
                                atomic_fetch_add(&wrong, 1);
                                break;
                        }
                        if (now_ns() - t0 > WAIT_NS) {
                                atomic_fetch_add(&stuck, 1);
                                break;
                        }
                        sched_yield();
                }
        }
        return NULL;
}

/* ---- a reader while its sibling copies ------------------------------- */

static atomic_long written;
static atomic_int reader_warm;

static void *copy_writer(void *arg)
{
        (void)arg;
        while (!atomic_load(&reader_warm))
                sched_yield();
        for (long i = 0; i < PAGES; i++) {
                region[i * PAGE / 8] = word(9, i);
                atomic_store_explicit(&written, i + 1, memory_order_release);
        }
        return NULL;
}

static void *copy_reader(void *arg)
{
        long w;

        (void)arg;
        do {
                w = atomic_load_explicit(&written, memory_order_acquire);
                for (long i = 0; i < PAGES; i++) {
                        uint64_t v = region[i * PAGE / 8];

                        if (v != word(9, i) && (i < w || v != word(8, i)))
                                atomic_fetch_add(&wrong, 1);
                }
                atomic_store(&reader_warm, 1);
                sched_yield();          /* -smp 1: let the writer in */
        } while (w < PAGES);
        return NULL;
}

/* ---- threads writing after the child has gone ------------------------ */

static atomic_int writers_left;

static void *slice_writer(void *arg)
{
        long me = (long)arg, per = PAGES / THREADS;

        while (!atomic_load(&go))
                ;
        for (long i = me * per; i < (me + 1) * per; i++)
                region[i * PAGE / 8] = word(3, i);
        atomic_fetch_sub(&writers_left, 1);
        return NULL;
}

static void *slice_reader(void *arg)
{
        (void)arg;
        while (!atomic_load(&go))
                ;
        do {
                for (long i = 0; i < PAGES; i++) {
                        uint64_t v = region[i * PAGE / 8];

                        if (v != word(2, i) && v != word(3, i))
                                atomic_fetch_add(&wrong, 1);
                }
        } while (atomic_load(&writers_left) > 0);
        return NULL;
}

static int run(void *(*fn)(void *), int n, void *(*extra)(void *), int m)
{
        pthread_t th[THREADS + 2];
        int made = 0;

        atomic_store(&go, 0);
        for (int i = 0; i < n; i++)
                made += pthread_create(&th[made], NULL, fn, (void *)(long)i) == 0;
        for (int i = 0; i < m; i++)
                made += pthread_create(&th[made], NULL, extra, NULL) == 0;
        atomic_store(&go, 1);
        for (int i = 0; i < made; i++)
                pthread_join(th[i], NULL);
        return made == n + m;
}

/* ---- first writes of fresh areas, together ---------------------------- */

#define AREAS           128

static volatile uint64_t *fresh;        /* this round's area */
static atomic_int area_round, area_writes;

/* Round after round, write this thread's page of the round's fresh area
 * (the area's first writes: one attaches its object, the others find it
 * or race to). */
static void *area_writer(void *arg)
{
        long me = (long)arg;

        for (int r = 1; r <= AREAS; r++) {
                while (atomic_load(&area_round) != r)
                        sched_yield();
                fresh[me * PAGE / 8] = word(r, me);
                atomic_fetch_add(&area_writes, 1);
        }
        return NULL;
}

/* AREAS rounds: a fresh area of THREADS pages between two inaccessible
 * pages (so that no neighbour has an object to lend), its pages written
 * by THREADS threads at once, then read back. => the wrong words. */
static long fresh_area_rounds(void)
{
        pthread_t th[THREADS];
        int made = 0;
        long bad = 0;

        atomic_store(&area_round, 0);
        atomic_store(&area_writes, 0);
        for (long i = 0; i < THREADS; i++)
                made += pthread_create(&th[made], NULL, area_writer,
                                       (void *)i) == 0;
        for (int r = 1; r <= AREAS && made == THREADS; r++) {
                char *p = mmap(NULL, (THREADS + 2) * PAGE, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                if (p == MAP_FAILED ||
                    mprotect(p + PAGE, THREADS * PAGE,
                             PROT_READ | PROT_WRITE) != 0)
                        return -1;
                fresh = (volatile uint64_t *)(p + PAGE);
                atomic_store(&area_round, r);
                while (atomic_load(&area_writes) < r * THREADS)
                        sched_yield();
                for (long i = 0; i < THREADS; i++)
                        bad += fresh[i * PAGE / 8] != word(r, i);
                munmap(p, (THREADS + 2) * PAGE);
        }
        for (int i = 0; i < made; i++)
                pthread_join(th[i], NULL);
        return made == THREADS ? bad : -1;
}

static long count_wrong(int round)
{
        long bad = 0;

        for (long i = 0; i < PAGES; i++)
                bad += region[i * PAGE / 8] != word(round, i);
        return bad;
}

static void fill(int round)
{
        for (long i = 0; i < PAGES; i++)
                region[i * PAGE / 8] = word(round, i);
}

int main(void)
{
        size_t len = PAGES * PAGE;
        long before, n, bad = 0;

        utest_start("nolock_faults");

        /* One thread reading fresh memory. */
        region = (volatile uint64_t *)anon(len, PROT_READ | PROT_WRITE);
        before = nolock_faults();
        for (long i = 0; i < PAGES; i++)
                for (long w = 0; w < (long)(PAGE / 8); w += 64)
                        bad += region[i * PAGE / 8 + w] != 0;
        n = nolock_faults() - before;
        CHECK("fresh_reads_zero", bad == 0);
        CHECK("zero_reads_lock_free", before < 0 || n >= PAGES / 2);
        if (before >= 0 && n < PAGES / 2)
                printf("note: %ld of %d reads without the lock\n", n, PAGES);
        munmap((void *)region, len);

        /* The same once a write gave the area its object; then writes
         * over the zero page. */
        region = (volatile uint64_t *)anon(len, PROT_READ | PROT_WRITE);
        region[0] = word(0, 0);
        bad = 0;
        before = nolock_faults();
        for (long i = 1; i < PAGES; i++)
                bad += region[i * PAGE / 8] != 0;
        n = nolock_faults() - before;
        before = nolock_faults();
        for (long i = 1; i < PAGES; i++)
                region[i * PAGE / 8] = word(0, i);
        long nw = nolock_faults() - before;
        CHECK("zero_after_a_write", bad == 0 && count_wrong(0) == 0);
        if (before >= 0 &&
            !CHECK("zero_after_a_write_lock_free",
                   n >= PAGES / 2 && nw >= PAGES / 2))
                printf("note: %ld reads and %ld writes of %d pages without "
                       "the lock\n", n, nw, PAGES - 1);
        munmap((void *)region, len);

        /* Readers beside a writer, three fresh regions. */
        int runs = 1;
        for (int round = 0; round < 3; round++) {
                region = (volatile uint64_t *)anon(len,
                                                   PROT_READ | PROT_WRITE);
                runs &= run(reader, 2, writer, 1);
                munmap((void *)region, len);
        }
        CHECK("readers_see_writes_threads", runs);
        CHECK("readers_see_writes",
              atomic_load(&wrong) == 0 && atomic_load(&stuck) == 0);
        if (atomic_load(&wrong) || atomic_load(&stuck))
                printf("note: %d wrong words, %d pages never seen written\n",
                       atomic_load(&wrong), atomic_load(&stuck));

        /* A fork: the child waits on a pipe while the parent writes. */
        region = (volatile uint64_t *)anon(len, PROT_READ | PROT_WRITE);
        fill(0);
        int to_child[2], from_child[2];
        if (pipe(to_child) != 0 || pipe(from_child) != 0)
                return utest_done();
        pid_t pid = fork();
        if (pid == 0) {
                char c;

                if (read(to_child[0], &c, 1) != 1)
                        _exit(2);
                long flt = minor_faults(), was = nolock_faults();
                long good = count_wrong(0) == 0;
                long served = nolock_faults() - was;

                flt = minor_faults() - flt;
                /* y: right and (Mercator) most of its faults lock-free
                 * (one per 16 pages: fault-around); l: right, locked */
                c = !good ? 'n' : was >= 0 && served * 2 < flt ? 'l' : 'y';
                if (write(from_child[1], &c, 1) != 1)
                        _exit(2);
                _exit(0);
        }
        fill(1);
        char answer = 0;
        int status = -1;
        CHECK("child_keeps_its_copy",
              pid > 0 && write(to_child[1], "x", 1) == 1 &&
              read(from_child[0], &answer, 1) == 1 && answer != 'n' &&
              waitpid(pid, &status, 0) == pid && status == 0 &&
              count_wrong(1) == 0);
        CHECK("child_reads_lock_free", answer == 'y');

        /* Again, with the child gone before the parent writes. */
        pid = fork();
        if (pid == 0)
                _exit(count_wrong(1) == 0 ? 0 : 1);
        status = -1;
        waitpid(pid, &status, 0);
        before = nolock_faults();
        fill(2);
        n = nolock_faults() - before;
        CHECK("parent_writes_after_child", pid > 0 && status == 0 &&
              count_wrong(2) == 0);
        CHECK("reuse_lock_free", before < 0 || n >= PAGES / 16 / 2);
        if (before >= 0 && n < PAGES / 16 / 2)
                printf("note: %ld lock-free faults for %d pages\n", n, PAGES);

        /* Four threads, and one reading everything meanwhile. */
        pid = fork();
        if (pid == 0)
                _exit(0);
        waitpid(pid, &status, 0);
        atomic_store(&wrong, 0);
        atomic_store(&writers_left, THREADS);
        CHECK("threads_write_after_child_threads",
              run(slice_writer, THREADS, slice_reader, 1));
        CHECK("threads_write_after_child",
              atomic_load(&wrong) == 0 && count_wrong(3) == 0);
        munmap((void *)region, len);

        /* Both sides of a fork write every page at once. */
        region = (volatile uint64_t *)anon(len, PROT_READ | PROT_WRITE);
        fill(4);
        long copies = proc_field("/proc/vmstat", "pgfault_nolock_copy");
        pid = fork();
        if (pid == 0) {
                fill(5);
                _exit(count_wrong(5) == 0 ? 0 : 1);
        }
        fill(6);
        status = -1;
        waitpid(pid, &status, 0);
        copies = proc_field("/proc/vmstat", "pgfault_nolock_copy") - copies;
        bad = count_wrong(6);
        fill(7);
        CHECK("both_write_after_fork", pid > 0 && status == 0 && bad == 0 &&
              count_wrong(7) == 0);
        if (nolock_faults() >= 0 &&
            !CHECK("copies_lock_free", copies >= PAGES / 2))
                printf("note: %ld copies without the lock for %d pages\n",
                       copies, PAGES);

        /* A reader beside the copies, the child holding every page. */
        fill(8);
        pid = fork();
        if (pid == 0) {
                char c;

                _exit(read(to_child[0], &c, 1) == 1 && count_wrong(8) == 0 ?
                      0 : 1);
        }
        atomic_store(&wrong, 0);
        atomic_store(&written, 0);
        atomic_store(&reader_warm, 0);
        copies = proc_field("/proc/vmstat", "pgfault_nolock_copy");
        int ran = run(copy_writer, 1, copy_reader, 1);
        copies = proc_field("/proc/vmstat", "pgfault_nolock_copy") - copies;
        status = -1;
        CHECK("reader_sees_copies", pid > 0 && ran &&
              atomic_load(&wrong) == 0 && count_wrong(9) == 0 &&
              write(to_child[1], "x", 1) == 1 &&
              waitpid(pid, &status, 0) == pid && status == 0);
        if (atomic_load(&wrong))
                printf("note: the reader saw %d old words\n",
                       atomic_load(&wrong));
        if (nolock_faults() >= 0 &&
            !CHECK("copies_beside_a_reader_lock_free", copies >= PAGES / 2))
                printf("note: %ld copies without the lock for %d pages\n",
                       copies, PAGES);
        munmap((void *)region, len);

        /* Fresh areas, their first writes from four threads at once. */
        long attaches = proc_field("/proc/vmstat", "pgfault_nolock_attach");
        bad = fresh_area_rounds();
        attaches = proc_field("/proc/vmstat", "pgfault_nolock_attach") -
                   attaches;
        CHECK("fresh_areas_written_together", bad == 0);
        if (bad)
                printf("note: %ld wrong words\n", bad);
        if (nolock_faults() >= 0 &&
            !CHECK("fresh_areas_attach_lock_free", attaches >= AREAS / 2))
                printf("note: %ld of %d areas attached their object without "
                       "the lock\n", attaches, AREAS);
        return utest_done();
}
