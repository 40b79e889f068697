/*
 * test_boot.c - the kernel's address space after boot (CONCEPTS A2, B6-B9):
 * the identity map is gone, the image is W^X, the linear map covers all RAM
 * and only RAM, stacks have guard pages, a fault nobody expects panics.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/memmap.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include "../../kernel/arch/x86_64/boot.h"
#include "../../kernel/arch/x86_64/trap.h"

extern char _text_start[], _rodata_start[], _data_start[];
extern char boot_stack_guard[], df_stack_guard[];

/* After boot, low (identity-mapped during boot) addresses fault. */
KTEST(identity_map_removed)
{
        struct fault_info fi;

        KCHECK(probe_read(0x100000, &fi));              /* the kernel's load address */
        KCHECK_EQ(fi.vector, 14);
        KCHECK_EQ(fi.addr, 0x100000);
        KCHECK_EQ(fi.error & PF_PRESENT, 0);            /* not present at all */
        KCHECK(probe_read(0, &fi));
        KCHECK(probe_read(0x200000 - 8, &fi));
        KCHECK(!pmap_extract(pmap_kernel(), 0x100000, NULL, NULL, NULL));
}

KTEST(kernel_text_not_writable)
{
        struct fault_info fi;

        KCHECK(probe_write((vaddr_t)_text_start, &fi));
        KCHECK_EQ(fi.error & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
        KCHECK(probe_write((vaddr_t)_rodata_start, &fi));
        KCHECK_EQ(fi.error & PF_PRESENT, PF_PRESENT);
}

/* The linear-map alias of the kernel image is read-only too. */
KTEST(kernel_alias_not_writable)
{
        struct fault_info fi;
        paddr_t text_pa = (vaddr_t)_text_start - KERNEL_BASE;

        KCHECK(!probe_read((vaddr_t)phys_to_virt(text_pa), &fi));
        KCHECK(probe_write((vaddr_t)phys_to_virt(text_pa), &fi));
        KCHECK(!memcmp(phys_to_virt(text_pa), _text_start, 64));
}

/* Data is not executable: jumping to a `ret` in .data faults on fetch. */
static uint8_t data_ret[16] = { 0xc3 };
static void jump_to_data(void *p) { ((void (*)(void))p)(); }

KTEST(kernel_data_not_executable)
{
        struct fault_info fi;

        KCHECK(fault_probe(jump_to_data, data_ret, &fi));
        KCHECK_EQ(fi.vector, 14);
        KCHECK_EQ(fi.error & (PF_PRESENT | PF_INSTR), PF_PRESENT | PF_INSTR);
        KCHECK_EQ(fi.addr, (vaddr_t)data_ret);
}

KTEST(stack_guard_pages_unmapped)
{
        struct fault_info fi;

        KCHECK(probe_read((vaddr_t)boot_stack_guard, &fi));
        KCHECK(probe_read((vaddr_t)df_stack_guard + PAGE_SIZE - 1, &fi));
        KCHECK(!probe_read((vaddr_t)boot_stack_guard + PAGE_SIZE, &fi));
}

/* Every RAM range is in the linear map (first and last byte readable, and
 * __pa(__va(pa)) == pa); the PCI hole below 4 GiB is not. */
KTEST(linear_map_covers_ram)
{
        struct fault_info fi;

        for (unsigned i = 0; i < boot_info.nfw; i++) {
                const struct mem_range *r = &boot_info.fw[i];
                if (r->type != MEM_USABLE)
                        continue;
                paddr_t first = page_round(r->base);
                paddr_t last = page_trunc(r->base + r->len) - 1;
                KCHECK(!probe_read((vaddr_t)phys_to_virt(first), &fi));
                KCHECK(!probe_read((vaddr_t)phys_to_virt(last), &fi));
                KCHECK_EQ(virt_to_phys(phys_to_virt(last)), last);
                paddr_t pa;
                KCHECK(pmap_extract(pmap_kernel(),
                                    (vaddr_t)phys_to_virt(last), &pa, NULL, NULL));
                KCHECK_EQ(pa, last);
        }
        if (boot_info.ram_end > 4 * GiB)
                KCHECK(probe_read((vaddr_t)phys_to_virt(4 * GiB - PAGE_SIZE), &fi));
}

/* The linear map uses large pages: 2 MiB ones at least. */
KTEST(linear_map_large_pages)
{
        paddr_t pa;
        vm_prot_t prot;
        unsigned flags;
        vaddr_t va = (vaddr_t)phys_to_virt(32 * MiB);

        if (boot_info.ram_end < 64 * MiB)
                return;
        KCHECK(pmap_extract(pmap_kernel(), va, &pa, &prot, &flags));
        KCHECK_EQ(prot, VM_PROT_RW);
        KCHECK(flags & PMAP_GLOBAL);
        /* Both halves of one 2 MiB page share a table entry: no 4 KiB table
         * was built for it. */
        KCHECK(pmap_table_pages(pmap_kernel()) < 64 + boot_info.ram_end / GiB * 2);
}

/* Recurse until the stack runs out; `limit` is never reached, but the
 * compiler cannot know that. */
volatile unsigned recurse_limit = ~0u;

__attribute__((noinline)) static void recurse(unsigned depth)
{
        volatile char pad[512];

        pad[0] = (char)depth;
        if (depth < recurse_limit)
                recurse(depth + 1);
        pad[1] = 0;
}

KTEST_DEATH(boot_stack_overflow, "kernel stack overflow: the boot stack")
{
        recurse(0);
}

__attribute__((noinline)) static void wild_write(void)
{
        *(volatile uint64_t *)0xffffc07ffffff000UL = 1;
}

KTEST_DEATH(unexpected_kernel_fault, "wild_write+")
{
        wild_write();
}
