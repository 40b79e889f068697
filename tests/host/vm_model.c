/*
 * vm_model.c - the reference model of address spaces (see vm_model.h).
 */
#include "vm_model.h"

#include <vm/vm_rmap.h>

#include <vm/pmap.h>
#include <vm/vm_area.h>
#include <vm/vm_space.h>

#include <string.h>

#define P       PAGE_SIZE
#define LOCKS   (VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)

void vmm_init(struct vm_model *m, uint64_t seed, unsigned win, vaddr_t base)
{
        CHECK(win <= VMM_WIN);
        memset(m, 0, sizeof *m);
        rng_seed(&m->r, check_seed(seed));
        m->win = win;
        m->base = base;
}

static bool in_win(const struct vm_model *m, vaddr_t va)
{
        return va >= m->base && va < m->base + (vaddr_t)m->win * P;
}

struct vmm_page *vmm_at(struct vm_model *m, unsigned k, vaddr_t va)
{
        static struct vmm_page outside;

        if (!in_win(m, va)) {
                outside = (struct vmm_page){ .kind = VMM_NONE };
                return &outside;
        }
        return &m->pg[k][(va - m->base) >> PAGE_SHIFT];
}

void vmm_range(struct vm_model *m, unsigned max, unsigned *first, unsigned *n)
{
        *first = rng_below(&m->r, m->win);
        *n = 1 + rng_below(&m->r, MIN(max, m->win - *first));
}

vm_prot_t vmm_pick_prot(struct vm_model *m, const vm_prot_t *table, unsigned n)
{
        return table[rng_below(&m->r, n)];
}

bool vmm_free(struct vm_model *m, unsigned k, vaddr_t va, uint64_t n)
{
        for (uint64_t i = 0; i < n; i++)
                if (vmm_at(m, k, va + i * P)->kind != VMM_NONE)
                        return false;
        return true;
}

bool vmm_covered(struct vm_model *m, unsigned k, unsigned first, unsigned n)
{
        for (unsigned i = first; i < first + n; i++)
                if (m->pg[k][i].kind == VMM_NONE)
                        return false;
        return true;
}

vaddr_t vmm_place(struct vm_model *m, unsigned k, vaddr_t mmap_base, uint64_t n)
{
        vaddr_t va = mmap_base - n * P;

        while (!vmm_free(m, k, va, n))
                va -= P;
        return va;
}

int vmm_new_object(struct vm_model *m, uint64_t pages)
{
        CHECK(m->nobj < VMM_OBJS && pages <= VMM_OBJ_PAGES);
        memset(m->store[m->nobj], 0, VMM_OBJ_PAGES);
        m->obj_pages[m->nobj] = pages;
        return m->nobj++;
}

void vmm_map(struct vm_model *m, unsigned k, vaddr_t va, uint64_t n,
             enum vmm_kind kind, vm_prot_t prot, int obj, uint64_t idx)
{
        for (uint64_t i = 0; i < n; i++)
                *vmm_at(m, k, va + i * P) = (struct vmm_page){
                        .kind = kind, .prot = prot, .obj = obj,
                        .idx = idx + i };
}

void vmm_unmap(struct vm_model *m, unsigned k, vaddr_t va, uint64_t n)
{
        for (uint64_t i = 0; i < n; i++)
                *vmm_at(m, k, va + i * P) = (struct vmm_page){ .kind = VMM_NONE };
}

vm_status_t vmm_protect(struct vm_model *m, unsigned k, unsigned first,
                        unsigned n, vm_prot_t prot)
{
        for (unsigned i = first; i < first + n; i++) {
                const struct vmm_page *pg = &m->pg[k][i];
                if (pg->kind == VMM_NONE)
                        return VM_ENOMEM;
                if (pg->kind == VMM_FILE_SHARED && (prot & VM_PROT_WRITE))
                        return VM_EACCES;
        }
        for (unsigned i = first; i < first + n; i++)
                m->pg[k][i].prot = prot;
        return VM_OK;
}

vm_status_t vmm_lock(struct vm_model *m, unsigned k, unsigned first,
                     unsigned n, unsigned lock)
{
        if (!vmm_covered(m, k, first, n))
                return VM_ENOMEM;
        for (unsigned i = first; i < first + n; i++)
                m->pg[k][i].lock = lock;
        return VM_OK;
}

void vmm_lock_all(struct vm_model *m, unsigned k, unsigned lock)
{
        for (unsigned i = 0; i < m->win; i++)
                if (m->pg[k][i].kind != VMM_NONE)
                        m->pg[k][i].lock = lock;
}

vm_status_t vmm_dontneed(struct vm_model *m, unsigned k, unsigned first,
                         unsigned n)
{
        vm_status_t st = VM_OK;

        for (unsigned i = first; i < first + n; i++) {
                if (m->pg[k][i].lock & VM_AREA_LOCKED)
                        return VM_EINVAL;
                if (m->pg[k][i].kind == VMM_NONE)
                        st = VM_ENOMEM;         /* the rest still applies */
        }
        for (unsigned i = first; i < first + n; i++) {
                struct vmm_page *pg = &m->pg[k][i];
                if (pg->kind == VMM_ANON)
                        pg->byte = 0;
                if (pg->kind == VMM_FILE)
                        pg->own = false;
                if (pg->kind == VMM_ANON || pg->kind == VMM_FILE)
                        pg->copy = 0;
        }
        return st;
}

void vmm_fork(struct vm_model *m, unsigned p, unsigned c)
{
        memcpy(m->pg[c], m->pg[p], sizeof m->pg[c]);
        for (unsigned i = 0; i < m->win; i++)
                m->pg[c][i].lock = 0;
}

void vmm_clear(struct vm_model *m, unsigned k)
{
        memset(m->pg[k], 0, sizeof m->pg[k]);
}

/* Is page pg's source too short for it (SIGBUS)? */
static bool beyond(struct vm_model *m, const struct vmm_page *pg)
{
        switch (pg->kind) {
        case VMM_SHARED:
                return pg->idx >= m->obj_pages[pg->obj];
        case VMM_FILE:
                return !pg->own && pg->idx >= m->file_pages(pg->obj);
        case VMM_FILE_SHARED:
                return pg->idx >= m->file_pages(pg->obj);
        default:
                return false;
        }
}

enum fault_result vmm_access(struct vm_model *m, unsigned k, unsigned i,
                             vm_prot_t access)
{
        const struct vmm_page *pg = &m->pg[k][i];
        /* Exec as the MMU grants it: an MMU without NX (i386's 2-level
         * tables) cannot refuse a fetch from a readable page. */
        bool allowed = pg->kind != VMM_NONE && pg->prot != 0 &&
                       (!(access & VM_PROT_WRITE) || (pg->prot & VM_PROT_WRITE)) &&
                       (!(access & VM_PROT_EXEC) ||
                        (pmap_prot_implied(pg->prot) & VM_PROT_EXEC));

        if (!allowed) {
                /* As on x86 Linux: a fetch from an accessible page without
                 * exec is faulted in as a read first, so past the end of
                 * its object it is SIGBUS. */
                bool fetch_as_read = access == VM_PROT_EXEC &&
                                     pg->kind != VMM_NONE && pg->prot != 0;
                return fetch_as_read && beyond(m, pg) ? FAULT_BUS : FAULT_SEGV;
        }
        return beyond(m, pg) ? FAULT_BUS : FAULT_RESOLVED;
}

bool vmm_content_ok(struct vm_model *m, unsigned k, unsigned i, paddr_t pa)
{
        const struct vmm_page *pg = &m->pg[k][i];

        switch (pg->kind) {
        case VMM_ANON:
                return page_is(pa, pg->byte);
        case VMM_SHARED:
                return page_is(pa, m->store[pg->obj][pg->idx]);
        case VMM_FILE:
                if (pg->own)
                        return page_is(pa, pg->byte);
                return m->file_page_ok(pg->obj, pg->idx, pa);
        case VMM_FILE_SHARED:
                return m->file_page_ok(pg->obj, pg->idx, pa);
        default:
                return false;
        }
}

void vmm_wrote(struct vm_model *m, unsigned k, unsigned i, uint8_t b)
{
        struct vmm_page *pg = &m->pg[k][i];

        if (pg->kind == VMM_SHARED) {
                m->store[pg->obj][pg->idx] = b;
        } else {
                pg->byte = b;
                pg->own = pg->kind == VMM_FILE;
                pg->copy = ++m->copies;
        }
}

void vmm_check(struct vm_model *m, unsigned k, struct vm_space *s)
{
        uint64_t locked = 0;

        CHECK(vm_space_check(s));
        if (k == 0)                     /* every space at once */
                CHECK(rmap_check());
        CHECK(!vm_space_lookup(s, m->base - P));
        CHECK(!vm_space_lookup(s, vmm_va(m, m->win)));
        for (unsigned i = 0; i < m->win; i++) {
                vaddr_t va = vmm_va(m, i);
                const struct vm_area *a = vm_space_lookup(s, va);
                const struct vmm_page *pg = &m->pg[k][i];

                CHECK_EQ(a != NULL, pg->kind != VMM_NONE);
                if (!a) {
                        CHECK(!present(s, va));
                        continue;
                }
                CHECK_EQ(a->prot, pg->prot);
                CHECK_EQ(!!(a->flags & VM_AREA_SHARED),
                         pg->kind == VMM_SHARED || pg->kind == VMM_FILE_SHARED);
                CHECK_EQ(a->flags & LOCKS, pg->lock);
                locked += (pg->lock & VM_AREA_LOCKED) != 0;
                if (!present(s, va))
                        continue;
                CHECK(vmm_content_ok(m, k, i, frame(s, va)));
                CHECK(pg->prot != 0 && can(s, va, VM_PROT_READ));
                CHECK(!can(s, va, VM_PROT_WRITE) || (pg->prot & VM_PROT_WRITE));
                CHECK(!can(s, va, VM_PROT_EXEC) ||
                      (pmap_prot_implied(pg->prot) & VM_PROT_EXEC));
        }
        CHECK_EQ(vm_space_locked_pages(s), locked);
}

void vmm_check_sharing(struct vm_model *m, struct vm_space *const *sp)
{
        /* Every live space's private copies: (copy, frame or 0). */
        struct { uint32_t copy; paddr_t pa; unsigned k; vaddr_t va; }
                c[VMM_SPACES * VMM_WIN];
        unsigned n = 0;

        for (unsigned k = 0; k < VMM_SPACES; k++) {
                for (unsigned i = 0; sp[k] && i < m->win; i++) {
                        const struct vmm_page *pg = &m->pg[k][i];
                        vaddr_t va = vmm_va(m, i);

                        if ((pg->kind != VMM_ANON && pg->kind != VMM_FILE) ||
                            !pg->copy)
                                continue;
                        c[n].copy = pg->copy;
                        c[n].pa = present(sp[k], va) ? frame(sp[k], va) : 0;
                        c[n].k = k;
                        c[n++].va = va;
                }
        }
        for (unsigned x = 0; x < n; x++) {
                bool shared = false;

                for (unsigned y = 0; y < n; y++) {
                        bool same = c[x].copy == c[y].copy;

                        if (c[y].k == c[x].k)
                                continue;
                        shared |= same;
                        if (c[x].pa && c[y].pa)
                                CHECK_EQ(same, c[x].pa == c[y].pa);
                }
                /* Still another live space's copy: never written in
                 * place here, whatever happened around it. */
                if (shared && c[x].pa)
                        CHECK(!can(sp[c[x].k], c[x].va, VM_PROT_WRITE));
        }
}
