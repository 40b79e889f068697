#!/usr/bin/env python3
"""Write a cpio "newc" archive (the initramfs format) from a list of files.

  mkinitramfs.py OUT.cpio DEST=SRC [DEST=SRC ...]

DEST is the path inside the archive (e.g. /init), SRC a file on this
machine. Parent directories are added as needed. Executable bits are kept.
"""
import os
import stat
import sys


def entry(name, mode, data, ino):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def build(files):
    """files: list of (dest, data, mode). Returns the archive bytes.

    A regular file's data is its contents, a symlink's (S_IFLNK) its
    target; a directory (S_IFDIR, data b"") may be listed to give it a
    mode of its own or to have it exist empty."""
    out, dirs, ino = [], set(), 1
    for dest, data, mode in files:
        parts = dest.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                out.append(entry(d, stat.S_IFDIR | 0o755, b"", ino))
                ino += 1
        name = "/".join(parts)
        if stat.S_ISDIR(mode):
            if name in dirs:
                continue
            dirs.add(name)
        out.append(entry(name, mode, data, ino))
        ino += 1
    out.append(entry("TRAILER!!!", 0, b"", 0))
    return b"".join(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    files = []
    for spec in sys.argv[2:]:
        dest, _, src = spec.partition("=")
        with open(src, "rb") as f:
            data = f.read()
        perm = 0o755 if os.stat(src).st_mode & 0o111 else 0o644
        files.append((dest, data, stat.S_IFREG | perm))
    with open(sys.argv[1], "wb") as f:
        f.write(build(files))


if __name__ == "__main__":
    main()
