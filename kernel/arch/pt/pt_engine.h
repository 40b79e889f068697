/*
 * pt_engine.h - the page-table engine every format shares: walks, table
 * creation, range walks (remove, protect), deferred freeing of table
 * pages, TLB batching and large-page splitting. It names no hardware bit:
 * it is written against the small vocabulary each format's pte.h supplies,
 * and included (static functions, so the compiler inlines them as before)
 * by that format's pmap.c after its pte.h, mmu.h and pmap_md.h.
 *
 * What the includer must define first:
 *   pte.h   pte_t; PT_LEVELS (top level = PT_LEVELS, leaves at 1);
 *           PT_ENTRIES; pt_shift(level), pt_level_size(level),
 *           pt_index(va, level); pte_present(e), pte_is_leaf(e, level),
 *           pte_table_pa(e), pte_leaf_pa(e, level);
 *           pte_make_table(pa, va)  an entry pointing at the table at pa on
 *                                   the way to va;
 *           pte_split_child(big, level, pa)  the leaf one level below
 *                                   `level` that maps pa with big's rights,
 *                                   cache type and accessed/dirty bits;
 *           pte_is_global(e), pte_ad_bits(e) (the accessed/dirty bits of e,
 *                                   kept when a page is re-entered);
 *           pt_table(pa)           a kernel pointer to the table page at pa;
 *           va_is_canonical(va), va_canonical(va), va_is_user_half(va).
 *   mmu.h   mmu_invlpg(va), mmu_flush_tlb(global), mmu_current_root().
 *   pmap_md.h  struct pmap with root, table_pages, is_kernel, tlb
 *           (struct pmap_tlb_batch: va[PMAP_TLB_BATCH], n, flush_all,
 *           global), free_list and free_pages.
 *
 * Locks: the caller's (the pmap's owner serializes; see pmap_md.h).
 */
#ifndef ARCH_PT_ENGINE_H
#define ARCH_PT_ENGINE_H

#include <mercator/panic.h>
#include <vm/pmap.h>

/* ---- TLB batch and deferred freeing ------------------------------------ */

/* The TLB may still hold `old`, the entry that mapped va until now. */
static void tlb_pend(struct pmap *pm, vaddr_t va, pte_t old)
{
        struct pmap_tlb_batch *b = &pm->tlb;

        if (pte_is_global(old))
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
        pt_table(pa)[0] = pm->free_list;
        pm->free_list = pa;
        pm->free_pages++;
}

static void table_free_deferred(struct pmap *pm)
{
        while (pm->free_list) {
                paddr_t pa = pm->free_list;

                pm->free_list = pt_table(pa)[0];
                vm_ptpage_free(pa);
                pm->free_pages--;
                pm->table_pages--;
        }
}

/* ---- walks -------------------------------------------------------------- */

/* The leaf entry that maps va (canonical), and its level; NULL if none. */
static pte_t *walk_find(const struct pmap *pm, vaddr_t va, unsigned *level)
{
        pte_t *table = pt_table(pm->root);

        for (unsigned l = PT_LEVELS;; l--) {
                pte_t *e = &table[pt_index(va, l)];

                if (!pte_present(*e))
                        return NULL;
                if (pte_is_leaf(*e, l)) {
                        *level = l;
                        return e;
                }
                table = pt_table(pte_table_pa(*e));
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
        pte_t *table = pt_table(pm->root);
        unsigned l, n, i;

        for (l = PT_LEVELS; l > level; l--) {
                pte_t e = table[pt_index(va, l)];

                if (!pte_present(e))
                        break;
                if (pte_is_leaf(e, l))
                        return VM_EINVAL;
                table = pt_table(pte_table_pa(e));
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
                table[pt_index(va, l)] = pte_make_table(fresh[i], va);
                table = pt_table(fresh[i]);
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

        if (pte_present(old) && pte_is_leaf(old, level) &&
            pte_leaf_pa(old, level) == pte_leaf_pa(e, level))
                e |= pte_ad_bits(old);
        *pte = e;
        if (pte_present(old))
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
        pte_t *t = pt_table(pa);

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
        pte_t old = *e, *t;
        paddr_t pa = pte_leaf_pa(old, level), tpa;

        if (vm_ptpage_alloc(&tpa) != VM_OK)
                return VM_ENOMEM;
        t = pt_table(tpa);
        for (unsigned i = 0; i < PT_ENTRIES; i++)
                t[i] = pte_split_child(old, level, pa + i * step);
        *e = pte_make_table(tpa, va);
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

/* Install leaf e (a page of `level`) at va, replacing whatever mapped that
 * span (a smaller page's table is detached and freed at pmap_update()).
 * => VM_ENOMEM/VM_EINVAL as walk_create(); then nothing changed. */
static vm_status_t map_leaf(struct pmap *pm, vaddr_t va, unsigned level,
                            pte_t e)
{
        vm_status_t st;
        pte_t *pte, old;

        st = walk_create(pm, va, level, &pte);
        if (st != VM_OK)
                return st;
        old = *pte;
        leaf_install(pm, pte, va, level, e);
        if (pte_present(old) && !pte_is_leaf(old, level))
                subtree_detach(pm, pte_table_pa(old), level - 1, va);
        return VM_OK;
}

/* ---- range walks: remove and protect ----------------------------------- */

/* One pass over the leaves of [start, last], after its edges were split. */
struct range_walk {
        struct pmap *pm;
        vaddr_t      start, last;       /* inclusive; inside one half */
        bool         remove;            /* clear leaves; else: */
        pte_t        set, clear;        /* bits to set / clear in leaves */
};

/* Tables that may be freed when empty: all but the top-level table and the
 * kernel half's tables one level down, which pmap_bootstrap() made so that
 * the kernel half's top-level entries never change. */
static bool table_freeable(unsigned level, vaddr_t va)
{
        return level < PT_LEVELS - 1 ||
               (level == PT_LEVELS - 1 && va_is_user_half(va));
}

static bool table_empty(paddr_t pa)
{
        const pte_t *t = pt_table(pa);

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
        pte_t *t = pt_table(pa);
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
 * Run rw over [start, last] (already checked by the format: page-aligned,
 * in one half, allowed for pm): split the large pages at its edges, then
 * walk from the top-level table.
 * => VM_ENOMEM if a split failed: no mapping changed.
 */
static vm_status_t range_apply(struct range_walk *rw, vaddr_t start,
                               vaddr_t last)
{
        struct pmap *pm = rw->pm;
        pte_t *top = pt_table(pm->root);
        vm_status_t st;

        rw->start = start;
        rw->last = last;
        st = split_at(pm, start);
        if (st == VM_OK && va_is_canonical(last + 1) && last + 1 != 0)
                st = split_at(pm, last + 1);
        if (st != VM_OK)
                return st;
        for (unsigned i = pt_index(start, PT_LEVELS);
             i <= pt_index(last, PT_LEVELS); i++)
                range_entry(rw, &top[i], PT_LEVELS,
                            va_canonical((vaddr_t)i << pt_shift(PT_LEVELS)));
        return VM_OK;
}

/* ---- pmap_update ---------------------------------------------------------- */

/*
 * Issue the invalidations batched on pm, then free its detached tables.
 * A user pmap that is not loaded has nothing cached (one CPU: loading
 * another root dropped its non-global entries), so its batch is dropped
 * unless it changed global entries. The kernel pmap's kernel half is live
 * in every address space, so its batch always goes out.
 */
static void tlb_update(struct pmap *pm)
{
        struct pmap_tlb_batch *b = &pm->tlb;
        bool live = pm->is_kernel || b->global ||
                    mmu_current_root() == pm->root;

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

#endif
