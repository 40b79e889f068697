/*
 * test_pmap_i386.c (i386 formats) - the i386 table code
 * (kernel/arch/i386/pmap.c on the shared engine) run on the i386 software
 * MMU (kernel/arch/host/i386/softmmu.c) over simulated RAM. Built with
 * PMAP=i386 (2-level) and, through tests/host/i386-pae/, with
 * PMAP=i386-pae: the same checks read each format's numbers from pte.h.
 *
 * What it pins down: low memory at PAGE_OFFSET in large pages; the
 * recursive slot (the directory at RECURSIVE_PD, table n at
 * RECURSIVE_BASE | n << 12) as the MMU itself translates it, agreeing with
 * the software walk; a new directory copying the kernel's entries; large
 * user pages and their split; NX only where the format has it; the
 * kernel's directory frozen once copied; and a random run against a model
 * with pmap_check() and the TLB checked after each step.
 */
#include "check.h"

#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include <arch/i386/pmap_md.h>
#include <arch/i386/pte.h>
#include <arch/host/i386/softmmu_i386.h>

#include <stdlib.h>
#include <string.h>

extern uint64_t vm_ptpage_fail_after;

#define RAM_BYTES       (32 * MiB)
#define R               SOFTMMU_READ
#define W               SOFTMMU_WRITE
#define X               SOFTMMU_EXEC
#define LARGE           pt_level_size(2)
#define RW              (VM_PROT_READ | VM_PROT_WRITE)

static uint64_t base_free, base_pt;

static void setup(void)
{
        host_memory_setup(RAM_BYTES);
        kmalloc_init(true);
        softmmu_reset();
        vm_ptpage_fail_after = 0;
        CHECK_EQ(pmap_bootstrap(RAM_BYTES), VM_OK);
        CHECK(pmap_check(pmap_kernel()));
        pmap_activate(pmap_kernel());
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

static struct pmap *new_user(void)
{
        struct pmap *pm = NULL;

        CHECK_EQ(pmap_create(&pm), VM_OK);
        CHECK(pmap_check(pm));
        return pm;
}

static enum softmmu_result tr(struct pmap *pm, vaddr_t va, unsigned access,
                              bool user, paddr_t *pa)
{
        return softmmu_translate(pm, va, access, user, pa);
}

static paddr_t frame(void)
{
        struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);

        CHECK(pg != NULL);
        return pmm_page_to_pa(pg);
}

/* Low memory: RAM at PAGE_OFFSET in large global pages, kernel-only;
 * the hole after it and the user half unmapped. */
TEST(bootstrap_lowmem_linear)
{
        struct pmap *k;
        paddr_t pa = 0;

        setup();
        k = pmap_kernel();
        CHECK_EQ(lowmem_end, RAM_BYTES);
        CHECK_EQ(vmalloc_start, align_up(PAGE_OFFSET + RAM_BYTES + VMALLOC_OFFSET,
                                         VMALLOC_OFFSET));
        for (paddr_t off = 0; off < RAM_BYTES; off += 3 * MiB + 4096) {
                CHECK_EQ(tr(k, PAGE_OFFSET + off + 5, W, false, &pa), SOFTMMU_OK);
                CHECK_EQ(pa, off + 5);
                CHECK_EQ(softmmu_page_shift(k, PAGE_OFFSET + off), PD_SHIFT);
                CHECK_EQ(tr(k, PAGE_OFFSET + off, R, true, NULL),
                         SOFTMMU_PROTECTION);
        }
        CHECK_EQ(tr(k, PAGE_OFFSET + RAM_BYTES, R, false, NULL),
                 SOFTMMU_NOT_PRESENT);
        CHECK_EQ(tr(k, 0x08048000, R, false, NULL), SOFTMMU_NOT_PRESENT);
        CHECK(!pmap_extract(k, RECURSIVE_BASE, NULL, NULL, NULL));
        /* One table per directory entry from vmalloc to the slot. */
        CHECK_EQ(pmap_table_pages(k), PD_PAGES + (NR_SELF > 1 ? 1 : 0) +
                 (PD_SELF - PD_INDEX(vmalloc_start)));
        check_baseline();
}

/* The recursive slot as the MMU sees it: the directory array at
 * RECURSIVE_PD, the table of entry n at RECURSIVE_PT(n), each entry of it
 * the one a software walk reads. */
TEST(recursive_slot_translates)
{
        struct pmap *k, *u;
        const vaddr_t uva = 0x08048000;
        paddr_t pa = 0, upa;
        unsigned n = PD_INDEX(uva);

        setup();
        k = pmap_kernel();
        for (unsigned j = 0; j < NR_SELF; j++) {
                CHECK_EQ(tr(k, (vaddr_t)RECURSIVE_PD + j * PAGE_SIZE, R, false,
                            &pa), SOFTMMU_OK);
                CHECK_EQ(pa, k->root + j * PAGE_SIZE);
        }
        CHECK_EQ((vaddr_t)RECURSIVE_PD, NR_SELF > 1 ? 0xffffc000u : 0xfffff000u);
        /* The table code's own walk agrees with the MMU there. */
        CHECK(pmap_extract(k, (vaddr_t)RECURSIVE_PD + 8, &pa, NULL, NULL));
        CHECK_EQ(pa, k->root + 8);
        /* A kernel table: the vmalloc one. */
        n = PD_INDEX(vmalloc_start);
        CHECK_EQ(tr(k, (vaddr_t)RECURSIVE_PT(n), R, false, &pa), SOFTMMU_OK);
        CHECK_EQ(pa, pte_table_pa(pmap_pd(k)[n]));
        CHECK_EQ(tr(k, (vaddr_t)RECURSIVE_PD, R, true, NULL), SOFTMMU_PROTECTION);

        u = new_user();
        upa = frame();
        n = PD_INDEX(uva);
        CHECK_EQ(pmap_enter(u, uva, upa, RW, PMAP_USER), VM_OK);
        CHECK_EQ(tr(u, (vaddr_t)RECURSIVE_PD + n * sizeof(pte_t), R, false, &pa),
                 SOFTMMU_OK);
        CHECK_EQ(pa, u->root + n * sizeof(pte_t));
        CHECK_EQ(tr(u, (vaddr_t)&RECURSIVE_PT(n)[PT_INDEX(uva)], R, false, &pa),
                 SOFTMMU_OK);
        CHECK_EQ(pa, pte_table_pa(pmap_pd(u)[n]) + PT_INDEX(uva) * sizeof(pte_t));
        CHECK_EQ(*(pte_t *)phys_to_virt(pa) & PTE_ADDR, upa);
        /* The kernel's directory has no table there. */
        CHECK_EQ(tr(k, (vaddr_t)RECURSIVE_PT(n), R, false, NULL),
                 SOFTMMU_NOT_PRESENT);
        CHECK(pmap_check(u));
        pmap_destroy(u);
        pmm_free_pages(pmm_pa_to_page(upa), 0);
        check_baseline();
}

/* seed 003's pgd_alloc: kernel entries copied, the user half empty, the
 * kernel reachable from the new space, not from user mode. */
TEST(create_copies_kernel_entries)
{
        struct pmap *u;
        pte_t *pd, *kpd;
        paddr_t pa = 0;

        setup();
        u = new_user();
        pd = pmap_pd(u);
        kpd = pmap_pd(pmap_kernel());
        for (unsigned i = 0; i < KERNEL_PDE_MIN; i++)
                CHECK_EQ(pd[i], 0);
        CHECK(memcmp(&pd[KERNEL_PDE_MIN], &kpd[KERNEL_PDE_MIN],
                     (PD_SELF - KERNEL_PDE_MIN) * sizeof(pte_t)) == 0);
        pmap_activate(u);
        CHECK_EQ(softmmu_access(PAGE_OFFSET + 0x1234, R, false, &pa), SOFTMMU_OK);
        CHECK_EQ(pa, 0x1234);
        CHECK_EQ(softmmu_access(PAGE_OFFSET, R, true, NULL), SOFTMMU_PROTECTION);
        pmap_activate(pmap_kernel());
        CHECK_EQ(pmap_table_pages(u), PD_PAGES + (NR_SELF > 1 ? 1 : 0));
        pmap_destroy(u);
        check_baseline();
}

/* A large user page, its split by a partial protect, and removal freeing
 * the table the split made. */
TEST(large_user_page_split)
{
        struct pmap *u;
        struct vm_page *pg;
        paddr_t base, pa = 0;
        vaddr_t va = 0x40000000;
        vm_prot_t prot;
        unsigned order = PD_SHIFT - PAGE_SHIFT;

        setup();
        u = new_user();
        pg = pmm_alloc_pages(order, 0);
        CHECK(pg != NULL);
        base = pmm_page_to_pa(pg);
        CHECK_EQ(pmap_enter_range(u, va, base, LARGE, RW, PMAP_USER), VM_OK);
        CHECK_EQ(softmmu_page_shift(u, va + 5 * PAGE_SIZE), PD_SHIFT);
        CHECK_EQ(tr(u, va + LARGE - 1, W, true, &pa), SOFTMMU_OK);
        CHECK_EQ(pa, base + LARGE - 1);
        CHECK_EQ(pmap_table_pages(u), PD_PAGES + (NR_SELF > 1 ? 1 : 0));
        CHECK_EQ(pmap_protect(u, va + PAGE_SIZE, va + 2 * PAGE_SIZE,
                              VM_PROT_READ), VM_OK);
        pmap_update(u);
        CHECK_EQ(softmmu_page_shift(u, va), PAGE_SHIFT);
        CHECK_EQ(tr(u, va + PAGE_SIZE, W, true, NULL), SOFTMMU_PROTECTION);
        CHECK_EQ(tr(u, va, W, true, &pa), SOFTMMU_OK);
        CHECK_EQ(pa, base);
        CHECK(pmap_extract(u, va + PAGE_SIZE, &pa, &prot, NULL));
        CHECK_EQ(prot & VM_PROT_WRITE, 0);
        /* The A and D bits the walks set survived the split. */
        CHECK(pmap_ad(u, va + LARGE - PAGE_SIZE, false) & PMAP_AD_DIRTY);
        CHECK(pmap_check(u));
        CHECK_EQ(pmap_remove(u, va, va + LARGE), VM_OK);
        pmap_update(u);
        CHECK_EQ(pmap_table_pages(u), PD_PAGES + (NR_SELF > 1 ? 1 : 0));
        CHECK(pmap_check(u));
        pmap_destroy(u);
        pmm_free_pages(pg, order);
        check_baseline();
}

/* NX: with PAE a page mapped without exec cannot be fetched from; with
 * 2-level tables any readable page can, and pmap_prot_implied() says so. */
TEST(nx_where_the_format_has_it)
{
        struct pmap *u;
        paddr_t f;
        vm_prot_t prot;

        setup();
        u = new_user();
        f = frame();
        CHECK_EQ(pmap_enter(u, 0x10000000, f, VM_PROT_READ, PMAP_USER), VM_OK);
        CHECK(pmap_extract(u, 0x10000000, NULL, &prot, NULL));
        if (NR_SELF > 1) {
                CHECK(pmap_nx);
                CHECK_EQ(tr(u, 0x10000000, X, true, NULL), SOFTMMU_PROTECTION);
                CHECK_EQ(prot, VM_PROT_READ);
                CHECK_EQ(pmap_prot_implied(VM_PROT_READ), VM_PROT_READ);
        } else {
                CHECK(!pmap_nx);
                CHECK_EQ(tr(u, 0x10000000, X, true, NULL), SOFTMMU_OK);
                CHECK_EQ(prot, VM_PROT_READ | VM_PROT_EXEC);
                CHECK_EQ(pmap_prot_implied(VM_PROT_READ),
                         VM_PROT_READ | VM_PROT_EXEC);
        }
        CHECK_EQ(pmap_enter(u, 0x10000000, f, VM_PROT_NONE, PMAP_USER), VM_OK);
        pmap_update(u);
        pmap_destroy(u);
        pmm_free_pages(pmm_pa_to_page(f), 0);
        check_baseline();
}

/* Once a user pmap copied the kernel's directory, a change that would
 * alter a kernel directory entry is refused; vmalloc's tables still take
 * mappings, seen from every space. */
TEST(kernel_directory_frozen_once_copied)
{
        struct pmap *k, *u;
        paddr_t f, pa = 0;
        vaddr_t kva = vmalloc_start + 3 * PAGE_SIZE;

        setup();
        k = pmap_kernel();
        u = new_user();
        CHECK_EQ(pmap_protect(k, PAGE_OFFSET, PAGE_OFFSET + PAGE_SIZE,
                              VM_PROT_READ), VM_EINVAL);
        CHECK_EQ(pmap_remove(k, PAGE_OFFSET, PAGE_OFFSET + LARGE), VM_EINVAL);
        CHECK_EQ(pmap_enter(k, PAGE_OFFSET + RAM_BYTES + PAGE_SIZE, 0, RW, 0),
                 VM_EINVAL);                    /* the hole has no table */
        CHECK_EQ(pmap_enter(k, PKMAP_BASE, 0, RW, 0), VM_EINVAL);
        CHECK_EQ(pmap_enter(u, kva, 0, RW, 0), VM_EINVAL);  /* not its half */
        f = frame();
        CHECK_EQ(pmap_enter(k, kva, f, RW, PMAP_GLOBAL), VM_OK);
        CHECK_EQ(tr(u, kva, W, false, &pa), SOFTMMU_OK);
        CHECK_EQ(pa, f);
        CHECK(pmap_check(k) && pmap_check(u));
        CHECK_EQ(pmap_remove(k, kva, kva + PAGE_SIZE), VM_OK);
        pmap_update(k);
        CHECK_EQ(tr(u, kva, R, false, NULL), SOFTMMU_NOT_PRESENT);
        pmap_destroy(u);
        pmm_free_pages(pmm_pa_to_page(f), 0);
        check_baseline();
}

/* A random run on two user pmaps against a model of page -> frame and
 * writability, checking translations, pmap_check() and the TLB. */
#define RPAGES  96
TEST(random_user_ops)
{
        struct pmap *u[2];
        paddr_t fr[8], model[2][RPAGES];
        bool wr[2][RPAGES];
        unsigned seed = getenv("CHECK_SEED") ? (unsigned)atoi(getenv("CHECK_SEED")) : 7;
        /* Pages straddling a directory entry's boundary. */
        vaddr_t base = 0x30000000 + LARGE - 40 * PAGE_SIZE;

        setup();
        srand(seed);
        for (unsigned i = 0; i < 8; i++)
                fr[i] = frame();
        memset(model, 0, sizeof model);
        memset(wr, 0, sizeof wr);
        u[0] = new_user();
        u[1] = new_user();
        for (unsigned step = 0; step < 3000; step++) {
                unsigned s = rand() % 2, p = rand() % RPAGES, op = rand() % 4;
                unsigned len = 1 + rand() % 12;
                vaddr_t va = base + p * PAGE_SIZE;

                if (p + len > RPAGES)
                        len = RPAGES - p;
                if (op == 0 || op == 1) {
                        paddr_t f = fr[rand() % 8];
                        bool w = rand() % 2;

                        CHECK_EQ(pmap_enter(u[s], va, f, w ? RW : VM_PROT_READ,
                                            PMAP_USER), VM_OK);
                        model[s][p] = f;
                        wr[s][p] = w;
                } else if (op == 2) {
                        CHECK_EQ(pmap_remove(u[s], va, va + len * PAGE_SIZE), VM_OK);
                        for (unsigned i = p; i < p + len; i++)
                                model[s][i] = 0;
                } else {
                        CHECK_EQ(pmap_protect(u[s], va, va + len * PAGE_SIZE,
                                              VM_PROT_READ), VM_OK);
                        for (unsigned i = p; i < p + len; i++)
                                wr[s][i] = false;
                }
                pmap_update(u[s]);
                pmap_activate(u[s]);
                for (unsigned k = 0; k < 4; k++) {
                        unsigned q = rand() % RPAGES;
                        paddr_t pa = 0;
                        enum softmmu_result want = model[s][q] ? SOFTMMU_OK
                                                               : SOFTMMU_NOT_PRESENT;

                        CHECK_EQ(softmmu_access(base + q * PAGE_SIZE, R, true, &pa),
                                 want);
                        if (want == SOFTMMU_OK)
                                CHECK_EQ(pa, model[s][q]);
                        if (model[s][q])
                                CHECK_EQ(softmmu_access(base + q * PAGE_SIZE, W,
                                                        true, NULL),
                                         wr[s][q] ? SOFTMMU_OK : SOFTMMU_PROTECTION);
                }
                CHECK(softmmu_tlb_check());
                if (step % 100 == 0)
                        CHECK(pmap_check(u[0]) && pmap_check(u[1]));
        }
        pmap_activate(pmap_kernel());
        for (unsigned s = 0; s < 2; s++) {
                CHECK(pmap_check(u[s]));
                pmap_destroy(u[s]);
        }
        for (unsigned i = 0; i < 8; i++)
                pmm_free_pages(pmm_pa_to_page(fr[i]), 0);
        check_baseline();
}
