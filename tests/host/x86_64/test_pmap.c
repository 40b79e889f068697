/*
 * test_pmap.c (x86-64 format) - the x86-64 table code
 * (kernel/arch/x86_64/pmap.c) run on the x86-64 software MMU
 * (kernel/arch/host/x86_64/softmmu.c) over simulated RAM. A format's own
 * test: it looks at x86-64 entries and features, so it is built only with
 * PMAP=x86_64.
 *
 * Directed tests pin down one rule each (bits, large pages, freeing,
 * failure, TLB); random_* tests run thousands of operations on the kernel
 * pmap and several user pmaps against a reference model (page -> frame,
 * protection, flags, and the size of the leaf holding it), checking after
 * every step pmap_check(), pmap_extract() and softmmu translations of the
 * touched pages and random probes, and that the TLB agrees with the
 * tables after pmap_update(). Seeds are fixed ($CHECK_SEED overrides).
 */
#include "check.h"

#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include <arch/x86_64/pmap_md.h>
#include <arch/x86_64/pte.h>
#include <arch/host/x86_64/softmmu_x86_64.h>

#include <stdlib.h>
#include <string.h>

extern uint64_t vm_ptpage_fail_after;   /* kernel/vm/ptpage.c test hook */

#define RAM_BYTES       (32 * MiB)
#define R               SOFTMMU_READ
#define W               SOFTMMU_WRITE
#define X               SOFTMMU_EXEC

static uint64_t base_free, base_pt;     /* right after pmap_bootstrap() */

/* Fresh RAM, allocator, heap, MMU and kernel pmap. */
static void setup(void)
{
        host_memory_setup(RAM_BYTES);
        kmalloc_init(true);
        softmmu_reset();
        vm_ptpage_fail_after = 0;
        CHECK_EQ(pmap_bootstrap(RAM_BYTES), VM_OK);
        CHECK(pmap_check(pmap_kernel()));
        base_free = pmm_free_count();
        base_pt = vmstat.pt_pages;
}

/* Everything given back: only the kernel's boot-time tables remain. */
static void check_baseline(void)
{
        kmalloc_shrink();
        CHECK_EQ(vmstat.pt_pages, base_pt);
        CHECK_EQ(pmap_table_pages(pmap_kernel()), base_pt);
        CHECK_EQ(pmm_free_count(), base_free);
        CHECK(pmap_check(pmap_kernel()));
        CHECK(pmm_check());
}

static struct pmap *new_user(void)
{
        struct pmap *pm = NULL;

        CHECK_EQ(pmap_create(&pm), VM_OK);
        CHECK(pmap_check(pm));
        return pm;
}

static uint64_t *entry_at(struct pmap *pm, vaddr_t va, unsigned level)
{
        return softmmu_entry(pm->root, va, level);
}

static unsigned shift_of(struct pmap *pm, vaddr_t va)
{
        return softmmu_x86_page_shift(pm->root, va);
}

/* ---- directed tests ------------------------------------------------------ */

TEST(pte_layout)
{
        CHECK_EQ(PTE_P, 0x1);
        CHECK_EQ(PTE_RW, 0x2);
        CHECK_EQ(PTE_US, 0x4);
        CHECK_EQ(PTE_PWT, 0x8);
        CHECK_EQ(PTE_PCD, 0x10);
        CHECK_EQ(PTE_A, 0x20);
        CHECK_EQ(PTE_D, 0x40);
        CHECK_EQ(PTE_PS, 0x80);
        CHECK_EQ(PTE_PAT_4K, 0x80);
        CHECK_EQ(PTE_G, 0x100);
        CHECK_EQ(PTE_PAT_LARGE, 0x1000);
        CHECK_EQ(PTE_NX, 0x8000000000000000UL);
        CHECK_EQ(PTE_ADDR_MASK, 0x000ffffffffff000UL);
        CHECK_EQ(pt_index(KERNEL_BASE, 4), 511);
        CHECK_EQ(pt_index(KERNEL_BASE, 3), 510);
        CHECK_EQ(pt_index(LINEAR_BASE, 4), 256);
        CHECK_EQ(pt_index(0x0000123456789000UL, 1), 0x189);
        CHECK(va_is_canonical(0x00007fffffffffffUL));
        CHECK(!va_is_canonical(0x0000800000000000UL));
        CHECK(va_is_canonical(0xffff800000000000UL));
        CHECK(!va_is_canonical(0xfff0000000000000UL));
        CHECK_EQ(va_canonical(256UL << 39), LINEAR_BASE);
        CHECK_EQ(pte_leaf_pa(0x40000000UL | PTE_PAT_LARGE | PTE_PS | PTE_P, 3),
                 0x40000000UL);
        CHECK_EQ(pte_leaf_pa(0x201000UL | PTE_P, 1), 0x201000UL);
}

TEST(bootstrap_and_create)
{
        struct pmap *k, *u;
        pte_t *kt, *ut;

        setup();
        k = pmap_kernel();
        kt = phys_to_virt(k->root);
        /* 32 MiB of RAM: one linear slot, vmalloc, ioremap, kernel image. */
        CHECK_EQ(pmap_table_pages(k), 5);
        CHECK_EQ(vmstat.pt_pages, 5);
        for (unsigned i = 0; i < 512; i++) {
                bool want = i == 256 || i == 384 || i == 385 || i == 511;

                CHECK_EQ(pte_present(kt[i]), want);
                if (want)
                        CHECK_EQ(kt[i] & ~PTE_ADDR_MASK, PTE_P | PTE_RW);
        }
        u = new_user();
        ut = phys_to_virt(u->root);
        CHECK_EQ(pmap_table_pages(u), 1);
        CHECK(memcmp(&ut[256], &kt[256], 256 * sizeof(pte_t)) == 0);
        for (unsigned i = 0; i < 256; i++)
                CHECK_EQ(ut[i], 0);
        CHECK_EQ(pmap_bootstrap(LINEAR_SIZE + PAGE_SIZE), VM_EINVAL);
        pmap_destroy(u);
        check_baseline();
}

TEST(bootstrap_linear_slots_follow_ram)
{
        setup();
        /* 1 TiB + 4 KiB of "RAM" needs three 512 GiB linear-map slots. */
        CHECK_EQ(pmap_bootstrap((1UL << 40) + PAGE_SIZE), VM_OK);
        CHECK_EQ(pmap_table_pages(pmap_kernel()), 1 + 3 + 3);
        CHECK(pmap_check(pmap_kernel()));
        CHECK_EQ(pmap_enter(pmap_kernel(), LINEAR_BASE + (1UL << 40), 0x5000,
                            VM_PROT_READ, 0), VM_OK);
        CHECK_EQ(pmap_enter(pmap_kernel(), LINEAR_BASE + (3UL << 39), 0x5000,
                            VM_PROT_READ, 0), VM_EINVAL);
}

TEST(enter_sets_user_pte_bits)
{
        struct pmap *u;
        vaddr_t va = 0x0000123456789000UL;
        paddr_t pa;
        vm_prot_t prot;
        unsigned flags;
        uint64_t *e;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter(u, va, 0xabcde000, VM_PROT_RW, PMAP_USER), VM_OK);
        for (unsigned l = 4; l > 1; l--)        /* upper levels allow all */
                CHECK_EQ(*entry_at(u, va, l) & ~PTE_ADDR_MASK,
                         PTE_P | PTE_RW | PTE_US);
        e = entry_at(u, va, 1);
        CHECK_EQ(*e, 0xabcde000UL | PTE_P | PTE_RW | PTE_US | PTE_NX);
        CHECK(pmap_extract(u, va + 0x123, &pa, &prot, &flags));
        CHECK_EQ(pa, 0xabcde123);
        CHECK_EQ(prot, VM_PROT_RW);
        CHECK_EQ(flags, PMAP_USER);
        CHECK_EQ(pmap_enter(u, va, 0x1000, VM_PROT_READ | VM_PROT_EXEC, 0),
                 VM_OK);
        CHECK_EQ(*e, 0x1000UL | PTE_P);
        CHECK_EQ(pmap_enter(u, va, 0x1000, VM_PROT_WRITE, PMAP_NOCACHE), VM_OK);
        CHECK_EQ(*e, 0x1000UL | PTE_P | PTE_RW | PTE_NX | PTE_PCD | PTE_PWT);
        CHECK(pmap_extract(u, va, NULL, &prot, &flags));
        CHECK_EQ(prot, VM_PROT_RW);     /* no write-only pages on x86 */
        CHECK_EQ(flags, PMAP_NOCACHE);
        CHECK_EQ(pmap_enter(u, va, 0x1000, VM_PROT_READ, PMAP_WC), VM_OK);
        CHECK_EQ(*e, 0x1000UL | PTE_P | PTE_NX | PTE_PWT);
        CHECK(pmap_extract(u, va, NULL, NULL, &flags));
        CHECK_EQ(flags, PMAP_WC);
        /* VM_PROT_NONE: not present, and the emptied tables go. */
        CHECK_EQ(pmap_enter(u, va, 0x1000, VM_PROT_NONE, PMAP_USER), VM_OK);
        CHECK(!pmap_extract(u, va, NULL, NULL, NULL));
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 1);
        CHECK(pmap_check(u));
        pmap_destroy(u);
        check_baseline();
}

TEST(enter_sets_kernel_pte_bits)
{
        struct pmap *k;
        unsigned flags;

        setup();
        k = pmap_kernel();
        CHECK_EQ(pmap_enter(k, VMALLOC_BASE, 0x2000, VM_PROT_RW, PMAP_GLOBAL),
                 VM_OK);
        for (unsigned l = 4; l > 1; l--)        /* no US in the kernel half */
                CHECK_EQ(*entry_at(k, VMALLOC_BASE, l) & ~PTE_ADDR_MASK,
                         PTE_P | PTE_RW);
        CHECK_EQ(*entry_at(k, VMALLOC_BASE, 1),
                 0x2000UL | PTE_P | PTE_RW | PTE_G | PTE_NX);
        CHECK(pmap_extract(k, VMALLOC_BASE, NULL, NULL, &flags));
        CHECK_EQ(flags, PMAP_GLOBAL);
        CHECK_EQ(pmap_enter_range(k, IOREMAP_BASE, 0xc0000000, 2 * MiB,
                                  VM_PROT_RW, PMAP_WC), VM_OK);
        CHECK_EQ(*entry_at(k, IOREMAP_BASE, 2), 0xc0000000UL | PTE_P |
                 PTE_RW | PTE_PS | PTE_PWT | PTE_NX);
        CHECK_EQ(pmap_enter(k, VMALLOC_BASE, 0, VM_PROT_NONE, 0), VM_OK);
        CHECK_EQ(pmap_remove(k, IOREMAP_BASE, IOREMAP_END), VM_OK);
        pmap_update(k);
        check_baseline();
}

/* Expected error code of a page fault. */
static unsigned pf(bool present, unsigned acc, bool user)
{
        return (present ? PF_PRESENT : 0) | (acc == W ? PF_WRITE : 0) |
               (user ? PF_USER : 0) | (acc == X ? PF_INSTR : 0);
}

static void expect_tr(struct pmap *pm, vaddr_t va, unsigned acc, bool user,
                      enum softmmu_result want, int line)
{
        unsigned err = 0;
        enum softmmu_result st = softmmu_x86_translate(pm->root, va, acc, user,
                                                   NULL, &err);
        unsigned want_err = 0;

        if (want == SOFTMMU_NOT_PRESENT || want == SOFTMMU_PROTECTION)
                want_err = pf(want == SOFTMMU_PROTECTION, acc, user);
        else if (want == SOFTMMU_RESERVED)
                want_err = pf(true, acc, user) | PF_RSVD;
        if (st != want)
                check_fail(__FILE__, line, "va %#lx acc %u user %d: result "
                           "%d, want %d", va, acc, user, st, want);
        if (err != want_err)
                check_fail(__FILE__, line, "va %#lx: error code %#x, want %#x",
                           va, err, want_err);
}
#define EXPECT_TR(pm, va, acc, user, want) \
        expect_tr(pm, va, acc, user, SOFTMMU_##want, __LINE__)

/* A user pmap with pages ro, rw, rx (user) and kp (kernel-only). */
static struct pmap *rights_setup(void)
{
        struct pmap *u;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter(u, 0x400000, 0x10000, VM_PROT_READ, PMAP_USER),
                 VM_OK);
        CHECK_EQ(pmap_enter(u, 0x401000, 0x11000, VM_PROT_RW, PMAP_USER),
                 VM_OK);
        CHECK_EQ(pmap_enter(u, 0x402000, 0x12000, VM_PROT_READ | VM_PROT_EXEC,
                            PMAP_USER), VM_OK);
        CHECK_EQ(pmap_enter(u, 0x403000, 0x13000, VM_PROT_ALL, 0), VM_OK);
        return u;
}

TEST(leaf_rights_nx_us_rw)
{
        vaddr_t ro = 0x400000, rw = 0x401000, rx = 0x402000, kp = 0x403000;
        vaddr_t kv = VMALLOC_BASE + 0x1000;
        struct pmap *u = rights_setup(), *k = pmap_kernel();

        CHECK_EQ(pmap_enter(k, kv, 0x14000, VM_PROT_RW, 0), VM_OK);
        EXPECT_TR(u, ro, R, true, OK);
        EXPECT_TR(u, ro, W, true, PROTECTION);
        EXPECT_TR(u, ro, W, false, PROTECTION);         /* CR0.WP */
        EXPECT_TR(u, ro, X, true, PROTECTION);
        EXPECT_TR(u, rw, W, true, OK);
        EXPECT_TR(u, rw, X, false, PROTECTION);         /* NX binds all */
        EXPECT_TR(u, rx, X, true, OK);
        EXPECT_TR(u, kp, R, true, PROTECTION);          /* no US */
        EXPECT_TR(u, kp, X, false, OK);
        EXPECT_TR(u, kv, R, true, PROTECTION);          /* kernel half */
        EXPECT_TR(u, kv, W, false, OK);
        EXPECT_TR(u, 0x404000, R, true, NOT_PRESENT);
        EXPECT_TR(u, 0x404000, W, false, NOT_PRESENT);
        EXPECT_TR(u, 0x404000, X, true, NOT_PRESENT);
        EXPECT_TR(u, 0x0000800000000000UL, R, false, NONCANONICAL);
        softmmu_smep = true;
        EXPECT_TR(u, rx, X, false, PROTECTION);
        EXPECT_TR(u, rx, R, false, OK);
        softmmu_smap = true;
        EXPECT_TR(u, rx, R, false, PROTECTION);
        EXPECT_TR(u, kp, R, false, OK);
        CHECK_EQ(pmap_remove(k, kv, kv + PAGE_SIZE), VM_OK);
        pmap_update(k);
        pmap_destroy(u);
        check_baseline();
}

/* The CPU ANDs the rights of all four levels: spoil one level at a time
 * (what the softmmu must get right for the other tests to mean much). */
TEST(upper_level_rights_combine)
{
        vaddr_t rw = 0x401000, rx = 0x402000;
        struct pmap *u = rights_setup();

        *entry_at(u, rw, 2) &= ~PTE_US;
        EXPECT_TR(u, rw, R, true, PROTECTION);
        EXPECT_TR(u, rw, W, false, OK);
        *entry_at(u, rw, 2) |= PTE_US;
        *entry_at(u, rw, 4) &= ~PTE_RW;
        EXPECT_TR(u, rw, W, true, PROTECTION);
        EXPECT_TR(u, rw, W, false, PROTECTION);
        EXPECT_TR(u, rw, R, true, OK);
        *entry_at(u, rw, 4) |= PTE_RW;
        *entry_at(u, rx, 3) |= PTE_NX;
        EXPECT_TR(u, rx, X, true, PROTECTION);
        EXPECT_TR(u, rx, R, true, OK);
        *entry_at(u, rx, 3) &= ~PTE_NX;
        *entry_at(u, rw, 4) |= PTE_PS;                  /* reserved at L4 */
        EXPECT_TR(u, rw, R, true, RESERVED);
        *entry_at(u, rw, 4) &= ~PTE_PS;
        CHECK(pmap_check(u));
        pmap_destroy(u);
        check_baseline();
}

TEST(accessed_dirty_bits)
{
        struct pmap *u = NULL;
        vaddr_t va = 0x7000000000UL, big = 0x40000000;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter(u, va, 0x20000, VM_PROT_RW, PMAP_USER), VM_OK);
        for (unsigned l = 4; l >= 1; l--)
                CHECK_EQ(*entry_at(u, va, l) & PTE_A, 0);
        CHECK_EQ(pmap_ad(u, va, false), 0);
        EXPECT_TR(u, va, R, true, OK);
        for (unsigned l = 4; l >= 1; l--)       /* A on every level walked */
                CHECK(*entry_at(u, va, l) & PTE_A);
        CHECK_EQ(*entry_at(u, va, 1) & PTE_D, 0);
        CHECK_EQ(pmap_ad(u, va, false), PMAP_AD_ACCESSED);
        EXPECT_TR(u, va, W, true, OK);
        CHECK_EQ(pmap_ad(u, va, true), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        CHECK_EQ(pmap_ad(u, va, false), 0);
        CHECK(pmap_check(u));                   /* A on upper levels is fine */

        /* Re-entering the same frame keeps D; another frame starts clean. */
        EXPECT_TR(u, va, W, false, OK);
        CHECK_EQ(pmap_enter(u, va, 0x20000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_ad(u, va, false), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        CHECK_EQ(pmap_enter(u, va, 0x21000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_ad(u, va, false), 0);

        /* Through the TLB: clearing D must drop the cached "dirty" entry. */
        CHECK_EQ(pmap_enter(u, va, 0x21000, VM_PROT_RW, PMAP_USER), VM_OK);
        pmap_update(u);
        pmap_activate(u);
        CHECK_EQ(softmmu_x86_access(va, W, true, NULL, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_ad(u, va, true), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        CHECK(!softmmu_tlb_check());            /* not yet invalidated */
        pmap_update(u);
        CHECK(softmmu_tlb_check());
        CHECK(!softmmu_tlb_holds(va));
        CHECK_EQ(softmmu_x86_access(va, W, true, NULL, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_ad(u, va, false), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);

        /* A large page has one pair of bits for all of it. */
        CHECK_EQ(pmap_enter_range(u, big, 0x40000000, 2 * MiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(softmmu_x86_access(big + 0x1234, W, true, NULL, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_ad(u, big + 0x1ff000, true),
                 PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        pmap_update(u);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(pmap_ad(u, big, false), 0);
        pmap_activate(pmap_kernel());
        pmap_destroy(u);
        check_baseline();
}

TEST(large_page_demotion_on_partial_remove)
{
        struct pmap *u;
        vaddr_t va = 0x200000, hole = 0x205000;
        paddr_t pa;
        vm_prot_t prot;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter_range(u, va, 0x40000000, 4 * MiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(shift_of(u, va), 21);
        CHECK_EQ(pmap_table_pages(u), 3);       /* PML4, PDPT, PD */
        EXPECT_TR(u, va, W, true, OK);          /* D on the 2 MiB leaf */
        CHECK_EQ(pmap_remove(u, hole, hole + PAGE_SIZE), VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 4);       /* the split's PT */
        CHECK(!pmap_extract(u, hole, NULL, NULL, NULL));
        for (vaddr_t p = va; p < va + 2 * MiB; p += PAGE_SIZE) {
                if (p == hole)
                        continue;
                CHECK(pmap_extract(u, p + 7, &pa, &prot, NULL));
                CHECK_EQ(pa, 0x40000000 + (p - va) + 7);
                CHECK_EQ(prot, VM_PROT_RW);
                CHECK_EQ(shift_of(u, p), 12);
                /* The split keeps A and D on every piece. */
                CHECK_EQ(pmap_ad(u, p, false), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        }
        /* The other 2 MiB page, wholly covered: removed without a split. */
        CHECK_EQ(pmap_remove(u, va + 2 * MiB, va + 4 * MiB), VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 4);
        CHECK_EQ(*entry_at(u, va + 2 * MiB, 2), 0);
        CHECK(pmap_check(u));
        pmap_destroy(u);
        check_baseline();
}

TEST(large_page_demotion_on_protect)
{
        struct pmap *u;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter_range(u, 0x600000, 0x600000, 2 * MiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(pmap_protect(u, 0x7ff000, 0x800000, VM_PROT_READ), VM_OK);
        pmap_update(u);
        CHECK_EQ(shift_of(u, 0x600000), 12);
        EXPECT_TR(u, 0x7fe000, W, true, OK);
        EXPECT_TR(u, 0x7ff000, W, true, PROTECTION);
        CHECK(pmap_check(u));
        /* A split that changes no translation still drops the big TLB
         * entry, so the TLB never holds both sizes for one page. */
        CHECK_EQ(pmap_enter_range(u, 0xc00000, 0xc00000, 2 * MiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        pmap_activate(u);
        CHECK_EQ(softmmu_x86_access(0xc00000, R, true, NULL, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_protect(u, 0xc01000, 0xc02000, VM_PROT_RW), VM_OK);
        pmap_update(u);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(shift_of(u, 0xc00000), 12);
        pmap_activate(pmap_kernel());
        pmap_destroy(u);
        check_baseline();
}

TEST(large_page_split_failure_changes_nothing)
{
        struct pmap *u;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter_range(u, 0xa00000, 0xa00000, 2 * MiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        vm_ptpage_fail_after = 1;
        CHECK_EQ(pmap_remove(u, 0xa01000, 0xa02000), VM_ENOMEM);
        CHECK_EQ(pmap_protect(u, 0xa01000, 0xa02000, VM_PROT_READ), VM_OK);
        CHECK_EQ(shift_of(u, 0xa00000), 12);    /* (fail_after was used up) */
        vm_ptpage_fail_after = 0;
        CHECK_EQ(pmap_enter_range(u, 0xc00000, 0xc00000, 2 * MiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        vm_ptpage_fail_after = 1;
        CHECK_EQ(pmap_protect(u, 0xc01000, 0xc02000, VM_PROT_READ), VM_ENOMEM);
        CHECK_EQ(shift_of(u, 0xc00000), 21);
        EXPECT_TR(u, 0xc01000, W, true, OK);
        CHECK_EQ(pmap_table_pages(u), 4);
        CHECK(pmap_check(u));
        vm_ptpage_fail_after = 0;
        pmap_destroy(u);
        check_baseline();
}

TEST(one_gig_pages_only_when_supported)
{
        struct pmap *u;
        vaddr_t va = 0x40000000;

        setup();
        u = new_user();
        softmmu_1g_pages = false;
        CHECK_EQ(pmap_enter_range(u, va, 0x80000000, 2 * GiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(shift_of(u, va), 21);
        CHECK_EQ(shift_of(u, va + GiB + 5 * MiB), 21);
        CHECK_EQ(pmap_table_pages(u), 4);       /* PML4, PDPT, two PDs */
        CHECK_EQ(pmap_remove(u, va, va + 2 * GiB), VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 1);

        softmmu_1g_pages = true;
        CHECK_EQ(pmap_enter_range(u, va, 0x80000000, 2 * GiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(shift_of(u, va), 30);
        CHECK_EQ(pmap_table_pages(u), 2);
        EXPECT_TR(u, va + 0x12345678, W, true, OK);
        /* A CPU without the feature would fault on such an entry. */
        softmmu_1g_pages = false;
        EXPECT_TR(u, va, R, true, RESERVED);
        softmmu_1g_pages = true;

        /* Demotion chain: 1 GiB -> 2 MiB -> 4 KiB around one hole. */
        CHECK_EQ(pmap_remove(u, va + 3 * MiB + PAGE_SIZE,
                             va + 3 * MiB + 2 * PAGE_SIZE), VM_OK);
        pmap_update(u);
        CHECK_EQ(shift_of(u, va), 21);
        CHECK_EQ(shift_of(u, va + 3 * MiB), 12);
        CHECK_EQ(shift_of(u, va + GiB), 30);
        CHECK_EQ(pmap_table_pages(u), 4);
        CHECK_EQ(pmap_ad(u, va + 100 * MiB, false),
                 PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        CHECK(pmap_check(u));
        CHECK_EQ(pmap_remove(u, 0, USER_HALF_END), VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 1);

        /* Pieces follow the alignment of both addresses and the length. */
        CHECK_EQ(pmap_enter_range(u, va, 0x80200000, GiB, VM_PROT_READ,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(shift_of(u, va), 21);
        CHECK_EQ(pmap_enter_range(u, 2 * GiB, 2 * GiB, GiB + 2 * MiB + 4 * KiB,
                                  VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(shift_of(u, 2 * GiB), 30);
        CHECK_EQ(shift_of(u, 3 * GiB), 21);
        CHECK_EQ(shift_of(u, 3 * GiB + 2 * MiB), 12);
        CHECK(!pmap_extract(u, 3 * GiB + 2 * MiB + 4 * KiB, NULL, NULL, NULL));
        pmap_destroy(u);
        check_baseline();
}

TEST(intermediate_tables_freed_when_empty)
{
        struct pmap *u, *k;
        vaddr_t hi = 0x00007ffffffff000UL, lo = 0x1000;
        vaddr_t kv = VMALLOC_BASE + 0x123456000UL;
        pte_t *ut, *kt;

        setup();
        u = new_user();
        k = pmap_kernel();
        ut = phys_to_virt(u->root);
        kt = phys_to_virt(k->root);
        CHECK_EQ(pmap_enter(u, hi, 0x1000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_enter(u, lo, 0x1000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_table_pages(u), 7);
        CHECK_EQ(pmap_remove(u, hi, hi + PAGE_SIZE), VM_OK);
        /* Freed tables wait for the TLB flush. */
        CHECK_EQ(pmap_table_pages(u), 7);
        CHECK(pmap_check(u));
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 4);
        CHECK_EQ(ut[255], 0);
        CHECK(pte_present(ut[0]));
        CHECK_EQ(pmap_remove(u, 0, USER_HALF_END), VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 1);
        CHECK_EQ(ut[0], 0);

        /* Kernel half: PD and PT go, the boot-time PDPT stays. */
        CHECK_EQ(pmap_enter(k, kv, 0x3000, VM_PROT_READ, 0), VM_OK);
        CHECK_EQ(pmap_table_pages(k), base_pt + 2);
        CHECK_EQ(pmap_remove(k, kv, kv + PAGE_SIZE), VM_OK);
        pmap_update(k);
        CHECK_EQ(pmap_table_pages(k), base_pt);
        CHECK(pte_present(kt[pt_index(kv, 4)]));
        CHECK(pmap_check(k) && pmap_check(u));

        /* Removing the whole half walks only what is there. */
        for (unsigned i = 0; i < 200; i++)
                CHECK_EQ(pmap_enter(u, (vaddr_t)i * 0x9876543000UL % hi,
                                    0x1000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_remove(u, 0, USER_HALF_END), VM_OK);
        CHECK_EQ(pmap_remove(k, LINEAR_BASE, 0), VM_OK);
        pmap_update(u);
        pmap_update(k);
        CHECK_EQ(pmap_table_pages(u), 1);
        pmap_destroy(u);
        check_baseline();
}

TEST(allocation_failure_changes_nothing)
{
        struct pmap *u, *k, *v = NULL;
        vaddr_t va = 0x0000123456789000UL;
        uint64_t free0, pt0;

        setup();
        u = new_user();
        k = pmap_kernel();
        free0 = pmm_free_count();
        pt0 = vmstat.pt_pages;
        for (uint64_t n = 1; n <= 3; n++) {     /* needs PDPT, PD, PT */
                vm_ptpage_fail_after = n;
                CHECK_EQ(pmap_enter(u, va, 0x5000, VM_PROT_RW, PMAP_USER),
                         VM_ENOMEM);
                CHECK_EQ(vm_ptpage_fail_after, 0);
                CHECK_EQ(pmm_free_count(), free0);
                CHECK_EQ(vmstat.pt_pages, pt0);
                CHECK_EQ(pmap_table_pages(u), 1);
                CHECK(!pmap_extract(u, va, NULL, NULL, NULL));
                CHECK(pmap_check(u));
        }
        vm_ptpage_fail_after = 4;
        CHECK_EQ(pmap_enter(u, va, 0x5000, VM_PROT_RW, PMAP_USER), VM_OK);
        vm_ptpage_fail_after = 0;
        CHECK_EQ(pmap_table_pages(u), 4);

        /* Kernel half, under the fixed PDPT: PD and PT. */
        vm_ptpage_fail_after = 2;
        CHECK_EQ(pmap_enter(k, IOREMAP_BASE, 0xfee00000, VM_PROT_RW,
                            PMAP_NOCACHE), VM_ENOMEM);
        CHECK_EQ(pmap_table_pages(k), base_pt);
        CHECK(pmap_check(k));

        /* enter_range: the pieces before the failure stay mapped. 4 MiB of
         * 4 KiB pages (pa not 2 MiB-congruent) over two page tables. */
        vm_ptpage_fail_after = 4;       /* PDPT, PD, PT ok; 2nd PT fails */
        CHECK_EQ(pmap_enter_range(u, 0x200000, 0x1000, 4 * MiB, VM_PROT_READ,
                                  PMAP_USER), VM_ENOMEM);
        CHECK(pmap_extract(u, 0x3ff000, NULL, NULL, NULL));
        CHECK(!pmap_extract(u, 0x400000, NULL, NULL, NULL));
        CHECK(pmap_check(u));

        /* pmap_create's PML4. */
        vm_ptpage_fail_after = 1;
        CHECK_EQ(pmap_create(&v), VM_ENOMEM);
        CHECK(v == NULL);
        vm_ptpage_fail_after = 0;
        pmap_destroy(u);
        check_baseline();
}

TEST(kernel_mapping_after_create_is_visible)
{
        struct pmap *u1, *u2, *k;
        vaddr_t kv = VMALLOC_BASE + 0x40000000UL;
        paddr_t pa = 0;

        setup();
        k = pmap_kernel();
        u1 = new_user();
        CHECK_EQ(pmap_enter(k, kv, 0x7000, VM_PROT_RW, PMAP_GLOBAL), VM_OK);
        CHECK_EQ(pmap_enter_range(k, KERNEL_BASE, 0x0, 4 * MiB,
                                  VM_PROT_READ | VM_PROT_EXEC, PMAP_GLOBAL),
                 VM_OK);
        pmap_update(k);
        u2 = new_user();
        CHECK(pmap_check(u1) && pmap_check(u2) && pmap_check(k));
        CHECK_EQ(softmmu_x86_translate(u1->root, kv + 8, W, false, &pa, NULL),
                 SOFTMMU_OK);
        CHECK_EQ(pa, 0x7008);
        EXPECT_TR(u1, kv, R, true, PROTECTION);
        EXPECT_TR(u2, kv, W, false, OK);
        EXPECT_TR(u1, KERNEL_BASE + 0x123000, X, false, OK);
        EXPECT_TR(u1, KERNEL_BASE + 0x123000, W, false, PROTECTION);
        CHECK(pmap_extract(u1, kv, &pa, NULL, NULL));
        CHECK_EQ(pa, 0x7000);
        /* Through the TLB of a user address space, then gone everywhere. */
        pmap_activate(u1);
        CHECK_EQ(softmmu_x86_access(kv, R, false, NULL, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_remove(k, kv, kv + PAGE_SIZE), VM_OK);
        pmap_update(k);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(softmmu_x86_access(kv, R, false, NULL, NULL),
                 SOFTMMU_NOT_PRESENT);
        EXPECT_TR(u2, kv, R, false, NOT_PRESENT);
        CHECK_EQ(pmap_remove(k, KERNEL_BASE, 0), VM_OK);
        pmap_update(k);
        pmap_activate(k);
        pmap_destroy(u1);
        pmap_destroy(u2);
        check_baseline();
}

TEST(tlb_stale_without_update)
{
        struct pmap *u;
        vaddr_t va = 0x10000;
        paddr_t pa = 0;

        setup();
        u = new_user();
        pmap_activate(u);
        CHECK_EQ(pmap_enter(u, va, 0x8000, VM_PROT_RW, PMAP_USER), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_x86_access(va, W, true, NULL, NULL), SOFTMMU_OK);
        CHECK(softmmu_tlb_holds(va));

        /* Skipping pmap_update() leaves the CPU using the old entry, and
         * softmmu_tlb_check() sees it: the random tests rely on that. */
        CHECK_EQ(pmap_remove(u, va, va + PAGE_SIZE), VM_OK);
        CHECK(!softmmu_tlb_check());
        CHECK_EQ(softmmu_x86_access(va, R, true, &pa, NULL), SOFTMMU_OK);
        CHECK_EQ(pa, 0x8000);
        pmap_update(u);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(softmmu_x86_access(va, R, true, NULL, NULL), SOFTMMU_NOT_PRESENT);

        CHECK_EQ(pmap_enter(u, va, 0x8000, VM_PROT_RW, PMAP_USER), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_x86_access(va, W, true, NULL, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_protect(u, va, va + PAGE_SIZE, VM_PROT_READ), VM_OK);
        CHECK(!softmmu_tlb_check());
        CHECK_EQ(softmmu_x86_access(va, W, true, NULL, NULL), SOFTMMU_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_x86_access(va, W, true, NULL, NULL), SOFTMMU_PROTECTION);

        CHECK_EQ(pmap_enter(u, va, 0x9000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(softmmu_x86_access(va, R, true, &pa, NULL), SOFTMMU_OK);
        CHECK_EQ(pa, 0x9000);           /* nothing cached: it had faulted */
        CHECK_EQ(pmap_enter(u, va, 0xa000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK(!softmmu_tlb_check());
        CHECK_EQ(softmmu_x86_access(va, R, true, &pa, NULL), SOFTMMU_OK);
        CHECK_EQ(pa, 0x9000);                   /* stale frame */
        pmap_update(u);
        CHECK_EQ(softmmu_x86_access(va, R, true, &pa, NULL), SOFTMMU_OK);
        CHECK_EQ(pa, 0xa000);
        pmap_activate(pmap_kernel());
        pmap_destroy(u);
        check_baseline();
}

/*
 * pmap_narrower_run finds the translations that allow less than asked;
 * pmap_widen_run: only the pages the mask names whose translation maps
 * exactly the frame named, and allows nothing more than the new
 * protection, change; nothing is batched for the TLB, and an entry the
 * TLB still holds read-only is not stale (it allows less), its write
 * faults and drops it, and the next write walks the wider entry.
 */
TEST(narrower_and_widen_runs)
{
        struct pmap *u;
        vaddr_t va = 0x400000;          /* a last-level table's first page */
        paddr_t pa[8];
        vm_prot_t prot;
        uint32_t done;

        setup();
        u = new_user();
        pmap_activate(u);
        for (unsigned i = 0; i < 8; i++) {
                pa[i] = 0x100000 + i * PAGE_SIZE;
                CHECK_EQ(pmap_enter(u, va + i * PAGE_SIZE, pa[i],
                                    i == 5 ? VM_PROT_READ | VM_PROT_EXEC
                                           : VM_PROT_READ, PMAP_USER), VM_OK);
        }
        CHECK_EQ(pmap_remove(u, va + 6 * PAGE_SIZE, va + 7 * PAGE_SIZE), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_x86_access(va + 2 * PAGE_SIZE, R, true, NULL, NULL),
                 SOFTMMU_OK);
        CHECK(softmmu_tlb_holds(va + 2 * PAGE_SIZE));
        pa[3] += PAGE_SIZE;             /* not the frame it maps */
        /* Read-only translations: all but 6 (none there). */
        CHECK_EQ(pmap_narrower_run(u, va, 8, VM_PROT_RW), 0xffu & ~(1u << 6));
        done = pmap_widen_run(u, va, 8, 0xff & ~(1u << 1), pa, VM_PROT_RW);
        CHECK_EQ(u->tlb.n, 0);
        CHECK(!u->tlb.flush_all);
        /* 1: not named; 3: another frame; 5: has exec, which RW lacks;
         * 6: no translation. */
        CHECK_EQ(done, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 7));
        CHECK_EQ(pmap_narrower_run(u, va, 8, VM_PROT_RW),
                 (1u << 1) | (1u << 3) | (1u << 5));
        for (unsigned i = 0; i < 8; i++) {
                bool w = done >> i & 1;

                CHECK_EQ(pmap_extract(u, va + i * PAGE_SIZE, NULL, &prot, NULL),
                         i != 6);
                if (i != 6)
                        CHECK_EQ(prot & VM_PROT_WRITE, w ? VM_PROT_WRITE : 0);
        }
        CHECK(softmmu_tlb_check());     /* page 2's entry allows less */
        CHECK_EQ(softmmu_x86_access(va + 2 * PAGE_SIZE, W, true, NULL, NULL),
                 SOFTMMU_PROTECTION);   /* through the old entry: dropped */
        CHECK(!softmmu_tlb_holds(va + 2 * PAGE_SIZE));
        CHECK_EQ(softmmu_x86_access(va + 2 * PAGE_SIZE, W, true, NULL, NULL),
                 SOFTMMU_OK);
        /* Nothing to widen: no table there, or a large page. */
        CHECK_EQ(pmap_narrower_run(u, 0x40000000, 4, VM_PROT_RW), 0);
        CHECK_EQ(pmap_widen_run(u, 0x40000000, 4, 0xf, pa, VM_PROT_RW), 0);
        CHECK_EQ(pmap_enter_range(u, 0x600000, 0x200000, 2 * MiB,
                                  VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_narrower_run(u, 0x600000, 1, VM_PROT_RW), 0);
        CHECK_EQ(pmap_widen_run(u, 0x600000, 1, 1, (paddr_t[]){ 0x200000 },
                                VM_PROT_RW), 0);
        CHECK(pmap_check(u));
        pmap_activate(pmap_kernel());
        pmap_destroy(u);
        check_baseline();
}

TEST(tlb_batch_threshold)
{
        struct pmap *u, *v;
        struct softmmu_stats s;

        setup();
        u = new_user();
        v = new_user();
        pmap_activate(u);
        for (vaddr_t i = 0; i < 40; i++)
                CHECK_EQ(pmap_enter(u, 0x100000 + i * PAGE_SIZE, i * PAGE_SIZE,
                                    VM_PROT_READ, PMAP_USER), VM_OK);
        pmap_update(u);
        s = softmmu_stats;
        CHECK_EQ(pmap_remove(u, 0x100000, 0x100000 + 32 * PAGE_SIZE), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_stats.invlpg - s.invlpg, 32);
        CHECK_EQ(softmmu_stats.flush, s.flush);
        CHECK_EQ(pmap_remove(u, 0, USER_HALF_END), VM_OK);
        for (vaddr_t i = 0; i < 33; i++)
                CHECK_EQ(pmap_enter(u, 0x100000 + i * PAGE_SIZE, i * PAGE_SIZE,
                                    VM_PROT_READ, PMAP_USER), VM_OK);
        pmap_update(u);
        s = softmmu_stats;
        CHECK_EQ(pmap_remove(u, 0, USER_HALF_END), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_stats.flush - s.flush, 1);
        CHECK_EQ(softmmu_stats.invlpg, s.invlpg);

        /* A pmap that is not loaded has nothing in the TLB to invalidate. */
        s = softmmu_stats;
        CHECK_EQ(pmap_enter(v, 0x5000, 0x5000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_enter(v, 0x5000, 0x6000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_remove(v, 0, USER_HALF_END), VM_OK);
        pmap_update(v);
        CHECK_EQ(softmmu_stats.invlpg, s.invlpg);
        CHECK_EQ(pmap_table_pages(v), 1);
        pmap_activate(pmap_kernel());
        pmap_destroy(u);
        pmap_destroy(v);
        check_baseline();
}

/* Global kernel entries survive a CR3 load, not a global flush. */
TEST(tlb_global_pages)
{
        struct pmap *u, *v, *k;
        struct softmmu_stats s;

        setup();
        u = new_user();
        v = new_user();
        k = pmap_kernel();
        pmap_activate(u);
        for (vaddr_t i = 0; i < 40; i++)
                CHECK_EQ(pmap_enter(k, VMALLOC_BASE + i * PAGE_SIZE,
                                    i * PAGE_SIZE, VM_PROT_READ, PMAP_GLOBAL),
                         VM_OK);
        CHECK_EQ(pmap_enter(u, 0x5000, 0x5000, VM_PROT_READ, PMAP_USER), VM_OK);
        pmap_update(k);
        pmap_update(u);
        CHECK_EQ(softmmu_x86_access(VMALLOC_BASE, R, false, NULL, NULL), SOFTMMU_OK);
        CHECK_EQ(softmmu_x86_access(0x5000, R, true, NULL, NULL), SOFTMMU_OK);
        pmap_activate(v);
        CHECK(softmmu_tlb_holds(VMALLOC_BASE));
        CHECK(!softmmu_tlb_holds(0x5000));
        CHECK(softmmu_tlb_check());
        s = softmmu_stats;
        CHECK_EQ(pmap_remove(k, VMALLOC_BASE, VMALLOC_END), VM_OK);
        pmap_update(k);                 /* not the loaded pmap, still live */
        CHECK_EQ(softmmu_stats.flush_global - s.flush_global, 1);
        CHECK(!softmmu_tlb_holds(VMALLOC_BASE));
        CHECK(softmmu_tlb_check());
        pmap_activate(k);
        pmap_destroy(u);
        pmap_destroy(v);
        check_baseline();
}

/* A user pmap with a 1 GiB page at 1 GiB, a 2 MiB ioremap page. */
static struct pmap *bad_args_setup(void)
{
        struct pmap *u;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter_range(u, GiB, GiB, GiB, VM_PROT_RW, PMAP_USER),
                 VM_OK);
        CHECK_EQ(pmap_enter_range(pmap_kernel(), IOREMAP_BASE, 0, 2 * MiB,
                                  VM_PROT_RW, PMAP_NOCACHE), VM_OK);
        return u;
}

/* Nothing changed since bad_args_setup(); then clean up. */
static void bad_args_finish(struct pmap *u, uint64_t pt0)
{
        struct pmap *k = pmap_kernel();

        CHECK_EQ(vmstat.pt_pages, pt0);
        CHECK_EQ(shift_of(u, GiB), 30);
        CHECK_EQ(shift_of(k, IOREMAP_BASE), 21);
        CHECK(pmap_check(u) && pmap_check(k));
        CHECK_EQ(pmap_remove(k, IOREMAP_BASE, IOREMAP_END), VM_OK);
        pmap_update(k);
        pmap_destroy(u);
        check_baseline();
}

TEST(bad_enter_arguments_change_nothing)
{
        struct pmap *u = bad_args_setup(), *k = pmap_kernel();
        uint64_t pt0 = vmstat.pt_pages;

        CHECK_EQ(pmap_enter(u, LINEAR_BASE, 0, VM_PROT_READ, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, USER_HALF_END, 0, VM_PROT_READ, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, 0x1001, 0, VM_PROT_READ, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, 0x1000, 0x10, VM_PROT_READ, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, 0x1000, 1UL << 52, VM_PROT_READ, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, 0x1000, 0, VM_PROT_READ, PMAP_NOCACHE | PMAP_WC),
                 VM_EINVAL);
        CHECK_EQ(pmap_enter(u, 0x1000, 0, VM_PROT_READ, 0x10), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, 0x1000, 0, VM_PROT_READ, 0x1000), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, 0x1000, 0, 0x8, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter(k, VMALLOC_BASE, 0, VM_PROT_READ, PMAP_USER),
                 VM_EINVAL);
        CHECK_EQ(pmap_enter(k, LINEAR_BASE + (1UL << 40), 0, VM_PROT_READ, 0),
                 VM_EINVAL);            /* no boot-time slot there */
        CHECK_EQ(pmap_enter(u, GiB + 5 * PAGE_SIZE, 0, VM_PROT_READ, 0),
                 VM_EINVAL);            /* inside a 1 GiB page */
        CHECK_EQ(pmap_enter(u, GiB, 0, VM_PROT_NONE, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter_range(u, GiB + 2 * MiB, 0, 2 * MiB, VM_PROT_READ,
                                  0), VM_EINVAL);
        CHECK_EQ(pmap_enter_range(u, GiB - 4 * MiB, 0, 8 * MiB, VM_PROT_READ,
                                  0), VM_EINVAL);       /* tail inside */
        CHECK(!pmap_extract(u, GiB - PAGE_SIZE, NULL, NULL, NULL));
        CHECK_EQ(pmap_enter_range(k, IOREMAP_BASE + PAGE_SIZE, 0, PAGE_SIZE,
                                  VM_PROT_READ, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter_range(u, 0, 0, 0, VM_PROT_READ, 0), VM_EINVAL);
        bad_args_finish(u, pt0);
}

TEST(bad_range_arguments_change_nothing)
{
        struct pmap *u = bad_args_setup(), *k = pmap_kernel();
        uint64_t pt0 = vmstat.pt_pages;

        CHECK_EQ(pmap_remove(u, 0x5000, 0x1000), VM_EINVAL);
        CHECK_EQ(pmap_remove(u, 0x1000, LINEAR_BASE), VM_EINVAL);
        CHECK_EQ(pmap_remove(u, LINEAR_BASE, LINEAR_BASE + PAGE_SIZE),
                 VM_EINVAL);
        CHECK_EQ(pmap_remove(u, 0x1000, 0x1800), VM_EINVAL);
        CHECK_EQ(pmap_remove(k, USER_HALF_END, USER_HALF_END + PAGE_SIZE),
                 VM_EINVAL);
        CHECK_EQ(pmap_protect(u, GiB, 2 * GiB, 0x10), VM_EINVAL);
        CHECK_EQ(pmap_protect(u, LINEAR_BASE, 0, VM_PROT_READ), VM_EINVAL);
        CHECK_EQ(pmap_remove(u, 0x3000, 0x3000), VM_OK);
        CHECK(!pmap_extract(u, USER_HALF_END, NULL, NULL, NULL));
        CHECK_EQ(pmap_ad(u, USER_HALF_END, true), 0);
        bad_args_finish(u, pt0);
}

TEST(destroy_frees_only_user_tables)
{
        struct pmap *u, *k;
        vaddr_t kv = VMALLOC_BASE + 0x5000;

        setup();
        k = pmap_kernel();
        u = new_user();
        CHECK_EQ(pmap_enter(k, kv, 0x1000, VM_PROT_READ, 0), VM_OK);
        for (vaddr_t va = 0x1000; va < USER_HALF_END; va = va * 3 + 0x1000)
                CHECK_EQ(pmap_enter(u, page_trunc(va), 0x2000, VM_PROT_RW,
                                    PMAP_USER | (va & 0x4000 ? PMAP_GLOBAL : 0)),
                         VM_OK);
        CHECK_EQ(pmap_enter_range(u, 4 * GiB, 4 * GiB, GiB + 2 * MiB,
                                  VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK(pmap_table_pages(u) > 20);
        CHECK_EQ(vmstat.pt_pages, pmap_table_pages(u) + pmap_table_pages(k));
        pmap_destroy(u);                /* with its mappings still there */
        CHECK_EQ(vmstat.pt_pages, pmap_table_pages(k));
        CHECK(pmap_check(k));
        CHECK(pmap_extract(k, kv, NULL, NULL, NULL));
        CHECK_EQ(pmap_remove(k, kv, kv + PAGE_SIZE), VM_OK);
        pmap_update(k);
        check_baseline();
}

TEST(enter_range_replaces_smaller_pages)
{
        struct pmap *u;
        paddr_t pa = 0;

        setup();
        u = new_user();
        pmap_activate(u);
        for (vaddr_t i = 0; i < 10; i++)
                CHECK_EQ(pmap_enter(u, 0x200000 + i * 0x31000, 0x1000,
                                    VM_PROT_RW, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_enter(u, GiB + 0x5000, 0x1000, VM_PROT_RW, PMAP_USER),
                 VM_OK);
        pmap_update(u);
        for (vaddr_t i = 0; i < 10; i++)
                CHECK_EQ(softmmu_x86_access(0x200000 + i * 0x31000, W, true, NULL,
                                        NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_table_pages(u), 6);       /* PML4 PDPT 2xPD 2xPT */
        CHECK_EQ(pmap_enter_range(u, 0x200000, 0x600000, 2 * MiB, VM_PROT_READ,
                                  PMAP_USER), VM_OK);
        CHECK(!softmmu_tlb_check());
        pmap_update(u);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(pmap_table_pages(u), 5);
        CHECK_EQ(softmmu_x86_access(0x231000, R, true, &pa, NULL), SOFTMMU_OK);
        CHECK_EQ(pa, 0x631000);
        CHECK_EQ(pmap_ad(u, 0x200000, false), PMAP_AD_ACCESSED);
        /* A 1 GiB page over a PD and PT. */
        CHECK_EQ(pmap_enter_range(u, GiB, GiB, GiB, VM_PROT_READ, PMAP_USER),
                 VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), 3);
        CHECK_EQ(shift_of(u, GiB + 0x5000), 30);
        CHECK(pmap_check(u));
        pmap_activate(pmap_kernel());
        pmap_destroy(u);
        check_baseline();
}

TEST(top_of_each_half)
{
        struct pmap *u, *k;
        vaddr_t ktop = 0xfffffffffffff000UL, utop = 0x00007ffffffff000UL;

        setup();
        u = new_user();
        k = pmap_kernel();
        CHECK_EQ(pmap_enter(k, ktop, 0x1000, VM_PROT_READ, 0), VM_OK);
        EXPECT_TR(k, ktop + 0xfff, R, false, OK);
        CHECK_EQ(pmap_remove(k, ktop, 0), VM_OK);
        EXPECT_TR(k, ktop, R, false, NOT_PRESENT);
        CHECK_EQ(pmap_enter_range(k, 0xffffffffffe00000UL, 0x200000, 2 * MiB,
                                  VM_PROT_READ, 0), VM_OK);
        CHECK_EQ(shift_of(k, ktop), 21);
        CHECK_EQ(pmap_protect(k, ktop, 0, VM_PROT_RW), VM_OK);
        EXPECT_TR(k, ktop, W, false, OK);
        EXPECT_TR(k, ktop - PAGE_SIZE, W, false, PROTECTION);
        CHECK_EQ(pmap_enter_range(u, utop, 0x1000, PAGE_SIZE, VM_PROT_READ,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(pmap_enter_range(u, utop, 0x1000, 2 * PAGE_SIZE, VM_PROT_READ,
                                  PMAP_USER), VM_EINVAL);
        EXPECT_TR(u, utop, R, true, OK);
        CHECK_EQ(pmap_remove(u, utop, USER_HALF_END), VM_OK);
        CHECK_EQ(pmap_remove(k, KERNEL_BASE, 0), VM_OK);
        pmap_update(u);
        pmap_update(k);
        CHECK(pmap_check(u) && pmap_check(k));
        pmap_destroy(u);
        check_baseline();
}

TEST(pmap_check_catches_corruption)
{
        struct pmap *u;
        pte_t *leaf, saved;

        setup();
        u = new_user();
        CHECK_EQ(pmap_enter(u, 0x1000, 0x1000, VM_PROT_RW, PMAP_USER), VM_OK);
        CHECK(pmap_check(u));
        leaf = entry_at(u, 0x1000, 1);
        saved = *leaf;
        *leaf |= 1UL << 52;                     /* a bit pmap never sets */
        CHECK(!pmap_check(u));
        *leaf = saved & ~PTE_PWT;
        *leaf |= PTE_PCD;                       /* UC- is not used */
        CHECK(!pmap_check(u));
        *leaf = 0;                              /* PT left empty */
        CHECK(!pmap_check(u));
        *leaf = saved;
        *entry_at(u, 0x1000, 3) |= PTE_NX;      /* NX on an upper level */
        CHECK(!pmap_check(u));
        *entry_at(u, 0x1000, 3) &= ~PTE_NX;
        ((pte_t *)phys_to_virt(u->root))[300] = 0x1000 | PTE_P;
        CHECK(!pmap_check(u));                  /* kernel half differs */
        ((pte_t *)phys_to_virt(u->root))[300] = 0;
        u->table_pages++;
        CHECK(!pmap_check(u));
        u->table_pages--;
        CHECK(pmap_check(u));
        pmap_destroy(u);
        check_baseline();
}

/* ---- the reference model and the random tests -------------------------- */

/* The model's view of one 4 KiB page. */
struct mpage {
        paddr_t pa;             /* its frame */
        uint8_t prot;           /* 0: unmapped; else includes VM_PROT_READ */
        uint8_t flags;          /* PMAP_* */
        uint8_t shift;          /* size of the leaf holding it: 12, 21, 30 */
};

struct region {
        vaddr_t  base;
        uint64_t npages;
};

#define NREGIONS 4

/* Regions the random tests use: each crosses a 2 MiB, 1 GiB or top-level
 * boundary, or an end of a half. Only pages inside them are ever mapped. */
static const struct region user_regions[NREGIONS] = {
        { 0x0, 1024 },                          /* [0, 4 MiB) */
        { 0x3fe00000, 1024 },                   /* across 1 GiB */
        { 0x7fc0000000, 524288 },               /* 2 GiB across 512 GiB */
        { 0x7fffffc00000, 1024 },               /* top 4 MiB */
};
static const struct region kernel_regions[NREGIONS] = {
        { LINEAR_BASE, RAM_BYTES >> PAGE_SHIFT },
        { VMALLOC_BASE, 524288 },               /* 2 GiB */
        { IOREMAP_BASE + GiB - 2 * MiB, 1024 }, /* across 1 GiB */
        { 0xffffffffffc00000UL, 1024 },         /* top 4 MiB */
};

struct model {
        struct pmap  *pm;
        bool          kernel;
        struct region reg[NREGIONS];
        struct mpage *pages[NREGIONS];
};

#define MAX_MODELS 4                            /* the kernel + 3 users */

/* One random run. */
struct rnd {
        struct rng    rng;
        uint64_t      seed, step;
        struct model *m[MAX_MODELS];            /* [0]: kernel; NULL: none */
        struct model *cur;                      /* the loaded one */
        vaddr_t       lo, last;                 /* last op's range */
        bool          ranged;
        vaddr_t       hot[32];                  /* recently touched pages */
        unsigned      nhot, hot_next;
};

/* What a random run exercised; random_run() insists each happened. */
static struct {
        uint64_t einval, enomem;        /* expected failures seen */
        uint64_t partial;               /* enter_range ENOMEM after progress */
        uint64_t chunks[3];             /* 4 KiB, 2 MiB, 1 GiB pages mapped */
        uint64_t splits;                /* large pages split */
        uint64_t creates, destroys;     /* user pmaps */
        uint64_t dirty;                 /* pmap_ad() saw D */
} seen;

#define RCHECK(r, cond, fmt, ...) do {                                  \
        if (!(cond))                                                    \
                check_fail(__FILE__, __LINE__, "seed %#lx step %lu: %s: " \
                           fmt, (r)->seed, (r)->step, #cond, __VA_ARGS__); \
} while (0)

static struct model *model_new(struct pmap *pm, bool kernel)
{
        struct model *m = calloc(1, sizeof *m);

        CHECK(m != NULL);
        m->pm = pm;
        m->kernel = kernel;
        for (unsigned i = 0; i < NREGIONS; i++) {
                m->reg[i] = kernel ? kernel_regions[i] : user_regions[i];
                m->pages[i] = calloc(m->reg[i].npages, sizeof(struct mpage));
                CHECK(m->pages[i] != NULL);
        }
        return m;
}

static void model_free(struct model *m)
{
        for (unsigned i = 0; i < NREGIONS; i++)
                free(m->pages[i]);
        free(m);
}

static struct mpage *model_page(struct model *m, vaddr_t va)
{
        for (unsigned i = 0; i < NREGIONS; i++) {
                uint64_t off = va - m->reg[i].base;     /* wraps if below */

                if (off < m->reg[i].npages << PAGE_SHIFT)
                        return &m->pages[i][off >> PAGE_SHIFT];
        }
        return NULL;
}

static uint8_t norm_prot(vm_prot_t prot)
{
        return prot ? (uint8_t)(prot | VM_PROT_READ) : 0;
}

/* Set [va, va+len) to one mapping (prot 0: unmapped) with leaves of 2^shift. */
static void model_set(struct model *m, vaddr_t va, uint64_t len, paddr_t pa,
                      vm_prot_t prot, unsigned flags, unsigned shift)
{
        for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
                struct mpage *p = model_page(m, va + off);

                CHECK(p != NULL);
                if (prot)
                        *p = (struct mpage){ pa + off, norm_prot(prot),
                                             (uint8_t)flags, (uint8_t)shift };
                else
                        *p = (struct mpage){ 0 };
        }
}

/* What split_at() does: while a leaf straddles boundary (and is larger
 * than 2^min_shift), split it one level. */
static void model_split_at(struct model *m, vaddr_t boundary,
                           unsigned min_shift)
{
        struct mpage *p = model_page(m, boundary);

        while (p && p->prot && p->shift > min_shift &&
               !is_aligned(boundary, 1UL << p->shift)) {
                uint64_t size = 1UL << p->shift;
                vaddr_t base = align_down(boundary, size);

                for (uint64_t off = 0; off < size; off += PAGE_SIZE)
                        model_page(m, base + off)->shift -= 9;
                seen.splits++;
        }
}

/* Both boundaries of [start, last] that are addresses in the half. */
static void model_split_edges(struct model *m, vaddr_t start, vaddr_t last)
{
        model_split_at(m, start, PAGE_SHIFT);
        if (last + 1 != USER_HALF_END && last + 1 != 0)
                model_split_at(m, last + 1, PAGE_SHIFT);
}

/* Remove (prot 0) or re-protect the mapped pages of [start, last]. */
static void model_change(struct model *m, vaddr_t start, vaddr_t last,
                         vm_prot_t prot)
{
        for (unsigned i = 0; i < NREGIONS; i++) {
                const struct region *rg = &m->reg[i];
                vaddr_t rlast = rg->base + (rg->npages << PAGE_SHIFT) - 1;
                vaddr_t lo = MAX(start, rg->base), hi = MIN(last, rlast);

                for (vaddr_t va = lo; lo <= hi && va - lo <= hi - lo;
                     va += PAGE_SIZE) {
                        struct mpage *p = &m->pages[i][(va - rg->base) >>
                                                       PAGE_SHIFT];

                        if (p->prot && prot)
                                p->prot = norm_prot(prot);
                        else if (p->prot)
                                *p = (struct mpage){ 0 };
                }
        }
}

/* chunk_level() of pmap.c, as a shift. */
static unsigned model_chunk_shift(vaddr_t va, paddr_t pa, uint64_t len)
{
        if (softmmu_1g_pages && is_aligned(va | pa, GiB) && len >= GiB)
                return 30;
        if (is_aligned(va | pa, 2 * MiB) && len >= 2 * MiB)
                return 21;
        return 12;
}

/* Chunks of an enter_range: does one fall in a larger page? (apply: map
 * the first `apply` chunks instead.) Returns the number of chunks. */
static uint64_t model_range_chunks(struct model *m, vaddr_t va, paddr_t pa,
                                   uint64_t len, vm_prot_t prot,
                                   unsigned flags, uint64_t apply,
                                   bool *conflict)
{
        uint64_t n = 0;

        *conflict = false;
        while (len) {
                unsigned shift = model_chunk_shift(va, pa, len);
                struct mpage *p = model_page(m, va);

                if (p && p->prot && p->shift > shift)
                        *conflict = true;
                if (n < apply) {
                        model_set(m, va, 1UL << shift, pa, prot, flags, shift);
                        seen.chunks[(shift - PAGE_SHIFT) / 9]++;
                }
                n++;
                va += 1UL << shift;
                pa += 1UL << shift;
                len -= 1UL << shift;
        }
        return n;
}

/* ---- checking the pmap against the model ---- */

static enum softmmu_result want_result(const struct mpage *p, unsigned acc,
                                       bool user)
{
        if (!p || !p->prot)
                return SOFTMMU_NOT_PRESENT;
        if (user && !(p->flags & PMAP_USER))
                return SOFTMMU_PROTECTION;
        if (acc == W && !(p->prot & VM_PROT_WRITE))
                return SOFTMMU_PROTECTION;
        if (acc == X && !(p->prot & VM_PROT_EXEC))
                return SOFTMMU_PROTECTION;
        return SOFTMMU_OK;
}

static unsigned want_err(enum softmmu_result st, unsigned acc, bool user)
{
        if (st == SOFTMMU_OK || st == SOFTMMU_NONCANONICAL)
                return 0;
        return pf(st == SOFTMMU_PROTECTION, acc, user);
}

/* The model page va means for pmap m (kernel half: the kernel's model). */
static const struct mpage *model_lookup(struct rnd *r, struct model *m,
                                        vaddr_t va)
{
        if (!va_is_canonical(va))
                return NULL;
        return model_page(va_is_user_half(va) ? m : r->m[0], va);
}

/* Compare pmap_extract and six translations of va under m with the model. */
static void verify_page(struct rnd *r, struct model *m, vaddr_t va)
{
        const struct mpage *p = model_lookup(r, m, va);
        bool present = p && p->prot, got;
        paddr_t pa = 0;
        vm_prot_t prot = 0;
        unsigned flags = 0, err = 0;

        got = pmap_extract(m->pm, va, &pa, &prot, &flags);
        RCHECK(r, got == present, "va %#lx", va);
        if (present) {
                RCHECK(r, pa == p->pa + (va & PAGE_MASK), "va %#lx pa %#lx",
                       va, pa);
                RCHECK(r, prot == p->prot && flags == p->flags,
                       "va %#lx prot %u flags %u", va, prot, flags);
        }
        for (unsigned acc = R; acc <= X; acc++) {
                for (int user = 0; user < 2; user++) {
                        enum softmmu_result want = va_is_canonical(va) ?
                                want_result(p, acc, user) :
                                SOFTMMU_NONCANONICAL;
                        enum softmmu_result st = softmmu_x86_translate(
                                m->pm->root, va, acc, user, &pa, &err);

                        RCHECK(r, st == want, "va %#lx acc %u user %d: %d",
                               va, acc, user, st);
                        RCHECK(r, err == want_err(want, acc, user),
                               "va %#lx err %#x", va, err);
                        RCHECK(r, st != SOFTMMU_OK ||
                               pa == p->pa + (va & PAGE_MASK), "va %#lx", va);
                }
        }
}

/* A page of region rg: often one the TLB may hold, or one near a 2 MiB or
 * 1 GiB boundary. */
static vaddr_t pick_va(struct rnd *r, const struct region *rg)
{
        vaddr_t va = rg->base + (rng_below(&r->rng, rg->npages) << PAGE_SHIFT);
        uint64_t bound = rng_below(&r->rng, 3) ? 2 * MiB : GiB;
        vaddr_t near;

        if (r->nhot && rng_below(&r->rng, 3) == 0) {
                near = r->hot[rng_below(&r->rng, r->nhot)];
                if (near - rg->base < rg->npages << PAGE_SHIFT)
                        return near;
        }
        if (rng_below(&r->rng, 2))
                return va;
        near = align_down(va, bound) +
               ((int64_t)rng_below(&r->rng, 5) - 2) * (int64_t)PAGE_SIZE;
        return near - rg->base < rg->npages << PAGE_SHIFT ? near : va;
}

static const struct region *pick_region(struct rnd *r, struct model *m)
{
        return &m->reg[rng_below(&r->rng, NREGIONS)];
}

/* Probe the last op's range and random pages of every pmap. */
static void verify_step(struct rnd *r, struct model *op)
{
        vaddr_t lo = r->lo, last = r->last & ~PAGE_MASK;

        if (r->ranged) {
                vaddr_t edges[] = { lo - PAGE_SIZE, lo, lo + PAGE_SIZE,
                                    last - PAGE_SIZE, last, last + PAGE_SIZE,
                                    align_down(lo, 2 * MiB) + 2 * MiB,
                                    align_down(last, 2 * MiB) - PAGE_SIZE };

                for (unsigned i = 0; i < ARRAY_SIZE(edges); i++)
                        verify_page(r, op, edges[i]);
                for (unsigned i = 0; i < 12; i++)
                        verify_page(r, op, lo + page_trunc(rng_below(&r->rng,
                                                           last - lo + 1)));
        }
        for (unsigned i = 0; i < MAX_MODELS; i++) {
                struct model *m = r->m[i];

                if (!m)
                        continue;
                for (unsigned j = 0; j < 6; j++)
                        verify_page(r, m, pick_va(r, pick_region(r, m)));
                verify_page(r, m, pick_va(r, pick_region(r, r->m[0])));
                verify_page(r, m, page_trunc(rng_next(&r->rng)));
                verify_page(r, m, page_trunc(rng_next(&r->rng) >> 17));
        }
}

/* Every pmap consistent, the TLB agrees with the tables, the counts add up. */
static void check_step(struct rnd *r, struct model *op)
{
        uint64_t pages = 0;

        for (unsigned i = 0; i < MAX_MODELS; i++) {
                if (!r->m[i])
                        continue;
                RCHECK(r, pmap_check(r->m[i]->pm), "pmap %u", i);
                pages += pmap_table_pages(r->m[i]->pm);
        }
        RCHECK(r, pages == vmstat.pt_pages, "%lu vs %lu", pages,
               vmstat.pt_pages);
        RCHECK(r, softmmu_tlb_check(), "cur %p", (void *)r->cur);
        verify_step(r, op);
}

/* ---- random operations ---- */

static vm_prot_t pick_prot(struct rnd *r)
{
        return (vm_prot_t)rng_below(&r->rng, 8);        /* NONE .. ALL */
}

static unsigned pick_flags(struct rnd *r, struct model *m)
{
        unsigned f = 0;

        if (m->kernel) {
                if (rng_below(&r->rng, 3) == 0)
                        f |= PMAP_GLOBAL;
                if (rng_below(&r->rng, 60) == 0)
                        f |= PMAP_USER;                 /* invalid there */
        } else if (rng_below(&r->rng, 5)) {
                f |= PMAP_USER;
        }
        switch (rng_below(&r->rng, 12)) {
        case 0: f |= PMAP_NOCACHE; break;
        case 1: f |= PMAP_WC; break;
        case 2: if (rng_below(&r->rng, 4) == 0)
                        f |= PMAP_NOCACHE | PMAP_WC;    /* invalid */
                break;
        }
        return f;
}

static bool flags_valid(struct model *m, unsigned flags)
{
        if ((flags & PMAP_NOCACHE) && (flags & PMAP_WC))
                return false;
        return !(m->kernel && (flags & PMAP_USER));
}

/* A frame for va: random below 1 TiB, often congruent to va so that large
 * pages fit. */
static paddr_t pick_pa(struct rnd *r, vaddr_t va)
{
        paddr_t pa = rng_next(&r->rng) & ((1UL << 40) - 1) & ~PAGE_MASK;

        switch (rng_below(&r->rng, 4)) {
        case 0: return align_down(pa, GiB) | (va & (GiB - 1));
        case 1: return align_down(pa, 2 * MiB) | (va & (2 * MiB - 1));
        default: return pa;
        }
}

/* Arm allocation failure for the next op, sometimes. */
static bool maybe_inject(struct rnd *r, unsigned depth)
{
        if (rng_below(&r->rng, 10))
                return false;
        vm_ptpage_fail_after = 1 + rng_below(&r->rng, depth);
        return true;
}

static void op_enter(struct rnd *r, struct model *m)
{
        vaddr_t va = pick_va(r, pick_region(r, m));
        paddr_t pa;
        vm_prot_t prot = pick_prot(r);
        unsigned flags = pick_flags(r, m);
        struct mpage *p = model_page(m, va);
        bool large = p->prot && p->shift > PAGE_SHIFT;
        vm_status_t want = !flags_valid(m, flags) || large ? VM_EINVAL : VM_OK;
        uint64_t pt0 = vmstat.pt_pages;
        bool inject = maybe_inject(r, 3);
        vm_status_t st;

        pa = pick_pa(r, va);
        st = pmap_enter(m->pm, va, pa, prot, flags);
        vm_ptpage_fail_after = 0;
        r->lo = va;
        r->last = va + PAGE_MASK;
        r->ranged = true;
        if (inject && st == VM_ENOMEM && want == VM_OK) {
                RCHECK(r, vmstat.pt_pages == pt0, "va %#lx", va);
                seen.enomem++;
                return;
        }
        seen.einval += want == VM_EINVAL;
        RCHECK(r, st == want, "enter va %#lx prot %u flags %#x: %d", va, prot,
               flags, st);
        if (st == VM_OK)
                model_set(m, va, PAGE_SIZE, pa, prot, flags, PAGE_SHIFT);
}

/* A range inside region rg for enter_range: small, medium, or aligned
 * multiples of 2 MiB / 1 GiB. */
static void pick_range_in(struct rnd *r, const struct region *rg, vaddr_t *va,
                          uint64_t *len)
{
        uint64_t size = rg->npages << PAGE_SHIFT, off, l;

        *va = pick_va(r, rg);
        switch (rng_below(&r->rng, 5)) {
        case 0: l = (1 + rng_below(&r->rng, 8)) << PAGE_SHIFT; break;
        case 1: l = (1 + rng_below(&r->rng, 1536)) << PAGE_SHIFT; break;
        case 2: *va = align_down(*va, 2 * MiB);
                l = (1 + rng_below(&r->rng, 4)) * 2 * MiB; break;
        case 3: *va = align_down(*va, GiB);
                l = (1 + rng_below(&r->rng, 2)) * GiB; break;
        default: l = (1 + rng_below(&r->rng, 2048)) << PAGE_SHIFT;
                *va = align_down(*va, 2 * MiB) + (rng_below(&r->rng, 3) << 12);
                break;
        }
        if (*va - rg->base >= size)
                *va = rg->base + align_down(rng_below(&r->rng, size), 2 * MiB);
        off = *va - rg->base;
        *len = MIN(l, size - off);
}

/* On VM_ENOMEM from enter_range, the chunks done are a prefix: find it. */
static uint64_t range_done_prefix(struct model *m, vaddr_t va, paddr_t pa,
                                  uint64_t len, vm_prot_t prot,
                                  unsigned flags)
{
        uint64_t n = 0;

        while (len) {
                unsigned shift = model_chunk_shift(va, pa, len);
                paddr_t got;
                vm_prot_t gprot;
                unsigned gflags;

                if (!pmap_extract(m->pm, va, &got, &gprot, &gflags) ||
                    got != pa || gprot != norm_prot(prot) || gflags != flags ||
                    softmmu_x86_page_shift(m->pm->root, va) != shift)
                        break;
                n++;
                va += 1UL << shift;
                pa += 1UL << shift;
                len -= 1UL << shift;
        }
        return n;
}

static void op_enter_range(struct rnd *r, struct model *m)
{
        const struct region *rg = pick_region(r, m);
        vm_prot_t prot = (vm_prot_t)(1 + rng_below(&r->rng, 7));
        unsigned flags = pick_flags(r, m);
        vaddr_t va;
        uint64_t len, done;
        paddr_t pa;
        bool conflict, inject;
        vm_status_t st, want;

        pick_range_in(r, rg, &va, &len);
        pa = pick_pa(r, va);
        model_range_chunks(m, va, pa, len, prot, flags, 0, &conflict);
        want = !flags_valid(m, flags) || conflict ? VM_EINVAL : VM_OK;
        inject = maybe_inject(r, 6);
        st = pmap_enter_range(m->pm, va, pa, len, prot, flags);
        vm_ptpage_fail_after = 0;
        r->lo = va;
        r->last = va + len - 1;
        r->ranged = true;
        if (inject && st == VM_ENOMEM && want == VM_OK) {
                done = range_done_prefix(m, va, pa, len, prot, flags);
                model_range_chunks(m, va, pa, len, prot, flags, done, &conflict);
                seen.enomem++;
                seen.partial += done > 0;
                return;
        }
        seen.einval += want == VM_EINVAL;
        RCHECK(r, st == want, "enter_range %#lx+%#lx pa %#lx: %d", va, len,
               pa, st);
        if (st == VM_OK)
                model_range_chunks(m, va, pa, len, prot, flags, ~0UL,
                                   &conflict);
}

/* A range for remove/protect: inside a region, or far beyond, or a half. */
static void pick_any_range(struct rnd *r, struct model *m, vaddr_t *start,
                           vaddr_t *end)
{
        vaddr_t half_lo = m->kernel ? LINEAR_BASE : 0;
        vaddr_t half_end = m->kernel ? 0 : USER_HALF_END;
        uint64_t len;

        pick_range_in(r, pick_region(r, m), start, &len);
        switch (rng_below(&r->rng, 12)) {
        case 0:
                *start = half_lo;
                len = half_end - half_lo;
                break;
        case 1:
                len = page_trunc(rng_next(&r->rng) >> 23) + PAGE_SIZE;
                if (len > half_end - *start)
                        len = half_end - *start;
                break;
        }
        *end = *start + len;
}

/* Remove (prot = VM_PROT_NONE by remove) or protect a random range. */
static void op_change(struct rnd *r, struct model *m, bool remove)
{
        vaddr_t start, end;
        vm_prot_t prot = remove ? VM_PROT_NONE : pick_prot(r);
        bool inject;
        vm_status_t st;

        pick_any_range(r, m, &start, &end);
        inject = maybe_inject(r, 3);
        st = remove ? pmap_remove(m->pm, start, end)
                    : pmap_protect(m->pm, start, end, prot);
        vm_ptpage_fail_after = 0;
        r->lo = start;
        r->last = end - 1;
        r->ranged = true;
        if (inject && st == VM_ENOMEM) {
                /* No mapping changed, but some edge splits may be done. */
                seen.enomem++;
                model_split_at(m, start, softmmu_x86_page_shift(m->pm->root, start));
                if (end != 0 && end != USER_HALF_END)
                        model_split_at(m, end, softmmu_x86_page_shift(m->pm->root,
                                                                  end));
                return;
        }
        RCHECK(r, st == VM_OK, "%s [%#lx, %#lx) prot %u: %d",
               remove ? "remove" : "protect", start, end, prot, st);
        model_split_edges(m, start, end - 1);
        model_change(m, start, end - 1, prot);
}

/* Clear the A/D bits, let verify_page() use the page, read them: its
 * kernel read always succeeds (A), its kernel write exactly if the page is
 * writable (D). */
static void op_ad(struct rnd *r, struct model *m)
{
        vaddr_t va = pick_va(r, pick_region(r, m));
        const struct mpage *p = model_page(m, va);
        unsigned want = 0, got;

        pmap_ad(m->pm, va, true);
        verify_page(r, m, va);
        if (p->prot)
                want = PMAP_AD_ACCESSED |
                       (p->prot & VM_PROT_WRITE ? PMAP_AD_DIRTY : 0);
        got = pmap_ad(m->pm, va, true);
        RCHECK(r, got == want, "ad va %#lx: %u", va, got);
        seen.dirty += (got & PMAP_AD_DIRTY) != 0;
        RCHECK(r, pmap_ad(m->pm, va, false) == 0, "ad va %#lx", va);
        r->ranged = false;
}

/* Access pages of the loaded pmap through the TLB, filling it. */
static void op_touch(struct rnd *r)
{
        struct model *m = r->cur;

        for (unsigned i = 0; i < 24; i++) {
                struct model *owner = rng_below(&r->rng, 3) ? m : r->m[0];
                vaddr_t va = pick_va(r, pick_region(r, owner)) |
                             (rng_next(&r->rng) & PAGE_MASK);
                const struct mpage *p = model_lookup(r, m, va);
                unsigned acc = (unsigned)rng_below(&r->rng, 3);
                bool user = rng_below(&r->rng, 2);
                enum softmmu_result want = want_result(p, acc, user), st;
                paddr_t pa = 0;
                unsigned err = 0;

                st = softmmu_x86_access(va, acc, user, &pa, &err);
                if (st == SOFTMMU_OK) {
                        r->hot[r->hot_next++ % ARRAY_SIZE(r->hot)] =
                                page_trunc(va);
                        r->nhot = MIN(r->nhot + 1, ARRAY_SIZE(r->hot));
                }
                RCHECK(r, st == want, "touch va %#lx acc %u user %d: %d", va,
                       acc, user, st);
                RCHECK(r, err == want_err(want, acc, user), "va %#lx", va);
                RCHECK(r, st != SOFTMMU_OK || pa == p->pa + (va & PAGE_MASK),
                       "touch va %#lx pa %#lx", va, pa);
        }
        r->ranged = false;
}

/* Create, destroy or switch user pmaps. */
static void op_space(struct rnd *r)
{
        unsigned i = 1 + (unsigned)rng_below(&r->rng, MAX_MODELS - 1);
        struct model *m = r->m[i];
        struct pmap *pm;

        r->ranged = false;
        if (!m) {
                RCHECK(r, pmap_create(&pm) == VM_OK, "slot %u", i);
                r->m[i] = model_new(pm, false);
                seen.creates++;
        } else if (rng_below(&r->rng, 3) == 0) {
                if (r->cur == m) {
                        pmap_activate(r->m[0]->pm);
                        r->cur = r->m[0];
                }
                pmap_destroy(m->pm);
                model_free(m);
                r->m[i] = NULL;
                seen.destroys++;
        } else {
                m = rng_below(&r->rng, 4) ? m : r->m[0];
                pmap_activate(m->pm);
                r->cur = m;
        }
}

static struct model *pick_model(struct rnd *r)
{
        for (;;) {
                struct model *m = r->m[rng_below(&r->rng, MAX_MODELS)];

                if (m)
                        return m;
        }
}

static void random_step(struct rnd *r)
{
        struct model *m = pick_model(r);
        uint64_t dice = rng_below(&r->rng, 100);

        if (dice >= 94) {               /* may destroy m: no update of it */
                op_space(r);
                check_step(r, r->m[0]);
                return;
        }
        if (dice < 30)
                op_enter(r, m);
        else if (dice < 42)
                op_enter_range(r, m);
        else if (dice < 60)
                op_change(r, m, true);
        else if (dice < 75)
                op_change(r, m, false);
        else if (dice < 80)
                op_ad(r, m);
        else
                op_touch(r);
        /* As a real caller: update only the pmap that was changed. */
        pmap_update(m->pm);
        check_step(r, m);
}

/* Tear everything down and check that every table page came back. */
static void random_finish(struct rnd *r)
{
        pmap_activate(r->m[0]->pm);
        for (unsigned i = 1; i < MAX_MODELS; i++) {
                if (!r->m[i])
                        continue;
                RCHECK(r, pmap_remove(r->m[i]->pm, 0, USER_HALF_END) == VM_OK,
                       "pmap %u", i);
                pmap_update(r->m[i]->pm);
                RCHECK(r, pmap_table_pages(r->m[i]->pm) == 1, "pmap %u", i);
                pmap_destroy(r->m[i]->pm);
                model_free(r->m[i]);
                r->m[i] = NULL;
        }
        RCHECK(r, pmap_remove(r->m[0]->pm, LINEAR_BASE, 0) == VM_OK, "%d", 0);
        pmap_update(r->m[0]->pm);
        model_free(r->m[0]);
        r->m[0] = NULL;
        check_baseline();
}

/* Print what a run exercised; with the fixed seeds, insist that each kind
 * of event happened (a new seed from $CHECK_SEED may just be unlucky). */
static void random_coverage(bool one_gig, bool fixed_seed)
{
        if (getenv("PMAP_TEST_STATS"))
                fprintf(stderr, "einval %lu enomem %lu partial %lu chunks "
                        "%lu/%lu/%lu splits %lu creates %lu destroys %lu "
                        "dirty %lu tlb hits %lu invlpg %lu flushes %lu+%lu\n",
                        seen.einval, seen.enomem, seen.partial,
                        seen.chunks[0], seen.chunks[1], seen.chunks[2],
                        seen.splits, seen.creates, seen.destroys, seen.dirty,
                        softmmu_stats.tlb_hits, softmmu_stats.invlpg,
                        softmmu_stats.flush, softmmu_stats.flush_global);
        if (!fixed_seed)
                return;
        CHECK(seen.einval && seen.enomem && seen.partial && seen.splits);
        CHECK(seen.chunks[0] && seen.chunks[1] && seen.creates);
        CHECK(seen.destroys && seen.dirty && softmmu_stats.tlb_hits);
        CHECK(softmmu_stats.invlpg && softmmu_stats.flush);
        CHECK(one_gig ? seen.chunks[2] != 0 : seen.chunks[2] == 0);
}

/* File-scope so that a failed run's models stay reachable (no leak
 * reports); the next run frees them. */
static struct rnd rnd_state;

static void random_run(uint64_t seed, unsigned steps, bool one_gig)
{
        struct rnd *rp = &rnd_state;

        for (unsigned i = 0; i < MAX_MODELS; i++)
                if (rp->m[i])
                        model_free(rp->m[i]);
        memset(rp, 0, sizeof *rp);
        rp->seed = check_seed(seed);
        setup();
        memset(&seen, 0, sizeof seen);
        softmmu_1g_pages = one_gig;
        rng_seed(&rp->rng, rp->seed);
        rp->m[0] = model_new(pmap_kernel(), true);
        rp->cur = rp->m[0];
        pmap_activate(pmap_kernel());
        CHECK_EQ(pmap_enter_range(pmap_kernel(), LINEAR_BASE, 0, RAM_BYTES,
                                  VM_PROT_RW, PMAP_GLOBAL), VM_OK);
        model_set(rp->m[0], LINEAR_BASE, RAM_BYTES, 0, VM_PROT_RW,
                  PMAP_GLOBAL, 21);
        pmap_update(pmap_kernel());
        for (rp->step = 0; rp->step < steps; rp->step++)
                random_step(rp);
        random_coverage(one_gig, rp->seed == seed);
        random_finish(rp);
}

TEST(random_ops_seed1)
{
        random_run(0x5eed0001, 4000, true);
}

TEST(random_ops_seed2)
{
        random_run(0x5eed0002, 4000, true);
}

TEST(random_ops_no_1g_pages)
{
        random_run(0x5eed0003, 3000, false);
}

/*
 * The page-content operations of vm/pmap.h: zero, copy, and a quick
 * mapping that shows the frame's bytes and writes through to them. They
 * are how the core reaches page contents, with or without a linear map.
 */
TEST(page_content_operations)
{
        struct vm_page *a, *b;
        paddr_t pa, pb;
        uint8_t *p, *q;

        setup();
        a = pmm_alloc_pages(0, 0);
        b = pmm_alloc_pages(0, 0);
        CHECK(a && b);
        pa = pmm_page_to_pa(a);
        pb = pmm_page_to_pa(b);

        p = pmap_quick_enter_page(pa);
        for (unsigned i = 0; i < PAGE_SIZE; i++)
                p[i] = (uint8_t)(i * 7 + 1);
        pmap_quick_remove_page(p);

        pmap_copy_page(pa, pb);
        p = pmap_quick_enter_page(pa);
        q = pmap_quick_enter_page(pb);          /* two at once are allowed */
        CHECK(memcmp(p, q, PAGE_SIZE) == 0);
        CHECK_EQ(q[PAGE_SIZE - 1], (uint8_t)((PAGE_SIZE - 1) * 7 + 1));
        pmap_quick_remove_page(q);
        pmap_quick_remove_page(p);

        pmap_zero_page(pa);
        p = pmap_quick_enter_page(pa);
        q = pmap_quick_enter_page(pb);
        for (unsigned i = 0; i < PAGE_SIZE; i++) {
                CHECK_EQ(p[i], 0);
                CHECK_EQ(q[i], (uint8_t)(i * 7 + 1));   /* untouched */
        }
        pmap_quick_remove_page(q);
        pmap_quick_remove_page(p);

        /* kernel memory: an address and back */
        CHECK_EQ(pmap_kmem_pa(pmap_kmem_va(pb)), pb);
        pmm_free_pages(a, 0);
        pmm_free_pages(b, 0);
        check_baseline();
}
