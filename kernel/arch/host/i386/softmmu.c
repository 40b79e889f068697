/*
 * softmmu.c (i386) - the 32-bit x86 MMU in software, for the host build
 * with PMAP=i386 (2-level tables, CR4.PSE) and PMAP=i386-pae (I386_PAE:
 * CR4.PAE, three levels from a 4-entry PDPT): mmu.h's privileged
 * operations over a simulated CR3 and TLB, and a page walker that follows
 * the SDM (vol. 3, 4.3 and 4.4). See softmmu.h and softmmu_i386.h.
 *
 * Owns: the simulated CR3, TLB and EFER.NXE. Reads and writes only
 * page-table entries in simulated RAM (A and D, as the CPU would; never
 * in a PDPT entry, which the CPU loads into registers at CR3 writes and
 * whose bit 5 is reserved). Entry bits are spelled out here again rather
 * than taken from kernel/arch/i386/pte.h on purpose: this file is the
 * reference the table code is tested against, and it walks the hardware's
 * three PAE levels where the table code sees a directory array.
 *
 * Model: CR0.WP = 1, CR4.PSE = 1 (2-level), CR4.PGE = 1, no PSE-36 (bits
 * 13..21 of a 4 MiB entry are reserved), MAXPHYADDR 36 with PAE, and with
 * PAE EFER.NXE = 1 unless softmmu_nx is cleared. Paging-structure caches
 * are not modelled (the TLB caches whole translations).
 *
 * Invariant: every valid TLB entry was produced by a successful walk; it
 * stays until an invlpg covering it, a flush, or (non-global only) a CR3
 * load removes it, whatever happens to the tables meanwhile.
 */
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <arch/i386/mmu.h>
#include <arch/i386/pmap_md.h>

#include "softmmu_i386.h"

#include <stdio.h>

#define HW_P            0x001u
#define HW_RW           0x002u
#define HW_US           0x004u
#define HW_A            0x020u
#define HW_D            0x040u
#define HW_PS           0x080u
#define HW_G            0x100u
#ifdef I386_PAE
#define HW_LEVELS       3
#define HW_NX           (1ULL << 63)
#define HW_ADDR         0x0000000ffffff000ULL   /* MAXPHYADDR 36 */
#define HW_RSVD_HIGH    0x7ff0000000000000ULL   /* bits 52..62 */
/* PDPT entries: bits 1, 2, 5..8 and 63 are reserved (SDM 4.4.1). */
#define HW_PDPTE_RSVD   (0x1e6ULL | HW_NX)
typedef uint64_t hw_entry_t;
#else
#define HW_LEVELS       2
#define HW_NX           0ULL
#define HW_ADDR         0xfffff000ULL
typedef uint32_t hw_entry_t;
#endif

bool softmmu_nx;
struct softmmu_stats softmmu_stats;

struct hw_rights {
        bool w, u, x;
};

/* The outcome of one walk: the entries it read (the PDPT's included with
 * PAE), the leaf's page size and frame, the rights of the whole path. */
struct hw_walk {
        enum softmmu_result st;
        hw_entry_t *entry[HW_LEVELS];
        unsigned n;
        unsigned shift;
        paddr_t page_pa;
        struct hw_rights r;
        bool g, d;
};

struct tlb_entry {
        bool valid;
        vaddr_t page_va;
        unsigned shift;
        paddr_t page_pa;
        struct hw_rights r;
        bool g, d;
};

static paddr_t cr3;
static struct tlb_entry tlb[SOFTMMU_TLB_SIZE];
static unsigned tlb_victim;

static bool hw_va_ok(vaddr_t va)
{
        return (uint64_t)va <= 0xffffffffu;
}

/* The table (or PDPT) at pa, which must lie in simulated RAM. */
static hw_entry_t *hw_table(paddr_t pa, size_t bytes)
{
        if (host_ram_size < bytes || pa > host_ram_size - bytes)
                panic("softmmu: page table at %#lx is outside RAM (%#lx bytes)",
                      pa, host_ram_size);
        return phys_to_virt(pa);
}

/* Walk va from root without side effects; fill *w. */
static void hw_walk(paddr_t root, vaddr_t va, struct hw_walk *w)
{
        hw_entry_t *e;

        memset(w, 0, sizeof *w);
        w->r = (struct hw_rights){ true, true, true };
#ifdef I386_PAE
        e = &hw_table(root & ~(paddr_t)0x1f, 32)[(va >> 30) & 3];
        w->entry[w->n++] = e;
        if (!(*e & HW_P)) {
                w->st = SOFTMMU_NOT_PRESENT;
                return;
        }
        if (*e & (HW_PDPTE_RSVD | HW_RSVD_HIGH)) {
                w->st = SOFTMMU_RESERVED;
                return;
        }
        e = &hw_table(*e & HW_ADDR, PAGE_SIZE)[(va >> 21) & 511];
#else
        e = &hw_table(root & HW_ADDR, PAGE_SIZE)[(va >> 22) & 1023];
#endif
        /* The directory entry. */
        w->entry[w->n++] = e;
        if (!(*e & HW_P)) {
                w->st = SOFTMMU_NOT_PRESENT;
                return;
        }
        w->r.w &= (*e & HW_RW) != 0;
        w->r.u &= (*e & HW_US) != 0;
        w->r.x &= (*e & HW_NX) == 0;
        if (*e & HW_PS) {
#ifdef I386_PAE
                unsigned shift = 21;
                bool rsvd = (*e & HW_RSVD_HIGH) || (*e & 0x1fe000u) ||
                            ((*e & HW_NX) && !softmmu_nx);
#else
                unsigned shift = 22;
                bool rsvd = (*e & 0x3fe000u) != 0;
#endif
                if (rsvd) {
                        w->st = SOFTMMU_RESERVED;
                        return;
                }
                w->shift = shift;
                w->page_pa = *e & HW_ADDR & ~(((paddr_t)1 << shift) - 1);
                w->g = (*e & HW_G) != 0;
                w->d = (*e & HW_D) != 0;
                w->st = SOFTMMU_OK;
                return;
        }
#ifdef I386_PAE
        if ((*e & HW_RSVD_HIGH) || ((*e & HW_NX) && !softmmu_nx)) {
                w->st = SOFTMMU_RESERVED;
                return;
        }
        e = &hw_table(*e & HW_ADDR, PAGE_SIZE)[(va >> 12) & 511];
#else
        e = &hw_table(*e & HW_ADDR, PAGE_SIZE)[(va >> 12) & 1023];
#endif
        w->entry[w->n++] = e;
        if (!(*e & HW_P)) {
                w->st = SOFTMMU_NOT_PRESENT;
                return;
        }
#ifdef I386_PAE
        if ((*e & HW_RSVD_HIGH) || ((*e & HW_NX) && !softmmu_nx)) {
                w->st = SOFTMMU_RESERVED;
                return;
        }
#endif
        w->r.w &= (*e & HW_RW) != 0;
        w->r.u &= (*e & HW_US) != 0;
        w->r.x &= (*e & HW_NX) == 0;
        w->shift = 12;
        w->page_pa = *e & HW_ADDR;
        w->g = (*e & HW_G) != 0;
        w->d = (*e & HW_D) != 0;
        w->st = SOFTMMU_OK;
}

/* CR0.WP = 1: a read-only page is read-only for the kernel too. Without
 * NX every readable page can be fetched from. */
static enum softmmu_result hw_allowed(struct hw_rights r, unsigned access,
                                      bool user)
{
        if (user && !r.u)
                return SOFTMMU_PROTECTION;
        if (access == SOFTMMU_WRITE && !r.w)
                return SOFTMMU_PROTECTION;
        if (access == SOFTMMU_EXEC && !r.x && softmmu_nx)
                return SOFTMMU_PROTECTION;
        return SOFTMMU_OK;
}

static unsigned hw_pf_code(enum softmmu_result st, unsigned access, bool user)
{
        unsigned err = 0;

        if (st == SOFTMMU_OK || st == SOFTMMU_NONCANONICAL)
                return 0;
        if (st != SOFTMMU_NOT_PRESENT)
                err |= SOFTMMU_PF_PRESENT;
        if (st == SOFTMMU_RESERVED)
                err |= SOFTMMU_PF_RSVD;
        if (access == SOFTMMU_WRITE)
                err |= SOFTMMU_PF_WRITE;
        if (user)
                err |= SOFTMMU_PF_USER;
        if (access == SOFTMMU_EXEC && softmmu_nx)
                err |= SOFTMMU_PF_INSTR;
        return err;
}

/* Walk, check, and on success set A on the directory and table entries
 * used (not the PDPT's) and D on the leaf for a write. */
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
        for (unsigned i = HW_LEVELS == 3 ? 1 : 0; i < w->n; i++)
                *w->entry[i] |= HW_A;
        if (access == SOFTMMU_WRITE) {
                *w->entry[w->n - 1] |= HW_D;
                w->d = true;
        }
        return SOFTMMU_OK;
}

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

static paddr_t walk_pa(const struct hw_walk *w, vaddr_t va)
{
        return w->page_pa + (va & (((vaddr_t)1 << w->shift) - 1));
}

enum softmmu_result softmmu_i386_translate(paddr_t root, vaddr_t va,
                                           unsigned access, bool user,
                                           paddr_t *pa_out, unsigned *pf_err)
{
        struct hw_walk w;
        enum softmmu_result st = SOFTMMU_NONCANONICAL;

        if (hw_va_ok(va))
                st = hw_translate(root, va, access, user, &w);
        return hw_report(st, st == SOFTMMU_OK ? walk_pa(&w, va) : 0,
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

static void tlb_fill(struct tlb_entry *e, vaddr_t va, const struct hw_walk *w)
{
        if (!e) {
                e = &tlb[tlb_victim];
                tlb_victim = (tlb_victim + 1) % SOFTMMU_TLB_SIZE;
        }
        *e = (struct tlb_entry){
                .valid = true,
                .page_va = va & ~(((vaddr_t)1 << w->shift) - 1),
                .shift = w->shift, .page_pa = w->page_pa, .r = w->r,
                .g = w->g, .d = w->d,
        };
}

enum softmmu_result softmmu_i386_access(vaddr_t va, unsigned access,
                                        bool user, paddr_t *pa_out,
                                        unsigned *pf_err)
{
        struct tlb_entry *e;
        struct hw_walk w;
        enum softmmu_result st;

        if (!hw_va_ok(va))
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
                                         (va & (((vaddr_t)1 << e->shift) - 1)),
                                         access, user, pa_out, pf_err);
                /* Writing through a clean entry: walk again to set D. */
        }
        st = hw_translate(cr3, va, access, user, &w);
        if (st == SOFTMMU_OK)
                tlb_fill(e, va, &w);
        else if (e)
                e->valid = false;
        return hw_report(st, st == SOFTMMU_OK ? walk_pa(&w, va) : 0,
                         access, user, pa_out, pf_err);
}

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
                                "pa %#lx (2^%u bytes): %s\n",
                                (unsigned long)e->page_va,
                                (unsigned long)e->page_pa, e->shift, why);
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

unsigned softmmu_i386_page_shift(paddr_t root, vaddr_t va)
{
        struct hw_walk w;

        if (!hw_va_ok(va))
                return 0;
        hw_walk(root, va, &w);
        return w.st == SOFTMMU_OK ? w.shift : 0;
}

void *softmmu_i386_entry(paddr_t root, vaddr_t va, unsigned level)
{
        struct hw_walk w;

        if (!hw_va_ok(va) || level < 1 || level > HW_LEVELS)
                return NULL;
        hw_walk(root, va, &w);
        return HW_LEVELS - level < w.n ? w.entry[HW_LEVELS - level] : NULL;
}

/* ---- the neutral interface (softmmu.h) over a pmap's CR3 ------------------ */

enum softmmu_result softmmu_translate(struct pmap *pm, vaddr_t va,
                                      unsigned access, bool user,
                                      paddr_t *pa_out)
{
        return softmmu_i386_translate(pm->cr3, va, access, user, pa_out, NULL);
}

enum softmmu_result softmmu_access(vaddr_t va, unsigned access, bool user,
                                   paddr_t *pa_out)
{
        return softmmu_i386_access(va, access, user, pa_out, NULL);
}

unsigned softmmu_page_shift(struct pmap *pm, vaddr_t va)
{
        return softmmu_i386_page_shift(pm->cr3, va);
}

/* Power-on, as boot leaves the CPU: with PAE, EFER.NXE on (the pmap is
 * told, as boot tells it on a CPU with NX). */
void softmmu_reset(void)
{
        memset(tlb, 0, sizeof tlb);
        tlb_victim = 0;
        cr3 = 0;
        softmmu_nx = HW_LEVELS == 3;
        pmap_nx = softmmu_nx;
        memset(&softmmu_stats, 0, sizeof softmmu_stats);
}

/* ---- mmu.h ------------------------------------------------------------ */

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

void mmu_load_root(paddr_t root)
{
        softmmu_stats.root_loads++;
        cr3 = root;
        for (unsigned i = 0; i < SOFTMMU_TLB_SIZE; i++)
                if (!tlb[i].g)
                        tlb[i].valid = false;
}

/* The directory array of the loaded space: with PAE, where the PDPT's
 * first entry points (pmap.c keeps the four directories contiguous). */
paddr_t mmu_current_root(void)
{
        if (cr3 == 0)
                return 0;
#ifdef I386_PAE
        return hw_table(cr3 & ~(paddr_t)0x1f, 32)[0] & HW_ADDR;
#else
        return cr3 & HW_ADDR;
#endif
}
