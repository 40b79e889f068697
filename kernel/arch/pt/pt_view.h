/*
 * pt_view.h - the picture feed's walk of a page-table tree
 * (vm_view_pt_summary, vm/vm_view.h), written once over the table
 * engine's vocabulary (pt_engine.h lists it: pte_t, PT_ENTRIES,
 * pt_level_size, pt_shift, pte_present, pte_is_leaf, pte_table_pa,
 * pt_table) and included by each architecture's vmview_md.c, as the
 * engine itself is by pmap.c.
 *
 * The caller starts the summary (pt_view_begin: names, how many levels,
 * per level how many entries a table has and what one entry spans) and
 * hands each top table to pt_view_table with the number of its entries
 * that belong to the user half. Below the top every table is a whole
 * PT_ENTRIES-entry table of the engine. An architecture whose hardware
 * has a level the engine does not see (i386's PAE PDPT) counts that level
 * itself with pt_view_note and then walks the tables under it.
 *
 * Touches nothing but the table pages it reads (through pt_map_pa(),
 * pt_map.h).
 */
#ifndef ARCH_PT_VIEW_H
#define ARCH_PT_VIEW_H

#include <mercator/string.h>
#include <vm/vm_view.h>
#include <arch/pt/pt_map.h>

struct pt_view_walk {
        struct vm_pt_summary *out;
        bool (*fn)(void *arg, const struct vm_pt_table *t);
        void *arg;
};

/* Clear *out and name its levels: names[l], per[l] entries per table and
 * shift[l] (an entry at level l spans 1 << shift[l] bytes), l = 1..levels.
 * The leaf tables' entry count is also out->entries_per_table. */
static inline void pt_view_begin(struct pt_view_walk *w,
                                 struct vm_pt_summary *out, unsigned levels,
                                 const char *const *names,
                                 const unsigned *per, const unsigned *shift,
                                 bool (*fn)(void *arg,
                                            const struct vm_pt_table *t),
                                 void *arg)
{
        memset(out, 0, sizeof *out);
        *w = (struct pt_view_walk){ .out = out, .fn = fn, .arg = arg };
        out->levels = levels;
        out->entries_per_table = per[1];
        for (unsigned l = 1; l <= levels; l++) {
                out->level_name[l] = names[l];
                out->per_table[l] = per[l];
                out->shift[l] = shift[l];
        }
}

/* Count one table page (me) in the summary and show it to the caller's
 * fn, which may stop the listing (not the counting). */
static inline void pt_view_note(struct pt_view_walk *w,
                                const struct vm_pt_table *me)
{
        w->out->tables[me->level]++;
        w->out->entries[me->level] += me->entries;
        w->out->large_leaves[me->level] += me->large_leaves;
        if (w->fn && !w->fn(w->arg, me))
                w->fn = NULL;           /* the caller has had enough */
}

/* The next entry of the table at pa from index i on (below n) that
 * names a table one level down; n if none. Maps the table only while it
 * reads it, so no mapping is held across the caller's fn or a recursion
 * deeper than the tree. */
static unsigned pt_view_next_child(paddr_t pa, unsigned level, unsigned i,
                                   unsigned n, paddr_t *child)
{
        const pte_t *t = pt_map_pa(pa);

        for (; i < n; i++)
                if (pte_present(t[i]) && !pte_is_leaf(t[i], level)) {
                        *child = pte_table_pa(t[i]);
                        break;
                }
        pt_unmap(t);
        return i;
}

/* The engine's table at pa (level `level`, translating from va), its
 * first n entries, and every table below them, parents first. The tables
 * may belong to any space (the feed walks other processes'): they are
 * reached with pt_map_pa() (pt_map.h). */
static void pt_view_table(struct pt_view_walk *w, paddr_t pa, unsigned level,
                          vaddr_t va, unsigned n)
{
        const pte_t *t = pt_map_pa(pa);
        struct vm_pt_table me = { .level = level, .va = va, .pa = pa };
        paddr_t child = 0;

        for (unsigned i = 0; i < n; i++) {
                if (!pte_present(t[i]))
                        continue;
                me.entries++;
                if (level > 1 && pte_is_leaf(t[i], level))
                        me.large_leaves++;
        }
        pt_unmap(t);
        pt_view_note(w, &me);
        if (level == 1)
                return;
        for (unsigned i = 0;
             (i = pt_view_next_child(pa, level, i, n, &child)) < n; i++)
                pt_view_table(w, child, level - 1,
                              va + i * pt_level_size(level), PT_ENTRIES);
}

#endif
