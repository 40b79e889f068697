/*
 * layout.h (i386) - the kernel's virtual layout (machine/vmparam.h has
 * the picture), as constants shared by the kernel and the host tier
 * (kernel/arch/host/i386/include/machine/vmparam.h): everything but how a
 * physical address becomes a pointer.
 */
#ifndef ARCH_I386_LAYOUT_H
#define ARCH_I386_LAYOUT_H

#include <mercator/types.h>

#define PAGE_OFFSET     0xc0000000UL
#define USER_MIN        0x00010000UL    /* mmap_min_addr, as Linux */
#define USER_MAX        0xc0000000UL    /* Linux's TASK_SIZE */
/* User copies end there too: the kernel's low memory starts at it. */
#define USER_COPY_END   USER_MAX
#define KERNEL_BASE     PAGE_OFFSET
#define KERNEL_LOAD_PA  0x00100000UL    /* where the image is loaded */

#define PKMAP_BASE      0xff400000UL
#ifdef I386_PAE
#define LAST_PKMAP      512u
#define FIXADDR_START   0xff600000UL
#define RECURSIVE_BASE  0xff800000UL
#else
#define LAST_PKMAP      1024u
#define FIXADDR_START   0xff800000UL
#define RECURSIVE_BASE  0xffc00000UL
#endif
#define FIXADDR_END     RECURSIVE_BASE
/* fix_to_virt(0) is the highest fixmap page; indices grow downwards. */
#define FIXADDR_TOP     (FIXADDR_END - PAGE_SIZE)
/* Linux's VMALLOC_END (what MAXMEM is derived from) is KVA_END; its last
 * 16 MiB are Mercator's ioremap region, vmalloc's the rest. */
#define KVA_END         (PKMAP_BASE - 2 * PAGE_SIZE)    /* a guard gap */
#define IOREMAP_END     KVA_END
#define IOREMAP_BASE    (KVA_END - (16UL << 20))
#define VMALLOC_END     IOREMAP_BASE
#define VMALLOC_OFFSET  (8UL << 20)
#define VMALLOC_RESERVE (128UL << 20)
#ifdef I386_PAE
#define LARGE_PAGE_SIZE (2UL << 20)     /* low memory's pages: 2 MiB (PAE) */
#else
#define LARGE_PAGE_SIZE (4UL << 20)     /* ... 4 MiB (PSE) */
#endif

/* MAXMEM: 0xff3fe000 - 0xc0000000 - 128 MiB = 883.99 MiB, to 4 MiB: 880. */
#define LOWMEM_LIMIT    ((KVA_END - PAGE_OFFSET - VMALLOC_RESERVE) & \
                         ~((4UL << 20) - 1))
#define LOWMEM_CLASSIC  ((1UL << 30) - VMALLOC_RESERVE)        /* 896 MiB */

/* One past the last byte of low memory (boot sets it: min(RAM, limit))
 * and the first address of vmalloc (high_memory + 8 MiB). */
extern paddr_t lowmem_end;
extern vaddr_t vmalloc_start;
#define VMALLOC_BASE    vmalloc_start

#endif
