#!/usr/bin/env python3
"""Boot Mercator in QEMU (TCG).

  qemu.py [--arch x86_64|i386|i386-pae|riscv64] [--mem 256M] [--cpu qemu64]
          [--smp N] [--append ARGS] [--drive IMAGE]...
          [--initrd FILE] [--interactive] [--gdb] [--timeout SECONDS]
          KERNEL.elf

x86_64 boots the PVH kernel with qemu-system-x86_64 (CPU qemu64); i386 the
Multiboot kernel with qemu-system-i386 (CPU qemu32); riscv64 the ELF kernel
on qemu-system-riscv64's virt board with OpenSBI as firmware (-bios
default), which enters it in S-mode at 0x80200000.

Not interactive: the serial console goes to stdout, and the exit status is
the kernel's: on x86, machine_poweroff(n) leaves QEMU with (n << 1) | 1
through the isa-debug-exit device, which is turned back into n here; on
riscv64 the sifive_test device makes QEMU exit with n itself. A timeout exits 124.

--drive attaches a raw disk image as a virtio block device (x86_64: PCI
virtio-blk, the kernel's vda, vdb, ... in order).
"""
import argparse
import os
import subprocess
import sys


# --arch -> (QEMU binary, default CPU, the kernel `make` builds). The one
# table of what each architecture's QEMU machine is; build_command() below
# is the one place a QEMU command line is built (tools/run, tools/test.py
# through this script, tools/bench.py).
ARCHES = {"x86_64": ("qemu-system-x86_64", "qemu64", "build/mercator.elf"),
          "i386": ("qemu-system-i386", "qemu32", "build/i386/mercator.elf"),
          # PAE with RAM above 4 GiB: qemu-system-i386 cannot widen the
          # physical address width, qemu-system-x86_64 -cpu max can.
          "i386-pae": ("qemu-system-x86_64", "max",
                       "build/i386-pae/mercator.elf"),
          "riscv64": ("qemu-system-riscv64", "rv64",
                      "build/riscv64/mercator.elf")}


def default_kernel(arch):
    """The path of the kernel `make` builds for arch."""
    return os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), ARCHES[arch][2])


def build_command(arch, kernel, mem, cpu=None, append="", initrd=None,
                  interactive=False, gdb=False, smp=1, drives=()):
    """The QEMU command line that boots kernel on arch's machine. How a
    test exits: x86 through isa-debug-exit (status 2n+1, kernel_status()),
    riscv64 through the virt board's sifive_test device."""
    binary, default_cpu, _ = ARCHES[arch]
    cmd = [binary, "-accel", "tcg", "-cpu", cpu or default_cpu,
           "-m", mem, "-smp", str(smp), "-kernel", kernel,
           "-display", "none", "-no-reboot"]
    if arch == "riscv64":
        cmd += ["-machine", "virt", "-bios", "default"]
    else:
        cmd += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if arch in ("i386", "i386-pae"):
        cmd += ["-net", "none"]     # else the iPXE option ROM runs
    if append:
        cmd += ["-append", append]
    if initrd:
        cmd += ["-initrd", initrd]
    if interactive:
        cmd += ["-serial", "mon:stdio"]     # Ctrl-A X quits
    else:
        cmd += ["-serial", "stdio", "-monitor", "none"]
    if gdb:
        cmd += ["-s", "-S"]
    for image in drives:
        cmd += ["-drive", f"file={image},if=virtio,format=raw"]
    return cmd


def qemu_command(args):
    """build_command() from this script's parsed arguments."""
    return build_command(args.arch, args.kernel, args.mem, args.cpu,
                         args.append, args.initrd, args.interactive, args.gdb,
                         args.smp, args.drive)


def kernel_status(rc, arch="x86_64"):
    """QEMU's exit code -> the status the kernel powered off with."""
    if arch == "riscv64":
        return rc
    if rc >= 1 and rc & 1:
        return rc >> 1
    return 128 + rc if rc else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mem", default="256M")
    ap.add_argument("--arch", choices=sorted(ARCHES), default="x86_64")
    ap.add_argument("--cpu", default=None)
    ap.add_argument("--smp", type=int, default=1,
                    help="CPUs QEMU gives the machine (-smp)")
    ap.add_argument("--append", default="")
    ap.add_argument("--drive", action="append", default=[],
                    help="a raw disk image as a virtio block device")
    ap.add_argument("--initrd")
    ap.add_argument("--interactive", action="store_true")
    ap.add_argument("--gdb", action="store_true")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("kernel")
    args = ap.parse_args()

    cmd = qemu_command(args)
    if args.gdb:
        print("QEMU waits for GDB. In another terminal:\n"
              f"  gdb {args.kernel} -ex 'target remote :1234' "
              "-ex 'break kmain' -ex continue\n", file=sys.stderr)
    if args.interactive:
        print("(Ctrl-A X quits QEMU)", file=sys.stderr)
        os.execvp(cmd[0], cmd)
    try:
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                            timeout=args.timeout).returncode
    except subprocess.TimeoutExpired:
        print(f"\nqemu.py: timed out after {args.timeout} s", flush=True)
        sys.exit(124)
    sys.exit(kernel_status(rc, args.arch))


if __name__ == "__main__":
    main()
