/*
 * vm_model.h - the reference model of address spaces that the VM's random
 * host tests check the real thing against (test_vm_space, test_vm_cow,
 * test_vm_file).
 *
 * The model knows, for every page of a window of pages in each of up to
 * VMM_SPACES spaces, what is mapped there (nothing, private anonymous
 * memory, a shared anonymous object, a private or a shared mapping of one
 * of the test's files), its protection and lock, and what its bytes must
 * be. Its operations change that as the VM's contracts say (vm_space.h):
 * a test draws an operation with the pickers, asks the model what the
 * real call must answer, makes the call, checks the answer, and lets the
 * model apply it. vmm_check() then compares a real space with the model:
 * areas, protections, flags and the contents of every present page.
 *
 * Contents are one byte per page (tests fill a page with one value).
 * Access rules are the x86 MMU's as pmap_prot_implied() gives them (any
 * protection but none allows a read; a fetch from an accessible page
 * without exec is faulted in as a read first): tests that depend on them
 * are listed per format in tests/host/<format>/x86_assumptions.txt.
 */
#ifndef TESTS_HOST_VM_MODEL_H
#define TESTS_HOST_VM_MODEL_H

#include "check.h"
#include "vm_fixture.h"

#define VMM_SPACES      4
#define VMM_WIN         48              /* pages in the window, at most */
#define VMM_OBJS        512             /* shared objects over a run */
#define VMM_OBJ_PAGES   VMM_WIN

enum vmm_kind {
        VMM_NONE,                       /* nothing mapped */
        VMM_ANON,                       /* private anonymous */
        VMM_SHARED,                     /* a shared anonymous object */
        VMM_FILE,                       /* a private mapping of a file */
        VMM_FILE_SHARED,                /* a shared mapping of a file */
};

struct vmm_page {
        enum vmm_kind kind;
        vm_prot_t     prot;
        unsigned      lock;             /* VM_AREA_LOCKED(|LOCKONFAULT) */
        int           obj;              /* VMM_SHARED: model object;
                                         * VMM_FILE*: the test's file */
        uint64_t      idx;              /* page index in obj or the file */
        bool          own;              /* VMM_FILE: a private copy made */
        uint8_t       byte;             /* VMM_ANON, VMM_FILE with own */
        /* VMM_ANON, VMM_FILE with own: which copy of the bytes this page
         * is (0: none written yet, the zero page or the file's). Fork
         * gives the child the same copy; a write makes a new one. Two
         * live spaces with one copy share its frame (vmm_check_sharing). */
        uint32_t      copy;
};

struct vm_model {
        struct rng      r;
        unsigned        win;            /* pages in the window */
        vaddr_t         base;           /* the window's first page */
        struct vmm_page pg[VMM_SPACES][VMM_WIN];
        uint8_t         store[VMM_OBJS][VMM_OBJ_PAGES]; /* shared objects */
        uint64_t        obj_pages[VMM_OBJS];            /* their sizes */
        int             nobj;
        uint32_t        copies;         /* the last copy number given */
        /* The test's files, for VMM_FILE*: their size in pages, and
         * whether the frame at pa holds page idx of file f. */
        uint64_t      (*file_pages)(int f);
        bool          (*file_page_ok)(int f, uint64_t idx, paddr_t pa);
};

/* An empty model of `win` pages from base, its generator seeded. */
void vmm_init(struct vm_model *m, uint64_t seed, unsigned win, vaddr_t base);

static inline vaddr_t vmm_va(const struct vm_model *m, unsigned i)
{
        return m->base + (vaddr_t)i * PAGE_SIZE;
}

/* The page of space k at va; a page outside the window reads as nothing
 * mapped (and writes to it go nowhere). */
struct vmm_page *vmm_at(struct vm_model *m, unsigned k, vaddr_t va);

/* ---- pickers ---------------------------------------------------------- */

/* A random range inside the window, 1..max pages. */
void vmm_range(struct vm_model *m, unsigned max, unsigned *first, unsigned *n);

/* One of the n protections of table, at random. */
vm_prot_t vmm_pick_prot(struct vm_model *m, const vm_prot_t *table, unsigned n);

/* ---- what is there ---------------------------------------------------- */

/* Is every page of [va, va + n pages) of space k free (outside the
 * window counts as free)? Is every page of [first, first + n) mapped? */
bool vmm_free(struct vm_model *m, unsigned k, vaddr_t va, uint64_t n);
bool vmm_covered(struct vm_model *m, unsigned k, unsigned first, unsigned n);

/* Where mmap without a usable hint puts n pages in space k: the highest
 * free range below mmap_base (Mercator's top-down placement). */
vaddr_t vmm_place(struct vm_model *m, unsigned k, vaddr_t mmap_base, uint64_t n);

/* ---- operations (the model's side) ------------------------------------- */

/* A new shared object of `pages` zeroed pages; its model id. */
int vmm_new_object(struct vm_model *m, uint64_t pages);

/* Map n pages at va in space k: kind, protection, and for the shared and
 * file kinds the object (or file) and the index of the first page. */
void vmm_map(struct vm_model *m, unsigned k, vaddr_t va, uint64_t n,
             enum vmm_kind kind, vm_prot_t prot, int obj, uint64_t idx);

void vmm_unmap(struct vm_model *m, unsigned k, vaddr_t va, uint64_t n);

/* mprotect: the answer the VM must give (VM_ENOMEM over a hole,
 * VM_EACCES for write on a read-only shared file), applied if VM_OK. */
vm_status_t vmm_protect(struct vm_model *m, unsigned k, unsigned first,
                        unsigned n, vm_prot_t prot);

/* vm_space_set_lock: VM_ENOMEM over a hole (nothing changes). */
vm_status_t vmm_lock(struct vm_model *m, unsigned k, unsigned first,
                     unsigned n, unsigned lock);

/* vm_space_set_lock_all. */
void vmm_lock_all(struct vm_model *m, unsigned k, unsigned lock);

/* MADV_DONTNEED: the answer (VM_ENOMEM over a hole, VM_EINVAL over a
 * locked page, then nothing changes), applied to the mapped pages:
 * private anonymous memory reads zeroes again, a private file page the
 * file's bytes again; shared memory keeps its data. */
vm_status_t vmm_dontneed(struct vm_model *m, unsigned k, unsigned first,
                         unsigned n);

/* fork: space c is a copy of space p (locks are not inherited). */
void vmm_fork(struct vm_model *m, unsigned p, unsigned c);

/* Space k is gone (or new): nothing mapped. */
void vmm_clear(struct vm_model *m, unsigned k);

/* ---- accesses ------------------------------------------------------------ */

/* What a user access to page i of space k must end in. */
enum fault_result vmm_access(struct vm_model *m, unsigned k, unsigned i,
                             vm_prot_t access);

/* Does the frame at pa hold what page i of space k must? */
bool vmm_content_ok(struct vm_model *m, unsigned k, unsigned i, paddr_t pa);

/* Page i of space k was written with byte b (after vmm_access said
 * FAULT_RESOLVED): a private file page now has its own copy, a shared
 * object's page changed for every space that maps it. */
void vmm_wrote(struct vm_model *m, unsigned k, unsigned i, uint8_t b);

/* ---- the check ------------------------------------------------------------- */

/*
 * Copy-on-write across the live spaces sp[0..VMM_SPACES) (NULL: none):
 * a private page whose copy another live space still has (fork, and
 * neither has written it since) is one frame in both, and neither may
 * write it in place (no writable translation in either); pages of
 * different copies are different frames. What a fork's last sharer, the
 * reuse of a page in place and its neighbours (vm_fault.c:reuse_around)
 * must keep.
 */
void vmm_check_sharing(struct vm_model *m, struct vm_space *const *sp);

/* Space s (the model's space k) agrees with the model over the window:
 * vm_space_check, an area exactly where pages are mapped (none just
 * outside the window), its protection, shared flag and lock, the locked
 * page count, and the contents of every present page. */
void vmm_check(struct vm_model *m, unsigned k, struct vm_space *s);

#endif
