//! Golden test of `inspect --verify` over every set of the shared corpus (CATALOG.tsv):
//! a good set passes (exit 0); a negative set fails with a non-zero exit and exactly one stderr
//! line, starting with `error:`, that names a file of the set — except the sets listed in
//! [`UNDETECTED`] (each with the reason). [`CATALOG_CORRECTIONS`] lists sets the catalog calls
//! good that upstream tests show to be broken, and [`SCHEMAS`] the schema given with
//! `--schema` to 2.x sets whose defect only a schema reveals.

use std::path::PathBuf;
use std::process::Command;

/// Negative sets that pass `--verify`, and why. Matched against the CATALOG.tsv `path` column.
const UNDETECTED: &[(&str, &str)] = &[
    (
        "cassandra/invalid-legacy-sstables/Keyspace1/Standard1/Keyspace1-Standard1-ic-0-*",
        "not broken: a Cassandra 1.2 (ic) set, catalogued negative because Cassandra 3.0+ refuses \
         to load versions that old (ScrubTest / the legacy leveled manifest test). Every \
         component reads and checks out (issue 14 reads ic); its ten rows are asserted by \
         sstable-format's legacy::ic_standard1_gives_its_rows_and_its_metadata_parses",
    ),
    (
    "scylla/sstables/broken_non_compound_pi_and_range_tombstone/ks/test-1c6ace40fad111e7b9cf000000000002/me-1-big-*",
    "not broken: the set is catalogued negative for its directory, but this copy is a valid me \
     rewrite of the data (written 2022: three rows, ck 2 deleted). Its Index.db (8 bytes) has no \
     promoted index, so the broken-index defect of the ka/la copies (scylladb#2993) is absent, \
     and ScyllaDB's only test of it (sstable_datafile_test.cc :: \
     test_broken_promoted_index_is_skipped) asserts just that its index has no promoted index. \
     Every component checks out (chunks, digest, rows, index) and failing it would be a lie",
    ),
];

/// Sets CATALOG.tsv marks `negative` = False that `--verify` must still fail, and why.
const CATALOG_CORRECTIONS: &[(&str, &str)] = &[(
    "scylla/sstables/empty_index/mc-36-big-*",
    "its Index.db is one byte (0x0a) while Data.db holds a partition: no index entry can be \
     read. ScyllaDB's broken_sstable_test.cc :: test_empty_index asserts that reading its \
     indexes fails with malformed_sstable_exception \"missing index entry\"; the catalog lists \
     it as an edge case, but it is a broken set",
)];

/// Schemas given to `inspect --schema` for 2.x sets whose defect only a schema shows (2.x
/// files carry no column kinds; without a schema `--verify` reports "rows not checked" and
/// passes). The schema is the one ScyllaDB's test reads the set with.
const SCHEMAS: &[(&str, &str)] = &[(
    // broken_sstable_test.cc :: static_mismatch: test_foo_bar_zed_baz_static is a *regular*
    // column there, but the file holds a static cell for it; ScyllaDB fails with "Mismatch
    // between static cell and non-static column definition", and so must --verify.
    "scylla/sstables/static_column/la-58-big-*",
    "CREATE TABLE test_foo_bar_zed_baz_ks.test_foo_bar_zed_baz_table (\
     test_foo_bar_zed_baz_key text, test_foo_bar_zed_baz_val text, \
     test_foo_bar_zed_baz_static text, \
     PRIMARY KEY (test_foo_bar_zed_baz_key, test_foo_bar_zed_baz_val));",
)];

fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("SSTABLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into());
    if root.join("CATALOG.tsv").is_file() {
        Some(root)
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus not found at {} (CI=true)", root.display());
    } else {
        eprintln!("skipping: corpus not found at {}", root.display());
        None
    }
}

#[test]
fn every_catalog_set() {
    let Some(root) = corpus() else {
        return;
    };
    let catalog = std::fs::read_to_string(root.join("CATALOG.tsv")).expect("CATALOG.tsv");
    let mut lines = catalog.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (path_col, neg_col) = (col("path"), col("negative"));
    let mut failures = Vec::new();
    let (mut checked, mut negatives, mut undetected_seen) = (0, 0, 0);
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let pattern = fields.get(path_col).expect("path field");
        let negative = fields.get(neg_col).is_some_and(|v| *v == "True")
            || CATALOG_CORRECTIONS.iter().any(|(p, _)| p == pattern);
        let data = root.join(format!("{}Data.db", pattern.trim_end_matches('*')));
        if !data.exists() {
            // `write_wide_partitions`: its Data.db was not obtainable (corpus README).
            eprintln!("no Data.db for {pattern}: skipped");
            continue;
        }
        checked += 1;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sstable-lake"));
        cmd.args(["inspect", "--verify"]);
        if let Some((_, cql)) = SCHEMAS.iter().find(|(p, _)| p == pattern) {
            let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("inspect_verify_schema_{checked}.cql"));
            std::fs::write(&file, cql).expect("write schema");
            cmd.arg("--schema").arg(file);
        }
        let out = cmd.arg(&data).output().expect("run sstable-lake");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let undetected = UNDETECTED.iter().find(|(p, _)| p == pattern);
        if !negative {
            if !out.status.success() {
                failures.push(format!("{pattern}: good set failed: {stderr}"));
            }
            continue;
        }
        negatives += 1;
        if let Some((_, why)) = undetected {
            undetected_seen += 1;
            if !out.status.success() {
                failures.push(format!(
                    "{pattern}: listed as undetected ({why}) but now fails: remove it from UNDETECTED ({stderr})"
                ));
            }
            continue;
        }
        // Notes (`note: ...`) may precede it; exactly one line is the error.
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("note: "))
            .collect();
        let base = pattern
            .rsplit('/')
            .next()
            .unwrap_or(pattern)
            .trim_end_matches('*');
        let dir = data.parent().expect("parent").display().to_string();
        if out.status.success() {
            failures.push(format!("{pattern}: negative set passed --verify"));
        } else if out.status.code().is_none() {
            failures.push(format!("{pattern}: killed by a signal: {stderr}"));
        } else if lines.len() != 1 {
            failures.push(format!(
                "{pattern}: expected one error line, got {}: {stderr}",
                lines.len()
            ));
        } else if !lines[0].starts_with("error: ") || lines[0].contains("panicked") {
            failures.push(format!("{pattern}: not an `error:` line: {stderr}"));
        } else if !lines[0].contains(&dir) || !(lines[0].contains(base) || base.is_empty()) {
            // Most errors name the component file; a version refused before any file is read
            // names the set's directory and its files' common prefix is checked loosely.
            if !(lines[0].contains(&dir) && lines[0].contains("unsupported sstable format")) {
                failures.push(format!("{pattern}: error does not name the file: {stderr}"));
            }
        }
    }
    assert!(checked > 200, "only {checked} sets found");
    assert_eq!(
        undetected_seen,
        UNDETECTED.len(),
        "UNDETECTED names sets absent from CATALOG.tsv"
    );
    assert!(negatives > 20, "only {negatives} negative sets");
    assert!(
        SCHEMAS
            .iter()
            .chain(CATALOG_CORRECTIONS)
            .all(|(p, _)| catalog.lines().any(|l| l.starts_with(&format!("{p}\t")))),
        "SCHEMAS or CATALOG_CORRECTIONS name sets absent from CATALOG.tsv"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
