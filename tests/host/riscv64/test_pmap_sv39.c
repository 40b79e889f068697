/*
 * test_pmap_sv39.c (riscv64 format) - the Sv39 table code
 * (kernel/arch/riscv64/pmap.c) on the Sv39 software MMU
 * (kernel/arch/host/riscv64/softmmu.c) over simulated RAM. Built only
 * with PMAP=riscv64: it looks at Sv39 entries.
 *
 * One rule each: the bits of user and kernel leaves, exec-only and
 * write-implies-read, A/D preset from the faulting access and set by the
 * walker, the two roots of a user pmap in step (user table: no kernel;
 * kernel table: the kernel half and the same user half), tables freed as
 * they empty, large pages split, and the TLB kept honest by pmap_update().
 */
#include "check.h"

#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include <arch/riscv64/mmu.h>
#include <arch/riscv64/pmap_md.h>
#include <arch/riscv64/pte.h>
#include <arch/host/softmmu.h>

extern uint64_t vm_ptpage_fail_after;

#define RAM_BYTES       (32 * MiB)
#define R               SOFTMMU_READ
#define W               SOFTMMU_WRITE
#define X               SOFTMMU_EXEC

static uint64_t base_free, base_pt;

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

static void check_baseline(void)
{
        kmalloc_shrink();
        CHECK_EQ(vmstat.pt_pages, base_pt);
        CHECK_EQ(pmm_free_count(), base_free);
        CHECK(pmap_check(pmap_kernel()));
        CHECK(pmm_check());
}

/* The leaf for va under root (a raw walk), 0 if none. */
static pte_t leaf(paddr_t root, vaddr_t va)
{
        const pte_t *t = phys_to_virt(root);

        for (unsigned l = PT_LEVELS; l >= 1; l--) {
                pte_t e = t[pt_index(va, l)];
                if (!pte_present(e))
                        return 0;
                if (pte_is_leaf(e, l))
                        return e;
                t = phys_to_virt(pte_table_pa(e));
        }
        return 0;
}

static struct pmap *new_user(void)
{
        struct pmap *pm = NULL;

        CHECK_EQ(pmap_create(&pm), VM_OK);
        CHECK(pmap_check(pm));
        return pm;
}

static void drop_user(struct pmap *pm)
{
        CHECK_EQ(pmap_remove(pm, 0, USER_HALF_END), VM_OK);
        pmap_update(pm);
        CHECK(pmap_check(pm));
        pmap_activate(pmap_kernel());
        pmap_destroy(pm);
}

TEST(leaf_bits_user_and_kernel)
{
        setup();
        struct pmap *u = new_user();
        pte_t e;

        CHECK_EQ(pmap_enter(u, 0x10000, 0x8000, VM_PROT_RW, PMAP_USER), VM_OK);
        e = leaf(u->root, 0x10000);
        CHECK_EQ(e & 0xff, PTE_V | PTE_R | PTE_W | PTE_U);     /* no A, D yet */
        CHECK_EQ(pte_pa(e), 0x8000);
        CHECK_EQ(pmap_enter(u, 0x11000, 0x8000, VM_PROT_WRITE, PMAP_USER), VM_OK);
        CHECK_EQ(leaf(u->root, 0x11000) & (PTE_R | PTE_W), PTE_R | PTE_W);
        CHECK_EQ(pmap_enter(u, 0x12000, 0x8000, VM_PROT_EXEC, PMAP_USER), VM_OK);
        CHECK_EQ(leaf(u->root, 0x12000) & (PTE_R | PTE_W | PTE_X), PTE_X);
        /* Kernel mappings: A always, D when writable, G when asked. */
        CHECK_EQ(pmap_enter(pmap_kernel(), VMALLOC_BASE + 0x1000, 0x9000,
                            VM_PROT_RW, PMAP_GLOBAL | PMAP_NOCACHE), VM_OK);
        e = leaf(pmap_kernel()->root, VMALLOC_BASE + 0x1000);
        CHECK_EQ(e & 0x3ff, PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D |
                            PTE_SW_NOCACHE);
        unsigned flags;
        CHECK(pmap_extract(pmap_kernel(), VMALLOC_BASE + 0x1000, NULL, NULL, &flags));
        CHECK_EQ(flags, PMAP_GLOBAL | PMAP_NOCACHE);
        CHECK_EQ(pmap_remove(pmap_kernel(), VMALLOC_BASE + 0x1000,
                             VMALLOC_BASE + 0x2000), VM_OK);
        pmap_update(pmap_kernel());
        drop_user(u);
        check_baseline();
}

TEST(exec_only_and_write_implies_read)
{
        setup();
        struct pmap *u = new_user();

        CHECK_EQ(pmap_enter(u, 0x10000, 0x8000, VM_PROT_EXEC, PMAP_USER), VM_OK);
        CHECK_EQ(pmap_enter(u, 0x11000, 0x9000, VM_PROT_WRITE, PMAP_USER), VM_OK);
        CHECK_EQ(softmmu_translate(u, 0x10000, X, true, NULL), SOFTMMU_OK);
        CHECK_EQ(softmmu_translate(u, 0x10000, R, true, NULL), SOFTMMU_PROTECTION);
        CHECK_EQ(softmmu_translate(u, 0x11000, R, true, NULL), SOFTMMU_OK);
        CHECK_EQ(softmmu_translate(u, 0x11000, X, true, NULL), SOFTMMU_PROTECTION);
        /* The kernel reaches user data (SUM) but never runs user code. */
        CHECK_EQ(softmmu_translate(u, 0x11000, W, false, NULL), SOFTMMU_OK);
        CHECK_EQ(softmmu_translate(u, 0x10000, X, false, NULL), SOFTMMU_PROTECTION);
        CHECK_EQ(pmap_prot_implied(VM_PROT_EXEC), VM_PROT_EXEC);
        CHECK_EQ(pmap_prot_implied(VM_PROT_WRITE), VM_PROT_RW);
        drop_user(u);
        check_baseline();
}

TEST(accessed_dirty_preset_and_by_walker)
{
        setup();
        struct pmap *u = new_user();

        CHECK_EQ(pmap_enter(u, 0x10000, 0x8000, VM_PROT_RW,
                            PMAP_USER | PMAP_ACCESS(VM_PROT_READ)), VM_OK);
        CHECK_EQ(pmap_ad(u, 0x10000, false), PMAP_AD_ACCESSED);
        CHECK_EQ(pmap_enter(u, 0x11000, 0x8000, VM_PROT_RW,
                            PMAP_USER | PMAP_ACCESS(VM_PROT_WRITE)), VM_OK);
        CHECK_EQ(pmap_ad(u, 0x11000, false), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        /* Read-only, entered for a write (a COW read fault): no D. */
        CHECK_EQ(pmap_enter(u, 0x12000, 0x8000, VM_PROT_READ,
                            PMAP_USER | PMAP_ACCESS(VM_PROT_WRITE)), VM_OK);
        CHECK_EQ(pmap_ad(u, 0x12000, false), PMAP_AD_ACCESSED);
        /* Cleared, then set by the walker as QEMU's harts do. */
        CHECK_EQ(pmap_ad(u, 0x11000, true), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        pmap_update(u);
        pmap_activate(u);
        CHECK_EQ(softmmu_access(0x11000, W, true, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_ad(u, 0x11000, false), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        /* Re-entering the same frame keeps what was recorded. */
        CHECK_EQ(pmap_enter(u, 0x11000, 0x8000, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK(pmap_ad(u, 0x11000, false) & PMAP_AD_DIRTY);
        pmap_update(u);
        drop_user(u);
        check_baseline();
}

TEST(two_roots_in_step)
{
        setup();
        struct pmap *u = new_user();
        const pte_t *ur = phys_to_virt(u->root), *kr = phys_to_virt(u->kroot);
        const pte_t *kernel = phys_to_virt(pmap_kernel()->root);
        const vaddr_t vas[] = { 0x10000, 0x40000000, TRAPFRAME };

        for (unsigned i = 0; i < ARRAY_SIZE(vas); i++)
                CHECK_EQ(pmap_enter(u, vas[i], 0x8000 + i * PAGE_SIZE, VM_PROT_RW,
                                    i == 2 ? 0 : PMAP_USER), VM_OK);
        for (unsigned i = 0; i < PT_ENTRIES / 2; i++)
                CHECK_EQ(kr[i], ur[i]);
        for (unsigned i = PT_ENTRIES / 2; i < PT_ENTRIES; i++) {
                CHECK_EQ(ur[i], 0);
                CHECK_EQ(kr[i], kernel[i]);
        }
        CHECK(pmap_check(u));
        /* A kernel mapping made after pmap_create() shows in the kernel
         * table (shared level-2 table), never in the user table. */
        CHECK_EQ(pmap_enter(pmap_kernel(), VMALLOC_BASE, 0x7000, VM_PROT_RW,
                            PMAP_GLOBAL), VM_OK);
        pmap_update(pmap_kernel());
        CHECK_EQ(softmmu_translate(u, VMALLOC_BASE, R, false, NULL), SOFTMMU_OK);
        CHECK_EQ(leaf(u->root, VMALLOC_BASE), 0);
        CHECK_EQ(pmap_remove(pmap_kernel(), VMALLOC_BASE, VMALLOC_BASE + PAGE_SIZE),
                 VM_OK);
        pmap_update(pmap_kernel());
        pmap_activate(u);
        CHECK_EQ(mmu_current_root(), u->kroot);
        /* A user access to the trap frame (not U) faults. */
        CHECK_EQ(softmmu_translate(u, TRAPFRAME, R, true, NULL), SOFTMMU_PROTECTION);
        CHECK_EQ(softmmu_translate(u, TRAPFRAME, W, false, NULL), SOFTMMU_OK);
        /* Emptying a 1 GiB region clears its root entry in both. */
        CHECK_EQ(pmap_remove(u, 0x40000000, 0x40001000), VM_OK);
        pmap_update(u);
        CHECK_EQ(ur[pt_index(0x40000000, 3)], 0);
        CHECK_EQ(kr[pt_index(0x40000000, 3)], 0);
        CHECK(pmap_check(u));
        drop_user(u);
        check_baseline();
}

TEST(tables_freed_and_large_pages_split)
{
        setup();
        struct pmap *u = new_user();
        uint64_t t0 = pmap_table_pages(u);

        CHECK_EQ(t0, 2);
        CHECK_EQ(pmap_enter_range(u, 0x200000, 0x400000, 2 * MiB, VM_PROT_RW,
                                  PMAP_USER), VM_OK);
        CHECK_EQ(softmmu_page_shift(u, 0x200000), 21);
        CHECK_EQ(pmap_table_pages(u), 3);       /* a level-2 table */
        CHECK_EQ(pmap_remove(u, 0x201000, 0x202000), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_page_shift(u, 0x200000), 12);
        CHECK_EQ(softmmu_page_shift(u, 0x201000), 0);
        paddr_t pa = 0;
        CHECK_EQ(softmmu_translate(u, 0x3ff000, R, true, &pa), SOFTMMU_OK);
        CHECK_EQ(pa, 0x5ff000);
        CHECK(pmap_check(u));
        CHECK_EQ(pmap_remove(u, 0x200000, 0x400000), VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), t0);
        drop_user(u);
        check_baseline();
}

TEST(tlb_kept_honest_by_update)
{
        setup();
        struct pmap *u = new_user();
        vaddr_t va = 0x10000;
        paddr_t pa = 0;

        pmap_activate(u);
        CHECK_EQ(pmap_enter(u, va, 0x8000, VM_PROT_RW, PMAP_USER), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_access(va, W, true, NULL), SOFTMMU_OK);
        CHECK_EQ(pmap_protect(u, va, va + PAGE_SIZE, VM_PROT_READ), VM_OK);
        CHECK(!softmmu_tlb_check());
        pmap_update(u);
        CHECK(softmmu_tlb_check());
        CHECK_EQ(softmmu_access(va, W, true, NULL), SOFTMMU_PROTECTION);
        CHECK_EQ(pmap_enter(u, va, 0x9000, VM_PROT_READ, PMAP_USER), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_access(va, R, true, &pa), SOFTMMU_OK);
        CHECK_EQ(pa, 0x9000);
        CHECK(softmmu_tlb_check());
        drop_user(u);
        check_baseline();
}
