# Debian's stress-ng: its VM stressors for a fixed number of operations,
# each with its own verification on (--verify), on Linux and on Mercator.
# A stressor passes when stress-ng exits 0 and reports no failed
# verification; the script prints one line per stressor.
# with: stress-ng grep mktemp head rm
# soak: about 5 minutes under TCG on a loaded machine: make soak only
set -u
export LC_ALL=C PATH=/usr/bin:/bin
work=$(mktemp -d) && cd "$work" || exit 1
trap 'cd / && rm -rf "$work"' EXIT
run() {
        local name=$1; shift
        stress-ng "$@" --verify --metrics-brief > log 2>&1
        local st=$?
        # a verification failure is a "fail" line; an ops count below the
        # asked one would be a stressor that stopped early
        local bad=$(grep -c -i -E 'fail|verif.*error|corrupt' log)
        echo "$name status $st failures $bad"
        [ "$st" = 0 ] && [ "$bad" = 0 ] || grep -i -E 'fail|error' log | head -5
}
run vm        --vm 1 --vm-bytes 4m --vm-ops 20
run mmap      --mmap 1 --mmap-bytes 1m --mmap-ops 4
run mremap    --mremap 1 --mremap-bytes 1m --mremap-ops 4
run madvise   --madvise 1 --madvise-ops 4
run mprotect  --mprotect 1 --mprotect-ops 10
run brk       --brk 1 --brk-ops 500
run stack     --stack 1 --stack-ops 2
run fork      --fork 1 --fork-ops 50
run vfork     --vfork 1 --vfork-ops 50
run malloc    --malloc 1 --malloc-ops 500
run shm       --shm 1 --shm-bytes 1m --shm-ops 2
run shm-sysv  --shm-sysv 1 --shm-sysv-bytes 1m --shm-sysv-ops 4
run mlock     --mlock 1 --mlock-ops 4
run memfd     --memfd 1 --memfd-bytes 2m --memfd-fds 16 --memfd-ops 2
echo done
