/*
 * vm_commit.c - the commit counter and the overcommit policy (see
 * vm_commit.h).
 *
 * Owns: the global count of committed pages and the policy's tunables.
 * Does not decide what is charged: vm_space.c, vm_remap.c, vm_fork.c,
 * vm_fault.c and shm.c ask vm_commit_check() before an operation that adds
 * charged pages, and the area tree (vm_area.c) and shared anonymous
 * objects add and remove the charge as they come and go.
 * Invariant: the count is the sum of every tree's committed pages and
 * every live shared anonymous object's charge (host tests check it).
 */
#include <mercator/panic.h>
#include <vm/pmm.h>
#include <vm/swap.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

struct vm_commit_policy vm_commit_policy = {
        .overcommit_memory = VM_OVERCOMMIT_GUESS,
        .overcommit_ratio = 50,
};

/* Pages. Added and taken by atomics, so that a call without the big
 * lock may give pages back (a charge only ever comes under the lock,
 * which makes the policy's check and the add one step). */
static uint64_t committed;
static bool (*caller_is_admin)(void);

/* Budgets charged page by page: the noreserve one, then the
 * registered ones (tmpfs mounts). */
struct vm_quota vm_commit_noreserve_quota = { .limit = UINT64_MAX,
                                              .commit = true };
static struct vm_quota *quotas = &vm_commit_noreserve_quota;

void vm_commit_quota_register(struct vm_quota *q)
{
        ASSERT(q->commit && q != &vm_commit_noreserve_quota);
        q->commit_next = quotas;
        quotas = q;
}

void vm_commit_quota_unregister(struct vm_quota *q)
{
        for (struct vm_quota **l = &quotas; *l; l = &(*l)->commit_next)
                if (*l == q) {
                        *l = q->commit_next;
                        return;
                }
}

uint64_t vm_committed_pages(void)
{
        uint64_t sum = __atomic_load_n(&committed, __ATOMIC_RELAXED);

        for (const struct vm_quota *q = quotas; q; q = q->commit_next)
                sum += q->used;
        return sum;
}

void vm_commit_add(uint64_t npages)
{
        __atomic_add_fetch(&committed, npages, __ATOMIC_RELAXED);
}

void vm_commit_sub(uint64_t npages)
{
        uint64_t was = __atomic_fetch_sub(&committed, npages, __ATOMIC_RELAXED);

        ASSERT(npages <= was);
}

static uint64_t swap_pages(void)
{
        uint64_t total, free;

        swap_totals(&total, &free);
        return total;
}

uint64_t vm_commit_limit(void)
{
        const struct vm_commit_policy *p = &vm_commit_policy;
        uint64_t allowed;

        if (p->overcommit_kbytes)
                allowed = p->overcommit_kbytes >> (PAGE_SHIFT - 10);
        else
                allowed = vmstat.managed_pages *
                          (uint64_t)MAX(p->overcommit_ratio, 0) / 100;
        return allowed + swap_pages();
}

void vm_commit_init(bool (*is_admin)(void))
{
        /* Linux's init_admin_reserve / init_user_reserve: free / 32 KiB
         * worth, at most 8 MiB and 128 MiB. */
        uint64_t free_kb = pmm_free_count() << (PAGE_SHIFT - 10);

        /* At boot, or a host test's RAM. */
        __atomic_store_n(&committed, 0, __ATOMIC_RELAXED);
        vm_commit_noreserve_quota.used = 0;
        vm_commit_noreserve_quota.commit_next = NULL;
        quotas = &vm_commit_noreserve_quota;
        caller_is_admin = is_admin;
        vm_commit_policy.admin_reserve_kbytes = MIN(free_kb / 32, 8192);
        vm_commit_policy.user_reserve_kbytes = MIN(free_kb / 32, 131072);
}

bool vm_commit_accountable(unsigned area_flags, vm_prot_t prot)
{
        return (prot & VM_PROT_WRITE) &&
               !(area_flags & (VM_AREA_SHARED | VM_AREA_NORESERVE |
                               VM_AREA_SPECIAL));
}

/* Linux's __vm_enough_memory, asked for npages on top of `pending`
 * pages the same request already found room for (fork's areas). */
static vm_status_t enough(const struct vm_space *s, uint64_t npages,
                          uint64_t pending)
{
        const struct vm_commit_policy *p = &vm_commit_policy;
        uint64_t allowed, reserve;

        if (p->overcommit_memory == VM_OVERCOMMIT_ALWAYS || npages == 0)
                return VM_OK;
        if (p->overcommit_memory == VM_OVERCOMMIT_GUESS)
                return npages > vmstat.managed_pages + swap_pages()
                               ? VM_ENOMEM : VM_OK;
        allowed = vm_commit_limit();
        reserve = 0;
        if (caller_is_admin && !caller_is_admin())
                reserve += p->admin_reserve_kbytes >> (PAGE_SHIFT - 10);
        /* Don't let one process grow so big that a user can't recover. */
        if (s)
                reserve += MIN(s->areas.pages / 32,
                               p->user_reserve_kbytes >> (PAGE_SHIFT - 10));
        allowed = allowed > reserve ? allowed - reserve : 0;
        return vm_committed_pages() + pending + npages < allowed ? VM_OK
                                                                 : VM_ENOMEM;
}

bool vm_commit_pages_room(uint64_t npages)
{
        return vm_commit_policy.overcommit_memory != VM_OVERCOMMIT_NEVER ||
               enough(NULL, npages, 0) == VM_OK;
}

vm_status_t vm_commit_check(const struct vm_space *s, uint64_t npages)
{
        return enough(s, npages, 0);
}

vm_status_t vm_commit_check_fork(const struct vm_space *s)
{
        uint64_t pending = 0;

        for (const struct vm_area *a = s->areas.first; a; a = a->next) {
                if (!(a->flags & VM_AREA_ACCOUNT) ||
                    (a->flags & VM_AREA_DONTFORK))      /* not copied */
                        continue;
                if (enough(s, vm_area_npages(a), pending) != VM_OK)
                        return VM_ENOMEM;
                pending += vm_area_npages(a);
        }
        return VM_OK;
}

vm_status_t vm_commit_shared_object(const struct vm_space *s, uint64_t npages,
                                    bool noreserve, struct vm_object **out)
{
        vm_status_t st = noreserve ? VM_OK : vm_commit_check(s, npages);

        if (st == VM_OK)
                st = vm_object_create_anon(npages, out);
        if (st == VM_OK)        /* Linux's internal shm mount's huge= */
                (*out)->huge_policy = &vm_shmem_internal_huge;
        if (st == VM_OK && !noreserve) {
                (*out)->committed = npages;
                vm_commit_add(npages);
        } else if (st == VM_OK) {
                vm_object_set_quota(*out, &vm_commit_noreserve_quota);
        }
        return st;
}
