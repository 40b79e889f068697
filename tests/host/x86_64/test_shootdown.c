/*
 * test_shootdown.c (x86-64 format) - the bookkeeping of TLB shootdown
 * (kernel/arch/x86_64/pmap.c over the host's software MMU, which plays
 * any CPU the test names in softmmu_cpu and records each round of remote
 * invalidations instead of sending IPIs): which CPUs are told about which
 * change, that one pmap_update() is one round for a whole range, that a
 * CPU that switched away is not told, that kernel changes reach every
 * other CPU, and that page-table pages are freed only after the round.
 */
#include "check.h"

#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include <arch/x86_64/pmap_md.h>
#include <arch/host/softmmu.h>
#include <arch/host/x86_64/softmmu_x86_64.h>

#define RAM_BYTES       (32 * MiB)
#define UVA             0x0000100000000000UL

static void setup(void)
{
        host_memory_setup(RAM_BYTES);
        kmalloc_init(true);
        softmmu_reset();
        CHECK_EQ(pmap_bootstrap(RAM_BYTES), VM_OK);
}

static struct pmap *new_user(void)
{
        struct pmap *pm;

        CHECK_EQ(pmap_create(&pm), VM_OK);
        return pm;
}

/* CPU `cpu` loads pm (as the scheduler's switch does). */
static void load_on(unsigned cpu, struct pmap *pm)
{
        softmmu_cpu = cpu;
        pmap_activate(pm);
        softmmu_cpu = 0;
}

static void map_pages(struct pmap *pm, vaddr_t va, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                CHECK_EQ(pmap_enter(pm, va + i * PAGE_SIZE,
                                    0x200000 + i * PAGE_SIZE, VM_PROT_RW,
                                    PMAP_USER), VM_OK);
        pmap_update(pm);
}

TEST(masks_follow_loads)
{
        setup();
        struct pmap *p = new_user(), *q = new_user();

        load_on(1, p);
        load_on(2, p);
        load_on(3, q);
        load_on(0, p);
        CHECK_EQ(p->active_cpus, 0x7);
        CHECK_EQ(q->active_cpus, 0x8);
        load_on(2, q);                  /* CPU 2 leaves p: flushed by CR3 */
        CHECK_EQ(p->active_cpus, 0x3);
        CHECK_EQ(q->active_cpus, 0xc);
        load_on(2, q);                  /* again: nothing changes */
        CHECK_EQ(q->active_cpus, 0xc);
        for (unsigned c = 0; c < 4; c++)
                load_on(c, pmap_kernel());
        CHECK_EQ(p->active_cpus, 0);
        CHECK_EQ(q->active_cpus, 0);
        pmap_destroy(p);
        pmap_destroy(q);
}

/* A change to p is told to the other CPUs that have p loaded, and only
 * them; a new mapping is told to nobody (no CPU caches a not-present
 * entry). */
TEST(user_change_reaches_only_cpus_with_it_loaded)
{
        setup();
        struct pmap *p = new_user(), *q = new_user();

        load_on(0, p);
        load_on(1, p);
        load_on(3, p);
        load_on(2, q);
        uint64_t r0 = softmmu_stats.remote_rounds;
        map_pages(p, UVA, 1);
        CHECK_EQ(softmmu_stats.remote_rounds, r0);
        CHECK_EQ(pmap_remove(p, UVA, UVA + PAGE_SIZE), VM_OK);
        pmap_update(p);
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 1);
        CHECK_EQ(softmmu_last_remote.cpus, 0xa);        /* 1 and 3, not me */
        CHECK_EQ(softmmu_last_remote.n, 1);
        CHECK_EQ(softmmu_last_remote.va0, UVA);
        CHECK(!softmmu_last_remote.all);

        load_on(3, q);
        map_pages(p, UVA, 1);
        CHECK_EQ(pmap_protect(p, UVA, UVA + PAGE_SIZE, VM_PROT_READ), VM_OK);
        pmap_update(p);
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 2);
        CHECK_EQ(softmmu_last_remote.cpus, 0x2);
        load_on(0, pmap_kernel());
        load_on(1, pmap_kernel());
        load_on(2, pmap_kernel());
        load_on(3, pmap_kernel());
        pmap_destroy(p);
        pmap_destroy(q);
}

/* Nobody has r loaded: its changes send nothing. */
TEST(unloaded_pmap_sends_nothing)
{
        setup();
        struct pmap *r = new_user();
        uint64_t r0 = softmmu_stats.remote_rounds;

        map_pages(r, UVA, 4);
        CHECK_EQ(pmap_remove(r, UVA, UVA + 4 * PAGE_SIZE), VM_OK);
        pmap_update(r);
        CHECK_EQ(softmmu_stats.remote_rounds, r0);
        pmap_destroy(r);
}

/* One range is one round: a few pages listed, many pages one full flush. */
TEST(a_range_is_one_round)
{
        setup();
        struct pmap *p = new_user();

        load_on(0, p);
        load_on(1, p);
        map_pages(p, UVA, 8);
        uint64_t r0 = softmmu_stats.remote_rounds;
        CHECK_EQ(pmap_protect(p, UVA, UVA + 8 * PAGE_SIZE, VM_PROT_READ), VM_OK);
        pmap_update(p);
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 1);
        CHECK_EQ(softmmu_last_remote.n, 8);
        CHECK(!softmmu_last_remote.all);
        map_pages(p, UVA + 64 * PAGE_SIZE, 256);
        r0 = softmmu_stats.remote_rounds;
        CHECK_EQ(pmap_remove(p, UVA, UVA + 512 * PAGE_SIZE), VM_OK);
        pmap_update(p);
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 1);
        CHECK(softmmu_last_remote.all);
        CHECK_EQ(softmmu_last_remote.cpus, 0x2);
        load_on(0, pmap_kernel());
        load_on(1, pmap_kernel());
        pmap_destroy(p);
}

/* The kernel half is live on every CPU, loaded user pmap or not. */
TEST(kernel_change_reaches_every_other_cpu)
{
        setup();
        vaddr_t va = VMALLOC_BASE + 16 * PAGE_SIZE;

        CHECK_EQ(pmap_enter(pmap_kernel(), va, 0x300000, VM_PROT_RW,
                            PMAP_GLOBAL), VM_OK);
        pmap_update(pmap_kernel());
        uint64_t r0 = softmmu_stats.remote_rounds;
        CHECK_EQ(pmap_remove(pmap_kernel(), va, va + PAGE_SIZE), VM_OK);
        pmap_update(pmap_kernel());
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 1);
        CHECK_EQ(softmmu_last_remote.cpus, ~1ULL);
        CHECK(softmmu_last_remote.global);
}

/* Tables a removal empties go back to the allocator only after the other
 * CPUs were told (their page walks may still use them until then). */
TEST(tables_freed_after_the_round)
{
        setup();
        struct pmap *p = new_user();

        load_on(0, p);
        load_on(1, p);
        map_pages(p, UVA, 1);           /* three new tables below the PML4 */
        uint64_t free_before = pmm_free_count();
        CHECK_EQ(pmap_remove(p, UVA, UVA + PAGE_SIZE), VM_OK);
        CHECK_EQ(pmm_free_count(), free_before);        /* held back */
        pmap_update(p);
        CHECK_EQ(softmmu_last_remote.free_pages_then, free_before);
        CHECK_EQ(pmm_free_count(), free_before + 3);
        load_on(0, pmap_kernel());
        load_on(1, pmap_kernel());
        pmap_destroy(p);
}

/* A space whose last thread ended on another CPU may still be loaded on
 * CPUs whose scheduler loops ran its threads last: destroying it makes
 * exactly those load the kernel's tables first (else they go on walking
 * a freed PML4). CPU 3 runs another space and is left alone. */
TEST(destroy_makes_cpus_that_kept_it_leave)
{
        setup();
        struct pmap *p = new_user(), *q = new_user();

        load_on(1, p);
        load_on(2, p);
        load_on(3, q);
        uint64_t calls = softmmu_stats.remote_calls;
        pmap_destroy(p);                /* from CPU 0, which never had it */
        CHECK_EQ(softmmu_stats.remote_calls, calls + 1);
        CHECK_EQ(softmmu_last_call_cpus, 0x6);
        CHECK_EQ(pmap_kernel()->active_cpus & 0x6, 0x6);
        CHECK_EQ(q->active_cpus, 0x8);

        /* nobody else has q once CPU 3 left it: no call at all */
        load_on(3, pmap_kernel());
        calls = softmmu_stats.remote_calls;
        pmap_destroy(q);
        CHECK_EQ(softmmu_stats.remote_calls, calls);
}
