/*
 * vmparam.h (x86-64) - the kernel's virtual layout and the linear map.
 *
 * 48-bit virtual addresses split into two canonical halves:
 *   0x0000000000000000 - 0x00007fffffffffff  user, private to a process
 *   0xffff800000000000 - 0xffffbfffffffffff  linear map of all RAM (64 TiB)
 *   0xffffc00000000000 - 0xffffc07fffffffff  vmalloc and kernel stacks
 *   0xffffc08000000000 - 0xffffc0ffffffffff  ioremap (device memory)
 *   0xffffffff80000000 - 0xffffffffffffffff  kernel image (top 2 GiB)
 * Each region of the kernel half owns whole top-level (PML4) slots, which are
 * filled at boot and never change; that is what lets every address space
 * share the kernel half by copying those slots.
 */
#ifndef MACHINE_VMPARAM_H
#define MACHINE_VMPARAM_H

#include <mercator/types.h>

#define USER_MIN        0x0000000000010000UL    /* mmap_min_addr, as Linux */
#define USER_MAX        0x00007ffffffff000UL    /* Linux's TASK_SIZE */
#define LINEAR_BASE     0xffff800000000000UL
#define LINEAR_SIZE     (64UL << 40)
#define VMALLOC_BASE    0xffffc00000000000UL
#define VMALLOC_END     0xffffc08000000000UL
#define IOREMAP_BASE    0xffffc08000000000UL
#define IOREMAP_END     0xffffc10000000000UL
#define KERNEL_BASE     0xffffffff80000000UL

/* Physical -> linear-map virtual (Linux's __va). */
static inline void *phys_to_virt(paddr_t pa)
{
        return (void *)(pa + LINEAR_BASE);
}

/* Linear-map virtual -> physical (Linux's __pa); only inside the linear map:
 * the kernel image has its own, kimg_virt_to_phys(). */
static inline paddr_t virt_to_phys(const void *va)
{
        return (paddr_t)((uintptr_t)va - LINEAR_BASE);
}

static inline bool is_linear_addr(vaddr_t va)
{
        return va >= LINEAR_BASE && va - LINEAR_BASE < LINEAR_SIZE;
}

#endif
