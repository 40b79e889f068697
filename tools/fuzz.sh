#!/usr/bin/env bash
# fuzz.sh SECONDS - build the libFuzzer targets of tests/fuzz/ into
# build/fuzz/ and run each for SECONDS, one line per target:
#
#   PASS fuzz/<name>: <runs> runs in <s> s
#   FAIL fuzz/<name>: <reason> (input: build/fuzz/<name>-crash-..., log: ...)
#
# Exits non-zero if a target crashed (or could not be built or seeded).
# Every run starts from a fresh corpus, build/fuzz/corpus-<name>, seeded:
#   elf  the real binaries of build/fixtures (built by `make fixtures`,
#        never committed), whole and cut to their first KiB;
#   vm   a few pseudo-random programs (every byte string is one), and two
#        written to start from huge pages (policy always: map 2 MiB, write,
#        fork, write in the child, mprotect and munmap inside it; policy
#        madvise: MADV_HUGEPAGE, write, fork, mremap).
# The full output of each run is build/fuzz/<name>.log; a crashing input
# is saved beside it. Replay one with: build/fuzz/fuzz_<name> <input>.
set -uo pipefail

secs=${1:?usage: tools/fuzz.sh SECONDS}
cd "$(dirname "$0")/.." || exit 2
out=build/fuzz
mkdir -p "$out"
status=0

fail() {                        # fail NAME REASON
        echo "FAIL fuzz/$1: $2"
        status=1
}

if ! make --no-print-directory -s -f tests/fuzz/fuzz.mk -j2 \
        >"$out/build.log" 2>&1; then
        tail -20 "$out/build.log" | sed 's/^/    | /'
        fail build "make -f tests/fuzz/fuzz.mk failed (see $out/build.log)"
        exit 1
fi

seed_elf() {                    # seed_elf DIR
        make --no-print-directory -s fixtures >"$out/fixtures.log" 2>&1 ||
                return 1
        local n=0 f
        for f in build/fixtures/*; do
                [[ -f $f && $(head -c 4 "$f" | od -An -c | tr -d ' ') == 177ELF ]] ||
                        continue
                cp "$f" "$1/$(basename "$f")"
                head -c 1024 "$f" >"$1/$(basename "$f").head"
                n=$((n + 1))
        done
        [[ $n -gt 0 ]]
}

seed_vm() {                     # seed_vm DIR
        python3 - "$1" <<'EOF'
import random, sys
r = random.Random(6)
for i in range(16):
    with open(f"{sys.argv[1]}/random-{i}", "wb") as f:
        f.write(bytes(r.randrange(256) for _ in range(64 << (i % 4))))
# tests/fuzz/fuzz_vm.c's operations, byte by byte (see its op_* and arg_*).
huge = {
    "huge-always": "01 0000 03000400008c0302 0d0004100001 0200 0d0100070001"
                   " 07000005000101 0d0000090001 060000200002 0d0000300001",
    "huge-madvise": "00 0000 03000400008d0302 09000400008c09 0d0004000201"
                    " 0d0004100001 0200 08000000010102 09010000018c04"
                    " 0d0100400001",
}
for name, hexes in huge.items():
    with open(f"{sys.argv[1]}/{name}", "wb") as f:
        f.write(bytes.fromhex(hexes.replace(" ", "")))
EOF
}

# run NAME MAX_LEN: fuzz build/fuzz/fuzz_NAME for $secs seconds.
run() {
        local name=$1 max_len=$2 corpus=$out/corpus-$1 log=$out/$1.log
        local runs took crash why
        rm -rf "$corpus" "$out/$name-"*
        mkdir -p "$corpus"
        if ! "seed_$name" "$corpus"; then
                fail "$name" "could not seed the corpus (see $out/fixtures.log)"
                return
        fi
        "$out/fuzz_$name" -max_total_time="$secs" -max_len="$max_len" \
                -timeout=300 -rss_limit_mb=4096 -print_final_stats=1 \
                -artifact_prefix="$out/$name-" "$corpus" >"$log" 2>&1
        local rc=$?
        runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log")
        took=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log")
        if [[ $rc -eq 0 && -n $runs ]]; then
                echo "PASS fuzz/$name: $runs runs in $took s"
                return
        fi
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        why=$(grep -m1 -E '^fuzz: |^SUMMARY: |ERROR: ' "$log" ||
              echo "exit status $rc")
        fail "$name" "$why (input: ${crash:-none}, log: $log)"
}

run elf 65536
run vm 4096
exit $status
