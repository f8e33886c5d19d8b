#!/usr/bin/env python3
"""Writes `nb` SSTables with cqlite-py (an independent writer, PyPI `cqlite-py`) holding every
CQL type it can write inside non-frozen lists, sets and maps, and the rows a reader must return.

usage: write_collections.py OUT_DIR

For each table (`colls`, `statics`; cqlite-py takes one table per handle):
OUT_DIR/<table>/schema.cql      its CREATE TABLE statement
OUT_DIR/<table>/expected.json   canonical expected rows (the format of ../shared/corpus/canon,
                                for its check_rows.py)
OUT_DIR/<table>/w/data/ks/<table>/nb-*  the SSTables: two generations for `colls` (inserts, then
                                a new partition and whole-collection deletions)

cqlite-py 0.17 cannot write decimal, duration or UDT values (its CQL literal parser refuses
them): those are covered by the project's own writer and the corpus only. Its date literal is
days since the epoch, its time literal nanoseconds, its timestamp literal milliseconds.
"""
import datetime
import json
import os
import sys

import cqlite

# type -> (CQL literals, expected SELECT JSON values), three distinct values each.
TYPES = {
    "ascii": (["'a'", "'b'", "'c'"], ["a", "b", "c"]),
    "bigint": (["1", "-9000000000", "42"], [1, -9000000000, 42]),
    "blob": (["0x01ff", "0xcafe", "0x00"], ["0x01ff", "0xcafe", "0x00"]),
    "boolean": (["true", "false", "true"], [True, False, True]),
    "date": (["18263", "0", "-1"], ["2020-01-02", "1970-01-01", "1969-12-31"]),
    "double": (["1.5", "-2.25", "123456789.125"], [1.5, -2.25, 123456789.125]),
    "float": (["1.5", "-0.25", "3.0"], [1.5, -0.25, 3.0]),
    "inet": (["'127.0.0.1'", "'::1'", "'10.1.2.3'"], ["127.0.0.1", "::1", "10.1.2.3"]),
    "int": (["1", "-2", "2147483647"], [1, -2, 2147483647]),
    "smallint": (["1", "-2", "32767"], [1, -2, 32767]),
    "text": (["'x'", "'é日本'", "''"], ["x", "é日本", ""]),
    "time": (["3723000000004", "0", "86399999999999"],
             ["01:02:03.000000004", "00:00:00.000000000", "23:59:59.999999999"]),
    "timestamp": (["1577836800000", "-1000", "0"], [1577836800000, -1000, 0]),
    "timeuuid": (["50554d6e-29bb-11e5-b345-feff819cdc9f", "d2177dd0-eaa2-11de-a572-001b779c76e3",
                  "00000000-0000-1000-8000-000000000000"],
                 ["50554d6e-29bb-11e5-b345-feff819cdc9f", "d2177dd0-eaa2-11de-a572-001b779c76e3",
                  "00000000-0000-1000-8000-000000000000"]),
    "tinyint": (["1", "-2", "127"], [1, -2, 127]),
    "uuid": (["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
              "33333333-3333-3333-3333-333333333333"],
             ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
              "33333333-3333-3333-3333-333333333333"]),
    "varint": (["123", "-1", "9223372036854775807"], [123, -1, 9223372036854775807]),
}


def key_text(t, v):
    """A map key as SELECT JSON writes it: always a string."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if t == "timestamp":
        return datetime.datetime.fromtimestamp(v / 1000, datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    return v if isinstance(v, str) else json.dumps(v)


def dedup(xs):
    """Distinct values in first-seen order: set elements and map keys (booleans repeat)."""
    out = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out


def lit_list(xs):
    return "[" + ", ".join(xs) + "]"


def lit_set(xs):
    return "{" + ", ".join(dedup(xs)) + "}"


def lit_map(pairs):
    seen = {}
    for k, v in pairs:
        seen.setdefault(k, v)
    return "{" + ", ".join(f"{k}: {v}" for k, v in seen.items()) + "}"


def map_of(t, pairs):
    """A map's expected JSON: the first value of each key, as `lit_map` writes it."""
    out = {}
    for k, v in pairs:
        out.setdefault(key_text(t, k), v)
    return out


def open_table(out, table, schema):
    d = os.path.join(out, table)
    os.makedirs(os.path.join(d, "empty"), exist_ok=True)
    with open(os.path.join(d, "schema.cql"), "w") as f:
        f.write(schema + "\n")
    return cqlite.open(os.path.join(d, "empty"), schema=os.path.join(d, "schema.cql"),
                       writable=True, write_dir=os.path.join(d, "w"))


def main():
    out = sys.argv[1]
    cols = []
    for t in TYPES:
        cols += [f"l_{t} list<{t}>", f"s_{t} set<{t}>", f"m_{t} map<{t}, {t}>"]
    colls = "CREATE TABLE ks.colls (id int PRIMARY KEY, " + ", ".join(cols) + ");"
    # cqlite-py 0.17 writes a non-frozen collection in a static column as one simple cell in
    # the frozen encoding, which Cassandra does not read (and neither do we: a clean error),
    # so the static column here is a scalar.
    statics = ("CREATE TABLE ks.statics (id int, c int, st text static, "
               "m map<int, uuid>, l list<timestamp>, PRIMARY KEY (id, c));")

    rows = {i: {"id": i} for i in (1, 2, 3, 4)}
    with open_table(out, "colls", colls) as db:
        # Generation 1: row 1 holds the first two values, row 2 all three, row 3 one.
        for t, (lits, vals) in TYPES.items():
            db.execute(f"INSERT INTO ks.colls (id, l_{t}, s_{t}, m_{t}) VALUES (1, "
                       f"{lit_list(lits[:2])}, {lit_set(lits[:2])}, "
                       f"{lit_map(zip(lits[:2], lits[1::-1]))})")
            db.execute(f"INSERT INTO ks.colls (id, l_{t}, s_{t}, m_{t}) VALUES (2, "
                       f"{lit_list(lits)}, {lit_set(lits)}, {lit_map(zip(lits, lits))})")
            db.execute(f"INSERT INTO ks.colls (id, l_{t}, s_{t}, m_{t}) VALUES (3, "
                       f"{lit_list(lits[2:])}, {lit_set(lits[2:])}, {lit_map(zip(lits[2:], lits[2:]))})")
            rows[1][f"l_{t}"] = vals[:2]
            rows[1][f"s_{t}"] = dedup(vals[:2])
            rows[1][f"m_{t}"] = map_of(t, zip(vals[:2], vals[1::-1]))
            rows[2][f"l_{t}"] = vals
            rows[2][f"s_{t}"] = dedup(vals)
            rows[2][f"m_{t}"] = map_of(t, zip(vals, vals))
            rows[3][f"l_{t}"] = vals[2:]
            rows[3][f"s_{t}"] = vals[2:]
            rows[3][f"m_{t}"] = {key_text(t, k): v for k, v in zip(vals[2:], vals[2:])}
        if not db.flush_run():
            sys.exit("cqlite-py flushed nothing for generation 1")
        # Generation 2: a new partition, and row 3's set deleted whole (a complex deletion
        # that the reader must apply to generation 1's cells). cqlite-py 0.17 writes no
        # element-wise updates, and its whole-collection overwrite carries no complex deletion
        # (unlike Cassandra's), so overwrites are left out: their rows would be cqlite's, not
        # CQL's.
        for t, (lits, vals) in TYPES.items():
            db.execute(f"INSERT INTO ks.colls (id, l_{t}, s_{t}, m_{t}) VALUES (4, "
                       f"{lit_list(lits[::-1])}, {lit_set(lits[1:])}, {lit_map(zip(lits[2:], lits[:1]))})")
            db.execute(f"DELETE s_{t} FROM ks.colls WHERE id = 3")
            rows[4][f"l_{t}"] = vals[::-1]
            rows[4][f"s_{t}"] = dedup(vals[1:])
            rows[4][f"m_{t}"] = {key_text(t, vals[2]): vals[0]}
            rows[3].pop(f"s_{t}")
        if not db.flush_run():
            sys.exit("cqlite-py flushed nothing for generation 2")
    with open_table(out, "statics", statics) as db:
        db.execute("INSERT INTO ks.statics (id, c, st, m, l) VALUES (1, 1, 's', "
                   "{7: 11111111-1111-1111-1111-111111111111}, [0, 1577836800000])")
        db.execute("INSERT INTO ks.statics (id, c, m) VALUES (1, 2, {8: 22222222-2222-2222-2222-222222222222})")
        if not db.flush_run():
            sys.exit("cqlite-py flushed nothing for statics")

    expected = {
        "name": "cqlite_colls",
        "mode": "merged",
        "schema_cql": colls,
        "rows": [rows[i] for i in sorted(rows)],
        "certainty": "from the CQL that made the data",
    }
    with open(os.path.join(out, "colls", "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    expected = {
        "name": "cqlite_statics",
        "mode": "merged",
        "schema_cql": statics,
        "rows": [
            {"id": 1, "c": 1, "st": "s", "m": {"7": "11111111-1111-1111-1111-111111111111"},
             "l": [0, 1577836800000]},
            {"id": 1, "c": 2, "st": "s", "m": {"8": "22222222-2222-2222-2222-222222222222"}},
        ],
        "certainty": "from the CQL that made the data",
    }
    with open(os.path.join(out, "statics", "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
