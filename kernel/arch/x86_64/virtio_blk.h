/*
 * virtio_blk.h - virtio block devices on PCI (legacy transport), x86-64.
 */
#ifndef ARCH_X86_64_VIRTIO_BLK_H
#define ARCH_X86_64_VIRTIO_BLK_H

#include <mercator/blkdev.h>

struct pci_dev;

/* From the PCI scan: take the function if it is a virtio block device. */
void virtio_blk_probe(const struct pci_dev *p);

/* How requests of a disk completed (for the kernel tests). */
struct virtio_blk_stats {
        uint64_t irqs;          /* interrupts that found the ISR bit set */
        uint64_t by_irq;        /* requests completed in the interrupt */
        uint64_t by_poll;       /* ... by a waiter polling the used ring */
        unsigned irq_line;      /* the PIC line */
        unsigned queue_size;
};
bool virtio_blk_stats(struct blkdev *bd, struct virtio_blk_stats *out);

/* Test mode: the next read that covers `sector` completes with -EIO,
 * whatever the device answered (the request still goes to the device). */
void virtio_blk_fail_read(struct blkdev *bd, uint64_t sector);

#endif
