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
#include <arch/x86_64/mmu.h>
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

/* ---- PCIDs: a CPU that switched away keeps a space's entries under its
 * PCID; the space's generation says at the next load whether they may be
 * kept (pmap_md.h, struct pmap_pcid_cpu). softmmu_last_load is the CR3
 * load pmap_activate() made. */

static void setup_pcid(void)
{
        setup();
        mmu_pcid_init(true);
}

/* A space run on CPU 1, left for another and loaded again with nothing
 * changed in between keeps its PCID's entries; the kernel's tables load
 * under PCID 0, flushed. */
TEST(pcid_switch_back_keeps_entries)
{
        setup_pcid();
        struct pmap *p = new_user(), *q = new_user();

        map_pages(p, UVA, 1);
        load_on(1, p);
        CHECK_EQ(softmmu_last_load.pcid, 1);
        CHECK(!softmmu_last_load.keep);         /* a new space: flushed */
        load_on(1, q);
        CHECK_EQ(softmmu_last_load.pcid, 2);
        CHECK(!softmmu_last_load.keep);
        load_on(1, p);
        CHECK_EQ(softmmu_last_load.pcid, 1);
        CHECK(softmmu_last_load.keep);
        load_on(1, pmap_kernel());
        CHECK_EQ(softmmu_last_load.pcid, 0);
        CHECK(!softmmu_last_load.keep);
        load_on(1, q);
        CHECK_EQ(softmmu_last_load.pcid, 2);
        CHECK(softmmu_last_load.keep);
        load_on(1, pmap_kernel());
        pmap_destroy(p);
        pmap_destroy(q);
}

/* CPU 1, running p, switches to q and back: did it keep p's entries? */
static bool cpu1_switch_back_keeps(struct pmap *p, struct pmap *q)
{
        load_on(1, q);
        load_on(1, p);
        return softmmu_last_load.keep;
}

/* CPU 1 leaves for the kernel's tables; both spaces go. */
static void cpu1_done(struct pmap *p, struct pmap *q)
{
        load_on(1, pmap_kernel());
        pmap_destroy(p);
        pmap_destroy(q);
}

/* The brief's case: p ran on CPU 1, which switched away (so the round
 * skips it), CPU 0 unmapped p's page: CPU 1's next load of p must drop
 * what its PCID holds. A change while CPU 1 runs p reaches it in the round
 * instead, and its next switch back keeps its entries again. */
TEST(pcid_inactive_space_flushed_at_next_load)
{
        setup_pcid();
        struct pmap *p = new_user(), *q = new_user();

        map_pages(p, UVA, 2);
        load_on(1, p);
        load_on(1, q);
        CHECK_EQ(p->active_cpus, 0);
        uint64_t r0 = softmmu_stats.remote_rounds;
        CHECK_EQ(pmap_remove(p, UVA, UVA + PAGE_SIZE), VM_OK);
        pmap_update(p);                         /* on CPU 0 */
        CHECK_EQ(softmmu_stats.remote_rounds, r0);      /* nobody told */
        load_on(1, p);
        CHECK_EQ(softmmu_last_load.pcid, 1);
        CHECK(!softmmu_last_load.keep);

        /* CPU 1 runs p: the round reaches it and its slot follows */
        CHECK_EQ(pmap_remove(p, UVA + PAGE_SIZE, UVA + 2 * PAGE_SIZE), VM_OK);
        pmap_update(p);
        CHECK_EQ(softmmu_stats.remote_rounds, r0 + 1);
        CHECK_EQ(softmmu_last_remote.cpus, 0x2);
        CHECK(cpu1_switch_back_keeps(p, q));
        cpu1_done(p, q);
}

/* The sending CPU's own slot: a change made while this CPU runs p keeps
 * its slot good (it flushed itself); one made while it ran another space
 * makes its next load of p flush. */
TEST(pcid_sender_slot_follows_its_own_flushes)
{
        setup_pcid();
        struct pmap *p = new_user(), *q = new_user();

        map_pages(p, UVA, 2);
        load_on(0, p);
        CHECK_EQ(pmap_remove(p, UVA, UVA + PAGE_SIZE), VM_OK);
        pmap_update(p);
        load_on(0, q);
        load_on(0, p);
        CHECK(softmmu_last_load.keep);
        load_on(0, q);
        CHECK_EQ(pmap_remove(p, UVA + PAGE_SIZE, UVA + 2 * PAGE_SIZE), VM_OK);
        pmap_update(p);
        load_on(0, p);
        CHECK(!softmmu_last_load.keep);
        load_on(0, pmap_kernel());
        pmap_destroy(p);
        pmap_destroy(q);
}

/* Two rounds of one space at once (lock-free faults on two CPUs each
 * copying a page: vm_fault.c, nolock_cow): CPU 1, running p, takes the
 * later round first and switches to q before the earlier one arrives,
 * whose invlpg then runs under q's PCID. p's slot must not claim the
 * later generation: its next load flushes. In order, the slot follows
 * each round and the next load keeps the entries. */
TEST(pcid_rounds_out_of_order_flush_at_next_load)
{
        setup_pcid();
        struct pmap *p = new_user(), *q = new_user();

        map_pages(p, UVA, 2);
        load_on(1, p);
        uint64_t g = p->tlb_gen;

        softmmu_cpu = 1;
        pmap_pcid_round(p->ctx_id, g + 1);      /* in order */
        pmap_pcid_round(p->ctx_id, g + 2);
        softmmu_cpu = 0;
        p->tlb_gen = g + 2;
        CHECK(cpu1_switch_back_keeps(p, q));

        softmmu_cpu = 1;
        pmap_pcid_round(p->ctx_id, g + 4);      /* g + 3 still to come */
        softmmu_cpu = 0;
        load_on(1, q);
        softmmu_cpu = 1;
        pmap_pcid_round(p->ctx_id, g + 3);      /* under q: not p's slot */
        softmmu_cpu = 0;
        p->tlb_gen = g + 4;
        load_on(1, p);
        CHECK(!softmmu_last_load.keep);
        /* Flushed at that load, the slot is good again. */
        CHECK(cpu1_switch_back_keeps(p, q));
        cpu1_done(p, q);
}

/* More spaces than slots: the oldest slot is taken over and flushed; a
 * destroyed space's slot never matches a new space (ctx_id is never
 * reused, even where the new PML4 is the old one's page). */
TEST(pcid_slots_recycled_and_never_confused)
{
        setup_pcid();
        struct pmap *s[PMAP_PCID_SLOTS + 1];

        for (unsigned i = 0; i <= PMAP_PCID_SLOTS; i++) {
                s[i] = new_user();
                load_on(1, s[i]);
                CHECK_EQ(softmmu_last_load.pcid, i % PMAP_PCID_SLOTS + 1);
                CHECK(!softmmu_last_load.keep);
        }
        load_on(1, s[0]);                       /* its slot went to s[6] */
        CHECK(!softmmu_last_load.keep);
        CHECK_EQ(softmmu_last_load.pcid, 2);    /* it takes s[1]'s */
        load_on(1, s[PMAP_PCID_SLOTS]);
        CHECK(softmmu_last_load.keep);
        load_on(1, s[1]);
        CHECK(!softmmu_last_load.keep);
        load_on(1, pmap_kernel());
        uint64_t old = s[2]->ctx_id;
        pmap_destroy(s[2]);
        struct pmap *n = new_user();
        CHECK(n->ctx_id != old);
        load_on(1, n);
        CHECK(!softmmu_last_load.keep);
        load_on(1, pmap_kernel());
        pmap_destroy(n);
        for (unsigned i = 0; i <= PMAP_PCID_SLOTS; i++)
                if (i != 2)
                        pmap_destroy(s[i]);
}

/* A kernel-half change: invlpg reaches every PCID's global entries but
 * only the current PCID's paging-structure caches, so every CPU flushes
 * each other space's PCID at its next load; the current one's is good. */
TEST(pcid_kernel_change_flushes_other_spaces_at_next_load)
{
        setup_pcid();
        struct pmap *p = new_user(), *q = new_user();
        vaddr_t va = VMALLOC_BASE + 16 * PAGE_SIZE;

        load_on(1, p);
        load_on(1, q);                          /* p inactive on CPU 1 */
        CHECK_EQ(pmap_enter(pmap_kernel(), va, 0x300000, VM_PROT_RW,
                            PMAP_GLOBAL), VM_OK);
        pmap_update(pmap_kernel());
        CHECK_EQ(pmap_remove(pmap_kernel(), va, va + PAGE_SIZE), VM_OK);
        pmap_update(pmap_kernel());
        load_on(1, p);
        CHECK(!softmmu_last_load.keep);
        load_on(1, q);  /* it was CPU 1's current space: the round's
                         * invlpg flushed its PCID's caches */
        CHECK(softmmu_last_load.keep);
        load_on(1, pmap_kernel());
        pmap_destroy(p);
        pmap_destroy(q);
}

/* Without PCIDs every load is under PCID 0 and flushes. */
TEST(no_pcid_every_load_flushes)
{
        setup();
        struct pmap *p = new_user(), *q = new_user();

        load_on(1, p);
        load_on(1, q);
        load_on(1, p);
        CHECK_EQ(softmmu_last_load.pcid, 0);
        CHECK(!softmmu_last_load.keep);
        CHECK_EQ(softmmu_stats.root_loads_kept, 0);
        load_on(1, pmap_kernel());
        pmap_destroy(p);
        pmap_destroy(q);
}
