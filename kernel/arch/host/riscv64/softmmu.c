/*
 * softmmu.c (riscv64) - the Sv39 MMU in software, for the host build with
 * PMAP=riscv64 (see softmmu.h): mmu.h's privileged operations over a
 * simulated satp and TLB, and a page walker that follows the RISC-V
 * privileged specification (version 1.12, section 4.3.2, "Virtual Address
 * Translation Process", for Sv39).
 *
 * Owns: the simulated satp and TLB. Reads and writes only page-table
 * entries in simulated RAM (A and D, as a hart that updates them in
 * hardware does; QEMU's harts do). The entry bits are spelled out here
 * again rather than taken from kernel/arch/riscv64/pte.h on purpose: this
 * file is the reference the table code is tested against.
 *
 * Model: one hart, ASID 0 only, sstatus.SUM = 1 and MXR = 0 for kernel
 * accesses to user pages (the kernel reaches user memory that way), no
 * Svpbmt, no Svnapot. A hart may cache invalid entries (the spec allows
 * it): this TLB does not, but it keeps every translation it made until an
 * sfence.vma covers it, global or not, whatever happens to the tables.
 */
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <arch/host/softmmu.h>
#include <arch/riscv64/mmu.h>
#include <arch/riscv64/pmap_md.h>

#include <stdio.h>

/* Sv39 entry bits: valid, read, write, execute, user, global, accessed,
 * dirty; the PPN at bits 10..53. */
#define HW_V            (1UL << 0)
#define HW_R            (1UL << 1)
#define HW_W            (1UL << 2)
#define HW_X            (1UL << 3)
#define HW_U            (1UL << 4)
#define HW_G            (1UL << 5)
#define HW_A            (1UL << 6)
#define HW_D            (1UL << 7)
#define HW_PPN(e)       (((e) >> 10) & ((1UL << 44) - 1))
#define HW_RESERVED     (0x3ffUL << 54)         /* bits 54..63: N, PBMT, 0 */

struct softmmu_stats softmmu_stats;

struct hw_rights {
        bool r, w, x, u;
};

struct hw_walk {
        enum softmmu_result st;
        uint64_t *entry[3];             /* entries used, root first */
        unsigned n;
        unsigned shift;                 /* page size of the leaf */
        paddr_t page_pa;
        struct hw_rights r;             /* the leaf's: Sv39 checks only it */
        bool g, d;
};

struct tlb_entry {
        bool valid;
        vaddr_t page_va;
        unsigned shift;                 /* 12, 21 or 30 */
        paddr_t page_pa;
        struct hw_rights r;
        bool g, d;
};

static paddr_t satp_root;               /* 0: paging off (never used so) */
static struct pmap *cpu_pmap[64];       /* each hart's mmu_cpu_pmap() */
unsigned softmmu_cpu;
struct softmmu_remote softmmu_last_remote;
uint64_t softmmu_last_call_cpus;
static struct tlb_entry tlb[SOFTMMU_TLB_SIZE];
static unsigned tlb_victim;

/* Bits 63..39 must equal bit 38. */
static bool hw_canonical(vaddr_t va)
{
        int64_t top = (int64_t)va >> 38;

        return top == 0 || top == -1;
}

static uint64_t *hw_table(paddr_t pa)
{
        if (host_ram_size < PAGE_SIZE || pa > host_ram_size - PAGE_SIZE)
                panic("softmmu: page table at %#lx is outside RAM (%#lx bytes)",
                      pa, host_ram_size);
        return phys_to_virt(pa);
}

/* The spec's steps 2-6 without side effects: find the leaf. */
static void hw_walk(paddr_t root, vaddr_t va, struct hw_walk *w)
{
        paddr_t table = root;

        memset(w, 0, sizeof *w);
        for (int level = 2; level >= 0; level--) {
                unsigned shift = 12 + 9 * (unsigned)level;
                uint64_t *e = &hw_table(table)[(va >> shift) & 511];
                uint64_t v = *e;

                w->entry[w->n++] = e;
                if (!(v & HW_V)) {
                        w->st = SOFTMMU_NOT_PRESENT;
                        return;
                }
                if ((v & HW_RESERVED) || ((v & HW_W) && !(v & HW_R))) {
                        w->st = SOFTMMU_RESERVED;
                        return;
                }
                if (!(v & (HW_R | HW_W | HW_X))) {
                        /* A pointer: A, D and U are reserved there. */
                        if (v & (HW_A | HW_D | HW_U) || level == 0) {
                                w->st = SOFTMMU_RESERVED;
                                return;
                        }
                        table = HW_PPN(v) << 12;
                        continue;
                }
                /* A leaf: a misaligned superpage is a fault. */
                if (HW_PPN(v) & ((1UL << (9 * (unsigned)level)) - 1)) {
                        w->st = SOFTMMU_RESERVED;
                        return;
                }
                w->shift = shift;
                w->page_pa = HW_PPN(v) << 12;
                w->r = (struct hw_rights){ v & HW_R, v & HW_W, v & HW_X, v & HW_U };
                w->g = v & HW_G;
                w->d = v & HW_D;
                w->st = SOFTMMU_OK;
                return;
        }
}

/* Step 5 of the spec: the leaf's rights decide (SUM = 1, MXR = 0). */
static enum softmmu_result hw_allowed(struct hw_rights r, unsigned access,
                                      bool user)
{
        if (user && !r.u)
                return SOFTMMU_PROTECTION;
        if (!user && r.u && access == SOFTMMU_EXEC)
                return SOFTMMU_PROTECTION;      /* S-mode never runs U code */
        if (access == SOFTMMU_READ && !r.r)
                return SOFTMMU_PROTECTION;
        if (access == SOFTMMU_WRITE && !r.w)
                return SOFTMMU_PROTECTION;
        if (access == SOFTMMU_EXEC && !r.x)
                return SOFTMMU_PROTECTION;
        return SOFTMMU_OK;
}

static enum softmmu_result hw_translate(paddr_t root, vaddr_t va,
                                        unsigned access, bool user,
                                        struct hw_walk *w)
{
        softmmu_stats.walks++;
        hw_walk(root, va, w);
        if (w->st == SOFTMMU_OK)
                w->st = hw_allowed(w->r, access, user);
        if (w->st != SOFTMMU_OK)
                return w->st;
        /* Hardware A/D update (the leaf only: pointers have none). */
        *w->entry[w->n - 1] |= HW_A;
        if (access == SOFTMMU_WRITE) {
                *w->entry[w->n - 1] |= HW_D;
                w->d = true;
        }
        return SOFTMMU_OK;
}

static enum softmmu_result hw_report(enum softmmu_result st, paddr_t pa,
                                     paddr_t *pa_out)
{
        if (pa_out && st == SOFTMMU_OK)
                *pa_out = pa;
        return st;
}

/* ---- the TLB ---------------------------------------------------------- */

static bool tlb_covers(const struct tlb_entry *e, vaddr_t va)
{
        return e->valid && (va >> e->shift) == (e->page_va >> e->shift);
}

static struct tlb_entry *tlb_find(vaddr_t va)
{
        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++)
                if (tlb_covers(&tlb[i], va))
                        return &tlb[i];
        return NULL;
}

static void tlb_fill(struct tlb_entry *e, vaddr_t va, const struct hw_walk *w)
{
        if (!e) {
                e = &tlb[tlb_victim];
                tlb_victim = (tlb_victim + 1) % SOFTMMU_TLB_SIZE;
        }
        *e = (struct tlb_entry){
                .valid = true, .page_va = va & ~((1UL << w->shift) - 1),
                .shift = w->shift, .page_pa = w->page_pa, .r = w->r,
                .g = w->g, .d = w->d,
        };
}

enum softmmu_result softmmu_translate(struct pmap *pm, vaddr_t va,
                                      unsigned access, bool user,
                                      paddr_t *pa_out)
{
        struct hw_walk w;
        enum softmmu_result st = SOFTMMU_NONCANONICAL;

        /* The kernel's view: its table holds the user half as well. */
        if (hw_canonical(va))
                st = hw_translate(user ? pm->root : pm->kroot, va, access,
                                  user, &w);
        return hw_report(st, st == SOFTMMU_OK ?
                         w.page_pa + (va & ((1UL << w.shift) - 1)) : 0, pa_out);
}

enum softmmu_result softmmu_access(vaddr_t va, unsigned access, bool user,
                                   paddr_t *pa_out)
{
        struct tlb_entry *e;
        struct hw_walk w;
        enum softmmu_result st;

        if (!hw_canonical(va))
                return SOFTMMU_NONCANONICAL;
        e = tlb_find(va);
        if (e) {
                softmmu_stats.tlb_hits++;
                st = hw_allowed(e->r, access, user);
                if (st != SOFTMMU_OK)
                        e->valid = false;
                if (st != SOFTMMU_OK || access != SOFTMMU_WRITE || e->d)
                        return hw_report(st, e->page_pa +
                                         (va & ((1UL << e->shift) - 1)), pa_out);
        }
        st = hw_translate(satp_root, va, access, user, &w);
        if (st == SOFTMMU_OK)
                tlb_fill(e, va, &w);
        else if (e)
                e->valid = false;
        return hw_report(st, st == SOFTMMU_OK ?
                         w.page_pa + (va & ((1UL << w.shift) - 1)) : 0, pa_out);
}

static const char *tlb_stale(const struct tlb_entry *e)
{
        struct hw_walk w;

        hw_walk(satp_root, e->page_va, &w);
        if (w.st != SOFTMMU_OK)
                return "the page is no longer mapped";
        if (w.shift != e->shift || w.page_pa != e->page_pa)
                return "the page now has another frame or size";
        /* An entry that allows less than the tables now is not stale:
         * widening needs no invalidation (pmap_widen_run; Intel SDM
         * 4.10.4.3, RISC-V's spurious faults), since an access it
         * refuses faults, the fault drops the entry and the fault
         * path enters the translation again. */
        if (w.r.u != e->r.u || (e->r.r && !w.r.r) || (e->r.w && !w.r.w) ||
            (e->r.x && !w.r.x))
                return "the rights changed";
        if (w.g != e->g)
                return "the global bit changed";
        if (e->d && !w.d)
                return "cached dirty, but D was cleared";
        return NULL;
}

bool softmmu_tlb_check(void)
{
        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++) {
                const struct tlb_entry *e = &tlb[i];
                const char *why = e->valid ? tlb_stale(e) : NULL;

                if (why) {
                        fprintf(stderr, "softmmu: stale TLB entry va %#lx -> "
                                "pa %#lx (2^%u bytes): %s\n", e->page_va,
                                e->page_pa, e->shift, why);
                        return false;
                }
        }
        return true;
}

unsigned softmmu_tlb_entries(void)
{
        unsigned n = 0;

        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++)
                n += tlb[i].valid;
        return n;
}

bool softmmu_tlb_holds(vaddr_t va)
{
        return tlb_find(va) != NULL;
}

unsigned softmmu_page_shift(struct pmap *pm, vaddr_t va)
{
        struct hw_walk w;

        if (!hw_canonical(va))
                return 0;
        hw_walk(pm->kroot, va, &w);
        return w.st == SOFTMMU_OK ? w.shift : 0;
}

void softmmu_reset(void)
{
        memset(tlb, 0, sizeof tlb);
        tlb_victim = 0;
        satp_root = 0;
        memset(&softmmu_stats, 0, sizeof softmmu_stats);
        memset(cpu_pmap, 0, sizeof cpu_pmap);
}

/* ---- mmu.h ------------------------------------------------------------ */

/* sfence.vma va, x0: every entry covering va, global ones too. */
void mmu_invlpg(vaddr_t va)
{
        struct tlb_entry *e;

        softmmu_stats.invlpg++;
        while ((e = tlb_find(va)))
                e->valid = false;
}

/* sfence.vma x0, x0: everything. */
void mmu_flush_tlb(bool global)
{
        if (global)
                softmmu_stats.flush_global++;
        else
                softmmu_stats.flush++;
        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++)
                tlb[i].valid = false;
}

/* csrw satp then sfence.vma (mmu.c does both): the old entries go. */
void mmu_load_root(paddr_t root)
{
        softmmu_stats.root_loads++;
        satp_root = root;
        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++)
                tlb[i].valid = false;
}

paddr_t mmu_current_root(void)
{
        return satp_root;
}

/* ---- several harts (mmu.h): the host plays hart softmmu_cpu ----------- */

unsigned mmu_cpu_id(void)
{
        return softmmu_cpu;
}

struct pmap **mmu_cpu_pmap(void)
{
        return &cpu_pmap[softmmu_cpu & 63];
}

/* Recorded for the tests instead of sent. */
void mmu_tlb_remote(uint64_t mask, const vaddr_t *va, unsigned n, bool all)
{
        softmmu_stats.remote_rounds++;
        softmmu_last_remote = (struct softmmu_remote){
                .cpus = mask, .n = n, .all = all, .va0 = n ? va[0] : 0,
                .free_pages_then = pmm_free_count() };
}

/* Each hart of the mask runs fn in turn (the host plays it), under the
 * host hart's satp afterwards as before: only the calls' effects on the
 * harts' loaded pmaps (mmu_cpu_pmap) are modelled. */
void mmu_remote_call(uint64_t mask, void (*fn)(void *), void *arg)
{
        unsigned me = softmmu_cpu;
        paddr_t root = satp_root;

        softmmu_stats.remote_calls++;
        softmmu_last_call_cpus = mask & ~(1ULL << me);
        for (unsigned i = 0; i < 64; i++)
                if (i != me && (mask >> i & 1)) {
                        softmmu_cpu = i;
                        fn(arg);
                }
        softmmu_cpu = me;
        satp_root = root;
}
