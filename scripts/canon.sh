#!/usr/bin/env bash
# Runs ../shared/corpus/canon/run_all.sh against BINARY and compares the failures with the
# checks listed in tests/canon-known-failures.txt (each with the issue that will fix it).
# Fails on any other failure (a regression) and on a listed check that now passes (so the
# list only ever shrinks). With --all, runs every check and fails unless all pass.
set -uo pipefail
cd "$(dirname "$0")/.."
bin="${1:?usage: scripts/canon.sh BINARY [--all]}"
mode="${2:-}"
corpus="${SSTABLE_CORPUS:-$PWD/../shared/corpus}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$corpus/canon/run_all.sh" "$corpus" "$bin" --with-now > "$out" 2>&1
status=$?
grep -E '^(FAIL|TOTAL)' "$out" | head -400
if [ "$mode" = "--all" ]; then exit $status; fi
known="tests/canon-known-failures.txt"
actual=$(grep '^FAIL' "$out" | sed -E 's/^FAIL  ([^ ]+) .*/\1/' | sort -u)
expected=$(grep -v '^#' "$known" 2>/dev/null | awk 'NF{print $1}' | sort -u)
new=$(comm -23 <(echo "$actual") <(echo "$expected") | sed '/^$/d')
fixed=$(comm -13 <(echo "$actual") <(echo "$expected") | sed '/^$/d')
rc=0
if [ -n "$new" ]; then echo "canon: checks failing that are not known failures:"; echo "$new" | sed 's/^/  /'; rc=1; fi
if [ -n "$fixed" ]; then echo "canon: known failures that now pass (remove them from $known):"; echo "$fixed" | sed 's/^/  /'; rc=1; fi
grep '^TOTAL' "$out"
exit $rc
