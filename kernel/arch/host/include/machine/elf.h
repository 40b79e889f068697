/*
 * elf.h (host) - the host platform runs x86-64 Linux executables (its
 * fixtures are musl binaries built on this machine), so its ELF facts are
 * x86-64's. Which ELF executables this architecture runs, and what
 * the auxiliary vector calls the platform: the ABI facts exec/ used to
 * hard-code. Values are the psABI's and Linux's.
 */
#ifndef MACHINE_ELF_H
#define MACHINE_ELF_H

#define ELF_MACHINE_CLASS       2       /* ELFCLASS64 (exec/elf.c reads
                                         * 64-bit headers only, so far) */
#define ELF_MACHINE_DATA        1       /* ELFDATA2LSB: little-endian */
#define ELF_MACHINE             62      /* EM_X86_64 */
#define ELF_MACHINE_NAME        "x86-64"        /* for messages */
#define ELF_PLATFORM            "x86_64"        /* AT_PLATFORM, as uname -m */
/* Which optional auxv entries this architecture's Linux gives (its
 * ELF_PLATFORM and ELF_HWCAP2 in asm/elf.h). */
#define ELF_AUXV_PLATFORM       1
#define ELF_AUXV_HWCAP2         1
#define MACHINE_CORE_GREGS_SIZE 216     /* as x86-64 */

#endif
