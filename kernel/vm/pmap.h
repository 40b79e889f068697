/*
 * pmap.h - what the machine-independent VM needs from an MMU.
 *
 * A pmap caches translations. The address-space map and the objects behind
 * it hold the truth; a pmap may drop any user mapping, and the next access
 * faults it back in. Kernel mappings (linear map, kernel image, vmalloc,
 * ioremap) are the exception: they live only here.
 *
 * Every architecture implements this file (kernel/arch/<arch>/pmap*.c); the
 * host build uses the x86-64 table code over simulated RAM with a software
 * MMU, so all of it runs under the sanitizers.
 *
 * TLB: changes are batched. pmap_enter/remove/protect record what must be
 * invalidated; pmap_update() issues it (a few single-page invalidations, or
 * one full flush past a batch size each pmap chooses). Until then the CPU
 * may still use old entries.
 */
#ifndef VM_PMAP_H
#define VM_PMAP_H

#include <mercator/status.h>
#include <mercator/types.h>

typedef unsigned vm_prot_t;
#define VM_PROT_NONE    0x0
#define VM_PROT_READ    0x1
#define VM_PROT_WRITE   0x2
#define VM_PROT_EXEC    0x4
#define VM_PROT_RW      (VM_PROT_READ | VM_PROT_WRITE)
#define VM_PROT_ALL     (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC)

/* pmap_enter() flags: how the mapping behaves besides its protection. */
#define PMAP_USER       0x01    /* reachable from user mode */
#define PMAP_GLOBAL     0x02    /* kept in the TLB across address spaces */
#define PMAP_NOCACHE    0x04    /* uncached: device registers */
#define PMAP_WC         0x08    /* write-combining: frame buffers */
/*
 * pmap_enter() only: if va lies inside a large page, split that page down
 * to 4 KiB pages first (its other pages keep their frames and bits), so
 * that va can be entered alone; without it that is VM_EINVAL. The core
 * passes it for user memory that may hold transparent huge pages.
 */
#define PMAP_DEMOTE     0x20
/*
 * ...and the access that faulted, if the mapping is entered for a fault
 * (VM_PROT_READ, _WRITE or _EXEC; 0 for mappings made ahead of use), as
 * OpenBSD's and FreeBSD's pmap_enter take it. An MMU that does not set
 * accessed/dirty bits itself presets them from it (accessed for any
 * access, dirty for a write), saving a second fault; others ignore it.
 */
#define PMAP_ACCESS(access)     ((unsigned)(access) << 8)
#define PMAP_ACCESS_OF(flags)   ((vm_prot_t)(((flags) >> 8) & VM_PROT_ALL))

/*
 * pmap_ad() results: whether va's page was accessed, and written, since its
 * mapping was entered or the bits last cleared. Where the hardware sets
 * accessed/dirty bits (x86), these are its bits. Where it does not (an MMU
 * that faults instead, as RISC-V may), the pmap reports what it recorded:
 * ACCESSED if the mapping was entered for an access or has faulted since,
 * DIRTY if it was entered for a write or write access was granted since;
 * never less than what really happened, possibly more (a page preset as
 * accessed that the retried access then did not touch).
 */
#define PMAP_AD_ACCESSED 0x1
#define PMAP_AD_DIRTY    0x2

struct pmap;                    /* defined by each architecture */

/*
 * The kernel's own pmap. Its kernel-half top-level entries are fixed at
 * boot (pmap_bootstrap()), so every pmap_create()d space, which copies them,
 * sees every later kernel mapping.
 */
struct pmap *pmap_kernel(void);

/*
 * A new, empty user address space sharing the kernel half.
 * => VM_ENOMEM if its top-level table could not be allocated.
 */
vm_status_t pmap_create(struct pmap **out);

/*
 * Free the tables of a user pmap. Frames it still maps are not freed
 * (they belong to the objects that supplied them).
 * => pm is not active on any CPU.
 */
void pmap_destroy(struct pmap *pm);

/*
 * Map the 4 KiB page va -> pa, replacing any earlier mapping of va.
 * prot is the protection to give the page as the core wants it; the pmap
 * encodes it as its MMU can, never allowing less than pmap_prot_implied()
 * says it will (VM_PROT_NONE: no mapping). flags: PMAP_* and PMAP_ACCESS().
 * => va and pa page-aligned; va canonical, in the user half for user pmaps.
 * => VM_ENOMEM if a page-table page could not be allocated (nothing changed).
 * => VM_EINVAL if va lies inside a large-page mapping.
 */
vm_status_t pmap_enter(struct pmap *pm, vaddr_t va, paddr_t pa,
                       vm_prot_t prot, unsigned flags);

/*
 * The size of a user large page of this format's second level (x86-64 and
 * Sv39: 2 MiB; i386: 4 MiB, with PAE 2 MiB): the core's transparent huge
 * page, mapped with pmap_enter_range() over exactly that span.
 */
uint64_t pmap_huge_size(void);

/* The size of the page that maps va (4 KiB, or a large page's), or 0 if
 * va is not mapped. */
uint64_t pmap_page_size(struct pmap *pm, vaddr_t va);

/*
 * Map [va, va+len) -> [pa, pa+len) with the largest pages that fit
 * (1 GiB where the CPU has them, then 2 MiB, then 4 KiB). For the kernel's
 * linear map and device mappings.
 * => all three page-aligned; on VM_ENOMEM, what was mapped stays mapped.
 */
vm_status_t pmap_enter_range(struct pmap *pm, vaddr_t va, paddr_t pa,
                             uint64_t len, vm_prot_t prot, unsigned flags);

/*
 * Unmap every page in [start, end) and free page-table pages that become
 * empty. A large page partly inside the range is first split into smaller
 * ones (which may fail with VM_ENOMEM; then nothing of that page changed).
 */
vm_status_t pmap_remove(struct pmap *pm, vaddr_t start, vaddr_t end);

/*
 * Set the protection of every mapped page in [start, end) to prot
 * (VM_PROT_NONE removes them). Same large-page rule as pmap_remove().
 */
vm_status_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end,
                         vm_prot_t prot);

/*
 * Look up va. On success, *pa gets the physical address of va itself (not
 * of its page), and *prot / *flags (each may be NULL) what it allows.
 */
bool pmap_extract(struct pmap *pm, vaddr_t va, paddr_t *pa,
                  vm_prot_t *prot, unsigned *flags);

/*
 * Widen translations of a run: up to PMAP_RUN_MAX neighbouring 4 KiB
 * pages from va inside one last-level table (no pmap_huge_size() boundary
 * inside), in one walk, where a call per page would walk from the root
 * each time (the fault path's reuse-around). For each page i that mask
 * names (bit i: the page at va + i pages) whose 4 KiB translation maps
 * exactly the frame pa[i] and allows nothing prot does not, give it prot;
 * other pages stay as they are.
 * TLB: nothing is batched for pmap_update(). A CPU may go on using an
 * entry that allows less; an access it refuses faults, and the fault
 * path's pmap_enter() of the same translation invalidates it (x86 drops
 * the faulting entry itself). So the caller must be the VM's fault path,
 * or accept one spurious fault per stale entry.
 * => va page-aligned in the user half, 1 <= n <= PMAP_RUN_MAX, prot not
 *    VM_PROT_NONE.
 * => the mask of the pages it changed.
 */
#define PMAP_RUN_MAX    32
uint32_t pmap_widen_run(struct pmap *pm, vaddr_t va, unsigned n, uint32_t mask,
                        const paddr_t *pa, vm_prot_t prot);

/* pmap_enter_fresh() for the pages of a run (as above) in mask: one walk
 * (none if a table on the way is missing), then each entry that is still
 * empty filled, the pages in wmask with prot, the others with prot less
 * write. => the mask of the pages it mapped. */
uint32_t pmap_enter_fresh_run(struct pmap *pm, vaddr_t va, unsigned n,
                              uint32_t mask, uint32_t wmask, const paddr_t *pa,
                              vm_prot_t prot, unsigned flags);

/* pmap_widen_run() without the pmap's lock, for the fault path's
 * lock-free part (vm_fault_nolock, inside its space's door): each entry
 * changes by compare-and-swap (one that changed meanwhile, by an MMU's
 * accessed or dirty bit or another such fault, is left to its own
 * fault), and an MMU that keeps a replaced entry after its fault (RISC-V)
 * is fenced for each one widened; x86's drops the faulting entry, and
 * other entries this CPU or others keep fault once more, as above.
 * => the mask of the pages it changed. */
uint32_t pmap_widen_fresh(struct pmap *pm, vaddr_t va, unsigned n,
                          uint32_t mask, const paddr_t *pa, vm_prot_t prot);

/* Which pages of a run (as above) have a 4 KiB translation that allows
 * less than prot: the candidates for pmap_widen_run(), found in one walk
 * before the caller looks for their pages. => a mask, bit i: va + i pages. */
uint32_t pmap_narrower_run(struct pmap *pm, vaddr_t va, unsigned n,
                           vm_prot_t prot);

/* How many base pages of [start, end) are mapped (a large page counts
 * for each of its base pages inside the range). Cost follows the tables
 * present, not the range's size: for RSS, which Linux counts as it maps
 * and Mercator samples. => start and end page-aligned. */
uint64_t pmap_mapped_pages(struct pmap *pm, vaddr_t start, vaddr_t end);

/* The accessed/dirty bits of va's mapping (0 if unmapped); clear them too
 * if `clear` (and batch the TLB invalidation that needs). */
unsigned pmap_ad(struct pmap *pm, vaddr_t va, bool clear);

/* Make pm the current address space of this CPU (load CR3 / satp). */
void pmap_activate(struct pmap *pm);

/* Issue the TLB invalidations batched by earlier calls on pm. */
void pmap_update(struct pmap *pm);

/*
 * pmap_enter() of a 4 KiB user translation at va where there is none,
 * without the pmap's lock, for a fault that holds no lock on it
 * (vm_fault_nolock, inside its space's door: no change but other such
 * faults, each at its own address, goes on beside it). Only if every
 * table on the way is there: one atomic store into the leaf table, then
 * what pmap_update_local() would do. => VM_OK; VM_ENOENT if a table is
 * missing (pmap_make_table() makes it); VM_EEXIST if something maps va.
 * Nothing changed unless VM_OK.
 */
vm_status_t pmap_enter_fresh(struct pmap *pm, vaddr_t va, paddr_t pa,
                             vm_prot_t prot, unsigned flags);

/*
 * Make the tables down to the last level that holds the user address
 * va where they are missing, entering nothing: for the lock-free fault
 * path, which then fills the entry with pmap_enter_fresh() if it is
 * still empty (so a translation another fault put there meanwhile is
 * never replaced). Under the space's pmap_lock: the only other maker of
 * tables is the big lock's holder, inside the door. => VM_OK; VM_ENOMEM;
 * VM_EINVAL if a large page maps va. Nothing changed unless VM_OK.
 */
vm_status_t pmap_make_table(struct pmap *pm, vaddr_t va);
/* ...and whether that table is there (a walk without the lock). */
bool pmap_has_table(struct pmap *pm, vaddr_t va);

/*
 * Replace va's read-only 4 KiB user translation of old_pa with one of pa
 * (prot, flags as pmap_enter's), without the pmap's lock, for the fault
 * path's lock-free part (vm_fault_nolock, inside its space's door: a
 * private copy takes the place of a file's page, or of a page a fork
 * shares). The
 * entry changes by compare-and-swap; the TLBs are dealt with at once, as
 * pmap_update() would for this one address: this CPU's entry dropped,
 * and any other CPU that has pm loaded sent the invalidation and waited
 * for (the caller holds no spinlock; a CPU waiting for the big lock or
 * at the door answers meanwhile). => VM_OK; VM_ENOENT if no last-level
 * table holds va; VM_EEXIST if the entry is not a read-only one of old_pa.
 * Nothing changed unless VM_OK.
 */
vm_status_t pmap_replace_fresh(struct pmap *pm, vaddr_t va, paddr_t old_pa,
                               paddr_t pa, vm_prot_t prot, unsigned flags);

/* pmap_update() for a path that may send no IPI (vm_fault_nolock): after
 * pmap_enter() put a translation at va where there was none, or when a
 * fault found one that allows its access, make this CPU's walks see it.
 * Another CPU whose MMU cached the absence (RISC-V's may) faults once
 * more and comes here too. Only for translations that were absent: a
 * changed or removed one needs pmap_update's shootdown round. */
void pmap_update_local(struct pmap *pm, vaddr_t va);

/* Page-table pages pm holds now (the kernel's: all of its tables). */
uint64_t pmap_table_pages(const struct pmap *pm);

/*
 * Verify the invariants of pm's tables that the architecture's pmap lists
 * (kernel/arch/<arch>/pmap_md.h): table pages counted, entries well formed,
 * no empty table left, the kernel half shared, the TLB batch bounded...
 * => true if all hold; otherwise prints the first violation and returns
 *    false. For tests and debugging: cost O(tables).
 */
bool pmap_check(struct pmap *pm);

/*
 * The hardware walk for va in pm, described in words into buf (one line
 * per table level, the entry and its bits, then the physical address or
 * why there is none). => the length written. For /proc and teaching.
 */
size_t pmap_walk_describe(struct pmap *pm, vaddr_t va, char *buf, size_t size);

/* --- page contents ------------------------------------------------------
 *
 * The machine-independent core never assumes that a frame has a kernel
 * address: it reaches the contents of pages (user pages, object pages, the
 * zero page, table pages) only through the operations below. Each
 * architecture defines them in <machine/pmap.h>, as static inline functions
 * or as functions of its pmap (x86-64: a memset/memcpy through its linear
 * map of all RAM; i386 with high memory: per-CPU mapping slots). As
 * FreeBSD's pmap_zero_page/pmap_copy_page/pmap_quick_enter_page.
 *
 *   void pmap_zero_page(paddr_t pa);
 *      Fill the 4 KiB frame at pa with zeroes.
 *   void pmap_copy_page(paddr_t src, paddr_t dst);
 *      Copy the 4 KiB frame at src over the one at dst (distinct frames).
 *   void *pmap_quick_enter_page(paddr_t pa);
 *      A kernel address of the frame at pa, valid until the matching
 *      pmap_quick_remove_page(). Short-lived: the holder does not sleep or
 *      fault, holds at most two at once, and releases them in reverse
 *      order. Never fails.
 *   void pmap_quick_remove_page(void *va);
 *      Release what pmap_quick_enter_page() returned.
 *
 * And one rule of protection, in the same header:
 *   vm_prot_t pmap_prot_implied(vm_prot_t prot);
 *      What the MMU lets an access do in a page mapped with prot: prot
 *      plus whatever the hardware cannot refuse (x86: a present page is
 *      readable, so write or exec implies read). VM_PROT_NONE stays none.
 *      Areas keep the user's protection; the fault path checks accesses
 *      against this, as Linux's vma_is_accessible() does on x86.
 *
 * Kernel memory (slab pages, bootmem's bitmaps) is different: it stays
 * mapped for as long as it is allocated, at an address the architecture
 * fixes. Every frame a plain pmm allocation returns (zones up to
 * PMM_ZONE_DEFAULT, machine/pmparam.h), and every frame of RAM while
 * bootmem is active, has one:
 *   void *pmap_kmem_va(paddr_t pa);     the kernel address of frame pa
 *   paddr_t pmap_kmem_pa(const void *va);   and back (va from the former)
 */
#include <machine/pmap.h>

/*
 * Services the VM layer gives every pmap: zeroed, counted page-table pages
 * (from bootmem before the buddy allocator exists, then from it).
 */
vm_status_t vm_ptpage_alloc(paddr_t *pa);
void vm_ptpage_free(paddr_t pa);

/* The same from HIGHMEM when there is some (PMM_HIGHMEM): for a format
 * that reaches the table through its own mapping, not pmap_kmem_va()
 * (i386's user page tables, arch/i386/ptmap.h). Freed as the others. */
vm_status_t vm_ptpage_alloc_high(paddr_t *pa);

/* 2^order contiguous such pages, counted each (i386 PAE: a space's four
 * directories, which must be contiguous); freed with the same order. */
vm_status_t vm_ptpage_alloc_order(unsigned order, paddr_t *pa);
void vm_ptpage_free_order(paddr_t pa, unsigned order);

/* --- boot-time, kernel pmap only --------------------------------------- */

/*
 * Build the kernel pmap: its top-level table and the fixed kernel mappings
 * of the architecture's layout (x86-64: the linear map over [0, ram_end),
 * vmalloc, ioremap, the kernel image), such that the kernel half's
 * top-level entries never change again and pmap_create() can copy them.
 * => called once, before any other pmap function (host tests: once per
 *    simulated RAM).
 * => VM_ENOMEM if a table page could not be had (the kernel cannot go on);
 *    VM_EINVAL if the architecture cannot map RAM that large.
 */
vm_status_t pmap_bootstrap(paddr_t ram_end);

/*
 * TLB colours. A TLB picks a slot by the low bits of the virtual page
 * number: QEMU's soft TLB is direct-mapped (2^k entries, k >= 6, with an
 * 8-entry victim TLB behind it), hardware L1 TLBs have 16 sets of 4 or 8
 * ways. Pages that a hot path touches together should differ in colour
 * (page number mod TLB_COLOURS): pages that differ mod 16 differ mod every
 * larger power of two, so no such TLB puts them in one slot. Used for a
 * process's kernel stack against its struct proc (proc.c) and for the vDSO
 * against the top of the user stack (vdso.c).
 */
#define TLB_COLOURS     16u

static inline unsigned tlb_colour(vaddr_t va)
{
        return (unsigned)(va >> PAGE_SHIFT) % TLB_COLOURS;
}

#endif
