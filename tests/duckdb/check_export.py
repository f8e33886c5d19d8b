#!/usr/bin/env python3
"""Reads an exported table's Parquet files with DuckDB and compares its rows with a canon file.

usage: check_export.py TABLE_DIR CANON.json CHECK_ROWS.py [--expect-rows N]

TABLE_DIR   DEST/<keyspace>/<table> written by `sstable-lake export`: a directory, or an
            s3://BUCKET/... URL read through DuckDB's httpfs (PyPI duckdb-extension-httpfs) with
            AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL
            (http://host:port: path-style requests, without TLS)
CANON.json  the corpus' expected rows (../shared/corpus/canon/expected/*.json)
Every value DuckDB returns is turned back into Cassandra's SELECT JSON encoding (uuid as text,
blob as 0x.., timestamp as epoch ms, time as nanoseconds, duration as 1mo2d3ns...), written as
JSON Lines, and compared by the corpus' own type-aware comparator (check_rows.py).
Also checks: _SUCCESS and _manifest.json exist, the manifest's row count equals DuckDB's, and
no primary key appears twice. Exit 0 iff all holds.
"""
import datetime
import decimal
import json
import os
import subprocess
import sys
import tempfile
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


def main():
    table_dir, canon_path, check_rows = sys.argv[1], sys.argv[2], sys.argv[3]
    expect_rows = None
    if "--expect-rows" in sys.argv:
        expect_rows = int(sys.argv[sys.argv.index("--expect-rows") + 1])
    problems = []
    con = duckdb.connect()
    if table_dir.startswith("s3://"):
        connect_s3(con)

        # glob() of a path without wildcards returns it unchecked: list the directory.
        listed = {r[0] for r in con.execute("SELECT file FROM glob(?)", [table_dir + "/*"]).fetchall()}

        def exists(path):
            return path in listed

        def read_json(path):
            return json.loads(con.execute("SELECT content FROM read_text(?)", [path]).fetchone()[0])
    else:
        exists = os.path.exists

        def read_json(path):
            return json.load(open(path))
    for marker in ("_SUCCESS", "_manifest.json"):
        if not exists(os.path.join(table_dir, marker)):
            problems.append("missing " + marker)
    manifest = read_json(os.path.join(table_dir, "_manifest.json"))
    glob = os.path.join(table_dir, "**", "*.parquet")
    rel = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = false)", [glob])
    names = [d[0] for d in rel.description]
    rows = [dict(zip(names, r)) for r in rel.fetchall()]
    # The metadata columns (--with-writetime/--with-ttl/--with-token/--with-source) are not
    # in the canon rows: check their presence, then compare the CQL columns.
    meta = [n for n in names if n in ("token", "source") or n.startswith(("writetime(", "ttl("))]
    rows = [{k: v for k, v in r.items() if k not in meta} for r in rows]
    print("metadata columns:", ", ".join(meta) or "none")
    types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [glob]).fetchall()}
    if manifest["rows"] != len(rows):
        problems.append("manifest says %d rows, DuckDB read %d" % (manifest["rows"], len(rows)))
    if expect_rows is not None and expect_rows != len(rows):
        problems.append("expected %d rows, DuckDB read %d" % (expect_rows, len(rows)))
    canon = json.load(open(canon_path))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as out:
        for r in rows:
            out.write(json.dumps({k: to_json(v) for k, v in r.items()}) + "\n")
        path = out.name
    print("duckdb types:", json.dumps(types))
    res = subprocess.run([sys.executable, check_rows, canon_path, path], capture_output=True, text=True)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    if res.returncode != 0:
        problems.append("rows differ from " + os.path.basename(canon_path))
    # Duplicates: the same full row twice (a re-run that published twice).
    seen = set()
    for r in rows:
        k = json.dumps({k: to_json(v) for k, v in r.items()}, sort_keys=True)
        if k in seen:
            problems.append("duplicate row " + k[:200])
            break
        seen.add(k)
    os.unlink(path)
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
