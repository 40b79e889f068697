/*
 * ptpage.c - page-table pages for every pmap: zeroed, counted, and taken
 * from bootmem until the buddy allocator exists, from it afterwards.
 *
 * Counted in vmstat.pt_pages (pages from either source). A format that
 * maps its own tables (i386's HIGHPTE) asks for HIGHMEM with
 * vm_ptpage_alloc_high(). Pages from bootmem
 * are never given back to it: freeing one hands it to the buddy allocator,
 * which by then owns all memory.
 */
#include <vm/bootmem.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

/* Test hook: when non-zero, the n-th next allocation fails (host tests). */
uint64_t vm_ptpage_fail_after;

/* While the boot page tables are live, only low memory may be reachable
 * (x86-64: the boot tables map the first GiBs only); the architecture's
 * boot code lowers this limit until its own mappings are in place. */
paddr_t vm_ptpage_boot_limit = ~(paddr_t)0;

/* 2^order zeroed, counted table pages; pmm_flags adds PMM_HIGHMEM for a
 * table the format reaches only through its own mapping. */
static vm_status_t ptpage_alloc(unsigned order, unsigned pmm_flags,
                                paddr_t *pa)
{
        uint64_t n = (uint64_t)1 << order;

        if (vm_ptpage_fail_after && --vm_ptpage_fail_after == 0)
                return VM_ENOMEM;
        if (bootmem_active()) {
                *pa = bootmem_alloc(n, PAGE_SIZE, vm_ptpage_boot_limit);
                if (*pa == 0)
                        return VM_ENOMEM;
                for (uint64_t i = 0; i < n; i++)
                        pmap_zero_page(*pa + i * PAGE_SIZE);
        } else {
                struct vm_page *pg = pmm_alloc_pages(order,
                                                     PMM_ZERO | pmm_flags);

                if (!pg)
                        return VM_ENOMEM;
                pg->flags |= PG_PTABLE;
                *pa = pmm_page_to_pa(pg);
        }
        vmstat_add(&vmstat.pt_pages, (int64_t)n);
        return VM_OK;
}

vm_status_t vm_ptpage_alloc_order(unsigned order, paddr_t *pa)
{
        return ptpage_alloc(order, 0, pa);
}

vm_status_t vm_ptpage_alloc(paddr_t *pa)
{
        return ptpage_alloc(0, 0, pa);
}

vm_status_t vm_ptpage_alloc_high(paddr_t *pa)
{
        return ptpage_alloc(0, PMM_HIGHMEM, pa);
}

void vm_ptpage_free_order(paddr_t pa, unsigned order)
{
        struct vm_page *pg = pmm_pa_to_page(pa);

        pg->flags &= ~PG_PTABLE;
        vmstat_add(&vmstat.pt_pages, -((int64_t)1 << order));
        pmm_free_pages(pg, order);
}

void vm_ptpage_free(paddr_t pa)
{
        vm_ptpage_free_order(pa, 0);
}
