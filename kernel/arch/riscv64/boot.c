/*
 * boot.c (riscv64) - from boot.S's call until the kernel runs on its own
 * Sv39 table with the page allocator up.
 *
 * Order (each step needs the one before):
 *   1. read the device tree (boot.S's table maps physical 0-4 GiB at
 *      LINEAR_BASE, so it and the UART are reachable);
 *   2. the memory map: the tree's RAM and reserved ranges, plus the kernel
 *      image, the tree itself and the initrd as reserved;
 *   3. bootmem over what is left;
 *   4. the kernel pmap (pmap.c) and its table: all RAM and the devices
 *      (UART, PLIC, CLINT, test, virtio-mmio) in the linear map, without X; the image
 *      W^X with the boot stack's guard page left out; the trampoline page
 *      at TRAMPOLINE; load it (boot.S's table is dead from then on);
 *   5. page descriptors and the buddy allocator over RAM from its base
 *      (0x80000000 on virt), then kmalloc and vmalloc; traps and the timer;
 *      the other harts (smp.c);
 *   6. the machine-independent kmain(): kernel tests, or /init from the
 *      initramfs the tree names (linux,initrd-start/end).
 */
#include <mercator/clock.h>
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/vdso_data.h>
#include <machine/vmparam.h>
#include <proc/vdso.h>
#include <vm/bootmem.h>
#include <vm/kmalloc.h>
#include <vm/memmap.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>
#include "boot.h"
#include "percpu.h"
#include "satp_bench.h"
#include "riscv.h"
#include "sbi.h"
#include "trap.h"
#include "uart.h"

#define BOOT_REACH      (4 * GiB)       /* what boot.S's linear map covers */

extern paddr_t vm_ptpage_boot_limit;

struct boot_info boot_info;
static uint64_t boot_time;              /* `time` at rv_boot's start */
uint64_t timebase_hz = 10000000;        /* QEMU virt's, until the DT says */
static uint64_t time_mult;              /* ns per tick << VDSO_SHIFT */

void rv_boot(unsigned long hartid, paddr_t dtb_pa);

/* Step 2. */
static void boot_build_maps(paddr_t dtb_pa)
{
        const struct fdt_info *fi = &boot_info.fdt;
        struct mem_range all[MEMMAP_MAX];
        unsigned n = 0;

        for (unsigned i = 0; i < fi->nmem; i++)
                all[n++] = fi->mem[i];
        for (unsigned i = 0; i < fi->nresv; i++)
                all[n++] = fi->resv[i];
        boot_info.nfw = memmap_sanitize(all, n, boot_info.fw, MEMMAP_MAX);
        if (boot_info.nfw == 0 || memmap_usable_bytes(boot_info.fw, boot_info.nfw) == 0)
                panic("boot: the device tree names no usable RAM");
        all[n++] = (struct mem_range){ kimg_virt_to_phys(_kernel_start),
                (uint64_t)(_kernel_end - _kernel_start), MEM_RESERVED };
        all[n++] = (struct mem_range){ dtb_pa, fi->dtb_size, MEM_RESERVED };
        if (fi->initrd_end > fi->initrd_start)
                all[n++] = (struct mem_range){ fi->initrd_start,
                        fi->initrd_end - fi->initrd_start, MEM_RESERVED };
        boot_info.navail = memmap_sanitize(all, n, boot_info.avail, MEMMAP_MAX);
        boot_info.ram_end = memmap_usable_end(boot_info.fw, boot_info.nfw);
        boot_info.ram_base = ~(paddr_t)0;
        for (unsigned i = 0; i < fi->nmem; i++)
                boot_info.ram_base = MIN(boot_info.ram_base, fi->mem[i].base);
        if (boot_info.ram_end > LINEAR_SIZE)
                panic("boot: RAM ends at %#lx, past the linear map's %lu GiB",
                      boot_info.ram_end, LINEAR_SIZE >> 30);
}

static void boot_print_map(void)
{
        pr_info("Physical memory map (device tree, sanitized):\n");
        for (unsigned i = 0; i < boot_info.nfw; i++) {
                const struct mem_range *r = &boot_info.fw[i];
                pr_info("  %#014lx - %#014lx  %s\n", r->base,
                        r->base + r->len - 1, memmap_type_name(r->type));
        }
}

static void kmap(vaddr_t va, paddr_t pa, uint64_t len, vm_prot_t prot,
                 unsigned flags)
{
        vm_status_t st = pmap_enter_range(pmap_kernel(), va, pa, len, prot,
                                          flags | PMAP_GLOBAL);

        if (st != VM_OK)
                panic("boot: cannot map %#lx -> %#lx (%lu bytes): status %d",
                      va, pa, len, st);
}

static void map_device(const struct fdt_device *d)
{
        if (d->found)
                kmap((vaddr_t)phys_to_virt(page_trunc(d->base)), page_trunc(d->base),
                     page_round(d->base + d->size) - page_trunc(d->base),
                     VM_PROT_RW, PMAP_NOCACHE);
}

static void map_image_part(const char *start, const char *end, vm_prot_t prot)
{
        kmap((vaddr_t)start, kimg_virt_to_phys(start), (uint64_t)(end - start), prot, 0);
}

/* Step 4: the kernel pmap (pmap.c) builds the kernel's table. */
static void boot_map_kernel(void)
{
        struct pmap *kp;

        if (pmap_bootstrap(boot_info.ram_end) != VM_OK)
                panic("boot: no memory for the kernel's page tables");
        kp = pmap_kernel();
        for (unsigned i = 0; i < boot_info.nfw; i++) {
                const struct mem_range *r = &boot_info.fw[i];
                if (r->type == MEM_USABLE)
                        kmap((vaddr_t)phys_to_virt(r->base), r->base, r->len,
                             VM_PROT_RW, 0);
        }
        map_device(&boot_info.fdt.uart);
        map_device(&boot_info.fdt.plic);
        map_device(&boot_info.fdt.clint);
        map_device(&boot_info.fdt.test);
        map_device(&boot_info.fdt.rtc);
        for (unsigned i = 0; i < boot_info.fdt.nvirtio; i++)
                map_device(&boot_info.fdt.virtio[i]);
        map_image_part(_text_start, _text_end, VM_PROT_READ | VM_PROT_EXEC);
        map_image_part(_rodata_start, _rodata_end, VM_PROT_READ);
        map_image_part(_data_start, boot_stack_guard, VM_PROT_RW);
        map_image_part(boot_stack, _data_end, VM_PROT_RW);
        /* The trampoline: at TRAMPOLINE in every table, R|X, not U. */
        if (pmap_enter(kp, TRAMPOLINE, kimg_virt_to_phys(_trampoline_start),
                       VM_PROT_READ | VM_PROT_EXEC, 0) != VM_OK)
                panic("boot: cannot map the trampoline");
        pmap_update(kp);
        pmap_activate(kp);
        boot_info.kernel_root = satp_root(csr_read(satp));
}

/* Step 5: one descriptor per frame from the RAM base (rounded down to the
 * largest buddy block) to the end of RAM. */
static void boot_init_pmm(void)
{
        paddr_t base = align_down(boot_info.ram_base, PAGE_SIZE << PMM_MAX_ORDER);
        uint64_t npages = (boot_info.ram_end - base) >> PAGE_SHIFT;
        uint64_t bytes = npages * sizeof(struct vm_page);
        paddr_t pa = bootmem_alloc(page_round(bytes) >> PAGE_SHIFT, PAGE_SIZE,
                                   boot_info.ram_end);

        if (!pa)
                panic("boot: no room for %lu page descriptors", npages);
        boot_info.page_array_bytes = bytes;
        pmm_init(phys_to_virt(pa), base, npages, pmm_machine_zones);
        bootmem_handoff();
        vmstat.boot_pages = pmm_npages() - pmm_free_count();
        vmstat.managed_pages = pmm_free_count();
}

static void boot_parse_cmdline(void)
{
        const char *p = strstr(boot_info.fdt.bootargs, "loglevel=");

        if (p && p[9] >= '0' && p[9] <= '9')
                console_loglevel = p[9] - '0';
}

static void boot_print_harts(void)
{
        const struct fdt_info *fi = &boot_info.fdt;

        pr_info("Harts: %u (booted on hart %lu), ISA %s, MMU %s, timebase %lu Hz\n",
                fi->nharts, boot_info.hartid, fi->isa[0] ? fi->isa : "?",
                fi->mmu[0] ? fi->mmu : "?", fi->timebase_hz);
        pr_info("Devices: UART %#lx irq %u, PLIC %#lx, CLINT %#lx, test %#lx\n",
                fi->uart.base, fi->uart.irq, fi->plic.base, fi->clint.base,
                fi->test.base);
}

void kmain(void);

void rv_boot(unsigned long hartid, paddr_t dtb_pa)
{
        boot_time = rdtime();
        boot_info.hartid = hartid;
        boot_info.dtb_pa = dtb_pa;
        smp_boot_cpu_init(hartid);
        if (dtb_pa == 0 || dtb_pa + 64 > BOOT_REACH ||
            fdt_parse(phys_to_virt(dtb_pa), &boot_info.fdt) != 0)
                panic("boot: no device tree at %#lx", dtb_pa);
        if (boot_info.fdt.uart.found)
                uart_init(boot_info.fdt.uart.base);
        if (boot_info.fdt.timebase_hz)
                timebase_hz = boot_info.fdt.timebase_hz;
        time_mult = vdso_mult(timebase_hz / 1000);
        /* User mode may read the time CSR (the vDSO's clocks), nothing
         * else of the counters. */
        csr_write(scounteren, SCOUNTEREN_TM);
        boot_parse_cmdline();
        pr_info("Mercator booting (riscv64, OpenSBI, Sv39), command line \"%s\"\n",
                boot_info.fdt.bootargs);
        boot_print_harts();
        boot_build_maps(dtb_pa);
        boot_print_map();
        if (bootmem_init(boot_info.avail, boot_info.navail, BOOT_REACH) != 0)
                panic("boot: no room below 4 GiB for the boot allocator");
        vm_ptpage_boot_limit = BOOT_REACH;
        boot_map_kernel();
        vm_ptpage_boot_limit = ~(paddr_t)0;
        boot_init_pmm();
        kmalloc_init(strstr(boot_info.fdt.bootargs, "kmalloc_debug") != NULL);
        vmalloc_init();
        trap_init();
        /* The FPU is the user's (the kernel is built without F and D):
         * never Off, so user code and fpu.S may use it. */
        csr_set(sstatus, SSTATUS_FS_INITIAL);
        smp_init();
        if (strstr(boot_info.fdt.bootargs, "satpbench"))
                satp_bench();   /* make bench: the switch's cost, timed */
        kmain();        /* kern/main.c: the kernel tests, or /init */
}

uint64_t machine_uptime_us(void)
{
        return (rdtime() - boot_time) * 1000000 / timebase_hz;
}

/* The vDSO computes the same (vdso_data.h), so that user space and the
 * system call agree to the nanosecond. */
uint64_t clock_monotonic_ns(void)
{
        return vdso_counter_ns(boot_time, time_mult, rdtime());
}

/* What the vDSO needs to compute the clocks as clock_monotonic_ns() and
 * clock_realtime_ns() do. */
void machine_vdso_clock(struct vdso_data *d)
{
        d->mode = VDSO_MODE_RDTIME;
        d->counter_base = boot_time;
        d->mult = time_mult;
        d->realtime_offset = clock_realtime_offset_ns();
}

const char *machine_cmdline(void)
{
        return boot_info.fdt.bootargs;
}

void machine_print_memory(void)
{
        uint64_t usable = memmap_usable_bytes(boot_info.fw, boot_info.nfw);
        uint64_t avail = memmap_usable_bytes(boot_info.avail, boot_info.navail);
        uint64_t image = (uint64_t)(_kernel_end - _kernel_start);

        pr_info("Memory: %lu KiB RAM from %#lx, %lu KiB free; kernel image %lu KiB, "
                "device tree, initrd and firmware %lu KiB reserved\n",
                usable >> 10, boot_info.ram_base, pmm_free_count() * 4,
                image >> 10, (usable - avail - image) >> 10);
        pr_info("Memory: page descriptors %lu KiB (%lu bytes per 4 KiB "
                "page), page tables %lu KiB\n", boot_info.page_array_bytes >> 10,
                sizeof(struct vm_page), vmstat.pt_pages * 4);
        for (int z = 0; z < NR_ZONES; z++) {
                struct pmm_zone_stats st;
                pmm_zone_stats(z, &st);
                pr_info("  zone %-6s %8lu pages present, %8lu free\n",
                        pmm_zone_name(z), st.present, st.free);
        }
}

void machine_print_layout(void)
{
        pr_info("Kernel virtual layout (Sv39, satp %#lx):\n", csr_read(satp));
        pr_info("  %#018lx - %#018lx  user (MAXVA 2^38)\n", 0UL, USER_MAX - 1);
        pr_info("  %#018lx - %#018lx  trap frame (per process)\n", TRAPFRAME,
                TRAPFRAME + PAGE_SIZE - 1);
        pr_info("  %#018lx - %#018lx  trampoline (R|X)\n", TRAMPOLINE,
                TRAMPOLINE + PAGE_SIZE - 1);
        pr_info("  %#018lx - %#018lx  linear map of RAM and devices\n",
                LINEAR_BASE, LINEAR_BASE + LINEAR_SIZE - 1);
        pr_info("  %#018lx - %#018lx  vmalloc\n", VMALLOC_BASE, VMALLOC_END - 1);
        pr_info("  %#018lx - %#018lx  ioremap\n", IOREMAP_BASE, IOREMAP_END - 1);
        pr_info("  %#018lx - %#018lx  kernel text (R|X)\n",
                (uint64_t)_text_start, (uint64_t)_text_end - 1);
        pr_info("  %#018lx - %#018lx  kernel rodata (R)\n",
                (uint64_t)_rodata_start, (uint64_t)_rodata_end - 1);
        pr_info("  %#018lx - %#018lx  kernel data, bss (R|W)\n",
                (uint64_t)_data_start, (uint64_t)_data_end - 1);
}

uint64_t machine_hwcap(void)
{
        /* Linux's riscv AT_HWCAP: bit (letter - 'a') for each single-letter
         * extension of the ISA string after "rv64" (up to the first '_'). */
        const char *isa = boot_info.fdt.isa;
        uint64_t caps = 0;

        for (size_t i = 4; isa[0] && isa[i] && isa[i] != '_'; i++)
                if (isa[i] >= 'a' && isa[i] <= 'z')
                        caps |= 1UL << (isa[i] - 'a');
        return caps;
}

bool machine_initrd(const void **base, size_t *len)
{
        const struct fdt_info *fi = &boot_info.fdt;

        if (fi->initrd_end <= fi->initrd_start)
                return false;
        *base = phys_to_virt(fi->initrd_start);
        *len = fi->initrd_end - fi->initrd_start;
        return true;
}

void machine_poweroff(int status)
{
        const struct fdt_info *fi = &boot_info.fdt;

        /* The sifive_test device: 0x5555 passes (QEMU exits 0), and
         * (code << 16) | 0x3333 fails with exit status `code`. */
        paddr_t pa = fi->test.found ? fi->test.base : 0x100000;    /* virt's */
        volatile uint32_t *test = phys_to_virt(pa);

        *test = status == 0 ? 0x5555 : ((uint32_t)status & 0xffff) << 16 | 0x3333;
        sbi_shutdown();         /* not reached on QEMU's virt board */
        for (;;)
                wfi();
}
