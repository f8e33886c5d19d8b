//! `sstable-lake export` end to end: corpus tables with every CQL type exported to Parquet and
//! read back by DuckDB (`tests/duckdb/check_export.py`, in the venv that
//! `scripts/install-test-deps.sh` makes), compared with the corpus' expected rows; and an
//! interrupted export that a re-run completes without duplicates.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;
use crate::common::ci;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

pub(crate) fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("SSTABLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("{MANIFEST_DIR}/../shared/corpus")));
    if root.join("CATALOG.tsv").is_file() {
        return Some(root);
    }
    assert!(
        !ci(),
        "corpus not found at {} (SSTABLE_CORPUS)",
        root.display()
    );
    eprintln!("corpus not found at {}: skipping", root.display());
    None
}

/// The venv's python with DuckDB, or `None` (skip) outside CI.
fn python() -> Option<PathBuf> {
    let py = PathBuf::from(format!("{MANIFEST_DIR}/target/test-venv/bin/python"));
    if py.is_file() {
        return Some(py);
    }
    assert!(
        !ci(),
        "{} missing: run scripts/install-test-deps.sh",
        py.display()
    );
    eprintln!(
        "{} missing: skipping the DuckDB checks (run scripts/install-test-deps.sh)",
        py.display()
    );
    None
}

fn export(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
        .arg("export")
        .args(args)
        .output()
        .expect("run sstable-lake")
}

pub(crate) fn canon(corpus: &Path, name: &str) -> (PathBuf, serde_json::Value) {
    let path = corpus.join(format!("canon/expected/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    (path, serde_json::from_str(&text).unwrap())
}

/// Links the canon's sets into `dir/<table dir>/` (as the canon runner does) and writes its
/// schema; returns (input dir, schema file).
pub(crate) fn stage(corpus: &Path, c: &serde_json::Value, dir: &Path) -> (PathBuf, PathBuf) {
    let sets: Vec<&str> = c["applies_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let input = dir.join("in");
    for set in &sets {
        let data = corpus.join(set);
        let parent = data.parent().unwrap();
        let table_dir = input.join(parent.file_name().unwrap());
        std::fs::create_dir_all(&table_dir).unwrap();
        let name = data.file_name().unwrap().to_str().unwrap();
        let prefix = name.strip_suffix("Data.db").unwrap();
        for e in std::fs::read_dir(parent).unwrap() {
            let e = e.unwrap();
            let n = e.file_name().into_string().unwrap();
            if n.starts_with(prefix) {
                std::os::unix::fs::symlink(e.path(), table_dir.join(&n)).unwrap();
            }
        }
    }
    let schema = dir.join("schema.cql");
    std::fs::write(&schema, c["schema_cql"].as_str().unwrap()).unwrap();
    (input, schema)
}

/// The one table directory (`DEST/ks/table`) under `out`.
fn table_dir(out: &Path) -> PathBuf {
    let ks = std::fs::read_dir(out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read_dir(ks)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

fn duckdb_check(py: &Path, corpus: &Path, table: &Path, canon_path: &Path, rows: Option<usize>) {
    let mut cmd = Command::new(py);
    cmd.arg(format!("{MANIFEST_DIR}/tests/duckdb/check_export.py"))
        .arg(table)
        .arg(canon_path)
        .arg(corpus.join("canon/check_rows.py"));
    if let Some(n) = rows {
        cmd.arg("--expect-rows").arg(n.to_string());
    }
    let o = cmd.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "DuckDB check of {} failed:\n{out}\n{}",
        table.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Extra flags for some corpus tables, so that every flag meets real data: every metadata
/// column and every compression codec.
const FLAGS: &[(&str, &[&str])] = &[
    (
        "scylla_3x_write_different_types",
        &[
            "--with-writetime",
            "--with-ttl",
            "--with-token",
            "--with-source",
            "--bloom-filter",
        ],
    ),
    (
        "scylla_3x_write_counter_table",
        &["--compression", "snappy"],
    ),
    ("scylla_la_complex_merged", &["--compression", "gzip"]),
    (
        "scylla_3x_write_collection_wide_update",
        &["--compression", "lz4"],
    ),
    (
        "scylla_3x_write_static_interleaved_atomic_and_collection_columns",
        &["--compression", "none"],
    ),
];

/// Every corpus table with expected rows (every non-negative set of the canon, alone or
/// merged as the canon says; every CQL type family: scalars with every metadata column, UDTs,
/// counters, collections and statics merged over three 2.x generations, legacy formats from
/// jb to oa and da): exported to a folder, then read back by DuckDB in one process, each
/// table's rows equal to the expected ones.
#[test]
fn exports_read_back_by_duckdb_equal_the_expected_rows() {
    let Some(corpus) = corpus() else { return };
    let Some(py) = python() else { return };
    let checks = common::checks(&corpus);
    assert!(checks.len() >= 180, "{} checks", checks.len());
    let tmp = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        let work = tmp.path().join(format!("c{i:03}"));
        let out = work.join("out");
        let mut args = check.stage(&corpus, &work);
        args.extend(["--out".into(), out.to_str().unwrap().into()]);
        if let Some((_, extra)) = FLAGS.iter().find(|(n, _)| *n == check.name) {
            args.extend(extra.iter().map(|s| (*s).to_string()));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = export(&args);
        assert!(
            o.status.success(),
            "{}: {}",
            check.label,
            String::from_utf8_lossy(&o.stderr)
        );
        let table = table_dir(&out);
        assert!(
            !table.join("_staging").exists(),
            "{}: staging left behind",
            check.label
        );
        let mut job = check.job(table.to_str().unwrap());
        job["expect_rows"] = check.expected_rows.into();
        jobs.push(job);
    }
    common::batch_check(
        &py,
        "tests/duckdb/check_export.py",
        &["--batch"],
        &corpus,
        &jobs,
        &[],
    );
}

/// `--compat spark` and `--decimal`: uuid as text, time as int64; a decimal that fits is
/// exact, one that does not is an error.
#[test]
fn spark_compat_and_decimal_precision() {
    let Some(corpus) = corpus() else { return };
    let (_, c) = canon(&corpus, "scylla_3x_write_different_types");
    let tmp = tempfile::tempdir().unwrap();
    let (input, schema) = stage(&corpus, &c, tmp.path());
    let out = tmp.path().join("out");
    let base = [
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
    ];
    // 5.45 fits decimal(10,2) exactly; it does not fit decimal(10,1).
    let o = export(&[&base[..], &["--compat", "spark", "--decimal", "10,2"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(table_dir(&out).join("_manifest.json")).unwrap(),
    )
    .unwrap();
    let ty = |n: &str| {
        manifest["schema"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()["arrow_type"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(ty("uuidval"), "Utf8");
    assert_eq!(ty("timeval"), "Int64");
    assert_eq!(ty("decimalval"), "Decimal128(10, 2)");
    let o = export(&[&base[..], &["--decimal", "10,1"]].concat());
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("5.45") && err.contains("rounded"), "{err}");
    // The failed run published nothing: no _SUCCESS.
    assert!(!table_dir(&out).join("_SUCCESS").exists());
    if let Some(py) = python() {
        let o = Command::new(py)
            .arg("-c")
            .arg(format!(
                "import duckdb; print(duckdb.sql(\"select uuidval, timeval, decimalval from read_parquet('{}/**/*.parquet')\").fetchall())",
                out.display()
            ))
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(
            s.contains("'01234567-0123-0123-0123-0123456789ab', 71105090000000, Decimal('5.45')"),
            "{s}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The venv's python if PySpark and a `java` are there, or `None` (skip) outside CI.
fn spark_python() -> Option<PathBuf> {
    let py = python()?;
    let ok = Command::new(&py)
        .args(["-c", "import pyspark"])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("java")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
    assert!(
        ok || !ci(),
        "PySpark or java missing: run scripts/install-test-deps.sh"
    );
    if !ok {
        eprintln!("PySpark or java missing: skipping (run scripts/install-test-deps.sh)");
    }
    ok.then_some(py)
}

/// The corpus tables Spark reads: every CQL type family (every scalar type, duration, frozen
/// and non-frozen collections, UDTs, counters, statics, compact storage with blob and empty
/// values) over several formats.
const SPARK_TABLES: &[&str] = &[
    "scylla_3x_write_different_types",
    "scylla_3x_partition_key_with_values_of_different_types",
    "scylla_3x_write_user_defined_type_table",
    "scylla_3x_write_counter_table",
    "scylla_3x_write_empty_counter",
    "scylla_3x_write_collection_wide_update",
    "scylla_3x_write_collection_incremental_update",
    "scylla_3x_write_static_interleaved_atomic_and_collection_columns",
    "scylla_3x_write_compact_table",
    "scylla_la_complex_merged",
    "scylla_la_compact_dense",
    "scylla_la_compact_sparse",
    "scylla_la_compact_simple_dense",
    "cassandra_ka_14912",
    "cassandra_ka_cql_created_dense_table_with_bytes",
    "cassandra_legacy_clust_counter_compact",
    "cassandra_legacy_simple_counter",
    "scylla_multi_counter_test",
];

/// PySpark 4 (local[1], one JVM for every read) reads the `--compat spark` output of tables
/// with every CQL type (the corpus' typed tables and testdata/sample's three tables:
/// every scalar type, duration, non-frozen and frozen UDT, tuple, collections, counter) and
/// its values equal the expected rows; it refuses the default output's TIME and UUID columns
/// (as the README says) but reads the default output of tables without them.
#[test]
fn spark_reads_the_compat_output_of_every_type() {
    let Some(corpus) = corpus() else { return };
    let Some(py) = spark_python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    let checks = common::checks(&corpus);
    for name in SPARK_TABLES {
        assert!(checks.iter().any(|c| c.name == *name), "{name}");
    }
    for (i, check) in checks
        .iter()
        .filter(|c| SPARK_TABLES.contains(&c.name.as_str()))
        .enumerate()
    {
        let work = tmp.path().join(format!("c{i:03}"));
        let args = check.stage(&corpus, &work);
        // `--decimal 10,2` too on the table with a decimal (5.45): Spark's decimal(10,2).
        let decimal = check.name == "scylla_3x_write_different_types";
        for dir in ["compat", "default", "decimal"] {
            if dir == "decimal" && !decimal {
                continue;
            }
            let compat = dir != "default";
            let out = work.join(dir);
            let mut a = args.clone();
            a.extend(["--out".into(), out.to_str().unwrap().into()]);
            if compat {
                a.extend(["--compat".into(), "spark".into()]);
            }
            if dir == "decimal" {
                a.extend(["--decimal".into(), "10,2".into()]);
            }
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let o = export(&a);
            assert!(
                o.status.success(),
                "{}: {}",
                check.label,
                String::from_utf8_lossy(&o.stderr)
            );
            let table = table_dir(&out);
            if compat {
                let mut job = check.job(table.to_str().unwrap());
                job["label"] = if dir == "decimal" {
                    format!("{} --compat spark --decimal 10,2", check.label)
                } else {
                    format!("{} --compat spark", check.label)
                }
                .into();
                if dir == "decimal" {
                    job["expect_schema"] = "decimalval:decimal(10,2)".into();
                }
                jobs.push(job);
            } else if check.name == "scylla_3x_write_different_types" {
                // Its TIME column is met first.
                jobs.push(serde_json::json!({
                    "label": format!("{} (default: TIME refused)", check.label),
                    "table": table,
                    "expect_error": ["PARQUET_TYPE_ILLEGAL", "INT64 (TIME(NANOS,false))"],
                }));
            } else if check.name == "scylla_3x_partition_key_with_values_of_different_types"
                && check.sets[0].contains("/lz4/")
            {
                // uuid and timeuuid, no time.
                jobs.push(serde_json::json!({
                    "label": format!("{} (default: UUID refused)", check.label),
                    "table": table,
                    "expect_error": ["PARQUET_TYPE_ILLEGAL", "FIXED_LEN_BYTE_ARRAY (UUID)"],
                }));
            }
        }
    }
    // testdata/sample: every table merged over 3 nodes, as of its expected.jsonl.
    let sample = format!("{MANIFEST_DIR}/testdata/sample");
    // Each table directory's schema.cql (its CREATE TYPEs and CREATE TABLE).
    let schema = |table: &str| {
        std::fs::read_dir(format!("{sample}/node1/data/shop"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!("{table}-"))
            })
            .unwrap()
            .join("snapshots/sample/schema.cql")
    };
    for (compat, dir) in [(true, "compat"), (false, "default")] {
        let out = tmp.path().join(format!("sample-{dir}"));
        let mut a = vec![
            sample.as_str(),
            "--out",
            out.to_str().unwrap(),
            "--now",
            "2024-01-01T00:00:00Z",
        ];
        if compat {
            a.extend(["--compat", "spark"]);
        }
        let o = export(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for table in ["products", "orders", "page_views"] {
            let path = out.join("shop").join(table);
            let label = format!("sample shop.{table} ({dir})");
            if !compat && table == "products" {
                jobs.push(serde_json::json!({
                    "label": label,
                    "table": path,
                    "expect_error": ["PARQUET_TYPE_ILLEGAL"],
                }));
                continue;
            }
            jobs.push(serde_json::json!({
                "label": label,
                "table": path,
                "expected_jsonl": format!("{sample}/expected.jsonl"),
                "expected_table": table,
                "schema": schema(table),
            }));
        }
    }
    let out = common::batch_check(
        &py,
        "tests/spark/check_spark.py",
        &[],
        &corpus,
        &jobs,
        &[("SPARK_LOCAL_IP", "127.0.0.1")],
    );
    eprintln!("{out}");
}

/// An export stopped abruptly after 3 parts leaves no `_SUCCESS`; re-running completes it, and
/// running again replaces the previous run: the rows are never duplicated.
#[test]
fn interrupted_export_is_completed_by_a_rerun_without_duplicates() {
    let Some(corpus) = corpus() else { return };
    let (canon_path, c) = canon(&corpus, "scylla_multi_large_partition");
    let one = serde_json::json!({
        "applies_to": [c["applies_to"][3].clone()],
        "schema_cql": c["schema_cql"].clone(),
    });
    let tmp = tempfile::tempdir().unwrap();
    let (input, schema) = stage(&corpus, &one, tmp.path());
    let out = tmp.path().join("out");
    let args = [
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--row-group-size",
        "1000",
        "--target-file-size",
        "1",
    ];
    let o = export(&[&args[..], &["--fail-after-parts", "3"]].concat());
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let table = table_dir(&out);
    assert!(!table.join("_SUCCESS").exists());
    assert!(!table.join("_manifest.json").exists());
    let parquet_files = |dir: &Path| {
        let mut n = 0;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "parquet") {
                    n += 1;
                }
            }
        }
        n
    };
    assert_eq!(parquet_files(&table.join("_staging")), 3);
    for round in 0..2 {
        let report = tmp.path().join(format!("report{round}.json"));
        let o = export(&[&args[..], &["--report", report.to_str().unwrap()]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(table.join("_SUCCESS").exists());
        assert!(!table.join("_staging").exists());
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(r["rows"], 13520);
        let files = r["files"].as_u64().unwrap();
        assert!(files >= 14, "{files} files");
        assert_eq!(parquet_files(&table), files as usize);
        if let Some(py) = python() {
            duckdb_check(&py, &corpus, &table, &canon_path, Some(13520));
        }
    }
}

/// `--partition-by COL` writes Hive directories and leaves the column out of the files.
#[test]
fn partition_by_writes_hive_directories() {
    let Some(corpus) = corpus() else { return };
    let (_, c) = canon(&corpus, "scylla_la_complex_merged");
    let tmp = tempfile::tempdir().unwrap();
    let (input, schema) = stage(&corpus, &c, tmp.path());
    let out = tmp.path().join("out");
    let o = export(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--partition-by",
        "key",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = table_dir(&out);
    let mut dirs: Vec<String> = std::fs::read_dir(&table)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("key="))
        .collect();
    dirs.sort();
    assert_eq!(dirs, ["key=0x6b657931", "key=0x6b657932"]);
    let o = export(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--partition-by",
        "date(reg)",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not timestamp or date"));
}

/// Every table's rows as DuckDB sees them, sorted: `{table dir: [row repr, ...]}`.
fn duckdb_rows(py: &Path, out: &Path) -> serde_json::Value {
    let script = r#"
import duckdb, json, os, sys
out = sys.argv[1]
result = {}
for ks in sorted(os.listdir(out)):
    for t in sorted(os.listdir(os.path.join(out, ks))):
        d = os.path.join(out, ks, t)
        rows = duckdb.sql(f"select * from read_parquet('{d}/**/*.parquet', hive_partitioning = false)").fetchall()
        result[f"{ks}/{t}"] = sorted(repr(r) for r in rows)
print(json.dumps(result))
"#;
    let o = Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The files of a directory tree, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The sample backup (three nodes' snapshots of three tables, with overlapping and
/// conflicting data) exported as 8 shard processes and committed gives exactly the rows of a
/// one-process export; so does one process with 2 threads over 7 splits. A missing shard makes
/// `--commit` fail naming it, and publish nothing; re-running that shard alone completes it.
#[test]
fn sharded_and_threaded_exports_equal_one_process() {
    let sample = format!("{MANIFEST_DIR}/testdata/sample");
    let tmp = tempfile::tempdir().unwrap();
    let dest = |name: &str| tmp.path().join(name).display().to_string();
    let now = ["--now", "2024-01-01T00:00:00Z"];
    let run = |args: &[&str]| {
        let o = export(&[&[sample.as_str()], &now[..], args].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    let one = dest("one");
    run(&["--out", &one, "--threads", "1"]);
    let threaded = dest("threaded");
    run(&["--out", &threaded, "--threads", "2", "--splits", "7"]);

    let sharded = dest("sharded");
    let shard_args = |k: usize| {
        vec![
            "--out".to_string(),
            sharded.clone(),
            "--shard".to_string(),
            format!("{k}/8"),
            "--splits".to_string(),
            "16".to_string(),
        ]
    };
    for k in (0..8).filter(|k| *k != 5) {
        let a = shard_args(k);
        run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    }
    // No shard publishes anything.
    assert!(tree(Path::new(&sharded))
        .iter()
        .all(|f| f.contains("/_shards/")));
    let commit = [
        "--out", &sharded, "--commit", "--shards", "8", "--splits", "16",
    ];
    let o = export(&[&[sample.as_str()], &now[..], &commit[..]].concat());
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shard(s) 5 (not finished) of 8"), "{err}");
    assert!(tree(Path::new(&sharded))
        .iter()
        .all(|f| !f.ends_with("_SUCCESS")));
    // A commit with another --splits than the shards ran with is refused.
    let a = shard_args(5);
    run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = export(
        &[
            &[sample.as_str()],
            &now[..],
            &["--out", &sharded, "--commit", "--shards", "8"],
        ]
        .concat(),
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("run with other inputs, --splits"));
    // Shard 5 re-run (replacing its earlier parts), then the commit publishes.
    run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    run(&commit);
    let files = tree(Path::new(&sharded));
    assert!(files.iter().all(|f| !f.contains("_shards")), "{files:?}");
    for t in ["orders", "page_views", "products"] {
        assert!(files.contains(&format!("shop/{t}/_SUCCESS")), "{files:?}");
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(Path::new(&sharded).join(format!("shop/{t}/_manifest.json")))
                .unwrap(),
        )
        .unwrap();
        let listed: Vec<String> = m["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("shop/{t}/{}", f["path"].as_str().unwrap()))
            .collect();
        let on_disk: Vec<String> = files
            .iter()
            .filter(|f| f.starts_with(&format!("shop/{t}/")) && f.ends_with(".parquet"))
            .cloned()
            .collect();
        let mut listed_sorted = listed.clone();
        listed_sorted.sort();
        assert_eq!(listed_sorted, on_disk);
    }
    // A second commit changes nothing (the shards' markers are gone: it says so).
    let o = export(&[&[sample.as_str()], &now[..], &commit[..]].concat());
    assert!(!o.status.success());

    let Some(py) = python() else { return };
    let expected = duckdb_rows(&py, Path::new(&one));
    let total: usize = expected
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert!(total >= 10, "{expected}");
    assert_eq!(duckdb_rows(&py, Path::new(&threaded)), expected);
    assert_eq!(duckdb_rows(&py, Path::new(&sharded)), expected);
}
