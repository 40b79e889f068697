/*
 * elf.h (riscv64) - which ELF executables this architecture runs, and how
 * the platform is named: ELF64 little-endian EM_RISCV (the psABI's lp64d
 * binaries Debian's riscv64 toolchain makes; e_flags are not checked, as
 * Linux does not check them either).
 */
#ifndef MACHINE_ELF_H
#define MACHINE_ELF_H

#define ELF_MACHINE_CLASS       2       /* ELFCLASS64 */
#define ELF_MACHINE_DATA        1       /* ELFDATA2LSB */
#define ELF_MACHINE             243     /* EM_RISCV */
#define ELF_MACHINE_NAME        "RISC-V"        /* for messages */
#define ELF_PLATFORM            "riscv64"       /* uname -m */
/* riscv64 Linux gives neither AT_PLATFORM nor AT_HWCAP2 (asm/elf.h has no
 * ELF_PLATFORM string or ELF_HWCAP2; seen on the referee, Linux 6.12). */
#define ELF_AUXV_PLATFORM       0
#define ELF_AUXV_HWCAP2         0
/* Core files: the size of NT_PRSTATUS's register set (pc, x1-x31). */
#define MACHINE_CORE_GREGS_SIZE 256

#endif
