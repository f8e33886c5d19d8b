//! The integration test binary: runs the built `sstable-lake` on real SSTables from the corpus
//! and on damaged copies of them, and pins what users see (rows, inspect output, errors).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("SSTABLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
    if root.join("CATALOG.tsv").is_file() {
        return Some(root);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "corpus not found at {} (SSTABLE_CORPUS); under CI=true this is a failure",
            root.display()
        );
    }
    eprintln!("corpus not found at {}: skipping", root.display());
    None
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
        .args(args)
        .output()
        .expect("run sstable-lake")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Copies the files of a set (by Data.db path) into a fresh directory `dir/<table dir name>/`.
fn copy_set(data: &Path, dir: &Path) -> PathBuf {
    let table_dir = dir.join(data.parent().unwrap().file_name().unwrap());
    std::fs::create_dir_all(&table_dir).unwrap();
    let name = data.file_name().unwrap().to_str().unwrap();
    let prefix = name.strip_suffix("Data.db").unwrap();
    for e in std::fs::read_dir(data.parent().unwrap()).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_str().unwrap().starts_with(prefix) {
            std::fs::copy(&p, table_dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    table_dir.join(name)
}

const DIFFERENT_TYPES: &str =
    "scylla/sstables/3.x/uncompressed/write_different_types/mc-1-big-Data.db";
const SCHEMA_DIFFERENT_TYPES: &str = "CREATE TABLE sst3.different_types (pk text, asciival ascii, bigintval bigint, blobval blob, boolval boolean, dateval date, decimalval decimal, doubleval double, floatval float, inetval inet, intval int, smallintval smallint, timeval time, tsval timestamp, timeuuidval timeuuid, tinyintval tinyint, uuidval uuid, varcharval varchar, varintval varint, durationval duration, PRIMARY KEY (pk));";

#[test]
fn dump_every_scalar_type_with_a_schema() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("schema.cql");
    std::fs::write(&schema, SCHEMA_DIFFERENT_TYPES).unwrap();
    let o = run(&[
        "dump",
        "--schema",
        schema.to_str().unwrap(),
        root.join(DIFFERENT_TYPES).to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = json_lines(&o);
    assert_eq!(rows.len(), 1);
    let expected = serde_json::json!({
        "keyspace": "sst3", "table": "different_types", "token": -6847573755651342660i64,
        "pk": "key", "asciival": "hello", "bigintval": 9223372036854775807i64, "blobval": "0x6772656174",
        "boolval": true, "dateval": "2017-05-05", "decimalval": 5.45, "doubleval": 36.6, "floatval": 7.62,
        "inetval": "192.168.0.110", "intval": -2147483648i64, "smallintval": 32767, "timeval": "19:45:05.090000000",
        "tsval": "2015-05-01 09:30:54.234Z", "timeuuidval": "50554d6e-29bb-11e5-b345-feff819cdc9f", "tinyintval": 127,
        "uuidval": "01234567-0123-0123-0123-0123456789ab", "varcharval": "привет", "varintval": 123,
        "durationval": "1h4m48s20ms"
    });
    assert_eq!(rows[0], expected);
}

#[test]
fn dump_without_schema_uses_the_header_and_says_so() {
    let Some(root) = corpus() else { return };
    let o = run(&["dump", root.join(DIFFERENT_TYPES).to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no schema"), "{}", stderr(&o));
    let rows = json_lines(&o);
    assert_eq!(rows[0]["key"], "key");
    assert_eq!(rows[0]["intval"], -2147483648i64);
}

#[test]
fn raw_dump_shows_cells_and_tombstones() {
    let Some(root) = corpus() else { return };
    let set = root.join("scylla/sstables/3.x/uncompressed/write_deleted_row/mc-1-big-Data.db");
    let o = run(&["dump", "--raw", set.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = json_lines(&o);
    assert!(lines.iter().any(|l| l["type"] == "partition"));
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "row" && l.get("deletion").is_some()),
        "{}",
        stdout(&o)
    );
}

#[test]
fn merged_generations_give_the_current_rows() {
    let Some(root) = corpus() else { return };
    let canon: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("canon/expected/scylla_la_complex_merged.json"))
            .unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("schema.cql");
    std::fs::write(
        &schema,
        format!("{};", canon["schema_cql"].as_str().unwrap()),
    )
    .unwrap();
    let mut args = vec![
        "dump".to_string(),
        "--schema".into(),
        schema.display().to_string(),
    ];
    // Three generations of one table, side by side in the table's directory.
    for s in canon["applies_to"].as_array().unwrap() {
        let data = root.join(s.as_str().unwrap());
        args.push(
            copy_set(&data, &tmp.path().join("ks"))
                .display()
                .to_string(),
        );
    }
    let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        json_lines(&o).len(),
        canon["rows"].as_array().unwrap().len()
    );
    assert!(stderr(&o).contains("merge "), "{}", stderr(&o));
}

#[test]
fn inspect_reports_metadata_across_versions() {
    let Some(root) = corpus() else { return };
    for (set, version, partitioner) in [
        ("cassandra/legacy-sstables/ka/legacy_tables/legacy_ka_simple/legacy_tables-legacy_ka_simple-ka-1-Data.db", "ka", "ByteOrderedPartitioner"),
        ("cassandra/legacy-sstables/mc/legacy_tables/legacy_mc_simple/mc-1-big-Data.db", "mc", "ByteOrderedPartitioner"),
        ("cassandra/legacy-sstables/oa/legacy_tables/legacy_oa_simple/oa-1-big-Data.db", "oa", "ByteOrderedPartitioner"),
        ("cassandra/legacy-sstables/da/legacy_tables/legacy_da_simple/da-1-bti-Data.db", "da", "ByteOrderedPartitioner"),
        (DIFFERENT_TYPES, "mc", "Murmur3Partitioner"),
    ] {
        let o = run(&["inspect", "--json", "--verify", root.join(set).to_str().unwrap()]);
        assert!(o.status.success(), "{set}: {}", stderr(&o));
        let j = &json_lines(&o)[0];
        assert_eq!(j["version"], version, "{set}");
        assert_eq!(j["partitioner"], partitioner, "{set}");
        assert_eq!(j["verify"]["digest"].as_str().map(|d| d.starts_with("ok")), Some(true), "{set}: {j}");
        if version != "ka" {
            assert!(j["columns"]["regular"].as_array().is_some(), "{set}");
        }
    }
    let o = run(&[
        "inspect",
        "--json",
        root.join(DIFFERENT_TYPES).to_str().unwrap(),
    ]);
    let j = &json_lines(&o)[0];
    assert_eq!(j["index"], "big");
    assert_eq!(j["columns"]["partition_key"], serde_json::json!(["text"]));
    assert_eq!(j["rows"], 1);
}

/// Bad input gets one clear line naming the file (and, for decode errors, component and offset).
fn assert_clean_error(o: &Output, must_contain: &[&str]) {
    assert!(
        !o.status.success(),
        "expected a failure, got: {}",
        stdout(o)
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "exit code (a signal means a crash)"
    );
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line expected: {err}");
    for m in must_contain {
        assert!(lines[0].contains(m), "{m:?} not in {:?}", lines[0]);
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn truncated_data_is_a_clear_error() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = copy_set(&root.join(DIFFERENT_TYPES), tmp.path());
    let bytes = std::fs::read(&data).unwrap();
    std::fs::write(&data, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(&["dump", data.to_str().unwrap()]);
    assert_clean_error(&o, &["mc-1-big-", "byte"]);
    let o = run(&["inspect", "--verify", data.to_str().unwrap()]);
    assert_clean_error(&o, &["mc-1-big-"]);
}

#[test]
fn corrupt_compressed_chunk_is_a_checksum_error() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = copy_set(
        &root.join("cassandra/legacy-sstables/mc/legacy_tables/legacy_mc_simple/mc-1-big-Data.db"),
        tmp.path(),
    );
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();
    let o = run(&["dump", data.to_str().unwrap()]);
    assert_clean_error(&o, &["Data.db", "checksum mismatch in chunk 0", "byte 0"]);
}

#[test]
fn missing_component_and_unknown_version_are_clear_errors() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = copy_set(&root.join(DIFFERENT_TYPES), tmp.path());
    std::fs::remove_file(data.with_file_name("mc-1-big-Statistics.db")).unwrap();
    let o = run(&["dump", data.to_str().unwrap()]);
    assert_clean_error(&o, &["missing Statistics.db"]);

    let tmp = tempfile::tempdir().unwrap();
    let data = copy_set(&root.join(DIFFERENT_TYPES), tmp.path());
    for e in std::fs::read_dir(data.parent().unwrap()).unwrap() {
        let p = e.unwrap().path();
        let n = p
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace("mc-1-big-", "zz-1-big-");
        std::fs::rename(&p, p.with_file_name(n)).unwrap();
    }
    let o = run(&["dump", data.parent().unwrap().to_str().unwrap()]);
    assert_clean_error(&o, &["zz"]);
}

#[test]
fn wrong_schema_is_a_clear_error() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("schema.cql");
    std::fs::write(
        &schema,
        "CREATE TABLE ks.t (a int, b int, c int, PRIMARY KEY ((a, b), c));",
    )
    .unwrap();
    let o = run(&[
        "dump",
        "--schema",
        schema.to_str().unwrap(),
        root.join(DIFFERENT_TYPES).to_str().unwrap(),
    ]);
    assert_clean_error(&o, &["partition key"]);
    // 2.x files need a schema, and say so.
    let o = run(&[
        "dump",
        root.join("cassandra/legacy-sstables/ka/legacy_tables/legacy_ka_simple/legacy_tables-legacy_ka_simple-ka-1-Data.db")
            .to_str()
            .unwrap(),
    ]);
    assert_clean_error(&o, &["--schema"]);
}

#[test]
fn nothing_found_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["dump", tmp.path().to_str().unwrap()]);
    assert_clean_error(&o, &["no SSTables found"]);
}

#[test]
fn sample_backup_of_three_nodes_merges_to_the_expected_rows() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample");
    let o = run(&[
        "dump",
        "--now",
        "2024-01-01T00:00:00Z",
        sample.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = |v: &serde_json::Value| v.to_string();
    let mut got: Vec<String> = json_lines(&o).iter().map(key).collect();
    let mut want: Vec<String> = std::fs::read_to_string(sample.join("expected.jsonl"))
        .unwrap()
        .lines()
        .map(|l| key(&serde_json::from_str::<serde_json::Value>(l).unwrap()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let err = stderr(&o);
    assert!(
        err.contains("merge shop.orders") && err.contains("row version(s) merged"),
        "{err}"
    );
}

/// `dump ... | head`: when the reader closes the pipe, the run stops quietly with status 0
/// (as `inspect` and `plan` do). The read end is closed before the binary writes anything.
#[test]
fn closed_pipe_exits_quietly() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample");
    for args in [
        &["dump", "--now", "2024-01-01T00:00:00Z", sample][..],
        &["inspect", sample],
        &["plan", "--splits", "2", sample],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run sstable-lake");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait for sstable-lake");
        let err = stderr(&out);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
}
