/*
 * test_pmm_smp.c - the page allocator (kernel/vm/pmm.c) and kmalloc
 * (kernel/vm/kmalloc.c) called from several CPUs at once, with no big
 * lock: each host thread plays one CPU (machine/intr.h: its own CPU id,
 * so its own record of held locks for the lock-order checker).
 *
 * Each thread runs a random sequence of page allocations (order 0 mostly,
 * orders 1-2 too), kmalloc objects of every size class and some large
 * ones, and frees, in memory small enough that allocations fail now and
 * then (the zones run dry while others free). Every page and object is
 * stamped with its owner when handed out and checked before it is freed;
 * a table of owners per frame catches a page handed out twice at the
 * moment it is.
 * The page allocator's per-CPU lists: each thread's CPU uses its own
 * (an order-0 page freed on one CPU and allocated on another passes from
 * one list to the buddy and the other), and now and then a thread asks
 * for an order-9 block, which fails in this little memory with pages on
 * lists and drains every CPU's (a cross-CPU call each online CPU runs
 * when its "interrupts" come back on: machine/intr.h for the host), or
 * drains every CPU outright. At the end one thread drains every CPU's
 * lists while the others wait: none may hold a page after.
 * At the end the free count must be exactly what it was, and the
 * allocator's and the heap's checkers must pass.
 */
#define _POSIX_C_SOURCE 200809L        /* pthread barriers */
#include "check.h"

#include <mercator/types.h>
#include <machine/intr.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define THREADS         4
#define STEPS           50000
#define HELD            192     /* allocations a thread keeps at once */
#define RAM             (3 * MiB)

struct held {
        struct vm_page *pg;     /* a page block, or NULL */
        unsigned order;
        uint8_t *obj;           /* a kmalloc object, or NULL */
        size_t size;
        uint64_t stamp;
};

struct worker {
        pthread_t thread;
        unsigned cpu;
        uint64_t seed;
        struct held held[HELD];
        uint64_t errors, allocs, failed;
};

static uint32_t *owner;                 /* per frame: CPU + 1, or 0 */
static pthread_barrier_t start;         /* all begin together */
static unsigned finished;               /* [a] threads done with their work */
static bool drained;                    /* [a] the last drain of all ran */
static uint64_t total_errors;

static void error(struct worker *w, const char *what, uint64_t pfn)
{
        if (__atomic_fetch_add(&total_errors, 1, __ATOMIC_RELAXED) < 10)
                fprintf(stderr, "CPU %u: %s (frame %#llx)\n", w->cpu, what,
                        (unsigned long long)pfn);
        w->errors++;
}

static uint64_t *page_words(const struct vm_page *pg)
{
        return (uint64_t *)pmap_kmem_va(pmm_page_to_pa(pg));
}

/* Claim each frame of the block for this CPU: none may have an owner. */
static void pages_claim(struct worker *w, struct held *h)
{
        uint64_t pfn = pmm_page_to_pa(h->pg) >> PAGE_SHIFT;

        for (uint64_t i = 0; i < 1ULL << h->order; i++) {
                uint32_t none = 0;

                if (!__atomic_compare_exchange_n(&owner[pfn + i], &none,
                                                 w->cpu + 1, false,
                                                 __ATOMIC_RELAXED,
                                                 __ATOMIC_RELAXED))
                        error(w, "page handed out twice", pfn + i);
        }
        uint64_t *words = page_words(h->pg);
        size_t last = (PAGE_SIZE << h->order) / 8 - 1;

        words[0] = words[last] = h->stamp;
}

/* The block must still carry this CPU's stamp and ownership. */
static void pages_release(struct worker *w, struct held *h)
{
        uint64_t pfn = pmm_page_to_pa(h->pg) >> PAGE_SHIFT;
        uint64_t *words = page_words(h->pg);
        size_t last = (PAGE_SIZE << h->order) / 8 - 1;

        if (words[0] != h->stamp || words[last] != h->stamp)
                error(w, "page written by someone else", pfn);
        for (uint64_t i = 0; i < 1ULL << h->order; i++)
                if (__atomic_exchange_n(&owner[pfn + i], 0,
                                        __ATOMIC_RELAXED) != w->cpu + 1)
                        error(w, "page owned by another CPU", pfn + i);
        pmm_free_pages(h->pg, h->order);
        h->pg = NULL;
}

static void obj_release(struct worker *w, struct held *h)
{
        uint64_t first, last;

        memcpy(&first, h->obj, 8);
        memcpy(&last, h->obj + h->size - 8, 8);
        if (first != h->stamp || last != h->stamp)
                error(w, "object written by someone else", 0);
        kfree(h->obj);
        h->obj = NULL;
}

static void release(struct worker *w, struct held *h)
{
        if (h->pg)
                pages_release(w, h);
        else if (h->obj)
                obj_release(w, h);
}

/* Fill slot h with a new page block or object (or nothing, if memory ran
 * out: that is allowed). */
static void acquire(struct worker *w, struct rng *r, struct held *h)
{
        unsigned kind = (unsigned)rng_below(r, 10);

        h->stamp = (uint64_t)(w->cpu + 1) << 48 | w->allocs++;
        if (kind < 6) {                         /* pages, order 0 mostly */
                h->order = kind < 5 ? 0 : 1 + (unsigned)rng_below(r, 2);
                if (rng_below(r, 200) == 0)
                        h->order = 9;           /* a huge block: drains */
                h->pg = pmm_alloc_pages(h->order, 0);
                if (h->pg)
                        pages_claim(w, h);
        } else {
                /* 16 bytes at least: the two stamps must not overlap */
                h->size = kind < 9 ? 16 + rng_below(r, KMALLOC_MAX_SMALL - 16)
                                   : 2 * PAGE_SIZE + rng_below(r, PAGE_SIZE);
                h->obj = kmalloc(h->size);
                if (h->obj) {
                        memcpy(h->obj, &h->stamp, 8);
                        memcpy(h->obj + h->size - 8, &h->stamp, 8);
                }
        }
        if (!h->pg && !h->obj)
                w->failed++;
}

static void *work(void *arg)
{
        struct worker *w = arg;
        struct rng r;

        host_cpu = w->cpu;
        host_cpu_online(true);
        rng_seed(&r, w->seed);
        pthread_barrier_wait(&start);
        for (unsigned step = 0; step < STEPS; step++) {
                struct held *h = &w->held[rng_below(&r, HELD)];

                release(w, h);
                acquire(w, &r, h);
                if (rng_below(&r, 2000) == 0)
                        CHECK(pmm_drain_all());
        }
        for (unsigned i = 0; i < HELD; i++)
                release(w, &w->held[i]);
        /* the last drain: CPU 1 drains all, the others take its call */
        __atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL);
        if (w->cpu == 1) {
                while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < THREADS)
                        intr_restore(intr_save());      /* calls run here */
                CHECK(pmm_drain_all());
                __atomic_store_n(&drained, true, __ATOMIC_RELEASE);
        }
        while (!__atomic_load_n(&drained, __ATOMIC_ACQUIRE)) {
                intr_restore(intr_save());
                sched_yield();
        }
        host_cpu_online(false);
        return NULL;
}

/* Run the workers on CPUs 1..THREADS (this thread stays CPU 0). */
static void run_workers(struct worker *w, uint64_t seed)
{
        CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
        finished = 0;
        drained = false;
        for (unsigned i = 0; i < THREADS; i++) {
                memset(&w[i], 0, sizeof w[i]);
                w[i].cpu = i + 1;
                w[i].seed = seed + i;
                CHECK(pthread_create(&w[i].thread, NULL, work, &w[i]) == 0);
        }
        for (unsigned i = 0; i < THREADS; i++)
                CHECK(pthread_join(w[i].thread, NULL) == 0);
        pthread_barrier_destroy(&start);
}

TEST(cpus_allocate_and_free_at_once)
{
        static struct worker w[THREADS];
        uint64_t free0, failed = 0;

        host_memory_setup(RAM);
        kmalloc_init(true);                     /* poison and red zones */
        owner = calloc(pmm_npages(), sizeof *owner);
        CHECK(owner != NULL);
        free0 = pmm_free_count();
        total_errors = 0;
        run_workers(w, check_seed(15));
        for (unsigned i = 0; i < THREADS; i++)
                failed += w[i].failed;
        free(owner);
        CHECK_EQ(total_errors, 0);
        CHECK(failed > 0);                      /* memory did run short */
        for (unsigned c = 1; c <= THREADS; c++)
                for (unsigned z = 0; z < NR_ZONES; z++)
                        CHECK_EQ(pmm_pcp_count(c, (enum zone_id)z), 0);
        CHECK(pmm_events.drain_all > 0 && pmm_events.drain_retry > 0);
        CHECK(pmm_check());
        CHECK(kmalloc_check());
        kmalloc_shrink();
        CHECK_EQ(vmstat.slab_pages, 0);
        CHECK_EQ(vmstat.kmalloc_large, 0);
        CHECK_EQ(pmm_free_count(), free0);      /* exact */
}
