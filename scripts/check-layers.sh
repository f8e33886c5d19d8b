#!/usr/bin/env bash
# Checks that no file of src/ is over 800 lines, and that every module of src/ imports only modules at its own level or below it in the
# pipeline order (see docs/architecture.md):
#   0 error, config, time   1 io   2 discover   3 plan   4 read   5 convert   6 write
#   7 commands   8 cli       (lib.rs and main.rs may use everything)
# A reference is any `crate::NAME` path in the code (comments and doc comments included, so
# that a doc link does not point up either). Exits 1 naming every offending line.
set -euo pipefail
cd "$(dirname "$0")/.."

level() {
  case "$1" in
    error | config | time) echo 0 ;;
    io) echo 1 ;;
    discover) echo 2 ;;
    plan) echo 3 ;;
    read) echo 4 ;;
    convert) echo 5 ;;
    write) echo 6 ;;
    commands) echo 7 ;;
    cli) echo 8 ;;
    *) echo "" ;;
  esac
}

status=0
while IFS= read -r file; do
  rel=${file#src/}
  top=${rel%%/*}
  top=${top%.rs}
  case "$top" in lib | main) continue ;; esac
  mine=$(level "$top")
  if [ -z "$mine" ]; then
    echo "check-layers: $file: module '$top' has no level (add it to scripts/check-layers.sh)" >&2
    status=1
    continue
  fi
  # Every crate::NAME (also inside `use crate::{a, b}` groups: each NAME after `crate::{`).
  while IFS=: read -r line name; do
    theirs=$(level "$name")
    if [ -z "$theirs" ]; then
      echo "check-layers: $file:$line: crate::$name is not a known module" >&2
      status=1
    elif [ "$theirs" -gt "$mine" ]; then
      echo "check-layers: $file:$line: $top (level $mine) uses crate::$name (level $theirs), above it" >&2
      status=1
    fi
  done < <(grep -noE 'crate::(\{[[:space:]]*)?[a-z_]+' "$file" | sed -E 's/^([0-9]+):crate::\{?[[:space:]]*/\1:/')
  # The other names of a `use crate::{a, b}` group.
  while IFS=: read -r line group; do
    for name in $(echo "$group" | tr ',{}' '   '); do
      name=${name%%::*}
      [ -z "$name" ] && continue
      theirs=$(level "$name")
      if [ -n "$theirs" ] && [ "$theirs" -gt "$mine" ]; then
        echo "check-layers: $file:$line: $top (level $mine) uses crate::$name (level $theirs), above it" >&2
        status=1
      fi
    done
  done < <(grep -noE 'crate::\{[^}]*\}' "$file" | sed -E 's/^([0-9]+):crate::/\1:/')
done < <(find src -name '*.rs' | sort)

# Files stay small enough to read: none over 800 lines.
while read -r lines file; do
  if [ "$file" != total ] && [ "$lines" -gt 800 ]; then
    echo "check-layers: $file has $lines lines (at most 800)" >&2
    status=1
  fi
done < <(find src -name '*.rs' -print0 | xargs -0 wc -l)

if [ "$status" -eq 0 ]; then
  echo "check-layers: every module of src/ imports only its own level or below"
fi
exit "$status"
