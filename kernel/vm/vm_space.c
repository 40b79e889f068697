/*
 * vm_space.c - address spaces and most of the mmap family (see
 * vm_space.h): create/destroy, map (anonymous and file), unmap, protect,
 * brk, stack setup, the area listing, and the helpers every operation
 * shares (vm_space_impl.h). fork is in vm_fork.c, mremap in vm_remap.c,
 * madvise in vm_advise.c, the checker in vm_space_check.c, the
 * page-fault handler in vm_fault.c.
 *
 * Owns: struct vm_space, the areas in its tree, and the decision of which
 * translations its pmap may hold. Pages come from objects (vm_object.c);
 * page tables belong to the pmap.
 *
 * Every operation follows one shape, so that failure needs no rollback:
 *   1. validate the arguments;
 *   2. plan: which areas the range overlaps, which straddle its ends, and
 *      what the area count will be afterwards;
 *   3. ask the commit policy (vm_commit.h) for what the change adds to
 *      the committed pages, then allocate everything it needs
 *      (descriptors for splits and the new area, a shared object) - the
 *      only steps that can fail;
 *   4. apply: split at the ends ("carve"), drop or change what is inside,
 *      insert, merge with compatible neighbours.
 * Frames are freed only after the translations to them are removed and
 * the TLB flushed (pmap_update), so no CPU can still reach a freed frame.
 */
#include <machine/cpu_local.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <vm/hugetlb.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>
#include <vm/vmstat.h>

#define VM_FILE_MAX_BYTES       (((uint64_t)1 << 63) - 1)   /* Linux's MAX_LFS_FILESIZE */

/* An mmap request once validated and placed. */
struct map_req {
        vaddr_t           va;
        uint64_t          len;
        vm_prot_t         prot;
        unsigned          flags;        /* VM_MAP_* */
        unsigned          area_flags;   /* VM_AREA_* */
        struct vm_object *file;         /* file mapping: the file, else NULL */
        uint64_t          file_pgoff;   /* its page index at va */
};

/* ---- spare descriptors ------------------------------------------------------ */

vm_status_t vm_spares_get(struct vm_spares *sp, unsigned n)
{
        ASSERT(n <= ARRAY_SIZE(sp->a));
        for (sp->n = 0; sp->n < n; sp->n++) {
                sp->a[sp->n] = vm_area_alloc();
                if (!sp->a[sp->n]) {
                        while (sp->n > 0)
                                vm_area_free(sp->a[--sp->n]);
                        return VM_ENOMEM;
                }
        }
        return VM_OK;
}

struct vm_area *vm_spares_take(struct vm_spares *sp)
{
        ASSERT(sp->n > 0);
        return sp->a[--sp->n];
}

void vm_spares_put(struct vm_spares *sp)
{
        while (sp->n > 0)
                vm_area_free(sp->a[--sp->n]);
}

/* ---- ranges: plan, carve, drop -------------------------------------------- */

void vm_range_plan(struct vm_space *s, vaddr_t start, vaddr_t end,
                   struct vm_range_plan *p)
{
        struct vm_area *a = vm_area_lookup_next(&s->areas, start);
        vaddr_t at = start;

        *p = (struct vm_range_plan){ .start = start, .end = end,
                                     .covered = true };
        if (a && a->start < end)
                p->first = a;
        for (; a && a->start < end; a = a->next) {
                if (a->start > at)
                        p->covered = false;
                if (a->start < start)
                        p->split_lo = true;
                if (a->end > end)
                        p->split_hi = true;
                p->overlap++;
                at = a->end;
        }
        if (at < end)
                p->covered = false;
}

uint64_t vm_range_count_after_cut(const struct vm_space *s,
                                  const struct vm_range_plan *p)
{
        return s->areas.count - p->overlap + p->split_lo + p->split_hi;
}

struct vm_area *vm_range_carve(struct vm_space *s, struct vm_range_plan *p,
                               struct vm_spares *sp, bool lo, bool hi)
{
        struct vm_area *a = p->first, *last;

        if (!a)
                return NULL;
        if (lo && a->start < p->start)
                a = vm_area_split(&s->areas, a, p->start, vm_spares_take(sp));
        last = vm_area_lookup(&s->areas, p->end - 1);
        if (hi && last && last->end > p->end)
                vm_area_split(&s->areas, last, p->end, vm_spares_take(sp));
        p->first = a;
        return a;
}

void vm_area_free_pages(struct vm_area *a, vaddr_t start, vaddr_t end)
{
        if (a->object && vm_area_private(a))
                vm_object_free_range(a->object, a->pgoff + vm_area_off(a, start),
                                     a->pgoff + vm_area_off(a, end));
}

/* Forget one area: its private pages, its descriptor, its references. */
static void area_release(struct vm_space *s, struct vm_area *a)
{
        vm_area_free_pages(a, a->start, a->end);
        if (a->object && a->object->hugetlb_private)
                hugetlb_object_drop(a->object, a->pgoff,
                                    a->pgoff + vm_area_npages(a));
        vm_area_remove(&s->areas, a);
        vm_area_free(a);
}

/* The huge-aligned span around [start, end)'s edges. */
static void huge_edges(vaddr_t *start, vaddr_t *end)
{
        uint64_t size = pmap_huge_size();

        *start &= ~(vaddr_t)(size - 1);
        *end = (*end + size - 1) & ~(vaddr_t)(size - 1);
}

void vm_pmap_remove(struct vm_space *s, vaddr_t start, vaddr_t end)
{
        vm_status_t st = pmap_remove(s->pmap, start, end);

        if (st == VM_ENOMEM) {
                huge_edges(&start, &end);
                st = pmap_remove(s->pmap, start, end);  /* aligned: no split */
        }
        ASSERT(st == VM_OK);
}

void vm_pmap_protect(struct vm_space *s, vaddr_t start, vaddr_t end,
                     vm_prot_t prot)
{
        vm_status_t st = pmap_protect(s->pmap, start, end, prot);
        vaddr_t lo = start, hi = end;

        if (st == VM_ENOMEM) {
                huge_edges(&lo, &hi);
                vm_pmap_remove(s, lo, start);
                vm_pmap_remove(s, end, hi);
                st = pmap_protect(s->pmap, start, end, prot);
        }
        ASSERT(st == VM_OK);
}

void vm_range_drop(struct vm_space *s, struct vm_area *first, vaddr_t start,
                   vaddr_t end)
{
        struct vm_area *a = first, *next;

        if (!first)
                return;
        vm_guards_clear(&s->guards, start, end);       /* room reserved */
        vm_guards_clear(&s->poison, start, end);
        vm_guards_clear(&s->uffd_wp, start, end);
        vm_pmap_remove(s, start, end);
        pmap_update(s->pmap);                   /* before frames go */
        for (; a && a->start < end; a = next) {
                next = a->next;
                area_release(s, a);
        }
}

void vm_range_cut(struct vm_space *s, vaddr_t start, vaddr_t end,
                  struct vm_spares *sp)
{
        struct vm_range_plan p;

        vm_range_plan(s, start, end, &p);
        vm_range_drop(s, vm_range_carve(s, &p, sp, true, true), start, end);
}

void vm_range_merge(struct vm_space *s, struct vm_area *first, vaddr_t end)
{
        struct vm_area *a = first->prev ? first->prev : first;

        while (a->next && a->start < end)
                a = vm_area_can_merge(a, a->next) ? vm_area_merge(&s->areas, a)
                                                  : a->next;
}

struct vm_area *vm_space_merge_around(struct vm_space *s, struct vm_area *a)
{
        if (a->prev && vm_area_can_merge(a->prev, a))
                a = vm_area_merge(&s->areas, a->prev);
        if (a->next && vm_area_can_merge(a, a->next))
                a = vm_area_merge(&s->areas, a);
        return a;
}

/* ---- create and destroy ------------------------------------------------------ */

/* Linux's mmap_base without randomization: the stack's room below top. */
static vaddr_t mmap_base_for(const struct vm_space *s)
{
        uint64_t gap = s->stack_limit + VM_STACK_GUARD_GAP;
        uint64_t gap_max = (s->max - s->min) / 6 * 5;

        gap = MAX(gap, VM_MMAP_GAP_MIN);
        gap = MIN(gap, gap_max);
        return page_trunc(s->max - gap);
}

/* Every live space, for vm_spaces_unmap_object(). */
static struct vm_space *all_spaces;
static uint64_t max_map_count = VM_MAX_AREAS;   /* vm.max_map_count */

static uint64_t space_serials;           /* the last serial given */

vm_status_t vm_space_create(struct vm_space **out)
{
        struct vm_space *s;
        vm_status_t st = vm_zero_page_init();

        if (st != VM_OK)
                return st;
        s = kzalloc(sizeof *s);
        if (!s)
                return VM_ENOMEM;
        st = pmap_create(&s->pmap);
        if (st != VM_OK) {
                kfree(s);
                return st;
        }
        vm_area_tree_init(&s->areas, USER_MIN, USER_MAX, VM_STACK_GUARD_GAP);
        s->min = USER_MIN;
        s->max = USER_MAX;
        s->stack_limit = VM_STACK_LIMIT_DEFAULT;
        s->size_limit = UINT64_MAX;
        s->max_areas = max_map_count;
        s->mmap_base = mmap_base_for(s);
        s->all_next = all_spaces;
        s->serial = ++space_serials;
        spin_init(&s->fault_lock, "vm_space fault", LOCK_RANK_SPACE_FAULT);
        spin_init(&s->pmap_lock, "vm_space pmap", LOCK_RANK_SPACE_PMAP);
        all_spaces = s;
        *out = s;
        return VM_OK;
}

/* ---- the door (vm_space.h; docs/design.md, "Faults without the big lock") -- */

uint32_t vm_doors_shut;

/* Wait until none of `what` (VM_DOOR_FAULTS: lock-free faults; the
 * writer without the big lock too) is inside s, running the cross-CPU
 * calls posted to this CPU meanwhile: a fault inside may be waiting for
 * this CPU to drop a TLB entry (vm/pmap.h, pmap_replace_fresh's round,
 * when this CPU has the fault's space loaded), and the writer's
 * shootdown round for it to answer. */
static void door_wait_turn(void)
{
#ifdef MACHINE_CPU_LOCAL
        unsigned long f = intr_save();

        smp_call_poll();
        intr_restore(f);
#endif
        intr_cpu_relax();
}

static void wait_empty(const struct vm_space *s, uint32_t what)
{
        while (__atomic_load_n(&s->door, __ATOMIC_SEQ_CST) & what)
                door_wait_turn();
}

/*
 * Dekker's handshake on one word: the holder adds its entry and then
 * waits for the faults inside to leave; a fault adds itself and then
 * backs out if it sees an entry (vm_fault.c:door_in). Both are full
 * barriers, so one of the two always sees the other. The writer without
 * the lock sets its bit only where the word holds no entry, so the
 * entry that finds the bit set waits for the writer to leave.
 */
void vm_space_enter(struct vm_space *s)
{
        const uint32_t them = VM_DOOR_FAULTS | VM_DOOR_WRITER;

        if (!s)
                return;
        if (__atomic_add_fetch(&s->door, VM_DOOR_ENTERED, __ATOMIC_SEQ_CST) &
            them)
                wait_empty(s, them);
        vm_object_puts_run();   /* theirs: none names s's objects now */
}

void vm_space_leave(struct vm_space *s)
{
        if (!s)
                return;
        ASSERT(__atomic_load_n(&s->door, __ATOMIC_RELAXED) & VM_DOOR_ENTRIES);
        __atomic_sub_fetch(&s->door, VM_DOOR_ENTERED, __ATOMIC_RELEASE);
}

/* How long the writer without the lock waits for an entry or another
 * such writer to leave (turns of intr_cpu_relax, as a fault waits at
 * the door: vm_fault.c, DOOR_WAIT) before its call takes the lock. */
#define WRITER_WAIT     2000

bool vm_space_write_enter(struct vm_space *s)
{
        uint32_t d = __atomic_load_n(&s->door, __ATOMIC_RELAXED);
        unsigned waited = 0;
        uint64_t t0 = 0;

        for (;;) {
                if (!(d & ~VM_DOOR_FAULTS)) {
                        if (__atomic_compare_exchange_n(&s->door, &d,
                                        d | VM_DOOR_WRITER, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
                                break;
                        continue;       /* d reloaded: a fault came or went */
                }
                if (!waited)
                        t0 = lock_stat_now();
                if (++waited > WRITER_WAIT)
                        return false;
                door_wait_turn();
                d = __atomic_load_n(&s->door, __ATOMIC_RELAXED);
        }
        /* Dekker's handshake with vm_space_enter_all, as a fault's. */
        if (__atomic_load_n(&vm_doors_shut, __ATOMIC_SEQ_CST)) {
                vm_space_write_leave(s);
                return false;
        }
        wait_empty(s, VM_DOOR_FAULTS);
        unsigned long f = intr_save();  /* the counts are this CPU's */

        lock_stat_note(LOCK_RANK_SPACE_DOOR, waited,
                       waited ? lock_stat_now() - t0 : 0);
        intr_restore(f);
        return true;
}

void vm_space_write_leave(struct vm_space *s)
{
        ASSERT(__atomic_load_n(&s->door, __ATOMIC_RELAXED) & VM_DOOR_WRITER);
        __atomic_and_fetch(&s->door, ~VM_DOOR_WRITER, __ATOMIC_RELEASE);
}

void vm_space_enter_all(void)
{
        __atomic_add_fetch(&vm_doors_shut, 1, __ATOMIC_SEQ_CST);
        for (struct vm_space *s = all_spaces; s; s = s->all_next)
                wait_empty(s, VM_DOOR_FAULTS | VM_DOOR_WRITER);
        vm_object_puts_run();   /* every count as the owners say */
}

void vm_space_leave_all(void)
{
        ASSERT(__atomic_load_n(&vm_doors_shut, __ATOMIC_RELAXED) > 0);
        __atomic_sub_fetch(&vm_doors_shut, 1, __ATOMIC_RELEASE);
}

bool vm_space_entered(const struct vm_space *s)
{
        return __atomic_load_n(&s->door, __ATOMIC_RELAXED) & VM_DOOR_ENTRIES;
}

struct vm_space *vm_space_by_serial(uint64_t serial)
{
        for (struct vm_space *s = all_spaces; s; s = s->all_next)
                if (s->serial == serial)
                        return s;
        return NULL;
}

void vm_space_destroy(struct vm_space *s)
{
        vm_status_t st;

        /* Its last thread's lock-free copies may have left puts naming
         * its objects (an exit takes the big lock without entering). */
        vm_object_puts_run();
        st = pmap_remove(s->pmap, s->min, s->max);
        ASSERT(st == VM_OK);
        pmap_update(s->pmap);
        vm_space_parked_free(s);
        while (s->areas.first)
                area_release(s, s->areas.first);
        vm_guards_free(&s->guards);
        vm_guards_free(&s->poison);
        vm_guards_free(&s->uffd_wp);
        pmap_destroy(s->pmap);
        for (struct vm_space **l = &all_spaces; *l; l = &(*l)->all_next)
                if (*l == s) {
                        *l = s->all_next;
                        break;
                }
        kfree(s);
}

/* The page range [*lo, *hi) of obj that area a maps, clipped to
 * [first, end); false if none. */
static bool area_object_range(const struct vm_area *a,
                              const struct vm_object *obj, uint64_t first,
                              uint64_t end, vaddr_t *lo, vaddr_t *hi)
{
        uint64_t pgoff, npages = (a->end - a->start) >> PAGE_SHIFT;

        if (a->object == obj && !vm_area_private(a))
                pgoff = a->pgoff;
        else if (a->backing == obj)
                pgoff = a->backing_pgoff;
        else
                return false;
        uint64_t f = MAX(first, pgoff), e = MIN(end, pgoff + npages);
        if (f >= e)
                return false;
        *lo = a->start + ((f - pgoff) << PAGE_SHIFT);
        *hi = a->start + ((e - pgoff) << PAGE_SHIFT);
        return true;
}

void vm_spaces_unmap_object(const struct vm_object *obj, uint64_t first,
                            uint64_t end, bool even_cows)
{
        vaddr_t lo, hi;

        for (struct vm_area *a = obj->mappers; a; a = a->rmap_next) {
                struct vm_space *s = container_of(a->tree, struct vm_space,
                                                  areas);

                if (!area_object_range(a, obj, first, end, &lo, &hi))
                        continue;
                vm_space_enter(s);      /* its tables: lock-free faults */
                if (a->backing == obj && a->object && even_cows) {
                        /* truncate: private copies go too */
                        vm_pmap_remove(s, lo, hi);
                        pmap_update(s->pmap);
                        vm_area_free_pages(a, lo, hi);
                } else if (a->backing == obj && a->object) {
                        /* a hole: a private copy (own page) stays,
                         * only translations of obj's pages go */
                        for (vaddr_t va = lo; va < hi; va += PAGE_SIZE) {
                                if (!vm_object_lookup(a->object,
                                        a->pgoff + ((va - a->start) >> PAGE_SHIFT)))
                                        vm_pmap_remove(s, va, va + PAGE_SIZE);
                        }
                } else {
                        vm_pmap_remove(s, lo, hi);
                }
                pmap_update(s->pmap);
                vm_space_leave(s);
        }
}

bool vm_space_all_shut(void)
{
        return __atomic_load_n(&vm_doors_shut, __ATOMIC_RELAXED) != 0;
}

void vm_spaces_for_each(bool (*fn)(void *arg, struct vm_space *s), void *arg)
{
        for (struct vm_space *s = all_spaces, *next; s; s = next) {
                next = s->all_next;
                if (!fn(arg, s))
                        return;
        }
}

uint64_t vm_spaces_huge_pages(void)
{
        uint64_t n = 0;

        for (struct vm_space *s = all_spaces; s; s = s->all_next) {
                vm_space_enter(s);
                for (struct vm_area *a = s->areas.first; a; a = a->next)
                        if (vm_area_private(a))
                                n += vm_space_huge_pages(s, a->start, a->end);
                vm_space_leave(s);
        }
        return n;
}

vaddr_t vm_space_huge_place(struct vm_space *s, uint64_t len, uint64_t pgoff)
{
        uint64_t huge = pmap_huge_size();
        uint64_t off = (pgoff << PAGE_SHIFT) & (huge - 1);
        vaddr_t at;

        if (len < huge || (off && off + len < 2 * huge) || len + huge < len ||
            vm_space_map(s, 0, len + huge, VM_PROT_NONE,
                         VM_MAP_PRIVATE | VM_MAP_NORESERVE, &at) != VM_OK)
                return 0;
        (void)vm_space_unmap(s, at, len + huge);        /* just mapped */
        /* The highest address at most a huge page up with that offset
         * (top-down, next to the mapping above, as map_anon's). */
        return ((at + huge - off) & ~(vaddr_t)(huge - 1)) + off;
}

/* A shared area that may hold shared memory's huge translations. */
static bool area_shmem(const struct vm_area *a)
{
        return (a->flags & VM_AREA_SHARED) && a->object &&
               a->object->huge_policy && !a->object->hugetlb;
}

uint64_t vm_area_shmem_pmd_mapped(struct vm_space *s, const struct vm_area *a)
{
        return area_shmem(a) ? vm_space_huge_pages(s, a->start, a->end) : 0;
}

uint64_t vm_spaces_shmem_pmd_mapped(void)
{
        uint64_t size = pmap_huge_size(), n = 0;
        uint64_t blocks = (pmm_npages() << PAGE_SHIFT) / size + 1;
        uint64_t *seen = kzalloc((blocks + 63) / 64 * sizeof *seen);
        paddr_t pa;

        for (struct vm_space *s = all_spaces; s; s = s->all_next) {
                vm_space_enter(s);
                for (struct vm_area *a = s->areas.first; a; a = a->next) {
                        if (!area_shmem(a))
                                continue;
                        for (vaddr_t va = (a->start + size - 1) & ~(vaddr_t)(size - 1);
                             va >= a->start && va < a->end && a->end - va >= size;
                             va += size) {
                                uint64_t b;

                                if (pmap_page_size(s->pmap, va) != size ||
                                    !pmap_extract(s->pmap, va, &pa, NULL, NULL))
                                        continue;
                                b = (pa - pmm_ram_base()) / size;
                                if (!seen) {    /* no memory: each counts */
                                        n++;
                                } else if (b < blocks &&
                                           !(seen[b / 64] >> (b % 64) & 1)) {
                                        seen[b / 64] |= 1ULL << (b % 64);
                                        n++;
                                }
                        }
                }
                vm_space_leave(s);
        }
        kfree(seen);
        return n;
}

uint64_t vm_spaces_count_mappings(const struct vm_object *obj, bool writable)
{
        uint64_t n = 0;
        vaddr_t lo, hi;

        for (struct vm_space *s = all_spaces; s; s = s->all_next) {
                vm_space_enter(s);
                for (struct vm_area *a = s->areas.first; a; a = a->next)
                        if (area_object_range(a, obj, 0, UINT64_MAX, &lo, &hi) &&
                            (!writable || (!vm_area_private(a) &&
                                           (a->prot & VM_PROT_WRITE))))
                                n++;
                vm_space_leave(s);
        }
        return n;
}

uint64_t vm_max_map_count(void)
{
        return max_map_count;
}

void vm_set_max_map_count(uint64_t n)
{
        max_map_count = n;
        for (struct vm_space *s = all_spaces; s; s = s->all_next)
                s->max_areas = n;
}

void vm_space_set_size_limit(struct vm_space *s, uint64_t bytes)
{
        s->size_limit = bytes;
}

void vm_space_set_stack_limit(struct vm_space *s, uint64_t bytes)
{
        s->stack_limit = page_round(bytes);
        if (s->areas.count == 0)        /* exec time: lay out the mmap area */
                s->mmap_base = mmap_base_for(s);
}

const struct vm_area *vm_space_lookup(struct vm_space *s, vaddr_t va)
{
        return vm_area_lookup(&s->areas, va);
}

/* ---- map ------------------------------------------------------------------- */

static unsigned area_flags_of(unsigned flags)
{
        return ((flags & VM_MAP_SHARED) ? VM_AREA_SHARED : 0) |
               ((flags & VM_MAP_MAYWRITE) ? VM_AREA_MAYWRITE : 0) |
               ((flags & VM_MAP_GROWSDOWN) ? VM_AREA_GROWSDOWN : 0) |
               ((flags & VM_MAP_NORESERVE) && vm_commit_noreserve_ok()
                        ? VM_AREA_NORESERVE : 0) |
               ((flags & VM_MAP_SPECIAL) ? VM_AREA_SPECIAL : 0) |
               ((flags & VM_MAP_DROPPABLE) ? VM_AREA_DROPPABLE |
                                             VM_AREA_NOHUGEPAGE : 0);
}

static vm_status_t map_validate(const struct vm_space *s, vaddr_t hint,
                                uint64_t len, vm_prot_t prot, unsigned flags,
                                struct map_req *r)
{
        unsigned kind = flags & (VM_MAP_PRIVATE | VM_MAP_SHARED);

        if (len == 0 || (flags & ~VM_MAP_FLAGS_ALL) || (prot & ~VM_PROT_ALL))
                return VM_EINVAL;
        if (kind != VM_MAP_PRIVATE && kind != VM_MAP_SHARED)
                return VM_EINVAL;
        if ((flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) &&
            !is_aligned(hint, PAGE_SIZE))
                return VM_EINVAL;
        *r = (struct map_req){ .len = page_round(len), .prot = prot,
                               .flags = flags,
                               .area_flags = area_flags_of(flags) };
        if (r->len == 0 || r->len > s->max - s->min)
                return VM_ENOMEM;
        return VM_OK;
}

/* The file part of a file mapping's request. */
static vm_status_t map_validate_file(struct map_req *r, struct vm_object *file,
                                     uint64_t offset)
{
        uint64_t pgoff = offset >> PAGE_SHIFT;

        /* An anonymous object may only be mapped shared (SysV shm). */
        if (!file || (file->type != VM_OBJECT_FILE &&
                      !(r->flags & VM_MAP_SHARED)) ||
            !is_aligned(offset, PAGE_SIZE))
                return VM_EINVAL;
        /* Linux: EOVERFLOW past its largest file size (2^63 - 1). */
        if (offset > VM_FILE_MAX_BYTES || r->len > VM_FILE_MAX_BYTES - offset)
                return VM_EINVAL;
        r->file = file;
        r->file_pgoff = pgoff;
        return VM_OK;
}

/* Is [va, va + len) free, keeping the guard gap below a stack above it? */
static bool range_free(struct vm_space *s, vaddr_t va, uint64_t len)
{
        struct vm_area *next;

        if (va < s->min || va > s->max - len)
                return false;
        next = vm_area_lookup_next(&s->areas, va);
        return !next || va + len <= vm_area_start_gap(&s->areas, next);
}

vm_status_t vm_space_place(struct vm_space *s, vaddr_t hint, uint64_t len,
                           vaddr_t *va)
{
        hint = page_trunc(hint);
        if (hint && hint < s->min)      /* Linux's round_hint_to_min() */
                hint = s->min;
        if (hint && range_free(s, hint, len)) {
                *va = hint;
                return VM_OK;
        }
        if (vm_area_gap_highest(&s->areas, len, s->min, s->mmap_base,
                                va) == VM_OK)
                return VM_OK;
        return vm_area_gap_lowest(&s->areas, len, VM_MMAP_LEGACY_BASE,
                                  s->max, va);
}

static vm_status_t map_place(struct vm_space *s, vaddr_t hint,
                             struct map_req *r)
{
        struct vm_area *next;

        if (!(r->flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)))
                return vm_space_place(s, hint, r->len, &r->va);
        if (hint > s->max - r->len)
                return VM_ENOMEM;
        if (hint < s->min)
                return VM_EACCES;
        r->va = hint;
        next = vm_area_lookup_next(&s->areas, hint);
        if ((r->flags & VM_MAP_FIXED_NOREPLACE) && next &&
            next->start < hint + r->len)
                return VM_EEXIST;
        return VM_OK;
}

/* Fill in the new area's descriptor from r; obj is its object (a new
 * shared anonymous one, the file for a shared file mapping, else NULL);
 * references are the caller's business. */
static void map_area_init(struct vm_area *a, const struct map_req *r,
                          struct vm_object *obj)
{
        bool shared = r->area_flags & VM_AREA_SHARED;

        a->start = r->va;
        a->end = r->va + r->len;
        a->prot = r->prot;
        a->flags = r->area_flags |
                   (vm_commit_accountable(r->area_flags, r->prot)
                            ? VM_AREA_ACCOUNT : 0);
        a->object = obj;
        a->pgoff = !shared ? r->va >> PAGE_SHIFT : r->file ? r->file_pgoff : 0;
        a->backing = shared ? NULL : r->file;
        a->backing_pgoff = shared || !r->file ? 0 : r->file_pgoff;
}

/*
 * vm.max_map_count as Linux's do_mmap counts it: refused only when the
 * space already has more areas than the limit, so an mmap may take it to
 * the limit + 1 (LTP max_map_count expects exactly that); an mmap that
 * cuts an area in two on its way (MAP_FIXED inside one) is refused at
 * the limit, as munmap's split is.
 */
static bool map_over_limit(const struct vm_space *s,
                           const struct vm_range_plan *p)
{
        return s->areas.count > s->max_areas ||
               ((p->split_lo || p->split_hi) &&
                s->areas.count >= s->max_areas);
}

uint64_t vm_range_committed(const struct vm_space *s, vaddr_t start,
                            vaddr_t end)
{
        uint64_t n = 0;

        for (struct vm_area *a = vm_area_lookup_next((struct vm_area_tree *)
                                                     &s->areas, start);
             a && a->start < end; a = a->next)
                if (a->flags & VM_AREA_ACCOUNT)
                        n += (MIN(a->end, end) - MAX(a->start, start)) >>
                             PAGE_SHIFT;
        return n;
}

/* The commit r's area adds if charged, less the charged pages it
 * replaces (Linux's mmap_region asks for the difference). A new shared
 * anonymous object asks for its own (vm_commit_shared_object). */
static vm_status_t map_commit_check(struct vm_space *s,
                                    const struct map_req *r)
{
        uint64_t add = 0, gone;

        if (vm_commit_accountable(r->area_flags, r->prot))
                add = r->len >> PAGE_SHIFT;
        gone = vm_range_committed(s, r->va, r->va + r->len);
        return add > gone ? vm_commit_check(s, add - gone) : VM_OK;
}

/* Replace whatever is in r's range by a new area. */
static vm_status_t map_range(struct vm_space *s, const struct map_req *r)
{
        bool shared = r->area_flags & VM_AREA_SHARED;
        struct vm_range_plan p;
        struct vm_spares sp;
        struct vm_object *obj = NULL;
        struct vm_area *a;
        vm_status_t st;

        vm_range_plan(s, r->va, r->va + r->len, &p);
        if (vm_range_sealed(&p))
                return VM_EPERM;                /* MAP_FIXED over mseal */
        if (map_over_limit(s, &p))
                return VM_ENOMEM;
        st = map_commit_check(s, r);
        if (st != VM_OK)
                return st;
        st = vm_spares_get(&sp, 1 + p.split_lo + p.split_hi);
        if (st == VM_OK)
                st = vm_guards_reserve(&s->guards, 2);
        if (st == VM_OK)
                st = vm_guards_reserve(&s->poison, 2);
        if (st == VM_OK)
                st = vm_guards_reserve(&s->uffd_wp, 2);
        if (st == VM_OK && shared && !r->file)
                st = vm_commit_shared_object(
                        s, r->len >> PAGE_SHIFT,
                        r->area_flags & VM_AREA_NORESERVE, &obj);
        if (st != VM_OK) {
                vm_spares_put(&sp);
                return st;
        }
        if (r->file) {                  /* the new area's reference */
                vm_object_ref(r->file);
                obj = shared ? r->file : NULL;
        }
        vm_range_drop(s, vm_range_carve(s, &p, &sp, true, true), p.start,
                      p.end);
        a = vm_spares_take(&sp);
        map_area_init(a, r, obj);
        st = vm_area_insert(&s->areas, a);
        ASSERT(st == VM_OK);
        vm_space_merge_around(s, a);
        vm_spares_put(&sp);
        return VM_OK;
}

/* MAP_POPULATE: fault every page in; failures only stop it (as Linux). */
static void map_populate(struct vm_space *s, const struct map_req *r)
{
        vm_prot_t access = (r->prot & VM_PROT_WRITE) ? VM_PROT_WRITE
                                                     : VM_PROT_READ;

        if (!(r->flags & VM_MAP_POPULATE) || r->prot == VM_PROT_NONE)
                return;
        for (vaddr_t va = r->va, end; va < r->va + r->len; va += PAGE_SIZE) {
                if (vm_space_huge_allows(s, va, access, &end)) {
                        va = end - PAGE_SIZE;   /* the rest of a huge page */
                        continue;
                }
                if (vm_fault(s, va, access) != FAULT_RESOLVED)
                        return;
        }
}

/* mmap, anonymous (file NULL) or of a file. */
static vm_status_t map_common(struct vm_space *s, vaddr_t hint, uint64_t len,
                              vm_prot_t prot, unsigned flags,
                              struct vm_object *file, uint64_t offset,
                              vaddr_t *out)
{
        struct map_req r;
        vm_status_t st;

        /* Shared anonymous memory may always be made writable (Linux's
         * shmem file is open read-write); a SysV read-only attachment
         * (vm_space_map_object without MAYWRITE) may not. */
        if (!file && (flags & VM_MAP_SHARED))
                flags |= VM_MAP_MAYWRITE;
        st = map_validate(s, hint, len, prot, flags, &r);

        if (st == VM_OK && (file || offset))
                st = map_validate_file(&r, file, offset);
        if (st == VM_OK)
                st = map_place(s, hint, &r);
        /* A writable shared mapping of a file needs it opened for
         * writing (VM_MAP_MAYWRITE) and pages that are the truth (Linux
         * checks the file's mode after placing the mapping). */
        if (st == VM_OK && file && file->type == VM_OBJECT_FILE &&
            (flags & VM_MAP_SHARED) && (prot & VM_PROT_WRITE) &&
            (!(flags & VM_MAP_MAYWRITE) || !file->writable))
                st = VM_EACCES;
        if (st == VM_OK)
                st = map_range(s, &r);
        if (st != VM_OK)
                return st;
        map_populate(s, &r);
        *out = r.va;
        return VM_OK;
}

vm_status_t vm_space_map(struct vm_space *s, vaddr_t hint, uint64_t len,
                         vm_prot_t prot, unsigned flags, vaddr_t *out)
{
        return map_common(s, hint, len, prot, flags, NULL, 0, out);
}

vm_status_t vm_space_map_file(struct vm_space *s, vaddr_t hint, uint64_t len,
                              vm_prot_t prot, unsigned flags,
                              struct vm_object *file, uint64_t offset,
                              vaddr_t *out)
{
        if (!file)
                return VM_EINVAL;
        return map_common(s, hint, len, prot, flags, file, offset, out);
}

vm_status_t vm_space_map_object(struct vm_space *s, vaddr_t hint,
                                uint64_t len, vm_prot_t prot, unsigned flags,
                                struct vm_object *obj, vaddr_t *out)
{
        if (!obj || obj->type != VM_OBJECT_ANON || !(flags & VM_MAP_SHARED))
                return VM_EINVAL;
        return map_common(s, hint, len, prot, flags, obj, 0, out);
}

/* ---- unmap -------------------------------------------------------------------- */

bool vm_range_sealed(const struct vm_range_plan *p)
{
        for (const struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next)
                if (a->flags & VM_AREA_SEALED)
                        return true;
        return false;
}

vm_status_t vm_space_unmap_range(struct vm_space *s, vaddr_t start,
                                 vaddr_t end)
{
        struct vm_range_plan p;
        struct vm_spares sp;
        vm_status_t st;

        vm_range_plan(s, start, end, &p);
        if (vm_range_sealed(&p))
                return VM_EPERM;                /* mseal */
        if (vm_range_count_after_cut(s, &p) > s->max_areas)
                return VM_ENOMEM;
        st = vm_guards_reserve(&s->guards, 2);
        if (st == VM_OK)
                st = vm_guards_reserve(&s->poison, 2);
        if (st == VM_OK)
                st = vm_guards_reserve(&s->uffd_wp, 2);
        if (st == VM_OK)
                st = vm_spares_get(&sp, p.split_lo + p.split_hi);
        if (st != VM_OK)
                return st;
        vm_range_drop(s, vm_range_carve(s, &p, &sp, true, true), start, end);
        vm_spares_put(&sp);
        return VM_OK;
}

vm_status_t vm_space_unmap(struct vm_space *s, vaddr_t start, uint64_t len)
{
        uint64_t rlen = page_round(len);

        if (!is_aligned(start, PAGE_SIZE) || len == 0 || rlen == 0 ||
            start > s->max || rlen > s->max - start)
                return VM_EINVAL;
        return vm_space_unmap_range(s, start, start + rlen);
}

/* ---- protect ----------------------------------------------------------------- */

/*
 * What translations of area a may allow under prot. Private memory may
 * map the zero page, a file's page or a page shared since fork, none of
 * which it may write, so widening to write is left to the next write
 * fault of each page.
 */
vm_prot_t vm_area_pmap_prot(const struct vm_area *a, vm_prot_t prot)
{
        if (vm_area_private(a) && (prot & VM_PROT_WRITE))
                return pmap_prot_implied(prot) & ~VM_PROT_WRITE;
        /* A disk file's pages are mapped writable only by a write fault,
         * which finds them disk blocks first (vm_pager_ops.mkwrite). */
        if (a->object && a->object->pager_ops && (prot & VM_PROT_WRITE))
                return pmap_prot_implied(prot) & ~VM_PROT_WRITE;
        return prot;
}

/* May area a get prot? Not write on a shared mapping without
 * VM_AREA_MAYWRITE: a file not opened for writing, or a SysV read-only
 * attachment (Linux's EACCES without VM_MAYWRITE). */
static bool protect_allowed(const struct vm_area *a, vm_prot_t prot)
{
        return !((prot & VM_PROT_WRITE) && !vm_area_private(a) &&
                 !(a->flags & VM_AREA_MAYWRITE));
}

/* Linux's order: the first problem in address order, a hole (ENOMEM) or
 * an area that refuses prot (EACCES). */
static vm_status_t protect_validate(const struct vm_range_plan *p,
                                    vm_prot_t prot)
{
        vaddr_t at = p->start;

        for (struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next) {
                if (a->start > at)
                        return VM_ENOMEM;
                if (!protect_allowed(a, prot))
                        return VM_EACCES;
                at = a->end;
        }
        return at < p->end ? VM_ENOMEM : VM_OK;
}

/*
 * Is area a charged once it has prot (Linux's mprotect_fixup)? Private
 * memory made writable is, unless NORESERVE; a charge stays when write
 * goes, but for anonymous memory that never had a page (no object: Linux's
 * vma without anon_vma), whose charge goes with it.
 */
static bool protect_charged(const struct vm_area *a, vm_prot_t prot)
{
        if (a->prot == prot)
                return a->flags & VM_AREA_ACCOUNT;
        if (prot & VM_PROT_WRITE)
                return (a->flags & VM_AREA_ACCOUNT) ||
                       vm_commit_accountable(a->flags, prot);
        return (a->flags & VM_AREA_ACCOUNT) &&
               !(vm_area_private(a) && !a->backing && !a->object);
}

/* The pages mprotect would newly charge in p's range. */
static uint64_t protect_commit(const struct vm_range_plan *p, vm_prot_t prot)
{
        uint64_t n = 0;

        for (struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next)
                if (!(a->flags & VM_AREA_ACCOUNT) && protect_charged(a, prot))
                        n += (MIN(a->end, p->end) - MAX(a->start, p->start)) >>
                             PAGE_SHIFT;
        return n;
}

/* Set prot on the (carved) areas from first up to end, then merge. */
static void protect_areas(struct vm_space *s, struct vm_area *first,
                          vaddr_t end, vm_prot_t prot)
{
        struct vm_area *a;

        for (a = first; a && a->start < end; a = a->next) {
                if (a->prot == prot)
                        continue;
                vm_area_set_account(&s->areas, a, protect_charged(a, prot));
                a->prot = prot;
                vm_pmap_protect(s, a->start, a->end, vm_area_pmap_prot(a, prot));
        }
        pmap_update(s->pmap);
        vm_range_merge(s, first, end);
}

vm_status_t vm_space_protect(struct vm_space *s, vaddr_t start, uint64_t len,
                             vm_prot_t prot)
{
        uint64_t rlen = page_round(len);
        struct vm_range_plan p;
        struct vm_spares sp;
        struct vm_area *last;
        vm_status_t st;
        bool lo, hi;

        /* Linux's order: alignment, empty, overflow, then prot. */
        if (!is_aligned(start, PAGE_SIZE))
                return VM_EINVAL;
        if (len == 0)
                return VM_OK;
        if (rlen == 0 || start > s->max || rlen > s->max - start)
                return VM_ENOMEM;
        if (prot & ~VM_PROT_ALL)
                return VM_EINVAL;
        vm_range_plan(s, start, start + rlen, &p);
        if (vm_range_sealed(&p))
                return VM_EPERM;        /* mseal (Linux: before the holes) */
        st = protect_validate(&p, prot);
        if (st == VM_OK)
                st = vm_commit_check(s, protect_commit(&p, prot));
        if (st != VM_OK)
                return st;
        last = vm_area_lookup(&s->areas, p.end - 1);
        lo = p.split_lo && p.first->prot != prot;
        hi = p.split_hi && last->prot != prot;
        if (s->areas.count + lo + hi > s->max_areas)
                return VM_ENOMEM;
        if (vm_spares_get(&sp, lo + hi) != VM_OK)
                return VM_ENOMEM;
        protect_areas(s, vm_range_carve(s, &p, &sp, lo, hi), p.end, prot);
        vm_spares_put(&sp);
        return VM_OK;
}

/* ---- protect without the big lock ------------------------------------------- */

/* Areas a and b (neighbours) as they would be after p's range got prot:
 * could they merge? */
static bool merge_after(const struct vm_area *a, const struct vm_area *b,
                        const struct vm_range_plan *p, vm_prot_t prot)
{
        struct vm_area na = *a, nb = *b;

        if (a->start < p->end && a->end > p->start)
                na.prot = prot;
        if (b->start < p->end && b->end > p->start)
                nb.prot = prot;
        return vm_area_can_merge(&na, &nb);
}

/*
 * Would vm_space_protect do p's change by rewriting the protection of
 * whole areas and their translations, and nothing else: no area to split
 * (each one that changes lies inside the range) or to merge afterwards
 * (no neighbouring pair, first's neighbour below to last's above, could
 * merge with the new protections), no commit charge to move, and none
 * of what the lock's path adds for some areas (mlock's population,
 * explicit huge pages' rule against cuts inside one, userfaultfd)?
 */
static bool protect_in_place(const struct vm_range_plan *p, vm_prot_t prot)
{
        const struct vm_area *a, *last = NULL;

        for (a = p->first; a && a->start < p->end; a = a->next) {
                if ((a->flags & (VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)) ||
                    a->uffd || (a->object && a->object->hugetlb))
                        return false;
                if (a->prot != prot &&
                    (a->start < p->start || a->end > p->end ||
                     protect_charged(a, prot) !=
                     !!(a->flags & VM_AREA_ACCOUNT)))
                        return false;
                last = a;
        }
        if (!last)
                return false;
        for (a = p->first->prev ? p->first->prev : p->first; a; a = a->next) {
                if (a->next && merge_after(a, a->next, p, prot))
                        return false;
                if (a == last)
                        break;
        }
        return true;
}

bool vm_space_protect_nolock(struct vm_space *s, vaddr_t start, uint64_t len,
                             vm_prot_t prot)
{
        uint64_t rlen = page_round(len);
        struct vm_range_plan p;
        bool done = false;

        if (!is_aligned(start, PAGE_SIZE) || len == 0 || rlen == 0 ||
            start > s->max || rlen > s->max - start || (prot & ~VM_PROT_ALL) ||
            !vm_space_write_enter(s))
                return false;
        vm_range_plan(s, start, start + rlen, &p);
        if (!vm_range_sealed(&p) && protect_validate(&p, prot) == VM_OK &&
            protect_in_place(&p, prot)) {
                for (struct vm_area *a = p.first; a && a->start < p.end;
                     a = a->next) {
                        if (a->prot == prot)
                                continue;
                        /* One store: a reader of s's areas enters s
                         * (vm_space.h, Locks), but a word torn by a
                         * reader overlooked would be worse than stale. */
                        __atomic_store_n(&a->prot, prot, __ATOMIC_RELAXED);
                        vm_pmap_protect(s, a->start, a->end,
                                        vm_area_pmap_prot(a, prot));
                }
                pmap_update(s->pmap);
                done = true;
        }
        vm_space_write_leave(s);
        return done;
}

/* ---- unmap without the big lock --------------------------------------------- */

/*
 * Would vm_space_unmap do p's change by taking whole areas out of the
 * tree, with nothing to do for them that is the big lock's before their
 * pages go? No area to split, nothing sealed; each area private and on
 * no object's list of mappers (a private file area reads its file
 * through one: rmap_obj), neither mlocked nor special ([vdso], [vvar]),
 * without userfaultfd or explicit huge pages; its object, if any,
 * without swap entries (the swap checker counts an object's entries
 * inside its areas); and no guard, poison or write-protect run in the
 * range (their clearing may need room the lock's path reserves first).
 */
static bool unmap_whole(const struct vm_space *s, const struct vm_range_plan *p)
{
        const unsigned not = VM_AREA_LOCKED | VM_AREA_LOCKONFAULT |
                             VM_AREA_SHARED | VM_AREA_SPECIAL;

        if (p->split_lo || p->split_hi || vm_range_sealed(p) ||
            vm_guards_meet(&s->guards, p->start, p->end) ||
            vm_guards_meet(&s->poison, p->start, p->end) ||
            vm_guards_meet(&s->uffd_wp, p->start, p->end))
                return false;
        for (const struct vm_area *a = p->first; a && a->start < p->end;
             a = a->next) {
                const struct vm_object *o = a->object;

                if ((a->flags & not) || a->rmap_obj || a->uffd ||
                    (o && (o->hugetlb || o->nswapped)))
                        return false;
        }
        return true;
}

bool vm_space_unmap_nolock(struct vm_space *s, vaddr_t start, uint64_t len)
{
        uint64_t rlen = page_round(len);
        struct vm_range_plan p;
        bool done = false;

        if (!is_aligned(start, PAGE_SIZE) || len == 0 || rlen == 0 ||
            start > s->max || rlen > s->max - start ||
            !vm_space_write_enter(s))
                return false;
        vm_range_plan(s, start, start + rlen, &p);
        if (unmap_whole(s, &p)) {
                struct vm_area *a = p.first, *next;

                if (a) {
                        vm_pmap_remove(s, p.start, p.end);
                        pmap_update(s->pmap);   /* before the areas go */
                }
                for (; a && a->start < p.end; a = next) {
                        next = a->next;
                        vm_area_remove(&s->areas, a);
                        a->next = s->parked;
                        s->parked = a;
                }
                done = true;
        }
        vm_space_write_leave(s);
        return done;
}

void vm_space_parked_free(struct vm_space *s)
{
        struct vm_area *a;

        while (s && (a = s->parked)) {
                s->parked = a->next;
                a->next = NULL;
                vm_area_free_pages(a, a->start, a->end);
                vm_area_free(a);
        }
}

void vm_spaces_parked_free(void)
{
        ASSERT(vm_space_all_shut());
        for (struct vm_space *s = all_spaces; s; s = s->all_next)
                vm_space_parked_free(s);
}

bool vm_space_parked_covers(const struct vm_space *s,
                            const struct vm_object *obj, vaddr_t va)
{
        for (const struct vm_area *a = s->parked; a; a = a->next)
                if (a->object == obj && a->start <= va && va < a->end)
                        return true;
        return false;
}

/* ---- map without the big lock ----------------------------------------------- */

/*
 * May the commit policy say yes to npages more for an area of these
 * flags without the big lock? Modes 0 and 1 compare with nothing another
 * CPU changes for a request that fits in RAM (mode 0 refuses only one
 * larger than RAM and swap); mode 2 compares with the count, whose check
 * and charge the lock keeps together.
 */
static bool commit_nolock_ok(unsigned area_flags, vm_prot_t prot,
                             uint64_t npages)
{
        if (!vm_commit_accountable(area_flags, prot) ||
            vm_commit_policy.overcommit_memory == VM_OVERCOMMIT_ALWAYS)
                return true;
        return vm_commit_policy.overcommit_memory == VM_OVERCOMMIT_GUESS &&
               npages <= vmstat.managed_pages;
}

/*
 * May the new area a (not in the tree yet), between prev and next, merge
 * with them here? Not with both if each holds an object: the second
 * merge lets one of the object's references go, the big lock's count.
 * And not into an area that then holds a neighbour's object over a
 * parked area (vm_space_unmap_nolock): the parked pages still sit in
 * that object at those page numbers until the lock's holder lets them
 * go, and the merged area's faults would find them there. The merged
 * area spans its neighbours too: a neighbour without an object may have
 * been placed over a parked area itself.
 */
static bool merge_nolock_ok(const struct vm_space *s,
                            const struct vm_area *prev,
                            const struct vm_area *a,
                            const struct vm_area *next)
{
        bool below = prev && vm_area_can_merge(prev, a);
        bool above = next && vm_area_can_merge(a, next);
        bool obj_below = below && prev->object;
        bool obj_above = above && next->object;
        vaddr_t lo = below ? prev->start : a->start;
        vaddr_t hi = above ? next->end : a->end;

        if (obj_below && obj_above)
                return false;
        for (const struct vm_area *z = s->parked; (obj_below || obj_above) && z;
             z = z->next)
                if (z->start < hi && lo < z->end)
                        return false;
        return true;
}

bool vm_space_map_nolock(struct vm_space *s, vaddr_t hint, uint64_t len,
                         vm_prot_t prot, unsigned flags, vaddr_t *out)
{
        struct vm_area *a, *prev, *next;
        struct map_req r;
        bool done = false;

        if ((flags & ~VM_MAP_NORESERVE) != VM_MAP_PRIVATE ||
            map_validate(s, hint, len, prot, flags, &r) != VM_OK ||
            !commit_nolock_ok(r.area_flags, prot, r.len >> PAGE_SHIFT) ||
            !(a = vm_area_alloc()))
                return false;
        if (!vm_space_write_enter(s)) {
                vm_area_free(a);
                return false;
        }
        /* What map_range asks of a new place (no area to replace, no
         * split: nothing to drop), and mlockall's MCL_FUTURE, whose
         * population is the lock's. */
        if (!s->lock_future && s->areas.count <= s->max_areas &&
            vm_space_place(s, hint, r.len, &r.va) == VM_OK) {
                map_area_init(a, &r, NULL);
                next = vm_area_lookup_next(&s->areas, r.va);
                prev = next ? next->prev : s->areas.last;
                if (merge_nolock_ok(s, prev, a, next)) {
                        vm_status_t st = vm_area_insert(&s->areas, a);

                        ASSERT(st == VM_OK);    /* placed in a gap */
                        vm_space_merge_around(s, a);
                        a = NULL;
                        *out = r.va;
                        done = true;
                }
        }
        vm_space_write_leave(s);
        vm_area_free(a);                /* unused: no object, no backing */
        return done;
}

/* ---- brk and stack -------------------------------------------------------------- */

vm_status_t vm_space_brk_init(struct vm_space *s, vaddr_t start)
{
        if (start < s->min || start >= s->max)
                return VM_EINVAL;
        s->start_brk = s->brk = start;
        return VM_OK;
}

static vm_status_t brk_shrink(struct vm_space *s, vaddr_t newbrk,
                              vaddr_t oldbrk)
{
        struct vm_area *a = vm_area_lookup_next(&s->areas, newbrk);

        if (!a || a->start >= oldbrk)   /* nothing of the heap is left */
                return VM_ENOENT;
        return vm_space_unmap_range(s, newbrk, oldbrk);
}

static vm_status_t brk_grow(struct vm_space *s, vaddr_t oldbrk, vaddr_t newbrk)
{
        struct vm_area *next = vm_area_lookup_next(&s->areas, oldbrk);
        struct map_req r = { .va = oldbrk, .len = newbrk - oldbrk,
                             .prot = VM_PROT_RW, .flags = VM_MAP_PRIVATE };

        /* Linux keeps a page free between the heap and the next mapping. */
        if (next && newbrk + PAGE_SIZE > vm_area_start_gap(&s->areas, next))
                return VM_ENOMEM;
        return map_range(s, &r);
}

vm_status_t vm_space_brk(struct vm_space *s, vaddr_t want, vaddr_t *result)
{
        vaddr_t oldbrk = page_round(s->brk), newbrk;
        vm_status_t st = VM_OK;

        *result = s->brk;
        if (s->start_brk == 0 || want < s->start_brk)   /* no heap / below */
                return VM_EINVAL;
        if (want > s->max)
                return VM_ENOMEM;
        newbrk = page_round(want);
        if (newbrk < oldbrk)
                st = brk_shrink(s, newbrk, oldbrk);
        else if (newbrk > oldbrk)
                st = brk_grow(s, oldbrk, newbrk);
        if (st == VM_OK)
                s->brk = want;
        *result = s->brk;
        return st;
}

vm_status_t vm_space_stack_init(struct vm_space *s, vaddr_t top, uint64_t len)
{
        struct map_req r = { .va = top - len, .len = len, .prot = VM_PROT_RW,
                             .flags = VM_MAP_PRIVATE | VM_MAP_GROWSDOWN,
                             .area_flags = VM_AREA_GROWSDOWN };
        struct vm_area *next;
        vm_status_t st;

        if (!is_aligned(top | len, PAGE_SIZE) || len == 0 ||
            len > s->stack_limit || top > s->max || top < s->min ||
            len > top - s->min)
                return VM_EINVAL;
        next = vm_area_lookup_next(&s->areas, r.va);
        if (next && next->start < top)
                return VM_EEXIST;
        st = map_range(s, &r);
        if (st == VM_OK)
                s->stack_top = top;
        return st;
}

/* ---- the area listing (/proc/PID/maps) ---------------------------------------- */

static void area_info(const struct vm_space *s, const struct vm_area *a,
                      struct vm_area_info *info)
{
        const struct vm_object *o = a->backing ? a->backing
                                  : vm_area_private(a) ? NULL : a->object;
        uint64_t pgoff = a->backing ? a->backing_pgoff : a->pgoff;

        *info = (struct vm_area_info){
                .start = a->start, .end = a->end, .prot = a->prot,
                .flags = a->flags, .shared = !vm_area_private(a),
                .object = o,
                .is_file = o && o->type == VM_OBJECT_FILE,
                .object_id = o ? o->id : 0,
                .offset = o ? pgoff << PAGE_SHIFT : 0,
                .name = o ? o->name : NULL,
                /* Linux names only anonymous areas [stack] and [heap]. */
                .is_stack = !o && s->stack_top && a->start < s->stack_top &&
                            a->end >= s->stack_top,
                .is_heap = !o && s->start_brk && a->start < s->brk &&
                           a->end > s->start_brk,
        };
}

bool vm_space_for_each_area(struct vm_space *s,
                            bool (*fn)(void *arg,
                                       const struct vm_area_info *info),
                            void *arg)
{
        struct vm_area_info info;
        bool all = true;

        vm_space_enter(s);
        for (const struct vm_area *a = s->areas.first; a && all; a = a->next) {
                area_info(s, a, &info);
                all = fn(arg, &info);
        }
        vm_space_leave(s);
        return all;
}
