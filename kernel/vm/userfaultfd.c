/*
 * userfaultfd.c - registering areas with a userfaultfd context
 * (userfaultfd.h): the range work of UFFDIO_REGISTER and UFFDIO_UNREGISTER
 * and a closed descriptor's clean-up, done with the split/merge machinery
 * of vm_space_impl.h (validate, allocate spares, then change; nothing to
 * undo on failure). Filling and continuing a page is the fault path's
 * (vm_fault.c).
 *
 * Does not know what a context is beyond struct vm_uffd; does not sleep.
 */
#include <vm/userfaultfd.h>
#include <vm/vm_object.h>
#include <vm/vm_space_impl.h>

bool vm_uffd_area_shmem(const struct vm_area *a)
{
        /* Shared memory that may go to swap is exactly the objects
         * without a disk behind them (vm_object_swap_shared). */
        return !vm_area_private(a) && a->object &&
               !(a->flags & VM_AREA_SPECIAL) &&
               vm_object_swap_shared(a->object);
}

/* Linux's vma_can_userfault(), as far as Mercator goes: MISSING on
 * private anonymous memory and shmem, WP on private anonymous memory,
 * MINOR on shmem only. */
static bool area_can_userfault(const struct vm_area *a, unsigned mode)
{
        if (a->flags & VM_AREA_SPECIAL)
                return false;
        if (vm_area_private(a))
                return !a->backing && !(mode & VM_UFFD_MINOR) &&
                       !(a->object && a->object->hugetlb);
        return vm_uffd_area_shmem(a) && !(mode & VM_UFFD_WP);
}

/* Check every area meeting p's range: VM_EINVAL if none or one cannot be
 * registered in mode; VM_EBUSY if one belongs to another context than u
 * (u NULL, unregistering: any context will do, and any mode that some
 * registration could have). */
static vm_status_t range_check(const struct vm_range_plan *p,
                               const struct vm_uffd *u, unsigned mode)
{
        if (!p->first)
                return VM_EINVAL;
        for (const struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next) {
                if (!area_can_userfault(a, mode))
                        return VM_EINVAL;
                if (u && a->uffd && a->uffd != u)
                        return VM_EBUSY;
        }
        return VM_OK;
}

/* Set the context of every area in p's range to u, splitting at the ends
 * only where it changes, then merging. */
static vm_status_t range_set(struct vm_space *s, struct vm_range_plan *p,
                             struct vm_uffd *u, unsigned mode)
{
        struct vm_area *last = vm_area_lookup(&s->areas, p->end - 1), *a;
        struct vm_spares sp;
        bool lo = p->split_lo && (p->first->uffd != u ||
                                  p->first->uffd_mode != mode);
        bool hi = p->split_hi && last && (last->uffd != u ||
                                          last->uffd_mode != mode);

        if (s->areas.count + lo + hi > s->max_areas ||
            vm_spares_get(&sp, lo + hi) != VM_OK)
                return VM_ENOMEM;
        a = vm_range_carve(s, p, &sp, lo, hi);
        for (struct vm_area *b = a; b && b->start < p->end; b = b->next) {
                b->uffd = u;
                b->uffd_mode = mode;
        }
        vm_range_merge(s, a, p->end);
        vm_spares_put(&sp);
        return VM_OK;
}

vm_status_t vm_uffd_register(struct vm_space *s, vaddr_t start, vaddr_t end,
                             struct vm_uffd *u, unsigned mode)
{
        struct vm_range_plan p;
        vm_status_t st;

        if (!mode)
                return VM_EINVAL;
        vm_range_plan(s, start, end, &p);
        st = range_check(&p, u, mode);
        if (st == VM_OK && (mode & VM_UFFD_WP))
                st = vm_guards_reserve(&s->uffd_wp, 2);
        if (st == VM_OK)
                st = range_set(s, &p, u, mode);
        if (st == VM_OK && (mode & VM_UFFD_WP))  /* a former one's marks */
                vm_guards_clear(&s->uffd_wp, start, end);
        return st;
}

vm_status_t vm_uffd_unregister(struct vm_space *s, vaddr_t start, vaddr_t end)
{
        struct vm_range_plan p;
        vm_status_t st;

        vm_range_plan(s, start, end, &p);
        st = range_check(&p, NULL, VM_UFFD_MISSING);
        return st == VM_OK ? range_set(s, &p, NULL, 0) : st;
}

void vm_uffd_forget(struct vm_space *s, struct vm_uffd *u)
{
        struct vm_area *first = vm_area_first(&s->areas);

        if (!first)
                return;
        for (struct vm_area *a = first; a; a = a->next)
                if (a->uffd == u) {
                        a->uffd = NULL;
                        a->uffd_mode = 0;
                }
        vm_range_merge(s, first, vm_area_last(&s->areas)->end);
}

bool vm_uffd_wp_marked(const struct vm_space *s, const struct vm_area *a,
                       vaddr_t va)
{
        return (a->uffd_mode & VM_UFFD_WP) && vm_guards_has(&s->uffd_wp, va);
}

/* Has private area a a page of its own at va (resident or on swap)? */
static bool own_page(const struct vm_area *a, vaddr_t va)
{
        uint64_t idx = a->pgoff + vm_area_off(a, va);

        return a->object && (vm_object_lookup(a->object, idx) ||
                             vm_object_swap_entry(a->object, idx));
}

vm_status_t vm_uffd_writeprotect(struct vm_space *s, vaddr_t start,
                                 vaddr_t end, const struct vm_uffd *u,
                                 bool wp)
{
        const struct vm_area *a = vm_area_lookup(&s->areas, start);
        vm_status_t st = VM_OK;

        if (!a || a->uffd != u || end > a->end || !(a->uffd_mode & VM_UFFD_WP))
                return VM_ENOENT;
        if (!wp) {
                if (vm_guards_reserve(&s->uffd_wp, 2) != VM_OK)
                        return VM_ENOMEM;
                vm_guards_clear(&s->uffd_wp, start, end);
                return VM_OK;
        }
        /* Translations first: whatever is marked then has none. */
        vm_pmap_remove(s, start, end);
        pmap_update(s->pmap);
        for (vaddr_t va = start; va < end && st == VM_OK; va += PAGE_SIZE)
                if (own_page(a, va))
                        st = vm_guards_add(&s->uffd_wp, va, va + PAGE_SIZE);
        return st;
}

vm_status_t vm_uffd_check_range(struct vm_space *s, vaddr_t start,
                                vaddr_t end, const struct vm_uffd *u)
{
        const struct vm_area *a = vm_area_lookup(&s->areas, start);

        return a && a->uffd == u && end <= a->end ? VM_OK : VM_ENOENT;
}
