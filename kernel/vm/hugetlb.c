/*
 * hugetlb.c - the pool of explicit huge pages (hugetlb.h).
 *
 * Linux's rules (mm/hugetlb.c: set_max_huge_pages, gather_surplus_pages,
 * return_unused_surplus_pages, free_huge_folio) over one size. The free
 * list is a stack through the head page's `private` word.
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/hugetlb.h>
#include <vm/pmap.h>
#include <vm/vm_object.h>

struct hugetlb_pool hugetlb_pool;
static struct vm_page *free_top;        /* the free list */

unsigned hugetlb_order(void)
{
        unsigned order = 0;

        while (((uint64_t)PAGE_SIZE << order) < pmap_huge_size())
                order++;
        return order;
}

/*
 * Pages of each block in use still held, by block number (frame number
 * >> order): up to 64 GiB of RAM in 2 MiB blocks. A block beyond it is
 * never taken into the pool (fresh_page).
 */
#define MAX_BLOCKS      32768
static uint16_t live[MAX_BLOCKS];

static uint64_t block_of(const struct vm_page *pg)
{
        return (pmm_page_to_pa(pg) - pmm_ram_base()) >>
               (PAGE_SHIFT + hugetlb_order());
}

static uint64_t persistent(void)
{
        return hugetlb_pool.nr - hugetlb_pool.surplus;
}

static void push_free(struct vm_page *head)
{
        head->flags |= PG_HUGETLB;
        head->private = (uint64_t)(uintptr_t)free_top;
        free_top = head;
        hugetlb_pool.free++;
}

static struct vm_page *pop_free(void)
{
        struct vm_page *head = free_top;

        if (!head)
                return NULL;
        free_top = (struct vm_page *)(uintptr_t)head->private;
        head->private = 0;
        head->flags &= ~PG_HUGETLB;
        hugetlb_pool.free--;
        return head;
}

/*
 * A new block from the buddy allocator, counted in nr; NULL if there is
 * none or taking it would leave free memory under the low watermarks
 * (Linux's pool allocations do not dig into the reserves either: a
 * request for more pages than there are stops there).
 */
static struct vm_page *fresh_page(void)
{
        struct vm_page *head = pmm_alloc_pages(hugetlb_order(), PMM_HIGHMEM);

        if (head && (pmm_free_below(PMM_WMARK_LOW) ||
                     block_of(head) >= MAX_BLOCKS)) {
                pmm_free_pages(head, hugetlb_order());
                head = NULL;
        }
        if (head)
                hugetlb_pool.nr++;
        return head;
}

/* Hand a free page back to the buddy allocator (surplus if asked). */
static bool release_free(bool surplus)
{
        struct vm_page *head = pop_free();

        if (!head)
                return false;
        hugetlb_pool.nr--;
        if (surplus)
                hugetlb_pool.surplus--;
        pmm_free_pages(head, hugetlb_order());
        return true;
}

uint64_t hugetlb_set_count(uint64_t count)
{
        struct hugetlb_pool *p = &hugetlb_pool;
        uint64_t min_count;

        while (p->surplus && count > persistent())
                p->surplus--;           /* surplus pages become persistent */
        while (count > persistent()) {
                struct vm_page *head = fresh_page();

                if (!head)
                        break;
                push_free(head);
        }
        /* Pages in use and reserved ones stay. */
        min_count = p->resv + p->nr - p->free;
        if (min_count < count)
                min_count = count;
        while (min_count < persistent() && release_free(false))
                ;
        while (count < persistent() && p->surplus < p->nr)
                p->surplus++;           /* in use: goes back when freed */
        p->max = persistent();
        return p->max;
}

struct vm_page *hugetlb_alloc(bool reserved)
{
        struct hugetlb_pool *p = &hugetlb_pool;
        struct vm_page *head;

        if (reserved && p->resv && p->free) {
                p->resv--;
                return pop_free();
        }
        if (p->free > p->resv)
                return pop_free();
        if (p->surplus >= p->overcommit || !(head = fresh_page()))
                return NULL;
        p->surplus++;
        return head;
}

void hugetlb_free(struct vm_page *head)
{
        if (hugetlb_pool.surplus) {
                hugetlb_pool.surplus--;
                hugetlb_pool.nr--;
                head->flags &= ~PG_HUGETLB;
                pmm_free_pages(head, hugetlb_order());
                return;
        }
        push_free(head);
}

enum vm_status hugetlb_reserve(uint64_t npages)
{
        struct hugetlb_pool *p = &hugetlb_pool;
        uint64_t needed, got = 0;

        needed = p->resv + npages > p->free ? p->resv + npages - p->free : 0;
        while (got < needed && p->surplus < p->overcommit) {
                struct vm_page *head = fresh_page();

                if (!head)
                        break;
                p->surplus++;
                push_free(head);
                got++;
        }
        if (got < needed) {
                while (got--)
                        (void)release_free(true);
                return VM_ENOMEM;
        }
        p->resv += npages;
        return VM_OK;
}

void hugetlb_unreserve(uint64_t npages)
{
        struct hugetlb_pool *p = &hugetlb_pool;
        uint64_t n;

        if (npages > p->resv)
                panic("hugetlb_unreserve: %" PRIu64 " of %" PRIu64 " reserved",
                      npages, p->resv);
        p->resv -= npages;
        n = npages < p->surplus ? npages : p->surplus;
        while (n-- && p->free > p->resv && release_free(true))
                ;
}

void hugetlb_block_split(struct vm_page *head)
{
        pmm_split_pages(head, hugetlb_order());
        live[block_of(head)] = (uint16_t)hugetlb_page_pages();
}

static void block_unsplit(struct vm_page *head)
{
        for (uint64_t i = 0; i < hugetlb_page_pages(); i++) {
                head[i].flags = 0;
                head[i].refcount = 0;
                head[i].private = 0;
        }
        head->flags = PG_HEAD;
        head->order = (uint8_t)hugetlb_order();
        head->refcount = 1;
        live[block_of(head)] = 0;
}

void hugetlb_block_unsplit(struct vm_page *head, bool reserved)
{
        block_unsplit(head);
        if (!reserved) {
                hugetlb_free(head);
                return;
        }
        push_free(head);                /* the reservation stands */
        hugetlb_pool.resv++;
}

void hugetlb_page_put(struct vm_page *pg)
{
        uint64_t b = block_of(pg);

        if (!live[b])
                panic("hugetlb_page_put: block %" PRIu64 " not in use", b);
        if (--live[b])
                return;
        /* The block's head: frames of one block are consecutive
         * descriptors, and blocks are aligned in the frame numbers. */
        pg -= (pmm_page_to_pa(pg) >> PAGE_SHIFT) & (hugetlb_page_pages() - 1);
        block_unsplit(pg);
        hugetlb_free(pg);
}

bool hugetlb_size_log_ok(unsigned log)
{
        return log == 0 || (log < 64 && ((uint64_t)1 << log) == pmap_huge_size());
}

enum vm_status hugetlb_object_create(uint64_t bytes, bool reserve,
                                     struct vm_object **out)
{
        uint64_t n = bytes / pmap_huge_size();
        struct vm_object *obj;
        enum vm_status st;

        if (!n || bytes % pmap_huge_size())
                return VM_EINVAL;
        if ((st = vm_object_create_anon(bytes >> PAGE_SHIFT, &obj)) != VM_OK)
                return st;
        obj->hugetlb = true;
        obj->unevictable = true;
        if (reserve) {
                if (hugetlb_reserve(n) != VM_OK) {
                        vm_object_unref(obj);
                        return VM_ENOMEM;
                }
                obj->hugetlb_resv = n;
        }
        *out = obj;
        return VM_OK;
}

enum vm_status hugetlb_object_page(struct vm_object *obj, uint64_t first,
                                   struct vm_page **head)
{
        uint64_t n = hugetlb_page_pages();
        struct vm_page *pg = vm_object_lookup(obj, first);
        bool reserved;

        if (pg) {
                *head = pg;
                return VM_OK;
        }
        reserved = obj->hugetlb_resv > 0;
        if (!(pg = hugetlb_alloc(reserved)))
                return VM_ENOSPC;
        hugetlb_block_split(pg);
        for (uint64_t i = 0; i < n; i++)
                pmap_zero_page(pmm_page_to_pa(&pg[i]));
        if (vm_object_insert_pages(obj, first, pg, n) != VM_OK) {
                hugetlb_block_unsplit(pg, reserved);
                return VM_ENOMEM;
        }
        if (reserved)
                obj->hugetlb_resv--;
        *head = pg;
        return VM_OK;
}

void hugetlb_object_drop(struct vm_object *obj, uint64_t first, uint64_t end)
{
        uint64_t unfaulted = 0;

        for (uint64_t i = first; i < end; i += hugetlb_page_pages())
                unfaulted += !vm_object_lookup(obj, i);
        if (unfaulted > obj->hugetlb_resv)
                unfaulted = obj->hugetlb_resv;  /* MAP_NORESERVE: none */
        obj->hugetlb_resv -= unfaulted;
        hugetlb_unreserve(unfaulted);
        (void)vm_object_free_range(obj, first, end);
}

uint64_t hugetlb_free_small_pages(void)
{
        return hugetlb_pool.free << hugetlb_order();
}

#define HCHECK(cond, ...)                                               \
        do {                                                            \
                if (!(cond)) {                                          \
                        pr_err("hugetlb_check: " __VA_ARGS__);          \
                        return false;                                   \
                }                                                       \
        } while (0)

bool hugetlb_check(void)
{
        const struct hugetlb_pool *p = &hugetlb_pool;
        uint64_t n = 0;

        HCHECK(p->free <= p->nr && p->surplus <= p->nr,
               "nr %" PRIu64 " free %" PRIu64 " surplus %" PRIu64 "\n",
               p->nr, p->free, p->surplus);
        HCHECK(p->resv <= p->free, "resv %" PRIu64 " > free %" PRIu64 "\n",
               p->resv, p->free);
        for (struct vm_page *pg = free_top; pg;
             pg = (struct vm_page *)(uintptr_t)pg->private) {
                HCHECK(pg->flags & PG_HUGETLB, "free block without PG_HUGETLB\n");
                HCHECK(pg->order == hugetlb_order() && (pg->flags & PG_HEAD),
                       "free block of order %u\n", pg->order);
                HCHECK(((pmm_page_to_pa(pg) >> PAGE_SHIFT) &
                        (hugetlb_page_pages() - 1)) == 0, "unaligned block\n");
                HCHECK(++n <= p->free, "free list longer than %" PRIu64 "\n",
                       p->free);
        }
        HCHECK(n == p->free, "free list holds %" PRIu64 ", free %" PRIu64 "\n",
               n, p->free);
        return true;
}

void hugetlb_forget(void)
{
        memset(&hugetlb_pool, 0, sizeof hugetlb_pool);
        memset(live, 0, sizeof live);
        free_top = NULL;
}

/* A decimal number after `key` in the command line, or -1. */
static int64_t option_number(const char *cmdline, const char *key)
{
        const char *s = strstr(cmdline, key);
        int64_t v = 0;

        if (!s || (s != cmdline && s[-1] != ' '))
                return -1;
        s += strlen(key);
        if (*s < '0' || *s > '9')
                return -1;
        while (*s >= '0' && *s <= '9' && v < ((int64_t)1 << 40))
                v = v * 10 + (*s++ - '0');
        if (*s == 'K' || *s == 'k')
                v <<= 10;
        else if (*s == 'M' || *s == 'm')
                v <<= 20;
        else if (*s == 'G' || *s == 'g')
                v <<= 30;
        return v;
}

void hugetlb_boot_option(const char *cmdline)
{
        int64_t size = option_number(cmdline, "hugepagesz=");
        int64_t n = option_number(cmdline, "hugepages=");

        if (size >= 0 && (uint64_t)size != pmap_huge_size()) {
                pr_warn("hugepagesz=%" PRId64 ": unsupported size\n", size);
                return;
        }
        if (n > 0 && hugetlb_set_count((uint64_t)n) < (uint64_t)n)
                pr_warn("hugepages=%" PRId64 ": only %" PRIu64 " allocated\n",
                        n, hugetlb_pool.max);
}
