#!/usr/bin/env bash
# Installs what the integration tests need beyond Rust: a Python venv under target/test-venv
# with DuckDB (the export test reads the Parquet it writes back through DuckDB).
# Idempotent: does nothing when the venv already has the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/test-venv
DUCKDB_VERSION=1.5.5
PYTZ_VERSION=2025.2  # DuckDB needs it to return TIMESTAMP WITH TIME ZONE values to Python
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import duckdb, pytz, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  exit 0
fi
if ! python3 -m venv "$VENV" 2>/dev/null; then
  echo "python3 -m venv failed: installing python3-venv" >&2
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  else
    echo "install python3-venv (Debian/Ubuntu) and re-run" >&2
    exit 1
  fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION" "pytz==$PYTZ_VERSION"
"$VENV/bin/python" -c "import duckdb; print('duckdb', duckdb.__version__, 'in $VENV')"
