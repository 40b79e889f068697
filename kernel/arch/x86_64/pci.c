/*
 * pci.c - finding PCI devices (x86-64). Configuration space is reached
 * through mechanism #1: the address of a 32-bit register (bus, device,
 * function, offset) goes to port 0xcf8, its value comes and goes through
 * 0xcfc. The firmware (SeaBIOS, before QEMU's PVH entry) has already
 * assigned BARs and routed each function's INTx pin to a PIC line, which
 * it wrote into the interrupt-line register; Mercator keeps both.
 *
 * The scan starts at bus 0 and follows PCI-to-PCI bridges to their
 * secondary buses, so it reads only what exists instead of probing all
 * 256 buses (each port access is a VM exit under emulation).
 */
#include <mercator/printk.h>
#include "cpu.h"
#include "pci.h"
#include "timer.h"
#include "virtio_blk.h"

#define PCI_CONFIG_ADDR         0xcf8
#define PCI_CONFIG_DATA         0xcfc
#define MAX_IRQ_HANDLERS        8

static struct {
        unsigned line;
        void (*fn)(void *);
        void *arg;
} handlers[MAX_IRQ_HANDLERS];
static unsigned nhandlers;

static uint32_t config_addr(unsigned bus, unsigned dev, unsigned fn,
                            unsigned off)
{
        return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc);
}

static uint32_t read_raw(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
        outl(PCI_CONFIG_ADDR, config_addr(bus, dev, fn, off));
        return inl(PCI_CONFIG_DATA);
}

uint32_t pci_read32(const struct pci_dev *p, unsigned off)
{
        return read_raw(p->bus, p->dev, p->fn, off);
}

uint16_t pci_read16(const struct pci_dev *p, unsigned off)
{
        return (uint16_t)(pci_read32(p, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *p, unsigned off)
{
        return (uint8_t)(pci_read32(p, off) >> ((off & 3) * 8));
}

void pci_write16(const struct pci_dev *p, unsigned off, uint16_t v)
{
        outl(PCI_CONFIG_ADDR, config_addr(p->bus, p->dev, p->fn, off));
        outw((uint16_t)(PCI_CONFIG_DATA + (off & 2)), v);
}

static void scan_bus(unsigned bus, unsigned depth);

static void found(struct pci_dev *p, unsigned depth)
{
        uint8_t type = pci_read8(p, PCI_HEADER_TYPE) & 0x7f;

        p->irq = pci_read8(p, PCI_INTERRUPT_LINE);
        if (type == 1 && depth < 8) {
                scan_bus(pci_read8(p, PCI_SECONDARY_BUS), depth + 1);
                return;
        }
        if (type == 0)
                virtio_blk_probe(p);
}

static void scan_bus(unsigned bus, unsigned depth)
{
        for (unsigned dev = 0; dev < 32; dev++) {
                unsigned nfn = 1;

                for (unsigned fn = 0; fn < nfn; fn++) {
                        uint32_t id = read_raw(bus, dev, fn, PCI_VENDOR_ID);
                        struct pci_dev p = { (uint8_t)bus, (uint8_t)dev,
                                             (uint8_t)fn, (uint16_t)id,
                                             (uint16_t)(id >> 16), 0 };

                        if ((id & 0xffff) == 0xffff)
                                continue;       /* nothing there */
                        if (fn == 0 && (pci_read8(&p, PCI_HEADER_TYPE) & 0x80))
                                nfn = 8;        /* multi-function */
                        found(&p, depth);
                }
        }
}

void pci_init(void)
{
        scan_bus(0, 0);
}

bool pci_irq_register(unsigned line, void (*fn)(void *), void *arg)
{
        if (line > 15 || line == 2 || nhandlers == MAX_IRQ_HANDLERS)
                return false;
        handlers[nhandlers].line = line;
        handlers[nhandlers].fn = fn;
        handlers[nhandlers].arg = arg;
        nhandlers++;
        pic_enable_line(line);
        return true;
}

void pci_irq(unsigned line)
{
        for (unsigned i = 0; i < nhandlers; i++)
                if (handlers[i].line == line)
                        handlers[i].fn(handlers[i].arg);
}
