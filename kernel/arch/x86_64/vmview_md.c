/*
 * vmview_md.c - x86-64's part of the picture feed (vm/vm_view.h): the
 * summary of a space's four-level table tree, the kernel's virtual
 * layout, which frames hold the kernel image and the page descriptors,
 * and the feed port (kernel/arch/x86/vmview_com2.c: the second serial
 * port, shared with i386).
 */
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/vm_view.h>
#include "boot.h"
#include "pmap_md.h"
#include "pte.h"
#include <arch/pt/pt_view.h>

extern char _kernel_phys_start[], _kernel_phys_end[];
extern char _text_start[], _data_end[];

static const char *const level_names[] = { "", "PT", "PD", "PDPT", "PML4" };
static const unsigned per_table[] = { 0, PT_ENTRIES, PT_ENTRIES, PT_ENTRIES,
                                      PT_ENTRIES };
static const unsigned level_shift[] = { 0, 12, 21, 30, 39 };

/* The PML4 over its user half (entries 0-255), and every table below. */
void vm_view_pt_summary(struct pmap *pm, struct vm_pt_summary *out,
                        bool (*fn)(void *arg, const struct vm_pt_table *t),
                        void *arg)
{
        struct pt_view_walk w;

        pt_view_begin(&w, out, PT_LEVELS, level_names, per_table,
                      level_shift, fn, arg);
        pt_view_table(&w, pm->root, PT_LEVELS, 0, PT_ENTRIES / 2);
}

void vm_view_kernel_layout(void (*fn)(void *arg,
                                      const struct vm_layout_region *r),
                           void *arg)
{
        const struct vm_layout_region regions[] = {
                { "user", 0, USER_HALF_END },
                { "linear_map", LINEAR_BASE, LINEAR_BASE + LINEAR_SIZE },
                { "vmalloc", VMALLOC_BASE, VMALLOC_END },
                { "ioremap", IOREMAP_BASE, IOREMAP_END },
                { "kernel_image", (vaddr_t)_text_start,
                  page_round((vaddr_t)_data_end) },
        };

        for (size_t i = 0; i < ARRAY_SIZE(regions); i++)
                fn(arg, &regions[i]);
}

enum vm_frame_owner vm_view_machine_owner(paddr_t pa)
{
        paddr_t desc = virt_to_phys(pmm_pa_to_page(pmm_ram_base()));

        if (pa >= (paddr_t)_kernel_phys_start && pa < (paddr_t)_kernel_phys_end)
                return VF_KERNEL_IMAGE;
        if (pa >= desc && pa < desc + page_round(boot_info.page_array_bytes))
                return VF_PAGE_DESC;
        return VF_OTHER;
}
