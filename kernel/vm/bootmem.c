/*
 * bootmem.c - the early boot allocator: bitmaps over the frames below the
 * end of usable RAM, searched a 64-bit word at a time.
 *
 * Owns: two bitmaps of one bit per frame, carved from the first usable
 * range below the caller's limit, and reached through pmap_kmem_va():
 *   used  - set: the frame is not free (not USABLE in the map, frame 0,
 *           the bitmaps, reserved, or allocated);
 *   given - set: the frame was handed out by bootmem_alloc(); these become
 *           allocated pages of the buddy allocator at handoff, where all
 *           other used frames stay PG_RESERVED.
 * Must not touch: the page descriptors, except through pmm_add_range() and
 * pmm_claim_range() at handoff.
 * Invariants (while active):
 *   1. frame 0 and the bitmaps' own frames are used, never given;
 *   2. a free frame lies wholly inside a USABLE range of the map;
 *   3. given implies used; bits past the last frame are used;
 *   4. bm.free counts the clear bits of `used`; bm.usable - bm.free are the
 *      usable frames that are not free (bootmem_used_pages()).
 * Everything in the caller's map must already be excluded that bootmem may
 * not overwrite: the bitmaps land in the first usable range that holds them,
 * before bootmem_reserve() can be called (boot.c adds the kernel image and
 * modules to the map as MEM_RESERVED for that reason).
 * Locks: none (one CPU, before any other thread exists).
 */
#include <mercator/panic.h>
#include <mercator/status.h>
#include <mercator/string.h>
#include <vm/pmap.h>
#include <vm/bootmem.h>
#include <vm/pmm.h>

#define BITS_PER_WORD   64

/* The allocator's state. Locks: none; [c] constant while active. */
static struct bootmem_state {
        uint64_t *used;         /* [c] bit per frame: not free */
        uint64_t *given;        /* [c] bit per frame: from bootmem_alloc() */
        uint64_t nframes;       /* [c] frames covered, [0, nframes) */
        uint64_t nwords;        /* [c] words in each bitmap */
        paddr_t map_pa;         /* [c] where the bitmaps live */
        uint64_t map_pages;     /* [c] and how many frames they take */
        uint64_t usable;        /* [c] frames USABLE in the map */
        uint64_t free;          /* frames still free */
        uint64_t hint;          /* no free frame lies below it */
        bool active;
} bm;

/* --- bitmap primitives, a word at a time ------------------------------ */

/* Set (or clear) bits [s, e) of map; returns how many bits changed. */
static uint64_t bootmem_bits_assign(uint64_t *map, uint64_t s, uint64_t e,
                                    bool set)
{
        uint64_t changed = 0;

        while (s < e) {
                uint64_t w = s / BITS_PER_WORD, lo = s % BITS_PER_WORD;
                uint64_t hi = MIN(BITS_PER_WORD, lo + (e - s));
                uint64_t mask = (hi == BITS_PER_WORD ? ~0ULL : (1ULL << hi) - 1)
                                & (~0ULL << lo);
                uint64_t old = map[w];

                map[w] = set ? old | mask : old & ~mask;
                changed += (uint64_t)__builtin_popcountll(old ^ map[w]);
                s += hi - lo;
        }
        return changed;
}

/* The first bit in [s, e) of map that is set (or clear, if !set); e if
 * there is none. Whole words without one are skipped in one step. */
static uint64_t bootmem_bits_find(const uint64_t *map, uint64_t s, uint64_t e,
                                  bool set)
{
        while (s < e) {
                uint64_t w = s / BITS_PER_WORD;
                uint64_t word = (set ? map[w] : ~map[w]) &
                                (~0ULL << (s % BITS_PER_WORD));

                if (word)
                        return MIN(w * BITS_PER_WORD +
                                   (uint64_t)__builtin_ctzll(word), e);
                s = (w + 1) * BITS_PER_WORD;
        }
        return e;
}

/* Call fn on [start, end) of each maximal run of bits equal to `set`. */
static void bootmem_bits_each_run(const uint64_t *map, bool set,
                                  void (*fn)(paddr_t start, paddr_t end))
{
        uint64_t pfn = 0;

        while (pfn < bm.nframes) {
                uint64_t s = bootmem_bits_find(map, pfn, bm.nframes, set);
                uint64_t e = bootmem_bits_find(map, s, bm.nframes, !set);

                if (s == e)
                        break;
                fn(s << PAGE_SHIFT, e << PAGE_SHIFT);
                pfn = e;
        }
}

/* Mark frames [s, e) used, keeping the free count. */
static void bootmem_frames_use(uint64_t s, uint64_t e)
{
        bm.free -= bootmem_bits_assign(bm.used, s, MIN(e, bm.nframes), true);
}

/* --- setting up ------------------------------------------------------- */

/* [base, end) of a map entry, end clipped at 2^64 - 1. */
static paddr_t bootmem_range_end(const struct mem_range *r)
{
        return r->len > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->len;
}

/* The first page-aligned place of `bytes` in a USABLE range below limit,
 * never frame 0; 0 if none. */
static paddr_t bootmem_find_home(const struct mem_range *map, unsigned n,
                                 uint64_t bytes, paddr_t limit)
{
        for (unsigned i = 0; i < n; i++) {
                paddr_t base, end;

                if (map[i].type != MEM_USABLE ||
                    map[i].base > UINT64_MAX - PAGE_SIZE)
                        continue;
                base = MAX(page_round(map[i].base), PAGE_SIZE);
                end = page_trunc(MIN(bootmem_range_end(&map[i]), limit));
                if (end > base && end - base >= bytes)
                        return base;
        }
        return 0;
}

/* Fill the used bitmap from the map: USABLE frames (inward) are free, then
 * anything else (outward) is not, so even an unsanitized map is safe. */
static void bootmem_bits_from_map(const struct mem_range *map, unsigned n)
{
        memset(bm.used, 0xff, bm.nwords * sizeof(uint64_t));
        memset(bm.given, 0, bm.nwords * sizeof(uint64_t));
        for (unsigned pass = 0; pass < 2; pass++) {
                for (unsigned i = 0; i < n; i++) {
                        paddr_t end = bootmem_range_end(&map[i]);
                        bool usable = map[i].type == MEM_USABLE;
                        uint64_t s = map[i].base >> PAGE_SHIFT;
                        uint64_t e = end >> PAGE_SHIFT;

                        if (usable != (pass == 0) || end <= map[i].base)
                                continue;
                        if (usable)
                                s += (map[i].base & PAGE_MASK) != 0;
                        else
                                e += (end & PAGE_MASK) != 0;
                        bootmem_bits_assign(bm.used, s, MIN(e, bm.nframes),
                                            !usable);
                }
        }
}

/* Clear bits of the used bitmap, counted a word at a time. */
static uint64_t bootmem_count_free(void)
{
        uint64_t n = 0;

        for (uint64_t w = 0; w < bm.nwords; w++)
                n += (uint64_t)__builtin_popcountll(~bm.used[w]);
        return n;
}

/*
 * Start over a sanitized map; see bootmem.h.
 * => the bitmaps take the first place below limit that holds them, in the
 *    first USABLE range with room (never frame 0).
 * => VM_OK, or VM_ENOMEM if the map has no usable RAM or no room for them;
 *    bootmem is then inactive.
 */
int bootmem_init(const struct mem_range *map, unsigned n, paddr_t limit)
{
        uint64_t nframes = memmap_usable_end(map, n) >> PAGE_SHIFT;
        uint64_t nwords = (nframes + BITS_PER_WORD - 1) / BITS_PER_WORD;
        uint64_t bytes = page_round(2 * nwords * sizeof(uint64_t));
        paddr_t pa;

        memset(&bm, 0, sizeof bm);
        if (nframes == 0)
                return VM_ENOMEM;
        pa = bootmem_find_home(map, n, bytes, limit);
        if (pa == 0)
                return VM_ENOMEM;
        bm.used = pmap_kmem_va(pa);
        bm.given = bm.used + nwords;
        bm.nframes = nframes;
        bm.nwords = nwords;
        bm.map_pa = pa;
        bm.map_pages = bytes >> PAGE_SHIFT;
        bootmem_bits_from_map(map, n);
        bm.usable = bm.free = bootmem_count_free();
        bootmem_frames_use(0, 1);
        bootmem_frames_use(pa >> PAGE_SHIFT, (pa >> PAGE_SHIFT) + bm.map_pages);
        bm.active = true;
        return VM_OK;
}

/* --- allocation ------------------------------------------------------- */

/*
 * Mark [base, base+len), page-aligned outward, as used; see bootmem.h.
 * => frames already used (or past the end of usable RAM) are left alone.
 * => panics after bootmem_handoff() (a boot-code bug).
 */
void bootmem_reserve(paddr_t base, uint64_t len)
{
        paddr_t end = len > UINT64_MAX - base ? UINT64_MAX : base + len;

        if (!bm.active)
                panic("bootmem_reserve: bootmem is not active");
        if (len == 0)
                return;
        bootmem_frames_use(base >> PAGE_SHIFT,
                           (end >> PAGE_SHIFT) + ((end & PAGE_MASK) != 0));
}

/*
 * First fit: the lowest npages free frames starting on an `align` boundary
 * and ending at or below limit; see bootmem.h.
 * => 0 if none, if npages is 0, or if align is not a power of two of at
 *    least PAGE_SIZE.
 * => panics after bootmem_handoff() (a boot-code bug).
 */
paddr_t bootmem_alloc_range(uint64_t npages, uint64_t align, paddr_t min,
                            paddr_t limit)
{
        uint64_t end = MIN(bm.nframes, limit >> PAGE_SHIFT);
        uint64_t start = page_round(min) >> PAGE_SHIFT;
        uint64_t step = align >> PAGE_SHIFT, pfn, busy;

        if (!bm.active)
                panic("bootmem_alloc: bootmem is not active");
        if (npages == 0 || align < PAGE_SIZE || (align & (align - 1)) ||
            min > limit)
                return 0;
        pfn = bootmem_bits_find(bm.used, MAX(bm.hint, start), end, false);
        if (start <= bm.hint)           /* nothing free in [hint, pfn) */
                bm.hint = MAX(bm.hint, pfn);
        for (;;) {
                pfn = align_up(pfn, step);
                if (pfn >= end || end - pfn < npages)
                        return 0;
                busy = bootmem_bits_find(bm.used, pfn, pfn + npages, true);
                if (busy == pfn + npages)
                        break;
                pfn = bootmem_bits_find(bm.used, busy, end, false);
        }
        bootmem_frames_use(pfn, pfn + npages);
        bootmem_bits_assign(bm.given, pfn, pfn + npages, true);
        return pfn << PAGE_SHIFT;
}

paddr_t bootmem_alloc(uint64_t npages, uint64_t align, paddr_t limit)
{
        return bootmem_alloc_range(npages, align, 0, limit);
}

/* Usable frames that are not free: frame 0, the bitmaps, reservations and
 * allocations. Frozen at handoff. */
uint64_t bootmem_used_pages(void)
{
        return bm.usable - bm.free;
}

/* Free frames. Frozen at handoff. */
uint64_t bootmem_free_pages(void)
{
        return bm.free;
}

/* True between a successful bootmem_init() and bootmem_handoff(). */
bool bootmem_active(void)
{
        return bm.active;
}

/* --- handoff ---------------------------------------------------------- */

/*
 * Give memory to the buddy allocator and stop; see bootmem.h.
 * => pmm_init() has been called over at least the frames bootmem covers.
 * => frames from bootmem_alloc() become allocated pages (refcount 1) that
 *    pmm_free_pages() can take back; free frames and the bitmaps are freed
 *    in; every other frame stays PG_RESERVED.
 * => the bitmaps go last, once nothing reads them any more.
 */
void bootmem_handoff(void)
{
        if (!bm.active)
                panic("bootmem_handoff: bootmem is not active");
        bootmem_bits_each_run(bm.given, true, pmm_claim_range);
        bootmem_bits_each_run(bm.used, false, pmm_add_range);
        bm.active = false;
        pmm_add_range(bm.map_pa, bm.map_pa + (bm.map_pages << PAGE_SHIFT));
}
