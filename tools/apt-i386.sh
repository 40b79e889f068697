#!/usr/bin/env bash
# apt-i386.sh CMD ARGS... - run apt-get (CMD update, download) or
# apt-cache (CMD depends, policy) over a private apt state for Debian 12's
# i386 packages (this machine is amd64 and has no i386 in its dpkg
# architectures): the same archive this machine's apt uses, suite
# bookworm, in build/linux-i386/apt (its own sources list, lists and
# cache), as tools/apt-riscv64.sh does for riscv64. This machine's apt
# state is not touched and nothing is installed. The lists are fetched
# once, when the first command finds none.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state=$root/build/linux-i386/apt
mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)$|\1|p' \
           /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
echo "deb [arch=i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" \
  > "$state/sources.list"
opts=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
      -o "Dir::Cache=$state/cache"
      -o "Dir::Etc::SourceList=$state/sources.list"
      -o "Dir::Etc::SourceParts=/dev/null"
      -o "APT::Architecture=i386" -o "APT::Architectures::=i386"
      -o "Debug::NoLocking=1")
if ! ls "$state"/lists/*_Packages* >/dev/null 2>&1; then
  apt-get "${opts[@]}" update -qq >&2
fi
case $1 in
  depends|policy|show) exec apt-cache "${opts[@]}" "$@" ;;
  *) exec apt-get "${opts[@]}" "$@" ;;
esac
