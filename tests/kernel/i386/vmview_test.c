/*
 * vmview_test.c (i386) - the 3G/1G machine's part of the picture feed
 * (kernel/arch/i386/vmview_md.c), in each i386 configuration the tier
 * boots (2-level at 64M and 3G, PAE at 6G):
 *   - a space's tree has the levels the CPU walks (PD, PT; PAE: PDPT, PD,
 *     PT) with their entry counts and spans; the tables it lists are the
 *     ones a software walk of the directory finds, and, with the space
 *     loaded, the leaf table the feed names is the one the recursive slot
 *     shows at RECURSIVE_PT(n);
 *   - the kernel layout is Linux's 3G/1G map in order, without overlaps:
 *     low memory up to lowmem_end, the kernel image in it, kernel stacks
 *     with unmapped guards in vmalloc, and the kmap window, the
 *     kmap_atomic slots and the recursive slot where kmap(), kmap_atomic()
 *     and the recursive mapping really put their pages;
 *   - a whole snapshot is uncut JSON counting every frame, with the three
 *     zones (its cost printed as "vmview cost:").
 */
#include <mercator/clock.h>
#include <mercator/ktest.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/procfs.h>
#include <machine/fixmap.h>
#include <machine/highmem.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_space.h>
#include <vm/vm_view.h>
#include <vm/vmalloc.h>
#include "../../../kernel/arch/i386/cpu.h"
#include "../../../kernel/arch/i386/pmap_md.h"

/* Two pages under different directory entries (and, with PAE, in
 * different directories: 0x10000000 in the first GiB, 0x80000000 in the
 * third). */
#define VA_A    0x10000000u
#define VA_B    0x80000000u

struct seen {
        unsigned n, per_level[4];
        paddr_t leaf_a, leaf_b;         /* the level-1 tables over A, B */
        bool order_ok;                  /* parents before children */
        unsigned last_level;
};

static bool note_table(void *arg, const struct vm_pt_table *t)
{
        struct seen *s = arg;

        s->n++;
        if (t->level <= 3)
                s->per_level[t->level]++;
        if (s->n == 1)
                s->order_ok = t->level == (NR_SELF > 1 ? 3 : 2);
        if (t->level == 1 && t->va == (VA_A & ~((1u << PD_SHIFT) - 1)))
                s->leaf_a = t->pa;
        if (t->level == 1 && t->va == (VA_B & ~((1u << PD_SHIFT) - 1)))
                s->leaf_b = t->pa;
        s->last_level = t->level;
        return true;
}

KTEST(i386_vmview_tree)
{
        struct vm_space *s = NULL;
        struct vm_pt_summary sum;
        struct seen seen = { 0 };
        vaddr_t va;

        if (!KCHECK_EQ(vm_space_create(&s), VM_OK))
                return;
        for (unsigned i = 0; i < 2; i++) {
                vaddr_t u = i ? VA_B : VA_A;
                KCHECK_EQ(vm_space_map(s, u, 2 * PAGE_SIZE,
                                       VM_PROT_READ | VM_PROT_WRITE,
                                       VM_MAP_PRIVATE | VM_MAP_FIXED, &va),
                          VM_OK);
                KCHECK_EQ(vm_fault(s, u, VM_PROT_WRITE), FAULT_RESOLVED);
                KCHECK_EQ(vm_fault(s, u + PAGE_SIZE, VM_PROT_WRITE),
                          FAULT_RESOLVED);
        }
        struct pmap *pm = vm_space_pmap(s);
        const pte_t *pd = pmap_pd(pm);
        vm_view_pt_summary(pm, &sum, note_table, &seen);

        KCHECK_EQ(sum.entries_per_table, PT_ENTRIES);
        KCHECK_EQ(sum.per_table[1], PT_ENTRIES);
        KCHECK_EQ(sum.shift[1], 12);
        KCHECK(sum.level_name[1] && !strcmp(sum.level_name[1], "PT"));
        KCHECK(sum.level_name[2] && !strcmp(sum.level_name[2], "PD"));
#ifdef I386_PAE
        KCHECK_EQ(sum.levels, 3);
        KCHECK(sum.level_name[3] && !strcmp(sum.level_name[3], "PDPT"));
        KCHECK_EQ(sum.per_table[3], 4);
        KCHECK_EQ(sum.shift[3], 30);
        KCHECK_EQ(sum.per_table[2], 512);
        KCHECK_EQ(sum.shift[2], 21);
        /* The PDPT's three user entries (the directories are made with
         * the space), the three user directories, one table under each
         * of A and B. */
        KCHECK_EQ(sum.tables[3], 1);
        KCHECK_EQ(sum.entries[3], 3);
        KCHECK_EQ(sum.tables[2], 3);
        KCHECK_EQ(sum.entries[2], 2);
        KCHECK_EQ(seen.per_level[3], 1);
        KCHECK_EQ(seen.per_level[2], 3);
#else
        KCHECK_EQ(sum.levels, 2);
        KCHECK_EQ(sum.per_table[2], 1024);
        KCHECK_EQ(sum.shift[2], 22);
        KCHECK_EQ(sum.tables[2], 1);
        KCHECK_EQ(sum.entries[2], 2);
        KCHECK_EQ(seen.per_level[2], 1);
#endif
        KCHECK_EQ(sum.tables[1], 2);
        KCHECK_EQ(sum.entries[1], 4);
        KCHECK_EQ(sum.large_leaves[1] + sum.large_leaves[2] +
                  sum.large_leaves[3], 0);
        KCHECK_EQ(seen.per_level[1], 2);
        KCHECK(seen.order_ok);
        KCHECK_EQ(seen.last_level, 1);

        /* The software walk of the directory array names the same leaf
         * tables (the kernel half is not the process's tree). */
        KCHECK_EQ(seen.leaf_a, pte_table_pa(pd[PD_INDEX(VA_A)]));
        KCHECK_EQ(seen.leaf_b, pte_table_pa(pd[PD_INDEX(VA_B)]));

        /* Loaded, the recursive slot shows the feed's table for A at
         * RECURSIVE_PT(PD_INDEX(A)): its entries are the table's. */
        const pte_t *leaf = kmap_atomic(seen.leaf_a);   /* maybe high */
        pte_t want0 = leaf[PT_INDEX(VA_A)], want1 = leaf[PT_INDEX(VA_A) + 1];
        kunmap_atomic((void *)leaf);
        pmap_activate(pm);
        pte_t got0 = RECURSIVE_PT(PD_INDEX(VA_A))[PT_INDEX(VA_A)];
        pte_t got1 = RECURSIVE_PT(PD_INDEX(VA_A))[PT_INDEX(VA_A) + 1];
        pte_t self = RECURSIVE_PD[PD_INDEX(VA_A)];
        pmap_activate(pmap_kernel());
        KCHECK(pte_present(want0) && pte_present(want1));
        KCHECK_EQ(got0 & ~(pte_t)(PTE_A | PTE_D), want0 & ~(pte_t)(PTE_A | PTE_D));
        KCHECK_EQ(got1 & ~(pte_t)(PTE_A | PTE_D), want1 & ~(pte_t)(PTE_A | PTE_D));
        KCHECK_EQ(pte_table_pa(self), seen.leaf_a);
        vm_space_destroy(s);
}

#define MAX_REGIONS     96

struct layout {
        const char *name[MAX_REGIONS];
        uint64_t start[MAX_REGIONS], end[MAX_REGIONS];
        unsigned n;
};

static void note_region(void *arg, const struct vm_layout_region *r)
{
        struct layout *l = arg;

        if (l->n < MAX_REGIONS) {
                l->name[l->n] = r->name;
                l->start[l->n] = r->start;
                l->end[l->n] = r->end;
        }
        l->n++;
}

/* The region of l holding va, or -1. */
static int region_of(const struct layout *l, uint64_t va)
{
        for (unsigned i = 0; i < l->n && i < MAX_REGIONS; i++)
                if (va >= l->start[i] && va < l->end[i])
                        return (int)i;
        return -1;
}

static bool named(const struct layout *l, int i, const char *name)
{
        return i >= 0 && !strcmp(l->name[i], name);
}

KTEST(i386_vmview_layout_3g1g)
{
        static struct layout l;
        void *stack = kstack_alloc();
        struct vm_page *hp = pmm_alloc_pages(0, PMM_HIGHMEM);
        unsigned stacks = 0, mine = 0;
        uint64_t lowmem_top = 0;

        if (!KCHECK(stack && hp))
                return;
        l.n = 0;
        vm_view_kernel_layout(note_region, &l);
        KCHECK(l.n > 0 && l.n <= MAX_REGIONS);
        for (unsigned i = 0; i < l.n && i < MAX_REGIONS; i++) {
                KCHECK(l.start[i] < l.end[i]);
                if (i > 0)
                        KCHECK(l.start[i] >= l.end[i - 1]);     /* in order */
                if (!strcmp(l.name[i], "lowmem"))
                        lowmem_top = l.end[i];
                if (strcmp(l.name[i], "kernel_stack"))
                        continue;
                stacks++;
                mine += l.start[i] == (vaddr_t)stack;
                if (KCHECK(i > 0) && KCHECK(!strcmp(l.name[i - 1], "guard"))) {
                        KCHECK_EQ(l.end[i - 1], l.start[i]);
                        KCHECK_EQ(l.end[i - 1] - l.start[i - 1], PAGE_SIZE);
                        KCHECK(!pmap_extract(pmap_kernel(),
                                             (vaddr_t)l.start[i - 1],
                                             NULL, NULL, NULL));
                }
        }
        KCHECK(stacks >= 1);
        KCHECK_EQ(mine, 1);
        KCHECK(named(&l, 0, "user") && l.start[0] == 0 &&
               l.end[0] == USER_MAX);
        KCHECK(named(&l, (int)l.n - 1, "recursive") &&
               l.start[l.n - 1] == RECURSIVE_BASE &&
               l.end[l.n - 1] == 1ULL << 32);
        KCHECK_EQ(lowmem_top, PAGE_OFFSET + (uint64_t)lowmem_end);
        KCHECK(named(&l, region_of(&l, (vaddr_t)proc_vmview),
                     "kernel_image"));
        KCHECK(named(&l, region_of(&l, (vaddr_t)stack - 1), "guard"));
        /* Where the machine really puts things. The directory, through the
         * recursive slot; a high page through kmap (the window) and
         * kmap_atomic (this CPU's fixmap slots); the local APIC's page. */
        KCHECK(named(&l, region_of(&l, (vaddr_t)RECURSIVE_PD), "recursive"));
        KCHECK(named(&l, region_of(&l, fix_to_virt(FIX_APIC_BASE)),
                     "fixmap_devices"));
        paddr_t pa = pmm_page_to_pa(hp);
        void *k = kmap(pa), *a = kmap_atomic(pa);
        if (KCHECK(k && a)) {
                const char *want_k = pa_is_lowmem(pa) ? "lowmem" : "pkmap";
                const char *want_a = pa_is_lowmem(pa) ? "lowmem"
                                                      : "kmap_atomic";
                KCHECK(named(&l, region_of(&l, (vaddr_t)k), want_k));
                KCHECK(named(&l, region_of(&l, (vaddr_t)a), want_a));
        }
        kunmap_atomic(a);
        kunmap(pa);
        pmm_free_pages(hp, 0);
        kstack_free(stack);
}

KTEST(i386_vmview_snapshot)
{
        struct text t = { .size = proc_vmview_text_size() };
        struct pmm_zone_stats hs;
        char want[80];
        uint64_t t0, ns;

        /* The tier's QEMU has one serial port: no feed port. */
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
        ksnprintf(want, sizeof want, "{\"name\":\"recursive\",\"start\":"
                  "\"%#lx\",\"end\":\"0x100000000\"}",
                  (unsigned long)RECURSIVE_BASE);
        KCHECK(strstr(t.buf, want) != NULL);
        ksnprintf(want, sizeof want, "\"frames_total\":%lu,",
                  (unsigned long)pmm_npages());
        KCHECK(strstr(t.buf, want) != NULL);
        KCHECK(strstr(t.buf, "\"name\":\"DMA\"") != NULL);
        KCHECK(strstr(t.buf, "\"name\":\"Normal\"") != NULL);
        /* HIGHMEM starts at the low-memory limit, and has every frame
         * the allocator counts there (none at 64M). */
        pmm_zone_stats(ZONE_HIGHMEM, &hs);
        ksnprintf(want, sizeof want, "\"name\":\"HighMem\",\"start_pfn\":"
                  "%lu,", (unsigned long)(LOWMEM_LIMIT >> PAGE_SHIFT));
        const char *hm = strstr(t.buf, want);
        KCHECK(hm != NULL);
        ksnprintf(want, sizeof want, "\"present\":%lu,",
                  (unsigned long)hs.present);
        KCHECK(hm && strstr(hm, want) != NULL);
        printk(LOG_EMERG, "vmview cost: %lu frames, %lu bytes of JSON, "
               "%lu us\n", (unsigned long)pmm_npages(), (unsigned long)t.len,
               (unsigned long)(ns / 1000));
        vfree(t.buf);
}
