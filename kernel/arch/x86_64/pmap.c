/*
 * pmap.c - x86-64 4-level page tables behind kernel/vm/pmap.h: pure table
 * algebra over tables reached through phys_to_virt() (CONCEPTS C12-C15).
 *
 * Owns: every page-table page of every pmap (all from vm_ptpage_alloc()),
 * the kernel pmap, and the TLB batch of each pmap. Touches the hardware
 * only through mmu.h, so the same file runs in the kernel (real CR3 and
 * invlpg) and in host tests (simulated RAM, kernel/arch/host/softmmu.c).
 *
 * Rules kept here (invariants: pmap_md.h, checked by pmap_check()):
 *  - Upper levels allow everything (P|RW, plus US in the user half) and are
 *    never NX: the leaf alone decides what a page allows, because the CPU
 *    grants an access only if every level on the path grants it.
 *  - The kernel half of the kernel PML4 is written only by pmap_bootstrap();
 *    later kernel mappings go into the tables below, which every address
 *    space shares by having copied those 256 top-level entries.
 *  - Validate before changing: VM_EINVAL never leaves a change behind, and
 *    table pages are all allocated before any is linked in.
 *  - x86 has no write-only or execute-only pages: anything present is
 *    readable, so pmap_extract() reports VM_PROT_READ for every mapping.
 *  - PMAP_USER mappings live only in the user half (the kernel half's upper
 *    levels have US clear in every address space).
 * Locks: none here; see struct pmap's tags (pmap_md.h).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>

#include "mmu.h"
#include "pmap_md.h"
#include "pte.h"

#define KERNEL_SLOT0    (PT_ENTRIES / 2)        /* first kernel-half slot */
#define PA_MAX          ((1UL << 52) - 1)       /* MAXPHYADDR is at most 52 */
#define PMAP_FLAGS_ALL  (PMAP_USER | PMAP_GLOBAL | PMAP_NOCACHE | PMAP_WC | \
                         PMAP_ACCESS(VM_PROT_ALL))

static struct pmap kernel_pmap;
/* The kernel half of the kernel PML4 as pmap_bootstrap() left it (with A
 * clear: the CPU sets A in whichever copy it walks). */
static pte_t kernel_top[PT_ENTRIES - KERNEL_SLOT0];

/* ---- building and reading entries ------------------------------------ */

/* A leaf at `level` mapping pa (prot is not VM_PROT_NONE). */
static pte_t leaf_entry(paddr_t pa, unsigned level, vm_prot_t prot,
                        unsigned flags)
{
        pte_t e = pa | PTE_P;

        if (level > 1)
                e |= PTE_PS;
        if (prot & VM_PROT_WRITE)
                e |= PTE_RW;
        if (!(prot & VM_PROT_EXEC))
                e |= PTE_NX;
        if (flags & PMAP_USER)
                e |= PTE_US;
        if (flags & PMAP_GLOBAL)
                e |= PTE_G;
        if (flags & PMAP_NOCACHE)
                e |= PTE_CACHE_UC;
        else if (flags & PMAP_WC)
                e |= PTE_CACHE_WC;
        return e;
}

static vm_prot_t leaf_prot(pte_t e)
{
        return VM_PROT_READ | ((e & PTE_RW) ? VM_PROT_WRITE : 0) |
               ((e & PTE_NX) ? 0 : VM_PROT_EXEC);
}

static unsigned leaf_flags(pte_t e)
{
        unsigned flags = 0;

        if (e & PTE_US)
                flags |= PMAP_USER;
        if (e & PTE_G)
                flags |= PMAP_GLOBAL;
        if ((e & PTE_CACHE_MASK) == PTE_CACHE_UC)
                flags |= PMAP_NOCACHE;
        else if ((e & PTE_CACHE_MASK) == PTE_CACHE_WC)
                flags |= PMAP_WC;
        return flags;
}

/* ---- argument checks --------------------------------------------------- */

/*
 * Check [va, va+len) for an operation on pm; set *last to its last byte.
 * => VM_OK if page-aligned, non-empty, canonical, inside one half, and in
 *    the user half unless pm is the kernel pmap.
 */
static vm_status_t check_range(const struct pmap *pm, vaddr_t va,
                               uint64_t len, vaddr_t *last)
{
        if (len == 0 || !is_aligned(va | len, PAGE_SIZE))
                return VM_EINVAL;
        *last = va + len - 1;
        if (*last < va || !va_is_canonical(va) || !va_is_canonical(*last))
                return VM_EINVAL;
        if (va_is_user_half(va) != va_is_user_half(*last))
                return VM_EINVAL;
        if (!va_is_user_half(va) && !pm->is_kernel)
                return VM_EINVAL;
        return VM_OK;
}

/* Kernel-half mappings may only go below the boot-time top-level entries. */
static bool kernel_slots_fixed(const struct pmap *pm, vaddr_t va, vaddr_t last)
{
        const pte_t *pml4 = pt_table(pm->root);

        if (va_is_user_half(va))
                return true;
        for (unsigned i = pt_index(va, 4); i <= pt_index(last, 4); i++)
                if (!pte_present(pml4[i]))
                        return false;
        return true;
}

/* check_range(), plus what a new mapping of [va, va+len) -> pa needs. */
static vm_status_t check_map(const struct pmap *pm, vaddr_t va, paddr_t pa,
                             uint64_t len, vm_prot_t prot, unsigned flags,
                             vaddr_t *last)
{
        vm_status_t st = check_range(pm, va, len, last);

        if (st != VM_OK)
                return st;
        if (!is_aligned(pa, PAGE_SIZE) || pa > PA_MAX || len - 1 > PA_MAX - pa)
                return VM_EINVAL;
        if ((prot & ~VM_PROT_ALL) || (flags & ~PMAP_FLAGS_ALL))
                return VM_EINVAL;
        if ((flags & PMAP_NOCACHE) && (flags & PMAP_WC))
                return VM_EINVAL;
        if ((flags & PMAP_USER) && !va_is_user_half(va))
                return VM_EINVAL;
        if (!kernel_slots_fixed(pm, va, *last))
                return VM_EINVAL;
        return VM_OK;
}

/* ---- the shared engine: walks, ranges, TLB batch, splits ------------------ */

#include <arch/pt/pt_engine.h>

/* ---- large pages ---------------------------------------------------------- */

/* The level of the largest page that can map the start of [va, va+len). */
static unsigned chunk_level(vaddr_t va, paddr_t pa, uint64_t len)
{
        for (unsigned level = mmu_has_1g_pages() ? 3 : 2; level > 1; level--) {
                uint64_t size = pt_level_size(level);

                if (is_aligned(va | pa, size) && len >= size)
                        return level;
        }
        return 1;
}

/* Would a chunk of mapping [va, va+len) fall inside a larger page? */
static bool range_conflicts(const struct pmap *pm, vaddr_t va, paddr_t pa,
                            uint64_t len)
{
        while (len) {
                unsigned level = chunk_level(va, pa, len), found;
                uint64_t size = pt_level_size(level);

                if (walk_find(pm, va, &found) && found > level)
                        return true;
                va += size;
                pa += size;
                len -= size;
        }
        return false;
}

/*
 * Run rw over [start, end) (end 0: the top of the address space): check the
 * range, then let the engine split its edges and walk it.
 * => VM_EINVAL (bad range) or VM_ENOMEM (a split failed): no mapping changed.
 */
static vm_status_t range_run(struct range_walk *rw, vaddr_t start,
                             vaddr_t end)
{
        vaddr_t last;
        vm_status_t st;

        if (start == end)
                return is_aligned(start, PAGE_SIZE) ? VM_OK : VM_EINVAL;
        st = check_range(rw->pm, start, end - start, &last);
        if (st != VM_OK)
                return st;
        return range_apply(rw, start, last);
}

/* ---- the contract (vm/pmap.h) ------------------------------------------ */

struct pmap *pmap_kernel(void)
{
        return &kernel_pmap;
}

/* Give every kernel-half PML4 slot of [first, last] a PDPT. */
static vm_status_t bootstrap_slots(struct pmap *pm, vaddr_t first,
                                   vaddr_t last)
{
        pte_t *pml4 = pt_table(pm->root);

        for (unsigned i = pt_index(first, 4); i <= pt_index(last, 4); i++) {
                paddr_t pa;

                if (pte_present(pml4[i]))
                        continue;
                if (vm_ptpage_alloc(&pa) != VM_OK)
                        return VM_ENOMEM;
                pml4[i] = pte_make_table(pa, first);
                pm->table_pages++;
        }
        return VM_OK;
}

/*
 * Build the kernel pmap (see vm/pmap.h).
 * => on VM_ENOMEM the pages taken so far are not given back: at boot they
 *    come from bootmem, which cannot take pages back, and the kernel stops.
 */
vm_status_t pmap_bootstrap(paddr_t ram_end)
{
        struct pmap *pm = &kernel_pmap;
        vm_status_t st = VM_OK;

        if (ram_end > LINEAR_SIZE)
                return VM_EINVAL;
        memset(pm, 0, sizeof *pm);
        pm->is_kernel = true;
        if (vm_ptpage_alloc(&pm->root) != VM_OK)
                return VM_ENOMEM;
        pm->table_pages = 1;
        if (ram_end)
                st = bootstrap_slots(pm, LINEAR_BASE, LINEAR_BASE + ram_end - 1);
        if (st == VM_OK)
                st = bootstrap_slots(pm, VMALLOC_BASE, VMALLOC_END - 1);
        if (st == VM_OK)
                st = bootstrap_slots(pm, IOREMAP_BASE, IOREMAP_END - 1);
        if (st == VM_OK)
                st = bootstrap_slots(pm, KERNEL_BASE, ~0UL);
        if (st != VM_OK) {
                pm->root = 0;
                return st;
        }
        memcpy(kernel_top, &pt_table(pm->root)[KERNEL_SLOT0], sizeof kernel_top);
        return VM_OK;
}

/*
 * A new user address space: a fresh PML4 whose kernel half is a copy of the
 * kernel's (as Linux's pgd_alloc copies swapper_pg_dir).
 * => pmap_bootstrap() has run. VM_ENOMEM if the struct or PML4 ran out.
 */
vm_status_t pmap_create(struct pmap **out)
{
        struct pmap *pm;

        ASSERT(kernel_pmap.root != 0);
        pm = kzalloc(sizeof *pm);
        if (!pm)
                return VM_ENOMEM;
        if (vm_ptpage_alloc(&pm->root) != VM_OK) {
                kfree(pm);
                return VM_ENOMEM;
        }
        pm->table_pages = 1;
        memcpy(&pt_table(pm->root)[KERNEL_SLOT0],
               &pt_table(kernel_pmap.root)[KERNEL_SLOT0], sizeof kernel_top);
        *out = pm;
        return VM_OK;
}

/*
 * Free a user pmap's own tables (user half and PML4), never the shared
 * kernel tables; the frames it maps stay with their owners.
 * => pm is not the kernel pmap and not loaded in CR3.
 */
void pmap_destroy(struct pmap *pm)
{
        pte_t *pml4 = pt_table(pm->root);

        ASSERT(pm != &kernel_pmap && mmu_current_root() != pm->root);
        for (unsigned i = 0; i < KERNEL_SLOT0; i++) {
                if (!pte_present(pml4[i]))
                        continue;
                subtree_detach(pm, pte_table_pa(pml4[i]), 3,
                               (vaddr_t)i << pt_shift(4));
                pml4[i] = 0;
        }
        /* Not loaded, so only global user entries (if any) can be cached. */
        pmap_update(pm);
        ASSERT(pm->table_pages == 1);
        vm_ptpage_free(pm->root);
        kfree(pm);
}

/*
 * Map the 4 KiB page va -> pa (see vm/pmap.h); VM_PROT_NONE removes it.
 * Any other prot makes the page present, which x86 cannot tell from
 * readable: write-only and exec-only map as read-write and read-exec
 * (pmap_prot_implied()). The faulting access (PMAP_ACCESS) is not used:
 * the CPU sets A and D itself.
 * => VM_EINVAL: bad alignment, address, prot or flags (NOCACHE with WC,
 *    USER in the kernel half, a kernel-half slot without boot-time tables),
 *    or va inside a large page. VM_ENOMEM: no table page. Nothing changed.
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

/*
 * Map [va, va+len) -> [pa, pa+len) with the largest pages that fit
 * (see vm/pmap.h). A large page replaces any smaller ones under it.
 * => VM_EINVAL as pmap_enter(), also if some piece would fall inside an
 *    existing larger page; nothing changed.
 * => VM_ENOMEM: the pieces before the failed one stay mapped.
 */
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
                uint64_t size = pt_level_size(level);

                st = map_leaf(pm, va, level,
                              leaf_entry(pa, level, prot, flags));
                if (st != VM_OK)
                        return st;
                va += size;
                pa += size;
                len -= size;
        }
        return VM_OK;
}

/*
 * Unmap [start, end) (end 0: up to the top) and free the tables that empty.
 * => VM_EINVAL for a bad range; VM_ENOMEM if a large page at an edge could
 *    not be split. Either way no mapping changed.
 * => freed tables go back to the allocator at the next pmap_update().
 */
vm_status_t pmap_remove(struct pmap *pm, vaddr_t start, vaddr_t end)
{
        struct range_walk rw = { .pm = pm, .remove = true };

        return range_run(&rw, start, end);
}

/*
 * Give every mapped page in [start, end) the protection prot; the cache
 * type and user/global bits stay. VM_PROT_NONE removes the pages.
 * => errors as pmap_remove(), plus VM_EINVAL for unknown prot bits.
 */
vm_status_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end,
                         vm_prot_t prot)
{
        struct range_walk rw = { .pm = pm, .clear = PTE_RW | PTE_NX };

        if (prot & ~VM_PROT_ALL)
                return VM_EINVAL;
        if (prot == VM_PROT_NONE)
                return pmap_remove(pm, start, end);
        rw.set = ((prot & VM_PROT_WRITE) ? PTE_RW : 0) |
                 ((prot & VM_PROT_EXEC) ? 0 : PTE_NX);
        return range_run(&rw, start, end);
}

/*
 * Look up va (see vm/pmap.h). A user pmap sees the shared kernel half too.
 * => false for unmapped or non-canonical va.
 */
bool pmap_extract(struct pmap *pm, vaddr_t va, paddr_t *pa, vm_prot_t *prot,
                  unsigned *flags)
{
        unsigned level;
        pte_t *e;

        if (!va_is_canonical(va) || !(e = walk_find(pm, va, &level)))
                return false;
        if (pa)
                *pa = pte_leaf_pa(*e, level) | (va & (pt_level_size(level) - 1));
        if (prot)
                *prot = leaf_prot(*e);
        if (flags)
                *flags = leaf_flags(*e);
        return true;
}

/*
 * Read, and if `clear` reset, the A and D bits of va's page (for a large
 * page: the whole page's). Clearing batches an invalidation: a TLB entry
 * that remembers "already dirty" would let the next write skip setting D.
 * => PMAP_AD_* bits; 0 if va is unmapped or non-canonical.
 */
unsigned pmap_ad(struct pmap *pm, vaddr_t va, bool clear)
{
        unsigned level, bits = 0;
        pte_t *e, old;

        if (!va_is_canonical(va) || !(e = walk_find(pm, va, &level)))
                return 0;
        old = *e;
        if (old & PTE_A)
                bits |= PMAP_AD_ACCESSED;
        if (old & PTE_D)
                bits |= PMAP_AD_DIRTY;
        if (clear && bits) {
                *e = old & ~(PTE_A | PTE_D);
                /* Kernel-half pages are the kernel pmap's to invalidate. */
                tlb_pend(va_is_user_half(va) ? pm : &kernel_pmap,
                         align_down(va, pt_level_size(level)), old);
        }
        return bits;
}

/* Load pm's PML4 into CR3 (non-global TLB entries go with the old one). */
void pmap_activate(struct pmap *pm)
{
        mmu_load_root(pm->root);
}

/* Issue the invalidations batched on pm, then free its detached tables
 * (the engine's tlb_update()). */
void pmap_update(struct pmap *pm)
{
        tlb_update(pm);
}

uint64_t pmap_table_pages(const struct pmap *pm)
{
        return pm->table_pages;
}

/* ---- pmap_check ----------------------------------------------------------- */

struct check_ctx {
        struct pmap *pm;
        uint64_t     tables;            /* table pages found by the walk */
};

static bool check_bad(const struct check_ctx *c, const char *why, vaddr_t va,
                       unsigned level, pte_t e)
{
        pr_err("pmap_check: pmap %p: %s (va %#lx, level %u, entry %#lx)\n",
               (void *)c->pm, why, va, level, e);
        return false;
}

/* A table page must be RAM the allocator handed out (when it exists). */
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

/* Only the bits pmap.c ever writes into a leaf at `level`. */
static bool check_leaf(const struct check_ctx *c, pte_t e, unsigned level,
                       vaddr_t va)
{
        pte_t allowed = PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A |
                        PTE_D | PTE_G | PTE_NX |
                        (PTE_ADDR_MASK & ~(pt_level_size(level) - 1));

        if (level > 1)
                allowed |= PTE_PS;
        if (e & ~allowed)
                return check_bad(c, "unexpected bits in a leaf", va, level, e);
        if ((e & PTE_CACHE_MASK) == PTE_PCD)
                return check_bad(c, "PCD without PWT (UC-)", va, level, e);
        if ((e & PTE_US) && !va_is_user_half(va))
                return check_bad(c, "user page in the kernel half", va,
                                  level, e);
        return true;
}

static bool check_table(struct check_ctx *c, paddr_t pa, unsigned level,
                        vaddr_t base, bool may_be_empty);

/* An upper-level entry: exactly P|RW(|US), pointing at a good table. */
static bool check_upper(struct check_ctx *c, pte_t e, unsigned level,
                        vaddr_t va)
{
        if ((e & ~PTE_A) != pte_make_table(pte_table_pa(e), va))
                return check_bad(c, "bad upper-level entry", va, level, e);
        if (!check_table_page(pte_table_pa(e)))
                return check_bad(c, "table page is not allocated RAM", va,
                                  level, e);
        return check_table(c, pte_table_pa(e), level - 1, va,
                           !table_freeable(level - 1, va));
}

/*
 * Check the level-`level` table at pa (entry 0 maps base) and below.
 * A user pmap's kernel half is checked by check_kernel_half() instead.
 */
static bool check_table(struct check_ctx *c, paddr_t pa, unsigned level,
                        vaddr_t base, bool may_be_empty)
{
        const pte_t *t = pt_table(pa);
        unsigned end = level == 4 && !c->pm->is_kernel ? KERNEL_SLOT0
                                                       : PT_ENTRIES;
        bool any = false;

        c->tables++;
        for (unsigned i = 0; i < end; i++) {
                vaddr_t va = va_canonical(base + i * pt_level_size(level));
                pte_t e = t[i];

                if (!pte_present(e)) {
                        if (e != 0)
                                return check_bad(c, "stale bits in an absent "
                                                  "entry", va, level, e);
                        continue;
                }
                any = true;
                if (pte_is_leaf(e, level) ? !check_leaf(c, e, level, va)
                                          : !check_upper(c, e, level, va))
                        return false;
        }
        if (!any && !may_be_empty)
                return check_bad(c, "empty table left allocated", base,
                                  level, pa);
        return true;
}

/* Slots 256..511 equal the boot-time kernel half (A may differ). */
static bool check_kernel_half(struct check_ctx *c)
{
        const pte_t *pml4 = pt_table(c->pm->root);

        for (unsigned i = KERNEL_SLOT0; i < PT_ENTRIES; i++)
                if ((pml4[i] & ~PTE_A) != kernel_top[i - KERNEL_SLOT0])
                        return check_bad(c, "kernel half differs from the "
                                          "kernel pmap's",
                                          va_canonical((vaddr_t)i << 39), 4,
                                          pml4[i]);
        return true;
}

/*
 * Verify pm's invariants (see pmap_md.h).
 * => true if they hold; else prints the first violation, returns false.
 */
bool pmap_check(struct pmap *pm)
{
        struct check_ctx c = { .pm = pm };
        uint64_t listed = 0;

        if (pm->root == 0 || !is_aligned(pm->root, PAGE_SIZE))
                return check_bad(&c, "no PML4", 0, 4, pm->root);
        if (pm->tlb.n > PMAP_TLB_BATCH)
                return check_bad(&c, "TLB batch overflow", 0, 0, pm->tlb.n);
        for (paddr_t pa = pm->free_list; pa && listed <= pm->free_pages;
             pa = pt_table(pa)[0])
                listed++;
        if (listed != pm->free_pages)
                return check_bad(&c, "deferred-free list length", 0, 0,
                                  listed);
        if (!check_kernel_half(&c) || !check_table(&c, pm->root, 4, 0, true))
                return false;
        if (c.tables + pm->free_pages != pm->table_pages)
                return check_bad(&c, "table page count differs from a walk",
                                  0, 0, c.tables);
        return true;
}
