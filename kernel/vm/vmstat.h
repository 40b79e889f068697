/*
 * vmstat.h - counters of where memory went, for tests and /proc/meminfo.
 *
 * Each counter is in pages and is kept by the subsystem named beside it.
 * Kernel tests snapshot them before a test body and compare after: a
 * difference is a leak. Free pages are counted by the buddy allocator
 * (pmm_free_count()), not here.
 */
#ifndef VM_VMSTAT_H
#define VM_VMSTAT_H

#include <mercator/types.h>
#include <machine/intr.h>

struct vmstat {
        uint64_t pt_pages;      /* page-table pages (vm_ptpage_alloc) */
        uint64_t slab_pages;    /* pages under slab caches (kmalloc) */
        uint64_t kmalloc_large; /* pages of kmalloc blocks above slab sizes */
        uint64_t vmalloc_pages; /* pages backing vmalloc areas */
        uint64_t kstack_pages;  /* pages of kernel stacks */
        uint64_t anon_pages;    /* user anonymous pages */
        uint64_t file_pages;    /* file objects' pages (vm_object.c) */
        uint64_t shmem_pages;   /* page-cache objects' pages: tmpfs, memfd */
        uint64_t hugetlb_pages; /* pool pages objects hold (vm/hugetlb.h) */
        uint64_t boot_pages;    /* taken by bootmem and never returned */
        /* Transparent huge pages (events, as Linux's /proc/vmstat). */
        uint64_t thp_fault_alloc;    /* a fault mapped a new huge page */
        uint64_t thp_fault_fallback; /* eligible, but no order-9 block */
        uint64_t thp_split_pmd;      /* a user large leaf became a table */
        uint64_t thp_file_alloc;     /* a shared-memory fault took a huge
                                      * block (vm_fault.c) */
        uint64_t thp_file_fallback;  /* ... eligible, but no block */
        uint64_t thp_file_mapped;    /* ... mapped one with a large leaf */
        uint64_t shmem_thp;     /* huge blocks shared objects hold whole
                                   (PG_SHMEM_HUGE; nr_shmem_hugepages) */
        uint64_t managed_pages; /* given to the buddy allocator at boot
                                   (Linux's totalram: /proc/meminfo's
                                   MemTotal) */
};

extern struct vmstat vmstat;

/*
 * Add n to a counter that code without the big kernel lock changes too
 * (the lock-free fault path: anon_pages, pt_pages): atomically where a
 * 64-bit counter is one word; a 32-bit machine (i386) runs its kernel on
 * one CPU, where interrupts off keep the two halves together.
 */
static inline void vmstat_add(uint64_t *counter, int64_t n)
{
#if UINTPTR_MAX > 0xffffffffu
        __atomic_fetch_add(counter, (uint64_t)n, __ATOMIC_RELAXED);
#else
        unsigned long s = intr_save();

        *counter += (uint64_t)n;
        intr_restore(s);
#endif
}

#endif
