/*
 * vmview_md.c (riscv64) - Sv39's part of the picture feed (vm/vm_view.h):
 * the summary of a process's three-level table tree, the kernel's virtual
 * layout as xv6's picture draws it, which frames hold the kernel image and
 * the page descriptors, and the feed port.
 *
 * The tree: the user table (pmap->root, what satp holds in user mode),
 * root entries 0-255 (the user half, which the kernel table shares), so
 * the trap frame and the trampoline at the top of the user half are in it.
 * Levels are named as the privileged spec and pagewalk.c name them: L2 the
 * root, L1 (its leaves are 2 MiB megapages), L0 (4 KiB pages); a leaf in
 * the root would be a 1 GiB gigapage.
 *
 * The layout, high addresses first: the kernel image, ioremap, vmalloc
 * cut at each kernel stack and the unmapped guard page under it, the
 * linear map; then, in the user half, the trampoline, the trap frame, the
 * SIGCODE page and the user space below them.
 *
 * The feed port: QEMU's virt board has one UART, the console, so the feed
 * goes to a virtio console (virtio_console.c) that tools/vmview plugs in
 * and connects to its feed file. Without one there is no feed port.
 */
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/vm_view.h>
#include "boot.h"
#include "pmap_md.h"
#include "pte.h"
#include <arch/pt/pt_view.h>
#include "riscv.h"
#include "virtio_console.h"

extern char _kernel_start[], _bss_end[];

static const char *const level_names[] = { "", "L0", "L1", "L2" };
static const unsigned per_table[] = { 0, PT_ENTRIES, PT_ENTRIES, PT_ENTRIES };
static const unsigned level_shift[] = { 0, 12, 21, 30 };

/* The user table's root over its user half (entries 0-255), and below. */
void vm_view_pt_summary(struct pmap *pm, struct vm_pt_summary *out,
                        bool (*fn)(void *arg, const struct vm_pt_table *t),
                        void *arg)
{
        struct pt_view_walk w;

        pt_view_begin(&w, out, PT_LEVELS, level_names, per_table,
                      level_shift, fn, arg);
        pt_view_table(&w, pm->root, PT_LEVELS, 0, PT_ENTRIES / 2);
}

/* ---- the kernel's virtual layout ---------------------------------------- */

void vm_view_kernel_layout(void (*fn)(void *arg,
                                      const struct vm_layout_region *r),
                           void *arg)
{
        const struct vm_layout_region user[] = {
                { "user", 0, USER_MAX },
                { "sigcode", SIGCODE, SIGCODE + PAGE_SIZE },
                { "trap_frame", TRAPFRAME, TRAPFRAME + PAGE_SIZE },
                { "trampoline", TRAMPOLINE, TRAMPOLINE + PAGE_SIZE },
                { "linear_map", LINEAR_BASE, LINEAR_BASE + LINEAR_SIZE },
        };
        const struct vm_layout_region high[] = {
                { "ioremap", IOREMAP_BASE, IOREMAP_END },
                { "kernel_image", (vaddr_t)_kernel_start,
                  page_round((vaddr_t)_bss_end) },
        };

        for (size_t i = 0; i < ARRAY_SIZE(user); i++)
                fn(arg, &user[i]);
        /* vmalloc: a guard page under each kernel stack (kstack_alloc). */
        vm_view_layout_vmalloc(fn, arg, VMALLOC_BASE, VMALLOC_END);
        for (size_t i = 0; i < ARRAY_SIZE(high); i++)
                fn(arg, &high[i]);
}

enum vm_frame_owner vm_view_machine_owner(paddr_t pa)
{
        paddr_t image = kimg_virt_to_phys(_kernel_start);
        paddr_t desc = virt_to_phys(pmm_pa_to_page(pmm_ram_base()));

        if (pa >= image && pa < kimg_virt_to_phys(_bss_end))
                return VF_KERNEL_IMAGE;
        if (pa >= desc && pa < desc + page_round(boot_info.page_array_bytes))
                return VF_PAGE_DESC;
        return VF_OTHER;
}

/* ---- the feed port: a virtio console ------------------------------------ */

bool vm_view_feed_write(const char *s, size_t len)
{
        return virtio_console_write(s, len);
}
