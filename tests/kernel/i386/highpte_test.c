/*
 * highpte_test.c (i386) - user page tables in HIGHMEM (ptmap.h): where
 * they come from, and the three ways the table engine reaches them.
 *   - a space's page tables counted by zone: all HIGHMEM with HIGHPTE on
 *     (where there is HIGHMEM), all low memory with it off; the
 *     directory array and PDPT always low;
 *   - with the space loaded, the engine's walk (pmap_extract) goes through
 *     the recursive slot and takes no kmap_atomic slot; RECURSIVE_PT(n)
 *     shows what a software walk through kmap_atomic (pgd_walk) finds;
 *     with another space loaded, the same walk takes kmap_atomic slots and
 *     gives them all back;
 *   - a table freed and another linked under the same directory entry of
 *     the loaded space: the recursive slot shows the new one at once
 *     (ptmap.h's pt_table_linked invalidates RECURSIVE_PT(n); without it
 *     this fails at -m 64M; with HIGHMEM, QEMU happens to flush its whole
 *     TLB at every kunmap_atomic, as the fixmap lies in the range its
 *     large-page tracking covers, so the stale window never shows there);
 *   - fork and exit of a space whose tables are high, each side's tables
 *     written while the other is loaded, every table page given back.
 * At -m 64M there is no HIGHMEM: the same checks run with every table low.
 */
#include <mercator/ktest.h>
#include <mercator/string.h>
#include <machine/highmem.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>
#include "../../../kernel/arch/i386/pgdir.h"
#include "../../../kernel/arch/i386/pmap_md.h"

#define UVA             0x20000000u
#define NDIR            6       /* directory entries the tests fill */
#define PER_DIR         3       /* pages under each */

static bool highmem_free(void)
{
        struct pmm_zone_stats st;

        pmm_zone_stats(ZONE_HIGHMEM, &st);
        return st.free > 256;
}

/* The i-th test page: PER_DIR pages in each of NDIR directory entries. */
static vaddr_t test_va(unsigned i)
{
        return UVA + (vaddr_t)(i / PER_DIR) * (1u << PD_SHIFT) +
               (i % PER_DIR) * 5 * PAGE_SIZE;
}

/* A space with the test pages faulted in (written). => NULL on failure. */
static struct vm_space *space_with_pages(void)
{
        struct vm_space *s = NULL;
        vaddr_t va;

        if (!KCHECK_EQ(vm_space_create(&s), VM_OK))
                return NULL;
        KCHECK_EQ(vm_space_map(s, UVA, NDIR * (1u << PD_SHIFT),
                               VM_PROT_READ | VM_PROT_WRITE,
                               VM_MAP_PRIVATE | VM_MAP_FIXED, &va), VM_OK);
        for (unsigned i = 0; i < NDIR * PER_DIR; i++)
                KCHECK_EQ(vm_fault(s, test_va(i), VM_PROT_WRITE),
                          FAULT_RESOLVED);
        return s;
}

/* pm's user page tables by zone: [0] low memory, [1] HIGHMEM. */
static void count_tables(struct pmap *pm, unsigned n[2])
{
        const pte_t *pd = pmap_pd(pm);

        n[0] = n[1] = 0;
        for (unsigned i = 0; i < KERNEL_PDE_MIN; i++) {
                if (!pte_present(pd[i]) || pte_is_leaf(pd[i], 2))
                        continue;
                const struct vm_page *pg = pmm_pa_to_page(pte_table_pa(pd[i]));
                n[pg->zone == ZONE_HIGHMEM]++;
        }
}

static uint64_t atomic_maps(void)
{
        struct kmap_stats st;

        kmap_get_stats(&st);
        return st.atomic_maps;
}

static unsigned atomic_depth(void)
{
        struct kmap_stats st;

        kmap_get_stats(&st);
        return st.atomic_depth;
}

/* HIGHPTE on: every user page table in HIGHMEM; off: every one low (a
 * table keeps its zone); the directory array always low. */
KTEST(i386_highpte_tables_by_zone)
{
        bool hm = highmem_free(), saved = pmap_highpte;
        unsigned n[2];

        for (int on = 1; on >= 0; on--) {
                pmap_highpte = on;
                struct vm_space *s = space_with_pages();
                if (!s)
                        break;
                struct pmap *pm = vm_space_pmap(s);
                count_tables(pm, n);
                KCHECK_EQ(n[0] + n[1], NDIR);
                KCHECK_EQ(n[1], on && hm ? NDIR : 0);
                KCHECK(pa_is_lowmem(pm->root) && pa_is_lowmem(pm->cr3));
                KCHECK(pmap_check(pm));
                vm_space_destroy(s);
        }
        pmap_highpte = saved;
}

/*
 * The engine's walk of the loaded space goes through the recursive slot:
 * no kmap_atomic; what it finds is what RECURSIVE_PT(n) shows and what a
 * software walk through kmap_atomic finds. Of a space not loaded, the
 * same walk maps each high table with kmap_atomic, and releases it.
 */
KTEST(i386_highpte_walks_agree)
{
        bool hm = highmem_free() && pmap_highpte;
        struct vm_space *s = space_with_pages(), *other = space_with_pages();

        if (!s || !other)
                return;
        struct pmap *pm = vm_space_pmap(s);
        const pte_t *pd = pmap_pd(pm);
        paddr_t pa[NDIR * PER_DIR], got = 0;
        pte_t rec[NDIR * PER_DIR], soft[NDIR * PER_DIR];
        uint64_t maps0, maps_loaded, maps_other;
        bool found = true;

        pmap_activate(pm);
        maps0 = atomic_maps();
        for (unsigned i = 0; i < NDIR * PER_DIR; i++)
                found &= pmap_extract(pm, test_va(i), &pa[i], NULL, NULL);
        maps_loaded = atomic_maps() - maps0;
        for (unsigned i = 0; i < NDIR * PER_DIR; i++)
                rec[i] = RECURSIVE_PT(PD_INDEX(test_va(i)))[PT_INDEX(test_va(i))];
        maps0 = atomic_maps();
        for (unsigned i = 0; i < NDIR * PER_DIR; i++)
                found &= pmap_extract(vm_space_pmap(other), test_va(i), &got,
                                      NULL, NULL);
        maps_other = atomic_maps() - maps0;
        pmap_activate(pmap_kernel());

        KCHECK(found);
        KCHECK_EQ(maps_loaded, 0);              /* the recursive slot only */
        KCHECK_EQ(maps_other, hm ? NDIR * PER_DIR : 0);
        KCHECK_EQ(atomic_depth(), 0);           /* every slot given back */
        for (unsigned i = 0; i < NDIR * PER_DIR; i++) {
                soft[i] = pgd_walk(pd, test_va(i));
                if (!KCHECK_EQ(soft[i] & PTE_ADDR, pa[i]) ||
                    !KCHECK_EQ(rec[i] & ~(pte_t)(PTE_A | PTE_D),
                               soft[i] & ~(pte_t)(PTE_A | PTE_D)))
                        break;
        }
        vm_space_destroy(other);
        vm_space_destroy(s);
}

/*
 * In the loaded space, the table under directory entry n is emptied (and
 * freed) and a new one, in another frame, is linked there: the recursive
 * slot must show the new table, not what the TLB remembered of the old
 * one (pt_table_linked's invlpg of RECURSIVE_PT(n)).
 */
KTEST(i386_highpte_recursive_follows_relink)
{
        struct vm_space *s = space_with_pages();
        const vaddr_t va = test_va(0), va2 = test_va(1);
        const unsigned n = PD_INDEX(va);

        if (!s)
                return;
        struct pmap *pm = vm_space_pmap(s);
        const pte_t *pd = pmap_pd(pm);
        paddr_t old_table = pte_table_pa(pd[n]), pa = 0, pa2 = 0;
        struct vm_page *hold = NULL;
        pte_t seen_old, seen_new, soft;

        pmap_activate(pm);
        seen_old = RECURSIVE_PT(n)[PT_INDEX(va)];       /* now in the TLB */
        pmap_extract(pm, va, &pa, NULL, NULL);
        for (unsigned i = 0; i < PER_DIR; i++)
                vm_space_unmap(s, test_va(i), PAGE_SIZE);
        pmap_update(pm);
        bool freed = !pte_present(pd[n]);
        /* Keep the old table's frame busy so the new table gets another. */
        hold = pmm_alloc_pages(0, pmap_highpte ? PMM_HIGHMEM : 0);
        vaddr_t got;
        KCHECK_EQ(vm_space_map(s, va2, PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE,
                               VM_MAP_PRIVATE | VM_MAP_FIXED, &got), VM_OK);
        KCHECK_EQ(vm_fault(s, va2, VM_PROT_WRITE), FAULT_RESOLVED);
        seen_new = RECURSIVE_PT(n)[PT_INDEX(va2)];
        bool extracted = pmap_extract(pm, va2, &pa2, NULL, NULL);
        volatile uint8_t *u = (volatile uint8_t *)va2;
        uint8_t first = u[0];   /* the CPU's own walk: a zeroed page */
        pmap_activate(pmap_kernel());

        KCHECK(pte_present(seen_old) && (seen_old & PTE_ADDR) == pa);
        KCHECK(freed);
        KCHECK(pte_present(pd[n]));
        KCHECK(pte_table_pa(pd[n]) != old_table);
        soft = pgd_walk(pd, va2);
        KCHECK(extracted && pte_present(soft));
        KCHECK_EQ(soft & PTE_ADDR, pa2);
        KCHECK_EQ(seen_new & ~(pte_t)(PTE_A | PTE_D),
                  soft & ~(pte_t)(PTE_A | PTE_D));
        KCHECK_EQ(first, 0);
        KCHECK(pmap_check(pm));
        if (hold)
                pmm_free_pages(hold, 0);
        vm_space_destroy(s);
}

/*
 * fork of a space whose tables are high (the child starts with an empty
 * pmap and faults its tables in): the parent write-protected through the
 * recursive slot (it is loaded at the fork); half the child's faults
 * taken with the child loaded (its tables through the slot), half with
 * the parent loaded (the child's tables through kmap_atomic); both see
 * their own pages; when both are gone every table page is back, and
 * HIGHMEM's free count with them.
 */
KTEST(i386_highpte_fork_exit)
{
        bool hm = highmem_free() && pmap_highpte;
        struct pmm_zone_stats z0, z1;
        uint64_t pt0 = vmstat.pt_pages;
        struct vm_space *s, *c = NULL;
        unsigned np[2], nc[2];
        bool reads = true;

        pmm_zone_stats(ZONE_HIGHMEM, &z0);
        s = space_with_pages();
        if (!s)
                return;
        pmap_activate(vm_space_pmap(s));
        for (unsigned i = 0; i < NDIR * PER_DIR; i++)
                *(volatile uint32_t *)test_va(i) = 0x1000 + i;
        KCHECK_EQ(vm_space_fork(s, &c), VM_OK);
        if (!c) {
                pmap_activate(pmap_kernel());
                vm_space_destroy(s);
                return;
        }
        /* Parent loaded: the child's first half of faults (its tables
         * reached through kmap_atomic). */
        for (unsigned i = 0; i < NDIR * PER_DIR / 2; i++)
                KCHECK_EQ(vm_fault(c, test_va(i), VM_PROT_WRITE),
                          FAULT_RESOLVED);
        KCHECK_EQ(atomic_depth(), 0);
        pmap_activate(vm_space_pmap(c));
        for (unsigned i = NDIR * PER_DIR / 2; i < NDIR * PER_DIR; i++)
                KCHECK_EQ(vm_fault(c, test_va(i), VM_PROT_WRITE),
                          FAULT_RESOLVED);
        for (unsigned i = 0; i < NDIR * PER_DIR; i++) {
                volatile uint32_t *u = (volatile uint32_t *)test_va(i);

                reads &= *u == 0x1000 + i;
                *u = 0x2000 + i;
        }
        pmap_activate(vm_space_pmap(s));
        for (unsigned i = 0; i < NDIR * PER_DIR; i++)
                reads &= *(volatile uint32_t *)test_va(i) == 0x1000 + i;
        pmap_activate(pmap_kernel());
        KCHECK(reads);
        KCHECK_EQ(atomic_depth(), 0);
        count_tables(vm_space_pmap(s), np);
        count_tables(vm_space_pmap(c), nc);
        KCHECK_EQ(np[0] + np[1], NDIR);
        KCHECK_EQ(nc[0] + nc[1], NDIR);
        KCHECK_EQ(np[1], hm ? NDIR : 0);
        KCHECK_EQ(nc[1], hm ? NDIR : 0);
        KCHECK(pmap_check(vm_space_pmap(s)) && pmap_check(vm_space_pmap(c)));
        KCHECK(vm_space_check(s) && vm_space_check(c));
        vm_space_destroy(c);
        vm_space_destroy(s);
        pmm_zone_stats(ZONE_HIGHMEM, &z1);
        KCHECK_EQ(vmstat.pt_pages, pt0);
        KCHECK_EQ(z1.free, z0.free);
}
