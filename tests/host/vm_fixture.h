/*
 * vm_fixture.h - what the host tests of address spaces share: fresh RAM
 * with a kernel pmap, heap, objects and zero page (vm_setup), a check that
 * everything came back (vm_check_baseline), and user accesses made through
 * the software MMU, faulting pages in the way a CPU and the kernel would.
 */
#ifndef TESTS_HOST_VM_FIXTURE_H
#define TESTS_HOST_VM_FIXTURE_H

#include "check.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_space.h>

#define P               PAGE_SIZE
#define R               VM_PROT_READ
#define W               VM_PROT_WRITE
#define X               VM_PROT_EXEC
#define RW              VM_PROT_RW
#define PRIV            VM_MAP_PRIVATE
#define SHARED          VM_MAP_SHARED
#define FIXED           VM_MAP_FIXED

extern uint64_t vm_ptpage_fail_after;   /* kernel/vm/ptpage.c test hook */

/* RAM of `bytes`, pmm, kmalloc (debug), software MMU, kernel pmap, file
 * objects and zero page; then the counters every test must return to. */
void setup(uint64_t bytes);
/* Every counter back at setup()'s values, every checker happy. */
void check_baseline(void);
/* Take the baseline again (after setup() and something kept for good, as
 * the huge zero page). */
void rebaseline(void);
uint64_t baseline_pt_pages(void);       /* the kernel's tables at setup() */

struct vm_space *new_space(void);
void activate(struct vm_space *s);              /* NULL: the kernel's */
void destroy(struct vm_space *s);

/* Translate va in s for a user access through the MMU (the TLB when s is
 * the active space); whether the MMU allows it without a fault. */
enum softmmu_result mmu_try(struct vm_space *s, vaddr_t va, vm_prot_t access,
                            paddr_t *pa);
bool can(struct vm_space *s, vaddr_t va, vm_prot_t access);
/* A user access: the MMU, else vm_fault and the MMU again. */
enum fault_result user_access(struct vm_space *s, vaddr_t va,
                              vm_prot_t access, paddr_t *pa);
void user_fill(struct vm_space *s, vaddr_t va, uint8_t byte);   /* a page */

/* Map len bytes of anonymous memory at exactly va (flags: PRIV or SHARED,
 * and any other VM_MAP_*), which must succeed; the space stays sound. */
vaddr_t map_at(struct vm_space *s, vaddr_t va, uint64_t len, vm_prot_t prot,
               unsigned flags);
uint8_t user_read(struct vm_space *s, vaddr_t va);

/* A page-cache object of `pages` pages with nothing cached; pages [first,
 * end) cached, page i holding the byte i + 1 throughout. */
struct vm_object *cache_file(uint64_t pages);
void cache_fill(struct vm_object *f, uint64_t first, uint64_t end);

bool page_is(paddr_t pa, uint8_t byte);         /* the whole page */
bool present(struct vm_space *s, vaddr_t va);   /* has a translation */
paddr_t frame(struct vm_space *s, vaddr_t va);  /* its page frame */
/* Every page of the huge page at va (pmap_huge_size(), aligned) maps the
 * huge page's first frame plus its offset, and that frame is aligned. */
bool huge_contiguous(struct vm_space *s, vaddr_t va);

/* Taking free pages away, to test running out of memory. */
struct hog {
        struct vm_page **pg;
        uint64_t         n;
};
void hog_take(struct hog *h, uint64_t leave);   /* all free pages but leave */
void hog_release(struct hog *h);

#endif
