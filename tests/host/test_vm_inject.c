/*
 * test_vm_inject.c - allocation-failure injection over a whole sequence of
 * VM operations (kernel/vm/, the x86-64 table code, the software MMU).
 *
 * One fixed sequence (the table `sequence` below) exercises what a process
 * does to its address space: anonymous private and shared maps, a private
 * and a shared file map, faults (zero page, copy of a file page, stack
 * growth), protect (split and merge), fork twice, copy-on-write writes on
 * both sides, mremap (move, grow in place, duplicate), madvise (DONTNEED,
 * WILLNEED, hints), munmap, MAP_FIXED over a mapping, MAP_POPULATE, brk up
 * and down, exits in any order. Run first without injection, it fixes the
 * reference: every step succeeds, every read sees what the table says, and
 * a textual picture of every space at the end is kept.
 *
 * Then, for N = 1, 2, ... the same sequence on fresh simulated RAM with the
 * N-th allocation failing - once for every page (pmm_fail_after: pages,
 * slabs, radix nodes, page tables) and once for page tables alone
 * (vm_ptpage_fail_after) - until a run has no N-th allocation. Every step
 * must succeed or fail with VM_ENOMEM / FAULT_OOM; after every step every
 * checker must pass (vm_space_check, pmap_check, kmalloc_check, pmm_check,
 * the TLB); after a failure, every live space must look exactly as before
 * (areas, brk, stack, every translation and the contents behind it) and the
 * same step, retried, must succeed. So every run ends in the reference's
 * state: its picture must match, and tearing everything down must bring
 * every counter back to the baseline (no page leaks).
 */
#include "check.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <arch/host/softmmu.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#include <stdarg.h>
#include <string.h>

extern uint64_t vm_ptpage_fail_after;   /* kernel/vm/ptpage.c test hook */

#define P               PAGE_SIZE
#define R               VM_PROT_READ
#define W               VM_PROT_WRITE
#define RW              VM_PROT_RW
#define PRIV            VM_MAP_PRIVATE
#define SHARED          VM_MAP_SHARED
#define FIXED           VM_MAP_FIXED
#define RAM             (16 * MiB)

#define NSPACES         3
#define MAX_AREAS       32
#define MAX_PAGES       512

/* ---- the sequence -------------------------------------------------------- */

enum op_kind {
        OP_CREATE,      /* sp[s] = a new space */
        OP_FILE,        /* the file object (the test's reference to it) */
        OP_STACK,       /* stack of len below va */
        OP_BRK_INIT,    /* heap at va */
        OP_BRK,         /* brk(va) */
        OP_MAP,         /* anonymous map */
        OP_MAP_FILE,    /* file map at arg bytes into the file */
        OP_WRITE,       /* user write of byte arg over va's page */
        OP_READ,        /* user read of va's first byte: arg */
        OP_FAULTS,      /* user access (prot; 0: read): fault result arg */
        OP_PROTECT,
        OP_FORK,        /* sp[s2] = fork of sp[s] */
        OP_REMAP,       /* va, len -> arg bytes, flags, to va2 */
        OP_ADVISE,      /* advice arg */
        OP_UNMAP,
        OP_DESTROY,
};

struct op {
        enum op_kind kind;
        unsigned     s, s2;             /* spaces */
        unsigned     reg;               /* 1..3: va is relative to regs[reg] */
        unsigned     out;               /* 1..3: regs[out] = the address a
                                         * map or remap returned */
        vaddr_t      va, va2;
        uint64_t     len;
        vm_prot_t    prot;
        unsigned     flags;
        uint64_t     arg;
};

#define A       0x10000000UL            /* private anonymous, 8 pages */
#define B       0x20000000UL            /* shared anonymous, 4 pages */
#define F       0x30000000UL            /* private file, 5 pages */
#define G       0x31000000UL            /* shared file, 2 pages */
#define C       0x40000000UL            /* mremap destinations */
#define C2      0x48000000UL
#define C3      0x4c000000UL
#define D       0x50000000UL            /* MAP_POPULATE */
#define H       0x00600000UL            /* the heap */
#define ST      USER_MAX                /* the stack's top */

/* The file: 3.5 pages, page k filled with 0xf0 + k. */
#define FILE_BYTES      (3 * P + P / 2)
static uint8_t file_data[FILE_BYTES];

/* The steps, as a script. Lengths in pages; *_AT(k, r, off, ...): at
 * regs[r] + off. */
#define CREATE(k)       { .kind = OP_CREATE, .s = (k) }
#define FILE_OBJECT()   { .kind = OP_FILE }
#define DESTROY(k)      { .kind = OP_DESTROY, .s = (k) }
#define FORK(k, child)  { .kind = OP_FORK, .s = (k), .s2 = (child) }
#define STACK(k, top, n) \
        { .kind = OP_STACK, .s = (k), .va = (top), .len = (n) * P }
#define BRK_INIT(k, at) { .kind = OP_BRK_INIT, .s = (k), .va = (at) }
#define BRK(k, want)    { .kind = OP_BRK, .s = (k), .va = (want) }
#define MAP(k, at, n, pr, fl) { .kind = OP_MAP, .s = (k), .va = (at), \
                                .len = (n) * P, .prot = (pr), .flags = (fl) }
#define MAP_PLACED(k, n, pr, fl, r) { .kind = OP_MAP, .s = (k), .out = (r), \
                                .len = (n) * P, .prot = (pr), .flags = (fl) }
#define MAP_FILE(k, at, n, pr, fl, off) { .kind = OP_MAP_FILE, .s = (k), \
                .va = (at), .len = (n) * P, .prot = (pr), .flags = (fl), \
                .arg = (off) }
#define WRITE(k, at, byte) { .kind = OP_WRITE, .s = (k), .va = (at), \
                             .arg = (byte) }
#define READ(k, at, byte) { .kind = OP_READ, .s = (k), .va = (at), \
                            .arg = (byte) }
#define WRITE_AT(k, r, off, byte) { .kind = OP_WRITE, .s = (k), .reg = (r), \
                                    .va = (off), .arg = (byte) }
#define READ_AT(k, r, off, byte) { .kind = OP_READ, .s = (k), .reg = (r), \
                                   .va = (off), .arg = (byte) }
#define FAULTS(k, at, acc, res) { .kind = OP_FAULTS, .s = (k), .va = (at), \
                                  .prot = (acc), .arg = (res) }
#define PROTECT(k, at, n, pr) { .kind = OP_PROTECT, .s = (k), .va = (at), \
                                .len = (n) * P, .prot = (pr) }
#define UNMAP(k, at, n) { .kind = OP_UNMAP, .s = (k), .va = (at), \
                          .len = (n) * P }
#define ADVISE(k, at, n, adv) { .kind = OP_ADVISE, .s = (k), .va = (at), \
                                .len = (n) * P, .arg = VM_MADV_##adv }
#define REMAP(k, at, n, new_n) { .kind = OP_REMAP, .s = (k), .va = (at), \
                .len = (n) * P, .arg = (new_n) * P, .flags = VM_REMAP_MAYMOVE }
#define REMAP_TO(k, at, n, new_n, to) { .kind = OP_REMAP, .s = (k), \
                .va = (at), .len = (n) * P, .arg = (new_n) * P, .va2 = (to), \
                .flags = VM_REMAP_FIXED | VM_REMAP_MAYMOVE }
#define REMAP_PLACED(k, at, n, new_n, r) { .kind = OP_REMAP, .s = (k), \
                .va = (at), .len = (n) * P, .arg = (new_n) * P, .out = (r), \
                .flags = VM_REMAP_MAYMOVE }

static const struct op sequence[] = {
        CREATE(0),
        FILE_OBJECT(),
        STACK(0, ST, 4),
        BRK_INIT(0, H),
        BRK(0, H + 3 * P + 5),
        MAP(0, A, 8, RW, PRIV | FIXED),
        MAP(0, B, 4, RW, SHARED | FIXED),
        MAP_FILE(0, F, 5, RW, PRIV | FIXED, 0),
        MAP_FILE(0, G, 2, R, SHARED | FIXED, P),
        MAP_PLACED(0, 2, RW, PRIV, 1),
        /* first touches: zero page, file pages, copies, SIGBUS, growth */
        WRITE(0, A, 0x11),
        WRITE(0, A + 1 * P, 0x12),
        WRITE(0, A + 2 * P, 0x13),
        WRITE(0, A + 3 * P, 0x14),
        WRITE(0, A + 5 * P, 0x16),
        READ(0, A + 6 * P, 0),
        WRITE(0, B, 0x21),
        WRITE(0, B + 2 * P, 0x23),
        READ(0, F, 0xf0),
        WRITE(0, F + 1 * P, 0x31),
        READ(0, F + 3 * P, 0xf3),
        FAULTS(0, F + 4 * P, R, FAULT_BUS),
        READ(0, G, 0xf1),
        WRITE_AT(0, 1, 0, 0x91),
        WRITE(0, ST - P, 0x41),
        WRITE(0, ST - 12 * P, 0x42),            /* the stack grows */
        WRITE(0, H, 0x51),
        WRITE(0, H + 2 * P, 0x53),
        /* protect: split, then merge back */
        PROTECT(0, A + 2 * P, 2, R),
        READ(0, A + 2 * P, 0x13),
        FAULTS(0, A + 2 * P, W, FAULT_SEGV),
        PROTECT(0, A + 2 * P, 2, RW),
        /* fork, and copy-on-write both ways */
        FORK(0, 1),
        WRITE(0, A, 0x61),
        READ(1, A, 0x11),
        WRITE(1, A + 1 * P, 0x72),
        READ(0, A + 1 * P, 0x12),
        WRITE(1, B, 0x24),
        READ(0, B, 0x24),
        WRITE(1, F + 1 * P, 0x35),
        READ(0, F + 1 * P, 0x31),
        WRITE(1, F + 2 * P, 0x36),
        READ(0, F + 2 * P, 0xf2),
        WRITE(1, ST - 12 * P, 0x43),
        WRITE(1, ST - 20 * P, 0x44),            /* the child's grows */
        READ(0, ST - 12 * P, 0x42),
        WRITE(1, H + 1 * P, 0x52),
        WRITE_AT(1, 1, 0, 0x92),
        READ_AT(0, 1, 0, 0x91),
        /* mremap: move private pages, grow in place, move and duplicate
         * shared memory, move without FIXED */
        REMAP_TO(0, A + 4 * P, 2, 2, C),
        READ(0, C + 1 * P, 0x16),
        REMAP(0, C, 2, 6),
        READ(0, C + 5 * P, 0),
        WRITE(0, C + 4 * P, 0x17),
        REMAP_TO(1, B, 4, 4, C2),
        READ(1, C2, 0x24),
        REMAP_TO(0, B, 0, 4, C3),
        WRITE(0, C3 + 3 * P, 0x27),
        READ(1, C2 + 3 * P, 0x27),
        REMAP_PLACED(1, A, 2, 3, 2),
        READ_AT(1, 2, P, 0x72),
        /* madvise */
        ADVISE(0, A, 2, DONTNEED),
        READ(0, A, 0),
        READ_AT(1, 2, 0, 0x11),
        ADVISE(0, F, 5, WILLNEED),
        ADVISE(0, A + 1 * P, 2, RANDOM),
        ADVISE(0, A + 1 * P, 2, NORMAL),
        ADVISE(1, F, 2, DONTNEED),
        READ(1, F + 1 * P, 0xf1),
        /* munmap, brk both ways, MAP_FIXED over a mapping, MAP_POPULATE */
        UNMAP(0, A + 1 * P, 1),
        BRK(1, H + P),
        BRK(0, H + 6 * P),
        WRITE(0, H + 5 * P, 0x56),
        MAP(0, D, 3, RW, PRIV | FIXED | VM_MAP_POPULATE),
        READ(0, D + 2 * P, 0),
        MAP(0, A + 3 * P, 1, R, PRIV | FIXED),
        /* a grandchild; exits in another order than forks */
        FORK(1, 2),
        WRITE(2, C2 + 1 * P, 0x28),
        READ(0, C3 + 1 * P, 0x28),
        WRITE(2, ST - 20 * P, 0x45),
        WRITE(1, ST - 25 * P, 0x46),            /* grows again */
        DESTROY(1),
        READ(2, ST - 12 * P, 0x43),
        WRITE(2, F + 1 * P, 0x37),
        READ(0, F + 1 * P, 0x31),
        UNMAP(2, F, 5),
        PROTECT(2, C2, 1, R),
        FORK(0, 1),
        WRITE(1, C + 4 * P, 0x18),
        READ(0, C + 4 * P, 0x17),
};

/* ---- one run ------------------------------------------------------------- */

struct run {
        struct vm_space  *sp[NSPACES];
        struct vm_object *file;
        vaddr_t           regs[4];      /* addresses steps placed (out) */
        struct vm_space  *active;       /* whose tables the MMU walks */
        uint64_t         *hook;         /* the armed injector, or NULL */
        const char       *what;         /* its name, for messages */
        uint64_t          n;            /* the allocation it fails */
        unsigned          failed;       /* steps that failed and were retried */
        unsigned          absorbed;     /* failures a step did not report */
        unsigned          step;         /* index into sequence */
        unsigned          fail_step;    /* where the injected failure hit */
        uint64_t          left;         /* the hook when the sequence ended */
        struct {
                uint64_t free, pt_pages, slab, large;
        } base;
};

/* Fresh RAM, allocator, heap, MMU, kernel pmap and zero page. */
static void run_setup(struct run *r)
{
        memset(r, 0, sizeof *r);
        host_memory_setup(RAM);
        kmalloc_init(true);
        softmmu_reset();
        pmm_fail_after = 0;
        vm_ptpage_fail_after = 0;
        CHECK_EQ(pmap_bootstrap(RAM), VM_OK);
        pmap_activate(pmap_kernel());
        vm_object_init();
        CHECK_EQ(vm_zero_page_init(), VM_OK);
        kmalloc_shrink();
        r->base.free = pmm_free_count();
        r->base.pt_pages = vmstat.pt_pages;
        r->base.slab = vmstat.slab_pages;
        r->base.large = vmstat.kmalloc_large;
}

/* A failure in a run, naming the injection and the step. */
static _Noreturn void run_fail(struct run *r, const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        check_fail(__FILE__, __LINE__, "%s N=%lu, step %u: %s",
                   r->hook ? r->what : "no injection", r->n, r->step, msg);
}

static void baseline_eq(struct run *r, const char *what, uint64_t got,
                        uint64_t want)
{
        if (got != want)
                run_fail(r, "after teardown, %s is %lu, was %lu", what, got,
                         want);
}

/* Everything given back, every structure sound. */
static void run_check_baseline(struct run *r)
{
        kmalloc_shrink();
        baseline_eq(r, "vmstat.anon_pages", vmstat.anon_pages, 0);
        baseline_eq(r, "vmstat.file_pages", vmstat.file_pages, 0);
        baseline_eq(r, "vm_object_file_count()", vm_object_file_count(), 0);
        baseline_eq(r, "vmstat.pt_pages", vmstat.pt_pages, r->base.pt_pages);
        baseline_eq(r, "vmstat.slab_pages", vmstat.slab_pages, r->base.slab);
        baseline_eq(r, "vmstat.kmalloc_large", vmstat.kmalloc_large,
                    r->base.large);
        baseline_eq(r, "pmm_free_count()", pmm_free_count(), r->base.free);
        if (!kmalloc_check() || !pmm_check() ||
            !pmap_check(pmap_kernel()) || !vm_zero_page_check())
                run_fail(r, "after teardown, a checker failed");
}

static struct vm_space *space(struct run *r, unsigned k)
{
        if (!r->sp[k])
                run_fail(r, "space %u does not exist", k);
        return r->sp[k];
}

/* Every checker on everything alive. */
static void run_check_all(struct run *r)
{
        for (unsigned k = 0; k < NSPACES; k++) {
                if (!r->sp[k])
                        continue;
                if (!vm_space_check(r->sp[k]))
                        run_fail(r, "vm_space_check(space %u)", k);
                if (!pmap_check(vm_space_pmap(r->sp[k])))
                        run_fail(r, "pmap_check(space %u)", k);
        }
        if (!softmmu_tlb_check())
                run_fail(r, "a stale TLB entry");
        if (!kmalloc_check() || !pmm_check() || !vm_zero_page_check())
                run_fail(r, "kmalloc_check, pmm_check or the zero page");
}

/* ---- user accesses through the software MMU ------------------------------ */

static void run_activate(struct run *r, struct vm_space *s)
{
        if (r->active == s)
                return;
        pmap_activate(s ? vm_space_pmap(s) : pmap_kernel());
        r->active = s;
}

static unsigned mmu_access(vm_prot_t access)
{
        return access == W ? SOFTMMU_WRITE : SOFTMMU_READ;
}

/* An access by user mode as the CPU makes it: through the MMU; on a page
 * fault, vm_fault() and one retry. */
static enum fault_result user_access(struct run *r, struct vm_space *s,
                                     vaddr_t va, vm_prot_t access, paddr_t *pa)
{
        enum softmmu_result mr;
        enum fault_result fr;

        run_activate(r, s);
        mr = softmmu_access(va, mmu_access(access), true, pa);
        if (mr == SOFTMMU_OK)
                return FAULT_RESOLVED;
        if (mr != SOFTMMU_NOT_PRESENT && mr != SOFTMMU_PROTECTION)
                run_fail(r, "MMU result %d at %#lx", mr, va);
        fr = machine_user_fault(s, va, access);
        if (fr != FAULT_RESOLVED)
                return fr;
        mr = softmmu_access(va, mmu_access(access), true, pa);
        if (mr != SOFTMMU_OK)
                run_fail(r, "resolved fault at %#lx faults again (%d)", va, mr);
        return FAULT_RESOLVED;
}

/* A hash of the page at pa (FNV-1a over 64-bit words: cheap enough to
 * take of every resident page before every step). */
static uint64_t page_hash(paddr_t pa)
{
        const uint64_t *p = phys_to_virt(page_trunc(pa));
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < PAGE_SIZE / sizeof *p; i++)
                h = (h ^ p[i]) * 0x100000001b3ULL;
        return h;
}

/* ---- the steps ----------------------------------------------------------- */

static vm_status_t from_fault(struct run *r, enum fault_result fr)
{
        if (fr == FAULT_OOM)
                return VM_ENOMEM;
        if (fr != FAULT_RESOLVED)
                run_fail(r, "fault result %d", fr);
        return VM_OK;
}

static vm_status_t step_touch(struct run *r, const struct op *o, vaddr_t va)
{
        struct vm_space *s = space(r, o->s);
        vm_prot_t access = o->kind == OP_WRITE ? W : o->prot ? o->prot : R;
        paddr_t pa = 0;
        enum fault_result fr = user_access(r, s, va, access, &pa);
        uint8_t got;

        if (o->kind == OP_FAULTS) {
                if (fr != FAULT_OOM && fr != (enum fault_result)o->arg)
                        run_fail(r, "fault result %d, wanted %lu", fr, o->arg);
                return fr == FAULT_OOM ? VM_ENOMEM : VM_OK;
        }
        if (from_fault(r, fr) != VM_OK)
                return VM_ENOMEM;
        if (o->kind == OP_WRITE) {
                memset(phys_to_virt(page_trunc(pa)), (int)o->arg, P);
                return VM_OK;
        }
        got = *(uint8_t *)phys_to_virt(pa);
        if (got != o->arg)
                run_fail(r, "read %#x at %#lx, wanted %#lx", got, va, o->arg);
        return VM_OK;
}

static vm_status_t step_map(struct run *r, const struct op *o, vaddr_t va)
{
        struct vm_space *s = space(r, o->s);
        vaddr_t out = 0;
        vm_status_t st;

        if (o->kind == OP_MAP_FILE)
                st = vm_space_map_file(s, va, o->len, o->prot, o->flags,
                                       r->file, o->arg, &out);
        else
                st = vm_space_map(s, va, o->len, o->prot, o->flags, &out);
        if (st == VM_OK && o->out)
                r->regs[o->out] = out;
        if (st == VM_OK && (o->flags & FIXED) && out != va)
                run_fail(r, "FIXED map at %#lx went to %#lx", va, out);
        return st;
}

static vm_status_t step_fork(struct run *r, const struct op *o)
{
        struct vm_space *child = NULL;
        vm_status_t st = vm_space_fork(space(r, o->s), &child);

        if (st == VM_OK)
                r->sp[o->s2] = child;
        return st;
}

static vm_status_t step_remap(struct run *r, const struct op *o, vaddr_t va,
                              vaddr_t va2)
{
        vaddr_t out = 0;
        vm_status_t st = vm_space_remap(space(r, o->s), va, o->len, o->arg,
                                        o->flags, va2, &out);

        if (st == VM_OK && o->out)
                r->regs[o->out] = out;
        return st;
}

static vm_status_t step_misc(struct run *r, const struct op *o, vaddr_t va)
{
        struct vm_space *s = space(r, o->s);
        vaddr_t got;
        vm_status_t st;

        switch (o->kind) {
        case OP_STACK:
                return vm_space_stack_init(s, va, o->len);
        case OP_BRK_INIT:
                return vm_space_brk_init(s, va);
        case OP_BRK:
                st = vm_space_brk(s, va, &got);
                if (got != (st == VM_OK ? va : s->brk))
                        run_fail(r, "brk returned %#lx", got);
                return st;
        case OP_PROTECT:
                return vm_space_protect(s, va, o->len, o->prot);
        case OP_ADVISE:
                return vm_space_advise(s, va, o->len, (int)o->arg);
        case OP_UNMAP:
                return vm_space_unmap(s, va, o->len);
        case OP_DESTROY:
                if (r->active == s)
                        run_activate(r, NULL);
                vm_space_destroy(s);
                r->sp[o->s] = NULL;
                return VM_OK;
        default:
                run_fail(r, "unknown step");
        }
}

/* Carry out one step once. */
static vm_status_t step_run(struct run *r, const struct op *o)
{
        vaddr_t va = o->va + (o->reg ? r->regs[o->reg] : 0);

        switch (o->kind) {
        case OP_CREATE:
                return vm_space_create(&r->sp[o->s]);
        case OP_FILE:
                return vm_object_create_file(file_data, FILE_BYTES, &r->file);
        case OP_MAP:
        case OP_MAP_FILE:
                return step_map(r, o, va);
        case OP_WRITE:
        case OP_READ:
        case OP_FAULTS:
                return step_touch(r, o, va);
        case OP_FORK:
                return step_fork(r, o);
        case OP_REMAP:
                return step_remap(r, o, va, o->va2);
        default:
                return step_misc(r, o, va);
        }
}

/* ---- "unchanged": what a failed step must leave as it was ---------------- */

struct snap_area {
        vaddr_t                 start, end;
        vm_prot_t               prot;
        unsigned                flags;
        bool                    shared, is_file;
        const struct vm_object *object;
        uint64_t                offset;
};

struct snap_page {
        unsigned  k;
        vaddr_t   va;
        paddr_t   pa;
        vm_prot_t prot;
        uint64_t  hash;
};

struct snap {
        struct vm_space  *sp[NSPACES];
        struct snap_area  area[NSPACES][MAX_AREAS];
        unsigned          nareas[NSPACES];
        vaddr_t           start_brk[NSPACES], brk[NSPACES], stack_top[NSPACES];
        struct snap_page  page[MAX_PAGES];
        unsigned          npages;
};

struct snap_walk {
        struct snap *sn;
        unsigned     k;
};

static bool snap_area_add(void *arg, const struct vm_area_info *info)
{
        struct snap_walk *w = arg;
        unsigned *n = &w->sn->nareas[w->k];

        if (*n == MAX_AREAS)
                return false;
        w->sn->area[w->k][(*n)++] = (struct snap_area){
                .start = info->start, .end = info->end, .prot = info->prot,
                .flags = info->flags, .shared = info->shared,
                .is_file = info->is_file, .object = info->object,
                .offset = info->offset };
        return true;
}

/* Every translation of space k, with a hash of the page behind it. */
static void snap_pages(struct run *r, struct snap *sn, unsigned k)
{
        struct vm_space *s = r->sp[k];
        paddr_t pa;
        vm_prot_t prot;

        for (unsigned i = 0; i < sn->nareas[k]; i++) {
                for (vaddr_t va = sn->area[k][i].start;
                     va < sn->area[k][i].end; va += P) {
                        if (!pmap_extract(vm_space_pmap(s), va, &pa, &prot,
                                          NULL))
                                continue;
                        if (sn->npages == MAX_PAGES)
                                run_fail(r, "too many pages to snapshot");
                        sn->page[sn->npages++] = (struct snap_page){
                                .k = k, .va = va, .pa = pa, .prot = prot,
                                .hash = page_hash(pa) };
                }
        }
}

static void snap_take(struct run *r, struct snap *sn)
{
        memset(sn, 0, sizeof *sn);
        for (unsigned k = 0; k < NSPACES; k++) {
                struct vm_space *s = r->sp[k];
                struct snap_walk w = { sn, k };

                sn->sp[k] = s;
                if (!s)
                        continue;
                if (!vm_space_for_each_area(s, snap_area_add, &w))
                        run_fail(r, "too many areas to snapshot");
                sn->start_brk[k] = s->start_brk;
                sn->brk[k] = s->brk;
                sn->stack_top[k] = s->stack_top;
                snap_pages(r, sn, k);
        }
}

/* May the area list `now` stand for `was` after a failed fault? A fault
 * grows a stack before it looks for the page, and the growth stays when
 * the page cannot be had (vm_space.h: "what was done so far stays
 * valid"), so a grows-down area may start lower; nothing else may move. */
static bool snap_area_same(const struct snap_area *was,
                           const struct snap_area *now, bool fault)
{
        struct snap_area a = *was, b = *now;

        if (fault && (a.flags & VM_AREA_GROWSDOWN) && b.start <= a.start)
                b.start = a.start;
        return memcmp(&a, &b, sizeof a) == 0;
}

/* After a failed step: the same spaces, areas, heap and stack, and every
 * translation still there, to the same frame with the same rights and
 * contents. */
static void snap_compare(struct run *r, const struct snap *was, bool fault)
{
        struct snap now;

        snap_take(r, &now);
        for (unsigned k = 0; k < NSPACES; k++) {
                if (now.sp[k] != was->sp[k])
                        run_fail(r, "space %u appeared or vanished", k);
                if (!now.sp[k])
                        continue;
                if (now.nareas[k] != was->nareas[k])
                        run_fail(r, "space %u: %u areas, had %u", k,
                                 now.nareas[k], was->nareas[k]);
                for (unsigned i = 0; i < now.nareas[k]; i++)
                        if (!snap_area_same(&was->area[k][i],
                                            &now.area[k][i], fault))
                                run_fail(r, "space %u: area %#lx-%#lx "
                                         "changed", k, was->area[k][i].start,
                                         was->area[k][i].end);
                if (now.start_brk[k] != was->start_brk[k] ||
                    now.brk[k] != was->brk[k] ||
                    now.stack_top[k] != was->stack_top[k])
                        run_fail(r, "space %u: brk or stack top changed", k);
        }
        if (now.npages != was->npages)
                run_fail(r, "%u translations, had %u", now.npages,
                         was->npages);
        for (unsigned i = 0; i < now.npages; i++) {
                const struct snap_page *a = &was->page[i], *b = &now.page[i];

                if (a->k != b->k || a->va != b->va || a->pa != b->pa ||
                    a->prot != b->prot)
                        run_fail(r, "space %u: translation of %#lx changed",
                                 a->k, a->va);
                if (a->hash != b->hash)
                        run_fail(r, "space %u: contents at %#lx changed",
                                 a->k, a->va);
        }
}

/* ---- the picture at the end ---------------------------------------------- */

struct picture {
        char     text[32768];
        size_t   len;
        uint64_t anon, file, pt;        /* vmstat once every page was read */
};

static void pic_printf(struct picture *pc, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void pic_printf(struct picture *pc, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (pc->len < sizeof pc->text)
                pc->len += (size_t)vsnprintf(pc->text + pc->len,
                                             sizeof pc->text - pc->len, fmt,
                                             ap);
        va_end(ap);
        CHECK(pc->len < sizeof pc->text);
}

/* Each space as user mode sees it: areas, then every page read (faulting
 * it in: the injector is disarmed by now). Object identities are left
 * out: a failed attempt may use up object ids. */
static void picture_take(struct run *r, struct picture *pc)
{
        static struct snap sn;

        pc->len = 0;
        snap_take(r, &sn);
        for (unsigned k = 0; k < NSPACES; k++) {
                struct vm_space *s = r->sp[k];

                if (!s)
                        continue;
                pic_printf(pc, "space %u brk %#lx..%#lx stack %#lx\n", k,
                           s->start_brk, s->brk, s->stack_top);
                for (unsigned i = 0; i < sn.nareas[k]; i++) {
                        const struct snap_area *a = &sn.area[k][i];

                        pic_printf(pc, "%#lx-%#lx prot %u flags %#x %s%s%s "
                                   "off %#lx\n", a->start, a->end, a->prot,
                                   a->flags, a->shared ? "shared" : "private",
                                   a->object ? " object" : "",
                                   a->is_file ? " file" : "", a->offset);
                        for (vaddr_t va = a->start; va < a->end; va += P) {
                                paddr_t pa = 0;
                                enum fault_result fr =
                                        user_access(r, s, va, R, &pa);

                                pic_printf(pc, "  %#lx %d %016lx\n", va, fr,
                                           fr == FAULT_RESOLVED
                                                   ? page_hash(pa) : 0);
                        }
                }
        }
        pc->anon = vmstat.anon_pages;
        pc->file = vmstat.file_pages;
        pc->pt = vmstat.pt_pages;
}

/* The reference's picture (and counters) against this run's. The counters
 * only if no step absorbed the failure: MAP_POPULATE that stops early
 * leaves its pages to later faults (here, reads of the zero page). */
static void picture_compare(struct run *r, const struct picture *want,
                            const struct picture *got)
{
        size_t i = 0, line = 1;

        while (i < want->len && i < got->len && want->text[i] == got->text[i])
                line += want->text[i++] == '\n';
        if (i < want->len || i < got->len) {
                while (i > 0 && want->text[i - 1] != '\n')
                        i--;
                run_fail(r, "failure at step %u: the end state differs from "
                         "the reference at line %zu: wanted \"%.60s\", got "
                         "\"%.60s\"", r->fail_step, line, want->text + i,
                         got->text + i);
        }
        if (r->absorbed == 0 &&
            (want->anon != got->anon || want->file != got->file ||
             want->pt != got->pt))
                run_fail(r, "failure at step %u: at the end, anon %lu file %lu "
                         "pt %lu pages, wanted %lu %lu %lu", r->fail_step,
                         got->anon, got->file, got->pt, want->anon,
                         want->file, want->pt);
}

/* ---- the driver ---------------------------------------------------------- */

/* One step: run it; on a failure check nothing changed, then retry. */
static void run_step(struct run *r, const struct op *o)
{
        static struct snap before;
        uint64_t armed = r->hook ? *r->hook : 0;
        vm_status_t st;

        snap_take(r, &before);
        st = step_run(r, o);
        run_check_all(r);
        if (armed && *r->hook == 0)
                r->fail_step = r->step;
        if (st == VM_OK) {
                r->absorbed += armed && *r->hook == 0;
                return;
        }
        if (st != VM_ENOMEM)
                run_fail(r, "status %s", vm_status_name(st));
        if (!(armed && *r->hook == 0))
                run_fail(r, "VM_ENOMEM without an injected failure");
        r->failed++;
        snap_compare(r, &before,
                     o->kind == OP_WRITE || o->kind == OP_READ ||
                     o->kind == OP_FAULTS);
        st = step_run(r, o);
        run_check_all(r);
        if (st != VM_OK)
                run_fail(r, "retry: status %s", vm_status_name(st));
}

/*
 * The whole sequence with *hook = n (hook NULL: no injection), then its
 * picture into *pc and the teardown. Returns true if the n-th allocation
 * came (and failed).
 */
static bool run_sequence(struct run *r, uint64_t *hook, const char *what,
                         uint64_t n, struct picture *pc)
{
        bool fired;

        run_setup(r);
        for (size_t i = 0; i < FILE_BYTES; i++)
                file_data[i] = (uint8_t)(0xf0 + i / P);
        r->hook = hook;
        r->what = what;
        r->n = n;
        if (hook)
                *hook = n;
        for (r->step = 0; r->step < ARRAY_SIZE(sequence); r->step++)
                run_step(r, &sequence[r->step]);
        fired = hook && *hook == 0;
        r->left = hook ? *hook : 0;
        pmm_fail_after = vm_ptpage_fail_after = 0;
        if (vm_object_file_count() != 1)
                run_fail(r, "%lu file objects", vm_object_file_count());
        picture_take(r, pc);
        run_activate(r, NULL);
        for (unsigned k = 0; k < NSPACES; k++)
                if (r->sp[k])
                        vm_space_destroy(r->sp[k]);
        vm_object_unref(r->file);
        run_check_baseline(r);
        return fired;
}

static struct picture reference;

/* The sequence without a failure: every step succeeds, and its picture
 * becomes the reference. Returns how many allocations the hook counts. */
static uint64_t run_reference(uint64_t *hook, const char *what)
{
        static struct run r;
        const uint64_t never = 1ULL << 40;

        CHECK(!run_sequence(&r, hook, what, never, &reference));
        CHECK_EQ(r.failed + r.absorbed, 0);
        return never - r.left;
}

/* Fail the n-th allocation for n = 1, 2, ... until there is none. */
static void sweep(uint64_t *hook, const char *what)
{
        static struct run r;
        static struct picture pc;
        uint64_t count = run_reference(hook, what), n;
        unsigned failed = 0, absorbed = 0;

        for (n = 1; run_sequence(&r, hook, what, n, &pc); n++) {
                CHECK_EQ(r.failed + r.absorbed, 1);
                failed += r.failed;
                absorbed += r.absorbed;
                picture_compare(&r, &reference, &pc);
        }
        printf("    %s: %lu allocations in the sequence, N = 1..%lu swept: "
               "%u failed cleanly and were retried, %u absorbed\n", what,
               count, n - 1, failed, absorbed);
        CHECK_EQ(n - 1, count);
        CHECK(failed > 0);
}

TEST(reference_sequence_succeeds)
{
        static struct run r;

        CHECK(!run_sequence(&r, NULL, NULL, 0, &reference));
        CHECK_EQ(r.failed + r.absorbed, 0);
        CHECK_EQ(ARRAY_SIZE(sequence), r.step);
}

TEST(every_page_allocation_fails_once)
{
        sweep(&pmm_fail_after, "pmm_fail_after");
}

TEST(every_table_allocation_fails_once)
{
        sweep(&vm_ptpage_fail_after, "vm_ptpage_fail_after");
}
