#!/usr/bin/env bash
# Fetch the outside referees: Debian's own busybox-static and bash-static
# (unmodified glibc-static binaries), unpacked into build/outside/. They
# are downloaded with `apt-get download` and never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
# --arch riscv64 | i386: that architecture's Debian busybox-static (riscv64
# from Debian 13, i386 from Debian 12), through the private apt state of
# tools/apt-foreign.sh, into build/outside-ARCH/.
if [ "${1:-}" = --arch ] && { [ "${2:-}" = riscv64 ] || [ "${2:-}" = i386 ]; }; then
  dest=build/outside-$2
  [ -x $dest/busybox ] && exit 0
  rm -rf $dest/debs && mkdir -p $dest/debs
  chmod 755 $dest/debs            # apt's sandbox user writes here
  (cd $dest/debs && bash ../../../tools/apt-foreign.sh "$2" download -qq \
     busybox-static >/dev/null)
  dpkg-deb -x $dest/debs/busybox-static_*.deb $dest/debs/x
  # /usr/bin in Debian 13, /bin in Debian 12
  cp "$(ls $dest/debs/x/usr/bin/busybox $dest/debs/x/bin/busybox 2>/dev/null | head -n1)" \
     $dest/busybox
  rm -rf $dest/debs
  exit 0
fi
# --trinity: Debian's trinity (the system-call fuzzer, dynamically linked
# against glibc) into build/outside/trinity.
if [ "${1:-}" = --trinity ]; then
  dest=build/outside
  [ -x $dest/trinity ] && exit 0
  rm -rf $dest/tdebs && mkdir -p $dest/tdebs
  if ! (cd $dest/tdebs && apt-get download -qq trinity >/dev/null 2>&1); then
    [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null
    (cd $dest/tdebs && apt-get download -qq trinity >/dev/null)
  fi
  dpkg-deb -x $dest/tdebs/trinity_*.deb $dest/tdebs/x
  cp $dest/tdebs/x/usr/bin/trinity $dest/trinity
  rm -rf $dest/tdebs
  exit 0
fi
dest=build/outside
[ -x $dest/busybox ] && [ -x $dest/bash ] && exit 0
mkdir -p $dest/debs
cd $dest/debs
if ! apt-get download -qq busybox-static bash-static >/dev/null 2>&1; then
  # A fresh machine may have no package lists yet.
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq >/dev/null
    apt-get download -qq busybox-static bash-static >/dev/null
  else
    echo "fetch-outside: apt-get download busybox-static bash-static failed" >&2
    exit 1
  fi
fi
for deb in busybox-static_*.deb bash-static_*.deb; do
  dpkg-deb -x "$deb" x
done
cp x/bin/busybox ../busybox
cp x/bin/bash-static ../bash
cd .. && rm -rf debs
echo "fetch-outside: $(./busybox | head -1)"
