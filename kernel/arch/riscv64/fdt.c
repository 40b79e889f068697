/*
 * fdt.c - a reader of the flattened device tree (fdt.h): one pass over the
 * structure block, remembering for each open node the few properties the
 * kernel wants, and deciding what the node is when it closes. Nothing is
 * allocated; strings are copied into struct fdt_info.
 *
 * The format (devicetree specification, chapter 5): a header of big-endian
 * 32-bit words, then tokens: BEGIN_NODE name, PROP len nameoff value,
 * END_NODE, NOP, END. A node's properties come before its children, so a
 * parent's #address-cells and #size-cells are known when a child's reg is.
 */
#include <mercator/string.h>
#include "fdt.h"

#define FDT_MAGIC       0xd00dfeedu
#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9
#define FDT_MAX_DEPTH   16

struct fdt_header {
        uint32_t magic, totalsize, off_dt_struct, off_dt_strings;
        uint32_t off_mem_rsvmap, version, last_comp_version;
        uint32_t boot_cpuid_phys, size_dt_strings, size_dt_struct;
};

static uint32_t be32(const void *p)
{
        const uint8_t *b = p;

        return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
               (uint32_t)b[2] << 8 | b[3];
}

static uint64_t be64(const void *p)
{
        return (uint64_t)be32(p) << 32 | be32((const uint8_t *)p + 4);
}

/* A big-endian number of `cells` 32-bit cells (1 or 2). */
static uint64_t cells_value(const uint8_t *p, unsigned cells)
{
        return cells == 2 ? be64(p) : be32(p);
}

struct node {
        const char    *name;
        const uint8_t *reg, *compat, *devtype, *status;
        uint32_t       reg_len, compat_len;
        unsigned       addr_cells, size_cells;  /* for the children */
        uint32_t       irq;
};

/* Does the stringlist (compatible) hold s? */
static bool compat_has(const struct node *n, const char *s)
{
        const char *p = (const char *)n->compat, *end = p + n->compat_len;

        while (n->compat && p < end) {
                if (strcmp(p, s) == 0)
                        return true;
                p += strlen(p) + 1;
        }
        return false;
}

static bool name_is(const char *name, const char *base)
{
        size_t n = strlen(base);

        return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '@');
}

static void copy_str(char *dst, size_t size, const void *src, uint32_t len)
{
        size_t n = MIN((size_t)len, size - 1);

        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* Append the node's reg ranges (in the parent's cells) to a range list. */
static void add_ranges(const struct node *n, const struct node *parent,
                       struct mem_range *out, unsigned *count, uint32_t type)
{
        unsigned stride = (parent->addr_cells + parent->size_cells) * 4;

        for (uint32_t off = 0; n->reg && stride && off + stride <= n->reg_len &&
                               *count < FDT_MAX_RANGES; off += stride) {
                uint64_t base = cells_value(n->reg + off, parent->addr_cells);
                uint64_t size = cells_value(n->reg + off + parent->addr_cells * 4,
                                            parent->size_cells);
                if (size)
                        out[(*count)++] = (struct mem_range){ base, size, type };
        }
}

static void set_device(struct fdt_device *d, const struct node *n,
                       const struct node *parent)
{
        struct mem_range r[FDT_MAX_RANGES];
        unsigned count = 0;

        if (d->found)
                return;
        add_ranges(n, parent, r, &count, MEM_RESERVED);
        if (count == 0)
                return;
        *d = (struct fdt_device){ r[0].base, r[0].len, n->irq, true };
}

/* A hart (/cpus/cpu@N): its id is its reg; one that says it is not
 * usable (status other than "okay") is left out. */
static void add_hart(struct fdt_info *info, const struct node *n,
                     const struct node *parent)
{
        if (n->status && strcmp((const char *)n->status, "okay") != 0)
                return;
        if (!n->reg || n->reg_len < parent->addr_cells * 4 ||
            info->nharts >= FDT_MAX_HARTS)
                return;
        info->hartid[info->nharts++] = cells_value(n->reg, parent->addr_cells);
}

/* A node closes: decide what it was. */
static void node_done(struct fdt_info *info, const struct node *n,
                      const struct node *parent, const struct node *grand)
{
        if (!parent)
                return;
        if (!grand && (name_is(n->name, "memory") ||
                       (n->devtype && strcmp((const char *)n->devtype, "memory") == 0)))
                add_ranges(n, parent, info->mem, &info->nmem, MEM_USABLE);
        if (grand && !grand->name[0] && name_is(parent->name, "reserved-memory"))
                add_ranges(n, parent, info->resv, &info->nresv, MEM_RESERVED);
        if (n->devtype && strcmp((const char *)n->devtype, "cpu") == 0)
                add_hart(info, n, parent);
        if (compat_has(n, "ns16550a") || compat_has(n, "ns16550"))
                set_device(&info->uart, n, parent);
        if (compat_has(n, "riscv,plic0") || compat_has(n, "sifive,plic-1.0.0"))
                set_device(&info->plic, n, parent);
        if (compat_has(n, "riscv,clint0") || compat_has(n, "sifive,clint0"))
                set_device(&info->clint, n, parent);
        if (compat_has(n, "sifive,test0") || compat_has(n, "sifive,test1"))
                set_device(&info->test, n, parent);
        if (compat_has(n, "google,goldfish-rtc"))
                set_device(&info->rtc, n, parent);
        if (compat_has(n, "virtio,mmio") && info->nvirtio < FDT_MAX_VIRTIO) {
                set_device(&info->virtio[info->nvirtio], n, parent);
                if (info->virtio[info->nvirtio].found)
                        info->nvirtio++;
        }
}

/* A property of the innermost open node. */
static void node_prop(struct fdt_info *info, struct node *n,
                      const struct node *parent, const char *name,
                      const uint8_t *val, uint32_t len)
{
        if (strcmp(name, "reg") == 0)
                n->reg = val, n->reg_len = len;
        else if (strcmp(name, "compatible") == 0)
                n->compat = val, n->compat_len = len;
        else if (strcmp(name, "device_type") == 0)
                n->devtype = val;
        else if (strcmp(name, "status") == 0)
                n->status = val;
        else if (strcmp(name, "#address-cells") == 0 && len == 4)
                n->addr_cells = be32(val);
        else if (strcmp(name, "#size-cells") == 0 && len == 4)
                n->size_cells = be32(val);
        else if (strcmp(name, "interrupts") == 0 && len >= 4)
                n->irq = be32(val);
        else if (strcmp(name, "timebase-frequency") == 0 && (len == 4 || len == 8))
                info->timebase_hz = len == 8 ? be64(val) : be32(val);
        else if (strcmp(name, "riscv,isa") == 0 && !info->isa[0])
                copy_str(info->isa, sizeof info->isa, val, len);
        else if (strcmp(name, "mmu-type") == 0 && !info->mmu[0])
                copy_str(info->mmu, sizeof info->mmu, val, len);
        else if (parent && name_is(n->name, "chosen")) {
                if (strcmp(name, "bootargs") == 0)
                        copy_str(info->bootargs, sizeof info->bootargs, val, len);
                else if (strcmp(name, "linux,initrd-start") == 0 && (len == 4 || len == 8))
                        info->initrd_start = len == 8 ? be64(val) : be32(val);
                else if (strcmp(name, "linux,initrd-end") == 0 && (len == 4 || len == 8))
                        info->initrd_end = len == 8 ? be64(val) : be32(val);
        }
}

int fdt_parse(const void *dtb, struct fdt_info *info)
{
        const struct fdt_header *h = dtb;
        const uint8_t *base = dtb;
        struct node stack[FDT_MAX_DEPTH];
        int depth = 0;

        memset(info, 0, sizeof *info);
        if (be32(&h->magic) != FDT_MAGIC || be32(&h->version) < 16)
                return -1;
        info->dtb_size = be32(&h->totalsize);

        /* The memory reservation block: (address, size) pairs up to 0, 0. */
        for (const uint8_t *r = base + be32(&h->off_mem_rsvmap);
             info->nresv < FDT_MAX_RANGES; r += 16) {
                uint64_t a = be64(r), s = be64(r + 8);
                if (a == 0 && s == 0)
                        break;
                info->resv[info->nresv++] = (struct mem_range){ a, s, MEM_RESERVED };
        }

        const uint8_t *p = base + be32(&h->off_dt_struct);
        const uint8_t *end = p + be32(&h->size_dt_struct);
        const char *strings = (const char *)base + be32(&h->off_dt_strings);

        while (p < end) {
                uint32_t tok = be32(p);
                p += 4;
                if (tok == FDT_BEGIN_NODE) {
                        const char *name = (const char *)p;
                        p += align_up(strlen(name) + 1, 4);
                        if (depth >= FDT_MAX_DEPTH)
                                return -1;
                        stack[depth++] = (struct node){ .name = name,
                                .addr_cells = 2, .size_cells = 1 };
                } else if (tok == FDT_PROP) {
                        uint32_t len = be32(p), nameoff = be32(p + 4);
                        const uint8_t *val = p + 8;
                        p += 8 + align_up(len, 4);
                        if (depth > 0)
                                node_prop(info, &stack[depth - 1],
                                          depth > 1 ? &stack[depth - 2] : NULL,
                                          strings + nameoff, val, len);
                } else if (tok == FDT_END_NODE) {
                        if (depth == 0)
                                return -1;
                        depth--;
                        node_done(info, &stack[depth],
                                  depth > 0 ? &stack[depth - 1] : NULL,
                                  depth > 1 ? &stack[depth - 2] : NULL);
                } else if (tok == FDT_END) {
                        break;
                } else if (tok != FDT_NOP) {
                        return -1;
                }
        }
        return 0;
}
