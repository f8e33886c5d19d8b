#!/usr/bin/env bash
# Export benchmark of issue 13: how far `export` is from its two floors, decoding and Parquet
# encoding, on generated tables.
#
#   scripts/bench-lake.sh [VARIANT...]      (default: all five variants)
#
# Builds in release, then generates with the project's own SSTable writer (examples/bench_gen.rs)
# into target/bench-data/ (gitignored; reused when present, delete a variant's directory to
# regenerate it):
#   events-plain     bench.events, 1,000,000 rows (50,000 partitions of 20), three uncompressed
#                    nb SSTables with disjoint partitions
#   events-lz4       the same rows, LZ4 64 KiB chunks
#   events-replicas  the same rows on three nodes, every partition on each; a third of the
#                    cells superseded, row and range tombstones (LZ4 64 KiB)
#   wide             bench.wide, every CQL type incl. collections and UDTs, 200,000 rows
#   events-plain-x4  events-plain with 4 times the partitions (peak memory must stay flat)
# and prints one line per variant, from one run of each step (figures are CPU seconds, user +
# system, unless named wall):
#   decode_cpu_s      decoding every row of every Data.db on one thread (examples/bench_decode.rs)
#   encode_cpu_s      Parquet-encoding the exported rows again from Arrow batches with the
#                     export's writer settings (examples/bench_encode.rs, reads untimed)
#   export_cpu_s / export_wall_s / export_rss_mib / export_anon_mib
#                     `sstable-lake export DIR --out OUT --now 2024-01-01T00:00:00Z` with default
#                     flags: CPU, wall time, peak RSS (getrusage: includes mapped SSTable pages)
#                     and peak RssAnon (heap, sampled every 10 ms)
#   t1_*              the same with --threads 1
#   mb_per_core_s     stored Data.db MB (10^6 bytes) per CPU second of the default export
#   cpu_vs_floor      export_cpu_s / (decode_cpu_s + encode_cpu_s)
#   wall_vs_t1        export_wall_s / t1_wall_s
# The line format is stable: `bench-lake variant=NAME key=value...`. Run on an idle machine.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VARIANTS=("$@")
if [ ${#VARIANTS[@]} -eq 0 ]; then
    VARIANTS=(events-plain events-lz4 events-replicas wide events-plain-x4)
fi

cargo build --release --quiet --bin sstable-lake -p sstable-lake \
    --example bench_gen --example bench_decode --example bench_encode
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BIN="$TARGET/release"
DATA="$TARGET/bench-data"
mkdir -p "$DATA"

for v in "${VARIANTS[@]}"; do
    if [ ! -f "$DATA/$v/.complete" ]; then
        echo "== generating $v in $DATA/$v" >&2
        "$BIN/examples/bench_gen" "$DATA" "$v" >&2
        touch "$DATA/$v/.complete"
    fi
done

python3 - "$BIN" "$DATA" "${VARIANTS[@]}" <<'PY'
import json, os, shutil, subprocess, sys, time

bin_dir, data, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
lake = os.path.join(bin_dir, "sstable-lake")

def measured(cmd, sample=False):
    # ru_maxrss of RUSAGE_CHILDREN is the maximum over all children so far: run each measured
    # command in a fresh python child so that its maximum is its own.
    wrapper = [sys.executable, "-c", r'''
import os, resource, sys, subprocess, time, json
cmd = json.loads(sys.argv[1]); sample = sys.argv[2] == "1"
start = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
anon = 0
if sample:
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        anon = max(anon, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        time.sleep(0.01)
out, err = p.communicate()
wall = time.monotonic() - start
r = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode != 0:
    sys.stderr.write(err.decode())
    sys.exit(1)
print(json.dumps({"out": out.decode(), "cpu": r.ru_utime + r.ru_stime, "wall": wall,
                  "rss": r.ru_maxrss, "anon": anon}))
''', json.dumps(cmd), "1" if sample else "0"]
    p = subprocess.run(wrapper, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return json.loads(p.stdout)

def kv(line):
    return dict(x.split("=", 1) for x in line.split()[1:])

def data_bytes(root):
    total = 0
    for d, _, files in os.walk(root):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files if f.endswith("-Data.db"))
    return total

with open("/proc/loadavg") as f:
    load = f.read().split()[0]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE, text=True).stdout.strip()
print(f"bench-lake-run commit={commit} cores={os.cpu_count()} load1_at_start={load}")
for v in variants:
    src = os.path.join(data, v)
    stored = data_bytes(src)
    dec = measured([os.path.join(bin_dir, "examples", "bench_decode"), src])
    dec_cpu = float(kv(dec["out"].strip())["cpu_s"])
    res = {}
    for name, extra in (("t2", []), ("t1", ["--threads", "1"])):
        out = os.path.join(data, "out", f"{v}-{name}")
        shutil.rmtree(out, ignore_errors=True)
        report = out + ".report.json"
        r = measured([lake, "export", src, "--out", out, "--now", "2024-01-01T00:00:00Z",
                      "--report", report] + extra, sample=True)
        r["rows"] = json.load(open(report))["rows"]
        res[name] = r
    enc = measured([os.path.join(bin_dir, "examples", "bench_encode"), os.path.join(data, "out", f"{v}-t2")])
    e = kv(enc["out"].strip())
    enc_cpu = float(e["cpu_s"])
    t2, t1 = res["t2"], res["t1"]
    if int(e["rows"]) != t2["rows"] or t1["rows"] != t2["rows"]:
        raise SystemExit(f"{v}: row counts differ: export {t2['rows']}, --threads 1 {t1['rows']}, encode {e['rows']}")
    print(
        f"bench-lake variant={v} rows={t2['rows']} data_mb={stored / 1e6:.1f} "
        f"decode_cpu_s={dec_cpu:.3f} encode_cpu_s={enc_cpu:.3f} "
        f"export_cpu_s={t2['cpu']:.3f} export_wall_s={t2['wall']:.3f} "
        f"export_rss_mib={t2['rss'] / 1024:.0f} export_anon_mib={t2['anon'] / 1024:.0f} "
        f"t1_cpu_s={t1['cpu']:.3f} t1_wall_s={t1['wall']:.3f} "
        f"t1_rss_mib={t1['rss'] / 1024:.0f} t1_anon_mib={t1['anon'] / 1024:.0f} "
        f"mb_per_core_s={stored / 1e6 / t2['cpu']:.1f} "
        f"cpu_vs_floor={t2['cpu'] / (dec_cpu + enc_cpu):.2f} "
        f"wall_vs_t1={t2['wall'] / t1['wall']:.2f}",
        flush=True,
    )
PY
