/*
 * virtio_blk.c - virtio block devices on PCI, through the legacy
 * (virtio 0.9.5) transport: registers in the function's I/O BAR, one
 * virtqueue in three physically contiguous pieces (descriptor table, the
 * driver's "available" ring, and, on the next 4 KiB boundary, the
 * device's "used" ring) whose page number goes to QUEUE_PFN. Why legacy
 * and not the virtio 1.0 transport: docs/design.md, "Disks".
 *
 * A request is a chain of three descriptors: a 16-byte header the device
 * reads (type, sector), the data (device-written for a read), and one
 * status byte the device writes. The header and status of the request
 * whose chain starts at descriptor h live in slot h of a driver page, so
 * nothing is allocated per request. blkdev_submit() queues a chain and
 * rings the doorbell (QUEUE_NOTIFY); the device DMAs, appends the chain's
 * head to the used ring and raises its INTx line. The interrupt handler
 * reads ISR (which lowers the line), takes every new used entry and
 * stores each request's outcome.
 *
 * Waiting: the PIC delivers the line to the boot CPU only. A waiter there
 * halts with interrupts on until its request's status changes (sti; hlt
 * is atomic, so a completion between the check and the hlt still wakes
 * it). A waiter on another CPU holds the big kernel lock, which the boot
 * CPU would need to take the interrupt from user mode, so it reaps the
 * used ring itself (counted apart: by_poll). The queue's lock orders the
 * two.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <machine/intr.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include "cpu.h"
#include "pci.h"
#include "virtio_blk.h"

#define VIRTIO_VENDOR           0x1af4
#define VIRTIO_BLK_LEGACY_ID    0x1001  /* transitional block device */

/* Legacy registers, offsets in BAR0 (no MSI-X: config at 0x14). */
#define VIO_DEVICE_FEATURES     0x00
#define VIO_DRIVER_FEATURES     0x04
#define VIO_QUEUE_PFN           0x08
#define VIO_QUEUE_SIZE          0x0c
#define VIO_QUEUE_SELECT        0x0e
#define VIO_QUEUE_NOTIFY        0x10
#define VIO_STATUS              0x12
#define VIO_ISR                 0x13
#define VIO_CONFIG              0x14    /* virtio_blk_config: capacity */

#define STATUS_ACKNOWLEDGE      0x01
#define STATUS_DRIVER           0x02
#define STATUS_DRIVER_OK        0x04
#define STATUS_FAILED           0x80

#define VIRTIO_BLK_F_RO         (1u << 5)
#define VIRTIO_BLK_F_FLUSH      (1u << 9)       /* legacy name: WCE */

#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2       /* the device writes this buffer */
#define VRING_ALIGN             4096

#define VIRTIO_BLK_T_IN         0
#define VIRTIO_BLK_T_OUT        1
#define VIRTIO_BLK_S_OK         0

#define MAX_DISKS               4
#define MAX_QUEUE               1024
#define SLOT_SIZE               32

struct vring_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
};

struct vring_used_elem {
        uint32_t id;
        uint32_t len;
};

/* Slot h: the header of the request whose chain starts at h, then its
 * status byte. */
struct vblk_slot {
        uint32_t type;
        uint32_t ioprio;
        uint64_t sector;
        uint8_t  status;
};
_Static_assert(sizeof(struct vblk_slot) <= SLOT_SIZE, "slot");

struct vblk {
        struct blkdev bd;
        struct spinlock lock;           /* everything below */
        uint16_t iobase;
        unsigned irq;
        bool irq_on;                    /* the line has a handler */
        uint16_t qsize;
        struct vring_desc *desc;
        volatile uint16_t *avail;       /* flags, idx, ring[qsize] */
        volatile uint16_t *used_hdr;    /* flags, idx */
        volatile struct vring_used_elem *used_ring;
        uint16_t free_head;             /* free descriptors, via next */
        unsigned nfree;
        uint16_t last_used;             /* used entries taken so far */
        uint8_t *slots;                 /* SLOT_SIZE per descriptor */
        paddr_t slots_pa;
        struct blk_req *inflight[MAX_QUEUE];    /* by chain head */
        struct virtio_blk_stats stats;
        bool fail_armed;                /* virtio_blk_fail_read() */
        uint64_t fail_sector;
};

static struct vblk disks[MAX_DISKS];
static unsigned ndisks;

static unsigned order_for(size_t bytes)
{
        unsigned order = 0;

        while (((size_t)PAGE_SIZE << order) < bytes)
                order++;
        return order;
}

static void free_desc(struct vblk *d, uint16_t i)
{
        d->desc[i].next = d->free_head;
        d->free_head = i;
        d->nfree++;
}

static uint16_t take_desc(struct vblk *d)
{
        uint16_t i = d->free_head;

        d->free_head = d->desc[i].next;
        d->nfree--;
        return i;
}

/* Take every used entry the device added. [lock] => how many. */
static unsigned reap(struct vblk *d)
{
        unsigned n = 0;

        for (;;) {
                uint16_t idx = __atomic_load_n(&d->used_hdr[1],
                                               __ATOMIC_ACQUIRE);
                if (idx == d->last_used)
                        return n;
                struct vring_used_elem e =
                        d->used_ring[d->last_used % d->qsize];
                d->last_used++;
                if (e.id >= d->qsize || !d->inflight[e.id]) {
                        pr_err("virtio-blk %s: the device completed "
                               "descriptor %u, which is not queued\n",
                               d->bd.name, e.id);
                        continue;
                }
                uint16_t h = (uint16_t)e.id;
                struct blk_req *r = d->inflight[h];
                struct vblk_slot *s = (void *)(d->slots + h * SLOT_SIZE);
                int res = s->status == VIRTIO_BLK_S_OK ? 0 : -EIO;
                uint16_t data = d->desc[h].next;
                uint16_t st = d->desc[data].next;

                d->inflight[h] = NULL;
                free_desc(d, st);
                free_desc(d, data);
                free_desc(d, h);
                if (!r->write && d->fail_armed && d->fail_sector >= r->sector &&
                    d->fail_sector < r->sector + (r->bytes >> BLK_SECTOR_SHIFT)) {
                        d->fail_armed = false;
                        res = -EIO;
                }
                if (r->write)
                        d->bd.writes++;
                else
                        d->bd.reads++;
                if (res)
                        d->bd.errors++;
                /* The last touch: the waiter may free r right after. */
                __atomic_store_n(&r->status, res, __ATOMIC_RELEASE);
                n++;
        }
}

static void vblk_irq(void *arg)
{
        struct vblk *d = arg;

        spin_lock(&d->lock);
        if (inb(d->iobase + VIO_ISR) & 1) {     /* reading it lowers INTx */
                d->stats.irqs++;
                d->stats.by_irq += reap(d);
        }
        spin_unlock(&d->lock);
}

/* Wait a little for the device: until an interrupt on the boot CPU, or
 * one look at the used ring elsewhere. `done` is checked with interrupts
 * off just before the halt, so its change cannot be missed. */
static void idle(struct vblk *d, bool (*done)(struct vblk *, void *), void *arg)
{
        if (d->irq_on && machine_cpu_id() == 0) {
                unsigned long f = intr_save();

                if (!done(d, arg))
                        __asm__ volatile("sti; hlt; cli" ::: "memory");
                intr_restore(f);
        } else {
                spin_lock(&d->lock);
                d->stats.by_poll += reap(d);
                spin_unlock(&d->lock);
                cpu_relax();
        }
}

static bool req_done(struct vblk *d, void *arg)
{
        struct blk_req *r = arg;

        (void)d;
        return __atomic_load_n(&r->status, __ATOMIC_ACQUIRE) != BLK_PENDING;
}

static bool room(struct vblk *d, void *arg)
{
        (void)arg;
        return __atomic_load_n(&d->nfree, __ATOMIC_ACQUIRE) >= 3;
}

static int vblk_submit(struct blkdev *bd, struct blk_req *r)
{
        struct vblk *d = bd->priv;

        for (;;) {
                spin_lock(&d->lock);
                if (d->nfree >= 3)
                        break;
                spin_unlock(&d->lock);
                idle(d, room, NULL);
        }
        uint16_t h = take_desc(d), data = take_desc(d), st = take_desc(d);
        struct vblk_slot *s = (void *)(d->slots + h * SLOT_SIZE);
        paddr_t spa = d->slots_pa + (paddr_t)h * SLOT_SIZE;

        s->type = r->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
        s->ioprio = 0;
        s->sector = r->sector;
        s->status = 0xff;
        d->desc[h] = (struct vring_desc){ spa, 16, VRING_DESC_F_NEXT, data };
        d->desc[data] = (struct vring_desc){
                r->pa, r->bytes,
                (uint16_t)(VRING_DESC_F_NEXT | (r->write ? 0 : VRING_DESC_F_WRITE)),
                st };
        d->desc[st] = (struct vring_desc){
                spa + offsetof(struct vblk_slot, status), 1,
                VRING_DESC_F_WRITE, 0 };
        d->inflight[h] = r;
        r->slot = h;
        uint16_t idx = d->avail[1];
        d->avail[2 + idx % d->qsize] = h;
        __atomic_store_n(&d->avail[1], (uint16_t)(idx + 1), __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        outw(d->iobase + VIO_QUEUE_NOTIFY, 0);
        spin_unlock(&d->lock);
        return 0;
}

static void vblk_wait(struct blkdev *bd, struct blk_req *r)
{
        struct vblk *d = bd->priv;

        while (!req_done(d, r))
                idle(d, req_done, r);
}

static const struct blkdev_ops vblk_ops = { vblk_submit, vblk_wait };

static void fail(struct vblk *d, const struct pci_dev *p, const char *why)
{
        outb(d->iobase + VIO_STATUS, STATUS_FAILED);
        pr_warn("virtio-blk at PCI %02x:%02x.%u: %s; disk not used\n",
                p->bus, p->dev, p->fn, why);
}

void virtio_blk_probe(const struct pci_dev *p)
{
        if (p->vendor != VIRTIO_VENDOR || p->device != VIRTIO_BLK_LEGACY_ID)
                return;
        if (ndisks == MAX_DISKS) {
                pr_warn("virtio-blk: more than %u disks; %02x:%02x.%u not "
                        "used\n", MAX_DISKS, p->bus, p->dev, p->fn);
                return;
        }
        uint32_t bar0 = pci_read32(p, PCI_BAR0);
        if (!(bar0 & 1)) {
                pr_warn("virtio-blk: %02x:%02x.%u has no I/O BAR (not a "
                        "legacy device); not used\n", p->bus, p->dev, p->fn);
                return;
        }
        struct vblk *d = &disks[ndisks];
        memset(d, 0, sizeof *d);
        spin_init(&d->lock, "virtio-blk", LOCK_RANK_BLKDEV);
        d->iobase = (uint16_t)(bar0 & ~3u);
        d->irq = p->irq;
        uint16_t cmd = pci_read16(p, PCI_COMMAND);
        cmd = (uint16_t)((cmd | PCI_COMMAND_IO | PCI_COMMAND_MASTER) &
                         ~PCI_COMMAND_INTX_OFF);
        pci_write16(p, PCI_COMMAND, cmd);

        outb(d->iobase + VIO_STATUS, 0);                /* reset */
        outb(d->iobase + VIO_STATUS, STATUS_ACKNOWLEDGE);
        outb(d->iobase + VIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        uint32_t features = inl(d->iobase + VIO_DEVICE_FEATURES);
        outl(d->iobase + VIO_DRIVER_FEATURES,
             features & (VIRTIO_BLK_F_RO | VIRTIO_BLK_F_FLUSH));
        outw(d->iobase + VIO_QUEUE_SELECT, 0);
        d->qsize = inw(d->iobase + VIO_QUEUE_SIZE);
        if (d->qsize < 4 || d->qsize > MAX_QUEUE ||
            (d->qsize & (d->qsize - 1))) {
                fail(d, p, "unusable queue size");
                return;
        }
        size_t avail_end = 16u * d->qsize + 6 + 2u * d->qsize;
        size_t used_off = (avail_end + VRING_ALIGN - 1) & ~(size_t)(VRING_ALIGN - 1);
        size_t ring_bytes = used_off + 6 + 8u * d->qsize;
        struct vm_page *ring = pmm_alloc_pages(order_for(ring_bytes),
                                               PMM_ZERO | PMM_DMA32);
        struct vm_page *slots = pmm_alloc_pages(
                order_for((size_t)SLOT_SIZE * d->qsize), PMM_ZERO);
        if (!ring || !slots) {
                if (ring)
                        pmm_free_pages(ring, order_for(ring_bytes));
                if (slots)
                        pmm_free_pages(slots, order_for((size_t)SLOT_SIZE * d->qsize));
                fail(d, p, "no memory for its queue");
                return;
        }
        paddr_t ring_pa = pmm_page_to_pa(ring);
        uint8_t *base = pmap_kmem_va(ring_pa);
        d->desc = (struct vring_desc *)base;
        d->avail = (volatile uint16_t *)(base + 16u * d->qsize);
        d->used_hdr = (volatile uint16_t *)(base + used_off);
        d->used_ring = (volatile struct vring_used_elem *)(base + used_off + 4);
        d->slots_pa = pmm_page_to_pa(slots);
        d->slots = pmap_kmem_va(d->slots_pa);
        for (unsigned i = d->qsize; i-- > 0;)
                free_desc(d, (uint16_t)i);
        outl(d->iobase + VIO_QUEUE_PFN, (uint32_t)(ring_pa >> PAGE_SHIFT));

        d->bd.sectors = inl(d->iobase + VIO_CONFIG) |
                        (uint64_t)inl(d->iobase + VIO_CONFIG + 4) << 32;
        d->bd.read_only = features & VIRTIO_BLK_F_RO;
        d->bd.ops = &vblk_ops;
        d->bd.priv = d;
        d->bd.name[0] = 'v';
        d->bd.name[1] = 'd';
        d->bd.name[2] = (char)('a' + ndisks);
        d->stats.irq_line = d->irq;
        d->stats.queue_size = d->qsize;
        d->irq_on = d->irq < 16 && pci_irq_register(d->irq, vblk_irq, d);
        outb(d->iobase + VIO_STATUS,
             STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
        ndisks++;
        blkdev_register(&d->bd);
        pr_info("virtio-blk: %s, %" PRIu64 " sectors (%" PRIu64 " MiB)%s, "
                "PCI %02x:%02x.%u, IRQ %u%s, queue %u\n", d->bd.name,
                d->bd.sectors, d->bd.sectors >> 11,
                d->bd.read_only ? " read-only" : "", p->bus, p->dev, p->fn,
                d->irq, d->irq_on ? "" : " (not usable: polled)", d->qsize);
}

bool virtio_blk_stats(struct blkdev *bd, struct virtio_blk_stats *out)
{
        for (unsigned i = 0; i < ndisks; i++)
                if (&disks[i].bd == bd) {
                        spin_lock(&disks[i].lock);
                        *out = disks[i].stats;
                        spin_unlock(&disks[i].lock);
                        return true;
                }
        return false;
}

void virtio_blk_fail_read(struct blkdev *bd, uint64_t sector)
{
        struct vblk *d = bd->priv;

        spin_lock(&d->lock);
        d->fail_armed = true;
        d->fail_sector = sector;
        spin_unlock(&d->lock);
}
