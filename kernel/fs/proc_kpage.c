/*
 * proc_kpage.c - /proc/kpageflags: one 64-bit word of Linux's KPF_* flags
 * per page frame, read at offset 8 * PFN (root only, as Linux's 0400).
 *
 * What Mercator's frame descriptors say, in Linux's terms: a free buddy
 * block's head is BUDDY; slab and page-table pages are SLAB and PGTABLE;
 * a page some VM object holds is UPTODATE, and ANON + SWAPBACKED for
 * anonymous memory, SWAPBACKED for tmpfs and shared memory (Linux keeps
 * shmem pages swap-backed), neither for a disk file's page; DIRTY when
 * the kernel wrote it and it has not been written back (PG_DIRTY: write(),
 * a write fault in a shared mapping of a disk file); MMAP when a page
 * table maps it; LRU, ACTIVE and REFERENCED from the reclaim lists;
 * ZERO_PAGE for the shared zero page; NOPAGE for a frame with no
 * descriptor (a hole below RAM).
 */
#include <mercator/errno.h>
#include <mercator/uaccess.h>
#include <fs/procfs.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_rmap.h>

#define KPF_LOCKED      0
#define KPF_REFERENCED  2
#define KPF_UPTODATE    3
#define KPF_DIRTY       4
#define KPF_LRU         5
#define KPF_ACTIVE      6
#define KPF_SLAB        7
#define KPF_BUDDY       10
#define KPF_MMAP        11
#define KPF_ANON        12
#define KPF_SWAPBACKED  14
#define KPF_NOPAGE      20
#define KPF_ZERO_PAGE   24
#define KPF_PGTABLE     26
#define BIT(n)          ((uint64_t)1 << (n))

static bool first_owner(void *arg, struct vm_object *obj, uint64_t index)
{
        (void)index;
        *(struct vm_object **)arg = obj;
        return false;
}

static uint64_t kpf_of(uint64_t pfn)
{
        paddr_t base = pmm_ram_base();
        uint64_t first = base >> PAGE_SHIFT;
        struct vm_page *pg;
        uint64_t k = 0;

        if (pfn < first || pfn - first >= pmm_npages())
                return BIT(KPF_NOPAGE);
        pg = pmm_pa_to_page((paddr_t)pfn << PAGE_SHIFT);
        if ((paddr_t)pfn << PAGE_SHIFT == vm_zero_page_pa())
                return BIT(KPF_ZERO_PAGE) | BIT(KPF_UPTODATE) |
                       (rmap_count(pg) ? BIT(KPF_MMAP) : 0);
        if (pg->flags & PG_FREE)
                return BIT(KPF_BUDDY);
        if (pg->flags & PG_SLAB)
                k |= BIT(KPF_SLAB);
        if (pg->flags & PG_PTABLE)
                k |= BIT(KPF_PGTABLE);
        if (pg->flags & PG_LRU) {
                unsigned list = pmm_lru_list(pg);
                k |= BIT(KPF_LRU);
                if (list == PMM_LRU_ACTIVE_ANON || list == PMM_LRU_ACTIVE_FILE)
                        k |= BIT(KPF_ACTIVE);
        }
        if (pg->flags & PG_REFERENCED)
                k |= BIT(KPF_REFERENCED);
        if (rmap_is_object_page(pg)) {
                struct vm_object *obj = NULL;
                k |= BIT(KPF_UPTODATE);
                rmap_for_each_owner(pg, first_owner, &obj);
                if (obj && obj->type == VM_OBJECT_ANON)
                        k |= BIT(KPF_ANON) | BIT(KPF_SWAPBACKED);
                else if (obj && obj->writable && !obj->pager_ops)
                        k |= BIT(KPF_SWAPBACKED);
                if (pg->flags & PG_DIRTY)
                        k |= BIT(KPF_DIRTY);
                if (rmap_count(pg))
                        k |= BIT(KPF_MMAP);
        }
        return k;
}

long proc_kpageflags_read(uint64_t off, uint64_t ubuf, size_t len)
{
        uint64_t end = (pmm_ram_base() >> PAGE_SHIFT) + pmm_npages();
        uint64_t words[64];
        size_t done = 0;

        if ((off & 7) || (len & 7))
                return -EINVAL;
        for (uint64_t pfn = off / 8; done < len && pfn < end;) {
                size_t n = 0;
                while (n < 64 && done + 8 * n < len && pfn < end)
                        words[n++] = kpf_of(pfn++);
                if (copy_to_user(ubuf + done, words, 8 * n))
                        return done ? (long)done : -EFAULT;
                done += 8 * n;
        }
        return (long)done;
}
