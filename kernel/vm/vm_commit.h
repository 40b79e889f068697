/*
 * vm_commit.h - commit accounting and the overcommit policy, as Linux's
 * (mm/util.c __vm_enough_memory, mm/mmap.c accountable_mapping, VM_ACCOUNT;
 * CONCEPTS F33).
 *
 * A page is "committed" when the kernel has promised a process memory it
 * may write without a file to fall back on: the pages of private writable
 * areas (VM_AREA_ACCOUNT: private mappings made writable, brk, the stack),
 * and the whole of a shared anonymous object (MAP_SHARED|MAP_ANONYMOUS,
 * a SysV segment) from its creation. MAP_NORESERVE (SHM_NORESERVE) opts
 * out, except under the strict policy, which ignores it. The sum is
 * /proc/meminfo's Committed_AS; it counts promises, not resident pages.
 *
 * Where the charges live: an area's pages are charged while the area is
 * in a tree with VM_AREA_ACCOUNT (vm_area.c keeps tree->committed and
 * calls vm_commit_add/vm_commit_sub as areas come, go, split, merge and
 * grow), so munmap, exit, mremap and fork move the charge by construction;
 * a shared anonymous object carries its own charge (vm_object.committed),
 * given back when its last reference goes. The policy is asked first
 * (vm_commit_check) by every operation that would add to the sum: mmap,
 * brk, stack growth, mremap growth, mprotect making private memory
 * writable, fork, shmget; a refusal is VM_ENOMEM and changes nothing.
 *
 * Policy (vm.overcommit_memory): 0, heuristic (Linux's default, and
 * Mercator's): refuse only one request larger than RAM + swap; 1, always;
 * 2, never overcommit: the sum may not reach CommitLimit = swap + RAM *
 * overcommit_ratio / 100 (or overcommit_kbytes when set), less the admin
 * reserve for callers without CAP_SYS_ADMIN and min(size / 32, the user
 * reserve) for a process of that size.
 *
 * Locks: a charge, and the check before it, is made under the big kernel
 * lock, so the two are not separated. The count itself changes by
 * atomics: a call without the lock may give pages back (an unmap by the
 * door's writer, vm_space.c), which at worst makes a check under way
 * stricter than it had to be.
 */
#ifndef VM_VM_COMMIT_H
#define VM_VM_COMMIT_H

#include <mercator/status.h>
#include <mercator/types.h>
#include <vm/pmap.h>

struct vm_object;
struct vm_space;

#define VM_OVERCOMMIT_GUESS     0       /* Linux's OVERCOMMIT_GUESS */
#define VM_OVERCOMMIT_ALWAYS    1
#define VM_OVERCOMMIT_NEVER     2

/* The policy's tunables, /proc/sys/vm's names. */
struct vm_commit_policy {
        int      overcommit_memory;     /* VM_OVERCOMMIT_*; default GUESS */
        int      overcommit_ratio;      /* percent of RAM; default 50 */
        uint64_t overcommit_kbytes;     /* when non-zero, replaces ratio */
        uint64_t admin_reserve_kbytes;  /* kept from non-admins in mode 2 */
        uint64_t user_reserve_kbytes;   /* cap of the per-process reserve */
};

extern struct vm_commit_policy vm_commit_policy;

/* Pages committed now (Committed_AS). */
uint64_t vm_committed_pages(void);

/* Pages mode 2 allows in all (CommitLimit): swap + RAM * ratio / 100, or
 * overcommit_kbytes. */
uint64_t vm_commit_limit(void);

/*
 * At boot: nothing committed; the reserves as Linux sets them (min(3% of
 * free memory, 8 MiB) and min(3%, 128 MiB)); and the question "is the
 * caller an admin?" (NULL: always so; the host tests).
 */
void vm_commit_init(bool (*caller_is_admin)(void));

/*
 * May npages more be committed for space s (NULL: not for a process)?
 * => VM_OK, or VM_ENOMEM as the policy says; nothing is charged.
 */
vm_status_t vm_commit_check(const struct vm_space *s, uint64_t npages);

/*
 * fork's question: may the child's copies of s's charged areas be
 * committed? Linux asks per area (mode 0 compares each area alone).
 * => VM_OK or VM_ENOMEM; nothing is charged.
 */
vm_status_t vm_commit_check_fork(const struct vm_space *s);

/*
 * A new shared anonymous object of npages (MAP_SHARED|MAP_ANONYMOUS, a
 * SysV segment) for space s (NULL: none), charged whole unless noreserve
 * (then page by page: vm_commit_noreserve_quota); the charge goes with
 * its last reference (vm_object_unref).
 * => VM_OK with *out set; VM_ENOMEM if the policy refuses or memory ran
 *    out (nothing charged).
 */
vm_status_t vm_commit_shared_object(const struct vm_space *s, uint64_t npages,
                                    bool noreserve, struct vm_object **out);

/* Is this private area (its flags and protection) charged when mapped?
 * Linux's accountable_mapping: writable, not NORESERVE. */
bool vm_commit_accountable(unsigned area_flags, vm_prot_t prot);

/*
 * Page-by-page charges, as Linux's shmem_acct_block for its VM_NORESERVE
 * files (every tmpfs file and memfd, shared anonymous memory mapped
 * MAP_NORESERVE outside mode 2): the pages (resident, swapped or dropped
 * clean) of the objects charged to a registered budget (vm_object.h's
 * struct vm_quota with .commit) count in the commit count while they
 * are held, and a new one must pass the policy - in mode 2 only: one
 * page at a time never exceeds RAM + swap (mode 0). A refusal is the
 * budget's (VM_ENOSPC: write() and fallocate ENOSPC, a fault SIGBUS, as
 * Linux's shmem_inode_acct_block).
 */
struct vm_quota;
void vm_commit_quota_register(struct vm_quota *q);
void vm_commit_quota_unregister(struct vm_quota *q);
/* May npages more be charged page by page? */
bool vm_commit_pages_room(uint64_t npages);
/* The budget of shared anonymous objects made with noreserve. */
extern struct vm_quota vm_commit_noreserve_quota;

/* The charge itself: only vm_area.c (areas) and the owners of shared
 * anonymous objects call these. */
void vm_commit_add(uint64_t npages);
void vm_commit_sub(uint64_t npages);

/* Does the policy honour MAP_NORESERVE now (every mode but NEVER)? */
static inline bool vm_commit_noreserve_ok(void)
{
        return vm_commit_policy.overcommit_memory != VM_OVERCOMMIT_NEVER;
}

#endif
