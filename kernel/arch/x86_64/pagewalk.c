/*
 * pagewalk.c - the walk the MMU makes for one address, told in words: for
 * each level, the table, the index the address selects, the entry found
 * there and what its bits mean. For /proc/PID/pagewalk/ADDR and the
 * `pagewalk` program (CONCEPTS C12, C13).
 */
#include <mercator/printk.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include "pmap_md.h"
#include "pte.h"

#define PTE_NX_USABLE   PTE_NX
#include <arch/x86/pte_leaf.h>

static const char *const level_names[PT_LEVELS + 1] = {
        "", "PT", "PD", "PDPT", "PML4",
};

size_t pmap_walk_describe(struct pmap *pm, vaddr_t va, char *buf, size_t size)
{
        size_t n = (size_t)ksnprintf(buf, size, "va %#lx, CR3 %#lx\n", va, pm->root);
        paddr_t table = pm->root;

        if (!va_is_canonical(va))
                return n + (size_t)ksnprintf(buf + n, size - n,
                                             "not canonical: no translation\n");
        for (unsigned level = PT_LEVELS; level >= 1 && n < size; level--) {
                unsigned idx = pt_index(va, level);
                pte_t e = ((const pte_t *)phys_to_virt(table))[idx];
                char bits[64];

                leaf_describe_bits(bits, sizeof bits, e, level);
                n += (size_t)ksnprintf(buf + n, size - n,
                                       "%-4s at %#010lx [%3u] = %#018lx  %s\n",
                                       level_names[level], table, idx, e, bits);
                if (!pte_present(e))
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "no translation: an access faults\n");
                if (pte_is_leaf(e, level)) {
                        paddr_t pa = pte_leaf_pa(e, level) +
                                     (va & (pt_level_size(level) - 1));
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "pa %#lx (a %lu KiB page)\n",
                                                     pa, pt_level_size(level) >> 10);
                }
                table = pte_table_pa(e);
        }
        return MIN(n, size);
}
