/*
 * softmmu.c (x86-64) - the x86-64 MMU in software, for the host build with
 * PMAP=x86_64 (see softmmu.h and softmmu_x86_64.h): mmu.h's privileged
 * operations over a simulated CR3 and TLB, and a page walker that follows
 * the SDM (vol. 3, chapter 4).
 *
 * Owns: the simulated CR3, TLB and CPU features. Reads and writes only
 * page-table entries in simulated RAM (A and D bits, as the CPU would).
 * The entry bits are spelled out here again rather than taken from
 * kernel/arch/x86_64/pte.h on purpose: this file is the reference the
 * table code is tested against, so a mistake in pte.h must not be
 * repeated here silently.
 *
 * Invariant: every valid TLB entry was produced by a successful walk; it
 * stays until an invlpg covering it, a flush, or (non-global only) a CR3
 * load removes it, whatever happens to the tables meanwhile.
 */
#include <vm/pmm.h>
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <arch/x86_64/mmu.h>
#include <arch/x86_64/pmap_md.h>

#include "softmmu_x86_64.h"

#include <stdio.h>

/* The CPU the host plays and each CPU's loaded pmap (mmu_cpu_pmap), and
 * the last round of remote invalidations asked for (softmmu.h). */
unsigned softmmu_cpu;
struct softmmu_remote softmmu_last_remote;
uint64_t softmmu_last_call_cpus;
static struct pmap *cpu_pmap[64];
/* PCIDs: each CPU's slots while softmmu_pcid, and the last CR3 load. */
bool softmmu_pcid;
static struct pmap_pcid_cpu cpu_pcid[64];
struct softmmu_load softmmu_last_load;

/* Entry bits (SDM 4.5): present, writable, user, accessed, dirty, page
 * size (levels 3 and 2), global, no-execute; address bits 12..51. */
#define HW_P            (1UL << 0)
#define HW_RW           (1UL << 1)
#define HW_US           (1UL << 2)
#define HW_A            (1UL << 5)
#define HW_D            (1UL << 6)
#define HW_PS           (1UL << 7)
#define HW_G            (1UL << 8)
#define HW_NX           (1UL << 63)
#define HW_ADDR         0x000ffffffffff000UL

bool softmmu_1g_pages = true;
bool softmmu_smep;
bool softmmu_smap;
struct softmmu_stats softmmu_stats;

/* What a path of entries allows: each bit is the AND over all levels
 * (for x: no level has NX). */
struct hw_rights {
        bool w, u, x;
};

/* The outcome of one walk. */
struct hw_walk {
        enum softmmu_result st;
        uint64_t *entry[4];             /* entries used, PML4 first */
        unsigned n;                     /* how many of them */
        unsigned shift;                 /* page size of the leaf */
        paddr_t page_pa;                /* the page's first byte */
        struct hw_rights r;
        bool g, d;                      /* the leaf's G and D */
};

struct tlb_entry {
        bool valid;
        vaddr_t page_va;                /* first byte of the page */
        unsigned shift;                 /* 12, 21 or 30 */
        paddr_t page_pa;
        struct hw_rights r;
        bool g, d;                      /* global; D was set when cached */
};

static paddr_t cr3;
static struct tlb_entry tlb[SOFTMMU_TLB_SIZE];
static unsigned tlb_victim;             /* round-robin replacement */

static bool hw_canonical(vaddr_t va)
{
        int64_t top = (int64_t)va >> 47;

        return top == 0 || top == -1;
}

/* The table at pa, which must lie in simulated RAM. */
static uint64_t *hw_table(paddr_t pa)
{
        if (host_ram_size < PAGE_SIZE || pa > host_ram_size - PAGE_SIZE)
                panic("softmmu: page table at %#lx is outside RAM (%#lx bytes)",
                      pa, host_ram_size);
        return phys_to_virt(pa);
}

/* A large leaf at level 3/2 needs the CPU feature and zero address bits
 * below its size (bit 12 is its PAT bit); PS at level 4 is reserved. */
static bool hw_reserved(uint64_t e, unsigned level, unsigned shift)
{
        if (level == 4)
                return e & HW_PS;
        if (level == 3 && !softmmu_1g_pages)
                return true;
        return (e & HW_ADDR & ((1UL << shift) - 1) & ~(1UL << 12)) != 0;
}

/* Walk va (canonical) from root without side effects; fill *w. */
static void hw_walk(paddr_t root, vaddr_t va, struct hw_walk *w)
{
        paddr_t table = root & HW_ADDR;

        memset(w, 0, sizeof *w);
        w->r = (struct hw_rights){ true, true, true };
        for (unsigned level = 4; level >= 1; level--) {
                unsigned shift = 12 + 9 * (level - 1);
                uint64_t *e = &hw_table(table)[(va >> shift) & 511];
                bool leaf = level == 1 || (*e & HW_PS);

                w->entry[w->n++] = e;
                if (!(*e & HW_P)) {
                        w->st = SOFTMMU_NOT_PRESENT;
                        return;
                }
                w->r.w &= (*e & HW_RW) != 0;
                w->r.u &= (*e & HW_US) != 0;
                w->r.x &= (*e & HW_NX) == 0;
                if (level > 1 && (*e & HW_PS) && hw_reserved(*e, level, shift)) {
                        w->st = SOFTMMU_RESERVED;
                        return;
                }
                if (leaf) {
                        w->shift = shift;
                        w->page_pa = *e & HW_ADDR & ~((1UL << shift) - 1);
                        w->g = (*e & HW_G) != 0;
                        w->d = (*e & HW_D) != 0;
                        w->st = SOFTMMU_OK;
                        return;
                }
                table = *e & HW_ADDR;
        }
}

/* May this access use a translation with rights r? (CR0.WP = 1: a
 * read-only page is read-only for the kernel too.) */
static enum softmmu_result hw_allowed(struct hw_rights r, unsigned access,
                                      bool user)
{
        if (user && !r.u)
                return SOFTMMU_PROTECTION;
        if (access == SOFTMMU_WRITE && !r.w)
                return SOFTMMU_PROTECTION;
        if (access == SOFTMMU_EXEC && !r.x)
                return SOFTMMU_PROTECTION;
        if (!user && r.u && access == SOFTMMU_EXEC && softmmu_smep)
                return SOFTMMU_PROTECTION;
        if (!user && r.u && access != SOFTMMU_EXEC && softmmu_smap)
                return SOFTMMU_PROTECTION;
        return SOFTMMU_OK;
}

/* The error code the CPU pushes for a page fault of this kind. */
static unsigned hw_pf_code(enum softmmu_result st, unsigned access, bool user)
{
        unsigned err = 0;

        if (st == SOFTMMU_OK || st == SOFTMMU_NONCANONICAL)
                return 0;
        if (st != SOFTMMU_NOT_PRESENT)
                err |= PF_PRESENT;
        if (st == SOFTMMU_RESERVED)
                err |= PF_RSVD;
        if (access == SOFTMMU_WRITE)
                err |= PF_WRITE;
        if (user)
                err |= PF_USER;
        if (access == SOFTMMU_EXEC)
                err |= PF_INSTR;
        return err;
}

/* Walk, check the rights, and on success set A (and D for a write). */
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
        for (unsigned i = 0; i < w->n; i++)
                *w->entry[i] |= HW_A;
        if (access == SOFTMMU_WRITE) {
                *w->entry[w->n - 1] |= HW_D;
                w->d = true;
        }
        return SOFTMMU_OK;
}

/* Report a result through the optional out-parameters. */
static enum softmmu_result hw_report(enum softmmu_result st, paddr_t pa,
                                     unsigned access, bool user,
                                     paddr_t *pa_out, unsigned *pf_err)
{
        if (pa_out && st == SOFTMMU_OK)
                *pa_out = pa;
        if (pf_err)
                *pf_err = hw_pf_code(st, access, user);
        return st;
}

enum softmmu_result softmmu_x86_translate(paddr_t root, vaddr_t va,
                                          unsigned access, bool user,
                                          paddr_t *pa_out, unsigned *pf_err)
{
        struct hw_walk w;
        enum softmmu_result st = SOFTMMU_NONCANONICAL;

        if (hw_canonical(va))
                st = hw_translate(root, va, access, user, &w);
        return hw_report(st, st == SOFTMMU_OK ?
                         w.page_pa + (va & ((1UL << w.shift) - 1)) : 0,
                         access, user, pa_out, pf_err);
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

/* Cache walk w of va, in slot e if va already had one. */
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

enum softmmu_result softmmu_x86_access(vaddr_t va, unsigned access, bool user,
                                       paddr_t *pa_out, unsigned *pf_err)
{
        struct tlb_entry *e;
        struct hw_walk w;
        enum softmmu_result st;

        if (!hw_canonical(va))
                return hw_report(SOFTMMU_NONCANONICAL, 0, access, user,
                                 pa_out, pf_err);
        e = tlb_find(va);
        if (e) {
                softmmu_stats.tlb_hits++;
                st = hw_allowed(e->r, access, user);
                if (st != SOFTMMU_OK)
                        e->valid = false;       /* a fault drops the entry */
                if (st != SOFTMMU_OK || access != SOFTMMU_WRITE || e->d)
                        return hw_report(st, e->page_pa +
                                         (va & ((1UL << e->shift) - 1)),
                                         access, user, pa_out, pf_err);
                /* Writing through a clean entry: walk again to set D. */
        }
        st = hw_translate(cr3, va, access, user, &w);
        if (st == SOFTMMU_OK)
                tlb_fill(e, va, &w);
        else if (e)
                e->valid = false;
        return hw_report(st, st == SOFTMMU_OK ?
                         w.page_pa + (va & ((1UL << w.shift) - 1)) : 0,
                         access, user, pa_out, pf_err);
}

/* Why TLB entry e disagrees with a fresh walk of the current root (NULL
 * if it does not). */
static const char *tlb_stale(const struct tlb_entry *e)
{
        struct hw_walk w;

        hw_walk(cr3, e->page_va, &w);
        if (w.st != SOFTMMU_OK)
                return "the page is no longer mapped";
        if (w.shift != e->shift || w.page_pa != e->page_pa)
                return "the page now has another frame or size";
        /* An entry that allows less than the tables now is not stale:
         * widening needs no invalidation (pmap_widen_run; Intel SDM
         * 4.10.4.3, RISC-V's spurious faults), since an access it
         * refuses faults, the fault drops the entry and the fault
         * path enters the translation again. */
        if (w.r.u != e->r.u || (e->r.w && !w.r.w) || (e->r.x && !w.r.x))
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

unsigned softmmu_x86_page_shift(paddr_t root, vaddr_t va)
{
        struct hw_walk w;

        if (!hw_canonical(va))
                return 0;
        hw_walk(root, va, &w);
        return w.st == SOFTMMU_OK ? w.shift : 0;
}

uint64_t *softmmu_entry(paddr_t root, vaddr_t va, unsigned level)
{
        struct hw_walk w;

        if (!hw_canonical(va) || level < 1 || level > 4)
                return NULL;
        hw_walk(root, va, &w);
        return 4 - level < w.n ? w.entry[4 - level] : NULL;
}

/* ---- the neutral interface (softmmu.h) over a pmap's PML4 -------------- */

enum softmmu_result softmmu_translate(struct pmap *pm, vaddr_t va,
                                      unsigned access, bool user,
                                      paddr_t *pa_out)
{
        return softmmu_x86_translate(pm->root, va, access, user, pa_out, NULL);
}

enum softmmu_result softmmu_access(vaddr_t va, unsigned access, bool user,
                                   paddr_t *pa_out)
{
        return softmmu_x86_access(va, access, user, pa_out, NULL);
}

unsigned softmmu_page_shift(struct pmap *pm, vaddr_t va)
{
        return softmmu_x86_page_shift(pm->root, va);
}

void softmmu_reset(void)
{
        memset(tlb, 0, sizeof tlb);
        tlb_victim = 0;
        cr3 = 0;
        softmmu_1g_pages = true;
        softmmu_smep = false;
        softmmu_smap = false;
        memset(&softmmu_stats, 0, sizeof softmmu_stats);
        memset(cpu_pmap, 0, sizeof cpu_pmap);
        softmmu_pcid = false;
        memset(cpu_pcid, 0, sizeof cpu_pcid);
        for (unsigned i = 0; i < 64; i++)
                cpu_pcid[i].cur = PMAP_PCID_SLOTS;
        memset(&softmmu_last_load, 0, sizeof softmmu_last_load);
        memset(&softmmu_last_remote, 0, sizeof softmmu_last_remote);
        softmmu_last_call_cpus = 0;
        softmmu_cpu = 0;
}

/* ---- mmu.h ------------------------------------------------------------ */

/* invlpg: drop the entry (any page size, global or not) covering va. */
void mmu_invlpg(vaddr_t va)
{
        struct tlb_entry *e;

        softmmu_stats.invlpg++;
        while ((e = tlb_find(va)))
                e->valid = false;
}

void mmu_flush_tlb(bool global)
{
        if (global)
                softmmu_stats.flush_global++;
        else
                softmmu_stats.flush++;
        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++)
                if (global || !tlb[i].g)
                        tlb[i].valid = false;
}

/* mov to CR3: non-global entries belong to the old address space. With
 * PCIDs, a load that keeps its PCID's entries is only recorded: the TLB
 * model has no PCID tags, so it drops them as before (the tests of the
 * PCID bookkeeping look at softmmu_last_load). */
void mmu_load_root(paddr_t pml4, unsigned pcid, bool keep)
{
        softmmu_stats.root_loads++;
        softmmu_stats.root_loads_kept += keep;
        softmmu_last_load = (struct softmmu_load){
                .cpu = softmmu_cpu, .root = pml4, .pcid = pcid, .keep = keep };
        cr3 = pml4;
        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++)
                if (!tlb[i].g)
                        tlb[i].valid = false;
}

paddr_t mmu_current_root(void)
{
        return cr3;
}

/* The host plays CPU softmmu_cpu; a round of remote invalidations is
 * recorded for the tests instead of sent. */

unsigned mmu_cpu_id(void)
{
        return softmmu_cpu;
}

struct pmap **mmu_cpu_pmap(void)
{
        return &cpu_pmap[softmmu_cpu & 63];
}

struct pmap_pcid_cpu *mmu_cpu_pcid(void)
{
        return softmmu_pcid ? &cpu_pcid[softmmu_cpu & 63] : NULL;
}

struct pmap_pcid_cpu *softmmu_cpu_pcid(unsigned cpu)
{
        return &cpu_pcid[cpu & 63];
}

/* Recorded; each CPU of the mask then runs its PCID bookkeeping as the
 * round's handler does (mmu.c's tlb_remote_run). */
void mmu_tlb_remote(uint64_t cpus, const vaddr_t *va, unsigned n, bool all,
                    bool global, uint64_t ctx_id, uint64_t gen)
{
        unsigned me = softmmu_cpu;

        softmmu_stats.remote_rounds++;
        softmmu_last_remote = (struct softmmu_remote){
                .cpus = cpus, .n = n, .all = all, .global = global,
                .va0 = n ? va[0] : 0, .free_pages_then = pmm_free_count() };
        for (unsigned i = 0; i < 64; i++)
                if (i != me && (cpus >> i & 1)) {
                        softmmu_cpu = i;
                        pmap_pcid_round(ctx_id, gen);
                }
        softmmu_cpu = me;
}

/* Each CPU of the mask runs fn in turn (the host plays it), under the
 * host CPU's CR3 afterwards as before: only the calls' effects on the
 * CPUs' loaded pmaps (mmu_cpu_pmap) are modelled. */
void mmu_remote_call(uint64_t cpus, void (*fn)(void *), void *arg)
{
        unsigned me = softmmu_cpu;
        paddr_t root = cr3;

        softmmu_stats.remote_calls++;
        softmmu_last_call_cpus = cpus & ~(1ULL << me);
        for (unsigned i = 0; i < 64; i++)
                if (i != me && (cpus >> i & 1)) {
                        softmmu_cpu = i;
                        fn(arg);
                }
        softmmu_cpu = me;
        cr3 = root;
}

bool mmu_has_1g_pages(void)
{
        return softmmu_1g_pages;
}

void mmu_pcid_init(bool wanted)
{
        softmmu_pcid = wanted;
}

bool mmu_pcid_enabled(void)
{
        return softmmu_pcid;
}
