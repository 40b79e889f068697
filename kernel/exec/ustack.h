/*
 * ustack.h - the initial user stack of a new program, laid out byte for
 * byte as Linux's exec (fs/exec.c and create_elf_tables() in
 * fs/binfmt_elf.c) lays it out on x86-64.
 *
 * Owns: nothing but the caller's buffer, which stands for the top of the
 * user stack: buf[0 .. buf_len) is user memory [stack_top - buf_len,
 * stack_top). Pure: no address space, no allocation; the caller copies or
 * maps the buffer.
 *
 * The layout, from stack_top down (higher addresses first):
 *   8 bytes of zero                    (Linux's bprm->p starts one word down)
 *   the file name string               AT_EXECFN points here
 *   envp strings, envp[envc-1] highest
 *   argv strings, argv[0] lowest       arg_start; argv ends where envp begins
 *   0..8191+15 bytes                   (align_rnd, then 16-byte alignment)
 *   "x86_64\0"                         AT_PLATFORM (if ELF_AUXV_PLATFORM)
 *   16 random bytes                    AT_RANDOM (not aligned, as on Linux)
 *   padding                            so that rsp ends 16-byte aligned
 *   auxv pairs, ending with AT_NULL, 0
 *   envp[0..envc-1], NULL
 *   argv[0..argc-1], NULL
 *   argc                               <- rsp, 16-byte aligned
 * auxv order: [AT_SYSINFO] [AT_SYSINFO_EHDR] [AT_MINSIGSTKSZ] AT_HWCAP AT_PAGESZ
 * AT_CLKTCK AT_PHDR AT_PHENT AT_PHNUM AT_BASE AT_FLAGS AT_ENTRY AT_UID
 * AT_EUID AT_GID AT_EGID AT_SECURE AT_RANDOM (AT_HWCAP2) AT_EXECFN
 * (AT_PLATFORM) [AT_RSEQ_FEATURE_SIZE AT_RSEQ_ALIGN] AT_NULL; bracketed ones
 * appear only when their value is non-zero (Linux 6.x emits all of them),
 * parenthesized ones where the architecture's Linux has them
 * (machine/elf.h's ELF_AUXV_*: x86-64 yes, riscv64 no).
 * Every byte of [rsp, stack_top) is written (padding as zeroes).
 *
 * Limits (Linux: E2BIG): the strings (argv, envp, file name, each with its
 * NUL) plus one pointer per argv/envp entry must fit USTACK_ARG_MAX, which
 * is Linux's floor for them (ARG_MAX, 32 pages); and the whole layout must
 * fit the buffer.
 */
#ifndef EXEC_USTACK_H
#define EXEC_USTACK_H

#include <machine/elf.h>
#include <mercator/status.h>
#include <mercator/types.h>

#define USTACK_ARG_MAX          (128 * KiB)
#define USTACK_ALIGN_RND_MAX    8192    /* arch_align_stack's random span */
#define USTACK_PLATFORM         ELF_PLATFORM    /* machine/elf.h */
#define USTACK_CLKTCK           100     /* USER_HZ */

/* auxv types, Linux's values (include/uapi/linux/auxvec.h) */
#define AT_NULL                 0
#define AT_PHDR                 3
#define AT_PHENT                4
#define AT_PHNUM                5
#define AT_PAGESZ               6
#define AT_BASE                 7
#define AT_FLAGS                8
#define AT_ENTRY                9
#define AT_UID                  11
#define AT_EUID                 12
#define AT_GID                  13
#define AT_EGID                 14
#define AT_PLATFORM             15
#define AT_HWCAP                16
#define AT_CLKTCK               17
#define AT_SECURE               23
#define AT_RANDOM               25
#define AT_HWCAP2               26
#define AT_RSEQ_FEATURE_SIZE    27
#define AT_RSEQ_ALIGN           28
#define AT_EXECFN               31
#define AT_SYSINFO              32      /* i386: __kernel_vsyscall */
#define AT_SYSINFO_EHDR         33
#define AT_MINSIGSTKSZ          51

#define USTACK_AUXV_MAX         25      /* pairs, AT_NULL included */

/* What goes on the stack. Zero-initialise and fill in what applies. */
struct ustack_args {
        vaddr_t             stack_top;  /* user VA past the top; 16-aligned */
        uint8_t            *buf;        /* stands for the buf_len bytes below */
        size_t              buf_len;
        const char *const  *argv;       /* argc strings (argc 0: Linux's {""}) */
        size_t              argc;
        const char *const  *envp;
        size_t              envc;
        const char         *execfn;     /* the path given to execve */
        const uint8_t      *random;     /* 16 bytes for AT_RANDOM */
        uint32_t            align_rnd;  /* subtracted (mod 8192) before the
                                           16-alignment: Linux's stack jitter */
        vaddr_t             phdr;       /* from the ELF plan */
        uint64_t            phent, phnum;
        vaddr_t             entry;
        vaddr_t             base;       /* interpreter base: 0 when static */
        uint64_t            hwcap, hwcap2;
        uint32_t            uid, euid, gid, egid;
        bool                secure;
        vaddr_t             sysinfo;        /* i386's entry, 0 = omit */
        vaddr_t             sysinfo_ehdr;   /* the vDSO, 0 = none */
        uint64_t            minsigstksz;    /* 0 = omit AT_MINSIGSTKSZ */
        uint64_t            rseq_feature_size, rseq_align;  /* 0 = omit */
};

/* Where things ended up (user VAs). */
struct ustack_layout {
        vaddr_t  rsp;                   /* &argc: the initial stack pointer */
        vaddr_t  argv, envp, auxv;      /* the three arrays */
        size_t   argc;                  /* as written (1 when given 0) */
        size_t   nauxv;                 /* pairs, AT_NULL included */
        vaddr_t  arg_start, arg_end;    /* argv strings (mm->arg_start...) */
        vaddr_t  env_start, env_end;    /* envp strings */
        vaddr_t  execfn, platform, random;
};

/*
 * Lay out the initial stack in a->buf.
 * => VM_OK with *out filled; VM_E2BIG if the strings exceed
 *    USTACK_ARG_MAX or the layout does not fit buf_len; VM_EINVAL for a
 *    stack_top that is not 16-aligned or not in (USER_MIN, USER_MAX], a
 *    buffer reaching below USER_MIN, or a NULL where a string or array is
 *    needed.
 * => on failure the buffer is untouched.
 */
vm_status_t ustack_build(const struct ustack_args *a, struct ustack_layout *out);

#endif
