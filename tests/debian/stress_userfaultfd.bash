# Debian's stress-ng --userfaultfd with its own verification on, on Linux
# and on Mercator: a process sharing the stressor's memory (CLONE_VM)
# faults on a registered 256 MiB region page by page, the stressor serves
# each fault with UFFDIO_COPY or UFFDIO_ZEROPAGE and wakes it, then drops
# the pages (MADV_DONTNEED) and goes round again; it also checks that
# bad userfaultfd flags are refused. Passes when stress-ng exits 0 with
# no failure in its log.
# with: stress-ng grep mktemp head rm
set -u
export LC_ALL=C PATH=/usr/bin:/bin
dir=$(mktemp -d) && cd "$dir" || exit 1
trap 'cd / && rm -rf "$dir"' EXIT
stress-ng --userfaultfd 1 --userfaultfd-ops 300 --verify --metrics-brief > log 2>&1
st=$?
bad=$(grep -c -i -E 'fail|verif.*error|corrupt' log)
echo "userfaultfd status $st failures $bad"
[ "$st" = 0 ] && [ "$bad" = 0 ] || grep -i -E 'fail|error' log | head -5
