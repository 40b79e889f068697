/*
 * pte_leaf.h (x86, shared by x86-64 and i386) - a leaf entry from a
 * protection and pmap flags, and back, in every x86 format: the bits are
 * the same (pte_bits.h); the formats differ in width and in whether NX
 * exists. The includer defines pte_t, PTE_NX, PTE_PS and PTE_NX_USABLE
 * (the NX bit when the CPU honours it, else 0) first, from its pte.h.
 */
#ifndef ARCH_X86_PTE_LEAF_H
#define ARCH_X86_PTE_LEAF_H

#include <mercator/printk.h>
#include <vm/pmap.h>

/* A leaf at `level` mapping pa (prot is not VM_PROT_NONE). */
static inline pte_t leaf_entry(paddr_t pa, unsigned level, vm_prot_t prot,
                               unsigned flags)
{
        pte_t e = (pte_t)pa | PTE_P;

        if (level > 1)
                e |= PTE_PS;
        if (prot & VM_PROT_WRITE)
                e |= PTE_RW;
        if (!(prot & VM_PROT_EXEC))
                e |= PTE_NX_USABLE;
        if (flags & PMAP_USER)
                e |= PTE_US;
        if (flags & PMAP_GLOBAL)
                e |= PTE_G;
        if (flags & PMAP_NOCACHE)
                e |= PTE_CACHE_UC;
        else if (flags & PMAP_WC)
                e |= PTE_CACHE_WC;
        return e;
}

/* What a leaf allows: anything present is readable on x86. */
static inline vm_prot_t leaf_prot(pte_t e)
{
        return VM_PROT_READ | ((e & PTE_RW) ? VM_PROT_WRITE : 0) |
               ((e & PTE_NX) ? 0 : VM_PROT_EXEC);
}

static inline unsigned leaf_flags(pte_t e)
{
        unsigned flags = 0;

        if (e & PTE_US)
                flags |= PMAP_USER;
        if (e & PTE_G)
                flags |= PMAP_GLOBAL;
        if ((e & PTE_CACHE_MASK) == PTE_CACHE_UC)
                flags |= PMAP_NOCACHE;
        else if ((e & PTE_CACHE_MASK) == PTE_CACHE_WC)
                flags |= PMAP_WC;
        return flags;
}

/* An entry's bits in words, for pmap_walk_describe(). */
static inline int leaf_describe_bits(char *buf, size_t size, pte_t e,
                                     unsigned level)
{
        if (!(e & PTE_P))
                return ksnprintf(buf, size, "(not present)");
        return ksnprintf(buf, size, "P%s%s%s%s%s%s%s%s",
                         e & PTE_RW ? " RW" : " RO",
                         e & PTE_US ? " USER" : " KERNEL",
                         e & PTE_A ? " A" : "", e & PTE_D ? " D" : "",
                         level > 1 && (e & PTE_PS) ? " PS" : "",
                         e & PTE_G ? " G" : "",
                         (e & PTE_CACHE_MASK) == PTE_CACHE_UC ? " UC" :
                         (e & PTE_CACHE_MASK) == PTE_CACHE_WC ? " WC" : "",
                         e & PTE_NX ? " NX" : " X");
}

#endif
