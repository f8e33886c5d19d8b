#!/usr/bin/env bash
# Export benchmark (issue 7): the same generated table exported with 1 and with 2 threads, and
# the peak memory of exports of a small and a 4x larger input.
#
#   scripts/bench-export.sh [SIZE]     SIZE of the Data.db to generate (default 512MiB)
#
# Builds in release, generates one LZ4-compressed `nb` set with skewed partition sizes
# (sstable-format/examples/gen_large.rs) into a temporary directory (removed on exit), then runs
# `sstable-lake export DIR --out OUT --splits 8 --threads T` for T = 1 and 2, twice each, and
# prints wall time, throughput and peak RSS (/usr/bin/time -v) of each, and the speed-up of
# 2 threads over 1 (best run of each). Then exports SIZE/4 and SIZE with 2 threads and prints
# both peak RSS figures: memory must not grow with the input. Run it on an idle machine.
set -euo pipefail

SIZE="${1:-512MiB}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
cargo build --release --quiet --bin sstable-lake -p sstable-lake
cargo build --release --quiet -p sstable-format --example gen_large
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
LAKE="$TARGET/release/sstable-lake"
GEN="$TARGET/release/examples/gen_large"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-export.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

quarter=$(python3 -c "
import re,sys
s='$SIZE'; m=re.fullmatch(r'([0-9.]+)\s*([KMG]i?B?|B?)', s, re.I)
n=float(m.group(1)); u=m.group(2).lower().rstrip('b').rstrip('i')
print(int(n*{'':1,'k':1<<10,'m':1<<20,'g':1<<30}[u]/4))")
echo "== generating $SIZE and $quarter bytes of Data.db in $WORK"
"$GEN" "$WORK/big" "$SIZE" >/dev/null
"$GEN" "$WORK/small" "$quarter" >/dev/null
du -sh "$WORK/big" "$WORK/small"

# run NAME INPUT THREADS: one export; prints "seconds peak_kib"
run() {
    local out="$WORK/out-$1"
    rm -rf "$out"
    /usr/bin/time -v -o "$WORK/time-$1.txt" \
        "$LAKE" export "$2" --out "$out" --splits 8 --threads "$3" --now 2024-01-01T00:00:00Z \
        --report "$WORK/report-$1.json" 2>"$WORK/stderr-$1.txt" || { cat "$WORK/stderr-$1.txt" >&2; exit 1; }
    python3 - "$WORK/time-$1.txt" "$WORK/report-$1.json" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
wall = t.split("Elapsed (wall clock) time (h:mm:ss or m:ss): ")[1].split()[0].split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
r = json.load(open(sys.argv[2]))
print(f"{secs:.2f} {rss} {r['rows']} {r['bytes_read']}")
PY
}

declare -A best
for T in 1 2; do
    for i in 1 2; do
        read -r secs rss rows bytes < <(run "t$T-$i" "$WORK/big" "$T")
        printf '   threads=%s run %s: %6.2f s, %7.1f MiB/s of Data.db, %9.0f rows/s, peak RSS %s MiB\n' \
            "$T" "$i" "$secs" "$(python3 -c "print($bytes/2**20/$secs)")" "$(python3 -c "print($rows/$secs)")" "$((rss / 1024))"
        if [ -z "${best[$T]:-}" ] || python3 -c "import sys; sys.exit(not $secs < ${best[$T]})"; then best[$T]=$secs; fi
    done
done
python3 -c "print(f'   speed-up of 2 threads over 1 (best runs): {${best[1]}/${best[2]}:.2f}x')"

read -r _ rss_small _ _ < <(run small "$WORK/small" 2)
read -r _ rss_big _ _ < <(run big "$WORK/big" 2)
echo "   peak RSS with 2 threads: $((rss_small / 1024)) MiB for $quarter bytes, $((rss_big / 1024)) MiB for $SIZE"
