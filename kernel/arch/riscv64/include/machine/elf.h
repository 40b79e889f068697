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
#define ELF_PLATFORM            "riscv64"       /* uname -m, AT_PLATFORM */

#endif
