/*
 * boot_tables.c - the kernel's final page tables, and questions about its layout.
 *
 * boot_map_kernel() maps, into pmap_kernel():
 *   - the linear map: every RAM range of the firmware's map at
 *     LINEAR_BASE + pa, read-write, no-exec, global, with the largest pages
 *     that fit; the kernel image's own frames there are read-only, so the
 *     alias cannot be used to patch kernel text or rodata;
 *   - the kernel image at KERNEL_BASE + pa with 4 KiB pages and W^X:
 *     text read+exec, rodata read-only, data and bss read-write no-exec,
 *     leaving each stack's guard page unmapped;
 * and nothing at low addresses: loading these tables removes boot.S's
 * identity map (CONCEPTS B8).
 */
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include "boot.h"
#include "cpu.h"
#include "mmu.h"

extern char _kernel_phys_start[], _kernel_phys_end[];
extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[];
extern char boot_stack_guard[], df_stack_guard[], nmi_stack_guard[];

static const struct {
        const char *name;
        char       *page;
} image_guards[] = {
        { "the boot stack", boot_stack_guard },
        { "the double-fault stack", df_stack_guard },
        { "the NMI stack", nmi_stack_guard },
};

/* Which stack's or area's guard page holds va, if any (fault reports). */
const char *kernel_guard_owner(vaddr_t va)
{
        vaddr_t area;

        for (unsigned i = 0; i < ARRAY_SIZE(image_guards); i++)
                if (page_trunc(va) == (vaddr_t)image_guards[i].page)
                        return image_guards[i].name;
        if (kstack_guard_hit(va))
                return "a kernel stack";
        if (vmalloc_is_guard(va, &area))
                return "a vmalloc area";
        return NULL;
}

static paddr_t kimg_pa(const char *va)
{
        return (paddr_t)((vaddr_t)va - KERNEL_BASE);
}

static void map_or_die(vm_status_t st, const char *what)
{
        if (st != VM_OK)
                panic("boot: cannot map %s: %s", what, vm_status_name(st));
}

/* Linear-map [base, end), except the kernel image's frames, which get a
 * read-only alias. */
static void map_linear_range(paddr_t base, paddr_t end)
{
        struct pmap *pm = pmap_kernel();
        paddr_t ks = kimg_pa(_text_start), ke = (paddr_t)_kernel_phys_end;
        paddr_t cut[4] = { base, MAX(base, MIN(ks, end)),
                           MIN(end, MAX(ke, base)), end };

        for (int i = 0; i < 3; i++) {
                if (cut[i] >= cut[i + 1])
                        continue;
                vm_prot_t prot = i == 1 ? VM_PROT_READ : VM_PROT_RW;
                map_or_die(pmap_enter_range(pm, LINEAR_BASE + cut[i], cut[i],
                                            cut[i + 1] - cut[i], prot,
                                            PMAP_GLOBAL), "the linear map");
        }
}

static void map_linear(void)
{
        for (unsigned i = 0; i < boot_info.nfw; i++) {
                const struct mem_range *r = &boot_info.fw[i];
                if (r->type != MEM_USABLE && r->type != MEM_ACPI_RECLAIM &&
                    r->type != MEM_ACPI_NVS)
                        continue;
                paddr_t base = page_trunc(r->base);
                paddr_t end = page_round(r->base + r->len);
                map_linear_range(base, end);
        }
}

static void map_image_part(const char *start, const char *end, vm_prot_t prot)
{
        for (const char *va = start; va < end; va += PAGE_SIZE) {
                if (kernel_guard_owner((vaddr_t)va))
                        continue;
                map_or_die(pmap_enter(pmap_kernel(), (vaddr_t)va, kimg_pa(va),
                                      prot, PMAP_GLOBAL), "the kernel image");
        }
}

void boot_map_kernel(void)
{
        map_or_die(pmap_bootstrap(boot_info.ram_end), "the kernel's tables");
        map_linear();
        map_image_part(_text_start, _text_end, VM_PROT_READ | VM_PROT_EXEC);
        map_image_part(_rodata_start, _rodata_end, VM_PROT_READ);
        map_image_part(_data_start, _data_end, VM_PROT_RW);
        pmap_activate(pmap_kernel());
        write_cr4(read_cr4() | CR4_PGE);
}

static void layout_line(const char *name, uint64_t start, uint64_t end,
                        const char *what)
{
        uint64_t size = end - start;
        const char *unit = "KiB";

        if (size >= (1UL << 60)) { size >>= 60; unit = "EiB"; }
        else if (size >= (1UL << 40)) { size >>= 40; unit = "TiB"; }
        else if (size >= GiB) { size >>= 30; unit = "GiB"; }
        else if (size >= MiB) { size >>= 20; unit = "MiB"; }
        else { size >>= 10; }
        pr_info("  %-11s %016lx - %016lx %6lu %s  %s\n", name, start, end - 1,
                size, unit, what);
}

void machine_print_layout(void)
{
        pr_info("Virtual memory layout:\n");
        layout_line("user", 0, USER_MAX + PAGE_SIZE, "private to each process");
        layout_line("(hole)", USER_MAX + PAGE_SIZE, LINEAR_BASE,
                    "non-canonical: any access faults");
        layout_line("linear map", LINEAR_BASE, LINEAR_BASE + boot_info.ram_end,
                    "all RAM at pa + 0xffff800000000000");
        layout_line("vmalloc", VMALLOC_BASE, VMALLOC_END,
                    "vmalloc areas and kernel stacks");
        layout_line("ioremap", IOREMAP_BASE, IOREMAP_END, "device memory");
        layout_line("kernel", (uint64_t)_text_start, (uint64_t)_data_end,
                    "the image, loaded at 1 MiB");
        layout_line("  .text", (uint64_t)_text_start, (uint64_t)_text_end, "r-x");
        layout_line("  .rodata", (uint64_t)_rodata_start,
                    (uint64_t)_rodata_end, "r--");
        layout_line("  .data/.bss", (uint64_t)_data_start, (uint64_t)_data_end,
                    "rw-");
}

/* isa-debug-exit makes QEMU exit with (status << 1) | 1; without that
 * device, fall back to the ACPI power-off ports of QEMU's PC machines. */
void machine_poweroff(int status)
{
        outl(0xf4, (uint32_t)status);
        outw(0x604, 0x2000);
        outw(0xb004, 0x2000);
        cpu_stop();
}
