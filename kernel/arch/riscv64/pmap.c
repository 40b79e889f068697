/*
 * pmap.c (riscv64) - Sv39 three-level page tables behind kernel/vm/pmap.h
 * (CONCEPTS C12-C15 for Sv39). The table algebra is the x86-64 port's
 * (kernel/arch/x86_64/pmap.c: walks, deferred freeing of tables, TLB
 * batches, large-page splits), rendered for Sv39 until issue 10's shared
 * table engine lands; what differs is said here.
 *
 * Sv39 rules kept here (invariants: pmap_md.h, checked by pmap_check()):
 *  - A non-leaf entry is V alone; a leaf has R, W or X and may sit at any
 *    level (1 GiB at the root, 2 MiB, 4 KiB). W needs R (W alone is
 *    reserved), so write implies read; exec-only pages exist
 *    (pmap_prot_implied, machine/pmap.h).
 *  - Hardware may set A and D or fault when they are clear (both are
 *    allowed). Kernel mappings get A, and D when writable, at once: the
 *    kernel must never take such a fault. User mappings get A for any
 *    faulting access and D for a write (PMAP_ACCESS), so the retried
 *    access does not fault again; pmap_ad() reports the bits, which are
 *    never less than what happened on either kind of hardware.
 *  - No cache attributes without Svpbmt: PMAP_NOCACHE and PMAP_WC are
 *    recorded in the RSW bits (pte.h) for pmap_extract() and otherwise
 *    mean nothing to the hart (the board's PMAs make devices uncached).
 *  - xv6's two tables (pmap_md.h): root entries 0-255 of a user pmap's
 *    kroot follow its root; every change of a root entry marks
 *    root_changed and the operation ends by copying them.
 *  - A hart may cache invalid entries (sfence.vma is an ordering fence, not
 *    only a flush), so new mappings are batched for pmap_update() too.
 *  - The kernel half's root entries are fixed at pmap_bootstrap(), so
 *    large pages in the kernel half are at most 2 MiB (a 1 GiB leaf would
 *    be a root entry); boot.S's boot table uses 1 GiB pages.
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
#define PA_MAX          ((1UL << 56) - 1)       /* Sv39: 44-bit PPN */
#define PMAP_FLAGS_ALL  (PMAP_USER | PMAP_GLOBAL | PMAP_NOCACHE | PMAP_WC | \
                         PMAP_ACCESS(VM_PROT_ALL))

static struct pmap kernel_pmap;
/* The kernel half of the kernel root as pmap_bootstrap() left it. */
static pte_t kernel_top[PT_ENTRIES - KERNEL_SLOT0];

static inline pte_t *table_of(paddr_t pa)
{
        return phys_to_virt(pa);
}

/* ---- building and reading entries ------------------------------------ */

/* An upper-level entry pointing at the table at pa, on the way to va. */
static pte_t table_entry(paddr_t pa, vaddr_t va)
{
        (void)va;
        return pte_make(pa, 0);
}

/* A leaf at `level` mapping pa (prot is not VM_PROT_NONE). */
static pte_t leaf_entry(paddr_t pa, unsigned level, vm_prot_t prot,
                        unsigned flags)
{
        vm_prot_t access = PMAP_ACCESS_OF(flags);
        pte_t e = pte_make(pa, 0);

        (void)level;
        if (prot & (VM_PROT_READ | VM_PROT_WRITE))
                e |= PTE_R;
        if (prot & VM_PROT_WRITE)
                e |= PTE_W;
        if (prot & VM_PROT_EXEC)
                e |= PTE_X;
        if (flags & PMAP_USER)
                e |= PTE_U;
        if (flags & PMAP_GLOBAL)
                e |= PTE_G;
        if (flags & PMAP_NOCACHE)
                e |= PTE_SW_NOCACHE;
        else if (flags & PMAP_WC)
                e |= PTE_SW_WC;
        if (!(flags & PMAP_USER)) {
                e |= PTE_A | ((prot & VM_PROT_WRITE) ? PTE_D : 0);
        } else {
                if (access)
                        e |= PTE_A;
                if ((access & VM_PROT_WRITE) && (prot & VM_PROT_WRITE))
                        e |= PTE_D;
        }
        return e;
}

static vm_prot_t leaf_prot(pte_t e)
{
        return ((e & PTE_R) ? VM_PROT_READ : 0) |
               ((e & PTE_W) ? VM_PROT_WRITE : 0) |
               ((e & PTE_X) ? VM_PROT_EXEC : 0);
}

static unsigned leaf_flags(pte_t e)
{
        unsigned flags = 0;

        if (e & PTE_U)
                flags |= PMAP_USER;
        if (e & PTE_G)
                flags |= PMAP_GLOBAL;
        if (e & PTE_SW_NOCACHE)
                flags |= PMAP_NOCACHE;
        if (e & PTE_SW_WC)
                flags |= PMAP_WC;
        return flags;
}

/* A root entry of a user pmap changed: kroot must follow (flush_root()). */
static void root_touched(struct pmap *pm, const pte_t *e)
{
        const pte_t *root = table_of(pm->root);

        if (e >= root && e < root + PT_ENTRIES)
                pm->root_changed = true;
}

/* Copy the user half of root into kroot, if it changed. */
static void flush_root(struct pmap *pm)
{
        if (!pm->root_changed)
                return;
        if (pm->kroot != pm->root)
                memcpy(table_of(pm->kroot), table_of(pm->root),
                       KERNEL_SLOT0 * sizeof(pte_t));
        pm->root_changed = false;
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
        const pte_t *top = table_of(pm->root);

        if (va_is_user_half(va))
                return true;
        for (unsigned i = pt_index(va, PT_LEVELS); i <= pt_index(last, PT_LEVELS); i++)
                if (!pte_present(top[i]) || pte_is_leaf(top[i], PT_LEVELS))
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

/* ---- TLB batch and deferred freeing ------------------------------------ */

/* The TLB may still hold `old`, the entry that mapped va until now. */
static void tlb_pend(struct pmap *pm, vaddr_t va, pte_t old)
{
        struct pmap_tlb_batch *b = &pm->tlb;

        if (old & PTE_G)
                b->global = true;
        if (b->flush_all)
                return;
        if (b->n == PMAP_TLB_BATCH) {
                b->flush_all = true;
                return;
        }
        b->va[b->n++] = va;
}

/* Queue an unlinked table page for freeing at the next pmap_update(). Its
 * first entry becomes the link: a page-aligned address, so P stays clear. */
static void table_defer_free(struct pmap *pm, paddr_t pa)
{
        ASSERT(pa != 0);
        table_of(pa)[0] = pm->free_list;
        pm->free_list = pa;
        pm->free_pages++;
}

static void table_free_deferred(struct pmap *pm)
{
        while (pm->free_list) {
                paddr_t pa = pm->free_list;

                pm->free_list = table_of(pa)[0];
                vm_ptpage_free(pa);
                pm->free_pages--;
                pm->table_pages--;
        }
}

/* ---- walks -------------------------------------------------------------- */

/* The leaf entry that maps va (canonical), and its level; NULL if none. */
static pte_t *walk_find(const struct pmap *pm, vaddr_t va, unsigned *level)
{
        pte_t *table = table_of(pm->root);

        for (unsigned l = PT_LEVELS;; l--) {
                pte_t *e = &table[pt_index(va, l)];

                if (!pte_present(*e))
                        return NULL;
                if (pte_is_leaf(*e, l)) {
                        *level = l;
                        return e;
                }
                table = table_of(pte_table_pa(*e));
        }
}

/*
 * Find the entry for va at `level`, creating the missing tables above it.
 * All of them are allocated before any is linked in.
 * => VM_EINVAL if a larger page already maps va; VM_ENOMEM if a table page
 *    could not be had. Either way nothing changed.
 */
static vm_status_t walk_create(struct pmap *pm, vaddr_t va, unsigned level,
                               pte_t **out)
{
        paddr_t fresh[PT_LEVELS];
        pte_t *table = table_of(pm->root);
        unsigned l, n, i;

        for (l = PT_LEVELS; l > level; l--) {
                pte_t e = table[pt_index(va, l)];

                if (!pte_present(e))
                        break;
                if (pte_is_leaf(e, l))
                        return VM_EINVAL;
                table = table_of(pte_table_pa(e));
        }
        ASSERT(l < PT_LEVELS || level == PT_LEVELS || va_is_user_half(va));
        n = l - level;
        for (i = 0; i < n; i++) {
                if (vm_ptpage_alloc(&fresh[i]) != VM_OK) {
                        while (i--)
                                vm_ptpage_free(fresh[i]);
                        return VM_ENOMEM;
                }
        }
        for (i = 0; i < n; i++, l--) {
                table[pt_index(va, l)] = table_entry(fresh[i], va);
                root_touched(pm, &table[pt_index(va, l)]);
                table = table_of(fresh[i]);
        }
        pm->table_pages += n;
        *out = &table[pt_index(va, level)];
        return VM_OK;
}

/*
 * Store leaf e in *pte (the entry for va at `level`). A mapping of the same
 * frame keeps its A and D bits, so re-entering a page to change its
 * protection does not lose the fact that it was written.
 */
static void leaf_install(struct pmap *pm, pte_t *pte, vaddr_t va,
                         unsigned level, pte_t e)
{
        pte_t old = *pte;

        root_touched(pm, pte);
        if (pte_present(old) && pte_is_leaf(old, level) &&
            pte_leaf_pa(old, level) == pte_leaf_pa(e, level))
                e |= old & (PTE_A | PTE_D);
        *pte = e;
        /* Unlike x86, a RISC-V hart may keep an invalid entry cached:
         * sfence.vma orders the walk after the store, so even a fresh
         * mapping is batched for pmap_update(), as Linux's riscv port
         * flushes in update_mmu_cache(). */
        tlb_pend(pm, va, old);
}

/*
 * A subtree (level-`level` table at pa, entry 0 mapping base) has just been
 * unlinked: batch the invalidation of every page it mapped and queue its
 * tables for freeing.
 */
static void subtree_detach(struct pmap *pm, paddr_t pa, unsigned level,
                           vaddr_t base)
{
        pte_t *t = table_of(pa);

        for (unsigned i = 0; i < PT_ENTRIES; i++) {
                vaddr_t va = base + i * pt_level_size(level);

                if (!pte_present(t[i]))
                        continue;
                if (pte_is_leaf(t[i], level))
                        tlb_pend(pm, va, t[i]);
                else
                        subtree_detach(pm, pte_table_pa(t[i]), level - 1, va);
        }
        table_defer_free(pm, pa);
}

/* ---- large pages ---------------------------------------------------------- */

/*
 * Demote the large leaf *e (mapping va at level 3 or 2) into a table of 512
 * leaves one level down that map the same frames with the same bits (A and
 * D included, so no write is forgotten).
 * => VM_ENOMEM if no table page could be had; then nothing changed.
 */
static vm_status_t leaf_split(struct pmap *pm, pte_t *e, unsigned level,
                              vaddr_t va)
{
        uint64_t step = pt_level_size(level - 1);
        pte_t old = *e, attrs, *t;
        paddr_t pa = pte_leaf_pa(old, level), tpa;

        if (vm_ptpage_alloc(&tpa) != VM_OK)
                return VM_ENOMEM;
        attrs = old & ~PTE_PPN_MASK;
        t = table_of(tpa);
        for (unsigned i = 0; i < PT_ENTRIES; i++)
                t[i] = pte_make(pa + i * step, attrs);
        *e = table_entry(tpa, va);
        root_touched(pm, e);
        pm->table_pages++;
        /* Same translations, but the TLB must not keep the big entry next
         * to the small ones once some of them change. */
        tlb_pend(pm, va, old);
        return VM_OK;
}

/*
 * Make `boundary` a page boundary in pm: split the large pages straddling
 * it, 1 GiB into 2 MiB, then 2 MiB into 4 KiB, as far as needed.
 * => VM_ENOMEM if a split failed; splits already done stay (they change
 *    no translation).
 */
static vm_status_t split_at(struct pmap *pm, vaddr_t boundary)
{
        unsigned level;
        pte_t *e;

        while ((e = walk_find(pm, boundary, &level)) && level > 1 &&
               !is_aligned(boundary, pt_level_size(level))) {
                vaddr_t va = align_down(boundary, pt_level_size(level));

                if (leaf_split(pm, e, level, va) != VM_OK)
                        return VM_ENOMEM;
        }
        return VM_OK;
}

/* The level of the largest page that can map the start of [va, va+len). */
static unsigned chunk_level(vaddr_t va, paddr_t pa, uint64_t len)
{
        for (unsigned level = 2; level > 1; level--) {
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

/* Map one page of `level` at va, replacing whatever mapped that span. */
static vm_status_t map_chunk(struct pmap *pm, vaddr_t va, paddr_t pa,
                             unsigned level, vm_prot_t prot, unsigned flags)
{
        vm_status_t st;
        pte_t *pte, old;

        st = walk_create(pm, va, level, &pte);
        if (st != VM_OK)
                return st;
        old = *pte;
        leaf_install(pm, pte, va, level, leaf_entry(pa, level, prot, flags));
        if (pte_present(old) && !pte_is_leaf(old, level))
                subtree_detach(pm, pte_table_pa(old), level - 1, va);
        return VM_OK;
}

/* ---- range walks: remove and protect ------------------------------------ */

/* One pass over the leaves of [start, last], after its edges were split. */
struct range_walk {
        struct pmap *pm;
        vaddr_t      start, last;       /* inclusive; inside one half */
        bool         remove;            /* clear leaves; else: */
        pte_t        set, clear;        /* bits to set / clear in leaves */
};

/* Tables that may be freed when empty: all but the roots and the kernel's
 * boot-time level-2 tables. */
static bool table_freeable(unsigned level, vaddr_t va)
{
        return level < PT_LEVELS - 1 ||
               (level == PT_LEVELS - 1 && va_is_user_half(va));
}

static bool table_empty(paddr_t pa)
{
        const pte_t *t = table_of(pa);

        for (unsigned i = 0; i < PT_ENTRIES; i++)
                if (pte_present(t[i]))
                        return false;
        return true;
}

/* Apply rw to one leaf (mapping va); true if it was cleared. */
static bool leaf_apply(struct range_walk *rw, pte_t *e, vaddr_t va)
{
        pte_t old = *e, new = rw->remove ? 0 : (old & ~rw->clear) | rw->set;

        if (new == old)
                return false;
        *e = new;
        root_touched(rw->pm, e);
        tlb_pend(rw->pm, va, old);
        return new == 0;
}

static bool range_table(struct range_walk *rw, paddr_t pa, unsigned level,
                        vaddr_t base);

/*
 * Apply rw to the entry e that maps va at `level`, and below it; free the
 * table under e if that left it empty.
 * => true if e was cleared.
 */
static bool range_entry(struct range_walk *rw, pte_t *e, unsigned level,
                        vaddr_t va)
{
        paddr_t child;

        if (!pte_present(*e))
                return false;
        if (pte_is_leaf(*e, level)) {
                ASSERT(va >= rw->start &&
                       va + pt_level_size(level) - 1 <= rw->last);
                return leaf_apply(rw, e, va);
        }
        child = pte_table_pa(*e);
        if (!range_table(rw, child, level - 1, va) ||
            !table_freeable(level - 1, va) || !table_empty(child))
                return false;
        /* Every leaf below was batched for invalidation, and invlpg of an
         * address also drops the upper-level entries the CPU cached for
         * it: once pmap_update() has run, nothing can reach the table. */
        *e = 0;
        root_touched(rw->pm, e);
        table_defer_free(rw->pm, child);
        return true;
}

/*
 * Apply rw to the entries of the level-`level` table at pa (entry 0 maps
 * base) that meet the range. Absent entries are skipped whole, which keeps
 * sparse ranges cheap.
 * => true if some entry was cleared.
 */
static bool range_table(struct range_walk *rw, paddr_t pa, unsigned level,
                        vaddr_t base)
{
        pte_t *t = table_of(pa);
        uint64_t size = pt_level_size(level);
        vaddr_t table_last = base + PT_ENTRIES * size - 1;
        unsigned first = rw->start <= base ? 0 : pt_index(rw->start, level);
        unsigned last = rw->last >= table_last ? PT_ENTRIES - 1
                                               : pt_index(rw->last, level);
        bool cleared = false;

        for (unsigned i = first; i <= last; i++)
                cleared |= range_entry(rw, &t[i], level, base + i * size);
        return cleared;
}

/*
 * Run rw over [start, end) (end 0: the top of the address space): check the
 * range, split the large pages at its edges, then walk from the PML4.
 * => VM_EINVAL (bad range) or VM_ENOMEM (a split failed): no mapping changed.
 */
static vm_status_t range_run(struct range_walk *rw, vaddr_t start,
                             vaddr_t end)
{
        struct pmap *pm = rw->pm;
        pte_t *top = table_of(pm->root);
        vm_status_t st;

        if (start == end)
                return is_aligned(start, PAGE_SIZE) ? VM_OK : VM_EINVAL;
        st = check_range(pm, start, end - start, &rw->last);
        if (st != VM_OK)
                return st;
        rw->start = start;
        st = split_at(pm, start);
        if (st == VM_OK && va_is_canonical(rw->last + 1) && rw->last + 1 != 0)
                st = split_at(pm, rw->last + 1);
        if (st != VM_OK)
                return st;
        for (unsigned i = pt_index(start, PT_LEVELS); i <= pt_index(rw->last, PT_LEVELS); i++)
                range_entry(rw, &top[i], PT_LEVELS,
                            va_canonical((vaddr_t)i << pt_shift(PT_LEVELS)));
        flush_root(pm);
        return VM_OK;
}

/* ---- the contract (vm/pmap.h) ------------------------------------------ */

struct pmap *pmap_kernel(void)
{
        return &kernel_pmap;
}

/* Give every kernel-half root slot of [first, last] a level-2 table. */
static vm_status_t bootstrap_slots(struct pmap *pm, vaddr_t first,
                                   vaddr_t last)
{
        pte_t *top = table_of(pm->root);

        for (unsigned i = pt_index(first, PT_LEVELS); i <= pt_index(last, PT_LEVELS); i++) {
                paddr_t pa;

                if (pte_present(top[i]))
                        continue;
                if (vm_ptpage_alloc(&pa) != VM_OK)
                        return VM_ENOMEM;
                top[i] = table_entry(pa, first);
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
        pm->kroot = pm->root;
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
        memcpy(kernel_top, &table_of(pm->root)[KERNEL_SLOT0], sizeof kernel_top);
        return VM_OK;
}

/*
 * A new user address space: an empty user root, and a kernel root whose
 * kernel half is a copy of the kernel's (as Linux's pgd_alloc copies
 * swapper_pg_dir) and whose user half follows the user root.
 * => pmap_bootstrap() has run. VM_ENOMEM if the struct or a root ran out.
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
        if (vm_ptpage_alloc(&pm->kroot) != VM_OK) {
                vm_ptpage_free(pm->root);
                kfree(pm);
                return VM_ENOMEM;
        }
        pm->table_pages = 2;
        memcpy(&table_of(pm->kroot)[KERNEL_SLOT0],
               &table_of(kernel_pmap.root)[KERNEL_SLOT0], sizeof kernel_top);
        *out = pm;
        return VM_OK;
}

/*
 * Free a user pmap's own tables (user half and both roots), never the
 * shared kernel tables; the frames it maps stay with their owners.
 * => pm is not the kernel pmap and neither root is in satp.
 */
void pmap_destroy(struct pmap *pm)
{
        pte_t *top = table_of(pm->root);

        ASSERT(pm != &kernel_pmap && mmu_current_root() != pm->root &&
               mmu_current_root() != pm->kroot);
        for (unsigned i = 0; i < KERNEL_SLOT0; i++) {
                if (!pte_present(top[i]))
                        continue;
                if (pte_is_leaf(top[i], PT_LEVELS))
                        tlb_pend(pm, (vaddr_t)i << pt_shift(PT_LEVELS), top[i]);
                else
                        subtree_detach(pm, pte_table_pa(top[i]), PT_LEVELS - 1,
                                       (vaddr_t)i << pt_shift(PT_LEVELS));
                top[i] = 0;
        }
        pmap_update(pm);
        ASSERT(pm->table_pages == 2);
        vm_ptpage_free(pm->root);
        vm_ptpage_free(pm->kroot);
        kfree(pm);
}

/*
 * Map the 4 KiB page va -> pa (see vm/pmap.h); VM_PROT_NONE removes it.
 * Write-only maps as read-write (W needs R in Sv39); exec-only stays
 * exec-only. The faulting access presets A and D (see the top).
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
        flush_root(pm);
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

                st = map_chunk(pm, va, pa, level, prot, flags);
                flush_root(pm);
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
 * Give every mapped page in [start, end) the protection prot; the user and
 * global bits stay, and so do A and D. VM_PROT_NONE removes the pages.
 * => errors as pmap_remove(), plus VM_EINVAL for unknown prot bits.
 */
vm_status_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end,
                         vm_prot_t prot)
{
        struct range_walk rw = { .pm = pm, .clear = PTE_R | PTE_W | PTE_X };

        if (prot & ~VM_PROT_ALL)
                return VM_EINVAL;
        if (prot == VM_PROT_NONE)
                return pmap_remove(pm, start, end);
        rw.set = ((prot & (VM_PROT_READ | VM_PROT_WRITE)) ? PTE_R : 0) |
                 ((prot & VM_PROT_WRITE) ? PTE_W : 0) |
                 ((prot & VM_PROT_EXEC) ? PTE_X : 0);
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
                root_touched(va_is_user_half(va) ? pm : &kernel_pmap, e);
                flush_root(pm);
                /* Kernel-half pages are the kernel pmap's to invalidate. */
                tlb_pend(va_is_user_half(va) ? pm : &kernel_pmap,
                         align_down(va, pt_level_size(level)), old);
        }
        return bits;
}

/* Load pm's kernel table into satp: the kernel runs on it; the
 * trampoline switches to pm->root on the way to user mode. */
void pmap_activate(struct pmap *pm)
{
        mmu_load_root(pm->kroot);
}

/*
 * Issue the invalidations batched on pm, then free its detached tables.
 * A user pmap whose roots are not loaded has nothing cached (one CPU,
 * ASID 0: loading another satp came with a full sfence.vma), so its batch is dropped
 * unless it changed global entries. The kernel pmap's kernel half is live
 * in every address space, so its batch always goes out.
 */
void pmap_update(struct pmap *pm)
{
        struct pmap_tlb_batch *b = &pm->tlb;
        bool live = pm->is_kernel || b->global ||
                    mmu_current_root() == pm->root ||
                    mmu_current_root() == pm->kroot;

        if (live && b->flush_all)
                mmu_flush_tlb(b->global);
        else if (live)
                for (unsigned i = 0; i < b->n; i++)
                        mmu_invlpg(b->va[i]);
        b->n = 0;
        b->flush_all = false;
        b->global = false;
        table_free_deferred(pm);
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
        if (pa < pmm_ram_base() ||
            (pa - pmm_ram_base()) >> PAGE_SHIFT >= pmm_npages())
                return false;
        pg = pmm_pa_to_page(pa);
        return !(pg->flags & (PG_FREE | PG_RESERVED)) && pg->refcount != 0;
}

/* Only the bits pmap.c ever writes into a leaf at `level`. */
static bool check_leaf(const struct check_ctx *c, pte_t e, unsigned level,
                       vaddr_t va)
{
        pte_t allowed = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_G |
                        PTE_A | PTE_D | PTE_SW_NOCACHE | PTE_SW_WC |
                        (PTE_PPN_MASK & ~((pt_level_size(level) - 1) >> 2));

        if (e & ~allowed)
                return check_bad(c, "unexpected bits in a leaf", va, level, e);
        if ((e & (PTE_R | PTE_W)) == PTE_W)
                return check_bad(c, "W without R (reserved)", va, level, e);
        if ((e & PTE_U) && !va_is_user_half(va))
                return check_bad(c, "user page in the kernel half", va,
                                  level, e);
        return true;
}

static bool check_table(struct check_ctx *c, paddr_t pa, unsigned level,
                        vaddr_t base, bool may_be_empty);

/* An upper-level entry: exactly V, pointing at a good table. */
static bool check_upper(struct check_ctx *c, pte_t e, unsigned level,
                        vaddr_t va)
{
        if (e != table_entry(pte_table_pa(e), va))
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
        const pte_t *t = table_of(pa);
        unsigned end = level == PT_LEVELS && !c->pm->is_kernel ? KERNEL_SLOT0
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

/* kroot: slots 256..511 equal the boot-time kernel half, 0..255 root's;
 * root of a user pmap: no kernel-half entry. */
static bool check_kernel_half(struct check_ctx *c)
{
        const pte_t *top = table_of(c->pm->root), *ktop = table_of(c->pm->kroot);

        for (unsigned i = KERNEL_SLOT0; i < PT_ENTRIES; i++) {
                vaddr_t va = va_canonical((vaddr_t)i << pt_shift(PT_LEVELS));
                if (ktop[i] != kernel_top[i - KERNEL_SLOT0])
                        return check_bad(c, "kernel half differs from the "
                                          "kernel pmap's", va, PT_LEVELS, ktop[i]);
                if (!c->pm->is_kernel && top[i] != 0)
                        return check_bad(c, "kernel entry in a user table",
                                          va, PT_LEVELS, top[i]);
        }
        for (unsigned i = 0; i < KERNEL_SLOT0 && !c->pm->is_kernel; i++)
                if (ktop[i] != top[i])
                        return check_bad(c, "kernel table's user half differs "
                                          "from the user table's",
                                          (vaddr_t)i << pt_shift(PT_LEVELS),
                                          PT_LEVELS, ktop[i]);
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

        if (pm->root == 0 || !is_aligned(pm->root, PAGE_SIZE) || pm->kroot == 0)
                return check_bad(&c, "no root", 0, PT_LEVELS, pm->root);
        if (pm->tlb.n > PMAP_TLB_BATCH)
                return check_bad(&c, "TLB batch overflow", 0, 0, pm->tlb.n);
        for (paddr_t pa = pm->free_list; pa && listed <= pm->free_pages;
             pa = table_of(pa)[0])
                listed++;
        if (listed != pm->free_pages)
                return check_bad(&c, "deferred-free list length", 0, 0,
                                  listed);
        if (!check_kernel_half(&c) || !check_table(&c, pm->root, PT_LEVELS, 0, true))
                return false;
        if (c.tables + pm->free_pages + (pm->is_kernel ? 0 : 1) != pm->table_pages)
                return check_bad(&c, "table page count differs from a walk",
                                  0, 0, c.tables);
        return true;
}
