/*
 * vm_fault.c - the page-fault handler (CONCEPTS E22: pages arrive on first
 * touch): find the area (growing a stack if the fault is just below one),
 * check the access, find or make the page, map it.
 *
 * Owns: the fault path and the stack-growth rule. Changes areas only to
 * grow a stack or attach an object to private memory on its first write;
 * pages come from the area's object (vm_object.c).
 *
 * Rules kept here:
 *   - reads of private memory never written map the shared zero page,
 *     never writable; the first write makes a zeroed page of the object
 *     resident and maps it writable in its place;
 *   - shared memory always gets the object's own page, even on a read, so
 *     that every mapping of the object sees the same frame;
 *   - on x86 any present page is readable: read access is allowed by any
 *     of read, write or exec (as Linux's vma_is_accessible()).
 * Lock order (when locks come): space map lock, then object, then pmm.
 */
#include <mercator/panic.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

/* The state of one fault as it moves through the phases. */
struct fault_ctx {
        struct vm_space  *space;
        vaddr_t           va;           /* page-aligned */
        vm_prot_t         access;
        struct vm_area   *area;
        uint64_t          index;        /* page index in area->object */
        struct vm_page   *page;         /* the object's page; NULL: zero page */
        enum fault_reason reason;       /* why VM_EFAULT / VM_EACCES */
};

static vm_status_t fault_segv(struct fault_ctx *fc, enum fault_reason why)
{
        fc->reason = why;
        return why == FAULT_REASON_PROT ? VM_EACCES : VM_EFAULT;
}

static bool access_allowed(vm_prot_t allowed, vm_prot_t access)
{
        if (allowed == VM_PROT_NONE)
                return false;
        if ((access & VM_PROT_WRITE) && !(allowed & VM_PROT_WRITE))
                return false;
        return !(access & VM_PROT_EXEC) || (allowed & VM_PROT_EXEC);
}

/*
 * Extend the grows-down area a (the first area above va) down to va, as
 * Linux's expand_downwards(): the new size may not pass stack_limit, and
 * an accessible, non-stack area below must stay a guard gap away.
 */
static vm_status_t fault_grow_stack(struct fault_ctx *fc, struct vm_area *a)
{
        struct vm_space *s = fc->space;
        struct vm_area *prev = a->prev;
        uint64_t grow = (a->start - fc->va) >> PAGE_SHIFT;

        if (!access_allowed(a->prot, fc->access))
                return fault_segv(fc, FAULT_REASON_PROT);
        if (a->end - fc->va > s->stack_limit || grow > a->pgoff)
                return fault_segv(fc, FAULT_REASON_STACK_LIMIT);
        if (prev && !(prev->flags & VM_AREA_GROWSDOWN) &&
            prev->prot != VM_PROT_NONE && fc->va - prev->end < s->areas.guard)
                return fault_segv(fc, FAULT_REASON_STACK_GUARD);
        vm_area_set_range(&s->areas, a, fc->va, a->end);
        a->pgoff -= grow;
        s->stats.stack_growths++;
        if (prev && vm_area_can_merge(prev, a))  /* touching a stack below */
                a = vm_area_merge(&s->areas, prev);
        fc->area = a;
        return VM_OK;
}

/* Phase 1: the area holding va, or the stack that may grow to it. */
static vm_status_t fault_find_area(struct fault_ctx *fc)
{
        struct vm_space *s = fc->space;
        struct vm_area *a;

        if (fc->va < s->min || fc->va >= s->max)
                return fault_segv(fc, FAULT_REASON_NO_AREA);
        a = vm_area_lookup_next(&s->areas, fc->va);
        if (!a)
                return fault_segv(fc, FAULT_REASON_NO_AREA);
        if (a->start > fc->va)
                return (a->flags & VM_AREA_GROWSDOWN)
                               ? fault_grow_stack(fc, a)
                               : fault_segv(fc, FAULT_REASON_NO_AREA);
        fc->area = a;
        return VM_OK;
}

/* Phase 2: does the area allow this access? (exec on non-exec: NX) */
static vm_status_t fault_check_access(struct fault_ctx *fc)
{
        if (!access_allowed(fc->area->prot, fc->access))
                return fault_segv(fc, FAULT_REASON_PROT);
        return VM_OK;
}

/* Phase 3: the page the object holds for va, if any. */
static vm_status_t fault_find_page(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;

        fc->index = a->pgoff + ((fc->va - a->start) >> PAGE_SHIFT);
        fc->page = a->object ? vm_object_lookup(a->object, fc->index) : NULL;
        return VM_OK;
}

/* A page must be made unless a read of private memory can use zeroes. */
static bool fault_needs_page(const struct fault_ctx *fc)
{
        return !fc->page && ((fc->area->flags & VM_AREA_SHARED) ||
                             (fc->access & VM_PROT_WRITE));
}

/* Could private area a use neighbour n's object? (Linux's
 * find_mergeable_anon_vma: touching, same flags; prot may differ.) */
static bool object_borrowable(const struct vm_area *a, const struct vm_area *n)
{
        return n && n->object && n->flags == a->flags &&
               (n->end == a->start || n->start == a->end);
}

/* Give a private area its object at its first write: a touching
 * neighbour's if it has one (so the two can merge later), else a new one
 * indexed by virtual page number. */
static vm_status_t fault_attach_object(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        struct vm_area *n = object_borrowable(a, a->prev) ? a->prev
                          : object_borrowable(a, a->next) ? a->next : NULL;

        if (n) {
                vm_object_ref(n->object);
                a->object = n->object;
                return VM_OK;
        }
        return vm_object_create_anon(fc->space->max >> PAGE_SHIFT, &a->object);
}

/* Phase 4: make the object's zero-filled page resident. */
static vm_status_t fault_alloc_page(struct fault_ctx *fc)
{
        vm_status_t st = VM_OK;

        if (!fc->area->object)
                st = fault_attach_object(fc);
        if (st == VM_OK)
                st = vm_object_page_alloc(fc->area->object, fc->index,
                                          &fc->page);
        if (st == VM_OK)
                fc->space->stats.anon_allocs++;
        return st;
}

/* Phase 5: enter the translation (replacing a zero-page one) and flush. */
static vm_status_t fault_enter_mapping(struct fault_ctx *fc)
{
        struct vm_space *s = fc->space;
        vm_prot_t prot = fc->area->prot | VM_PROT_READ;
        paddr_t pa;
        vm_status_t st;

        if (fc->page) {
                pa = pmm_page_to_pa(fc->page);
        } else {
                pa = vm_zero_page_pa();
                prot &= ~VM_PROT_WRITE;
                s->stats.zero_maps++;
        }
        st = pmap_enter(s->pmap, fc->va, pa, prot, PMAP_USER);
        pmap_update(s->pmap);
        return st;
}

static enum fault_result fault_result_from(struct fault_ctx *fc,
                                           vm_status_t st)
{
        struct vm_fault_info *fi = &fc->space->last_fault;

        fi->va = fc->va;
        fi->access = fc->access;
        fi->reason = st == VM_OK || st == VM_ENOMEM ? FAULT_REASON_NONE
                                                    : fc->reason;
        fi->result = st == VM_OK       ? FAULT_RESOLVED
                   : st == VM_ENOMEM   ? FAULT_OOM
                                       : FAULT_SEGV;
        return fi->result;
}

enum fault_result vm_fault(struct vm_space *space, vaddr_t va,
                           vm_prot_t access)
{
        struct fault_ctx fc = { .space = space, .va = page_trunc(va),
                                .access = access };
        vm_status_t st = fault_find_area(&fc);  /* may grow a stack */

        space->stats.faults++;
        if (st == VM_OK)
                st = fault_check_access(&fc);
        if (st == VM_OK)
                st = fault_find_page(&fc);      /* object's page, or none */
        if (st == VM_OK && fault_needs_page(&fc))
                st = fault_alloc_page(&fc);     /* first write; shared */
        if (st == VM_OK)
                st = fault_enter_mapping(&fc);  /* else the zero page */
        return fault_result_from(&fc, st);
}

const char *vm_fault_reason_name(enum fault_reason reason)
{
        switch (reason) {
        case FAULT_REASON_NONE:         return "none";
        case FAULT_REASON_NO_AREA:      return "no area";
        case FAULT_REASON_STACK_LIMIT:  return "stack limit";
        case FAULT_REASON_STACK_GUARD:  return "stack guard gap";
        case FAULT_REASON_PROT:         return "protection";
        }
        return "?";
}
