/*
 * fuzz_vm.c - libFuzzer target for the machine-independent VM (kernel/vm/)
 * and the x86-64 table code, over 8 MiB of simulated RAM and the software
 * MMU (enough for free 2 MiB blocks: huge pages).
 *
 * The input is a program: each operation is one byte (which operation)
 * followed by the bytes of its arguments; a program that runs out of bytes
 * reads zeroes, so every input means something. At most MAX_OPS
 * operations (after a first byte that picks the huge-page policy), on up
 * to NSP address spaces: create, destroy, fork, map
 * (anonymous and of three in-memory files), unmap, protect, mremap,
 * madvise, brk, stack setup and limit, user reads, writes and fetches
 * (faults, stack growth, copy-on-write, huge pages where MADV_HUGEPAGE or
 * the input's policy allows them), and two ways of running out of
 * memory: taking free pages away, and failing the n-th page or page-table
 * allocation (pmm_fail_after, vm_ptpage_fail_after). Addresses mostly fall
 * in a window of WIN_PAGES pages so that operations meet.
 *
 * After every operation: its status is one its contract names; every
 * checker passes (vm_space_check and pmap_check on every live space, the
 * TLB against the tables; pmm_check and kmalloc_check every fourth); a
 * failed operation whose contract says "failure changes nothing" left its
 * space's areas, heap, stack and translations as they were; a successful
 * one did what it says (the range mapped, unmapped or protected, the child
 * a copy of the parent's layout). At the end every space is destroyed and
 * every counter must be back where it started. Any violation abort()s.
 * Each input starts from fresh RAM and fresh module state.
 */
#include "harness.h"

#include <mercator/types.h>
#include <machine/vmparam.h>
#include <arch/host/softmmu.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_area.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern uint64_t vm_ptpage_fail_after;   /* kernel/vm/ptpage.c test hook */

#define P               PAGE_SIZE
#define RAM             (8 * MiB)
#define NSP             3
#define MAX_OPS         192
#define WIN_BASE        0x10000000UL
#define WIN_PAGES       1024
#define HUGE_PAGES      512             /* x86-64's 2 MiB, in pages */
#define MAX_HOG         (RAM / P)
#define MAX_AREAS       512

/* ---- the input ----------------------------------------------------------- */

struct input {
        const uint8_t *p;
        size_t         n;
};

static uint8_t in_u8(struct input *in)
{
        if (in->n == 0)
                return 0;
        in->n--;
        return *in->p++;
}

static uint16_t in_u16(struct input *in)
{
        uint16_t lo = in_u8(in);

        return (uint16_t)(lo | in_u8(in) << 8);
}

/* ---- state of one input -------------------------------------------------- */

static const uint8_t file_bytes[3 * P + P / 2] = { 1, 2, 3 };

/* The files a program may map: 3.5 pages, exactly 2 pages, empty. */
static const struct {
        const uint8_t *data;
        uint64_t       bytes;
} files[] = {
        { file_bytes, sizeof file_bytes },
        { file_bytes, 2 * P },
        { file_bytes, 0 },
};

struct fz {
        struct input      in;
        struct vm_space  *sp[NSP];
        vaddr_t           last[NSP];    /* last address map/remap gave */
        struct vm_space  *active;       /* whose tables the MMU walks */
        struct vm_page   *hog[MAX_HOG]; /* pages taken away */
        unsigned          nhog;
        unsigned          op;           /* operations run */
        struct {
                uint64_t free, pt_pages, slab, large;
        } base;
};

static struct fz fz;
static bool tracing;            /* $FUZZ_VM_TRACE: print every operation */

/* With $FUZZ_VM_TRACE set, one line per operation, for replaying a crash:
 * FUZZ_VM_TRACE=1 build/fuzz/fuzz_vm <input>. */
static void trace(const struct fz *f, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void trace(const struct fz *f, const char *fmt, ...)
{
        va_list ap;

        if (!tracing)
                return;
        fprintf(stderr, "op %u: ", f->op);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* ---- checks -------------------------------------------------------------- */

/* Every checker on everything alive; the allocators' (which cost as much
 * as the rest together) after every fourth operation and at the end. */
static void check_all(struct fz *f)
{
        for (unsigned k = 0; k < NSP; k++) {
                if (!f->sp[k])
                        continue;
                if (!vm_space_check(f->sp[k]))
                        fuzz_fail("op %u: vm_space_check(space %u)", f->op, k);
                if (!pmap_check(vm_space_pmap(f->sp[k])))
                        fuzz_fail("op %u: pmap_check(space %u)", f->op, k);
        }
        if (!softmmu_tlb_check())
                fuzz_fail("op %u: a stale TLB entry", f->op);
        if (f->op % 4 == 3 && (!pmm_check() || !kmalloc_check()))
                fuzz_fail("op %u: pmm_check or kmalloc_check", f->op);
}

static void status_allowed(struct fz *f, const char *what, vm_status_t st,
                           unsigned allowed)
{
        if (!((1u << st) & (allowed | 1u << VM_OK)))
                fuzz_fail("op %u: %s returned %s, not in its contract", f->op,
                          what, vm_status_name(st));
}

#define S(x)    (1u << VM_##x)

/* What "the space as it was" means: its areas as /proc/PID/maps lists
 * them, heap, stack, and a digest of every translation (va, frame,
 * rights) inside them. */
struct view {
        struct vm_area_info area[MAX_AREAS];
        unsigned            nareas;
        vaddr_t             start_brk, brk, stack_top, mmap_base;
        uint64_t            digest;
};

static bool view_add(void *arg, const struct vm_area_info *info)
{
        struct view *v = arg;

        if (v->nareas < MAX_AREAS)
                v->area[v->nareas] = *info;
        v->nareas++;
        return true;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
        return (h ^ x) * 0x100000001b3ULL;
}

static void view_take(struct vm_space *s, struct view *v)
{
        paddr_t pa;
        vm_prot_t prot;

        v->nareas = 0;
        vm_space_for_each_area(s, view_add, v);
        if (v->nareas > MAX_AREAS)
                v->nareas = MAX_AREAS;  /* compare the first ones only */
        v->start_brk = s->start_brk;
        v->brk = s->brk;
        v->stack_top = s->stack_top;
        v->mmap_base = s->mmap_base;
        v->digest = 0xcbf29ce484222325ULL;
        for (const struct vm_area *a = s->areas.first; a; a = a->next)
                for (vaddr_t va = a->start; va < a->end; va += P)
                        if (pmap_extract(vm_space_pmap(s), va, &pa, &prot,
                                         NULL))
                                v->digest = mix(mix(mix(v->digest, va), pa),
                                                prot);
}

static bool area_info_same(const struct vm_area_info *a,
                           const struct vm_area_info *b)
{
        return a->start == b->start && a->end == b->end &&
               a->prot == b->prot && a->flags == b->flags &&
               a->shared == b->shared && a->object == b->object &&
               a->offset == b->offset;
}

static void view_same(struct fz *f, const char *what, const struct view *was,
                      struct vm_space *s)
{
        static struct view now;

        view_take(s, &now);
        if (now.nareas != was->nareas)
                fuzz_fail("op %u: failed %s changed the area count %u -> %u",
                          f->op, what, was->nareas, now.nareas);
        for (unsigned i = 0; i < now.nareas; i++)
                if (!area_info_same(&was->area[i], &now.area[i]))
                        fuzz_fail("op %u: failed %s changed area %#lx-%#lx",
                                  f->op, what, was->area[i].start,
                                  was->area[i].end);
        if (now.start_brk != was->start_brk || now.brk != was->brk ||
            now.stack_top != was->stack_top ||
            now.mmap_base != was->mmap_base)
                fuzz_fail("op %u: failed %s changed brk, stack or mmap_base",
                          f->op, what);
        if (now.digest != was->digest)
                fuzz_fail("op %u: failed %s changed translations", f->op,
                          what);
}

/* Every page of [start, end) lies in an area; with prot if prot >= 0. */
static void covered(struct fz *f, const char *what, struct vm_space *s,
                    vaddr_t start, vaddr_t end, int prot)
{
        for (vaddr_t va = start; va < end; ) {
                const struct vm_area *a = vm_space_lookup(s, va);

                if (!a || (prot >= 0 && a->prot != (vm_prot_t)prot))
                        fuzz_fail("op %u: after %s, %#lx is %s", f->op, what,
                                  va, a ? "mapped with other rights"
                                        : "not mapped");
                va = a->end;
        }
}

/* No area meets [start, end). */
static void unmapped(struct fz *f, const char *what, struct vm_space *s,
                     vaddr_t start, vaddr_t end)
{
        const struct vm_area *a = vm_area_lookup_next(&s->areas, start);

        if (start < end && a && a->start < end)
                fuzz_fail("op %u: %#lx-%#lx still mapped after %s", f->op,
                          a->start, a->end, what);
}

/* ---- arguments ----------------------------------------------------------- */

static struct vm_space *arg_space(struct fz *f, unsigned *k)
{
        *k = in_u8(&f->in) % NSP;
        return f->sp[*k];
}

/* An address: mostly in the window (sometimes at a huge-page boundary of
 * it), else near the last placement, below the stack, at the top of the
 * user range, or misaligned. */
static vaddr_t arg_va(struct fz *f, unsigned k)
{
        uint8_t sel = in_u8(&f->in);
        uint64_t idx = in_u16(&f->in) % WIN_PAGES;
        struct vm_space *s = f->sp[k];

        switch (sel % 8) {
        case 4:
                return WIN_BASE + (idx & ~(uint64_t)(HUGE_PAGES - 1)) * P;
        case 5:
                return f->last[k] + (idx % 32) * P;
        case 6:
                return s && s->stack_top ? s->stack_top - (idx % 64 + 1) * P
                                         : WIN_BASE + idx * P;
        case 7:
                return sel & 0x80 ? WIN_BASE + idx * P + (sel >> 3)
                                  : USER_MAX - (idx % 16) * P;
        default:
                return WIN_BASE + idx * P;
        }
}

/* A length: a few pages, sometimes hundreds (past a guard gap) or one or
 * two huge pages' worth, sometimes not page-sized, sometimes 0. */
static uint64_t arg_len(struct fz *f)
{
        uint8_t b = in_u8(&f->in);
        uint64_t len = (b & 0x8c) == 0x8c ? (1 + (b & 1)) * HUGE_PAGES * P
                     : (b & 0x80) ? (1 + in_u16(&f->in) % 600) * P
                                  : (1 + (b & 15)) * P;

        if ((b & 0x70) == 0x70)
                return 0;
        return (b & 0x40) ? len - P / 2 : len;
}

static vm_prot_t arg_prot(struct fz *f)
{
        uint8_t b = in_u8(&f->in);

        return (b & VM_PROT_ALL) | ((b & 0x80) ? 0x8 : 0);  /* 8: invalid */
}

static unsigned arg_map_flags(struct fz *f)
{
        uint8_t b = in_u8(&f->in);
        unsigned flags = (b & 1) ? VM_MAP_SHARED : VM_MAP_PRIVATE;

        flags |= (b & 2) ? VM_MAP_FIXED : 0;
        flags |= (b & 4) ? VM_MAP_FIXED_NOREPLACE : 0;
        flags |= (b & 8) ? VM_MAP_POPULATE : 0;
        flags |= (b & 16) ? VM_MAP_GROWSDOWN : 0;
        flags |= (b & 32) ? VM_MAP_NORESERVE : 0;
        if ((b & 0xc0) == 0x40)
                flags |= VM_MAP_PRIVATE | VM_MAP_SHARED;        /* invalid */
        if ((b & 0xc0) == 0x80)
                flags |= 0x100;                                 /* unknown */
        return flags;
}

/* ---- user accesses ------------------------------------------------------- */

static void activate(struct fz *f, struct vm_space *s)
{
        if (f->active == s)
                return;
        pmap_activate(s ? vm_space_pmap(s) : pmap_kernel());
        f->active = s;
}

/* A user access as the CPU makes it: through the TLB, on a page fault
 * vm_fault() and one retry, which must then succeed. */
static void op_access(struct fz *f)
{
        static const unsigned mmu[] = { SOFTMMU_READ, SOFTMMU_WRITE,
                                        SOFTMMU_EXEC };
        static const vm_prot_t want[] = { VM_PROT_READ, VM_PROT_WRITE,
                                          VM_PROT_EXEC };
        unsigned k, i;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t va = arg_va(f, k);
        uint8_t b = in_u8(&f->in);
        enum softmmu_result mr;
        enum fault_result fr;
        paddr_t pa = 0;

        if (!s)
                return;
        i = b % 3;
        activate(f, s);
        mr = softmmu_access(va, mmu[i], true, &pa);
        if (mr == SOFTMMU_OK)
                goto done;
        if (mr != SOFTMMU_NOT_PRESENT && mr != SOFTMMU_PROTECTION)
                return;         /* non-canonical: a #GP, no fault */
        fr = machine_user_fault(s, va, want[i]);
        trace(f, "space %u: access %u at %#lx: fault result %d", k, i, va, fr);
        if ((unsigned)fr > FAULT_OOM)
                fuzz_fail("op %u: vm_fault returned %d", f->op, fr);
        if (fr != FAULT_RESOLVED)
                return;
        mr = softmmu_access(va, mmu[i], true, &pa);
        if (mr != SOFTMMU_OK)
                fuzz_fail("op %u: %#lx faults again after FAULT_RESOLVED (%d)",
                          f->op, va, mr);
done:
        if (i == 1)             /* the user's store */
                *(uint8_t *)phys_to_virt(pa) = b;
}

/* ---- operations ---------------------------------------------------------- */

static void op_create(struct fz *f)
{
        unsigned k;
        struct vm_space *s = arg_space(f, &k);

        vm_status_t st;

        if (s)
                return;
        st = vm_space_create(&f->sp[k]);
        trace(f, "space %u: create: %s", k, vm_status_name(st));
        status_allowed(f, "vm_space_create", st, S(ENOMEM));
}

static void op_destroy(struct fz *f)
{
        unsigned k;
        struct vm_space *s = arg_space(f, &k);

        if (!s)
                return;
        trace(f, "space %u: destroy", k);
        if (f->active == s)
                activate(f, NULL);
        vm_space_destroy(s);
        f->sp[k] = NULL;
}

/* The child's areas as the parent's: same ranges, rights, kinds. */
static void fork_verify(struct fz *f, struct vm_space *p, struct vm_space *c)
{
        static struct view pv, cv;

        view_take(p, &pv);
        view_take(c, &cv);
        if (pv.nareas != cv.nareas || pv.brk != cv.brk ||
            pv.start_brk != cv.start_brk || pv.stack_top != cv.stack_top)
                fuzz_fail("op %u: the child's layout is not the parent's",
                          f->op);
        for (unsigned i = 0; i < pv.nareas; i++) {
                const struct vm_area_info *a = &pv.area[i], *b = &cv.area[i];

                if (a->start != b->start || a->end != b->end ||
                    a->prot != b->prot || a->flags != b->flags ||
                    a->shared != b->shared || a->object != b->object)
                        fuzz_fail("op %u: child area %#lx-%#lx differs",
                                  f->op, b->start, b->end);
        }
}

static void op_fork(struct fz *f)
{
        static struct view was;
        unsigned k, c;
        struct vm_space *p = arg_space(f, &k), *child = NULL;
        vm_status_t st;

        for (c = 0; c < NSP && f->sp[c]; c++)
                ;
        if (!p || c == NSP)
                return;
        view_take(p, &was);
        st = vm_space_fork(p, &child);
        trace(f, "space %u: fork -> space %u: %s", k, c, vm_status_name(st));
        status_allowed(f, "vm_space_fork", st, S(ENOMEM));
        if (st != VM_OK) {
                view_same(f, "fork", &was, p);
                return;
        }
        f->sp[c] = child;
        f->last[c] = f->last[k];
        fork_verify(f, p, child);
}

static void map_verify(struct fz *f, struct vm_space *s, vaddr_t hint,
                       uint64_t len, vm_prot_t prot, unsigned flags,
                       vaddr_t out)
{
        if (!is_aligned(out, P) || out < s->min ||
            out > s->max - page_round(len))
                fuzz_fail("op %u: map returned %#lx", f->op, out);
        if ((flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) && out != hint)
                fuzz_fail("op %u: FIXED map at %#lx went to %#lx", f->op,
                          hint, out);
        covered(f, "map", s, out, out + page_round(len), (int)prot);
}

static void op_map(struct fz *f, bool file)
{
        static struct view was;
        unsigned k, fi = 0;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t hint = arg_va(f, k), out = 0;
        uint64_t len = arg_len(f), off = 0;
        vm_prot_t prot = arg_prot(f);
        unsigned flags = arg_map_flags(f);
        struct vm_object *obj = NULL;
        vm_status_t st;

        if (file) {
                fi = in_u8(&f->in);
                off = (fi >> 2) % 5 * P + ((fi & 0x80) ? 1 : 0);
                fi %= ARRAY_SIZE(files);
        }
        if (!s)
                return;
        view_take(s, &was);
        st = file ? vm_object_create_file(files[fi].data, files[fi].bytes,
                                          &obj)
                  : VM_OK;
        if (st == VM_OK)
                st = file ? vm_space_map_file(s, hint, len, prot, flags, obj,
                                              off, &out)
                          : vm_space_map(s, hint, len, prot, flags, &out);
        vm_object_unref(obj);           /* the area has its own */
        trace(f, "space %u: map%s(%#lx, %#lx, prot %#x, flags %#x, file %u "
              "off %#lx) = %#lx: %s", k, file ? "_file" : "", hint, len, prot,
              flags, fi, off, out, vm_status_name(st));
        status_allowed(f, "map", st, S(EINVAL) | S(ENOMEM) | S(EACCES) |
                       S(EEXIST));
        if (st != VM_OK) {
                view_same(f, "map", &was, s);
                return;
        }
        f->last[k] = out;
        map_verify(f, s, hint, len, prot, flags, out);
}

static void op_unmap(struct fz *f)
{
        static struct view was;
        unsigned k;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t va = arg_va(f, k);
        uint64_t len = arg_len(f);
        vm_status_t st;

        if (!s)
                return;
        view_take(s, &was);
        st = vm_space_unmap(s, va, len);
        trace(f, "space %u: unmap(%#lx, %#lx): %s", k, va, len,
              vm_status_name(st));
        status_allowed(f, "unmap", st, S(EINVAL) | S(ENOMEM));
        if (st != VM_OK) {
                view_same(f, "unmap", &was, s);
                return;
        }
        unmapped(f, "unmap", s, va, va + page_round(len));
}

static void op_protect(struct fz *f)
{
        static struct view was;
        unsigned k;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t va = arg_va(f, k);
        uint64_t len = arg_len(f);
        vm_prot_t prot = arg_prot(f);
        vm_status_t st;

        if (!s)
                return;
        view_take(s, &was);
        st = vm_space_protect(s, va, len, prot);
        trace(f, "space %u: protect(%#lx, %#lx, %#x): %s", k, va, len, prot,
              vm_status_name(st));
        status_allowed(f, "protect", st, S(EINVAL) | S(EACCES) | S(ENOMEM));
        if (st != VM_OK)
                view_same(f, "protect", &was, s);
        else if (len)
                covered(f, "protect", s, va, va + page_round(len), (int)prot);
}

static void op_remap(struct fz *f)
{
        static struct view was;
        unsigned k;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t old = arg_va(f, k), new_addr = arg_va(f, k), out = 0;
        uint64_t old_len = (in_u8(&f->in) % 9) * P, new_len = arg_len(f);
        unsigned flags = in_u8(&f->in) % 5;     /* 4: unknown */
        vm_status_t st;

        if (!s)
                return;
        view_take(s, &was);
        st = vm_space_remap(s, old, old_len, new_len, flags, new_addr, &out);
        trace(f, "space %u: remap(%#lx, %#lx, %#lx, flags %u, %#lx) = %#lx: "
              "%s", k, old, old_len, new_len, flags, new_addr, out,
              vm_status_name(st));
        status_allowed(f, "remap", st, S(EINVAL) | S(EFAULT) | S(ENOMEM) |
                       S(EACCES));
        if (st != VM_OK) {
                view_same(f, "remap", &was, s);
                return;
        }
        if (!is_aligned(out, P))
                fuzz_fail("op %u: remap returned %#lx", f->op, out);
        if ((flags & VM_REMAP_FIXED) && out != new_addr)
                fuzz_fail("op %u: FIXED remap went to %#lx", f->op, out);
        f->last[k] = out;
        if ((flags & VM_REMAP_FIXED) || page_round(new_len) > old_len)
                covered(f, "remap", s, out, out + page_round(new_len), -1);
        else            /* a shrink, or nothing: holes before are fine */
                unmapped(f, "remap", s, old + page_round(new_len),
                         old + old_len);
}

static void op_advise(struct fz *f)
{
        static const int advice[] = {
                VM_MADV_NORMAL, VM_MADV_RANDOM, VM_MADV_SEQUENTIAL,
                VM_MADV_WILLNEED, VM_MADV_DONTNEED, VM_MADV_DONTNEED,
                VM_MADV_FREE, 5, -1, VM_MADV_HUGEPAGE, VM_MADV_HUGEPAGE,
                VM_MADV_NOHUGEPAGE,
        };
        unsigned k;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t va = arg_va(f, k);
        uint64_t len = arg_len(f);
        int adv = advice[in_u8(&f->in) % ARRAY_SIZE(advice)];

        vm_status_t st;

        if (!s)
                return;
        st = vm_space_advise(s, va, len, adv);
        trace(f, "space %u: advise(%#lx, %#lx, %d): %s", k, va, len, adv,
              vm_status_name(st));
        /* A hole still advises the rest: no "nothing changed" to check. */
        status_allowed(f, "advise", st, S(EINVAL) | S(ENOMEM));
}

static void op_brk(struct fz *f)
{
        static struct view was;
        unsigned k;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t va = arg_va(f, k), want, got;
        uint16_t delta = in_u16(&f->in);
        vm_status_t st;

        if (!s)
                return;
        if (!s->start_brk || (delta & 0xf000) == 0xf000) {
                st = vm_space_brk_init(s, va);
                trace(f, "space %u: brk_init(%#lx): %s", k, va,
                      vm_status_name(st));
                status_allowed(f, "brk_init", st, S(EINVAL));
                return;
        }
        want = s->start_brk + (delta & 0x7fff) * 13 -
               ((delta & 0x8000) ? 1 : 0);     /* start_brk - 1: EINVAL */
        view_take(s, &was);
        st = vm_space_brk(s, want, &got);
        trace(f, "space %u: brk(%#lx) = %#lx: %s", k, want, got,
              vm_status_name(st));
        status_allowed(f, "brk", st, S(EINVAL) | S(ENOENT) | S(ENOMEM));
        if (got != s->brk || (st == VM_OK && s->brk != want))
                fuzz_fail("op %u: brk(%#lx) = %#lx, brk %#lx", f->op, want,
                          got, s->brk);
        if (st != VM_OK)
                view_same(f, "brk", &was, s);
}

static void op_stack(struct fz *f)
{
        static struct view was;
        unsigned k;
        struct vm_space *s = arg_space(f, &k);
        vaddr_t top = arg_va(f, k);
        uint8_t b = in_u8(&f->in);
        vm_status_t st;

        if (!s)
                return;
        if (b & 0x80) {         /* RLIMIT_STACK: a page to 8 MiB */
                vm_space_set_stack_limit(s, (uint64_t)(b & 0x7f) * 16 * P);
                trace(f, "space %u: stack limit %#lx", k, s->stack_limit);
                return;
        }
        top = (b & 0x40) ? USER_MAX : top;
        view_take(s, &was);
        st = vm_space_stack_init(s, top, (1 + (b & 15)) * P);
        trace(f, "space %u: stack_init(%#lx, %#lx): %s", k, top,
              (1 + (b & 15)) * P, vm_status_name(st));
        status_allowed(f, "stack_init", st, S(EINVAL) | S(EEXIST) |
                       S(ENOMEM));
        if (st != VM_OK)
                view_same(f, "stack_init", &was, s);
}

/* Run out of memory: fail the n-th allocation, or take pages away. */
static void op_starve(struct fz *f)
{
        uint8_t b = in_u8(&f->in);
        unsigned n = 1 + in_u8(&f->in);

        trace(f, "starve %u %u (%u pages taken)", b % 4, n, f->nhog);
        switch (b % 4) {
        case 0:
                pmm_fail_after = n % 64;
                break;
        case 1:
                vm_ptpage_fail_after = n % 16;
                break;
        case 2:
                for (unsigned i = 0; i < n * 2 && f->nhog < MAX_HOG; i++) {
                        struct vm_page *pg = pmm_alloc_pages(0, 0);

                        if (!pg)
                                break;
                        f->hog[f->nhog++] = pg;
                }
                break;
        default:
                while (f->nhog > 0 && n-- > 0)
                        pmm_free_pages(f->hog[--f->nhog], 0);
                break;
        }
}

/* ---- one input ----------------------------------------------------------- */

static void fz_setup(struct fz *f, const uint8_t *data, size_t size)
{
        memset(f, 0, sizeof *f);
        f->in = (struct input){ data, size };
        /* The huge-page policy (module state): half the inputs "always",
         * the others Mercator's default "madvise". */
        vm_thp_policy = in_u8(&f->in) % 2 ? VM_THP_ALWAYS : VM_THP_MADVISE;
        host_memory_setup(RAM);
        kmalloc_init(true);
        softmmu_reset();
        pmm_fail_after = 0;
        vm_ptpage_fail_after = 0;
        if (pmap_bootstrap(RAM) != VM_OK)
                fuzz_fail("pmap_bootstrap");
        pmap_activate(pmap_kernel());
        vm_object_init();
        if (vm_zero_page_init() != VM_OK)
                fuzz_fail("vm_zero_page_init");
        kmalloc_shrink();
        f->base.free = pmm_free_count();
        f->base.pt_pages = vmstat.pt_pages;
        f->base.slab = vmstat.slab_pages;
        f->base.large = vmstat.kmalloc_large;
}

/* Huge-page events over the whole run (vmstat starts at 0 with every
 * input's RAM), printed at exit: that the inputs reach them at all. */
static uint64_t thp_allocs, thp_fallbacks, thp_splits;

static void thp_report(void)
{
        fprintf(stderr, "fuzz_vm: %lu huge pages faulted (%lu fell back to "
                "4 KiB), %lu huge translations split\n", thp_allocs,
                thp_fallbacks, thp_splits);
}

static void expect_eq(const char *what, uint64_t got, uint64_t want)
{
        if (got != want)
                fuzz_fail("after teardown, %s is %lu, was %lu (a leak)", what,
                          got, want);
}

/* Destroy everything; every counter must be back at its start. */
static void fz_teardown(struct fz *f)
{
        pmm_fail_after = vm_ptpage_fail_after = 0;
        while (f->nhog > 0)
                pmm_free_pages(f->hog[--f->nhog], 0);
        activate(f, NULL);
        for (unsigned k = 0; k < NSP; k++)
                if (f->sp[k])
                        vm_space_destroy(f->sp[k]);
        thp_allocs += vmstat.thp_fault_alloc;
        thp_fallbacks += vmstat.thp_fault_fallback;
        thp_splits += vmstat.thp_split_pmd;
        kmalloc_shrink();
        expect_eq("vmstat.anon_pages", vmstat.anon_pages, 0);
        expect_eq("vmstat.file_pages", vmstat.file_pages, 0);
        expect_eq("vm_object_file_count()", vm_object_file_count(), 0);
        expect_eq("vmstat.pt_pages", vmstat.pt_pages, f->base.pt_pages);
        expect_eq("vmstat.slab_pages", vmstat.slab_pages, f->base.slab);
        expect_eq("vmstat.kmalloc_large", vmstat.kmalloc_large,
                  f->base.large);
        expect_eq("pmm_free_count()", pmm_free_count(), f->base.free);
        if (!pmm_check() || !kmalloc_check() || !vm_zero_page_check() ||
            !pmap_check(pmap_kernel()))
                fuzz_fail("after teardown, a checker fails");
        host_ram_teardown();    /* nothing of this input survives it */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        tracing = getenv("FUZZ_VM_TRACE") != NULL;
        atexit(thp_report);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz *f = &fz;

        fz_setup(f, data, size);
        for (f->op = 0; f->op < MAX_OPS && f->in.n > 0; f->op++) {
                switch (in_u8(&f->in) % 16) {
                case 0:         op_create(f);           break;
                case 1:         op_destroy(f);          break;
                case 2:         op_fork(f);             break;
                case 3: case 4: op_map(f, false);       break;
                case 5:         op_map(f, true);        break;
                case 6:         op_unmap(f);            break;
                case 7:         op_protect(f);          break;
                case 8:         op_remap(f);            break;
                case 9:         op_advise(f);           break;
                case 10:        op_brk(f);              break;
                case 11:        op_stack(f);            break;
                case 12:        op_starve(f);           break;
                default:        op_access(f);           break;
                }
                check_all(f);
        }
        fz_teardown(f);
        return 0;
}
