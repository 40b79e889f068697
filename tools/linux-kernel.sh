#!/usr/bin/env bash
# linux-kernel.sh [DIR] - fetch Debian's stock kernel for `make bench`.
#
# The package is the one Debian's linux-image-amd64 depends on now (so it
# follows Debian's updates). It is downloaded with `apt-get download` and
# unpacked with `dpkg -x` into DIR (default build/linux/), never installed
# as this machine's kernel. Only boot/ is kept (the bzImage, its config and
# System.map), in DIR/PACKAGE/, which is the cache: a second run downloads
# nothing. Prints the bzImage's path; DIR/PACKAGE/package holds the name
# and version.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build/linux}
mkdir -p "$dir"

current_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}

pkg=$(current_package)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
  echo "linux-kernel: apt-cache knows no linux-image-amd64; apt-get update" >&2
  apt-get update -qq >&2
  pkg=$(current_package)
fi
if [ -z "$pkg" ]; then
  echo "linux-kernel: cannot name Debian's kernel package" \
       "(apt-cache depends linux-image-amd64 is empty; run apt-get update)" >&2
  exit 1
fi

out=$dir/$pkg
if ! ls "$out"/boot/vmlinuz-* >/dev/null 2>&1; then
  tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "linux-kernel: apt-get download $pkg" >&2
  (cd "$tmp" && apt-get download -q "$pkg" >&2)
  deb=$(ls "$tmp"/*.deb)
  dpkg -x "$deb" "$tmp/root"
  mkdir -p "$out.new"
  mv "$tmp/root/boot" "$out.new/boot"
  echo "$pkg $(dpkg-deb -f "$deb" Version)" > "$out.new/package"
  rm -rf "$out"
  mv "$out.new" "$out"
fi
ls "$out"/boot/vmlinuz-* | head -n1
