/*
 * pmap.c - x86-64 4-level page tables behind kernel/vm/pmap.h: pure table
 * algebra over tables reached through phys_to_virt() (CONCEPTS C12-C15).
 *
 * Owns: every page-table page of every pmap (all from vm_ptpage_alloc()),
 * the kernel pmap, and the TLB batch of each pmap. Touches the hardware
 * only through mmu.h, so the same file runs in the kernel (real CR3 and
 * invlpg) and in host tests (simulated RAM, kernel/arch/host/softmmu.c).
 *
 * Rules kept here (invariants: pmap_md.h, checked by pmap_check()):
 *  - Upper levels allow everything (P|RW, plus US in the user half) and are
 *    never NX: the leaf alone decides what a page allows, because the CPU
 *    grants an access only if every level on the path grants it.
 *  - The kernel half of the kernel PML4 is written only by pmap_bootstrap();
 *    later kernel mappings go into the tables below, which every address
 *    space shares by having copied those 256 top-level entries.
 *  - Validate before changing: VM_EINVAL never leaves a change behind, and
 *    table pages are all allocated before any is linked in.
 *  - x86 has no write-only or execute-only pages: anything present is
 *    readable, so pmap_extract() reports VM_PROT_READ for every mapping.
 *  - PMAP_USER mappings live only in the user half (the kernel half's upper
 *    levels have US clear in every address space).
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
#define PA_MAX          ((1UL << 52) - 1)       /* MAXPHYADDR is at most 52 */
#define PMAP_FLAGS_ALL  (PMAP_USER | PMAP_GLOBAL | PMAP_NOCACHE | PMAP_WC | \
                         PMAP_DEMOTE | PMAP_ACCESS(VM_PROT_ALL))

static struct pmap kernel_pmap;
static uint64_t next_ctx_id;            /* [a] the last pmap's ctx_id */
/* The kernel half of the kernel PML4 as pmap_bootstrap() left it (with A
 * clear: the CPU sets A in whichever copy it walks). */
static pte_t kernel_top[PT_ENTRIES - KERNEL_SLOT0];

/* ---- building and reading entries: x86's (kernel/arch/x86/) ------------ */

#define PTE_NX_USABLE   PTE_NX          /* EFER.NXE is always on */
#include <arch/x86/pte_leaf.h>

/* ---- the engine's hooks (kernel/arch/pt/pt_engine.h) -------------------- */

#define PT_PA_MAX       PA_MAX
#define PTE_PROT_MASK   (PTE_RW | PTE_NX)
/* The CPU never caches a not-present entry: a new mapping needs no flush. */
#define PT_PEND_NEW_LEAVES false

static pte_t pte_prot_bits(vm_prot_t prot)
{
        return ((prot & VM_PROT_WRITE) ? PTE_RW : 0) |
               ((prot & VM_PROT_EXEC) ? 0 : PTE_NX);
}

static unsigned pt_max_leaf_level(void)
{
        return mmu_has_1g_pages() ? 3 : 2;
}

/* One table per address space: nothing to mirror. */
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

/* The CPU sets A in upper-level entries it walks. */
static bool pte_upper_ok(pte_t e, vaddr_t va)
{
        return (e & ~PTE_A) == pte_make_table(pte_table_pa(e), va);
}

/* Every table of an x86-64 pmap hangs below its PML4. */
static uint64_t pt_extra_tables(const struct pmap *pm)
{
        (void)pm;
        return 0;
}

/*
 * Which other CPUs must drop a batch: every one for the kernel pmap or a
 * global entry (the kernel half is live everywhere), else those whose bit
 * is in the pmap's mask. Read after the entries changed: a CPU that loads
 * the pmap later walks the new entries.
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

/*
 * The round after this CPU flushed (pt_engine.h's tlb_update): raise a user
 * pmap's tlb_gen first, so a CPU that loads it from now on either sees the
 * new generation or has its bit in the mask read after it (pmap_activate
 * sets the bit before it reads the generation); then this CPU's PCID slot,
 * then the other CPUs in the mask.
 */
static void tlb_round(struct pmap *pm, const struct pmap_tlb_batch *b)
{
        uint64_t gen = 0, cpus;

        if (!b->flush_all && b->n == 0)
                return;
        if (!pm->is_kernel)
                gen = __atomic_add_fetch(&pm->tlb_gen, 1, __ATOMIC_SEQ_CST);
        if (pm->is_kernel || pmap_loaded(pm))
                pmap_pcid_round(pm->ctx_id, gen);
        cpus = remote_cpus(pm, b);
        if (cpus)
                mmu_tlb_remote(cpus, b->va, b->n, b->flush_all, b->global,
                               pm->ctx_id, gen);
}

#define pt_tlb_remote(pm, b)    tlb_round(pm, b)

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
        return st;
}

/*
 * A new user address space: a fresh PML4 whose kernel half is a copy of the
 * kernel's (as Linux's pgd_alloc copies swapper_pg_dir).
 * => pmap_bootstrap() has run. VM_ENOMEM if the struct or PML4 ran out.
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
        pm->table_pages = 1;
        pm->ctx_id = __atomic_add_fetch(&next_ctx_id, 1, __ATOMIC_RELAXED);
        memcpy(&pt_table(pm->root)[KERNEL_SLOT0],
               &pt_table(kernel_pmap.root)[KERNEL_SLOT0], sizeof kernel_top);
        *out = pm;
        return VM_OK;
}

/*
 * On a CPU that may still have pm loaded: the kernel's tables instead. A
 * CPU keeps the tables of the last thread it ran while its scheduler loop
 * spins for the big kernel lock or picks the next thread (lazily: a thread
 * of the same space then runs without a CR3 load), so a space whose last
 * thread ended elsewhere may still be in its CR3. Run in the CPU's
 * interrupt handler for pmap_destroy(), whose caller holds the kernel lock
 * and waits; that is what keeps the CPU's loaded pmap ([k]) consistent.
 */
static void pmap_leave(void *arg)
{
        if (*mmu_cpu_pmap() == arg)
                pmap_activate(&kernel_pmap);
}

/*
 * Free a user pmap's own tables (user half and PML4), never the shared
 * kernel tables; the frames it maps stay with their owners. Any other CPU
 * that still has it loaded (no thread of it runs there: pmap_leave) loads
 * the kernel's tables first, or it would go on walking a freed PML4 whose
 * page may be reused (the kernel half with it).
 * => pm is not the kernel pmap and not loaded in this CPU's CR3; no thread
 *    uses it.
 */
void pmap_destroy(struct pmap *pm)
{
        uint64_t others;

        ASSERT(pm != &kernel_pmap && mmu_current_root() != pm->root);
        others = __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST);
        if (others)
                mmu_remote_call(others, pmap_leave, pm);
        ASSERT(__atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST) == 0);
        user_half_detach(pm);
        /* Loaded nowhere, so only global user entries (if any) can be
         * cached. */
        pmap_update(pm);
        ASSERT(pm->table_pages == 1);
        vm_ptpage_free(pm->root);
        kfree(pm);
}

/* ---- PCIDs (pmap_md.h, struct pmap_pcid_cpu) ---------------------------- */

/*
 * Load pm's PML4 under this CPU's PCID for it: the slot that has it, kept
 * if its generation is pm's (no flush round for pm since this CPU's
 * entries were last good), else flushed; a space with no slot takes the
 * next one round robin, flushed. The kernel pmap, and every pmap when
 * PCIDs are off, loads under PCID 0 with the non-global entries dropped.
 * Reads tlb_gen after pmap_activate set this CPU's bit (see tlb_round).
 */
static void pcid_load(struct pmap *pm)
{
        struct pmap_pcid_cpu *pc = mmu_cpu_pcid();
        unsigned s = 0;

        if (!pc || pm->is_kernel) {
                if (pc)
                        pc->cur = PMAP_PCID_SLOTS;
                mmu_load_root(pm->root, 0, false);
                return;
        }
        uint64_t gen = __atomic_load_n(&pm->tlb_gen, __ATOMIC_SEQ_CST);
        while (s < PMAP_PCID_SLOTS && pc->slot[s].ctx_id != pm->ctx_id)
                s++;
        bool keep = s < PMAP_PCID_SLOTS && pc->slot[s].gen == gen;
        if (s == PMAP_PCID_SLOTS) {
                s = pc->next;
                pc->next = (s + 1) % PMAP_PCID_SLOTS;
        }
        pc->slot[s] = (struct pmap_pcid_slot){ pm->ctx_id, gen };
        pc->cur = s;
        mmu_load_root(pm->root, s + 1, keep);
}

void pmap_pcid_round(uint64_t ctx_id, uint64_t gen)
{
        struct pmap_pcid_cpu *pc = mmu_cpu_pcid();

        if (!pc)
                return;
        if (ctx_id == 0) {
                for (unsigned s = 0; s < PMAP_PCID_SLOTS; s++)
                        if (s != pc->cur)
                                pc->slot[s].ctx_id = 0;
        } else if (pc->cur < PMAP_PCID_SLOTS &&
                   pc->slot[pc->cur].ctx_id == ctx_id) {
                struct pmap_pcid_slot *sl = &pc->slot[pc->cur];

                /* Rounds the big lock serialises come in order; two
                 * lock-free faults' rounds need not (pmap_md.h). */
                if (sl->gen != PMAP_PCID_STALE && gen == sl->gen + 1)
                        sl->gen = gen;
                else if (sl->gen == PMAP_PCID_STALE || gen > sl->gen)
                        sl->gen = PMAP_PCID_STALE;
        }
}

/* Load pm on this CPU: its bit moves from the pmap it had to pm (set
 * before the load, so a change made meanwhile is sent here too). With
 * interrupts off: a round's IPI taken between the look at pm's generation
 * and the CR3 load would flush the old space and leave pm's slot as it
 * was. */
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
        pcid_load(pm);
        intr_restore(s);
}

/* ---- pmap_check: what the engine's walk asks of the format -------------- */

/* Only the bits pmap.c ever writes into a leaf at `level`. */
static bool check_leaf(const struct check_ctx *c, pte_t e, unsigned level,
                       vaddr_t va)
{
        pte_t allowed = PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A |
                        PTE_D | PTE_G | PTE_NX |
                        (PTE_ADDR_MASK & ~(pt_level_size(level) - 1));

        if (level > 1)
                allowed |= PTE_PS;
        if (e & ~allowed)
                return check_bad(c, "unexpected bits in a leaf", va, level, e);
        if ((e & PTE_CACHE_MASK) == PTE_PCD)
                return check_bad(c, "PCD without PWT (UC-)", va, level, e);
        if ((e & PTE_US) && !va_is_user_half(va))
                return check_bad(c, "user page in the kernel half", va,
                                  level, e);
        return true;
}

/* Slots 256..511 equal the boot-time kernel half (A may differ). */
static bool check_kernel_half(struct check_ctx *c)
{
        const pte_t *pml4 = pt_table(c->pm->root);

        for (unsigned i = KERNEL_SLOT0; i < PT_ENTRIES; i++)
                if ((pml4[i] & ~PTE_A) != kernel_top[i - KERNEL_SLOT0])
                        return check_bad(c, "kernel half differs from the "
                                          "kernel pmap's",
                                          va_canonical((vaddr_t)i << 39), 4,
                                          pml4[i]);
        return true;
}
