#!/usr/bin/env bash
# Export benchmark (issue 7): the same generated table exported with 1 and with 2 threads, and
# the peak memory of exports of a small and a 4x larger input.
#
#   scripts/bench-export.sh [SIZE]     SIZE of the Data.db to generate (default 512MiB)
#
# Builds in release, generates one LZ4-compressed `nb` set with skewed partition sizes
# (sstable-format/examples/gen_large.rs) into a temporary directory (removed on exit), then runs
# `sstable-lake export DIR --out OUT --splits 8 --threads T` for T = 1 and 2, twice each, and
# prints wall time, throughput and peak memory of each, and the speed-up of
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

# run NAME INPUT THREADS [FLAGS...]: one export; prints "seconds peak_anon_kib rows bytes_read peak_file_kib".
# Memory is sampled from /proc/PID/status every 10 ms: RssAnon (heap: what the export holds) and
# RssFile (pages of the memory-mapped SSTables, which the kernel reclaims at will).
run() {
    local name="$1" input="$2" threads="$3"
    shift 3
    local out="$WORK/out-$name"
    rm -rf "$out"
    python3 - "$WORK/stderr-$name.txt" "$WORK/report-$name.json" "$LAKE" export "$input" --out "$out" \
        --splits 8 --threads "$threads" --now 2024-01-01T00:00:00Z --report "$WORK/report-$name.json" "$@" <<'PY'
import json, subprocess, sys, time
err_path, report_path, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.monotonic()
with open(err_path, "w") as err:
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    anon = file = 0
    while p.poll() is None:
        try:
            for line in open(f"/proc/{p.pid}/status"):
                if line.startswith("RssAnon:"):
                    anon = max(anon, int(line.split()[1]))
                elif line.startswith("RssFile:"):
                    file = max(file, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.01)
secs = time.monotonic() - start
if p.returncode != 0:
    sys.stderr.write(open(err_path).read())
    sys.exit(1)
r = json.load(open(report_path))
print(f"{secs:.2f} {anon} {r['rows']} {r['bytes_read']} {file}")
PY
}

declare -A best
for T in 1 2; do
    for i in 1 2; do
        read -r secs anon rows bytes file < <(run "t$T-$i" "$WORK/big" "$T")
        printf '   threads=%s run %s: %6.2f s, %7.1f MiB/s of Data.db, %9.0f rows/s, peak heap %s MiB (mapped file pages %s MiB)\n' \
            "$T" "$i" "$secs" "$(python3 -c "print($bytes/2**20/$secs)")" "$(python3 -c "print($rows/$secs)")" "$((anon / 1024))" "$((file / 1024))"
        if [ -z "${best[$T]:-}" ] || python3 -c "import sys; sys.exit(not $secs < ${best[$T]})"; then best[$T]=$secs; fi
    done
done
python3 -c "print(f'   speed-up of 2 threads over 1 (best runs): {${best[1]}/${best[2]}:.2f}x')"

# Each thread buffers the Parquet row group it encodes (--row-group-size, 128MiB by default)
# until it is full: with small row groups both inputs fill theirs, and what is left is the
# per-thread working set, which must not grow with the input.
read -r _ anon_small _ _ file_small < <(run small "$WORK/small" 2 --row-group-size 8MiB)
read -r _ anon_big _ _ file_big < <(run big "$WORK/big" 2 --row-group-size 8MiB)
echo "   peak heap (RssAnon) with 2 threads and 8MiB row groups: $((anon_small / 1024)) MiB for $quarter bytes, $((anon_big / 1024)) MiB for $SIZE"
echo "   (mapped SSTable pages, RssFile: $((file_small / 1024)) MiB and $((file_big / 1024)) MiB: page cache the kernel reclaims)"

# The same two inputs read from S3 (s3s-fs from scripts/install-test-deps.sh, serving the
# generated files in place): ranged block reads, so the heap must stay flat here too.
S3S="$ROOT/target/test-tools/bin/s3s-fs"
if [ -x "$S3S" ]; then
    mkdir -p "$WORK/s3/lake"
    cp -al "$WORK/big" "$WORK/s3/lake/big"
    cp -al "$WORK/small" "$WORK/s3/lake/small"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$S3S" --host 127.0.0.1 --port "$PORT" --access-key bench-key --secret-key bench-secret-0123456789 \
        "$WORK/s3" >/dev/null 2>&1 &
    S3S_PID=$!
    trap 'kill $S3S_PID 2>/dev/null; rm -rf "$WORK"' EXIT
    for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
    export AWS_ACCESS_KEY_ID=bench-key AWS_SECRET_ACCESS_KEY=bench-secret-0123456789 AWS_REGION=us-east-1
    S3=(--endpoint "http://127.0.0.1:$PORT" --allow-http --s3-url-style path --row-group-size 8MiB)
    read -r s_small anon_small _ _ _ < <(run s3-small s3://lake/small 2 "${S3[@]}")
    read -r s_big anon_big rows bytes _ < <(run s3-big s3://lake/big 2 "${S3[@]}")
    echo "   from S3 with 2 threads and 8MiB row groups: peak heap $((anon_small / 1024)) MiB for $quarter bytes, $((anon_big / 1024)) MiB for $SIZE ($(python3 -c "print(f'{$bytes/2**20/$s_big:.1f}')") MiB/s: the s3s-fs test server is the bottleneck, at one full core)"
else
    echo "   (S3 part skipped: run scripts/install-test-deps.sh for $S3S)"
fi
