/*
 * boot.c (i386) - from boot.S's jump to C until the kernel runs on its own
 * page directory with the page allocator up.
 *
 * Order (each step needs the one before):
 *   1. console, descriptor tables, timer calibration;
 *   2. read the Multiboot information: command line, memory map, modules;
 *   3. sanitize the map with the first MiB, the kernel image and the
 *      modules reserved; clip RAM to what the page tables reach (4 GiB);
 *   4. bootmem over what is left;
 *   5. the kernel directory (pmap_bootstrap, pmap.c): low memory linearly
 *      at PAGE_OFFSET with 4 MiB pages, every kernel page table from
 *      vmalloc up to the fixmap allocated now (so that all directories
 *      share them by copying entries 768-1022), the recursive slot, no
 *      identity map; the image's text made read-only; load it;
 *   6. page descriptors for all RAM (low memory holds them) and the buddy
 *      allocator over the DMA, NORMAL and HIGHMEM zones.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/bootmem.h>
#include <vm/kmalloc.h>
#include <vm/vm_object.h>
#include <vm/vmalloc.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include "boot.h"
#include "cpu.h"
#include "mmu.h"
#include "pmap_md.h"
#include <arch/x86/serial.h>
#include "trap.h"

extern char _kernel_start[], _kernel_end[];
extern char _text_start[], _rodata_end[];
extern uint32_t boot_mbi_pa, boot_mb_magic;
extern pte_t boot_pd[PT_ENTRIES];
extern paddr_t vm_ptpage_boot_limit;

struct boot_info boot_info;
pte_t *pkmap_page_table;
pte_t *fixmap_page_table;
static bool have_pge;

/* The Multiboot v1 information block (the fields we read). */
struct mb_info {
        uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
        uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};
struct mb_module { uint32_t start, end, string, reserved; };
struct mb_mmap_entry { uint32_t size; uint64_t addr, len; uint32_t type; } __attribute__((packed));
#define MB_BOOTED       0x2badb002u
#define MBI_CMDLINE     (1u << 2)
#define MBI_MODS        (1u << 3)
#define MBI_MMAP        (1u << 6)

/* A pointer into the loader's data, if boot.S's map reaches it. */
static const void *boot_ptr(uint32_t pa, uint32_t len)
{
        if (pa == 0 || pa >= BOOT_REACH || len > BOOT_REACH - pa)
                return NULL;
        return phys_to_virt(pa);
}

static void boot_read_multiboot(void)
{
        const struct mb_info *mbi = boot_ptr(boot_mbi_pa, sizeof *mbi);

        if (boot_mb_magic != MB_BOOTED || !mbi)
                panic("boot: not started by a Multiboot loader (magic %#x)",
                      boot_mb_magic);
        if (mbi->flags & MBI_CMDLINE) {
                const char *s = boot_ptr(mbi->cmdline, 1);
                size_t i = 0;
                for (; s && s[i] && i + 1 < sizeof boot_info.cmdline &&
                       mbi->cmdline + i + 1 < BOOT_REACH; i++)
                        boot_info.cmdline[i] = s[i];
                boot_info.cmdline[i] = '\0';
        }
        if (!(mbi->flags & MBI_MMAP))
                panic("boot: the loader gave no memory map");
        const uint8_t *p = boot_ptr(mbi->mmap_addr, mbi->mmap_length);
        const uint8_t *end = p ? p + mbi->mmap_length : NULL;
        while (p && p + sizeof(struct mb_mmap_entry) <= end &&
               boot_info.nraw < MEMMAP_MAX - BOOT_MAX_MODULES - 3) {
                const struct mb_mmap_entry *e = (const void *)p;
                boot_info.raw[boot_info.nraw++] =
                        (struct mem_range){ e->addr, e->len, e->type };
                p += e->size + 4;       /* size does not count itself */
        }
        if (mbi->flags & MBI_MODS) {
                const struct mb_module *m = boot_ptr(mbi->mods_addr,
                                                     mbi->mods_count * sizeof *m);
                for (uint32_t i = 0; m && i < mbi->mods_count &&
                                     boot_info.nmodules < BOOT_MAX_MODULES; i++)
                        boot_info.modules[boot_info.nmodules++] = (struct boot_module){
                                m[i].start, m[i].end - m[i].start };
        }
}

/* Step 3: the firmware's map sanitized, and our reservations added. */
static void boot_build_maps(void)
{
        struct mem_range all[MEMMAP_MAX];
        unsigned n = boot_info.nraw;

        boot_info.nfw = memmap_sanitize(boot_info.raw, n, boot_info.fw, MEMMAP_MAX);
        if (boot_info.nfw == 0 || memmap_usable_bytes(boot_info.fw, boot_info.nfw) == 0)
                panic("boot: the memory map has no usable RAM");
        memcpy(all, boot_info.raw, n * sizeof all[0]);
        all[n++] = (struct mem_range){ 0, 1 * MiB, MEM_RESERVED };
        all[n++] = (struct mem_range){ virt_to_phys(_kernel_start),
                (uint64_t)(_kernel_end - _kernel_start), MEM_RESERVED };
        /* What 2-level tables cannot reach is not ours to use. */
        all[n++] = (struct mem_range){ PADDR_LIMIT, ~0ULL - PADDR_LIMIT, MEM_RESERVED };
        for (unsigned i = 0; i < boot_info.nmodules; i++)
                all[n++] = (struct mem_range){ boot_info.modules[i].base,
                        boot_info.modules[i].len, MEM_RESERVED };
        boot_info.navail = memmap_sanitize(all, n, boot_info.avail, MEMMAP_MAX);
        boot_info.ram_end_fw = memmap_usable_end(boot_info.fw, boot_info.nfw);
        boot_info.ram_end = memmap_usable_end(boot_info.avail, boot_info.navail);
}

static void boot_print_map(void)
{
        pr_info("Physical memory map (Multiboot, sanitized):\n");
        for (unsigned i = 0; i < boot_info.nfw; i++) {
                const struct mem_range *r = &boot_info.fw[i];
                pr_info("  %#011" PRIx64 " - %#011" PRIx64 "  %s\n", r->base,
                        r->base + r->len - 1, memmap_type_name(r->type));
        }
        if (boot_info.ram_end_fw > boot_info.ram_end)
                pr_notice("RAM above %" PRIu64 " MiB is not used: the page "
                          "tables reach 4 GiB (PAE: 64 GiB)\n",
                          boot_info.ram_end >> 20);
}

/* PAT entry 1 (selected by PWT alone) becomes write-combining, so
 * PMAP_WC mappings work (as on x86-64); the others keep their values. */
static void pat_init(void)
{
        uint32_t a, b, c, d;

        cpuid(1, 0, &a, &b, &c, &d);
        if (!(d & CPUID_PAT))
                return;         /* PWT alone is then write-through */
        wrmsr(MSR_PAT, (rdmsr(MSR_PAT) & ~(0xffULL << 8)) | (0x01ULL << 8));
}

/*
 * Step 5: the kernel pmap (pmap_bootstrap: low memory at PAGE_OFFSET,
 * a page table for every directory entry from vmalloc_start to the
 * fixmap, the recursive slot), with its tables from bootmem below what
 * boot.S maps. The image's text and rodata become read-only (CR0.WP makes
 * that hold for the kernel too): the engine splits the large page holding
 * them. Then the switch: nothing below PAGE_OFFSET is mapped any more.
 * With PAE on a CPU that has NX, EFER.NXE is turned on first.
 */
static void boot_map_kernel(void)
{
        struct pmap *kp = pmap_kernel();
        vaddr_t ro_start = align_down((vaddr_t)_text_start, PAGE_SIZE);
        vaddr_t ro_end = align_up((vaddr_t)_rodata_end, PAGE_SIZE);

#ifdef I386_PAE
        if (cpuid_ext_edx(CPUID_EXT_NX)) {
                wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
                pmap_nx = true;
        }
#endif
        pat_init();
        vm_ptpage_boot_limit = BOOT_REACH;
        if (pmap_bootstrap(boot_info.ram_end) != VM_OK)
                panic("boot: no memory for kernel page tables");
        if (pmap_protect(kp, ro_start, ro_end, VM_PROT_READ | VM_PROT_EXEC) != VM_OK)
                panic("boot: cannot write-protect the kernel text");
        vm_ptpage_boot_limit = ~(paddr_t)0;
        boot_info.kernel_tables = (unsigned)(pmap_table_pages(kp) - PD_PAGES -
                                             (NR_SELF > 1 ? 1 : 0));
        pkmap_page_table = pt_table(kernel_pd[PD_INDEX(PKMAP_BASE)] & PTE_ADDR);
        fixmap_page_table = pt_table(kernel_pd[PD_INDEX(FIXADDR_START)] & PTE_ADDR);
        pmap_activate(kp);
        pmap_update(kp);        /* the batch of the split: nothing cached */
        trap_set_df_cr3((uint32_t)kernel_cr3);
        if (have_pge)
                write_cr4(read_cr4() | CR4_PGE);
}

/* Step 6: one descriptor per frame below ram_end, in low memory above the
 * DMA zone if it fits there; then every page bootmem did not use. */
static void boot_init_pmm(void)
{
        uint64_t npages = boot_info.ram_end >> PAGE_SHIFT;
        uint64_t bytes = npages * sizeof(struct vm_page);
        uint64_t need = page_round(bytes) >> PAGE_SHIFT;
        paddr_t pa = bootmem_alloc_range(need, PAGE_SIZE, ZONE_DMA_END, lowmem_end);

        if (!pa)
                pa = bootmem_alloc_range(need, PAGE_SIZE, 0, lowmem_end);
        if (!pa)
                panic("boot: no room in low memory for %" PRIu64 " page descriptors",
                      npages);
        boot_info.page_array_bytes = bytes;
        pmm_init(phys_to_virt(pa), 0, npages, pmm_machine_zones);
        bootmem_handoff();
        vmstat.boot_pages = pmm_npages() - pmm_free_count();
        vmstat.managed_pages = pmm_free_count();
}

const char *machine_cmdline(void)
{
        return boot_info.cmdline;
}

static void region(vaddr_t start, uint64_t end, const char *what)
{
        uint64_t size = end - start;

        if (size >= 2 * MiB)
                pr_info("  %08x - %08x  %5" PRIu64 " MiB  %s\n", start,
                        (uint32_t)(end - 1), size >> 20, what);
        else
                pr_info("  %08x - %08x  %5" PRIu64 " KiB  %s\n", start,
                        (uint32_t)(end - 1), size >> 10, what);
}

/* The layout as seed 003 draws it, top of the 4 GiB last. */
void machine_print_layout(void)
{
        char buf[96];

        pr_info("Virtual memory layout (i386, 3G/1G split, %s):\n",
                NR_SELF > 1 ? "PAE 3-level tables, 2 MiB pages for low memory"
                            : "2-level tables, 4 MiB pages for low memory");
        region(0, USER_MAX, "user space, private to each process (TASK_SIZE)");
        ksnprintf(buf, sizeof buf, "low memory: RAM [0, %#" PRIx64 ") at "
                  "PAGE_OFFSET, __va/__pa", lowmem_end);
        region(PAGE_OFFSET, PAGE_OFFSET + lowmem_end, buf);
        region((vaddr_t)(PAGE_OFFSET + lowmem_end), vmalloc_start,
               "hole (VMALLOC_OFFSET, at least 8 MiB)");
        region(vmalloc_start, VMALLOC_END, "vmalloc and kernel stacks");
        region(IOREMAP_BASE, IOREMAP_END, "ioremap (device memory)");
        region(KVA_END, PKMAP_BASE, "guard");
        ksnprintf(buf, sizeof buf, "kmap window (persistent kmap, %u pages)",
                  LAST_PKMAP);
        region(PKMAP_BASE, FIXADDR_START, buf);
        region(FIXADDR_START, FIXADDR_END, "fixmap (fix_to_virt: kmap_atomic "
               "slots, local APIC), top down");
        ksnprintf(buf, sizeof buf, "recursive slot: page table n at %#lx | "
                  "n << 12, directory at %#x", RECURSIVE_BASE,
                  (unsigned)(vaddr_t)RECURSIVE_PD);
        region(RECURSIVE_BASE, 4ULL << 30, buf);
        pr_info("Low memory limit %" PRIu64 " MiB: %#lx (the end of kernel "
                "VA below the kmap window) - PAGE_OFFSET - %lu MiB vmalloc "
                "reserve, rounded down to a 4 MiB page (Linux's MAXMEM).\n",
                (uint64_t)LOWMEM_LIMIT >> 20, KVA_END, VMALLOC_RESERVE >> 20);
        pr_info("  The classic %lu MiB is 1 GiB - %lu MiB: it forgets that the "
                "kmap window, the fixmap and the recursive slot (12 MiB) come "
                "out of the same top GiB.\n", LOWMEM_CLASSIC >> 20,
                VMALLOC_RESERVE >> 20);
        pr_info("  RAM %" PRIu64 " MiB: low memory %" PRIu64 " MiB, high memory "
                "%" PRIu64 " MiB; %u kernel page tables (%u KiB) made at boot and "
                "shared by every directory\n", boot_info.ram_end >> 20,
                lowmem_end >> 20, (boot_info.ram_end - lowmem_end) >> 20,
                boot_info.kernel_tables, boot_info.kernel_tables * 4);
        pr_info("  User page tables from %s (HIGHPTE%s): the loaded space's "
                "through the recursive slot, another's through kmap_atomic\n",
                pmap_highpte ? "HIGHMEM when there is some" : "low memory",
                pmap_highpte ? "; userpte=nohigh keeps them low" : " off: "
                "userpte=nohigh");
}

void machine_print_memory(void)
{
        uint64_t usable = memmap_usable_bytes(boot_info.fw, boot_info.nfw);

        pr_info("Memory: %" PRIu64 " KiB RAM, %" PRIu64 " KiB free; kernel image "
                "%u KiB; page descriptors %" PRIu64 " KiB\n", usable >> 10,
                pmm_free_count() * 4, (unsigned)(_kernel_end - _kernel_start) >> 10,
                boot_info.page_array_bytes >> 10);
        for (int z = 0; z < NR_ZONES; z++) {
                struct pmm_zone_stats st;
                pmm_zone_stats(z, &st);
                pr_info("  zone %-7s %8" PRIu64 " pages present, %8" PRIu64 " free\n",
                        pmm_zone_name(z), st.present, st.free);
        }
}

/* The initramfs: the first Multiboot module (QEMU's -initrd), kept out
 * of the allocators by boot_build_maps and read through low memory. */
bool machine_initrd(const void **base, size_t *len)
{
        const struct boot_module *m = &boot_info.modules[0];

        if (boot_info.nmodules == 0 || m->len == 0 ||
            m->base + m->len > lowmem_end)
                return false;
        *base = phys_to_virt(m->base);
        *len = (size_t)m->len;
        return true;
}

void machine_fpu_init(void);                    /* thread.c */
void kmain(void);                               /* kern/main.c */

void i386_boot(void)
{
        uint32_t a, b, c, d;

        serial_init();
        cpu_tables_init();
        cpuid(1, 0, &a, &b, &c, &d);
        if (!(d & CPUID_PSE))
                panic("boot: the CPU has no 4 MiB pages (PSE)");
#ifdef I386_PAE
        if (!(d & CPUID_PAE))
                panic("boot: a PAE kernel on a CPU without PAE");
#endif
        have_pge = d & CPUID_PGE;
        timer_init();
        boot_read_multiboot();
        {
                const char *p = strstr(boot_info.cmdline, "loglevel=");
                if (p && p[9] >= '0' && p[9] <= '9')
                        console_loglevel = p[9] - '0';
        }
        if (strstr(boot_info.cmdline, "userpte=nohigh"))
                pmap_highpte = false;   /* Linux's option: tables low */
        pr_info("Mercator booting (i386%s, Multiboot), command line \"%s\"\n",
                NR_SELF > 1 ? " PAE" : "", boot_info.cmdline);
        boot_build_maps();
        boot_print_map();
        if (bootmem_init(boot_info.avail, boot_info.navail, BOOT_REACH) != 0)
                panic("boot: no room below 64 MiB for the boot allocator");
        boot_map_kernel();
        boot_init_pmm();
        kmalloc_init(strstr(boot_info.cmdline, "kmalloc_debug") != NULL);
        vmalloc_init();
        vm_object_init();
        machine_fpu_init();
        kmain();                /* kernel tests, or /init: never returns */
}
