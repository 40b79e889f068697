/*
 * vmparam.h (i386) - the kernel's virtual layout: Linux's 3G/1G split.
 *
 *   0x00000000 - 0xbfffffff  user, private to a process (TASK_SIZE = 3 GiB)
 *   0xc0000000 - high_memory low memory, mapped linearly (pa + PAGE_OFFSET)
 *                            with 4 MiB pages; the kernel image is in it,
 *                            linked at 0xc0100000 and loaded at 1 MiB
 *   + 8 MiB gap              (VMALLOC_OFFSET: catches runs off low memory)
 *   vmalloc_start - VMALLOC_END   vmalloc and kernel stacks, guard pages
 *   VMALLOC_END - 0xff3fe000 ioremap (16 MiB), then two guard pages
 *   0xff400000 - 0xff7fffff  the persistent kmap window (1024 pages)
 *   0xff800000 - 0xffbfffff  the fixmap (fix_to_virt: kmap_atomic slots,
 *                            the local APIC, ...), top down
 *   0xffc00000 - 0xffffffff  the recursive slot: directory entry 1023 is the
 *                            directory itself, so page table n appears at
 *                            0xffc00000 | n << 12 and the directory at
 *                            0xfffff000 (LunaixOS)
 * With PAE (I386_PAE) the three top regions are 2, 2 and 8 MiB: the
 * recursive slot is four directory entries (one per directory), at
 * 0xff800000, the fixmap at 0xff600000, and the kmap window 512 pages.
 *
 * The low-memory limit is derived as Linux derives MAXMEM: what is left of
 * the top GiB once 128 MiB (VMALLOC_RESERVE) are kept for vmalloc below the
 * kmap window, rounded down to a 4 MiB page: 880 MiB. The classic 896 MiB
 * (1 GiB - 128 MiB) pretends the kmap window, the fixmap and the recursive
 * slot take nothing.
 */
#ifndef MACHINE_VMPARAM_H
#define MACHINE_VMPARAM_H

#include <arch/i386/layout.h>

/* Physical -> virtual (Linux's __va); only for pa < lowmem_end. */
static inline void *phys_to_virt(paddr_t pa)
{
        return (void *)(uintptr_t)(pa + PAGE_OFFSET);
}

/* Low-memory virtual -> physical (Linux's __pa), the kernel image included:
 * it is part of low memory. */
static inline paddr_t virt_to_phys(const void *va)
{
        return (paddr_t)((uintptr_t)va - PAGE_OFFSET);
}

static inline bool is_linear_addr(vaddr_t va)
{
        return va >= PAGE_OFFSET && va - PAGE_OFFSET < lowmem_end;
}

#endif
