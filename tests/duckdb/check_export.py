#!/usr/bin/env python3
"""Reads an exported table's Parquet files with DuckDB and compares its rows with a canon file.

usage: check_export.py TABLE_DIR CANON.json CHECK_ROWS.py [--expect-rows N] [--set DATA_DB]
       check_export.py --batch JOBS.json CHECK_ROWS.py

JOBS.json   a list of {"label", "table", "canon", "set" (or null), "expect_rows" (or null)}:
            every table is checked in this one process (one line each: PASS/FAIL label ...)

TABLE_DIR   DEST/<keyspace>/<table> written by `sstable-lake export`: a directory, or an
            s3://BUCKET/... URL read through DuckDB's httpfs (PyPI duckdb-extension-httpfs) with
            AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL
            (http://host:port: path-style requests, without TLS)
CANON.json  the corpus' expected rows (../shared/corpus/canon/expected/*.json)
DATA_DB     for a canon with rows or a schema per set: the set (Data.db path in the corpus)
Every value DuckDB returns is turned back into Cassandra's SELECT JSON encoding (uuid as text,
blob as 0x.., timestamp as epoch ms, time as nanoseconds, duration as 1mo2d3ns...) and
compared in this process by the corpus' own type-aware comparator (check_rows.py).
Also checks: _SUCCESS and _manifest.json exist, the manifest's row count equals DuckDB's, and
no primary key appears twice. Exit 0 iff all holds.
"""
import datetime
import decimal
import importlib.util
import json
import os
import sys
import uuid

import duckdb


def to_json(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "0x" + bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return int((v - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) / datetime.timedelta(milliseconds=1))
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, datetime.time):
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 10**9 + v.microsecond * 1000
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, float):
        return v
    if isinstance(v, dict):
        keys = list(v.keys())
        if set(keys) == {"months", "days", "nanoseconds"}:
            m, d, n = v["months"], v["days"], v["nanoseconds"]
            sign = "-" if (m < 0 or d < 0 or n < 0) else ""
            return "%s%dmo%dd%dns" % (sign, abs(m), abs(d), abs(n))
        if keys and all(k.startswith("f") and k[1:].isdigit() for k in keys if isinstance(k, str)) \
                and all(isinstance(k, str) for k in keys):
            return [to_json(v[k]) for k in sorted(keys, key=lambda k: int(k[1:]))]
        return {(to_json(k) if not isinstance(k, str) else k): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    return v


def connect_s3(con):
    import duckdb_extension_httpfs

    ext = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions",
                       "v" + duckdb.__version__, "httpfs.duckdb_extension")
    con.execute("LOAD '%s'" % ext.replace("'", "''"))
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    settings = {
        "s3_endpoint": endpoint.split("://", 1)[-1].rstrip("/"),
        "s3_use_ssl": "true" if endpoint.startswith("https://") else "false",
        "s3_url_style": "path",
        "s3_region": os.environ.get("AWS_REGION", "us-east-1"),
        "s3_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
        "s3_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
    }
    for k, v in settings.items():
        con.execute("SET %s = '%s'" % (k, v.replace("'", "''")))


def load_check_rows(path):
    """The corpus' comparator (check_rows.py) as a module, to compare in this process."""
    spec = importlib.util.spec_from_file_location("check_rows", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def compare_rows(check_rows, canon_path, set_path, rows, label):
    """Compares rows (Python values from an engine) with the canon: (ok, summary lines)."""
    with open(canon_path, encoding="utf-8") as f:
        canon = json.load(f, parse_float=decimal.Decimal)
    # Through JSON, as check_rows.py reads a dump: numbers with a fraction as Decimal.
    dump = [json.loads(json.dumps({k: to_json(v) for k, v in r.items()}), parse_float=decimal.Decimal)
            for r in rows]
    counts, examples, ok = check_rows.compare(canon, dump, set_path)
    lines = ["%s: expected %d rows, got %d, matched %d, missing %d, unexpected %d, value mismatches %d" % (
        label, counts["expected"], counts["got"], counts["matched"], counts["missing"],
        counts["unexpected"], counts["mismatches"])]
    lines += ["  " + e for e in examples]
    return ok, lines


def check_table(con, table_dir, canon_path, check_rows, set_path=None, expect_rows=None, label=None):
    """Checks one exported table; returns (problems, output lines)."""
    label = label or table_dir
    problems, out = [], []
    if table_dir.startswith("s3://"):
        # glob() of a path without wildcards returns it unchecked: list the directory.
        listed = {r[0] for r in con.execute("SELECT file FROM glob(?)", [table_dir + "/*"]).fetchall()}

        def exists(path):
            return path in listed

        def read_json(path):
            return json.loads(con.execute("SELECT content FROM read_text(?)", [path]).fetchone()[0])
    else:
        exists = os.path.exists

        def read_json(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f)
    for marker in ("_SUCCESS", "_manifest.json"):
        if not exists(table_dir + "/" + marker):
            problems.append("missing " + marker)
    if problems:
        return problems, out
    manifest = read_json(table_dir + "/_manifest.json")
    glob = table_dir + "/**/*.parquet"
    if manifest["rows"] == 0 and not manifest.get("files"):
        # A table with no live rows has no Parquet file (read_parquet would find none).
        rows, names, types = [], [], {}
    else:
        rel = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = false)", [glob])
        names = [d[0] for d in rel.description]
        rows = [dict(zip(names, r)) for r in rel.fetchall()]
        types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [glob]).fetchall()}
    # The metadata columns (--with-writetime/--with-ttl/--with-token/--with-source) are not
    # in the canon rows: check their presence, then compare the CQL columns.
    meta = [n for n in names if n in ("token", "source") or n.startswith(("writetime(", "ttl("))]
    rows = [{k: v for k, v in r.items() if k not in meta} for r in rows]
    out.append("metadata columns: " + (", ".join(meta) or "none"))
    out.append("duckdb types: " + json.dumps(types))
    if manifest["rows"] != len(rows):
        problems.append("manifest says %d rows, DuckDB read %d" % (manifest["rows"], len(rows)))
    if expect_rows is not None and expect_rows != len(rows):
        problems.append("expected %d rows, DuckDB read %d" % (expect_rows, len(rows)))
    ok, lines = compare_rows(check_rows, canon_path, set_path, rows, label)
    out += lines
    if not ok:
        problems.append("rows differ from " + os.path.basename(canon_path))
    # Duplicates: the same full row twice (a re-run that published twice).
    seen = set()
    for r in rows:
        k = json.dumps({k: to_json(v) for k, v in r.items()}, sort_keys=True)
        if k in seen:
            problems.append("duplicate row " + k[:200])
            break
        seen.add(k)
    return problems, out


def run_batch(jobs_path, check_rows_path, check):
    """Runs check(job) -> (problems, lines) for every job of JOBS.json; exit status 0 iff all pass."""
    with open(jobs_path, encoding="utf-8") as f:
        jobs = json.load(f)
    failed = 0
    for job in jobs:
        try:
            problems, lines = check(job)
        except Exception as e:  # one table's failure must not hide the others'
            problems, lines = ["%s: %s" % (type(e).__name__, str(e).splitlines()[0][:500] if str(e) else "")], []
        label = job.get("label") or job["table"]
        if problems:
            failed += 1
            print("FAIL  %s: %s" % (label, "; ".join(problems)))
            for ln in lines:
                print("        " + ln)
        else:
            print("PASS  %s" % label)
    print("%d passed, %d failed" % (len(jobs) - failed, failed))
    return 1 if failed else 0


def main():
    con = duckdb.connect()
    if sys.argv[1] == "--batch":
        jobs_path, check_rows = sys.argv[2], load_check_rows(sys.argv[3])
        if os.environ.get("AWS_ENDPOINT_URL"):
            connect_s3(con)

        def check(job):
            return check_table(con, job["table"], job["canon"], check_rows, job.get("set"),
                               job.get("expect_rows"), job.get("label"))

        sys.exit(run_batch(jobs_path, sys.argv[3], check))
    table_dir, canon_path, check_rows = sys.argv[1], sys.argv[2], load_check_rows(sys.argv[3])
    expect_rows = None
    if "--expect-rows" in sys.argv:
        expect_rows = int(sys.argv[sys.argv.index("--expect-rows") + 1])
    set_path = None
    if "--set" in sys.argv:
        set_path = sys.argv[sys.argv.index("--set") + 1]
    if table_dir.startswith("s3://"):
        connect_s3(con)
    problems, lines = check_table(con, table_dir.rstrip("/"), canon_path, check_rows, set_path, expect_rows)
    for ln in lines:
        print(ln)
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)



if __name__ == "__main__":
    main()
