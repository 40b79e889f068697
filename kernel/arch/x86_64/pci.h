/*
 * pci.h - PCI configuration space through the PC's mechanism #1 (ports
 * 0xcf8/0xcfc), the bus scan at boot, and the PIC lines of PCI devices.
 */
#ifndef ARCH_X86_64_PCI_H
#define ARCH_X86_64_PCI_H

#include <mercator/types.h>

#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_HEADER_TYPE         0x0e
#define PCI_BAR0                0x10
#define PCI_SECONDARY_BUS       0x19    /* PCI-to-PCI bridges (header 1) */
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_INTERRUPT_LINE      0x3c

#define PCI_COMMAND_IO          0x0001
#define PCI_COMMAND_MEMORY      0x0002
#define PCI_COMMAND_MASTER      0x0004
#define PCI_COMMAND_INTX_OFF    0x0400

/* One function found by the scan. */
struct pci_dev {
        uint8_t  bus, dev, fn;
        uint16_t vendor, device;
        uint8_t  irq;           /* the PIC line the firmware routed INTx to */
};

uint32_t pci_read32(const struct pci_dev *p, unsigned off);
uint16_t pci_read16(const struct pci_dev *p, unsigned off);
uint8_t  pci_read8(const struct pci_dev *p, unsigned off);
void     pci_write16(const struct pci_dev *p, unsigned off, uint16_t v);

/* Scan every bus reachable from bus 0 and offer each function to the
 * drivers (virtio_blk_probe). Once, at boot. */
void pci_init(void);

/* Call fn(arg) when PIC line `line` interrupts; opens the line. A line
 * may be shared: every handler on it runs. => false if the table is full. */
bool pci_irq_register(unsigned line, void (*fn)(void *), void *arg);
/* From trap.c: PIC line `line` interrupted (after its EOI). */
void pci_irq(unsigned line);

#endif
