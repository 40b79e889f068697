/*
 * fixmap.h (i386) - the fixmap: kernel pages at addresses fixed at compile
 * time, each index one page, counted down from FIXADDR_TOP (Linux's
 * enum fixed_addresses and fix_to_virt).
 *
 * The slots' page table is made at boot and shared by every directory, so
 * set_fixmap() is one entry write and one invlpg. The kmap_atomic slots are
 * KM_MAX_IDX per CPU: a nesting depth, used as a stack (the innermost
 * kmap_atomic is unmapped first).
 */
#ifndef MACHINE_FIXMAP_H
#define MACHINE_FIXMAP_H

#include <mercator/types.h>
#include <machine/vmparam.h>

#define MAX_CPUS        4
#define KM_MAX_IDX      16

enum fixed_addresses {
        FIX_HOLE,                       /* FIXADDR_TOP itself: left unmapped */
        FIX_APIC_BASE,                  /* local APIC registers (0xfee00000) */
        FIX_IO_APIC_BASE_0,             /* the first I/O APIC (0xfec00000) */
        FIX_KMAP_BEGIN,                 /* kmap_atomic: KM_MAX_IDX per CPU */
        FIX_KMAP_END = FIX_KMAP_BEGIN + KM_MAX_IDX * MAX_CPUS - 1,
        __end_of_fixed_addresses
};

_Static_assert(__end_of_fixed_addresses <= (RECURSIVE_BASE - FIXADDR_START) / PAGE_SIZE,
               "the fixmap fits its page table");

static inline vaddr_t fix_to_virt(unsigned idx)
{
        return FIXADDR_TOP - ((vaddr_t)idx << PAGE_SHIFT);
}

static inline unsigned virt_to_fix(vaddr_t va)
{
        return (unsigned)((FIXADDR_TOP - (va & ~(vaddr_t)PAGE_MASK)) >> PAGE_SHIFT);
}

/* Map frame pa at fix_to_virt(idx) (flags: PMAP_NOCACHE or 0), or unmap. */
void set_fixmap(unsigned idx, paddr_t pa, unsigned flags);
void clear_fixmap(unsigned idx);

#endif
