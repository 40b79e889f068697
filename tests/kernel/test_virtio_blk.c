/*
 * test_virtio_blk.c - the virtio block driver against a real QEMU disk.
 *
 * tools/test.py boots the kernel tier with a raw image as the first
 * virtio disk (vda) whose every 8-byte word it wrote itself: sector 0
 * starts with DISK_MAGIC and the image's size in sectors, and word w of
 * every other sector s is host_word(s, w). The tests read it in many
 * shapes, write a region that test.py checks in the image after the
 * boot (WRITE_FIRST .. + WRITE_SECTORS, each word write_word(s, w)),
 * inject a read error, and send requests the disk must refuse. (The
 * second disk, vdb, is test_swap.c's.)
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/ktest.h>
#include <mercator/string.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include "../../kernel/arch/x86_64/virtio_blk.h"

#define DISK_MAGIC      0x4b5349444352454dULL   /* "MERCDISK" */
#define WRITE_FIRST     8192                    /* 4 MiB in */
#define WRITE_SECTORS   256                     /* 128 KiB */
#define WORDS           (BLK_SECTOR_SIZE / 8)
#define BUF_ORDER       4                       /* 64 KiB buffers */
#define BUF_SECTORS     ((PAGE_SIZE << BUF_ORDER) / BLK_SECTOR_SIZE)

static uint64_t host_word(uint64_t s, uint64_t w)
{
        return s * 0x9e3779b97f4a7c15ULL + w;
}

static uint64_t write_word(uint64_t s, uint64_t w)
{
        return ~(s * 0xc2b2ae3d27d4eb4fULL) ^ w << 48;
}

static uint64_t rng = 0x1234567;

static uint64_t next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static struct blkdev *vda(void)
{
        struct blkdev *d = blkdev_find("vda");

        KCHECK(d != NULL);
        return d;
}

/* Sectors [s, s + n) of the image as test.py wrote them, at buf? */
static bool host_sectors_ok(const uint64_t *buf, uint64_t s, uint64_t n)
{
        for (uint64_t i = 0; i < n; i++)
                for (uint64_t w = 0; w < WORDS; w++)
                        if (s + i != 0 && buf[i * WORDS + w] != host_word(s + i, w))
                                return false;
        return true;
}

KTEST(virtio_blk_finds_the_disk)
{
        struct blkdev *d = vda();
        struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);
        struct virtio_blk_stats st;

        if (!d || !pg) {
                KCHECK(pg != NULL);
                goto out;
        }
        uint64_t *w = pmap_kmem_va(pmm_page_to_pa(pg));
        KCHECK_EQ(blkdev_rw(d, false, 0, pmm_page_to_pa(pg), 512), 0);
        KCHECK_EQ(w[0], DISK_MAGIC);
        KCHECK_EQ(w[1], d->sectors);
        KCHECK(!d->read_only);
        KCHECK(virtio_blk_stats(d, &st));
        KCHECK(st.queue_size >= 4);
        KCHECK(st.irq_line < 16);
        /* Linux's numbers: virtio-blk major 254, 16 minors per disk. */
        KCHECK_EQ(d->rdev, 254 << 8);
        KCHECK(blkdev_by_rdev(254 << 8) == d);
        KCHECK(blkdev_by_rdev(254 << 8 | 1) == NULL);
out:
        if (pg)
                pmm_free_pages(pg, 0);
}

/* Reads of every shape: single sectors, runs inside a page, whole pages,
 * 64 KiB at once, and a batch of more requests than the queue holds (so
 * submit waits for room, and the ring's indices wrap). Every request is
 * answered by the interrupt (the tests run on the boot CPU). */
KTEST(virtio_blk_reads_what_the_host_wrote)
{
        struct blkdev *d = vda();
        struct vm_page *big = pmm_alloc_pages(BUF_ORDER, 0);
        struct virtio_blk_stats before, after;
        static struct blk_req reqs[120];
        uint64_t sent = 0;

        if (!d || !big) {
                KCHECK(big != NULL);
                goto out;
        }
        paddr_t pa = pmm_page_to_pa(big);
        uint64_t *buf = pmap_kmem_va(pa);
        uint64_t limit = d->sectors < WRITE_FIRST ? d->sectors : WRITE_FIRST;
        KCHECK(virtio_blk_stats(d, &before));

        /* 64 KiB at a time over the first 1 MiB. */
        for (uint64_t s = 0; s < 2048; s += BUF_SECTORS) {
                memset(buf, 0xee, PAGE_SIZE << BUF_ORDER);
                KCHECK_EQ(blkdev_rw(d, false, s, pa, PAGE_SIZE << BUF_ORDER), 0);
                KCHECK(host_sectors_ok(buf, s, BUF_SECTORS));
                sent++;
        }
        /* 400 random runs of 1-8 sectors, at random offsets in the buffer. */
        for (int i = 0; i < 400; i++) {
                uint64_t n = 1 + next_rand() % 8;
                uint64_t s = 1 + next_rand() % (limit - n - 1);
                uint64_t at = next_rand() % (BUF_SECTORS - n);

                memset(buf + at * WORDS, 0xee, n * BLK_SECTOR_SIZE);
                if (blkdev_rw(d, false, s, pa + at * BLK_SECTOR_SIZE,
                              (uint32_t)(n * BLK_SECTOR_SIZE)) != 0 ||
                    !host_sectors_ok(buf + at * WORDS, s, n)) {
                        KCHECK(!"random read");
                        break;
                }
                sent++;
        }
        /* 120 one-sector requests in flight at once (more than fit). */
        memset(buf, 0xee, PAGE_SIZE << BUF_ORDER);
        for (unsigned i = 0; i < 120; i++) {
                reqs[i] = (struct blk_req){ .sector = 1000 + i,
                                            .pa = pa + i * BLK_SECTOR_SIZE,
                                            .bytes = BLK_SECTOR_SIZE };
                KCHECK_EQ(blkdev_submit(d, &reqs[i]), 0);
        }
        for (unsigned i = 0; i < 120; i++) {
                blkdev_wait(d, &reqs[i]);
                KCHECK_EQ(reqs[i].status, 0);
        }
        sent += 120;
        KCHECK(host_sectors_ok(buf, 1000, 120));
        KCHECK(virtio_blk_stats(d, &after));
        KCHECK_EQ(after.by_irq - before.by_irq, sent);
        KCHECK_EQ(after.by_poll, before.by_poll);
        KCHECK(after.irqs > before.irqs);
        KCHECK(after.irqs - before.irqs <= sent);
out:
        if (big)
                pmm_free_pages(big, BUF_ORDER);
}

/* A region test.py checks in the image after the boot. */
KTEST(virtio_blk_writes_reach_the_disk)
{
        struct blkdev *d = vda();
        struct vm_page *a = pmm_alloc_pages(BUF_ORDER, 0);
        struct vm_page *b = pmm_alloc_pages(BUF_ORDER, 0);
        uint64_t writes;

        if (!d || !a || !b) {
                KCHECK(a && b);
                goto out;
        }
        KCHECK(d->sectors >= WRITE_FIRST + WRITE_SECTORS);
        uint64_t *wa = pmap_kmem_va(pmm_page_to_pa(a));
        uint64_t *wb = pmap_kmem_va(pmm_page_to_pa(b));
        writes = d->writes;
        for (uint64_t s = 0; s < WRITE_SECTORS; s += BUF_SECTORS) {
                for (uint64_t i = 0; i < BUF_SECTORS * WORDS; i++)
                        wa[i] = write_word(WRITE_FIRST + s + i / WORDS, i % WORDS);
                KCHECK_EQ(blkdev_rw(d, true, WRITE_FIRST + s, pmm_page_to_pa(a),
                                    PAGE_SIZE << BUF_ORDER), 0);
                memset(wb, 0, PAGE_SIZE << BUF_ORDER);
                KCHECK_EQ(blkdev_rw(d, false, WRITE_FIRST + s, pmm_page_to_pa(b),
                                    PAGE_SIZE << BUF_ORDER), 0);
                KCHECK(memcmp(wa, wb, PAGE_SIZE << BUF_ORDER) == 0);
        }
        KCHECK_EQ(d->writes - writes, WRITE_SECTORS / BUF_SECTORS);
out:
        if (a)
                pmm_free_pages(a, BUF_ORDER);
        if (b)
                pmm_free_pages(b, BUF_ORDER);
}

/* The driver's test mode fails the next read of a sector: that read is
 * -EIO, one not covering the sector is not touched, and the read after
 * it gets the right bytes again. */
KTEST(virtio_blk_injected_read_error)
{
        struct blkdev *d = vda();
        struct vm_page *pg = pmm_alloc_pages(0, 0);

        if (!d || !pg) {
                KCHECK(pg != NULL);
                goto out;
        }
        paddr_t pa = pmm_page_to_pa(pg);
        uint64_t *buf = pmap_kmem_va(pa);
        uint64_t errors = d->errors, reads = d->reads;

        virtio_blk_fail_read(d, 77);
        KCHECK_EQ(blkdev_rw(d, false, 60, pa, PAGE_SIZE), 0);   /* 60-67 */
        KCHECK(host_sectors_ok(buf, 60, 8));
        KCHECK_EQ(blkdev_rw(d, false, 72, pa, PAGE_SIZE), -EIO); /* 72-79 */
        KCHECK_EQ(d->errors - errors, 1);
        memset(buf, 0, PAGE_SIZE);
        KCHECK_EQ(blkdev_rw(d, false, 72, pa, PAGE_SIZE), 0);
        KCHECK(host_sectors_ok(buf, 72, 8));
        KCHECK_EQ(d->errors - errors, 1);
        KCHECK_EQ(d->reads - reads, 3);
out:
        if (pg)
                pmm_free_pages(pg, 0);
}

/* Requests outside the disk or not of whole sectors are refused before
 * they reach the device. */
KTEST(virtio_blk_refuses_bad_requests)
{
        struct blkdev *d = vda();
        struct vm_page *pg = pmm_alloc_pages(0, 0);

        if (!d || !pg) {
                KCHECK(pg != NULL);
                goto out;
        }
        paddr_t pa = pmm_page_to_pa(pg);
        uint64_t reads = d->reads, writes = d->writes;

        KCHECK_EQ(blkdev_rw(d, false, d->sectors, pa, 512), -EINVAL);
        KCHECK_EQ(blkdev_rw(d, false, d->sectors - 1, pa, 1024), -EINVAL);
        KCHECK_EQ(blkdev_rw(d, true, ~0ULL - 1, pa, 1024), -EINVAL);
        KCHECK_EQ(blkdev_rw(d, false, 0, pa, 0), -EINVAL);
        KCHECK_EQ(blkdev_rw(d, false, 0, pa, 100), -EINVAL);
        KCHECK_EQ(blkdev_rw(d, false, d->sectors - 1, pa, 512), 0);
        KCHECK_EQ(d->reads - reads, 1);
        KCHECK_EQ(d->writes, writes);
out:
        if (pg)
                pmm_free_pages(pg, 0);
}
