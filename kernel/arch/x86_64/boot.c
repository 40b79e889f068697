/*
 * boot.c - from boot.S's jump to C until kmain(): everything that must
 * happen before the kernel has its own page tables and page allocator.
 *
 * Order (each step needs the one before):
 *   1. console and exception tables, so anything that goes wrong is seen;
 *   2. read the PVH start info: memory map, command line, modules;
 *   3. sanitize the map, with the first MiB, the kernel image and the
 *      modules added as reserved, so they can never be handed out;
 *   4. bootmem, the bitmap allocator, over what is left;
 *   5. the kernel's page tables: linear map of RAM, the kernel image W^X
 *      with its stacks' guard pages left out, no identity map; load them;
 *   6. the page descriptors and the buddy allocator, which then takes
 *      over every page bootmem did not use.
 * The boot page tables of boot.S are dead after step 5.
 */
#include <mercator/clock.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/vdso_data.h>
#include <machine/vmparam.h>
#include <vm/bootmem.h>
#include <vm/kmalloc.h>
#include <vm/memmap.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>
#include "boot.h"
#include "cpu.h"
#include "mmu.h"
#include "pci.h"
#include "percpu.h"
#include "serial.h"
#include "trap.h"
#include "../x86/tsc.h"

void machine_fpu_init(void);         /* thread.c */

void kmain(void);

extern char _kernel_phys_start[], _kernel_phys_end[];
extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[];
extern char boot_stack_guard[], df_stack_guard[], nmi_stack_guard[];
extern char df_stack_top[], nmi_stack_top[];
extern uint64_t boot_tsc;
extern paddr_t vm_ptpage_boot_limit;

struct boot_info boot_info;
static uint64_t tsc_per_ms = 1;
uint64_t tsc_mult = (uint64_t)1 << VDSO_SHIFT;  /* vdso_data.h's mult */

/* The PVH start info (Xen's hvm_start_info, version 1). */
#define PVH_MAGIC       0x336ec578u
struct pvh_start_info {
        uint32_t magic, version, flags, nr_modules;
        uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
        uint64_t memmap_paddr;
        uint32_t memmap_entries, reserved;
};
struct pvh_module { uint64_t paddr, size, cmdline_paddr, reserved; };
struct pvh_memmap_entry { uint64_t addr, size; uint32_t type, reserved; };

#define BOOT_REACH      (1 * GiB)       /* what boot.S's tables map */

/* A boot-info pointer we can follow: non-null and inside the boot map. */
static const void *boot_ptr(uint64_t pa, uint64_t len)
{
        if (pa == 0 || pa >= BOOT_REACH || len > BOOT_REACH - pa)
                return NULL;
        return phys_to_virt(pa);
}

static void boot_read_cmdline(uint64_t pa)
{
        const char *s = boot_ptr(pa, 1);
        size_t i = 0;

        for (; s && s[i] && i + 1 < sizeof boot_info.cmdline && pa + i < BOOT_REACH; i++)
                boot_info.cmdline[i] = s[i];
        boot_info.cmdline[i] = '\0';
}

/* Copy what the boot loader left in low memory into boot_info. */
static void boot_read_start_info(uint32_t pa)
{
        const struct pvh_start_info *si = boot_ptr(pa, sizeof *si);

        if (!si || si->magic != PVH_MAGIC)
                panic("boot: no PVH start info at %#x (not booted by PVH?)", pa);
        boot_read_cmdline(si->cmdline_paddr);
        boot_info.rsdp = si->rsdp_paddr;

        const struct pvh_memmap_entry *mm = NULL;
        if (si->version >= 1)
                mm = boot_ptr(si->memmap_paddr,
                              (uint64_t)si->memmap_entries * sizeof *mm);
        for (uint32_t i = 0; mm && i < si->memmap_entries &&
                             boot_info.nraw < MEMMAP_MAX - BOOT_MAX_MODULES - 2; i++)
                boot_info.raw[boot_info.nraw++] = (struct mem_range){
                        mm[i].addr, mm[i].size, mm[i].type };

        const struct pvh_module *mod = boot_ptr(si->modlist_paddr,
                                                si->nr_modules * sizeof *mod);
        for (uint32_t i = 0; mod && i < si->nr_modules &&
                             boot_info.nmodules < BOOT_MAX_MODULES; i++)
                boot_info.modules[boot_info.nmodules++] =
                        (struct boot_module){ mod[i].paddr, mod[i].size };
}

/* Parse the few options the kernel has: loglevel=N. */
static void boot_parse_cmdline(void)
{
        const char *p = strstr(boot_info.cmdline, "loglevel=");

        if (p && p[9] >= '0' && p[9] <= '9')
                console_loglevel = p[9] - '0';
}

/*
 * The firmware's map, sanitized (for the linear map), and the same map with
 * our own reservations added (for allocation).
 */
static void boot_build_maps(void)
{
        struct mem_range all[MEMMAP_MAX];
        unsigned n = boot_info.nraw;

        boot_info.nfw = memmap_sanitize(boot_info.raw, n, boot_info.fw,
                                        MEMMAP_MAX);
        if (boot_info.nfw == 0 || memmap_usable_bytes(boot_info.fw, boot_info.nfw) == 0)
                panic("boot: the memory map has no usable RAM");
        memcpy(all, boot_info.raw, n * sizeof all[0]);
        /* All of the first MiB (BIOS data, EBDA, ROMs), as Linux does. */
        all[n++] = (struct mem_range){ 0, 1 * MiB, MEM_RESERVED };
        all[n++] = (struct mem_range){ (paddr_t)_kernel_phys_start,
                (paddr_t)(_kernel_phys_end - _kernel_phys_start), MEM_RESERVED };
        for (unsigned i = 0; i < boot_info.nmodules; i++)
                all[n++] = (struct mem_range){ boot_info.modules[i].base,
                        boot_info.modules[i].len, MEM_RESERVED };
        boot_info.navail = memmap_sanitize(all, n, boot_info.avail, MEMMAP_MAX);
        boot_info.ram_end = memmap_usable_end(boot_info.fw, boot_info.nfw);
}

static void boot_print_map(void)
{
        pr_info("Physical memory map (firmware's, sanitized):\n");
        for (unsigned i = 0; i < boot_info.nfw; i++) {
                const struct mem_range *r = &boot_info.fw[i];
                pr_info("  %#014lx - %#014lx  %s\n", r->base,
                        r->base + r->len - 1, memmap_type_name(r->type));
        }
}

/* TSC ticks per millisecond (../x86/tsc.c), and the vDSO's multiplier. */
static void tsc_calibrate(void)
{
        tsc_per_ms = tsc_ticks_per_ms();
        tsc_mult = vdso_mult(tsc_per_ms);
}

uint64_t machine_uptime_us(void)
{
        return (rdtsc() - boot_tsc) * 1000 / tsc_per_ms;
}

/* The vDSO computes the same (vdso_data.h), so that user space and the
 * system call agree to the nanosecond. */
uint64_t clock_monotonic_ns(void)
{
        return vdso_counter_ns(boot_tsc, tsc_mult, rdtsc());
}


const char *machine_cmdline(void)
{
        return boot_info.cmdline;
}

/* PAT entry 1 (selected by PWT alone) becomes write-combining, so
 * PMAP_WC mappings work; the other entries keep their reset values. */
static void pat_init(void)
{
        uint64_t pat = rdmsr(MSR_PAT);

        pat = (pat & ~(0xffULL << 8)) | (0x01ULL << 8);
        wrmsr(MSR_PAT, pat);
}

void machine_boot(uint32_t start_info_pa)
{
        serial_init();
        cpu_tables_init(&cpus[0], (uint64_t)df_stack_top,
                        (uint64_t)nmi_stack_top);
        cpu_features_init();
        machine_fpu_init();
        pat_init();
        tsc_calibrate();
        boot_read_start_info(start_info_pa);
        boot_parse_cmdline();
        pr_info("Mercator booting (x86-64, PVH), command line \"%s\"\n",
                boot_info.cmdline);
        mmu_pcid_init(strstr(boot_info.cmdline, "nopcid") == NULL);
        pr_info("mmu: PCIDs %s\n", mmu_pcid_enabled() ? "on" : "off");
        boot_build_maps();
        boot_print_map();
        if (bootmem_init(boot_info.avail, boot_info.navail, BOOT_REACH) != 0)
                panic("boot: no room below 1 GiB for the boot allocator");
        vm_ptpage_boot_limit = BOOT_REACH;
        boot_map_kernel();
        vm_ptpage_boot_limit = ~(paddr_t)0;
        boot_init_pmm();
        kmalloc_init(strstr(boot_info.cmdline, "kmalloc_debug") != NULL);
        vmalloc_init();
        smp_init();
        pci_init();
        kmain();
        machine_poweroff(0);
}

/*
 * Step 6: one descriptor per frame below ram_end, then the buddy allocator
 * takes every page bootmem has not handed out. The descriptors (0.78% of
 * RAM) go as high as they fit, in the order the allocator's zones fall
 * back, so the DMA zones are left to those who need them.
 */
void boot_init_pmm(void)
{
        static const paddr_t floors[] = { ZONE_DMA32_END, ZONE_DMA_END, 0 };
        uint64_t npages = boot_info.ram_end >> PAGE_SHIFT;
        uint64_t bytes = npages * sizeof(struct vm_page);
        paddr_t pa = 0;

        for (unsigned i = 0; i < ARRAY_SIZE(floors) && !pa; i++)
                pa = bootmem_alloc_range(page_round(bytes) >> PAGE_SHIFT,
                                         PAGE_SIZE, floors[i], ~(paddr_t)0);

        if (!pa)
                panic("boot: no room for %lu page descriptors", npages);
        boot_info.page_array_bytes = bytes;
        pmm_init(phys_to_virt(pa), 0, npages, pmm_machine_zones);
        bootmem_handoff();
        vmstat.boot_pages = pmm_npages() - pmm_free_count();
        vmstat.managed_pages = pmm_free_count();
}

void machine_print_memory(void)
{
        uint64_t usable = memmap_usable_bytes(boot_info.fw, boot_info.nfw);
        uint64_t avail = memmap_usable_bytes(boot_info.avail, boot_info.navail);
        uint64_t image = (uint64_t)(_kernel_phys_end - _kernel_phys_start);

        pr_info("Memory: %lu KiB RAM, %lu KiB free; kernel image %lu KiB, "
                "first MiB and boot modules %lu KiB reserved\n",
                usable >> 10, pmm_free_count() * 4, image >> 10,
                (usable - avail - image) >> 10);
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

uint64_t machine_hwcap(void)
{
        uint32_t a, b, c, d;

        cpuid(1, 0, &a, &b, &c, &d);
        return d;
}

bool machine_initrd(const void **base, size_t *len)
{
        if (boot_info.nmodules == 0 || boot_info.modules[0].len == 0)
                return false;
        *base = phys_to_virt(boot_info.modules[0].base);
        *len = boot_info.modules[0].len;
        return true;
}
