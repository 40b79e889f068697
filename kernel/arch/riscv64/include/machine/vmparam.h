/*
 * vmparam.h (riscv64) - the Sv39 virtual layout (docs/design.md, "RISC-V
 * Sv39: the layout").
 *
 * Sv39 translates 39-bit addresses, sign-extended from bit 38: a low half
 * [0, 2^38) and a high half [2^64 - 2^38, 2^64), each 256 GiB, each 256
 * of the root table's 512 slots.
 *   0x0000000000000000 - 0x0000003fffffffff  user (as xv6: MAXVA = 2^38)
 *      0x3fffe00000  SIGCODE (R|X|U): rt_sigreturn's two instructions,
 *                    where a signal handler returns (Linux: the vDSO's)
 *      0x3ffffff000  TRAMPOLINE (R|X, not U) in every table, same VA
 *      0x3fffffe000  TRAPFRAME: hart 0's trap frame slot; hart i's is
 *                    TRAPFRAME_HART(i), one page lower each (thread.c)
 *   0xffffffc000000000 - 0xffffffdfffffffff  linear map: physical address
 *                      pa at LINEAR_BASE + pa (128 GiB; RAM at 2 GiB up)
 *   0xffffffe000000000 - 0xffffffe1ffffffff  vmalloc and kernel stacks
 *   0xffffffe800000000 - 0xffffffe9ffffffff  ioremap
 *   0xffffffff80000000 - 0xffffffffffffffff  kernel image: KERNEL_BASE
 *                      maps physical 0x80000000 (OpenSBI loads the kernel
 *                      at 0x80200000, so it runs at 0xffffffff80200000)
 * The kernel half is above the user half, not at RAM's physical address as
 * in xv6, so that the kernel's table can also hold the user half of the
 * current process (user copies with SUM) without a collision at 2 GiB.
 */
#ifndef MACHINE_VMPARAM_H
#define MACHINE_VMPARAM_H

#include <mercator/types.h>

#define MAXVA           (1UL << 38)             /* xv6's MAXVA */
#define TRAMPOLINE      (MAXVA - PAGE_SIZE)
#define TRAPFRAME       (TRAMPOLINE - PAGE_SIZE)
#define TRAPFRAME_HART(i) (TRAPFRAME - (vaddr_t)(i) * PAGE_SIZE)
#define USER_MIN        0x0000000000010000UL    /* mmap_min_addr, as Linux */
/* The top 2 MiB of the user half hold the trampoline and trap frame. */
#define USER_MAX        (MAXVA - 2 * MiB)
#define SIGCODE         USER_MAX
#define LINEAR_BASE     0xffffffc000000000UL
#define LINEAR_SIZE     (128UL << 30)
#define VMALLOC_BASE    0xffffffe000000000UL
#define VMALLOC_END     0xffffffe200000000UL
#define IOREMAP_BASE    0xffffffe800000000UL
#define IOREMAP_END     0xffffffea00000000UL
#define KERNEL_BASE     0xffffffff80000000UL
#define KERNEL_PHYS_BASE 0x80000000UL           /* what KERNEL_BASE maps */

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

/* A kernel-image address -> its physical address. */
static inline paddr_t kimg_virt_to_phys(const void *va)
{
        return (paddr_t)((uintptr_t)va - KERNEL_BASE + KERNEL_PHYS_BASE);
}

#endif
