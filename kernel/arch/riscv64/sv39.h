/*
 * sv39.h - Sv39 table operations the riscv64 port uses before (and
 * beneath) the pmap: map a range, walk, unmap a page, free a user half.
 * Table pages come from vm_ptpage_alloc() (bootmem at boot, then the buddy
 * allocator) and are counted in vmstat.pt_pages.
 */
#ifndef ARCH_RISCV64_SV39_H
#define ARCH_RISCV64_SV39_H

#include <mercator/status.h>
#include <mercator/types.h>
#include "pte.h"

/*
 * Map [va, va + len) to [pa, pa + len) in the table rooted at root with
 * the largest pages alignment allows (1 GiB, 2 MiB, 4 KiB; only 4 KiB if
 * `small`), with the given R/W/X/U/G bits; A is preset, and D for
 * writable entries (Mercator never relies on hardware A/D updates).
 * => VM_OK; VM_ENOMEM if a table page could not be had; VM_EEXIST if
 *    something is already mapped there (nothing is undone: a caller bug).
 */
vm_status_t sv39_map(paddr_t root, vaddr_t va, paddr_t pa, uint64_t len,
                     uint64_t bits, bool small);

/*
 * Make sure the tables above `level` for va exist (level 1: the root has
 * a level-1 table for va; level 0: there is a level-0 table too), so that
 * a copy of a root entry taken now sees later mappings below it.
 * => VM_OK, VM_ENOMEM, or VM_EEXIST if a large page is in the way.
 */
vm_status_t sv39_ensure_table(paddr_t root, vaddr_t va, int level);

/*
 * The leaf entry for va in the table rooted at root, or 0 if none; its
 * level (2: 1 GiB, 1: 2 MiB, 0: 4 KiB) goes to *level.
 */
pte_t sv39_walk(paddr_t root, vaddr_t va, int *level);

/*
 * Remove the 4 KiB leaf for va and return it (0 if there was none). The
 * caller flushes the TLB (sfence.vma) and frees the frame if it owns it.
 */
pte_t sv39_unmap_page(paddr_t root, vaddr_t va);

/*
 * Free the table pages of the user half (root slots 0-255) of root, and
 * with free_leaf each 4 KiB leaf frame that has U set; then root itself.
 * Entries for other frames (trampoline, trap frame) are the caller's.
 */
void sv39_destroy(paddr_t root, void (*free_leaf)(paddr_t pa, pte_t e));

#endif
