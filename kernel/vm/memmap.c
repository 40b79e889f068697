/*
 * memmap.c - turning the firmware's memory map into sorted, disjoint,
 * trustworthy ranges (see memmap.h).
 *
 * Owns: nothing but its output array; no heap, no static state, so it runs
 * before any allocator exists.
 * Invariants of every map memmap_sanitize() writes:
 *   1. ranges are sorted by base, non-empty and disjoint; none runs past
 *      2^64 - 1 (the very last byte of the address space is never listed,
 *      since an end of 2^64 does not fit in 64 bits);
 *   2. neighbours that touch have different types;
 *   3. every type is one of enum mem_type (unknown input types become
 *      MEM_RESERVED);
 *   4. a byte is USABLE only if some input entry said USABLE and no input
 *      entry said anything else; USABLE ranges are page-aligned.
 *
 * Method: a sweep over the boundaries (every entry's base and end). From
 * the current point, one pass over the input finds the most restrictive
 * type covering it and the next boundary above it. That is O(n^2) for n
 * entries and needs no array of boundaries, so input of any length is
 * handled entirely: nothing past a fixed limit is ever ignored, which could
 * let a later "reserved" entry go unseen.
 */
#include <vm/memmap.h>

/* The type an input entry counts as: unknown values are reserved. */
static uint32_t memmap_type_normalize(uint32_t type)
{
        return type >= MEM_USABLE && type <= MEM_BAD ? type : MEM_RESERVED;
}

/* Higher wins where entries overlap: BAD > RESERVED > NVS > RECLAIM > USABLE. */
static unsigned memmap_type_rank(uint32_t type)
{
        switch (type) {
        case MEM_USABLE:        return 1;
        case MEM_ACPI_RECLAIM:  return 2;
        case MEM_ACPI_NVS:      return 3;
        case MEM_RESERVED:      return 4;
        case MEM_BAD:           return 5;
        default:                return 0;
        }
}

/* [base, end) of an entry, its end clipped at 2^64 - 1; false if empty. */
static bool memmap_entry_span(const struct mem_range *r, paddr_t *base,
                              paddr_t *end)
{
        *base = r->base;
        *end = r->len > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->len;
        return *end > *base;
}

/*
 * The winning type of all entries covering addr (0 if none), and in *next
 * the lowest entry boundary above addr (UINT64_MAX if there is none).
 */
static uint32_t memmap_type_at(const struct mem_range *in, unsigned nin,
                               paddr_t addr, paddr_t *next)
{
        uint32_t best = 0;

        *next = UINT64_MAX;
        for (unsigned i = 0; i < nin; i++) {
                paddr_t base, end;
                uint32_t type;

                if (!memmap_entry_span(&in[i], &base, &end))
                        continue;
                if (base > addr) {
                        *next = MIN(*next, base);
                        continue;
                }
                if (end <= addr)
                        continue;
                *next = MIN(*next, end);
                type = memmap_type_normalize(in[i].type);
                if (memmap_type_rank(type) > memmap_type_rank(best))
                        best = type;
        }
        return best;
}

/* The output being built: finished ranges, and the one still growing. */
struct memmap_out {
        struct mem_range *out;
        unsigned n, max;
        bool full;              /* a range was dropped: stop */
        bool pending;
        paddr_t base, end;      /* the growing range, [base, end) */
        uint32_t type;
};

/* Write the growing range out: USABLE shrinks inward to whole pages. */
static void memmap_out_flush(struct memmap_out *o)
{
        paddr_t base = o->base, end = o->end;

        if (!o->pending)
                return;
        o->pending = false;
        if (o->type == MEM_USABLE) {
                if (base > UINT64_MAX - PAGE_MASK)
                        return;
                base = page_round(base);
                end = page_trunc(end);
        }
        if (end <= base)
                return;
        if (o->n == o->max) {
                o->full = true;         /* the highest ranges are lost */
                return;
        }
        o->out[o->n++] = (struct mem_range){ base, end - base, o->type };
}

/* Add [base, end) of type: merged into the growing range if it continues
 * it with the same type, else it starts a new one. */
static void memmap_out_add(struct memmap_out *o, paddr_t base, paddr_t end,
                           uint32_t type)
{
        if (o->pending && o->end == base && o->type == type) {
                o->end = end;
                return;
        }
        memmap_out_flush(o);
        o->pending = true;
        o->base = base;
        o->end = end;
        o->type = type;
}

/*
 * Sanitize in[0..nin) into out[0..max_out); see memmap.h for the rules.
 * => any input is accepted: overlapping, unsorted, empty, unaligned,
 *    wrapping, unknown types, any number of entries.
 * => returns the number of ranges written (0 for empty input or max_out 0).
 */
unsigned memmap_sanitize(const struct mem_range *in, unsigned nin,
                         struct mem_range *out, unsigned max_out)
{
        struct memmap_out o = { .out = out, .max = max_out };
        paddr_t addr = 0, next;

        while (!o.full) {
                uint32_t type = memmap_type_at(in, nin, addr, &next);

                if (type)
                        memmap_out_add(&o, addr, next, type);
                if (next == UINT64_MAX)
                        break;
                addr = next;
        }
        memmap_out_flush(&o);
        return o.n;
}

/* Total bytes of the USABLE ranges of m[0..n). */
uint64_t memmap_usable_bytes(const struct mem_range *m, unsigned n)
{
        uint64_t total = 0;

        for (unsigned i = 0; i < n; i++)
                if (m[i].type == MEM_USABLE)
                        total += m[i].len;
        return total;
}

/* The end of the highest USABLE range of m[0..n) (0 if none). */
paddr_t memmap_usable_end(const struct mem_range *m, unsigned n)
{
        paddr_t end = 0;

        for (unsigned i = 0; i < n; i++) {
                paddr_t base, e;

                if (m[i].type == MEM_USABLE && memmap_entry_span(&m[i], &base, &e))
                        end = MAX(end, e);
        }
        return end;
}

/* A short name for a range type, for the boot log. */
const char *memmap_type_name(uint32_t type)
{
        switch (type) {
        case MEM_USABLE:        return "usable";
        case MEM_RESERVED:      return "reserved";
        case MEM_ACPI_RECLAIM:  return "ACPI reclaimable";
        case MEM_ACPI_NVS:      return "ACPI NVS";
        case MEM_BAD:           return "bad";
        default:                return "unknown";
        }
}
