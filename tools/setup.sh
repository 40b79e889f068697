#!/usr/bin/env bash
# Install what Mercator's build, run and tests need, if anything is missing.
# On Debian as root it uses apt-get; otherwise it says what to install.
set -euo pipefail

# command -> Debian package
declare -A need=(
  [qemu-system-x86_64]=qemu-system-x86
  [qemu-system-i386]=qemu-system-x86
  [clang]=clang
  [gcc]=gcc
  [ld.lld]=lld
  [musl-gcc]=musl-tools
  [python3]=python3
  [nm]=binutils
  [make]=make
  [gdb]=gdb
  [cpio]=cpio
  # Debian's own programs as tests (issue 19, tests/debian): gawk is not
  # in a minimal Debian 12 (mawk is).
  [gawk]=gawk
  [stress-ng]=stress-ng
  # RISC-V (issue 13): QEMU's virt board with OpenSBI, and static glibc
  # riscv64 user programs (not gcc-multilib: it conflicts with this).
  [qemu-system-riscv64]=qemu-system-misc
  [riscv64-linux-gnu-gcc]=gcc-riscv64-linux-gnu
  # The view tier (issue 18): Debian's chromium, headless, loads the page
  # tools/vmview draws; the tier is skipped with a message without it.
  [chromium]=chromium
)

missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# mkswap (util-linux) prepares the swap images of the host and kernel
# tests; it lives in /sbin, which an ordinary user's PATH may lack.
if ! PATH=$PATH:/usr/sbin:/sbin command -v mkswap >/dev/null 2>&1; then
  missing+=(util-linux)
fi
# ASan/UBSan runtimes for the host tests come with clang's libclang-rt.
if ! command -v clang >/dev/null 2>&1 ||
   ! echo 'int main(void){return 0;}' |
     clang -x c -fsanitize=address,undefined -o /dev/null - >/dev/null 2>&1; then
  missing+=(libclang-rt-14-dev)
fi
# The i386 kernel's 64-bit division comes from compiler-rt's builtins.
if ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.builtins-i386.a \
     >/dev/null 2>&1; then
  missing+=(libclang-rt-14-dev)
fi

# The riscv64 cross compiler's static C library (crt1.o, libc.a).
if [ ! -e /usr/riscv64-linux-gnu/lib/libc.a ]; then
  missing+=(libc6-dev-riscv64-cross)
fi
# i386 user programs (issue 14): gcc -m32 -static needs the 32-bit C
# library and libgcc (not gcc-multilib, which conflicts with riscv64's).
if [ ! -e /usr/lib32/libc.a ]; then
  missing+=(libc6-dev-i386)
fi
if ! ls /usr/lib/gcc/x86_64-linux-gnu/*/32/libgcc.a >/dev/null 2>&1; then
  missing+=(lib32gcc-12-dev)
fi
# The typed bash session (tests/outside/bash_typed.input) gives bash the
# linux console's terminfo entry, as a Debian system has it.
if [ ! -e /lib/terminfo/l/linux ]; then
  missing+=(ncurses-base)
fi
# OpenSBI's firmware image comes with qemu-system-data (-bios default).
if [ ! -e /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin ] &&
   [ ! -e /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.elf ]; then
  missing+=(opensbi)
fi

# make bench draws its charts with Debian's matplotlib (the system python).
if [ "${MERCATOR_SETUP_BENCH:-}" = 1 ] &&
   ! /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
  missing+=(python3-matplotlib)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo
  else
    echo "setup: please install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
else SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
