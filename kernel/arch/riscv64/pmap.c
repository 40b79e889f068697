/*
 * pmap.c (riscv64) - Sv39 three-level page tables behind kernel/vm/pmap.h
 * (CONCEPTS C12-C15 for Sv39). The table algebra (walks, deferred freeing
 * of tables, TLB batches, large-page splits, range walks, argument checks,
 * most of the contract) is the shared engine, kernel/arch/pt/pt_engine.h,
 * as for x86-64; this file supplies what is Sv39's: how a protection
 * becomes bits, the two roots of xv6's layout, and the engine's hooks.
 *
 * Sv39 rules kept here (invariants: pmap_md.h, checked by pmap_check()):
 *  - A non-leaf entry is V alone; a leaf has R, W or X and may sit at any
 *    level (1 GiB at the root, 2 MiB, 4 KiB). W needs R (W alone is
 *    reserved), so write implies read; exec-only pages exist
 *    (pmap_prot_implied, machine/pmap.h).
 *  - Hardware may set A and D or fault when they are clear (both are
 *    allowed). Kernel mappings get A, and D when writable, at once: the
 *    kernel must never take such a fault. User mappings get A for any
 *    faulting access and D for a write (PMAP_ACCESS), so the retried
 *    access does not fault again; pmap_ad() reports the bits, which are
 *    never less than what happened on either kind of hardware.
 *  - No cache attributes without Svpbmt: PMAP_NOCACHE and PMAP_WC are
 *    recorded in the RSW bits (pte.h) for pmap_extract() and otherwise
 *    mean nothing to the hart (the board's PMAs make devices uncached).
 *  - xv6's two tables (pmap_md.h): root entries 0-255 of a user pmap's
 *    kroot follow its root; every change of a root entry marks
 *    root_changed and the operation ends by copying them.
 *  - A hart may cache invalid entries (sfence.vma is an ordering fence, not
 *    only a flush), so new mappings are batched for pmap_update() too.
 *  - The kernel half's root entries are fixed at pmap_bootstrap(), so
 *    large pages in the kernel half are at most 2 MiB (a 1 GiB leaf would
 *    be a root entry); boot.S's boot table uses 1 GiB pages.
 *  - Several harts (docs/design.md, the shootdown protocol): each pmap
 *    keeps the harts that have one of its roots in satp (active_cpus,
 *    set in pmap_activate); pmap_update's batch goes to them in one
 *    round (tlb_round), every hart for the kernel pmap, before the
 *    engine frees detached tables.
 * Locks: none here; see struct pmap's tags (pmap_md.h).
 */
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/intr.h>
#include <machine/vmparam.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>

#include "mmu.h"
#include "pmap_md.h"
#include "pte.h"

#define KERNEL_SLOT0    (PT_ENTRIES / 2)        /* first kernel-half slot */
#define PA_MAX          ((1UL << 56) - 1)       /* Sv39: 44-bit PPN */
#define PMAP_FLAGS_ALL  (PMAP_USER | PMAP_GLOBAL | PMAP_NOCACHE | PMAP_WC | \
                         PMAP_DEMOTE | PMAP_ACCESS(VM_PROT_ALL))

static struct pmap kernel_pmap;
/* The kernel half of the kernel root as pmap_bootstrap() left it. */
static pte_t kernel_top[PT_ENTRIES - KERNEL_SLOT0];

/* ---- building and reading entries ------------------------------------ */

/* A leaf at `level` mapping pa (prot is not VM_PROT_NONE). */
static pte_t leaf_entry(paddr_t pa, unsigned level, vm_prot_t prot,
                        unsigned flags)
{
        vm_prot_t access = PMAP_ACCESS_OF(flags);
        pte_t e = pte_make(pa, 0);

        (void)level;
        if (prot & (VM_PROT_READ | VM_PROT_WRITE))
                e |= PTE_R;
        if (prot & VM_PROT_WRITE)
                e |= PTE_W;
        if (prot & VM_PROT_EXEC)
                e |= PTE_X;
        if (flags & PMAP_USER)
                e |= PTE_U;
        if (flags & PMAP_GLOBAL)
                e |= PTE_G;
        if (flags & PMAP_NOCACHE)
                e |= PTE_SW_NOCACHE;
        else if (flags & PMAP_WC)
                e |= PTE_SW_WC;
        if (!(flags & PMAP_USER)) {
                e |= PTE_A | ((prot & VM_PROT_WRITE) ? PTE_D : 0);
        } else {
                if (access)
                        e |= PTE_A;
                if ((access & VM_PROT_WRITE) && (prot & VM_PROT_WRITE))
                        e |= PTE_D;
        }
        return e;
}

static vm_prot_t leaf_prot(pte_t e)
{
        return ((e & PTE_R) ? VM_PROT_READ : 0) |
               ((e & PTE_W) ? VM_PROT_WRITE : 0) |
               ((e & PTE_X) ? VM_PROT_EXEC : 0);
}

static unsigned leaf_flags(pte_t e)
{
        unsigned flags = 0;

        if (e & PTE_U)
                flags |= PMAP_USER;
        if (e & PTE_G)
                flags |= PMAP_GLOBAL;
        if (e & PTE_SW_NOCACHE)
                flags |= PMAP_NOCACHE;
        if (e & PTE_SW_WC)
                flags |= PMAP_WC;
        return flags;
}

/* ---- the engine's hooks (kernel/arch/pt/pt_engine.h) -------------------- */

#define PT_PA_MAX       PA_MAX
#define PTE_PROT_MASK   (PTE_R | PTE_W | PTE_X)
/* A hart may cache an invalid entry: a new mapping is fenced too. */
#define PT_PEND_NEW_LEAVES true

/* W needs R (W alone is reserved); exec-only stays exec-only. */
static pte_t pte_prot_bits(vm_prot_t prot)
{
        return ((prot & (VM_PROT_READ | VM_PROT_WRITE)) ? PTE_R : 0) |
               ((prot & VM_PROT_WRITE) ? PTE_W : 0) |
               ((prot & VM_PROT_EXEC) ? PTE_X : 0);
}

/* The kernel half's root entries are fixed, so the largest page the
 * engine may build is 2 MiB (see the top). */
static unsigned pt_max_leaf_level(void)
{
        return 2;
}

/* A root entry of a user pmap changed: kroot must follow (pt_root_sync()). */
static void pt_root_written(struct pmap *pm, const pte_t *e)
{
        const pte_t *root = pt_table(pm->root);

        if (e >= root && e < root + PT_ENTRIES)
                pm->root_changed = true;
}

/* Copy the user half of root into kroot, if it changed. */
static void pt_root_sync(struct pmap *pm)
{
        if (!pm->root_changed)
                return;
        if (pm->kroot != pm->root)
                memcpy(pt_table(pm->kroot), pt_table(pm->root),
                       KERNEL_SLOT0 * sizeof(pte_t));
        pm->root_changed = false;
}

/* satp holds one of pm's two roots (ASID 0: loading another satp came
 * with a full sfence.vma, so a pmap in neither has nothing cached). */
static bool pmap_loaded(const struct pmap *pm)
{
        return mmu_current_root() == pm->root ||
               mmu_current_root() == pm->kroot;
}

/*
 * Which other harts must drop a batch (docs/design.md, the shootdown
 * protocol): every one for the kernel pmap or a global entry (the kernel
 * half is in every table), else those whose bit is in the pmap's mask (a
 * hart sets it before it loads either root). Read after the entries
 * changed: a hart that loads the pmap later walks the new entries.
 */
static uint64_t remote_cpus(const struct pmap *pm,
                            const struct pmap_tlb_batch *b)
{
        uint64_t me = 1ULL << mmu_cpu_id();

        if (!b->flush_all && b->n == 0)
                return 0;
        if (pm->is_kernel || b->global)
                return ~me;
        return __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST) & ~me;
}

/* The round after this hart fenced (pt_engine.h's tlb_update), before
 * the engine frees the tables the batch detached. */
static void tlb_round(struct pmap *pm, const struct pmap_tlb_batch *b)
{
        uint64_t harts = remote_cpus(pm, b);

        if (harts)
                mmu_tlb_remote(harts, b->va, b->n, b->flush_all);
}

#define pt_tlb_remote(pm, b)    tlb_round(pm, b)

/* Exactly V and the table's frame: Mercator presets nothing here. */
static bool pte_upper_ok(pte_t e, vaddr_t va)
{
        return e == pte_make_table(pte_table_pa(e), va);
}

/* A user pmap's kroot is its own table page but not in root's tree. */
static uint64_t pt_extra_tables(const struct pmap *pm)
{
        return pm->is_kernel ? 0 : 1;
}

#include <arch/pt/pt_engine.h>

/* ---- the contract (vm/pmap.h) ------------------------------------------ */

/*
 * Build the kernel pmap (see vm/pmap.h).
 * => on VM_ENOMEM the pages taken so far are not given back: at boot they
 *    come from bootmem, which cannot take pages back, and the kernel stops.
 */
vm_status_t pmap_bootstrap(paddr_t ram_end)
{
        struct pmap *pm = &kernel_pmap;
        vm_status_t st;

        st = kernel_tables_build(pm, ram_end);
        if (st != VM_EINVAL)
                pm->kroot = pm->root;   /* one table: the kernel runs on it */
        return st;
}

/*
 * A new user address space: an empty user root, and a kernel root whose
 * kernel half is a copy of the kernel's (as Linux's pgd_alloc copies
 * swapper_pg_dir) and whose user half follows the user root.
 * => pmap_bootstrap() has run. VM_ENOMEM if the struct or a root ran out.
 */
vm_status_t pmap_create(struct pmap **out)
{
        struct pmap *pm;

        ASSERT(kernel_pmap.root != 0);
        pm = kzalloc(sizeof *pm);
        if (!pm)
                return VM_ENOMEM;
        if (vm_ptpage_alloc(&pm->root) != VM_OK) {
                kfree(pm);
                return VM_ENOMEM;
        }
        if (vm_ptpage_alloc(&pm->kroot) != VM_OK) {
                vm_ptpage_free(pm->root);
                kfree(pm);
                return VM_ENOMEM;
        }
        pm->table_pages = 2;
        memcpy(&pt_table(pm->kroot)[KERNEL_SLOT0],
               &pt_table(kernel_pmap.root)[KERNEL_SLOT0], sizeof kernel_top);
        *out = pm;
        return VM_OK;
}

/* On a hart that still has pm loaded (its scheduler loop keeps the
 * tables of the thread it ran last): the kernel's own table instead. */
static void pmap_leave(void *arg)
{
        if (*mmu_cpu_pmap() == arg)
                pmap_activate(&kernel_pmap);
}

/*
 * Free a user pmap's own tables (user half and both roots), never the
 * shared kernel tables; the frames it maps stay with their owners. Any
 * other hart that still has it loaded (no thread of it runs there) loads
 * the kernel's table first, or it would go on walking freed tables whose
 * pages may be reused.
 * => pm is not the kernel pmap and neither root is in this hart's satp;
 *    no thread uses it.
 */
void pmap_destroy(struct pmap *pm)
{
        uint64_t others;

        ASSERT(pm != &kernel_pmap && !pmap_loaded(pm));
        others = __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST);
        if (others)
                mmu_remote_call(others, pmap_leave, pm);
        ASSERT(__atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST) == 0);
        user_half_detach(pm);
        pmap_update(pm);
        ASSERT(pm->table_pages == 2);
        vm_ptpage_free(pm->root);
        vm_ptpage_free(pm->kroot);
        kfree(pm);
}

/*
 * Load pm's kernel table into satp: the kernel runs on it; the
 * trampoline switches to pm->root on the way to user mode. This hart's
 * bit moves from the pmap it had to pm, set before the load, so a change
 * made meanwhile is sent here too. Interrupts off: a round's IPI between
 * the bit and the load would be answered for the old tables.
 * Already there (the scheduler goes back to the thread it left, or to
 * another thread of the same process): the bit stayed set, every round
 * came here, nothing cached is wrong, so no satp write and no flush, as
 * Linux's switch_mm does nothing for the same mm.
 */
void pmap_activate(struct pmap *pm)
{
        unsigned long s = intr_save();
        struct pmap **mine = mmu_cpu_pmap();
        uint64_t bit = 1ULL << mmu_cpu_id();

        __atomic_or_fetch(&pm->active_cpus, bit, __ATOMIC_SEQ_CST);
        if (*mine && *mine != pm)
                __atomic_and_fetch(&(*mine)->active_cpus, ~bit,
                                   __ATOMIC_SEQ_CST);
        *mine = pm;
        if (mmu_current_root() != pm->kroot)
                mmu_load_root(pm->kroot);
        intr_restore(s);
}

/* ---- pmap_check: what the engine's walk asks of the format -------------- */

/* Only the bits pmap.c ever writes into a leaf at `level`. */
static bool check_leaf(const struct check_ctx *c, pte_t e, unsigned level,
                       vaddr_t va)
{
        pte_t allowed = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_G |
                        PTE_A | PTE_D | PTE_SW_NOCACHE | PTE_SW_WC |
                        (PTE_PPN_MASK & ~((pt_level_size(level) - 1) >> 2));

        if (e & ~allowed)
                return check_bad(c, "unexpected bits in a leaf", va, level, e);
        if ((e & (PTE_R | PTE_W)) == PTE_W)
                return check_bad(c, "W without R (reserved)", va, level, e);
        if ((e & PTE_U) && !va_is_user_half(va))
                return check_bad(c, "user page in the kernel half", va,
                                  level, e);
        return true;
}

/* kroot: slots 256..511 equal the boot-time kernel half, 0..255 root's;
 * root of a user pmap: no kernel-half entry. */
static bool check_kernel_half(struct check_ctx *c)
{
        const pte_t *top, *ktop;

        if (c->pm->kroot == 0)
                return check_bad(c, "no kernel table", 0, PT_LEVELS, 0);
        top = pt_table(c->pm->root);
        ktop = pt_table(c->pm->kroot);

        for (unsigned i = KERNEL_SLOT0; i < PT_ENTRIES; i++) {
                vaddr_t va = va_canonical((vaddr_t)i << pt_shift(PT_LEVELS));
                if (ktop[i] != kernel_top[i - KERNEL_SLOT0])
                        return check_bad(c, "kernel half differs from the "
                                          "kernel pmap's", va, PT_LEVELS, ktop[i]);
                if (!c->pm->is_kernel && top[i] != 0)
                        return check_bad(c, "kernel entry in a user table",
                                          va, PT_LEVELS, top[i]);
        }
        for (unsigned i = 0; i < KERNEL_SLOT0 && !c->pm->is_kernel; i++)
                if (ktop[i] != top[i])
                        return check_bad(c, "kernel table's user half differs "
                                          "from the user table's",
                                          (vaddr_t)i << pt_shift(PT_LEVELS),
                                          PT_LEVELS, ktop[i]);
        return true;
}
