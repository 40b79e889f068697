/*
 * vm_fork.c - vm_space_fork(): a copy-on-write copy of an address space
 * (CONCEPTS E24; the scheme is explained in vm_object.h and vm_space.h).
 *
 * Owns: nothing lasting; it builds the child from the parent's areas.
 * The child gets:
 *   - for a shared area: an area using the same object (shared memory
 *     stays shared across fork, anonymous or file);
 *   - for a private area: an area whose object is the child's "twin" of
 *     the parent's object - one twin per parent object, so that areas
 *     sharing an object in the parent share its twin in the child and can
 *     still merge - holding a reference to each of the parent's pages in
 *     the area's range (vm_object_share_range: no data copied); a private
 *     file mapping also keeps the same backing file;
 *   - an empty pmap: translations come back by faults.
 * Then, and only once nothing can fail any more, the parent's writable
 * translations of private pages are made read-only, so that the next write
 * on either side faults and copies (vm_fault.c).
 *
 * Commit: the child's copies of charged areas are charged as they go into
 * its tree; the policy is asked first, area by area as Linux's dup_mmap
 * (vm_commit_check_fork), and a refusal is VM_ENOMEM before anything.
 *
 * Failure: the child is destroyed, which drops every reference it took;
 * the twins are forgotten; the parent was not changed (its pmap is touched
 * only after the last allocation).
 */
#include <mercator/panic.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>

/* The child's object for the parent's private object o (made once). */
static vm_status_t fork_twin(struct vm_space *child, struct vm_object *o,
                             struct vm_object **out)
{
        vm_status_t st = VM_OK;

        if (o->twin) {
                vm_object_ref(o->twin);         /* one reference per area */
        } else {
                st = vm_object_create_anon(o->size, &o->twin);
                if (st == VM_OK) {
                        uint64_t first, end;

                        /* As tall as o's: its pages go to the same
                         * indices. */
                        vm_object_covered(o, &first, &end);
                        vm_object_cover(o->twin, first, end);
                        o->twin->space = child; /* the reverse map's owner */
                        o->twin->forked = true;
                        /* Its pages will be o's at the same indices: one
                         * family record covers both (vm_rmap.h). */
                        st = rmap_family_join(o->twin, o);
                        if (st != VM_OK) {
                                vm_object_unref(o->twin);
                                o->twin = NULL;
                        }
                }
        }
        if (st == VM_OK)
                *out = o->twin;
        return st;
}

/* Is a private area's content left out of the child (it gets the area
 * empty: zeroes at its first touch)? */
static bool fork_wipes(const struct vm_area *a)
{
        return a->flags & (VM_AREA_WIPEONFORK | VM_AREA_DROPPABLE);
}

/* A descriptor for the child with a's range, attributes and references
 * (shared object, backing file); a private object is fork_area's work. */
static struct vm_area *fork_area_copy(const struct vm_area *a)
{
        struct vm_area *d = vm_area_alloc();

        if (!d)
                return NULL;
        d->start = a->start;
        d->end = a->end;
        d->prot = a->prot;
        /* Locks are not inherited (Linux's dup_mmap clears VM_LOCKED). */
        d->flags = a->flags & ~(VM_AREA_LOCKED | VM_AREA_LOCKONFAULT);
        d->pgoff = a->pgoff;
        d->backing = a->backing;
        d->backing_pgoff = a->backing_pgoff;
        if (d->backing)
                vm_object_ref(d->backing);
        if (!vm_area_private(a)) {
                d->object = a->object;
                vm_object_ref(d->object);
                if (d->object)          /* both map its pages now */
                        d->object->hugetlb_private = false;
        }
        return d;
}

/* The child's copy of area a, in the child's tree, with a's pages. */
static vm_status_t fork_area(struct vm_space *child, struct vm_area *a)
{
        struct vm_area *d = fork_area_copy(a);
        uint64_t first = a->pgoff, end = a->pgoff + vm_area_npages(a);
        vm_status_t st;

        if (!d)
                return VM_ENOMEM;
        st = vm_area_insert(&child->areas, d);  /* same layout: fits */
        ASSERT(st == VM_OK);
        /* A wipe-on-fork area's pages are not copied: the child reads
         * zeroes (Linux gives MAP_DROPPABLE VM_WIPEONFORK too). */
        if (!vm_area_private(a) || !a->object || fork_wipes(a))
                return VM_OK;
        st = fork_twin(child, a->object, &d->object);
        if (st == VM_OK)
                st = vm_object_share_range(a->object, first, end, d->object,
                                           first);
        return st;
}

/* Forget the twins fork_twin() noted in the parent's objects. */
static void fork_forget_twins(struct vm_space *parent)
{
        for (struct vm_area *a = parent->areas.first; a; a = a->next)
                if (a->object)
                        a->object->twin = NULL;
}

/* The parent's private pages are shared now: no writable translation of
 * them may stay. O(translations present), not O(range). */
static void fork_write_protect(struct vm_space *parent)
{
        for (struct vm_area *a = parent->areas.first; a; a = a->next) {
                if (!vm_area_private(a) || !a->object ||
                    !(a->prot & VM_PROT_WRITE) || fork_wipes(a) ||
                    (a->flags & VM_AREA_DONTFORK))
                        continue;
                /* A huge page stays one, read-only (split at its first
                 * copy-on-write), unless it straddles the area's edge. */
                vm_pmap_protect(parent, a->start, a->end,
                                vm_area_pmap_prot(a, a->prot));
        }
        pmap_update(parent->pmap);
}

static void fork_bookkeeping(const struct vm_space *parent,
                             struct vm_space *child)
{
        child->mmap_base = parent->mmap_base;
        child->start_brk = parent->start_brk;
        child->brk = parent->brk;
        child->stack_top = parent->stack_top;
        child->stack_limit = parent->stack_limit;
        child->size_limit = parent->size_limit;
        child->max_areas = parent->max_areas;
        child->arg_start = parent->arg_start;
        child->arg_end = parent->arg_end;
        child->env_start = parent->env_start;
        child->env_end = parent->env_end;
        child->start_stack = parent->start_stack;
        child->auxv_start = parent->auxv_start;
        child->nauxv = parent->nauxv;
        child->vdso_base = parent->vdso_base;
        child->hiwater_rss = parent->hiwater_rss;       /* Linux: mm copy */
        child->hiwater_vm = parent->hiwater_vm;
        child->thp_disabled = parent->thp_disabled;     /* PR_SET_THP_DISABLE */
}

vm_status_t vm_space_fork(struct vm_space *parent, struct vm_space **out)
{
        struct vm_space *child;
        vm_status_t st = vm_commit_check_fork(parent);

        if (st == VM_OK)
                st = vm_space_create(&child);
        if (st != VM_OK)
                return st;
        fork_bookkeeping(parent, child);
        st = vm_guards_copy(&child->guards, &parent->guards);
        if (st == VM_OK)        /* Linux's copy_pte_marker keeps poison */
                st = vm_guards_copy(&child->poison, &parent->poison);
        for (struct vm_area *a = st == VM_OK ? parent->areas.first : NULL;
             a && st == VM_OK; a = a->next)
                if (!(a->flags & VM_AREA_DONTFORK))
                        st = fork_area(child, a);
        fork_forget_twins(parent);
        if (st != VM_OK) {
                vm_space_destroy(child);
                return st;
        }
        /* Areas the parent keeps apart only by their lock (not inherited)
         * are one area in the child (vm_space_check invariant 2). */
        if (child->areas.first)
                vm_range_merge(child, child->areas.first, child->max);
        fork_write_protect(parent);
        *out = child;
        return VM_OK;
}
