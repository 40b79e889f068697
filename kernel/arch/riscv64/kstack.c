/*
 * kstack.c (riscv64) - kernel stacks for user contexts, each with an
 * unmapped guard page below it, in the KSTACK_BASE area
 * (machine/vmparam.h): 64 slots of 32 KiB, the stack in the top 16 KiB.
 *
 * The area's level-0 table is made at boot, so every process's kernel
 * table (which copies the kernel half's root entries) sees the stacks
 * mapped later. This small pool stands in for the core's kstack_alloc()
 * (vm/vmalloc.c), which needs the riscv64 pmap: it goes when that exists.
 */
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmm.h>
#include <vm/vmstat.h>
#include "boot.h"
#include "kstack.h"
#include "riscv.h"
#include "sv39.h"

static uint64_t slots_used;     /* bit i: slot i holds a stack */

static vaddr_t slot_bottom(unsigned i)
{
        return KSTACK_BASE + (uint64_t)i * KSTACK_SLOT + KSTACK_SLOT - KSTACK_SIZE;
}

static void unmap_stack(vaddr_t bottom, uint64_t mapped)
{
        for (uint64_t off = 0; off < mapped; off += PAGE_SIZE) {
                pte_t e = sv39_unmap_page(boot_info.kernel_root, bottom + off);
                sfence_vma_addr(bottom + off);
                pmm_free_pages(pmm_pa_to_page(pte_pa(e)), 0);
                vmstat.kstack_pages--;
        }
}

void *rv_kstack_alloc(void)
{
        _Static_assert(KSTACK_SLOTS <= 64, "one bit per slot");
        for (unsigned i = 0; i < KSTACK_SLOTS; i++) {
                if (slots_used & (1UL << i))
                        continue;
                vaddr_t bottom = slot_bottom(i);
                for (uint64_t off = 0; off < KSTACK_SIZE; off += PAGE_SIZE) {
                        struct vm_page *pg = pmm_alloc_pages(0, 0);
                        if (!pg || sv39_map(boot_info.kernel_root, bottom + off,
                                            pmm_page_to_pa(pg), PAGE_SIZE,
                                            PTE_R | PTE_W | PTE_G, true) != VM_OK) {
                                if (pg)
                                        pmm_free_pages(pg, 0);
                                unmap_stack(bottom, off);
                                return NULL;
                        }
                        vmstat.kstack_pages++;
                }
                slots_used |= 1UL << i;
                return (void *)bottom;
        }
        return NULL;
}

void rv_kstack_free(void *bottom)
{
        if (!bottom)
                return;
        unsigned i = ((vaddr_t)bottom - KSTACK_BASE) / KSTACK_SLOT;
        unmap_stack((vaddr_t)bottom, KSTACK_SIZE);
        slots_used &= ~(1UL << i);
}
