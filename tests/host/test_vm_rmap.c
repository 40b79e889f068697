/*
 * test_vm_rmap.c - the reverse map (kernel/vm/vm_rmap.c) over simulated
 * RAM, each page-table format's table code and the software MMU.
 *
 * The model is the brute-force answer: every page of every area of every
 * space, looked up with pmap_extract(). rmap_check() compares the reverse
 * map with it after every step (each owner holds the page, owners =
 * refcount, rmap_walk() finds exactly the translations that exist, none
 * twice); the directed tests also count by hand: a page mapped by N spaces
 * has exactly N entries, whether it is a private page shared by fork, a
 * shared anonymous page, a file page mapped shared or read as the backing
 * of private mappings. Eviction removes every translation first, and is
 * refused while an mlocked area maps the page. random_* runs fork / exit /
 * map / unmap / remap / write / read / evict / referenced sequences over
 * four spaces, with rmap_check() after each. Every test ends with every
 * counter (owner chains included: they are kmalloc objects) back at its
 * baseline.
 */
#include "check.h"
#include "vm_fixture.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <arch/host/softmmu.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#include <string.h>

#define RFIXED_FLAGS    (VM_REMAP_FIXED | VM_REMAP_MAYMOVE)

static struct vm_space *fork_of(struct vm_space *parent)
{
        struct vm_space *child = NULL;

        CHECK_EQ(vm_space_fork(parent, &child), VM_OK);
        CHECK(vm_space_check(parent));
        CHECK(vm_space_check(child));
        return child;
}

static struct vm_page *page_at(struct vm_space *s, vaddr_t va)
{
        return pmm_pa_to_page(frame(s, va));
}

/* The translations of pg, counted by hand over the given spaces. */
static unsigned by_hand(struct vm_space **sp, unsigned n, vaddr_t lo,
                        vaddr_t hi, struct vm_page *pg)
{
        paddr_t want = pmm_page_to_pa(pg), pa;
        unsigned count = 0;

        for (unsigned k = 0; k < n; k++)
                for (vaddr_t va = lo; sp[k] && va < hi; va += P)
                        if (pmap_extract(vm_space_pmap(sp[k]), va, &pa, NULL,
                                         NULL) && page_trunc(pa) == want)
                                count++;
        return count;
}

static uint8_t file_data[8 * 4096];

static struct vm_object *make_file(void)
{
        struct vm_object *f = NULL;

        for (size_t i = 0; i < sizeof file_data; i++)
                file_data[i] = (uint8_t)(0x40 + i / P);
        CHECK_EQ(vm_object_create_file(file_data, sizeof file_data, &f), VM_OK);
        return f;
}

static void map_file_at(struct vm_space *s, vaddr_t va, uint64_t len,
                        vm_prot_t prot, unsigned flags, struct vm_object *f,
                        uint64_t off)
{
        vaddr_t out = 0;

        CHECK_EQ(vm_space_map_file(s, va, len, prot, flags | FIXED, f, off,
                                   &out), VM_OK);
        CHECK_EQ(out, va);
}

/* ---- directed ------------------------------------------------------------ */

/* A private page after fork is held by one object per space and mapped
 * by every space that touched it: N spaces, N owners, N entries; and one
 * record in the descriptor (the fork family's) covers all N owners. */
TEST(fork_tree_n_spaces_n_entries)
{
        vaddr_t va = 0x10000000;
        struct vm_space *sp[4];
        struct vm_page *pg, *copy;

        setup(32 * MiB);
        sp[0] = new_space();
        map_at(sp[0], va, 4 * P, RW, PRIV);
        for (unsigned i = 0; i < 4; i++)
                user_fill(sp[0], va + i * P, 0x10 + i);
        pg = page_at(sp[0], va);
        CHECK_EQ(rmap_owner_count(pg), 1);
        CHECK(!(pg->flags & PG_RMAP_CHAIN));    /* in the descriptor */
        CHECK(pg->flags & PG_RMAP_FAMILY);
        CHECK_EQ(rmap_count(pg), 1);
        sp[1] = fork_of(sp[0]);
        sp[2] = fork_of(sp[1]);
        sp[3] = fork_of(sp[0]);
        CHECK_EQ(rmap_owner_count(pg), 4);
        CHECK_EQ(pg->refcount, 4);
        CHECK(!(pg->flags & PG_RMAP_CHAIN));    /* still one record */
        CHECK(pg->flags & PG_RMAP_FAMILY);
        CHECK_EQ(rmap_count(pg), 1);            /* children fault lazily */
        for (unsigned k = 1; k < 4; k++) {
                CHECK_EQ(user_read(sp[k], va), 0x10);
                CHECK_EQ(rmap_count(pg), k + 1);
                CHECK_EQ(by_hand(sp, 4, va, va + 4 * P, pg), k + 1);
                CHECK(rmap_check());
        }
        /* A write in one child copies: the original loses that entry. */
        user_fill(sp[2], va, 0x99);
        copy = page_at(sp[2], va);
        CHECK(copy != pg);
        CHECK_EQ(rmap_count(pg), 3);
        CHECK_EQ(rmap_owner_count(pg), 3);
        CHECK_EQ(rmap_count(copy), 1);
        CHECK(rmap_check());
        /* Exits in any order: owners go, the one record stays. */
        destroy(sp[1]);
        sp[1] = NULL;
        CHECK_EQ(rmap_count(pg), 2);
        destroy(sp[3]);
        sp[3] = NULL;
        CHECK_EQ(rmap_owner_count(pg), 1);
        CHECK(!(pg->flags & PG_RMAP_CHAIN));
        CHECK(pg->flags & PG_RMAP_FAMILY);
        CHECK_EQ(rmap_count(pg), 1);
        CHECK(rmap_check());
        destroy(sp[2]);
        destroy(sp[0]);
        CHECK(rmap_check());
        check_baseline();
}

/* A shared anonymous page: one owner, one entry per space mapping it
 * (forked or not), at whatever address each maps it. */
TEST(shared_anon_one_owner_n_entries)
{
        vaddr_t va = 0x20000000;
        struct vm_space *sp[3];
        struct vm_page *pg;

        setup(32 * MiB);
        sp[0] = new_space();
        map_at(sp[0], va, 2 * P, RW, SHARED);
        user_fill(sp[0], va + P, 0x55);
        pg = page_at(sp[0], va + P);
        sp[1] = fork_of(sp[0]);
        sp[2] = fork_of(sp[1]);
        CHECK_EQ(rmap_owner_count(pg), 1);
        CHECK_EQ(rmap_count(pg), 1);
        CHECK_EQ(user_read(sp[2], va + P), 0x55);
        CHECK_EQ(user_read(sp[1], va + P), 0x55);
        CHECK_EQ(rmap_count(pg), 3);
        CHECK_EQ(by_hand(sp, 3, va, va + 2 * P, pg), 3);
        CHECK(rmap_check());
        /* Unmapping the page in one space drops exactly its entry. */
        CHECK_EQ(vm_space_unmap(sp[1], va, 2 * P), VM_OK);
        CHECK_EQ(rmap_count(pg), 2);
        CHECK(rmap_check());
        for (unsigned k = 0; k < 3; k++)
                destroy(sp[k]);
        check_baseline();
}

/* A file page: shared mappings of it and private mappings reading it as
 * their backing, at different offsets; a private copy is not the file's. */
TEST(file_page_shared_and_backing)
{
        struct vm_space *sp[4];
        struct vm_object *f;
        struct vm_page *pg;

        setup(32 * MiB);
        f = make_file();
        for (unsigned k = 0; k < 4; k++)
                sp[k] = new_space();
        /* File page 3 at 0x30003000 (offset 0), 0x31001000 (offset 2). */
        map_file_at(sp[0], 0x30000000, 8 * P, R, SHARED, f, 0);
        map_file_at(sp[1], 0x31000000, 4 * P, R, SHARED, f, 2 * P);
        map_file_at(sp[2], 0x30000000, 8 * P, RW, PRIV, f, 0);
        map_file_at(sp[3], 0x31000000, 4 * P, RW, PRIV, f, 2 * P);
        CHECK_EQ(user_read(sp[0], 0x30003000), 0x43);
        pg = page_at(sp[0], 0x30003000);
        CHECK_EQ(user_read(sp[1], 0x31001000), 0x43);
        CHECK_EQ(user_read(sp[2], 0x30003000), 0x43);
        CHECK_EQ(user_read(sp[3], 0x31001000), 0x43);
        CHECK_EQ(rmap_owner_count(pg), 1);
        CHECK_EQ(rmap_count(pg), 4);
        CHECK_EQ(by_hand(sp, 4, 0x30000000, 0x30008000, pg) +
                 by_hand(sp, 4, 0x31000000, 0x31004000, pg), 4);
        CHECK(rmap_check());
        user_fill(sp[2], 0x30003000, 0x77);     /* its own copy now */
        CHECK(frame(sp[2], 0x30003000) != pmm_page_to_pa(pg));
        CHECK_EQ(rmap_count(pg), 3);
        CHECK(rmap_check());
        for (unsigned k = 0; k < 4; k++)
                destroy(sp[k]);
        vm_object_unref(f);
        check_baseline();
}

/* Eviction: only a clean file page, only once unmapped everywhere, never
 * while an mlocked area maps it; the next access reads the file again. */
TEST(evict_only_when_unmapped_everywhere)
{
        vaddr_t va = 0x30000000, anon = 0x40000000;
        struct vm_space *sp[3];
        struct vm_object *f;
        struct vm_page *pg;
        uint64_t file_pages;

        setup(32 * MiB);
        f = make_file();
        for (unsigned k = 0; k < 3; k++) {
                sp[k] = new_space();
                map_file_at(sp[k], va, 8 * P, R, k == 2 ? PRIV : SHARED, f, 0);
                CHECK_EQ(user_read(sp[k], va + 5 * P), 0x45);
        }
        pg = page_at(sp[0], va + 5 * P);
        CHECK_EQ(rmap_count(pg), 3);
        file_pages = vmstat.file_pages;
        /* Locked in one space: refused, nothing changed anywhere. */
        CHECK_EQ(vm_space_set_lock(sp[1], va, 8 * P, VM_AREA_LOCKED), VM_OK);
        CHECK_EQ(rmap_evict_clean(pg), VM_EBUSY);
        CHECK_EQ(rmap_count(pg), 3);
        CHECK_EQ(vmstat.file_pages, file_pages);
        CHECK_EQ(rmap_unmap(pg, NULL), VM_EBUSY);
        CHECK_EQ(rmap_count(pg), 3);
        CHECK_EQ(vm_space_set_lock(sp[1], va, 8 * P, 0), VM_OK);
        /* Pinned by a kernel copy (read() into a faulting buffer): kept. */
        pg->flags |= PG_PINNED;
        CHECK_EQ(rmap_evict_clean(pg), VM_EBUSY);
        CHECK_EQ(rmap_count(pg), 3);
        pg->flags &= ~PG_PINNED;
        /* Unlocked: every translation goes, then the page. */
        CHECK_EQ(rmap_evict_clean(pg), VM_OK);
        for (unsigned k = 0; k < 3; k++) {
                CHECK(!present(sp[k], va + 5 * P));
        }
        CHECK_EQ(vmstat.file_pages, file_pages - 1);
        CHECK(vm_object_lookup(f, 5) == NULL);
        CHECK(rmap_check());
        for (unsigned k = 0; k < 3; k++) {
                CHECK(vm_space_check(sp[k]));
                CHECK_EQ(user_read(sp[k], va + 5 * P), 0x45);
        }
        CHECK_EQ(rmap_count(page_at(sp[0], va + 5 * P)), 3);
        /* Anonymous memory cannot be dropped without swap. */
        map_at(sp[0], anon, P, RW, PRIV);
        user_fill(sp[0], anon, 0x21);
        CHECK_EQ(rmap_evict_clean(page_at(sp[0], anon)), VM_EINVAL);
        CHECK(page_is(frame(sp[0], anon), 0x21));
        /* Unmapping without eviction: translations go, the page stays and
         * faults back with its contents. */
        pg = page_at(sp[0], anon);
        bool dirty = false;
        CHECK_EQ(rmap_unmap(pg, &dirty), VM_OK);
        CHECK(!present(sp[0], anon));
        CHECK_EQ(user_read(sp[0], anon), 0x21);
        CHECK(frame(sp[0], anon) == pmm_page_to_pa(pg));
        CHECK(rmap_check());
        for (unsigned k = 0; k < 3; k++)
                destroy(sp[k]);
        vm_object_unref(f);
        check_baseline();
}

/* Accessed bits through the reverse map, as each format's pmap keeps them:
 * an access shows; clearing clears every translation's. */
TEST(referenced_through_every_translation)
{
        vaddr_t va = 0x10000000;
        struct vm_space *sp[2];
        struct vm_page *pg;
        unsigned mapped = 0;

        setup(32 * MiB);
        sp[0] = new_space();
        activate(sp[0]);
        map_at(sp[0], va, P, RW, PRIV);
        user_fill(sp[0], va, 0x31);
        sp[1] = fork_of(sp[0]);
        CHECK_EQ(user_read(sp[1], va), 0x31);
        pg = page_at(sp[0], va);
        CHECK(rmap_referenced(pg, false, &mapped) & RMAP_ACCESSED);
        CHECK_EQ(mapped, 2);
        (void)rmap_referenced(pg, true, NULL);
        CHECK_EQ(rmap_referenced(pg, false, &mapped), 0);
        CHECK_EQ(mapped, 2);                    /* cleared, still mapped */
        CHECK_EQ(user_read(sp[1], va), 0x31);
        CHECK(rmap_referenced(pg, false, NULL) & RMAP_ACCESSED);
        (void)rmap_referenced(pg, true, NULL);
        CHECK_EQ(user_read(sp[0], va), 0x31);   /* the active space's TLB */
        CHECK(rmap_referenced(pg, true, NULL) & RMAP_ACCESSED);
        CHECK(softmmu_tlb_check());
        activate(NULL);
        destroy(sp[1]);
        destroy(sp[0]);
        check_baseline();
}

/* mremap moves private pages to new indices, while fork shares them: the
 * owners follow. The moved owner is outside the family record (another
 * index), so the page keeps a chain of two records until the child has
 * gone; then the lone owner is its own family's record again, and a new
 * fork shares it without a chain. */
TEST(mremap_of_forked_pages)
{
        vaddr_t va = 0x10000000, to = 0x18000000, out = 0;
        struct vm_space *sp[2];
        struct vm_page *pg;
        uint64_t bytes0, forked;

        setup(32 * MiB);
        bytes0 = rmap_bytes;
        sp[0] = new_space();
        map_at(sp[0], va, 4 * P, RW, PRIV);
        for (unsigned i = 0; i < 4; i++)
                user_fill(sp[0], va + i * P, 0x60 + i);
        pg = page_at(sp[0], va + 2 * P);
        sp[1] = fork_of(sp[0]);
        CHECK_EQ(user_read(sp[1], va + 2 * P), 0x62);
        forked = rmap_bytes;
        CHECK(forked > bytes0);                 /* the family */
        CHECK_EQ(vm_space_remap(sp[0], va, 4 * P, 4 * P, RFIXED_FLAGS, to,
                                &out), VM_OK);
        CHECK_EQ(out, to);
        /* ReverseMap (meminfo) counts the four chains of two records,
         * and the family mremap's fresh object starts. */
        CHECK_EQ(rmap_bytes - forked, 4 * 2 * sizeof(struct rmap_owner) +
                 sizeof(struct rmap_family));
        CHECK(vm_space_check(sp[0]));
        CHECK_EQ(user_read(sp[0], to + 2 * P), 0x62);
        CHECK_EQ(frame(sp[0], to + 2 * P), pmm_page_to_pa(pg));
        CHECK_EQ(rmap_owner_count(pg), 2);
        CHECK_EQ(rmap_count(pg), 2);
        CHECK(pg->flags & PG_RMAP_CHAIN);
        CHECK(rmap_check());
        destroy(sp[1]);
        CHECK_EQ(rmap_count(pg), 1);
        CHECK(!(pg->flags & PG_RMAP_CHAIN));
        CHECK(pg->flags & PG_RMAP_FAMILY);
        CHECK(rmap_check());
        sp[1] = fork_of(sp[0]);
        CHECK_EQ(user_read(sp[1], to + 2 * P), 0x62);
        CHECK_EQ(rmap_owner_count(pg), 2);
        CHECK_EQ(rmap_count(pg), 2);
        CHECK(!(pg->flags & PG_RMAP_CHAIN));
        CHECK(rmap_check());
        CHECK_EQ(rmap_bytes, forked);   /* one family again (the first
                                         * went with its last member) */
        destroy(sp[1]);
        destroy(sp[0]);
        CHECK_EQ(rmap_bytes, bytes0);
        check_baseline();
}

/* The other order: the process that moved a page shared by fork lets go
 * of it first (it writes, so its copy replaces the shared page): its
 * explicit record goes and the family record is left alone, inline. */
TEST(mremap_then_the_mover_lets_go)
{
        vaddr_t va = 0x10000000, to = 0x18000000, out = 0;
        struct vm_space *sp[3];
        struct vm_page *pg;

        setup(32 * MiB);
        sp[0] = new_space();
        map_at(sp[0], va, 2 * P, RW, PRIV);
        user_fill(sp[0], va, 0x71);
        user_fill(sp[0], va + P, 0x72);
        pg = page_at(sp[0], va + P);
        sp[1] = fork_of(sp[0]);
        sp[2] = fork_of(sp[0]);
        CHECK_EQ(vm_space_remap(sp[1], va, 2 * P, 2 * P, RFIXED_FLAGS, to,
                                &out), VM_OK);
        CHECK_EQ(user_read(sp[1], to + P), 0x72);
        CHECK_EQ(user_read(sp[2], va + P), 0x72);
        CHECK_EQ(frame(sp[1], to + P), pmm_page_to_pa(pg));
        CHECK(pg->flags & PG_RMAP_CHAIN);       /* two indices: two records */
        CHECK_EQ(rmap_owner_count(pg), 3);
        CHECK_EQ(rmap_count(pg), 3);
        CHECK_EQ(by_hand(sp, 3, va, va + 2 * P, pg) +
                 by_hand(sp, 3, to, to + 2 * P, pg), 3);
        CHECK(rmap_check());
        user_fill(sp[1], to + P, 0x73);
        CHECK(frame(sp[1], to + P) != pmm_page_to_pa(pg));
        CHECK(!(pg->flags & PG_RMAP_CHAIN));
        CHECK(pg->flags & PG_RMAP_FAMILY);
        CHECK_EQ(rmap_owner_count(pg), 2);
        CHECK_EQ(rmap_count(pg), 2);
        CHECK(rmap_check());
        destroy(sp[0]);
        CHECK_EQ(rmap_owner_count(pg), 1);
        CHECK_EQ(user_read(sp[2], va + P), 0x72);
        CHECK(rmap_check());
        destroy(sp[2]);
        destroy(sp[1]);
        CHECK(rmap_check());
        check_baseline();
}

/* Out of memory at every allocation of a fork (the child's space, area,
 * object and radix nodes): the failed fork leaves the reverse map exact
 * and nothing allocated. The fork that succeeds shares all 300 pages
 * without one chain record: the family record covers the child. */
TEST(fork_out_of_memory_keeps_rmap_exact)
{
        vaddr_t va = 0x10000000;
        struct vm_space *p, *c;
        unsigned failures = 0;

        setup(32 * MiB);
        p = new_space();
        map_at(p, va, 300 * P, RW, PRIV);
        for (unsigned i = 0; i < 300; i++)
                user_fill(p, va + i * P, (uint8_t)i);
        for (uint64_t n = 1;; n++) {
                vm_status_t st;

                kmalloc_shrink();
                c = NULL;
                pmm_fail_after = n;
                st = vm_space_fork(p, &c);
                pmm_fail_after = 0;
                CHECK(rmap_check());
                if (st == VM_OK) {
                        for (unsigned i = 0; i < 300; i++) {
                                struct vm_page *pg = page_at(p, va + i * P);

                                CHECK_EQ(pg->refcount, 2);
                                CHECK(!(pg->flags & PG_RMAP_CHAIN));
                        }
                        destroy(c);
                        break;
                }
                CHECK_EQ(st, VM_ENOMEM);
                failures++;
        }
        printf("    %u failed forks\n", failures);
        CHECK(failures >= 2);
        CHECK(rmap_check());
        for (unsigned i = 0; i < 300; i++)
                CHECK_EQ(user_read(p, va + i * P), (uint8_t)i);
        destroy(p);
        check_baseline();
}

/* ---- random -------------------------------------------------------------- */

#define RSPACES 4
#define RWIN    24
#define RBASE   ((vaddr_t)0x10000000)

struct rnd {
        struct rng        r;
        struct vm_space  *sp[RSPACES];
        struct vm_object *file;
        uint64_t          ops[10];
};

static vaddr_t rva(struct rnd *c)
{
        return RBASE + rng_below(&c->r, RWIN) * P;
}

static unsigned rspace(struct rnd *c)
{
        unsigned k = rng_below(&c->r, RSPACES);

        if (!c->sp[k])
                c->sp[k] = new_space();
        return k;
}

static void r_map(struct rnd *c)
{
        unsigned k = rspace(c), n = 1 + rng_below(&c->r, 4);
        vaddr_t va = rva(c);
        vaddr_t out;

        if (va + n * P > RBASE + RWIN * P)
                n = (RBASE + RWIN * P - va) / P;
        switch (rng_below(&c->r, 4)) {
        case 0:
                map_at(c->sp[k], va, n * P, RW, PRIV);
                break;
        case 1:
                map_at(c->sp[k], va, n * P, RW, SHARED);
                break;
        default:
                CHECK_EQ(vm_space_map_file(c->sp[k], va, n * P,
                                           rng_below(&c->r, 2) ? R : RW,
                                           PRIV | FIXED,
                                           c->file, rng_below(&c->r, 4) * P,
                                           &out), VM_OK);
                break;
        }
        c->ops[0]++;
}

static void r_shared_file(struct rnd *c)
{
        unsigned k = rspace(c);
        vaddr_t va = rva(c), out;

        CHECK_EQ(vm_space_map_file(c->sp[k], va, P, R, SHARED | FIXED, c->file,
                                   rng_below(&c->r, 8) * P, &out), VM_OK);
        c->ops[1]++;
}

static void r_unmap(struct rnd *c)
{
        unsigned k = rspace(c);

        CHECK_EQ(vm_space_unmap(c->sp[k], rva(c),
                                (1 + rng_below(&c->r, 3)) * P), VM_OK);
        c->ops[2]++;
}

static void r_access(struct rnd *c)
{
        unsigned k = rspace(c);
        vaddr_t va = rva(c);
        bool write = rng_below(&c->r, 2);
        paddr_t pa;

        if (!vm_space_lookup(c->sp[k], va))
                return;
        if (user_access(c->sp[k], va, write ? W : R, &pa) == FAULT_RESOLVED) {
                if (write)
                        memset(phys_to_virt(page_trunc(pa)),
                               1 + rng_below(&c->r, 255), P);
                c->ops[3]++;
        }
}

static void r_fork(struct rnd *c)
{
        unsigned p = rspace(c), k = rng_below(&c->r, RSPACES);

        if (k == p)
                return;
        if (c->sp[k])
                destroy(c->sp[k]);
        c->sp[k] = fork_of(c->sp[p]);
        c->ops[4]++;
}

static void r_exit(struct rnd *c)
{
        unsigned k = rng_below(&c->r, RSPACES);

        if (!c->sp[k])
                return;
        destroy(c->sp[k]);
        c->sp[k] = NULL;
        c->ops[5]++;
}

/* A present page of space k at or after a random address, or 0. */
static vaddr_t present_va(struct rnd *c, unsigned k)
{
        vaddr_t va = rva(c);

        for (unsigned i = 0; i < RWIN; i++, va += P) {
                if (va >= RBASE + RWIN * P)
                        va = RBASE;
                if (present(c->sp[k], va))
                        return va;
        }
        return 0;
}

/* A present page of some space: evict it if clean, else unmap it; the
 * page's entries all go, or (locked) none. */
static void r_evict(struct rnd *c)
{
        unsigned k = rspace(c);
        vaddr_t va = present_va(c, k);
        struct vm_page *pg;
        vm_status_t st;

        if (!va)
                return;
        pg = page_at(c->sp[k], va);
        if (!rmap_is_object_page(pg))
                return;                         /* the zero page */
        st = rmap_evict_clean(pg);
        if (st == VM_EINVAL)
                st = rmap_unmap(pg, NULL);
        if (st == VM_OK) {
                CHECK(!present(c->sp[k], va));
                c->ops[6]++;
        } else {
                CHECK_EQ(st, VM_EBUSY);
                CHECK(rmap_count(pg) > 0);
        }
}

static void r_lock(struct rnd *c)
{
        unsigned k = rspace(c);
        vm_status_t st = vm_space_set_lock(c->sp[k], rva(c), P,
                                           rng_below(&c->r, 2) ? VM_AREA_LOCKED
                                                               : 0);

        CHECK(st == VM_OK || st == VM_ENOMEM);
        c->ops[7]++;
}

static void r_remap(struct rnd *c)
{
        unsigned k = rspace(c);
        vaddr_t old = rva(c), to = rva(c), out;
        vm_status_t st;

        if (old == to)
                return;
        st = vm_space_remap(c->sp[k], old, P, P, RFIXED_FLAGS, to, &out);
        if (st == VM_OK)
                c->ops[8]++;
}

static void r_referenced(struct rnd *c)
{
        unsigned k = rspace(c), mapped;
        vaddr_t va = present_va(c, k);
        struct vm_page *pg;

        if (!va)
                return;
        pg = page_at(c->sp[k], va);
        (void)rmap_referenced(pg, rng_below(&c->r, 2), &mapped);
        CHECK_EQ(mapped, rmap_count(pg));
        c->ops[9]++;
}

static void run_random(uint64_t seed, unsigned steps)
{
        static struct rnd ctx;
        struct rnd *c = &ctx;
        void (*const ops[])(struct rnd *) = {
                r_map, r_map, r_map, r_shared_file, r_unmap,
                r_access, r_access, r_access, r_access, r_access, r_access,
                r_access, r_access, r_fork, r_exit, r_evict, r_evict,
                r_evict, r_lock, r_remap, r_referenced, r_referenced,
        };

        memset(c, 0, sizeof *c);
        setup(32 * MiB);
        rng_seed(&c->r, seed);
        c->file = make_file();
        for (unsigned step = 0; step < steps; step++) {
                ops[rng_below(&c->r, ARRAY_SIZE(ops))](c);
                CHECK(rmap_check());
                for (unsigned k = 0; k < RSPACES; k++)
                        CHECK(!c->sp[k] || vm_space_check(c->sp[k]));
        }
        printf("    %u steps: %lu maps, %lu shared file maps, %lu unmaps, "
               "%lu accesses, %lu forks, %lu exits, %lu evictions, %lu locks, "
               "%lu remaps, %lu referenced\n", steps, c->ops[0], c->ops[1],
               c->ops[2], c->ops[3], c->ops[4], c->ops[5], c->ops[6],
               c->ops[7], c->ops[8], c->ops[9]);
        for (unsigned i = 0; i < 10; i++)
                CHECK(c->ops[i] > steps / 200);
        for (unsigned k = 0; k < RSPACES; k++)
                if (c->sp[k])
                        destroy(c->sp[k]);
        vm_object_unref(c->file);
        check_baseline();
}

TEST(random_seed1)
{
        run_random(0x5eed1, 3000);
}

TEST(random_seed2)
{
        run_random(0xfeedbeef, 3000);
}
