#!/usr/bin/env python3
"""Reads exported tables with PySpark (local[1], one JVM for all) and compares their rows with
the corpus' expected rows, or checks that Spark refuses to read them.

usage: check_spark.py JOBS.json CHECK_ROWS.py

JOBS.json  a list of {"label", "table" (DEST/<keyspace>/<table>), "canon" (CANON.json) or
           "expected_jsonl" (rows as `dump` prints them, with "expected_table" and "schema",
           the CQL file that has the table's CREATE TABLE), "set" (or null), "expect_rows" (or
           null), "expect_schema" (a piece of Spark's schema string, e.g. "x:decimal(10,2)"),
           "expect_error" (a list of strings that Spark's error must all contain; the
           read must then fail)}.
Every value Spark returns is turned back into Cassandra's SELECT JSON encoding by
tests/duckdb/check_export.py's converter (Rows as dicts first; timestamps are read in UTC) and
compared by the corpus' comparator (check_rows.py). Needs JAVA_HOME (Java 17+). Prints one
PASS/FAIL line per job and exits 0 iff all pass.
"""
import json
import os
import re
import sys
import tempfile
import time

# Spark hands timestamps to Python as naive local datetimes: make local time UTC.
os.environ["TZ"] = "UTC"
time.tzset()

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "duckdb"))
from check_export import compare_rows, load_check_rows, run_batch  # noqa: E402

from pyspark.sql import Row, SparkSession  # noqa: E402


def plain(v):
    """Spark Rows (structs) as dicts, recursively (check_export's to_json does the rest)."""
    if isinstance(v, Row):
        return {k: plain(x) for k, x in v.asDict().items()}
    if isinstance(v, dict):
        return {plain(k): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, bytearray):
        return bytes(v)
    return v


def main():
    jobs_path, check_rows_path = sys.argv[1], sys.argv[2]
    check_rows = load_check_rows(check_rows_path)
    spark = (SparkSession.builder.master("local[1]").appName("sstable-lake-export-check")
             .config("spark.driver.memory", "512m")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("OFF")
    print("spark", spark.version)

    def check(job):
        table = job["table"]
        expect_error = job.get("expect_error")
        try:
            df = spark.read.parquet(table)
            schema = df.schema.simpleString()
            rows = [{k: plain(v) for k, v in r.asDict().items()} for r in df.collect()]
        except Exception as e:  # Py4J / AnalysisException
            msg = str(e)
            if expect_error:
                missing = [s for s in expect_error if s not in msg]
                if missing:
                    return ["Spark failed, but without %s: %s" % (missing, msg[:300])], []
                return [], ["refused as expected: " + msg.splitlines()[0][:200]]
            return ["Spark failed: " + msg.splitlines()[0][:500]], []
        if expect_error:
            return ["Spark read it (expected an error with %s): %s" % (expect_error, schema)], []
        problems, lines = [], ["spark schema: " + schema]
        if job.get("expect_schema") and job["expect_schema"] not in schema:
            problems.append("Spark's schema has no %s" % job["expect_schema"])
        if job.get("expect_rows") is not None and job["expect_rows"] != len(rows):
            problems.append("expected %d rows, Spark read %d" % (job["expect_rows"], len(rows)))
        canon = job.get("canon")
        tmp = None
        if canon is None:
            # Rows as `dump` prints them: a canon file of them (primary key from the schema).
            with open(job["expected_jsonl"], encoding="utf-8") as f:
                expected = [json.loads(ln) for ln in f if ln.strip()]
            name = job["expected_table"]
            expected = [{k: v for k, v in r.items() if k not in ("keyspace", "table", "token")}
                        for r in expected if r.get("table") == name]
            # The schema file's CREATE TYPEs and this table's CREATE TABLE.
            with open(job["schema"], encoding="utf-8") as f:
                statements = [st.strip() for st in f.read().split(";")]
            schema = ";\n".join(st for st in statements if st.upper().startswith("CREATE TYPE")
                                 or re.match(r"CREATE TABLE (IF NOT EXISTS )?\w+\.%s \(" % name, st, re.I))
            tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
            json.dump({"name": job["label"], "mode": "each", "schema_cql": schema, "rows": expected}, tmp)
            tmp.close()
            canon = tmp.name
        ok, out = compare_rows(check_rows, canon, job.get("set"), rows, job["label"])
        if tmp is not None:
            os.unlink(tmp.name)
        lines += out
        if not ok:
            problems.append("rows differ from the expected rows")
        return problems, lines

    rc = run_batch(jobs_path, check_rows_path, check)
    spark.stop()
    sys.exit(rc)


if __name__ == "__main__":
    main()
