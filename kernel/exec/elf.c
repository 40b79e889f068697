/*
 * elf.c - validating an ELF64 executable for this machine and planning its load
 * (see elf.h for the plan's invariants).
 *
 * Owns: nothing beyond the caller's struct elf_plan.
 * Must not touch: the file bytes (read only), address spaces, allocators.
 *
 * elf_plan_build() is a dispatcher over phases that share a context; each
 * phase either adds to the plan or returns the first reason it finds:
 *   check_ehdr    the ELF header and where the program headers are
 *   scan_phdrs    every program header: PT_INTERP's path, file ranges,
 *                 PT_LOADs
 *   choose_bias   0 for ET_EXEC; ELF_ET_DYN_BASE (+ offset) for ET_DYN
 *   plan_segments biased page ranges: in user space, sorted, disjoint
 *   plan_phdr     AT_PHDR: where the program header table is loaded
 *   plan_entry    the entry point lies in loaded, executable bytes
 * Arithmetic is on uint64_t and each sum is checked before it is formed,
 * except start = p_vaddr + bias, which may wrap on purpose (as Linux's
 * does) and is range-checked before any use.
 *
 * PT_INTERP is only recorded (where its path lies): exec opens and plans
 * the interpreter, the same way, as a second file. As Linux, the first
 * PT_INTERP counts and later ones are ignored.
 *
 * Deliberate differences from Linux's load_elf_binary(): two PT_LOADs may not share a page (Linux
 * lets the later mapping win), so that every page of the plan has one
 * protection and one source; the program headers must be loaded and the
 * entry point executable (Linux leaves such files to crash in user mode).
 * As Linux, only a segment with a bss (p_memsz > p_filesz) has the rest of
 * its last file page cleared; elsewhere that page shows the file's bytes
 * and stays the file's (shared by every process, not copied).
 */
#include <exec/elf.h>
#include <mercator/string.h>

/* One PT_LOAD as the file states it (unbiased). */
struct elf_load {
        uint64_t offset, vaddr, filesz, memsz;
        uint32_t flags;
        int      index;         /* its program header */
};

struct elf_ctx {
        const uint8_t    *file;
        size_t            len;          /* the file's size */
        size_t            avail;        /* bytes readable at file */
        uint64_t          dyn_offset;
        struct elf64_ehdr eh;
        struct elf_load   loads[ELF_MAX_SEGMENTS];
        unsigned          nloads;
        uint64_t          max_align;    /* largest power-of-two p_align */
        int               phdr_index;   /* the first PT_PHDR, or -1 */
        uint64_t          phdr_vaddr;   /* its p_vaddr */
        struct elf_plan  *plan;
};

static const char *const error_msgs[ELF_NR_ERRORS] = {
        [ELF_OK]               = "valid executable",
        [ELF_E_TRUNCATED]      = "file shorter than an ELF header",
        [ELF_E_MAGIC]          = "not an ELF file (bad magic)",
        [ELF_E_CLASS]          = ELF_MACHINE_CLASS == 1 ?
                                 "not a 32-bit ELF file" :
                                 "not a 64-bit ELF file",
        [ELF_E_DATA]           = "not a little-endian ELF file",
        [ELF_E_VERSION]        = "unknown ELF version",
        [ELF_E_TYPE]           = "not an executable (ET_EXEC or ET_DYN)",
        [ELF_E_MACHINE]        = "not an " ELF_MACHINE_NAME " executable",
        [ELF_E_PHENTSIZE]      = "program header size is not 56",
        [ELF_E_PHNUM]          = "no program headers, or too many",
        [ELF_E_PHOFF]          = "program header table outside the file",
        [ELF_E_INTERP]         = "PT_INTERP is not a NUL-terminated path of 2 to 4096 bytes",
        [ELF_E_SEG_FILE]       = "segment's file bytes outside the file",
        [ELF_E_SEG_FILESZ]     = "segment's p_filesz exceeds p_memsz",
        [ELF_E_SEG_ALIGN]      = "segment's p_vaddr and p_offset differ modulo the page size",
        [ELF_E_SEG_RANGE]      = "segment outside the user address range",
        [ELF_E_SEG_ORDER]      = "loadable segments not sorted by address",
        [ELF_E_SEG_OVERLAP]    = "loadable segments overlap (share a page)",
        [ELF_E_TOO_MANY_LOADS] = "too many loadable segments",
        [ELF_E_NO_LOAD]        = "no loadable segment",
        [ELF_E_PHDR_UNLOADED]  = "program headers are not in a loaded segment",
        [ELF_E_PHDR_MISMATCH]  = "PT_PHDR disagrees with where the program headers load",
        [ELF_E_ENTRY]          = "entry point not in an executable segment",
};

const char *elf_error_message(enum elf_error err)
{
        if ((unsigned)err >= ELF_NR_ERRORS)
                return "unknown ELF error";
        return error_msgs[err];
}

/* --- the ELF header ---------------------------------------------------- */

static enum elf_error check_ident(const struct elf64_ehdr *eh)
{
        if (memcmp(eh->e_ident, "\177ELF", 4) != 0)
                return ELF_E_MAGIC;
        if (eh->e_ident[EI_CLASS] != ELF_MACHINE_CLASS)
                return ELF_E_CLASS;
        if (eh->e_ident[EI_DATA] != ELF_MACHINE_DATA)
                return ELF_E_DATA;
        if (eh->e_ident[EI_VERSION] != EV_CURRENT ||
            eh->e_version != EV_CURRENT)
                return ELF_E_VERSION;
        return ELF_OK;
}

static enum elf_error check_ehdr(struct elf_ctx *c)
{
        const struct elf64_ehdr *eh = &c->eh;
        enum elf_error err;

        if (c->avail < ELF_EHDR_SIZE)
                return ELF_E_TRUNCATED;
#if ELF_MACHINE_CLASS == 1
        struct elf32_ehdr e32;
        memcpy(&e32, c->file, sizeof e32);
        c->eh = (struct elf64_ehdr){
                .e_type = e32.e_type, .e_machine = e32.e_machine,
                .e_version = e32.e_version, .e_entry = e32.e_entry,
                .e_phoff = e32.e_phoff, .e_shoff = e32.e_shoff,
                .e_flags = e32.e_flags, .e_ehsize = e32.e_ehsize,
                .e_phentsize = e32.e_phentsize, .e_phnum = e32.e_phnum,
                .e_shentsize = e32.e_shentsize, .e_shnum = e32.e_shnum,
                .e_shstrndx = e32.e_shstrndx,
        };
        memcpy(c->eh.e_ident, e32.e_ident, EI_NIDENT);
#else
        memcpy(&c->eh, c->file, sizeof c->eh);
#endif
        err = check_ident(eh);
        if (err != ELF_OK)
                return err;
        if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
                return ELF_E_TYPE;
        if (eh->e_machine != ELF_MACHINE)
                return ELF_E_MACHINE;
        if (eh->e_phentsize != ELF_PHDR_SIZE)
                return ELF_E_PHENTSIZE;
        if (eh->e_phnum == 0 || eh->e_phnum > ELF_PHNUM_MAX)
                return ELF_E_PHNUM;
        if (eh->e_phoff > c->avail ||
            (uint64_t)eh->e_phnum * ELF_PHDR_SIZE >
            c->avail - eh->e_phoff)
                return ELF_E_PHOFF;
        return ELF_OK;
}

/* --- the program headers ----------------------------------------------- */

static void read_phdr(const struct elf_ctx *c, unsigned i,
                      struct elf64_phdr *ph)
{
#if ELF_MACHINE_CLASS == 1
        struct elf32_phdr p32;
        memcpy(&p32, c->file + c->eh.e_phoff + i * sizeof p32, sizeof p32);
        *ph = (struct elf64_phdr){
                .p_type = p32.p_type, .p_flags = p32.p_flags,
                .p_offset = p32.p_offset, .p_vaddr = p32.p_vaddr,
                .p_paddr = p32.p_paddr, .p_filesz = p32.p_filesz,
                .p_memsz = p32.p_memsz, .p_align = p32.p_align,
        };
#else
        memcpy(ph, c->file + c->eh.e_phoff + i * sizeof *ph, sizeof *ph);
#endif
}

static bool is_pow2(uint64_t x)
{
        return x != 0 && (x & (x - 1)) == 0;
}

/* Record a PT_LOAD (one with nothing in memory is valid but ignored). */
static enum elf_error scan_load(struct elf_ctx *c, const struct elf64_phdr *ph,
                                int index)
{
        struct elf_load *l;

        if (ph->p_filesz > ph->p_memsz)
                return ELF_E_SEG_FILESZ;
        if (((ph->p_vaddr - ph->p_offset) & PAGE_MASK) != 0)
                return ELF_E_SEG_ALIGN;
        if (ph->p_memsz > UINT64_MAX - ph->p_vaddr)
                return ELF_E_SEG_RANGE;
        if (ph->p_memsz == 0)
                return ELF_OK;
        if (c->nloads == ELF_MAX_SEGMENTS)
                return ELF_E_TOO_MANY_LOADS;
        l = &c->loads[c->nloads++];
        *l = (struct elf_load){ .offset = ph->p_offset, .vaddr = ph->p_vaddr,
                                .filesz = ph->p_filesz, .memsz = ph->p_memsz,
                                .flags = ph->p_flags, .index = index };
        if (is_pow2(ph->p_align) && ph->p_align > c->max_align)
                c->max_align = ph->p_align;
        return ELF_OK;
}

/* The interpreter's path, as Linux checks it: 2..PATH_MAX bytes, the last
 * a NUL. It must lie in the head, where exec reads it. */
static enum elf_error scan_interp(struct elf_ctx *c, const struct elf64_phdr *ph)
{
        if (c->plan->interp_len)
                return ELF_OK;          /* Linux takes the first */
        if (ph->p_filesz < 2 || ph->p_filesz > ELF_INTERP_MAX ||
            ph->p_offset > c->avail || ph->p_filesz > c->avail - ph->p_offset ||
            c->file[ph->p_offset + ph->p_filesz - 1] != '\0')
                return ELF_E_INTERP;
        c->plan->interp_off = ph->p_offset;
        c->plan->interp_len = (uint32_t)ph->p_filesz;
        return ELF_OK;
}

static enum elf_error scan_phdr(struct elf_ctx *c, const struct elf64_phdr *ph,
                                int index)
{
        if (ph->p_type != PT_NULL && ph->p_filesz > 0 &&
            (ph->p_offset > c->len || ph->p_filesz > c->len - ph->p_offset))
                return ELF_E_SEG_FILE;
        switch (ph->p_type) {
        case PT_INTERP:
                return scan_interp(c, ph);
        case PT_LOAD:
                return scan_load(c, ph, index);
        case PT_PHDR:
                if (c->phdr_index < 0) {
                        c->phdr_index = index;
                        c->phdr_vaddr = ph->p_vaddr;
                }
                return ELF_OK;
        case PT_GNU_STACK:
                c->plan->stack_exec = (ph->p_flags & PF_X) != 0;
                return ELF_OK;
        default:
                return ELF_OK;
        }
}

static enum elf_error scan_phdrs(struct elf_ctx *c)
{
        struct elf64_phdr ph;

        for (unsigned i = 0; i < c->eh.e_phnum; i++) {
                read_phdr(c, i, &ph);
                c->plan->bad_phdr = (int)i;
                enum elf_error err = scan_phdr(c, &ph, (int)i);
                if (err != ELF_OK)
                        return err;
        }
        c->plan->bad_phdr = -1;
        return c->nloads ? ELF_OK : ELF_E_NO_LOAD;
}

/* --- placing the segments ---------------------------------------------- */

/* Linux's choice for a PIE: ELF_ET_DYN_BASE (+ a random offset), aligned
 * to the largest segment alignment, minus the first segment's page. */
static void choose_bias(struct elf_ctx *c)
{
        uint64_t align = MAX(c->max_align, PAGE_SIZE);
        uint64_t base = ELF_ET_DYN_BASE + c->dyn_offset;

        c->plan->align = align;
        if (c->eh.e_type != ET_DYN) {
                c->plan->load_bias = 0;
                return;
        }
        c->plan->load_bias = align_down(base - page_trunc(c->loads[0].vaddr),
                                        align);
}

static vm_prot_t prot_of(uint32_t p_flags)
{
        vm_prot_t prot = VM_PROT_NONE;

        if (p_flags & PF_R)
                prot |= VM_PROT_READ;
        if (p_flags & PF_W)
                prot |= VM_PROT_WRITE;
        if (p_flags & PF_X)
                prot |= VM_PROT_EXEC;
        return prot;
}

/* Segment k from its load and the bias, checked against segment k - 1. */
static enum elf_error plan_segment(struct elf_ctx *c, unsigned k)
{
        const struct elf_load *l = &c->loads[k];
        struct elf_segment *s = &c->plan->segs[k];
        uint64_t start = l->vaddr + c->plan->load_bias;   /* may wrap */

        if (start < USER_MIN || start >= USER_MAX ||
            l->memsz > USER_MAX - start)
                return ELF_E_SEG_RANGE;
        s->map_start = page_trunc(start);
        s->map_end = page_round(start + l->memsz);
        if (k > 0 && l->vaddr < c->loads[k - 1].vaddr)
                return ELF_E_SEG_ORDER;
        if (k > 0 && s->map_start < s[-1].map_end)
                return ELF_E_SEG_OVERLAP;
        s->file_off = page_trunc(l->offset);
        s->file_len = l->filesz ? (l->offset & PAGE_MASK) + l->filesz : 0;
        s->zero_start = s->map_start + s->file_len;
        s->zero_end = l->memsz > l->filesz ? s->map_end : s->zero_start;
        s->prot = prot_of(l->flags);
        return ELF_OK;
}

static enum elf_error plan_segments(struct elf_ctx *c)
{
        struct elf_plan *p = c->plan;

        for (unsigned k = 0; k < c->nloads; k++) {
                p->bad_phdr = c->loads[k].index;
                enum elf_error err = plan_segment(c, k);
                if (err != ELF_OK)
                        return err;
        }
        p->bad_phdr = -1;
        p->nsegs = c->nloads;
        p->brk_start = p->segs[p->nsegs - 1].map_end;
        return ELF_OK;
}

/* --- AT_PHDR and the entry point --------------------------------------- */

/* Linux's way: the PT_LOAD whose file bytes hold the table gives its
 * address. PT_PHDR, if present, must say the same. */
static enum elf_error plan_phdr(struct elf_ctx *c)
{
        uint64_t off = c->eh.e_phoff;
        uint64_t size = (uint64_t)c->eh.e_phnum * ELF_PHDR_SIZE;

        for (unsigned k = 0; k < c->nloads; k++) {
                const struct elf_load *l = &c->loads[k];

                if (off < l->offset || off - l->offset > l->filesz ||
                    size > l->filesz - (off - l->offset))
                        continue;
                uint64_t vaddr = l->vaddr + (off - l->offset);
                if (c->phdr_index >= 0 && c->phdr_vaddr != vaddr) {
                        c->plan->bad_phdr = c->phdr_index;
                        return ELF_E_PHDR_MISMATCH;
                }
                c->plan->phdr_va = vaddr + c->plan->load_bias;
                c->plan->phnum = c->eh.e_phnum;
                c->plan->phentsize = c->eh.e_phentsize;
                return ELF_OK;
        }
        return ELF_E_PHDR_UNLOADED;
}

static enum elf_error plan_entry(struct elf_ctx *c)
{
        uint64_t entry = c->eh.e_entry;

        for (unsigned k = 0; k < c->nloads; k++) {
                const struct elf_load *l = &c->loads[k];

                if ((l->flags & PF_X) && entry >= l->vaddr &&
                    entry - l->vaddr < l->filesz) {
                        c->plan->entry = entry + c->plan->load_bias;
                        return ELF_OK;
                }
        }
        return ELF_E_ENTRY;
}

enum elf_error elf_plan_build(const void *file, size_t len,
                              uint64_t dyn_offset, struct elf_plan *plan)
{
        return elf_plan_build_head(file, len, len, dyn_offset, plan);
}

enum elf_error elf_plan_build_head(const void *head, size_t avail,
                                   uint64_t len, uint64_t dyn_offset,
                                   struct elf_plan *plan)
{
        struct elf_ctx c = { .file = head, .len = len, .avail = MIN(avail, len),
                             .dyn_offset = dyn_offset, .phdr_index = -1,
                             .plan = plan };
        enum elf_error err;

        memset(plan, 0, sizeof *plan);
        plan->bad_phdr = -1;
        err = check_ehdr(&c);
        if (err == ELF_OK)
                err = scan_phdrs(&c);
        if (err == ELF_OK) {
                plan->type = c.eh.e_type;
                choose_bias(&c);
                err = plan_segments(&c);
        }
        if (err == ELF_OK)
                err = plan_phdr(&c);
        if (err == ELF_OK)
                err = plan_entry(&c);
        return err;
}

uint64_t elf_plan_offset_for(const struct elf_plan *p, vaddr_t bias)
{
        /* choose_bias puts the first page at base = ELF_ET_DYN_BASE +
         * offset, with bias = base - that page's p_vaddr (mod 2^64). */
        vaddr_t vaddr0 = p->segs[0].map_start - p->load_bias;

        return bias + vaddr0 - ELF_ET_DYN_BASE;
}

/* --- the checker ------------------------------------------------------- */

static bool segment_ok(const struct elf_segment *s,
                       const struct elf_segment *prev)
{
        return s->map_start < s->map_end &&
               is_aligned(s->map_start, PAGE_SIZE) &&
               is_aligned(s->map_end, PAGE_SIZE) &&
               s->map_start >= USER_MIN && s->map_end <= USER_MAX &&
               (!prev || s->map_start >= prev->map_end) &&
               is_aligned(s->file_off, PAGE_SIZE) &&
               s->file_len <= s->map_end - s->map_start &&
               s->zero_start == s->map_start + s->file_len &&
               (s->zero_end == s->map_end || s->zero_end == s->zero_start) &&
               (s->prot & ~VM_PROT_ALL) == 0;
}

/* Does one segment's file-backed part hold [va, va + len), and is it
 * executable if `exec`? */
static bool in_file_part(const struct elf_plan *p, vaddr_t va, uint64_t len,
                         bool exec)
{
        for (unsigned k = 0; k < p->nsegs; k++) {
                const struct elf_segment *s = &p->segs[k];

                if (exec && !(s->prot & VM_PROT_EXEC))
                        continue;
                if (va >= s->map_start && va - s->map_start <= s->file_len &&
                    len <= s->file_len - (va - s->map_start))
                        return true;
        }
        return false;
}

bool elf_plan_check(const struct elf_plan *p)
{
        if (p->nsegs == 0 || p->nsegs > ELF_MAX_SEGMENTS)
                return false;
        for (unsigned k = 0; k < p->nsegs; k++)
                if (!segment_ok(&p->segs[k], k ? &p->segs[k - 1] : NULL))
                        return false;
        if (p->type != ET_EXEC && p->type != ET_DYN)
                return false;
        if (!is_aligned(p->load_bias, PAGE_SIZE) ||
            (p->type == ET_EXEC && p->load_bias != 0))
                return false;
        if (p->brk_start != p->segs[p->nsegs - 1].map_end)
                return false;
        if (p->interp_len == 1 || p->interp_len > ELF_INTERP_MAX ||
            !is_pow2(p->align) || p->align < PAGE_SIZE)
                return false;
        if (p->phnum == 0 || p->phentsize != ELF_PHDR_SIZE ||
            !in_file_part(p, p->phdr_va,
                          (uint64_t)p->phnum * p->phentsize, false))
                return false;
        return in_file_part(p, p->entry, 1, true);
}
