#!/usr/bin/env bash
# The main job on the sample backup in testdata/sample (three nodes' snapshots of keyspace
# `shop`): export every table to Parquet under target/sample-lake, then query it with DuckDB.
# Installs DuckDB (PyPI, pinned) into target/test-venv when it is not there yet.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/sample-lake
cargo run --release --quiet -- export testdata/sample --out "$OUT" --now 2024-01-01T00:00:00Z

VENV=target/test-venv
if ! "$VENV/bin/python" -c "import duckdb, pytz" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==1.5.5" "pytz==2025.2"
fi
"$VENV/bin/python" - "$OUT" <<'PY'
import sys, duckdb
out = sys.argv[1]
query = f"""
select customer, order_id, status, ship_to.city as city, items['apple'] as apples, tags
from read_parquet('{out}/shop/orders/*.parquet')
order by customer, order_id
"""
print(query.strip())
duckdb.sql(query).show()
print(f"select page, views from read_parquet('{out}/shop/page_views/*.parquet') order by views desc")
duckdb.sql(f"select page, views from read_parquet('{out}/shop/page_views/*.parquet') order by views desc").show()
PY
