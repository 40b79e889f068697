/*
 * pmap.c (i386) - 32-bit x86 page tables behind kernel/vm/pmap.h, in both
 * formats of pte.h (2-level with 4 MiB pages; PAE, seen as a 2048-entry
 * directory array over 512-entry tables), on the shared table engine
 * (kernel/arch/pt/pt_engine.h). Runs in the kernel and, over simulated RAM
 * and a software MMU, in the host tier (make test-host PMAP=i386|i386-pae).
 *
 * Owns: every directory and page-table page of every pmap, the kernel
 * pmap, each pmap's TLB batch, and the kernel layout's fixed part: low
 * memory mapped linearly at PAGE_OFFSET with large pages, and a page table
 * for every directory entry from vmalloc up to the recursive slot, all
 * made by pmap_bootstrap() so that every directory shares them by copying
 * entries KERNEL_PDE_MIN..PD_SELF-1 (seed 003's pgd_alloc).
 *
 * Rules kept here (invariants: pmap_md.h, checked by pmap_check()):
 *  - Directory entries pointing at tables allow everything (P|RW, plus US
 *    below PAGE_OFFSET): the leaf decides.
 *  - The kernel's directory entries change only until the first user pmap
 *    copies them (boot splits the image's large page then); afterwards a
 *    kernel mapping goes only where a kernel page table exists.
 *  - The pmap maps [0, PKMAP_BASE): the kmap window, the fixmap
 *    (highmem.c writes their tables directly) and the recursive slot are
 *    not its business.
 *  - Validate before changing; table pages all allocated before any is
 *    linked in (the engine's walk_create()).
 *  - A present page is readable; without NX (2-level tables, or a CPU
 *    without it) it is also executable: pmap_prot_implied() says so.
 *  - User page tables come from HIGHMEM while pmap_highpte is on
 *    (ptmap.h says how the engine reaches them); the directory array,
 *    the PDPT and the kernel's tables always come from low memory.
 * Locks: none here (see pmap_md.h).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/bootmem.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>

#include "mmu.h"
#include "pmap_md.h"
#include "pte.h"
#include "ptmap.h"

#define PMAP_FLAGS_ALL  (PMAP_USER | PMAP_GLOBAL | PMAP_NOCACHE | PMAP_WC | \
                         PMAP_DEMOTE | PMAP_ACCESS(VM_PROT_ALL))
#define PMAP_VA_END     PKMAP_BASE      /* first address the pmap leaves */

bool pmap_nx;
bool pmap_highpte = true;
paddr_t lowmem_end;
vaddr_t vmalloc_start;
#ifdef HOST_BUILD
const void *pt_map_stack[PT_MAP_DEPTH];
unsigned pt_map_depth;
#endif

static struct pmap kernel_pmap;
/* Set by the first pmap_create(): the kernel's directory entries are
 * copied from then on and must not change. */
static bool kernel_frozen;

/* ---- building and reading entries: x86's (kernel/arch/x86/) ------------ */

#define PTE_NX_USABLE   (pmap_nx ? PTE_NX : 0)
#include <arch/x86/pte_leaf.h>

/* ---- the engine's hooks (kernel/arch/pt/pt_engine.h) -------------------- */

#define KERNEL_SLOT0    KERNEL_PDE_MIN  /* 768 (PAE: 1536) */
#define PT_TOP_ENTRIES  PD_SELF         /* the recursive slot is nobody's */
#define PT_PA_MAX       (PTE_PA_LIMIT - 1)
#define PT_FORMAT_BOOTSTRAP             /* pmap_bootstrap() below */
#define PTE_PROT_MASK   (PTE_RW | PTE_NX)
/* The CPU never caches a not-present entry: a new mapping needs no flush. */
#define PT_PEND_NEW_LEAVES false
#define pt_range_ok(pm, va, last)       i386_range_ok(pm, va, last)
/* A large kernel leaf would replace a directory entry every space copied:
 * only pmap_bootstrap() makes them. */
#define pt_leaf_level_ok(level, va)     ((level) == 1 || va_is_user_half(va))

static pte_t pte_prot_bits(vm_prot_t prot)
{
        return ((prot & VM_PROT_WRITE) ? PTE_RW : 0) |
               ((prot & VM_PROT_EXEC) ? 0 : PTE_NX_USABLE);
}

static unsigned pt_max_leaf_level(void)
{
        return 2;
}

/* One directory per address space: nothing to mirror. */
static void pt_root_written(struct pmap *pm, const pte_t *e)
{
        (void)pm;
        (void)e;
}

static void pt_root_sync(struct pmap *pm)
{
        (void)pm;
}

static bool pmap_loaded(const struct pmap *pm)
{
        return mmu_current_root() == pm->root;
}

/* The CPU sets A in directory entries it walks; and a directory entry
 * is also the recursive slot's leaf for its table (RECURSIVE_PT(n)), so
 * a write through the slot sets D there too (ignored by the walk). */
static bool pte_upper_ok(pte_t e, vaddr_t va)
{
        return (e & ~(pte_t)(PTE_A | PTE_D)) ==
               pte_make_table(pte_table_pa(e), va);
}

/* The directory pages after the first, and the PDPT (PAE). */
static uint64_t pt_extra_tables(const struct pmap *pm)
{
        (void)pm;
        return PD_PAGES - 1 + (NR_SELF > 1 ? 1 : 0);
}

/*
 * The pmap maps [0, PKMAP_BASE): the kmap window and the fixmap are
 * highmem.c's, the recursive slot nobody's. Once a user pmap has copied
 * the kernel's directory entries, no operation may split or remove a large
 * low-memory page (it would change an entry every space copied).
 */
static bool i386_range_ok(const struct pmap *pm, vaddr_t va, vaddr_t last)
{
        const pte_t *pd = pmap_pd(pm);

        if (last >= PMAP_VA_END)
                return false;
        if (va_is_user_half(va) || !kernel_frozen)
                return true;
        for (unsigned i = PD_INDEX(va); i <= PD_INDEX(last); i++)
                if (pte_present(pd[i]) && pte_is_leaf(pd[i], 2))
                        return false;
        return true;
}

#include <arch/pt/pt_engine.h>

/* ---- directories -------------------------------------------------------- */

/* A zeroed directory array (PD_PAGES contiguous pages, counted as table
 * pages) and, with PAE, its PDPT. => VM_ENOMEM, nothing taken. */
static vm_status_t pd_alloc(struct pmap *pm)
{
        if (vm_ptpage_alloc_order(PD_PAGES == 1 ? 0 : 2, &pm->root) != VM_OK)
                return VM_ENOMEM;
        pm->table_pages = PD_PAGES;
        pm->cr3 = pm->root;
#ifdef I386_PAE
        if (vm_ptpage_alloc(&pm->cr3) != VM_OK) {
                vm_ptpage_free_order(pm->root, 2);
                return VM_ENOMEM;
        }
        pm->table_pages++;
        for (unsigned j = 0; j < 4; j++)
                pt_table(pm->cr3)[j] = (pm->root + j * PAGE_SIZE) | PTE_P;
#endif
        for (unsigned j = 0; j < NR_SELF; j++)
                pmap_pd(pm)[PD_SELF + j] =
                        pte_make_table(pm->root + j * PAGE_SIZE, RECURSIVE_BASE);
        return VM_OK;
}

static void pd_free(struct pmap *pm)
{
#ifdef I386_PAE
        vm_ptpage_free(pm->cr3);
        pm->table_pages--;
#endif
        vm_ptpage_free_order(pm->root, PD_PAGES == 1 ? 0 : 2);
        pm->table_pages -= PD_PAGES;
}

/* ---- the contract (vm/pmap.h) ------------------------------------------ */

pte_t *pmap_kernel_pd(void)
{
        return pmap_pd(&kernel_pmap);
}

/* A kernel page table under directory entry i (empty). */
static vm_status_t kernel_table(struct pmap *pm, unsigned i, pte_t **out)
{
        paddr_t pa;

        if (vm_ptpage_alloc(&pa) != VM_OK)
                return VM_ENOMEM;
        pmap_pd(pm)[i] = pte_make_table(pa, (vaddr_t)i << PD_SHIFT);
        pm->table_pages++;
        *out = pt_table(pa);
        return VM_OK;
}

/*
 * Build the kernel pmap: the directory, low memory ([0, min(ram_end,
 * LOWMEM_LIMIT)) at PAGE_OFFSET: large pages, a page table for a partial
 * last one), a page table for each directory entry from vmalloc_start
 * (the end of low memory + VMALLOC_OFFSET, rounded up to it) to the
 * recursive slot, and the slot itself. Sets lowmem_end and vmalloc_start.
 * Every kernel page is global (G is ignored without CR4.PGE) and, as the
 * image lies in low memory, executable; boot then write-protects the
 * image's text (pmap_protect splits its large page).
 * => VM_ENOMEM if a table page could not be had (boot stops).
 */
vm_status_t pmap_bootstrap(paddr_t ram_end)
{
        struct pmap *pm = &kernel_pmap;
        pte_t *pt;
        vm_status_t st;

        memset(pm, 0, sizeof *pm);
        pm->is_kernel = true;
        kernel_frozen = false;
        lowmem_end = align_down(MIN(ram_end, (paddr_t)LOWMEM_LIMIT), PAGE_SIZE);
        vmalloc_start = (vaddr_t)align_up(PAGE_OFFSET + lowmem_end +
                                          VMALLOC_OFFSET, VMALLOC_OFFSET);
        st = pd_alloc(pm);
        if (st != VM_OK)
                return st;
        for (paddr_t pa = 0; pa < lowmem_end; pa += LARGE_PAGE_SIZE) {
                unsigned i = PD_INDEX(PAGE_OFFSET + pa);

                if (pa + LARGE_PAGE_SIZE <= lowmem_end) {
                        pmap_pd(pm)[i] = leaf_entry(pa, 2, VM_PROT_ALL,
                                                    PMAP_GLOBAL);
                        continue;
                }
                if (kernel_table(pm, i, &pt) != VM_OK)
                        return VM_ENOMEM;
                for (unsigned k = 0; pa + k * PAGE_SIZE < lowmem_end; k++)
                        pt[k] = leaf_entry(pa + k * PAGE_SIZE, 1, VM_PROT_ALL,
                                           PMAP_GLOBAL);
        }
        for (unsigned i = PD_INDEX(vmalloc_start); i < PD_SELF; i++)
                if (kernel_table(pm, i, &pt) != VM_OK)
                        return VM_ENOMEM;
        return VM_OK;
}

/*
 * A new user address space: a directory whose kernel entries are copies
 * of the kernel's (seed 003's pgd_alloc), and its own recursive slot.
 */
vm_status_t pmap_create(struct pmap **out)
{
        struct pmap *pm;
        const pte_t *kpd = pmap_kernel_pd();

        ASSERT(kernel_pmap.root != 0);
        pm = kzalloc(sizeof *pm);
        if (!pm)
                return VM_ENOMEM;
        if (pd_alloc(pm) != VM_OK) {
                kfree(pm);
                return VM_ENOMEM;
        }
        kernel_frozen = true;
        memcpy(&pmap_pd(pm)[KERNEL_PDE_MIN], &kpd[KERNEL_PDE_MIN],
               (PD_SELF - KERNEL_PDE_MIN) * sizeof(pte_t));
        *out = pm;
        return VM_OK;
}

/* Free a user pmap's tables (not the frames they map, not the kernel's).
 * => pm is not the kernel pmap and not loaded. */
void pmap_destroy(struct pmap *pm)
{
        ASSERT(pm != &kernel_pmap && !pmap_loaded(pm));
        user_half_detach(pm);
        pmap_update(pm);
        pd_free(pm);
        ASSERT(pm->table_pages == 0);
        kfree(pm);
}

void pmap_activate(struct pmap *pm)
{
        mmu_load_root(pm->cr3);
}

/* ---- pmap_walk_describe --------------------------------------------------- */

size_t pmap_walk_describe(struct pmap *pm, vaddr_t va, char *buf, size_t size)
{
        size_t n = (size_t)ksnprintf(buf, size, "va %#" PRIx64 ", CR3 %#" PRIx64
                                     "\n", (uint64_t)va, (uint64_t)pm->cr3);
        paddr_t table = pm->root;

        if (!va_is_canonical(va))
                return n + (size_t)ksnprintf(buf + n, size - n,
                                             "not a 32-bit address\n");
#ifdef I386_PAE
        n += (size_t)ksnprintf(buf + n, size - n, "PDPT at %#" PRIx64
                               " [%u] = %#" PRIx64 "  P (fixed)\n",
                               (uint64_t)pm->cr3, (unsigned)(va >> 30),
                               (uint64_t)pt_table(pm->cr3)[va >> 30]);
#endif
        for (unsigned level = PT_LEVELS; level >= 1 && n < size; level--) {
                unsigned idx = pt_index(va, level);
                const pte_t *t = pt_map_pa(table);
                pte_t e = t[idx];
                char bits[64];

                pt_unmap(t);

                leaf_describe_bits(bits, sizeof bits, e, level);
                n += (size_t)ksnprintf(buf + n, size - n, "%-4s at %#010" PRIx64
                                       " [%4u] = %#" PRIx64 "  %s\n",
                                       level == 2 ? "PD" : "PT",
                                       (uint64_t)table, idx, (uint64_t)e, bits);
                if (!pte_present(e))
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "no translation: an access faults\n");
                if (pte_is_leaf(e, level)) {
                        paddr_t pa = pte_leaf_pa(e, level) +
                                     (va & (pt_level_size(level) - 1));
                        return n + (size_t)ksnprintf(buf + n, size - n,
                                                     "pa %#" PRIx64 " (a %" PRIu64
                                                     " KiB page)\n", (uint64_t)pa,
                                                     pt_level_size(level) >> 10);
                }
                table = pte_table_pa(e);
        }
        return MIN(n, size);
}

/* ---- pmap_check: what the engine's walk asks of the format -------------- */

static bool check_leaf(const struct check_ctx *c, pte_t e, unsigned level,
                       vaddr_t va)
{
        pte_t allowed = PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A |
                        PTE_D | PTE_G | PTE_NX |
                        (PTE_ADDR & ~(pte_t)(pt_level_size(level) - 1));

        if (level > 1)
                allowed |= PTE_PS;
        if (e & ~allowed)
                return check_bad(c, "unexpected bits in a leaf", va, level, e);
        if ((e & PTE_NX) && !pmap_nx)
                return check_bad(c, "NX without EFER.NXE", va, level, e);
        if ((e & PTE_CACHE_MASK) == PTE_PCD)
                return check_bad(c, "PCD without PWT (UC-)", va, level, e);
        if ((e & PTE_US) && !va_is_user_half(va))
                return check_bad(c, "user page in the kernel half", va,
                                 level, e);
        return true;
}

/* The fixed part: a user pmap's kernel entries equal the kernel's, the
 * recursive slot points at the pmap's own directory pages, the PDPT at
 * the directories. */
static bool check_kernel_half(struct check_ctx *c)
{
        const pte_t *pd = pmap_pd(c->pm), *kpd = pmap_kernel_pd();

#ifdef HOST_BUILD
        /* Every table mapping of the last operation was released. */
        if (pt_map_depth != 0)
                return check_bad(c, "a table mapping left held", 0, 0,
                                 pt_map_depth);
#endif
        if (!c->pm->is_kernel)
                for (unsigned i = KERNEL_PDE_MIN; i < PD_SELF; i++)
                        if ((pd[i] & ~PTE_A) != (kpd[i] & ~PTE_A))
                                return check_bad(c, "kernel entry differs from "
                                                 "the kernel pmap's",
                                                 (vaddr_t)i << PD_SHIFT, 2,
                                                 pd[i]);
        for (unsigned j = 0; j < NR_SELF; j++)
                if (!pte_upper_ok(pd[PD_SELF + j], RECURSIVE_BASE) ||
                    pte_table_pa(pd[PD_SELF + j]) != c->pm->root + j * PAGE_SIZE)
                        return check_bad(c, "recursive slot", RECURSIVE_BASE +
                                         j * PAGE_SIZE, 2, pd[PD_SELF + j]);
#ifdef I386_PAE
        /* (QEMU's TCG sets A in PDPT entries, where a real CPU's bit 5 is
         * reserved: A is not compared.) */
        for (unsigned j = 0; j < 4; j++)
                if ((pt_table(c->pm->cr3)[j] & ~PTE_A) !=
                    ((c->pm->root + j * PAGE_SIZE) | PTE_P))
                        return check_bad(c, "PDPT entry", (vaddr_t)j << 30, 3,
                                         pt_table(c->pm->cr3)[j]);
#endif
        return true;
}
