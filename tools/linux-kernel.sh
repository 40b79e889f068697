#!/usr/bin/env bash
# linux-kernel.sh [--arch ARCH] [DIR] - fetch Debian's stock kernel: for
# `make bench` (x86_64, the default) and as the referee the riscv64 user
# tier runs each test on first (riscv64).
#
# x86_64: the package is the one Debian's linux-image-amd64 depends on now
# (so it follows Debian's updates), from this machine's apt sources.
# riscv64: Debian 12 has no riscv64 kernel, so the package comes from
# Debian 13 (trixie) of the same archive, through the private apt state of
# tools/apt-foreign.sh riscv64 (this machine's apt is not touched): the one
# linux-image-riscv64 depends on.
# i386: Debian 12's 686-pae kernel (PAE, so HIGHMEM up to 64 GiB), the one
# linux-image-686-pae depends on, through tools/apt-foreign.sh's private apt
# state for bookworm's i386 packages.
#
# It is downloaded with `apt-get download` and unpacked with `dpkg -x` into
# DIR (default build/linux/, build/linux-riscv64/ for riscv64), never
# installed as this machine's kernel. Only boot/ is kept (the image, its
# config and System.map), in DIR/PACKAGE/, which is the cache: a second run
# downloads nothing. Prints the image's path; DIR/PACKAGE/package holds the
# name and version.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
arch=x86_64
if [ "${1:-}" = --arch ]; then
  arch=$2
  shift 2
fi
case $arch in
  x86_64)  meta=linux-image-amd64 image=vmlinuz dir=${1:-$root/build/linux}
           ;;
  riscv64) meta=linux-image-riscv64 image=vmlinux
           dir=${1:-$root/build/linux-riscv64} ;;
  i386)    meta=linux-image-686-pae image=vmlinuz
           dir=${1:-$root/build/linux-i386} ;;
  *) echo "linux-kernel: no referee kernel for $arch" >&2; exit 1 ;;
esac
mkdir -p "$dir"

# riscv64's (Debian 13) and i386's (Debian 12) packages come through
# tools/apt-foreign.sh's private apt state.
apt_cache() {
  if [ "$arch" = x86_64 ]; then apt-cache "$@"
  else bash "$root/tools/apt-foreign.sh" "$arch" "$@"; fi
}
apt_get() {
  if [ "$arch" = x86_64 ]; then apt-get "$@"
  else bash "$root/tools/apt-foreign.sh" "$arch" "$@"; fi
}

current_package() {
  { apt_cache depends "$meta" 2>/dev/null || true; } |
    sed -n "s/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p" | head -n1
}

# A cached kernel is used as it is (no network needed).
cached=$(ls "$dir"/linux-image-*/boot/$image-* 2>/dev/null | head -n1 || true)
if [ -n "$cached" ] && [ "$arch" != x86_64 ]; then
  echo "$cached"
  exit 0
fi

pkg=$(current_package)
if [ -z "$pkg" ] && { [ "$(id -u)" -eq 0 ] || [ "$arch" != x86_64 ]; }; then
  echo "linux-kernel: apt-cache knows no $meta; apt-get update" >&2
  apt_get update -qq >&2
  pkg=$(current_package)
fi
if [ -z "$pkg" ]; then
  echo "linux-kernel: cannot name Debian's kernel package" \
       "(apt-cache depends $meta is empty; run apt-get update)" >&2
  exit 1
fi

out=$dir/$pkg
# x86_64 keeps the virtio disk's modules too (make bench's swap boots load
# them: Debian builds virtio, virtio_pci and virtio_blk as modules); a
# cache from before they were kept is fetched again.
need_modules=$([ "$arch" = x86_64 ] && echo 1 || true)
if ! ls "$out"/boot/$image-* >/dev/null 2>&1 ||
   { [ -n "$need_modules" ] && ! ls "$out"/modules/virtio_blk.ko >/dev/null 2>&1; }; then
  tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
  chmod 755 "$tmp"                # apt's sandbox user writes here
  trap 'rm -rf "$tmp"' EXIT
  echo "linux-kernel: apt-get download $pkg" >&2
  (cd "$tmp" && apt_get download -q "$pkg" >&2)
  deb=$(ls "$tmp"/*.deb)
  dpkg -x "$deb" "$tmp/root"
  mkdir -p "$out.new"
  mv "$tmp/root/boot" "$out.new/boot"
  if [ -n "$need_modules" ]; then
    # uncompressed .ko files (Debian 12 ships them so); an .ko.xz would
    # be unpacked here, since the guest's finit_module gets no flags
    mkdir -p "$out.new/modules"
    find "$tmp/root/lib/modules" -type f \( -name 'virtio.ko*' \
         -o -name 'virtio_ring.ko*' -o -name 'virtio_pci*.ko*' \
         -o -name 'virtio_blk.ko*' \) |
      while read -r ko; do
        case $ko in
          *.xz) xz -dc "$ko" > "$out.new/modules/$(basename "${ko%.xz}")" ;;
          *.zst) zstd -qdc "$ko" > "$out.new/modules/$(basename "${ko%.zst}")" ;;
          *) cp "$ko" "$out.new/modules/" ;;
        esac
      done
  fi
  echo "$pkg $(dpkg-deb -f "$deb" Version)" > "$out.new/package"
  rm -rf "$out"
  mv "$out.new" "$out"
fi
ls "$out"/boot/$image-* | head -n1
