/*
 * smp_faultrace.c - first writes racing with everything that changes the
 * same memory (issue 15). On Mercator most first writes to private
 * anonymous memory are served without the big kernel lock
 * (vm_fault_nolock), beside the CPU that holds it; on -smp 4 this
 * program makes them meet every change a thread of the same process can
 * make to the pages and areas they land in.
 *
 * Writers (3 threads) write, page after page of one region, a word that
 * names the page (its index in the high half) and the pass, and read it
 * straight back; they also read a random other page. A changer thread
 * meanwhile throws chunks of the region away (MADV_DONTNEED), maps fresh
 * memory over others (mmap MAP_FIXED: the area splits and merges under
 * the writers), and forks: each child checks every page of its copy.
 *
 *   words: every word read holds 0 (thrown away, or never written) or a
 *     word naming its own page: never another page's, never garbage.
 *   own_write: a writer reading back right after its write sees its own
 *     word, or 0 if the page was just thrown away.
 *   children: every forked child found only such words.
 *   changes: the changer's calls all succeeded.
 */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <stdatomic.h>

#define WRITERS         3
#define PAGES           1024            /* 4 MiB */
#define PASSES          20
#define CHUNK           16              /* pages a change covers */

static uint8_t *region;
static atomic_int go, stop;
static atomic_long bad_words, bad_own, bad_changes, bad_children, forks;

static uint64_t word(long page, long pass)
{
        return (uint64_t)page << 32 | (uint64_t)(pass + 1);
}

static int word_ok(uint64_t w, long page)
{
        return w == 0 || (w >> 32) == (uint64_t)page;
}

static volatile uint64_t *at(long page)
{
        return (volatile uint64_t *)(region + (size_t)page * PAGE);
}

/* xorshift: each thread's own sequence */
static uint64_t next_rand(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void *writer(void *arg)
{
        long me = (long)arg;
        uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(me + 1);

        while (!atomic_load(&go))
                ;
        for (long pass = 0; pass < PASSES; pass++)
                for (long p = me; p < PAGES; p += WRITERS) {
                        uint64_t w = word(p, pass), got;
                        long q = (long)(next_rand(&seed) % PAGES);

                        *at(p) = w;
                        got = *at(p);
                        if (got != w && got != 0)
                                atomic_fetch_add(&bad_own, 1);
                        if (!word_ok(*at(q), q))
                                atomic_fetch_add(&bad_words, 1);
                }
        return NULL;
}

/* A forked child's look at its copy: exit status 0 if every word is right. */
static void child_check(void)
{
        long wrong = 0;

        for (long p = 0; p < PAGES; p++)
                wrong += !word_ok(*at(p), p);
        _exit(wrong ? 1 : 0);
}

static void *changer(void *arg)
{
        uint64_t seed = 0x2545f4914f6cdd1dull;

        (void)arg;
        while (!atomic_load(&go))
                ;
        for (long i = 0; !atomic_load(&stop); i++) {
                long c = (long)(next_rand(&seed) % (PAGES / CHUNK)) * CHUNK;
                uint8_t *chunk = region + (size_t)c * PAGE;

                if (i % 16 == 15) {
                        pid_t pid = fork();
                        int st;

                        if (pid == 0)
                                child_check();
                        if (pid < 0 || waitpid(pid, &st, 0) != pid ||
                            !WIFEXITED(st))
                                atomic_fetch_add(&bad_changes, 1);
                        else if (WEXITSTATUS(st) != 0)
                                atomic_fetch_add(&bad_children, 1);
                        atomic_fetch_add(&forks, 1);
                } else if (i % 2) {
                        if (mmap(chunk, CHUNK * PAGE, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                                 -1, 0) != chunk)
                                atomic_fetch_add(&bad_changes, 1);
                } else if (madvise(chunk, CHUNK * PAGE, MADV_DONTNEED)) {
                        atomic_fetch_add(&bad_changes, 1);
                }
        }
        return NULL;
}

int main(void)
{
        pthread_t w[WRITERS], c;
        int made = 0, changing;

        utest_start("smp_faultrace");
        region = anon((size_t)PAGES * PAGE, PROT_READ | PROT_WRITE);
        for (long i = 0; i < WRITERS; i++)
                made += pthread_create(&w[i], NULL, writer, (void *)i) == 0;
        changing = pthread_create(&c, NULL, changer, NULL) == 0;
        CHECK("threads", made == WRITERS && changing);
        atomic_store(&go, 1);
        for (int i = 0; i < made; i++)
                pthread_join(w[i], NULL);
        atomic_store(&stop, 1);
        if (changing)
                pthread_join(c, NULL);

        long wrong = 0;
        for (long p = 0; p < PAGES; p++)
                wrong += !word_ok(*at(p), p);
        CHECK("words", atomic_load(&bad_words) == 0 && wrong == 0);
        CHECK("own_write", atomic_load(&bad_own) == 0);
        CHECK("children", atomic_load(&bad_children) == 0);
        CHECK("changes", atomic_load(&bad_changes) == 0);
        if (atomic_load(&bad_words) || wrong || atomic_load(&bad_own) ||
            atomic_load(&bad_children) || atomic_load(&bad_changes))
                printf("note: %ld bad reads, %ld bad at the end, %ld bad "
                       "read-backs, %ld bad children of %ld, %ld failed "
                       "changes\n", atomic_load(&bad_words), wrong,
                       atomic_load(&bad_own), atomic_load(&bad_children),
                       atomic_load(&forks), atomic_load(&bad_changes));
        munmap(region, (size_t)PAGES * PAGE);
        return utest_done();
}
