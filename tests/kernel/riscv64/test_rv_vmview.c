/*
 * test_rv_vmview.c - Sv39's part of the picture feed (vmview_md.c): the
 * page-table summary of a process's user table has Sv39's three levels
 * with the tables a mapping needs, as a software walk finds them; the
 * kernel layout has the trampoline and the trap frame at the top of the
 * user half and an unmapped guard page under every kernel stack; the
 * tier's machine has no virtio console, so no feed port; and a whole
 * snapshot at the size the tier boots is uncut JSON counting every frame
 * (its cost is printed as "vmview cost:", as the x86-64 tier's
 * test_vmview.c does).
 */
#include <mercator/clock.h>
#include <mercator/ktest.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/procfs.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_view.h>
#include <vm/vmalloc.h>
#include "arch/riscv64/pmap_md.h"
#include "arch/riscv64/usermode.h"

#define FAR_VA  0x2000000000UL          /* root entry 128: its own L1 */

struct seen {
        unsigned n, per_level[4];
        bool far_l0;                    /* the L0 table that maps FAR_VA */
};

static bool note_table(void *arg, const struct vm_pt_table *t)
{
        struct seen *s = arg;

        s->n++;
        if (t->level <= 3)
                s->per_level[t->level]++;
        if (t->level == 1 && t->va == (FAR_VA & ~((2UL << 20) - 1)))
                s->far_l0 = true;
        return true;
}

KTEST(rv_vmview_sv39_tree)
{
        struct uctx u;
        struct vm_pt_summary sum;
        struct seen seen = { 0 };

        if (!KCHECK_EQ(uctx_create(&u), 0))
                return;
        if (!KCHECK(uctx_map_page(&u, FAR_VA, VM_PROT_RW))) {
                uctx_destroy(&u);
                return;
        }
        pmap_update(u.pm);
        vm_view_pt_summary(u.pm, &sum, note_table, &seen);
        KCHECK_EQ(sum.levels, 3);
        KCHECK_EQ(sum.entries_per_table, 512);
        KCHECK(sum.level_name[3] && !strcmp(sum.level_name[3], "L2"));
        KCHECK(sum.level_name[1] && !strcmp(sum.level_name[1], "L0"));
        /* The root; an L1 and L0 for FAR_VA, an L1 and L0 for the trap
         * frame and trampoline (root entry 255, one 2 MiB stretch). */
        KCHECK_EQ(sum.tables[3], 1);
        KCHECK_EQ(sum.entries[3], 2);
        KCHECK_EQ(sum.tables[2], 2);
        KCHECK_EQ(sum.tables[1], 2);
        KCHECK_EQ(sum.entries[1], 3);   /* FAR_VA, TRAPFRAME, TRAMPOLINE */
        KCHECK_EQ(sum.large_leaves[1] + sum.large_leaves[2] +
                  sum.large_leaves[3], 0);
        KCHECK_EQ(seen.n, 5);
        KCHECK(seen.far_l0);
        uctx_destroy(&u);
}

struct layout {
        const char *name[96];
        vaddr_t start[96], end[96];
        unsigned n;
};

static void note_region(void *arg, const struct vm_layout_region *r)
{
        struct layout *l = arg;

        if (l->n < 96) {
                l->name[l->n] = r->name;
                l->start[l->n] = r->start;
                l->end[l->n] = r->end;
        }
        l->n++;
}

KTEST(rv_vmview_layout_as_xv6)
{
        static struct layout l;
        void *stack = kstack_alloc();
        unsigned stacks = 0, mine = 0;
        bool tramp = false, tf = false;

        if (!KCHECK(stack))
                return;
        l.n = 0;
        vm_view_kernel_layout(note_region, &l);
        KCHECK(l.n > 0 && l.n <= 96);
        for (unsigned i = 0; i < l.n && i < 96; i++) {
                if (i > 0)
                        KCHECK(l.start[i] >= l.end[i - 1]);     /* in order */
                if (!strcmp(l.name[i], "trampoline"))
                        tramp = l.start[i] == TRAMPOLINE &&
                                l.end[i] == TRAMPOLINE + PAGE_SIZE;
                if (!strcmp(l.name[i], "trap_frame"))
                        tf = l.start[i] == TRAPFRAME &&
                             l.end[i] == TRAPFRAME + PAGE_SIZE;
                if (strcmp(l.name[i], "kernel_stack"))
                        continue;
                stacks++;
                mine += l.start[i] == (vaddr_t)stack;
                /* The guard right under it, one page, and unmapped. */
                if (KCHECK(i > 0) && KCHECK(!strcmp(l.name[i - 1], "guard"))) {
                        KCHECK_EQ(l.end[i - 1], l.start[i]);
                        KCHECK_EQ(l.end[i - 1] - l.start[i - 1], PAGE_SIZE);
                        KCHECK(!pmap_extract(pmap_kernel(), l.start[i - 1],
                                             NULL, NULL, NULL));
                }
        }
        KCHECK(tramp);
        KCHECK(tf);
        KCHECK(stacks >= 1);
        KCHECK_EQ(mine, 1);
        kstack_free(stack);
}

KTEST(rv_vmview_snapshot)
{
        struct text t = { .size = proc_vmview_text_size() };
        char want[48];
        uint64_t t0, ns;

        /* The test tier's machine has no virtio console: eight empty
         * virtio-mmio transports, none of them a console. */
        KCHECK(!vm_view_feed_write("", 0));
        t.buf = vmalloc(t.size);
        if (!KCHECK(t.buf))
                return;
        t.buf[0] = 0;
        t0 = clock_monotonic_ns();
        proc_vmview(&t, NULL);
        ns = clock_monotonic_ns() - t0;
        KCHECK(t.len > 2 && t.len < t.size);
        KCHECK(t.len > 2 && !strcmp(t.buf + t.len - 2, "}\n"));
        KCHECK(strstr(t.buf, "\"truncated\":false") != NULL);
        KCHECK(strstr(t.buf, "{\"name\":\"trampoline\",\"start\":"
                      "\"0x3ffffff000\"") != NULL);
        ksnprintf(want, sizeof want, "\"frames_total\":%lu,",
                  (unsigned long)pmm_npages());
        KCHECK(strstr(t.buf, want) != NULL);
        printk(LOG_EMERG, "vmview cost: %lu frames, %lu bytes of JSON, "
               "%lu us\n", (unsigned long)pmm_npages(), (unsigned long)t.len,
               (unsigned long)(ns / 1000));
        vfree(t.buf);
}
