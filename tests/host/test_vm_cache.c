/*
 * test_vm_cache.c - the page cache's object model (CONCEPTS E23, F29)
 * against a reference model, under ASan+UBSan, with allocation failure
 * injected at every step.
 *
 * One page-cache object (vm_object_create_cache(), with an immutable
 * source as an initramfs file has) is mapped shared and private into two
 * spaces. A seeded random sequence then writes the file the way write()
 * does (grow, then fill the object's pages), truncates it (unmap from
 * every space, then resize), punches holes, stores and loads through the
 * shared and the private mappings, drops pages with DONTNEED, and at some
 * point lets go of the file's own reference (unlink while mapped). A byte
 * model says what every access must see: the file's bytes (zeroes past
 * the end of the last page, SIGBUS past it) through shared mappings and
 * private pages not yet copied, the private copy once made (until a
 * truncate passes its page: then it goes too, as Linux's even_cows).
 *
 * Then the same sequence again with the N-th page allocation failing
 * (pmm_fail_after), for every N until a run makes fewer allocations: each
 * step either succeeds or fails with VM_ENOMEM / FAULT_OOM, every checker
 * passes after it, and the step retried succeeds; the run must end in the
 * reference's state with every page back after teardown.
 */
#include "vm_fixture.h"

#include <vm/kmalloc.h>
#include <vm/vm_object.h>
#include <vm/vmstat.h>

#include <string.h>

#define RAM             (16 * MiB)
#define NPAGES          8
#define MAXB            (NPAGES * P)
#define NSP             2
#define STEPS           400
#define SRC_BYTES       (3 * P + 100)

static vaddr_t shared_va(unsigned s) { return 0x10000000UL + s * 0x1000000UL; }
static vaddr_t priv_va(unsigned s) { return 0x18000000UL + s * 0x1000000UL; }

enum kind { WRITE, TRUNC, HOLE, SREAD, SWRITE, PREAD, PWRITE, SDROP, PDROP,
            UNLINK, NKINDS };

struct op {
        enum kind kind;
        unsigned  s;
        uint64_t  off, len;
        uint8_t   byte;
};

static struct op ops[STEPS];
static uint8_t src[SRC_BYTES];

struct model {
        uint8_t  data[MAXB];
        uint64_t size;
        bool     copied[NSP][NPAGES];
        uint8_t  priv[NSP][NPAGES][P];
        bool     unlinked;
};

static struct model m;
static struct vm_object *obj;
static struct vm_space *sp[NSP];

static uint64_t rng;
static uint64_t next(void)
{
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        return rng;
}

static void make_ops(uint64_t seed)
{
        rng = seed;
        for (unsigned i = 0; i < SRC_BYTES; i++)
                src[i] = (uint8_t)(next() | 1);
        for (unsigned i = 0; i < STEPS; i++) {
                struct op *o = &ops[i];
                o->kind = (enum kind)(next() % (NKINDS - 1));
                if (i == STEPS * 3 / 4)
                        o->kind = UNLINK;
                o->s = (unsigned)(next() % NSP);
                o->off = next() % MAXB;
                o->len = 1 + next() % (2 * P);
                o->byte = (uint8_t)next();
                if (o->kind == TRUNC)
                        o->off = next() % 3 ? next() % MAXB : next() % (MAXB / 4);
        }
}

static uint64_t pages_of(uint64_t bytes)
{
        return page_round(bytes) >> PAGE_SHIFT;
}

/* ---- the operations on the real thing; VM_ENOMEM means "retry" ------ */

static vm_status_t do_write(uint64_t off, uint64_t len, uint8_t byte)
{
        vm_status_t st;

        if (off + len > obj->bytes && (st = vm_object_resize(obj, off + len)) != VM_OK)
                return st;
        for (uint64_t pos = off; pos < off + len;) {
                uint64_t idx = pos >> PAGE_SHIFT, in = pos & PAGE_MASK;
                uint64_t n = MIN(P - in, off + len - pos);
                struct vm_page *pg;
                if ((st = vm_object_get_page(obj, idx, &pg)) != VM_OK)
                        return st;
                uint8_t *p = pmap_quick_enter_page(pmm_page_to_pa(pg));
                memset(p + in, byte, n);
                pmap_quick_remove_page(p);
                pos += n;
        }
        return VM_OK;
}

static vm_status_t do_trunc(uint64_t size)
{
        if (size < obj->bytes)
                vm_spaces_unmap_object(obj, pages_of(size), pages_of(obj->bytes), true);
        return vm_object_resize(obj, size);
}

static vm_status_t do_hole(uint64_t first, uint64_t end)
{
        vm_spaces_unmap_object(obj, first, end, false);
        return vm_object_punch_hole(obj, first, end);
}

/* A one-byte user access; FAULT_* result, *byte read or written. */
static enum fault_result access_byte(struct vm_space *s, vaddr_t va,
                                     bool write, uint8_t *byte)
{
        paddr_t pa = 0;
        enum fault_result fr = user_access(s, va, write ? W : R, &pa);

        if (fr != FAULT_RESOLVED)
                return fr;
        uint8_t *p = pmap_quick_enter_page(page_trunc(pa));
        if (write)
                p[pa & PAGE_MASK] = *byte;
        else
                *byte = p[pa & PAGE_MASK];
        pmap_quick_remove_page(p);
        return FAULT_RESOLVED;
}

/* ---- the model's view ------------------------------------------------- */

static uint8_t file_byte(uint64_t off)
{
        return off < m.size ? m.data[off] : 0;
}

/* What a load through space s must give: FAULT_BUS or the byte. */
static enum fault_result expect_load(unsigned s, bool shared, uint64_t off,
                                     uint8_t *byte)
{
        uint64_t k = off >> PAGE_SHIFT;

        if (!shared && m.copied[s][k]) {
                *byte = m.priv[s][k][off & PAGE_MASK];
                return FAULT_RESOLVED;
        }
        if (k >= pages_of(m.size))
                return FAULT_BUS;
        *byte = file_byte(off);
        return FAULT_RESOLVED;
}

static void model_apply(const struct op *o)
{
        uint64_t k = o->off >> PAGE_SHIFT;

        switch (o->kind) {
        case WRITE: {
                uint64_t end = MIN(o->off + o->len, (uint64_t)MAXB);
                memset(m.data + o->off, o->byte, end - o->off);
                m.size = MAX(m.size, end);
                break;
        }
        case TRUNC:
                if (o->off < m.size)
                        memset(m.data + o->off, 0, m.size - o->off);
                /* private copies of pages wholly past the end go too */
                if (o->off < m.size)
                        for (unsigned s = 0; s < NSP; s++)
                                for (uint64_t i = pages_of(o->off); i < pages_of(m.size); i++)
                                        m.copied[s][i] = false;
                m.size = o->off;
                break;
        case HOLE: {
                uint64_t first = k, end = MIN(k + 1 + o->len / P, (uint64_t)NPAGES);
                for (uint64_t i = first; i < end; i++)
                        for (uint64_t b = i * P; b < (i + 1) * P && b < m.size; b++)
                                m.data[b] = 0;
                break;
        }
        case SWRITE:
                m.data[o->off] = o->byte;
                break;
        case PWRITE:
                if (!m.copied[o->s][k]) {
                        for (uint64_t b = 0; b < P; b++)
                                m.priv[o->s][k][b] = file_byte(k * P + b);
                        m.copied[o->s][k] = true;
                }
                m.priv[o->s][k][o->off & PAGE_MASK] = o->byte;
                break;
        case PDROP:
                memset(m.copied[o->s], 0, sizeof m.copied[o->s]);
                break;
        case UNLINK:
                m.unlinked = true;
                break;
        default:
                break;
        }
}

/* Would op o be refused by the model (a store past the end)? Then it is
 * done as a load that must fault, and the model stays. */
static bool op_applies(const struct op *o)
{
        uint64_t k = o->off >> PAGE_SHIFT;

        switch (o->kind) {
        case WRITE: case TRUNC: case HOLE: case UNLINK:
                return !m.unlinked;
        case SWRITE:
                return o->off < m.size;
        case PWRITE:
                return m.copied[o->s][k] || k < pages_of(m.size);
        default:
                return true;
        }
}

/* ---- one run ----------------------------------------------------------- */

static void check_all(void)
{
        if (!m.unlinked)
                CHECK(vm_object_check(obj));
        for (unsigned s = 0; s < NSP; s++)
                CHECK(vm_space_check(sp[s]));
}

/* Every byte of interest through every mapping. */
static void compare_all(void)
{
        for (unsigned s = 0; s < NSP; s++) {
                for (uint64_t off = 0; off < MAXB; off += 397) {
                        for (int shared = 0; shared < 2; shared++) {
                                uint8_t want = 0, got = 0;
                                enum fault_result fw = expect_load(s, shared, off, &want);
                                vaddr_t va = (shared ? shared_va(s) : priv_va(s)) + off;
                                enum fault_result fr;
                                while ((fr = access_byte(sp[s], va, false, &got)) == FAULT_OOM)
                                        ;
                                CHECK_EQ(fr, fw);
                                if (fr == FAULT_RESOLVED)
                                        CHECK_EQ(got, want);
                        }
                }
        }
}

/* Run one step; with injection, a VM_ENOMEM/FAULT_OOM step is retried. */
static void step(const struct op *o, bool injecting, uint64_t *failures)
{
        struct vm_space *s = sp[o->s];
        bool applies = op_applies(o);
        uint64_t k = o->off >> PAGE_SHIFT;

        for (;;) {
                vm_status_t st = VM_OK;
                enum fault_result fr = FAULT_RESOLVED, fw;
                uint8_t b = o->byte, want = 0;

                switch (o->kind) {
                case WRITE:
                        if (applies)
                                st = do_write(o->off, MIN(o->len, MAXB - o->off), o->byte);
                        break;
                case TRUNC:
                        if (applies)
                                st = do_trunc(o->off);
                        break;
                case HOLE:
                        if (applies)
                                st = do_hole(k, MIN(k + 1 + o->len / P, (uint64_t)NPAGES));
                        break;
                case UNLINK:
                        if (applies)
                                vm_object_unref(obj);
                        break;
                case SREAD: case PREAD:
                        fw = expect_load(o->s, o->kind == SREAD, o->off, &want);
                        fr = access_byte(s, (o->kind == SREAD ? shared_va(o->s)
                                                               : priv_va(o->s)) + o->off,
                                         false, &b);
                        if (fr != FAULT_OOM) {
                                CHECK_EQ(fr, fw);
                                if (fr == FAULT_RESOLVED)
                                        CHECK_EQ(b, want);
                        }
                        break;
                case SWRITE: case PWRITE: {
                        vaddr_t va = (o->kind == SWRITE ? shared_va(o->s) : priv_va(o->s)) + o->off;
                        if (applies) {
                                fr = access_byte(s, va, true, &b);
                                if (fr != FAULT_OOM)
                                        CHECK_EQ(fr, FAULT_RESOLVED);
                        } else if (o->kind == PWRITE || k >= pages_of(m.size)) {
                                fr = access_byte(s, va, true, &b);
                                if (fr != FAULT_OOM)
                                        CHECK_EQ(fr, FAULT_BUS);
                        }
                        /* (a shared store past the end inside the last page
                         * is left out: what it leaves is unspecified) */
                        break;
                }
                case SDROP: case PDROP:
                        st = vm_space_advise(s, o->kind == SDROP ? shared_va(o->s) : priv_va(o->s),
                                             MAXB, VM_MADV_DONTNEED);
                        break;
                default:
                        break;
                }
                check_all();
                if (st == VM_OK && fr != FAULT_OOM)
                        break;
                CHECK(injecting);
                CHECK(st == VM_OK || st == VM_ENOMEM);
                (*failures)++;
        }
        if (applies)
                model_apply(o);
        if (!m.unlinked)
                CHECK_EQ(obj->bytes, m.size);
}

/* The whole sequence; with fail_at > 0 the fail_at-th page allocation
 * fails. => whether that allocation happened (else the run is the last). */
static bool run(uint64_t seed, uint64_t fail_at)
{
        uint64_t failures = 0;
        bool fired;

        setup(RAM);
        make_ops(seed);
        memset(&m, 0, sizeof m);
        memcpy(m.data, src, SRC_BYTES);
        m.size = SRC_BYTES;
        CHECK_EQ(vm_object_create_cache(src, SRC_BYTES, &obj), VM_OK);
        for (unsigned s = 0; s < NSP; s++) {
                vaddr_t at;
                sp[s] = new_space();
                CHECK_EQ(vm_space_map_file(sp[s], shared_va(s), MAXB, RW,
                                           SHARED | FIXED | VM_MAP_MAYWRITE, obj, 0, &at), VM_OK);
                CHECK_EQ(vm_space_map_file(sp[s], priv_va(s), MAXB, RW,
                                           PRIV | FIXED, obj, 0, &at), VM_OK);
        }
        pmm_fail_after = fail_at;
        for (unsigned i = 0; i < STEPS; i++) {
                step(&ops[i], fail_at != 0, &failures);
                if (fail_at == 0 && i % 16 == 0)
                        compare_all();
        }
        fired = fail_at == 0 || pmm_fail_after == 0;
        pmm_fail_after = 0;
        compare_all();
        for (unsigned s = 0; s < NSP; s++)
                destroy(sp[s]);
        if (!m.unlinked)
                vm_object_unref(obj);
        CHECK_EQ(vmstat.shmem_pages, 0);
        check_baseline();
        host_ram_teardown();
        return fired;
}

TEST(reference_model_seed1)
{
        run(0x5eed1, 0);
}

TEST(reference_model_seed2)
{
        run(0xfeedbeef, 0);
}

TEST(reference_model_seed3)
{
        run(0x123456789, 0);
}

/* A quota (a tmpfs mount's size=) bounds the pages its objects hold: the
 * page past it is VM_ENOSPC from get_page and SIGBUS for a shared
 * mapping's fault; freed pages make room again; the pages held move with
 * vm_object_set_quota and leave with the object. */
TEST(quota_bounds_resident_pages)
{
        struct vm_quota q = { .used = 0, .limit = 3 };
        struct vm_object *a, *b;
        struct vm_page *pg;
        struct vm_space *s;
        paddr_t pa;
        vaddr_t at, va = shared_va(0);

        setup(RAM);
        CHECK_EQ(vm_object_create_cache(NULL, 0, &a), VM_OK);
        CHECK_EQ(vm_object_create_cache(NULL, 0, &b), VM_OK);
        CHECK_EQ(vm_object_resize(a, 8 * P), VM_OK);
        CHECK_EQ(vm_object_resize(b, 8 * P), VM_OK);
        CHECK_EQ(vm_object_get_page(a, 0, &pg), VM_OK);
        vm_object_set_quota(a, &q);             /* brings its page along */
        vm_object_set_quota(b, &q);
        CHECK_EQ(q.used, 1);
        CHECK_EQ(vm_object_get_page(b, 0, &pg), VM_OK);
        CHECK_EQ(vm_object_get_page(a, 1, &pg), VM_OK);
        CHECK_EQ(q.used, 3);
        CHECK_EQ(vm_object_get_page(b, 1, &pg), VM_ENOSPC);
        CHECK_EQ(vm_object_get_page(a, 1, &pg), VM_OK); /* resident: no charge */
        s = new_space();
        CHECK_EQ(vm_space_map_file(s, va, 8 * P, RW, SHARED | FIXED | VM_MAP_MAYWRITE,
                                   b, 0, &at), VM_OK);
        CHECK_EQ(user_access(s, va + 2 * P, W, &pa), FAULT_BUS);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_NO_SPACE);
        CHECK_EQ(user_access(s, va, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(vm_object_free_range(a, 0, 1), 1);
        CHECK_EQ(q.used, 2);
        CHECK_EQ(user_access(s, va + 2 * P, W, &pa), FAULT_RESOLVED);
        CHECK_EQ(q.used, 3);
        CHECK(vm_object_check(a) && vm_object_check(b));
        destroy(s);
        vm_object_set_quota(a, NULL);
        CHECK_EQ(q.used, 2);
        vm_object_unref(a);
        vm_object_unref(b);
        CHECK_EQ(q.used, 0);
        check_baseline();
        host_ram_teardown();
}

TEST(every_allocation_fails_once)
{
        uint64_t n;

        for (n = 1; run(0x5eed1, n); n++)
                ;
        printf("    %lu runs, one failed allocation each\n", (unsigned long)n - 1);
        CHECK(n > 10);
}
