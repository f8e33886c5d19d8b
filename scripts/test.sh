#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit/golden/integration tests, and the
# corpus canon check of `dump` against the expected rows of every SSTable set.
# Installs nothing system-wide beyond what it needs; safe to run on a fresh machine with Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
export SSTABLE_CORPUS="${SSTABLE_CORPUS:-$PWD/../shared/corpus}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if [ ! -f "$SSTABLE_CORPUS/CATALOG.tsv" ]; then
  echo "corpus not found at $SSTABLE_CORPUS (set SSTABLE_CORPUS)" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
fi

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "layering of src/ (scripts/check-layers.sh)"
scripts/check-layers.sh

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (warnings denied), with the default features and with all (sstable-format's write, synth)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --locked
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --locked --all-features

# Builds the tests and the binary (which the canon check runs) in one go: a plain `cargo build`
# would build the dependencies without the features that dev-dependencies unify in, and the
# test build would then compile them all again.
step "cargo test --no-run (the test binaries, and the binary the canon check runs)"
cargo test --workspace --locked --no-run

step "test dependencies (DuckDB in target/test-venv, for the export tests)"
scripts/install-test-deps.sh

step "deploy/ and the Dockerfile: Kubernetes API schemas, AWS Batch request validation, hadolint"
scripts/check-deploy.sh

step "cargo test"
cargo test --workspace --locked

if [ -f "$SSTABLE_CORPUS/canon/run_all.sh" ]; then
  step "corpus canon: dump vs expected rows"
  scripts/canon.sh target/debug/sstable-lake
fi
