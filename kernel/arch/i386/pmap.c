/*
 * pmap.c (i386) - 32-bit x86 page tables behind kernel/vm/pmap.h, in both
 * formats of pte.h (2-level with 4 MiB pages; PAE, seen as a 2048-entry
 * directory array over 512-entry tables), on the shared table engine
 * (kernel/arch/pt/pt_engine.h). Runs in the kernel and, over simulated RAM
 * and a software MMU, in the host tier (make test-host PMAP=i386|i386-pae).
 *
 * Owns: every directory and page-table page of every pmap, the kernel
 * pmap, each pmap's TLB batch, and the kernel layout's fixed part: low
 * memory mapped linearly at PAGE_OFFSET with large pages, and a page table
 * for every directory entry from vmalloc up to the recursive slot, all
 * made by pmap_bootstrap() so that every directory shares them by copying
 * entries KERNEL_PDE_MIN..PD_SELF-1 (seed 003's pgd_alloc).
 *
 * Rules kept here (invariants: pmap_md.h, checked by pmap_check()):
 *  - Directory entries pointing at tables allow everything (P|RW, plus US
 *    below PAGE_OFFSET): the leaf decides.
 *  - The kernel's directory entries change only until the first user pmap
 *    copies them (boot splits the image's large page then); afterwards a
 *    kernel mapping goes only where a kernel page table exists.
 *  - The pmap maps [0, PKMAP_BASE): the kmap window, the fixmap
 *    (highmem.c writes their tables directly) and the recursive slot are
 *    not its business.
 *  - Validate before changing; table pages all allocated before any is
 *    linked in (the engine's walk_create()).
 *  - A present page is readable; without NX (2-level tables, or a CPU
 *    without it) it is also executable: pmap_prot_implied() says so.
 * Locks: none here (see pmap_md.h).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/bootmem.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

#include "mmu.h"
#include "pmap_md.h"
#include "pte.h"

#define PMAP_FLAGS_ALL  (PMAP_USER | PMAP_GLOBAL | PMAP_NOCACHE | PMAP_WC | \
                         PMAP_ACCESS(VM_PROT_ALL))
#define PMAP_VA_END     PKMAP_BASE      /* first address the pmap leaves */

bool pmap_nx;
paddr_t lowmem_end;
vaddr_t vmalloc_start;

static struct pmap kernel_pmap;
/* Set by the first pmap_create(): the kernel's directory entries are
 * copied from then on and must not change. */
static bool kernel_frozen;

/* ---- building and reading entries: x86's (kernel/arch/x86/) ------------ */

#define PTE_NX_USABLE   (pmap_nx ? PTE_NX : 0)
#include <arch/x86/pte_leaf.h>

/* ---- argument checks --------------------------------------------------- */

/*
 * [va, va+len) for an operation on pm; *last its last byte.
 * => VM_OK if page-aligned, non-empty, below PMAP_VA_END, inside one half,
 *    in the user half unless pm is the kernel pmap.
 */
static vm_status_t check_range(const struct pmap *pm, vaddr_t va,
                               uint64_t len, vaddr_t *last)
{
        if (len == 0 || !is_aligned(va | len, PAGE_SIZE) ||
            len > PMAP_VA_END || va > PMAP_VA_END - len)
                return VM_EINVAL;
        *last = va + (vaddr_t)len - 1;
        if (va_is_user_half(va) != va_is_user_half(*last))
                return VM_EINVAL;
        if (!va_is_user_half(va) && !pm->is_kernel)
                return VM_EINVAL;
        return VM_OK;
}

/*
 * Would an operation on [va, last] leave the kernel's directory entries
 * as they are? Once a user pmap has copied them it must: a new mapping
 * (map) needs a kernel page table under every entry, and no operation may
 * replace or split a large low-memory page. Before that (boot) only a new
 * mapping needs the entries present.
 */
static bool kernel_entries_fixed(const struct pmap *pm, vaddr_t va,
                                 vaddr_t last, bool map)
{
        const pte_t *pd = pmap_pd(pm);

        if (va_is_user_half(va))
                return true;
        for (unsigned i = PD_INDEX(va); i <= PD_INDEX(last); i++) {
                if (map && !pte_present(pd[i]))
                        return false;
                if (kernel_frozen && pte_present(pd[i]) &&
                    pte_is_leaf(pd[i], 2))
                        return false;
        }
        return true;
}

static vm_status_t check_map(const struct pmap *pm, vaddr_t va, paddr_t pa,
                             uint64_t len, vm_prot_t prot, unsigned flags,
                             vaddr_t *last)
{
        vm_status_t st = check_range(pm, va, len, last);

        if (st != VM_OK)
                return st;
        if (!is_aligned(pa, PAGE_SIZE) || pa >= PTE_PA_LIMIT ||
            len > PTE_PA_LIMIT - pa)
                return VM_EINVAL;
        if ((prot & ~VM_PROT_ALL) || (flags & ~PMAP_FLAGS_ALL))
                return VM_EINVAL;
        if ((flags & PMAP_NOCACHE) && (flags & PMAP_WC))
                return VM_EINVAL;
        if ((flags & PMAP_USER) && !va_is_user_half(va))
                return VM_EINVAL;
        if (!kernel_entries_fixed(pm, va, *last, true))
                return VM_EINVAL;
        return VM_OK;
}

/* ---- the shared engine: walks, ranges, TLB batch, splits ------------------ */

#include <arch/pt/pt_engine.h>

/* ---- directories -------------------------------------------------------- */

/* A zeroed directory array (PD_PAGES contiguous pages, counted as table
 * pages) and, with PAE, its PDPT. => VM_ENOMEM, nothing taken. */
static vm_status_t pd_alloc(struct pmap *pm)
{
        if (vm_ptpage_alloc_order(PD_PAGES == 1 ? 0 : 2, &pm->root) != VM_OK)
                return VM_ENOMEM;
        pm->table_pages = PD_PAGES;
        pm->cr3 = pm->root;
#ifdef I386_PAE
        if (vm_ptpage_alloc(&pm->cr3) != VM_OK) {
                vm_ptpage_free_order(pm->root, 2);
                return VM_ENOMEM;
        }
        pm->table_pages++;
        for (unsigned j = 0; j < 4; j++)
                pt_table(pm->cr3)[j] = (pm->root + j * PAGE_SIZE) | PTE_P;
#endif
        for (unsigned j = 0; j < NR_SELF; j++)
                pmap_pd(pm)[PD_SELF + j] =
                        pte_make_table(pm->root + j * PAGE_SIZE, RECURSIVE_BASE);
        return VM_OK;
}

static void pd_free(struct pmap *pm)
{
#ifdef I386_PAE
        vm_ptpage_free(pm->cr3);
        pm->table_pages--;
#endif
        vm_ptpage_free_order(pm->root, PD_PAGES == 1 ? 0 : 2);
        pm->table_pages -= PD_PAGES;
}

/* ---- range walks ---------------------------------------------------------- */

/* The level of the largest page that can map the start of [va, va+len). */
static unsigned chunk_level(vaddr_t va, paddr_t pa, uint64_t len)
{
        uint64_t size = pt_level_size(2);

        return is_aligned(va | pa, size) && len >= size ? 2 : 1;
}

static bool range_conflicts(const struct pmap *pm, vaddr_t va, paddr_t pa,
                            uint64_t len)
{
        while (len) {
                unsigned level = chunk_level(va, pa, len), found;
                uint64_t size = pt_level_size(level);

                if (walk_find(pm, va, &found) && found > level)
                        return true;
                va += (vaddr_t)size;
                pa += size;
                len -= size;
        }
        return false;
}

static vm_status_t range_run(struct range_walk *rw, vaddr_t start,
                             vaddr_t end)
{
        vaddr_t last;
        vm_status_t st;

        if (start == end)
                return is_aligned(start, PAGE_SIZE) ? VM_OK : VM_EINVAL;
        if (end < start)
                return VM_EINVAL;
        st = check_range(rw->pm, start, end - start, &last);
        if (st == VM_OK && !kernel_entries_fixed(rw->pm, start, last, false))
                st = VM_EINVAL;
        if (st != VM_OK)
                return st;
        return range_apply(rw, start, last);
}

/* ---- the contract (vm/pmap.h) ------------------------------------------ */

struct pmap *pmap_kernel(void)
{
        return &kernel_pmap;
}

pte_t *pmap_kernel_pd(void)
{
        return pmap_pd(&kernel_pmap);
}

/* A kernel page table under directory entry i (empty). */
static vm_status_t kernel_table(struct pmap *pm, unsigned i, pte_t **out)
{
        paddr_t pa;

        if (vm_ptpage_alloc(&pa) != VM_OK)
                return VM_ENOMEM;
        pmap_pd(pm)[i] = pte_make_table(pa, (vaddr_t)i << PD_SHIFT);
        pm->table_pages++;
        *out = pt_table(pa);
        return VM_OK;
}

/*
 * Build the kernel pmap: the directory, low memory ([0, min(ram_end,
 * LOWMEM_LIMIT)) at PAGE_OFFSET: large pages, a page table for a partial
 * last one), a page table for each directory entry from vmalloc_start
 * (the end of low memory + VMALLOC_OFFSET, rounded up to it) to the
 * recursive slot, and the slot itself. Sets lowmem_end and vmalloc_start.
 * Every kernel page is global (G is ignored without CR4.PGE) and, as the
 * image lies in low memory, executable; boot then write-protects the
 * image's text (pmap_protect splits its large page).
 * => VM_ENOMEM if a table page could not be had (boot stops).
 */
vm_status_t pmap_bootstrap(paddr_t ram_end)
{
        struct pmap *pm = &kernel_pmap;
        pte_t *pt;
        vm_status_t st;

        memset(pm, 0, sizeof *pm);
        pm->is_kernel = true;
        kernel_frozen = false;
        lowmem_end = align_down(MIN(ram_end, (paddr_t)LOWMEM_LIMIT), PAGE_SIZE);
        vmalloc_start = (vaddr_t)align_up(PAGE_OFFSET + lowmem_end +
                                          VMALLOC_OFFSET, VMALLOC_OFFSET);
        st = pd_alloc(pm);
        if (st != VM_OK)
                return st;
        for (paddr_t pa = 0; pa < lowmem_end; pa += LARGE_PAGE_SIZE) {
                unsigned i = PD_INDEX(PAGE_OFFSET + pa);

                if (pa + LARGE_PAGE_SIZE <= lowmem_end) {
                        pmap_pd(pm)[i] = leaf_entry(pa, 2, VM_PROT_ALL,
                                                    PMAP_GLOBAL);
                        continue;
                }
                if (kernel_table(pm, i, &pt) != VM_OK)
                        return VM_ENOMEM;
                for (unsigned k = 0; pa + k * PAGE_SIZE < lowmem_end; k++)
                        pt[k] = leaf_entry(pa + k * PAGE_SIZE, 1, VM_PROT_ALL,
                                           PMAP_GLOBAL);
        }
        for (unsigned i = PD_INDEX(vmalloc_start); i < PD_SELF; i++)
                if (kernel_table(pm, i, &pt) != VM_OK)
                        return VM_ENOMEM;
        return VM_OK;
}

/*
 * A new user address space: a directory whose kernel entries are copies
 * of the kernel's (seed 003's pgd_alloc), and its own recursive slot.
 */
vm_status_t pmap_create(struct pmap **out)
{
        struct pmap *pm;
        const pte_t *kpd = pmap_kernel_pd();

        ASSERT(kernel_pmap.root != 0);
        pm = kzalloc(sizeof *pm);
        if (!pm)
                return VM_ENOMEM;
        if (pd_alloc(pm) != VM_OK) {
                kfree(pm);
                return VM_ENOMEM;
        }
        kernel_frozen = true;
        memcpy(&pmap_pd(pm)[KERNEL_PDE_MIN], &kpd[KERNEL_PDE_MIN],
               (PD_SELF - KERNEL_PDE_MIN) * sizeof(pte_t));
        *out = pm;
        return VM_OK;
}

/* Free a user pmap's tables (not the frames they map, not the kernel's).
 * => pm is not the kernel pmap and not loaded. */
void pmap_destroy(struct pmap *pm)
{
        pte_t *pd = pmap_pd(pm);

        ASSERT(pm != &kernel_pmap && mmu_current_root() != pm->root);
        for (unsigned i = 0; i < KERNEL_PDE_MIN; i++) {
                if (!pte_present(pd[i]))
                        continue;
                if (pte_is_leaf(pd[i], 2))
                        tlb_pend(pm, (vaddr_t)i << PD_SHIFT, pd[i]);
                else
                        subtree_detach(pm, pte_table_pa(pd[i]), 1,
                                       (vaddr_t)i << PD_SHIFT);
                pd[i] = 0;
        }
        pmap_update(pm);
        pd_free(pm);
        ASSERT(pm->table_pages == 0);
        kfree(pm);
}

/*
 * Map the 4 KiB page va -> pa; VM_PROT_NONE removes it. Write-only maps
 * read-write; without NX every page is executable (pmap_prot_implied()).
 * => VM_EINVAL: bad alignment, address, prot or flags, va inside a large
 *    page, or a kernel address without a kernel page table. VM_ENOMEM: no
 *    table page. Nothing changed.
 */
vm_status_t pmap_enter(struct pmap *pm, vaddr_t va, paddr_t pa,
                       vm_prot_t prot, unsigned flags)
{
        unsigned level;
        vaddr_t last;
        pte_t *pte;
        vm_status_t st;

        st = check_map(pm, va, pa, PAGE_SIZE, prot, flags, &last);
        if (st != VM_OK)
                return st;
        if (prot == VM_PROT_NONE) {
                pte = walk_find(pm, va, &level);
                if (pte && level > 1)
                        return VM_EINVAL;
                return pte ? pmap_remove(pm, va, va + PAGE_SIZE) : VM_OK;
        }
        st = walk_create(pm, va, 1, &pte);
        if (st != VM_OK)
                return st;
        leaf_install(pm, pte, va, 1, leaf_entry(pa, 1, prot, flags));
        return VM_OK;
}

/* Map a range with the largest pages that fit (see vm/pmap.h). A large
 * page in the kernel half only before the directory is frozen. */
vm_status_t pmap_enter_range(struct pmap *pm, vaddr_t va, paddr_t pa,
                             uint64_t len, vm_prot_t prot, unsigned flags)
{
        vaddr_t last;
        vm_status_t st;

        st = check_map(pm, va, pa, len, prot, flags, &last);
        if (st != VM_OK)
                return st;
        if (prot == VM_PROT_NONE)
                return pmap_remove(pm, va, last + 1);
        if (range_conflicts(pm, va, pa, len))
                return VM_EINVAL;
        while (len) {
                unsigned level = chunk_level(va, pa, len);
                uint64_t size;

                /* A large kernel page would change a directory entry. */
                if (kernel_frozen && !va_is_user_half(va))
                        level = 1;
                size = pt_level_size(level);
                st = map_leaf(pm, va, level,
                              leaf_entry(pa, level, prot, flags));
                if (st != VM_OK)
                        return st;
                va += (vaddr_t)size;
                pa += size;
                len -= size;
        }
        return VM_OK;
}

vm_status_t pmap_remove(struct pmap *pm, vaddr_t start, vaddr_t end)
{
        struct range_walk rw = { .pm = pm, .remove = true };

        return range_run(&rw, start, end);
}

vm_status_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end,
                         vm_prot_t prot)
{
        struct range_walk rw = { .pm = pm, .clear = PTE_RW | PTE_NX };

        if (prot & ~VM_PROT_ALL)
                return VM_EINVAL;
        if (prot == VM_PROT_NONE)
                return pmap_remove(pm, start, end);
        rw.set = ((prot & VM_PROT_WRITE) ? PTE_RW : 0) |
                 ((prot & VM_PROT_EXEC) || !pmap_nx ? 0 : PTE_NX);
        return range_run(&rw, start, end);
}

/* Look up va (the pmap's range only: not the kmap window, the fixmap or
 * the recursive slot). */
bool pmap_extract(struct pmap *pm, vaddr_t va, paddr_t *pa, vm_prot_t *prot,
                  unsigned *flags)
{
        unsigned level;
        pte_t *e;

        if (!va_is_canonical(va) || va >= PMAP_VA_END ||
            !(e = walk_find(pm, va, &level)))
                return false;
        if (pa)
                *pa = pte_leaf_pa(*e, level) | (va & (pt_level_size(level) - 1));
        if (prot)
                *prot = leaf_prot(*e);
        if (flags)
                *flags = leaf_flags(*e);
        return true;
}

unsigned pmap_ad(struct pmap *pm, vaddr_t va, bool clear)
{
        unsigned level, bits = 0;
        pte_t *e, old;

        if (!va_is_canonical(va) || va >= PMAP_VA_END ||
            !(e = walk_find(pm, va, &level)))
                return 0;
        old = *e;
        if (old & PTE_A)
                bits |= PMAP_AD_ACCESSED;
        if (old & PTE_D)
                bits |= PMAP_AD_DIRTY;
        if (clear && bits) {
                *e = old & ~(PTE_A | PTE_D);
                tlb_pend(va_is_user_half(va) ? pm : &kernel_pmap,
                         align_down(va, pt_level_size(level)), old);
        }
        return bits;
}

void pmap_activate(struct pmap *pm)
{
        mmu_load_root(pm->cr3);
}

void pmap_update(struct pmap *pm)
{
        tlb_update(pm);
}

uint64_t pmap_table_pages(const struct pmap *pm)
{
        return pm->table_pages;
}

/* ---- pmap_walk_describe --------------------------------------------------- */

size_t pmap_walk_describe(struct pmap *pm, vaddr_t va, char *buf, size_t size)
{
        size_t n = (size_t)ksnprintf(buf, size, "va %#" PRIx64 ", CR3 %#" PRIx64
                                     "\n", (uint64_t)va, (uint64_t)pm->cr3);
        paddr_t table = pm->root;

        if (!va_is_canonical(va))
                return n + (size_t)ksnprintf(buf + n, size - n,
                                             "not a 32-bit address\n");
#ifdef I386_PAE
        n += (size_t)ksnprintf(buf + n, size - n, "PDPT at %#" PRIx64
                               " [%u] = %#" PRIx64 "  P (fixed)\n",
                               (uint64_t)pm->cr3, (unsigned)(va >> 30),
                               (uint64_t)pt_table(pm->cr3)[va >> 30]);
#endif
        for (unsigned level = PT_LEVELS; level >= 1 && n < size; level--) {
                unsigned idx = pt_index(va, level);
                pte_t e = pt_table(table)[idx];
                char bits[64];

                leaf_describe_bits(bits, sizeof bits, e, level);
                n += (size_t)ksnprintf(buf + n, size - n, "%-4s at %#010" PRIx64
                                       " [%4u] = %#" PRIx64 "  %s\n",
                                       level == 2 ? "PD" : "PT",
                                       (uint64_t)table, idx, (uint64_t)e, bits);
                if (!pte_present(e))
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "no translation: an access faults\n");
                if (pte_is_leaf(e, level)) {
                        paddr_t pa = pte_leaf_pa(e, level) +
                                     (va & (pt_level_size(level) - 1));
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "pa %#" PRIx64 " (a %" PRIu64
                                                     " KiB page)\n", (uint64_t)pa,
                                                     pt_level_size(level) >> 10);
                }
                table = pte_table_pa(e);
        }
        return MIN(n, size);
}

/* ---- pmap_check ----------------------------------------------------------- */

struct check_ctx {
        struct pmap *pm;
        uint64_t     tables;
};

static bool check_bad(const struct check_ctx *c, const char *why, vaddr_t va,
                      unsigned level, uint64_t e)
{
        pr_err("pmap_check: pmap %p: %s (va %#" PRIx64 ", level %u, entry %#"
               PRIx64 ")\n", (void *)c->pm, why, (uint64_t)va, level, e);
        return false;
}

static bool check_table_page(paddr_t pa)
{
        const struct vm_page *pg;

        if (pmm_npages() == 0)
                return true;
        pg = pmm_pa_to_page(pa);
        if (!pg)
                return false;
        return !(pg->flags & (PG_FREE | PG_RESERVED)) && pg->refcount != 0;
}

static bool check_leaf(const struct check_ctx *c, pte_t e, unsigned level,
                       vaddr_t va)
{
        pte_t allowed = PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A |
                        PTE_D | PTE_G | PTE_NX |
                        (PTE_ADDR & ~(pte_t)(pt_level_size(level) - 1));

        if (level > 1)
                allowed |= PTE_PS;
        if (e & ~allowed)
                return check_bad(c, "unexpected bits in a leaf", va, level, e);
        if ((e & PTE_NX) && !pmap_nx)
                return check_bad(c, "NX without EFER.NXE", va, level, e);
        if ((e & PTE_CACHE_MASK) == PTE_PCD)
                return check_bad(c, "PCD without PWT (UC-)", va, level, e);
        if ((e & PTE_US) && !va_is_user_half(va))
                return check_bad(c, "user page in the kernel half", va,
                                 level, e);
        return true;
}

/* A page table (level 1) under directory entry e mapping va. */
static bool check_pt(struct check_ctx *c, pte_t e, vaddr_t va)
{
        const pte_t *t;
        bool any = false;

        if ((e & ~PTE_A) != pte_make_table(pte_table_pa(e), va))
                return check_bad(c, "bad directory entry", va, 2, e);
        if (!check_table_page(pte_table_pa(e)))
                return check_bad(c, "table page is not allocated RAM", va,
                                 2, e);
        t = pt_table(pte_table_pa(e));
        c->tables++;
        for (unsigned i = 0; i < PT_ENTRIES; i++) {
                vaddr_t pva = va + (vaddr_t)i * PAGE_SIZE;

                if (!pte_present(t[i])) {
                        if (t[i] != 0)
                                return check_bad(c, "stale bits in an absent "
                                                 "entry", pva, 1, t[i]);
                        continue;
                }
                any = true;
                if (!check_leaf(c, t[i], 1, pva))
                        return false;
        }
        if (!any && va_is_user_half(va))
                return check_bad(c, "empty table left allocated", va, 1,
                                 pte_table_pa(e));
        return true;
}

/* Directory entries [first, end) of pm. */
static bool check_pd(struct check_ctx *c, unsigned first, unsigned end)
{
        const pte_t *pd = pmap_pd(c->pm);

        for (unsigned i = first; i < end; i++) {
                vaddr_t va = (vaddr_t)i << PD_SHIFT;
                pte_t e = pd[i];

                if (!pte_present(e)) {
                        if (e != 0)
                                return check_bad(c, "stale bits in an absent "
                                                 "entry", va, 2, e);
                        continue;
                }
                if (pte_is_leaf(e, 2) ? !check_leaf(c, e, 2, va)
                                      : !check_pt(c, e, va))
                        return false;
        }
        return true;
}

/* The fixed part: the kernel entries of a user pmap, the recursive slot,
 * the PDPT. */
static bool check_fixed(struct check_ctx *c)
{
        const pte_t *pd = pmap_pd(c->pm), *kpd = pmap_kernel_pd();

        if (!c->pm->is_kernel)
                for (unsigned i = KERNEL_PDE_MIN; i < PD_SELF; i++)
                        if ((pd[i] & ~PTE_A) != (kpd[i] & ~PTE_A))
                                return check_bad(c, "kernel entry differs from "
                                                 "the kernel pmap's",
                                                 (vaddr_t)i << PD_SHIFT, 2,
                                                 pd[i]);
        for (unsigned j = 0; j < NR_SELF; j++)
                if ((pd[PD_SELF + j] & ~PTE_A) !=
                    pte_make_table(c->pm->root + j * PAGE_SIZE, RECURSIVE_BASE))
                        return check_bad(c, "recursive slot", RECURSIVE_BASE +
                                         j * PAGE_SIZE, 2, pd[PD_SELF + j]);
#ifdef I386_PAE
        /* (QEMU's TCG sets A in PDPT entries, where a real CPU's bit 5 is
         * reserved: A is not compared.) */
        for (unsigned j = 0; j < 4; j++)
                if ((pt_table(c->pm->cr3)[j] & ~PTE_A) !=
                    ((c->pm->root + j * PAGE_SIZE) | PTE_P))
                        return check_bad(c, "PDPT entry", (vaddr_t)j << 30, 3,
                                         pt_table(c->pm->cr3)[j]);
        c->tables++;
#endif
        c->tables += PD_PAGES;
        return true;
}

bool pmap_check(struct pmap *pm)
{
        struct check_ctx c = { .pm = pm };
        uint64_t listed = 0;

        if (pm->root == 0 || !is_aligned(pm->root, PAGE_SIZE))
                return check_bad(&c, "no directory", 0, 2, pm->root);
        if (pm->tlb.n > PMAP_TLB_BATCH)
                return check_bad(&c, "TLB batch overflow", 0, 0, pm->tlb.n);
        for (paddr_t pa = pm->free_list; pa && listed <= pm->free_pages;
             pa = pt_table(pa)[0])
                listed++;
        if (listed != pm->free_pages)
                return check_bad(&c, "deferred-free list length", 0, 0, listed);
        if (!check_fixed(&c) ||
            !check_pd(&c, 0, pm->is_kernel ? PD_SELF : KERNEL_PDE_MIN))
                return false;
        if (c.tables + pm->free_pages != pm->table_pages)
                return check_bad(&c, "table page count differs from a walk",
                                 0, 0, c.tables);
        return true;
}
