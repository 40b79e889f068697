/*
 * memstat.c - memory counter snapshots (memstat.h).
 */
#include <mercator/memstat.h>
#include <mercator/printk.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>
#include <vm/hugetlb.h>
#include <vm/pmm.h>

void mem_snapshot(struct mem_snapshot *s)
{
        proc_kstack_shrink();           /* stacks kept for reuse: not in use */
        kmalloc_shrink();
        /* The huge-page pool's free pages are free memory that root set
         * aside (a test may grow the pool and leave it so); pages in use
         * are not, so one lost in use shows here. */
        s->free_pages = pmm_free_count() + hugetlb_free_small_pages();
        s->huge_in_use = hugetlb_pool.nr - hugetlb_pool.free;
        s->vm = vmstat;
}

static unsigned differ(const char *who, const char *label, uint64_t a,
                       uint64_t b)
{
        if (a == b)
                return 0;
        pr_emerg("%s: leak: %s %" PRIu64 " -> %" PRIu64 "\n", who, label, a, b);
        return 1;
}

unsigned mem_snapshot_compare(const struct mem_snapshot *a, const char *who)
{
        struct mem_snapshot b;

        mem_snapshot(&b);
        return differ(who, "free pages", a->free_pages, b.free_pages) +
               differ(who, "huge pages in use", a->huge_in_use,
                      b.huge_in_use) +
               differ(who, "page-table pages", a->vm.pt_pages, b.vm.pt_pages) +
               differ(who, "slab pages", a->vm.slab_pages, b.vm.slab_pages) +
               differ(who, "large kmalloc pages", a->vm.kmalloc_large,
                      b.vm.kmalloc_large) +
               differ(who, "vmalloc pages", a->vm.vmalloc_pages,
                      b.vm.vmalloc_pages) +
               differ(who, "kernel stack pages", a->vm.kstack_pages,
                      b.vm.kstack_pages) +
               differ(who, "anonymous pages", a->vm.anon_pages,
                      b.vm.anon_pages) +
               differ(who, "file pages", a->vm.file_pages,
                      b.vm.file_pages) +
               differ(who, "shmem pages", a->vm.shmem_pages,
                      b.vm.shmem_pages);
}
