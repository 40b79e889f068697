/*
 * swap.c - mkswap's header, swap-slot allocation, the active areas and
 * the page I/O to them (swap.h says how).
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/memcg.h>
#include <vm/swap.h>
#include <vm/vm_swap.h>

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
}

const char *swap_header_parse(const uint8_t page[4096], uint64_t device_pages,
                              struct swap_header_info *out)
{
        const uint8_t *magic = page + SWAP_HEADER_MAGIC_OFF;

        if (memcmp(magic, "SWAP-SPACE", 10) == 0)
                return "old (version 0) swap format; run mkswap again";
        if (memcmp(magic, "SWAPSPACE2", 10) != 0)
                return "no swap signature (SWAPSPACE2 at byte 4086): not "
                       "made by mkswap, or with a page size other than 4096";
        out->version = get32(page + SWAP_HEADER_VERSION_OFF);
        if (out->version == 0x01000000)
                return "swap header written in the other byte order";
        if (out->version != 1)
                return "unknown swap header version (not 1)";
        out->last_page = get32(page + SWAP_HEADER_LAST_OFF);
        out->nr_badpages = get32(page + SWAP_HEADER_NBAD_OFF);
        if (out->last_page == 0)
                return "swap area has no page besides its header";
        if (out->last_page >= device_pages)
                return "swap header says the area is larger than its device";
        if (out->nr_badpages > SWAP_HEADER_MAX_BAD)
                return "swap header lists more bad pages than fit in it";
        for (uint32_t i = 0; i < out->nr_badpages; i++) {
                uint32_t b = get32(page + SWAP_HEADER_BAD_OFF + 4 * i);

                if (b == 0 || b > out->last_page)
                        return "swap header lists a bad page outside the area";
                out->badpages[i] = b;
        }
        memcpy(out->uuid, page + SWAP_HEADER_UUID_OFF, 16);
        memcpy(out->label, page + SWAP_HEADER_LABEL_OFF, 16);
        out->label[16] = '\0';
        return NULL;
}

static uint32_t cluster_of(uint32_t slot)
{
        return slot / SWAP_CLUSTER_PAGES;
}

int swap_area_init(struct swap_area *a, const struct swap_header_info *h)
{
        memset(a, 0, sizeof *a);
        a->pages = h->last_page + 1;
        a->nclusters = (a->pages + SWAP_CLUSTER_PAGES - 1) / SWAP_CLUSTER_PAGES;
        a->map = kzalloc((size_t)a->pages * sizeof a->map[0]);
        a->cluster_free = kzalloc((size_t)a->nclusters * sizeof(uint16_t));
        a->cluster_good = kzalloc((size_t)a->nclusters * sizeof(uint16_t));
        a->memcg = kzalloc((size_t)a->pages * sizeof a->memcg[0]);
        if (!a->map || !a->cluster_free || !a->cluster_good || !a->memcg) {
                swap_area_fini(a);
                return -ENOMEM;
        }
        a->map[0] = SWAP_MAP_BAD;
        for (uint32_t i = 0; i < h->nr_badpages; i++)
                a->map[h->badpages[i]] = SWAP_MAP_BAD;
        for (uint32_t s = 0; s < a->pages; s++)
                if (a->map[s] == 0) {
                        a->usable++;
                        a->cluster_good[cluster_of(s)]++;
                        a->cluster_free[cluster_of(s)]++;
                }
        a->free = a->usable;
        return 0;
}

void swap_area_fini(struct swap_area *a)
{
        kfree(a->map);
        kfree(a->cluster_free);
        kfree(a->cluster_good);
        kfree(a->memcg);
        memset(a, 0, sizeof *a);
}

/* A cluster to continue in: one with every usable slot free, else
 * (fragmented) any with a free slot; searched round-robin from
 * next_cluster so the area is used from start to end. */
static bool pick_cluster(struct swap_area *a)
{
        for (int pass = 0; pass < 2; pass++)
                for (uint32_t i = 0; i < a->nclusters; i++) {
                        uint32_t c = (a->next_cluster + i) % a->nclusters;
                        bool whole = a->cluster_free[c] == a->cluster_good[c];

                        if (a->cluster_free[c] == 0 || (pass == 0 && !whole))
                                continue;
                        a->cur = c * SWAP_CLUSTER_PAGES;
                        a->cur_end = a->cur + SWAP_CLUSTER_PAGES;
                        if (a->cur_end > a->pages)
                                a->cur_end = a->pages;
                        a->next_cluster = (c + 1) % a->nclusters;
                        return true;
                }
        return false;
}

bool swap_slot_alloc(struct swap_area *a, uint32_t *slot)
{
        if (a->free == 0)
                return false;
        for (;;) {
                for (; a->cur < a->cur_end; a->cur++)
                        if (a->map[a->cur] == 0) {
                                uint32_t s = a->cur++;

                                a->map[s] = 1;
                                a->free--;
                                a->cluster_free[cluster_of(s)]--;
                                if (a->last && s == a->last + 1)
                                        a->sequential++;
                                a->last = s;
                                *slot = s;
                                return true;
                        }
                if (!pick_cluster(a))
                        panic("swap: %u slots free but no cluster has one",
                              a->free);
        }
}

static void check_slot(const struct swap_area *a, uint32_t slot,
                       const char *what)
{
        if (slot >= a->pages || a->map[slot] == 0 ||
            a->map[slot] == SWAP_MAP_BAD)
                panic("swap: %s of slot %u, which is %s", what, slot,
                      slot >= a->pages ? "outside the area" :
                      a->map[slot] == 0 ? "free" : "not a slot");
}

bool swap_slot_dup(struct swap_area *a, uint32_t slot)
{
        check_slot(a, slot, "dup");
        if (a->map[slot] == SWAP_MAP_MAX)
                return false;
        a->map[slot]++;
        return true;
}

void swap_slot_free(struct swap_area *a, uint32_t slot)
{
        check_slot(a, slot, "free");
        if (--a->map[slot] == 0) {
                if (a->memcg[slot])     /* its group's swap charge goes */
                        memcg_swap_uncharge(a->memcg[slot], 1);
                a->memcg[slot] = 0;
                a->free++;
                a->cluster_free[cluster_of(slot)]++;
        }
}

unsigned swap_slot_count(const struct swap_area *a, uint32_t slot)
{
        return slot < a->pages ? a->map[slot] : SWAP_MAP_BAD;
}

bool swap_area_check(const struct swap_area *a)
{
        uint32_t usable = 0, free = 0;

        if (a->pages == 0 || a->map[0] != SWAP_MAP_BAD) {
                pr_err("swap check: the header page is a slot\n");
                return false;
        }
        for (uint32_t c = 0; c < a->nclusters; c++) {
                uint32_t good = 0, cfree = 0;
                uint32_t end = (c + 1) * SWAP_CLUSTER_PAGES;

                for (uint32_t s = c * SWAP_CLUSTER_PAGES; s < end && s < a->pages; s++) {
                        if (a->map[s] == SWAP_MAP_BAD)
                                continue;
                        good++;
                        cfree += a->map[s] == 0;
                }
                if (good != a->cluster_good[c] || cfree != a->cluster_free[c]) {
                        pr_err("swap check: cluster %u has %u usable, %u free; "
                               "counted %u, %u\n", c, good, cfree,
                               a->cluster_good[c], a->cluster_free[c]);
                        return false;
                }
                usable += good;
                free += cfree;
        }
        if (usable != a->usable || free != a->free) {
                pr_err("swap check: %u usable, %u free; counted %u, %u\n",
                       usable, free, a->usable, a->free);
                return false;
        }
        if (a->cur > a->cur_end || a->cur_end > a->pages) {
                pr_err("swap check: current cluster %u..%u outside the area\n",
                       a->cur, a->cur_end);
                return false;
        }
        return true;
}

/* ---- the active areas and their I/O ---------------------------------- */

static struct swap_dev swaps[SWAP_MAX_AREAS];

static void copy_name(char *dst, const char *src, size_t size)
{
        size_t n = strlen(src);

        if (n >= size)
                n = size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

struct swap_dev *swap_dev_get(unsigned i)
{
        return i < SWAP_MAX_AREAS && swaps[i].on ? &swaps[i] : NULL;
}

void swap_totals(uint64_t *total, uint64_t *free)
{
        *total = *free = 0;
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++)
                if (swaps[i].on) {
                        *total += swaps[i].area.usable;
                        *free += swaps[i].area.free;
                }
}

long swap_on(struct blkdev *d, int prio, const char *name)
{
        struct swap_dev *sd = NULL;
        struct vm_page *pg;
        static struct swap_header_info h;
        const char *why;
        long err;

        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                if (swaps[i].on && swaps[i].dev == d)
                        return -EBUSY;
                if (!swaps[i].on && !sd)
                        sd = &swaps[i];
        }
        if (!sd)
                return -EPERM;
        if (d->read_only)
                return -EROFS;
        if (!(pg = pmm_alloc_pages(0, 0)))
                return -ENOMEM;
        paddr_t pa = pmm_page_to_pa(pg);
        err = blkdev_rw(d, false, 0, pa, PAGE_SIZE);
        if (!err) {
                const uint8_t *page = pmap_quick_enter_page(pa);

                why = swap_header_parse(page, d->sectors >> (PAGE_SHIFT - 9), &h);
                pmap_quick_remove_page((void *)page);
                if (why) {
                        pr_err("swapon: %s: %s\n", name, why);
                        err = -EINVAL;
                }
        }
        pmm_free_pages(pg, 0);
        if (err)
                return err;
        if ((err = swap_area_init(&sd->area, &h)) != 0)
                return err;
        sd->dev = d;
        sd->prio = prio;
        sd->on = true;
        copy_name(sd->name, name, sizeof sd->name);
        pr_info("Adding %luk swap on %s.  Priority:%d extents:1 across:%luk\n",
                (unsigned long)sd->area.usable * (PAGE_SIZE / 1024), sd->name,
                prio, (unsigned long)sd->area.usable * (PAGE_SIZE / 1024));
        return 0;
}

long swap_off(struct blkdev *d)
{
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                struct swap_dev *sd = &swaps[i];

                if (!sd->on || sd->dev != d)
                        continue;
                long err;

                /* Read every used slot back first (Linux's try_to_unuse);
                 * no new page goes to the area meanwhile. */
                sd->draining = true;
                err = vm_swap_unuse(i);
                sd->draining = false;
                if (err)
                        return err;
                if (sd->area.free != sd->area.usable) {
                        pr_err("swapoff: %s: %u slots still in use\n",
                               sd->name, sd->area.usable - sd->area.free);
                        return -EBUSY;
                }
                swap_area_fini(&sd->area);
                sd->on = false;
                sd->dev = NULL;
                return 0;
        }
        return -EINVAL;
}

struct swap_events swap_events;

static struct swap_dev *entry_dev(swp_entry_t e, const char *what)
{
        struct swap_dev *sd = swap_dev_get(SWP_AREA(e));

        if (!sd || SWP_SLOT(e) == 0 || SWP_SLOT(e) >= sd->area.pages)
                panic("swap: %s of entry %#" PRIx64 ", in no area", what, e);
        return sd;
}

long swap_write_pages(const paddr_t *pa, unsigned n, swp_entry_t *out)
{
        struct blk_req req[SWAP_WRITE_MAX];
        struct swap_dev *sd = NULL;
        unsigned idx = 0, failed = 0;
        uint32_t slot[SWAP_WRITE_MAX];
        bool sent[SWAP_WRITE_MAX];

        if (n == 0 || n > SWAP_WRITE_MAX)
                panic("swap_write_pages: %u pages", n);
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++)
                if (swaps[i].on && !swaps[i].draining && swaps[i].area.free >= n &&
                    (!sd || swaps[i].prio > sd->prio)) {
                        sd = &swaps[i];
                        idx = i;
                }
        if (!sd)
                return -ENOSPC;
        for (unsigned i = 0; i < n; i++) {
                swap_slot_alloc(&sd->area, &slot[i]);
                req[i] = (struct blk_req){
                        .sector = (uint64_t)slot[i] << (PAGE_SHIFT - BLK_SECTOR_SHIFT),
                        .pa = pa[i], .bytes = PAGE_SIZE, .write = true };
                sent[i] = blkdev_submit(sd->dev, &req[i]) == 0;
                if (!sent[i])
                        req[i].status = -EIO;
        }
        for (unsigned i = 0; i < n; i++) {
                if (sent[i])
                        blkdev_wait(sd->dev, &req[i]);
                failed += req[i].status != 0;
        }
        if (failed) {
                swap_events.write_errors += failed;
                for (unsigned i = 0; i < n; i++)
                        swap_slot_free(&sd->area, slot[i]);
                return -EIO;
        }
        for (unsigned i = 0; i < n; i++)
                out[i] = SWP_ENTRY(idx, slot[i]);
        swap_events.pswpout += n;
        return 0;
}

long swap_read_page(swp_entry_t e, paddr_t pa)
{
        bool ok;

        return swap_read_pages(&e, &pa, 1, &ok) == 1 ? 0 : -EIO;
}

unsigned swap_read_pages(const swp_entry_t *e, const paddr_t *pa, unsigned n,
                         bool *ok)
{
        struct blk_req req[SWAP_READ_MAX];
        struct blkdev *dev[SWAP_READ_MAX];
        unsigned good = 0;

        if (n > SWAP_READ_MAX)
                panic("swap_read_pages: %u pages", n);
        for (unsigned i = 0; i < n; i++) {
                dev[i] = entry_dev(e[i], "read")->dev;
                req[i] = (struct blk_req){
                        .sector = (uint64_t)SWP_SLOT(e[i]) <<
                                  (PAGE_SHIFT - BLK_SECTOR_SHIFT),
                        .pa = pa[i], .bytes = PAGE_SIZE };
                ok[i] = blkdev_submit(dev[i], &req[i]) == 0;
        }
        for (unsigned i = 0; i < n; i++) {
                if (ok[i]) {
                        blkdev_wait(dev[i], &req[i]);
                        ok[i] = req[i].status == 0;
                }
                good += ok[i];
        }
        swap_events.pswpin += good;
        swap_events.read_errors += n - good;
        return good;
}

unsigned swap_entry_count(swp_entry_t e)
{
        return swap_slot_count(&entry_dev(e, "count")->area, SWP_SLOT(e));
}

bool swap_entry_dup(swp_entry_t e)
{
        return swap_slot_dup(&entry_dev(e, "dup")->area, SWP_SLOT(e));
}

void swap_entry_charge(swp_entry_t e, uint16_t memcg_id)
{
        struct swap_area *a = &entry_dev(e, "charge")->area;

        if (!memcg_id || a->memcg[SWP_SLOT(e)])
                return;
        a->memcg[SWP_SLOT(e)] = memcg_id;
        memcg_swap_charge(memcg_id, 1);
}

void swap_entry_free(swp_entry_t e)
{
        swap_slot_free(&entry_dev(e, "free")->area, SWP_SLOT(e));
}
