#!/usr/bin/env bash
# Split-balance benchmark (issue 7): one large LZ4-compressed `nb` SSTable set, generated with
# skewed partition sizes (sstable_format::synth), must cut into >= 16 splits whose compressed
# byte ranges are within a factor of 2 of each other.
#
#   scripts/bench-split.sh [SIZE]        SIZE of Data.db to generate (default 4GiB)
#
# Builds in release, generates the set into a temporary directory (removed on exit; it needs
# SIZE plus about 1% of free disk there: TMPDIR or /tmp), runs `sstable-lake plan DIR --splits N
# --json` for N = 16 and 32, checks the splits, and prints sizes, planning time and peak RSS
# (with /usr/bin/time -v when it exists). Exits non-zero when a check fails.
set -euo pipefail

SIZE="${1:-4GiB}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

cargo build --release --quiet --bin sstable-lake -p sstable-lake
cargo build --release --quiet -p sstable-format --example gen_large
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
LAKE="$TARGET/release/sstable-lake"
GEN="$TARGET/release/examples/gen_large"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-split.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

TIME=()
if [ -x /usr/bin/time ]; then TIME=(/usr/bin/time -v -o "$WORK/time.txt"); fi

echo "== generating $SIZE of Data.db in $WORK"
"${TIME[@]}" "$GEN" "$WORK/set" "$SIZE"
if [ -f "$WORK/time.txt" ]; then
    grep -E "Elapsed|Maximum resident" "$WORK/time.txt" | sed 's/^\s*/   generator: /'
fi
ls -l "$WORK"/set/bench/*/

status=0
for N in 16 32; do
    echo "== sstable-lake plan --splits $N --json"
    start=$(date +%s.%N)
    "${TIME[@]}" "$LAKE" plan "$WORK/set" --splits "$N" --json > "$WORK/plan-$N.json"
    end=$(date +%s.%N)
    python3 - "$WORK/plan-$N.json" "$N" "$start" "$end" <<'EOF' || status=1
import json, sys
path, n, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
plan = json.load(open(path))
(table,) = plan["tables"]
splits = table["splits"]
# Compressed bytes a split reads: its chunk ranges in every SSTable.
sizes = [sum(r["file_end"] - r["file_start"] for r in s["sstables"]) for s in splits]
est = [s["estimated_bytes"] for s in splits]
stored = sum(s["stored_length"] for s in table["sstables"])
mib = lambda b: f"{b / 2**20:.1f}"
print(f"   {len(splits)} splits of {stored} stored bytes ({mib(stored)} MiB), "
      f"{sum(s['partitions'] for s in splits)} partitions, planned in {end - start:.2f} s")
print(f"   compressed bytes read per split (MiB): {' '.join(mib(x) for x in sizes)}")
print(f"   min {mib(min(sizes))} MiB, max {mib(max(sizes))} MiB, max/min {max(sizes) / max(min(sizes), 1):.3f}; "
      f"estimated max/min {max(est) / max(min(est), 1):.3f}")
ok = len(splits) >= 16 and len(splits) == n and min(sizes) > 0 and max(sizes) <= 2 * min(sizes)
print("   OK" if ok else "   FAILED: want >= 16 splits within a factor of 2")
sys.exit(0 if ok else 1)
EOF
    if [ -f "$WORK/time.txt" ]; then
        grep -E "Elapsed|Maximum resident" "$WORK/time.txt" | sed 's/^\s*/   plan: /'
    fi
done
exit $status
