"""The files a dynamically linked program needs, found as this machine's
loader would find them: its interpreter (PT_INTERP) and the libraries
`ldd` lists, each at its host path. Used by tools/run (--with, a dynamic
PROG) and tools/bench.py (Debian's /usr/bin/true and python3 on both
kernels)."""
import os
import re
import stat
import struct
import subprocess
import sys


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def elf_interp(data):
    """The path in an ELF64 file's PT_INTERP, or None (static, not ELF)."""
    if data[:5] != b"\x7fELF\x02" or len(data) < 64:
        return None
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + 56 > len(data):
            break
        p_type, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, at)
        if p_type == 3:                 # PT_INTERP
            return data[off:off + filesz].rstrip(b"\0").decode()
    return None


LDD_LINE = re.compile(r"^\s*(?:(\S+) => )?(/\S+) \(0x[0-9a-f]+\)$")


def ldd_paths(prog, interp):
    """The interpreter and the libraries the host's loader maps for prog,
    as ldd lists them (host paths), the interpreter first."""
    paths = [interp] if interp else []
    p = subprocess.run(["ldd", prog], capture_output=True, text=True)
    if p.returncode != 0:
        if not interp or "musl" in interp:  # static; musl's is its libc
            return paths
        sys.exit(f"ldd {prog} failed: {p.stderr.strip()}")
    for line in p.stdout.splitlines():
        if "not found" in line:
            sys.exit(f"ldd {prog}: {line.strip()}")
        m = LDD_LINE.match(line)
        if m and m.group(2) not in paths:
            paths.append(m.group(2))
    return paths


def tree_files(dest, src):
    """Every file, symlink and directory under src, placed under dest."""
    files = []
    for top, dirs, names in os.walk(src):
        rel = os.path.relpath(top, src)
        base = dest.rstrip("/") + ("" if rel == "." else "/" + rel)
        for name in sorted(dirs):
            path = os.path.join(top, name)
            if os.path.islink(path):
                files.append((base + "/" + name, os.readlink(path).encode(),
                              stat.S_IFLNK | 0o777))
            else:
                files.append((base + "/" + name, b"", stat.S_IFDIR |
                              stat.S_IMODE(os.stat(path).st_mode)))
        for name in sorted(names):
            path = os.path.join(top, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                files.append((base + "/" + name, os.readlink(path).encode(),
                              stat.S_IFLNK | 0o777))
            elif stat.S_ISREG(st.st_mode):
                files.append((base + "/" + name, read_file(path),
                              stat.S_IFREG | stat.S_IMODE(st.st_mode)))
    return files


def library_files(path, data):
    """The interpreter and libraries a dynamically linked program (or
    shared object) at host path (contents data) needs, at their host
    paths, as ldd finds them."""
    interp = elf_interp(data)
    # A shared object (an extension module, say) has no interpreter but
    # libraries of its own.
    if not interp and not (data[:4] == b"\x7fELF" and data[16] == 3):
        return []
    return [(lib, read_file(lib), stat.S_IFREG | 0o755)
            for lib in ldd_paths(path, interp)]


def program_files(path):
    """Program path (or shared object) at its host path, the libraries ldd
    lists for it, and the host's /etc/ld.so.cache: (dest, data, mode)."""
    data = read_file(path)
    files = [(path, data, stat.S_IFREG | 0o755)] + library_files(path, data)
    if os.path.exists("/etc/ld.so.cache"):
        files.append(("/etc/ld.so.cache", read_file("/etc/ld.so.cache"),
                      stat.S_IFREG | 0o644))
    return files
