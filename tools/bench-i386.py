#!/usr/bin/env python3
"""Mercator's i386 kernel against Debian 12's 686-pae Linux, the same
static i386 binary (tools/bench-i386.c) on both, in the same QEMU
(qemu-system-i386, qemu32 with an AMD vendor string, one vCPU, -m 3G
unless --mem: most RAM is HIGHMEM, so the fault figures include reaching
pages through kmap_atomic).

  bench-i386.py [--boots 3] [--mem 3G] [--arch i386|i386-pae] [--cpu C]
                [--no-build]

Builds the binary (gcc -m32 -static), fetches the kernel
(tools/linux-kernel.sh --arch i386), boots each kernel --boots times,
alternating, one boot at a time, and prints per figure the median over
boots on each kernel and the ratio Mercator/Linux (below 1: Mercator is
faster), with the boot-to-boot spread (max - min) / median.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "i386", "bench-i386")
INIT = os.path.join(ROOT, "build", "i386", "referee_init")
LINE = re.compile(r"^@bench (\S+) ([0-9.]+)", re.M)


def build():
    subprocess.run(["make", "-s", "-C", ROOT, "i386", "i386-user"], check=True)
    subprocess.run(["gcc", "-m32", "-isystem",
                    os.path.join(ROOT, "build/i386/uinc"), "-static", "-O2",
                    "-Wall", "-Wextra", "-Werror", "-o", BIN,
                    os.path.join(ROOT, "tools/bench-i386.c")], check=True)


def boot(arch, mem, cpu, linux):
    cmd = [os.path.join(ROOT, "tools/run"), "--arch", arch, "--mem", mem,
           "--cpu", cpu, "--timeout", "900"]
    if linux:
        cmd += ["--linux", linux, "--linux-init", INIT]
    p = subprocess.run(cmd + [BIN], capture_output=True, text=True,
                       errors="replace", stdin=subprocess.DEVNULL)
    figures = {m.group(1): float(m.group(2)) for m in LINE.finditer(p.stdout)}
    if not figures:
        sys.exit(f"bench-i386: no figures from {'Linux' if linux else 'Mercator'}:"
                 f"\n{p.stdout[-2000:]}{p.stderr[-500:]}")
    return figures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--boots", type=int, default=3)
    ap.add_argument("--mem", default="3G")
    ap.add_argument("--arch", default="i386", choices=["i386", "i386-pae"])
    # qemu32 says GenuineIntel, and Linux then turns on page-table
    # isolation (a CR3 reload per system call, which TCG makes very slow):
    # an AMD vendor string, as MACHINE-NOTES advises for x86-64's bench.
    ap.add_argument("--cpu", default="qemu32,vendor=AuthenticAMD")
    ap.add_argument("--no-build", action="store_true",
                    help="use the kernels and binary already built")
    args = ap.parse_args()
    if not args.no_build:
        build()
    k = subprocess.run(["bash", os.path.join(ROOT, "tools/linux-kernel.sh"),
                        "--arch", "i386"], capture_output=True, text=True,
                       check=True).stdout.strip()
    runs = {"mercator": [], "linux": []}
    for i in range(args.boots):
        runs["mercator"].append(boot(args.arch, args.mem, args.cpu, None))
        runs["linux"].append(boot(args.arch, args.mem, args.cpu, k))
    print(f"i386 bench: {args.arch}, -cpu {args.cpu}, -m {args.mem}, "
          f"{args.boots} boots each; "
          f"Linux {os.path.basename(k)}")
    print(f"{'figure':24} {'Mercator ns':>12} {'Linux ns':>12} {'ratio':>7}  spread M/L")
    for name in runs["mercator"][0]:
        m = [r[name] for r in runs["mercator"]]
        l = [r[name] for r in runs["linux"] if name in r]
        mm, lm = statistics.median(m), statistics.median(l)
        print(f"{name:24} {mm:12.1f} {lm:12.1f} {mm / lm:7.2f}  "
              f"{(max(m) - min(m)) / mm:.0%}/{(max(l) - min(l)) / lm:.0%}")


if __name__ == "__main__":
    main()
