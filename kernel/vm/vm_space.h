/*
 * vm_space.h - a process's virtual address space: its areas, the pmap that
 * caches their translations, heap (brk) and stack bookkeeping, and the
 * operations of the mmap family (mmap of anonymous memory and of files,
 * munmap, mprotect, mremap, madvise, brk), fork, and the page-fault
 * handler, with Linux's semantics (CONCEPTS E20-E24).
 *
 * The user range is [USER_MIN, USER_MAX) of <machine/vmparam.h>. The
 * system-call layer translates Linux's MAP_* / PROT_* / MREMAP_* / MADV_*
 * numbers into the VM_* values below and VM_PROT_* (vm/pmap.h), and
 * vm_status_t into -errno; every function here says which statuses it
 * returns.
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
 * may lose any user translation and the next fault rebuilds it. fork uses
 * that: the child starts with an empty pmap (see vm_space_fork()).
 *
 * Locks (docs/design.md, "Faults without the big lock"): [m] fields are
 * the big kernel lock's, and while a CPU holding it works in a space it
 * has *entered* the space (vm_space_enter: every entry from one of the
 * space's threads, anything that changes another space's areas, objects
 * or tables, and anything that reads another space's areas - /proc, the
 * sums over every space - since the door's writer below changes them
 * without the big lock); the fault path's lock-free part
 * (vm_fault_nolock), which reads them without the big lock, runs only
 * while nobody has entered the space; among its own kind it changes words
 * atomically (an object's slot, a table entry, the stats) and takes
 * fault_lock or pmap_lock only to link a radix node or make a table.
 * [c] constant after creation. [a] atomic.
 *
 * Invariants (vm_space_check()):
 *   1. the area tree is sound (vm_area_tree_check) within [min, max), with
 *      at most max_areas areas;
 *   2. no two neighbouring areas could be merged (every operation merges);
 *   3. a shared area has an object and no backing; a private area's pgoff
 *      is its start's page number, its object (if any) is anonymous, its
 *      backing (if any) a file object; each resident page of a private
 *      object lies at an address that an area using that object covers;
 *   4. every present translation in the user range lies in an area, is a
 *      user mapping, allows no more than its area (no write on a
 *      non-writable area, no exec on a non-exec area, nothing on PROT_NONE),
 *      and maps, for a shared area, the object's page for that index; for a
 *      private area, its own object's page (writable only if no other
 *      object holds it: refcount 1), else its backing's page (read only),
 *      else the zero page (read only, no backing);
 *   5. start_brk <= brk; the zero page holds zeroes;
 *   6. guard runs (vm_guard.h) are sorted, disjoint and inside areas; a
 *      guarded page has no translation and no private page of its own;
 *      the same for UFFDIO_POISON's runs (poison);
 *   7. UFFDIO_WRITEPROTECT's runs (uffd_wp) are sorted, disjoint and
 *      inside areas; in an area registered WP a marked page has no
 *      writable translation.
 */
#ifndef VM_VM_SPACE_H
#define VM_VM_SPACE_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <mercator/spinlock.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/vm_area.h>
#include <vm/vm_guard.h>

struct vm_object;

/* vm_space_map() flags. Exactly one of PRIVATE and SHARED. */
#define VM_MAP_PRIVATE          0x0001  /* writes stay in this space */
#define VM_MAP_SHARED           0x0002  /* writes go to a shared object */
#define VM_MAP_FIXED            0x0004  /* exactly at hint, replacing */
#define VM_MAP_FIXED_NOREPLACE  0x0008  /* exactly at hint, or VM_EEXIST */
#define VM_MAP_NORESERVE        0x0010  /* accepted; marks the area */
#define VM_MAP_POPULATE         0x0020  /* prefault every page */
#define VM_MAP_GROWSDOWN        0x0040  /* a stack that grows on faults */
#define VM_MAP_MAYWRITE         0x0080  /* shared file opened for writing:
                                           writable now or after mprotect */
#define VM_MAP_SPECIAL          0x0100  /* the kernel's own pages ([vdso],
                                         * [vvar]): named by the object,
                                         * shown without file or inode */
#define VM_MAP_DROPPABLE        0x0200  /* private anonymous memory the
                                         * kernel may drop under pressure
                                         * instead of swapping it (Linux's
                                         * MAP_DROPPABLE): reads as zeroes
                                         * after */
#define VM_MAP_FLAGS_ALL        0x03ff

#define VM_MAX_AREAS            65530           /* Linux's vm.max_map_count */
#define VM_STACK_LIMIT_DEFAULT  (8 * MiB)       /* RLIMIT_STACK default */
#define VM_STACK_GUARD_GAP      (256 * PAGE_SIZE) /* Linux's stack_guard_gap */
#define VM_MMAP_GAP_MIN         (128 * MiB)     /* Linux's MIN_GAP */
#define VM_MMAP_LEGACY_BASE     page_trunc(USER_MAX / 3) /* TASK_UNMAPPED_BASE */

/* mremap() flags (Linux's MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP). */
#define VM_REMAP_MAYMOVE        0x1     /* may move if it cannot resize */
#define VM_REMAP_FIXED          0x2     /* move exactly to new_addr */
#define VM_REMAP_DONTUNMAP      0x4     /* move, leave the old range mapped
                                         * and empty */
#define VM_REMAP_FLAGS_ALL      0x7

/* madvise() advice: Linux's MADV_* numbers; the ones vm_space_advise()
 * honours (VM_MADV_SUPPORTED), every other value is VM_EINVAL. */
#define VM_MADV_NORMAL          0       /* no special treatment */
#define VM_MADV_RANDOM          1       /* expect random access */
#define VM_MADV_SEQUENTIAL      2       /* expect sequential access */
#define VM_MADV_WILLNEED        3       /* will need these pages */
#define VM_MADV_DONTNEED        4       /* drop these pages now */
#define VM_MADV_FREE            8       /* pages may be freed (anon only) */
#define VM_MADV_REMOVE          9       /* punch a hole in shared memory */
#define VM_MADV_DONTFORK        10      /* not in a fork's child */
#define VM_MADV_DOFORK          11      /* ... again in it */
#define VM_MADV_COLD            20      /* deactivate the pages */
#define VM_MADV_PAGEOUT         21      /* reclaim the pages */
#define VM_MADV_HUGEPAGE        14      /* may use transparent huge pages */
#define VM_MADV_NOHUGEPAGE      15      /* never huge pages */
#define VM_MADV_DONTDUMP        16      /* leave out of core files */
#define VM_MADV_DODUMP          17      /* ... put back in */
#define VM_MADV_WIPEONFORK      18      /* empty in a fork's child */
#define VM_MADV_KEEPONFORK      19      /* ... copied again */
#define VM_MADV_GUARD_INSTALL   102     /* accesses fault (Linux 6.13) */
#define VM_MADV_GUARD_REMOVE    103     /* ... no longer */
#define VM_MADV_SUPPORTED       ((1u << VM_MADV_REMOVE) | \
                                 (1u << VM_MADV_COLD) | \
                                 (1u << VM_MADV_PAGEOUT) | \
                                 (1u << VM_MADV_NORMAL) | \
                                 (1u << VM_MADV_RANDOM) | \
                                 (1u << VM_MADV_SEQUENTIAL) | \
                                 (1u << VM_MADV_WILLNEED) | \
                                 (1u << VM_MADV_DONTNEED) | \
                                 (1u << VM_MADV_FREE) | \
                                 (1u << VM_MADV_HUGEPAGE) | \
                                 (1u << VM_MADV_NOHUGEPAGE) | \
                                 (1u << VM_MADV_DONTDUMP) | \
                                 (1u << VM_MADV_DODUMP) | \
                                 (1u << VM_MADV_DONTFORK) | \
                                 (1u << VM_MADV_DOFORK) | \
                                 (1u << VM_MADV_WIPEONFORK) | \
                                 (1u << VM_MADV_KEEPONFORK))

/* Does vm_space_advise() honour this advice? */
static inline bool vm_advice_supported(int advice)
{
        return (advice >= 0 && advice < 32 &&
                (VM_MADV_SUPPORTED & (1u << advice))) ||
               advice == VM_MADV_GUARD_INSTALL || advice == VM_MADV_GUARD_REMOVE;
}

/* What the trap code should do after vm_fault(). */
enum fault_result {
        FAULT_RESOLVED,         /* retry the access */
        FAULT_SEGV,             /* SIGSEGV (or EFAULT for copy_*_user) */
        FAULT_BUS,              /* SIGBUS (BUS_ADRERR; EFAULT for copy_*) */
        FAULT_OOM,              /* out of memory: the OOM policy decides */
};

/* Why a fault ended in FAULT_SEGV (SEGV_MAPERR for all but PROT), or
 * FAULT_BUS (the last two). */
enum fault_reason {
        FAULT_REASON_NONE,
        FAULT_REASON_NO_AREA,           /* no area there (or outside user) */
        FAULT_REASON_STACK_LIMIT,       /* stack would outgrow stack_limit */
        FAULT_REASON_STACK_GUARD,       /* stack would enter the guard gap */
        FAULT_REASON_PROT,              /* the area forbids it: SEGV_ACCERR */
        FAULT_REASON_GUARD,             /* a guard page (MADV_GUARD_INSTALL):
                                         * SEGV_MAPERR, as Linux */
        FAULT_REASON_BEYOND_OBJECT,     /* past the file's end (or a shared
                                         * object's size): FAULT_BUS */
        FAULT_REASON_NO_SPACE,          /* the object's quota (a full tmpfs)
                                         * refused the page: FAULT_BUS */
        FAULT_REASON_SWAP_IO,           /* the page's swap slot could not
                                         * be read: FAULT_BUS */
        FAULT_REASON_USERFAULT,         /* a userfaultfd context said no
                                         * (SIGBUS, or a kernel access's
                                         * EFAULT) */
        FAULT_REASON_POISON,            /* a page UFFDIO_POISON marked:
                                         * FAULT_BUS */
};

/* The last fault of a space, for the trap code's report. */
struct vm_fault_info {
        vaddr_t           va;
        vm_prot_t         access;
        enum fault_result result;
        enum fault_reason reason;
        bool              major;        /* resolved by reading swap */
};

struct vm_space_stats {
        uint64_t faults;                /* vm_fault() calls */
        uint64_t zero_maps;             /* zero page mapped for a read */
        uint64_t anon_allocs;           /* pages allocated by faults */
        uint64_t stack_growths;         /* stack extended by a fault */
        uint64_t cow_copies;            /* shared pages copied on write */
        uint64_t cow_reuses;            /* own unshared page made writable
                                         * in place (e.g. last sharer) */
        uint64_t cow_reuses_around;     /* ...and neighbours made writable
                                         * with it (vm_fault.c:reuse_around) */
};

/* One area as /proc/PID/maps shows it (vm_space_for_each_area()). */
struct vm_area_info {
        vaddr_t                 start, end;
        vm_prot_t               prot;
        unsigned                flags;          /* VM_AREA_* */
        bool                    shared;         /* MAP_SHARED: 's', else 'p' */
        /* What backs it: the file object (shared or private mapping), or
         * the shared anonymous object; NULL for private anonymous memory.
         * An opaque identity: compare it, never dereference it. */
        const struct vm_object *object;
        bool                    is_file;        /* object is a file */
        uint64_t                object_id;      /* object's serial, or 0 */
        uint64_t                offset;         /* bytes into object at start;
                                                 * 0 without object */
        const char             *name;           /* vm_object_set_name(), or
                                                 * NULL */
        bool                    is_stack;       /* holds stack_top - 1 */
        bool                    is_heap;        /* anonymous, meets
                                                 * [start_brk, brk) */
};

/*
 * An address space.
 * Locks: see the header comment. [m] map lock; [c] constant.
 */
struct vm_space {
        struct vm_area_tree   areas;            /* [m] keyed by start */
        struct pmap          *pmap;             /* [c] translation cache
                                                 * (its tables: [m], and
                                                 * pmap_lock) */
        vaddr_t               min, max;         /* [c] USER_MIN, USER_MAX */
        vaddr_t               mmap_base;        /* [m] top-down mmap below */
        vaddr_t               start_brk, brk;   /* [m] heap; brk unaligned */
        vaddr_t               stack_top;        /* [m] 0 until stack_init */
        uint64_t              stack_limit;      /* [m] bytes, rlimit-like */
        uint64_t              size_limit;       /* [m] bytes of areas a
                                                 * stack growth may reach
                                                 * (RLIMIT_AS) */
        uint64_t              max_areas;        /* [m] VM_MAX_AREAS */
        struct vm_fault_info  last_fault;       /* [m] */
        struct vm_space_stats stats;            /* [m], and atomic adds */
        bool                  thp_disabled;     /* [m] PR_SET_THP_DISABLE:
                                                 * inherited by fork, kept
                                                 * across exec */
        struct vm_space      *all_next;         /* [m] list of live spaces */
        uint64_t              serial;           /* [c] never reused: names
                                                 * the space for those that
                                                 * must outlive it
                                                 * (vm_space_by_serial) */
        /* Where exec put the argument and environment strings (Linux's
         * mm->arg_start...), for /proc/PID/cmdline and environ; 0 before. */
        vaddr_t               arg_start, arg_end;       /* [m] */
        vaddr_t               env_start, env_end;       /* [m] */
        vaddr_t               start_stack;      /* [m] initial stack pointer */
        vaddr_t               auxv_start;       /* [m] exec's auxiliary vector
                                                 * (core files' NT_AUXV) */
        uint64_t              nauxv;            /* [m] its pairs, AT_NULL too */
        vaddr_t               vdso_base;        /* [m] where exec put [vdso]
                                                 * (proc/vdso.h), 0: none */
        uint64_t              hiwater_rss;      /* [m] pages: largest RSS
                                                 * seen (vm_space_note_rss) */
        uint64_t              hiwater_vm;       /* [m] pages: largest size */
        unsigned              lock_future;      /* [m] VM_AREA_LOCKED(ONFAULT)
                                                 * for new areas: mlockall's
                                                 * MCL_FUTURE; not inherited */
        struct vm_guards      guards;           /* [m] MADV_GUARD_INSTALL's
                                                 * pages (vm_guard.h) */
        struct vm_guards      poison;           /* [m] UFFDIO_POISON's pages:
                                                 * SIGBUS on access; the same
                                                 * run set and rules as guards,
                                                 * but MADV_DONTNEED/FREE
                                                 * clear them (userfaultfd.h) */
        struct vm_guards      uffd_wp;          /* [m] UFFDIO_WRITEPROTECT's
                                                 * pages: a write is the
                                                 * context's while the area
                                                 * is registered WP (the same
                                                 * run set; MADV_DONTNEED
                                                 * clears them, registering
                                                 * WP clears what was left) */
        /* The door between the big kernel lock and the lock-free faults:
         * the low 16 bits count lock-free faults inside the space, the
         * rest how many times the big lock's holder has entered it. */
        uint32_t              door;             /* [a] */
        /* Areas the door's writer took out of the tree (an unmap without
         * the big lock, vm_space_unmap_nolock), chained by next, still
         * holding their pages and references: the big lock's holder lets
         * them go (vm_space_parked_free). [m] with s entered, or the
         * door's writer. */
        struct vm_area       *parked;
        struct spinlock       fault_lock;       /* lock-free faults among
                                                 * themselves: new radix
                                                 * nodes (rank 22) */
        struct spinlock       pmap_lock;        /* ...and new tables
                                                 * (rank 26; never held
                                                 * with fault_lock) */
};

/*
 * The big kernel lock's holder enters a space before it reads or changes
 * what a lock-free fault may change at the same time (the areas' objects'
 * slots, the pmap, stats) and leaves it after; entering waits for the
 * lock-free faults already inside to finish and keeps new ones out, and
 * waits for the space's writer without the lock (below) if one is in.
 * Entries nest (a count); s may be NULL (nothing). Only the big lock's
 * holder enters, so entries never wait for each other.
 */
void vm_space_enter(struct vm_space *s);
void vm_space_leave(struct vm_space *s);
bool vm_space_entered(const struct vm_space *s);
/*
 * The door's other writer: a memory call of one of s's threads that runs
 * without the big kernel lock (vm_space_protect_nolock) holds s's areas
 * and tables alone between these two, as an entry does. It gets in only
 * when nobody else is in: no entry, no other such writer, no door shut
 * for every space; it waits a while for them (answering cross-CPU calls)
 * and otherwise says false, and the call takes the big lock's path. An
 * entry that comes meanwhile waits for it to leave. It holds no spinlock
 * and never waits for the big lock while in.
 */
bool vm_space_write_enter(struct vm_space *s);
void vm_space_write_leave(struct vm_space *s);
/* Enter every space at once (reclaim, swapoff: changes to pages of any
 * space, found through the reverse map; the removal of a page from an
 * object that areas map shared or as their file: vm_object.c,
 * doors_shut_for); nests with the rest. vm_space_all_shut: whether the
 * big lock's holder has. */
void vm_space_enter_all(void);
void vm_space_leave_all(void);
bool vm_space_all_shut(void);

/*
 * The fault path's lock-free part (vm_fault.c), for a user-mode fault,
 * called with interrupts off and without the big kernel lock, for
 * private anonymous memory in an area without userfaultfd, huge pages,
 * locking or guards: (1) a write where there is no page yet (neither
 * resident nor on swap) and no translation, and no memory group's limit
 * to enforce: it allocates a zeroed page, puts it in the area's object
 * and maps it; (2) a read of an area with no object yet: the zero page,
 * read-only; (3) a fault where the object has a page and the tables
 * none (a fork's child): the page mapped, read-only unless a write could
 * reuse it (a write to a shared one is a copy: declined); (4) a write to
 * the object's own page mapped read-only that nobody else holds any
 * more (a fork's child has gone): writable in place, with the
 * neighbours reuse-around would take; and (5) a read or an instruction
 * fetch, with no translation, of a page a file's or shared memory's
 * object holds in its page cache, in a shared area or a private one
 * over the file without pages of its own (not a disk file's: its pages
 * enter the object before they are read): the page mapped with its
 * window. Each as vm_fault() would.
 * => true: done (the access may be retried); false: nothing done, take
 *    the big lock and call vm_fault_user() (every other case, or someone
 *    has entered the space, or no memory without reclaim).
 */
bool vm_fault_nolock(struct vm_space *s, vaddr_t va, vm_prot_t access);
extern bool vm_fault_nolock_enabled;    /* boot option nolockfault=0 */

/*
 * A new, empty address space (its pmap shares the kernel half).
 * => allocates the zero page on first use.
 * => VM_ENOMEM if the struct, the pmap or the zero page ran out; nothing
 *    is left allocated.
 */
vm_status_t vm_space_create(struct vm_space **out);

/* The live space whose serial is serial, or NULL once it is destroyed
 * (a userfaultfd context names its space so). => O(spaces). */
struct vm_space *vm_space_by_serial(uint64_t serial);

/*
 * Transparent huge pages (vm_fault.c; CONCEPTS: Linux's THP; shared
 * memory's have a policy of their own: vm_object.h, vm_shmem_huge). A
 * write fault in private anonymous memory whose aligned pmap_huge_size()
 * block lies
 * wholly inside an eligible area and holds no page yet takes a whole
 * physically contiguous block (order 9 on x86-64) and maps it with one
 * large translation; otherwise, or without such a block, 4 KiB as before.
 * The object still holds 4 KiB pages (split allocations), so every other
 * operation sees ordinary pages: a partial munmap, mprotect, madvise or a
 * copy-on-write only splits the translation (pmap PMAP_DEMOTE).
 * The policy is Linux's transparent_hugepage/enabled: never, madvise (only
 * MADV_HUGEPAGE areas; Mercator's default, as Debian's host here) or always
 * (every private anonymous area but MADV_NOHUGEPAGE ones); kernel command
 * line transparent_hugepage=always|madvise|never, and root may change it
 * in /sys/kernel/mm/transparent_hugepage/enabled (fs/sysfs_mm.c).
 * vm_thp_defrag is that directory's defrag: when no free block is there,
 * a fault whose area the setting names (always: all; madvise and
 * defer+madvise: MADV_HUGEPAGE areas; Mercator's default madvise, as
 * Linux's) reclaims a huge page's worth of memory and tries once more;
 * the others take 4 KiB pages at once (defer: the background reclaim at
 * the return to user mode runs anyway, there is nothing to wake).
 */
enum vm_thp_policy { VM_THP_ALWAYS, VM_THP_MADVISE, VM_THP_NEVER };
extern enum vm_thp_policy vm_thp_policy;
enum vm_thp_defrag {
        VM_THP_DEFRAG_ALWAYS, VM_THP_DEFRAG_DEFER, VM_THP_DEFRAG_DEFER_MADVISE,
        VM_THP_DEFRAG_MADVISE, VM_THP_DEFRAG_NEVER,
};
extern enum vm_thp_defrag vm_thp_defrag;
/* transparent_hugepage/use_zero_page: may a read of an empty eligible huge
 * block map the huge zero page (vm_object.h)? Default yes, as Linux. */
extern bool vm_thp_use_zero_page;

/* May area a of space s get huge pages (smaps THPeligible)? */
bool vm_area_thp_eligible(const struct vm_space *s, const struct vm_area *a);

/* Does a huge translation already allow access at va? Then *end: its end.
 * (Populating must skip it: a fault raised there would only split it.) */
bool vm_space_huge_allows(struct vm_space *s, vaddr_t va, vm_prot_t access,
                          vaddr_t *end);

/* Huge translations of s inside [start, end) (smaps AnonHugePages). */
uint64_t vm_space_huge_pages(struct vm_space *s, vaddr_t start, vaddr_t end);

/* Huge translations in every live space (meminfo AnonHugePages). */
uint64_t vm_spaces_huge_pages(void);

/*
 * Where a shared-memory mapping of len bytes whose first page is object
 * index pgoff could use huge pages (Linux's shmem_get_unmapped_area for
 * tmpfs, memfd, shared anonymous memory and SysV segments): an address
 * whose offset in a huge page is pgoff's, with room for len, found as mmap
 * would find len plus a huge page. 0: len under a huge page (or too short
 * past an unaligned offset to hold an aligned block), or no room.
 * The caller maps there with VM_MAP_FIXED_NOREPLACE.
 */
vaddr_t vm_space_huge_place(struct vm_space *s, uint64_t len, uint64_t pgoff);

/* Shared memory's huge translations (vm_object.h, shmem THP): those of
 * area a of s (smaps ShmemPmdMapped), and the huge blocks some space maps
 * with one (meminfo ShmemPmdMapped: each block once, however many map
 * it, as Linux counts NR_SHMEM_PMDMAPPED). */
uint64_t vm_area_shmem_pmd_mapped(struct vm_space *s, const struct vm_area *a);
uint64_t vm_spaces_shmem_pmd_mapped(void);

/* May shared area a of s get huge pages (smaps THPeligible for shared
 * memory; Linux's hugepage_vma_check for shmem: the area holds an aligned
 * huge block whose object indices are aligned, and the policy allows one
 * at the area's first index)? */
bool vm_area_shmem_thp_eligible(const struct vm_space *s,
                                const struct vm_area *a);

/*
 * Tear a space down: every area, every page its private and last-referenced
 * shared objects hold (a page still shared with another space after fork
 * stays with it), every page-table page, the descriptor.
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
 * => VM_EACCES: write asked for a shared mapping of a (read-only) file.
 * => VM_ENOMEM: part of the range is not mapped (Linux's ENOMEM), the
 *    area limit would be exceeded, or no descriptor could be had.
 * => unlike Linux, which changes the areas before a hole and then fails,
 *    a failure here leaves the space as it was.
 */
vm_status_t vm_space_protect(struct vm_space *space, vaddr_t start,
                             uint64_t len, vm_prot_t prot);

/*
 * vm_space_protect by one of s's threads without the big kernel lock,
 * as the door's writer (vm_space_write_enter), for the common change
 * that only rewrites whole areas' protection and translations (no split,
 * no merge, no commit charge moved; not mlocked, explicit huge page or
 * userfaultfd areas): flips of whole mappings, as a JIT's buffers or
 * make bench's mprotect figure make. The answer is then VM_OK.
 * => false: nothing changed; call vm_space_protect under the lock (any
 *    other change, an error to report, or the door busy a while).
 */
bool vm_space_protect_nolock(struct vm_space *s, vaddr_t start, uint64_t len,
                             vm_prot_t prot);

/*
 * vm_space_unmap by one of s's threads without the big kernel lock, as
 * the door's writer, for the common unmap of whole private anonymous
 * areas (no split; no file, shared, mlocked, special, userfaultfd or
 * explicit huge page area; no swap entries in their objects; no guard
 * runs in the range) or of nothing at all: free(3) of a large block, a
 * thread's stack at join. The translations go, with their shootdown
 * round, and the areas leave the tree at once, so the range is free and
 * an access there faults; the areas themselves, their pages and their
 * references wait on s->parked for the big lock's holder, which lets
 * them go at the next entry of one of s's threads (proc_space_enter),
 * in reclaim (vm_reclaim) and at s's end (the space checker counts
 * their pages as their object's meanwhile). The answer is VM_OK.
 * => false: nothing changed; call vm_space_unmap under the lock.
 */
bool vm_space_unmap_nolock(struct vm_space *s, vaddr_t start, uint64_t len);
/*
 * vm_space_map by one of s's threads without the big kernel lock, as the
 * door's writer, for the common mmap: private anonymous memory
 * (VM_MAP_PRIVATE, VM_MAP_NORESERVE allowed, nothing else) at a place
 * the space finds (hint only a hint), whose commit charge the policy
 * allows without comparing with the count (modes 0 and 1), in a space
 * without mlockall(MCL_FUTURE) and below its area limit; a merge with a
 * neighbour is done unless it would merge two objects' areas (a
 * reference to let go) or leave a neighbour's object over a parked area
 * anywhere in the merged range (whose pages are still that object's:
 * vm_space.c, merge_nolock_ok). The area gets its object at
 * its first write, as every new private area does.
 * => true, *out: where it went.
 * => false: nothing changed; call vm_space_map under the lock.
 */
bool vm_space_map_nolock(struct vm_space *s, vaddr_t hint, uint64_t len,
                         vm_prot_t prot, unsigned flags, vaddr_t *out);
/* Let s's parked areas go (s may be NULL): the big lock's holder, with s
 * entered and no page of them in hand. ...every space's: with every
 * door shut (vm_space_enter_all). */
void vm_space_parked_free(struct vm_space *s);
void vm_spaces_parked_free(void);
/* Does a parked area of s using obj cover va (the checkers: its pages
 * are still obj's)? */
bool vm_space_parked_covers(const struct vm_space *s,
                            const struct vm_object *obj, vaddr_t va);

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

/* Set the size the space's areas may reach by stack growth (RLIMIT_AS;
 * the default is no limit). mmap, mremap and brk are checked by their
 * callers before they ask; a fault that would grow the stack past it is
 * a SIGSEGV, as Linux's may_expand_vm in acct_stack_growth. */
void vm_space_set_size_limit(struct vm_space *space, uint64_t bytes);

/*
 * vm.max_map_count: how many areas a space may have (VM_MAX_AREAS at
 * boot). Setting it applies to every space at once, as Linux's global
 * sysctl: a space above a lowered limit keeps its areas, and a call that
 * would add one (a map, a split) is refused as at the limit.
 */
uint64_t vm_max_map_count(void);
void vm_set_max_map_count(uint64_t n);

/*
 * mmap of a file: as vm_space_map(), but the pages come from file object
 * `file` (vm_object_create_file()) from byte `offset` on. Private: reads
 * see the file's pages (shared with every other mapping of it), the first
 * write of a page copies it into this space. Shared: every mapping reads
 * the same frames; files are read-only, so no shared mapping may be
 * writable. An access to a page wholly past the file's end is FAULT_BUS
 * (the last page's tail past the end reads as zeroes), as Linux. The area
 * takes its own references to file: the caller keeps its own.
 * => VM_EINVAL: as vm_space_map(), and offset not page-aligned, file not a
 *    file object, or offset + len past 2^63 - 1 (Linux: EOVERFLOW).
 * => VM_EACCES: SHARED with VM_PROT_WRITE (Linux: EACCES for a file open
 *    read-only), checked after placement as Linux does; and as
 *    vm_space_map() (FIXED below min).
 * => VM_ENOMEM, VM_EEXIST: as vm_space_map(). Failures change nothing.
 */
vm_status_t vm_space_map_file(struct vm_space *space, vaddr_t hint,
                              uint64_t len, vm_prot_t prot, unsigned flags,
                              struct vm_object *file, uint64_t offset,
                              vaddr_t *out);

/*
 * Map an existing shared anonymous object (a SysV shm segment) from its
 * page 0, as vm_space_map() places and replaces (FIXED, FIXED_NOREPLACE).
 * Every mapping of obj shares its pages; the area takes its own reference.
 * Without VM_MAP_MAYWRITE the area may never become writable (mprotect:
 * VM_EACCES), as a SHM_RDONLY attachment on Linux.
 * => flags include VM_MAP_SHARED; obj is anonymous; else VM_EINVAL.
 * => VM_EINVAL, VM_ENOMEM, VM_EEXIST, VM_EACCES: as vm_space_map().
 */
vm_status_t vm_space_map_object(struct vm_space *space, vaddr_t hint,
                                uint64_t len, vm_prot_t prot, unsigned flags,
                                struct vm_object *obj, vaddr_t *out);

/*
 * Remove, from every live space, the translations of pages [first, end)
 * of object obj: shared mappings of it, and private mappings reading it
 * as their backing file. With even_cows (truncate), the private copies
 * those mappings made of the pages go as well (Linux's even_cows), so a
 * later access past the new end is SIGBUS everywhere; without (a hole
 * punched), a private copy stays. Called before the object frees the
 * pages (which unmaps the range again with every door shut, for the
 * translations lock-free read faults made meanwhile). Each space is
 * entered while its tables change. Cost: the object's mapper areas
 * (vm_object.mappers).
 */
void vm_spaces_unmap_object(const struct vm_object *obj, uint64_t first,
                            uint64_t end, bool even_cows);

/* Call fn for every live space; stops when fn returns false. */
void vm_spaces_for_each(bool (*fn)(void *arg, struct vm_space *s), void *arg);

/* Areas in all spaces that map obj (shared, or private over it as backing
 * file); with `writable`, only shared writable ones (memfd's SEAL_WRITE). */
uint64_t vm_spaces_count_mappings(const struct vm_object *obj, bool writable);

/*
 * fork: a copy of parent, copy-on-write. Private memory: the child gets
 * objects of its own holding the parent's pages (each page's refcount
 * counts both), and the parent's writable translations of them become
 * read-only, so the first write on either side copies the page and a
 * write by the last holder just makes it writable again. Shared memory
 * (anonymous or file) stays shared: the child's areas use the same
 * objects. brk, stack and mmap bookkeeping are copied; statistics and
 * last_fault start at zero.
 * Page tables: the child's pmap starts empty and fills on faults (a pmap
 * is a cache): fork and exit cost no page-table pages, and fork followed
 * by exec or exit - the common case - never pays for translations it
 * would throw away; a child that touches everything takes one minor fault
 * per page instead.
 * Cost: O(areas + resident pages + the parent's page tables), never the
 * size of the address range.
 * => *child: the new space (on VM_OK only).
 * => VM_ENOMEM if any allocation failed: the parent is exactly as before
 *    (translations included) and everything of the child is freed.
 */
vm_status_t vm_space_fork(struct vm_space *parent, struct vm_space **child);

/*
 * mremap(old, old_len, new_len, flags, new_addr), Linux's rules; lengths
 * are rounded up to pages. *out gets the new address (on VM_OK only).
 *   - without FIXED: new_len == old_len returns old; a shrink unmaps
 *     [old + new_len, old + old_len) (as munmap: holes are fine); a growth
 *     needs [old, old + old_len) inside one area and extends it in place
 *     when it ends at the area's end and the space after it is free, else
 *     with MAYMOVE moves it where mmap(NULL) would put new_len bytes;
 *   - FIXED (needs MAYMOVE) moves it to new_addr, replacing what is there;
 *     new_len < old_len unmaps the rest of the old range first;
 *   - DONTUNMAP (needs MAYMOVE and new_len == old_len) always moves, to
 *     new_addr with FIXED, and leaves the old range mapped: a private
 *     area's pages went to the new place, so it reads zeroes (or its file)
 *     again; its userfaultfd registration stays (the new place has none);
 *   - old_len 0 on a shared area (with MAYMOVE) maps the same pages a
 *     second time at the new place ("duplicate"), leaving the old mapping;
 *   - a move keeps the contents without copying them: private pages are
 *     relinked at their new addresses, shared and file areas keep their
 *     objects; translations are re-made by faults. Growth reads zeroes
 *     (private anonymous), the file (file), or faults FAULT_BUS past a
 *     shared object's size (Linux: SIGBUS past the shmem size).
 * => VM_EINVAL: unknown flags; old or (FIXED) new_addr misaligned; new_len
 *    0; FIXED without MAYMOVE; DONTUNMAP without MAYMOVE, with new_len !=
 *    old_len or on a [vdso]-like special area; FIXED ranges overlapping, or the new one
 *    beyond max; old_len 0 on a private area; page offsets overflowing.
 * => VM_EFAULT: no area at old; growing or moving [old, old + old_len)
 *    that is not wholly inside one area.
 * => VM_ENOMEM: cannot grow in place without MAYMOVE; no room to move to;
 *    the area limit (moves keep 3 areas of headroom, as Linux's 4); no
 *    memory.
 * => VM_EACCES: FIXED below min (Linux: EPERM).
 * => any failure leaves the space as it was (Linux unmaps the FIXED
 *    destination before its last checks).
 */
vm_status_t vm_space_remap(struct vm_space *space, vaddr_t old,
                           uint64_t old_len, uint64_t new_len, unsigned flags,
                           vaddr_t new_addr, vaddr_t *out);

/*
 * madvise(start, len, advice) for the advice vm_advice_supported() names:
 *   DONTNEED  drop this space's pages of the range now: private anonymous
 *             memory reads zeroes afterwards, a private file mapping the
 *             file again, shared memory keeps its pages in the object and
 *             is only unmapped from this space;
 *   FREE      as DONTNEED (freeing at once is one of the behaviours Linux
 *             allows), private anonymous areas only;
 *   REMOVE    punch a hole in the shared object behind a writable shared
 *             mapping (shared anonymous memory, a tmpfs file): its pages
 *             leave every space and are freed, later reads see zeroes;
 *   WILLNEED  file-backed areas: read the file's pages of the range into
 *             the file object now (not mapped; a hint: memory shortage
 *             stops it silently); anonymous memory: nothing (Linux only
 *             reads swap back, and there is no swap);
 *   COLD      the pages this space maps in the range lose their accessed
 *             bits here and go to the inactive lists (vm_reclaim.h);
 *   PAGEOUT   those this space alone maps are reclaimed now if clean
 *             (rmap_evict_clean), the others made cold; without swap,
 *             anonymous and dirty pages stay;
 *   GUARD_INSTALL  make the pages guard pages (vm_guard.h): their
 *             translations and private pages go (as DONTNEED), then any
 *             access faults with SIGSEGV (SEGV_MAPERR) and system calls
 *             reading or writing them fail with EFAULT, until
 *   GUARD_REMOVE  makes them ordinary pages again (private anonymous
 *             memory reads zeroes, a file mapping the file);
 *   DONTDUMP, DODUMP  set or clear VM_AREA_DONTDUMP (core files leave
 *             the area out), splitting and merging as Linux; DODUMP on
 *             the kernel's own areas ([vdso], [vvar]) is EINVAL;
 *   NORMAL, RANDOM, SEQUENTIAL  set the area's VM_AREA_RANDOM /
 *             VM_AREA_SEQUENTIAL hint, splitting and merging areas as
 *             Linux does (so /proc/PID/maps agrees); no other effect, as
 *             there is no read-ahead to tune.
 * Holes in the range: the advice applies to the mapped parts and the
 * result is VM_ENOMEM, as Linux.
 * => VM_OK for len 0 (after the checks below).
 * => VM_EINVAL: unsupported advice; start misaligned; len wraps; FREE on
 *    an area that is not private anonymous, or DONTNEED, FREE, REMOVE,
 *    COLD, PAGEOUT or GUARD_INSTALL over a locked area (then nothing
 *    changed); GUARD_INSTALL or GUARD_REMOVE over [vdso]/[vvar] (the
 *    areas before it were done, as Linux).
 * => VM_EACCES: REMOVE on an area that is not shared and writable (the
 *    areas before it had their holes punched, as Linux).
 * => VM_ENOMEM: a hole (see above); a split would exceed the area limit or
 *    found no descriptor (then nothing changed).
 * => VM_EPERM: discarding advice on sealed read-only private anonymous
 *    memory (mseal; nothing changed).
 */
vm_status_t vm_space_advise(struct vm_space *space, vaddr_t start,
                            uint64_t len, int advice);

/*
 * mseal(start, len, flags) (Linux 6.10): seal the areas of the range
 * (VM_AREA_SEALED, split at the ends): from then on munmap, mremap and
 * mprotect of them, MAP_FIXED over them and discarding madvise of their
 * read-only private anonymous memory are VM_EPERM, for the life of the
 * space (fork keeps it; exec's new space has none).
 * => VM_EINVAL: flags not 0, start misaligned, the range wraps;
 *    VM_ENOMEM: a hole in the range, or no descriptor for a split
 *    (nothing changed); VM_OK for len 0.
 */
vm_status_t vm_space_seal(struct vm_space *s, vaddr_t start, uint64_t len,
                          unsigned long flags);

/*
 * Call fn(arg, info) for each area in address order, as /proc/PID/maps
 * lists them; stops early, returning false, when fn returns false.
 * => fn must not change the space.
 */
bool vm_space_for_each_area(struct vm_space *space,
                            bool (*fn)(void *arg,
                                       const struct vm_area_info *info),
                            void *arg);

/*
 * The area containing va, or NULL (for /proc/PID/maps and the like).
 * => the result is valid until the next change to the space; iterate
 *    with vm_area_next(). O(log n).
 */
const struct vm_area *vm_space_lookup(struct vm_space *space, vaddr_t va);

/*
 * Fault every page of [start, start + len) in, as mlock does: a write
 * fault in a writable private area (its own copy now), a read fault
 * elsewhere; areas without any access (PROT_NONE) are passed over. The
 * pages stay while the range is mlocked (reclaim skips them).
 * => start and len page-aligned; len 0 does nothing.
 * => VM_ENOENT: a hole in the range (found before anything is faulted).
 *    VM_EFAULT: a page could not be brought in (past a file's end).
 *    VM_ENOMEM: memory ran short. The pages faulted before stay.
 *    VM_EINVAL: misaligned or wrapping.
 */
vm_status_t vm_space_populate(struct vm_space *space, vaddr_t start,
                              uint64_t len);

/*
 * Mark [start, start + len) locked (lock = VM_AREA_LOCKED, with
 * VM_AREA_LOCKONFAULT for mlock2's MLOCK_ONFAULT) or unlocked (lock = 0),
 * splitting and merging areas as mprotect does: the flags of mlock and
 * munlock. Bringing the pages in is the caller's (vm_space_populate).
 * A locked area refuses MADV_DONTNEED, FREE and REMOVE (VM_EINVAL); a
 * fork does not pass the lock on. The reverse map refuses to unmap or
 * evict a page a locked area maps (rmap_unmap, rmap_evict_clean:
 * VM_EBUSY), so locked pages stay resident under reclaim.
 * => start and len page-aligned; len 0 does nothing.
 * => VM_ENOMEM: a hole in the range (found before anything changed; Linux
 *    would lock the areas before the hole), or a split exceeding the
 *    area limit. VM_EINVAL: misaligned or wrapping.
 */
vm_status_t vm_space_set_lock(struct vm_space *space, vaddr_t start,
                              uint64_t len, unsigned lock);

/* Every area's lock becomes `lock` (mlockall's MCL_CURRENT, munlockall);
 * areas that now match merge. Cannot fail: no area is split. */
void vm_space_set_lock_all(struct vm_space *space, unsigned lock);

/* Bring in the pages of every area locked (not on fault), as after
 * mlockall: what cannot be brought in (PROT_NONE, past a file's end,
 * memory short) is passed over, as Linux's mm_populate there. */
void vm_space_populate_locked(struct vm_space *space);

/* Pages in locked areas, mapped or not (Linux's locked_vm: VmLck). */
uint64_t vm_space_locked_pages(struct vm_space *space);

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
 *   - the area forbids the access, judged by what the MMU would allow
 *     under the area's protection (pmap_prot_implied(): on x86 any
 *     accessible page is readable): exec on non-exec = NX, write on
 *     non-writable, anything on PROT_NONE: FAULT_SEGV (PROT);
 *   - a read of private memory never written maps the shared zero page
 *     read-only (a private file mapping: the file's page, read-only); a
 *     write makes a page of the area's own (zeroes, or a copy of the
 *     file's page) and maps it; a write to a page shared since fork copies
 *     it, unless no one else holds it any more: then it is made writable
 *     in place; any access to shared memory maps the object's page;
 *   - past the end of a file (or of a shared object grown by mremap):
 *     FAULT_BUS (BEYOND_OBJECT);
 *   - FAULT_OOM if a page, radix node, object or page-table page could not
 *     be had (what was done so far stays valid: nothing leaks).
 *   - a missing page of an area registered with a userfaultfd context
 *     goes to the context (vm/userfaultfd.h), which may sleep until the
 *     page is filled and says what the access does next.
 * => records the outcome in space->last_fault. Sleeps only for a
 *    userfaultfd context.
 * vm_fault is for the kernel's own accesses (copy_*_user), vm_fault_user
 * for an access made in user mode (a context may tell them apart).
 */
enum fault_result vm_fault(struct vm_space *space, vaddr_t va,
                           vm_prot_t access);
enum fault_result vm_fault_user(struct vm_space *space, vaddr_t va,
                                vm_prot_t access);

/*
 * Copy len bytes between buf (kernel memory) and the space at va, page by
 * page, as Linux's access_remote_vm(): for another process's system call
 * (process_vm_readv/writev) or /proc/PID/mem. Pages are found or made as a
 * fault would (a write copies a page shared since fork, and the space's
 * old translation of it is removed), but no translation is entered and
 * no stack grows. force (Linux's FOLL_FORCE, for /proc/PID/mem) also
 * writes a private area that forbids writing - the page is copied, so the
 * file and other sharers keep theirs - and reads an area that forbids
 * reading; a shared area that forbids writing is never written.
 * => *done: the bytes copied before the first page that failed.
 * => VM_OK if any byte was copied; else VM_EFAULT (no area, the access is
 *    not allowed, past the object's end) or VM_ENOMEM.
 */
vm_status_t vm_space_access(struct vm_space *space, vaddr_t va, void *buf,
                            size_t len, bool write, bool force, size_t *done);

/*
 * A user-mode page fault as this architecture's Linux handles it: the trap
 * code (and the host's simulated CPU) call this, not vm_fault(), which it
 * wraps. Each architecture supplies it (kernel/arch/<arch>/); where its
 * Linux orders things differently from vm_fault()'s plain check, the
 * difference lives there (x86: a fetch from an accessible page without
 * exec is first faulted in as a read, so past a file's end it is
 * FAULT_BUS, not FAULT_SEGV).
 * => what vm_fault() returns, with space->last_fault describing the access
 *    as attempted.
 */
enum fault_result machine_user_fault(struct vm_space *space, vaddr_t va,
                                     vm_prot_t access);
/* What backs one page of an area, as /proc reports it (smaps, pagemap). */
enum vm_page_kind {
        VM_PAGE_NONE,           /* nothing resident for this address */
        VM_PAGE_ZERO,           /* the zero page, mapped for a read */
        VM_PAGE_ANON,           /* a private page of the space's own */
        VM_PAGE_FILE,           /* a read-only file's page (initramfs) */
        VM_PAGE_SHMEM,          /* a shared anonymous object's page, or a
                                 * page-cache (tmpfs, memfd) page */
        VM_PAGE_SWAPPED,        /* a private page of the space's own, in
                                 * swap (swap says where) */
};

struct vm_page_info {
        enum vm_page_kind kind;
        struct vm_page   *page;         /* NULL for NONE and ZERO */
        const struct vm_object *object; /* the object holding page */
        uint64_t          index;        /* page's index in object */
        bool              mapped;       /* the pmap has a translation */
        paddr_t           pa;           /* the frame (0 for NONE) */
        unsigned          ad;           /* PMAP_AD_* of the translation */
        uint64_t          swap;         /* SWAPPED: its swap entry */
};

/*
 * What backs va (inside area a of space): a private area's own page
 * (resident whether or not the pmap caches its translation: the object
 * is the truth), else what the pmap maps there (the file's page or the
 * zero page); a shared area's object page if the pmap maps it (pages
 * this space never touched are another's resident set, as Linux counts).
 * => a is in space, a->start <= va < a->end. Changes nothing.
 */
void vm_space_page_info(struct vm_space *space, const struct vm_area *a,
                        vaddr_t va, struct vm_page_info *out);

/*
 * mincore's question for the pages from va on: vec[i] = 1 if page
 * va + i * PAGE_SIZE is resident, else 0. Resident: the pmap maps it (the
 * zero page too), or the object that would supply it holds it - the
 * area's own object (a private copy, a shared object's page) or, for a
 * private file mapping, the file's page cache - whether or not this space
 * ever touched it, as Linux asks the page cache. Answers at most max pages
 * and stops at the end of the area holding va.
 * => va page-aligned; vec has room for max bytes; max >= 1.
 * => the number of bytes written (>= 1), or 0 if no area holds va
 *    (mincore: ENOMEM). Changes nothing.
 */
uint64_t vm_space_residency(struct vm_space *space, vaddr_t va, uint64_t max,
                            uint8_t *vec);

/* A short English name for a reason ("protection"); "?" if unknown. */
const char *vm_fault_reason_name(enum fault_reason reason);

/*
 * Verify invariants 1-5 above (cost: O(pages the areas span)).
 * => true if they hold; else prints the first violation, returns false.
 */
bool vm_space_check(struct vm_space *space);

#endif
