/*
 * highmem_test.c (i386) - high memory through kmap and kmap_atomic, the
 * kmap window's wrap and lazy flush, and another address space built with
 * pgd_alloc whose page table lives in HIGHMEM, seen through the recursive
 * slot once it is loaded. At -m 64M there is no HIGHMEM: the same paths
 * then take their low-memory shortcuts, which the tests check instead.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/fixmap.h>
#include <machine/highmem.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include "../../../kernel/arch/i386/boot.h"
#include "../../../kernel/arch/i386/cpu.h"
#include "../../../kernel/arch/i386/pgdir.h"

static bool have_highmem(void)
{
        struct pmm_zone_stats st;

        pmm_zone_stats(ZONE_HIGHMEM, &st);
        return st.free > 2 * LAST_PKMAP;
}

static void fill(void *va, uint32_t seed)
{
        uint32_t *w = va;

        for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
                w[i] = seed + i * 2654435761u;
}

static bool holds(const void *va, uint32_t seed)
{
        const uint32_t *w = va;

        for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
                if (w[i] != seed + i * 2654435761u)
                        return false;
        return true;
}

/* A user page from HIGHMEM: written through kmap, read through
 * kmap_atomic, zeroed and copied by the page-content operations. */
KTEST(i386_highmem_page_kmap)
{
        struct vm_page *a = pmm_alloc_pages(0, PMM_HIGHMEM);
        struct vm_page *b = pmm_alloc_pages(0, PMM_HIGHMEM);

        if (!KCHECK(a && b))
                return;
        paddr_t pa = pmm_page_to_pa(a), pb = pmm_page_to_pa(b);
        if (have_highmem()) {
                KCHECK_EQ(a->zone, ZONE_HIGHMEM);
                KCHECK(!pa_is_lowmem(pa));
        }
        void *k = kmap(pa);
        if (!KCHECK(k))
                return;
        if (pa_is_lowmem(pa))
                KCHECK_EQ(k, phys_to_virt(pa));
        else
                KCHECK((vaddr_t)k >= PKMAP_BASE && (vaddr_t)k < FIXADDR_START);
        KCHECK_EQ(kmap(pa), k);                 /* mapped twice: same slot */
        kunmap(pa);
        fill(k, 0x1234);
        kunmap(pa);

        void *q = kmap_atomic(pa);
        KCHECK(holds(q, 0x1234));
        kunmap_atomic(q);
        pmap_copy_page(pa, pb);
        q = kmap_atomic(pb);
        KCHECK(holds(q, 0x1234));
        kunmap_atomic(q);
        pmap_zero_page(pa);
        q = kmap_atomic(pa);
        KCHECK(((uint32_t *)q)[0] == 0 && ((uint32_t *)q)[1023] == 0);
        kunmap_atomic(q);
        pmm_free_pages(a, 0);
        pmm_free_pages(b, 0);
}

/* kmap_atomic slots nest downwards in the fixmap, one per depth, and a
 * released slot faults. */
KTEST(i386_kmap_atomic_slots)
{
        struct vm_page *a = pmm_alloc_pages(0, PMM_HIGHMEM);
        struct vm_page *b = pmm_alloc_pages(0, PMM_HIGHMEM);
        struct fault_info fi;

        if (!KCHECK(a && b))
                return;
        KCHECK_EQ(fix_to_virt(FIX_HOLE), NR_SELF == 4 ? 0xff7ff000 : 0xffbff000);
        KCHECK_EQ(virt_to_fix(fix_to_virt(FIX_KMAP_END)), FIX_KMAP_END);
        if (!have_highmem()) {
                KCHECK_EQ(kmap_atomic(pmm_page_to_pa(a)),
                          phys_to_virt(pmm_page_to_pa(a)));
                goto out;
        }
        uint32_t *x = kmap_atomic(pmm_page_to_pa(a));
        uint32_t *y = kmap_atomic(pmm_page_to_pa(b));
        KCHECK_EQ((vaddr_t)x, fix_to_virt(FIX_KMAP_BEGIN));
        KCHECK_EQ((vaddr_t)y, fix_to_virt(FIX_KMAP_BEGIN + 1));
        x[0] = 0xaaaa5555;
        y[0] = 0x5555aaaa;
        struct kmap_stats st;
        kmap_get_stats(&st);
        KCHECK_EQ(st.atomic_depth, 2);
        kunmap_atomic(y);
        KCHECK(probe_read((vaddr_t)y, &fi));    /* released: not present */
        KCHECK_EQ(fi.addr, (vaddr_t)y);
        KCHECK(!probe_read((vaddr_t)x, &fi));
        KCHECK_EQ(x[0], 0xaaaa5555);
        kunmap_atomic(x);
        KCHECK(probe_read((vaddr_t)x, &fi));
        y = kmap_atomic(pmm_page_to_pa(b));     /* the slot is reused */
        KCHECK_EQ((vaddr_t)y, fix_to_virt(FIX_KMAP_BEGIN));
        KCHECK_EQ(y[0], 0x5555aaaa);
        kunmap_atomic(y);
out:
        pmm_free_pages(a, 0);
        pmm_free_pages(b, 0);
}

#define WRAP_PAGES (LAST_PKMAP + LAST_PKMAP / 2)

/*
 * The window: LAST_PKMAP pages held at once fill it (the next kmap is
 * refused); kmap/kunmap of 1.5 windows' worth of distinct pages wraps, and
 * each wrap clears the unused slots with one flush, after which a reused
 * slot shows its new page, never a stale translation.
 */
KTEST(i386_kmap_window_wrap)
{
        static struct vm_page *pages[WRAP_PAGES];
        static void *va[WRAP_PAGES];
        struct kmap_stats st0, st;
        unsigned n = 0;

        if (!have_highmem()) {
                struct vm_page *pg = pmm_alloc_pages(0, 0);
                if (KCHECK(pg))
                        KCHECK_EQ(kmap(pmm_page_to_pa(pg)),
                                  phys_to_virt(pmm_page_to_pa(pg)));
                if (pg)
                        pmm_free_pages(pg, 0);
                return;
        }
        for (; n < WRAP_PAGES; n++)
                if (!(pages[n] = pmm_alloc_pages(0, PMM_HIGHMEM)))
                        break;
        if (!KCHECK_EQ(n, WRAP_PAGES))
                goto out;
        kmap_get_stats(&st0);
        /* Hold as many as the window has free slots (the kernel keeps
         * some for good: the vDSO's [vvar] page), then one more. */
        unsigned held = 0;
        for (; held < LAST_PKMAP - st0.in_use; held++) {
                va[held] = kmap(pmm_page_to_pa(pages[held]));
                if (!va[held])
                        break;
                fill(va[held], held);
        }
        KCHECK_EQ(held, LAST_PKMAP - st0.in_use);
        KCHECK(!kmap(pmm_page_to_pa(pages[held])));     /* full: refused */
        kmap_get_stats(&st);
        KCHECK_EQ(st.window_full, st0.window_full + 1);
        KCHECK_EQ(st.in_use, LAST_PKMAP);
        for (unsigned i = 0; i < held; i++)
                kunmap(pmm_page_to_pa(pages[i]));
        /* Now one at a time through more than a window: every slot gets
         * reused for another page, so every wrap must flush. */
        for (unsigned i = held; i < WRAP_PAGES; i++) {
                uint32_t *p = kmap(pmm_page_to_pa(pages[i]));
                if (!KCHECK(p))
                        break;
                fill(p, i);
                kunmap(pmm_page_to_pa(pages[i]));
        }
        for (unsigned i = 0; i < WRAP_PAGES; i++) {
                void *p = kmap(pmm_page_to_pa(pages[i]));
                if (!KCHECK(p))
                        break;
                if (!KCHECK(holds(p, i)))
                        break;
                kunmap(pmm_page_to_pa(pages[i]));
        }
        kmap_get_stats(&st);
        KCHECK(st.flushes >= st0.flushes + 2);
        KCHECK_EQ(st.in_use, st0.in_use);
out:
        for (unsigned i = 0; i < n; i++)
                pmm_free_pages(pages[i], 0);
}

/*
 * seed 003's pgd_alloc (pmap_create) and seed 004's recursive slot
 * together: a new directory shares the kernel's entries, gets a page
 * table from HIGHMEM
 * (written through kmap_atomic while another directory is loaded) mapping
 * a HIGHMEM user page; once loaded, the user address reads that page, the
 * directory appears at 0xfffff000 and the table at 0xffc00000 | n << 12,
 * agreeing with a software walk. (This table is linked by hand, and
 * unlinked before the pmap maps the same page through the table engine,
 * whose table comes from HIGHMEM too when HIGHPTE is on: ptmap.h.)
 */
KTEST(i386_pgd_alloc_recursive)
{
        const vaddr_t uva = 0x08048000;
        const unsigned n = PD_INDEX(uva);
        struct pmap *pm = NULL;
        paddr_t cr3, got;
        pte_t *pd;
        struct vm_page *tpg = pmm_alloc_pages(0, PMM_HIGHMEM | PMM_ZERO);
        struct vm_page *upg = pmm_alloc_pages(0, PMM_HIGHMEM);

        if (!KCHECK_EQ(pmap_create(&pm), VM_OK) || !KCHECK(tpg && upg))
                return;
        pd = pmap_pd(pm);
        cr3 = pm->cr3;
        paddr_t tpa = pmm_page_to_pa(tpg), upa = pmm_page_to_pa(upg);
        if (have_highmem())
                KCHECK(tpg->zone == ZONE_HIGHMEM && upg->zone == ZONE_HIGHMEM);
        for (unsigned i = 0; i < KERNEL_PDE_MIN; i++)
                if (!KCHECK_EQ(pd[i], 0))
                        break;
        for (unsigned i = KERNEL_PDE_MIN; i < PD_SELF; i++)
                if (!KCHECK_EQ(pd[i], kernel_pd[i]))
                        break;
        for (unsigned j = 0; j < NR_SELF; j++)
                KCHECK_EQ(pd[PD_SELF + j] & PTE_ADDR,
                          virt_to_phys(pd) + j * PAGE_SIZE);

        void *u = kmap_atomic(upa);
        fill(u, 0xfeed);
        kunmap_atomic(u);
        pte_t *pt = kmap_atomic(tpa);
        pt[PT_INDEX(uva)] = (pte_t)upa | PTE_P | PTE_RW | PTE_US;
        kunmap_atomic(pt);
        pd[n] = (pte_t)tpa | PTE_P | PTE_RW | PTE_US;
        KCHECK_EQ(pgd_walk(pd, uva) & PTE_ADDR, upa);

        uint32_t old = read_cr3();
        write_cr3((uint32_t)cr3);
        bool reads = holds((const void *)uva, 0xfeed);
        pte_t rpd_self = RECURSIVE_PD[PD_SELF], rpd_n = RECURSIVE_PD[n];
        pte_t rpte = RECURSIVE_PT(n)[PT_INDEX(uva)];
        pte_t rkern = RECURSIVE_PD[KERNEL_PDE_MIN];
        write_cr3(old);

        KCHECK(reads);
        /* The walks through the slot set A in the entries they used. */
        KCHECK_EQ(rpd_self & ~(pte_t)PTE_A, pd[PD_SELF] & ~(pte_t)PTE_A);
        KCHECK_EQ(rpd_n, pd[n] | PTE_A);        /* the CPU's walk set A */
        KCHECK_EQ(rkern, kernel_pd[KERNEL_PDE_MIN]);
        KCHECK_EQ(rpte & PTE_ADDR, upa);
        KCHECK_EQ(rpte, pgd_walk(pd, uva));
        KCHECK(rpte & PTE_A);
        /* Back in the kernel's directory the slot shows kernel_pd again. */
        KCHECK_EQ(RECURSIVE_PD[n], 0);
        pd[n] = 0;
        pmm_free_pages(tpg, 0);

        /* The same page through the engine: a table from HIGHMEM when
         * HIGHPTE is on. */
        KCHECK_EQ(pmap_enter(pm, uva, upa, VM_PROT_READ | VM_PROT_WRITE,
                             PMAP_USER), VM_OK);
        KCHECK_EQ(pa_is_lowmem(pd[n] & PTE_ADDR),
                  !(have_highmem() && pmap_highpte));
        KCHECK_EQ(pgd_walk(pd, uva) & PTE_ADDR, upa);
        KCHECK(pmap_extract(pm, uva, &got, NULL, NULL) && got == upa);
        KCHECK(pmap_check(pm));
        write_cr3((uint32_t)cr3);
        reads = holds((const void *)uva, 0xfeed);
        write_cr3(old);
        KCHECK(reads);
        KCHECK_EQ(pmap_remove(pm, uva, uva + PAGE_SIZE), VM_OK);
        pmap_update(pm);
        KCHECK_EQ(pd[n], 0);            /* the emptied table was freed */
        pmap_destroy(pm);
        pmm_free_pages(upg, 0);
}

/*
 * The lazy flush, precisely: page A is read through its kmap slot (so the
 * TLB holds that translation), released, and nothing touches the slot
 * while other pages take the window round until B gets the same slot.
 * B must read as B: the wrap-around flush dropped A's translation. (Without
 * the flush this reads A's bytes, as tested by removing it.)
 */
KTEST(i386_kmap_lazy_flush)
{
        static struct vm_page *pages[LAST_PKMAP + 8];
        const unsigned n = ARRAY_SIZE(pages);
        unsigned got = 0;

        if (!have_highmem())
                return;         /* no HIGHMEM: kmap maps nothing */
        for (; got < n; got++)
                if (!(pages[got] = pmm_alloc_pages(0, PMM_HIGHMEM)))
                        break;
        if (!KCHECK_EQ(got, n))
                goto out;
        paddr_t a = pmm_page_to_pa(pages[0]), b = pmm_page_to_pa(pages[1]);
        uint32_t *p = kmap_atomic(a);
        p[0] = 0xaaaaaaaa;
        kunmap_atomic(p);
        p = kmap_atomic(b);
        p[0] = 0xbbbbbbbb;
        kunmap_atomic(p);

        /* First a wrap of the window, so that no page here still has a
         * slot from before the test: pages come back from the page
         * allocator's per-CPU lists last-freed first, maybe still mapped
         * from their last use, and kmap would give such a page its old
         * slot wherever it is. (A wrap is a flush: kmap_stats.) */
        struct kmap_stats st0, st;
        unsigned f = 3;
        kmap_get_stats(&st0);
        for (unsigned i = 0; i < 3 * LAST_PKMAP; i++) {
                paddr_t fp = pmm_page_to_pa(pages[f]);
                void *q = kmap(fp);
                if (!KCHECK(q))
                        goto out;
                kunmap(fp);
                kmap_get_stats(&st);
                if (st.flushes != st0.flushes)
                        break;
                if (++f == n)
                        f = 3;
        }
        /* D takes a slot, A the next free one: slot s. A slot someone
         * holds stays busy and is skipped the same way for B. */
        paddr_t d = pmm_page_to_pa(pages[2]);
        void *vd = kmap(d);
        if (!KCHECK(vd))
                goto out;
        kunmap(d);
        unsigned ds = pkmap_nr((vaddr_t)vd);

        volatile uint32_t *va = kmap(a);
        if (!KCHECK(va))
                goto out;
        unsigned s = pkmap_nr((vaddr_t)va);
        KCHECK_EQ(va[0], 0xaaaaaaaa);           /* now in the TLB */
        kunmap(a);

        /* Round the window until D's slot comes again (after the wrap,
         * or before it if the window wrapped between D and A). */
        bool wrapped = false;
        kmap_get_stats(&st0);
        for (unsigned i = 0; i < 3 * LAST_PKMAP; i++) {
                paddr_t fp = pmm_page_to_pa(pages[f]);
                void *q = kmap(fp);
                if (!KCHECK(q))
                        goto out;
                kunmap(fp);
                unsigned nr = pkmap_nr((vaddr_t)q);
                kmap_get_stats(&st);
                wrapped = st.flushes != st0.flushes;
                if ((wrapped || ds > s) && nr == ds)
                        break;
                if (++f == n)
                        f = 3;
        }
        volatile uint32_t *vb = kmap(b);
        KCHECK_EQ((vaddr_t)vb, (vaddr_t)va);
        if (vb)
                KCHECK_EQ(vb[0], 0xbbbbbbbb);
        kunmap(b);
out:
        for (unsigned i = 0; i < got; i++)
                pmm_free_pages(pages[i], 0);
}

/*
 * What reaching a page costs, in TSC cycles per operation (under TCG these
 * are emulation costs, to compare with each other, not with hardware):
 * a low-memory page through __va, a HIGHMEM page through kmap_atomic (an
 * entry write, then an invlpg on release), through kmap when the window
 * still maps it, and zeroing one page each way. Printed as "i386 cost:"
 * lines, which tools/test.py turns into notes.
 */
KTEST(i386_highmem_costs)
{
        struct vm_page *lo = pmm_alloc_pages(0, 0);
        struct vm_page *hi = pmm_alloc_pages(0, PMM_HIGHMEM);
        const unsigned n = 2000;

        if (!KCHECK(lo && hi))
                goto out;
        paddr_t lpa = pmm_page_to_pa(lo), hpa = pmm_page_to_pa(hi);
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < n; i++) {
                volatile uint32_t *p = kmap_atomic(lpa);
                p[0] = i;
                kunmap_atomic((void *)p);
        }
        uint64_t t1 = rdtsc();
        for (unsigned i = 0; i < n; i++) {
                volatile uint32_t *p = kmap_atomic(hpa);
                p[0] = i;
                kunmap_atomic((void *)p);
        }
        uint64_t t2 = rdtsc();
        for (unsigned i = 0; i < n; i++) {
                volatile uint32_t *p = kmap(hpa);
                if (p)
                        p[0] = i;
                kunmap(hpa);
        }
        uint64_t t3 = rdtsc();
        for (unsigned i = 0; i < n / 10; i++)
                pmap_zero_page(lpa);
        uint64_t t4 = rdtsc();
        for (unsigned i = 0; i < n / 10; i++)
                pmap_zero_page(hpa);
        uint64_t t5 = rdtsc();
        printk(LOG_EMERG, "i386 cost: page %s: __va touch %" PRIu64
               ", kmap_atomic touch %" PRIu64 ", kmap (still mapped) touch %"
               PRIu64 ", zero via __va %" PRIu64 ", zero via kmap_atomic %"
               PRIu64 " cycles\n", pa_is_lowmem(hpa) ? "(no HIGHMEM)" : "HIGHMEM",
               (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n, (t4 - t3) / (n / 10),
               (t5 - t4) / (n / 10));
out:
        if (lo)
                pmm_free_pages(lo, 0);
        if (hi)
                pmm_free_pages(hi, 0);
}

/*
 * PAE's point: frames above 4 GiB. Take HIGHMEM pages until one lies above
 * 4 GiB (the allocator hands out the highest zone's blocks in no fixed
 * order), then use it through kmap_atomic and kmap. Without PAE, or with no
 * RAM up there, the frames stay below the limit the tables can reach.
 */
KTEST(i386_frames_above_4g)
{
        static struct vm_page *held[4096];
        unsigned n = 0;
        struct vm_page *top = NULL;

        for (; n < ARRAY_SIZE(held) && !top; n++) {
                held[n] = pmm_alloc_pages(0, PMM_HIGHMEM);
                if (!held[n])
                        break;
                if (pmm_page_to_pa(held[n]) >= (4ULL << 30))
                        top = held[n];
        }
        if (boot_info.ram_end <= (4ULL << 30) || NR_SELF == 1) {
                KCHECK(!top);
                KCHECK(boot_info.ram_end <= PADDR_LIMIT);
        } else if (KCHECK(top)) {
                paddr_t pa = pmm_page_to_pa(top);
                uint32_t *p = kmap_atomic(pa);
                fill(p, 0x4000);
                kunmap_atomic(p);
                p = kmap(pa);
                if (KCHECK(p)) {
                        KCHECK(holds(p, 0x4000));
                        kunmap(pa);
                }
        }
        for (unsigned i = 0; i < n; i++)
                if (held[i])
                        pmm_free_pages(held[i], 0);
}
