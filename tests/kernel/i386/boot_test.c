/*
 * boot_test.c (i386) - the boot's results, checked from inside: the
 * identity map is gone, low memory is where the layout says, the recursive
 * slot shows the current directory and its tables, the zones split RAM as
 * Linux's do, and the timer ticks.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include "../../../kernel/arch/i386/boot.h"
#include "../../../kernel/arch/i386/cpu.h"
#include "../../../kernel/arch/i386/trap.h"

extern char _kernel_start[], _text_start[], _rodata_start[], _rodata_end[];
extern char _data_start[];

/* The loader's identity map is gone: the image's physical address faults
 * (not present), its linked address reads. */
KTEST(i386_identity_removed)
{
        struct fault_info fi;

        KCHECK(probe_read(KERNEL_LOAD_PA, &fi));
        KCHECK_EQ(fi.vector, 14);
        KCHECK_EQ(fi.addr, KERNEL_LOAD_PA);
        KCHECK_EQ(fi.error & PF_PRESENT, 0);
        KCHECK(!probe_read((vaddr_t)_kernel_start, &fi));
        KCHECK(probe_read(0, &fi));
        for (unsigned i = 0; i < KERNEL_PDE_MIN; i++)
                if (!KCHECK_EQ(kernel_pd[i], 0))
                        return;
}

/* Low memory: 4 MiB pages (2 MiB with PAE) from PAGE_OFFSET, up to min(RAM, 880 MiB). */
KTEST(i386_lowmem_linear)
{
        struct fault_info fi;

        KCHECK_EQ(LOWMEM_LIMIT, 880 * MiB);
        KCHECK_EQ(LOWMEM_CLASSIC, 896 * MiB);
        KCHECK_EQ(lowmem_end, MIN(boot_info.ram_end, (paddr_t)LOWMEM_LIMIT));
        /* The first large page holds the image: split for W^X. */
        KCHECK(!(kernel_pd[KERNEL_PDE_MIN] & PTE_PS));
        if (lowmem_end >= 2 * LARGE_PAGE_SIZE) {
                KCHECK(kernel_pd[KERNEL_PDE_MIN + 1] & PTE_PS);
                KCHECK_EQ(kernel_pd[KERNEL_PDE_MIN + 1] & PDE_ADDR_LARGE,
                          LARGE_PAGE_SIZE);
        }
        /* The last byte of low memory reads; 8 MiB past it (the hole before
         * vmalloc) faults. */
        KCHECK(!probe_read(PAGE_OFFSET + (vaddr_t)lowmem_end - 4, &fi));
        KCHECK(probe_read(PAGE_OFFSET + (vaddr_t)lowmem_end + 4 * MiB, &fi));
        KCHECK_EQ(virt_to_phys(phys_to_virt(0x123456)), 0x123456);
        KCHECK(vmalloc_start >= PAGE_OFFSET + lowmem_end + VMALLOC_OFFSET);
        KCHECK(vmalloc_start < VMALLOC_END);
}

/* A software walk of kernel_pd (through __va) for va: the physical
 * address, or ~0 if not mapped. */
static paddr_t soft_walk(vaddr_t va)
{
        pte_t pde = kernel_pd[PD_INDEX(va)];

        if (!(pde & PTE_P))
                return ~(paddr_t)0;
        if (pde & PTE_PS)
                return (pde & PDE_ADDR_LARGE) | (va & (LARGE_PAGE_SIZE - 1));
        const pte_t *pt = phys_to_virt(pde & PTE_ADDR);
        pte_t pte = pt[PT_INDEX(va)];
        if (!(pte & PTE_P))
                return ~(paddr_t)0;
        return (pte & PTE_ADDR) | (va & PAGE_MASK);
}

/* The recursive slot: the directory at 0xfffff000 (PAE: the four at
 * 0xffffc000) is kernel_pd, table n at RECURSIVE_BASE | n << 12 is the
 * table kernel_pd[n] points at, and an entry written through __va is seen
 * through the slot (and the other way). */
KTEST(i386_recursive_mapping)
{
        const pte_t *rpd = RECURSIVE_PD;
        unsigned pk = PD_INDEX(PKMAP_BASE);

        KCHECK_EQ((vaddr_t)rpd, NR_SELF == 4 ? 0xffffc000 : 0xfffff000);
        KCHECK_EQ((vaddr_t)RECURSIVE_PT(pk), RECURSIVE_BASE | pk << 12);
        KCHECK_EQ(read_cr3(), kernel_cr3);
        for (unsigned i = 0; i < PD_ENTRIES; i++)
                if (!KCHECK_EQ(rpd[i], kernel_pd[i]))
                        return;
        KCHECK_EQ(soft_walk((vaddr_t)rpd), virt_to_phys(kernel_pd));
        KCHECK_EQ(soft_walk((vaddr_t)RECURSIVE_PT(pk)), kernel_pd[pk] & PTE_ADDR);

        /* Map one page in the kmap window by hand, through the slot. */
        vaddr_t va = PKMAP_BASE + 7 * PAGE_SIZE;
        const vaddr_t self_off = PD_SELF * sizeof(pte_t);
        paddr_t pa = virt_to_phys(kernel_pd) + (self_off & ~(vaddr_t)PAGE_MASK);
        RECURSIVE_PT(pk)[7] = (pte_t)pa | PTE_P;
        KCHECK_EQ(pkmap_page_table[7], (pte_t)pa | PTE_P);
        KCHECK_EQ(soft_walk(va), pa);
        KCHECK_EQ(*(volatile pte_t *)(va + (self_off & PAGE_MASK)),
                  kernel_pd[PD_SELF]);
        pkmap_page_table[7] = 0;
        invlpg(va);
        struct fault_info fi;
        KCHECK(probe_read(va, &fi));
        KCHECK_EQ(RECURSIVE_PT(pk)[7], 0);

        /* Walks agree for the image, low memory and the slot itself. */
        vaddr_t probe[] = { (vaddr_t)_kernel_start, PAGE_OFFSET + 0x5000,
                            PAGE_OFFSET + (vaddr_t)lowmem_end - PAGE_SIZE,
                            (vaddr_t)RECURSIVE_PT(KERNEL_PDE_MIN) };
        for (unsigned i = 0; i < ARRAY_SIZE(probe); i++)
                KCHECK_EQ(soft_walk(probe[i]) & ~(paddr_t)PAGE_MASK,
                          soft_walk(probe[i] & ~PAGE_MASK));
}

/* Zones: DMA below 16 MiB, NORMAL to the end of low memory, HIGHMEM the
 * rest; every present page counted once. */
KTEST(i386_zones)
{
        struct pmm_zone_stats st[NR_ZONES];
        uint64_t total = 0;

        for (int z = 0; z < NR_ZONES; z++) {
                pmm_zone_stats(z, &st[z]);
                total += st[z].present;
        }
        KCHECK_EQ(ZONE_NORMAL_END, LOWMEM_LIMIT);
        KCHECK(st[ZONE_DMA].present <= ZONE_DMA_END >> PAGE_SHIFT);
        KCHECK(st[ZONE_NORMAL].present <= (LOWMEM_LIMIT - ZONE_DMA_END) >> PAGE_SHIFT);
        if (boot_info.ram_end <= LOWMEM_LIMIT)
                KCHECK_EQ(st[ZONE_HIGHMEM].present, 0);
        else
                KCHECK(st[ZONE_HIGHMEM].present > 0);
        KCHECK(total <= pmm_npages());
        KCHECK(pmm_check());
}

/* The PIT interrupts: ticks advance while the CPU waits. */
KTEST(i386_timer)
{
        uint64_t t0 = timer_ticks;

        for (int i = 0; i < 3; i++) {
                irq_enable();
                cpu_halt();
                irq_disable();
        }
        KCHECK(timer_ticks > t0);
}

/* The image's text and rodata cannot be written, even by the kernel
 * (CR0.WP); its data can. */
KTEST(i386_kernel_text_readonly)
{
        struct fault_info fi;

        KCHECK(read_cr0() & CR0_WP);
        KCHECK(probe_write((vaddr_t)_text_start + 0x100, &fi));
        KCHECK_EQ(fi.error & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
        KCHECK(probe_write((vaddr_t)_rodata_start, &fi));
        KCHECK(!probe_read((vaddr_t)_rodata_start, &fi));
        KCHECK(!probe_write((vaddr_t)_data_start, &fi));
        KCHECK(!probe_write((vaddr_t)_rodata_end, &fi));
}
