/*
 * elf.h (i386) - the ELF executables the i386 port will run (static i386
 * Linux binaries, issue 14) and what the auxiliary vector calls the
 * platform. Values are the i386 psABI's and Linux's (AT_PLATFORM "i686").
 * exec/elf.c reads 64-bit headers only so far: ELF32 loading is the i386
 * user-mode step that is not done yet.
 */
#ifndef MACHINE_ELF_H
#define MACHINE_ELF_H

#define ELF_MACHINE_CLASS       1       /* ELFCLASS32 */
#define ELF_MACHINE_DATA        1       /* ELFDATA2LSB: little-endian */
#define ELF_MACHINE             3       /* EM_386 */
#define ELF_MACHINE_NAME        "i386"  /* for messages */
#define ELF_PLATFORM            "i686"  /* AT_PLATFORM, as Linux reports it */
/* i386 Linux gives both AT_PLATFORM and AT_HWCAP2 (asm/elf.h). */
#define ELF_AUXV_PLATFORM       1
#define ELF_AUXV_HWCAP2         1
/* Core files: the size of NT_PRSTATUS's register set (17 words). */
#define MACHINE_CORE_GREGS_SIZE 68

#endif
