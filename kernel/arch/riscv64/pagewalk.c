/*
 * pagewalk.c (riscv64) - the walk the Sv39 MMU makes for one address, told
 * in words: for each level, the table, the index (VPN[i]), the entry and
 * its bits; for a user address both of xv6's tables are walked, the user
 * table (satp in user mode) and the kernel table (satp in the kernel).
 * For /proc/PID/pagewalk/ADDR and the `pagewalk` program (CONCEPTS C12,
 * C13) once processes run on riscv64; the kernel tests read it now.
 */
#include <mercator/printk.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include "pmap_md.h"
#include "pte.h"

static int describe_bits(char *buf, size_t size, pte_t e)
{
        if (!(e & PTE_V))
                return ksnprintf(buf, size, "(not valid)");
        if (!(e & (PTE_R | PTE_W | PTE_X)))
                return ksnprintf(buf, size, "V (next table)");
        return ksnprintf(buf, size, "V %c%c%c%s%s%s%s%s",
                         e & PTE_R ? 'R' : '-', e & PTE_W ? 'W' : '-',
                         e & PTE_X ? 'X' : '-', e & PTE_U ? " U" : " S",
                         e & PTE_G ? " G" : "", e & PTE_A ? " A" : "",
                         e & PTE_D ? " D" : "",
                         e & PTE_SW_NOCACHE ? " (nocache)" :
                         e & PTE_SW_WC ? " (wc)" : "");
}

static size_t walk_one(paddr_t root, const char *which, vaddr_t va,
                       char *buf, size_t size)
{
        size_t n = (size_t)ksnprintf(buf, size, "%s table, satp.PPN %#lx:\n",
                                     which, root >> PAGE_SHIFT);
        paddr_t table = root;

        for (unsigned level = PT_LEVELS; level >= 1 && n < size; level--) {
                unsigned idx = pt_index(va, level);
                pte_t e = ((const pte_t *)phys_to_virt(table))[idx];
                char bits[64];

                describe_bits(bits, sizeof bits, e);
                n += (size_t)ksnprintf(buf + n, size - n,
                                       "  L%u at %#010lx [%3u] = %#018lx  %s\n",
                                       level - 1, table, idx, e, bits);
                if (!pte_present(e))
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "  no translation: an access faults\n");
                if (pte_is_leaf(e, level)) {
                        paddr_t pa = pte_leaf_pa(e, level) +
                                     (va & (pt_level_size(level) - 1));
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "  pa %#lx (a %lu KiB page)\n",
                                                     pa, pt_level_size(level) >> 10);
                }
                table = pte_table_pa(e);
        }
        return MIN(n, size);
}

size_t pmap_walk_describe(struct pmap *pm, vaddr_t va, char *buf, size_t size)
{
        size_t n = (size_t)ksnprintf(buf, size, "va %#lx (Sv39)\n", va);

        if (!va_is_canonical(va))
                return n + (size_t)ksnprintf(buf + n, size - n,
                                             "not canonical (bits 63-39 differ "
                                             "from bit 38): no translation\n");
        if (n < size && !pm->is_kernel && va_is_user_half(va))
                n += walk_one(pm->root, "user", va, buf + n, size - n);
        if (n < size)
                n += walk_one(pm->kroot, "kernel", va, buf + n, size - n);
        return MIN(n, size);
}
