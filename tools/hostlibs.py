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


def elf_header(data):
    """(64-bit?, e_machine) of an ELF file, or None."""
    if data[:4] != b"\x7fELF" or len(data) < 52 or data[4] not in (1, 2):
        return None
    return data[4] == 2, struct.unpack_from("<H", data, 18)[0]


def elf_segments(data):
    """The program headers of an ELF32 or ELF64 file (little-endian), as
    (p_type, p_offset, p_vaddr, p_filesz) tuples."""
    head = elf_header(data)
    if not head:
        return []
    if head[0]:
        phoff, = struct.unpack_from("<Q", data, 32)
        phentsize, phnum = struct.unpack_from("<HH", data, 54)
        form, fields = "<IIQQQQ", (0, 2, 3, 5)
    else:
        phoff, = struct.unpack_from("<I", data, 28)
        phentsize, phnum = struct.unpack_from("<HH", data, 42)
        form, fields = "<IIIIII", (0, 1, 2, 4)
    segs = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + struct.calcsize(form) > len(data):
            break
        v = struct.unpack_from(form, data, at)
        segs.append(tuple(v[f] for f in fields))
    return segs


def elf_interp(data):
    """The path in an ELF file's PT_INTERP, or None (static, not ELF)."""
    for p_type, off, _, filesz in elf_segments(data):
        if p_type == 3:                 # PT_INTERP
            return data[off:off + filesz].rstrip(b"\0").decode()
    return None


def elf_needed(data):
    """The DT_NEEDED names of an ELF file's dynamic section."""
    head, segs = elf_header(data), elf_segments(data)
    dyn = [s for s in segs if s[0] == 2]                   # PT_DYNAMIC
    if not head or not dyn:
        return []
    word = "<qQ" if head[0] else "<iI"
    size = struct.calcsize(word)
    entries, at = [], dyn[0][1]
    while at + size <= len(data):
        tag, val = struct.unpack_from(word, data, at)
        if tag == 0:
            break
        entries.append((tag, val))
        at += size

    def offset(vaddr):                  # through the PT_LOAD holding it
        for p_type, off, va, filesz in segs:
            if p_type == 1 and va <= vaddr < va + filesz:
                return off + vaddr - va
        return None
    strtab = next((offset(v) for t, v in entries if t == 5), None)  # DT_STRTAB
    if strtab is None:
        return []
    return [data[strtab + v:data.index(b"\0", strtab + v)].decode()
            for t, v in entries if t == 1]                          # DT_NEEDED


# Programs for another machine (a riscv64 program run by tools/run --arch
# riscv64) find their interpreter and libraries in Debian's cross
# toolchain's tree, as that machine's loader would find them in /lib.
CROSS_LIBS = {243: "/usr/riscv64-linux-gnu/lib"}           # EM_RISCV
HOST_MACHINES = (62, 3)                 # EM_X86_64, and EM_386 (multilib)


def cross_paths(data, interp, libdir):
    """(target path, host path) of the interpreter and every library the
    program needs, DT_NEEDED followed through the libraries: each from
    libdir, the interpreter at its PT_INTERP path, the rest in /lib."""
    pairs = [(interp, os.path.join(libdir, os.path.basename(interp)))]
    todo, seen = elf_needed(data), set()
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        host = os.path.join(libdir, name)
        if not os.path.exists(host):
            sys.exit(f"{name}: not in {libdir}")
        if os.path.basename(interp) != name:
            pairs.append(("/lib/" + name, host))
        todo += elf_needed(read_file(host))
    return pairs


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
    shared object) at host path (contents data) needs: at their host
    paths, as ldd finds them; for another machine's program, from its
    cross toolchain's tree (CROSS_LIBS)."""
    interp = elf_interp(data)
    head = elf_header(data)
    # A shared object (an extension module, say) has no interpreter but
    # libraries of its own.
    if not interp and not (head and data[16] == 3):
        return []
    if head and head[1] not in HOST_MACHINES:
        libdir = CROSS_LIBS.get(head[1])
        if not libdir or not interp:
            sys.exit(f"{path}: no libraries known for ELF machine {head[1]}")
        return [(dest, read_file(host), stat.S_IFREG | 0o755)
                for dest, host in cross_paths(data, interp, libdir)]
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
