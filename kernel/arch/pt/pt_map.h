/*
 * pt_map.h - how the shared table code (pt_engine.h, pt_view.h) reaches a
 * table page: the format's map/unmap hooks, or the identity defaults.
 *
 * x86-64, riscv64 and the host tier reach every table page through their
 * linear map (pt_table()): the defaults below make a "mapping" the plain
 * pointer and its release nothing, so the compiler emits what it did
 * before the hooks existed. i386 with its page tables in HIGHMEM
 * (pte.h, pt_map_i386.h) supplies its own: a low-memory table through
 * __va, a high table of the loaded space through the recursive slot, any
 * other through kmap_atomic.
 *
 * The contract, for the format and for the table code:
 *   pt_map(pm, pa, level, va)  a pointer to the level-`level` table at pa,
 *                 which pm's tree links on the way to va right now (so the
 *                 loaded space's tables may be reached through a window
 *                 that follows its directory);
 *   pt_map_pa(pa) a pointer to the table page at pa whether or not any
 *                 tree links it (a table just made or just unlinked, the
 *                 deferred-free list, the picture feed's walk of any space);
 *   pt_unmap(p)   release what either returned (p may point anywhere in
 *                 that page).
 * Mappings nest and are released innermost first (kmap_atomic's per-CPU
 * slots are a stack); no mapping is held across anything that may sleep.
 * The root table and the kernel half's tables are always low memory:
 * pt_table() may reach them directly (the table code maps the root like
 * any table inside a walk, so that every pointer of a walk is released
 * the same way).
 *   pt_alloc_table(pm, level, va, &pa)  a zeroed table page for a level-
 *                 `level` table of pm on the way to va (default:
 *                 vm_ptpage_alloc; i386 takes user page tables from
 *                 HIGHMEM when it may);
 *   pt_table_linked(pm, pa, level, va)  the level-`level` table at pa has
 *                 just been linked into pm's tree on the way to va (in
 *                 place of nothing, or of a large leaf), before any
 *                 pt_map() of it (default: nothing; i386 drops what the TLB
 *                 may remember of the recursive slot's window there).
 */
#ifndef ARCH_PT_MAP_H
#define ARCH_PT_MAP_H

#ifndef pt_map
#define pt_map(pm, pa, level, va)       ((void)(pm), (void)(level), \
                                         (void)(va), pt_table(pa))
#define pt_map_pa(pa)                   pt_table(pa)
#define pt_unmap(p)                     ((void)(p))
#endif

#ifndef pt_alloc_table
#define pt_alloc_table(pm, level, va, pa)       vm_ptpage_alloc(pa)
#endif
#ifndef pt_table_linked
#define pt_table_linked(pm, pa, level, va)      ((void)0)
#endif

#endif
