#!/usr/bin/env bash
# apt-foreign.sh ARCH CMD ARGS... - run apt-get (CMD update, download) or
# apt-cache (CMD depends, policy, show) over a private apt state for
# another architecture's Debian packages: i386 from Debian 12 (bookworm;
# this machine is amd64 and has no i386 in its dpkg architectures),
# riscv64 from Debian 13 (trixie; Debian 12 has no riscv64 kernel or
# busybox). The same archive this machine's apt uses, in
# build/linux-ARCH/apt (its own sources list, lists and cache). This
# machine's apt state is not touched and nothing is installed. The lists
# are fetched once, when the first command finds none.
set -euo pipefail
arch=$1; shift
case $arch in
  i386) suite=bookworm ;;
  riscv64) suite=trixie ;;
  *) echo "apt-foreign.sh: no suite known for $arch" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
state=$root/build/linux-$arch/apt
mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)$|\1|p' \
           /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
  > "$state/sources.list"
opts=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
      -o "Dir::Cache=$state/cache"
      -o "Dir::Etc::SourceList=$state/sources.list"
      -o "Dir::Etc::SourceParts=/dev/null"
      -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
      -o "Debug::NoLocking=1")
if ! ls "$state"/lists/*_Packages* >/dev/null 2>&1; then
  apt-get "${opts[@]}" update -qq >&2
fi
case $1 in
  depends|policy|show) exec apt-cache "${opts[@]}" "$@" ;;
  *) exec apt-get "${opts[@]}" "$@" ;;
esac
