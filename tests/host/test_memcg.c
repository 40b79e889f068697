/*
 * test_memcg.c - the memory controller's bookkeeping (kernel/vm/memcg.c):
 * charges kept in the page descriptor's flags, counted in the group and
 * every ancestor, per kind (anon, file, shmem); groups removed while
 * charged live on as zombies until their last page and swap slot go;
 * ids reused; limits found on the right ancestor. A random run of
 * charges, uncharges, swap charges, moves of the charging "process",
 * mkdir and rmdir is checked after every step against a model that keeps
 * only each page's group and each group's parent.
 */
#include "check.h"
#include "vm_fixture.h"

#include <mercator/errno.h>

#include <vm/memcg.h>
#include <vm/pmm.h>
#include <vm/swap.h>
#include <vm/vm_object.h>

#include <stdlib.h>
#include <string.h>

static struct memcg *cur;               /* the charging "process"'s group */

static struct memcg *hook(void)
{
        return cur;
}

static struct vm_object anon_obj = { .type = VM_OBJECT_ANON };
static struct vm_object file_obj = { .type = VM_OBJECT_FILE };
static struct vm_object shmem_obj = { .type = VM_OBJECT_ANON, .writable = true };

static void mc_setup(void)
{
        setup(8 << 20);
        memcg_init();
        memcg_current_hook = hook;
        cur = NULL;
}

TEST(charge_counts_in_every_ancestor_and_kind)
{
        struct memcg *a, *b;
        struct vm_page pg[3] = { 0 };

        mc_setup();
        uint64_t root0 = memcg_root.pages;
        CHECK_EQ(memcg_create(&memcg_root, "a", 1, &a), 0);
        CHECK_EQ(memcg_create(a, "b", 1, &b), 0);
        CHECK_EQ(memcg_create(a, "b", 1, &b), -EEXIST);
        memcg_put(a);                           /* create's references: */
        memcg_put(b);                           /* the tree holds them */
        b = memcg_child(a, "b", 1);
        CHECK(b && b->parent == a);
        cur = b;
        memcg_charge_page(&pg[0], &anon_obj);
        memcg_charge_page(&pg[1], &file_obj);
        memcg_charge_page(&pg[2], &shmem_obj);
        CHECK(memcg_of_page(&pg[0]) == b);
        CHECK_EQ(pg[0].flags & 0xffff, 0);      /* the low flags untouched */
        CHECK_EQ(b->pages, 3);
        CHECK_EQ(a->pages, 3);
        CHECK_EQ(memcg_root.pages, root0 + 3);
        CHECK_EQ(a->stat[MEMCG_ANON], 1);
        CHECK_EQ(a->stat[MEMCG_FILE], 2);       /* shmem is file too */
        CHECK_EQ(a->stat[MEMCG_SHMEM], 1);
        CHECK(memcg_page_in(&pg[0], a) && !memcg_page_in(&pg[0], NULL));
        CHECK(memcg_check());
        /* limits: the highest ancestor over its max is the one found */
        a->max = 2;
        CHECK(memcg_over_max(b) == a);
        b->max = 1;
        CHECK(memcg_over_max(b) == a);
        a->max = MEMCG_UNLIMITED;
        CHECK(memcg_over_max(b) == b);
        b->max = 3;
        CHECK(memcg_over_max(b) == NULL);
        memcg_uncharge_page(&pg[0], &anon_obj);
        memcg_uncharge_page(&pg[1], &file_obj);
        memcg_uncharge_page(&pg[2], &shmem_obj);
        CHECK_EQ(pg[0].flags, 0);
        CHECK_EQ(a->pages, 0);
        CHECK_EQ(a->stat[MEMCG_FILE] + a->stat[MEMCG_SHMEM], 0);
        CHECK_EQ(memcg_remove(a), -EBUSY);      /* a child */
        CHECK_EQ(memcg_remove(b), 0);
        CHECK_EQ(memcg_remove(a), 0);
        CHECK_EQ(memcg_root.pages, root0);
        CHECK_EQ(memcg_remove(&memcg_root), -EINVAL);
        CHECK(memcg_check());
}

TEST(removed_group_lives_while_charged)
{
        struct memcg *a;
        struct vm_page pg = { 0 };
        uint16_t id;

        mc_setup();
        CHECK_EQ(memcg_create(&memcg_root, "z", 1, &a), 0);
        memcg_attach(a);                        /* a process in it */
        memcg_put(a);                           /* create's reference */
        CHECK_EQ(memcg_remove(a), -EBUSY);
        cur = a;
        memcg_charge_page(&pg, &anon_obj);
        memcg_swap_charge(a->id, 2);
        cur = NULL;
        memcg_detach(a);                        /* the process leaves */
        id = a->id;
        CHECK_EQ(memcg_remove(a), 0);           /* a zombie now */
        CHECK(memcg_by_id(id) == a);
        CHECK(memcg_child(&memcg_root, "z", 1) == NULL);
        memcg_swap_uncharge(id, 2);
        CHECK(memcg_by_id(id) == a);            /* its page still holds it */
        CHECK(memcg_check());
        memcg_uncharge_page(&pg, &anon_obj);
        CHECK(memcg_by_id(id) == NULL);         /* freed with its last charge */
        CHECK(memcg_check());
}

TEST(swap_slot_free_uncharges_its_group)
{
        struct swap_header_info h = { .version = 1, .last_page = 63 };
        struct swap_area area;
        struct memcg *a;
        uint32_t slot;

        mc_setup();
        CHECK_EQ(memcg_create(&memcg_root, "s", 1, &a), 0);
        CHECK_EQ(swap_area_init(&area, &h), 0);
        CHECK(swap_slot_alloc(&area, &slot));
        CHECK(swap_slot_dup(&area, slot));      /* two users */
        area.memcg[slot] = a->id;               /* as swap_entry_charge */
        memcg_swap_charge(a->id, 1);
        a->swap_max = 1;
        CHECK(!memcg_swap_room(a->id));
        swap_slot_free(&area, slot);
        CHECK_EQ(a->swap, 1);                   /* one user left */
        swap_slot_free(&area, slot);
        CHECK_EQ(a->swap, 0);
        CHECK_EQ(area.memcg[slot], 0);
        CHECK(memcg_swap_room(a->id));
        swap_area_fini(&area);
        CHECK_EQ(memcg_remove(a), 0);
        memcg_put(a);
        CHECK(memcg_check());
}

TEST(ids_run_out_and_come_back)
{
        static struct memcg *g[MEMCG_ID_MAX];
        unsigned n = 0;
        struct memcg *extra;
        char name[16];

        mc_setup();
        for (;;) {
                snprintf(name, sizeof name, "g%u", n);
                long err = memcg_create(&memcg_root, name, strlen(name), &g[n]);
                if (err) {
                        CHECK_EQ(err, -ENOSPC);
                        break;
                }
                memcg_put(g[n]);
                n++;
        }
        CHECK_EQ(n, MEMCG_ID_MAX - 1);          /* 1 is the root */
        CHECK_EQ(memcg_remove(g[7]), 0);
        CHECK_EQ(memcg_create(&memcg_root, "again", 5, &extra), 0);
        memcg_put(extra);
        g[7] = extra;
        for (unsigned i = 0; i < n; i++)
                CHECK_EQ(memcg_remove(g[i]), 0);
        CHECK(memcg_root.children == NULL && memcg_root.nr_children == 0);
}

/* ---- the random run against a model ------------------------------------ */

#define NPAGES  512
#define NGROUPS 12

struct model {
        struct memcg *group[NGROUPS];           /* NULL: none in the slot */
        int           parent[NGROUPS];          /* slot, -1 for the root */
        bool          removed[NGROUPS];
        int           page_group[NPAGES];       /* -2 free, -1 root */
        int           kind[NPAGES];
        int           swap[NGROUPS + 1];        /* swap slots of each (last:
                                                 * the root) */
};

static const struct vm_object *kinds[3] = { &anon_obj, &file_obj, &shmem_obj };

static struct memcg *slot_group(struct model *m, int s)
{
        return s < 0 ? &memcg_root : m->group[s];
}

/* Is slot s the group g or below it, in the model? */
static bool model_below(struct model *m, int s, int g)
{
        for (; s >= 0; s = m->parent[s])
                if (s == g)
                        return true;
        return g < 0;
}

static void model_check(struct model *m, uint64_t root0)
{
        CHECK(memcg_check());
        for (int g = -1; g < NGROUPS; g++) {
                uint64_t pages = 0, swap = 0, anon = 0;

                if (g >= 0 && !m->group[g])
                        continue;
                for (int p = 0; p < NPAGES; p++)
                        if (m->page_group[p] != -2 &&
                            model_below(m, m->page_group[p], g)) {
                                pages++;
                                anon += m->kind[p] == 0;
                        }
                for (int s = 0; s < NGROUPS; s++)
                        if (m->group[s] && model_below(m, s, g))
                                swap += (uint64_t)m->swap[s];
                if (g < 0) {
                        swap += (uint64_t)m->swap[NGROUPS];
                        pages += root0;
                        anon = memcg_root.stat[MEMCG_ANON];
                }
                CHECK_EQ(slot_group(m, g)->pages, pages);
                CHECK_EQ(slot_group(m, g)->swap, swap);
                CHECK_EQ(slot_group(m, g)->stat[MEMCG_ANON], anon);
        }
}

/* Does anything still hold model slot s (pages, swap, live children)? */
static bool held(struct model *m, int s)
{
        for (int p = 0; p < NPAGES; p++)
                if (m->page_group[p] == s)
                        return true;
        for (int c = 0; c < NGROUPS; c++)
                if (m->group[c] && m->parent[c] == s)
                        return true;
        return m->swap[s] > 0;
}

/* Forget slots whose zombie the real code must have freed by now. */
static void model_reap(struct model *m)
{
        for (bool again = true; again;) {
                again = false;
                for (int s = 0; s < NGROUPS; s++)
                        if (m->group[s] && m->removed[s] && !held(m, s)) {
                                m->group[s] = NULL;
                                m->removed[s] = false;
                                again = true;
                        }
        }
}

TEST(random_run_against_model)
{
        static struct vm_page pages[NPAGES];
        static struct model m;
        uint64_t seed = check_seed(0x6d656d6367), root0;
        int cur_slot = -1;

        mc_setup();
        root0 = memcg_root.pages;
        memset(pages, 0, sizeof pages);
        memset(&m, 0, sizeof m);
        for (int p = 0; p < NPAGES; p++)
                m.page_group[p] = -2;
        srand((unsigned)seed);
        for (int step = 0; step < 20000; step++) {
                int op = rand() % 8, s = rand() % NGROUPS, p = rand() % NPAGES;

                switch (op) {
                case 0:                         /* mkdir under a live group */
                        if (!m.group[s]) {
                                int par = rand() % (NGROUPS + 1) - 1;
                                char name[8];
                                if (par >= 0 && (!m.group[par] || m.removed[par]))
                                        par = -1;
                                snprintf(name, sizeof name, "m%d", s);
                                CHECK_EQ(memcg_create(slot_group(&m, par), name,
                                                      strlen(name), &m.group[s]), 0);
                                memcg_put(m.group[s]);
                                m.parent[s] = par;
                        }
                        break;
                case 1:                         /* rmdir */
                        if (m.group[s] && !m.removed[s] && s != cur_slot) {
                                bool kids = false;
                                for (int c = 0; c < NGROUPS; c++)
                                        kids |= m.group[c] && !m.removed[c] &&
                                                m.parent[c] == s;
                                CHECK_EQ(memcg_remove(m.group[s]),
                                         kids ? -EBUSY : 0);
                                if (!kids)
                                        m.removed[s] = true;
                        }
                        break;
                case 2:                         /* move the process */
                        if (cur_slot >= 0)
                                memcg_detach(m.group[cur_slot]);
                        cur_slot = m.group[s] && !m.removed[s] ? s : -1;
                        if (cur_slot >= 0)
                                memcg_attach(m.group[cur_slot]);
                        cur = cur_slot >= 0 ? m.group[cur_slot] : NULL;
                        break;
                case 3: case 4:                 /* a page taken */
                        if (m.page_group[p] == -2) {
                                m.kind[p] = rand() % 3;
                                memcg_charge_page(&pages[p], kinds[m.kind[p]]);
                                m.page_group[p] = cur_slot;
                        }
                        break;
                case 5: case 6:                 /* a page freed */
                        if (m.page_group[p] != -2) {
                                memcg_uncharge_page(&pages[p], kinds[m.kind[p]]);
                                m.page_group[p] = -2;
                        }
                        break;
                case 7:                         /* swap: a slot charged, or one freed */
                        if (m.group[s] && rand() % 2) {
                                memcg_swap_charge(m.group[s]->id, 1);
                                m.swap[s]++;
                        } else if (m.group[s] && m.swap[s] > 0) {
                                memcg_swap_uncharge(m.group[s]->id, 1);
                                m.swap[s]--;
                        }
                        break;
                }
                model_reap(&m);
                for (int g = 0; g < NGROUPS; g++)
                        if (m.group[g])
                                CHECK(memcg_by_id(m.group[g]->id) == m.group[g]);
                model_check(&m, root0);
        }
        /* The end: every page and slot back, every group removed. */
        if (cur_slot >= 0)
                memcg_detach(m.group[cur_slot]);
        cur = NULL;
        for (int p = 0; p < NPAGES; p++)
                if (m.page_group[p] != -2)
                        memcg_uncharge_page(&pages[p], kinds[m.kind[p]]);
        for (int s = 0; s < NGROUPS; s++)
                if (m.group[s] && m.swap[s])
                        memcg_swap_uncharge(m.group[s]->id, (uint64_t)m.swap[s]);
        for (int pass = 0; pass < NGROUPS; pass++)
                for (int s = 0; s < NGROUPS; s++)
                        if (m.group[s] && !m.removed[s] &&
                            memcg_remove(m.group[s]) == 0)
                                m.removed[s] = true;
        CHECK(memcg_root.children == NULL);
        CHECK_EQ(memcg_root.pages, root0);
        CHECK_EQ(memcg_root.swap, 0);
        CHECK_EQ(memcg_total_charged(), memcg_root.own_pages);
        CHECK(memcg_check());
}

/* Real faults through the reverse map's owner hooks: anonymous pages a
 * space touches are charged to the current group, a fork's copy on write
 * to the writer's, and destroying the spaces uncharges every one. */
TEST(faults_charge_and_destroy_uncharges)
{
        struct memcg *a, *b;
        uint64_t root0;

        mc_setup();
        root0 = memcg_root.pages;
        CHECK_EQ(memcg_create(&memcg_root, "fa", 2, &a), 0);
        CHECK_EQ(memcg_create(&memcg_root, "fb", 2, &b), 0);
        struct vm_space *s = new_space();
        activate(s);
        map_at(s, 0x400000, 16 * PAGE_SIZE, VM_PROT_RW, PRIV);
        cur = a;
        for (int i = 0; i < 16; i++)
                user_fill(s, 0x400000 + (vaddr_t)i * PAGE_SIZE, 0x5a);
        CHECK_EQ(a->pages, 16);
        CHECK_EQ(a->stat[MEMCG_ANON], 16);
        CHECK_EQ(memcg_root.pages, root0 + 16);
        struct vm_space *c = NULL;
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        cur = b;
        activate(c);
        for (int i = 0; i < 4; i++)             /* copies on write */
                user_fill(c, 0x400000 + (vaddr_t)i * PAGE_SIZE, 0x33);
        CHECK_EQ(b->pages, 4);
        CHECK_EQ(a->pages, 16);
        CHECK(memcg_check());
        activate(NULL);
        destroy(c);
        CHECK_EQ(b->pages, 0);
        destroy(s);
        CHECK_EQ(a->pages, 0);
        CHECK_EQ(memcg_root.pages, root0);
        cur = NULL;
        CHECK_EQ(memcg_remove(a), 0);
        CHECK_EQ(memcg_remove(b), 0);
        memcg_put(a);
        memcg_put(b);
        CHECK(memcg_check());
        check_baseline();
}
