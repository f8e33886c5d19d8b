#!/usr/bin/env bash
# Fuzzes every parser of sstable-format for SECONDS_PER_TARGET seconds each (default 60) on the
# stable toolchain: seeds fuzz/corpus/<target>/ from the real SSTable corpus (copied at run
# time, gitignored, never committed), then runs the deterministic mutation driver
# (sstable-format/examples/fuzz.rs) over the target functions of fuzz/src/targets.rs. Prints
# executions, time and crashes per target; crashing or hanging inputs go to fuzz/artifacts/.
# Exit status 1 if any target crashed.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Coverage-guided on nightly, with the same targets and seeds:
#   scripts/fuzz.sh 0 && cd fuzz && cargo +nightly fuzz run <target> corpus/<target>
set -euo pipefail
cd "$(dirname "$0")/.."
export SSTABLE_CORPUS="${SSTABLE_CORPUS:-$PWD/../shared/corpus}"
secs="${1:-60}"
shift || true

# `cargo test --no-run` builds the examples too, with the features the test build unifies (so
# in scripts/test.sh this is a no-op, and no dependency compiles twice).
cargo test --workspace --locked --no-run -q 2>/dev/null || cargo test --workspace --locked --no-run
driver=target/debug/examples/fuzz
rm -rf fuzz/corpus
mkdir -p fuzz/corpus
if [ -d "$SSTABLE_CORPUS" ]; then
  "$driver" seed "$SSTABLE_CORPUS" fuzz/corpus
  # The CQL schema parser also gets the schemas of the corpus catalogue.
  if [ -f "$SSTABLE_CORPUS/CATALOG.tsv" ]; then
    mkdir -p fuzz/corpus/cql_schema
    awk -F'\t' 'NR > 1 && $11 != "" { print $11 > ("fuzz/corpus/cql_schema/catalog-" NR) }' \
      "$SSTABLE_CORPUS/CATALOG.tsv"
  fi
else
  echo "corpus not found at $SSTABLE_CORPUS: fuzzing from empty seeds" >&2
fi
if [ "$secs" -gt 0 ]; then
  "$driver" run fuzz/corpus "$secs" "$@"
fi
