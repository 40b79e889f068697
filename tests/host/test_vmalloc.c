/*
 * test_vmalloc.c - host tests of kernel/vm/vmalloc.c over simulated RAM,
 * the real x86-64 table code and the software MMU: vmalloc areas and their
 * guard pages, kernel stacks, ioremap, failure without leaks, and a
 * randomized sequence checked with vmalloc_check() after every step.
 *
 * vmalloc addresses are simulated kernel VAs, not host pointers: memory is
 * reached through pmap_extract() and phys_to_virt() of each page.
 */
#include "check.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <arch/host/softmmu.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>

#include <stdlib.h>
#include <string.h>

extern uint64_t vm_ptpage_fail_after;   /* kernel/vm/ptpage.c test hook */

/* What must come back after everything is freed. */
struct baseline {
        uint64_t free, pt_pages;
};

/* Fresh RAM, buddy allocator, heap, kernel pmap (loaded), empty regions. */
static void setup(uint64_t bytes)
{
        host_memory_setup(bytes);
        vm_ptpage_fail_after = 0;
        kmalloc_init(false);
        softmmu_reset();
        CHECK_EQ(pmap_bootstrap(bytes), VM_OK);
        pmap_activate(pmap_kernel());
        vmalloc_init();
}

static struct baseline baseline_now(void)
{
        kmalloc_shrink();       /* kept empty slabs are not a leak */
        return (struct baseline){ pmm_free_count(), vmstat.pt_pages };
}

/* Everything freed: pages, tables, counters, and all structures sound. */
static void check_baseline(struct baseline b)
{
        kmalloc_shrink();
        CHECK_EQ(vmstat.vmalloc_pages, 0);
        CHECK_EQ(vmstat.kstack_pages, 0);
        CHECK_EQ(vmstat.slab_pages, 0);
        CHECK_EQ(vmstat.pt_pages, b.pt_pages);
        CHECK_EQ(pmm_free_count(), b.free);
        CHECK(vmalloc_check());
        CHECK(kmalloc_check());
        CHECK(pmm_check());
        CHECK(pmap_check(pmap_kernel()));
}

static bool mapped(vaddr_t va)
{
        paddr_t pa;

        return pmap_extract(pmap_kernel(), va, &pa, NULL, NULL);
}

/* The host pointer behind simulated kernel VA va (must be mapped RAM). */
static uint8_t *kva_ptr(vaddr_t va)
{
        paddr_t pa = 0;

        CHECK(pmap_extract(pmap_kernel(), va, &pa, NULL, NULL));
        return phys_to_virt(pa);
}

static uint8_t pattern(uint64_t id, uint64_t i)
{
        return (uint8_t)(id * 37u + i * 11u + (i >> 12));
}

/* Write (or check) a pattern over [va, va + len), page by page through
 * the kernel pmap. */
static bool pattern_walk(vaddr_t va, uint64_t len, uint64_t id, bool write)
{
        for (uint64_t i = 0; i < len; ) {
                uint64_t n = MIN(len - i, PAGE_SIZE - ((va + i) & PAGE_MASK));
                uint8_t *p = kva_ptr(va + i);

                for (uint64_t k = 0; k < n; k++) {
                        if (write)
                                p[k] = pattern(id, i + k);
                        else if (p[k] != pattern(id, i + k))
                                return false;
                }
                i += n;
        }
        return true;
}

static void fill(vaddr_t va, uint64_t len, uint64_t id)
{
        pattern_walk(va, len, id, true);
}

static bool verify(vaddr_t va, uint64_t len, uint64_t id)
{
        return pattern_walk(va, len, id, false);
}

static enum softmmu_result translate(vaddr_t va, unsigned access, bool user)
{
        paddr_t pa;

        return softmmu_translate(pmap_kernel(), va, access, user, &pa);
}

/* --- vmalloc ------------------------------------------------------------ */

TEST(vmalloc_maps_each_page)
{
        setup(16 * MiB);
        struct baseline b = baseline_now();
        vaddr_t va = (vaddr_t)vmalloc(5 * PAGE_SIZE + 1);       /* 6 pages */

        CHECK(va != 0);
        CHECK(is_aligned(va, PAGE_SIZE));
        CHECK(va >= VMALLOC_BASE + PAGE_SIZE && va < VMALLOC_END);
        CHECK_EQ(vmstat.vmalloc_pages, 6);
        CHECK_EQ(vmstat.kstack_pages, 0);
        for (int i = 0; i < 6; i++) {
                vaddr_t pva = va + (uint64_t)i * PAGE_SIZE + 123;
                vm_prot_t prot;
                unsigned flags;
                paddr_t pa;

                CHECK(pmap_extract(pmap_kernel(), pva, &pa, &prot, &flags));
                CHECK_EQ(pa & PAGE_MASK, 123);
                /* NX where the format has it */
                CHECK_EQ(prot, pmap_prot_implied(VM_PROT_RW));
                CHECK_EQ(flags, PMAP_GLOBAL);
                CHECK(pmm_pa_to_page(pa)->flags & PG_VMALLOC);
                uint8_t *page = phys_to_virt(page_trunc(pa));
                for (uint64_t k = 0; k < PAGE_SIZE; k++)        /* zeroed */
                        CHECK_EQ(page[k], 0);
        }
        fill(va, 6 * PAGE_SIZE, 7);
        CHECK(verify(va, 6 * PAGE_SIZE, 7));
        CHECK(!mapped(va + 6 * PAGE_SIZE));                     /* guard */
        CHECK(!mapped(va - PAGE_SIZE));                         /* below */
        CHECK(vmalloc_check());
        vfree((void *)va);
        CHECK(!mapped(va));
        check_baseline(b);
}

TEST(vmalloc_edge_sizes)
{
        setup(8 * MiB);
        CHECK(vmalloc(0) == NULL);
        CHECK(vmalloc((size_t)-1) == NULL);
        CHECK(vmalloc(VMALLOC_END - VMALLOC_BASE) == NULL);
        vfree(NULL);
        kstack_free(NULL);
        iounmap(NULL);
        void *p = vmalloc(1);
        CHECK(p != NULL);
        CHECK_EQ(vmstat.vmalloc_pages, 1);
        vfree(p);
        CHECK(vmalloc_check());
}

/* Pages come from anywhere: after fragmenting RAM, neighbours in VA are
 * not neighbours in physical memory. */
TEST(vmalloc_physically_scattered)
{
        enum { N = 64 };
        struct vm_page *pgs[N];
        bool scattered = false;

        setup(8 * MiB);
        for (int i = 0; i < N; i++)
                pgs[i] = pmm_alloc_pages(0, 0);
        for (int i = 0; i < N; i += 2)
                pmm_free_pages(pgs[i], 0);
        vaddr_t va = (vaddr_t)vmalloc(16 * PAGE_SIZE);
        CHECK(va != 0);
        for (int i = 0; i + 1 < 16; i++) {
                paddr_t a, b;

                CHECK(pmap_extract(pmap_kernel(), va + (uint64_t)i * PAGE_SIZE,
                                   &a, NULL, NULL));
                CHECK(pmap_extract(pmap_kernel(),
                                   va + (uint64_t)(i + 1) * PAGE_SIZE, &b,
                                   NULL, NULL));
                scattered |= b != a + PAGE_SIZE;
        }
        CHECK(scattered);
        fill(va, 16 * PAGE_SIZE, 3);
        CHECK(verify(va, 16 * PAGE_SIZE, 3));
        vfree((void *)va);
        for (int i = 1; i < N; i += 2)
                pmm_free_pages(pgs[i], 0);
        CHECK(vmalloc_check());
}

/* The first area starts one page above the base; each later one after
 * the guard of the one before; a freed gap is reused first fit. */
TEST(areas_guards_and_first_fit)
{
        setup(16 * MiB);
        vaddr_t a = (vaddr_t)vmalloc(2 * PAGE_SIZE);
        vaddr_t b = (vaddr_t)vmalloc(3 * PAGE_SIZE);
        vaddr_t c = (vaddr_t)vmalloc(PAGE_SIZE);

        CHECK_EQ(a, VMALLOC_BASE + PAGE_SIZE);
        CHECK_EQ(b, a + 3 * PAGE_SIZE);
        CHECK_EQ(c, b + 4 * PAGE_SIZE);
        vfree((void *)b);
        vaddr_t d = (vaddr_t)vmalloc(4 * PAGE_SIZE); /* > b's gap */
        CHECK_EQ(d, c + 2 * PAGE_SIZE);
        vaddr_t e = (vaddr_t)vmalloc(3 * PAGE_SIZE);     /* fits it exactly */
        CHECK_EQ(e, b);
        vaddr_t f = (vaddr_t)vmalloc(PAGE_SIZE);
        CHECK_EQ(f, d + 5 * PAGE_SIZE);
        CHECK(vmalloc_check());

        vaddr_t start = 0;
        CHECK(vmalloc_is_guard(a + 2 * PAGE_SIZE, &start));     /* after a */
        CHECK_EQ(start, a);
        CHECK(vmalloc_is_guard(VMALLOC_BASE, &start));          /* below a */
        CHECK_EQ(start, a);
        CHECK(vmalloc_is_guard(e + 3 * PAGE_SIZE + 5, &start));
        CHECK_EQ(start, e);
        CHECK(vmalloc_is_guard(c + PAGE_SIZE, NULL));
        CHECK(!vmalloc_is_guard(a, &start));                    /* mapped */
        CHECK(!vmalloc_is_guard(f + 3 * PAGE_SIZE, &start));    /* free VA */
        CHECK(!vmalloc_is_guard(KERNEL_BASE, &start));
        vfree((void *)a);
        CHECK(!vmalloc_is_guard(VMALLOC_BASE, &start));
        vfree((void *)c);
        vfree((void *)d);
        vfree((void *)e);
        vfree((void *)f);
        CHECK(vmalloc_check());
}

/* A kernel-mode access to a guard page faults as not present; vmalloc
 * pages are no-execute and not reachable from user mode. */
TEST(guard_pages_fault_in_softmmu)
{
        setup(8 * MiB);
        vaddr_t va = (vaddr_t)vmalloc(2 * PAGE_SIZE);
        paddr_t pa = 0, pa2 = 0;

        CHECK_EQ(softmmu_translate(pmap_kernel(), va + 100,
                                   SOFTMMU_WRITE, false, &pa),
                 SOFTMMU_OK);
        CHECK(pmap_extract(pmap_kernel(), va + 100, &pa2, NULL, NULL));
        CHECK_EQ(pa, pa2);
        CHECK_EQ(translate(va + 2 * PAGE_SIZE, SOFTMMU_WRITE, false),
                 SOFTMMU_NOT_PRESENT);
        CHECK_EQ(translate(va + 2 * PAGE_SIZE, SOFTMMU_READ, false),
                 SOFTMMU_NOT_PRESENT);
        CHECK_EQ(translate(va - 8, SOFTMMU_WRITE, false), SOFTMMU_NOT_PRESENT);
        if (!(pmap_prot_implied(VM_PROT_RW) & VM_PROT_EXEC))
                CHECK_EQ(translate(va, SOFTMMU_EXEC, false),
                         SOFTMMU_PROTECTION);
        CHECK_EQ(translate(va, SOFTMMU_READ, true), SOFTMMU_PROTECTION);

        void *stack = kstack_alloc();
        CHECK_EQ(translate(kstack_top(stack) - 8, SOFTMMU_WRITE, false),
                 SOFTMMU_OK);
        CHECK_EQ(translate((vaddr_t)stack - 8, SOFTMMU_WRITE, false),
                 SOFTMMU_NOT_PRESENT);
        kstack_free(stack);
        vfree((void *)va);
}

/* vfree invalidates the TLB: no stale entry survives it. */
TEST(vfree_flushes_tlb)
{
        setup(8 * MiB);
        vaddr_t va = (vaddr_t)vmalloc(3 * PAGE_SIZE);
        paddr_t pa;

        for (int i = 0; i < 3; i++)
                CHECK_EQ(softmmu_access(va + (uint64_t)i * PAGE_SIZE,
                                        SOFTMMU_WRITE, false, &pa),
                         SOFTMMU_OK);
        CHECK(softmmu_tlb_holds(va));
        vfree((void *)va);
        CHECK(!softmmu_tlb_holds(va));
        CHECK(softmmu_tlb_check());
        CHECK_EQ(softmmu_access(va, SOFTMMU_READ, false, &pa),
                 SOFTMMU_NOT_PRESENT);
}

/* --- kernel stacks ------------------------------------------------------ */

TEST(kstack_guard_below)
{
        setup(8 * MiB);
        struct baseline b = baseline_now();
        vaddr_t v = (vaddr_t)vmalloc(PAGE_SIZE);
        void *stack = kstack_alloc();
        vaddr_t s = (vaddr_t)stack, start = 0;

        CHECK(stack != NULL);
        CHECK(is_aligned(s, PAGE_SIZE));
        CHECK_EQ(kstack_top(stack), s + KSTACK_SIZE);
        CHECK_EQ(vmstat.kstack_pages, KSTACK_PAGES);
        CHECK_EQ(vmstat.vmalloc_pages, 1);                      /* not both */
        for (vaddr_t va = s; va < s + KSTACK_SIZE; va += PAGE_SIZE) {
                CHECK(mapped(va));
                CHECK_EQ(*kva_ptr(va), 0);
        }
        CHECK(!mapped(s - PAGE_SIZE));
        CHECK(!mapped(s + KSTACK_SIZE));
        CHECK(kstack_guard_hit(s - 1));
        CHECK(kstack_guard_hit(s - PAGE_SIZE));
        CHECK(!kstack_guard_hit(s));
        CHECK(!kstack_guard_hit(s - PAGE_SIZE - 1));
        CHECK(!kstack_guard_hit(s + KSTACK_SIZE));  /* above the stack */
        CHECK(!kstack_guard_hit(v + PAGE_SIZE - 1));
        /* The page between v and the stack is both v's guard and the page
         * below the stack: reported as the stack's. */
        CHECK_EQ(s, v + 2 * PAGE_SIZE);
        CHECK(vmalloc_is_guard(s - 8, &start));
        CHECK_EQ(start, s);
        CHECK(vmalloc_is_guard(s + KSTACK_SIZE, &start));
        CHECK_EQ(start, s);
        fill(s, KSTACK_SIZE, 9);
        CHECK(verify(s, KSTACK_SIZE, 9));
        CHECK(vmalloc_check());
        kstack_free(stack);
        CHECK(!kstack_guard_hit(s - 1));
        vfree((void *)v);
        check_baseline(b);
}

TEST(many_kstacks)
{
        enum { N = 32 };
        void *stacks[N];

        setup(16 * MiB);
        struct baseline b = baseline_now();
        for (int i = 0; i < N; i++) {
                stacks[i] = kstack_alloc();
                CHECK(stacks[i] != NULL);
                CHECK(kstack_guard_hit((vaddr_t)stacks[i] - 1));
        }
        CHECK_EQ(vmstat.kstack_pages, N * KSTACK_PAGES);
        CHECK(vmalloc_check());
        for (int i = 0; i < N; i += 2)
                kstack_free(stacks[i]);
        for (int i = 1; i < N; i += 2) {
                CHECK(kstack_guard_hit((vaddr_t)stacks[i] - 1));
                kstack_free(stacks[i]);
        }
        check_baseline(b);
}

/* --- leaks and failures ------------------------------------------------- */

/* After vfree of everything, every page comes back, page tables included
 * (pmap_remove frees the tables that empty; the vmalloc region's PDPT is
 * the kernel pmap's from boot and was already in the baseline). */
TEST(vfree_returns_everything)
{
        enum { N = 40 };
        void *areas[N];

        setup(32 * MiB);
        struct baseline b = baseline_now();
        for (int i = 0; i < N; i++) {
                areas[i] = i % 4 ? vmalloc((size_t)(i * 5 + 1) * PAGE_SIZE)
                                 : kstack_alloc();
                CHECK(areas[i] != NULL);
        }
        CHECK(vmstat.pt_pages > b.pt_pages);
        CHECK(vmalloc_check());
        for (int i = N - 1; i >= 0; i--) {
                if (i % 4)
                        vfree(areas[i]);
                else
                        kstack_free(areas[i]);
        }
        check_baseline(b);
}

/* Running out of frames partway leaves nothing behind. */
TEST(out_of_memory_midway_no_leak)
{
        setup(256 * PAGE_SIZE);
        struct baseline b = baseline_now();

        CHECK(vmalloc(300 * PAGE_SIZE) == NULL);        /* fails midway */
        check_baseline(b);
        /* Fill memory with areas until one fails; each failure is clean. */
        void *areas[256];
        int n = 0;
        for (;;) {
                uint64_t free0 = pmm_free_count();
                uint64_t vm0 = vmstat.vmalloc_pages;

                CHECK(n < 256);
                areas[n] = vmalloc(7 * PAGE_SIZE);
                if (!areas[n]) {
                        CHECK_EQ(vmstat.vmalloc_pages, vm0);
                        CHECK(pmm_free_count() <= free0);  /* slab kept */
                        break;
                }
                n++;
        }
        CHECK(n > 10);
        CHECK(vmalloc_check());
        kstack_free(kstack_alloc());    /* either way: NULL or freed */
        for (int i = 0; i < n; i++)
                vfree(areas[i]);
        check_baseline(b);
}

/* A page-table page that cannot be had partway: nothing leaks. */
TEST(ptpage_failure_midway_no_leak)
{
        setup(16 * MiB);
        struct baseline b = baseline_now();

        /* 600 pages from VMALLOC_BASE + 4 KiB cross a 2 MiB boundary, so
         * the walk needs a PD, a PT, then a second PT at page 511. */
        for (uint64_t n = 1; n <= 3; n++) {
                vm_ptpage_fail_after = n;
                CHECK(vmalloc(600 * PAGE_SIZE) == NULL);
                CHECK_EQ(vm_ptpage_fail_after, 0);
                check_baseline(b);
        }
        vm_ptpage_fail_after = 0;
        void *p = vmalloc(600 * PAGE_SIZE);
        CHECK(p != NULL);
        CHECK_EQ(vmstat.pt_pages, b.pt_pages + 3);
        vfree(p);
        check_baseline(b);

        vm_ptpage_fail_after = 2;       /* ioremap across 2 MiB too */
        CHECK(ioremap(0xfd000000, 600 * PAGE_SIZE, 0) == NULL);
        vm_ptpage_fail_after = 0;
        check_baseline(b);
}

/* --- device memory ------------------------------------------------------ */

TEST(ioremap_maps_device_frames)
{
        setup(8 * MiB);
        struct baseline b = baseline_now();
        uint64_t free0 = pmm_free_count();
        vm_prot_t prot;
        unsigned flags;
        paddr_t pa;

        vaddr_t va = (vaddr_t)ioremap(0xfee00030, 0x10, 0);
        CHECK(va >= IOREMAP_BASE + PAGE_SIZE && va < IOREMAP_END);
        CHECK_EQ(va & PAGE_MASK, 0x30);
        CHECK(pmap_extract(pmap_kernel(), va, &pa, &prot, &flags));
        CHECK_EQ(pa, 0xfee00030);
        CHECK_EQ(prot, pmap_prot_implied(VM_PROT_RW));
        CHECK_EQ(flags, PMAP_GLOBAL | PMAP_NOCACHE);
        CHECK(!mapped(page_trunc(va) + PAGE_SIZE));
        CHECK(!mapped(page_trunc(va) - PAGE_SIZE));
        vaddr_t start = 0;
        CHECK(vmalloc_is_guard(page_trunc(va) + PAGE_SIZE, &start));
        CHECK_EQ(start, page_trunc(va));
        CHECK_EQ(vmstat.vmalloc_pages, 0);

        /* Straddling a page boundary: both pages, right offsets. */
        vaddr_t va2 = (vaddr_t)ioremap(0xc0001ff8, 0x10, PMAP_WC);
        CHECK(va2 != 0);
        CHECK(pmap_extract(pmap_kernel(), va2 + 8, &pa, NULL, &flags));
        CHECK_EQ(pa, 0xc0002000);
        CHECK_EQ(flags, PMAP_GLOBAL | PMAP_WC);
        CHECK(!mapped(page_trunc(va2) + 2 * PAGE_SIZE));
        CHECK_EQ(page_trunc(va2), page_trunc(va) + 2 * PAGE_SIZE);
        CHECK(vmalloc_check());
        /* Only descriptors and page tables were taken, no frames mapped. */
        CHECK(free0 - pmm_free_count() <= vmstat.pt_pages - b.pt_pages + 1);

        iounmap((void *)va);
        CHECK(!mapped(va));
        iounmap((void *)page_trunc(va2));       /* any address in page 1 */
        CHECK(!mapped(va2));
        check_baseline(b);
}

TEST(ioremap_rejects_bad_arguments)
{
        setup(8 * MiB);
        CHECK(ioremap(0xfee00000, 0, 0) == NULL);
        CHECK(ioremap(0xfee00000, 16, PMAP_USER) == NULL);
        CHECK(ioremap(0xfee00000, 16, PMAP_GLOBAL) == NULL);
        CHECK(ioremap(0xfee00000, 16, PMAP_NOCACHE | PMAP_WC) == NULL);
        CHECK(ioremap(~0ull - 8, 16, 0) == NULL);
        CHECK(ioremap(1ull << 52, 16, 0) == NULL);
        CHECK(ioremap(0x1000, IOREMAP_END - IOREMAP_BASE, 0) == NULL);
        CHECK(vmalloc_check());
}

/* A large device range, e.g. a frame buffer, may use large pages. */
TEST(ioremap_large_range)
{
        setup(8 * MiB);
        struct baseline b = baseline_now();
        uint64_t len = 8 * MiB + 3 * PAGE_SIZE;
        vaddr_t va = (vaddr_t)ioremap(0x80000000, len, PMAP_WC);
        paddr_t pa;
        unsigned flags;

        CHECK(va != 0);
        for (uint64_t off = 0; off < len; off += 64 * KiB) {
                CHECK(pmap_extract(pmap_kernel(), va + off, &pa, NULL, &flags));
                CHECK_EQ(pa, 0x80000000 + off);
                CHECK(flags & PMAP_WC);
        }
        CHECK(!mapped(va + len));
        CHECK(vmalloc_check());
        iounmap((void *)va);
        check_baseline(b);
}

/* --- misuse is a kernel bug --------------------------------------------- */

static bool msg_has(const char *s)
{
        return strstr(check_panic_msg, s) != NULL;
}

TEST(bad_frees_panic)
{
        setup(8 * MiB);
        void *p = vmalloc(2 * PAGE_SIZE);
        void *s = kstack_alloc();
        void *io = ioremap(0xfee00000, 16, 0);

        EXPECT_PANIC(vfree((char *)p + PAGE_SIZE));
        CHECK(msg_has("not the start"));
        EXPECT_PANIC(vfree((void *)(VMALLOC_END - PAGE_SIZE)));
        EXPECT_PANIC(vfree(s));
        CHECK(msg_has("kstack"));
        EXPECT_PANIC(kstack_free(p));
        CHECK(msg_has("vmalloc"));
        EXPECT_PANIC(iounmap(p));
        EXPECT_PANIC(vfree(io));
        vfree(p);
        EXPECT_PANIC(vfree(p));                 /* double vfree */
        kstack_free(s);
        iounmap(io);
        CHECK(vmalloc_check());
}

/* --- randomized --------------------------------------------------------- */

/* One live area of the randomized test: 0 vmalloc, 1 kstack, 2 ioremap. */
struct live_area {
        vaddr_t va;
        uint64_t len, id;
        int kind;
};

static void live_alloc(struct rng *r, struct live_area *a, uint64_t id)
{
        void *p;

        a->kind = (int)rng_below(r, 3);
        a->len = a->kind == 1 ? KSTACK_SIZE : 1 + rng_below(r, 24 * PAGE_SIZE);
        a->id = id;
        if (a->kind == 0)
                p = vmalloc(a->len);
        else if (a->kind == 1)
                p = kstack_alloc();
        else
                p = ioremap(0xe0000000 + rng_below(r, 1 << 20), a->len, 0);
        CHECK(p != NULL);
        a->va = (vaddr_t)p;
        if (a->kind != 2)
                fill(a->va, a->len, a->id);
}

static void live_free(const struct live_area *a)
{
        if (a->kind != 2)
                CHECK(verify(a->va, a->len, a->id));
        if (a->kind == 0)
                vfree((void *)a->va);
        else if (a->kind == 1)
                kstack_free((void *)a->va);
        else
                iounmap((void *)a->va);
}

/* Random vmalloc / kstack / ioremap and frees; contents written through
 * the page tables and verified before each free, so no two live areas
 * share a frame; vmalloc_check() after every step. */
TEST(random_sequence)
{
        enum { MAX = 48, STEPS = 1500 };
        struct live_area live[MAX];
        int n = 0;
        struct rng r;

        setup(32 * MiB);
        struct baseline b = baseline_now();
        rng_seed(&r, check_seed(0x7a110c));
        for (int step = 0; step < STEPS; step++) {
                if (n < MAX && (n == 0 || rng_below(&r, 100) < 55)) {
                        live_alloc(&r, &live[n++], (uint64_t)step);
                } else {
                        int k = (int)rng_below(&r, (uint64_t)n);

                        live_free(&live[k]);
                        live[k] = live[--n];
                }
                CHECK(vmalloc_check());
        }
        while (n > 0)
                live_free(&live[--n]);
        check_baseline(b);
}
