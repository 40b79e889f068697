/*
 * vmview_md.c - x86-64's part of the picture feed (vm/vm_view.h): the
 * summary of a space's four-level table tree, the kernel's virtual
 * layout, which frames hold the kernel image and the page descriptors,
 * and the feed port, the second 16550 UART (COM2, port 0x2f8), which
 * QEMU connects with a second -serial option (tools/vmview).
 */
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/vm_view.h>
#include "boot.h"
#include "cpu.h"
#include "pmap_md.h"
#include "pte.h"

extern char _kernel_phys_start[], _kernel_phys_end[];
extern char _text_start[], _data_end[];

static const char *const level_names[] = { "", "PT", "PD", "PDPT", "PML4" };

struct pt_walk {
        struct vm_pt_summary *out;
        bool (*fn)(void *arg, const struct vm_pt_table *t);
        void *arg;
};

/* Count the table at pa (a level-`level` table translating from va) and
 * those below it; the top table only over its user half. */
static void count_table(struct pt_walk *w, paddr_t pa, unsigned level,
                        vaddr_t va)
{
        const pte_t *t = phys_to_virt(pa);
        unsigned n = level == PT_LEVELS ? PT_ENTRIES / 2 : PT_ENTRIES;
        struct vm_pt_table me = { .level = level, .va = va, .pa = pa };

        for (unsigned i = 0; i < n; i++) {
                if (!pte_present(t[i]))
                        continue;
                me.entries++;
                if (level > 1 && pte_is_leaf(t[i], level))
                        me.large_leaves++;
        }
        w->out->tables[level]++;
        w->out->entries[level] += me.entries;
        w->out->large_leaves[level] += me.large_leaves;
        if (w->fn && !w->fn(w->arg, &me))
                w->fn = NULL;           /* the caller has had enough */
        if (level == 1)
                return;
        for (unsigned i = 0; i < n; i++)
                if (pte_present(t[i]) && !pte_is_leaf(t[i], level))
                        count_table(w, pte_table_pa(t[i]), level - 1,
                                    va + i * pt_level_size(level));
}

void vm_view_pt_summary(struct pmap *pm, struct vm_pt_summary *out,
                        bool (*fn)(void *arg, const struct vm_pt_table *t),
                        void *arg)
{
        struct pt_walk w = { .out = out, .fn = fn, .arg = arg };

        memset(out, 0, sizeof *out);
        out->levels = PT_LEVELS;
        out->entries_per_table = PT_ENTRIES;
        for (unsigned l = 1; l <= PT_LEVELS; l++)
                out->level_name[l] = level_names[l];
        count_table(&w, pm->root, PT_LEVELS, 0);
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

#define COM2            0x2f8
#define UART_LSR        5
#define UART_SCRATCH    7
#define LSR_THR_EMPTY   0x20

/* 0: not probed yet, 1: present, -1: absent. */
static int com2_state;

static bool com2_present(void)
{
        if (!com2_state) {
                /* A missing UART reads back 0xff whatever is written. */
                outb(COM2 + UART_SCRATCH, 0x5a);
                bool a = inb(COM2 + UART_SCRATCH) == 0x5a;
                outb(COM2 + UART_SCRATCH, 0xa5);
                bool b = inb(COM2 + UART_SCRATCH) == 0xa5;
                com2_state = a && b ? 1 : -1;
                if (com2_state > 0) {
                        outb(COM2 + 1, 0x00);           /* no interrupts */
                        outb(COM2 + 3, 0x80);           /* DLAB */
                        outb(COM2 + 0, 1);              /* 115200 baud */
                        outb(COM2 + 1, 0);
                        outb(COM2 + 3, 0x03);           /* 8N1 */
                }
        }
        return com2_state > 0;
}

bool vm_view_feed_write(const char *s, size_t len)
{
        if (!com2_present())
                return false;
        for (size_t i = 0; i < len; i++) {
                while (!(inb(COM2 + UART_LSR) & LSR_THR_EMPTY))
                        cpu_relax();
                outb(COM2, (uint8_t)s[i]);
        }
        return true;
}
