/*
 * test_vm_commit.c - commit accounting and the overcommit policy
 * (kernel/vm/vm_commit.c and its callers) over simulated RAM.
 *
 * Directed tests pin down one rule each: which mappings are charged, brk
 * and stack growth, mprotect, mremap, fork, shared anonymous objects, and
 * the three policies' refusals (which change nothing). random_* runs
 * map / unmap / mprotect / mremap / fork / exit sequences over up to
 * three spaces, switching the policy between its modes, against a model
 * that knows per page whether it is charged and which shared object it
 * maps: after every step the global count equals the model's, every page's
 * area says VM_AREA_ACCOUNT exactly where the model charges, and the
 * refusals the model predicts (mode 2 under a small overcommit_kbytes)
 * happen. At the end everything is gone and the count is 0.
 */
#include "check.h"
#include "vm_fixture.h"

#include <mercator/types.h>
#include <vm/pmm.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#include <string.h>

#define NR      VM_MAP_NORESERVE
#define MAYMOVE VM_REMAP_MAYMOVE

static uint64_t committed_of(struct vm_space *s)
{
        return s->areas.committed;
}

static void mode(int m, uint64_t kbytes)
{
        vm_commit_policy.overcommit_memory = m;
        vm_commit_policy.overcommit_kbytes = kbytes;
        vm_commit_policy.user_reserve_kbytes = 0;
}

/* ---- directed ------------------------------------------------------------- */

TEST(which_mappings_are_charged)
{
        vaddr_t va = 0x10000000, out;
        struct vm_space *s;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_map(s, va, 4 * P, RW, PRIV | FIXED, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 4);
        CHECK_EQ(vm_space_map(s, va + 8 * P, 4 * P, R, PRIV | FIXED, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 4);      /* read-only: not charged */
        CHECK_EQ(vm_space_map(s, va + 16 * P, 4 * P, RW, PRIV | FIXED | NR, &out),
                 VM_OK);
        CHECK_EQ(vm_committed_pages(), 4);      /* MAP_NORESERVE */
        CHECK_EQ(vm_space_map(s, va + 24 * P, 3 * P, RW, SHARED | FIXED, &out),
                 VM_OK);
        CHECK_EQ(vm_committed_pages(), 7);      /* the shared object's 3 */
        CHECK_EQ(committed_of(s), 4);           /* not the space's areas */
        /* Cut the shared area: the object lives, its charge stays. */
        CHECK_EQ(vm_space_unmap(s, va + 24 * P, 2 * P), VM_OK);
        CHECK_EQ(vm_committed_pages(), 7);
        CHECK_EQ(vm_space_unmap(s, va + 26 * P, P), VM_OK);
        CHECK_EQ(vm_committed_pages(), 4);
        /* A partial munmap gives back what it takes. */
        CHECK_EQ(vm_space_unmap(s, va + P, 2 * P), VM_OK);
        CHECK_EQ(vm_committed_pages(), 2);
        /* MAP_FIXED over charged pages: only the net counts. */
        CHECK_EQ(vm_space_map(s, va, 8 * P, RW, PRIV | FIXED, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 8);
        CHECK(vm_space_check(s));
        destroy(s);
        CHECK_EQ(vm_committed_pages(), 0);
        check_baseline();
}

TEST(noreserve_is_ignored_in_mode_2)
{
        vaddr_t va = 0x10000000, out;
        struct vm_space *s;

        setup(32 * MiB);
        s = new_space();
        mode(VM_OVERCOMMIT_NEVER, 1024);
        CHECK_EQ(vm_space_map(s, va, 4 * P, RW, PRIV | FIXED | NR, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 4);
        CHECK(!(vm_space_lookup(s, va)->flags & VM_AREA_NORESERVE));
        mode(VM_OVERCOMMIT_GUESS, 0);
        destroy(s);
        check_baseline();
}

/* Linux's shmem_acct_block: a budget's pages (a tmpfs mount's) count in
 * the commit count one by one, resident or not, until they go; mode 2
 * refuses the page past the limit with the budget's VM_ENOSPC; shared
 * memory made with MAP_NORESERVE is charged as it is touched. */
TEST(shmem_pages_are_charged_one_by_one)
{
        struct vm_quota q = { .limit = UINT64_MAX, .commit = true };
        vaddr_t va = 0x10000000, out;
        struct vm_object *obj;
        struct vm_page *pg;
        struct vm_space *s;

        setup(32 * MiB);
        vm_commit_quota_register(&q);
        CHECK_EQ(vm_object_create_cache(NULL, 0, &obj), VM_OK);
        CHECK_EQ(vm_object_resize(obj, 64 * P), VM_OK);
        vm_object_set_quota(obj, &q);
        CHECK_EQ(vm_committed_pages(), 0);      /* its size: nothing */
        for (uint64_t i = 0; i < 5; i++)
                CHECK_EQ(vm_object_get_page(obj, i, &pg), VM_OK);
        CHECK_EQ(vm_committed_pages(), 5);
        /* Mode 2 with 8 pages allowed: 6 and 7 fit, the 8th does not. */
        mode(VM_OVERCOMMIT_NEVER, 8 * (P / 1024));
        CHECK_EQ(vm_object_get_page(obj, 5, &pg), VM_OK);
        CHECK_EQ(vm_object_get_page(obj, 6, &pg), VM_OK);
        CHECK_EQ(vm_object_get_page(obj, 7, &pg), VM_ENOSPC);
        CHECK_EQ(vm_committed_pages(), 7);
        CHECK_EQ(q.used, 7);
        /* The per-page charges count against the mappings' too. */
        s = new_space();
        CHECK_EQ(vm_space_map(s, va, P, RW, PRIV | FIXED, &out), VM_ENOMEM);
        mode(VM_OVERCOMMIT_GUESS, 0);
        CHECK_EQ(vm_object_get_page(obj, 7, &pg), VM_OK);
        CHECK_EQ(vm_committed_pages(), 8);
        CHECK_EQ(vm_object_free_range(obj, 2, 64), 6);
        CHECK_EQ(vm_committed_pages(), 2);
        vm_object_unref(obj);
        CHECK_EQ(vm_committed_pages(), 0);
        vm_commit_quota_unregister(&q);

        /* Shared anonymous MAP_NORESERVE: per touched page. */
        CHECK_EQ(vm_space_map(s, va, 8 * P, RW, SHARED | FIXED | NR, &out),
                 VM_OK);
        CHECK_EQ(vm_committed_pages(), 0);
        CHECK_EQ(user_access(s, va, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(user_access(s, va + 5 * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(vm_committed_pages(), 2);
        /* Without MAP_NORESERVE: the whole object at once. */
        CHECK_EQ(vm_space_map(s, va + 8 * P, 4 * P, RW, SHARED | FIXED, &out),
                 VM_OK);
        CHECK_EQ(vm_committed_pages(), 6);
        CHECK_EQ(user_access(s, va + 8 * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(vm_committed_pages(), 6);
        CHECK(vm_space_check(s));
        destroy(s);
        CHECK_EQ(vm_committed_pages(), 0);
        check_baseline();
}

TEST(brk_and_stack_are_charged)
{
        vaddr_t got, top = 0x7fff0000;
        struct vm_space *s;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_brk_init(s, 0x800000), VM_OK);
        CHECK_EQ(vm_space_brk(s, 0x800000 + 5 * P, &got), VM_OK);
        CHECK_EQ(vm_committed_pages(), 5);
        CHECK_EQ(vm_space_brk(s, 0x800000 + 2 * P, &got), VM_OK);
        CHECK_EQ(vm_committed_pages(), 2);
        CHECK_EQ(vm_space_stack_init(s, top, 4 * P), VM_OK);
        CHECK_EQ(vm_committed_pages(), 6);
        CHECK_EQ(user_access(s, top - 10 * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(vm_committed_pages(), 12);     /* grew by 6 pages */
        /* Mode 2 with no room: the stack may not grow, nothing changes. */
        mode(VM_OVERCOMMIT_NEVER, 12 * 4);
        CHECK_EQ(user_access(s, top - 11 * P, W, NULL), FAULT_SEGV);
        CHECK_EQ(vm_committed_pages(), 12);
        CHECK_EQ(vm_space_brk(s, 0x800000 + 3 * P, &got), VM_ENOMEM);
        CHECK_EQ(got, 0x800000 + 2 * P);
        mode(VM_OVERCOMMIT_NEVER, 14 * 4);      /* 13 fit, 14 do not */
        CHECK_EQ(vm_space_brk(s, 0x800000 + 3 * P, &got), VM_OK);
        CHECK_EQ(vm_space_brk(s, 0x800000 + 4 * P, &got), VM_ENOMEM);
        CHECK(vm_space_check(s));
        destroy(s);
        CHECK_EQ(vm_committed_pages(), 0);
        check_baseline();
}

TEST(mprotect_charges_write_and_keeps_it)
{
        vaddr_t va = 0x10000000, out;
        struct vm_space *s;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_map(s, va, 8 * P, R, PRIV | FIXED, &out), VM_OK);
        CHECK_EQ(vm_space_protect(s, va + 2 * P, 3 * P, RW), VM_OK);
        CHECK_EQ(vm_committed_pages(), 3);
        user_fill(s, va + 2 * P, 1);            /* the area has pages now */
        CHECK_EQ(vm_space_protect(s, va + 2 * P, 3 * P, R), VM_OK);
        CHECK_EQ(vm_committed_pages(), 3);      /* kept: it had pages */
        CHECK_EQ(vm_space_protect(s, va + 2 * P, 3 * P, RW), VM_OK);
        CHECK_EQ(vm_committed_pages(), 3);      /* not twice */
        /* Never written anonymous memory gives its charge back. */
        CHECK_EQ(vm_space_map(s, va + 16 * P, 4 * P, RW, PRIV | FIXED, &out),
                 VM_OK);
        CHECK_EQ(vm_committed_pages(), 7);
        CHECK_EQ(vm_space_protect(s, va + 16 * P, 4 * P, R), VM_OK);
        CHECK_EQ(vm_committed_pages(), 3);
        /* NORESERVE memory made writable stays uncharged. */
        CHECK_EQ(vm_space_map(s, va + 24 * P, 2 * P, R, PRIV | FIXED | NR, &out),
                 VM_OK);
        CHECK_EQ(vm_space_protect(s, va + 24 * P, 2 * P, RW), VM_OK);
        CHECK_EQ(vm_committed_pages(), 3);
        /* Refused in mode 2: nothing changes. */
        mode(VM_OVERCOMMIT_NEVER, 5 * 4);
        CHECK_EQ(vm_space_protect(s, va, 2 * P, RW), VM_ENOMEM);
        CHECK_EQ(vm_space_lookup(s, va)->prot, R);
        CHECK_EQ(vm_committed_pages(), 3);
        CHECK_EQ(vm_space_protect(s, va, P, RW), VM_OK);
        CHECK_EQ(vm_committed_pages(), 4);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(mremap_moves_and_grows_the_charge)
{
        vaddr_t va = 0x10000000, out;
        struct vm_space *s;

        setup(32 * MiB);
        s = new_space();
        CHECK_EQ(vm_space_map(s, va, 4 * P, RW, PRIV | FIXED, &out), VM_OK);
        user_fill(s, va, 7);
        CHECK_EQ(vm_space_remap(s, va, 4 * P, 6 * P, 0, 0, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 6);
        CHECK_EQ(vm_space_remap(s, va, 6 * P, 6 * P, MAYMOVE | VM_REMAP_FIXED,
                                va + 32 * P, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 6);
        CHECK_EQ(vm_space_remap(s, va + 32 * P, 6 * P, 2 * P, 0, 0, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 2);
        CHECK_EQ(vm_space_remap(s, va + 32 * P, 2 * P, 2 * P,
                                MAYMOVE | VM_REMAP_DONTUNMAP, 0, &out), VM_OK);
        CHECK_EQ(vm_committed_pages(), 4);      /* both stay charged */
        mode(VM_OVERCOMMIT_NEVER, 5 * 4);
        CHECK_EQ(vm_space_remap(s, va + 32 * P, 2 * P, 3 * P, MAYMOVE, 0, &out),
                 VM_ENOMEM);
        CHECK_EQ(vm_committed_pages(), 4);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(fork_charges_the_copy_or_fails)
{
        vaddr_t va = 0x10000000, out;
        struct vm_space *p, *c = NULL;

        setup(32 * MiB);
        p = new_space();
        CHECK_EQ(vm_space_map(p, va, 4 * P, RW, PRIV | FIXED, &out), VM_OK);
        CHECK_EQ(vm_space_map(p, va + 8 * P, 2 * P, RW, SHARED | FIXED, &out),
                 VM_OK);
        CHECK_EQ(vm_committed_pages(), 6);
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        CHECK_EQ(vm_committed_pages(), 10);     /* the object is not copied */
        destroy(c);
        CHECK_EQ(vm_committed_pages(), 6);
        mode(VM_OVERCOMMIT_NEVER, 10 * 4);
        CHECK_EQ(vm_space_fork(p, &c), VM_ENOMEM);
        CHECK_EQ(vm_committed_pages(), 6);
        mode(VM_OVERCOMMIT_NEVER, 11 * 4);
        CHECK_EQ(vm_space_fork(p, &c), VM_OK);
        destroy(c);
        destroy(p);
        CHECK_EQ(vm_committed_pages(), 0);
        check_baseline();
}

TEST(policies_refuse_as_linux)
{
        vaddr_t va = 0x10000000, out;
        struct vm_space *s;
        uint64_t ram;

        setup(32 * MiB);
        ram = vmstat.managed_pages;
        s = new_space();
        /* Mode 0: one request above RAM + swap (none here) is refused. */
        CHECK_EQ(vm_space_map(s, va, (ram + 1) * P, RW, PRIV | FIXED, &out),
                 VM_ENOMEM);
        CHECK_EQ(vm_space_map(s, va, ram * P, RW, PRIV | FIXED, &out), VM_OK);
        CHECK_EQ(vm_space_map(s, va + ram * P, ram * P, RW, PRIV | FIXED, &out),
                 VM_OK);                        /* each alone fits */
        CHECK_EQ(vm_committed_pages(), 2 * ram);
        /* Mode 1: anything. */
        mode(VM_OVERCOMMIT_ALWAYS, 0);
        CHECK_EQ(vm_space_map(s, va + 2 * ram * P, 4 * ram * P, RW,
                              PRIV | FIXED, &out), VM_OK);
        CHECK_EQ(vm_space_unmap(s, va, 6 * ram * P), VM_OK);
        CHECK_EQ(vm_committed_pages(), 0);
        /* Mode 2: CommitLimit = RAM * ratio / 100 (no swap), strictly
         * below, less the process's reserve (its size / 32). */
        mode(VM_OVERCOMMIT_NEVER, 0);
        vm_commit_policy.overcommit_ratio = 50;
        CHECK_EQ(vm_commit_limit(), ram / 2);
        CHECK_EQ(vm_space_map(s, va, (ram / 2) * P, RW, PRIV | FIXED, &out),
                 VM_ENOMEM);
        CHECK_EQ(vm_space_map(s, va, (ram / 2 - 1) * P, RW, PRIV | FIXED, &out),
                 VM_OK);
        CHECK_EQ(vm_space_map(s, va + ram * P, 64 * P, R, PRIV | FIXED, &out),
                 VM_OK);                        /* read-only: free */
        vm_commit_policy.user_reserve_kbytes = 1024;
        CHECK_EQ(vm_space_unmap(s, va, (ram / 4) * P), VM_OK);
        /* size / 32 of the pages mapped, capped by the user reserve */
        {
                uint64_t left = ram / 2 - vm_committed_pages();
                uint64_t reserve = MIN(s->areas.pages / 32, 256);
                CHECK(left > reserve + 1);
                CHECK_EQ(vm_commit_check(s, left - reserve), VM_ENOMEM);
                CHECK_EQ(vm_commit_check(s, left - reserve - 1), VM_OK);
                CHECK_EQ(vm_commit_check(NULL, left - 1), VM_OK);
        }
        destroy(s);
        check_baseline();
}

/* ---- the random test ------------------------------------------------------- */

#define NSP     3
#define WIN     64
#define NOBJ    4096

struct cpage {
        bool      mapped, shared, acct, noreserve;
        vm_prot_t prot;
        int       obj;                  /* shared: model object */
};

struct cmodel {
        struct rng       r;
        struct vm_space *s[NSP];
        struct cpage     pg[NSP][WIN];
        uint64_t         obj_charge[NOBJ];
        int              nobj;
        uint64_t         refusals, ops;
};

static vaddr_t cva(unsigned i)
{
        return 0x20000000 + (vaddr_t)i * P;
}

static bool obj_live(const struct cmodel *m, int o)
{
        for (unsigned k = 0; k < NSP; k++)
                for (unsigned i = 0; m->s[k] && i < WIN; i++)
                        if (m->pg[k][i].mapped && m->pg[k][i].shared &&
                            m->pg[k][i].obj == o)
                                return true;
        return false;
}

static uint64_t model_total(const struct cmodel *m)
{
        uint64_t n = 0;

        for (unsigned k = 0; k < NSP; k++)
                for (unsigned i = 0; m->s[k] && i < WIN; i++)
                        n += m->pg[k][i].acct;
        for (int o = 0; o < m->nobj; o++)
                if (m->obj_charge[o] && obj_live(m, o))
                        n += m->obj_charge[o];
        return n;
}

/* Would mode 2 refuse `add` more (no reserves in this test)? */
static bool refused(const struct cmodel *m, uint64_t add)
{
        if (vm_commit_policy.overcommit_memory != VM_OVERCOMMIT_NEVER || !add)
                return false;
        return model_total(m) + add >= vm_commit_limit();
}

static uint64_t acct_in(const struct cmodel *m, unsigned k, unsigned first,
                        unsigned n)
{
        uint64_t c = 0;

        for (unsigned i = first; i < first + n && i < WIN; i++)
                c += m->pg[k][i].mapped && m->pg[k][i].acct;
        return c;
}

static void model_compare(struct cmodel *m)
{
        CHECK_EQ(vm_committed_pages(), model_total(m));
        for (unsigned k = 0; k < NSP; k++) {
                if (!m->s[k])
                        continue;
                CHECK(vm_space_check(m->s[k]));
                CHECK_EQ(committed_of(m->s[k]), acct_in(m, k, 0, WIN));
                for (unsigned i = 0; i < WIN; i++) {
                        const struct vm_area *a = vm_space_lookup(m->s[k], cva(i));
                        CHECK_EQ(a != NULL, m->pg[k][i].mapped);
                        if (a)
                                CHECK_EQ(!!(a->flags & VM_AREA_ACCOUNT),
                                         m->pg[k][i].acct);
                }
        }
}

static void range(struct cmodel *m, unsigned *first, unsigned *n)
{
        *first = (unsigned)rng_below(&m->r, WIN);
        *n = 1 + (unsigned)rng_below(&m->r, MIN(12u, WIN - *first));
}

static void op_map(struct cmodel *m, unsigned k)
{
        static const vm_prot_t prots[] = { VM_PROT_NONE, R, RW, RW, RW };
        unsigned first, n, flags;
        bool shared = rng_below(&m->r, 4) == 0;
        bool nr = rng_below(&m->r, 4) == 0;
        vm_prot_t prot = prots[rng_below(&m->r, 5)];
        bool nr_eff = nr && vm_commit_noreserve_ok();
        uint64_t add = 0, gone;
        vaddr_t out;

        range(m, &first, &n);
        flags = (shared ? SHARED : PRIV) | FIXED | (nr ? NR : 0);
        gone = acct_in(m, k, first, n);
        if (!shared && (prot & W) && !nr_eff)
                add = n > gone ? n - gone : 0;
        else if (shared && !nr_eff)
                add = n;
        if (refused(m, add)) {
                CHECK_EQ(vm_space_map(m->s[k], cva(first), n * P, prot, flags,
                                      &out), VM_ENOMEM);
                m->refusals++;
                return;
        }
        CHECK_EQ(vm_space_map(m->s[k], cva(first), n * P, prot, flags, &out),
                 VM_OK);
        if (shared) {
                CHECK(m->nobj < NOBJ);
                m->obj_charge[m->nobj++] = nr_eff ? 0 : n;
        }
        for (unsigned i = first; i < first + n; i++)
                m->pg[k][i] = (struct cpage){
                        .mapped = true, .shared = shared, .prot = prot,
                        .noreserve = nr_eff, .obj = m->nobj - 1,
                        .acct = !shared && (prot & W) && !nr_eff };
}

static void op_unmap(struct cmodel *m, unsigned k)
{
        unsigned first, n;

        range(m, &first, &n);
        CHECK_EQ(vm_space_unmap(m->s[k], cva(first), n * P), VM_OK);
        for (unsigned i = first; i < first + n; i++)
                m->pg[k][i].mapped = m->pg[k][i].acct = false;
}

/* mprotect's rule for one page (its area's, vm_space.c protect_charged). */
static bool protect_acct(struct cmodel *m, unsigned k, unsigned i,
                         vm_prot_t prot)
{
        const struct cpage *p = &m->pg[k][i];
        const struct vm_area *a = vm_space_lookup(m->s[k], cva(i));

        if (p->prot == prot || p->shared)
                return p->acct;
        if (prot & W)
                return p->acct || !p->noreserve;
        return p->acct && a->object != NULL;    /* never written: given back */
}

static void op_protect(struct cmodel *m, unsigned k)
{
        static const vm_prot_t prots[] = { VM_PROT_NONE, R, RW };
        vm_prot_t prot = prots[rng_below(&m->r, 3)];
        unsigned first, n;
        bool acct[WIN];
        uint64_t add = 0;

        range(m, &first, &n);
        for (unsigned i = first; i < first + n; i++)
                if (!m->pg[k][i].mapped) {
                        CHECK_EQ(vm_space_protect(m->s[k], cva(first), n * P,
                                                  prot), VM_ENOMEM);
                        return;
                }
        for (unsigned i = first; i < first + n; i++) {
                acct[i] = protect_acct(m, k, i, prot);
                add += acct[i] && !m->pg[k][i].acct;
        }
        if (refused(m, add)) {
                CHECK_EQ(vm_space_protect(m->s[k], cva(first), n * P, prot),
                         VM_ENOMEM);
                m->refusals++;
                return;
        }
        CHECK_EQ(vm_space_protect(m->s[k], cva(first), n * P, prot), VM_OK);
        for (unsigned i = first; i < first + n; i++) {
                m->pg[k][i].prot = prot;
                m->pg[k][i].acct = acct[i];
        }
}

/* A write to a mapped writable page: private memory gets an object. */
static void op_write(struct cmodel *m, unsigned k)
{
        unsigned i = (unsigned)rng_below(&m->r, WIN);

        /* (a shared area grown past its object would be SIGBUS) */
        if (m->pg[k][i].mapped && (m->pg[k][i].prot & W) &&
            !m->pg[k][i].shared)
                CHECK_EQ(user_access(m->s[k], cva(i), W, NULL), FAULT_RESOLVED);
}

/* mremap: grow in place, or move (FIXED, maybe DONTUNMAP) in the window. */
static void op_remap(struct cmodel *m, unsigned k)
{
        unsigned i = (unsigned)rng_below(&m->r, WIN), n, d, nn;
        const struct vm_area *a = vm_space_lookup(m->s[k], cva(i));
        struct cpage src[WIN];
        bool dontunmap = rng_below(&m->r, 3) == 0;
        uint64_t add = 0, gone = 0;
        vaddr_t out;
        vm_status_t want;

        if (!a)
                return;
        n = 1 + (unsigned)rng_below(&m->r, (a->end - cva(i)) / P);
        if (rng_below(&m->r, 2) == 0) {         /* grow in place */
                unsigned end = (unsigned)((a->end - cva(0)) / P), g;
                n = (unsigned)((a->end - cva(i)) / P);  /* to its end */
                for (g = 0; end + g < WIN && !m->pg[k][end + g].mapped && g < 4;)
                        g++;
                if (g == 0)
                        return;
                add = m->pg[k][i].acct ? g : 0;
                want = refused(m, add) ? VM_ENOMEM : VM_OK;
                CHECK_EQ(vm_space_remap(m->s[k], cva(i), n * P, (n + g) * P, 0, 0,
                                        &out), want);
                m->refusals += want != VM_OK;
                for (unsigned j = end; want == VM_OK && j < end + g; j++)
                        m->pg[k][j] = m->pg[k][end - 1];
                return;
        }
        nn = dontunmap ? n : 1 + (unsigned)rng_below(&m->r, 12);
        d = (unsigned)rng_below(&m->r, WIN - nn + 1);
        if (d < i + n && i < d + nn)
                return;                         /* overlap: EINVAL */
        memcpy(src, m->pg[k], sizeof src);
        if (m->pg[k][i].acct) {
                add = nn;
                gone = acct_in(m, k, d, nn);
                if (!dontunmap)
                        gone += MIN(n, nn);
                if (nn < n)                     /* the tail goes too */
                        for (unsigned j = i + nn; j < i + n; j++)
                                gone += m->pg[k][j].acct &&
                                        !(j >= d && j < d + nn);
        }
        want = refused(m, add > gone ? add - gone : 0) ? VM_ENOMEM : VM_OK;
        CHECK_EQ(vm_space_remap(m->s[k], cva(i), n * P, nn * P,
                                MAYMOVE | VM_REMAP_FIXED |
                                (dontunmap ? VM_REMAP_DONTUNMAP : 0),
                                cva(d), &out), want);
        if (want != VM_OK) {
                m->refusals++;
                return;
        }
        for (unsigned j = 0; j < nn; j++) {
                m->pg[k][d + j] = src[i + MIN(j, n - 1)];
        }
        for (unsigned j = i; !dontunmap && j < i + n; j++)
                if (!(j >= d && j < d + nn))
                        m->pg[k][j].mapped = m->pg[k][j].acct = false;
}

static void op_fork(struct cmodel *m, unsigned k)
{
        unsigned c;
        struct vm_space *child;
        bool want_fail;

        for (c = 0; c < NSP && m->s[c]; c++)
                ;
        if (c == NSP)
                return;
        want_fail = refused(m, acct_in(m, k, 0, WIN));
        CHECK_EQ(vm_space_fork(m->s[k], &child), want_fail ? VM_ENOMEM : VM_OK);
        if (want_fail) {
                m->refusals++;
                return;
        }
        m->s[c] = child;
        memcpy(m->pg[c], m->pg[k], sizeof m->pg[c]);
}

static void op_exit(struct cmodel *m, unsigned k)
{
        destroy(m->s[k]);
        m->s[k] = NULL;
        memset(m->pg[k], 0, sizeof m->pg[k]);
}

static void op_policy(struct cmodel *m)
{
        int md = (int)rng_below(&m->r, 3);

        /* Mode 2's limit a little above what is committed now. */
        mode(md, (model_total(m) + rng_below(&m->r, 24)) * 4);
}

static void run_random(uint64_t seed, unsigned steps)
{
        static struct cmodel m;

        setup(64 * MiB);
        memset(&m, 0, sizeof m);
        rng_seed(&m.r, check_seed(seed));
        m.s[0] = new_space();
        for (unsigned step = 0; step < steps; step++) {
                unsigned k = (unsigned)rng_below(&m.r, NSP);
                unsigned op = (unsigned)rng_below(&m.r, 20);

                if (!m.s[k]) {
                        if (op < 2)
                                m.s[k] = new_space();
                        continue;
                }
                m.ops++;
                if (op < 5)
                        op_map(&m, k);
                else if (op < 7)
                        op_unmap(&m, k);
                else if (op < 10)
                        op_protect(&m, k);
                else if (op < 12)
                        op_write(&m, k);
                else if (op < 15)
                        op_remap(&m, k);
                else if (op < 16)
                        op_fork(&m, k);
                else if (op < 17 && k != 0)
                        op_exit(&m, k);
                else if (op < 18)
                        op_policy(&m);
                model_compare(&m);
        }

        CHECK(m.refusals > 10);                 /* the policy was exercised */
        for (unsigned k = 0; k < NSP; k++)
                if (m.s[k])
                        op_exit(&m, k);
        CHECK_EQ(vm_committed_pages(), 0);
        mode(VM_OVERCOMMIT_GUESS, 0);
        check_baseline();
}

TEST(random_ops_seed1)
{
        run_random(0xc0331, 4000);
}

TEST(random_ops_seed2)
{
        run_random(0xacc7, 4000);
}

TEST(random_ops_seed3)
{
        run_random(0x5eed3, 4000);
}
