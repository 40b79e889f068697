/*
 * test_elf.c - the ELF loader's validation and plan, on real binaries
 * built by musl-gcc (tests/host/mkfixtures.sh), on malformed variants of
 * them, under random mutation, and against what Linux itself did when it
 * loaded the same files.
 */
#define _DEFAULT_SOURCE                 /* readlink, fork: fixture.h */
#include "check.h"
#include "fixtures/fixture.h"

#include <exec/elf.h>
#include <exec/ustack.h>

/* A file in memory: exactly len bytes, so ASan sees reads past the end. */
struct blob {
        uint8_t *p;
        size_t   len;
};

static struct blob blob_load(const char *name)
{
        struct blob b;

        b.p = fixture_load(name, &b.len);
        return b;
}

static struct blob blob_copy(const struct blob *b)
{
        struct blob c = { malloc(b->len ? b->len : 1), b->len };

        CHECK(c.p != NULL);
        memcpy(c.p, b->p, b->len);
        return c;
}

static void blob_resize(struct blob *b, size_t len)
{
        uint8_t *p = malloc(len ? len : 1);

        CHECK(p != NULL);
        memcpy(p, b->p, MIN(len, b->len));
        if (len > b->len)
                memset(p + b->len, 0, len - b->len);
        free(b->p);
        b->p = p;
        b->len = len;
}

static struct elf64_ehdr get_ehdr(const struct blob *b)
{
        struct elf64_ehdr eh;

        memcpy(&eh, b->p, sizeof eh);
        return eh;
}

static void put_ehdr(struct blob *b, const struct elf64_ehdr *eh)
{
        memcpy(b->p, eh, sizeof *eh);
}

static struct elf64_phdr get_phdr(const struct blob *b, unsigned i)
{
        struct elf64_ehdr eh = get_ehdr(b);
        struct elf64_phdr ph;

        memcpy(&ph, b->p + eh.e_phoff + i * sizeof ph, sizeof ph);
        return ph;
}

static void put_phdr(struct blob *b, unsigned i, const struct elf64_phdr *ph)
{
        struct elf64_ehdr eh = get_ehdr(b);

        memcpy(b->p + eh.e_phoff + i * sizeof *ph, ph, sizeof *ph);
}

/* Index of the k-th program header of `type`; fails the test if none. */
static unsigned find_phdr(const struct blob *b, uint32_t type, unsigned k)
{
        struct elf64_ehdr eh = get_ehdr(b);

        for (unsigned i = 0; i < eh.e_phnum; i++)
                if (get_phdr(b, i).p_type == type && k-- == 0)
                        return i;
        check_fail(__FILE__, __LINE__, "no program header of type %#x", type);
}

static enum elf_error plan_of(const struct blob *b, uint64_t dyn_offset,
                              struct elf_plan *plan)
{
        return elf_plan_build(b->p, b->len, dyn_offset, plan);
}

/* The file offset that the plan loads at va (the byte must be file-backed). */
static uint64_t file_off_of(const struct elf_plan *p, uint64_t va)
{
        for (unsigned k = 0; k < p->nsegs; k++) {
                const struct elf_segment *s = &p->segs[k];

                if (va >= s->map_start && va < s->map_start + s->file_len)
                        return s->file_off + (va - s->map_start);
        }
        check_fail(__FILE__, __LINE__, "VA %#llx not file-backed",
                   (unsigned long long)va);
}

/*
 * Hold the plan against the program headers, read independently: one
 * segment per PT_LOAD, with the right pages, file bytes, bss and rights.
 */
static void check_plan_matches_file(const struct blob *b,
                                    const struct elf_plan *p)
{
        struct elf64_ehdr eh = get_ehdr(b);
        unsigned k = 0;

        CHECK(elf_plan_check(p));
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                struct elf64_phdr ph = get_phdr(b, i);
                if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
                        continue;
                const struct elf_segment *s = &p->segs[k++];
                uint64_t va = ph.p_vaddr + p->load_bias;
                CHECK_EQ(s->map_start, va & ~PAGE_MASK);
                CHECK_EQ(s->map_end, (va + ph.p_memsz + PAGE_MASK) & ~PAGE_MASK);
                CHECK_EQ(s->file_off, ph.p_offset & ~PAGE_MASK);
                CHECK_EQ(s->file_len, (ph.p_offset & PAGE_MASK) + ph.p_filesz);
                CHECK_EQ(s->zero_start, va + ph.p_filesz);
                CHECK_EQ(s->zero_end, ph.p_memsz > ph.p_filesz ? s->map_end
                                                                : s->zero_start);
                CHECK_EQ(s->prot, ((ph.p_flags & PF_R) ? VM_PROT_READ : 0) |
                                  ((ph.p_flags & PF_W) ? VM_PROT_WRITE : 0) |
                                  ((ph.p_flags & PF_X) ? VM_PROT_EXEC : 0));
                /* the bytes the plan copies are the segment's own */
                CHECK(s->file_off + s->file_len <= b->len);
        }
        CHECK_EQ(p->nsegs, k);
        CHECK_EQ(p->entry, eh.e_entry + p->load_bias);
        CHECK_EQ(p->phnum, eh.e_phnum);
        CHECK_EQ(p->phentsize, 56);
        /* AT_PHDR: the loaded bytes there are the program header table */
        CHECK_EQ(file_off_of(p, p->phdr_va), eh.e_phoff);
        CHECK_EQ(p->brk_start, p->segs[p->nsegs - 1].map_end);
}

/* hello-static: R, R-X, R, RW- with bss, at 0x400000, like ld lays it. */
TEST(static_plan)
{
        struct blob b = blob_load("hello-static");
        struct elf_plan p;
        static const vm_prot_t prots[] = {
                VM_PROT_READ, VM_PROT_READ | VM_PROT_EXEC, VM_PROT_READ,
                VM_PROT_RW,
        };

        CHECK_EQ(plan_of(&b, 0, &p), ELF_OK);
        CHECK_EQ(p.type, ET_EXEC);
        CHECK_EQ(p.load_bias, 0);
        CHECK_EQ(p.bad_phdr, -1);
        CHECK_EQ(p.nsegs, 4);
        for (unsigned k = 0; k < 4; k++)
                CHECK_EQ(p.segs[k].prot, prots[k]);
        CHECK_EQ(p.segs[0].map_start, 0x400000);
        CHECK_EQ(p.phdr_va, 0x400000 + get_ehdr(&b).e_phoff);
        CHECK(!p.stack_exec);
        /* the data segment: file bytes, then a bss over several pages */
        const struct elf_segment *d = &p.segs[3];
        CHECK(d->zero_end - d->zero_start > 20000);
        CHECK(d->zero_start & PAGE_MASK);       /* a partial page to clear */
        check_plan_matches_file(&b, &p);
        /* a dyn_offset means nothing to ET_EXEC */
        struct elf_plan q;
        CHECK_EQ(plan_of(&b, 0x12345000, &q), ELF_OK);
        CHECK(memcmp(&p, &q, sizeof p) == 0);
        free(b.p);
}

/* hello-static-pie: ET_DYN placed at ELF_ET_DYN_BASE, as Linux would. */
TEST(static_pie_plan)
{
        struct blob b = blob_load("hello-static-pie");
        struct elf_plan p;

        CHECK_EQ(plan_of(&b, 0, &p), ELF_OK);
        CHECK_EQ(p.type, ET_DYN);
        CHECK_EQ(ELF_ET_DYN_BASE, 0x555555554aaaUL);
        CHECK_EQ(p.load_bias, 0x555555554000UL);
        CHECK_EQ(p.segs[0].map_start, 0x555555554000UL);
        CHECK_EQ(p.nsegs, 4);
        CHECK_EQ(p.segs[1].prot, VM_PROT_READ | VM_PROT_EXEC);
        CHECK_EQ(p.segs[3].prot, VM_PROT_RW);
        check_plan_matches_file(&b, &p);

        /* a random offset moves the whole image, page-aligned */
        CHECK_EQ(plan_of(&b, 0x12345000, &p), ELF_OK);
        CHECK_EQ(p.load_bias, 0x555567899000UL);
        check_plan_matches_file(&b, &p);
        CHECK_EQ(plan_of(&b, 0x777, &p), ELF_OK);
        CHECK_EQ(p.load_bias, 0x555555555000UL);
        check_plan_matches_file(&b, &p);
        /* ... but never out of the user range */
        CHECK_EQ(plan_of(&b, 0x400000000000UL, &p), ELF_E_SEG_RANGE);
        free(b.p);
}

/* A big power-of-two p_align aligns a PIE's bias, as Linux does. */
TEST(static_pie_alignment)
{
        struct blob b = blob_load("hello-static-pie");
        unsigned i = find_phdr(&b, PT_LOAD, 1);
        struct elf64_phdr ph = get_phdr(&b, i);
        struct elf_plan p;

        ph.p_align = 0x200000;
        put_phdr(&b, i, &ph);
        CHECK_EQ(plan_of(&b, 0, &p), ELF_OK);
        CHECK_EQ(p.load_bias, 0x555555400000UL);
        check_plan_matches_file(&b, &p);
        ph.p_align = 0x3000;            /* not a power of two: ignored */
        put_phdr(&b, i, &ph);
        CHECK_EQ(plan_of(&b, 0, &p), ELF_OK);
        CHECK_EQ(p.load_bias, 0x555555554000UL);
        free(b.p);
}

/* A dynamic PIE is planned like a static one, and the plan says where
 * its interpreter's path lies: musl's, as musl-gcc links it. */
TEST(dynamic_binary_names_its_interpreter)
{
        struct blob b = blob_load("hello-dynamic");
        struct elf64_phdr ph = get_phdr(&b, find_phdr(&b, PT_INTERP, 0));
        struct elf_plan p;

        CHECK_EQ(plan_of(&b, 0, &p), ELF_OK);
        check_plan_matches_file(&b, &p);
        CHECK_EQ(p.interp_off, ph.p_offset);
        CHECK_EQ(p.interp_len, ph.p_filesz);
        CHECK(strcmp((const char *)b.p + p.interp_off,
                     "/lib/ld-musl-x86_64.so.1") == 0);
        CHECK(strstr(elf_error_message(ELF_E_INTERP), "PT_INTERP") != NULL);
        free(b.p);
}

/* A static program has no interpreter. */
TEST(static_binary_has_no_interpreter)
{
        struct blob b = blob_load("hello-static");
        struct elf_plan p;

        CHECK_EQ(plan_of(&b, 0, &p), ELF_OK);
        CHECK_EQ(p.interp_len, 0);
        free(b.p);
}

/* elf_plan_offset_for gives the offset that makes the bias asked for: how
 * exec places an interpreter where the mmap area had room. */
TEST(offset_for_places_the_bias)
{
        struct blob b = blob_load("hello-dynamic");
        struct elf_plan p, q;
        vaddr_t want = (USER_MAX / 2) & ~(vaddr_t)0xffff;  /* any format */

        CHECK_EQ(plan_of(&b, 0, &p), ELF_OK);
        CHECK_EQ(plan_of(&b, elf_plan_offset_for(&p, want), &q), ELF_OK);
        CHECK_EQ(q.load_bias, want);
        CHECK_EQ(q.segs[0].map_start, want + (p.segs[0].map_start - p.load_bias));
        check_plan_matches_file(&b, &q);
        free(b.p);
}

/* --- malformed variants of a real binary --------------------------------- */

static void set_ident(struct blob *b, unsigned i, uint8_t v) { b->p[i] = v; }

#define EH_FIELD(fn, field, val)                                        \
        static void fn(struct blob *b)                                  \
        {                                                               \
                struct elf64_ehdr eh = get_ehdr(b);                     \
                eh.field = val;                                         \
                put_ehdr(b, &eh);                                       \
        }
#define PH_FIELD(fn, type, k, field, expr)                              \
        static void fn(struct blob *b)                                  \
        {                                                               \
                unsigned i = find_phdr(b, type, k);                     \
                struct elf64_phdr ph = get_phdr(b, i);                  \
                ph.field = expr;                                        \
                put_phdr(b, i, &ph);                                    \
        }

static void m_truncate_40(struct blob *b) { blob_resize(b, 40); }
static void m_truncate_0(struct blob *b) { blob_resize(b, 0); }
static void m_truncate_phdrs(struct blob *b) { blob_resize(b, 64 + 100); }
static void m_truncate_segs(struct blob *b) { blob_resize(b, 0x3000); }
static void m_magic(struct blob *b) { set_ident(b, 1, 'X'); }
static void m_class32(struct blob *b) { set_ident(b, EI_CLASS, 1); }
static void m_bigendian(struct blob *b) { set_ident(b, EI_DATA, 2); }
static void m_identver(struct blob *b) { set_ident(b, EI_VERSION, 0); }
EH_FIELD(m_version, e_version, 2)
EH_FIELD(m_type_rel, e_type, 1)
EH_FIELD(m_type_core, e_type, 4)
EH_FIELD(m_machine, e_machine, 3)
EH_FIELD(m_phentsize, e_phentsize, 32)
EH_FIELD(m_phnum0, e_phnum, 0)
EH_FIELD(m_phnum_max, e_phnum, 0xffff)
EH_FIELD(m_phnum_past_file, e_phnum, 1000)
EH_FIELD(m_phoff_wrap, e_phoff, 0xffffffffffffff00UL)
EH_FIELD(m_entry_rodata, e_entry, 0x405000)
EH_FIELD(m_entry_zero, e_entry, 0)
static void m_phoff_end(struct blob *b)
{
        struct elf64_ehdr eh = get_ehdr(b);

        eh.e_phoff = b->len - 10;
        put_ehdr(b, &eh);
}
static void m_phoff_past_end(struct blob *b)
{
        struct elf64_ehdr eh = get_ehdr(b);

        eh.e_phoff = b->len + 8;
        put_ehdr(b, &eh);
}
PH_FIELD(m_filesz_gt_memsz, PT_LOAD, 1, p_memsz, ph.p_filesz - 1)
PH_FIELD(m_offset_misaligned, PT_LOAD, 1, p_offset, ph.p_offset + 1)
PH_FIELD(m_vaddr_misaligned, PT_LOAD, 1, p_vaddr, ph.p_vaddr + 8)
PH_FIELD(m_offset_wrap, PT_LOAD, 1, p_offset, 0xfffffffffffff000UL)
PH_FIELD(m_filesz_huge, PT_LOAD, 3, p_filesz, 0x7fffffffffffffffUL)
PH_FIELD(m_kernel_half, PT_LOAD, 1, p_vaddr, 0xffffffff80001000UL)
PH_FIELD(m_below_user_min, PT_LOAD, 0, p_vaddr, 0)
PH_FIELD(m_memsz_wrap, PT_LOAD, 3, p_memsz, 0xffffffffffff0000UL)
PH_FIELD(m_straddle_top, PT_LOAD, 3, p_vaddr,
         0x7ffffffff000UL - 0x1000 + (ph.p_vaddr & PAGE_MASK))
PH_FIELD(m_overlap, PT_LOAD, 3, p_vaddr,
         get_phdr(b, find_phdr(b, PT_LOAD, 2)).p_vaddr +
         (ph.p_vaddr & PAGE_MASK))
PH_FIELD(m_unsorted, PT_LOAD, 1, p_vaddr, 0x300000)
PH_FIELD(m_interp, PT_GNU_STACK, 0, p_type, PT_INTERP)
/* The path without its NUL: the last byte of PT_INTERP made a letter. */
static void m_interp_unterminated(struct blob *b)
{
        struct elf64_phdr ph = get_phdr(b, find_phdr(b, PT_INTERP, 0));

        b->p[ph.p_offset + ph.p_filesz - 1] = 'x';
}
PH_FIELD(m_interp_long, PT_INTERP, 0, p_filesz, 4097)
PH_FIELD(m_interp_short, PT_INTERP, 0, p_filesz, 1)
PH_FIELD(m_phdr_mismatch, PT_GNU_STACK, 0, p_type, PT_PHDR)
static void m_no_load(struct blob *b)
{
        for (unsigned k = 0; k < 4; k++) {
                unsigned i = find_phdr(b, PT_LOAD, 0);
                struct elf64_phdr ph = get_phdr(b, i);
                ph.p_type = PT_NOTE;
                put_phdr(b, i, &ph);
        }
}
/* Copy the table to the end of the file, where no segment loads it. */
static void move_phdrs(struct blob *b, unsigned phnum)
{
        struct elf64_ehdr eh = get_ehdr(b);
        size_t old = b->len, at = (old + 7) & ~(size_t)7;

        blob_resize(b, at + phnum * sizeof(struct elf64_phdr));
        for (unsigned i = 0; i < phnum; i++)
                memcpy(b->p + at + i * 56,
                       b->p + eh.e_phoff + (i % eh.e_phnum) * 56, 56);
        eh.e_phoff = at;
        eh.e_phnum = (uint16_t)phnum;
        put_ehdr(b, &eh);
}
static void m_phdr_unloaded(struct blob *b) { move_phdrs(b, get_ehdr(b).e_phnum); }
static void m_too_many_loads(struct blob *b)
{
        move_phdrs(b, 6);
        blob_resize(b, b->len + 20 * 56);
        struct elf64_ehdr eh = get_ehdr(b);
        struct elf64_phdr load = get_phdr(b, find_phdr(b, PT_LOAD, 0));
        for (unsigned i = 6; i < 26; i++)
                put_phdr(b, i, &load);
        eh.e_phnum = 26;
        put_ehdr(b, &eh);
}

struct malformed {
        const char     *name;
        const char     *fixture;
        void          (*mutate)(struct blob *b);
        enum elf_error  want;
        int             bad_phdr;       /* -2: do not check */
};

#define STATIC  "hello-static"
#define PIE     "hello-static-pie"

static const struct malformed malformed[] = {
        { "truncated to 40 bytes", STATIC, m_truncate_40, ELF_E_TRUNCATED, -1 },
        { "empty file", STATIC, m_truncate_0, ELF_E_TRUNCATED, -1 },
        { "truncated in the phdrs", STATIC, m_truncate_phdrs, ELF_E_PHOFF, -1 },
        { "truncated in a segment", STATIC, m_truncate_segs, ELF_E_SEG_FILE, 1 },
        { "bad magic", STATIC, m_magic, ELF_E_MAGIC, -1 },
        { "32-bit class", STATIC, m_class32, ELF_E_CLASS, -1 },
        { "big-endian", STATIC, m_bigendian, ELF_E_DATA, -1 },
        { "EI_VERSION 0", STATIC, m_identver, ELF_E_VERSION, -1 },
        { "e_version 2", STATIC, m_version, ELF_E_VERSION, -1 },
        { "ET_REL", STATIC, m_type_rel, ELF_E_TYPE, -1 },
        { "ET_CORE", PIE, m_type_core, ELF_E_TYPE, -1 },
        { "EM_386", STATIC, m_machine, ELF_E_MACHINE, -1 },
        { "phentsize 32", STATIC, m_phentsize, ELF_E_PHENTSIZE, -1 },
        { "phnum 0", STATIC, m_phnum0, ELF_E_PHNUM, -1 },
        { "phnum 65535", STATIC, m_phnum_max, ELF_E_PHNUM, -1 },
        { "phnum past the file", STATIC, m_phnum_past_file, ELF_E_PHOFF, -1 },
        { "phoff wraps", STATIC, m_phoff_wrap, ELF_E_PHOFF, -1 },
        { "phoff at the end", STATIC, m_phoff_end, ELF_E_PHOFF, -1 },
        { "phoff past the end", STATIC, m_phoff_past_end, ELF_E_PHOFF, -1 },
        { "filesz > memsz", STATIC, m_filesz_gt_memsz, ELF_E_SEG_FILESZ, 1 },
        { "offset misaligned", STATIC, m_offset_misaligned, ELF_E_SEG_ALIGN, 1 },
        { "vaddr misaligned", PIE, m_vaddr_misaligned, ELF_E_SEG_ALIGN, 1 },
        { "offset wraps", STATIC, m_offset_wrap, ELF_E_SEG_FILE, 1 },
        { "filesz huge", STATIC, m_filesz_huge, ELF_E_SEG_FILE, 3 },
        { "segment in the kernel half", STATIC, m_kernel_half, ELF_E_SEG_RANGE, 1 },
        { "segment below USER_MIN", STATIC, m_below_user_min, ELF_E_SEG_RANGE, 0 },
        { "vaddr + memsz wraps", STATIC, m_memsz_wrap, ELF_E_SEG_RANGE, 3 },
        { "segment across USER_MAX", STATIC, m_straddle_top, ELF_E_SEG_RANGE, 3 },
        { "overlapping segments", STATIC, m_overlap, ELF_E_SEG_OVERLAP, 3 },
        { "overlapping segments (PIE)", PIE, m_overlap, ELF_E_SEG_OVERLAP, 3 },
        { "unsorted segments", STATIC, m_unsorted, ELF_E_SEG_ORDER, 1 },
        { "PT_INTERP empty", STATIC, m_interp, ELF_E_INTERP, 4 },
        { "PT_INTERP unterminated", "hello-dynamic", m_interp_unterminated,
          ELF_E_INTERP, -2 },
        { "PT_INTERP over PATH_MAX", "hello-dynamic", m_interp_long,
          ELF_E_INTERP, -2 },
        { "PT_INTERP one byte", "hello-dynamic", m_interp_short,
          ELF_E_INTERP, -2 },
        { "no PT_LOAD", STATIC, m_no_load, ELF_E_NO_LOAD, -1 },
        { "too many PT_LOADs", STATIC, m_too_many_loads, ELF_E_TOO_MANY_LOADS, 18 },
        { "phdrs not loaded", STATIC, m_phdr_unloaded, ELF_E_PHDR_UNLOADED, -1 },
        { "PT_PHDR disagrees", STATIC, m_phdr_mismatch, ELF_E_PHDR_MISMATCH, 4 },
        { "entry in rodata", STATIC, m_entry_rodata, ELF_E_ENTRY, -1 },
        { "entry 0", STATIC, m_entry_zero, ELF_E_ENTRY, -1 },
};

TEST(malformed_variants)
{
        for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
                const struct malformed *m = &malformed[i];
                struct blob b = blob_load(m->fixture);
                struct elf_plan p;
                enum elf_error got;

                m->mutate(&b);
                got = plan_of(&b, 0, &p);
                if (got != m->want)
                        check_fail(__FILE__, __LINE__, "%s: got %d (%s), "
                                   "want %d (%s)", m->name, got,
                                   elf_error_message(got), m->want,
                                   elf_error_message(m->want));
                if (m->bad_phdr != -2 && p.bad_phdr != m->bad_phdr)
                        check_fail(__FILE__, __LINE__, "%s: bad_phdr %d, "
                                   "want %d", m->name, p.bad_phdr,
                                   m->bad_phdr);
                free(b.p);
        }
}

/* Every reason has its own message. */
TEST(error_messages_distinct)
{
        for (int i = 0; i < ELF_NR_ERRORS; i++) {
                CHECK(elf_error_message(i) != NULL);
                for (int j = 0; j < i; j++)
                        CHECK(strcmp(elf_error_message(i),
                                     elf_error_message(j)) != 0);
        }
        CHECK(strstr(elf_error_message(ELF_NR_ERRORS), "unknown") != NULL);
}

/* --- random mutation ----------------------------------------------------- */

/* An accepted plan must meet the invariants and stay inside the file. */
static void check_accepted(const struct blob *b, const struct elf_plan *p)
{
        CHECK(elf_plan_check(p));
        for (unsigned k = 0; k < p->nsegs; k++)
                CHECK(p->segs[k].file_off + p->segs[k].file_len <= b->len);
        CHECK(p->phdr_va != 0 && p->entry != 0);
}

/* Flip bytes, mostly in the headers, where they matter. */
static void mutate_randomly(struct rng *r, struct blob *b)
{
        unsigned flips = 1 + (unsigned)rng_below(r, 8);

        for (unsigned i = 0; i < flips; i++) {
                size_t at = rng_below(r, 4) ? rng_below(r, 64 + 9 * 56)
                                            : rng_below(r, b->len);
                if (at >= b->len)
                        continue;
                switch (rng_below(r, 3)) {
                case 0: b->p[at] ^= (uint8_t)(1u << rng_below(r, 8)); break;
                case 1: b->p[at] = (uint8_t)rng_next(r); break;
                default: b->p[at] = rng_below(r, 2) ? 0 : 0xff; break;
                }
        }
        if (rng_below(r, 16) == 0)
                blob_resize(b, rng_below(r, b->len + 1));
}

TEST(random_mutations)
{
        static const char *const names[] = { STATIC, PIE };
        struct blob base[2] = { blob_load(names[0]), blob_load(names[1]) };
        struct rng r;
        unsigned accepted = 0, rejected[ELF_NR_ERRORS] = { 0 };

        rng_seed(&r, check_seed(0xe1f));
        for (int iter = 0; iter < 20000; iter++) {
                struct blob b = blob_copy(&base[iter & 1]);
                struct elf_plan p;
                uint64_t off = rng_below(&r, 2) ? 0 : rng_next(&r) & 0xfffffff000UL;

                mutate_randomly(&r, &b);
                enum elf_error err = plan_of(&b, off, &p);
                CHECK((unsigned)err < ELF_NR_ERRORS);
                if (err == ELF_OK) {
                        check_accepted(&b, &p);
                        accepted++;
                } else {
                        rejected[err]++;
                }
                free(b.p);
        }
        CHECK(accepted > 100);          /* the loop explores both sides */
        CHECK(rejected[ELF_E_MAGIC] > 0 && rejected[ELF_E_SEG_FILE] > 0);
        free(base[0].p);
        free(base[1].p);
}

/* Random bytes behind a valid ELF header prefix. */
TEST(random_garbage)
{
        struct blob base = blob_load(STATIC);
        struct rng r;

        rng_seed(&r, check_seed(0xbad));
        for (int iter = 0; iter < 5000; iter++) {
                size_t len = rng_below(&r, 1024);
                struct blob b = { malloc(len ? len : 1), len };
                struct elf_plan p;

                size_t keep = rng_below(&r, 64);

                for (size_t i = 0; i < len; i++)
                        b.p[i] = (uint8_t)rng_next(&r);
                memcpy(b.p, base.p, MIN(len, keep));
                if (plan_of(&b, 0, &p) == ELF_OK)
                        check_accepted(&b, &p);
                free(b.p);
        }
        free(base.p);
}

/* --- what Linux did with the same files ---------------------------------- */

/* Is every page of [start, end) mapped with `perms` ("r-x") per maps? */
static bool maps_cover(const char *maps, uint64_t start, uint64_t end,
                       const char *perms)
{
        uint64_t at = start;

        while (at < end) {
                const char *line = maps;
                bool found = false;

                while (line && *line) {
                        unsigned long long lo, hi;
                        char p[5];
                        if (sscanf(line, "%llx-%llx %4s", &lo, &hi, p) == 3 &&
                            at >= lo && at < hi) {
                                if (strncmp(p, perms, 3) != 0)
                                        return false;
                                at = hi;
                                found = true;
                                break;
                        }
                        line = strchr(line, '\n');
                        line = line ? line + 1 : NULL;
                }
                if (!found)
                        return false;
        }
        return true;
}

static void perms_of(vm_prot_t prot, char out[4])
{
        out[0] = (prot & VM_PROT_READ) ? 'r' : '-';
        out[1] = (prot & VM_PROT_WRITE) ? 'w' : '-';
        out[2] = (prot & VM_PROT_EXEC) ? 'x' : '-';
        out[3] = '\0';
}

/*
 * Run the fixture under Linux; plan it with the bias Linux chose; then
 * AT_ENTRY, AT_PHDR, AT_PHNUM and every segment's pages and rights must
 * be what Linux set up. (Linux 6.x puts a static PIE in the mmap area, not
 * at ELF_ET_DYN_BASE; dyn_offset lets the plan follow it there.)
 */
static void check_against_linux(const char *name)
{
        char *argv[] = { (char *)name, NULL }, *envp[] = { NULL };
        struct blob b = blob_load(name);
        struct elf64_ehdr eh = get_ehdr(&b);
        struct stackdump d;
        struct elf_plan p;
        uint64_t entry, phdr, phnum;

        stackdump_run(name, argv, envp, &d);
        CHECK(stackdump_auxv(&d, AT_ENTRY, &entry));
        CHECK(stackdump_auxv(&d, AT_PHDR, &phdr));
        CHECK(stackdump_auxv(&d, AT_PHNUM, &phnum));
        uint64_t bias = entry - eh.e_entry;
        CHECK_EQ(plan_of(&b, bias - ELF_ET_DYN_BASE, &p), ELF_OK);
        CHECK_EQ(p.load_bias, bias);
        CHECK_EQ(p.entry, entry);
        CHECK_EQ(p.phdr_va, phdr);
        CHECK_EQ(p.phnum, phnum);
        for (unsigned k = 0; k < p.nsegs; k++) {
                const struct elf_segment *s = &p.segs[k];
                char perms[4];

                perms_of(s->prot, perms);
                if (!maps_cover(d.maps, s->map_start, s->map_end, perms))
                        check_fail(__FILE__, __LINE__, "%s: segment %u "
                                   "[%#llx, %#llx) %s not so in maps:\n%s",
                                   name, k, (unsigned long long)s->map_start,
                                   (unsigned long long)s->map_end, perms,
                                   d.maps);
        }
        free(d.raw);
        free(b.p);
}

TEST(linux_agrees_static)
{
        check_against_linux("stackdump-static");
}

TEST(linux_agrees_static_pie)
{
        check_against_linux("stackdump-pie");
}
