/*
 * vmview_md.c (i386) - the 3G/1G machine's part of the picture feed
 * (vm/vm_view.h); the feed port is COM2 as on x86-64
 * (kernel/arch/x86/vmview_com2.c).
 *
 * The tree, as the CPU walks it (the table engine's own view of PAE is
 * flatter, pte.h):
 *   2-level: the directory "PD" (1024 entries of 4 MiB, its user half the
 *            first 768, below PAGE_OFFSET; a PS entry is a 4 MiB leaf)
 *            over page tables "PT" (1024 entries of 4 KiB);
 *   PAE:     the "PDPT" (4 entries of 1 GiB, the first 3 for user space)
 *            over the directories "PD" (512 entries of 2 MiB; PS: a 2 MiB
 *            leaf) over the page tables "PT" (512 entries of 4 KiB).
 * The kernel's entries (from PAGE_OFFSET up, the recursive slot among
 * them) are the same in every space and are not part of a process's tree.
 *
 * The layout, low to high, as seed 003 and LunaixOS draw it: user space
 * up to 3 GiB; low memory ("lowmem", mapped linearly from PAGE_OFFSET)
 * with the kernel image inside it; after an 8 MiB gap vmalloc, cut at each
 * kernel stack and its guard page; ioremap; the persistent kmap window
 * ("pkmap"); the fixmap, drawn as its unused part, the kmap_atomic slots
 * and the fixed device pages (local APIC, I/O APIC, the hole at its top);
 * and the recursive slot up to 4 GiB.
 */
#include <mercator/string.h>
#include <machine/fixmap.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/vm_view.h>
#include "boot.h"
#include "pmap_md.h"
#include "pte.h"
#include "ptmap.h"
#include <arch/pt/pt_view.h>

extern char _text_start[], _kernel_end[];

#ifdef I386_PAE
#define VIEW_LEVELS     3
static const char *const level_names[] = { "", "PT", "PD", "PDPT" };
static const unsigned per_table[] = { 0, PT_ENTRIES, PT_ENTRIES, 4 };
static const unsigned level_shift[] = { 0, PAGE_SHIFT, PD_SHIFT, 30 };
#else
#define VIEW_LEVELS     2
static const char *const level_names[] = { "", "PT", "PD" };
static const unsigned per_table[] = { 0, PT_ENTRIES, PD_ENTRIES };
static const unsigned level_shift[] = { 0, PAGE_SHIFT, PD_SHIFT };
#endif

void vm_view_pt_summary(struct pmap *pm, struct vm_pt_summary *out,
                        bool (*fn)(void *arg, const struct vm_pt_table *t),
                        void *arg)
{
        struct pt_view_walk w;

        pt_view_begin(&w, out, VIEW_LEVELS, level_names, per_table,
                      level_shift, fn, arg);
#ifdef I386_PAE
        /* The PDPT (CR3's table): its user entries, then the directory
         * page each names (pmap.c keeps them in one block at pm->root). */
        const pte_t *pdpt = pt_table(pm->cr3);
        unsigned user = KERNEL_PDE_MIN / PT_ENTRIES;            /* 3 */
        struct vm_pt_table top = { .level = 3, .va = 0, .pa = pm->cr3 };

        for (unsigned i = 0; i < user; i++)
                top.entries += pte_present(pdpt[i]);
        pt_view_note(&w, &top);
        for (unsigned i = 0; i < user; i++)
                if (pte_present(pdpt[i]))
                        pt_view_table(&w, pte_table_pa(pdpt[i]), 2,
                                      (vaddr_t)i << 30, PT_ENTRIES);
#else
        pt_view_table(&w, pm->root, 2, 0, KERNEL_PDE_MIN);
#endif
}

void vm_view_kernel_layout(void (*fn)(void *arg,
                                      const struct vm_layout_region *r),
                           void *arg)
{
        uint64_t image = (vaddr_t)_text_start;
        uint64_t image_end = page_round((vaddr_t)_kernel_end);
        uint64_t kmap_lo = fix_to_virt(FIX_KMAP_END);
        uint64_t kmap_hi = fix_to_virt(FIX_KMAP_BEGIN) + PAGE_SIZE;
        const struct vm_layout_region low[] = {
                { "user", 0, USER_MAX },
                { "lowmem", PAGE_OFFSET, image },
                { "kernel_image", image, image_end },
                { "lowmem", image_end, PAGE_OFFSET + (uint64_t)lowmem_end },
        };
        const struct vm_layout_region high[] = {
                { "ioremap", IOREMAP_BASE, IOREMAP_END },
                { "pkmap", PKMAP_BASE,
                  PKMAP_BASE + (uint64_t)LAST_PKMAP * PAGE_SIZE },
                { "fixmap", FIXADDR_START, kmap_lo },
                { "kmap_atomic", kmap_lo, kmap_hi },
                { "fixmap_devices", kmap_hi, FIXADDR_END },
                { "recursive", RECURSIVE_BASE, 1ULL << 32 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(low); i++)
                fn(arg, &low[i]);
        vm_view_layout_vmalloc(fn, arg, VMALLOC_BASE, VMALLOC_END);
        for (size_t i = 0; i < ARRAY_SIZE(high); i++)
                fn(arg, &high[i]);
}

enum vm_frame_owner vm_view_machine_owner(paddr_t pa)
{
        paddr_t desc = virt_to_phys(pmm_pa_to_page(pmm_ram_base()));

        if (pa >= virt_to_phys(_text_start) && pa < virt_to_phys(_kernel_end))
                return VF_KERNEL_IMAGE;
        if (pa >= desc && pa < desc + page_round(boot_info.page_array_bytes))
                return VF_PAGE_DESC;
        return VF_OTHER;
}
