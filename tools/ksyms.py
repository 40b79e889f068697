#!/usr/bin/env python3
"""Write the kernel's symbol table (function names) as assembly.

  ksyms.py KERNEL.elf          table of KERNEL's text symbols, to stdout
  ksyms.py --empty             an empty table (for the first link)
  ksyms.py --verify A.elf B.elf
        check that every function has the same address in both links
"""
import subprocess
import sys


def text_symbols(elf):
    out = subprocess.run(["nm", "-n", "--defined-only", elf], check=True,
                         capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tT":
            syms.append((int(parts[0], 16), parts[2]))
    return syms


def emit(syms):
    print('\t.section .ksyms, "a"')
    print("\t.globl ksyms_count, ksyms_addr, ksyms_name_off, ksyms_names")
    print("\t.balign 8")
    print(f"ksyms_count:\t.quad {len(syms)}")
    print("ksyms_addr:")
    for addr, _ in syms:
        print(f"\t.quad {addr:#x}")
    print("ksyms_name_off:")
    off = 0
    for _, name in syms:
        print(f"\t.long {off}")
        off += len(name) + 1
    print("ksyms_names:")
    for _, name in syms:
        print(f'\t.asciz "{name}"')


def main():
    args = sys.argv[1:]
    if args == ["--empty"]:
        emit([])
    elif len(args) == 3 and args[0] == "--verify":
        a, b = dict((n, v) for v, n in text_symbols(args[1])), \
            dict((n, v) for v, n in text_symbols(args[2]))
        moved = [n for n in a if n in b and a[n] != b[n]]
        if moved:
            sys.exit(f"ksyms: functions moved between links: {moved[:5]}")
    elif len(args) == 1:
        emit(text_symbols(args[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
