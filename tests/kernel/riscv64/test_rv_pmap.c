/*
 * test_rv_pmap.c - the Sv39 pmap (kernel/arch/riscv64/pmap.c) on the real
 * MMU: its invariants after boot, Sv39's protection encoding (write implies
 * read, exec-only exists), A/D preset from the faulting access and set by
 * the hardware, the two roots of a user pmap kept in step, large pages
 * split by a partial remove, tables freed as they empty, and vmalloc's
 * guard pages.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include "arch/riscv64/boot.h"
#include "arch/riscv64/pmap_md.h"
#include "arch/riscv64/riscv.h"
#include "arch/riscv64/sv39.h"

KTEST(rv_pmap_kernel_invariants)
{
        KCHECK(pmap_check(pmap_kernel()));
        KCHECK_EQ(pmap_kernel()->root, boot_info.kernel_root);
        KCHECK_EQ(pmap_kernel()->kroot, pmap_kernel()->root);
}

KTEST(rv_pmap_protection_encoding)
{
        struct pmap *pm;
        struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);
        paddr_t pa;
        vm_prot_t prot;
        unsigned flags;
        int level;

        if (!KCHECK(pg) || !KCHECK_EQ(pmap_create(&pm), VM_OK))
                return;
        pa = pmm_page_to_pa(pg);
        /* Write-only becomes read-write; exec-only stays exec-only. */
        KCHECK_EQ(pmap_enter(pm, 0x10000, pa, VM_PROT_WRITE, PMAP_USER), VM_OK);
        KCHECK(pmap_extract(pm, 0x10000, NULL, &prot, &flags));
        KCHECK_EQ(prot, VM_PROT_RW);
        KCHECK_EQ(pmap_prot_implied(VM_PROT_WRITE), VM_PROT_RW);
        KCHECK_EQ(pmap_enter(pm, 0x11000, pa, VM_PROT_EXEC, PMAP_USER), VM_OK);
        KCHECK(pmap_extract(pm, 0x11000, NULL, &prot, &flags));
        KCHECK_EQ(prot, VM_PROT_EXEC);
        KCHECK_EQ(pmap_prot_implied(VM_PROT_EXEC), VM_PROT_EXEC);
        KCHECK(flags & PMAP_USER);
        pte_t e = sv39_walk(pm->root, 0x11000, &level);
        KCHECK_EQ(e & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_X | PTE_U);
        /* Entered ahead of use: no A or D; for a read: A; for a write: A|D. */
        KCHECK_EQ(pmap_ad(pm, 0x10000, false), 0);
        KCHECK_EQ(pmap_enter(pm, 0x12000, pa, VM_PROT_RW,
                             PMAP_USER | PMAP_ACCESS(VM_PROT_READ)), VM_OK);
        KCHECK_EQ(pmap_ad(pm, 0x12000, false), PMAP_AD_ACCESSED);
        KCHECK_EQ(pmap_enter(pm, 0x13000, pa, VM_PROT_RW,
                             PMAP_USER | PMAP_ACCESS(VM_PROT_WRITE)), VM_OK);
        KCHECK_EQ(pmap_ad(pm, 0x13000, true), PMAP_AD_ACCESSED | PMAP_AD_DIRTY);
        KCHECK_EQ(pmap_ad(pm, 0x13000, false), 0);
        /* Protect keeps U; read-only clears W. */
        KCHECK_EQ(pmap_protect(pm, 0x10000, 0x14000, VM_PROT_READ), VM_OK);
        KCHECK(pmap_extract(pm, 0x12000, NULL, &prot, &flags));
        KCHECK_EQ(prot, VM_PROT_READ);
        KCHECK(flags & PMAP_USER);
        KCHECK(pmap_check(pm));
        KCHECK_EQ(pmap_remove(pm, 0, USER_HALF_END), VM_OK);
        pmap_update(pm);
        KCHECK_EQ(pmap_table_pages(pm), 2);     /* the two roots */
        KCHECK(pmap_check(pm));
        pmap_destroy(pm);
        pmm_free_pages(pg, 0);
}

KTEST(rv_pmap_two_roots_in_step)
{
        struct pmap *pm;
        struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);
        int level;

        if (!KCHECK(pg) || !KCHECK_EQ(pmap_create(&pm), VM_OK))
                return;
        paddr_t pa = pmm_page_to_pa(pg);
        /* Three 1 GiB regions of the user half: three root entries. */
        const vaddr_t vas[] = { 0x10000, 0x40000000, 0x3f00000000 };
        for (unsigned i = 0; i < ARRAY_SIZE(vas); i++)
                KCHECK_EQ(pmap_enter(pm, vas[i], pa, VM_PROT_RW,
                                     PMAP_USER | PMAP_ACCESS(VM_PROT_READ)), VM_OK);
        const pte_t *u = pmap_kmem_va(pm->root), *k = pmap_kmem_va(pm->kroot);
        for (unsigned i = 0; i < ARRAY_SIZE(vas); i++) {
                KCHECK(u[pt_index(vas[i], 3)] != 0);
                KCHECK_EQ(k[pt_index(vas[i], 3)], u[pt_index(vas[i], 3)]);
                KCHECK_EQ(pte_pa(sv39_walk(pm->kroot, vas[i], &level)), pa);
        }
        KCHECK(pmap_check(pm));
        /* The kernel writes through its table (SUM) and the MMU sets D. */
        pmap_activate(pm);
        KCHECK_EQ(satp_root(csr_read(satp)), pm->kroot);
        csr_set(sstatus, SSTATUS_SUM);
        *(volatile uint64_t *)0x40000008 = 42;
        csr_clear(sstatus, SSTATUS_SUM);
        KCHECK_EQ(((uint64_t *)pmap_kmem_va(pa))[1], 42);
        KCHECK(pmap_ad(pm, 0x40000000, false) & PMAP_AD_DIRTY);
        /* Removing the middle region clears its root entry in both. */
        KCHECK_EQ(pmap_remove(pm, 0x40000000, 0x40001000), VM_OK);
        pmap_update(pm);
        KCHECK_EQ(u[pt_index(0x40000000, 3)], 0);
        KCHECK_EQ(k[pt_index(0x40000000, 3)], 0);
        KCHECK(pmap_check(pm));
        pmap_activate(pmap_kernel());
        pmap_remove(pm, 0, USER_HALF_END);
        pmap_update(pm);
        pmap_destroy(pm);
        pmm_free_pages(pg, 0);
}

KTEST(rv_pmap_large_pages_split)
{
        struct pmap *pm;
        struct vm_page *pg = pmm_alloc_pages(9, 0);     /* 2 MiB */
        paddr_t pa;
        int level;

        if (!KCHECK(pg) || !KCHECK_EQ(pmap_create(&pm), VM_OK))
                return;
        pa = pmm_page_to_pa(pg);
        if (is_aligned(pa, 2 * MiB)) {
                KCHECK_EQ(pmap_enter_range(pm, 0x200000, pa, 2 * MiB, VM_PROT_RW,
                                           PMAP_USER), VM_OK);
                sv39_walk(pm->root, 0x200000, &level);
                KCHECK_EQ(level, 1);
                /* Removing one 4 KiB page splits the 2 MiB one. */
                KCHECK_EQ(pmap_remove(pm, 0x201000, 0x202000), VM_OK);
                pmap_update(pm);
                KCHECK_EQ(sv39_walk(pm->root, 0x201000, &level), 0);
                KCHECK_EQ(pte_pa(sv39_walk(pm->root, 0x3ff000, &level)), pa + 0x1ff000);
                KCHECK_EQ(level, 0);
                KCHECK(pmap_check(pm));
        } else {
                pr_emerg("  (a 2 MiB block not aligned to 2 MiB: split not tested)\n");
        }
        pmap_remove(pm, 0, USER_HALF_END);
        pmap_update(pm);
        KCHECK_EQ(pmap_table_pages(pm), 2);
        pmap_destroy(pm);
        pmm_free_pages(pg, 9);
}

KTEST(rv_vmalloc_guard_pages)
{
        struct fault_info fi;
        char *p = vmalloc(3 * PAGE_SIZE);

        if (!KCHECK(p))
                return;
        KCHECK((vaddr_t)p >= VMALLOC_BASE && (vaddr_t)p < VMALLOC_END);
        memset(p, 0x5a, 3 * PAGE_SIZE);
        KCHECK_EQ((uint8_t)p[3 * PAGE_SIZE - 1], 0x5a);
        KCHECK(probe_write((vaddr_t)p + 3 * PAGE_SIZE, &fi));
        KCHECK_EQ(fi.vector, 13);       /* probe_write reads first: absent */
        KCHECK_EQ(fi.addr, (vaddr_t)p + 3 * PAGE_SIZE);
        KCHECK(probe_read((vaddr_t)p - 1, &fi));
        KCHECK(fault_probe((void (*)(void *))(void *)p, NULL, &fi));
        KCHECK_EQ(fi.vector, 12);                       /* not executable */
        vfree(p);
        KCHECK(probe_read((vaddr_t)p, &fi));            /* gone */
        KCHECK(pmap_check(pmap_kernel()));
}

KTEST(rv_pagewalk_describes_both_tables)
{
        static char buf[1024];
        struct pmap *pm;

        if (!KCHECK_EQ(pmap_create(&pm), VM_OK))
                return;
        KCHECK_EQ(pmap_enter(pm, 0x10000, 0x80400000, VM_PROT_READ | VM_PROT_EXEC,
                             PMAP_USER), VM_OK);
        size_t n = pmap_walk_describe(pm, 0x10123, buf, sizeof buf);
        KCHECK(n > 0 && n < sizeof buf);
        KCHECK(strstr(buf, "user table") && strstr(buf, "kernel table"));
        KCHECK(strstr(buf, "V R-X U"));
        KCHECK(strstr(buf, "pa 0x80400123 (a 4 KiB page)"));
        pmap_walk_describe(pmap_kernel(), (vaddr_t)_text_start, buf, sizeof buf);
        KCHECK(!strstr(buf, "user table") && strstr(buf, "V R-X S G A"));
        pmap_walk_describe(pm, 0x0000008000000000UL, buf, sizeof buf);
        KCHECK(strstr(buf, "not canonical"));
        pmap_remove(pm, 0, USER_HALF_END);
        pmap_update(pm);
        pmap_destroy(pm);
}
