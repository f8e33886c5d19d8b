//! Discovery and schemas (issues 11.1, 11.5, 11.9 and 14): which tables are one, which
//! `--schema` table applies to which table found, columns of the data and of the schema
//! reconciled, and table folders with non-ASCII names. Inputs are written by the project's own
//! writer (`sstable_format::sstable_writer`).

use std::path::Path;
use std::process::{Command, Output};

use sstable_format::sstable_writer::{write_sstable, CellData, ColumnDef, PartitionData, RowData};
use sstable_format::sstable_writer::{TableDef, WriterOptions};
use sstable_format::CqlType;

const ID_A: &str = "0b5e7c10a1b211eeb9620242ac120002";
const ID_B: &str = "1c6f8d20a1b211eeb9620242ac120002";
const NOW: &str = "2024-01-01T00:00:00Z";

/// Writes `nb-<generation>` of table `k int PRIMARY KEY` plus `columns` (all `int`) into
/// `dir`: partitions `keys`, every column set to the key times 10.
fn write_table(dir: &Path, generation: u64, columns: &[&str], keys: std::ops::Range<i32>) {
    let table = TableDef {
        keyspace: "ks".into(),
        name: "tbl".into(),
        partition_key: vec![ColumnDef::new("k", CqlType::Int)],
        clustering: Vec::new(),
        statics: Vec::new(),
        regulars: columns
            .iter()
            .map(|c| ColumnDef::new(c, CqlType::Int))
            .collect(),
    };
    let mut partitions: Vec<PartitionData> = keys
        .map(|k| {
            let cells = columns
                .iter()
                .map(|c| CellData::live(c, 1_000, (k * 10).to_be_bytes().to_vec()))
                .collect();
            let mut p = PartitionData::new(table.partition_key(&[&k.to_be_bytes()]));
            p.static_row = None;
            p.unfiltereds = vec![sstable_format::sstable_writer::UnfilteredData::Row(
                RowData::inserted(Vec::new(), 1_000, None, cells),
            )];
            p
        })
        .collect();
    sstable_format::sstable_writer::sort_partitions(&table, &mut partitions);
    let files = write_sstable(&table, &partitions, &WriterOptions::nb(generation)).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// The binary under test (`SSTABLE_LAKE_BIN` runs these tests against another build, e.g. to
/// see them fail before a fix).
fn lake(args: &[&str]) -> Output {
    let bin = std::env::var("SSTABLE_LAKE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sstable-lake").to_string());
    Command::new(bin)
        .args(args)
        .output()
        .expect("run sstable-lake")
}

fn ok(args: &[&str]) -> Output {
    let o = lake(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The dumped rows as JSON values.
fn dump(input: &Path, schema: Option<&Path>) -> Vec<serde_json::Value> {
    let mut args = vec!["dump", input.to_str().unwrap(), "--now", NOW];
    if let Some(s) = schema {
        args.extend(["--schema", s.to_str().unwrap()]);
    }
    let o = ok(&args);
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn schema_file(dir: &Path, text: &str) -> std::path::PathBuf {
    let p = dir.join("schema.cql.in");
    std::fs::write(&p, text).unwrap();
    p
}

fn count_by(rows: &[serde_json::Value], field: &str) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for r in rows {
        *m.entry(r[field].as_str().unwrap_or("").to_string())
            .or_insert(0) += 1;
    }
    m
}

/// Issue 11.1: a schema describing `ks.a` was applied to every table found; `ks.b` was then
/// exported into `ks/a` and its publish replaced `a`'s rows (exit 0).
#[test]
fn schema_of_one_table_is_not_applied_to_another_and_no_two_tables_share_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_table(&input.join(format!("ks/a-{ID_A}")), 1, &["v"], 0..3);
    write_table(&input.join(format!("ks/b-{ID_B}")), 1, &["v"], 10..15);
    let schema = schema_file(tmp.path(), "CREATE TABLE ks.a (k int PRIMARY KEY, v int);");
    let rows = dump(&input, Some(&schema));
    let by_table = count_by(&rows, "table");
    assert_eq!(by_table.get("a"), Some(&3), "{by_table:?}");
    assert_eq!(by_table.get("b"), Some(&5), "{by_table:?}");

    let out = tmp.path().join("out");
    let o = ok(&[
        "export",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    for t in ["a", "b"] {
        assert!(
            out.join("ks").join(t).join("_SUCCESS").is_file(),
            "{t}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Issue 11.1: two different tables (different table ids) that resolve to one output table
/// are an error before anything is written.
#[test]
fn two_different_tables_resolving_to_one_folder_are_an_error_before_any_write() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    // node1/node2 hold one table without a keyspace level; ks holds another of the same name.
    write_table(&input.join(format!("node1/tbl-{ID_A}")), 1, &["v"], 0..3);
    write_table(&input.join(format!("node2/tbl-{ID_A}")), 1, &["v"], 0..3);
    write_table(&input.join(format!("ks/tbl-{ID_B}")), 1, &["v"], 10..13);
    let schema = schema_file(
        tmp.path(),
        "CREATE TABLE ks.tbl (k int PRIMARY KEY, v int);",
    );
    let out = tmp.path().join("out");
    let o = lake(&[
        "export",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("two different tables") && err.contains("ks.tbl"),
        "{err}"
    );
    assert!(!out.join("ks").exists(), "nothing is written");
}

/// Issue 14: `BACKUP/<node>/<table>-<id>/` (no keyspace level) was one keyspace per node: the
/// table came out once per node, unmerged (3× the rows, exit 0).
#[test]
fn node_folders_without_keyspace_merge_into_one_table() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("backup");
    for (n, node) in ["10.0.0.1", "10.0.0.2", "10.0.0.3"].iter().enumerate() {
        // Replicas: the same rows on every node, and one node also holds a row alone.
        let end = if n == 0 { 6 } else { 5 };
        write_table(&input.join(format!("{node}/tbl-{ID_A}")), 1, &["v"], 0..end);
    }
    let schema = schema_file(
        tmp.path(),
        "CREATE TABLE ks.tbl (k int PRIMARY KEY, v int);",
    );
    let rows = dump(&input, Some(&schema));
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert_eq!(count_by(&rows, "keyspace").get("ks"), Some(&6));
    // Without a schema too: one table, keyspace unknown.
    let rows = dump(&input, None);
    assert_eq!(rows.len(), 6, "{rows:?}");
}

/// Issue 14: two tables of one name in different keyspaces stay two tables.
#[test]
fn same_table_name_in_two_keyspaces_gives_both() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("data");
    write_table(&input.join(format!("ks1/tbl-{ID_A}")), 1, &["v"], 0..3);
    write_table(&input.join(format!("ks2/tbl-{ID_B}")), 1, &["v"], 0..4);
    let rows = dump(&input, None);
    let by_ks = count_by(&rows, "keyspace");
    assert_eq!(by_ks.get("ks1"), Some(&3), "{by_ks:?}");
    assert_eq!(by_ks.get("ks2"), Some(&4), "{by_ks:?}");
    let schema = schema_file(
        tmp.path(),
        "CREATE TABLE ks1.tbl (k int PRIMARY KEY, v int);\nCREATE TABLE ks2.tbl (k int PRIMARY KEY, v int);",
    );
    let by_ks = count_by(&dump(&input, Some(&schema)), "keyspace");
    assert_eq!(by_ks.get("ks1"), Some(&3), "{by_ks:?}");
    assert_eq!(by_ks.get("ks2"), Some(&4), "{by_ks:?}");
}

/// Issue 11.5: a schema column absent from the data came out null while the data's real
/// column was dropped without a word.
#[test]
fn data_column_missing_from_schema_is_an_error_unless_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join(format!("ks/tbl-{ID_A}"));
    write_table(&input, 1, &["v", "w"], 0..3);
    let schema = schema_file(
        tmp.path(),
        "CREATE TABLE ks.tbl (k int PRIMARY KEY, v int, x int);",
    );
    let o = lake(&[
        "dump",
        input.to_str().unwrap(),
        "--now",
        NOW,
        "--schema",
        schema.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("nb-1-big-Data.db") && err.contains("column w"),
        "{err}"
    );
    // Declared dropped: read, w ignored, x null with a note.
    let schema = schema_file(
        tmp.path(),
        "CREATE TABLE ks.tbl (k int PRIMARY KEY, v int, w int, x int);\nALTER TABLE ks.tbl DROP w USING TIMESTAMP 2000;",
    );
    let o = ok(&[
        "dump",
        input.to_str().unwrap(),
        "--now",
        NOW,
        "--schema",
        schema.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("column x") && err.contains("not in"), "{err}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(!text.contains("\"w\""), "{text}");
}

/// Issue 11.9: a table folder with a non-ASCII name failed `export` with a double
/// percent-encoded path (`tabl%25C3%25A9`).
#[test]
fn non_ascii_table_folder_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_table(&input.join(format!("ksé/tablé-{ID_A}")), 1, &["v"], 0..4);
    let out = tmp.path().join("out");
    let o = ok(&[
        "export",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    let dir = out.join("ksé").join("tablé");
    assert!(
        dir.join("_SUCCESS").is_file(),
        "{}: {:?}",
        String::from_utf8_lossy(&o.stderr),
        walk(&out)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(m["rows"], 4, "{m}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            v.push(e.path().display().to_string());
            v.extend(walk(&e.path()));
        }
    }
    v
}

/// Issue 11.9 on S3 (s3s-fs, as `export_remote.rs` starts it): a non-ASCII table exports to
/// keys carrying the names as written, and is read back from `s3://` as input.
#[test]
fn non_ascii_table_folder_exports_to_s3_and_reads_back() {
    use std::process::Stdio;
    let s3s = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-tools/bin/s3s-fs");
    if !s3s.exists() {
        assert!(!crate::common::ci(), "{} missing", s3s.display());
        eprintln!("{} missing: skipping", s3s.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_table(&input.join(format!("ksé/tablé-{ID_A}")), 1, &["v"], 0..4);
    let root = tmp.path().join("s3");
    std::fs::create_dir_all(root.join("lake")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (key, secret) = ("lake-test-key", "lake-test-secret-0123456789");
    let mut server = Command::new(&s3s)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", key, "--secret-key", secret])
        .arg(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < until, "s3s-fs not listening");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let endpoint = format!("http://127.0.0.1:{port}");
    let bin = std::env::var("SSTABLE_LAKE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sstable-lake").to_string());
    let run = |args: &[&str]| {
        Command::new(&bin)
            .env_clear()
            .envs([
                ("AWS_ACCESS_KEY_ID", key),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_REGION", "us-east-1"),
            ])
            .args(args)
            .args(["--endpoint", &endpoint, "--allow-http"])
            .args(["--s3-url-style", "path"])
            .output()
            .unwrap()
    };
    let o = run(&[
        "export",
        input.to_str().unwrap(),
        "--out",
        "s3://lake/out",
        "--now",
        NOW,
    ]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let published = root.join("lake/out/ksé/tablé/_SUCCESS").is_file();
    // Read the input back from the bucket.
    let staged = root.join(format!("lake/in/ksé/tablé-{ID_A}"));
    std::fs::create_dir_all(&staged).unwrap();
    for e in std::fs::read_dir(input.join(format!("ksé/tablé-{ID_A}"))).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), staged.join(e.file_name())).unwrap();
    }
    let d = run(&["dump", "s3://lake/in", "--now", NOW]);
    let _ = server.kill();
    let _ = server.wait();
    assert!(o.status.success() && published, "{err}: {:?}", walk(&root));
    assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
    let text = String::from_utf8(d.stdout).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("\"table\":\"tablé\""), "{text}");
}
