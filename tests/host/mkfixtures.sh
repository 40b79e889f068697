#!/usr/bin/env bash
# mkfixtures.sh OUTDIR - build the host tests' fixtures into OUTDIR
# (make: build/fixtures, see fixtures.mk). Nothing here is committed.
#
#   hello-static        musl-gcc -static: ET_EXEC, no PT_PHDR
#   hello-static-pie    static PIE: ET_DYN without PT_INTERP (rcrt1.o)
#   hello-dynamic       dynamic PIE: has PT_INTERP (must be refused)
#   stackdump-static    prints the stack Linux built for it (test_ustack)
#   stackdump-pie       the same as a static PIE (test_elf)
#   initramfs.cpio      GNU cpio -H newc of root/ (layout below)
#   extra.cpio          a second archive, for concatenation tests
#   swap-4m.hdr         the first 4 KiB of a 4 MiB file Debian's mkswap
#                       (util-linux) prepared, label "mercswap" and a fixed
#                       UUID (test_swap_slots)
#
# Needs musl-gcc (musl-tools), cpio, python3 and mkswap (util-linux). Debian's musl-gcc specs
# know nothing of -static-pie, so that link names musl's start files itself.
set -euo pipefail

out=${1:?usage: mkfixtures.sh OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)/fixtures
MTIME=1700000000                # every file's mtime, so tests can check it

static_pie() {                  # static_pie SRC OUT
        bash "$(dirname "$0")/../../tools/static-pie-cc" "$2" "$1" -O2
}

build_binaries() {
        musl-gcc -O2 -static -o "$out/hello-static" "$src/hello.c"
        static_pie "$src/hello.c" "$out/hello-static-pie"
        musl-gcc -O2 -fPIE -pie -o "$out/hello-dynamic" "$src/hello.c"
        musl-gcc -O2 -static -o "$out/stackdump-static" "$src/stackdump.c"
        static_pie "$src/stackdump.c" "$out/stackdump-pie"
}

# The tree test_initramfs.c expects; keep the two in step.
build_root() {
        local r=$1
        rm -rf "$r"
        mkdir -p "$r"/bin "$r"/etc "$r"/usr/lib "$r"/mnt "$r"/deep/a/b/c/d
        cp "$out/hello-static" "$r/bin/hello"
        cp "$out/hello-static-pie" "$r/bin/hello-pie"
        ln -s hello "$r/bin/sh"                 # relative symlink
        ln -s /bin/hello "$r/bin/abs"           # absolute symlink
        ln -s loop2 "$r/bin/loop1"
        ln -s loop1 "$r/bin/loop2"
        ln -s usr/lib "$r/lib"                  # symlink to a directory
        ln -s ../../nowhere "$r/bin/dangling"
        printf 'Welcome to Mercator!\n' > "$r/etc/motd"         # 21 bytes
        ln "$r/etc/motd" "$r/etc/motd.link"     # hard link: data stored once
        python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7 + 3) & 0xff for i in range(10000)))' > "$r/etc/big"
        printf 'lib\n' > "$r/usr/lib/libx.txt"
        printf 'deep\n' > "$r/deep/a/b/c/d/file"
        : > "$r/etc/empty"
        chmod 0755 "$r/bin/hello" "$r/bin/hello-pie"
        chmod 0600 "$r/etc/big"
        chown 1000:1000 "$r/usr/lib/libx.txt" 2>/dev/null || true
        find "$r" -exec touch -h -d "@$MTIME" {} +
}

build_archive() {               # build_archive DIR OUT
        (cd "$1" && find . | LC_ALL=C sort |
                cpio -o -H newc --reproducible --quiet) > "$2"
}

mkdir -p "$out"
build_binaries
build_root "$out/root"
build_archive "$out/root" "$out/initramfs.cpio"
rm -rf "$out/root2"
mkdir -p "$out/root2/etc"
printf 'Second archive\n' > "$out/root2/etc/motd"
printf 'extra\n' > "$out/root2/extra.txt"
find "$out/root2" -exec touch -h -d "@$MTIME" {} +
build_archive "$out/root2" "$out/extra.cpio"

# mkswap lives in /sbin, which an ordinary user's PATH may lack.
mkswap=$(PATH=$PATH:/usr/sbin:/sbin command -v mkswap)
rm -f "$out/swap-4m.img"
truncate -s 4M "$out/swap-4m.img"
"$mkswap" -q -L mercswap -U 6d657263-6174-6f72-2d73-776170000001 \
        "$out/swap-4m.img" 2>/dev/null
head -c 4096 "$out/swap-4m.img" > "$out/swap-4m.hdr"
rm -f "$out/swap-4m.img"
