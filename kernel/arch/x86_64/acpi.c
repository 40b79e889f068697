/*
 * acpi.c - the one thing the kernel reads from ACPI: the MADT ("APIC"
 * table), which lists the CPUs' local APICs.
 *
 * The RSDP comes from the PVH start info (QEMU's PVH ROM finds it), else
 * from a search of the BIOS area (0xe0000-0xfffff, on 16-byte boundaries),
 * as ACPI specifies. From it, the RSDT (32-bit pointers) or, for ACPI 2.0
 * and later, the XSDT (64-bit) lists every table; each table is checked by
 * its checksum before it is believed. Tables are reached through short
 * ioremap() mappings (firmware tables lie outside the linear map's RAM),
 * undone before returning: nothing here stays allocated.
 */
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/pmap.h>
#include <vm/vmalloc.h>
#include "acpi.h"
#include "boot.h"

struct acpi_rsdp {
        char     sig[8];                /* "RSD PTR " */
        uint8_t  checksum, oem[6], revision;
        uint32_t rsdt;
        uint32_t length;                /* revision >= 2 from here */
        uint64_t xsdt;
        uint8_t  xchecksum, reserved[3];
} __attribute__((packed));

struct acpi_header {
        char     sig[4];
        uint32_t length;
        uint8_t  revision, checksum;
        char     oem[6], oem_table[8];
        uint32_t oem_revision, creator, creator_revision;
} __attribute__((packed));

#define MADT_LAPIC      0               /* processor local APIC entry */
#define MADT_X2APIC     9               /* processor local x2APIC entry */
#define LAPIC_ENABLED   0x1
#define LAPIC_ONLINE_CAPABLE 0x2
#define ACPI_TABLE_MAX  (64 * KiB)      /* more is not a table we trust */

static uint8_t acpi_sum(const void *p, size_t len)
{
        const uint8_t *b = p;
        uint8_t s = 0;

        while (len--)
                s += *b++;
        return s;
}

/* Map a table's header, then all of it if its length is sane and the
 * checksum is right. => the mapping (iounmap() it) or NULL. */
static const struct acpi_header *acpi_map_table(paddr_t pa)
{
        const struct acpi_header *h = ioremap(pa, sizeof *h, 0);
        uint32_t len;

        if (!h)
                return NULL;
        len = h->length;
        iounmap((void *)h);
        if (len < sizeof *h || len > ACPI_TABLE_MAX)
                return NULL;
        h = ioremap(pa, len, 0);
        if (h && acpi_sum(h, len) != 0) {
                iounmap((void *)h);
                return NULL;
        }
        return h;
}

static bool rsdp_valid(const struct acpi_rsdp *r)
{
        return memcmp(r->sig, "RSD PTR ", 8) == 0 && acpi_sum(r, 20) == 0;
}

/* The RSDP's physical address: the one PVH gave, or found by search. */
static paddr_t acpi_find_rsdp(void)
{
        const paddr_t lo = 0xe0000, hi = 0x100000;
        paddr_t found = 0;
        const uint8_t *bios;

        if (boot_info.rsdp)
                return boot_info.rsdp;
        bios = ioremap(lo, hi - lo, 0);
        for (paddr_t off = 0; bios && off + 36 <= hi - lo && !found; off += 16)
                if (rsdp_valid((const struct acpi_rsdp *)(bios + off)))
                        found = lo + off;
        iounmap((void *)bios);
        return found;
}

/* The MADT's entries: each enabled (or online-capable) CPU's APIC id. */
static unsigned madt_cpus(const struct acpi_header *madt, unsigned *ids,
                          unsigned max)
{
        const uint8_t *p = (const uint8_t *)madt + sizeof *madt + 8;
        const uint8_t *end = (const uint8_t *)madt + madt->length;
        unsigned n = 0;

        for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
                uint32_t flags, id;
                if (p[0] == MADT_LAPIC && p[1] >= 8) {
                        id = p[3];
                        memcpy(&flags, p + 4, 4);
                } else if (p[0] == MADT_X2APIC && p[1] >= 16) {
                        memcpy(&id, p + 4, 4);
                        memcpy(&flags, p + 8, 4);
                } else {
                        continue;
                }
                if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE)))
                        continue;
                if (n < max && id < 255)        /* xAPIC ids only */
                        ids[n++] = id;
        }
        return n;
}

/* Look through the RSDT/XSDT's tables for the MADT. */
static unsigned sdt_find_cpus(const struct acpi_header *sdt, bool x,
                              unsigned *ids, unsigned max)
{
        unsigned width = x ? 8 : 4, n = 0;
        size_t count = (sdt->length - sizeof *sdt) / width;
        const uint8_t *ents = (const uint8_t *)(sdt + 1);

        for (size_t i = 0; i < count && n == 0; i++) {
                uint64_t pa = 0;
                memcpy(&pa, ents + i * width, width);
                const struct acpi_header *t = acpi_map_table(pa);
                if (!t)
                        continue;
                if (memcmp(t->sig, "APIC", 4) == 0)
                        n = madt_cpus(t, ids, max);
                iounmap((void *)t);
        }
        return n;
}

unsigned acpi_find_cpus(unsigned *ids, unsigned max)
{
        paddr_t rp = acpi_find_rsdp();
        const struct acpi_rsdp *r;
        const struct acpi_header *sdt;
        unsigned n = 0;
        bool x;

        if (!rp || !(r = ioremap(rp, sizeof *r, 0)))
                return 0;
        x = r->revision >= 2 && r->xsdt && acpi_sum(r, sizeof *r) == 0;
        paddr_t sdt_pa = x ? r->xsdt : r->rsdt;
        bool ok = rsdp_valid(r);
        iounmap((void *)r);
        if (!ok) {
                pr_warn("acpi: no valid RSDP at %#lx\n", rp);
                return 0;
        }
        sdt = acpi_map_table(sdt_pa);
        if (!sdt)
                return 0;
        if (memcmp(sdt->sig, x ? "XSDT" : "RSDT", 4) == 0)
                n = sdt_find_cpus(sdt, x, ids, max);
        iounmap((void *)sdt);
        return n;
}
