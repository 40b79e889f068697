/*
 * vm_fault.c - the page-fault handler (CONCEPTS E22: pages arrive on first
 * touch; E24: copy-on-write): find the area (growing a stack if the fault
 * is just below one), check the access, find or make the page, map it.
 *
 * Owns: the fault path and the stack-growth rule. Changes areas only to
 * grow a stack or attach an object to private memory on its first write;
 * pages come from the area's objects (vm_object.c).
 *
 * Rules kept here:
 *   - shared memory maps the object's own page, even on a read, so that
 *     every mapping of the object sees the same frame; an index the object
 *     does not have (past a file's end, past a shared object grown by
 *     mremap) is FAULT_BUS, as Linux's SIGBUS;
 *   - private memory looks in its own object first, then in its backing
 *     file, then at the zero page. A read maps what it finds; a write
 *     needs a page of its own that no other object shares:
 *       own page, refcount 1    map it writable (the last sharer after a
 *                               fork writes in place, no copy), and the
 *                               neighbours that pass the same test
 *                               (reuse_around);
 *       own page, refcount > 1  copy it (vm_object_page_unshare);
 *       no own page             a copy of the file's page, or zeroes;
 *   - a page other objects share, a file's page and the zero page are
 *     never mapped writable into private memory;
 *   - an access is checked against what the MMU allows under the area's
 *     protection (pmap_prot_implied(): on x86 any present page is
 *     readable, so read is allowed by any of read, write or exec, as
 *     Linux's vma_is_accessible()); the area keeps the user's protection;
 *   - the faulting access goes to pmap_enter() (PMAP_ACCESS), for MMUs
 *     that do not set accessed/dirty bits themselves.
 * Locks: the big kernel lock, but for vm_fault_nolock (vm_space.h).
 */
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/cpu_local.h>
#include <vm/hugetlb.h>
#include <vm/memcg.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_rmap.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_space.h>
#include <vm/vm_space_impl.h>
#include <vm/vm_swap.h>
#include <vm/vmstat.h>
#include <vm/userfaultfd.h>

static unsigned order_of(uint64_t pages);
static bool thp_may_reclaim(const struct vm_area *a);

/* The state of one fault as it moves through the phases. */
struct fault_ctx {
        struct vm_space  *space;
        vaddr_t           va;           /* page-aligned */
        vm_prot_t         access;
        struct vm_area   *area;
        uint64_t          off;          /* page offset of va in the area */
        struct vm_page   *page;         /* the page to map; NULL: zero page */
        bool              writable;     /* may the translation allow write? */
        bool              huge;         /* a huge page was mapped already */
        bool              reused;       /* an own page made writable again */
        bool              major;        /* a page was read from swap */
        enum fault_reason reason;       /* why it failed */
};

static vm_status_t fault_segv(struct fault_ctx *fc, enum fault_reason why)
{
        fc->reason = why;
        return why == FAULT_REASON_PROT ? VM_EACCES : VM_EFAULT;
}

/* An index the object lacks, or a page its quota refuses (VM_ENOSPC):
 * SIGBUS (BUS_ADRERR), as Linux's shmem_fault. Memory shortage stays. */
static vm_status_t fault_bus_if(struct fault_ctx *fc, vm_status_t st)
{
        if (st == VM_ENOENT)
                fc->reason = FAULT_REASON_BEYOND_OBJECT;
        else if (st == VM_ENOSPC)
                fc->reason = FAULT_REASON_NO_SPACE;
        else if (st == VM_EIO)
                fc->reason = FAULT_REASON_SWAP_IO;
        return st;
}

/* Does an area of protection prot allow this access, as the MMU would? */
static bool access_allowed(vm_prot_t prot, vm_prot_t access)
{
        vm_prot_t allowed = pmap_prot_implied(prot);

        return allowed != VM_PROT_NONE && (access & ~allowed) == 0;
}

static inline bool fault_is_write(const struct fault_ctx *fc)
{
        return fc->access & VM_PROT_WRITE;
}

/*
 * Extend the grows-down area a (the first area above va) down to va, as
 * Linux's expand_downwards(): the new size may not pass stack_limit, the
 * space may not pass size_limit (RLIMIT_AS), and
 * an accessible, non-stack area below must stay a guard gap away.
 */
static vm_status_t fault_grow_stack(struct fault_ctx *fc, struct vm_area *a)
{
        struct vm_space *s = fc->space;
        struct vm_area *prev = a->prev;
        uint64_t grow = (a->start - fc->va) >> PAGE_SHIFT;

        if (!access_allowed(a->prot, fc->access))
                return fault_segv(fc, FAULT_REASON_PROT);
        if (a->end - fc->va > s->stack_limit || grow > a->pgoff ||
            (a->backing && grow > a->backing_pgoff) ||
            s->areas.pages + grow > s->size_limit >> PAGE_SHIFT)
                return fault_segv(fc, FAULT_REASON_STACK_LIMIT);
        if (prev && !(prev->flags & VM_AREA_GROWSDOWN) &&
            prev->prot != VM_PROT_NONE && fc->va - prev->end < s->areas.guard)
                return fault_segv(fc, FAULT_REASON_STACK_GUARD);
        /* Linux's acct_stack_growth: the new pages are committed. */
        if ((a->flags & VM_AREA_ACCOUNT) && vm_commit_check(s, grow) != VM_OK)
                return fault_segv(fc, FAULT_REASON_STACK_LIMIT);
        vm_area_set_range(&s->areas, a, fc->va, a->end);
        a->pgoff -= grow;
        a->backing_pgoff -= a->backing ? grow : 0;
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

/* Phase 2: does the area allow this access? (exec on non-exec: NX)
 * Then a guard page refuses it (Linux checks the area first too). */
static vm_status_t fault_check_access(struct fault_ctx *fc)
{
        if (!access_allowed(fc->area->prot, fc->access))
                return fault_segv(fc, FAULT_REASON_PROT);
        if (vm_guards_has(&fc->space->guards, fc->va))
                return fault_segv(fc, FAULT_REASON_GUARD);
        if (vm_guards_has(&fc->space->poison, fc->va)) {
                fc->reason = FAULT_REASON_POISON;
                return VM_EFAULT;
        }
        fc->off = (fc->va - fc->area->start) >> PAGE_SHIFT;
        return VM_OK;
}

/* Phase 3, shared memory: the object's page, made resident if need be. */
/* A shared object's page (shared memory, a file) for a fault: one on
 * swap is read back - a major fault, with read-around - as a private
 * page is. */
static vm_status_t fault_object_page(struct fault_ctx *fc,
                                     struct vm_object *obj, uint64_t idx,
                                     struct vm_page **out)
{
        bool major = false;
        vm_status_t st;

        if (!vm_object_swap_entry(obj, idx))
                return vm_object_get_page(obj, idx, out);
        st = vm_swap_in(obj, idx, out, &major);
        if (st == VM_OK && major) {
                vm_events.pgmajfault++;
                fc->major = true;
                vm_swap_read_around(obj, idx);
        }
        return st;
}

/*
 * A fault in memory of explicit huge pages (vm/hugetlb.h): the object's
 * huge page at the aligned block around va, taken from the pool if the
 * object has none there yet (reserved while the object holds
 * reservations; without one and no free page: SIGBUS, as Linux), zeroed,
 * put into the object as 4 KiB pages and mapped with one large
 * translation. The area covers the whole block: mmap, shmat and munmap
 * keep hugetlb areas aligned. Where the large translation cannot be made
 * (no table page), the faulting page alone is mapped.
 */
static vm_status_t fault_hugetlb(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        struct vm_object *obj = a->object;
        uint64_t size = pmap_huge_size(), first;
        vaddr_t hva = fc->va & ~(vaddr_t)(size - 1);
        struct vm_page *head;
        vm_status_t st;

        first = a->pgoff + ((hva - a->start) >> PAGE_SHIFT);
        if (first >= obj->size)
                return fault_bus_if(fc, VM_ENOENT);
        if ((st = hugetlb_object_page(obj, first, &head)) != VM_OK)
                return st == VM_ENOSPC ? fault_bus_if(fc, st) : st;
        fc->page = &head[(fc->va - hva) >> PAGE_SHIFT];
        fc->writable = true;
        if (pmap_enter_range(fc->space->pmap, hva, pmm_page_to_pa(head), size,
                             pmap_prot_implied(a->prot),
                             PMAP_USER | PMAP_ACCESS(fc->access)) == VM_OK)
                fc->huge = true;
        pmap_update(fc->space->pmap);
        return VM_OK;
}

/* ---- transparent huge pages of shared memory (vm_object.h) ---------------- */

enum vm_shmem_huge vm_shmem_enabled = VM_SHMEM_HUGE_NEVER;
enum vm_shmem_huge vm_shmem_internal_huge = VM_SHMEM_HUGE_NEVER;

void vm_shmem_enabled_set(enum vm_shmem_huge h)
{
        vm_shmem_enabled = h;
        if (h != VM_SHMEM_HUGE_DENY && h != VM_SHMEM_HUGE_FORCE)
                vm_shmem_internal_huge = h;     /* Linux's shm_mnt follows */
}

bool vm_shmem_huge_allows(const struct vm_object *obj, const struct vm_space *s,
                          const struct vm_area *a, uint64_t first)
{
        uint64_t n = pmap_huge_size() >> PAGE_SHIFT;

        if (!obj->huge_policy ||
            (a && (a->flags & VM_AREA_NOHUGEPAGE)) || (s && s->thp_disabled))
                return false;
        if (vm_shmem_enabled == VM_SHMEM_HUGE_FORCE)
                return true;
        if (vm_shmem_enabled == VM_SHMEM_HUGE_DENY)
                return false;
        switch (*obj->huge_policy) {
        case VM_SHMEM_HUGE_ALWAYS:
                return true;
        case VM_SHMEM_HUGE_WITHIN_SIZE:
                if (first <= obj->size && n <= obj->size - first)
                        return true;
                /* fall through: else as advise (Linux's shmem_is_huge) */
        case VM_SHMEM_HUGE_ADVISE:
                return a && (a->flags & VM_AREA_HUGEPAGE);
        default:
                return false;
        }
}

bool vm_shmem_huge_possible(const enum vm_shmem_huge *policy)
{
        if (!policy || vm_shmem_enabled == VM_SHMEM_HUGE_DENY)
                return false;
        return vm_shmem_enabled == VM_SHMEM_HUGE_FORCE ||
               *policy != VM_SHMEM_HUGE_NEVER;
}

bool vm_area_shmem_thp_eligible(const struct vm_space *s,
                                const struct vm_area *a)
{
        uint64_t size = pmap_huge_size(), n = size >> PAGE_SHIFT;
        vaddr_t hva = (a->end - size) & ~(vaddr_t)(size - 1);

        if (!(a->flags & VM_AREA_SHARED) || !a->object ||
            a->object->hugetlb || a->object->pager_ops ||
            (a->flags & VM_AREA_SPECIAL) || a->end - a->start < size ||
            hva < a->start ||
            (((a->start >> PAGE_SHIFT) - a->pgoff) & (n - 1)))
                return false;
        return vm_shmem_huge_allows(a->object, s, a, a->pgoff);
}

/* Is shared area a's object block at index first (huge-aligned) whole in
 * a huge block the object took (PG_SHMEM_HUGE)? Then its pages are
 * pg[0..n) of one aligned physical block: the flag is cleared from all of
 * them as soon as one leaves the object, and pages of a shared object
 * never move to other indices. */
static struct vm_page *shmem_whole_block(struct vm_object *obj, uint64_t first)
{
        uint64_t size = pmap_huge_size();
        struct vm_page *pg = vm_object_lookup(obj, first);

        if (!pg || !(pg->flags & PG_SHMEM_HUGE) ||
            (pmm_page_to_pa(pg) & (size - 1)))
                return NULL;
#ifdef HOST_BUILD       /* the invariant above, checked where it is cheap */
        for (uint64_t i = 0; i < size >> PAGE_SHIFT; i++)
                if (vm_object_lookup(obj, first + i) != &pg[i])
                        panic("shmem_whole_block: page %" PRIu64 " of a whole "
                              "huge block is not the object's", i);
#endif
        return pg;
}

/*
 * A fault in shared memory (tmpfs, memfd, shared anonymous, SysV) whose
 * policy allows a huge page at the faulting block: where the aligned
 * pmap_huge_size() block around va lies wholly inside the area, its object
 * indices are huge-aligned too and lie inside the object's end, and the
 * object has nothing there yet (no page, no swap entry, no source bytes
 * of an initramfs file), take one order-9 (10) block, zero it, put its
 * pages into the object as 4 KiB pages marked PG_SHMEM_HUGE and map the
 * block with one large translation; where the object holds such a block
 * whole already (another space, another mapping, an earlier fault before a
 * split), map it large. false: none of this (the 4 KiB path goes on, and
 * if only the large translation failed, the pages stay in the object for
 * it). A userfaultfd area stays 4 KiB (its missing pages go to the
 * handler one by one).
 */
static bool fault_shared_huge(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        struct vm_space *s = fc->space;
        struct vm_object *obj = a->object;
        uint64_t size, n, first;
        struct vm_page *pg;
        vaddr_t hva;
        vm_prot_t prot;

        if (!vm_shmem_huge_possible(obj->huge_policy) || obj->pager_ops)
                return false;           /* the common case: at once */
        size = pmap_huge_size();
        n = size >> PAGE_SHIFT;
        hva = fc->va & ~(vaddr_t)(size - 1);
        if (hva < a->start || a->end - hva < size || a->uffd ||
            (a->flags & (VM_AREA_SPECIAL | VM_AREA_GROWSDOWN)) ||
            order_of(n) > PMM_MAX_ORDER)
                return false;
        first = a->pgoff + ((hva - a->start) >> PAGE_SHIFT);
        if ((first & (n - 1)) || first >= obj->size || n > obj->size - first ||
            !vm_shmem_huge_allows(obj, s, a, first) ||
            vm_guards_meet(&s->guards, hva, hva + size) ||
            vm_guards_meet(&s->poison, hva, hva + size))
                return false;
        if (!(pg = shmem_whole_block(obj, first))) {
                if (!vm_object_range_empty(obj, first, first + n) ||
                    (first << PAGE_SHIFT) < obj->src_bytes)
                        return false;
                pg = pmm_alloc_pages(order_of(n), PMM_HIGHMEM);
                if (!pg && thp_may_reclaim(a) && vm_reclaim(n) > 0)
                        pg = pmm_alloc_pages(order_of(n), PMM_HIGHMEM);
                if (!pg) {
                        vmstat.thp_file_fallback++;
                        return false;
                }
                pmm_split_pages(pg, order_of(n));
                for (uint64_t i = 0; i < n; i++)
                        pmap_zero_page(pmm_page_to_pa(&pg[i]));
                if (vm_object_insert_pages(obj, first, pg, n) != VM_OK) {
                        for (uint64_t i = 0; i < n; i++)
                                pmm_free_pages(&pg[i], 0);
                        vmstat.thp_file_fallback++;
                        return false;   /* no room: 4 KiB says how */
                }
                for (uint64_t i = 0; i < n; i++)
                        pg[i].flags |= PG_SHMEM_HUGE;
                vmstat.shmem_thp++;
                vmstat.thp_file_alloc++;
        }
        prot = pmap_prot_implied(a->prot);
        if (pmap_enter_range(s->pmap, hva, pmm_page_to_pa(pg), size, prot,
                             PMAP_USER | PMAP_ACCESS(fc->access)) != VM_OK) {
                pmap_update(s->pmap);
                return false;
        }
        pmap_update(s->pmap);
        vmstat.thp_file_mapped++;
        fc->page = &pg[(fc->va - hva) >> PAGE_SHIFT];
        fc->writable = true;
        fc->huge = true;
        return true;
}

static vm_status_t fault_shared_page(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;

        if (a->object->hugetlb)
                return fault_hugetlb(fc);
        if (fault_shared_huge(fc))
                return VM_OK;
        vm_status_t st = fault_object_page(fc, a->object, a->pgoff + fc->off,
                                           &fc->page);

        fc->writable = true;            /* as far as the area allows */
        /* A disk file (pager_ops): a read maps the page read-only, so the
         * first write faults again; a write finds the page its disk
         * blocks first (Linux's page_mkwrite: SIGBUS on a full disk) and
         * marks it dirty until written back. */
        if (st == VM_OK && a->object->pager_ops) {
                if (!fault_is_write(fc)) {
                        fc->writable = false;
                } else {
                        long err = a->object->pager_ops->mkwrite(
                                a->object, a->pgoff + fc->off);
                        if (err)
                                st = err == -ENOMEM ? VM_ENOMEM : VM_ENOSPC;
                        else
                                fc->page->flags |= PG_DIRTY;
                }
        }
        return fault_bus_if(fc, st);
}

/* Could private area a use neighbour n's object? Only where the two
 * could one day be one area (vm_area_can_merge), which is what borrowing
 * is for (Linux's find_mergeable_anon_vma and anon_vma_compatible):
 * touching, same flags (prot may differ), the same file behind both at
 * offsets that follow on, or none; not an object fork made for a child,
 * whose anon_vma Linux does not lend. A program's bss beside its data
 * (anonymous beside the file) gets its own (until session 27 it borrowed
 * the data's, under the lock: a first write the lock-free path declined
 * at every exec). */
static bool object_borrowable(const struct vm_area *a, const struct vm_area *n)
{
        const struct vm_area *lo = n && n->end == a->start ? n : a;
        const struct vm_area *hi = lo == a ? n : a;

        return n && n->object && !n->object->forked && n->flags == a->flags &&
               lo->end == hi->start && n->backing == a->backing &&
               (!a->backing || lo->backing_pgoff + vm_area_npages(lo) ==
                                       hi->backing_pgoff);
}

/* A new object for private area a of space s, indexed by virtual page
 * number, in a reverse-map family of its own; NULL if the heap is out.
 * Nobody sees it until the caller stores it in a->object. */
static struct vm_object *own_object_new(struct vm_space *s,
                                        const struct vm_area *a)
{
        struct vm_object *obj;

        if (vm_object_create_anon(s->max >> PAGE_SHIFT, &obj) != VM_OK)
                return NULL;
        /* Its tree just as tall as the area needs (grown later if its
         * areas need more): one radix node for a small area's first page,
         * not the six that span an address space. */
        vm_object_cover(obj, a->pgoff,
                        a->pgoff + ((a->end - a->start) >> PAGE_SHIFT));
        obj->space = s;                         /* the reverse map's owner */
        obj->droppable = a->flags & VM_AREA_DROPPABLE;
        if (rmap_family_join(obj, NULL) != VM_OK) {
                vm_object_discard(obj);
                return NULL;
        }
        return obj;
}

/* Give a private area its object at its first write: a touching
 * neighbour's if it has one (so the two can merge later), else a new one.
 * (Without the lock: nolock_attach.) */
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
        /* Published as nolock_attach publishes: readers of another
         * space's areas (/proc/PID/pagemap) do not enter its door. */
        __atomic_store_n(&a->object, own_object_new(fc->space, a),
                         __ATOMIC_RELEASE);
        return a->object ? VM_OK : VM_ENOMEM;
}

/*
 * The reuse path inside a read-only huge translation (the child of a fork
 * has gone): if every page under it is again this object's alone, make
 * the whole translation writable instead of splitting it (Linux's
 * do_huge_pmd_wp_page reuse). While the translation is whole, its frames
 * are the object's pages there (a copy-on-write would have split it), so
 * their descriptors are one run of the page array: the check reads 512
 * reference counts in a row, not 512 lookups in the object's tree (which
 * cost about 100 instructions each: 52 000 per huge page, against Linux's
 * 3 300 for the whole fault, which asks the folio once).
 */
static void huge_reuse(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        const struct vm_page *pg;
        uint64_t size, n;
        vaddr_t hva;
        paddr_t pa;

        if (!vm_area_thp_eligible(fc->space, a))
                return;                 /* the common case: at once */
        size = pmap_huge_size();
        n = size >> PAGE_SHIFT;
        hva = fc->va & ~(vaddr_t)(size - 1);
        if (hva < a->start || a->end - hva < size ||
            ((a->uffd_mode & VM_UFFD_WP) &&
             vm_guards_meet(&fc->space->uffd_wp, hva, hva + size)) ||
            pmap_page_size(fc->space->pmap, fc->va) != size ||
            !pmap_extract(fc->space->pmap, hva, &pa, NULL, NULL) ||
            vm_is_zero_pa(pa) || !(pg = pmm_pa_to_page(pa)))
                return;
#ifdef HOST_BUILD       /* the invariant above, checked where it is cheap */
        for (uint64_t i = 0; i < n; i++) {
                uint64_t idx = a->pgoff + ((hva - a->start) >> PAGE_SHIFT) + i;
                if (vm_object_lookup(a->object, idx) != &pg[i])
                        panic("huge_reuse: frame %" PRIu64 " of a whole huge "
                              "translation is not the object's page", i);
        }
#endif
        /* A pointer walk, not an index: this loop is most of the fault
         * (512 or 1024 descriptors), and a 64-bit index cost i386 twelve
         * instructions a page. */
        for (const struct vm_page *p = pg, *end = pg + n; p < end; p++)
                if (p->refcount != 1 || (p->flags & PG_LAZYFREE))
                        return;         /* a lazy page's write must fault */
        if (pmap_protect(fc->space->pmap, hva, hva + size,
                         pmap_prot_implied(a->prot)) != VM_OK)
                return;                         /* aligned: cannot fail */
        pmap_update(fc->space->pmap);
        fc->huge = true;
}

/* May a write make pg writable where it stands? Its only holder is the
 * area's object (no sharer left since a fork, no kept swap slot), and it
 * is not lazily freed (MADV_FREE: its first write must fault to keep
 * it). Relaxed loads: the lock-free part reads it too, while another
 * space's holder of the big lock may be dropping its own reference (then
 * it reads 2 and declines, or 1). */
static bool page_reusable(const struct vm_page *pg)
{
        return pg && __atomic_load_n(&pg->refcount, __ATOMIC_RELAXED) == 1 &&
               !(__atomic_load_n(&pg->flags, __ATOMIC_RELAXED) &
                 (PG_LAZYFREE | PG_SWAPCACHE));
}

/* A write to a page of the area's own object: copy it if others share it. */
static vm_status_t fault_own_page_write(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        vm_status_t st;

        fc->writable = true;
        if (fc->page->flags & PG_SWAPCACHE)
                vm_swap_unkeep(fc->page);       /* a kept slot: freed */
        if (fc->page->refcount == 1) {  /* nobody else holds it: in place */
                vm_lazyfree_clear(fc->page);    /* written: kept after all */
                fc->space->stats.cow_reuses++;
                huge_reuse(fc);
                fc->reused = !fc->huge;         /* reuse_around() next */
                return VM_OK;
        }
        st = vm_object_page_unshare(a->object, a->pgoff + fc->off, &fc->page);
        if (st == VM_OK)
                fc->space->stats.cow_copies++;
        return st;
}

/* A write where the area has no page yet: a copy of src (NULL: zeroes). */
static vm_status_t fault_new_private_page(struct fault_ctx *fc,
                                          struct vm_page *src)
{
        struct vm_area *a = fc->area;
        vm_status_t st = VM_OK;

        if (!a->object)
                st = fault_attach_object(fc);
        if (st == VM_OK)
                st = vm_object_page_alloc_copy(a->object, a->pgoff + fc->off,
                                               src, &fc->page);
        if (st == VM_OK)
                fc->space->stats.anon_allocs++;
        fc->writable = true;
        return st;
}

/* ---- transparent huge pages (vm_space.h) ---------------------------------- */

enum vm_thp_policy vm_thp_policy = VM_THP_MADVISE;
enum vm_thp_defrag vm_thp_defrag = VM_THP_DEFRAG_MADVISE;
bool vm_thp_use_zero_page = true;

/* No free huge block for area a: may its fault reclaim and retry? */
static bool thp_may_reclaim(const struct vm_area *a)
{
        switch (vm_thp_defrag) {
        case VM_THP_DEFRAG_ALWAYS:
                return true;
        case VM_THP_DEFRAG_MADVISE:
        case VM_THP_DEFRAG_DEFER_MADVISE:
                return a->flags & VM_AREA_HUGEPAGE;
        default:
                return false;
        }
}

bool vm_area_thp_eligible(const struct vm_space *s, const struct vm_area *a)
{
        if (vm_thp_policy == VM_THP_NEVER || s->thp_disabled ||
            !vm_area_private(a) || a->backing ||
            (a->flags & (VM_AREA_NOHUGEPAGE | VM_AREA_GROWSDOWN | VM_AREA_SPECIAL)))
                return false;
        return vm_thp_policy == VM_THP_ALWAYS || (a->flags & VM_AREA_HUGEPAGE);
}

static unsigned order_of(uint64_t pages)
{
        unsigned order = 0;

        while ((1ULL << order) < pages)
                order++;
        return order;
}

/*
 * A write where the area has no page yet: if the whole aligned huge block
 * around va is inside an eligible area and empty, give it one physically
 * contiguous block of zeroed pages, put them in the object as 4 KiB pages
 * and map them with one large translation. false: not eligible, or no
 * block or memory (then the 4 KiB path goes on, nothing changed by this);
 * if only the large translation failed, the pages stay in the object and
 * the 4 KiB path maps the faulting one.
 */
static bool fault_huge(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        struct vm_space *s = fc->space;
        uint64_t size, n, first;
        vaddr_t hva;
        unsigned order;
        struct vm_page *pg;

        if (!vm_area_thp_eligible(s, a))
                return false;           /* the common case: at once */
        size = pmap_huge_size();
        n = size >> PAGE_SHIFT;
        hva = fc->va & ~(vaddr_t)(size - 1);
        order = order_of(n);
        if (hva < a->start || a->end - hva < size || order > PMM_MAX_ORDER ||
            vm_guards_meet(&s->guards, hva, hva + size) ||
            vm_guards_meet(&s->poison, hva, hva + size))
                return false;
        first = a->pgoff + ((hva - a->start) >> PAGE_SHIFT);
        if (a->object && !vm_object_range_empty(a->object, first, first + n))
                return false;
        pg = pmm_alloc_pages(order, PMM_HIGHMEM);
        if (!pg && thp_may_reclaim(a) && vm_reclaim(n) > 0)
                pg = pmm_alloc_pages(order, PMM_HIGHMEM);
        if (!pg) {
                vmstat.thp_fault_fallback++;
                return false;
        }
        pmm_split_pages(pg, order);
        for (uint64_t i = 0; i < n; i++)
                pmap_zero_page(pmm_page_to_pa(&pg[i]));
        if ((!a->object && fault_attach_object(fc) != VM_OK) ||
            vm_object_insert_pages(a->object, first, pg, n) != VM_OK) {
                for (uint64_t i = 0; i < n; i++)
                        pmm_free_pages(&pg[i], 0);
                vmstat.thp_fault_fallback++;
                return false;
        }
        s->stats.anon_allocs += n;
        if (pmap_enter_range(s->pmap, hva, pmm_page_to_pa(pg), size,
                             pmap_prot_implied(a->prot),
                             PMAP_USER | PMAP_ACCESS(fc->access)) != VM_OK) {
                pmap_update(s->pmap);
                return false;
        }
        pmap_update(s->pmap);
        vmstat.thp_fault_alloc++;
        fc->page = &pg[(fc->va - hva) >> PAGE_SHIFT];
        fc->writable = true;
        fc->huge = true;
        return true;
}

/*
 * A read where the area has no page yet: if the whole aligned huge block
 * around va is inside an eligible area and empty, map the huge zero page
 * over it, read-only, with one large translation (Linux's huge zero page).
 * A later write there is a write to a block with no page: fault_huge()
 * replaces the translation with a new huge page (Linux splits instead and
 * copies 4 KiB pages, so its block never becomes huge), or, with no free
 * block, the 4 KiB path splits it and the other 511 pages keep reading the
 * huge zero page's frames (vm_is_zero_pa). false: none of this applies.
 */
static __attribute__((noinline)) bool fault_huge_zero(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        struct vm_space *s = fc->space;
        uint64_t size = pmap_huge_size(), n = size >> PAGE_SHIFT;
        vaddr_t hva = fc->va & ~(vaddr_t)(size - 1);
        paddr_t zero = vm_huge_zero_pa();
        uint64_t first;

        if (!zero || !vm_thp_use_zero_page || !vm_area_thp_eligible(s, a) ||
            hva < a->start || a->end - hva < size ||
            vm_guards_meet(&s->guards, hva, hva + size) ||
            vm_guards_meet(&s->poison, hva, hva + size))
                return false;
        first = a->pgoff + ((hva - a->start) >> PAGE_SHIFT);
        if (a->object && !vm_object_range_empty(a->object, first, first + n))
                return false;
        if (pmap_enter_range(s->pmap, hva, zero, size,
                             pmap_prot_implied(a->prot) & ~VM_PROT_WRITE,
                             PMAP_USER | PMAP_ACCESS(fc->access)) != VM_OK) {
                pmap_update(s->pmap);
                return false;
        }
        pmap_update(s->pmap);
        s->stats.zero_maps++;
        fc->page = NULL;
        fc->writable = false;
        fc->huge = true;
        return true;
}

bool vm_space_huge_allows(struct vm_space *s, vaddr_t va, vm_prot_t access,
                          vaddr_t *end)
{
        uint64_t size = pmap_page_size(s->pmap, va);
        vm_prot_t have;

        if (size <= PAGE_SIZE || !pmap_extract(s->pmap, va, NULL, &have, NULL) ||
            (access & ~have))
                return false;
        *end = (va & ~(vaddr_t)(size - 1)) + size;
        return true;
}

uint64_t vm_space_huge_pages(struct vm_space *s, vaddr_t start, vaddr_t end)
{
        uint64_t size = pmap_huge_size(), n = 0;
        paddr_t pa;

        /* The huge zero page is no one's memory (Linux's AnonHugePages
         * does not count it either). */
        for (vaddr_t va = (start + size - 1) & ~(vaddr_t)(size - 1);
             va >= start && va < end && end - va >= size; va += size)
                n += pmap_page_size(s->pmap, va) == size &&
                     pmap_extract(s->pmap, va, &pa, NULL, NULL) &&
                     !vm_is_zero_pa(pa);
        return n;
}

/* Phase 3, private memory: own page, else the file's, else zeroes. */
static vm_status_t fault_private_page(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        struct vm_page *src = NULL;
        vm_status_t st;

        fc->page = a->object ? vm_object_lookup(a->object, a->pgoff + fc->off)
                             : NULL;
        if (!fc->page && a->object &&
            vm_object_swap_entry(a->object, a->pgoff + fc->off)) {
                bool major = false;

                st = vm_swap_in(a->object, a->pgoff + fc->off, &fc->page,
                                &major);
                if (st != VM_OK)
                        return fault_bus_if(fc, st);
                if (major) {
                        vm_events.pgmajfault++;
                        fc->major = true;
                        vm_swap_read_around(a->object, a->pgoff + fc->off);
                }
        }
        if (fc->page && fault_is_write(fc))
                return fault_own_page_write(fc);
        if (fc->page) {                 /* a read: share while shared; a
                                         * lazy page's write must fault */
                fc->writable = fc->page->refcount == 1 &&
                               !(fc->page->flags & PG_LAZYFREE);
                return VM_OK;
        }
        if (a->backing) {
                st = fault_object_page(fc, a->backing,
                                       a->backing_pgoff + fc->off, &src);
                if (st != VM_OK)
                        return fault_bus_if(fc, st);
        }
        if (fault_is_write(fc) && !a->backing && fault_huge(fc))
                return VM_OK;
        /* (The policy tested first: a read elsewhere pays nothing more.) */
        if (!fault_is_write(fc) && !a->backing && vm_thp_use_zero_page &&
            (vm_thp_policy == VM_THP_ALWAYS || (a->flags & VM_AREA_HUGEPAGE)) &&
            fault_huge_zero(fc))
                return VM_OK;
        if (fault_is_write(fc) && a->object &&
            (fc->page = vm_object_lookup(a->object, a->pgoff + fc->off)))
                return fault_own_page_write(fc);  /* fault_huge's pages */
        if (fault_is_write(fc))
                return fault_new_private_page(fc, src);
        fc->page = src;                 /* the file's page, or the zero page */
        fc->writable = false;
        return VM_OK;
}

/* Phase 4: enter the translation (replacing an older one) and flush. */
static vm_status_t fault_enter_mapping(struct fault_ctx *fc)
{
        struct vm_space *s = fc->space;
        vm_prot_t prot = pmap_prot_implied(fc->area->prot);
        paddr_t pa;
        vm_status_t st;

        if (fc->huge)
                return VM_OK;                   /* fault_huge() mapped it */
        if (fc->page) {
                pa = pmm_page_to_pa(fc->page);
        } else {
                pa = vm_zero_page_pa();
                s->stats.zero_maps++;
        }
        if (!fc->writable || vm_uffd_wp_marked(s, fc->area, fc->va))
                prot &= ~VM_PROT_WRITE;         /* the next write faults */
        /* Inside a huge page (a copy-on-write, a page made writable again,
         * a read of a page the huge one left): split its translation. */
        st = pmap_enter(s->pmap, fc->va, pa, prot,
                        PMAP_USER | PMAP_DEMOTE | PMAP_ACCESS(fc->access));
        if (st != VM_OK) {
                uint64_t size = pmap_page_size(s->pmap, fc->va);

                /* The split found no memory for its table. The large
                 * translation may now disagree with the object at va (a
                 * copy-on-write has just put a new page there, and the
                 * old frame may go with its last other owner): drop it
                 * whole, which needs no memory, and let its pages fault
                 * again one by one. */
                if (size > PAGE_SIZE) {
                        vaddr_t hva = fc->va & ~(vaddr_t)(size - 1);

                        (void)pmap_remove(s->pmap, hva, hva + size);
                }
        }
        pmap_update(s->pmap);
        return st;
}

/*
 * Phase 5, after a read fault: map the pages around it that the objects
 * already hold (Linux's fault-around, 16 pages aligned, inside the area),
 * so that a scan of a cached file takes one fault per 64 KiB instead of
 * one per page. Only what a read fault would map there: the object's own
 * page in shared memory; in private memory the area's own page (a fork's
 * child, whose tables start empty, finds every inherited page so:
 * writable only if a write could reuse it, page_reusable), else the
 * file's page, read-only, where the area has nothing of its own (neither
 * resident nor on swap). Linux's child needs none of it: its fork copies
 * the translations.
 * Nothing is allocated or read in; an index that has nothing is left to
 * its own fault (and a page past a file's end to its SIGBUS).
 */
#define FAULT_AROUND_PAGES      16

static void fault_around(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        bool shared = a->flags & VM_AREA_SHARED;
        struct vm_object *obj = shared ? a->object : a->backing;
        struct vm_object *own = shared ? NULL : a->object;

        if (fault_is_write(fc) || (!obj && !own) ||
            (a->uffd_mode & VM_UFFD_MINOR))
                return;                 /* before the rest: most faults */

        uint64_t base = shared ? a->pgoff : a->backing_pgoff;
        vm_prot_t full = pmap_prot_implied(a->prot), prot = full;
        vaddr_t lo = MAX(a->start, fc->va & ~(vaddr_t)(FAULT_AROUND_PAGES * PAGE_SIZE - 1));
        vaddr_t hi = MIN(a->end, lo + FAULT_AROUND_PAGES * PAGE_SIZE);
        paddr_t pa;

        if (!shared || obj->pager_ops)  /* a disk file: writes fault */
                prot &= ~VM_PROT_WRITE;
        if (a->uffd)
                full &= ~VM_PROT_WRITE; /* write-protect marks: its faults */
        for (vaddr_t va = lo; va < hi; va += PAGE_SIZE) {
                uint64_t off = (va - a->start) >> PAGE_SHIFT;
                struct vm_page *pg;
                vm_prot_t p = prot;

                if (va == fc->va || pmap_extract(fc->space->pmap, va, &pa, NULL, NULL) ||
                    vm_guards_has(&fc->space->guards, va) ||
                    vm_guards_has(&fc->space->poison, va))
                        continue;
                /* The area's own page, resident or on swap, hides the
                 * file's (a copy on swap is read back by its own fault). */
                if (own && (pg = vm_object_lookup(own, a->pgoff + off))) {
                        p = page_reusable(pg) ? full : full & ~VM_PROT_WRITE;
                } else if ((own && vm_object_swap_entry(own, a->pgoff + off)) ||
                           !obj || !(pg = vm_object_lookup(obj, base + off))) {
                        continue;
                }
                if (pmap_enter(fc->space->pmap, va, pmm_page_to_pa(pg), p,
                               PMAP_USER | PMAP_ACCESS(VM_PROT_READ)) != VM_OK)
                        break;
        }
}

/*
 * Phase 5, after a write fault that made its page writable in place (the
 * area's own page, which no other object holds: the last sharer after a
 * fork writes, or the first write after mprotect made memory writable):
 * do the same for the neighbours a write fault would reuse in place too,
 * in the aligned REUSE_AROUND_PAGES window around it and inside the area:
 * each page of the area's object there that no other object holds
 * (refcount 1: no sharer left since a fork, no kept swap slot) and that
 * is not lazily freed (MADV_FREE: its first write must fault to keep it)
 * has its translation made writable if it maps exactly that page
 * read-only (pmap_narrower_run finds the read-only translations,
 * pmap_widen_run widens them). That test is fault_own_page_write()'s
 * (which frees a kept slot and keeps a lazy page before writing its own),
 * and it keeps out what a private area may map read-only but never write:
 * a file's page, the zero page, a page still shared. A process whose
 * child has exited or exec'd then takes one write fault per 64 KiB it
 * writes instead of one per page; a write to a single page pays for
 * looking at the others (docs/design.md, "Fork, copy-on-write and files",
 * has both costs). Nothing is allocated, copied or read in; a window that
 * meets a guard or poison run is left alone (their pages have no
 * translation anyway).
 */
#define REUSE_AROUND_PAGES      16
_Static_assert(REUSE_AROUND_PAGES <= PMAP_RUN_MAX,
               "the reuse-around window is one pmap run");

static void reuse_around(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        struct vm_space *s = fc->space;
        vm_prot_t prot = pmap_prot_implied(a->prot);
        vaddr_t win = fc->va & ~(vaddr_t)(REUSE_AROUND_PAGES * PAGE_SIZE - 1);
        vaddr_t lo = MAX(a->start, win);
        vaddr_t hi = MIN(a->end, win + REUSE_AROUND_PAGES * PAGE_SIZE);
        unsigned n = (hi - lo) >> PAGE_SHIFT;
        struct vm_page *pg[REUSE_AROUND_PAGES];
        paddr_t pa[REUSE_AROUND_PAGES];
        uint32_t cand, mask = 0, done;

        if (n < 2 || (a->uffd_mode & VM_UFFD_WP) ||
            vm_guards_meet(&s->guards, lo, hi) ||
            vm_guards_meet(&s->poison, lo, hi))
                return;
        /* Read-only translations first: in sparse memory there are none,
         * and the window costs one table walk. */
        cand = pmap_narrower_run(s->pmap, lo, n, prot) &
               ~(1u << ((fc->va - lo) >> PAGE_SHIFT));
        if (!cand)
                return;
        vm_object_lookup_run(a->object,
                             a->pgoff + ((lo - a->start) >> PAGE_SHIFT), n, pg);
        for (unsigned i = 0; i < n; i++) {
                if (!(cand >> i & 1) || !page_reusable(pg[i]))
                        continue;       /* their writes must fault */
                pa[i] = pmm_page_to_pa(pg[i]);
                mask |= 1u << i;
        }
        if (!mask)
                return;                 /* nothing else here to reuse */
        done = pmap_widen_run(s->pmap, lo, n, mask, pa, prot);
        for (; done; done &= done - 1)
                s->stats.cow_reuses_around++;
}

static enum fault_result fault_result_from(struct fault_ctx *fc,
                                           vm_status_t st)
{
        struct vm_fault_info *fi = &fc->space->last_fault;

        fi->va = fc->va;
        fi->access = fc->access;
        fi->major = st == VM_OK && fc->major;
        fi->reason = st == VM_OK || st == VM_ENOMEM ? FAULT_REASON_NONE
                                                    : fc->reason;
        fi->result = st == VM_OK       ? FAULT_RESOLVED
                   : st == VM_ENOMEM   ? FAULT_OOM
                   : fi->reason == FAULT_REASON_BEYOND_OBJECT ||
                     fi->reason == FAULT_REASON_NO_SPACE ||
                     fi->reason == FAULT_REASON_SWAP_IO ||
                     fi->reason == FAULT_REASON_POISON ? FAULT_BUS
                                       : FAULT_SEGV;
        return fi->result;
}

/* ---- userfaultfd (userfaultfd.h) ------------------------------------------ */

/* Does shmem object obj have page idx (resident, on swap, or in the
 * source its tmpfs file was made from)? => false past its end too. */
static bool uffd_object_has(const struct vm_object *obj, uint64_t idx)
{
        if (idx >= obj->size)
                return false;
        if (vm_object_lookup(obj, idx) || vm_object_swap_entry(obj, idx))
                return true;
        return obj->type == VM_OBJECT_FILE &&
               idx < page_round(obj->src_bytes) >> PAGE_SHIFT;
}

/* Has fc's registered area a page at fc's index: private memory a page
 * of its own (resident or on swap), shmem one its object has? */
static bool uffd_page_there(const struct fault_ctx *fc)
{
        const struct vm_area *a = fc->area;
        uint64_t idx = a->pgoff + fc->off;

        if (!vm_area_private(a))
                return uffd_object_has(a->object, idx);
        return a->object && (vm_object_lookup(a->object, idx) ||
                             vm_object_swap_entry(a->object, idx));
}

/* Which kind of userfault is fc (registered area, page-aligned va, off
 * set)? VM_UFFD_MISSING or VM_UFFD_MINOR if the area is registered for
 * it, else 0 (an ordinary fault: a translation is there, or a shmem
 * index past the object's end, which is SIGBUS). */
static unsigned fault_uffd_kind(const struct fault_ctx *fc)
{
        const struct vm_area *a = fc->area;

        if (pmap_extract(fc->space->pmap, fc->va, NULL, NULL, NULL))
                return 0;
        if (!vm_area_private(a) && a->pgoff + fc->off >= a->object->size)
                return 0;
        return uffd_page_there(fc) ? a->uffd_mode & VM_UFFD_MINOR
                                   : a->uffd_mode & VM_UFFD_MISSING;
}

/* Hand a fault of kind to the area's context; it may sleep, so nothing
 * of fc is used after it. */
static enum fault_result fault_uffd(struct fault_ctx *fc, vaddr_t va,
                                    unsigned kind, bool user)
{
        struct vm_space *s = fc->space;
        struct vm_uffd *u = fc->area->uffd;
        enum fault_result r;

        r = u->fault(u, s, va, fc->access, kind, user);
        s->last_fault = (struct vm_fault_info){
                .va = fc->va, .access = fc->access, .result = r,
                .reason = r == FAULT_RESOLVED ? FAULT_REASON_NONE
                                              : FAULT_REASON_USERFAULT };
        return r;
}

/* The registered area at page va for a fill or a continue, fc set up. */
static vm_status_t uffd_lookup(struct fault_ctx *fc, struct vm_space *s,
                               vaddr_t va)
{
        *fc = (struct fault_ctx){ .space = s, .va = va,
                                  .access = VM_PROT_WRITE };
        fc->area = vm_area_lookup(&s->areas, va);
        if (!fc->area || !fc->area->uffd)
                return VM_ENOENT;
        fc->off = (va - fc->area->start) >> PAGE_SHIFT;
        return VM_OK;
}

/* Map fc's page (a fill or a continue), replacing a poison mark there
 * as Linux's install replaces its marker; room for the clear was
 * reserved (uffd_poison_room) before anything changed. */
static vm_status_t uffd_map(struct fault_ctx *fc)
{
        vm_guards_clear(&fc->space->poison, fc->va, fc->va + PAGE_SIZE);
        fc->writable = fc->area->prot & VM_PROT_WRITE;
        return fault_enter_mapping(fc);
}

/* Room to clear one page of the poison runs. => VM_OK, VM_ENOMEM. */
static vm_status_t uffd_poison_room(struct vm_space *s, vaddr_t va)
{
        return vm_guards_has(&s->poison, va)
                       ? vm_guards_reserve(&s->poison, 2) : VM_OK;
}

vm_status_t vm_uffd_fill(struct vm_space *s, vaddr_t va, const void *src)
{
        struct fault_ctx fc;
        vm_status_t st = uffd_lookup(&fc, s, va);
        uint64_t idx;

        if (st != VM_OK)
                return st;
        idx = fc.area->pgoff + fc.off;
        if (!vm_area_private(fc.area) && idx >= fc.area->object->size)
                return VM_EFAULT;               /* Linux: past i_size */
        if (pmap_extract(s->pmap, va, NULL, NULL, NULL) || uffd_page_there(&fc))
                return VM_EEXIST;
        if ((st = uffd_poison_room(s, va)) != VM_OK)
                return st;
        /* zeroes: the area's own new page, or the shared object's */
        st = vm_area_private(fc.area)
                     ? fault_new_private_page(&fc, NULL)
                     : vm_object_get_page(fc.area->object, idx, &fc.page);
        if (st != VM_OK)
                return st;
        if (src) {
                void *d = pmap_quick_enter_page(pmm_page_to_pa(fc.page));

                memcpy(d, src, PAGE_SIZE);
                pmap_quick_remove_page(d);
        }
        return uffd_map(&fc);
}

vm_status_t vm_uffd_continue(struct vm_space *s, vaddr_t va)
{
        struct fault_ctx fc;
        vm_status_t st = uffd_lookup(&fc, s, va);
        uint64_t idx;

        if (st != VM_OK)
                return st;
        if (vm_area_private(fc.area))
                return VM_EINVAL;
        if (pmap_extract(s->pmap, va, NULL, NULL, NULL))
                return VM_EEXIST;
        idx = fc.area->pgoff + fc.off;
        if (!uffd_object_has(fc.area->object, idx))
                return VM_EFAULT;
        if ((st = uffd_poison_room(s, va)) != VM_OK)
                return st;
        st = fault_object_page(&fc, fc.area->object, idx, &fc.page);
        if (st != VM_OK)
                return st;
        return uffd_map(&fc);
}

vm_status_t vm_uffd_poison(struct vm_space *s, vaddr_t va)
{
        struct fault_ctx fc;
        vm_status_t st = uffd_lookup(&fc, s, va);

        if (st != VM_OK)
                return st;
        /* Linux: the entry must be none (a shmem page in the cache but
         * not mapped here is poisoned for this mapping only) */
        if (pmap_extract(s->pmap, va, NULL, NULL, NULL) ||
            vm_guards_has(&s->poison, va) ||
            (vm_area_private(fc.area) && uffd_page_there(&fc)))
                return VM_EEXIST;
        return vm_guards_add(&s->poison, va, va + PAGE_SIZE);
}

/* The private anonymous area holding [va, va + len), or NULL. */
static struct vm_area *move_area(struct vm_space *s, vaddr_t va, uint64_t len)
{
        struct vm_area *a = vm_area_lookup(&s->areas, va);

        return a && len <= a->end - va ? a : NULL;
}

vm_status_t vm_uffd_move_check(struct vm_space *s, vaddr_t dst, vaddr_t src,
                               uint64_t len, const struct vm_uffd *u)
{
        struct vm_area *d = vm_area_lookup(&s->areas, dst);
        struct vm_area *a = vm_area_lookup(&s->areas, src);
        unsigned lock = VM_AREA_LOCKED | VM_AREA_LOCKONFAULT;

        if (!d || !a)
                return VM_ENOENT;
        if (!move_area(s, dst, len) || !move_area(s, src, len) ||
            a->prot != d->prot || (a->flags & lock) != (d->flags & lock) ||
            !(a->prot & VM_PROT_WRITE) || d->uffd != u ||
            !vm_area_private(a) || a->backing || (a->flags & VM_AREA_SPECIAL) ||
            !vm_area_private(d) || d->backing || (d->flags & VM_AREA_SPECIAL))
                return VM_EINVAL;
        return VM_OK;
}

/* MOVE's source page at fc (resident, back from swap if it was there),
 * or NULL with VM_OK where there is none. */
static vm_status_t move_source_page(struct fault_ctx *fc)
{
        struct vm_area *a = fc->area;
        uint64_t idx = a->pgoff + fc->off;

        fc->page = NULL;
        if (!a->object)
                return VM_OK;
        if (!(fc->page = vm_object_lookup(a->object, idx)) &&
            vm_object_swap_entry(a->object, idx))
                return vm_swap_in(a->object, idx, &fc->page, NULL);
        return VM_OK;
}

vm_status_t vm_uffd_move(struct vm_space *s, vaddr_t dst, vaddr_t src,
                         bool holes_ok)
{
        struct fault_ctx to, from;
        paddr_t pa;
        vm_status_t st;

        if (uffd_lookup(&to, s, dst) != VM_OK)
                return VM_EINVAL;               /* vm_uffd_move_check'ed */
        from = (struct fault_ctx){ .space = s, .va = src,
                                   .area = vm_area_lookup(&s->areas, src) };
        from.off = (src - from.area->start) >> PAGE_SHIFT;
        if (pmap_extract(s->pmap, dst, NULL, NULL, NULL) || uffd_page_there(&to) ||
            vm_guards_has(&s->poison, dst) || vm_guards_has(&s->guards, dst))
                return VM_EEXIST;
        if ((st = move_source_page(&from)) != VM_OK)
                return st;
        if (!from.page) {
                /* a hole, or a read of the zero page: that moves as one */
                if (!pmap_extract(s->pmap, src, &pa, NULL, NULL))
                        return holes_ok ? VM_OK : VM_ENOENT;
                vm_pmap_remove(s, src, src + PAGE_SIZE);
                pmap_update(s->pmap);
                return fault_enter_mapping(&to);        /* page NULL: zeroes */
        }
        if (from.page->flags & PG_SWAPCACHE)
                vm_swap_unkeep(from.page);
        if (from.page->refcount != 1)
                return VM_EBUSY;
        if (!to.area->object && (st = fault_attach_object(&to)) != VM_OK)
                return st;
        st = vm_object_share_range(from.area->object, from.area->pgoff + from.off,
                                   from.area->pgoff + from.off + 1,
                                   to.area->object, to.area->pgoff + to.off);
        if (st != VM_OK)
                return st;
        vm_pmap_remove(s, src, src + PAGE_SIZE);
        pmap_update(s->pmap);                   /* before the page goes */
        vm_object_free_range(from.area->object, from.area->pgoff + from.off,
                             from.area->pgoff + from.off + 1);
        to.page = vm_object_lookup(to.area->object, to.area->pgoff + to.off);
        vm_lazyfree_clear(to.page);             /* mapped writable now */
        to.writable = true;                     /* its only holder */
        return fault_enter_mapping(&to);
}

static enum fault_result fault_once(struct vm_space *space, vaddr_t va,
                                    vm_prot_t access, bool user)
{
        struct fault_ctx fc = { .space = space, .va = page_trunc(va),
                                .access = access };
        vm_status_t st = fault_find_area(&fc);  /* may grow a stack */
        unsigned kind;

        if (st == VM_OK)
                st = fault_check_access(&fc);
        if (st == VM_OK && fc.area->uffd && (kind = fault_uffd_kind(&fc)))
                return fault_uffd(&fc, va, kind, user);
        if (st == VM_OK && fault_is_write(&fc) &&
            vm_uffd_wp_marked(space, fc.area, fc.va) && uffd_page_there(&fc))
                return fault_uffd(&fc, va, VM_UFFD_WP, user);
        if (st == VM_OK)
                st = (fc.area->flags & VM_AREA_SHARED)
                             ? fault_shared_page(&fc)
                             : fault_private_page(&fc); /* copies on write */
        if (st == VM_OK)
                st = fault_enter_mapping(&fc);
        if (st == VM_OK && fc.reused)
                reuse_around(&fc);
        else if (st == VM_OK && !fc.huge)
                fault_around(&fc);
        return fault_result_from(&fc, st);
}

/*
 * Direct reclaim (vm_reclaim.h) happens here, where the fault holds
 * nothing yet: below the min watermark before the fault allocates, and
 * after a fault that found no memory while below it, as long as reclaim
 * frees something.
 */
static enum fault_result fault_common(struct vm_space *space, vaddr_t va,
                                      vm_prot_t access, bool user)
{
        enum fault_result r;

        space->stats.faults++;
        (void)vm_reclaim_direct();
        r = fault_once(space, va, access, user);
        while (r == FAULT_OOM && vm_reclaim_direct() > 0)
                r = fault_once(space, va, access, user);
        return r;
}

enum fault_result vm_fault(struct vm_space *space, vaddr_t va,
                           vm_prot_t access)
{
        return fault_common(space, va, access, false);
}

enum fault_result vm_fault_user(struct vm_space *space, vaddr_t va,
                                vm_prot_t access)
{
        return fault_common(space, va, access, true);
}

/* ---- the lock-free part (vm_space.h; docs/design.md, "Faults without the
 * big lock") ---------------------------------------------------------------- */

bool vm_fault_nolock_enabled = true;

/* How long a fault waits at a door its space's big-lock holder has
 * entered (turns of intr_cpu_relax: some tens of microseconds under
 * TCG) before it takes the big lock's path instead. */
#define DOOR_WAIT       2000

/*
 * Step in through s's door: no entry by the big lock's holder, neither
 * into s nor into every space (vm_space_enter_all). The add and the
 * loads are full barriers: Dekker's handshake with vm_space_enter.
 * An entry into s is most often another thread's system call or slow
 * fault, over in microseconds: the fault waits for it rather than join
 * the big lock's queue, where it would enter the door in turn and send
 * the next fault there too (threads faulting together then convoy
 * through the lock: a four-thread storm at -smp 4 had 6 of 1024 first
 * writes lock-free without the wait). It answers cross-CPU calls
 * meanwhile, as a CPU waiting for the big lock does.
 */
static bool door_in(struct vm_space *s)
{
        unsigned waited = 0;
        uint64_t t0 = 0;

        for (;;) {
                uint32_t d = __atomic_add_fetch(&s->door, 1, __ATOMIC_SEQ_CST);

                if (d < VM_DOOR_ENTERED &&
                    !__atomic_load_n(&vm_doors_shut, __ATOMIC_SEQ_CST)) {
                        lock_stat_note(LOCK_RANK_SPACE_DOOR, waited,
                                       waited ? lock_stat_now() - t0 : 0);
                        return true;
                }
                __atomic_sub_fetch(&s->door, 1, __ATOMIC_RELEASE);
                if (__atomic_load_n(&vm_doors_shut, __ATOMIC_RELAXED))
                        return false;   /* reclaim: long, take the lock */
                if (!waited)
                        t0 = lock_stat_now();
                do {
                        if (++waited > DOOR_WAIT)
                                return false;
#ifdef MACHINE_CPU_LOCAL
                        smp_call_poll();
#endif
                        intr_cpu_relax();
                } while (__atomic_load_n(&s->door, __ATOMIC_RELAXED) >=
                         VM_DOOR_ENTERED);
        }
}

static void door_out(struct vm_space *s)
{
        __atomic_sub_fetch(&s->door, 1, __ATOMIC_RELEASE);
}

/* Is a an area of the kind the lock-free part serves: private memory,
 * anonymous or over a file (where the area's object has nothing, the
 * file's page shows through: nolock_absent), its object (if it has one
 * yet) the space's own, and nothing that asks the big lock's path:
 * userfaultfd, huge pages, mlock (the commit and lock counts), a quota,
 * droppable pages. */
static bool nolock_kind(const struct vm_space *s, const struct vm_area *a)
{
        const struct vm_object *obj = a->object;

        return (a->flags & (VM_AREA_SHARED | VM_AREA_LOCKED |
                            VM_AREA_LOCKONFAULT | VM_AREA_DROPPABLE)) == 0 &&
               (!a->backing || !a->backing->hugetlb) && !a->uffd &&
               (!obj || (obj->type == VM_OBJECT_ANON && obj->space == s &&
                         !obj->quota && !obj->hugetlb && !obj->droppable)) &&
               !vm_area_thp_eligible(s, a);
}

/* ...for a write: writable, its object attached, and no memory group
 * whose limits the slow path enforces. */
static bool nolock_area(const struct vm_space *s, const struct vm_area *a)
{
        return (a->prot & VM_PROT_WRITE) && a->object && nolock_kind(s, a) &&
               memcg_current_is_root();
}

/*
 * The first write of a private area whose object is not attached yet
 * (fault_attach_object's work, since session 25 without the big lock): a
 * new object (own_object_new: its serial and its family's bytes counted
 * atomically, nothing else shared touched) stored in a->object by a
 * compare-and-swap from NULL, with release, so a reader that finds it
 * finds it whole. Two threads' first writes may race here: the loser
 * frees its own (vm_object_discard: nobody has seen it; vm_object_unref
 * would touch the commit count, the big lock's) and takes the winner's.
 * a->object goes from NULL to an object once inside the door; only the
 * big lock's holder, which enters the door first, ever takes it away or
 * changes it, so every lock-free path that reads it twice sees NULL then
 * the object at worst, which each is written for (the zero page's rules:
 * "The zero page beside first writes" in design.md). Declined where a
 * touching neighbour's object could be borrowed (object_borrowable): the
 * lock's path borrows it, so that the two areas may merge later. A
 * neighbour attaching its own at the same time goes unseen here (two
 * objects where the lock would have made one): the areas then stay
 * apart, as any two areas with different objects do.
 * => the area's object (this fault's or the winner's), or NULL.
 */
static struct vm_object *nolock_attach(struct vm_space *s, struct vm_area *a)
{
        struct vm_object *obj, *seen = NULL;

        if (object_borrowable(a, a->prev) || object_borrowable(a, a->next) ||
            pmm_free_below(PMM_WMARK_LOW) || !(obj = own_object_new(s, a)))
                return NULL;
        if (__atomic_compare_exchange_n(&a->object, &seen, obj, false,
                                        __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
                vmstat_add(&vm_events.pgfault_nolock_attach, 1);
                return obj;
        }
        vm_object_discard(obj);
        return seen;
}

/* The area's object, or one attached now (nolock_attach); NULL if it has
 * none and cannot be given one without the lock. */
static struct vm_object *own_or_attach(struct vm_space *s, struct vm_area *a)
{
        struct vm_object *obj = __atomic_load_n(&a->object, __ATOMIC_ACQUIRE);

        return obj ? obj : nolock_attach(s, a);
}

/* ...for a first write: as nolock_area, the object attached here if the
 * area has none yet. */
static bool nolock_area_attach(struct vm_space *s, struct vm_area *a)
{
        return (a->prot & VM_PROT_WRITE) && nolock_kind(s, a) &&
               memcg_current_is_root() && own_or_attach(s, a);
}

/* ...for a read: readable (a read charges nothing). */
static bool nolock_read_area(const struct vm_space *s, const struct vm_area *a)
{
        return (a->prot & VM_PROT_READ) && nolock_kind(s, a);
}

/*
 * Put a 4 KiB translation va -> pa where the fault found none: one
 * compare-and-swap into the empty leaf entry (pmap_enter_fresh), after
 * making the missing tables under the pmap's lock (pmap_make_table: the
 * first page of 512). Only an empty entry is ever filled, so what
 * another lock-free fault put at va meanwhile stays and this one goes to
 * the lock's path: a read's zero page and a first write's page may meet
 * at one address without either undoing the other (until session 24 the
 * table's maker used pmap_enter, which replaces, and the zero page was
 * mapped only in an area with no object, where no page could meet it).
 */
static vm_status_t nolock_make_table(struct vm_space *s, vaddr_t va)
{
        vm_status_t st;

        if (pmm_free_below(PMM_WMARK_LOW))
                return VM_ENOMEM;       /* a table page: reclaim first */
        spin_lock(&s->pmap_lock);
        st = pmap_make_table(s->pmap, va);
        spin_unlock(&s->pmap_lock);
        return st;
}

static vm_status_t nolock_enter_fresh(struct vm_space *s, vaddr_t va,
                                      paddr_t pa, vm_prot_t prot,
                                      unsigned flags)
{
        vm_status_t st = pmap_enter_fresh(s->pmap, va, pa, prot, flags);

        if (st != VM_ENOENT)
                return st;
        st = nolock_make_table(s, va);
        return st == VM_OK ? pmap_enter_fresh(s->pmap, va, pa, prot, flags)
                           : st;
}

static bool nolock_enter(struct vm_space *s, vaddr_t va, paddr_t pa,
                         vm_prot_t prot, vm_prot_t access)
{
        return nolock_enter_fresh(s, va, pa, prot,
                                  PMAP_USER | PMAP_ACCESS(access)) == VM_OK;
}

/* A first write (nothing in object obj at idx): a zeroed page, or a copy
 * of src, into the object, then its translation: where there was none
 * (over NULL), or in place of a read-only one of frame *over (src's, or
 * the zero page's). obj is the area's private object, or shared
 * memory's (nolock_shared_write). */
static bool nolock_first_write(struct vm_space *s, struct vm_area *a,
                               vaddr_t va, struct vm_object *obj, uint64_t idx,
                               const struct vm_page *src, const paddr_t *over)
{
        struct vm_object_nodes nodes = { .n = 0 };
        struct vm_page *pg = NULL;
        /* A private object only this space's faults fill: its fault_lock
         * for new nodes. Shared memory, which other spaces' faults and the
         * big lock's holder fill too: the object's lock for the whole
         * insertion (vm_object.h, [o]). */
        bool shared = obj->space == NULL;
        struct spinlock *lk = shared ? &obj->lock : &s->fault_lock;
        paddr_t zero = vm_zero_page_pa();
        paddr_t src_pa = src ? pmm_page_to_pa(src) : 0;
        vm_status_t st = VM_ENOENT;
        paddr_t pa;
        bool done = false;

        if (pmm_free_below(PMM_WMARK_LOW))
                return false;                   /* reclaim first: slow */
        /* The table first: once (1) below has claimed the slot, the
         * translation can then fail only because another fault put one
         * at va (the page, or a read's zero page, replaced below), never
         * for want of a table, which would leave the slot's page behind
         * a zero page a read mapped meanwhile. */
        if (!over && !pmap_has_table(s->pmap, va) &&
            nolock_make_table(s, va) != VM_OK)
                return false;
        if (!(pg = pmm_alloc_pages(0, PMM_HIGHMEM)))
                return false;
        pa = pmm_page_to_pa(pg);
        if (src)
                pmap_copy_page(pmm_page_to_pa(src), pa);
        else
                pmap_zero_page(pa);
        /*
         * Three steps, none under a lock in the common case (a lock they
         * shared was held in 8-30% of its takes in a four-thread storm at
         * -smp 4, its waits 3-29 ms a round when a holder's vCPU lost its
         * host core). (1) Claim the page's slot in the object with a
         * compare-and-swap: another lock-free fault at va then finds it
         * taken (EEXIST) and goes to the big lock's path, which enters the
         * door and so waits for this fault to finish. The space's
         * fault_lock is taken only to link missing radix nodes (the first
         * page under one of 64). (2) The reclaim list and the charge,
         * neither under a lock every CPU shares (pmm_lru_add_nolock,
         * memcg_charge_root_nolock). (3) The translation (nolock_enter):
         * inside the door only another lock-free fault adds one at va,
         * and only to this page once (1) has published it; or, replacing
         * src's or the zero page's, pmap_replace_fresh (nolock_private_copy,
         * nolock_zero_write).
         */
        if (!shared)
                st = vm_object_nolock_add(obj, idx, pg, NULL);
        while (st == VM_ENOENT || (st == VM_ENOMEM && nodes.want > nodes.n)) {
                /* The nodes come from kmalloc, never called under the
                 * lock. */
                if (st == VM_ENOMEM &&
                    vm_object_nodes_get(&nodes, nodes.want) != VM_OK)
                        goto out;
                spin_lock(lk);
                st = vm_object_nolock_add(obj, idx, pg, &nodes);
                spin_unlock(lk);
        }
        if (st == VM_OK) {
                vmstat_add(&s->stats.faults, 1);
                if (!shared)
                        vmstat_add(&s->stats.anon_allocs, 1);
                rmap_owner_first_lists(pg, obj, true);
                pg = NULL;                      /* the object's now */
                /* A translation it cannot make leaves the page in the
                 * object without one, or with src's still at va: the big
                 * lock's path maps it (a state any fault may find, and
                 * its pmap_enter replaces whatever is there). */
                if (!over) {
                        done = nolock_enter(s, va, pa,
                                            pmap_prot_implied(a->prot),
                                            VM_PROT_WRITE);
                        /* A private area's read that found the slot empty
                         * just before (1) may have mapped the zero page,
                         * or src, the file's page (nolock_file_under),
                         * since: this page takes its place. */
                        if (!done && !shared)
                                over = src ? &src_pa : &zero;
                }
                if (over)
                        done = pmap_replace_fresh(s->pmap, va, *over, pa,
                                        pmap_prot_implied(a->prot),
                                        PMAP_USER |
                                        PMAP_ACCESS(VM_PROT_WRITE)) == VM_OK;
        }
out:
        vm_object_nodes_put(&nodes);
        if (pg)
                pmm_free_pages(pg, 0);
        return done;
}

/* fault_around() after a lock-free read mapped a page of obj at va
 * (base: obj's index of the area's first page): the pages of its 16-page
 * window that obj holds, and in a private area over a file where its own
 * object has nothing the file's (nolock_file_under's rule), each where no
 * translation is yet (pmap_enter_fresh_run, one walk: one that another
 * fault put there meanwhile stays). Writable as the read's own rule
 * says: an own page if a write could reuse it, a shared area's page
 * always (but a disk file's: its first write finds it blocks, under the
 * lock), a file's page in a private area never. */
_Static_assert(FAULT_AROUND_PAGES <= PMAP_RUN_MAX,
               "the fault-around window is one pmap run");

static void nolock_around(struct vm_space *s, struct vm_area *a, vaddr_t va,
                          struct vm_object *obj, uint64_t base)
{
        vaddr_t win = va & ~(vaddr_t)(FAULT_AROUND_PAGES * PAGE_SIZE - 1);
        vaddr_t lo = MAX(a->start, win);        /* one run: one table */
        vaddr_t hi = MIN(a->end, win + FAULT_AROUND_PAGES * PAGE_SIZE);
        struct vm_page *pg[FAULT_AROUND_PAGES];
        paddr_t pa[FAULT_AROUND_PAGES];
        unsigned n = (hi - lo) >> PAGE_SHIFT;
        uint32_t mask = 0, wmask = 0;
        bool own = obj == a->object && !(a->flags & VM_AREA_SHARED);

        if (vm_guards_meet(&s->guards, lo, hi) ||
            vm_guards_meet(&s->poison, lo, hi))
                return;
        bool shared_w = (a->flags & VM_AREA_SHARED) && !obj->pager_ops;
        uint64_t first = base + ((lo - a->start) >> PAGE_SHIFT);
        /* A private area over a file: where its object has nothing (not
         * even a swap entry), the file's page, read-only. */
        bool under = own && a->backing;
        struct vm_page *fpg[FAULT_AROUND_PAGES];

        vm_object_nolock_lookup_run(obj, first, n, pg);
        if (under)
                vm_object_nolock_lookup_run(a->backing, a->backing_pgoff +
                                            ((lo - a->start) >> PAGE_SHIFT),
                                            n, fpg);
        for (unsigned i = 0; i < n; i++) {
                if (lo + i * PAGE_SIZE == va)
                        continue;
                if (pg[i]) {
                        pa[i] = pmm_page_to_pa(pg[i]);
                        mask |= 1u << i;
                        wmask |= (uint32_t)(own ? page_reusable(pg[i])
                                                : shared_w) << i;
                } else if (under && fpg[i] &&
                           vm_object_nolock_empty(obj, first + i)) {
                        pa[i] = pmm_page_to_pa(fpg[i]);
                        mask |= 1u << i;
                }
        }
        (void)pmap_enter_fresh_run(s->pmap, lo, n, mask, wmask, pa,
                                   pmap_prot_implied(a->prot),
                                   PMAP_USER | PMAP_ACCESS(VM_PROT_READ));
}

/*
 * The object a lock-free read of area a may map from, the page cache's
 * part of it (with its index of the area's first page in *base), or
 * NULL: a shared area's object (a tmpfs or memfd file, shared anonymous
 * memory, SysV shared memory), or a private area's file where the area
 * has no object of its own yet (a program's text and read-only data:
 * nothing there can hide the file's page). A disk file's too: its page
 * is linked only once read (vm_object.c, file_page_fill). Not explicit
 * or transparent huge pages, userfaultfd, mlock or droppable areas: the
 * big lock's. Such an object's pages leave it, and its tree changes
 * shape, only with every door shut (vm_object.c, doors_shut_for), so a
 * page found inside the door stays while the fault maps it, and a
 * translation made is unmapped before it goes.
 */
static struct vm_object *nolock_file_object(const struct vm_space *s,
                                            const struct vm_area *a,
                                            uint64_t *base)
{
        bool shared = a->flags & VM_AREA_SHARED;
        struct vm_object *obj = shared ? a->object : a->backing;

        if (!obj || (!shared && a->object) || obj->hugetlb || a->uffd ||
            (a->flags & (VM_AREA_LOCKED | VM_AREA_LOCKONFAULT |
                         VM_AREA_DROPPABLE)) ||
            (shared && vm_area_shmem_thp_eligible(s, a)))
                return NULL;
        *base = shared ? a->pgoff : a->backing_pgoff;
        return obj;
}

/*
 * A first write to shared memory where its object has no page: a zeroed
 * page (nolock_first_write, under the object's lock), if zeroes are what
 * the page holds (shared anonymous and SysV memory, a tmpfs or memfd
 * file's hole or tail; not a page under an initramfs file's bytes, which
 * a read fills), and the object charges nothing the lock's path must
 * check (a tmpfs size= quota; a memory group other than the root).
 */
static bool nolock_shared_write(struct vm_space *s, struct vm_area *a,
                                vaddr_t va, struct vm_object *obj,
                                uint64_t idx)
{
        if (obj->quota || !memcg_current_is_root() || idx >= obj->size ||
            (obj->type == VM_OBJECT_FILE && !obj->writable) ||
            (obj->data && idx < page_round(obj->src_bytes) >> PAGE_SHIFT))
                return false;
        return nolock_first_write(s, a, va, obj, idx, NULL, NULL);
}

static bool nolock_reuse(struct vm_space *s, struct vm_area *a, vaddr_t va,
                         paddr_t pa);
static bool nolock_cow(struct vm_space *s, struct vm_area *a, vaddr_t va,
                       const paddr_t *mapped);

/*
 * A write to a private area over a file (a program's data, a private
 * mapping of a tmpfs or memfd file) where the area's own object has
 * nothing yet: a copy of the file's cached page into the own object,
 * mapped writable (what fault_new_private_page does under the lock).
 * Where no translation is (*mapped NULL) it is made; where the file's
 * page is mapped read-only (*mapped its frame: a read came first, the
 * common case) the copy takes its place (pmap_replace_fresh), which
 * sends the shootdown itself when other CPUs have the space loaded (a
 * thread there could keep the file's page in its TLB for an address that
 * now writes elsewhere): the fault waits inside the door for their
 * answers, as the lock's path waits inside it with the door shut to
 * every other fault of the space. The file's page stays while the fault
 * copies it: pages leave a mapped object only with every door shut
 * (vm_object.c, doors_shut_for). The area's own object is attached
 * first if it has none (nolock_attach: a program's data, at its first
 * write). Not served: a page not cached, and what nolock_kind declines
 * for anonymous memory.
 */
static bool nolock_private_copy(struct vm_space *s, struct vm_area *a,
                                vaddr_t va, const paddr_t *mapped)
{
        struct vm_object *obj, *f = a->backing;
        uint64_t off = vm_area_off(a, va);
        struct vm_page *pg;

        if (!f || !(a->prot & VM_PROT_WRITE) || a->uffd ||
            (a->flags & (VM_AREA_SHARED | VM_AREA_LOCKED |
                         VM_AREA_LOCKONFAULT | VM_AREA_DROPPABLE)) ||
            f->hugetlb || vm_area_thp_eligible(s, a) ||
            !memcg_current_is_root())
                return false;
        if (!(obj = own_or_attach(s, a)))
                return false;
        if (obj->type != VM_OBJECT_ANON || obj->space != s || obj->quota ||
            obj->hugetlb || obj->droppable)
                return false;
        vm_object_nolock_lookup_run(obj, a->pgoff + off, 1, &pg);
        if (pg)         /* its own page, mapped read-only: shared since a
                         * fork, or one a write may take over */
                return mapped && (nolock_reuse(s, a, va, *mapped) ||
                                  nolock_cow(s, a, va, mapped));
        vm_object_nolock_lookup_run(f, a->backing_pgoff + off, 1, &pg);
        if (!pg || (mapped && pmm_page_to_pa(pg) != *mapped))
                return false;
        if (!nolock_first_write(s, a, va, obj, a->pgoff + off, pg, mapped))
                return false;
        vmstat_add(&vm_events.pgfault_nolock_copy, 1);
        return true;
}

/* A fault of a file's or shared memory's page with no translation at va:
 * a read or an instruction fetch maps the page the object holds as the
 * lock's path would (read-only in a private area, as the area allows in
 * a shared one), then its window (nolock_around); a write in a shared
 * area maps it writable, or makes the page (nolock_shared_write); one in
 * a private area copies it (nolock_private_copy). A page not there (to
 * read from the file, on swap, past the end) is the lock's. */
static bool nolock_file(struct vm_space *s, struct vm_area *a, vaddr_t va,
                        vm_prot_t access)
{
        uint64_t base;
        struct vm_object *obj = nolock_file_object(s, a, &base);
        bool shared = a->flags & VM_AREA_SHARED;
        vm_prot_t prot = pmap_prot_implied(a->prot);
        struct vm_page *pg;

        if (access == VM_PROT_WRITE && !shared)
                return nolock_private_copy(s, a, va, NULL);
        /* A disk file's page is mapped read-only: its first write finds
         * it blocks on the disk (pager_ops->mkwrite), under the lock. */
        if (!obj || !access_allowed(a->prot, access) ||
            (obj->pager_ops && access == VM_PROT_WRITE))
                return false;
        if (!shared || obj->pager_ops)
                prot &= ~VM_PROT_WRITE;
        uint64_t idx = base + vm_area_off(a, va);

        vm_object_nolock_lookup_run(obj, idx, 1, &pg);
        if (!pg) {
                if (access != VM_PROT_WRITE ||
                    !nolock_shared_write(s, a, va, obj, idx))
                        return false;
        } else if (!nolock_enter(s, va, pmm_page_to_pa(pg), prot, access)) {
                return false;
        } else {
                vmstat_add(&s->stats.faults, 1);
                if (access != VM_PROT_WRITE)
                        nolock_around(s, a, va, obj, base);
        }
        vmstat_add(&vm_events.pgfault_nolock_file, 1);
        return true;
}

/*
 * A write to a page of the area's own object that a fork shares (another
 * object holds it too: refcount > 1): the copy vm_object_page_unshare
 * makes under the lock, without it. The copy is mapped writable first:
 * where no translation is (a fork's child, whose tables start empty,
 * writing first; mapped: NULL) into the empty entry (nolock_enter_fresh,
 * making the table if it is missing), else in place of the shared page's
 * read-only translation (mapped: its frame) by pmap_replace_fresh, with
 * its shootdown (nolock_private_copy). The other CPUs have dropped the
 * shared page's entry when it returns. Then it takes the shared page's
 * place in the object's slot (vm_object_nolock_replace). In that order
 * because another thread's lock-free read may have found the shared page
 * in the slot just before and be about to map it (nolock_absent,
 * nolock_around): it maps only into an empty entry, and finds this one
 * taken (no lock-free path replaces an entry but by compare-and-swap
 * from the frame it saw). Between the two steps a sibling thread may write
 * the copy through the new translation (its bytes are there already)
 * and a sibling's fault finds the translation allowing its access.
 * The object's reference to the shared page is let go later, under the
 * big lock (vm_object_put_later): only the lock's holder changes a page's
 * count, owners and lists, so the other holders' exits, copies and reuses
 * see a count one too high meanwhile (they copy where they could reuse),
 * never one too low. Not served: a page with a kept swap copy, lazily
 * freed, or whose owners a chain of records lists; no room left for a
 * deferred put.
 */
static bool nolock_cow(struct vm_space *s, struct vm_area *a, vaddr_t va,
                       const paddr_t *mapped)
{
        struct vm_object *obj = a->object;
        uint64_t idx = a->pgoff + vm_area_off(a, va);
        vm_prot_t prot = pmap_prot_implied(a->prot);
        unsigned flags = PMAP_USER | PMAP_ACCESS(VM_PROT_WRITE);
        struct vm_page *old, *pg;
        vm_status_t st;
        paddr_t pa;

        if (!nolock_area(s, a))
                return false;
        vm_object_nolock_lookup_run(obj, idx, 1, &old);
        if (!old || page_reusable(old) ||
            (__atomic_load_n(&old->flags, __ATOMIC_RELAXED) &
             (PG_SWAPCACHE | PG_LAZYFREE | PG_RMAP_CHAIN)) ||
            (mapped && pmm_page_to_pa(old) != *mapped) ||
            pmm_free_below(PMM_WMARK_LOW))
                return false;
        if (!vm_object_put_reserve())
                return false;
        if (!(pg = pmm_alloc_pages(0, PMM_HIGHMEM)))
                goto unreserve;
        pa = pmm_page_to_pa(pg);
        pmap_copy_page(pmm_page_to_pa(old), pa);
        st = mapped ? pmap_replace_fresh(s->pmap, va, *mapped, pa, prot, flags)
                    : nolock_enter_fresh(s, va, pa, prot, flags);
        if (st != VM_OK)
                goto free;
        /* Only the fault whose translation went in gets here for va: the
         * slot still holds old. */
        st = vm_object_nolock_replace(obj, idx, old, pg);
        ASSERT(st == VM_OK);
        (void)st;
        rmap_owner_first_lists(pg, obj, true);
        vm_object_put_later(obj, idx, old);
        vmstat_add(&s->stats.faults, 1);
        vmstat_add(&s->stats.cow_copies, 1);
        vmstat_add(&vm_events.pgfault_nolock_copy, 1);
        return true;
free:
        pmm_free_pages(pg, 0);
unreserve:
        vm_object_put_unreserve();
        return false;
}

/*
 * A read in a private area over a file where the area's own object holds
 * nothing at va (object index idx; no page, no swap entry): the file's
 * cached page, read-only, as fault_private_page maps it (a program's data
 * and bss pages read after its first write, or after a fork), then its
 * window (nolock_around: the object's pages, and the file's where the
 * object has nothing). An area with no object yet is nolock_file's. A
 * write beside it that claims the slot for its copy
 * (nolock_private_copy) and then finds this translation in its way puts
 * the copy in its place (nolock_first_write): the rule for a read of the
 * zero page beside a first write, with the file's page.
 */
static bool nolock_file_under(struct vm_space *s, struct vm_area *a,
                              vaddr_t va, uint64_t idx)
{
        struct vm_object *obj = __atomic_load_n(&a->object, __ATOMIC_ACQUIRE);
        struct vm_page *pg;

        if (!obj)
                return nolock_file(s, a, va, VM_PROT_READ);
        if (!vm_object_nolock_empty(obj, idx))
                return false;
        vm_object_nolock_lookup_run(a->backing,
                                    a->backing_pgoff + vm_area_off(a, va), 1,
                                    &pg);
        if (!pg || !nolock_enter(s, va, pmm_page_to_pa(pg),
                                 pmap_prot_implied(a->prot) & ~VM_PROT_WRITE,
                                 VM_PROT_READ))
                return false;
        vmstat_add(&s->stats.faults, 1);
        vmstat_add(&vm_events.pgfault_nolock_file, 1);
        nolock_around(s, a, va, obj, a->pgoff);
        return true;
}

/*
 * No translation at va: what the object holds there decides.
 * - Nothing, and a write: nolock_first_write.
 * - A page (a fork's child finds every page so: its tables start empty):
 *   mapped as fault_private_page maps it, writable only if a write may
 *   reuse it (page_reusable), else read-only, and a write to a page
 *   others share copies it (nolock_cow); after a read, its neighbours
 *   too (nolock_around).
 * - Nothing, and a read: the zero page, read-only, whether the area has
 *   its object yet or not. A first write that meets it at va replaces
 *   it: nolock_zero_write, or nolock_first_write itself when this read
 *   mapped it between the write's claim of the slot and its translation.
 * - A swap entry: the big lock's (a read must not find the zero page
 *   there: vm_object_nolock_empty tells the two apart).
 * - Nothing, in a private area over a file: the file's page shows
 *   through instead of zeroes: a write copies it (nolock_private_copy),
 *   a read maps it (nolock_file_under).
 */
static bool nolock_absent(struct vm_space *s, struct vm_area *a, vaddr_t va,
                          vm_prot_t access)
{
        bool write = access == VM_PROT_WRITE;
        uint64_t idx = a->pgoff + vm_area_off(a, va);
        vm_prot_t prot = pmap_prot_implied(a->prot);
        struct vm_page *pg = NULL;

        if (access == VM_PROT_EXEC ||
            !(write ? nolock_area_attach(s, a) : nolock_read_area(s, a)))
                return nolock_file(s, a, va, access);
        if (a->object)
                vm_object_nolock_lookup_run(a->object, idx, 1, &pg);
        if (!pg && a->backing)          /* the file's page shows through */
                return write ? nolock_private_copy(s, a, va, NULL)
                             : nolock_file_under(s, a, va, idx);
        if (!pg && !write) {
                if ((a->object && !vm_object_nolock_empty(a->object, idx)) ||
                    !nolock_enter(s, va, vm_zero_page_pa(),
                                  prot & ~VM_PROT_WRITE, access))
                        return false;
                vmstat_add(&s->stats.faults, 1);
                vmstat_add(&s->stats.zero_maps, 1);
                return true;
        }
        if (!pg)        /* a write: nothing there, or a swap entry, which
                         * nolock_add finds in the slot (the lock's) */
                return nolock_first_write(s, a, va, a->object, idx, NULL,
                                          NULL);
        if (!page_reusable(pg)) {
                if (write)
                        return nolock_cow(s, a, va, NULL);
                prot &= ~VM_PROT_WRITE;
        }
        if (!nolock_enter(s, va, pmm_page_to_pa(pg), prot, access))
                return false;
        vmstat_add(&s->stats.faults, 1);
        if (write)
                vmstat_add(&s->stats.cow_reuses, 1);    /* as the lock's */
        else
                nolock_around(s, a, va, a->object, a->pgoff);
        return true;
}

/* A write where a read mapped the zero page (nolock_absent, or the
 * lock's path) and the area's own object (attached here if the area has
 * none yet) still has nothing: a first
 * write whose page takes the zero page's place (pmap_replace_fresh, with
 * the round to the CPUs that have the space loaded: their TLBs may keep
 * the zero page for va). The slot is claimed first, as for any first
 * write, so a second writer finds it taken. */
static bool nolock_zero_write(struct vm_space *s, struct vm_area *a,
                              vaddr_t va, const paddr_t *mapped)
{
        return *mapped == vm_zero_page_pa() && !a->backing &&
               nolock_area_attach(s, a) &&
               nolock_first_write(s, a, va, a->object,
                                  a->pgoff + vm_area_off(a, va), NULL, mapped);
}

/* A write to a page of the area's own object mapped read-only after a
 * fork whose child has gone (fault_own_page_write's reuse, and
 * reuse_around's window with it): the translations made writable in
 * place, one compare-and-swap each, no copy and no shootdown (a CPU
 * that keeps an older, read-only entry faults once more and finds the
 * write allowed). */
static bool nolock_reuse(struct vm_space *s, struct vm_area *a, vaddr_t va,
                         paddr_t pa)
{
        vaddr_t win = va & ~(vaddr_t)(REUSE_AROUND_PAGES * PAGE_SIZE - 1);
        vaddr_t lo = MAX(a->start, win);
        vaddr_t hi = MIN(a->end, win + REUSE_AROUND_PAGES * PAGE_SIZE);
        struct vm_page *pg[REUSE_AROUND_PAGES];
        paddr_t pas[REUSE_AROUND_PAGES];
        uint32_t mask = 0, done, self;
        unsigned n;

        if (!nolock_area(s, a))
                return false;
        if (vm_guards_meet(&s->guards, lo, hi) ||
            vm_guards_meet(&s->poison, lo, hi)) {
                lo = va;                        /* the page alone */
                hi = va + PAGE_SIZE;
        }
        n = (hi - lo) >> PAGE_SHIFT;
        self = 1u << ((va - lo) >> PAGE_SHIFT);
        vm_object_nolock_lookup_run(a->object,
                                    a->pgoff + ((lo - a->start) >> PAGE_SHIFT),
                                    n, pg);
        for (unsigned i = 0; i < n; i++)
                if (page_reusable(pg[i])) {
                        pas[i] = pmm_page_to_pa(pg[i]);
                        mask |= 1u << i;
                }
        if (!(mask & self) || pas[(va - lo) >> PAGE_SHIFT] != pa)
                return false;   /* not the object's page: a copy to make */
        done = pmap_widen_fresh(s->pmap, lo, n, mask, pas,
                                pmap_prot_implied(a->prot));
        if (done & ~self)
                vmstat_add(&s->stats.cow_reuses_around,
                           (uint64_t)__builtin_popcount(done & ~self));
        if (!(done & self))
                return false;
        vmstat_add(&s->stats.faults, 1);
        vmstat_add(&s->stats.cow_reuses, 1);
        return true;
}

/* A translation is at va. One that allows the access (another thread's
 * fault was first, and this CPU's MMU may have cached the absence: the
 * RISC-V kind) only needs this CPU to look again; a read-only one over
 * the object's own page may be made writable (nolock_reuse), or replaced
 * by a copy of a page others share (nolock_cow) or of the file's page
 * (nolock_private_copy); the zero page's, by a first write's page
 * (nolock_zero_write). Anything else is the big lock's, a clear
 * accessed or dirty bit too (an MMU that faults to have it set). */
static bool nolock_present(struct vm_space *s, struct vm_area *a, vaddr_t va,
                           vm_prot_t access, paddr_t pa, vm_prot_t prot,
                           unsigned flags)
{
        unsigned want = access == VM_PROT_WRITE
                                ? PMAP_AD_ACCESSED | PMAP_AD_DIRTY
                                : PMAP_AD_ACCESSED;
        uint64_t base;

        if (!(flags & PMAP_USER))
                return false;
        if ((prot & access) != access)
                return access == VM_PROT_WRITE &&
                       (a->backing ? nolock_private_copy(s, a, va, &pa)
                        : pa == vm_zero_page_pa()
                                   ? nolock_zero_write(s, a, va, &pa)
                                   : nolock_reuse(s, a, va, pa) ||
                                     nolock_cow(s, a, va, &pa));
        if (!((access == VM_PROT_WRITE ? nolock_area(s, a)
                                       : nolock_read_area(s, a)) ||
              nolock_file_object(s, a, &base)) ||
            (pmap_ad(s->pmap, va, false) & want) != want)
                return false;
        spin_lock(&s->pmap_lock);
        pmap_update_local(s->pmap, va);
        spin_unlock(&s->pmap_lock);
        return true;
}

bool vm_fault_nolock(struct vm_space *s, vaddr_t va, vm_prot_t access)
{
        struct vm_area *a;
        vm_prot_t prot;
        unsigned flags;
        paddr_t pa;
        bool done = false;

        va = page_trunc(va);
        if (!vm_fault_nolock_enabled ||
            (access != VM_PROT_WRITE && access != VM_PROT_READ &&
             access != VM_PROT_EXEC) ||
            va < s->min || va >= s->max || !door_in(s))
                return false;
        a = vm_area_find(&s->areas, va);
        if (a && !vm_guards_has(&s->guards, va) &&
            !vm_guards_has(&s->poison, va)) {
                if (pmap_extract(s->pmap, va, &pa, &prot, &flags))
                        done = nolock_present(s, a, va, access, pa, prot,
                                              flags);
                else
                        done = nolock_absent(s, a, va, access);
        }
        door_out(s);
        if (done)
                vmstat_add(&vm_events.pgfault_nolock, 1);
        return done;
}

/*
 * The page behind va for an access from outside the space (another
 * process, /proc/PID/mem), as Linux's get_user_pages: phases 1-3 without
 * stack growth and without entering a translation. force (FOLL_FORCE)
 * lets a write into a private area that forbids it (it copies the page,
 * as a write fault would; the translation stays read-only) and a read of
 * an area that forbids reading; a shared area is never written against
 * its protection.
 */
static vm_status_t access_page(struct vm_space *s, vaddr_t va, bool write,
                               bool force, struct vm_page **out)
{
        struct fault_ctx fc = { .space = s, .va = page_trunc(va),
                                .access = write ? VM_PROT_WRITE
                                                : VM_PROT_READ };
        struct vm_page *before;
        vm_status_t st;

        fc.area = vm_area_lookup(&s->areas, fc.va);
        if (!fc.area || vm_guards_has(&s->guards, fc.va) ||
            vm_guards_has(&s->poison, fc.va))
                return VM_EFAULT;
        /* The area's own protection, not what the MMU implies: Linux's
         * check_vma_flags() wants VM_READ to read (PROT_WRITE alone: EFAULT). */
        if ((fc.access & ~fc.area->prot) &&
            (!force || (write && (fc.area->flags & VM_AREA_SHARED))))
                return VM_EFAULT;
        fc.off = (fc.va - fc.area->start) >> PAGE_SHIFT;
        if (fc.area->flags & VM_AREA_SHARED) {
                st = fault_shared_page(&fc);
                *out = fc.page;
                return st == VM_ENOENT ? VM_EFAULT : st;
        }
        before = fc.area->object ? vm_object_lookup(fc.area->object,
                                                    fc.area->pgoff + fc.off)
                                 : NULL;
        st = fault_private_page(&fc);
        if (st != VM_OK)
                return st == VM_ENOENT ? VM_EFAULT : st;
        /* A new or copied page replaces what the space may still map. */
        if (write && fc.page != before) {
                vm_pmap_remove(s, fc.va, fc.va + PAGE_SIZE);
                pmap_update(s->pmap);
        }
        *out = fc.page;
        return VM_OK;
}

vm_status_t vm_space_access(struct vm_space *space, vaddr_t va, void *buf,
                            size_t len, bool write, bool force, size_t *done)
{
        uint8_t *b = buf;
        vm_status_t st = VM_OK;

        *done = 0;
        vm_space_enter(space);          /* another space's objects change */
        while (len) {
                size_t n = MIN(len, PAGE_SIZE - (va & PAGE_MASK));
                struct vm_page *pg = NULL;
                uint8_t *kva;

                st = access_page(space, va, write, force, &pg);
                if (st != VM_OK)
                        break;
                kva = pmap_quick_enter_page(pg ? pmm_page_to_pa(pg)
                                               : vm_zero_page_pa());
                if (write && pg)
                        pg->flags |= PG_DIRTY;
                if (write)
                        memcpy(kva + (va & PAGE_MASK), b, n);
                else
                        memcpy(b, kva + (va & PAGE_MASK), n);
                pmap_quick_remove_page(kva);
                va += n, b += n, len -= n, *done += n;
        }
        vm_space_leave(space);
        return *done ? VM_OK : st;
}

const char *vm_fault_reason_name(enum fault_reason reason)
{
        switch (reason) {
        case FAULT_REASON_NONE:         return "none";
        case FAULT_REASON_NO_AREA:      return "no area";
        case FAULT_REASON_STACK_LIMIT:  return "stack limit";
        case FAULT_REASON_STACK_GUARD:  return "stack guard gap";
        case FAULT_REASON_PROT:         return "protection";
        case FAULT_REASON_GUARD:        return "guard page";
        case FAULT_REASON_BEYOND_OBJECT: return "beyond the end of the object";
        case FAULT_REASON_NO_SPACE: return "no room left in the file system";
        case FAULT_REASON_SWAP_IO: return "swap read error";
        case FAULT_REASON_USERFAULT: return "userfaultfd";
        case FAULT_REASON_POISON: return "poisoned by userfaultfd";
        }
        return "?";
}
