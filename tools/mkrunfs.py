#!/usr/bin/env python3
"""Build the initramfs that `make run` boots.

  mkrunfs.py OUT.cpio [--outside DIR] PROGRAM...

With Debian's busybox-static in DIR (tools/fetch-outside.sh puts it in
build/outside), the image is a small Debian-like system: /bin/busybox with
a symlink for each of its applets at the place busybox itself lists
(`busybox --list-full`), bash if it was fetched too, /etc (passwd, group,
profile, motd from user/etc), /root, and Mercator's own programs (the
PROGRAMs, built from user/*.c) in /bin wherever busybox has no applet of
that name. /init is a symlink to busybox, started as "-sh": a login shell,
which reads /etc/profile.

Without busybox, the image is the project's own: its toy shell user/sh.c
as /init and the PROGRAMs in /bin, as before busybox could run.
"""
import argparse
import os
import stat
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mkinitramfs  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


def program(dest, path):
    return (dest, read(path), stat.S_IFREG | 0o755)


def symlink(dest, target):
    return (dest, target.encode(), stat.S_IFLNK | 0o777)


def directory(dest, mode):
    return (dest, b"", stat.S_IFDIR | mode)


def etc_files():
    etc = os.path.join(ROOT, "user/etc")
    return [("/etc/" + name, read(os.path.join(etc, name)),
             stat.S_IFREG | 0o644) for name in sorted(os.listdir(etc))]


def busybox_image(busybox, bash, programs):
    listing = subprocess.run([busybox, "--list-full"], capture_output=True,
                             text=True, check=True).stdout.split()
    files = [directory("/root", 0o700), directory("/tmp", 0o1777),
             program("/bin/busybox", busybox),
             symlink("/init", "/bin/busybox"),
             ("/.mercator-args", b"-sh\0", stat.S_IFREG | 0o644)]
    applets = set()
    for path in listing:
        applets.add(os.path.basename(path))
        if path != "bin/busybox":
            files.append(symlink("/" + path, "/bin/busybox"))
    if bash:
        files.append(program("/bin/bash", bash))
    for p in programs:
        name = os.path.basename(p)
        if name not in applets and name != "bash":
            files.append(program("/bin/" + name, p))
    return files + etc_files()


def toy_image(programs):
    shell = [p for p in programs if os.path.basename(p) == "sh"]
    if not shell:
        sys.exit("mkrunfs: no busybox and no toy shell (user/sh.c) to boot")
    return [program("/init", shell[0])] + \
        [program("/bin/" + os.path.basename(p), p) for p in programs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--outside", default=os.path.join(ROOT, "build/outside"))
    ap.add_argument("programs", nargs="*")
    args = ap.parse_args()
    busybox = os.path.join(args.outside, "busybox")
    bash = os.path.join(args.outside, "bash")
    if os.access(busybox, os.X_OK):
        files = busybox_image(busybox, bash if os.access(bash, os.X_OK)
                              else None, args.programs)
        what = "Debian's busybox sh"
    else:
        files = toy_image(args.programs)
        what = "the toy shell (busybox-static could not be fetched)"
    with open(args.out, "wb") as f:
        f.write(mkinitramfs.build(files))
    print(f"mkrunfs: {args.out}: {what}, {len(files)} entries")


if __name__ == "__main__":
    main()
