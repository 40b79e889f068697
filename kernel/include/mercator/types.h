/*
 * types.h - the basic types every kernel file uses.
 *
 * Builds both freestanding (the kernel) and hosted (the host test build):
 * only compiler-provided headers and machine/types.h are included here.
 */
#ifndef MERCATOR_TYPES_H
#define MERCATOR_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Physical and virtual addresses: vaddr_t and paddr_t, defined by each
 * architecture (machine/types.h), since their widths may differ (i386 with
 * PAE: 32-bit virtual, 64-bit physical). Where the widths agree C cannot
 * tell them apart; the names (and the pa/va naming of variables) are what
 * keeps them apart, as in FreeBSD.
 */
#include <machine/types.h>

/*
 * printf formats for the fixed-width 64-bit types, as <inttypes.h> names
 * them (a freestanding build has no <inttypes.h>): uint64_t is `unsigned
 * long` on LP64 machines and `unsigned long long` on i386, so "%lu" is
 * right on one and wrong on the other. The compiler says which.
 */
#ifndef PRIu64
#define PRId64          __INT64_FMTd__
#define PRIu64          __UINT64_FMTu__
#define PRIx64          __UINT64_FMTx__
#endif
#ifndef PRIxPTR                 /* vaddr_t, uintptr_t */
#define PRIuPTR         __UINTPTR_FMTu__
#define PRIxPTR         __UINTPTR_FMTx__
#endif

#define PAGE_SHIFT      12
#define PAGE_SIZE       (1UL << PAGE_SHIFT)
#define PAGE_MASK       (PAGE_SIZE - 1)

/* 64 bits wide on every machine: 4 * GiB must not wrap where long is 32
 * bits (i386). */
#define KiB             ((uint64_t)1 << 10)
#define MiB             ((uint64_t)1 << 20)
#define GiB             ((uint64_t)1 << 30)

#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)       ((a) < (b) ? (a) : (b))
#define MAX(a, b)       ((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) \
        ((type *)((char *)(ptr) - offsetof(type, member)))

static inline uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }
static inline uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static inline bool is_aligned(uint64_t x, uint64_t a) { return (x & (a - 1)) == 0; }
static inline uint64_t page_trunc(uint64_t x) { return align_down(x, PAGE_SIZE); }
static inline uint64_t page_round(uint64_t x) { return align_up(x, PAGE_SIZE); }

#define likely(x)       __builtin_expect(!!(x), 1)
#define unlikely(x)     __builtin_expect(!!(x), 0)

#endif
