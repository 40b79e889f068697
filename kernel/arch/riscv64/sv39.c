/*
 * sv39.c - a read-only walk of any Sv39 table (sv39.h). Tables are reached
 * through the linear map (pmap_kmem_va), which covers all RAM.
 */
#include <vm/pmap.h>
#include "sv39.h"

static pte_t *table(paddr_t pa)
{
        return pmap_kmem_va(pa);
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
