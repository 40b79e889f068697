/*
 * test_rv_boot.c - kernel tests of the riscv64 boot (issue 13): what the
 * device tree gave, the kernel's own Sv39 table (W^X image, linear map,
 * devices, trampoline, guard page), satp, the page allocator over RAM at
 * its base, kmalloc, and the timer interrupt.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include "arch/riscv64/boot.h"
#include "arch/riscv64/percpu.h"
#include "arch/riscv64/riscv.h"
#include "arch/riscv64/sv39.h"
#include "arch/riscv64/trap.h"

extern char trampoline_start[];

KTEST(rv_device_tree)
{
        const struct fdt_info *fi = &boot_info.fdt;

        KCHECK(fi->nmem >= 1);
        KCHECK_EQ(boot_info.ram_base, 0x80000000);
        KCHECK(boot_info.ram_end > boot_info.ram_base);
        KCHECK(fi->nharts >= 1);
        KCHECK(fi->uart.found && fi->uart.irq != 0);
        KCHECK(fi->plic.found && fi->clint.found && fi->test.found);
        KCHECK(fi->timebase_hz != 0);
        KCHECK(strcmp(fi->mmu, "riscv,sv39") == 0 || strcmp(fi->mmu, "riscv,sv48") == 0 ||
               strcmp(fi->mmu, "riscv,sv57") == 0);
        KCHECK(strncmp(fi->isa, "rv64", 4) == 0);
        /* OpenSBI's own memory is reserved, never usable. */
        bool sbi_reserved = false;
        for (unsigned i = 0; i < boot_info.nfw; i++)
                if (boot_info.fw[i].base == 0x80000000 &&
                    boot_info.fw[i].type == MEM_RESERVED)
                        sbi_reserved = true;
        KCHECK(sbi_reserved);
}

KTEST(rv_satp_is_kernel_table)
{
        uint64_t satp = csr_read(satp);

        KCHECK_EQ(satp >> 60, 8);                       /* Sv39 */
        KCHECK_EQ(satp_root(satp), boot_info.kernel_root);
        KCHECK(boot_info.kernel_root != kimg_virt_to_phys(boot_pgtbl));
}

struct expect { const char *what; vaddr_t va; uint64_t set, clear; };

KTEST(rv_kernel_table_bits)
{
        paddr_t root = boot_info.kernel_root;
        const struct expect ex[] = {
                { "text", (vaddr_t)_text_start, PTE_R | PTE_X | PTE_G, PTE_W | PTE_U },
                { "rodata", (vaddr_t)_rodata_start, PTE_R | PTE_G, PTE_W | PTE_X | PTE_U },
                { "data", (vaddr_t)_data_start, PTE_R | PTE_W | PTE_G | PTE_D, PTE_X | PTE_U },
                { "RAM", (vaddr_t)phys_to_virt(boot_info.ram_end - PAGE_SIZE),
                  PTE_R | PTE_W | PTE_A | PTE_D, PTE_X | PTE_U },
                { "UART", (vaddr_t)phys_to_virt(boot_info.fdt.uart.base),
                  PTE_R | PTE_W, PTE_X | PTE_U },
                { "PLIC", (vaddr_t)phys_to_virt(boot_info.fdt.plic.base),
                  PTE_R | PTE_W, PTE_X | PTE_U },
                { "CLINT", (vaddr_t)phys_to_virt(boot_info.fdt.clint.base),
                  PTE_R | PTE_W, PTE_X | PTE_U },
                { "trampoline", TRAMPOLINE, PTE_R | PTE_X, PTE_W | PTE_U },
        };

        for (unsigned i = 0; i < ARRAY_SIZE(ex); i++) {
                int level = -1;
                pte_t e = sv39_walk(root, ex[i].va, &level);
                if (!KCHECK(pte_leaf(e))) {
                        pr_emerg("  %s at %#lx is not mapped\n", ex[i].what, ex[i].va);
                        continue;
                }
                if (!KCHECK((e & ex[i].set) == ex[i].set && !(e & ex[i].clear)))
                        pr_emerg("  %s at %#lx: entry %#lx\n", ex[i].what, ex[i].va, e);
        }
        /* The image is where kernel.ld says, and the guard page is a hole. */
        int level;
        KCHECK_EQ(pte_pa(sv39_walk(root, (vaddr_t)_text_start, &level)), 0x80200000);
        KCHECK_EQ(sv39_walk(root, (vaddr_t)boot_stack_guard, &level), 0);
        /* The linear map uses large pages where RAM allows (the first
         * usable 2 MiB boundary), and leaves OpenSBI's memory unmapped
         * (its reserved-memory node says no-map; PMP guards it anyway). */
        paddr_t big = align_up(boot_info.avail[0].base, 2 * MiB);
        for (unsigned i = 0; i < boot_info.nfw; i++)
                if (boot_info.fw[i].type == MEM_USABLE) {
                        big = align_up(boot_info.fw[i].base, 2 * MiB);
                        break;
                }
        level = -1;
        KCHECK(pte_leaf(sv39_walk(root, (vaddr_t)phys_to_virt(big), &level)));
        KCHECK(level >= 1);
        KCHECK_EQ(sv39_walk(root, (vaddr_t)phys_to_virt(0x80000000), &level), 0);
        /* No user half in the kernel's table but the trampoline. */
        const pte_t *top = phys_to_virt(root);
        for (unsigned i = 0; i < 255; i++)
                KCHECK_EQ(top[i], 0);
}

KTEST(rv_trampoline_alias)
{
        int level;
        pte_t e = sv39_walk(boot_info.kernel_root, TRAMPOLINE, &level);

        KCHECK_EQ(level, 0);
        KCHECK_EQ(pte_pa(e), kimg_virt_to_phys(_trampoline_start));
        KCHECK_EQ(*(volatile uint64_t *)TRAMPOLINE, *(uint64_t *)trampoline_start);
}

static void call_addr(void *p)
{
        ((void (*)(void))p)();
}

KTEST(rv_wx_enforced)
{
        struct fault_info fi;
        static uint32_t data_word = 0x00008067; /* "ret", never executable */

        KCHECK(probe_write((vaddr_t)_text_start, &fi));
        KCHECK_EQ(fi.vector, 15);                       /* store page fault */
        KCHECK(probe_write((vaddr_t)_rodata_start, &fi));
        KCHECK_EQ(fi.vector, 15);
        KCHECK(!probe_write((vaddr_t)&data_word, &fi));
        KCHECK(fault_probe(call_addr, &data_word, &fi));
        KCHECK_EQ(fi.vector, 12);                       /* instruction page fault */
        KCHECK_EQ(fi.addr, (vaddr_t)&data_word);
        void *page = phys_to_virt(boot_info.ram_end - PAGE_SIZE);
        KCHECK(fault_probe(call_addr, page, &fi));
        KCHECK_EQ(fi.vector, 12);
        KCHECK(probe_write(TRAMPOLINE, &fi));
        KCHECK_EQ(fi.vector, 15);
}

KTEST(rv_stack_guard)
{
        struct fault_info fi;

        KCHECK(probe_read((vaddr_t)boot_stack_guard, &fi));
        KCHECK_EQ(fi.vector, 13);                       /* load page fault */
        KCHECK_EQ(fi.addr, (vaddr_t)boot_stack_guard);
        KCHECK(probe_read((vaddr_t)boot_stack_guard + PAGE_SIZE - 8, &fi));
        KCHECK(!probe_read((vaddr_t)boot_stack, &fi));
        KCHECK_EQ(this_cpu()->kstack_limit, (uint64_t)boot_stack);
}

static int __attribute__((noinline)) recurse(volatile char *p, unsigned depth)
{
        volatile char buf[512];

        buf[0] = p ? *p : 0;
        if (depth == 0)         /* never: the 16 KiB stack ends long before */
                return buf[0];
        return recurse(buf, depth - 1) + buf[1];
}

KTEST_DEATH(rv_stack_overflow, "kernel stack overflow")
{
        recurse(NULL, 1000000);
}

KTEST(rv_page_allocator)
{
        struct vm_page *pg[64];
        uint64_t before = pmm_free_count();

        KCHECK_EQ(pmm_ram_base(), 0x80000000);
        for (unsigned i = 0; i < ARRAY_SIZE(pg); i++) {
                pg[i] = pmm_alloc_pages(i % 4, PMM_ZERO);
                if (!KCHECK(pg[i]))
                        return;
                paddr_t pa = pmm_page_to_pa(pg[i]);
                KCHECK(pa >= boot_info.ram_base && pa < boot_info.ram_end);
                KCHECK(pa >= kimg_virt_to_phys(_kernel_end) ||
                       pa + (PAGE_SIZE << (i % 4)) <= 0x80200000);
                uint64_t *w = phys_to_virt(pa);
                KCHECK_EQ(w[0], 0);
                w[0] = pa;
        }
        for (unsigned i = 0; i < ARRAY_SIZE(pg); i++) {
                KCHECK_EQ(*(uint64_t *)phys_to_virt(pmm_page_to_pa(pg[i])),
                          pmm_page_to_pa(pg[i]));
                pmm_free_pages(pg[i], i % 4);
        }
        KCHECK_EQ(pmm_free_count(), before);
        KCHECK(pmm_check());
        /* Nothing in OpenSBI's range is free. */
        KCHECK(pmm_pa_to_page(0x80000000)->flags & PG_RESERVED);
}

KTEST(rv_kmalloc)
{
        char *p[32];

        for (unsigned i = 0; i < ARRAY_SIZE(p); i++) {
                p[i] = kmalloc(16 << (i % 9));
                if (!KCHECK(p[i]))
                        return;
                memset(p[i], (int)i, 16 << (i % 9));
        }
        for (unsigned i = 0; i < ARRAY_SIZE(p); i++) {
                KCHECK_EQ((uint8_t)p[i][(16 << (i % 9)) - 1], i);
                kfree(p[i]);
        }
        KCHECK(kmalloc_check());
}

/* Wait (interrupts on) until timer_ticks reaches `until` or 2 s pass. */
static void wait_ticks(uint64_t until)
{
        uint64_t t0 = machine_uptime_us();

        intr_on();
        while (timer_ticks < until && machine_uptime_us() - t0 < 2000000)
                wfi();
        intr_off();
}

KTEST(rv_timer_ticks)
{
        wait_ticks(timer_ticks + 1);    /* a tick may have been pending */
        uint64_t start = timer_ticks, t0 = machine_uptime_us();
        wait_ticks(start + 2);
        uint64_t us = machine_uptime_us() - t0;
        KCHECK(timer_ticks >= start + 2);
        /* Two more ticks after one was seen take at least one period. */
        if (!KCHECK(us >= 1000000 / TICK_HZ * 9 / 10))
                pr_emerg("  %lu ticks in %lu us\n", timer_ticks - start, us);
}
