/*
 * test_kmem.c - the kernel's memory services on the real machine: zones,
 * exhaustion, kmalloc, vmalloc guard pages, kernel stacks, ioremap, and
 * a user pmap sharing the kernel half (CONCEPTS A3, A4, B10, B11, C14,
 * D16, D18, D19). The leak check after each test covers every counter.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>

KTEST(pmm_invariants_after_boot)
{
        KCHECK(pmm_check());
        KCHECK_EQ(sizeof(struct vm_page), 32);
}

/* Boot-time tables (the page descriptors above all) stay out of the DMA
 * zone when there is room elsewhere. */
KTEST(boot_leaves_dma_zone_free)
{
        struct pmm_zone_stats dma;

        pmm_zone_stats(ZONE_DMA, &dma);
        KCHECK(dma.free * 10 >= dma.present * 9);
}

/* Each zone flag gets memory from where it promises. */
KTEST(pmm_zones)
{
        struct vm_page *dma = pmm_alloc_pages(0, PMM_DMA);
        struct vm_page *dma32 = pmm_alloc_pages(3, PMM_DMA32);
        struct vm_page *any = pmm_alloc_pages(0, 0);
        struct pmm_zone_stats normal;

        if (!KCHECK(dma && dma32 && any))
                return;
        KCHECK(pmm_page_to_pa(dma) < ZONE_DMA_END);
        KCHECK(pmm_page_to_pa(dma32) + 8 * PAGE_SIZE <= ZONE_DMA32_END);
        KCHECK(is_aligned(pmm_page_to_pa(dma32), 8 * PAGE_SIZE));
        pmm_zone_stats(ZONE_NORMAL, &normal);
        if (normal.free > 0)    /* NORMAL is preferred when it has pages */
                KCHECK(pmm_page_to_pa(any) >= ZONE_DMA32_END);
        pmm_free_pages(dma, 0);
        pmm_free_pages(dma32, 3);
        pmm_free_pages(any, 0);
        KCHECK(pmm_check());
}

/* Take every page there is (chained through the pages themselves), see
 * the next request fail cleanly, give them all back. */
KTEST(pmm_exhaustion)
{
        uint64_t free = pmm_free_count(), n = 0;
        paddr_t head = 0;
        struct vm_page *pg;

        for (unsigned order = PMM_MAX_ORDER + 1; order-- > 0;) {
                while ((pg = pmm_alloc_pages(order, 0)) != NULL) {
                        paddr_t pa = pmm_page_to_pa(pg);
                        *(paddr_t *)phys_to_virt(pa) = head;
                        ((uint64_t *)phys_to_virt(pa))[1] = order;
                        head = pa;
                        n += 1UL << order;
                }
        }
        KCHECK_EQ(n, free);
        KCHECK_EQ(pmm_free_count(), 0);
        KCHECK(pmm_alloc_pages(0, 0) == NULL);
        KCHECK(kmalloc(5000) == NULL);
        while (head) {
                paddr_t next = *(paddr_t *)phys_to_virt(head);
                unsigned order = ((uint64_t *)phys_to_virt(head))[1];
                pmm_free_pages(pmm_pa_to_page(head), order);
                head = next;
        }
        KCHECK_EQ(pmm_free_count(), free);
        KCHECK(pmm_check());
}

KTEST(kmalloc_sizes)
{
        static void *p[64];
        size_t sizes[] = { 1, 16, 17, 100, 500, 2048, 2049, 4096, 70000 };

        for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
                p[i] = kmalloc(sizes[i]);
                if (!KCHECK(p[i]))
                        return;
                KCHECK(is_aligned((uintptr_t)p[i], KMALLOC_MIN_ALIGN));
                KCHECK(kmalloc_usable_size(p[i]) >= sizes[i]);
                memset(p[i], (int)i, sizes[i]);
        }
        for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
                uint8_t *b = p[i];
                KCHECK(b[0] == i && b[sizes[i] - 1] == i);
                kfree(p[i]);
        }
        KCHECK(kmalloc_check());
}

/* A vmalloc area is usable through its virtual range; the page after it
 * is an unmapped guard that faults. */
KTEST(vmalloc_guard_page_faults)
{
        struct fault_info fi;
        uint8_t *p = vmalloc(3 * PAGE_SIZE);
        vaddr_t area;

        if (!KCHECK(p))
                return;
        KCHECK((vaddr_t)p >= VMALLOC_BASE && (vaddr_t)p < VMALLOC_END);
        memset(p, 0xab, 3 * PAGE_SIZE);
        KCHECK(p[3 * PAGE_SIZE - 1] == 0xab);
        KCHECK(probe_read((vaddr_t)p + 3 * PAGE_SIZE, &fi));
        KCHECK_EQ(fi.addr, (vaddr_t)p + 3 * PAGE_SIZE);
        KCHECK_EQ(fi.error & 1, 0);     /* not present */
        KCHECK(vmalloc_is_guard((vaddr_t)p + 3 * PAGE_SIZE, &area));
        KCHECK_EQ(area, (vaddr_t)p);
        KCHECK(vmalloc_check());
        vfree(p);
        KCHECK(probe_read((vaddr_t)p, &fi));
}

/* A kernel stack from vmalloc works as a stack, and its guard is below. */
static void use_stack(void *arg)
{
        volatile uint8_t buf[8192];

        buf[0] = 1;
        buf[8191] = 2;
        *(int *)arg = buf[0] + buf[8191];
}

KTEST(kernel_stack_usable)
{
        void *stack = kstack_alloc();
        struct fault_info fi;
        int result = 0;

        if (!KCHECK(stack))
                return;
        machine_call_on_stack((void *)kstack_top(stack), use_stack, &result);
        KCHECK_EQ(result, 3);
        KCHECK(probe_read((vaddr_t)stack - 1, &fi));
        KCHECK(kstack_guard_hit((vaddr_t)stack - 1));
        kstack_free(stack);
}

volatile unsigned kstack_recurse_limit = ~0u;

__attribute__((noinline)) static void kstack_recurse(void *arg)
{
        volatile char pad[256];

        pad[0] = 1;
        if ((uintptr_t)arg < kstack_recurse_limit)
                kstack_recurse((void *)((uintptr_t)arg + 1));
        pad[1] = 0;
}

KTEST_DEATH(kernel_stack_overflow, "kernel stack overflow: a kernel stack")
{
        void *stack = kstack_alloc();

        if (KCHECK(stack))
                machine_call_on_stack((void *)kstack_top(stack),
                                      kstack_recurse, NULL);
}

/* The local APIC's registers, mapped uncached through ioremap. */
#define LAPIC_BASE      0xfee00000UL
#define LAPIC_VERSION   0x30

KTEST(ioremap_local_apic)
{
        volatile uint32_t *apic = ioremap(LAPIC_BASE, PAGE_SIZE, 0);
        unsigned flags = 0;
        paddr_t pa;

        if (!KCHECK(apic))
                return;
        KCHECK((vaddr_t)apic >= IOREMAP_BASE && (vaddr_t)apic < IOREMAP_END);
        KCHECK(pmap_extract(pmap_kernel(), (vaddr_t)apic, &pa, NULL, &flags));
        KCHECK_EQ(pa, LAPIC_BASE);
        KCHECK(flags & PMAP_NOCACHE);
        uint32_t version = apic[LAPIC_VERSION / 4];
        /* An integrated APIC reports version 0x1X and at least 3 LVT entries. */
        KCHECK_EQ(version & 0xf0, 0x10);
        KCHECK(((version >> 16) & 0xff) >= 2);
        iounmap((void *)apic);
        KCHECK(!pmap_extract(pmap_kernel(), (vaddr_t)apic, &pa, NULL, NULL));
}

/* A new address space shares the kernel half, including kernel mappings
 * made after it was created; its user half is its own. */
KTEST(user_pmap_shares_kernel_half)
{
        struct pmap *pm;
        struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);
        paddr_t pa;

        if (!KCHECK(pg) || !KCHECK(pmap_create(&pm) == VM_OK))
                return;
        uint8_t *late = vmalloc(PAGE_SIZE);
        KCHECK(late != NULL);
        KCHECK(pmap_extract(pm, (vaddr_t)late, &pa, NULL, NULL));
        KCHECK(pmap_extract(pm, (vaddr_t)phys_to_virt(0x200000), &pa, NULL, NULL));
        KCHECK(pmap_enter(pm, 0x400000, pmm_page_to_pa(pg), VM_PROT_RW,
                          PMAP_USER) == VM_OK);
        KCHECK(pmap_extract(pm, 0x400000, &pa, NULL, NULL));
        KCHECK(!pmap_extract(pmap_kernel(), 0x400000, &pa, NULL, NULL));
        KCHECK(pmap_remove(pm, 0x400000, 0x401000) == VM_OK);
        pmap_update(pm);
        pmap_destroy(pm);
        vfree(late);
        pmm_free_pages(pg, 0);
}

/* Remapping a kernel page to another frame is seen after pmap_update():
 * the TLB entry of the old translation was invalidated. */
KTEST(tlb_invalidated_on_remap)
{
        struct vm_page *a = pmm_alloc_pages(0, 0), *b = pmm_alloc_pages(0, 0);
        uint8_t *win = vmalloc(PAGE_SIZE);      /* borrow its address */
        struct pmap *k = pmap_kernel();
        paddr_t orig;

        if (!KCHECK(a && b && win))
                return;
        *(uint32_t *)phys_to_virt(pmm_page_to_pa(a)) = 0xaaaa;
        *(uint32_t *)phys_to_virt(pmm_page_to_pa(b)) = 0xbbbb;
        KCHECK(pmap_extract(k, (vaddr_t)win, &orig, NULL, NULL));
        pmap_enter(k, (vaddr_t)win, pmm_page_to_pa(a), VM_PROT_RW, PMAP_GLOBAL);
        pmap_update(k);
        KCHECK_EQ(*(volatile uint32_t *)win, 0xaaaa);
        pmap_enter(k, (vaddr_t)win, pmm_page_to_pa(b), VM_PROT_RW, PMAP_GLOBAL);
        pmap_update(k);
        KCHECK_EQ(*(volatile uint32_t *)win, 0xbbbb);
        pmap_enter(k, (vaddr_t)win, orig, VM_PROT_RW, PMAP_GLOBAL);
        pmap_update(k);
        vfree(win);
        pmm_free_pages(a, 0);
        pmm_free_pages(b, 0);
}

/* kmalloc's debug mode (death tests boot with kmalloc_debug): a write
 * after free and a write past the end are caught and named. */
KTEST_DEATH(kmalloc_catches_write_after_free, "kmalloc: write after free")
{
        uint8_t *p = kmalloc(64);

        kfree(p);
        p[10] = 1;                      /* the bug */
        p = kmalloc(64);                /* reuse checks the poison */
        kfree(p);
}

KTEST_DEATH(kmalloc_catches_overflow, "kfree: overflow in kmalloc-64")
{
        uint8_t *p = kmalloc(64);

        p[64] = 1;                      /* one byte past the end */
        kfree(p);
}
