/*
 * sv39.c - Sv39 table operations (sv39.h). Tables are reached through the
 * linear map (pmap_kmem_va), which covers all RAM.
 */
#include <vm/pmap.h>
#include "sv39.h"

static pte_t *table(paddr_t pa)
{
        return pmap_kmem_va(pa);
}

vm_status_t sv39_map(paddr_t root, vaddr_t va, paddr_t pa, uint64_t len,
                     uint64_t bits, bool small)
{
        bits |= PTE_A | ((bits & PTE_W) ? PTE_D : 0);
        while (len) {
                int level = small ? 0 : 2;
                while (level > 0 && !(is_aligned(va, sv39_level_size(level)) &&
                                      is_aligned(pa, sv39_level_size(level)) &&
                                      len >= sv39_level_size(level)))
                        level--;
                pte_t *t = table(root);
                for (int l = 2; l > level; l--) {
                        pte_t *e = &t[sv39_index(va, l)];
                        if (!pte_valid(*e)) {
                                paddr_t tpa;
                                if (vm_ptpage_alloc(&tpa) != VM_OK)
                                        return VM_ENOMEM;
                                *e = pte_make(tpa, 0);
                        } else if (pte_leaf(*e)) {
                                return VM_EEXIST;
                        }
                        t = table(pte_pa(*e));
                }
                pte_t *e = &t[sv39_index(va, level)];
                if (pte_valid(*e))
                        return VM_EEXIST;
                *e = pte_make(pa, bits);
                va += sv39_level_size(level);
                pa += sv39_level_size(level);
                len -= sv39_level_size(level);
        }
        return VM_OK;
}

pte_t sv39_walk(paddr_t root, vaddr_t va, int *level)
{
        const pte_t *t = table(root);

        for (int l = 2; l >= 0; l--) {
                pte_t e = t[sv39_index(va, l)];
                if (!pte_valid(e))
                        return 0;
                if (pte_leaf(e)) {
                        *level = l;
                        return e;
                }
                t = table(pte_pa(e));
        }
        return 0;
}

pte_t sv39_unmap_page(paddr_t root, vaddr_t va)
{
        pte_t *t = table(root);

        for (int l = 2; l > 0; l--) {
                pte_t e = t[sv39_index(va, l)];
                if (!pte_valid(e) || pte_leaf(e))
                        return 0;
                t = table(pte_pa(e));
        }
        pte_t old = t[sv39_index(va, 0)];
        t[sv39_index(va, 0)] = 0;
        return old;
}

static void destroy_level(paddr_t tpa, int level,
                          void (*free_leaf)(paddr_t pa, pte_t e))
{
        pte_t *t = table(tpa);

        for (unsigned i = 0; i < SV39_ENTRIES; i++) {
                pte_t e = t[i];
                if (!pte_valid(e))
                        continue;
                if (!pte_leaf(e))
                        destroy_level(pte_pa(e), level - 1, free_leaf);
                else if (level == 0 && (e & PTE_U) && free_leaf)
                        free_leaf(pte_pa(e), e);
        }
        vm_ptpage_free(tpa);
}

void sv39_destroy(paddr_t root, void (*free_leaf)(paddr_t pa, pte_t e))
{
        pte_t *t = table(root);

        for (unsigned i = 0; i < SV39_ENTRIES / 2; i++)
                if (pte_valid(t[i]) && !pte_leaf(t[i]))
                        destroy_level(pte_pa(t[i]), 1, free_leaf);
        vm_ptpage_free(root);
}

vm_status_t sv39_ensure_table(paddr_t root, vaddr_t va, int level)
{
        pte_t *t = table(root);

        for (int l = 2; l > level; l--) {
                pte_t *e = &t[sv39_index(va, l)];
                if (!pte_valid(*e)) {
                        paddr_t tpa;
                        if (vm_ptpage_alloc(&tpa) != VM_OK)
                                return VM_ENOMEM;
                        *e = pte_make(tpa, 0);
                } else if (pte_leaf(*e)) {
                        return VM_EEXIST;
                }
                t = table(pte_pa(*e));
        }
        return VM_OK;
}
