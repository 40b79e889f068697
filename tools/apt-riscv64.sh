#!/usr/bin/env bash
# apt-riscv64.sh CMD ARGS... - run apt-get (CMD update, download) or
# apt-cache (CMD depends, policy) over a private apt state for Debian 13's
# riscv64 packages (Debian 12, this machine's, has no riscv64 kernel or
# busybox): the same archive this machine's apt uses, suite trixie, in
# build/linux-riscv64/apt (its own sources list, lists and cache). This
# machine's apt state is not touched and nothing is installed. The lists
# are fetched once, when the first command finds none.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state=$root/build/linux-riscv64/apt
mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)$|\1|p' \
           /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
echo "deb [arch=riscv64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
  > "$state/sources.list"
opts=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
      -o "Dir::Cache=$state/cache"
      -o "Dir::Etc::SourceList=$state/sources.list"
      -o "Dir::Etc::SourceParts=/dev/null"
      -o "APT::Architecture=riscv64" -o "APT::Architectures::=riscv64"
      -o "Debug::NoLocking=1")
if ! ls "$state"/lists/*_Packages* >/dev/null 2>&1; then
  apt-get "${opts[@]}" update -qq >&2
fi
case $1 in
  depends|policy|show) exec apt-cache "${opts[@]}" "$@" ;;
  *) exec apt-get "${opts[@]}" "$@" ;;
esac
