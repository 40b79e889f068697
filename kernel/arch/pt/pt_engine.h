/*
 * pt_engine.h - the page-table engine every format shares: walks, table
 * creation, range walks (remove, protect), deferred freeing of table
 * pages, TLB batching, large-page splitting, argument checks, the format-
 * neutral half of the vm/pmap.h contract (enter, enter_range, remove,
 * protect, extract, ad, update) and the walk of pmap_check(). It names no
 * hardware bit: it is written against the small vocabulary each format's
 * pte.h and pmap.c supply, and included (static functions, so the compiler
 * inlines them as before) by that format's pmap.c, once, after its pte.h,
 * mmu.h and pmap_md.h and the hooks below.
 *
 * What the includer must define first:
 *   pte.h   pte_t; PT_LEVELS (top level = PT_LEVELS, leaves at 1);
 *           PT_ENTRIES; PTE_A and PTE_D (the accessed and dirty bits of a
 *           leaf); pt_shift(level), pt_level_size(level),
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
 *   pmap.c  (the format's policy, before the #include)
 *           KERNEL_SLOT0, PT_PA_MAX, PMAP_FLAGS_ALL; kernel_pmap and
 *           kernel_top (the kernel half of its root after bootstrap);
 *           machine/vmparam.h's LINEAR_*, VMALLOC_*, IOREMAP_*, KERNEL_BASE;
 *           leaf_entry(pa, level, prot, flags), leaf_prot(e), leaf_flags(e);
 *           pte_prot_bits(prot) and PTE_PROT_MASK (what pmap_protect sets
 *           and clears in a leaf); pt_max_leaf_level() (largest page
 *           pmap_enter_range may use);
 *           PT_PEND_NEW_LEAVES  true if the MMU may cache an invalid entry,
 *                               so even a fresh mapping needs a fence;
 *           pt_root_written(pm, e)  entry e of some table of pm was just
 *                               stored (a format that mirrors its root, as
 *                               Sv39's two tables do, notes it);
 *           pt_root_sync(pm)    an operation on pm is done: mirror what
 *                               pt_root_written() noted;
 *           pmap_loaded(pm)     pm's tables are in the MMU now;
 *           pte_upper_ok(e, va) e is exactly what pte_make_table() makes
 *                               (up to bits the MMU sets itself);
 *           check_leaf(c, e, level, va), check_kernel_half(c) and
 *           pt_extra_tables(pm) (table pages of pm outside its root's tree)
 *           for pmap_check().
 *
 * What the includer may define (each has a default below):
 *   PT_TOP_ENTRIES   entries of the top-level table the engine manages
 *                    (PT_ENTRIES; i386: the directory array up to its
 *                    recursive slot, PD_SELF);
 *   pt_range_ok(pm, va, last)  a format's own limits on an operation's
 *                    range, on top of check_range()'s (true; i386: below
 *                    the kmap window, and no kernel large page split once
 *                    the kernel's entries were copied);
 *   pt_leaf_level_ok(level, va)  may pmap_enter_range put a leaf of
 *                    `level` at va (true; i386: no large kernel leaf, as
 *                    it would replace a top-level entry every space copied);
 *   PT_FORMAT_BOOTSTRAP  the format builds its kernel pmap itself: no
 *                    bootstrap_slots()/kernel_tables_build() (and no
 *                    LINEAR_*, KERNEL_BASE or kernel_top needed);
 *   pt_map(), pt_map_pa(), pt_unmap(), pt_alloc_table()  how a table page
 *                    is reached and where it comes from (pt_map.h: the
 *                    contract, and identity defaults; i386 maps a page
 *                    table in HIGHMEM).
 *
 * Reaching tables: a walk maps each table it passes, the root included,
 * with pt_map()/pt_map_pa() and releases it with pt_unmap() innermost
 * first (the root, always low memory, is also read alone through
 * pt_table() where nothing else is mapped). No mapping outlives the call
 * that made it but the entry walk_find()/walk_create() hand back (their
 * caller releases it), and none is held across anything that may sleep
 * (the page allocator does not).
 *
 * Locks: the caller's (the pmap's owner serializes; see pmap_md.h).
 */
#ifndef ARCH_PT_ENGINE_H
#define ARCH_PT_ENGINE_H

#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

#ifndef PT_TOP_ENTRIES
#define PT_TOP_ENTRIES          PT_ENTRIES
#endif
#ifndef pt_range_ok
#define pt_range_ok(pm, va, last)       true
#endif
#ifndef pt_leaf_level_ok
#define pt_leaf_level_ok(level, va)     true
#endif
/* Other CPUs that may cache pm's entries must drop what batch b lists
 * before pmap_update() frees anything (a format on one CPU: nothing). */
#ifndef pt_tlb_remote
#define pt_tlb_remote(pm, b)            ((void)(pm), (void)(b))
#endif
#include <arch/pt/pt_map.h>

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
        pte_t *t;

        ASSERT(pa != 0);
        t = pt_map_pa(pa);
        t[0] = pm->free_list;
        pt_unmap(t);
        pm->free_list = pa;
        pm->free_pages++;
}

static void table_free_deferred(struct pmap *pm)
{
        while (pm->free_list) {
                paddr_t pa = pm->free_list;
                pte_t *t = pt_map_pa(pa);

                pm->free_list = t[0];
                pt_unmap(t);
                vm_ptpage_free(pa);
                pm->free_pages--;
                pm->table_pages--;
        }
}

/* ---- entries shared with lock-free faults -------------------------------- */

/*
 * pmap_enter_fresh() walks and fills tables without the pmap's lock,
 * beside walk_create() under it: a link is published with a release
 * store after its table was zeroed, read with an acquire load, and a
 * leaf put in only where the entry is still empty. Atomic where an entry
 * is a machine word; a 32-bit machine (i386, whose PAE entries are two)
 * runs its kernel on one CPU, where interrupts off are enough.
 */
#if UINTPTR_MAX > 0xffffffffu
static inline pte_t pte_load_acquire(const pte_t *e)
{
        return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

static inline void pte_store_release(pte_t *e, pte_t v)
{
        __atomic_store_n(e, v, __ATOMIC_RELEASE);
}

/* Replace old with v unless the entry changed meanwhile (an MMU setting
 * an accessed or dirty bit, another lock-free fault). */
static inline bool pte_replace(pte_t *e, pte_t old, pte_t v)
{
        return __atomic_compare_exchange_n(e, &old, v, false,
                                           __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

static inline bool pte_fill_empty(pte_t *e, pte_t v)
{
        pte_t none = 0;

        return __atomic_compare_exchange_n(e, &none, v, false,
                                           __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}
#else
static inline pte_t pte_load_acquire(const pte_t *e)
{
        return *(const volatile pte_t *)e;
}

static inline void pte_store_release(pte_t *e, pte_t v)
{
        unsigned long s = intr_save();

        *(volatile pte_t *)e = v;
        intr_restore(s);
}

static inline bool pte_replace(pte_t *e, pte_t old, pte_t v)
{
        unsigned long s = intr_save();
        bool same = *(volatile pte_t *)e == old;

        if (same)
                *(volatile pte_t *)e = v;
        intr_restore(s);
        return same;
}

static inline bool pte_fill_empty(pte_t *e, pte_t v)
{
        return pte_replace(e, 0, v);
}
#endif

/* ---- walks -------------------------------------------------------------- */

/* The leaf entry that maps va (canonical), and its level; NULL if none.
 * => the entry's table stays mapped: the caller pt_unmap()s the entry. */
static inline __attribute__((always_inline)) pte_t *
walk_find(const struct pmap *pm, vaddr_t va, unsigned *level)
{
        pte_t *table = pt_map(pm, pm->root, PT_LEVELS, va);

        for (unsigned l = PT_LEVELS;; l--) {
                pte_t *e = &table[pt_index(va, l)];
                paddr_t next;

                if (!pte_present(*e)) {
                        pt_unmap(table);
                        return NULL;
                }
                if (pte_is_leaf(*e, l)) {
                        *level = l;
                        return e;
                }
                next = pte_table_pa(*e);
                pt_unmap(table);
                table = pt_map(pm, next, l - 1, va);
        }
}

/* Whether a leaf of some level maps va, and which (walk_find() without
 * the entry). */
static bool walk_level(const struct pmap *pm, vaddr_t va, unsigned *level)
{
        pte_t *e = walk_find(pm, va, level);

        if (!e)
                return false;
        pt_unmap(e);
        return true;
}

/*
 * Find the entry for va at `level`, creating the missing tables above it.
 * All of them are allocated before any is linked in.
 * => VM_EINVAL if a larger page already maps va; VM_ENOMEM if a table page
 *    could not be had. Either way nothing changed.
 * => VM_OK: *out's table stays mapped; the caller pt_unmap()s *out.
 */
static vm_status_t walk_create(struct pmap *pm, vaddr_t va, unsigned level,
                               pte_t **out)
{
        paddr_t fresh[PT_LEVELS];
        pte_t *table = pt_map(pm, pm->root, PT_LEVELS, va);
        unsigned l, n, i;

        for (l = PT_LEVELS; l > level; l--) {
                pte_t e = table[pt_index(va, l)];

                if (!pte_present(e))
                        break;
                pt_unmap(table);
                if (pte_is_leaf(e, l))
                        return VM_EINVAL;
                table = pt_map(pm, pte_table_pa(e), l - 1, va);
        }
        ASSERT(l < PT_LEVELS || level == PT_LEVELS || va_is_user_half(va));
        n = l - level;
        for (i = 0; i < n; i++) {
                if (pt_alloc_table(pm, l - 1 - i, va, &fresh[i]) != VM_OK) {
                        while (i--)
                                vm_ptpage_free(fresh[i]);
                        pt_unmap(table);
                        return VM_ENOMEM;
                }
        }
        for (i = 0; i < n; i++, l--) {
                /* Release: a walk without the lock (pmap_enter_fresh)
                 * that sees the link sees the zeroed table. */
                pte_store_release(&table[pt_index(va, l)],
                                  pte_make_table(fresh[i], va));
                pt_root_written(pm, &table[pt_index(va, l)]);
                pt_table_linked(pm, fresh[i], l - 1, va);
                pt_unmap(table);
                table = pt_map(pm, fresh[i], l - 1, va);
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
        pt_root_written(pm, pte);
        /* An MMU that may cache invalid entries (RISC-V: sfence.vma orders
         * the walk after the store) needs the fence for a new mapping too. */
        if (pte_present(old) || PT_PEND_NEW_LEAVES)
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
        pte_t *t = pt_map_pa(pa);       /* unlinked: no tree reaches it */

        for (unsigned i = 0; i < PT_ENTRIES; i++) {
                vaddr_t va = base + i * pt_level_size(level);

                if (!pte_present(t[i]))
                        continue;
                if (pte_is_leaf(t[i], level))
                        tlb_pend(pm, va, t[i]);
                else
                        subtree_detach(pm, pte_table_pa(t[i]), level - 1, va);
        }
        pt_unmap(t);
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

        if (pt_alloc_table(pm, level - 1, va, &tpa) != VM_OK)
                return VM_ENOMEM;
        t = pt_map_pa(tpa);             /* not linked yet */
        for (unsigned i = 0; i < PT_ENTRIES; i++)
                t[i] = pte_split_child(old, level, pa + i * step);
        pt_unmap(t);
        *e = pte_make_table(tpa, va);
        pt_root_written(pm, e);
        pt_table_linked(pm, tpa, level - 1, va);
        pm->table_pages++;
        if (va_is_user_half(va))
                vmstat.thp_split_pmd++;
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
        vm_status_t st;
        pte_t *e;

        while ((e = walk_find(pm, boundary, &level))) {
                if (level == 1 ||
                    is_aligned(boundary, pt_level_size(level))) {
                        pt_unmap(e);
                        break;
                }
                st = leaf_split(pm, e, level,
                                align_down(boundary, pt_level_size(level)));
                pt_unmap(e);
                if (st != VM_OK)
                        return VM_ENOMEM;
        }
        return VM_OK;
}

/*
 * Split whatever large page maps va down to 4 KiB pages (pmap_enter's
 * PMAP_DEMOTE). => VM_ENOMEM if a split failed; splits already done stay.
 */
static vm_status_t split_down(struct pmap *pm, vaddr_t va)
{
        unsigned level;
        vm_status_t st;
        pte_t *e;

        while ((e = walk_find(pm, va, &level))) {
                if (level == 1) {
                        pt_unmap(e);
                        break;
                }
                st = leaf_split(pm, e, level,
                                align_down(va, pt_level_size(level)));
                pt_unmap(e);
                if (st != VM_OK)
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
        pt_unmap(pte);
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

/*
 * Whether pm's level-`level` table at pa (on the way to va) is empty.
 * An absent entry is all zeroes (pmap_check: "stale bits in an absent
 * entry"), so the table is empty exactly when every word of it is 0: the
 * scan ORs eight words at a time. Entry by entry it cost about 6 000
 * instructions for one of i386's 1024-entry tables, paid by every
 * munmap or mprotect(PROT_NONE) that cleared the last page of a table
 * (a user-handled fault's round trip was half this scan).
 */
typedef uint64_t __attribute__((may_alias)) pt_word_t;

static bool table_empty(const struct pmap *pm, paddr_t pa, unsigned level,
                        vaddr_t va)
{
        const pte_t *t = pt_map(pm, pa, level, va);
        const pt_word_t *w = (const pt_word_t *)t;
        const unsigned words = PT_ENTRIES * sizeof(pte_t) / sizeof(pt_word_t);
        bool empty = true;

        _Static_assert(PT_ENTRIES * sizeof(pte_t) % (8 * sizeof(pt_word_t)) == 0,
                       "table_empty reads eight words at a time");
        for (unsigned i = 0; i < words && empty; i += 8)
                empty = !(w[i] | w[i + 1] | w[i + 2] | w[i + 3] |
                          w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7]);
        pt_unmap(t);
        return empty;
}

/* Apply rw to one leaf (mapping va); true if it was cleared. */
static bool leaf_apply(struct range_walk *rw, pte_t *e, vaddr_t va)
{
        pte_t old = *e, new = rw->remove ? 0 : (old & ~rw->clear) | rw->set;

        if (new == old)
                return false;
        *e = new;
        pt_root_written(rw->pm, e);
        tlb_pend(rw->pm, va, old);
        return new == 0;
}

static bool range_table(struct range_walk *rw, paddr_t pa, unsigned level,
                        vaddr_t base);

/* Apply rw to the leaf e that maps va at `level` (inside the range). */
static inline bool range_leaf(struct range_walk *rw, pte_t *e,
                              unsigned level, vaddr_t va)
{
        ASSERT(va >= rw->start && va + pt_level_size(level) - 1 <= rw->last);
        return leaf_apply(rw, e, va);
}

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
        if (pte_is_leaf(*e, level))
                return range_leaf(rw, e, level, va);
        child = pte_table_pa(*e);
        if (!range_table(rw, child, level - 1, va) ||
            !table_freeable(level - 1, va) ||
            !table_empty(rw->pm, child, level - 1, va))
                return false;
        /* Every leaf below was batched for invalidation, and invlpg of an
         * address also drops the upper-level entries the CPU cached for
         * it: once pmap_update() has run, nothing can reach the table. */
        *e = 0;
        pt_root_written(rw->pm, e);
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
        pte_t *t = pt_map(rw->pm, pa, level, base);
        uint64_t size = pt_level_size(level);
        vaddr_t table_last = base + PT_ENTRIES * size - 1;
        unsigned first = rw->start <= base ? 0 : pt_index(rw->start, level);
        unsigned last = rw->last >= table_last ? PT_ENTRIES - 1
                                               : pt_index(rw->last, level);
        bool cleared = false;

        for (unsigned i = first; i <= last; i++) {
                vaddr_t va = base + i * size;

                /* Leaves in the loop itself: no call per entry. */
                if (!pte_present(t[i]))
                        continue;
                if (pte_is_leaf(t[i], level))
                        cleared |= range_leaf(rw, &t[i], level, va);
                else
                        cleared |= range_entry(rw, &t[i], level, va);
        }
        pt_unmap(t);
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
        if (st != VM_OK) {
                pt_root_sync(pm);       /* a split may have changed a root entry */
                return st;
        }
        for (unsigned i = pt_index(start, PT_LEVELS);
             i <= pt_index(last, PT_LEVELS); i++)
                range_entry(rw, &top[i], PT_LEVELS,
                            va_canonical((vaddr_t)i << pt_shift(PT_LEVELS)));
        pt_root_sync(pm);
        return VM_OK;
}

/* ---- pmap_update ---------------------------------------------------------- */

/*
 * Issue the invalidations batched on pm, then free its detached tables.
 * A user pmap that is not loaded has nothing cached (one CPU: loading
 * another root dropped its non-global entries), so its batch is dropped
 * unless it changed global entries. The kernel pmap's kernel half is live
 * in every address space, so its batch always goes out. Then the other
 * CPUs that may hold them (pt_tlb_remote: one round of IPIs for the whole
 * batch, waited for), and only then are detached tables freed.
 */
static void tlb_update(struct pmap *pm)
{
        struct pmap_tlb_batch *b = &pm->tlb;
        bool live = pm->is_kernel || b->global || pmap_loaded(pm);

        if (live && b->flush_all)
                mmu_flush_tlb(b->global);
        else if (live)
                for (unsigned i = 0; i < b->n; i++)
                        mmu_invlpg(b->va[i]);
        pt_tlb_remote(pm, b);
        b->n = 0;
        b->flush_all = false;
        b->global = false;
        table_free_deferred(pm);
}

/* What else the batch holds stays for the next pmap_update() (on RISC-V,
 * new leaves that exec's loader left batched before the space's first
 * satp load: 14 of them seen in a static program's space): only va's own
 * entry, the last one if leaf_install() just added it, goes. */
void pmap_update_local(struct pmap *pm, vaddr_t va)
{
        struct pmap_tlb_batch *b = &pm->tlb;

        if (PT_PEND_NEW_LEAVES && pmap_loaded(pm))
                mmu_invlpg(va);
        if (!b->flush_all && b->n > 0 && b->va[b->n - 1] == va)
                b->n--;
}

/* ---- argument checks ------------------------------------------------------ */

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
        if (!pt_range_ok(pm, va, *last))
                return VM_EINVAL;
        return VM_OK;
}

/* Kernel-half mappings may only go below the boot-time top-level entries
 * (tables, never leaves: those entries are copied into every address
 * space once, at pmap_create()). */
static bool kernel_slots_fixed(const struct pmap *pm, vaddr_t va, vaddr_t last)
{
        const pte_t *top = pt_table(pm->root);

        if (va_is_user_half(va))
                return true;
        for (unsigned i = pt_index(va, PT_LEVELS);
             i <= pt_index(last, PT_LEVELS); i++)
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
        if (!is_aligned(pa, PAGE_SIZE) || pa > PT_PA_MAX ||
            len - 1 > PT_PA_MAX - pa)
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

/* The level of the largest page that can map the start of [va, va+len). */
static unsigned chunk_level(vaddr_t va, paddr_t pa, uint64_t len)
{
        for (unsigned level = pt_max_leaf_level(); level > 1; level--) {
                uint64_t size = pt_level_size(level);

                if (is_aligned(va | pa, size) && len >= size &&
                    pt_leaf_level_ok(level, va))
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

                if (walk_level(pm, va, &found) && found > level)
                        return true;
                va += size;
                pa += size;
                len -= size;
        }
        return false;
}

/*
 * Run rw over [start, end) (end 0: the top of the address space): check the
 * range, then split its edges and walk it (range_apply()).
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

#ifndef PT_FORMAT_BOOTSTRAP
/* Give every kernel-half top-level slot of [first, last] a table
 * (pmap_bootstrap()). */
static vm_status_t bootstrap_slots(struct pmap *pm, vaddr_t first,
                                   vaddr_t last)
{
        pte_t *top = pt_table(pm->root);

        for (unsigned i = pt_index(first, PT_LEVELS);
             i <= pt_index(last, PT_LEVELS); i++) {
                paddr_t pa;

                if (pte_present(top[i]))
                        continue;
                if (vm_ptpage_alloc(&pa) != VM_OK)
                        return VM_ENOMEM;
                top[i] = pte_make_table(pa, first);
                pm->table_pages++;
        }
        return VM_OK;
}

/*
 * The kernel pmap's root and the tables under its kernel-half slots, which
 * every address space will share (pmap_bootstrap()). kernel_top keeps the
 * slots for pmap_check().
 * => VM_EINVAL if RAM does not fit the linear map: pm is left as it was.
 *    VM_ENOMEM: the pages
 *    taken so far are not given back (at boot they come from bootmem,
 *    which cannot take pages back, and the kernel stops).
 */
static vm_status_t kernel_tables_build(struct pmap *pm, paddr_t ram_end)
{
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

#endif /* PT_FORMAT_BOOTSTRAP */

/* Unlink every table and leaf of pm's user half (pmap_destroy()): the
 * pages go to the deferred list, the invalidations to the batch. */
static void user_half_detach(struct pmap *pm)
{
        pte_t *top = pt_table(pm->root);

        for (unsigned i = 0; i < KERNEL_SLOT0; i++) {
                vaddr_t va = (vaddr_t)i << pt_shift(PT_LEVELS);

                if (!pte_present(top[i]))
                        continue;
                if (pte_is_leaf(top[i], PT_LEVELS))
                        tlb_pend(pm, va, top[i]);
                else
                        subtree_detach(pm, pte_table_pa(top[i]),
                                       PT_LEVELS - 1, va);
                top[i] = 0;
                pt_root_written(pm, &top[i]);
        }
        pt_root_sync(pm);
}

/* ---- the format-neutral half of the contract (vm/pmap.h) ----------------- */

struct pmap *pmap_kernel(void)
{
        return &kernel_pmap;
}

/*
 * Map the 4 KiB page va -> pa (see vm/pmap.h); VM_PROT_NONE removes it.
 * How prot and the faulting access (PMAP_ACCESS) become bits is the
 * format's leaf_entry() (see its pmap.c).
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
                if (!walk_level(pm, va, &level))
                        return VM_OK;
                if (level > 1 && !(flags & PMAP_DEMOTE))
                        return VM_EINVAL;
                return pmap_remove(pm, va, va + PAGE_SIZE);
        }
        st = walk_create(pm, va, 1, &pte);
        if (st == VM_EINVAL && (flags & PMAP_DEMOTE)) {
                /* A large page is in the way: split it, then again. */
                st = split_down(pm, va);
                pt_root_sync(pm);
                if (st == VM_OK)
                        st = walk_create(pm, va, 1, &pte);
        }
        if (st != VM_OK)
                return st;
        leaf_install(pm, pte, va, 1, leaf_entry(pa, 1, prot, flags));
        pt_unmap(pte);
        pt_root_sync(pm);
        return VM_OK;
}

/* Walk without the lock to va's last-level table: VM_OK and *out mapped
 * (the caller pt_unmap()s it), VM_ENOENT if a table is missing, VM_EEXIST
 * if a large page maps va. A table is linked zeroed, with one store
 * (walk_create): seen, its entries are too. */
static vm_status_t walk_fresh(struct pmap *pm, vaddr_t va, pte_t **out)
{
        pte_t *table = pt_map(pm, pm->root, PT_LEVELS, va);

        for (unsigned l = PT_LEVELS; l > 1; l--) {
                pte_t e = pte_load_acquire(&table[pt_index(va, l)]);

                pt_unmap(table);
                if (!pte_present(e))
                        return VM_ENOENT;
                if (pte_is_leaf(e, l))
                        return VM_EEXIST;
                table = pt_map(pm, pte_table_pa(e), l - 1, va);
        }
        *out = table;
        return VM_OK;
}

bool pmap_has_table(struct pmap *pm, vaddr_t va)
{
        pte_t *table;

        ASSERT(!pm->is_kernel && va_is_user_half(va));
        if (walk_fresh(pm, va, &table) != VM_OK)
                return false;
        pt_unmap(table);
        return true;
}

vm_status_t pmap_make_table(struct pmap *pm, vaddr_t va)
{
        pte_t *pte;
        vm_status_t st;

        ASSERT(!pm->is_kernel && va_is_user_half(va));
        st = walk_create(pm, va, 1, &pte);
        if (st != VM_OK)
                return st;
        pt_unmap(pte);
        pt_root_sync(pm);
        return VM_OK;
}

vm_status_t pmap_enter_fresh(struct pmap *pm, vaddr_t va, paddr_t pa,
                             vm_prot_t prot, unsigned flags)
{
        pte_t *table, *pte;
        vm_status_t st;
        bool put;

        ASSERT(!pm->is_kernel && va_is_user_half(va) &&
               is_aligned(va | pa, PAGE_SIZE) && prot != VM_PROT_NONE);
        st = walk_fresh(pm, va, &table);
        if (st != VM_OK)
                return st;
        pte = &table[pt_index(va, 1)];
        put = pte_fill_empty(pte, leaf_entry(pa, 1, prot, flags));
        pt_unmap(table);
        if (!put)
                return VM_EEXIST;
        /* What pmap_update_local() does after pmap_enter(): the fence
         * an MMU that caches absent entries needs (RISC-V). */
        if (PT_PEND_NEW_LEAVES && pmap_loaded(pm))
                mmu_invlpg(va);
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
                pt_root_sync(pm);
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
 * type, the user/global bits and A/D stay. VM_PROT_NONE removes the pages.
 * => errors as pmap_remove(), plus VM_EINVAL for unknown prot bits.
 */
vm_status_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end,
                         vm_prot_t prot)
{
        struct range_walk rw = { .pm = pm, .clear = PTE_PROT_MASK };

        if (prot & ~VM_PROT_ALL)
                return VM_EINVAL;
        if (prot == VM_PROT_NONE)
                return pmap_remove(pm, start, end);
        rw.set = pte_prot_bits(prot);
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

        pte_t leaf;

        if (!va_is_canonical(va) || !(e = walk_find(pm, va, &level)))
                return false;
        leaf = *e;
        pt_unmap(e);
        if (pa)
                *pa = pte_leaf_pa(leaf, level) | (va & (pt_level_size(level) - 1));
        if (prot)
                *prot = leaf_prot(leaf);
        if (flags)
                *flags = leaf_flags(leaf);
        return true;
}

/* ---- runs: a few neighbouring 4 KiB pages, one walk ------------------ */

/* Is [va, va + n pages) a run (see vm/pmap.h): page-aligned, in the user
 * half, 1..PMAP_RUN_MAX pages inside one last-level table? */
static bool run_ok(vaddr_t va, unsigned n)
{
        vaddr_t last = va + (vaddr_t)n * PAGE_SIZE - 1;

        return n >= 1 && n <= PMAP_RUN_MAX && is_aligned(va, PAGE_SIZE) &&
               va_is_canonical(va) && va_is_user_half(va) &&
               va >> pt_shift(2) == last >> pt_shift(2);
}

/* The last-level table that holds va's entry, mapped (the caller
 * pt_unmap()s it), or NULL where there is none (a missing table on the
 * way, or a larger leaf mapping va). */
static pte_t *walk_last_table(const struct pmap *pm, vaddr_t va)
{
        pte_t *table = pt_map(pm, pm->root, PT_LEVELS, va);

        for (unsigned l = PT_LEVELS; l > 1; l--) {
                /* Acquire: pmap_widen_fresh walks beside walk_create. */
                pte_t e = pte_load_acquire(&table[pt_index(va, l)]);

                pt_unmap(table);
                if (!pte_present(e) || pte_is_leaf(e, l))
                        return NULL;
                table = pt_map(pm, pte_table_pa(e), l - 1, va);
        }
        return table;
}

/* The pages of a run whose 4 KiB translation allows less than prot
 * (see vm/pmap.h): one walk, and a scan of the run's entries. */
uint32_t pmap_narrower_run(struct pmap *pm, vaddr_t va, unsigned n,
                           vm_prot_t prot)
{
        uint32_t found = 0;
        pte_t *t;

        ASSERT(run_ok(va, n));
        if (!(t = walk_last_table(pm, va)))
                return 0;
        for (unsigned i = 0; i < n; i++) {
                pte_t e = t[pt_index(va, 1) + i];

                if (pte_present(e) && (prot & ~leaf_prot(e)))
                        found |= 1u << i;
        }
        pt_unmap(t);
        return found;
}

/*
 * Widen the translations of a run that map the frames the caller names
 * (see vm/pmap.h): pmap_widen_run(), or with nolock pmap_widen_fresh().
 * Nothing goes into the TLB batch: an entry a TLB still holds allows
 * less than the new one, an access it refuses faults, and the fault path
 * enters the translation again (which invalidates it). Without the lock
 * each entry changes by compare-and-swap, and is fenced on this CPU where
 * an MMU keeps the older entry after its fault (RISC-V; x86 drops the
 * faulting one itself, and a neighbour it still holds faults once more:
 * an invlpg per page cost 25% of a reuse under TCG).
 */
static uint32_t widen(struct pmap *pm, vaddr_t va, unsigned n, uint32_t mask,
                      const paddr_t *pa, vm_prot_t prot, bool nolock)
{
        pte_t set = pte_prot_bits(prot);
        uint32_t done = 0;
        pte_t *t;

        ASSERT(run_ok(va, n) && prot != VM_PROT_NONE &&
               !(prot & ~VM_PROT_ALL));
        if (!mask || !(t = walk_last_table(pm, va)))
                return 0;
        for (unsigned i = 0; i < n; i++) {
                pte_t *e = &t[pt_index(va, 1) + i];
                pte_t old = nolock ? pte_load_acquire(e) : *e, new;

                if (!(mask >> i & 1) || !pte_present(old) ||
                    pte_leaf_pa(old, 1) != pa[i] || (leaf_prot(old) & ~prot))
                        continue;
                new = (old & ~PTE_PROT_MASK) | set;
                if (new == old)
                        continue;
                if (!nolock) {
                        *e = new;
                        pt_root_written(pm, e);
                } else if (!pte_replace(e, old, new)) {
                        continue;       /* changed: its own fault decides */
                } else if (PT_PEND_NEW_LEAVES && pmap_loaded(pm)) {
                        mmu_invlpg(va + (vaddr_t)i * PAGE_SIZE);
                }
                done |= 1u << i;
        }
        pt_unmap(t);
        if (!nolock)
                pt_root_sync(pm);
        return done;
}

uint32_t pmap_enter_fresh_run(struct pmap *pm, vaddr_t va, unsigned n,
                              uint32_t mask, uint32_t wmask, const paddr_t *pa,
                              vm_prot_t prot, unsigned flags)
{
        uint32_t done = 0;
        pte_t *t;

        ASSERT(!pm->is_kernel && run_ok(va, n) && prot != VM_PROT_NONE);
        if (!mask || !(t = walk_last_table(pm, va)))
                return 0;
        for (unsigned i = 0; i < n; i++) {
                vm_prot_t p = (wmask >> i & 1) ? prot : prot & ~VM_PROT_WRITE;

                if (!(mask >> i & 1) ||
                    !pte_fill_empty(&t[pt_index(va, 1) + i],
                                    leaf_entry(pa[i], 1, p, flags)))
                        continue;
                done |= 1u << i;
                if (PT_PEND_NEW_LEAVES && pmap_loaded(pm))
                        mmu_invlpg(va + (vaddr_t)i * PAGE_SIZE);
        }
        pt_unmap(t);
        return done;
}

uint32_t pmap_widen_run(struct pmap *pm, vaddr_t va, unsigned n, uint32_t mask,
                        const paddr_t *pa, vm_prot_t prot)
{
        return widen(pm, va, n, mask, pa, prot, false);
}

uint32_t pmap_widen_fresh(struct pmap *pm, vaddr_t va, unsigned n,
                          uint32_t mask, const paddr_t *pa, vm_prot_t prot)
{
        ASSERT(!pm->is_kernel);
        return widen(pm, va, n, mask, pa, prot, true);
}

/*
 * Swap va's read-only 4 KiB translation of old_pa for one of pa without
 * the pmap's lock (see vm/pmap.h): a compare-and-swap, again while only
 * an MMU's accessed bit moved; this CPU's entry invalidated; then the
 * round a batch of this one address takes (pt_tlb_remote), which raises
 * the generation a CPU that loads pm later compares (x86-64's PCIDs) and
 * sends the invalidation to every other CPU that has pm loaded by then,
 * waiting for each.
 */
vm_status_t pmap_replace_fresh(struct pmap *pm, vaddr_t va, paddr_t old_pa,
                               paddr_t pa, vm_prot_t prot, unsigned flags)
{
        struct pmap_tlb_batch b = { .va = { va }, .n = 1 };
        pte_t *t, *e, old;
        bool put = false;

        ASSERT(!pm->is_kernel && va_is_user_half(va) &&
               is_aligned(va | pa | old_pa, PAGE_SIZE) && prot != VM_PROT_NONE);
        if (!(t = walk_last_table(pm, va)))
                return VM_ENOENT;
        e = &t[pt_index(va, 1)];
        do {
                old = pte_load_acquire(e);
                if (!pte_present(old) || pte_leaf_pa(old, 1) != old_pa ||
                    (leaf_prot(old) & VM_PROT_WRITE))
                        break;
                put = pte_replace(e, old, leaf_entry(pa, 1, prot, flags));
        } while (!put);
        pt_unmap(t);
        if (!put)
                return VM_EEXIST;
        if (pmap_loaded(pm))
                mmu_invlpg(va);
        pt_tlb_remote(pm, &b);
        return VM_OK;
}

/*
 * Count the base pages mapped in [start, end) in one pass: a missing table
 * is skipped whole, a large page counted at once, and a last-level table
 * scanned entry by entry (where pmap_extract() per page would walk from
 * the root for every page, present or not).
 */
uint64_t pmap_mapped_pages(struct pmap *pm, vaddr_t start, vaddr_t end)
{
        uint64_t n = 0;
        vaddr_t va = start;

        while (va < end && va_is_canonical(va)) {
                pte_t *table = pt_map(pm, pm->root, PT_LEVELS, va), e;
                unsigned l = PT_LEVELS;

                for (;; l--) {
                        e = table[pt_index(va, l)];
                        if (!pte_present(e) || pte_is_leaf(e, l))
                                break;
                        pt_unmap(table);
                        table = pt_map(pm, pte_table_pa(e), l - 1, va);
                }
                vaddr_t span = pt_level_size(l);
                vaddr_t next = (va & ~(span - 1)) + span;
                if (l == 1) {
                        /* scan the rest of this last-level table */
                        vaddr_t table_end = (va & ~(pt_level_size(2) - 1)) +
                                            pt_level_size(2);
                        for (; va < end && va < table_end && va >= start;
                             va += PAGE_SIZE)
                                n += pte_present(table[pt_index(va, 1)]);
                        pt_unmap(table);
                        continue;
                }
                pt_unmap(table);
                if (pte_present(e))
                        n += (MIN(next, end) - va) >> PAGE_SHIFT;
                if (next <= va)
                        break;                  /* the top of the space */
                va = next;
        }
        return n;
}

uint64_t pmap_huge_size(void)
{
        return pt_level_size(2);
}

uint64_t pmap_page_size(struct pmap *pm, vaddr_t va)
{
        unsigned level;

        if (!va_is_canonical(va) || !walk_level(pm, va, &level))
                return 0;
        return pt_level_size(level);
}

/*
 * Read, and if `clear` reset, the A and D bits of va's page (for a large
 * page: the whole page's). Clearing batches an invalidation: a TLB entry
 * that remembers "already dirty" would let the next write skip setting D.
 * => PMAP_AD_* bits; 0 if va is unmapped or non-canonical.
 */
unsigned pmap_ad(struct pmap *pm, vaddr_t va, bool clear)
{
        /* Kernel-half pages are the kernel pmap's to invalidate. */
        struct pmap *owner = va_is_user_half(va) ? pm : &kernel_pmap;
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
                pt_root_written(owner, e);
        }
        pt_unmap(e);
        if (clear && bits) {
                pt_root_sync(owner);
                tlb_pend(owner, align_down(va, pt_level_size(level)), old);
        }
        return bits;
}

/* Issue the invalidations batched on pm, then free its detached tables. */
void pmap_update(struct pmap *pm)
{
        tlb_update(pm);
}

uint64_t pmap_table_pages(const struct pmap *pm)
{
        return pm->table_pages;
}

/* ---- pmap_check: the walk; the format checks leaves and the kernel half -- */

struct check_ctx {
        struct pmap *pm;
        uint64_t     tables;            /* table pages found by the walk */
};

static bool check_bad(const struct check_ctx *c, const char *why, vaddr_t va,
                      unsigned level, pte_t e)
{
        pr_err("pmap_check: pmap %p: %s (va %#" PRIx64 ", level %u, entry %#"
               PRIx64 ")\n", (void *)c->pm, why, (uint64_t)va, level,
               (uint64_t)e);
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

static bool check_leaf(const struct check_ctx *c, pte_t e, unsigned level,
                       vaddr_t va);
static bool check_kernel_half(struct check_ctx *c);
static bool check_table(struct check_ctx *c, paddr_t pa, unsigned level,
                        vaddr_t base, bool may_be_empty);

/* An upper-level entry: what pte_make_table() makes, pointing at a good
 * table. */
static bool check_upper(struct check_ctx *c, pte_t e, unsigned level,
                        vaddr_t va)
{
        if (!pte_upper_ok(e, va))
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
        const pte_t *t = pt_map(c->pm, pa, level, base);
        unsigned end = level < PT_LEVELS ? PT_ENTRIES :
                       c->pm->is_kernel ? PT_TOP_ENTRIES : KERNEL_SLOT0;
        bool any = false, ok = true;

        c->tables++;
        for (unsigned i = 0; i < end && ok; i++) {
                vaddr_t va = va_canonical(base + i * pt_level_size(level));
                pte_t e = t[i];

                if (!pte_present(e)) {
                        if (e != 0)
                                ok = check_bad(c, "stale bits in an absent "
                                               "entry", va, level, e);
                        continue;
                }
                any = true;
                ok = pte_is_leaf(e, level) ? check_leaf(c, e, level, va)
                                           : check_upper(c, e, level, va);
        }
        pt_unmap(t);
        if (ok && !any && !may_be_empty)
                return check_bad(c, "empty table left allocated", base,
                                 level, pa);
        return ok;
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
                return check_bad(&c, "no root table", 0, PT_LEVELS, pm->root);
        if (pm->tlb.n > PMAP_TLB_BATCH)
                return check_bad(&c, "TLB batch overflow", 0, 0, pm->tlb.n);
        for (paddr_t pa = pm->free_list; pa && listed <= pm->free_pages;) {
                const pte_t *t = pt_map_pa(pa);

                pa = t[0];
                pt_unmap(t);
                listed++;
        }
        if (listed != pm->free_pages)
                return check_bad(&c, "deferred-free list length", 0, 0,
                                 listed);
        if (!check_kernel_half(&c) ||
            !check_table(&c, pm->root, PT_LEVELS, 0, true))
                return false;
        if (c.tables + pm->free_pages + pt_extra_tables(pm) != pm->table_pages)
                return check_bad(&c, "table page count differs from a walk",
                                 0, 0, c.tables);
        return true;
}

#endif
