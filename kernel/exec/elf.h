/*
 * elf.h - from the bytes of an ELF file to a plan for loading it.
 *
 * Owns: validation of ELF64 executables for this machine (class, byte
 * order and machine from <machine/elf.h>; ET_EXEC and ET_DYN, with or
 * without a PT_INTERP naming their dynamic linker) and the load plan
 * derived from them. Data only: the caller (exec) maps what the plan says; nothing
 * here touches an address space, allocates or keeps state.
 *
 * Every field of the file is distrusted: any input gives either ELF_OK
 * with a plan meeting the invariants below, or one distinct reason.
 * The file may be unaligned (a cpio member is only 4-byte aligned): it is
 * read with memcpy.
 *
 * Plan invariants (elf_plan_check()):
 *   1. 1..ELF_MAX_SEGMENTS segments, sorted, page-aligned, non-empty,
 *      not sharing any page, all inside [USER_MIN, USER_MAX);
 *   2. each: file_off page-aligned, file_len <= map_end - map_start,
 *      zero_start = map_start + file_len, zero_end = map_end if the
 *      segment has a bss (p_memsz > p_filesz), else zero_start;
 *   3. entry lies in the file-backed part of an executable segment;
 *   4. [phdr_va, phdr_va + phnum * phentsize) lies in the file-backed
 *      part of one segment;
 *   5. brk_start = the last segment's map_end; load_bias is page-aligned
 *      and 0 for ET_EXEC;
 *   6. interp_len = 0 (no PT_INTERP), or the interpreter's path is the
 *      interp_len bytes at interp_off of the head, 2..ELF_INTERP_MAX of
 *      them, the last a NUL.
 */
#ifndef EXEC_ELF_H
#define EXEC_ELF_H

#include <machine/elf.h>
#include <machine/vmparam.h>
#include <mercator/types.h>
#include <vm/pmap.h>

/* --- the file format (the subset a loader reads) ----------------------- */

#define EI_NIDENT       16
#define EI_CLASS        4
#define EI_DATA         5
#define EI_VERSION      6
#define ELFCLASS64      2
#define ELFDATA2LSB     1
#define EV_CURRENT      1
#define ET_EXEC         2
#define ET_DYN          3

#define PT_NULL         0
#define PT_LOAD         1
#define PT_DYNAMIC      2
#define PT_INTERP       3
#define PT_NOTE         4
#define PT_PHDR         6
#define PT_TLS          7
#define PT_GNU_STACK    0x6474e551

#define PF_X            0x1
#define PF_W            0x2
#define PF_R            0x4

struct elf64_ehdr {
        uint8_t  e_ident[EI_NIDENT];
        uint16_t e_type;
        uint16_t e_machine;
        uint32_t e_version;
        uint64_t e_entry;
        uint64_t e_phoff;
        uint64_t e_shoff;
        uint32_t e_flags;
        uint16_t e_ehsize;
        uint16_t e_phentsize;
        uint16_t e_phnum;
        uint16_t e_shentsize;
        uint16_t e_shnum;
        uint16_t e_shstrndx;
};

struct elf64_phdr {
        uint32_t p_type;
        uint32_t p_flags;
        uint64_t p_offset;
        uint64_t p_vaddr;
        uint64_t p_paddr;
        uint64_t p_filesz;
        uint64_t p_memsz;
        uint64_t p_align;
};

/* --- the plan ---------------------------------------------------------- */

#define ELF_MAX_SEGMENTS 16             /* PT_LOADs with p_memsz > 0 */
/* A 32-bit machine's (ELF_MACHINE_CLASS 1, ELFCLASS32) files: read into
 * the 64-bit structures above, field by field, so that the rest of the
 * loader has one format. */
struct elf32_ehdr {
        uint8_t  e_ident[EI_NIDENT];
        uint16_t e_type;
        uint16_t e_machine;
        uint32_t e_version;
        uint32_t e_entry;
        uint32_t e_phoff;
        uint32_t e_shoff;
        uint32_t e_flags;
        uint16_t e_ehsize;
        uint16_t e_phentsize;
        uint16_t e_phnum;
        uint16_t e_shentsize;
        uint16_t e_shnum;
        uint16_t e_shstrndx;
};

struct elf32_phdr {
        uint32_t p_type;
        uint32_t p_offset;
        uint32_t p_vaddr;
        uint32_t p_paddr;
        uint32_t p_filesz;
        uint32_t p_memsz;
        uint32_t p_flags;
        uint32_t p_align;
};

#if ELF_MACHINE_CLASS == 1
#define ELF_EHDR_SIZE   sizeof(struct elf32_ehdr)
#define ELF_PHDR_SIZE   sizeof(struct elf32_phdr)
#else
#define ELF_EHDR_SIZE   sizeof(struct elf64_ehdr)
#define ELF_PHDR_SIZE   sizeof(struct elf64_phdr)
#endif
#define ELF_PHNUM_MAX   (65536 / ELF_PHDR_SIZE) /* Linux's cap */
#define ELF_INTERP_MAX  4096            /* PATH_MAX: Linux's cap on PT_INTERP */

/*
 * Where a static PIE goes: 2/3 of the user range, as Linux's
 * ELF_ET_DYN_BASE (0x555555554aaa; the bias is then page-aligned).
 */
#define ELF_ET_DYN_BASE (USER_MAX / 3 * 2)

/* Why a file was rejected. ELF_OK is 0; exec turns any other into ENOEXEC. */
enum elf_error {
        ELF_OK = 0,
        ELF_E_TRUNCATED,        /* shorter than the ELF header */
        ELF_E_MAGIC,            /* no \177ELF */
        ELF_E_CLASS,            /* not ELF_MACHINE_CLASS (machine/elf.h) */
        ELF_E_DATA,             /* not little-endian */
        ELF_E_VERSION,          /* EI_VERSION or e_version not 1 */
        ELF_E_TYPE,             /* neither ET_EXEC nor ET_DYN */
        ELF_E_MACHINE,          /* not ELF_MACHINE (machine/elf.h) */
        ELF_E_PHENTSIZE,        /* e_phentsize != 56 */
        ELF_E_PHNUM,            /* no program headers, or over ELF_PHNUM_MAX */
        ELF_E_PHOFF,            /* program header table not inside the file */
        ELF_E_INTERP,           /* PT_INTERP: not a path (2..4096 bytes
                                   ending in a NUL, within the head) */
        ELF_E_SEG_FILE,         /* p_offset + p_filesz not inside the file */
        ELF_E_SEG_FILESZ,       /* PT_LOAD with p_filesz > p_memsz */
        ELF_E_SEG_ALIGN,        /* p_vaddr != p_offset modulo the page size */
        ELF_E_SEG_RANGE,        /* wraps, or leaves [USER_MIN, USER_MAX) */
        ELF_E_SEG_ORDER,        /* PT_LOADs not in ascending p_vaddr */
        ELF_E_SEG_OVERLAP,      /* two PT_LOADs share a page */
        ELF_E_TOO_MANY_LOADS,   /* over ELF_MAX_SEGMENTS */
        ELF_E_NO_LOAD,          /* no PT_LOAD with p_memsz > 0 */
        ELF_E_PHDR_UNLOADED,    /* program headers not in any PT_LOAD's file part */
        ELF_E_PHDR_MISMATCH,    /* PT_PHDR disagrees with where e_phoff loads */
        ELF_E_ENTRY,            /* e_entry not in an executable PT_LOAD */
        ELF_NR_ERRORS
};

/* One PT_LOAD, as pages to map. All addresses biased (final). */
struct elf_segment {
        vaddr_t   map_start;    /* page-aligned: the first page to map */
        vaddr_t   map_end;      /* page-aligned: past the last (covers memsz) */
        uint64_t  file_off;     /* page-aligned: the file byte for map_start */
        uint64_t  file_len;     /* bytes copied from file_off to map_start */
        vaddr_t   zero_start;   /* = map_start + file_len: zero from here... */
        vaddr_t   zero_end;     /* ...to here: map_end with a bss (its page's
                                 * tail and the bss), else zero_start */
        vm_prot_t prot;         /* from p_flags: PF_R/W/X -> VM_PROT_* */
};

struct elf_plan {
        vaddr_t   entry;        /* initial rip (AT_ENTRY) */
        vaddr_t   load_bias;    /* added to every p_vaddr; 0 for ET_EXEC */
        vaddr_t   phdr_va;      /* AT_PHDR */
        uint16_t  phnum;        /* AT_PHNUM */
        uint16_t  phentsize;    /* AT_PHENT */
        uint16_t  type;         /* ET_EXEC or ET_DYN */
        bool      stack_exec;   /* PT_GNU_STACK has PF_X */
        uint64_t  align;        /* largest power-of-two p_align, >= a page */
        uint64_t  interp_off;   /* PT_INTERP's path: its offset in the file */
        uint32_t  interp_len;   /* and length, NUL included; 0 = none */
        vaddr_t   brk_start;    /* page-rounded end of the highest segment */
        unsigned  nsegs;
        struct elf_segment segs[ELF_MAX_SEGMENTS];
        int       bad_phdr;     /* after an error: the program header at
                                   fault, or -1 */
};

/*
 * Validate the ELF file at [file, file + len) and plan its loading.
 * An ET_DYN file is placed at ELF_ET_DYN_BASE + dyn_offset, aligned down to
 * its largest power-of-two p_align (at least a page); pass 0 for the fixed
 * Linux layout or a random page multiple for ASLR. ET_EXEC ignores it.
 * => ELF_OK with *plan filled in; otherwise the reason, with
 *    plan->bad_phdr naming the program header when one is at fault.
 * => reads only [file, file + len); never writes to it. Pure: the one
 *    entry point a fuzz target needs.
 */
enum elf_error elf_plan_build(const void *file, size_t len,
                              uint64_t dyn_offset, struct elf_plan *plan);

/*
 * The same, for a file of `len` bytes of which only the first `avail`
 * (its head) are at hand: the ELF header and program headers must lie in
 * the head (else ELF_E_TRUNCATED / ELF_E_PHOFF); segments are checked
 * against len. For files read through the VFS.
 */
enum elf_error elf_plan_build_head(const void *head, size_t avail,
                                   uint64_t len, uint64_t dyn_offset,
                                   struct elf_plan *plan);

/*
 * The dyn_offset that, given to elf_plan_build*() for the same ET_DYN
 * file, makes its load bias `bias` (a multiple of plan->align): how exec
 * puts an interpreter where the mmap area had room. plan is the file's
 * plan at any offset.
 */
uint64_t elf_plan_offset_for(const struct elf_plan *plan, vaddr_t bias);

/* A sentence about err (stable; for logs and test failures). */
const char *elf_error_message(enum elf_error err);

/* True if plan meets the invariants listed at the top of this file. */
bool elf_plan_check(const struct elf_plan *plan);

#endif
