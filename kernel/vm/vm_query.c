/*
 * vm_query.c - read-only questions about a space's pages, for /proc
 * (smaps, status, pagemap): what backs one address; and mincore's
 * residency of a range.
 */
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vm_swap.h>

void vm_space_page_info(struct vm_space *s, const struct vm_area *a,
                        vaddr_t va, struct vm_page_info *out)
{
        uint64_t off = (va - a->start) >> PAGE_SHIFT;
        paddr_t pa = 0;

        *out = (struct vm_page_info){ .kind = VM_PAGE_NONE };
        out->mapped = pmap_extract(s->pmap, va, &pa, NULL, NULL);
        if (out->mapped) {
                out->pa = page_trunc(pa);
                out->ad = pmap_ad(s->pmap, va, false);
        }
        if (a->flags & VM_AREA_SHARED) {
                if (!out->mapped)
                        return;
                out->object = a->object;
                out->index = a->pgoff + off;
                out->page = vm_object_lookup(a->object, out->index);
                /* tmpfs and memfd pages are shmem, as Linux counts them. */
                out->kind = !out->page ? VM_PAGE_NONE
                          : a->object->type == VM_OBJECT_FILE &&
                            !a->object->writable ? VM_PAGE_FILE
                                                 : VM_PAGE_SHMEM;
                return;
        }
        if (a->object) {
                out->page = vm_object_lookup(a->object, a->pgoff + off);
                if (out->page) {
                        out->kind = VM_PAGE_ANON;
                        out->object = a->object;
                        out->index = a->pgoff + off;
                        out->pa = pmm_page_to_pa(out->page);
                        return;
                }
                out->swap = vm_object_swap_entry(a->object, a->pgoff + off);
                if (out->swap) {
                        out->kind = VM_PAGE_SWAPPED;
                        out->object = a->object;
                        out->index = a->pgoff + off;
                        return;
                }
        }
        if (!out->mapped)
                return;
        if (vm_is_zero_pa(out->pa)) {
                out->kind = VM_PAGE_ZERO;
                return;
        }
        if (a->backing) {
                out->object = a->backing;
                out->index = a->backing_pgoff + off;
                out->page = vm_object_lookup(a->backing, out->index);
                if (out->page)
                        out->kind = a->backing->writable ? VM_PAGE_SHMEM
                                                         : VM_PAGE_FILE;
        }
}

/* Is the page at va (in area a) resident? See vm_space_residency(). */
static bool page_resident(struct vm_space *s, const struct vm_area *a,
                          vaddr_t va)
{
        uint64_t off = (va - a->start) >> PAGE_SHIFT;
        paddr_t pa;

        if (pmap_extract(s->pmap, va, &pa, NULL, NULL))
                return true;
        if (a->object && vm_object_lookup(a->object, a->pgoff + off))
                return true;
        /* A swapped page whose slot's page the swap cache still holds
         * (a relative read it back) is in memory, as Linux's mincore
         * counts the swap cache. */
        if (a->object && !(a->flags & VM_AREA_SHARED)) {
                swp_entry_t e = vm_object_swap_entry(a->object, a->pgoff + off);
                if (e && vm_swap_entry_cached(e))
                        return true;
        }
        return a->backing &&
               vm_object_lookup(a->backing, a->backing_pgoff + off);
}

uint64_t vm_space_residency(struct vm_space *s, vaddr_t va, uint64_t max,
                            uint8_t *vec)
{
        const struct vm_area *a = vm_space_lookup(s, va);
        uint64_t n = 0;

        if (!a)
                return 0;
        for (; n < max && va < a->end; n++, va += PAGE_SIZE)
                vec[n] = page_resident(s, a, va) ? 1 : 0;
        return n;
}
