/*
 * test_shootdown_sv39.c (Sv39 format) - the bookkeeping of riscv64's TLB
 * shootdown (kernel/arch/riscv64/pmap.c over the host's software MMU,
 * which plays any hart the test names in softmmu_cpu and records each
 * round of remote invalidations instead of sending IPIs), as x86-64's
 * test_shootdown does for its format: which harts are told about which
 * change, one round per pmap_update(), none for a pmap no hart has loaded,
 * kernel changes to every other hart, tables freed only after the round,
 * and a destroyed pmap left first by the harts that still had it.
 * Unlike x86-64, a new mapping is told too: a hart may cache an invalid
 * entry (pmap.c: PT_PEND_NEW_LEAVES).
 */
#include "check.h"

#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include <arch/riscv64/mmu.h>
#include <arch/riscv64/pmap_md.h>
#include <arch/host/softmmu.h>

#define RAM_BYTES       (32 * MiB)
#define UVA             0x0000000010000000UL

static void setup(void)
{
        host_memory_setup(RAM_BYTES);
        kmalloc_init(true);
        softmmu_reset();
        softmmu_cpu = 0;
        CHECK_EQ(pmap_bootstrap(RAM_BYTES), VM_OK);
}

static struct pmap *new_user(void)
{
        struct pmap *pm;

        CHECK_EQ(pmap_create(&pm), VM_OK);
        return pm;
}

/* Hart `hart` loads pm (as the scheduler's switch does). */
static void load_on(unsigned hart, struct pmap *pm)
{
        softmmu_cpu = hart;
        pmap_activate(pm);
        softmmu_cpu = 0;
}

static void all_leave(struct pmap *pm, unsigned harts)
{
        for (unsigned h = 0; h < harts; h++)
                load_on(h, pmap_kernel());
        pmap_destroy(pm);
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
        load_on(2, q);                  /* hart 2 leaves p */
        CHECK_EQ(p->active_cpus, 0x3);
        CHECK_EQ(q->active_cpus, 0xc);
        load_on(2, q);                  /* again: nothing changes */
        CHECK_EQ(q->active_cpus, 0xc);
        for (unsigned h = 0; h < 4; h++)
                load_on(h, pmap_kernel());
        CHECK_EQ(p->active_cpus, 0);
        CHECK_EQ(q->active_cpus, 0);
        pmap_destroy(p);
        pmap_destroy(q);
}

/* A change to p, a new mapping included, is told to the other harts that
 * have p loaded, and only them. */
TEST(user_change_reaches_only_harts_with_it_loaded)
{
        setup();
        struct pmap *p = new_user(), *q = new_user();

        load_on(0, p);
        load_on(1, p);
        load_on(3, p);
        load_on(2, q);
        uint64_t r0 = softmmu_stats.remote_rounds;
        map_pages(p, UVA, 1);
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 1);
        CHECK_EQ(softmmu_last_remote.cpus, 0xa);        /* 1 and 3, not me */
        CHECK_EQ(pmap_remove(p, UVA, UVA + PAGE_SIZE), VM_OK);
        pmap_update(p);
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 2);
        CHECK_EQ(softmmu_last_remote.cpus, 0xa);
        CHECK_EQ(softmmu_last_remote.n, 1);
        CHECK_EQ(softmmu_last_remote.va0, UVA);
        CHECK(!softmmu_last_remote.all);

        load_on(3, q);
        map_pages(p, UVA, 1);
        CHECK_EQ(pmap_protect(p, UVA, UVA + PAGE_SIZE, VM_PROT_READ), VM_OK);
        pmap_update(p);
        CHECK_EQ(softmmu_last_remote.cpus, 0x2);
        load_on(3, pmap_kernel());
        load_on(2, pmap_kernel());
        pmap_destroy(q);
        all_leave(p, 2);
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
        all_leave(p, 2);
}

/* The kernel half is in every table: its changes go to every other hart. */
TEST(kernel_change_reaches_every_other_hart)
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
}

/* Tables a removal empties go back to the allocator only after the other
 * harts were told (their walks may still use them until then). */
TEST(tables_freed_after_the_round)
{
        setup();
        struct pmap *p = new_user();

        load_on(0, p);
        load_on(1, p);
        map_pages(p, UVA, 1);           /* two new tables below the root */
        uint64_t free_before = pmm_free_count();
        CHECK_EQ(pmap_remove(p, UVA, UVA + PAGE_SIZE), VM_OK);
        CHECK_EQ(pmm_free_count(), free_before);        /* held back */
        pmap_update(p);
        CHECK_EQ(softmmu_last_remote.free_pages_then, free_before);
        CHECK_EQ(pmm_free_count(), free_before + 2);
        all_leave(p, 2);
}

/* A space whose last thread ended may still be loaded on harts whose
 * scheduler loops ran its threads last: destroying it makes exactly those
 * load the kernel's table first. Hart 3 runs another space. */
TEST(destroy_makes_harts_that_kept_it_leave)
{
        setup();
        struct pmap *p = new_user(), *q = new_user();

        load_on(1, p);
        load_on(2, p);
        load_on(3, q);
        load_on(0, pmap_kernel());
        uint64_t calls = softmmu_stats.remote_calls;
        pmap_destroy(p);                /* from hart 0, which left it */
        CHECK_EQ(softmmu_stats.remote_calls, calls + 1);
        CHECK_EQ(softmmu_last_call_cpus, 0x6);
        CHECK_EQ(pmap_kernel()->active_cpus & 0x6, 0x6);
        CHECK_EQ(q->active_cpus, 0x8);

        load_on(3, pmap_kernel());
        calls = softmmu_stats.remote_calls;
        pmap_destroy(q);
        CHECK_EQ(softmmu_stats.remote_calls, calls);
}
