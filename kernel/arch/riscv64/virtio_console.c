/*
 * virtio_console.c (riscv64) - a transmit-only virtio console on QEMU's
 * virt board, the picture feed's port (vmview_md.c): the board has one
 * UART, the console, so the feed needs a device of its own, and virtio is
 * what virt offers. tools/vmview adds one with
 *     -device virtio-serial-device -device virtconsole,chardev=...
 * and writes what arrives to the feed file.
 *
 * The transport is virtio-mmio, version 2 (the "modern" register layout;
 * QEMU offers it when told -global virtio-mmio.force-legacy=false). The
 * device tree lists the board's eight transports (compatible
 * "virtio,mmio", boot.c maps them uncached); a transport with nothing
 * plugged in reports device ID 0. The console is device ID 3. Without
 * VIRTIO_CONSOLE_F_MULTIPORT it has one port and two queues: 0 receives
 * (unused here: nothing is read from the feed) and 1 transmits.
 *
 * Output is polled and synchronous: a write copies up to a page into a
 * bounce buffer, hands it to the device as one descriptor, notifies, and
 * spins until the device has put it on the used ring. The queue and the
 * buffer are static (the kernel image's .bss, physically contiguous), so
 * the feed allocates nothing and frees nothing. No interrupts: the avail
 * ring asks for none and the PLIC never enables the device's line.
 */
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include "boot.h"
#include "virtio_console.h"

/* virtio-mmio registers (virtio 1.x, 4.2.2) */
#define VIRTIO_MAGIC            0x000   /* "virt" */
#define VIRTIO_VERSION          0x004
#define VIRTIO_DEVICE_ID        0x008
#define VIRTIO_DEV_FEATURES     0x010
#define VIRTIO_DEV_FEATURES_SEL 0x014
#define VIRTIO_DRV_FEATURES     0x020
#define VIRTIO_DRV_FEATURES_SEL 0x024
#define VIRTIO_QUEUE_SEL        0x030
#define VIRTIO_QUEUE_NUM_MAX    0x034
#define VIRTIO_QUEUE_NUM        0x038
#define VIRTIO_QUEUE_READY      0x044
#define VIRTIO_QUEUE_NOTIFY     0x050
#define VIRTIO_STATUS           0x070
#define VIRTIO_QUEUE_DESC       0x080   /* low word; high at +4 */
#define VIRTIO_QUEUE_AVAIL      0x090
#define VIRTIO_QUEUE_USED       0x0a0

#define VIRTIO_MAGIC_VALUE      0x74726976
#define VIRTIO_ID_CONSOLE       3

/* device status bits */
#define STATUS_ACKNOWLEDGE      1
#define STATUS_DRIVER           2
#define STATUS_DRIVER_OK        4
#define STATUS_FEATURES_OK      8

#define VIRTIO_F_VERSION_1_HI   (1u << 0)       /* feature bit 32 */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define TXQ                     1               /* port 0's transmitq */
#define QSIZE                   4

struct virtq_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
};

struct virtq_avail {
        uint16_t flags;
        uint16_t idx;
        uint16_t ring[QSIZE];
        uint16_t used_event;
};

struct virtq_used {
        uint16_t flags;
        uint16_t idx;
        struct { uint32_t id, len; } ring[QSIZE];
        uint16_t avail_event;
};

/* The split queue's three parts in one page: descriptors (16-byte
 * aligned), the driver's ring (2), the device's ring (4). */
static struct {
        struct virtq_desc desc[QSIZE];
        struct virtq_avail avail;
        uint8_t pad[64 - sizeof(struct virtq_avail) % 64];
        struct virtq_used used;
} txq __attribute__((aligned(4096)));

static char bounce[4096] __attribute__((aligned(4096)));

static volatile uint32_t *regs;         /* the console's transport */
static int state;                       /* 0: not probed, 1: ready, -1: none */

static inline uint32_t rd(unsigned off)
{
        return regs[off / 4];
}

static inline void wr(unsigned off, uint32_t v)
{
        regs[off / 4] = v;
}

static inline void io_fence(void)
{
        __asm__ volatile("fence iorw, iorw" ::: "memory");
}

static void wr64(unsigned off, paddr_t pa)
{
        wr(off, (uint32_t)pa);
        wr(off + 4, (uint32_t)(pa >> 32));
}

/* Bring up the transport at va as a console; false if it is not one. */
static bool console_init(volatile uint32_t *va)
{
        regs = va;
        if (rd(VIRTIO_MAGIC) != VIRTIO_MAGIC_VALUE || rd(VIRTIO_VERSION) != 2 ||
            rd(VIRTIO_DEVICE_ID) != VIRTIO_ID_CONSOLE)
                return false;
        wr(VIRTIO_STATUS, 0);                   /* reset */
        wr(VIRTIO_STATUS, STATUS_ACKNOWLEDGE);
        wr(VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        /* Only VERSION_1, which a version-2 transport requires: no
         * multiport, no size reports, no emergency writes. */
        wr(VIRTIO_DEV_FEATURES_SEL, 1);
        if (!(rd(VIRTIO_DEV_FEATURES) & VIRTIO_F_VERSION_1_HI))
                return false;
        wr(VIRTIO_DRV_FEATURES_SEL, 0);
        wr(VIRTIO_DRV_FEATURES, 0);
        wr(VIRTIO_DRV_FEATURES_SEL, 1);
        wr(VIRTIO_DRV_FEATURES, VIRTIO_F_VERSION_1_HI);
        wr(VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        if (!(rd(VIRTIO_STATUS) & STATUS_FEATURES_OK))
                return false;
        wr(VIRTIO_QUEUE_SEL, TXQ);
        if (rd(VIRTIO_QUEUE_READY) || rd(VIRTIO_QUEUE_NUM_MAX) < QSIZE)
                return false;
        memset(&txq, 0, sizeof txq);
        txq.avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
        wr(VIRTIO_QUEUE_NUM, QSIZE);
        wr64(VIRTIO_QUEUE_DESC, kimg_virt_to_phys(txq.desc));
        wr64(VIRTIO_QUEUE_AVAIL, kimg_virt_to_phys(&txq.avail));
        wr64(VIRTIO_QUEUE_USED, kimg_virt_to_phys(&txq.used));
        wr(VIRTIO_QUEUE_READY, 1);
        wr(VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER |
                          STATUS_FEATURES_OK | STATUS_DRIVER_OK);
        return true;
}

static bool probe(void)
{
        const struct fdt_info *fi = &boot_info.fdt;

        for (unsigned i = 0; i < fi->nvirtio; i++)
                if (console_init(phys_to_virt(fi->virtio[i].base))) {
                        pr_info("virtio console at %#lx\n", fi->virtio[i].base);
                        return true;
                }
        regs = NULL;
        return false;
}

/* Hand one buffer to the device and wait until it has taken it. */
static void send(size_t len)
{
        uint16_t idx = txq.avail.idx;

        txq.desc[0] = (struct virtq_desc){ kimg_virt_to_phys(bounce),
                                           (uint32_t)len, 0, 0 };
        txq.avail.ring[idx % QSIZE] = 0;
        io_fence();
        *(volatile uint16_t *)&txq.avail.idx = (uint16_t)(idx + 1);
        io_fence();
        wr(VIRTIO_QUEUE_NOTIFY, TXQ);
        while (*(volatile uint16_t *)&txq.used.idx != (uint16_t)(idx + 1))
                ;
        io_fence();
}

bool virtio_console_write(const char *s, size_t len)
{
        if (!state)
                state = probe() ? 1 : -1;
        if (state < 0)
                return false;
        while (len) {
                size_t n = len < sizeof bounce ? len : sizeof bounce;
                memcpy(bounce, s, n);
                send(n);
                s += n;
                len -= n;
        }
        return true;
}
