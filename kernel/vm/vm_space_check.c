/*
 * vm_space_check.c - vm_space_check(): the invariants vm_space.h lists,
 * verified from the areas, their objects and the pmap.
 *
 * Owns nothing; reads everything. Cost O(pages the areas span), plus the
 * resident pages of every object (a file object's compared byte for byte
 * with the file): for tests and debugging, not for hot paths.
 */
#include <mercator/printk.h>
#include <vm/pmm.h>
#include <vm/userfaultfd.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>

#define CHECK_GAP_EDGE  32      /* gap pages probed at each end of a gap */

static bool space_fail(const char *why, vaddr_t va)
{
        pr_err("vm_space_check: %s at %#lx\n", why, (unsigned long)va);
        return false;
}

/* The page area a should map at va (read-only unless *own), or NULL for
 * the zero page; sets *beyond when the backing has no such index. */
static struct vm_page *expected_page(const struct vm_area *a, vaddr_t va,
                                     bool *own, bool *beyond)
{
        uint64_t off = vm_area_off(a, va);
        struct vm_page *pg = a->object ? vm_object_lookup(a->object,
                                                          a->pgoff + off)
                                       : NULL;

        *own = pg != NULL;
        *beyond = false;
        if (pg || !a->backing)
                return pg;
        *beyond = a->backing_pgoff + off >= a->backing->size;
        return vm_object_lookup(a->backing, a->backing_pgoff + off);
}

/* Invariant 4 for one page of area a. */
static bool check_page(struct vm_space *s, const struct vm_area *a,
                       vaddr_t va)
{
        paddr_t pa;
        vm_prot_t prot;
        unsigned flags;
        struct vm_page *pg;
        bool own, beyond, writable;

        if (!pmap_extract(s->pmap, va, &pa, &prot, &flags))
                return true;
        writable = prot & VM_PROT_WRITE;
        if (!(flags & PMAP_USER) || a->prot == VM_PROT_NONE)
                return space_fail("kernel-only or PROT_NONE translation", va);
        /* What the MMU cannot refuse (no NX: exec) is not "more". */
        if (prot & (VM_PROT_WRITE | VM_PROT_EXEC) &
            ~pmap_prot_implied(a->prot))
                return space_fail("translation allows more than its area", va);
        pg = expected_page(a, va, &own, &beyond);
        if (beyond)
                return space_fail("translation past the file's end", va);
        if (pg && pa != pmm_page_to_pa(pg))
                return space_fail("translation is not the object's page", va);
        if (!pg && (!vm_is_zero_pa(pa) || !vm_area_private(a) ||
                    a->backing))
                return space_fail("translation to a page no object holds", va);
        if (vm_area_private(a) && writable && (!own || pg->refcount != 1))
                return space_fail("private translation writable to a page "
                                  "it must not write", va);
        return true;
}

/* No translation in [start, end), a gap: probe the pages near its ends
 * (where a stale one from an unmap or a shrink would be). */
static bool check_gap(struct vm_space *s, vaddr_t start, vaddr_t end)
{
        uint64_t n = (end - start) >> PAGE_SHIFT;

        for (uint64_t i = 0; i < n; i++) {
                vaddr_t va = start + (i << PAGE_SHIFT);

                if (i == CHECK_GAP_EDGE && n > 2 * CHECK_GAP_EDGE)
                        i = n - CHECK_GAP_EDGE;
                if (pmap_extract(s->pmap, va, NULL, NULL, NULL))
                        return space_fail("translation outside every area", va);
        }
        return true;
}

struct orphan_check {
        struct vm_space        *space;
        const struct vm_object *object;
};

/* A private object's page must lie under an area using that object. */
static bool check_private_page(void *arg, uint64_t index, struct vm_page *pg)
{
        struct orphan_check *oc = arg;
        const struct vm_area *a = vm_area_lookup(&oc->space->areas,
                                                 index << PAGE_SHIFT);

        if ((!a || a->object != oc->object) &&
            !vm_space_parked_covers(oc->space, oc->object, index << PAGE_SHIFT))
                return space_fail("private page outside its areas",
                                  index << PAGE_SHIFT);
        return true;
}

/* Invariant 3's object kinds for one area. */
static bool check_objects(const struct vm_area *a)
{
        if (!vm_area_private(a))
                return a->object && !a->backing ? true
                       : space_fail("shared area without object, or with "
                                    "backing", a->start);
        if (a->pgoff != a->start >> PAGE_SHIFT)
                return space_fail("private pgoff is not the page number",
                                  a->start);
        if (a->object && a->object->type != VM_OBJECT_ANON)
                return space_fail("private object not anonymous", a->start);
        if (a->backing && a->backing->type != VM_OBJECT_FILE)
                return space_fail("backing is not a file", a->start);
        return true;
}

/* Invariants 2, 3 and the objects of one area. */
static bool check_area(struct vm_space *s, const struct vm_area *a)
{
        struct orphan_check oc = { s, a->object };
        bool new_object = a->object && (!a->prev || a->prev->object != a->object);

        if (a->next && vm_area_can_merge(a, a->next))
                return space_fail("neighbours not merged", a->start);
        if (!check_objects(a))
                return false;
        if (new_object && !vm_object_check(a->object))
                return space_fail("bad object", a->start);
        if (a->backing && (!a->prev || a->prev->backing != a->backing) &&
            !vm_object_check(a->backing))
                return space_fail("bad backing object", a->start);
        if (new_object && vm_area_private(a) &&
            !vm_object_for_each(a->object, 0, a->object->size,
                                check_private_page, &oc))
                return false;
        for (vaddr_t va = a->start; va < a->end; va += PAGE_SIZE)
                if (!check_page(s, a, va))
                        return false;
        return check_gap(s, a->prev ? a->prev->end : s->min, a->start);
}

/* Invariant 6: guard runs lie inside areas; a guarded page has no
 * translation and, in private memory, no page of the area's own. The
 * same for UFFDIO_POISON's runs (g: either set). */
static bool check_guards(struct vm_space *s, const struct vm_guards *g)
{
        paddr_t pa;

        if (!vm_guards_sound(g))
                return space_fail("guard runs unsorted or overlapping",
                                  g->n ? g->run[0].start : 0);
        for (uint32_t i = 0; i < g->n; i++)
                for (vaddr_t va = g->run[i].start; va < g->run[i].end;
                     va += PAGE_SIZE) {
                        const struct vm_area *a = vm_area_lookup(&s->areas, va);
                        if (!a)
                                return space_fail("guard outside every area", va);
                        if (pmap_extract(s->pmap, va, &pa, NULL, NULL))
                                return space_fail("guard page mapped", va);
                        if (vm_area_private(a) && a->object &&
                            vm_object_lookup(a->object,
                                             a->pgoff + vm_area_off(a, va)))
                                return space_fail("guard page has a page", va);
                }
        return true;
}

/* Invariant 7: write-protection runs lie inside areas, and in an area
 * registered WP no marked page has a writable translation. */
static bool check_uffd_wp(struct vm_space *s, const struct vm_guards *g)
{
        vm_prot_t prot;

        if (!vm_guards_sound(g))
                return space_fail("write-protect runs unsorted or overlapping",
                                  g->n ? g->run[0].start : 0);
        for (uint32_t i = 0; i < g->n; i++)
                for (vaddr_t va = g->run[i].start; va < g->run[i].end;
                     va += PAGE_SIZE) {
                        const struct vm_area *a = vm_area_lookup(&s->areas, va);
                        if (!a)
                                return space_fail("write-protect mark outside "
                                                  "every area", va);
                        if ((a->uffd_mode & VM_UFFD_WP) &&
                            pmap_extract(s->pmap, va, NULL, &prot, NULL) &&
                            (prot & VM_PROT_WRITE))
                                return space_fail("write-protected page "
                                                  "mapped writable", va);
                }
        return true;
}

bool vm_space_check(struct vm_space *s)
{
        const struct vm_area_tree *t = &s->areas;

        if (!vm_area_tree_check(t))
                return false;
        /* (count may exceed max_areas: a lowered vm.max_map_count only
         * refuses new areas, as Linux's.) */
        if (t->min != s->min || t->max != s->max)
                return space_fail("tree bounds or area count", t->count);
        for (const struct vm_area *a = t->first; a; a = a->next)
                if (!check_area(s, a))
                        return false;
        if (!check_gap(s, t->last ? t->last->end : s->min, s->max))
                return false;
        if (s->start_brk > s->brk)
                return space_fail("brk below start_brk", s->brk);
        if (!check_guards(s, &s->guards) || !check_guards(s, &s->poison) ||
            !check_uffd_wp(s, &s->uffd_wp))
                return false;
        return vm_zero_page_check();
}
