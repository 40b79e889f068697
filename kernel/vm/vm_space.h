/*
 * vm_space.h - a process's virtual address space: its areas, the pmap that
 * caches their translations, heap (brk) and stack bookkeeping, and the
 * operations of the mmap family and the page-fault handler, with Linux's
 * semantics (CONCEPTS E20-E22).
 *
 * The user range is [USER_MIN, USER_MAX) of <machine/vmparam.h>. The
 * system-call layer translates Linux's MAP_* and PROT_* numbers into the
 * VM_MAP_* flags below and VM_PROT_* (vm/pmap.h), and vm_status_t into
 * -errno; every function here says which statuses it returns.
 *
 * Layout (as Linux's x86-64 without randomization):
 *   stack       just below the top the exec code picks (vm_space_stack_init),
 *               growing down on faults up to stack_limit (8 MiB default),
 *               keeping VM_STACK_GUARD_GAP free below it;
 *   mmap area   top-down below mmap_base = USER_MAX - max(stack_limit +
 *               guard gap, 128 MiB); if nothing fits there, bottom-up
 *               from VM_MMAP_LEGACY_BASE (USER_MAX / 3);
 *   heap (brk)  upward from start_brk (set by the ELF loader);
 *   text, data  placed by the ELF loader with VM_MAP_FIXED.
 *
 * "A pmap is a cache": the areas and their objects are the truth; the pmap
 * may lose any user translation and the next fault rebuilds it.
 *
 * Locks: one map lock per space will guard every [m] field; single CPU for
 * now and no faults from interrupt context, so callers serialize and the
 * lock is not there yet. Lock order when it comes: space map lock, then
 * object, then pmm/kmalloc. [c] constant after creation.
 *
 * Invariants (vm_space_check()):
 *   1. the area tree is sound (vm_area_tree_check) within [min, max), with
 *      at most max_areas areas;
 *   2. no two neighbouring areas could be merged (every operation merges);
 *   3. a shared area has an object; a private area's pgoff is its start's
 *      page number, and each resident page of a private object lies at an
 *      address that an area using that object covers;
 *   4. every present translation in the user range lies in an area, is a
 *      user mapping, allows no more than its area (no write on a
 *      non-writable area, no exec on a non-exec area, nothing on PROT_NONE),
 *      and maps the object's page for that index, or the zero page (read
 *      only, private area, object has no page there);
 *   5. start_brk <= brk; the zero page holds zeroes.
 */
#ifndef VM_VM_SPACE_H
#define VM_VM_SPACE_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/vm_area.h>

/* vm_space_map() flags. Exactly one of PRIVATE and SHARED. */
#define VM_MAP_PRIVATE          0x0001  /* writes stay in this space */
#define VM_MAP_SHARED           0x0002  /* writes go to a shared object */
#define VM_MAP_FIXED            0x0004  /* exactly at hint, replacing */
#define VM_MAP_FIXED_NOREPLACE  0x0008  /* exactly at hint, or VM_EEXIST */
#define VM_MAP_NORESERVE        0x0010  /* accepted; marks the area */
#define VM_MAP_POPULATE         0x0020  /* prefault every page */
#define VM_MAP_GROWSDOWN        0x0040  /* a stack that grows on faults */
#define VM_MAP_FLAGS_ALL        0x007f

#define VM_MAX_AREAS            65530           /* Linux's vm.max_map_count */
#define VM_STACK_LIMIT_DEFAULT  (8 * MiB)       /* RLIMIT_STACK default */
#define VM_STACK_GUARD_GAP      (256 * PAGE_SIZE) /* Linux's stack_guard_gap */
#define VM_MMAP_GAP_MIN         (128 * MiB)     /* Linux's MIN_GAP */
#define VM_MMAP_LEGACY_BASE     page_trunc(USER_MAX / 3) /* TASK_UNMAPPED_BASE */

/* What the trap code should do after vm_fault(). */
enum fault_result {
        FAULT_RESOLVED,         /* retry the access */
        FAULT_SEGV,             /* SIGSEGV (or EFAULT for copy_*_user) */
        FAULT_BUS,              /* SIGBUS: reserved for file objects */
        FAULT_OOM,              /* out of memory: the OOM policy decides */
};

/* Why a fault ended in FAULT_SEGV (SEGV_MAPERR for the first four). */
enum fault_reason {
        FAULT_REASON_NONE,
        FAULT_REASON_NO_AREA,           /* no area there (or outside user) */
        FAULT_REASON_STACK_LIMIT,       /* stack would outgrow stack_limit */
        FAULT_REASON_STACK_GUARD,       /* stack would enter the guard gap */
        FAULT_REASON_PROT,              /* the area forbids it: SEGV_ACCERR */
};

/* The last fault of a space, for the trap code's report. */
struct vm_fault_info {
        vaddr_t           va;
        vm_prot_t         access;
        enum fault_result result;
        enum fault_reason reason;
};

struct vm_space_stats {
        uint64_t faults;                /* vm_fault() calls */
        uint64_t zero_maps;             /* zero page mapped for a read */
        uint64_t anon_allocs;           /* pages allocated by faults */
        uint64_t stack_growths;         /* stack extended by a fault */
};

/*
 * An address space.
 * Locks: see the header comment. [m] map lock; [c] constant.
 */
struct vm_space {
        struct vm_area_tree   areas;            /* [m] keyed by start */
        struct pmap          *pmap;             /* [c] translation cache */
        vaddr_t               min, max;         /* [c] USER_MIN, USER_MAX */
        vaddr_t               mmap_base;        /* [m] top-down mmap below */
        vaddr_t               start_brk, brk;   /* [m] heap; brk unaligned */
        vaddr_t               stack_top;        /* [m] 0 until stack_init */
        uint64_t              stack_limit;      /* [m] bytes, rlimit-like */
        uint64_t              max_areas;        /* [m] VM_MAX_AREAS */
        struct vm_fault_info  last_fault;       /* [m] */
        struct vm_space_stats stats;            /* [m] */
};

/*
 * A new, empty address space (its pmap shares the kernel half).
 * => allocates the zero page on first use.
 * => VM_ENOMEM if the struct, the pmap or the zero page ran out; nothing
 *    is left allocated.
 */
vm_status_t vm_space_create(struct vm_space **out);

/*
 * Tear a space down: every area, every page its private and last-referenced
 * shared objects hold, every page-table page, the descriptor.
 * => space's pmap is not active on any CPU. Cannot fail.
 */
void vm_space_destroy(struct vm_space *space);

/*
 * mmap of anonymous memory: map len bytes (rounded up to pages) with prot.
 * Without FIXED*, hint (rounded up to a page) is used if the range is free
 * (keeping the guard gap below stacks), else the space is searched
 * top-down below mmap_base, then bottom-up from VM_MMAP_LEGACY_BASE.
 * FIXED maps exactly at hint, unmapping what was there; FIXED_NOREPLACE
 * maps exactly at hint if nothing is there. POPULATE prefaults every page
 * (writes if prot allows, else reads); its failures do not fail the call,
 * as in Linux. A new private area merges with compatible neighbours.
 * => *out: the address mapped (on VM_OK only).
 * => VM_EINVAL: len 0; unknown flags or prot bits; not exactly one of
 *    PRIVATE/SHARED; FIXED* with a misaligned hint.
 * => VM_ENOMEM: len too large; FIXED* range beyond max; no free range; the
 *    area limit would be exceeded; heap or page tables exhausted.
 * => VM_EACCES: FIXED* range below min (Linux: EPERM, mmap_min_addr).
 * => VM_EEXIST: FIXED_NOREPLACE and the range is not free.
 * => any failure leaves the space as it was.
 */
vm_status_t vm_space_map(struct vm_space *space, vaddr_t hint, uint64_t len,
                         vm_prot_t prot, unsigned flags, vaddr_t *out);

/*
 * munmap: unmap every page of [start, start + len) (len rounded up),
 * splitting areas that straddle an end; holes are fine. Private pages are
 * freed at once.
 * => VM_EINVAL: start misaligned, len 0, or the range leaves [0, max).
 * => VM_ENOMEM: the split would exceed the area limit, or no descriptor
 *    could be had. Any failure leaves the space as it was.
 */
vm_status_t vm_space_unmap(struct vm_space *space, vaddr_t start,
                           uint64_t len);

/*
 * mprotect: give [start, start + len) (len rounded up) protection prot,
 * splitting areas at the ends and merging what becomes compatible.
 * Translations are narrowed at once; widening takes effect at the next
 * fault of each page.
 * => VM_OK for len 0 (checked after alignment, before prot, as Linux).
 * => VM_EINVAL: start misaligned or unknown prot bits.
 * => VM_ENOMEM: part of the range is not mapped (Linux's ENOMEM), the
 *    area limit would be exceeded, or no descriptor could be had.
 * => unlike Linux, which changes the areas before a hole and then fails,
 *    a failure here leaves the space as it was.
 */
vm_status_t vm_space_protect(struct vm_space *space, vaddr_t start,
                             uint64_t len, vm_prot_t prot);

/*
 * Set the start of the heap (and brk itself) to start: the ELF loader
 * calls it once, with the page after the data segment.
 * => VM_EINVAL if start is outside [min, max).
 */
vm_status_t vm_space_brk_init(struct vm_space *space, vaddr_t start);

/*
 * brk(want), Linux's rules. *result always gets the brk after the call
 * (what the system call returns).
 * => below start_brk (brk(0) asks for the current value), or no heap yet
 *    (vm_space_brk_init not called): VM_EINVAL, nothing changes.
 * => shrinking unmaps [page_round(want), page_round(brk)); it fails with
 *    VM_ENOENT if no area lies there (Linux refuses too) or VM_ENOMEM.
 * => growing maps [page_round(brk), page_round(want)) read-write; it fails
 *    with VM_ENOMEM if that would come within a page of the next area's
 *    start (less the guard gap below a stack), if want is beyond max, or
 *    memory ran out.
 * => VM_OK: brk = want.
 */
vm_status_t vm_space_brk(struct vm_space *space, vaddr_t want,
                         vaddr_t *result);

/*
 * Create the initial stack: a read-write, grows-down private area
 * [top - len, top). Faults below it extend it (see vm_fault()).
 * => top and len page-aligned, 0 < len <= stack_limit.
 * => VM_EINVAL for bad arguments or a range outside [min, max);
 *    VM_EEXIST if the range is not free; VM_ENOMEM as vm_space_map().
 */
vm_status_t vm_space_stack_init(struct vm_space *space, vaddr_t top,
                                uint64_t len);

/*
 * Set the stack size limit (RLIMIT_STACK, rounded up to pages) for later
 * growth.
 * => on a space without areas (exec time) it also moves mmap_base, as
 *    Linux lays out the mmap area from the limit at exec.
 */
void vm_space_set_stack_limit(struct vm_space *space, uint64_t bytes);

/*
 * The area containing va, or NULL (for /proc/PID/maps and the like).
 * => the result is valid until the next change to the space; iterate
 *    with vm_area_next(). O(log n).
 */
const struct vm_area *vm_space_lookup(struct vm_space *space, vaddr_t va);

/* The pmap, for the context switch (pmap_activate) and the tests. */
static inline struct pmap *vm_space_pmap(const struct vm_space *space)
{
        return space->pmap;
}

/*
 * Resolve a page fault at va; access is what was attempted (VM_PROT_READ,
 * VM_PROT_WRITE or VM_PROT_EXEC, as the trap code decoded it).
 *   - outside every area: FAULT_SEGV (NO_AREA), unless the next area above
 *     grows down and may grow to va (within stack_limit, not into the
 *     guard gap above an accessible area below): then it grows;
 *   - the area forbids the access (exec on non-exec = NX, write on
 *     non-writable, anything on PROT_NONE): FAULT_SEGV (PROT);
 *   - a read of private memory never written maps the shared zero page
 *     read-only; a write (or any access to shared memory) makes the
 *     object's zero-filled page resident and maps it;
 *   - FAULT_OOM if a page, radix node, object or page-table page could not
 *     be had (what was done so far stays valid: nothing leaks).
 * => records the outcome in space->last_fault. Must not sleep yet.
 */
enum fault_result vm_fault(struct vm_space *space, vaddr_t va,
                           vm_prot_t access);

/* A short English name for a reason ("protection"); "?" if unknown. */
const char *vm_fault_reason_name(enum fault_reason reason);

/*
 * Verify invariants 1-5 above (cost: O(pages the areas span)).
 * => true if they hold; else prints the first violation, returns false.
 */
bool vm_space_check(struct vm_space *space);

#endif
