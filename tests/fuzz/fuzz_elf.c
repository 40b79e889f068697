/*
 * fuzz_elf.c - libFuzzer target for the ELF loader's planner
 * (kernel/exec/elf.c): the input is the file.
 *
 * elf_plan_build() promises, for any bytes, either ELF_OK with a plan
 * that meets the invariants of elf.h (elf_plan_check()) or one of its
 * reasons. Besides that, this target checks what exec relies on:
 *   - every segment's file bytes lie inside the file (exec maps them;
 *     a segment without file bytes may have any file_off: exec ignores it);
 *   - the answer does not depend on the file's alignment (a cpio member
 *     is only 4-byte aligned): the same bytes one byte off give the same;
 *   - a static PIE's placement moves every address by the same bias, and
 *     an ET_EXEC ignores it;
 *   - a rejection names a valid reason and at most a valid header.
 * Seeds: the real binaries of build/fixtures (tools/fuzz.sh copies them).
 */
#include "harness.h"

#include <exec/elf.h>

#include <stdlib.h>
#include <string.h>

#define OTHER_OFFSET    0x12345000UL    /* a page-multiple ASLR offset */

/* What must hold of a plan elf_plan_build() accepted for a file of len. */
static void plan_verify(const struct elf_plan *p, const uint8_t *file,
                        size_t len)
{
        if (!elf_plan_check(p))
                fuzz_fail("elf_plan_check fails on an accepted plan");
        if (p->interp_len && (p->interp_off > len ||
                              p->interp_len > len - p->interp_off ||
                              file[p->interp_off + p->interp_len - 1] != 0))
                fuzz_fail("PT_INTERP path [%#lx, +%u) is not a string in "
                          "the file", p->interp_off, p->interp_len);
        if (p->type == ET_EXEC && p->load_bias != 0)
                fuzz_fail("ET_EXEC with load bias %#lx", p->load_bias);
        for (unsigned i = 0; i < p->nsegs; i++) {
                const struct elf_segment *s = &p->segs[i];

                if (s->file_len && (s->file_off > len ||
                                    s->file_len > len - s->file_off))
                        fuzz_fail("segment %u reads [%#lx, +%#lx) of a "
                                  "%zu-byte file", i, s->file_off,
                                  s->file_len, len);
        }
}

static void error_verify(enum elf_error err, const struct elf_plan *p)
{
        const char *msg = elf_error_message(err);

        if ((unsigned)err >= ELF_NR_ERRORS)
                fuzz_fail("elf_plan_build returned %d", err);
        if (!msg || strcmp(msg, "unknown ELF error") == 0)
                fuzz_fail("no message for error %d", err);
        if (err != ELF_OK &&
            (p->bad_phdr < -1 || p->bad_phdr >= (int)ELF_PHNUM_MAX))
                fuzz_fail("error %d names program header %d", err,
                          p->bad_phdr);
}

/* The same file planned at another bias: every address moves by the
 * difference of the biases, nothing else changes. */
static void bias_verify(const struct elf_plan *a, const struct elf_plan *b)
{
        vaddr_t d = b->load_bias - a->load_bias;

        if (a->type == ET_EXEC && memcmp(a, b, sizeof *a) != 0)
                fuzz_fail("an ET_EXEC plan depends on the PIE offset");
        if (a->nsegs != b->nsegs || b->entry - a->entry != d ||
            b->phdr_va - a->phdr_va != d || b->brk_start - a->brk_start != d ||
            b->interp_off != a->interp_off || b->interp_len != a->interp_len)
                fuzz_fail("plans at two biases differ in more than the bias");
        for (unsigned i = 0; i < a->nsegs; i++)
                if (b->segs[i].map_start - a->segs[i].map_start != d ||
                    b->segs[i].file_off != a->segs[i].file_off ||
                    b->segs[i].file_len != a->segs[i].file_len ||
                    b->segs[i].prot != a->segs[i].prot)
                        fuzz_fail("segment %u moved by other than the bias",
                                  i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct elf_plan plan, again, other;
        uint8_t *odd = malloc(size + 1);        /* the file, misaligned */
        enum elf_error err, err2;

        if (!odd)
                abort();
        memcpy(odd + 1, data, size);
        err = elf_plan_build(data, size, 0, &plan);
        error_verify(err, &plan);
        if (err == ELF_OK)
                plan_verify(&plan, data, size);
        err2 = elf_plan_build(odd + 1, size, 0, &again);
        free(odd);
        if (err2 != err || memcmp(&plan, &again, sizeof plan) != 0)
                fuzz_fail("a misaligned copy of the file plans differently");
        err2 = elf_plan_build(data, size, OTHER_OFFSET, &other);
        error_verify(err2, &other);
        if (err2 == ELF_OK)
                plan_verify(&other, data, size);
        if (err == ELF_OK && err2 == ELF_OK)
                bias_verify(&plan, &other);
        /* elf_plan_offset_for: the offset it gives yields the bias asked. */
        if (err == ELF_OK && plan.type == ET_DYN &&
            elf_plan_build(data, size,
                           elf_plan_offset_for(&plan, OTHER_OFFSET * plan.align),
                           &other) == ELF_OK &&
            other.load_bias != OTHER_OFFSET * plan.align)
                fuzz_fail("elf_plan_offset_for missed its bias");
        return 0;
}
