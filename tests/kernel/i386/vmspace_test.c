/*
 * vmspace_test.c (i386) - the machine-independent VM core on i386: an
 * address space, its faults and fork, with user pages from HIGHMEM
 * reached only through the page-content operations (kmap_atomic), the
 * space's tables through the i386 pmap on the shared engine. No user mode
 * yet: the kernel faults the pages in itself (vm_fault, as the trap code
 * will), then loads the space and reads the user addresses directly.
 */
#include <mercator/ktest.h>
#include <mercator/string.h>
#include <machine/highmem.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>
#include "../../../kernel/arch/i386/pmap_md.h"

#define NPAGES  8
#define UVA     0x10000000u

static bool highmem_free(void)
{
        struct pmm_zone_stats st;

        pmm_zone_stats(ZONE_HIGHMEM, &st);
        return st.free > 64;
}

/* Every byte of the frame at pa is `b`, seen through kmap_atomic. */
static bool frame_is(paddr_t pa, uint8_t b)
{
        const uint8_t *p = kmap_atomic(pa);
        bool ok = true;

        for (unsigned i = 0; i < PAGE_SIZE && ok; i++)
                ok = p[i] == b;
        kunmap_atomic((void *)p);
        return ok;
}

/*
 * Write faults on private anonymous memory give zeroed pages from HIGHMEM
 * (where there is some), zeroed through kmap_atomic; written there, they
 * read back at their user addresses once the space is loaded. A fork
 * shares them; the child's write fault copies one (two kmap_atomic slots)
 * into another HIGHMEM frame and the parent keeps its own.
 */
KTEST(i386_user_pages_from_highmem)
{
        struct vm_space *s = NULL, *c = NULL;
        paddr_t pa[NPAGES], cpa = 0, ppa = 0;
        vaddr_t va = 0;
        vm_prot_t prot;
        unsigned flags;
        bool hm = highmem_free(), reads = true;

        if (!KCHECK_EQ(vm_space_create(&s), VM_OK))
                return;
        KCHECK_EQ(vm_space_map(s, UVA, NPAGES * PAGE_SIZE,
                               VM_PROT_READ | VM_PROT_WRITE,
                               VM_MAP_PRIVATE | VM_MAP_FIXED, &va), VM_OK);
        KCHECK_EQ(va, UVA);
        for (unsigned i = 0; i < NPAGES; i++) {
                vaddr_t u = va + i * PAGE_SIZE;
                uint8_t *p;

                KCHECK_EQ(vm_fault(s, u, VM_PROT_WRITE), FAULT_RESOLVED);
                KCHECK(pmap_extract(vm_space_pmap(s), u, &pa[i], &prot, &flags));
                KCHECK(prot & VM_PROT_WRITE);
                KCHECK(flags & PMAP_USER);
                if (hm)
                        KCHECK(!pa_is_lowmem(pa[i]));
                KCHECK(frame_is(pa[i], 0));
                p = kmap_atomic(pa[i]);
                memset(p, 0x40 + i, PAGE_SIZE);
                kunmap_atomic(p);
        }
        KCHECK(vm_space_check(s));
        KCHECK(pmap_check(vm_space_pmap(s)));

        pmap_activate(vm_space_pmap(s));
        for (unsigned i = 0; i < NPAGES; i++) {
                const volatile uint8_t *u = (const volatile uint8_t *)(va + i * PAGE_SIZE);

                reads &= u[0] == 0x40 + i && u[PAGE_SIZE - 1] == 0x40 + i;
        }
        pmap_activate(pmap_kernel());
        KCHECK(reads);

        KCHECK_EQ(vm_space_fork(s, &c), VM_OK);
        KCHECK_EQ(vm_fault(c, va, VM_PROT_WRITE), FAULT_RESOLVED);
        KCHECK(pmap_extract(vm_space_pmap(c), va, &cpa, NULL, NULL));
        KCHECK(pmap_extract(vm_space_pmap(s), va, &ppa, NULL, NULL));
        KCHECK(cpa != pa[0]);
        if (hm)
                KCHECK(!pa_is_lowmem(cpa));
        KCHECK(frame_is(cpa, 0x40));    /* copied through two slots */
        KCHECK(frame_is(pa[0], 0x40));
        KCHECK(vm_space_check(c) && vm_space_check(s));
        vm_space_destroy(c);
        vm_space_destroy(s);
}

/* A space's page tables from HIGHMEM (where there is some and HIGHPTE is
 * on; else low memory), and the tables given back when the space goes. */
KTEST(i386_space_tables_given_back)
{
        struct vm_space *s = NULL;
        uint64_t pt0 = vmstat.pt_pages;
        vaddr_t va = 0;
        bool hm = highmem_free() && pmap_highpte;

        if (!KCHECK_EQ(vm_space_create(&s), VM_OK))
                return;
        /* Three pages, each under its own directory entry. */
        for (unsigned i = 0; i < 3; i++) {
                vaddr_t u = UVA + i * 0x400000u * 2;

                KCHECK_EQ(vm_space_map(s, u, PAGE_SIZE, VM_PROT_READ |
                                       VM_PROT_WRITE, VM_MAP_PRIVATE |
                                       VM_MAP_FIXED, &va), VM_OK);
                KCHECK_EQ(vm_fault(s, u, VM_PROT_WRITE), FAULT_RESOLVED);
                KCHECK_EQ(pa_is_lowmem(pte_table_pa(
                        pmap_pd(vm_space_pmap(s))[PD_INDEX(u)])), !hm);
        }
        KCHECK_EQ(vmstat.pt_pages, pt0 + PD_PAGES + (NR_SELF > 1 ? 1 : 0) + 3);
        KCHECK(pmap_check(vm_space_pmap(s)));
        vm_space_destroy(s);
        KCHECK_EQ(vmstat.pt_pages, pt0);
}
