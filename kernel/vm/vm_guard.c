/*
 * vm_guard.c - the guard runs of a space (vm_guard.h): a sorted array of
 * page ranges, searched by bisection, changed by memmove. Spaces with
 * guards have few runs (a thread stack's guard, an allocator's red
 * zones), so O(n) changes are fine; lookups on the fault path are
 * O(log n) and cost nothing while a space has none.
 */
#include <mercator/panic.h>
#include <mercator/string.h>
#include <vm/kmalloc.h>
#include <vm/vm_guard.h>

/* The first run ending after va (it holds va or lies above it), as an
 * index; n if none. */
static uint32_t first_after(const struct vm_guards *g, vaddr_t va)
{
        uint32_t lo = 0, hi = g->n;

        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (g->run[mid].end <= va)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

bool vm_guards_has(const struct vm_guards *g, vaddr_t va)
{
        uint32_t i;

        if (g->n == 0)
                return false;
        i = first_after(g, va);
        return i < g->n && g->run[i].start <= va;
}

bool vm_guards_meet(const struct vm_guards *g, vaddr_t start, vaddr_t end)
{
        uint32_t i;

        if (g->n == 0 || start >= end)
                return false;
        i = first_after(g, start);
        return i < g->n && g->run[i].start < end;
}

uint64_t vm_guards_pages(const struct vm_guards *g, vaddr_t start,
                         vaddr_t end)
{
        uint64_t n = 0;

        for (uint32_t i = first_after(g, start);
             i < g->n && g->run[i].start < end; i++)
                n += (MIN(end, g->run[i].end) -
                      MAX(start, g->run[i].start)) >> PAGE_SHIFT;
        return n;
}

/* cap >= n + more, whatever n is. */
static vm_status_t grow(struct vm_guards *g, uint32_t more)
{
        uint32_t cap = g->cap ? g->cap : 4;
        struct vm_guard_run *r;

        if (g->n + more <= g->cap)
                return VM_OK;
        while (cap < g->n + more)
                cap *= 2;
        r = kmalloc(cap * sizeof *r);
        if (!r)
                return VM_ENOMEM;
        if (g->n)
                memcpy(r, g->run, g->n * sizeof *r);
        kfree(g->run);
        g->run = r;
        g->cap = cap;
        return VM_OK;
}

vm_status_t vm_guards_reserve(struct vm_guards *g, uint32_t more)
{
        return g->n ? grow(g, more) : VM_OK;
}

/* Open a hole at index i (room is there). */
static void insert_at(struct vm_guards *g, uint32_t i, vaddr_t start,
                      vaddr_t end)
{
        ASSERT(g->n < g->cap);
        memmove(&g->run[i + 1], &g->run[i], (g->n - i) * sizeof g->run[0]);
        g->run[i].start = start;
        g->run[i].end = end;
        g->n++;
}

/* Drop runs [i, j). */
static void remove_runs(struct vm_guards *g, uint32_t i, uint32_t j)
{
        memmove(&g->run[i], &g->run[j], (g->n - j) * sizeof g->run[0]);
        g->n -= j - i;
}

vm_status_t vm_guards_add(struct vm_guards *g, vaddr_t start, vaddr_t end)
{
        uint32_t i, j;

        ASSERT(start < end && !(start & PAGE_MASK) && !(end & PAGE_MASK));
        if (grow(g, 1) != VM_OK)
                return VM_ENOMEM;
        /* Runs [i, j) overlap or touch [start, end): they merge with it. */
        i = start ? first_after(g, start - 1) : 0;
        for (j = i; j < g->n && g->run[j].start <= end; j++)
                ;
        if (i == j) {
                insert_at(g, i, start, end);
                return VM_OK;
        }
        g->run[i].start = MIN(start, g->run[i].start);
        g->run[i].end = MAX(end, g->run[j - 1].end);
        remove_runs(g, i + 1, j);
        return VM_OK;
}

/* A run holding p strictly inside becomes two runs meeting at p (one
 * "touching" pair, allowed only until the caller normalizes). */
static void split_at(struct vm_guards *g, vaddr_t p)
{
        uint32_t i = first_after(g, p);

        if (i < g->n && g->run[i].start < p) {
                insert_at(g, i + 1, p, g->run[i].end);
                g->run[i].end = p;
        }
}

/* Merge touching neighbours again. */
static void normalize(struct vm_guards *g)
{
        uint32_t out = 0;

        for (uint32_t i = 0; i < g->n; i++) {
                if (out && g->run[out - 1].end == g->run[i].start)
                        g->run[out - 1].end = g->run[i].end;
                else
                        g->run[out++] = g->run[i];
        }
        g->n = out;
}

void vm_guards_clear(struct vm_guards *g, vaddr_t start, vaddr_t end)
{
        uint32_t i, j;

        if (!vm_guards_meet(g, start, end))
                return;
        split_at(g, start);
        split_at(g, end);
        i = first_after(g, start);
        for (j = i; j < g->n && g->run[j].end <= end; j++)
                ;
        remove_runs(g, i, j);
}

void vm_guards_move(struct vm_guards *g, vaddr_t from, uint64_t len,
                    vaddr_t to)
{
        uint32_t i, j;

        if (!vm_guards_meet(g, from, from + len))
                return;
        ASSERT(!vm_guards_meet(g, to, to + len));
        split_at(g, from);
        split_at(g, from + len);
        i = first_after(g, from);
        for (j = i; j < g->n && g->run[j].end <= from + len; j++) {
                g->run[j].start = g->run[j].start - from + to;
                g->run[j].end = g->run[j].end - from + to;
        }
        /* Runs [i, j) are in order among themselves; put them back in
         * place among the others (insertion by shifting, as a block). */
        while (i > 0 && g->run[i - 1].start > g->run[i].start) {
                struct vm_guard_run t = g->run[i - 1];
                memmove(&g->run[i - 1], &g->run[i], (j - i) * sizeof t);
                g->run[j - 1] = t;
                i--, j--;
        }
        while (j < g->n && g->run[j].start < g->run[j - 1].start) {
                struct vm_guard_run t = g->run[j];
                memmove(&g->run[i + 1], &g->run[i], (j - i) * sizeof t);
                g->run[i] = t;
                i++, j++;
        }
        normalize(g);
}

vm_status_t vm_guards_copy(struct vm_guards *dst, const struct vm_guards *src)
{
        ASSERT(dst->n == 0);
        if (src->n == 0)
                return VM_OK;
        if (grow(dst, src->n) != VM_OK)
                return VM_ENOMEM;
        memcpy(dst->run, src->run, src->n * sizeof src->run[0]);
        dst->n = src->n;
        return VM_OK;
}

void vm_guards_free(struct vm_guards *g)
{
        kfree(g->run);
        g->run = NULL;
        g->n = g->cap = 0;
}

bool vm_guards_sound(const struct vm_guards *g)
{
        for (uint32_t i = 0; i < g->n; i++) {
                const struct vm_guard_run *r = &g->run[i];
                if (r->start >= r->end || (r->start & PAGE_MASK) ||
                    (r->end & PAGE_MASK) || (i && g->run[i - 1].end >= r->start))
                        return false;
        }
        return g->n <= g->cap;
}
