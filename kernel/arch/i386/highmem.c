/*
 * highmem.c (i386) - the fixmap, kmap_atomic and the persistent kmap
 * window (machine/fixmap.h, machine/highmem.h), and the page-content
 * operations of vm/pmap.h on top of them.
 *
 * Owns: the fixmap's and the kmap window's page tables (made at boot, shared
 * by every directory), the window's use counts and its frame -> slot hash.
 * Invariants:
 *   1. pkmap_count[i] == 0: slot i maps nothing and no TLB holds it;
 *      == 1: it still maps pkmap_pfn[i] (maybe in a TLB) but nobody uses it;
 *      == n + 1: n users. Only count-1 slots are cleared, all at once, when
 *      the search for a free slot wraps (one TLB flush per wrap);
 *   2. a slot with count >= 1 is in the hash under its frame, once;
 *   3. this CPU's kmap_atomic slots FIX_KMAP_BEGIN + cpu * KM_MAX_IDX + d,
 *      d < km_depth[cpu], are mapped; the others are clear and invalidated.
 * Locks: none (one CPU; interrupt handlers use neither).
 */
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/fixmap.h>
#include <machine/highmem.h>
#include <machine/pmap.h>
#include <machine/pmparam.h>
#include <vm/pmap.h>
#include "boot.h"
#include "cpu.h"

#define PKMAP_HASH      256u
#define PKMAP_NONE      0xffffu

static uint32_t pkmap_count[LAST_PKMAP];
static uint32_t pkmap_pfn[LAST_PKMAP];
static uint16_t pkmap_hash_next[LAST_PKMAP];
static uint16_t pkmap_hash_head[PKMAP_HASH];
static unsigned last_pkmap_nr;
static struct kmap_stats stats;
static unsigned km_depth[MAX_CPUS];
static bool pkmap_ready;

static unsigned cpu_id(void)
{
        return 0;               /* one CPU so far */
}

bool pa_is_lowmem(paddr_t pa)
{
        return pa < lowmem_end;
}

/* --- fixmap --------------------------------------------------------------- */

void set_fixmap(unsigned idx, paddr_t pa, unsigned flags)
{
        vaddr_t va = fix_to_virt(idx);

        if (idx == FIX_HOLE || idx >= __end_of_fixed_addresses || pa >= PADDR_LIMIT)
                panic("set_fixmap: bad index %u or frame %#" PRIx64, idx, pa);
        fixmap_page_table[PT_INDEX(va)] = (pte_t)pa | PTE_P | PTE_RW |
                ((flags & PMAP_NOCACHE) ? PTE_PCD | PTE_PWT : 0);
        invlpg(va);
}

void clear_fixmap(unsigned idx)
{
        vaddr_t va = fix_to_virt(idx);

        fixmap_page_table[PT_INDEX(va)] = 0;
        invlpg(va);
}

/* --- kmap_atomic ---------------------------------------------------------- */

void *kmap_atomic(paddr_t pa)
{
        unsigned cpu = cpu_id();

        if (pa_is_lowmem(pa))
                return phys_to_virt(pa);
        if (km_depth[cpu] >= KM_MAX_IDX)
                panic("kmap_atomic: nested deeper than %u", KM_MAX_IDX);
        unsigned idx = FIX_KMAP_BEGIN + cpu * KM_MAX_IDX + km_depth[cpu]++;
        vaddr_t va = fix_to_virt(idx);

        stats.atomic_maps++;
        /* The slot was invalidated when it was last released: no invlpg. */
        fixmap_page_table[PT_INDEX(va)] = (pte_t)pa | PTE_P | PTE_RW;
        return (void *)va;
}

void kunmap_atomic(void *p)
{
        vaddr_t va = (vaddr_t)p;
        unsigned cpu = cpu_id();

        if (va < FIXADDR_START || va >= FIXADDR_END)
                return;                         /* low memory: nothing held */
        unsigned idx = virt_to_fix(va);
        if (km_depth[cpu] == 0 ||
            idx != FIX_KMAP_BEGIN + cpu * KM_MAX_IDX + km_depth[cpu] - 1)
                panic("kunmap_atomic: %#x is not the innermost slot", va);
        km_depth[cpu]--;
        clear_fixmap(idx);
}

void pmap_zero_page(paddr_t pa)
{
        void *va = kmap_atomic(pa);

        memset(va, 0, PAGE_SIZE);
        kunmap_atomic(va);
}

void pmap_copy_page(paddr_t src, paddr_t dst)
{
        void *s = kmap_atomic(src);
        void *d = kmap_atomic(dst);

        memcpy(d, s, PAGE_SIZE);
        kunmap_atomic(d);
        kunmap_atomic(s);
}

/* --- the persistent kmap window ------------------------------------------- */

unsigned pkmap_nr(vaddr_t va)
{
        return (unsigned)((va - PKMAP_BASE) >> PAGE_SHIFT);
}

vaddr_t pkmap_addr(unsigned nr)
{
        return PKMAP_BASE + ((vaddr_t)nr << PAGE_SHIFT);
}

static void pkmap_init(void)
{
        for (unsigned i = 0; i < PKMAP_HASH; i++)
                pkmap_hash_head[i] = PKMAP_NONE;
        last_pkmap_nr = LAST_PKMAP - 1;         /* the first search wraps */
        pkmap_ready = true;
}

static unsigned pkmap_hash(uint32_t pfn)
{
        return (pfn ^ (pfn >> 8)) % PKMAP_HASH;
}

static unsigned pkmap_lookup(uint32_t pfn)
{
        for (unsigned i = pkmap_hash_head[pkmap_hash(pfn)]; i != PKMAP_NONE;
             i = pkmap_hash_next[i])
                if (pkmap_pfn[i] == pfn)
                        return i;
        return PKMAP_NONE;
}

static void pkmap_hash_remove(unsigned nr)
{
        uint16_t *link = &pkmap_hash_head[pkmap_hash(pkmap_pfn[nr])];

        while (*link != nr)
                link = &pkmap_hash_next[*link];
        *link = pkmap_hash_next[nr];
}

/* Clear every slot nobody uses, then one flush for all of them. */
static void flush_all_zero_pkmaps(void)
{
        bool any = false;

        for (unsigned i = 0; i < LAST_PKMAP; i++) {
                if (pkmap_count[i] != 1)
                        continue;
                pkmap_count[i] = 0;
                pkmap_page_table[i] = 0;
                pkmap_hash_remove(i);
                any = true;
        }
        if (any) {
                write_cr3(read_cr3());  /* the window's entries are not global */
                stats.flushes++;
        }
}

/* A free slot for pa (count 2: mapped, one user), or PKMAP_NONE. */
static unsigned map_new_virtual(paddr_t pa)
{
        for (unsigned n = 0; n < LAST_PKMAP; n++) {
                last_pkmap_nr = (last_pkmap_nr + 1) & (LAST_PKMAP - 1);
                if (last_pkmap_nr == 0)
                        flush_all_zero_pkmaps();
                if (pkmap_count[last_pkmap_nr] != 0)
                        continue;
                unsigned nr = last_pkmap_nr;
                uint32_t pfn = (uint32_t)(pa >> PAGE_SHIFT);
                pkmap_page_table[nr] = (pte_t)(pa & ~(paddr_t)PAGE_MASK) | PTE_P | PTE_RW;
                pkmap_count[nr] = 2;
                pkmap_pfn[nr] = pfn;
                pkmap_hash_next[nr] = pkmap_hash_head[pkmap_hash(pfn)];
                pkmap_hash_head[pkmap_hash(pfn)] = (uint16_t)nr;
                return nr;
        }
        return PKMAP_NONE;
}

void *kmap(paddr_t pa)
{
        if (pa_is_lowmem(pa))
                return phys_to_virt(pa);
        if (!pkmap_ready)
                pkmap_init();
        unsigned nr = pkmap_lookup((uint32_t)(pa >> PAGE_SHIFT));
        if (nr != PKMAP_NONE) {
                pkmap_count[nr]++;      /* still mapped: no TLB work at all */
                return (void *)pkmap_addr(nr);
        }
        nr = map_new_virtual(pa);
        if (nr == PKMAP_NONE) {
                stats.window_full++;
                return NULL;
        }
        return (void *)pkmap_addr(nr);
}

void kunmap(paddr_t pa)
{
        if (pa_is_lowmem(pa))
                return;
        unsigned nr = pkmap_ready ? pkmap_lookup((uint32_t)(pa >> PAGE_SHIFT))
                                  : PKMAP_NONE;
        if (nr == PKMAP_NONE || pkmap_count[nr] < 2)
                panic("kunmap: frame %#" PRIx64 " is not kmapped", pa);
        pkmap_count[nr]--;              /* 1: mapped until the next wrap */
}

void kmap_get_stats(struct kmap_stats *st)
{
        *st = stats;
        st->in_use = 0;
        for (unsigned i = 0; i < LAST_PKMAP; i++)
                st->in_use += pkmap_count[i] >= 2;
        st->atomic_depth = km_depth[cpu_id()];
}
